// Package watch reports state as it appears on a live root: a recursive
// inotify watch (fsnotify/fsnotify) of every directory, with the walk's
// exclusions, where a directory that appears is watched and then scanned,
// so that what was created in it before its watch existed is not missed.
//
// Each new or changed path is classified once. Paths of ephemeral, managed
// and persisted anchors are only counted per anchor, each path once however
// many events it gets: an anchor remembers up to MaxCounted paths, then
// counts only creations and says its count is approximate, so a flood of
// cache files costs bounded memory per anchor. An event queue overflow
// (IN_Q_OVERFLOW) triggers a rescan of the watched trees. Running out of
// inotify watches (ENOSPC) or instances (EMFILE) is an error naming the
// sysctl to raise (inotify(7): fs.inotify.max_user_watches,
// fs.inotify.max_user_instances, fs.inotify.max_queued_events).
package watch
