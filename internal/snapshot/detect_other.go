//go:build !linux

package snapshot

import (
	"errors"
	"fmt"
	"runtime"
)

// detectWalk: without btrfs ioctls, a root directory is always walked.
func detectWalk(opts Options) (walk, live bool, err error) {
	if opts.Root == "" {
		return false, false, fmt.Errorf("%w: on %s, only a root directory can be audited, by the walk: %w", ErrNoRoot, runtime.GOOS, errors.ErrUnsupported)
	}
	return true, false, nil
}
