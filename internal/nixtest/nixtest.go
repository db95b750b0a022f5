package nixtest

import (
	"bytes"
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/fsdiff-nix/fsdiff/internal/names"
	"github.com/fsdiff-nix/fsdiff/internal/testenv"
)

//go:embed eval.nix
var evalNix []byte

// Entry is one entry of a persistence location as the module reads it
// back, defaults filled in; a field the module does not have is empty.
type Entry struct {
	Location, User, Kind, Path string // User: "" for system entries; Kind: directory or file
	Owner, Group, Mode         string
	How, InInitrd              string // preservation only: "bindmount" or "symlink"; "true" or "false"
}

// Instantiate returns the path of nix-instantiate, or skips the test.
func Instantiate(t testing.TB) string {
	t.Helper()
	nix, err := exec.LookPath("nix-instantiate")
	if err != nil {
		testenv.SkipOrFail(t, "needs nix-instantiate (apt-get install nix-bin)")
	}
	return nix
}

// modules returns the directory of the offline module copies.
func modules(t testing.TB) string {
	t.Helper()
	_, self, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(self), "..", "..", "..", "shared", "nix")
	if _, err := os.Stat(filepath.Join(dir, "nixpkgs.lib", "lib")); err != nil {
		testenv.SkipOrFail(t, fmt.Sprintf("needs the offline impermanence, preservation and nixpkgs lib next to the repository (../shared/nix): %v", err))
	}
	return dir
}

// Run runs nix-instantiate with args in dir and returns its standard
// output; a failure fails the test with what Nix said.
func Run(t testing.TB, dir string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(Instantiate(t), append([]string{"--store", "dummy://"}, args...)...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("nix-instantiate %q: %v\n%s", args, err, stderr.String())
	}
	return out
}

// Modules evaluates snippet, a NixOS module in style ("impermanence" or
// "preservation"), with the real module, and returns the entries it reads
// back, in order: locations and users sorted by name as Nix sorts
// attributes, entries in list order, directories before files.
func Modules(t testing.TB, style string, snippet []byte) []Entry {
	t.Helper()
	src := modules(t)
	dir := t.TempDir()
	for name, data := range map[string][]byte{"snippet.nix": snippet, "eval.nix": evalNix} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := Run(t, dir, "--eval", "--strict", "--json", "eval.nix", "--arg", "src", src, "--arg", "snippet", "./snippet.nix", "--argstr", "style", style)
	s := Strings(t, out)
	if len(s)%9 != 0 {
		t.Fatalf("the module read back %d strings, not entries of 9: %q", len(s), s)
	}
	var entries []Entry
	for i := 0; i < len(s); i += 9 {
		entries = append(entries, Entry{s[i], s[i+1], s[i+2], s[i+3], s[i+4], s[i+5], s[i+6], s[i+7], s[i+8]})
	}
	return entries
}

// Strings returns the string literals of a flat JSON list, byte-exact:
// nix-instantiate writes bytes that are not UTF-8 as they are.
func Strings(t testing.TB, out []byte) []string {
	t.Helper()
	var strs []string
	for i := 0; i < len(out); i++ {
		if out[i] != '"' {
			continue
		}
		j := i + 1
		for ; j < len(out) && out[j] != '"'; j++ {
			if out[j] == '\\' {
				j++
			}
		}
		s, err := names.DecodeJSON(string(out[i : j+1]))
		if err != nil {
			t.Fatalf("%s: %v", out[i:j+1], err)
		}
		strs, i = append(strs, s), j
	}
	return strs
}
