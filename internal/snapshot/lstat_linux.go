package snapshot

import (
	"cmp"
	"os"
	"path"

	"github.com/fsdiff-nix/fsdiff/internal/change"
	"golang.org/x/sys/unix"
)

// Lstat describes the entry at an absolute path of the audited root as a
// created change, without following a final symlink. Symlinks above it
// resolve inside the root (openat2 RESOLVE_IN_ROOT), never out of it onto
// the host.
func (t *Target) Lstat(name string) (change.Change, error) {
	if t.Root == nil {
		return change.Change{}, &os.PathError{Op: "lstat", Path: name, Err: os.ErrNotExist} // a saved stream has no tree
	}
	dir, base := path.Split(cleanRel(name))
	dfd, err := unix.Openat2(int(t.Root.Fd()), cmp.Or(dir, "."), &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	})
	if err != nil {
		return change.Change{}, &os.PathError{Op: "lstat", Path: name, Err: err}
	}
	defer unix.Close(dfd)
	st, err := statAt(dfd, base)
	if err != nil {
		return change.Change{}, &os.PathError{Op: "lstat", Path: name, Err: err}
	}
	typ, target := mustType(st.mode), ""
	if typ == change.Symlink {
		target = readlinkAt(dfd, base)
	}
	return changeOf(path.Clean("/"+name), change.Created, typ, st, target), nil
}
