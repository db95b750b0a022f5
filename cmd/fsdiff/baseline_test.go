package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fsdiff-nix/fsdiff/internal/imagetest"
)

// TestAuditOldRootsAfterTwoReboots: "what did I lose at the last reboot?"
// on the guides' layout, whose rollback snapshots root-blank at each boot:
// every old root prints its truth, and check fails on its state.
func TestAuditOldRootsAfterTwoReboots(t *testing.T) {
	img := imagetest.Get(t, "reboots")
	top := imagetest.Mount(t, img.File)
	for _, root := range imagetest.RebootOldRoots {
		for _, source := range []string{"btrfs", "send"} {
			out, errs, code := fsdiff(t, "--mount", top, "--root", root, "--source", source, "--format", "ndjson")
			if code != exitOK {
				t.Fatalf("%s, %s: exit %d\n%s", root, source, code, errs)
			}
			checkTruth(t, parseNDJSON(t, out), &imagetest.Image{Truth: img.Roots[root]}, source)
		}
		if out, errs, code := fsdiff(t, "check", "--mount", top, "--root", root); code != exitUndeclared || !strings.Contains(out, "/var/lib/boot") {
			t.Errorf("check %s: exit %d\n%s%s", root, code, out, errs)
		}
	}
}

// TestBaselineHints: the errors of the baseline policy say what to do.
func TestBaselineHints(t *testing.T) {
	fresh := imagetest.Mount(t, imagetest.Get(t, "fresh").File)
	newer := filepath.Join(fresh, "newer")
	if out, err := exec.Command("btrfs", "subvolume", "create", newer).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("btrfs", "subvolume", "delete", newer).Run() })
	long := imagetest.Mount(t, imagetest.Get(t, "longpath").File)
	for _, tc := range []struct {
		args        []string
		error, hint string
	}{
		{[]string{"--mount", fresh, "--root", "../../.."}, `"../../..": a path under the top level must not climb out of it`,
			"--root and --baseline name a subvolume by its path under the top level"},
		{[]string{"--mount", fresh, "--root", "root", "--baseline", "newer"}, "the baseline cannot be a baseline of this root",
			"--baseline must be the blank snapshot the root was restored from"},
		{[]string{"--mount", fresh, "--root", "root", "--baseline", "none", "--source", "send"}, "the send source needs a baseline subvolume",
			"pass --source btrfs (or --source walk) to list every entry of the root"},
		{[]string{"--mount", long, "--root", "root", "--source", "send"}, "the tree holds a path longer than btrfs send can handle",
			"pass --source btrfs: it reads names from the b-tree"},
	} {
		_, errs, code := fsdiff(t, tc.args...)
		if code != exitError || !strings.Contains(errs, tc.error) || !strings.Contains(errs, "fsdiff: hint: "+tc.hint) {
			t.Errorf("fsdiff %q: exit %d, stderr:\n%s", tc.args, code, errs)
		}
	}
	// --baseline none with the btrfs source: every entry is created.
	out, errs, code := fsdiff(t, "--mount", fresh, "--root", "root", "--baseline", "none", "--source", "btrfs", "--format", "ndjson")
	if code != exitOK {
		t.Fatalf("--baseline none: exit %d\n%s", code, errs)
	}
	for _, r := range parseNDJSON(t, out) {
		if r.Kind != "created" || r.Path == "/" {
			t.Errorf("--baseline none: %s %q", r.Kind, r.Path)
		}
	}
	if out, errs, code := fsdiff(t, "suggest", "--mount", fresh, "--root", "root", "--baseline", "none", "--source", "btrfs"); code != exitOK || !strings.Contains(out, "; baseline: none.") {
		t.Errorf("suggest --baseline none: exit %d\n%s%s", code, out, errs)
	}
}
