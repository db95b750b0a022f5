package snapshot

import (
	"context"
	"errors"
	"maps"
	"reflect"
	"slices"
	"testing"

	"github.com/fsdiff-nix/fsdiff/internal/change"
	"github.com/fsdiff-nix/fsdiff/internal/imagetest"
)

// TestSweepParts: the sweep read in parts of the inode numbers, by one
// worker or several, reports the same changes in the same order as one
// sweep of them all in one part, on every scenario (hard links whose names sit in other
// leaves, symlinks, nested subvolumes, old roots, paths longer than a
// leaf). skew has no change at all.
func TestSweepParts(t *testing.T) {
	for _, scenario := range imagetest.Scenarios {
		t.Run(scenario, func(t *testing.T) {
			img := imagetest.Get(t, scenario)
			top := imagetest.Mount(t, img.File)
			roots := slices.Sorted(maps.Keys(img.Roots))
			switch {
			case scenario == "oldroots":
				roots = []string{imagetest.OldRoot} // "root" is new and empty
			case len(roots) == 0:
				roots = []string{"root"}
			}
			for _, root := range roots {
				one := scanWith(t, top, root, 1, 1)
				if len(one) == 0 && scenario != "skew" {
					t.Fatalf("%s: no changes", root)
				}
				for _, w := range [][2]int{{1, 2}, {2, 4}, {3, 6}, {8, 16}} {
					if got := scanWith(t, top, root, w[0], w[1]); !reflect.DeepEqual(got, one) {
						t.Errorf("%s, %d workers, %d parts: %d changes, one part %d, or in another order", root, w[0], w[1], len(got), len(one))
					}
				}
			}
		})
	}
}

// scanWith scans root, under the top level mounted at top, with the
// generation source, its sweep read in that many parts by that many
// workers.
func scanWith(t *testing.T, top, root string, workers, parts int) []change.Change {
	t.Helper()
	src := generationOf(t, top, root)
	var got []change.Change
	err := scanGenerations(context.Background(), src.root, src.since, src.nested, workers, parts, func(c change.Change) error {
		got = append(got, c)
		return nil
	}, func(err error) { t.Errorf("problem: %v", err) })
	if err != nil {
		t.Fatalf("%d workers: %v", workers, err)
	}
	return got
}

// generationOf opens root, under the top level mounted at top, with the
// generation source; the target closes with the test.
func generationOf(t *testing.T, top, root string) generationSource {
	t.Helper()
	target, err := Open(Options{Source: change.Btrfs, Mount: top, Root: root})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { target.Close() })
	src, ok := target.source.(generationSource)
	if !ok {
		t.Fatalf("source %T, want the generation source", target.source)
	}
	return src
}

// TestSweepCanceled: a sweep canceled before it starts reads no part and
// says it was canceled.
func TestSweepCanceled(t *testing.T) {
	src := generationOf(t, imagetest.Mount(t, imagetest.Get(t, "fresh").File), "root")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	g := &generationScan{root: src.root, since: src.since}
	if err := g.sweep(ctx, 2, 4); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	for _, p := range g.parts {
		if p.inodes.Len() > 0 {
			t.Errorf("part %d-%d read: %d inodes", p.lo, p.hi, p.inodes.Len())
		}
	}
}

// TestPartBounds: the parts cover every inode number once, in order, and
// split the changed range when there is one.
func TestPartBounds(t *testing.T) {
	src := generationOf(t, imagetest.Mount(t, imagetest.Get(t, "fresh").File), "root")
	for _, tc := range []struct {
		since      Since
		n, atLeast int
	}{
		{src.since, 6, 3},                  // the fresh root's inodes
		{src.since, 1, 1},                  // one part, without a search
		{Since{Generation: 1 << 62}, 6, 1}, // nothing written after: one part
	} {
		g := &generationScan{root: src.root, since: tc.since}
		bounds, err := g.partBounds(tc.n)
		if err != nil {
			t.Fatal(err)
		}
		if len(bounds) < tc.atLeast+1 || len(bounds) > tc.n+1 {
			t.Errorf("since %d: %d parts, want %d to %d", tc.since.Generation, len(bounds)-1, tc.atLeast, tc.n)
		}
		if bounds[0] != firstFreeObjectID || bounds[len(bounds)-1] != lastFreeObjectID+1 {
			t.Errorf("since %d: bounds %v do not cover every inode number", tc.since.Generation, bounds)
		}
		for i := 1; i < len(bounds); i++ {
			if bounds[i] <= bounds[i-1] {
				t.Errorf("since %d: bounds %v out of order", tc.since.Generation, bounds)
			}
		}
	}
}
