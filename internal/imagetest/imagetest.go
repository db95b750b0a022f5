//go:build linux

// Package imagetest builds the btrfs images that fsdiff's tests audit, with
// the ground truth of what changed, and loop-mounts them. Building needs
// root, mkfs.btrfs and btrfs from btrfs-progs, and loop devices; tests call
// Require first, which skips without them unless CI is set.
package imagetest

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/fsdiff-nix/fsdiff/internal/testenv"
)

// Entry is one change of the ground truth. Paths are bytes (JSON base64) so
// that the truth does not depend on any escaping fsdiff implements.
type Entry struct {
	Kind   string `json:"kind"`
	Type   string `json:"type"`
	Path   []byte `json:"path"`
	Target []byte `json:"target,omitempty"`
	Mode   uint32 `json:"mode,omitempty"`   // checked when non-zero
	UID    uint32 `json:"uid,omitempty"`    // checked when non-zero
	Size   int64  `json:"size,omitempty"`   // checked for files when Kind is not deleted
	Origin []byte `json:"origin,omitempty"` // the old path of a renamed entry
	// GenKind is what the btrfs generation source reports instead of Kind,
	// which sees no deletions and sees a rename as a metadata change of the
	// new name: "none" or "metadata". Empty when it reports Kind.
	GenKind string `json:"gen_kind,omitempty"`
}

// For returns the entry as the given source reports it ("btrfs", "walk",
// "send"), and false if that source cannot see it.
func (e Entry) For(source string) (Entry, bool) {
	if source != "btrfs" || e.GenKind == "" {
		return e, true
	}
	if e.GenKind == "none" {
		return Entry{}, false
	}
	e.Kind, e.Origin = e.GenKind, nil
	return e, true
}

// Image is a built image and its truth.
type Image struct {
	File  string  // the image file
	Truth []Entry // every change of the root subvolume "root"
	// Roots holds the truth of every root a scenario keeps, by path under
	// the top level ("root" included), each against the blank root-blank.
	Roots map[string][]Entry
}

// Scenarios lists what Build can make:
//   - "blank": subvolume "root" snapshotted from the read-only "root-blank",
//     which holds a small tree, then changed in every way fsdiff must see;
//   - "fresh": a new empty subvolume "root" with no blank snapshot (the
//     impermanence README's layout), then filled.
//   - "guekka": GuekkaListing, a published fs-diff.sh output, replayed on a
//     root restored from an empty blank;
//   - "oldroots": "fresh", then moved to OldRoot as the impermanence
//     README's rollback does at the next boot, and a new empty root made.
//   - "quiet": a root restored from an empty blank that holds only what
//     NixOS recreates (activation's files, stamps, leases, caches, the
//     empty homes and /root); "newservice": the same with /var/lib/foo.
//   - "reboots": the guides' blank-snapshot rollback over two reboots, the
//     previous roots kept as RebootOldRoots, and root-blank snapshotted once
//     more (see builder.reboots).
//   - "longpath": a root restored from a blank holding a directory path
//     of 8,405 bytes, with a new file at its bottom (see builder.longPath);
//   - "skew": a root restored from a blank whose file has an mtime in the
//     future (clock skew), then only read: no change at all.
var Scenarios = []string{"blank", "fresh", "guekka", "oldroots", "quiet", "newservice", "reboots", "longpath", "skew"}

// Build makes the image of a scenario in dir as <scenario>.img and writes
// its truth to <scenario>.truth.json.
func Build(dir, scenario string) (*Image, error) {
	img := filepath.Join(dir, scenario+".img")
	if err := mkfs(img, 256<<20); err != nil {
		return nil, err
	}
	mnt, err := os.MkdirTemp("", "fsdiff-image-")
	if err != nil {
		return nil, err
	}
	defer os.Remove(mnt)
	if err := run("mount", "-o", "loop", img, mnt); err != nil {
		return nil, err
	}
	b := &builder{top: mnt}
	switch scenario {
	case "blank":
		b.blank()
	case "fresh":
		b.fresh()
	case "guekka":
		b.guekka()
	case "oldroots":
		b.oldRoots()
	case "quiet":
		b.quiet(false)
	case "newservice":
		b.quiet(true)
	case "reboots":
		b.reboots()
	case "longpath":
		b.longPath()
	case "skew":
		b.skew()
	default:
		b.err = fmt.Errorf("unknown scenario %q", scenario)
	}
	if b.err == nil {
		b.err = run("btrfs", "filesystem", "sync", mnt)
	}
	if err := run("umount", mnt); err != nil && b.err == nil {
		b.err = err
	}
	if b.err != nil {
		return nil, fmt.Errorf("building %s: %w", scenario, b.err)
	}
	truth := b.truth()
	data, err := json.MarshalIndent(truth, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, scenario+".truth.json"), append(data, '\n'), 0o644); err != nil {
		return nil, err
	}
	if b.roots == nil {
		b.roots = map[string][]Entry{"root": truth}
	}
	return &Image{File: img, Truth: truth, Roots: b.roots}, nil
}

// mkfs makes an empty btrfs image of size bytes at img.
func mkfs(img string, size int64) error {
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		return err
	}
	if err := os.Truncate(img, size); err != nil {
		return err
	}
	// A fresh filesystem UUID each time: test binaries run in parallel, and
	// btrfs takes two mounted images with one UUID for the same filesystem.
	return run("mkfs.btrfs", "-q", "-f", img)
}

// Empty makes an empty btrfs image of size bytes for a test that lays out
// its own tree, and returns its file. It calls Require first.
func Empty(t testing.TB, size int64) string {
	t.Helper()
	Require(t)
	img := filepath.Join(t.TempDir(), "empty.img")
	if err := mkfs(img, size); err != nil {
		t.Fatal(err)
	}
	return img
}

func run(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, out)
	}
	return nil
}

// Require skips t unless it runs as root with btrfs-progs installed. When
// CI is set, a missing capability fails the test instead: CI must prove
// the kernel paths.
func Require(t testing.TB) {
	t.Helper()
	var missing string
	switch {
	case os.Geteuid() != 0:
		missing = "needs root to mount btrfs images"
	default:
		for _, tool := range []string{"mkfs.btrfs", "btrfs", "mount", "umount"} {
			if _, err := exec.LookPath(tool); err != nil {
				missing = "needs " + tool + " (apt-get install btrfs-progs)"
			}
		}
	}
	if missing != "" {
		testenv.SkipOrFail(t, missing)
	}
}

// Mount loop-mounts img at a temporary directory with the given mount
// options and unmounts it when the test ends.
func Mount(t testing.TB, img string, options ...string) string {
	t.Helper()
	dir := t.TempDir()
	opts := append([]string{"loop"}, options...)
	if err := run("mount", "-o", strings.Join(opts, ","), img, dir); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := run("umount", dir); err != nil {
			t.Error(err)
		}
	})
	return dir
}

var cache struct {
	sync.Mutex
	dir    string
	images map[string]*Image
}

// Get builds a scenario's image once per test binary and returns it. It
// calls Require first. Call Cleanup from TestMain to remove the images.
func Get(t testing.TB, scenario string) *Image {
	t.Helper()
	Require(t)
	cache.Lock()
	defer cache.Unlock()
	if img := cache.images[scenario]; img != nil {
		return img
	}
	if cache.dir == "" {
		dir, err := os.MkdirTemp("", "fsdiff-images-")
		if err != nil {
			t.Fatal(err)
		}
		cache.dir, cache.images = dir, map[string]*Image{}
	}
	img, err := Build(cache.dir, scenario)
	if err != nil {
		t.Fatal(err)
	}
	cache.images[scenario] = img
	return img
}

// Cleanup removes the images Get built.
func Cleanup() {
	cache.Lock()
	defer cache.Unlock()
	if cache.dir != "" {
		os.RemoveAll(cache.dir)
	}
}
