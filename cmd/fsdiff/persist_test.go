//go:build linux

package main

import (
	"cmp"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fsdiff-nix/fsdiff/internal/imagetest"
	"github.com/fsdiff-nix/fsdiff/internal/nixtest"
	"github.com/fsdiff-nix/fsdiff/internal/persist"
)

func persistArgs(top, storage string, args ...string) []string {
	return append([]string{"persist", "--mount", top, "--root", "root", "--baseline", "root-blank", "--storage", storage}, args...)
}

// TestPersistPlanIsDefault: without --apply, fsdiff persist prints the plan
// of every undeclared persist anchor and changes nothing in the storage.
func TestPersistPlanIsDefault(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	top := imagetest.PersistLayout(t)
	storage := filepath.Join(top, "persist")
	before := imagetest.Tree(t, storage)
	out, errs, code := fsdiff(t, persistArgs(top, storage)...)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	for _, a := range imagetest.PersistAnchors {
		if !strings.Contains(out, a+" -> "+storage+a+"  ") || !strings.Contains(out, "reflink, new") {
			t.Errorf("the plan does not show %s, reflinked, new:\n%s", a, out)
		}
	}
	if !strings.Contains(out, "sock\": a socket, skipped") {
		t.Errorf("the plan does not say the socket is skipped:\n%s", out)
	}
	if after := imagetest.Tree(t, storage); !slices.Equal(before, after) {
		t.Errorf("the plan changed the storage:\nbefore %q\nafter  %q", before, after)
	}
}

// TestPersistApplySnippet: --apply copies, then prints the Nix of what it
// moved, which the real impermanence module reads back as exactly those
// anchors; with paths, only those.
func TestPersistApplySnippet(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	nixtest.Instantiate(t)
	top := imagetest.PersistLayout(t)
	storage := filepath.Join(top, "persist")
	for _, tc := range []struct {
		paths []string
		want  []string // location user kind path
	}{
		{[]string{"/var/lib/foo"}, []string{storage + " - directory /var/lib/foo"}},
		{nil, []string{storage + " - file /etc/machine-id", storage + " alice directory .ssh"}}, // foo is present now
	} {
		out, errs, code := fsdiff(t, persistArgs(top, storage, append([]string{"--apply"}, tc.paths...)...)...)
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, errs)
		}
		var got []string
		for _, e := range nixtest.Modules(t, "impermanence", []byte(out)) {
			got = append(got, strings.Join([]string{e.Location, cmp.Or(e.User, "-"), e.Kind, e.Path}, " "))
		}
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("persist --apply %q: the module reads back %q, want %q\n%s", tc.paths, got, tc.want, out)
		}
	}
	for _, a := range imagetest.PersistAnchors {
		if _, err := os.Lstat(filepath.Join(storage, a)); err != nil {
			t.Errorf("%s was not copied: %v", a, err)
		}
	}
}

// TestPersistConflictExitsOne: a destination that differs is reported,
// left as it is, and the command exits 1.
func TestPersistConflictExitsOne(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	top := imagetest.PersistLayout(t)
	storage := filepath.Join(top, "persist")
	if err := os.MkdirAll(filepath.Join(storage, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(storage, "etc/machine-id"), []byte("other\n"), 0o444); err != nil {
		t.Fatal(err)
	}
	before := imagetest.Tree(t, filepath.Join(storage, "etc"))
	out, errs, code := fsdiff(t, persistArgs(top, storage, "--apply")...)
	if code != exitUndeclared {
		t.Fatalf("exit %d, want 1\n%s", code, errs)
	}
	if !strings.Contains(out, "/etc/machine-id -> "+storage+"/etc/machine-id") || !strings.Contains(errs, "1 destinations conflict and were left as they are: /etc/machine-id") {
		t.Errorf("the conflict is not reported:\n%s\n%s", out, errs)
	}
	if after := imagetest.Tree(t, filepath.Join(storage, "etc")); !slices.Equal(before, after) {
		t.Errorf("the conflicting destination changed:\nbefore %q\nafter  %q", before, after)
	}
}

// TestPersistErrors: a path that is not an anchor, and a storage inside
// the root, fail with a hint.
func TestPersistErrors(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	top := imagetest.PersistLayout(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{persistArgs(top, filepath.Join(top, "persist"), "/etc/passwd"), "fsdiff: hint: fsdiff persist takes the anchors fsdiff suggest declares"},
		{persistArgs(top, filepath.Join(top, "root/persist")), "fsdiff: hint: the next boot erases the root"},
		{persistArgs(top, filepath.Join(top, "persist"), "--force"), "--force goes with --apply"},
	} {
		if err := os.MkdirAll(filepath.Join(top, "root/persist"), 0o755); err != nil {
			t.Fatal(err)
		}
		_, errs, code := fsdiff(t, tc.args...)
		if code != exitError || !strings.Contains(errs, tc.want) {
			t.Errorf("%q: exit %d, stderr %q, want 2 and %q", tc.args, code, errs, tc.want)
		}
	}
}

// TestCheckStale: check --stale lists the declared entries whose copies in
// storage are missing or empty, and exits 1; once persist copied them,
// none.
func TestCheckStale(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	top := imagetest.PersistLayout(t)
	storage := filepath.Join(top, "persist")
	if err := os.MkdirAll(filepath.Join(storage, "home/alice/.ssh"), 0o700); err != nil {
		t.Fatal(err)
	}
	declared := writeFile(t, "declared.json", `{"`+storage+`": {"directories": ["/var/lib/foo"], "files": ["/etc/machine-id"],
		"users": {"alice": {"directories": [".ssh"]}}}}`)
	args := []string{"check", "--stale", "--declared", declared, "--mount", top, "--root", "root", "--baseline", "root-blank"}
	out, errs, code := fsdiff(t, args...)
	want := "missing\t" + storage + "/var/lib/foo\tdeclared in \"" + storage + "\" directories\n" +
		"missing\t" + storage + "/etc/machine-id\tdeclared in \"" + storage + "\" files\n" +
		"empty\t" + storage + "/home/alice/.ssh\tdeclared in \"" + storage + "\" users.alice.directories\n"
	if code != exitUndeclared || out != want {
		t.Errorf("exit %d, want 1; stdout:\n%s\nwant:\n%s\nstderr:\n%s", code, out, want, errs)
	}
	if err := os.Remove(filepath.Join(storage, "home/alice/.ssh")); err != nil {
		t.Fatal(err)
	}
	if _, errs, code := fsdiff(t, persistArgs(top, storage, "--apply")...); code != 0 {
		t.Fatalf("persist --apply: exit %d\n%s", code, errs)
	}
	if out, errs, code := fsdiff(t, args...); code != 0 || !strings.HasPrefix(out, "no stale declarations") {
		t.Errorf("after persist: exit %d\n%s\n%s", code, out, errs)
	}
	if _, errs, code := fsdiff(t, "check", "--stale"); code != exitError || !strings.Contains(errs, "--stale needs --declared FILE") {
		t.Errorf("--stale without --declared: exit %d\n%s", code, errs)
	}
}

// TestPersistProgress: the progress line is rewritten every 100 entries
// and at the end, not at every entry.
func TestPersistProgress(t *testing.T) {
	var b strings.Builder
	show := showProgress(&b)
	it := &persist.Item{Source: "/var/lib/foo", Entries: 250}
	for done := 1; done <= it.Entries; done++ {
		show(it, done)
	}
	want := "\r\033[Kfsdiff: copying /var/lib/foo: 100/250 entries\r\033[Kfsdiff: copying /var/lib/foo: 200/250 entries\r\033[Kfsdiff: copying /var/lib/foo: 250/250 entries"
	if b.String() != want {
		t.Errorf("progress %q, want %q", b.String(), want)
	}
}
