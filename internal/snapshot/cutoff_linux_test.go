package snapshot_test

import (
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dennwc/btrfs"
	"github.com/fsdiff-nix/fsdiff/internal/change"
	"github.com/fsdiff-nix/fsdiff/internal/imagetest"
	"github.com/fsdiff-nix/fsdiff/internal/snapshot"
)

// subvolumes lists the image's subvolumes by path.
func subvolumes(t *testing.T, top string) map[string]btrfs.SubvolInfo {
	t.Helper()
	fs, err := btrfs.Open(top, true)
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	all, err := fs.ListSubvolumes(nil)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]btrfs.SubvolInfo{}
	for _, s := range all {
		m[s.Path] = s
	}
	return m
}

// TestBtrfsCutoffOldRootsAfterTwoReboots: the guides' rollback snapshots
// root-blank at every boot, which raises its generation past everything
// the previous roots hold. Every old root and the live root, audited by
// every source with the baseline detected or given, report exactly their
// truth (which the walk reports too), and the cutoff is the creation of
// the snapshot that links root and baseline: root-blank's for the first
// root (it was taken from it), each later root's own.
func TestBtrfsCutoffOldRootsAfterTwoReboots(t *testing.T) {
	img := imagetest.Get(t, "reboots")
	top := imagetest.Mount(t, img.File)
	subvols := subvolumes(t, top)
	if gen := subvols["root-blank"].OTransID; gen >= subvols["root"].OTransID {
		t.Fatalf("root-blank created at %d, root at %d: the scenario is not what it says", gen, subvols["root"].OTransID)
	}
	for _, root := range append(slices.Clone(imagetest.RebootOldRoots), "root") {
		truth := img.Roots[root]
		if len(truth) == 0 {
			t.Fatalf("no truth for %s", root)
		}
		wantCutoff := subvols[root].OTransID
		if root == imagetest.RebootOldRoots[0] {
			wantCutoff = subvols["root-blank"].OTransID
		}
		for _, tc := range []struct {
			name   string
			opts   snapshot.Options
			source string
		}{
			{"btrfs, detected baseline", snapshot.Options{Source: change.Btrfs, Mount: top, Root: root}, "btrfs"},
			{"btrfs, given baseline", snapshot.Options{Source: change.Btrfs, Mount: top, Root: root, Baseline: "root-blank"}, "btrfs"},
			{"send, detected baseline", snapshot.Options{Source: change.Send, Mount: top, Root: root}, "send"},
			{"send, given baseline", snapshot.Options{Source: change.Send, Mount: top, Root: root, Baseline: "root-blank"}, "send"},
			{"auto", snapshot.Options{Mount: top, Root: root}, "send"}, // the baseline is not empty
			{"walk", snapshot.Options{Source: change.Walk, Root: filepath.Join(top, root), Baseline: filepath.Join(top, "root-blank")}, "walk"},
		} {
			t.Run(root+"/"+tc.name, func(t *testing.T) {
				got, info := scan(t, tc.opts)
				compare(t, got, truth, tc.source)
				if string(info.Source) != tc.source {
					t.Errorf("source %s, want %s", info.Source, tc.source)
				}
				if tc.source == "walk" {
					return
				}
				if info.Baseline != "/root-blank" || info.BaselineGeneration != wantCutoff {
					t.Errorf("baseline %q cut at generation %d, want /root-blank at %d; decisions %q",
						info.Baseline, info.BaselineGeneration, wantCutoff, info.Decisions)
				}
				if !slices.ContainsFunc(info.Decisions, func(d string) bool { return strings.HasPrefix(d, fmt.Sprintf("cutoff: generation %d, ", wantCutoff)) }) {
					t.Errorf("no cutoff decision: %q", info.Decisions)
				}
			})
		}
	}
}

// TestBtrfsCutoffLineage: the cutoff follows parent UUIDs through more
// than one snapshot. root-blank-backup is a snapshot of root-blank, itself
// a snapshot of the first root: as the first root's baseline it cuts at
// root-blank's creation and gives the same truth. Two roots restored from
// root-blank are siblings: the root's changes since its own snapshot.
func TestBtrfsCutoffLineage(t *testing.T) {
	img := imagetest.Get(t, "reboots")
	top := imagetest.Mount(t, img.File)
	subvols := subvolumes(t, top)
	first, second := imagetest.RebootOldRoots[0], imagetest.RebootOldRoots[1]
	got, info := scan(t, snapshot.Options{Source: change.Btrfs, Mount: top, Root: first, Baseline: "root-blank-backup"})
	compare(t, got, img.Roots[first], "btrfs")
	if want := subvols["root-blank"].OTransID; info.BaselineGeneration != want {
		t.Errorf("through root-blank: cutoff %d, want %d; decisions %q", info.BaselineGeneration, want, info.Decisions)
	}
	_, info = scan(t, snapshot.Options{Source: change.Btrfs, Mount: top, Root: "root", Baseline: second})
	if want := subvols["root"].OTransID; info.BaselineGeneration != want ||
		!slices.ContainsFunc(info.Decisions, func(d string) bool { return strings.Contains(d, `both snapshots of "/root-blank"`) }) {
		t.Errorf("siblings: cutoff %d, want %d; decisions %q", info.BaselineGeneration, want, info.Decisions)
	}
}

// TestBtrfsCutoffUnrelatedBaseline: a baseline that is no snapshot of the
// root nor the root of it is refused when it is newer than the root (it
// cannot be what the root started from), instead of hiding everything; an
// older one cuts at the root's creation: every entry is new.
func TestBtrfsCutoffUnrelatedBaseline(t *testing.T) {
	img := imagetest.Get(t, "fresh") // old_roots is an empty subvolume made just before root
	top := imagetest.Mount(t, img.File)
	got, info := scan(t, snapshot.Options{Source: change.Btrfs, Mount: top, Root: "root", Baseline: "old_roots"})
	compare(t, got, img.Truth, "btrfs")
	if want := subvolumes(t, top)["root"].OTransID - 1; info.BaselineGeneration != want {
		t.Errorf("cutoff %d, want the root's creation %d; decisions %q", info.BaselineGeneration, want, info.Decisions)
	}

	newer := filepath.Join(top, "newer")
	if out, err := exec.Command("btrfs", "subvolume", "create", newer).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("btrfs", "subvolume", "delete", newer).Run() })
	for _, src := range []change.SourceName{change.Btrfs, change.Send} {
		target, err := snapshot.Open(snapshot.Options{Source: src, Mount: top, Root: "root", Baseline: "newer"})
		if err == nil {
			target.Close()
		}
		if !errors.Is(err, snapshot.ErrUnrelatedBaseline) {
			t.Errorf("%s: err %v, want ErrUnrelatedBaseline", src, err)
		}
	}
}

// TestBtrfsModifiedVsReadFutureMtime: a baseline file whose mtime lies in
// the future (clock skew) and that was only read is no change: the
// candidate is compared with its own inode in the baseline, not with the
// baseline's creation time.
func TestBtrfsModifiedVsReadFutureMtime(t *testing.T) {
	img := imagetest.Get(t, "skew")
	top := imagetest.Mount(t, img.File)
	for _, opts := range []snapshot.Options{
		{Source: change.Btrfs, Mount: top, Root: "root"},
		{Source: change.Btrfs, Mount: top, Root: "root", Baseline: "root-blank"},
		{Source: change.Walk, Root: filepath.Join(top, "root"), Baseline: filepath.Join(top, "root-blank")},
	} {
		got, _ := scan(t, opts)
		compare(t, got, img.Truth, string(opts.Source))
	}
}

// TestBtrfsBaselineNone: --baseline none compares with nothing: every
// entry of the root is created, as the walk reports against nothing, and
// the root directory itself is not a change. The send source, which
// compares two subvolumes, refuses.
func TestBtrfsBaselineNone(t *testing.T) {
	img := imagetest.Get(t, "blank")
	top := imagetest.Mount(t, img.File)
	got, info := scan(t, snapshot.Options{Source: change.Btrfs, Mount: top, Root: "root", Baseline: snapshot.NoBaseline})
	walked := walk(t, snapshot.WalkOptions{Root: filepath.Join(top, "root")})
	if len(got) < len(img.Truth) {
		t.Errorf("%d changes, fewer than the %d of the baseline comparison", len(got), len(img.Truth))
	}
	paths := func(changes []change.Change) []string {
		var out []string
		for _, c := range changes {
			if c.Kind != change.Created {
				t.Errorf("%q: %s, want created", c.Path, c.Kind)
			}
			out = append(out, fmt.Sprintf("%s %s", c.Type, c.Path))
		}
		return out
	}
	if g, w := paths(got), paths(walked); !slices.Equal(g, w) {
		t.Errorf("btrfs and walk against nothing differ:\nbtrfs %q\nwalk  %q", g, w)
	}
	if info.Baseline != "" || info.BaselineGeneration != 0 {
		t.Errorf("baseline %q at %d, want none at 0", info.Baseline, info.BaselineGeneration)
	}
	target, err := snapshot.Open(snapshot.Options{Source: change.Send, Mount: top, Root: "root", Baseline: snapshot.NoBaseline})
	if err == nil {
		target.Close()
	}
	if !errors.Is(err, snapshot.ErrSendNoBaseline) {
		t.Errorf("send with no baseline: err %v, want ErrSendNoBaseline", err)
	}
}

// TestBtrfsLongBaselinePath: a baseline directory whose path is longer
// than BTRFS_IOC_INO_LOOKUP's 4,080-byte buffer is resolved from its
// INODE_REFs, so the btrfs source reports the change below it as the walk
// does; the kernel's send refuses such a tree, which is a clear error.
func TestBtrfsLongBaselinePath(t *testing.T) {
	img := imagetest.Get(t, "longpath")
	top := imagetest.Mount(t, img.File)
	for _, opts := range []snapshot.Options{
		{Source: change.Btrfs, Mount: top, Root: "root"},
		{Source: change.Walk, Root: filepath.Join(top, "root"), Baseline: filepath.Join(top, "root-blank")},
	} {
		got, _ := scan(t, opts)
		compare(t, got, img.Truth, string(opts.Source))
	}
	target, err := snapshot.Open(snapshot.Options{Source: change.Send, Mount: top, Root: "root"})
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	err = target.Changes(t.Context(), func(change.Change) error { return nil }, func(error) {})
	if !errors.Is(err, snapshot.ErrSendPathTooLong) {
		t.Errorf("send: err %v, want ErrSendPathTooLong", err)
	}
	leftovers(t, top)
}

// TestRootOutsideTopLevel: a root or baseline path that climbs out of the
// top level is refused, not clamped to the top level.
func TestRootOutsideTopLevel(t *testing.T) {
	img := imagetest.Get(t, "blank")
	top := imagetest.Mount(t, img.File)
	for _, opts := range []snapshot.Options{
		{Source: change.Btrfs, Mount: top, Root: "../../.."},
		{Source: change.Btrfs, Mount: top, Root: "root/../.."},
		{Source: change.Btrfs, Mount: top, Root: "root", Baseline: "../root-blank"},
	} {
		target, err := snapshot.Open(opts)
		if err == nil {
			target.Close()
		}
		if !errors.Is(err, snapshot.ErrOutsideTopLevel) {
			t.Errorf("root %q, baseline %q: err %v, want ErrOutsideTopLevel", opts.Root, opts.Baseline, err)
		}
	}
}
