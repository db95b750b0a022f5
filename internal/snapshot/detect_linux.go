package snapshot

import (
	"errors"
	"os"
	"path/filepath"

	"github.com/dennwc/btrfs"
	"github.com/fsdiff-nix/fsdiff/internal/change"
	"golang.org/x/sys/unix"
)

// Detection: which source audits a root when the options leave it to
// fsdiff. A tmpfs "/" or a root directory on another filesystem is walked;
// a btrfs root is read by generation IDs, or by send when its baseline
// holds entries that could be deleted or moved.

// detectWalk decides whether auto-detection picks the walk source: for a
// tmpfs "/" (live is then true), or a root directory that is not btrfs.
func detectWalk(opts Options) (walk, live bool, err error) {
	switch {
	case opts.Mount != "" || opts.Device != "":
		return false, false, nil
	case opts.Root == "":
		o := opener{opts: opts, t: &Target{}}
		_, err := o.liveRoot()
		var nb *NotBtrfsError
		if errors.As(err, &nb) && nb.FSType == "tmpfs" {
			return true, true, nil
		}
		return false, false, err
	case filepath.IsAbs(opts.Root):
		var st unix.Statfs_t
		if err := unix.Statfs(opts.Root, &st); err != nil {
			return false, false, &os.PathError{Op: "statfs", Path: opts.Root, Err: err}
		}
		return st.Type != unix.BTRFS_SUPER_MAGIC, false, nil
	}
	return false, false, nil
}

// chooseSend makes the source send when deletions and renames matter
// (deletionsMatter) and the root can be snapshotted; it says why not
// otherwise.
func (o *opener) chooseSend(base *btrfs.SubvolInfo) error {
	if base == nil || !o.deletionsMatter(base) {
		return nil
	}
	switch _, err := o.writableRoot(); {
	case errors.Is(err, ErrReadOnly):
		o.t.note("source: btrfs, which sees no deletions or renames, not send: %v", err)
	case err != nil:
		return err
	default:
		o.t.Info.Source = change.Send
		o.t.note("source: send, because the baseline is not empty: deletions and renames matter")
	}
	return nil
}

// deletionsMatter says whether a baseline holds anything but its root
// directory: then entries can be deleted or moved, which only the send
// source sees, and it is read-only, as send needs.
func (o *opener) deletionsMatter(base *btrfs.SubvolInfo) bool {
	p, err := o.basePath(base)
	if err != nil {
		return false
	}
	if ro, err := btrfs.IsReadOnly(p); err != nil || !ro {
		return false
	}
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	names, _ := f.Readdirnames(1)
	return len(names) > 0
}
