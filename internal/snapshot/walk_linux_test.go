package snapshot_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fsdiff-nix/fsdiff/internal/change"
	"github.com/fsdiff-nix/fsdiff/internal/imagetest"
	"github.com/fsdiff-nix/fsdiff/internal/snapshot"
)

func walk(t *testing.T, opts snapshot.WalkOptions) []change.Change {
	t.Helper()
	var got []change.Change
	err := snapshot.Walk(context.Background(), opts, func(c change.Change) error {
		got = append(got, c)
		return nil
	}, func(err error) { t.Errorf("problem: %v", err) })
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(got, func(a, b change.Change) int { return strings.Compare(a.Path, b.Path) })
	return got
}

// TestWalkAgreesWithGenerations: walking the root subvolume's directory
// against the blank snapshot's finds the same changes as the generation
// source, kind for kind.
func TestWalkAgreesWithGenerations(t *testing.T) {
	img := imagetest.Get(t, "blank")
	top := imagetest.Mount(t, img.File)
	got := walk(t, snapshot.WalkOptions{Root: filepath.Join(top, "root"), Baseline: filepath.Join(top, "root-blank")})
	compare(t, got, img.Truth, "walk")
}

// TestWalkNoBaseline: against nothing, everything is created.
func TestWalkNoBaseline(t *testing.T) {
	img := imagetest.Get(t, "fresh")
	top := imagetest.Mount(t, img.File)
	got := walk(t, snapshot.WalkOptions{Root: filepath.Join(top, "root")})
	var want []imagetest.Entry
	for _, e := range img.Truth {
		if string(e.Path) != "/" { // the root itself is what is audited, not a change
			want = append(want, e)
		}
	}
	compare(t, got, want, "walk")
}
