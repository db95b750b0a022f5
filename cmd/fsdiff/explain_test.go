//go:build linux

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fsdiff-nix/fsdiff/internal/imagetest"
)

// TestExplainAuditedRoot: with the audit's flags, explain judges a path as
// the audit of that root does, not as this host has it: the socket of the
// blank image is an ephemeral socket in both (on the host the path does
// not exist, and a file there would be state of /var/lib/app to persist).
func TestExplainAuditedRoot(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	img := imagetest.Get(t, "blank")
	top := imagetest.Mount(t, img.File)
	const sock = "/var/lib/app/sock"
	var audited record
	for _, r := range parseNDJSON(t, auditImage(t, img, "--format", "ndjson")) {
		if r.Path == sock {
			audited = r
		}
	}
	if audited.Category != "ephemeral" || audited.Type != "socket" {
		t.Fatalf("the audit says %+v", audited)
	}
	for _, source := range []string{"btrfs", "send", "walk"} {
		args := []string{"explain", "--mount", top, "--root", "root", "--baseline", "root-blank", "--source", source, sock, "/etc/hosts"}
		if source == "walk" {
			args = []string{"explain", "--source", "walk", "--root", filepath.Join(top, "root"), "--baseline", filepath.Join(top, "root-blank"), sock, "/etc/hosts"}
		}
		out, errs, code := fsdiff(t, args...)
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s", source, code, errs)
		}
		for _, want := range []string{
			sock + " (socket)\n  ephemeral, anchor " + sock + "\n", "decided by the socket detector",
			"/etc/hosts (symlink)\n  managed, anchor /etc/hosts\n", // a store symlink in the image
		} {
			if !strings.Contains(out, want) {
				t.Errorf("%s: explain lacks %q:\n%s", source, want, out)
			}
		}
	}
	out, _, _ := fsdiff(t, "explain", sock)
	if !strings.Contains(out, sock+" (file)\n  persist (recommended), anchor /var/lib/app\n") {
		t.Errorf("without the audit's flags, explain judges the host, where %s is no socket:\n%s", sock, out)
	}
}

// TestExplainSendStream: with a saved send stream, a path is what the
// stream's changes say it is.
func TestExplainSendStream(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	out, errs, code := fsdiff(t, "explain", "--send-stream", "../../internal/snapshot/testdata/send/blank-v1.stream", "/var/lib/app/sock", "/var/lib/app/fifo", "/var/lib/app/state.db")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	for _, want := range []string{"/var/lib/app/sock (socket)\n  ephemeral", "/var/lib/app/fifo (fifo)\n  ephemeral", "/var/lib/app/state.db (file)\n  persist (recommended), anchor /var/lib/app\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("explain lacks %q:\n%s", want, out)
		}
	}
}

// TestExplainStaysInRoot: a symlink in the audited root never leads
// explain out of it onto the host: /escape → / makes /escape/dev/null
// this host's character device if followed, and nothing inside the root.
func TestExplainStaysInRoot(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	root := t.TempDir()
	if err := os.Symlink("/", filepath.Join(root, "escape")); err != nil {
		t.Fatal(err)
	}
	out, errs, code := fsdiff(t, "explain", "--source", "walk", "--root", root, "--baseline", "none", "/escape/dev/null", "/escape")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	if !strings.Contains(out, "/escape/dev/null (file)\n") || !strings.Contains(out, "/escape (symlink)\n") {
		t.Errorf("explain left the root:\n%s", out)
	}
}
