package persist

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/fsdiff-nix/fsdiff/internal/audit"
	"github.com/fsdiff-nix/fsdiff/internal/change"
	"github.com/fsdiff-nix/fsdiff/internal/imagetest"
	"github.com/fsdiff-nix/fsdiff/internal/snapshot"
	"github.com/fsdiff-nix/fsdiff/internal/suggest"
	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(child())
	}
	code := m.Run()
	imagetest.Cleanup()
	os.Exit(code)
}

// planFor audits the root of a PersistLayout top level and plans the copy
// of anchors (all when nil) into storage.
func planFor(t testing.TB, top, storage string, anchors []string) testPlan {
	t.Helper()
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	p, err := plan(top, storage, anchors)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.close)
	return p
}

// testPlan is a plan and the audit it came from.
type testPlan struct {
	*Plan
	a *audit.Audit
}

func (p testPlan) close() {
	p.Close()
	p.a.Target.Close()
}

func plan(top, storage string, anchors []string) (testPlan, error) {
	a, err := audit.Open(audit.Options{Target: snapshot.Options{Mount: top, Root: "root", Baseline: "root-blank"}})
	if err != nil {
		return testPlan{}, err
	}
	r, err := a.Run(context.Background())
	if err == nil {
		model := suggest.Build(r.Entries, a.SuggestOptions(storage))
		if anchors, err = Select(model, anchors); err == nil {
			var p *Plan
			if p, err = Prepare(a.Target.Root, storage, anchors); err == nil {
				return testPlan{p, a}, nil
			}
		}
	}
	a.Target.Close()
	return testPlan{}, err
}

func apply(t testing.TB, p testPlan, force bool) *Result {
	t.Helper()
	r, err := p.Apply(context.Background(), force, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestPersistExactCopy: after --apply, every anchor's copy matches the
// original in type, owner, mode, times and content (a walk comparison finds
// no change), in xattrs and in hard-link structure, across anchors too; on
// the root's btrfs
// filesystem files share their extents, on another one they do not and
// holes stay holes.
func TestPersistExactCopy(t *testing.T) {
	for _, sameFS := range []bool{true, false} {
		t.Run(map[bool]string{true: "same-btrfs", false: "other-filesystem"}[sameFS], func(t *testing.T) {
			top := imagetest.PersistLayout(t)
			storage := filepath.Join(top, "persist")
			if !sameFS {
				storage = imagetest.Mount(t, imagetest.Empty(t, 256<<20))
			}
			p := planFor(t, top, storage, nil)
			var got []string
			for _, it := range p.Items {
				got = append(got, it.Source)
				want := map[bool]Method{true: Reflink, false: Copy}[sameFS]
				if it.How != want || it.State != New {
					t.Errorf("%s: planned %s %s, want %s new", it.Source, it.How, it.State, want)
				}
			}
			if !slices.Equal(got, imagetest.PersistAnchors) {
				t.Fatalf("planned %q, want %q", got, imagetest.PersistAnchors)
			}
			r := apply(t, p, false)
			if !slices.Equal(r.Moved, imagetest.PersistAnchors) || len(r.Conflicts) > 0 {
				t.Fatalf("moved %q, conflicts %q", r.Moved, r.Conflicts)
			}
			if !slices.ContainsFunc(r.Notes, func(n string) bool { return strings.Contains(n, "sock") }) {
				t.Errorf("notes %q do not say the socket was skipped", r.Notes)
			}
			root := filepath.Join(top, "root")
			for _, a := range imagetest.PersistAnchors {
				compareTrees(t, filepath.Join(root, a), filepath.Join(storage, a))
			}
			if a, b := statOf(t, filepath.Join(storage, "etc/machine-id")), statOf(t, filepath.Join(storage, "var/lib/foo/machine-id-link")); a.Ino != b.Ino || a.Nlink != 2 {
				t.Errorf("the hard link across anchors was not kept: inodes %d and %d, %d links", a.Ino, b.Ino, a.Nlink)
			}
			for _, name := range []string{"big", "sparse"} {
				shared := extentsShared(t, filepath.Join(storage, "var/lib/foo", name))
				if shared != sameFS {
					t.Errorf("%s: extents shared %v, want %v", name, shared, sameFS)
				}
			}
			var st unix.Stat_t
			if err := unix.Stat(filepath.Join(storage, "var/lib/foo/sparse"), &st); err != nil {
				t.Fatal(err)
			}
			if st.Blocks*512 >= st.Size/2 {
				t.Errorf("sparse copy takes %d bytes of %d: holes were filled", st.Blocks*512, st.Size)
			}
			// The parents created in storage have their originals' owner and mode.
			for _, dir := range []string{"home/alice", "var/lib"} {
				o, c := statOf(t, filepath.Join(root, dir)), statOf(t, filepath.Join(storage, dir))
				if o.Mode != c.Mode || o.Uid != c.Uid || o.Gid != c.Gid {
					t.Errorf("%s: created %o %d:%d, original %o %d:%d", dir, c.Mode, c.Uid, c.Gid, o.Mode, o.Uid, o.Gid)
				}
			}
			// A second plan finds everything present.
			p2 := planFor(t, top, storage, nil)
			for _, it := range p2.Items {
				if it.State != Present {
					t.Errorf("after the copy, %s is %s, want present", it.Source, it.State)
				}
			}
		})
	}
}

// compareTrees fails t where the copy at dst differs from src: the walk
// source compares types, owners, modes, sizes, mtimes and contents; then
// xattrs and hard links are compared entry by entry.
func compareTrees(t *testing.T, src, dst string) {
	t.Helper()
	so, do := statOf(t, src), statOf(t, dst)
	if so.Mode&unix.S_IFMT != unix.S_IFDIR {
		if so.Mode != do.Mode || so.Uid != do.Uid || so.Gid != do.Gid || so.Mtim != do.Mtim {
			t.Errorf("%s: copy %o %d:%d %v, original %o %d:%d %v", dst, do.Mode, do.Uid, do.Gid, do.Mtim, so.Mode, so.Uid, so.Gid, so.Mtim)
		}
		a, _ := os.ReadFile(src)
		b, _ := os.ReadFile(dst)
		if string(a) != string(b) {
			t.Errorf("%s: content differs", dst)
		}
		compareXattrs(t, src, dst)
		return
	}
	err := snapshot.Walk(context.Background(), snapshot.WalkOptions{Root: src, Baseline: dst, Content: true}, func(c change.Change) error {
		if c.Type == change.Socket && c.Kind == change.Created {
			return nil // never copied
		}
		if c.Kind == change.Metadata {
			// Inode numbers of two trees collide (each subvolume and
			// filesystem starts at 256), and the walk then takes a new ctime
			// for a metadata change; only mode and owner count here.
			o, d := statOf(t, filepath.Join(src, c.Path)), statOf(t, filepath.Join(dst, c.Path))
			if o.Mode == d.Mode && o.Uid == d.Uid && o.Gid == d.Gid {
				return nil
			}
		}
		t.Errorf("walk comparison: %s %s %s", c.Kind, c.Type, c.Path)
		return nil
	}, func(err error) { t.Error(err) })
	if err != nil {
		t.Fatal(err)
	}
	srcLinks, dstLinks := map[uint64][]string{}, map[uint64][]string{}
	for _, side := range []struct {
		dir   string
		links map[uint64][]string
	}{{src, srcLinks}, {dst, dstLinks}} {
		err := filepath.Walk(side.dir, func(p string, info os.FileInfo, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(side.dir, p)
			st := info.Sys().(*syscall.Stat_t)
			if !info.IsDir() && st.Nlink > 1 {
				side.links[st.Ino] = append(side.links[st.Ino], rel)
			}
			if side.dir == src && info.Mode()&os.ModeSocket == 0 {
				compareXattrs(t, p, filepath.Join(dst, rel))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	groups := func(m map[uint64][]string) []string {
		var out []string
		for _, names := range m {
			if len(names) < 2 {
				continue // linked from outside the tree: TestPersistExactCopy checks that
			}
			slices.Sort(names)
			out = append(out, strings.Join(names, " = "))
		}
		slices.Sort(out)
		return out
	}
	if g, w := groups(dstLinks), groups(srcLinks); !slices.Equal(g, w) {
		t.Errorf("%s: hard links %q, original %q", dst, g, w)
	}
}

func compareXattrs(t *testing.T, src, dst string) {
	t.Helper()
	read := func(p string) map[string]string {
		names, err := listXattrs(p)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, n := range names {
			v, err := getXattr(p, n)
			if err != nil {
				t.Fatal(err)
			}
			m[n] = string(v)
		}
		return m
	}
	a, b := read(src), read(dst)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("%s: xattrs %q, original %q", dst, b, a)
	}
}

func statOf(t *testing.T, p string) unix.Stat_t {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// extentsShared says whether every extent of the file is shared
// (FIEMAP_EXTENT_SHARED), as a reflinked copy's are.
func extentsShared(t *testing.T, name string) bool {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// struct fiemap and struct fiemap_extent, linux/fiemap.h.
	type extent struct {
		Logical, Physical, Length uint64
		_                         [2]uint64
		Flags                     uint32
		_                         [3]uint32
	}
	var req struct {
		Start, Length                  uint64
		Flags, Mapped, Count, Reserved uint32
		Extents                        [32]extent
	}
	const fsIocFiemap, fiemapFlagSync, extentShared = 0xC020660B, 1, 0x2000
	req.Length, req.Flags, req.Count = ^uint64(0), fiemapFlagSync, uint32(len(req.Extents))
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, f.Fd(), fsIocFiemap, uintptr(unsafe.Pointer(&req))); errno != 0 {
		t.Fatalf("FIEMAP %s: %v", name, errno)
	}
	if req.Mapped == 0 {
		t.Fatalf("%s: no extents", name)
	}
	for _, e := range req.Extents[:req.Mapped] {
		if e.Flags&extentShared == 0 {
			return false
		}
	}
	return true
}

// TestPersistPlanChangesNothing: planning (the default) writes nothing in
// the storage.
func TestPersistPlanChangesNothing(t *testing.T) {
	top := imagetest.PersistLayout(t)
	storage := filepath.Join(top, "persist")
	if err := os.MkdirAll(filepath.Join(storage, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	before := imagetest.Tree(t, storage)
	planFor(t, top, storage, nil)
	if after := imagetest.Tree(t, storage); !slices.Equal(before, after) {
		t.Errorf("the plan changed the storage:\nbefore %q\nafter  %q", before, after)
	}
}

// TestPersistConflictLeftUntouched: a destination that differs is reported
// and skipped, byte for byte as it was; the other anchors are copied. With
// force, the old copy is renamed aside and the anchor copied.
func TestPersistConflictLeftUntouched(t *testing.T) {
	top := imagetest.PersistLayout(t)
	storage := filepath.Join(top, "persist")
	old := filepath.Join(storage, "var/lib/foo")
	if err := os.MkdirAll(old, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(old, "a"), []byte("older\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := imagetest.Tree(t, old)
	p := planFor(t, top, storage, nil)
	for _, it := range p.Items {
		if want := map[bool]State{true: Conflict, false: New}[it.Source == "/var/lib/foo"]; it.State != want {
			t.Errorf("%s planned %s, want %s", it.Source, it.State, want)
		}
	}
	r := apply(t, p, false)
	if !slices.Equal(r.Conflicts, []string{"/var/lib/foo"}) || !slices.Equal(r.Moved, []string{"/etc/machine-id", "/home/alice/.ssh"}) {
		t.Errorf("moved %q, conflicts %q", r.Moved, r.Conflicts)
	}
	if after := imagetest.Tree(t, old); !slices.Equal(before, after) {
		t.Errorf("the conflicting destination changed:\nbefore %q\nafter  %q", before, after)
	}

	p = planFor(t, top, storage, []string{"/var/lib/foo"})
	r = apply(t, p, true)
	if !slices.Equal(r.Moved, []string{"/var/lib/foo"}) || len(r.Aside) != 1 {
		t.Fatalf("forced: moved %q, aside %q", r.Moved, r.Aside)
	}
	if data, err := os.ReadFile(filepath.Join(r.Aside[0], "a")); err != nil || string(data) != "older\n" {
		t.Errorf("the old copy aside holds %q, %v", data, err)
	}
	compareTrees(t, filepath.Join(top, "root/var/lib/foo"), old)
}

// TestPersistFailedCopyLeavesNoEntry: a copy that fails mid-way leaves
// neither its final name nor its temporary behind; a rerun completes it,
// its progress counting up to the entries the plan counted.
func TestPersistFailedCopyLeavesNoEntry(t *testing.T) {
	top := imagetest.PersistLayout(t)
	storage := filepath.Join(top, "persist")
	p := planFor(t, top, storage, []string{"/var/lib/foo"})
	n := 0
	afterEntry = func() error {
		if n++; n == 5 {
			return errors.New("stopped by the test")
		}
		return nil
	}
	_, err := p.Apply(context.Background(), false, nil)
	afterEntry = nil
	if err == nil {
		t.Fatal("the copy did not fail")
	}
	entries, _ := os.ReadDir(filepath.Join(storage, "var/lib"))
	if len(entries) != 0 {
		t.Errorf("a failed copy left %v in var/lib", entries)
	}
	p = planFor(t, top, storage, []string{"/var/lib/foo"})
	last := 0
	if _, err := p.Apply(context.Background(), false, func(it *Item, done int) { last = done }); err != nil {
		t.Fatal(err)
	}
	if last != p.Items[0].Entries {
		t.Errorf("progress ended at %d entries, the plan counted %d", last, p.Items[0].Entries)
	}
	compareTrees(t, filepath.Join(top, "root/var/lib/foo"), filepath.Join(storage, "var/lib/foo"))
}

const childEnv = "FSDIFF_PERSIST_TEST_CHILD"

// child copies the anchor in its environment and, after some entries,
// says so and waits to be killed: an interruption no cleanup runs after.
func child() int {
	top, storage, anchor := os.Getenv("TOP"), os.Getenv("STORAGE"), os.Getenv("ANCHOR")
	p, err := plan(top, storage, []string{anchor})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	n := 0
	afterEntry = func() error {
		if n++; n == 8 {
			fmt.Println("stopped")
			time.Sleep(time.Hour)
		}
		return nil
	}
	if _, err := p.Apply(context.Background(), false, nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	return 0
}

// TestPersistKilledCopyRerun: a copy killed mid-way (SIGKILL) leaves no
// entry under its final name; the next run removes the temporary and
// completes the copy.
func TestPersistKilledCopyRerun(t *testing.T) {
	top := imagetest.PersistLayout(t)
	storage := filepath.Join(top, "persist")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	// The child is killed, so the test owns its rule directory.
	cmd.Env = append(os.Environ(), childEnv+"=1", "TOP="+top, "STORAGE="+storage, "ANCHOR=/var/lib/foo", "XDG_CONFIG_HOME="+t.TempDir())
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "stopped\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("the child said %q, %v", line, err)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	dir := filepath.Join(storage, "var/lib")
	names := func() []string {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range entries {
			out = append(out, e.Name())
		}
		return out
	}
	left := names()
	if slices.Contains(left, "foo") {
		t.Fatalf("the killed copy left var/lib/foo")
	}
	if len(left) != 1 || !tempName.MatchString(left[0]) {
		t.Fatalf("var/lib holds %q, want the killed copy's temporary", left)
	}
	p := planFor(t, top, storage, []string{"/var/lib/foo"})
	if r := apply(t, p, false); !slices.Equal(r.Moved, []string{"/var/lib/foo"}) {
		t.Fatalf("the rerun moved %q", r.Moved)
	}
	if got := names(); !slices.Equal(got, []string{"foo"}) {
		t.Errorf("after the rerun var/lib holds %q, want foo only", got)
	}
	compareTrees(t, filepath.Join(top, "root/var/lib/foo"), filepath.Join(storage, "var/lib/foo"))
}

// TestPersistRefusals: a storage inside the audited root, and an anchor
// that is a mount point, are refused before anything is copied.
func TestPersistRefusals(t *testing.T) {
	top := imagetest.PersistLayout(t)
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	if _, err := plan(top, filepath.Join(top, "root/var"), nil); !errors.Is(err, ErrStorageInRoot) { // plan closes what it opened when it fails
		t.Errorf("storage inside the root: %v, want ErrStorageInRoot", err)
	}
	if _, err := plan(top, filepath.Join(top, "root"), nil); !errors.Is(err, ErrStorageInRoot) {
		t.Errorf("storage at the root: %v, want ErrStorageInRoot", err)
	}
	ssh := filepath.Join(top, "root/home/alice/.ssh")
	if out, err := exec.Command("mount", "-t", "tmpfs", "tmpfs", ssh).CombinedOutput(); err != nil {
		t.Fatalf("mount: %v: %s", err, out)
	}
	defer exec.Command("umount", ssh).Run()
	// The mount hides the anchor's content but not the anchor from the
	// audit of the subvolume; persisting it is refused.
	p, err := plan(top, filepath.Join(top, "persist"), []string{"/home/alice/.ssh"})
	if err == nil {
		p.close()
	}
	if !errors.Is(err, ErrMountPoint) {
		t.Errorf("a mount point anchor: %v, want ErrMountPoint", err)
	}
}

// TestPersistDestinationAppearsAfterPlan: a destination made between the
// plan and the copy is not overwritten (RENAME_NOREPLACE): it is reported
// as a conflict and left as it is.
func TestPersistDestinationAppearsAfterPlan(t *testing.T) {
	top := imagetest.PersistLayout(t)
	storage := filepath.Join(top, "persist")
	p := planFor(t, top, storage, []string{"/etc/machine-id"})
	if err := os.Mkdir(filepath.Join(storage, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(storage, "etc/machine-id"), []byte("made meanwhile\n"), 0o444); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(storage, "etc/machine-id")
	before := imagetest.Tree(t, dest)
	r := apply(t, p, false)
	if len(r.Moved) > 0 || !slices.Equal(r.Conflicts, []string{"/etc/machine-id"}) {
		t.Errorf("moved %q, conflicts %q", r.Moved, r.Conflicts)
	}
	if after := imagetest.Tree(t, dest); !slices.Equal(before, after) {
		t.Errorf("the destination changed:\nbefore %q\nafter  %q", before, after)
	}
}

// TestPersistMountInsideAnchor: a mount point below an anchor is skipped
// and noted, and the copy is then present to a second run, not a conflict.
func TestPersistMountInsideAnchor(t *testing.T) {
	top := imagetest.PersistLayout(t)
	storage := filepath.Join(top, "persist")
	mnt := filepath.Join(top, "root/var/lib/foo/empty-dir")
	if out, err := exec.Command("mount", "-t", "tmpfs", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Fatalf("mount: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", mnt).Run() })
	p := planFor(t, top, storage, []string{"/var/lib/foo"})
	if !slices.ContainsFunc(p.Items[0].Notes, func(n string) bool { return strings.Contains(n, "empty-dir\": a mount point, skipped") }) {
		t.Errorf("notes %q do not name the mount point", p.Items[0].Notes)
	}
	apply(t, p, false)
	if _, err := os.Lstat(filepath.Join(storage, "var/lib/foo/empty-dir")); err == nil {
		t.Error("the mount point was copied")
	}
	if p := planFor(t, top, storage, []string{"/var/lib/foo"}); p.Items[0].State != Present {
		t.Errorf("a second plan finds the copy %s, want present", p.Items[0].State)
	}
}
