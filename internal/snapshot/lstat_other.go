//go:build !linux

package snapshot

import (
	"errors"
	"os"

	"github.com/fsdiff-nix/fsdiff/internal/change"
)

// Lstat needs openat2's RESOLVE_IN_ROOT to stay inside the root, which
// only Linux has.
func (t *Target) Lstat(name string) (change.Change, error) {
	return change.Change{}, &os.PathError{Op: "lstat", Path: name, Err: errors.ErrUnsupported}
}
