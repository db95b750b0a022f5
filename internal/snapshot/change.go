package snapshot

import "github.com/fsdiff-nix/fsdiff/internal/change"

// firstFreeObjectID is the inode number of a btrfs subvolume's root
// directory (BTRFS_FIRST_FREE_OBJECTID, linux/btrfs_tree.h).
const firstFreeObjectID = 256

// typeOf maps the S_IFMT bits of a Linux st_mode to a Type.
func typeOf(mode uint32) (change.Type, bool) {
	switch mode & 0o170000 {
	case 0o100000:
		return change.File, true
	case 0o040000:
		return change.Dir, true
	case 0o120000:
		return change.Symlink, true
	case 0o010000:
		return change.FIFO, true
	case 0o140000:
		return change.Socket, true
	case 0o020000:
		return change.CharDev, true
	case 0o060000:
		return change.BlockDev, true
	}
	return 0, false
}
