package main

import (
	"os"
	"strings"
	"testing"
)

// TestSendStreamFile audits a saved send stream: no root, no btrfs, no
// privileges; from a file or from standard input.
func TestSendStreamFile(t *testing.T) {
	const stream = "../../internal/snapshot/testdata/send/blank-v2.stream"
	f, err := os.Open(stream)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	stdin := os.Stdin
	os.Stdin = f
	defer func() { os.Stdin = stdin }()
	for _, arg := range []string{stream, "-"} {
		out, errs, code := fsdiff(t, "--send-stream", arg, "--format", "ndjson", "-v")
		if code != 0 {
			t.Fatalf("--send-stream %s: exit %d\n%s", arg, code, errs)
		}
		got := map[string]record{}
		for _, r := range parseNDJSON(t, out) {
			got[r.Path] = r
		}
		for p, kind := range map[string]string{"/base/delete-me.txt": "deleted", "/etc/moved.txt": "renamed", "/etc/machine-id": "created", "/odd/new\nline": "created"} {
			if got[p].Kind != kind {
				t.Errorf("--send-stream %s: %q is %q, want %s", arg, p, got[p].Kind, kind)
			}
		}
		if got["/etc/machine-id"].Category != "persist" || !strings.Contains(errs, "fsdiff: source: the send stream in "+arg) {
			t.Errorf("--send-stream %s: classification or -v missing\n%s", arg, errs)
		}
	}
}

// TestSendStreamTypes: from a saved stream, a baseline directory whose only
// change is a deleted entry is a directory, and suggest does not put it
// under files; a deleted fifo, of a type the stream does not say, is
// unknown rather than persist (stream_type_guess.sh).
func TestSendStreamTypes(t *testing.T) {
	const stream = "../../internal/snapshot/testdata/send/types.stream"
	rules := writeFile(t, "rules", "persist /srv/* recommended app state\n")
	out, errs, code := fsdiff(t, "--send-stream", stream, "--rules", rules, "--format", "ndjson")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	got := map[string]record{}
	for _, r := range parseNDJSON(t, out) {
		got[r.Path] = r
	}
	if r := got["/srv/app"]; r.Type != "dir" || r.Kind != "modified" {
		t.Errorf("/srv/app: %+v, want a modified dir", r)
	}
	if r := got["/srv/fifo"]; r.Type != "" || r.Kind != "deleted" || r.Category != "unknown" {
		t.Errorf("/srv/fifo: %+v, want deleted, of no type, unknown", r)
	}
	out, errs, code = fsdiff(t, "suggest", "--send-stream", stream, "--rules", rules)
	if code != 0 || strings.Contains(out, "files") || strings.Contains(out, `"/srv/app"`) {
		t.Errorf("suggest: exit %d\n%s%s", code, out, errs)
	}
}
