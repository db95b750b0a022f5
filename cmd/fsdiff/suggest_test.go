//go:build linux

package main

import (
	"cmp"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fsdiff-nix/fsdiff/internal/imagetest"
	"github.com/fsdiff-nix/fsdiff/internal/nixtest"
	"github.com/fsdiff-nix/fsdiff/internal/suggest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// checkModule evaluates a snippet in style with the real impermanence or
// preservation module and checks that it reads back exactly the entries of
// the model (fsdiff suggest --format json) that are not commented out.
func checkModule(t *testing.T, style, snippet, model string) {
	t.Helper()
	var p suggest.Persistence
	if err := json.Unmarshal([]byte(model), &p); err != nil {
		t.Fatalf("suggest --format json: %v\n%s", err, model)
	}
	key := func(user, kind, path string) string { return user + "\x00" + kind + "\x00" + path }
	var want []string
	add := func(user, kind string, es []suggest.Entry) {
		for _, e := range es {
			path := string(e.Path)
			if user != "" && style == "preservation" { // preservation makes user paths absolute
				path = cmp.Or(map[string]string{"root": "/root"}[user], "/home/"+user) + "/" + path
			}
			if !e.Unknown {
				want = append(want, key(user, kind, path))
			}
		}
	}
	add("", "directory", p.Directories)
	add("", "file", p.Files)
	for _, h := range p.Users {
		add(string(h.Name), "directory", h.Directories)
		add(string(h.Name), "file", h.Files)
	}
	var got []string
	for _, e := range nixtest.Modules(t, style, []byte(snippet)) {
		got = append(got, key(e.User, e.Kind, e.Path))
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("the %s module reads back %q, want %q", style, got, want)
	}
}

// TestSuggestGolden: the snippets for the fixture images, in every style,
// are what a careful administrator would write: host keys and machine-id as
// files, /var/lib/nixos as a directory, owners and modes where the tree has
// them, home paths under users.NAME, no caches, no managed files. go test
// -update rewrites the golden files after a deliberate change.
func TestSuggestGolden(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "1767225600") // 2026-01-01
	for _, scenario := range []string{"guekka", "blank"} {
		img := imagetest.Get(t, scenario)
		top := imagetest.Mount(t, img.File)
		for _, style := range suggest.Styles {
			t.Run(scenario+"/"+string(style), func(t *testing.T) {
				out, errs, code := fsdiff(t, "suggest", "--mount", top, "--root", "root", "--style", string(style))
				if code != 0 {
					t.Fatalf("exit %d\n%s", code, errs)
				}
				golden := filepath.Join("testdata", "suggest-"+scenario+"-"+string(style)+".nix")
				if *update {
					if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatal(err)
				}
				if out != string(want) {
					t.Errorf("suggest differs from %s (go test -update rewrites it):\n%s", golden, out)
				}
				model, errs, code := fsdiff(t, "suggest", "--mount", top, "--root", "root", "--style", string(style), "--format", "json")
				if code != 0 {
					t.Fatalf("--format json: exit %d\n%s", code, errs)
				}
				checkModule(t, string(style), out, model)
				var nix strings.Builder // the snippet without comments
				for line := range strings.Lines(out) {
					if !strings.HasPrefix(strings.TrimSpace(line), "#") {
						nix.WriteString(line)
					}
				}
				for _, never := range []string{".cache", "/etc/passwd", "/etc/.clean", "/etc/sudoers", "resolv.conf", ".lease", "/var/lib/machines"} {
					if strings.Contains(nix.String(), never) {
						t.Errorf("snippet persists %s", never)
					}
				}
			})
		}
	}
}

// TestSuggestDeclared: with declared persistence known, only what is
// missing is suggested, and a comment says how many were left out.
func TestSuggestDeclared(t *testing.T) {
	img := imagetest.Get(t, "guekka")
	top := imagetest.Mount(t, img.File)
	declared := writeFile(t, "persistence.json", `{"/persist": {"directories": ["/var/lib/nixos", "/etc/nixos"], "files": ["/etc/machine-id"]}}`)
	out, errs, code := fsdiff(t, "suggest", "--mount", top, "--root", "root", "--declared", declared)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	if !strings.Contains(out, "# 3 paths the configuration already persists are left out.\n") {
		t.Errorf("no count of declared paths:\n%s", out)
	}
	for _, gone := range []string{`"/var/lib/nixos"`, `"/etc/nixos"`, `"/etc/machine-id"`} {
		if strings.Contains(out, gone) {
			t.Errorf("declared %s suggested again:\n%s", gone, out)
		}
	}
	if !strings.Contains(out, `"/etc/ssh/ssh_host_ed25519_key"`) {
		t.Errorf("missing host key not suggested:\n%s", out)
	}
	// The storage path can be chosen.
	out, _, _ = fsdiff(t, "suggest", "--mount", top, "--root", "root", "--storage", "/nix/persist")
	if !strings.Contains(out, `environment.persistence."/nix/persist" = {`) {
		t.Errorf("--storage ignored:\n%s", out)
	}
}

// TestSuggestOutput: -o writes the file, refuses to overwrite it, and
// replaces it with --force.
func TestSuggestOutput(t *testing.T) {
	img := imagetest.Get(t, "guekka")
	top := imagetest.Mount(t, img.File)
	dir := t.TempDir()
	file := filepath.Join(dir, "persist.nix")
	args := []string{"suggest", "--mount", top, "--root", "root", "-o", file}
	if _, errs, code := fsdiff(t, args...); code != 0 {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	first, err := os.ReadFile(file)
	if err != nil || !strings.Contains(string(first), "environment.persistence") {
		t.Fatalf("-o wrote %q, %v", first, err)
	}
	os.WriteFile(file, []byte("mine"), 0o644)
	_, errs, code := fsdiff(t, args...)
	if code != exitError || !strings.Contains(errs, "exists") || !strings.Contains(errs, "fsdiff: hint: pass --force to replace it") {
		t.Errorf("overwrite without --force: exit %d\n%s", code, errs)
	}
	if got, _ := os.ReadFile(file); string(got) != "mine" {
		t.Errorf("file changed without --force: %q", got)
	}
	if _, errs, code := fsdiff(t, append(args, "--force")...); code != 0 {
		t.Fatalf("--force: exit %d\n%s", code, errs)
	}
	if got, _ := os.ReadFile(file); !strings.Contains(string(got), "environment.persistence") {
		t.Errorf("--force did not replace the file: %q", got)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

// TestSuggestStyles: --style completes to every style, and an unknown one
// is a usage error that names them.
func TestSuggestStyles(t *testing.T) {
	if out, errs, code := fsdiff(t, "__complete", "suggest", "--style", ""); code != 0 || out != "impermanence\npreservation\nhome-manager\n:4\n" {
		t.Errorf("completion: exit %d, %q\n%s", code, out, errs)
	}
	if _, errs, code := fsdiff(t, "suggest", "--style", "nixos"); code != exitError || !strings.Contains(errs, `unknown --style "nixos": want impermanence, preservation or home-manager`) {
		t.Errorf("exit %d\n%s", code, errs)
	}
}
