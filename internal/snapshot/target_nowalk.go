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
