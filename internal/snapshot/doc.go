// Package snapshot finds what changed on a root filesystem since its baseline
// and reports it as a stream of [change.Change] records. Everything downstream
// (classification, reports, suggestions) sees only Changes and never which
// source produced them.
//
// The btrfs generation source reads the root subvolume's own b-tree through
// ioctls on the subvolume's directory (linux/btrfs.h, linux/btrfs_tree.h):
//
//   - BTRFS_IOC_TREE_SEARCH_V2 with min_transid set to the cutoff (the
//     transaction after which root and baseline differ, chosen from their
//     parent UUIDs and creation transids: baseline_linux.go) returns every
//     leaf written since; INODE_ITEM generation tells created inodes from
//     touched ones, INODE_REF and INODE_EXTREF give their names and the
//     paths of their directories (BTRFS_IOC_INO_LOOKUP's 4,080-byte buffer
//     is too short for paths any user can make), inline EXTENT_DATA gives
//     symlink targets; a search of the baseline's tree gives the baseline
//     version of each touched inode, to tell a change from a read;
//   - BTRFS_IOC_INO_LOOKUP gives the subvolume ID of a directory;
//   - the root tree's ROOT_ITEMs give subvolumes' UUIDs, parent UUIDs and
//     creation transids (the top level's UUID, which the list leaves out).
//
// The send source runs BTRFS_IOC_SEND (linux/btrfs.h) with
// BTRFS_SEND_FLAG_NO_FILE_DATA between the baseline and a temporary
// read-only snapshot of the root, and decodes the stream with package
// sendstream (fs/btrfs/send.h). The stream names one link of a changed inode; the
// others come from the snapshot's INODE_REF and INODE_EXTREF items, as the
// generation source finds names. Send skips directory entries that name
// subvolumes, so a deleted nested subvolume is found in the baseline
// directory the stream says changed.
//
// TREE_SEARCH and INO_LOOKUP need CAP_SYS_ADMIN. Nothing here writes to the
// filesystem: files are opened O_RDONLY|O_NOATIME, symlink targets come from
// the tree instead of readlink(2) (which would update atime), the top level
// is mounted read-only and noatime as a detached mount (fsopen(2),
// fsmount(2)) that no other process can see and that disappears when fsdiff
// exits, with a read-only superblock so that a filesystem mounted read-only
// elsewhere stays so, and every source reads the root through a private
// read-only, noatime clone of its mounts (open_tree(2), mount_setattr(2)).
// The send source's temporary snapshot is the one write (send_linux.go).
package snapshot
