//go:build !unix

package snapshot

import (
	"errors"
	"fmt"
	"runtime"
)

// openWalk needs the directory calls of a Unix system.
func openWalk(opts Options, live bool) (*Target, error) {
	return nil, fmt.Errorf("walk source on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}

// Owner is never reached: Open fails.
func (t *Target) Owner(name string) (uid, gid, mode uint32, err error) {
	return 0, 0, 0, errors.ErrUnsupported
}
