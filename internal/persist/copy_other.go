//go:build !linux

package persist

import (
	"context"
	"errors"
	"os"
)

// Prepare needs Linux: openat2, renameat2, reflinks.
func Prepare(root *os.File, storage string, anchors []string) (*Plan, error) {
	return nil, errors.ErrUnsupported
}

// Close does nothing where nothing was prepared.
func (p *Plan) Close() error { return nil }

// Apply needs Linux.
func (p *Plan) Apply(ctx context.Context, force bool, progress func(it *Item, done int)) (*Result, error) {
	return nil, errors.ErrUnsupported
}

type planned struct{}
