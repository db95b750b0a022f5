package snapshot_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
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

// TestOwnerStaysInRoot: suggest reads the owners of anchors with Owner,
// and the send source the entries of its trees with TreeStat; a symlink in
// the audited tree (/escape → /) must lead neither onto the host, whose
// /etc/passwd exists where the root has none.
func TestOwnerStaysInRoot(t *testing.T) {
	root := t.TempDir()
	if err := os.Symlink("/", filepath.Join(root, "escape")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(root, "state"), 0o750); err != nil {
		t.Fatal(err)
	}
	target, err := snapshot.Open(snapshot.Options{Source: change.Walk, Root: root, Baseline: snapshot.NoBaseline})
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	if uid, gid, mode, err := target.Owner("/escape/etc/passwd"); err == nil {
		t.Errorf("Owner followed /escape out of the root: %d:%d %#o", uid, gid, mode)
	}
	if _, _, mode, err := target.Owner("/state"); err != nil || mode != 0o750 {
		t.Errorf("Owner(/state) = %#o, %v", mode, err)
	}
	dir, err := os.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	stat, done := snapshot.TreeStat(dir)
	defer done()
	if c, ok := stat("/escape/etc/passwd"); ok {
		t.Errorf("TreeStat followed /escape out of the tree: %+v", c)
	}
	if c, ok := stat("/escape"); !ok || c.Type != change.Symlink || c.Target != "/" {
		t.Errorf("TreeStat(/escape) = %+v, %v", c, ok)
	}
	if c, ok := stat("/state"); !ok || c.Type != change.Dir || c.Mode != 0o750 {
		t.Errorf("TreeStat(/state) = %+v, %v", c, ok)
	}
}

// TestWalkEmitErrorStops: the walk emits while it reads; when emit fails,
// the walk stops and returns that error, whatever is still being read.
func TestWalkEmitErrorStops(t *testing.T) {
	root := t.TempDir()
	for i := range 200 {
		d := filepath.Join(root, "d"+strconv.Itoa(i))
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		for j := range 20 {
			if err := os.WriteFile(filepath.Join(d, strconv.Itoa(j)), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	stop := errors.New("stop")
	n := 0
	err := snapshot.Walk(context.Background(), snapshot.WalkOptions{Root: root}, func(change.Change) error {
		if n++; n == 10 {
			return stop
		}
		return nil
	}, func(err error) { t.Errorf("problem: %v", err) })
	if !errors.Is(err, stop) {
		t.Fatalf("Walk = %v, want the emit error", err)
	}
	if n != 10 {
		t.Errorf("emit called %d times, want 10: it goes on after an error", n)
	}
}
