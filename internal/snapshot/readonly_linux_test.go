package snapshot_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/fsdiff-nix/fsdiff/internal/change"
	"github.com/fsdiff-nix/fsdiff/internal/imagetest"
	"github.com/fsdiff-nix/fsdiff/internal/snapshot"
	"golang.org/x/sys/unix"
)

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// mountReadOnly mounts img read-only the way an administrator does, from
// a read-write loop device (mount -o loop,ro would make the device itself
// read-only, and then no bug could write through it).
func mountReadOnly(t *testing.T, img string) (dir, dev string) {
	t.Helper()
	dev = strings.TrimSpace(run(t, "losetup", "-f", "--show", img))
	t.Cleanup(func() { exec.Command("losetup", "-d", dev).Run() })
	dir = t.TempDir()
	run(t, "mount", "-o", "ro", dev, dir)
	t.Cleanup(func() { run(t, "umount", dir) })
	return dir, dev
}

// superGeneration reads the generation of the filesystem's superblock: the
// last transaction committed to it.
func superGeneration(t *testing.T, dev string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^generation\s+(\d+)$`).FindStringSubmatch(run(t, "btrfs", "inspect-internal", "dump-super", dev))
	if m == nil {
		t.Fatalf("no generation in the superblock of %s", dev)
	}
	return m[1]
}

// superOptions returns the per-superblock options of the mount at dir.
func superOptions(t *testing.T, dir string) []string {
	t.Helper()
	mounts, err := snapshot.MountTable()
	if err != nil {
		t.Fatal(err)
	}
	m, ok := snapshot.MountAt(mounts, dir)
	if !ok {
		t.Fatalf("%s is not mounted", dir)
	}
	return strings.Split(m.Super, ",")
}

// TestReadOnlyFilesystemStaysReadOnly (issue 10, item 5): every source, by
// --mount and by --device, on a filesystem mounted read-only leaves it
// read-only and unwritten. The btrfs and walk sources find the truth, auto
// picks the btrfs source, and the send source, whose snapshot would need a
// writable filesystem, is refused with ErrReadOnly naming the user's path.
func TestReadOnlyFilesystemStaysReadOnly(t *testing.T) {
	img := imagetest.Get(t, "blank")
	top, dev := mountReadOnly(t, img.File)
	gen := superGeneration(t, dev)
	if !slices.Contains(superOptions(t, top), "ro") {
		t.Fatalf("superblock options of %s: %q, want ro", top, superOptions(t, top))
	}
	for _, tc := range []struct {
		name    string
		opts    snapshot.Options
		source  string // the truth to find; empty: the source must be refused
		refusal string // the path the refusal names
	}{
		{"btrfs --mount", snapshot.Options{Source: change.Btrfs, Mount: top, Root: "root"}, "btrfs", ""},
		{"btrfs --device", snapshot.Options{Source: change.Btrfs, Device: dev, Root: "root"}, "btrfs", ""},
		{"auto --mount", snapshot.Options{Mount: top, Root: "root"}, "btrfs", ""},
		{"auto --device", snapshot.Options{Device: dev, Root: "root"}, "btrfs", ""},
		{"walk", snapshot.Options{Source: change.Walk, Root: filepath.Join(top, "root"), Baseline: filepath.Join(top, "root-blank")}, "walk", ""},
		{"send --mount", snapshot.Options{Source: change.Send, Mount: top, Root: "root"}, "", top},
		{"send --device", snapshot.Options{Source: change.Send, Device: dev, Root: "root"}, "", dev},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.source == "" {
				target, err := snapshot.Open(tc.opts)
				if err == nil {
					target.Close()
				}
				if !errors.Is(err, snapshot.ErrReadOnly) || !strings.Contains(err.Error(), fmt.Sprintf("%q", tc.refusal)) {
					t.Errorf("error %v, want ErrReadOnly naming %q", err, tc.refusal)
				}
			} else {
				got, info := scan(t, tc.opts)
				compare(t, got, img.Truth, tc.source)
				if string(info.Source) != tc.source {
					t.Errorf("source %s, want %s; decisions %q", info.Source, tc.source, info.Decisions)
				}
			}
			if !slices.Contains(superOptions(t, top), "ro") {
				t.Errorf("superblock options of %s now %q: the filesystem was made writable", top, superOptions(t, top))
			}
			if g := superGeneration(t, dev); g != gen {
				t.Errorf("superblock generation %s, was %s: the filesystem was written", g, gen)
			}
		})
	}
}

// btrfsImage builds a scenario's image of its own, for a test that changes
// it, and mounts it.
func btrfsImage(t *testing.T, scenario string) string {
	t.Helper()
	imagetest.Require(t)
	img, err := imagetest.Build(t.TempDir(), scenario)
	if err != nil {
		t.Fatal(err)
	}
	return imagetest.Mount(t, img.File)
}

// TestLeftoverCleanupDeletesOnlyFsdiffs (issue 10, item 6): the send
// source's cleanup deletes a read-only snapshot of the root named as fsdiff
// names them whose lock is free, and nothing else: not a user's writable
// subvolume named .fsdiff-notes, not a snapshot of another subvolume, not a
// writable snapshot of the root, not a name with other digits, not the
// snapshot of a run that holds its lock.
func TestLeftoverCleanupDeletesOnlyFsdiffs(t *testing.T) {
	top := btrfsImage(t, "blank")
	p := func(name string) string { return filepath.Join(top, name) }
	run(t, "btrfs", "subvolume", "create", p(".fsdiff-notes"))
	if err := os.WriteFile(p(".fsdiff-notes/important.txt"), []byte("my precious data\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, "btrfs", "subvolume", "snapshot", "-r", p("root-blank"), p(".fsdiff-0123456789abcdef")) // another subvolume's
	run(t, "btrfs", "subvolume", "snapshot", p("root"), p(".fsdiff-1111111111111111"))             // writable
	run(t, "btrfs", "subvolume", "snapshot", "-r", p("root"), p(".fsdiff-ABCDEF0123456789"))       // not fsdiff's digits
	run(t, "btrfs", "subvolume", "snapshot", "-r", p("root"), p(".fsdiff-2222222222222222"))       // a live run's
	run(t, "btrfs", "subvolume", "snapshot", "-r", p("root"), p(".fsdiff-3333333333333333"))       // a leftover
	if err := os.Mkdir(p(".fsdiff-4444444444444444"), 0o755); err != nil {                         // a directory
		t.Fatal(err)
	}
	live, err := os.Open(p(".fsdiff-2222222222222222"))
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	if err := unix.Flock(int(live.Fd()), unix.LOCK_SH); err != nil {
		t.Fatal(err)
	}

	_, info := scan(t, snapshot.Options{Source: change.Send, Mount: top, Root: "root"})
	if !slices.Contains(info.Decisions, "removed 1 snapshots left by interrupted runs: .fsdiff-3333333333333333") {
		t.Errorf("decisions: %q", info.Decisions)
	}
	entries, err := os.ReadDir(top)
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".fsdiff-") {
			left = append(left, e.Name())
		}
	}
	want := []string{".fsdiff-0123456789abcdef", ".fsdiff-1111111111111111", ".fsdiff-2222222222222222", ".fsdiff-4444444444444444", ".fsdiff-ABCDEF0123456789", ".fsdiff-notes"}
	if !slices.Equal(left, want) {
		t.Errorf("left %q, want %q", left, want)
	}
	if data, err := os.ReadFile(p(".fsdiff-notes/important.txt")); string(data) != "my precious data\n" {
		t.Errorf(".fsdiff-notes/important.txt: %q, %v", data, err)
	}
}

// TestSendConcurrentRuns (issue 10, item 6): send-source runs at the same
// time never delete each other's snapshot (a run's cleanup used to find a
// snapshot unlocked between its creation and its lock: "opening
// .fsdiff-...: no such file or directory", "attempt to send dead root"),
// and none is left behind.
func TestSendConcurrentRuns(t *testing.T) {
	top := btrfsImage(t, "blank")
	const runs, rounds = 4, 25
	failures := 0
	for range rounds {
		var wg sync.WaitGroup
		errs := make(chan error, runs)
		for range runs {
			wg.Go(func() {
				target, err := snapshot.Open(snapshot.Options{Source: change.Send, Mount: top, Root: "root"})
				if err != nil {
					errs <- err
					return
				}
				defer target.Close()
				errs <- target.Changes(context.Background(), func(change.Change) error { return nil }, func(error) {})
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				failures++
				t.Error(err)
			}
		}
	}
	if failures > 0 {
		t.Errorf("%d of %d runs failed", failures, runs*rounds)
	}
	leftovers(t, top)
}
