//go:build unix && !linux

package snapshot

import "os"

// readOnlyView reads dir directly: private mount clones (open_tree(2),
// mount_setattr(2)) are Linux's.
func (t *Target) readOnlyView(dir *os.File) *os.File { return dir }
