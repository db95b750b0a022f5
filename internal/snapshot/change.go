package snapshot

import "time"

// Kind says how a path differs from the baseline.
type Kind string

const (
	Created  Kind = "created"  // absent from the baseline
	Modified Kind = "modified" // content changed (for a directory: its entries)
	Metadata Kind = "metadata" // mode, owner, extended attributes or link count changed, content did not
	Deleted  Kind = "deleted"  // present in the baseline, gone now
	Renamed  Kind = "renamed"  // moved here from Change.Origin
)

// Type is the file type of the changed path.
type Type string

const (
	File      Type = "file"
	Dir       Type = "dir"
	Symlink   Type = "symlink"
	FIFO      Type = "fifo"
	Socket    Type = "socket"
	CharDev   Type = "char"
	BlockDev  Type = "block"
	Subvolume Type = "subvolume" // a nested btrfs subvolume
)

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
}

// typeOf maps the S_IFMT bits of a Linux st_mode to a Type.
func typeOf(mode uint32) (Type, bool) {
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
	return "", false
}
