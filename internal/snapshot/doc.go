// Package snapshot finds what changed on a root filesystem since its baseline
// and reports it as a stream of [Change] records. Everything downstream
// (classification, reports, suggestions) sees only Changes and never which
// source produced them.
//
// The btrfs generation source reads the root subvolume's own b-tree through
// ioctls on the subvolume's directory (linux/btrfs.h, linux/btrfs_tree.h):
//
//   - BTRFS_IOC_TREE_SEARCH_V2 with min_transid set to the baseline
//     generation returns every leaf written since the baseline; INODE_ITEM
//     generation tells created inodes from touched ones, INODE_REF and
//     INODE_EXTREF give their names, inline EXTENT_DATA gives symlink targets;
//   - BTRFS_IOC_INO_LOOKUP resolves the path of a parent directory that the
//     search did not return;
//   - BTRFS_IOC_GET_SUBVOL_INFO gives a subvolume's generation, UUIDs and
//     creation time, and the root tree's ROOT_ITEMs give any subvolume's
//     generation by ID.
//
// The send source runs BTRFS_IOC_SEND (linux/btrfs.h) with
// BTRFS_SEND_FLAG_NO_FILE_DATA between the baseline and a temporary
// read-only snapshot of the root, and parses the stream itself
// (fs/btrfs/send.h). The stream names one link of a changed inode; the
// others come from the snapshot's INODE_REF and INODE_EXTREF items, as the
// generation source finds names. Send skips directory entries that name
// subvolumes, so a deleted nested subvolume is found in the baseline
// directory the stream says changed.
//
// TREE_SEARCH and INO_LOOKUP need CAP_SYS_ADMIN. Nothing here writes to the
// filesystem: files are opened O_RDONLY|O_NOATIME, symlink targets come from
// the tree instead of readlink(2) (which would update atime), and the top
// level is mounted read-only as a detached mount (fsopen(2), fsmount(2)) that
// no other process can see and that disappears when fsdiff exits.
package snapshot
