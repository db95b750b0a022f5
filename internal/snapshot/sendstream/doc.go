// Package sendstream decodes a btrfs send stream (fs/btrfs/send.h,
// versions 1 to 3) into the changes it describes: the commands that turn
// the baseline into the new tree, replayed on a tree of the paths they
// name. It is pure: no ioctl, no privileges; what a stream cannot say
// about the trees (an entry's own baseline inode, every name of a
// hard-linked inode) comes from callbacks in Options, which the send
// source fills from the mounted trees. A stream saved with btrfs send
// --no-data -p BASELINE SNAPSHOT is read with no callbacks.
//
// Every input is bounded: paths by PATH_MAX, commands by their length
// field, and a malformed stream is ErrMalformed, never a panic
// (FuzzSendStream, FuzzStreamCommands).
package sendstream
