package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fsdiff-nix/fsdiff/internal/report"
)

// savedReports writes the audit reports of the committed send streams
// (the blank image's root, and one of every file type) and of a root
// without changes, and returns their files.
func savedReports(t *testing.T) (blank, types, empty string) {
	t.Helper()
	dir := t.TempDir()
	save := func(name string, args ...string) string {
		out, errs, code := fsdiff(t, append(args, "--format", "json")...)
		if code != exitOK {
			t.Fatalf("fsdiff %q: exit %d\n%s", args, code, errs)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	streams := "../../internal/snapshot/testdata/send/"
	root := t.TempDir()
	return save("blank.json", "--send-stream", streams+"blank-v2.stream"), save("types.json", "--send-stream", streams+"types.stream"),
		save("empty.json", "--source", "walk", "--root", root, "--baseline", root)
}

// TestDiffSchema: the JSON document of fsdiff diff, by anchor and by
// path, validates against docs/diff.schema.json, and each NDJSON line
// against its definition of a difference.
func TestDiffSchema(t *testing.T) {
	blank, types, empty := savedReports(t)
	for _, args := range [][]string{{blank, types}, {types, blank, "--all"}, {empty, blank}, {blank, blank}} {
		out, errs, code := fsdiff(t, append([]string{"diff", "--format", "json"}, args...)...)
		if code != exitUndeclared && code != exitOK {
			t.Fatalf("diff %q: exit %d\n%s", args, code, errs)
		}
		validate(t, "diff.schema.json", out, false)
		out, _, _ = fsdiff(t, append([]string{"diff", "--format", "ndjson"}, args...)...)
		for line := range strings.Lines(out) {
			validate(t, "diff.schema.json#/$defs/record", line, false)
		}
	}
}

// TestDiffExactNames: every path of a report comes out of fsdiff diff
// byte for byte, however odd: compared with a report of nothing, all of
// the blank image's paths appeared, and -0 lists exactly what the audit's
// -0 lists.
func TestDiffExactNames(t *testing.T) {
	blank, _, empty := savedReports(t)
	out, errs, code := fsdiff(t, "diff", "--all", "-0", empty, blank)
	if code != exitUndeclared {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	want, _, _ := fsdiff(t, "--send-stream", "../../internal/snapshot/testdata/send/blank-v2.stream", "-0")
	split := func(s string) []string {
		paths := strings.Split(strings.TrimSuffix(s, "\x00"), "\x00")
		slices.Sort(paths)
		return slices.Compact(paths)
	}
	if got, want := split(out), split(want); !slices.Equal(got, want) {
		t.Errorf("diff -0 lists %q, want %q", got, want)
	}
	if !strings.Contains(out, "/odd/invalid\xff\xfeutf8\x00") || !strings.Contains(out, "/odd/new\nline\x00") {
		t.Errorf("diff -0 lacks the odd names:\n%q", out)
	}
}

// TestDiffHugeReport: a report with a value longer than the limit is an
// error once the limit is read, with a hint; it does not take memory in
// proportion to the file.
func TestDiffHugeReport(t *testing.T) {
	_, _, empty := savedReports(t)
	var b bytes.Buffer
	b.WriteString(`{"schema": "fsdiff-audit/1", "fsdiff_version": "`)
	b.Write(bytes.Repeat([]byte("a"), int(report.SavedLimits.Value)+1<<20))
	b.WriteString(`"}`)
	huge := writeFile(t, "huge.json", b.String())
	_, errs, code := fsdiff(t, "diff", empty, huge)
	if code != exitError || !strings.Contains(errs, `fsdiff: error: reading "`+huge+`": report too large: a value at byte 46 is longer than 16777216 bytes`) ||
		!strings.Contains(errs, "fsdiff: hint: fsdiff diff reads reports of at most 4 GiB and 4000000 changes, 16 MiB for one change") {
		t.Errorf("exit %d\n%s", code, errs)
	}
}
