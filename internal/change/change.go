package change

import (
	"slices"
	"strconv"
	"time"
)

// Kind says how a path differs from the baseline.
type Kind uint8

const (
	Created  Kind = iota + 1 // absent from the baseline
	Modified                 // content changed (for a directory: its entries)
	Metadata                 // mode, owner, extended attributes or link count changed, content did not
	Deleted                  // present in the baseline, gone now
	Renamed                  // moved here from Change.Origin
)

var kindNames = [...]string{"", "created", "modified", "metadata", "deleted", "renamed"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// ParseKind is the inverse of Kind.String.
func ParseKind(s string) (Kind, bool) {
	i := slices.Index(kindNames[:], s)
	return Kind(max(i, 0)), i > 0
}

// Type is the file type of the changed path.
type Type uint8

const (
	File Type = iota + 1
	Dir
	Symlink
	FIFO
	Socket
	CharDev
	BlockDev
	Subvolume // a nested btrfs subvolume
)

var typeNames = [...]string{"", "file", "dir", "symlink", "fifo", "socket", "char", "block", "subvolume"}

func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "type(" + strconv.Itoa(int(t)) + ")"
}

// ParseType is the inverse of Type.String: "" is a type a saved send
// stream does not say.
func ParseType(s string) (Type, bool) {
	i := slices.Index(typeNames[:], s)
	return Type(max(i, 0)), i >= 0
}

// Change is one changed path. Path and the other names are raw bytes held in
// strings: a Linux file name need not be UTF-8 and is never normalised.
type Change struct {
	Path   string // absolute, as seen from the audited root ("/etc/machine-id")
	Kind   Kind
	Type   Type
	Size   int64
	Mode   uint32 // permission bits with setuid, setgid and sticky (st_mode & 07777)
	UID    uint32
	GID    uint32
	MTime  time.Time
	Target string // symlink target
	Origin string // previous path of a renamed entry
	Inode  uint64
	Nlink  uint32
	// CTime (nanoseconds since the epoch) lets a source that looks at both
	// trees tell a metadata change of a baseline inode from a read; no
	// report shows it.
	CTime int64
}

// TypeOf maps the S_IFMT bits of a Linux st_mode (inode(7)) to a Type.
func TypeOf(mode uint32) (Type, bool) {
	switch mode & 0o170000 {
	case 0o100000:
		return File, true
	case 0o040000:
		return Dir, true
	case 0o120000:
		return Symlink, true
	case 0o010000:
		return FIFO, true
	case 0o140000:
		return Socket, true
	case 0o020000:
		return CharDev, true
	case 0o060000:
		return BlockDev, true
	}
	return 0, false
}
