package snapshot

import (
	"errors"
	"fmt"
	"os"
	"time"
)

// Options say what to audit. Empty fields are detected from the running
// system: the root is the btrfs subvolume mounted at "/", the top level an
// existing mount of subvolume ID 5 or a private read-only mount of the
// device of "/", the baseline the subvolume the root was snapshotted from,
// else a blank snapshot with a conventional name, else the root's creation.
type Options struct {
	Mount    string // where the top-level subvolume is mounted
	Root     string // root subvolume: a path relative to the top level, or an absolute directory
	Baseline string // baseline subvolume, in the same forms as Root
	Device   string // device to mount the top level from when Mount is empty
}

// Info records what was audited, for people (-v) and for reports.
type Info struct {
	Root               string   // path of the root subvolume under the top level
	RootID             uint64   // its subvolume ID
	TopLevel           string   // mount point or device of the top level
	Baseline           string   // path of the baseline subvolume; empty when there is none
	BaselineGeneration uint64   // changes are what happened after this generation
	Decisions          []string // every choice made, in order
}

// Since is the baseline a generation scan compares with.
type Since struct {
	// Generation is the last transaction of the baseline: inodes created in a
	// later transaction are new, inodes written in a later one are candidates.
	Generation uint64
	// Time is when the baseline was taken. A candidate whose ctime and mtime
	// are both no later than this was only read (relatime bumps the inode's
	// transid for an atime update), so it is not a change.
	Time time.Time
}

// Target is an opened root and its baseline, ready to scan.
type Target struct {
	Info    Info
	Root    *os.File
	since   Since
	nested  []NestedSubvolume
	closers []func() error

	liveMounts []Mount
}

// LiveMounts returns the mount table when the audited root is the one
// mounted at "/", and nil otherwise: what is mounted over the root (bind
// mounts from persistent storage) is declared state.
func (t *Target) LiveMounts() []Mount { return t.liveMounts }

// NestedSubvolume is a subvolume inside the audited root.
type NestedSubvolume struct {
	Path     string // absolute within the audited root
	OTransID uint64 // generation it was created in
}

func (t *Target) note(format string, args ...any) {
	t.Info.Decisions = append(t.Info.Decisions, fmt.Sprintf(format, args...))
}

// Close releases the root, the baseline and the private top-level mount.
func (t *Target) Close() error {
	var errs []error
	for i := len(t.closers) - 1; i >= 0; i-- {
		errs = append(errs, t.closers[i]())
	}
	t.closers = nil
	return errors.Join(errs...)
}

// Errors that callers turn into hints.
var (
	ErrPermission   = errors.New("permission denied")
	ErrNotTopLevel  = errors.New("not the top level of a btrfs filesystem")
	ErrNotSubvolume = errors.New("not a btrfs subvolume")
	ErrNoRoot       = errors.New("no root subvolume given")
)

// NotBtrfsError says that a path is on another filesystem.
type NotBtrfsError struct {
	Path   string
	FSType string
}

func (e *NotBtrfsError) Error() string {
	return fmt.Sprintf("%s is %s, not btrfs", e.Path, e.FSType)
}
