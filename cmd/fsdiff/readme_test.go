package main

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadmeBuildIsStatic runs the build command of the README's first
// screen and checks that it gives a static binary (SPEC §9): no ELF
// interpreter, so it runs on any Linux, NixOS's initrd and rescue shells
// included.
func TestReadmeBuildIsStatic(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var build string
	for line := range strings.SplitSeq(string(readme), "\n") {
		if cmd, _, ok := strings.Cut(line, " && sudo ./fsdiff"); ok && strings.Contains(cmd, "go build") {
			build = cmd
			break
		}
	}
	if build == "" {
		t.Fatal("README has no line `... go build ... && sudo ./fsdiff ...`")
	}
	dir := t.TempDir()
	// The README writes ./fsdiff; build into the temporary directory instead.
	cmd := exec.Command("sh", "-c", strings.Replace(build, "-o fsdiff", "-o "+filepath.Join(dir, "fsdiff"), 1))
	cmd.Dir = "../.."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", build, err, out)
	}
	f, err := elf.Open(filepath.Join(dir, "fsdiff"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatalf("%q gives a dynamically linked binary (it has an ELF interpreter); SPEC §9 wants a static one: CGO_ENABLED=0", build)
		}
	}
}
