package snapshot

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsdiff-nix/fsdiff/internal/change"
)

// Options say what to audit. Empty fields are detected from the running
// system: the root is the btrfs subvolume mounted at "/", the top level an
// existing mount of subvolume ID 5 or a private read-only mount of the
// device of "/", the baseline the subvolume the root was snapshotted from,
// else a blank snapshot with a conventional name, else the root's creation.
//
// The source is detected too: the btrfs generation source for btrfs, the
// walk for a tmpfs root or a root directory on another filesystem.
type Options struct {
	Source   change.SourceName // auto (empty), btrfs or walk
	Mount    string            // where the top-level subvolume is mounted
	Root     string            // root subvolume: a path relative to the top level, or an absolute directory
	Baseline string            // baseline subvolume or directory, in the same forms as Root; "none" for nothing
	Device   string            // device to mount the top level from when Mount is empty
	Content  bool              // walk: compare the content of regular files whose metadata is equal
	// SendStream is a saved send stream to read instead of any root: a
	// file, or "-" for standard input.
	SendStream string
}

func cmpSource(s, otherwise change.SourceName) change.SourceName {
	if s == "" || s == change.Auto {
		return otherwise
	}
	return s
}

// LiveSkips are never walked or watched on a live root: other
// filesystems, state of the running system that no boot keeps, and ZFS's
// snapshot directory.
var LiveSkips = []string{"/nix", "/proc", "/sys", "/dev", "/run", "/.zfs"}

// NoBaseline is the Options.Baseline that compares with nothing.
const NoBaseline = "none"

// Open finds the root to audit, its baseline and the source that compares
// them, from opts or, where opts leave them empty, from the running system.
func Open(opts Options) (*Target, error) {
	if opts.SendStream != "" {
		return openStream(opts)
	}
	switch opts.Source {
	case "", change.Auto:
		walk, live, err := detectWalk(opts)
		if err != nil {
			return nil, err
		}
		if walk {
			return openWalk(opts, live)
		}
		return openBtrfs(opts)
	case change.Btrfs, change.Send:
		return openBtrfs(opts)
	case change.Walk:
		return openWalk(opts, false)
	}
	return nil, fmt.Errorf("unknown source %q", opts.Source)
}

// Since is the baseline a generation scan compares with.
type Since struct {
	// Generation is the cutoff, the last transaction whose content the root
	// shares with the baseline: inodes created in a later transaction are
	// new, inodes written in a later one are candidates. 0 compares with
	// nothing: every entry is new.
	Generation uint64
	// Tree is the ID of the baseline subvolume whose inodes are the root's
	// own older inodes (a snapshot of one of the other, or of a common
	// ancestor): a candidate is compared with its inode there, so that a
	// read (relatime and strictatime bump the inode's transid for an atime
	// update) is not a change. 0 when there is none.
	Tree uint64
	// Time is when the cutoff's transaction happened. Where the baseline has
	// no inode to compare with, a candidate whose ctime and mtime are both no
	// later than this was only read.
	Time time.Time
}

// Target is an opened root and its baseline, ready to scan.
type Target struct {
	Info    change.Info
	Root    *os.File
	source  Source
	closers []func() error

	liveMounts []Mount
}

// Changes streams the changes of the root since its baseline to emit, and
// what could not be read but did not stop the scan to problem.
func (t *Target) Changes(ctx context.Context, emit func(change.Change) error, problem func(error)) error {
	return t.source.Changes(ctx, emit, problem)
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
	ErrNoBaseline   = errors.New("no baseline given")
	ErrSendBaseline = errors.New("the send source cannot use this baseline")
	// ErrOutsideTopLevel: a subvolume path relative to the top level that
	// climbs out of it.
	ErrOutsideTopLevel = errors.New("a path under the top level must not climb out of it")
	// ErrUnrelatedBaseline: the baseline cannot be what the root started
	// from; neither is a snapshot of the other, and it is newer.
	ErrUnrelatedBaseline = errors.New("the baseline cannot be a baseline of this root")
	// ErrSendNoBaseline: the send source compares two subvolumes.
	ErrSendNoBaseline = errors.New("the send source needs a baseline subvolume")
	// ErrSendPathTooLong: the kernel's send names every entry by its full
	// path and fails (ENAMETOOLONG) on a tree with a path over PATH_MAX.
	ErrSendPathTooLong = errors.New("the tree holds a path longer than btrfs send can handle")
	// ErrWalkRelative: the walk compares directories, which it names by
	// absolute path.
	ErrWalkRelative = errors.New("the walk source takes an absolute directory")
	// ErrWalkDir: a directory the walk compares cannot be opened.
	ErrWalkDir = errors.New("the walk source compares directories")
	// ErrReadOnly: the send source needs a snapshot, which a read-only
	// filesystem or mount forbids, and fsdiff never makes one writable.
	ErrReadOnly = errors.New("read-only")
)

// NotBtrfsError says that a path is on another filesystem.
type NotBtrfsError struct {
	Path   string
	FSType string
}

func (e *NotBtrfsError) Error() string {
	return fmt.Sprintf("%s is %s, not btrfs", e.Path, e.FSType)
}

// cleanRel makes name relative to a directory fd: "/etc/x" is "etc/x", "/"
// is ".", and ".." cannot climb above it.
func cleanRel(name string) string {
	name = strings.Trim(filepath.Clean("/"+name), "/")
	if name == "" {
		return "."
	}
	return name
}

// Owner returns the owner and permission bits of a path of the audited
// root, without following a final symlink; symlinks above it resolve
// inside the root, never onto the host (Lstat).
func (t *Target) Owner(name string) (uid, gid, mode uint32, err error) {
	c, err := t.Lstat(name)
	return c.UID, c.GID, c.Mode, err
}

// firstFreeObjectID is the inode number of a btrfs subvolume's root
// directory (BTRFS_FIRST_FREE_OBJECTID, linux/btrfs_tree.h).
const firstFreeObjectID = 256
