package change

// SourceName names a source of change.
type SourceName string

const (
	Auto       SourceName = "auto"
	Btrfs      SourceName = "btrfs"       // btrfs generation IDs (TREE_SEARCH)
	Send       SourceName = "send"        // a btrfs send stream between the baseline and a snapshot of the root
	Walk       SourceName = "walk"        // a parallel walk of two directories
	SendStream SourceName = "send-stream" // a saved send stream (Info.Source only: it is chosen by naming the stream)
)

// SourceNames lists the sources one can choose.
var SourceNames = []SourceName{Auto, Btrfs, Send, Walk}

// Info records what was audited, for people (-v) and for reports.
type Info struct {
	Source             SourceName // what compared: btrfs or walk
	Root               string     // path of the root subvolume under the top level, or the walked directory
	RootID             uint64     // its subvolume ID
	TopLevel           string     // mount point or device of the top level
	Baseline           string     // path of the baseline subvolume or directory; empty when there is none
	BaselineGeneration uint64     // btrfs: the cutoff; changes are what happened after this generation
	Decisions          []string   // every choice made, in order
}
