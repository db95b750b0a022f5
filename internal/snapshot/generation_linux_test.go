package snapshot_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fsdiff-nix/fsdiff/internal/change"
	"github.com/fsdiff-nix/fsdiff/internal/imagetest"
	"github.com/fsdiff-nix/fsdiff/internal/snapshot"
)

func TestMain(m *testing.M) {
	code := m.Run()
	imagetest.Cleanup()
	os.Exit(code)
}

func scan(t *testing.T, opts snapshot.Options) ([]change.Change, change.Info) {
	t.Helper()
	target, err := snapshot.Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	var got []change.Change
	err = target.Changes(context.Background(), func(c change.Change) error {
		got = append(got, c)
		return nil
	}, func(err error) { t.Errorf("problem: %v", err) })
	if err != nil {
		t.Fatal(err)
	}
	// Stable: a path both deleted and created again keeps the order the
	// source reported them in, which tests compare.
	slices.SortStableFunc(got, func(a, b change.Change) int { return strings.Compare(a.Path, b.Path) })
	return got, target.Info
}

// compare checks changes against the truth: the same paths, kinds and
// types, and the attributes the truth records.
func compare(t *testing.T, got []change.Change, truth []imagetest.Entry, source string) {
	t.Helper()
	byPath := map[string]change.Change{}
	for _, c := range got {
		if _, dup := byPath[c.Path]; dup {
			t.Errorf("%q reported twice", c.Path)
		}
		byPath[c.Path] = c
	}
	for _, want := range truth {
		want, ok := want.For(source)
		if !ok {
			continue
		}
		p := string(want.Path)
		c, ok := byPath[p]
		if !ok {
			t.Errorf("missing %s %s %q", want.Kind, want.Type, p)
			continue
		}
		delete(byPath, p)
		if c.Kind.String() != want.Kind || c.Type.String() != want.Type {
			t.Errorf("%q: got %s %s, want %s %s", p, c.Kind, c.Type, want.Kind, want.Type)
		}
		if c.Origin != string(want.Origin) {
			t.Errorf("%q: origin %q, want %q", p, c.Origin, want.Origin)
		}
		if !bytes.Equal([]byte(c.Target), want.Target) {
			t.Errorf("%q: target %q, want %q", p, c.Target, want.Target)
		}
		if want.Mode != 0 && c.Mode != want.Mode {
			t.Errorf("%q: mode %#o, want %#o", p, c.Mode, want.Mode)
		}
		if want.UID != 0 && c.UID != want.UID {
			t.Errorf("%q: uid %d, want %d", p, c.UID, want.UID)
		}
		if want.Type == "file" && want.Kind != "deleted" && c.Size != want.Size {
			t.Errorf("%q: size %d, want %d", p, c.Size, want.Size)
		}
	}
	for p, c := range byPath {
		t.Errorf("unexpected %s %s %q", c.Kind, c.Type, p)
	}
}

func TestGenerationBlank(t *testing.T) {
	img := imagetest.Get(t, "blank")
	top := imagetest.Mount(t, img.File)
	for _, tc := range []struct {
		name string
		opts snapshot.Options
	}{
		{"relative to --mount", snapshot.Options{Source: change.Btrfs, Mount: top, Root: "root", Baseline: "root-blank"}},
		{"baseline found by parent UUID", snapshot.Options{Source: change.Btrfs, Mount: top, Root: "root"}},
		{"absolute paths", snapshot.Options{Source: change.Btrfs, Root: filepath.Join(top, "root"), Baseline: filepath.Join(top, "root-blank")}},
		{"detached top level from --device", snapshot.Options{Source: change.Btrfs, Device: loopDevice(t, top), Root: "root"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, info := scan(t, tc.opts)
			compare(t, got, img.Truth, "btrfs")
			if info.Baseline != "/root-blank" {
				t.Errorf("baseline %q, want /root-blank; decisions: %q", info.Baseline, info.Decisions)
			}
		})
	}
}

// TestAutoSource: auto-detection picks send where the baseline is not
// empty (deletions matter), generation IDs where it is.
func TestAutoSource(t *testing.T) {
	for scenario, want := range map[string]change.SourceName{"blank": change.Send, "guekka": change.Btrfs, "fresh": change.Btrfs} {
		img := imagetest.Get(t, scenario)
		top := imagetest.Mount(t, img.File)
		got, info := scan(t, snapshot.Options{Device: loopDevice(t, top), Root: "root"})
		if info.Source != want {
			t.Errorf("%s: source %s, want %s; decisions %q", scenario, info.Source, want, info.Decisions)
		}
		compare(t, got, img.Truth, string(want))
	}
}

func TestGenerationFresh(t *testing.T) {
	img := imagetest.Get(t, "fresh")
	top := imagetest.Mount(t, img.File)
	got, info := scan(t, snapshot.Options{Mount: top, Root: "root"})
	compare(t, got, img.Truth, "btrfs")
	if info.Baseline != "" {
		t.Errorf("baseline %q, want none (the root's creation)", info.Baseline)
	}
}

// TestGenerationAtimeOnly proves that reads after the baseline, which bump
// inode transids under relatime, are not reported: the truth has no entry
// for base/atime.txt, and the image builder checked that its atime changed.
func TestGenerationAtimeOnly(t *testing.T) {
	img := imagetest.Get(t, "blank")
	top := imagetest.Mount(t, img.File)
	got, _ := scan(t, snapshot.Options{Source: change.Btrfs, Mount: top, Root: "root"})
	for _, c := range got {
		if strings.HasPrefix(c.Path, "/base/atime") {
			t.Errorf("atime-only change reported: %+v", c)
		}
	}
}

// loopDevice returns the device mounted at dir.
func loopDevice(t *testing.T, dir string) string {
	t.Helper()
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	mounts, err := snapshot.ParseMountInfo(f)
	if err != nil {
		t.Fatal(err)
	}
	m, ok := snapshot.MountAt(mounts, dir)
	if !ok {
		t.Fatalf("%s is not a mount point", dir)
	}
	return m.Source
}
