//go:build !linux

package watch

import (
	"context"
	"errors"
	"fmt"
	"runtime"
)

// Run needs inotify, which only Linux has.
func Run(ctx context.Context, opts Options) (*Summary, error) {
	return nil, fmt.Errorf("watch on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}
