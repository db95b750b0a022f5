package snapshot

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// readOnlyView returns directory dir as seen through a private clone of
// the mounts at and below it (open_tree(2) with OPEN_TREE_CLONE and
// AT_RECURSIVE) made read-only and noatime (mount_setattr(2)). O_NOATIME
// alone cannot keep reads from writing: readlink(2), and every symlink a
// path resolution follows, update the link's atime on a strictatime or
// relatime mount, and an atime update is an inode update that raises the
// subvolume's generation. Nothing read through the view updates anything.
//
// The clone keeps the mounts below dir, so the walk still stops at each of
// them (their mount IDs differ from the root's, as in the live tree); the
// live mount table, which says what is declared by mounts, is read
// separately. The clone is attached nowhere: no other process sees it, and
// it goes away with its last descriptor, when the target closes.
//
// It needs CAP_SYS_ADMIN. Without it, dir itself is returned and the
// decision notes that reads may update atimes.
func (t *Target) readOnlyView(dir *os.File) *os.File {
	view, err := t.cloneReadOnly(dir)
	if err != nil {
		t.note("reading %s directly, not through a private read-only view (%v): reading may update atimes", dir.Name(), err)
		return dir
	}
	return view
}

func (t *Target) cloneReadOnly(dir *os.File) (*os.File, error) {
	tree, err := unix.OpenTree(int(dir.Fd()), "", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_RECURSIVE|unix.AT_EMPTY_PATH)
	if err != nil {
		return nil, fmt.Errorf("open_tree: %w", err)
	}
	// The clone lives as long as this descriptor of it: closing it would
	// take the mounts below dir apart, even with the view still open.
	t.closers = append(t.closers, func() error { return unix.Close(tree) })
	attr := unix.MountAttr{
		Attr_set: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOATIME,
		Attr_clr: unix.MOUNT_ATTR__ATIME, // required when an atime mode is set
	}
	if err := unix.MountSetattr(tree, "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, &attr); err != nil {
		return nil, fmt.Errorf("mount_setattr: %w", err)
	}
	// open_tree gives an O_PATH descriptor; ioctls and getdents need an
	// open directory.
	view, err := openDir(tree, ".", dir.Name())
	if err != nil {
		return nil, err
	}
	t.closers = append(t.closers, view.Close)
	return view, nil
}
