//go:build unix

package audit

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/fsdiff-nix/fsdiff/internal/change"
)

// TestDescribeHost: without a target, explain describes paths as this
// host has them, and a missing one as a regular file.
func TestDescribeHost(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "dir"), 0o755)
	os.Symlink("/nix/store/x", filepath.Join(dir, "link"))
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	describe, err := (&Audit{}).Describer(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]change.Change{
		"dir":     {Type: change.Dir},
		"link":    {Type: change.Symlink, Target: "/nix/store/x"},
		"fifo":    {Type: change.FIFO},
		"missing": {Type: change.File},
	} {
		p := filepath.Join(dir, name)
		want.Path, want.Kind = p, change.Created
		if got := describe(p); got != want {
			t.Errorf("%s: %+v, want %+v", name, got, want)
		}
	}
}
