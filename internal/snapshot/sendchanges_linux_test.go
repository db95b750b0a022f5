package snapshot_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dennwc/btrfs"
	"github.com/fsdiff-nix/fsdiff/internal/change"
	"github.com/fsdiff-nix/fsdiff/internal/imagetest"
	"github.com/fsdiff-nix/fsdiff/internal/snapshot"
	"github.com/fsdiff-nix/fsdiff/internal/snapshot/sendstream"
)

// sendStream snapshots the image's root read-only and returns the output
// of btrfs send --no-data against the blank snapshot, and its creation time.
func sendStream(t *testing.T, top string) ([]byte, time.Time) {
	t.Helper()
	snap := filepath.Join(top, "snap")
	if out, err := exec.Command("btrfs", "subvolume", "snapshot", "-r", filepath.Join(top, "root"), snap).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("btrfs", "subvolume", "delete", snap).Run() })
	var stream, stderr bytes.Buffer
	cmd := exec.Command("btrfs", "send", "--no-data", "-p", filepath.Join(top, "root-blank"), snap)
	cmd.Stdout, cmd.Stderr = &stream, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("btrfs send: %v: %s", err, stderr.String())
	}
	fs, err := btrfs.Open(top, true)
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	subvols, err := fs.ListSubvolumes(func(s btrfs.SubvolInfo) bool { return s.Path == "root-blank" })
	if err != nil || len(subvols) != 1 {
		t.Fatalf("root-blank: %v %v", subvols, err)
	}
	return stream.Bytes(), subvols[0].OTime
}

// TestStreamChanges reads what btrfs send says of the fixture image and
// finds the truth: every created, modified and metadata change, and the
// deletions and renames the generation source cannot see.
func TestStreamChanges(t *testing.T) {
	img := imagetest.Get(t, "blank")
	top := imagetest.Mount(t, img.File)
	stream, since := sendStream(t, top)
	stat, done := snapshot.TreeStat(openDir(t, filepath.Join(top, "snap")))
	defer done()
	baseStat, baseDone := snapshot.TreeStat(openDir(t, filepath.Join(top, "root-blank")))
	defer baseDone()
	var got []change.Change
	err := sendstream.Changes(bytes.NewReader(stream), sendstream.Options{
		Since: since, Stat: stat, BaseStat: baseStat,
	}, func(c change.Change) error {
		got = append(got, c)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(got, func(a, b change.Change) int { return strings.Compare(a.Path, b.Path) })
	// Nested subvolumes are not in a send stream; the send source adds them
	// from the subvolume list, as the generation source does.
	var truth []imagetest.Entry
	for _, e := range img.Truth {
		if e.Type != "subvolume" {
			truth = append(truth, e)
		}
	}
	compare(t, got, truth, "send")
}

// TestSendSource: the send source (BTRFS_IOC_SEND of a temporary snapshot)
// finds the truth, deletions and renames included, and leaves no snapshot.
func TestSendSource(t *testing.T) {
	img := imagetest.Get(t, "blank")
	top := imagetest.Mount(t, img.File)
	got, info := scan(t, snapshot.Options{Source: change.Send, Mount: top, Root: "root"})
	compare(t, got, img.Truth, "send")
	if info.Source != change.Send {
		t.Errorf("source %q", info.Source)
	}
	leftovers(t, top)
}

func leftovers(t *testing.T, top string) {
	t.Helper()
	entries, err := os.ReadDir(top)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".fsdiff-") {
			t.Errorf("snapshot %s left behind", e.Name())
		}
	}
}

// TestSendLeftover: a snapshot left by a killed run is removed by the next.
func TestSendLeftover(t *testing.T) {
	img := imagetest.Get(t, "blank")
	top := imagetest.Mount(t, img.File)
	if out, err := exec.Command("btrfs", "subvolume", "snapshot", "-r", filepath.Join(top, "root"), filepath.Join(top, ".fsdiff-0123456789abcdef")).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	_, info := scan(t, snapshot.Options{Source: change.Send, Mount: top, Root: "root"})
	leftovers(t, top)
	if !slices.ContainsFunc(info.Decisions, func(d string) bool {
		return strings.Contains(d, "removed 1 snapshots left by interrupted runs: .fsdiff-0123456789abcdef")
	}) {
		t.Errorf("decisions: %q", info.Decisions)
	}
}

// TestOldRoot audits a previous boot's root kept under old_roots/: its
// baseline is its own creation.
func TestOldRoot(t *testing.T) {
	img := imagetest.Get(t, "oldroots")
	top := imagetest.Mount(t, img.File)
	got, info := scan(t, snapshot.Options{Mount: top, Root: imagetest.OldRoot})
	compare(t, got, img.Truth, "btrfs")
	if info.Root != "/"+imagetest.OldRoot || info.Baseline != "" {
		t.Errorf("root %q, baseline %q; want the old root against its creation", info.Root, info.Baseline)
	}
}

// TestSourcesAgree runs the three sources on one image: they report the
// same created, modified and metadata changes (the generation source sees
// a moved file as a metadata change of its new name, so moves are left
// out here; each source is checked against the truth for those).
func TestSourcesAgree(t *testing.T) {
	img := imagetest.Get(t, "blank")
	top := imagetest.Mount(t, img.File)
	kinds := func(changes []change.Change) map[string]change.Kind {
		m := map[string]change.Kind{}
		for _, c := range changes {
			m[c.Path] = c.Kind
		}
		return m
	}
	gen, _ := scan(t, snapshot.Options{Source: change.Btrfs, Mount: top, Root: "root"})
	send, _ := scan(t, snapshot.Options{Source: change.Send, Mount: top, Root: "root"})
	walked := walk(t, snapshot.WalkOptions{Root: filepath.Join(top, "root"), Baseline: filepath.Join(top, "root-blank")})
	g, s, w := kinds(gen), kinds(send), kinds(walked)
	for p, k := range g {
		if k == change.Metadata && (s[p] == change.Renamed || w[p] == change.Renamed) {
			continue
		}
		if s[p] != k || w[p] != k {
			t.Errorf("%q: btrfs %s, send %s, walk %s", p, k, s[p], w[p])
		}
	}
	for p, k := range s {
		if k != change.Deleted && k != change.Renamed && g[p] == 0 {
			t.Errorf("%q: send %s, btrfs nothing", p, k)
		}
	}
	for p, k := range w {
		if k != change.Deleted && k != change.Renamed && g[p] == 0 {
			t.Errorf("%q: walk %s, btrfs nothing", p, k)
		}
	}
}

// layout makes an empty btrfs filesystem, mounted with options, and runs
// shell commands in its top level: a test's own layout, where no scenario
// of imagetest fits.
func layout(t *testing.T, script string, options ...string) string {
	t.Helper()
	imagetest.Require(t)
	img := filepath.Join(t.TempDir(), "fs.img")
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 256<<20); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mkfs.btrfs", "-q", "-f", img).CombinedOutput(); err != nil {
		t.Fatalf("mkfs.btrfs: %v: %s", err, out)
	}
	top := imagetest.Mount(t, img, options...)
	cmd := exec.Command("sh", "-e", "-c", script)
	cmd.Dir = top
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return top
}

// kinds maps each changed path to its kind and type.
func kinds(changes []change.Change) map[string]string {
	m := map[string]string{}
	for _, c := range changes {
		m[c.Path] = c.Kind.String() + " " + c.Type.String()
	}
	return m
}

// sendAgrees runs the send source and the walk on the layout at top (root
// against root-blank) and checks that they report the same changes, and
// these.
func sendAgrees(t *testing.T, top string, want map[string]string) {
	t.Helper()
	send, _ := scan(t, snapshot.Options{Source: change.Send, Mount: top, Root: "root", Baseline: "root-blank"})
	walked := walk(t, snapshot.WalkOptions{Root: filepath.Join(top, "root"), Baseline: filepath.Join(top, "root-blank")})
	s, w := kinds(send), kinds(walked)
	for p, k := range want {
		if s[p] != k || w[p] != k {
			t.Errorf("%q: send %q, walk %q, want %q", p, s[p], w[p], k)
		}
	}
	for p := range s {
		if s[p] != w[p] {
			t.Errorf("%q: send %q, walk %q", p, s[p], w[p])
		}
	}
	for p := range w {
		if s[p] == "" {
			t.Errorf("%q: send nothing, walk %q", p, w[p])
		}
	}
	leftovers(t, top)
}

// TestSendFutureMtimeRead: a baseline file whose mtime lies in the future
// (clock skew) and that is only read is no change: the send source
// compares it with its baseline inode, not its mtime with the baseline's
// creation (future_mtime.sh).
func TestSendFutureMtimeRead(t *testing.T) {
	top := layout(t, `
btrfs -q subvolume create src
echo a > src/future; touch -d 2035-01-01 src/future; echo b > src/normal
btrfs -q subvolume snapshot -r src root-blank; btrfs -q subvolume snapshot root-blank root
sync; sleep 1.1
cat root/future root/normal >/dev/null; sync`, "strictatime")
	sendAgrees(t, top, map[string]string{"/future": "", "/normal": ""})
}

// TestSendHardLinkNames: every name of a changed multiply-linked inode is
// reported, not only the one the stream writes to (hardlink_names.sh); a
// new link changes the other names' link count (metadata).
func TestSendHardLinkNames(t *testing.T) {
	top := layout(t, `
btrfs -q subvolume create src
mkdir -p src/etc src/var/lib/app src/a src/b src/c
echo v1 > src/etc/app.conf; ln src/etc/app.conf src/var/lib/app/state
echo x > src/a/x; ln src/a/x src/b/y
btrfs -q subvolume snapshot -r src root-blank; btrfs -q subvolume snapshot root-blank root
sync; sleep 1.1
echo v2-longer >> root/var/lib/app/state
ln root/b/y root/c/z; sync`)
	sendAgrees(t, top, map[string]string{
		"/etc/app.conf":      "modified file",
		"/var/lib/app/state": "modified file",
		"/a/x":               "metadata file",
		"/b/y":               "metadata file",
		"/c/z":               "created file",
		"/c":                 "modified dir",
	})
	// The generation source finds every name too (it cannot tell the new
	// name /c/z from the others).
	gen, _ := scan(t, snapshot.Options{Source: change.Btrfs, Mount: top, Root: "root", Baseline: "root-blank"})
	g := kinds(gen)
	for _, p := range []string{"/etc/app.conf", "/var/lib/app/state"} {
		if g[p] != "modified file" {
			t.Errorf("btrfs source: %q %q, want modified", p, g[p])
		}
	}
}

// TestSendDeletedNestedSubvolume: a nested subvolume of the baseline is an
// empty directory in a snapshot; send skips directory entries that name
// subvolumes, so its deletion is found in the baseline directory the
// stream says changed, as the walk finds it.
func TestSendDeletedNestedSubvolume(t *testing.T) {
	top := layout(t, `
btrfs -q subvolume create src; mkdir -p src/var/lib
btrfs -q subvolume create src/var/lib/machines; echo x > src/var/lib/machines/f
btrfs -q subvolume create src/var/lib/portables
mkdir src/srv; btrfs -q subvolume create src/srv/sub
btrfs -q subvolume snapshot -r src root-blank; btrfs -q subvolume snapshot root-blank root
sync; sleep 1.1
rmdir root/var/lib/machines root/srv/sub root/srv; sync`)
	sendAgrees(t, top, map[string]string{"/var/lib": "modified dir", "/var/lib/machines": "deleted dir", "/var/lib/portables": "",
		"/": "modified dir", "/srv": "deleted dir", "/srv/sub": "deleted dir"})
	gen, _ := scan(t, snapshot.Options{Source: change.Btrfs, Mount: top, Root: "root", Baseline: "root-blank"})
	if g := kinds(gen); len(g) != 2 || g["/var/lib"] != "modified dir" || g["/"] != "modified dir" {
		t.Errorf("btrfs source: %q, want / and /var/lib modified", g)
	}
}

// TestSendMoves: directories moved into new directories, swapped names,
// a directory replaced by a new one, moves sent as link and unlink, and
// a nested subvolume deleted from a moved directory, as the kernel sends
// them (orphan names first).
func TestSendMoves(t *testing.T) {
	top := layout(t, `
btrfs -q subvolume create src; cd src
mkdir -p a/b/c d/e x y swap1/s swap2/t; echo 1 > a/b/c/f; echo 2 > d/e/g; echo 3 > x/h; echo 4 > y/i; ln x/h y/hl
btrfs -q subvolume create d/e/sv
cd ..; btrfs -q subvolume snapshot -r src root-blank; btrfs -q subvolume snapshot root-blank root
sync; sleep 1.1; cd root
mv a/b d/e/b2; mkdir n; mv d n/d; mv swap1 tmp; mv swap2 swap1; mv tmp swap2; rmdir swap1/t
rm -r x; mkdir x; echo new > x/h; mv y/i y/j; rm y/hl; ln n/d/e/g n/g2
mkdir -p n/d/e/b2/c/deep/er; echo z > n/d/e/b2/c/deep/er/z; mv n/d/e/b2/c/f n/d/e/b2/c/deep/f
rmdir n/d/e/sv; sync`)
	send, _ := scan(t, snapshot.Options{Source: change.Send, Mount: top, Root: "root", Baseline: "root-blank"})
	got := map[string]string{}
	for _, c := range send {
		k := c.Kind.String() + " " + c.Type.String()
		if c.Origin != "" {
			k += " from " + c.Origin
		}
		if got[c.Path] != "" {
			k = got[c.Path] + ", " + k
		}
		got[c.Path] = k
	}
	for p, want := range map[string]string{
		"/n":                    "created dir",
		"/n/d":                  "renamed dir from /d",
		"/n/d/e":                "modified dir",
		"/n/d/e/b2":             "renamed dir from /a/b",
		"/n/d/e/b2/c/deep/f":    "renamed file from /a/b/c/f",
		"/n/d/e/b2/c/deep/er/z": "created file",
		"/n/d/e/g":              "metadata file",
		"/n/g2":                 "created file",
		"/swap1":                "renamed dir from /swap2",
		"/swap2":                "renamed dir from /swap1",
		"/swap2/t":              "deleted dir",
		"/x":                    "created dir, deleted dir",
		"/x/h":                  "created file, deleted file",
		"/y/j":                  "renamed file from /y/i",
		"/y/hl":                 "deleted file",
		"/d/e/sv":               "deleted dir",
	} {
		if got[p] != want {
			t.Errorf("%q: %q, want %q", p, got[p], want)
		}
	}
	leftovers(t, top)
}

func openDir(t *testing.T, name string) *os.File {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}
