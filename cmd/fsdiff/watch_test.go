//go:build linux

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fsdiff-nix/fsdiff/internal/imagetest"
)

// TestWatchCommand: state that appears while fsdiff watch runs is printed
// as it comes, classified; when it stops, the summary and the snippet.
func TestWatchCommand(t *testing.T) {
	dir := t.TempDir()
	rules := writeFile(t, "watch.rules", `persist "`+dir+`/var/lib/grafana/**" recommended dashboards and their database -- test`+"\n")
	go func() {
		time.Sleep(500 * time.Millisecond)
		os.MkdirAll(filepath.Join(dir, "var/lib/grafana/plugins"), 0o750)
		os.WriteFile(filepath.Join(dir, "var/lib/grafana/grafana.db"), []byte("db"), 0o640)
		os.WriteFile(filepath.Join(dir, "var/lib/grafana/plugins/p.json"), []byte("{}"), 0o644)
		os.MkdirAll(filepath.Join(dir, "cache"), 0o755)
		for i := range 50 {
			os.WriteFile(filepath.Join(dir, "cache", string(rune('a'+i%26))+strings.Repeat("x", i)), nil, 0o644)
		}
	}()
	out, errs, code := fsdiff(t, "watch", dir, "--for", "2s", "--rules", rules)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	for _, want := range []string{
		"+ persist    " + dir + "/var/lib/grafana/grafana.db\n",
		"+ persist    " + dir + "/var/lib/grafana/plugins/p.json\n",
		"= ephemeral  /tmp  1 paths\n", "= ephemeral  /tmp  10 paths\n", // a cache is counted, not listed
		`environment.persistence."/persist" = {`, `directory = "` + dir + `/var/lib/grafana";`, `mode = "0750";`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !slices.ContainsFunc(tableRows(out), func(r []string) bool {
		return len(r) == 4 && r[0] == "persist" && r[1] == dir+"/var/lib/grafana" && r[2] == "4"
	}) {
		t.Errorf("the summary lacks the grafana anchor:\n%s", out)
	}
	if strings.Contains(out, dir+"/cache/") {
		t.Errorf("cache files listed one by one:\n%s", out)
	}
	out, _, _ = fsdiff(t, "watch", dir, "--for", "500ms", "--format", "ndjson")
	if out != "" {
		t.Errorf("nothing changed, yet:\n%s", out)
	}
}

// TestWatchSnippetWithFifo: a persist directory holding a fifo (an
// ephemeral anchor of its own) is still in the snippet; it was empty.
func TestWatchSnippetWithFifo(t *testing.T) {
	dir := t.TempDir()
	rules := writeFile(t, "watch.rules", `persist "`+dir+`/var/lib/grafana/**" recommended dashboards and their database -- test`+"\n")
	go func() {
		time.Sleep(500 * time.Millisecond)
		os.MkdirAll(filepath.Join(dir, "var/lib/grafana"), 0o750)
		os.WriteFile(filepath.Join(dir, "var/lib/grafana/grafana.db"), []byte("db"), 0o640)
		syscall.Mkfifo(filepath.Join(dir, "var/lib/grafana/fifo"), 0o600)
	}()
	out, errs, code := fsdiff(t, "watch", dir, "--for", "1500ms", "--rules", rules)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	if !strings.Contains(out, `directory = "`+dir+`/var/lib/grafana";`) {
		t.Errorf("the snippet lacks the grafana directory:\n%s", out)
	}
}

// TestWatchInterrupted: SIGINT stops the watch, which prints the summary
// and the snippet, then exits with 130 as its help says.
func TestWatchInterrupted(t *testing.T) {
	imagetest.Require(t) // staticBinary's build, as the other process tests
	dir := t.TempDir()
	rules := writeFile(t, "watch.rules", `persist "`+dir+`/var/lib/app/**" recommended state -- test`+"\n")
	cmd := exec.Command(staticBinary(t), "watch", dir, "--rules", rules)
	cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME=/nonexistent")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	os.MkdirAll(filepath.Join(dir, "var/lib/app"), 0o755)
	os.WriteFile(filepath.Join(dir, "var/lib/app/state"), []byte("x"), 0o644)
	time.Sleep(500 * time.Millisecond)
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitInterrupted {
		t.Errorf("after SIGINT: %v, want exit %d\n%s", err, exitInterrupted, errb.String())
	}
	if !strings.Contains(out.String(), "CATEGORY") || !strings.Contains(out.String(), `"`+dir+`/var/lib/app"`) {
		t.Errorf("no summary or snippet after SIGINT:\n%s", out.String())
	}
}
