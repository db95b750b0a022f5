package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/fsdiff-nix/fsdiff/internal/testenv"
)

const module = "github.com/fsdiff-nix/fsdiff"

// TestLayers: data flows one way (STYLE.md). The pure packages, classify,
// suggest and report, compile without the kernel code: none of them
// depends on the snapshot package, on golang.org/x/sys/unix (report did
// through tablewriter's colours, until the terminal tables moved to
// package tables) or on dennwc/btrfs. And no internal package imports a
// command.
func TestLayers(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		testenv.SkipOrFail(t, "needs the go command to list the packages' dependencies")
	}
	forbidden := []string{module + "/internal/snapshot", "golang.org/x/sys/unix", "github.com/dennwc/btrfs"}
	for _, pkg := range []string{"internal/classify", "internal/suggest", "internal/report"} {
		imports := importGraph(t, module+"/"+pkg)
		for _, f := range forbidden {
			if chain := importChain(imports, module+"/"+pkg, f); chain != nil {
				t.Errorf("%s depends on %s: %s", pkg, f, strings.Join(chain, " → "))
			}
		}
	}
	imports := importGraph(t, module+"/internal/...")
	for p := range imports {
		if within(p, module+"/cmd") {
			t.Errorf("an internal package depends on the command %s", p)
		}
	}
}

// importGraph returns the imports of pattern's packages and of every
// package they depend on, by import path.
func importGraph(t *testing.T, pattern string) map[string][]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}{{range .Imports}} {{.}}{{end}}", pattern).Output()
	if err != nil {
		if e, ok := err.(*exec.ExitError); ok {
			t.Fatalf("go list -deps %s: %v\n%s", pattern, err, e.Stderr)
		}
		t.Fatalf("go list -deps %s: %v", pattern, err)
	}
	imports := map[string][]string{}
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		imports[f[0]] = f[1:]
	}
	return imports
}

// importChain returns a shortest chain of imports from the package from
// to the package to or one below it, or nil when there is none: the
// failure names the import to remove.
func importChain(imports map[string][]string, from, to string) []string {
	prev := map[string]string{from: ""}
	for queue := []string{from}; len(queue) > 0; queue = queue[1:] {
		p := queue[0]
		if within(p, to) {
			var chain []string
			for ; p != ""; p = prev[p] {
				chain = append(chain, p)
			}
			slices.Reverse(chain)
			return chain
		}
		for _, q := range imports[p] {
			if _, seen := prev[q]; !seen {
				prev[q] = p
				queue = append(queue, q)
			}
		}
	}
	return nil
}

// within says whether the package p is dir or below it.
func within(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, dir+"/")
}
