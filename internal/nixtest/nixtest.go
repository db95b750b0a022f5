package nixtest

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/fsdiff-nix/fsdiff/internal/names"
	"github.com/fsdiff-nix/fsdiff/internal/testenv"
)

//go:embed eval.nix
var evalNix []byte

//go:embed nixos.nix
var nixosNix []byte

//go:embed home-manager.nix
var homeManagerNix []byte

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
	return tool(t, "nix-instantiate")
}

// tool returns the path of a program of nix-bin, or skips the test (fails
// it when CI is set).
func tool(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		testenv.SkipOrFail(t, "needs "+name+" (apt-get install nix-bin)")
	}
	return path
}

// HashPath returns the hash of dir as a fixed-output derivation with
// outputHashMode = "recursive" has it: the SRI SHA-256 of its NAR
// serialisation (nix hash path).
func HashPath(t testing.TB, dir string) string {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.Command(tool(t, "nix"), "--extra-experimental-features", "nix-command", "hash", "path", "--type", "sha256", "--sri", dir)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("nix hash path %q: %v\n%s", dir, err, stderr.String())
	}
	return strings.TrimSpace(string(out))
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

// Modules evaluates snippet, a NixOS module in style ("impermanence",
// "preservation" or "home-manager"), with the real module, and returns the
// entries it reads back, in order: locations and users sorted by name as
// Nix sorts attributes, entries in list order, directories before files;
// Home Manager's users after the NixOS ones.
func Modules(t testing.TB, style string, snippet []byte) []Entry {
	t.Helper()
	src := modules(t)
	dir := t.TempDir()
	for name, data := range map[string][]byte{"snippet.nix": snippet, "eval.nix": evalNix, "home-manager.nix": homeManagerNix} {
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

// Host is what fsdiff's NixOS module (nix/module.nix) defines in a host.
type Host struct {
	Etc      map[string]string `json:"etc"` // fsdiff's files: name under /etc to text
	Service  *Unit             `json:"service"`
	Timer    *Unit             `json:"timer"`
	Tmpfiles []string          `json:"tmpfiles"`
	Defined  []string          `json:"defined"` // names defined under systemd and environment
}

// Unit is a systemd.services or systemd.timers entry.
type Unit struct {
	WantedBy      []string       `json:"wantedBy"`
	After         []string       `json:"after"`
	ServiceConfig map[string]any `json:"serviceConfig"`
	TimerConfig   map[string]any `json:"timerConfig"`
}

// NixOS evaluates the repository's nix/module.nix in host, a NixOS module
// (a file's content), without NixOS: stub options for what NixOS
// provides, and the real impermanence and preservation modules when uses
// names them ("impermanence", "preservation"; "home-manager" adds a stub
// of Home Manager's NixOS module, into which impermanence imports its own).
func NixOS(t testing.TB, host []byte, uses ...string) Host {
	t.Helper()
	src := modules(t)
	_, self, _, _ := runtime.Caller(0)
	module := filepath.Join(filepath.Dir(self), "..", "..", "nix", "module.nix")
	dir := t.TempDir()
	for name, data := range map[string][]byte{"host.nix": host, "nixos.nix": nixosNix, "home-manager.nix": homeManagerNix} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	list, err := json.Marshal(append([]string{}, uses...)) // a JSON list of strings is a Nix list, but for its commas
	if err != nil {
		t.Fatal(err)
	}
	out := Run(t, dir, "--eval", "--strict", "--json", "nixos.nix", "--arg", "src", src, "--arg", "module", module,
		"--arg", "host", "./host.nix", "--arg", "real", strings.ReplaceAll(string(list), ",", " "))
	var h Host
	if err := json.Unmarshal(out, &h); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return h
}
