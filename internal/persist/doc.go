// Package persist moves the state an audit found into persistent storage:
// the persist anchors of the suggestion that are not declared yet, each
// copied exactly (every file type, owner, group, mode, timestamps,
// extended attributes, hard links, holes) under the storage path.
//
// Planning (persist.go) is pure. Copying (copy_linux.go) reads the audited
// root through its open directory (snapshot.Target.Root, a private
// read-only noatime view when run as root), resolving anchors inside it
// (openat2(2) RESOLVE_IN_ROOT) and never following a symlink below them.
// Each anchor is copied under a temporary name in its destination
// directory, fsynced and renamed into place with renameat2(2)
// RENAME_NOREPLACE, so that an interruption never leaves a partial entry
// under the final name and nothing in storage is overwritten.
//
// When the storage is on the same btrfs filesystem as the root, files are
// reflinked (ioctl_ficlone(2)), else copied with copy_file_range(2), hole
// by hole (lseek(2) SEEK_DATA, SEEK_HOLE), falling back to read and write.
// Copying needs root: owners, devices, trusted and security xattrs.
package persist
