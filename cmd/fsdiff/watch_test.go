//go:build linux

package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
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
