//go:build !linux

package snapshot

import (
	"errors"
	"os"
)

// Lstat needs openat2's RESOLVE_IN_ROOT to stay inside the root, which
// only Linux has.
func (t *Target) Lstat(name string) (Change, error) {
	return Change{}, &os.PathError{Op: "lstat", Path: name, Err: errors.ErrUnsupported}
}
