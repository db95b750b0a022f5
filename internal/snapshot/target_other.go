//go:build !linux

package snapshot

import (
	"context"
	"errors"
	"fmt"
	"runtime"
)

// Open needs btrfs ioctls, which only Linux has.
func Open(opts Options) (*Target, error) {
	return nil, fmt.Errorf("btrfs source on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}

// Changes is never reached: Open fails.
func (t *Target) Changes(ctx context.Context, emit func(Change) error, problem func(error)) error {
	return errors.ErrUnsupported
}

// ReadFile is never reached: Open fails.
func (t *Target) ReadFile(name string) ([]byte, error) {
	return nil, errors.ErrUnsupported
}

// Owner is never reached: Open fails.
func (t *Target) Owner(name string) (uid, gid, mode uint32, err error) {
	return 0, 0, 0, errors.ErrUnsupported
}
