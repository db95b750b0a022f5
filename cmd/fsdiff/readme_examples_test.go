//go:build linux

package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fsdiff-nix/fsdiff/internal/imagetest"
)

// exampleMarker precedes each example of README.md whose output a test
// checks: a console block of $ lines, each followed by what the command
// prints on stdout and stderr.
const exampleMarker = "<!-- example: real output, checked by TestReadmeExamples -->"

// TestReadmeExamples runs the commands of the README's marked examples
// against fixtures that need no root, and compares what they print with
// the README: the Guekka listing as a tree in ~/guekka (imagetest.WriteGuekka)
// with an empty ~/blank, and testdata/guekka.stream, the same listing
// saved with btrfs send --no-data -p root-blank (a read-only empty
// subvolume) from a read-only snapshot of a root made by WriteGuekka.
// A command may end with | grep WORD, which keeps the lines holding WORD.
// go test ./cmd/fsdiff -run TestReadmeExamples -update rewrites the
// outputs in README.md; review the diff.
func TestReadmeExamples(t *testing.T) {
	path, err := filepath.Abs("../../README.md") // the test changes directory
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	stream, err := filepath.Abs("testdata/guekka.stream")
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	if err := imagetest.WriteGuekka(filepath.Join(home, "guekka")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(home, "blank"), 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(stream)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, "guekka.stream"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", home)
	t.Setenv("SOURCE_DATE_EPOCH", "1767225600") // 2026-01-01, as the golden scripts
	t.Setenv("COLUMNS", "120")                  // tables as a terminal 120 columns wide shows them
	t.Chdir(home)

	var out bytes.Buffer
	rest := string(readme)
	examples := 0
	for {
		before, after, ok := strings.Cut(rest, exampleMarker+"\n```console\n")
		if !ok {
			out.WriteString(rest)
			break
		}
		block, tail, ok := strings.Cut(after, "```\n")
		if !ok {
			t.Fatalf("example %d: no end of its block", examples+1)
		}
		examples++
		out.WriteString(before + exampleMarker + "\n```console\n")
		for line := range strings.Lines(block) {
			if cmd, ok := strings.CutPrefix(line, "$ "); ok {
				out.WriteString(line)
				out.WriteString(runExample(t, strings.TrimSuffix(cmd, "\n"), home))
			}
		}
		out.WriteString("```\n")
		rest = tail
	}
	if examples == 0 {
		t.Fatalf("README.md marks no example with %q", exampleMarker)
	}
	if *update {
		if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got := out.String(); got != string(readme) {
		t.Errorf("README.md's examples are not what fsdiff prints (go test ./cmd/fsdiff -run TestReadmeExamples -update rewrites them; review the diff):\n%s", lineDiff(string(readme), got))
	}
}

// runExample runs one $ line of an example in-process: words split at
// blanks (no quoting), ~/ is home, and a final | grep WORD keeps the lines
// that hold WORD.
func runExample(t *testing.T, line, home string) string {
	t.Helper()
	cmd, grep, piped := strings.Cut(line, " | grep ")
	args := strings.Fields(cmd)
	if len(args) == 0 || args[0] != "fsdiff" {
		t.Fatalf("example %q: not an fsdiff command", line)
	}
	for i, a := range args {
		if rest, ok := strings.CutPrefix(a, "~/"); ok {
			args[i] = filepath.Join(home, rest)
		}
	}
	var text string
	if piped {
		// Only stdout goes through grep; stderr, written before it, is shown
		// first.
		stdout, stderr, _ := fsdiff(t, args[1:]...)
		var b strings.Builder
		for l := range strings.Lines(stdout) {
			if strings.Contains(l, grep) {
				b.WriteString(l)
			}
		}
		text = stderr + b.String()
	} else {
		// stdout and stderr in the order fsdiff writes them, as on a
		// terminal.
		var b bytes.Buffer
		run(context.Background(), args[1:], &b, &b)
		text = b.String()
	}
	if strings.Contains(text, home) {
		t.Errorf("example %q prints the test's temporary directory: it would not be what a reader sees", line)
	}
	return text
}

// lineDiff shows the first lines where want and got differ.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range max(len(w), len(g)) {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("README.md:%d:\n  README: %q\n  fsdiff: %q", i+1, wl, gl)
		}
	}
	return ""
}
