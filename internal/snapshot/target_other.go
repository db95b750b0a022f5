//go:build !linux

package snapshot

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// openBtrfs needs btrfs ioctls, which only Linux has.
func openBtrfs(opts Options) (*Target, error) {
	return nil, fmt.Errorf("btrfs source on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}

// MountTable has nothing to read: only Linux has /proc/self/mountinfo.
func MountTable() ([]Mount, error) { return nil, nil }

// ReadFile reads a file of the audited root. Without openat2, an absolute
// symlink in the root is resolved on this host.
func (t *Target) ReadFile(name string) ([]byte, error) {
	if t.Root == nil {
		return nil, &os.PathError{Op: "open", Path: name, Err: fs.ErrNotExist} // a saved stream has no tree
	}
	return os.ReadFile(filepath.Join(t.Root.Name(), cleanRel(name)))
}
