//go:build unix

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestWalkDirectories audits a root directory against a baseline
// directory, the way a ZFS snapshot (/.zfs/snapshot/blank) is used: no
// root, no btrfs.
func TestWalkDirectories(t *testing.T) {
	dir := t.TempDir()
	base, root := filepath.Join(dir, "base"), filepath.Join(dir, "root")
	old := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, d := range []string{base, root} {
		for name, content := range map[string]string{"same": "x", "chmod": "x", "append": "x", "gone": "x", "sneaky": "aaaa", "etc/machine-id": "id"} {
			p := filepath.Join(d, name)
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			os.Chtimes(p, old, old)
		}
		os.Chtimes(filepath.Join(d, "etc"), old, old)
	}
	os.Chmod(filepath.Join(root, "chmod"), 0o600)
	os.WriteFile(filepath.Join(root, "append"), []byte("xy"), 0o644)
	os.Remove(filepath.Join(root, "gone"))
	os.WriteFile(filepath.Join(root, "sneaky"), []byte("bbbb"), 0o644) // same size and mtime: only --content sees it
	os.Chtimes(filepath.Join(root, "sneaky"), old, old)
	os.MkdirAll(filepath.Join(root, "var/lib/new"), 0o755)
	os.WriteFile(filepath.Join(root, "var/lib/new/db"), []byte("state"), 0o644)
	os.Chtimes(root, old, old)
	os.Chtimes(base, old, old)

	for _, tc := range []struct {
		args []string
		want map[string]string
	}{
		{[]string{"--root", root, "--baseline", base}, map[string]string{
			"/chmod": "metadata", "/append": "modified", "/gone": "deleted", "/var": "created",
			"/var/lib": "created", "/var/lib/new": "created", "/var/lib/new/db": "created",
		}},
		{[]string{"--source", "walk", "--root", root, "--baseline", base, "--content"}, map[string]string{
			"/chmod": "metadata", "/append": "modified", "/gone": "deleted", "/sneaky": "modified", "/var": "created",
			"/var/lib": "created", "/var/lib/new": "created", "/var/lib/new/db": "created",
		}},
	} {
		out, errs, code := fsdiff(t, append(tc.args, "--format", "ndjson")...)
		if code != 0 {
			t.Fatalf("fsdiff %q: exit %d\n%s", tc.args, code, errs)
		}
		got := map[string]string{}
		for _, r := range parseNDJSON(t, out) {
			got[r.Path] = r.Kind
		}
		if len(got) != len(tc.want) {
			t.Errorf("fsdiff %q: %v, want %v", tc.args, got, tc.want)
		}
		for p, kind := range tc.want {
			if got[p] != kind {
				t.Errorf("fsdiff %q: %s is %q, want %q", tc.args, p, got[p], kind)
			}
		}
	}
	// Without a baseline, the walk wants to be told.
	_, errs, code := fsdiff(t, "--root", root)
	if code != exitError || !strings.Contains(errs, "fsdiff: hint: pass --baseline DIR (a snapshot of the root when it was blank) or --baseline none") {
		t.Errorf("no baseline: exit %d\n%s", code, errs)
	}
}
