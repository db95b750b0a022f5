//go:build linux

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fsdiff-nix/fsdiff/internal/names"

	"github.com/fsdiff-nix/fsdiff/internal/imagetest"
	"github.com/fsdiff-nix/fsdiff/internal/report"
	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain runs the tests, or, when a script of TestScript runs this test
// binary under the name fsdiff, the command itself (testscript.Main).
func TestMain(m *testing.M) {
	testscript.Main(tests{m}, map[string]func(){"fsdiff": main})
}

// tests runs the tests and removes what they built. The command a script
// runs skips it: it has the script's own environment.
type tests struct{ m *testing.M }

func (t tests) Run() int {
	// The developer's own rules must not change what the tests see, nor
	// an exported $COLUMNS the tables asked for with --format table.
	os.Setenv("XDG_CONFIG_HOME", "/nonexistent-fsdiff-test-config")
	os.Unsetenv("COLUMNS")
	code := t.m.Run()
	imagetest.Cleanup()
	if binary.path != "" {
		os.RemoveAll(filepath.Dir(binary.path))
	}
	return code
}

// auditImage runs an audit of an image's root that must succeed.
func auditImage(t *testing.T, img *imagetest.Image, args ...string) string {
	t.Helper()
	top := imagetest.Mount(t, img.File)
	out, errs, code := fsdiff(t, append([]string{"--mount", top, "--root", "root"}, args...)...)
	if code != 0 {
		t.Fatalf("fsdiff %q: exit %d\n%s", args, code, errs)
	}
	return out
}

func truthPaths(img *imagetest.Image, source string) []string {
	var paths []string
	for _, e := range img.Truth {
		if _, visible := e.For(source); visible {
			paths = append(paths, string(e.Path))
		}
	}
	slices.Sort(paths)
	return paths
}

// checkTruth compares NDJSON records with the truth: every path byte-exact
// with its kind, type and symlink target, and nothing else.
func checkTruth(t *testing.T, recs []record, img *imagetest.Image, source string) {
	t.Helper()
	got := map[string]record{}
	for _, r := range recs {
		got[r.Path] = r
	}
	for _, e := range img.Truth {
		e, visible := e.For(source)
		if !visible {
			continue
		}
		r, ok := got[string(e.Path)]
		if !ok {
			t.Errorf("missing %s %s %q", e.Kind, e.Type, e.Path)
			continue
		}
		delete(got, string(e.Path))
		if r.Kind != e.Kind || r.Type != e.Type || r.Target != string(e.Target) {
			t.Errorf("%q: got %s %s → %q, want %s %s → %q", e.Path, r.Kind, r.Type, r.Target, e.Kind, e.Type, e.Target)
		}
	}
	for p, r := range got {
		t.Errorf("unexpected %s %s %q", r.Kind, r.Type, p)
	}
}

func TestAuditNDJSON(t *testing.T) {
	img := imagetest.Get(t, "blank")
	recs := parseNDJSON(t, auditImage(t, img, "--format", "ndjson"))
	checkTruth(t, recs, img, "send") // auto: the fixture's baseline is not empty
	want := map[string]string{
		"/etc/hosts":           "managed",   // symlink into the store
		"/etc/sudoers":         "managed",   // listed in /etc/.clean
		"/var/lib/app/fifo":    "ephemeral", // fifo
		"/var/lib/app/sock":    "ephemeral", // socket
		"/var/lib/app/current": "persist",   // a service's state directory (FHS, StateDirectory=)
		"/etc/machine-id":      "persist",   // a built-in rule
		"/odd/-leading-dash":   "unknown",   // no rule matches
	}
	for _, r := range recs {
		if cat, ok := want[r.Path]; ok && r.Category != cat {
			t.Errorf("%s: category %s, want %s", r.Path, r.Category, cat)
		}
	}
}

// TestAuditNoBaseline audits a root with no blank snapshot: everything
// since its creation, and a note that says so and how to give a baseline.
func TestAuditNoBaseline(t *testing.T) {
	img := imagetest.Get(t, "fresh")
	top := imagetest.Mount(t, img.File)
	out, errs, code := fsdiff(t, "--mount", top, "--root", "root", "--format", "ndjson")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	checkTruth(t, parseNDJSON(t, out), img, "btrfs")
	if !strings.Contains(errs, "fsdiff: note: no blank snapshot found") || !strings.Contains(errs, "fsdiff: hint: if you keep a blank snapshot, pass --baseline SUBVOL") {
		t.Errorf("stderr:\n%s", errs)
	}
}

func TestAuditPathsNull(t *testing.T) {
	img := imagetest.Get(t, "blank")
	out := auditImage(t, img, "--format", "paths", "-0")
	if !strings.HasSuffix(out, "\x00") {
		t.Fatalf("output does not end with NUL: %q", out[max(0, len(out)-20):])
	}
	got := strings.Split(strings.TrimSuffix(out, "\x00"), "\x00")
	slices.Sort(got)
	if want := truthPaths(img, "send"); !slices.Equal(got, want) {
		t.Errorf("paths -0:\n got %q\nwant %q", got, want)
	}
}

func TestAuditEscapedFormats(t *testing.T) {
	img := imagetest.Get(t, "blank")
	for _, tc := range []struct {
		format string
		path   func(line string) string
	}{
		{"paths", func(line string) string { return line }},
		{"tsv", func(line string) string {
			f := strings.Split(line, "\t")
			if len(f) != 5 {
				t.Fatalf("tsv line %q has %d fields, want 5", line, len(f))
			}
			return f[4]
		}},
	} {
		t.Run(tc.format, func(t *testing.T) {
			out := auditImage(t, img, "--format", tc.format)
			var got []string
			for line := range strings.SplitSeq(strings.TrimSuffix(out, "\n"), "\n") {
				p, err := names.Unescape(tc.path(line))
				if err != nil {
					t.Fatalf("line %q: %v", line, err)
				}
				got = append(got, p)
			}
			slices.Sort(got)
			if want := truthPaths(img, "send"); !slices.Equal(got, want) {
				t.Errorf("%s:\n got %q\nwant %q", tc.format, got, want)
			}
		})
	}
}

func TestAuditJSON(t *testing.T) {
	img := imagetest.Get(t, "blank")
	out := auditImage(t, img, "--format", "json")
	validate(t, "audit.schema.json", out, false)
	validate(t, "audit.schema.json#/$defs/record", auditImage(t, img, "--format", "ndjson", "--source", "send"), true)
	var doc struct {
		Schema string `json:"schema"`
		Source struct {
			Root      string   `json:"root"`
			Baseline  string   `json:"baseline"`
			Decisions []string `json:"decisions"`
		} `json:"source"`
		Changes []json.RawMessage `json:"changes"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("invalid JSON: %v\n%s", err, out)
	}
	if doc.Schema != report.AuditSchema || doc.Source.Root != "/root" || doc.Source.Baseline != "/root-blank" || len(doc.Source.Decisions) < 3 {
		t.Errorf("header: %+v", doc)
	}
	var lines []string
	for _, c := range doc.Changes {
		lines = append(lines, string(c))
	}
	checkTruth(t, parseNDJSON(t, strings.Join(lines, "\n")), img, "send")
}

// tableRows splits a table into rows of cells: columns are two or more
// spaces apart.
func tableRows(out string) [][]string {
	var rows [][]string
	for line := range strings.SplitSeq(strings.TrimSuffix(out, "\n"), "\n") {
		rows = append(rows, regexp.MustCompile(`\s{2,}`).Split(line, -1))
	}
	return rows
}

func TestAuditTable(t *testing.T) {
	img := imagetest.Get(t, "blank")
	out := auditImage(t, img, "--format", "table")
	rows := tableRows(out)
	deep := "/deep"
	for i := 1; i < 60; i++ {
		deep += fmt.Sprintf("/d%02d", i)
	}
	if !slices.Equal(rows[0], []string{"CATEGORY", "PATH", "FILES", "SIZE", "REASON"}) {
		t.Errorf("header %q", rows[0])
	}
	for _, want := range [][]string{
		{"persist (critical)", "/etc/machine-id", "1", "33 B", "systemd generates a random ID"},
		{"persist (optional)", "/var/lib/colord", "1", "7 B", "colour profile DB"}, // anchored by a rule: the directory is left out
		{"unknown", "/odd", "14", "428 B", "no rule matches"},                      // a created directory is one row with its entries
		{"unknown", deep + "/leaf", "1", "5 B", "no rule matches"},                 // one file in a new tree: the file
		{"persist (recommended)", "/var/lib/app", "6", "20 B", "a service's state directory"},
		{"ephemeral", "/var/lib/app/fifo", "1", "0 B", "fifo"}, // a detector's verdict names its entry
		{"ephemeral", "/var/lib/app/sock", "1", "0 B", "socket"},
		{"managed", "/etc/hosts", "1", "0 B", "symlink into /nix/store"},
		{"managed", "/etc/sudoers", "1", "31 B", "listed in /etc/.clean"},
	} {
		found := slices.ContainsFunc(rows, func(r []string) bool {
			return len(r) == 5 && slices.Equal(r[:4], want[:4]) && strings.HasPrefix(r[4], want[4])
		})
		if !found {
			t.Errorf("table lacks row %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "/odd/") {
		t.Errorf("default table lists paths inside a created directory:\n%s", out)
	}
	all := auditImage(t, img, "--format", "table", "--all")
	for _, name := range imagetest.OddNames {
		if !strings.Contains(all, "/odd/"+names.Escape(name)+" ") {
			t.Errorf("--all table lacks %q", names.Escape(name))
		}
	}
}

func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--format", "xml"}, `unknown --format "xml"`},
		{[]string{"--format", "tsv", "-0"}, "-0 goes with --format paths"},
		{[]string{"--bogus"}, "unknown flag: --bogus"},
		{[]string{"extra"}, `unknown command "extra"`},
	} {
		_, errs, code := fsdiff(t, tc.args...)
		if code != exitError || !strings.Contains(errs, "fsdiff: error: "+tc.want) || !strings.Contains(errs, "Usage:") {
			t.Errorf("fsdiff %q: exit %d, stderr:\n%s", tc.args, code, errs)
		}
	}
}

func TestHints(t *testing.T) {
	for _, tc := range []struct {
		args        []string
		error, hint string
	}{
		{[]string{"--mount", "/nonexistent"}, `open /nonexistent: no such file or directory`, "check the path"},
		{[]string{"--mount", "/proc"}, "/proc is proc, not btrfs", "--mount, --root and --baseline must be on a btrfs filesystem"},
	} {
		_, errs, code := fsdiff(t, tc.args...)
		if code != exitError || !strings.Contains(errs, "fsdiff: error: "+tc.error+"\n") || !strings.Contains(errs, "fsdiff: hint: "+tc.hint) {
			t.Errorf("fsdiff %q: exit %d, stderr:\n%s", tc.args, code, errs)
		}
		if strings.Contains(errs, "Usage:") {
			t.Errorf("fsdiff %q printed usage for a runtime error", tc.args)
		}
	}
}

func TestNotTopLevel(t *testing.T) {
	img := imagetest.Get(t, "blank")
	dir := imagetest.Mount(t, img.File, "subvol=root")
	_, errs, code := fsdiff(t, "--mount", dir)
	if code != exitError || !strings.Contains(errs, "is subvolume 258, not the top level of a btrfs filesystem") || !strings.Contains(errs, "fsdiff: hint: mount the top level with mount -o subvolid=5") {
		t.Errorf("exit %d, stderr:\n%s", code, errs)
	}
}

// TestNotRoot runs fsdiff as an unprivileged user: it must fail with a
// hint to run it as root.
func TestNotRoot(t *testing.T) {
	img := imagetest.Get(t, "blank")
	top := imagetest.Mount(t, img.File)
	if err := os.Chmod(filepath.Dir(top), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", staticBinary(t), "--mount", top, "--root", "root")
	var errb bytes.Buffer
	cmd.Stderr = &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitError {
		t.Fatalf("run as nobody: %v\n%s", err, errb.String())
	}
	if !strings.Contains(errb.String(), "fsdiff: error: ") || !strings.Contains(errb.String(), "fsdiff: hint: reading btrfs trees needs root (CAP_SYS_ADMIN): run sudo fsdiff") {
		t.Errorf("stderr:\n%s", errb.String())
	}
}

var binary struct {
	sync.Once
	path string
	err  error
}

// staticBinary builds fsdiff without cgo, so that it runs in a chroot that
// holds nothing else.
func staticBinary(t *testing.T) string {
	t.Helper()
	binary.Do(func() {
		dir, err := os.MkdirTemp("", "fsdiff-bin-")
		if err != nil {
			binary.err = err
			return
		}
		// Readable by all: TestNotRoot runs it as nobody.
		if binary.err = os.Chmod(dir, 0o755); binary.err != nil {
			return
		}
		binary.path = filepath.Join(dir, "fsdiff")
		cmd := exec.Command("go", "build", "-o", binary.path, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			binary.err = err
			t.Logf("%s", out)
		}
	})
	if binary.err != nil {
		t.Fatal(binary.err)
	}
	return binary.path
}

// inChroot runs fsdiff as / sees it: setup (shell, with $R the new root)
// prepares $R in a private mount namespace, then fsdiff runs chrooted there
// from /nix, where its directory is bind-mounted.
func inChroot(t *testing.T, setup string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	bin := staticBinary(t)
	script := `set -e
` + setup + `
mkdir -p "$R/proc" "$R/dev" "$R/nix" 2>/dev/null || true
mount -t proc proc "$R/proc"
mount --bind /dev "$R/dev"
mount --bind "$BINDIR" "$R/nix"
exec chroot "$R" /nix/fsdiff "$@"`
	cmd := exec.Command("unshare", append([]string{"--mount", "--propagation", "private", "sh", "-c", script, "sh"}, args...)...)
	cmd.Env = append(os.Environ(), "R="+t.TempDir(), "BINDIR="+filepath.Dir(bin))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// TestAutoDetect runs plain fsdiff on a system whose / is the image's root
// subvolume: it must find the root, mount the top level privately, find
// the blank snapshot by the root's parent UUID, and report the truth.
func TestAutoDetect(t *testing.T) {
	img := imagetest.Get(t, "blank")
	out, errs, code := inChroot(t, `mount -o loop,subvol=root "`+img.File+`" "$R"`, "--format", "ndjson", "-v")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	for _, want := range []string{
		`fsdiff: root: subvolume "/root" (ID 258), mounted at /`,
		"mounted read-only, detached and private",
		`fsdiff: baseline: subvolume "/root-blank" (ID 257), the root is a snapshot of it`,
		"fsdiff: cutoff: generation ",
		"the root's creation as a snapshot of the baseline",
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("-v output lacks %q:\n%s", want, errs)
		}
	}
	checkTruth(t, parseNDJSON(t, out), img, "send")
}

// TestAutoDetectNotBtrfs runs plain fsdiff where / is neither btrfs nor
// tmpfs: it says so and how to walk it instead.
func TestAutoDetectNotBtrfs(t *testing.T) {
	imagetest.Require(t)
	out, errs, code := inChroot(t, `mount -t ramfs ramfs "$R"`)
	if code != exitError || out != "" {
		t.Errorf("exit %d, stdout %q; want exit %d and no output", code, out, exitError)
	}
	for _, want := range []string{"fsdiff: error: / is ramfs, not btrfs\n", "fsdiff: hint: ", "--source walk --root / --baseline DIR", "--mount DIR"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
}

// TestTmpfsRoot runs plain fsdiff where / is tmpfs: it walks / against
// nothing, skipping the kernel's filesystems and what is mounted.
func TestTmpfsRoot(t *testing.T) {
	imagetest.Require(t)
	out, errs, code := inChroot(t, `mount -t tmpfs tmpfs "$R"
mkdir -p "$R/etc/ssh" "$R/var/lib/app" "$R/run/user" "$R/persist/etc"
echo 0123456789abcdef > "$R/etc/machine-id"
printf 'key' > "$R/etc/ssh/ssh_host_ed25519_key"
printf 'x' > "$R/var/lib/app/state"
ln -s /etc/static/hosts "$R/etc/hosts"
printf 'runtime' > "$R/run/user/pid"
mount --bind "$R/persist/etc" "$R/var/lib/app"`, "-v", "--format", "ndjson")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	for _, want := range []string{"fsdiff: root: /, the running system's root (walk)", "fsdiff: baseline: none"} {
		if !strings.Contains(errs, want) {
			t.Errorf("-v lacks %q:\n%s", want, errs)
		}
	}
	if strings.Contains(errs, "not through a private read-only view") {
		t.Errorf("the walk read / directly: the mounts below must still stop it in the view\n%s", errs)
	}
	got := map[string]record{}
	for _, r := range parseNDJSON(t, out) {
		got[r.Path] = r
	}
	for p, cat := range map[string]string{"/etc/machine-id": "persist", "/etc/ssh/ssh_host_ed25519_key": "persist", "/etc/hosts": "managed", "/persist/etc": "unknown"} {
		if r, ok := got[p]; !ok || r.Kind != "created" || r.Category != cat {
			t.Errorf("%s: %+v, want created %s", p, r, cat)
		}
	}
	for p := range got {
		if strings.HasPrefix(p, "/proc") || strings.HasPrefix(p, "/run") || strings.HasPrefix(p, "/nix/") || strings.HasPrefix(p, "/dev/") || strings.HasPrefix(p, "/var/lib/app/") {
			t.Errorf("walked into %s", p)
		}
	}
}

// TestWalkUnreadable: as an unprivileged user, a directory the walk cannot
// read is reported, the rest is listed, and the exit code says the answer
// is incomplete.
func TestWalkUnreadable(t *testing.T) {
	imagetest.Require(t)
	dir := t.TempDir()
	os.Chmod(filepath.Dir(dir), 0o755) // testing's own directory is 0700
	os.Chmod(dir, 0o755)
	root := filepath.Join(dir, "root")
	os.MkdirAll(filepath.Join(root, "secret"), 0o700)
	os.WriteFile(filepath.Join(root, "secret", "x"), []byte("x"), 0o600)
	os.WriteFile(filepath.Join(root, "visible"), []byte("x"), 0o644)
	os.Chmod(root, 0o755)
	cmd := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", staticBinary(t), "--root", root, "--baseline", "none", "-f", "paths")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitError {
		t.Fatalf("run as nobody: %v\n%s", err, errb.String())
	}
	if out.String() != "/secret\n/visible\n" {
		t.Errorf("stdout %q, want the readable entries", out.String())
	}
	for _, want := range []string{"fsdiff: warning: open /secret: permission denied", "fsdiff: error: 1 entries could not be read: the audit is incomplete", "fsdiff: hint: run as root"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errb.String())
		}
	}
}

// TestSendInterrupted: SIGINT or SIGTERM while the send source streams
// removes its temporary snapshot before fsdiff exits with 130.
func TestSendInterrupted(t *testing.T) {
	top := imagetest.Mount(t, imagetest.Empty(t, 1<<30))
	btrfsRun := func(args ...string) {
		if out, err := exec.Command("btrfs", args...).CombinedOutput(); err != nil {
			t.Fatalf("btrfs %v: %v: %s", args, err, out)
		}
	}
	btrfsRun("subvolume", "create", filepath.Join(top, "root"))
	btrfsRun("subvolume", "snapshot", "-r", filepath.Join(top, "root"), filepath.Join(top, "root-blank"))
	// Enough new entries that the stream takes a while.
	for d := range 400 {
		sub := filepath.Join(top, "root", fmt.Sprintf("d%03d", d))
		if err := os.Mkdir(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		for f := range 250 {
			if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("f%03d", f)), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	btrfsRun("filesystem", "sync", top)

	for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM} {
		interruptSend(t, top, sig)
	}
}

func interruptSend(t *testing.T, top string, sig os.Signal) {
	t.Helper()
	cmd := exec.Command(staticBinary(t), "--source", "send", "--mount", top, "--root", "root", "--baseline", "root-blank", "-f", "paths")
	var errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	snapshotSeen := false
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline) && !snapshotSeen; time.Sleep(time.Millisecond) {
		entries, _ := os.ReadDir(top)
		for _, e := range entries {
			snapshotSeen = snapshotSeen || strings.HasPrefix(e.Name(), ".fsdiff-")
		}
	}
	if !snapshotSeen {
		cmd.Process.Kill()
		t.Fatalf("the send source made no .fsdiff- snapshot\n%s", errb.String())
	}
	cmd.Process.Signal(sig)
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitInterrupted {
		t.Fatalf("after %v: %v (want exit %d); the stream may have ended first\n%s", sig, err, exitInterrupted, errb.String())
	}
	entries, _ := os.ReadDir(top)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".fsdiff-") {
			t.Errorf("snapshot %s left after %v", e.Name(), sig)
		}
	}
}

// TestUnreadableDefaultRules: as an unprivileged user whose default rule
// file cannot be read ($HOME still root's, or here a config directory of
// mode 000), the walk and explain run, skipping that file with a note
// under -v; a --rules file that cannot be read stays an error.
func TestUnreadableDefaultRules(t *testing.T) {
	imagetest.Require(t) // setpriv needs root
	dir := t.TempDir()
	os.Chmod(filepath.Dir(dir), 0o755) // testing's own directory is 0700
	os.Chmod(dir, 0o755)
	config := filepath.Join(dir, "config")
	os.MkdirAll(filepath.Join(config, "fsdiff"), 0o755)
	os.WriteFile(filepath.Join(config, "fsdiff", "rules"), []byte("ephemeral /visible - mine\n"), 0o644)
	os.Chmod(config, 0)
	root := filepath.Join(dir, "root")
	os.Mkdir(root, 0o755)
	os.WriteFile(filepath.Join(root, "visible"), []byte("x"), 0o644)
	asNobody := func(args ...string) (string, string, int) {
		cmd := exec.Command("setpriv", append([]string{"--reuid=65534", "--regid=65534", "--clear-groups", staticBinary(t)}, args...)...)
		cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+config)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return out.String(), errb.String(), code
	}
	note := "fsdiff: skipping the rule file " + filepath.Join(config, "fsdiff", "rules") + ": permission denied\n"
	out, errs, code := asNobody("--source", "walk", "--root", root, "--baseline", "none", "-f", "paths", "-v")
	if code != 0 || out != "/visible\n" || !strings.Contains(errs, note) {
		t.Errorf("walk as nobody: exit %d, stdout %q, stderr:\n%s", code, out, errs)
	}
	out, errs, code = asNobody("explain", "/visible")
	if code != 0 || !strings.Contains(out, "/visible (file)") || strings.Contains(errs, note) {
		t.Errorf("explain as nobody, without -v: exit %d, stderr:\n%s", code, errs)
	}
	_, errs, code = asNobody("explain", "--rules", filepath.Join(config, "fsdiff", "rules"), "/visible")
	if code != exitError || !strings.Contains(errs, "fsdiff: error: reading rules: open "+filepath.Join(config, "fsdiff", "rules")+": permission denied") {
		t.Errorf("an unreadable --rules: exit %d, stderr:\n%s", code, errs)
	}
}
