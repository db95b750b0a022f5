//go:build unix

package snapshot_test

import (
	"context"
	"os"
	"testing"

	"github.com/fsdiff-nix/fsdiff/internal/change"
	"github.com/fsdiff-nix/fsdiff/internal/snapshot"
)

// BenchmarkWalk walks the tree in $FSDIFF_WALK_TREE against nothing, the
// walk source alone; bench/walk.sh makes a 300,000-entry tree, runs this
// and compares with find -xdev (SPEC §8: within 1.5x).
func BenchmarkWalk(b *testing.B) {
	tree := os.Getenv("FSDIFF_WALK_TREE")
	if tree == "" {
		b.Skip("set FSDIFF_WALK_TREE to a directory to walk (bench/walk.sh does)")
	}
	n := 0
	for b.Loop() {
		err := snapshot.Walk(context.Background(), snapshot.WalkOptions{Root: tree}, func(change.Change) error {
			n++
			return nil
		}, func(err error) { b.Error(err) })
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/float64(b.N), "entries")
}
