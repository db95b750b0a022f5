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
	c, err := lstatIn(t.Root, name)
	c.Kind = change.Created
	return c, err
}

// TreeStat returns a function that describes the entry at an absolute
// path of the tree whose root directory is root (not following a final
// symlink, resolving the others inside root), as a Change with its type
// and attributes and no kind, for sources that know paths but not what is
// there; and a function that releases what it holds. A lookup in the
// directory of the one before reuses its descriptor: sources look entries
// up directory by directory, and resolving inside the root costs an
// openat2 per directory. Not for concurrent use.
func TreeStat(root *os.File) (stat func(path string) (change.Change, bool), done func()) {
	dirFd, dirName := -1, ""
	done = func() {
		if dirFd >= 0 {
			unix.Close(dirFd)
			dirFd = -1
		}
	}
	stat = func(p string) (change.Change, bool) {
		dir, base := path.Split(cleanRel(p))
		if dir = cmp.Or(dir, "."); dirFd < 0 || dir != dirName {
			done()
			fd, err := openIn(root, dir, unix.O_PATH|unix.O_DIRECTORY)
			if err != nil {
				return change.Change{}, false
			}
			dirFd, dirName = fd, dir
		}
		c, err := describeAt(dirFd, base, p)
		return c, err == nil
	}
	return stat, done
}

// lstatIn describes the entry at an absolute path of the tree whose root
// directory is root. A symlink on the way resolves inside root, as if root
// were "/": an absolute one never leads onto the host.
func lstatIn(root *os.File, name string) (change.Change, error) {
	dir, base := path.Split(cleanRel(name))
	dfd, err := openIn(root, cmp.Or(dir, "."), unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return change.Change{}, &os.PathError{Op: "lstat", Path: name, Err: err}
	}
	defer unix.Close(dfd)
	return describeAt(dfd, base, name)
}

// describeAt describes entry base of directory dfd, known as name.
func describeAt(dfd int, base, name string) (change.Change, error) {
	st, err := statAt(dfd, base)
	if err != nil {
		return change.Change{}, &os.PathError{Op: "lstat", Path: name, Err: err}
	}
	typ, target := mustType(st.mode), ""
	if typ == change.Symlink {
		target = readlinkAt(dfd, base)
	}
	return changeOf(path.Clean("/"+name), 0, typ, st, target), nil
}

// readIn opens name of the tree whose root directory is root for reading
// (flags add to O_RDONLY), resolving inside it and without updating its
// atime where it may.
func readIn(root *os.File, name string, flags int) (*os.File, error) {
	fd, err := openIn(root, cleanRel(name), flags|unix.O_NOATIME)
	if err == unix.EPERM { // O_NOATIME needs ownership or CAP_FOWNER
		fd, err = openIn(root, cleanRel(name), flags)
	}
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: name, Err: err}
	}
	return os.NewFile(uintptr(fd), name), nil
}

func openIn(root *os.File, rel string, flags int) (int, error) {
	return unix.Openat2(int(root.Fd()), rel, &unix.OpenHow{
		Flags:   uint64(flags | unix.O_CLOEXEC),
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	})
}
