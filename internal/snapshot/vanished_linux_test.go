package snapshot

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/fsdiff-nix/fsdiff/internal/change"
	"github.com/fsdiff-nix/fsdiff/internal/imagetest"
	"golang.org/x/sys/unix"
)

// TestVanishedDirectory: a name whose directory no longer exists when its
// path is resolved (the live root changed during the scan) is a problem to
// report, not a reason to abort the audit.
func TestVanishedDirectory(t *testing.T) {
	img := imagetest.Get(t, "blank")
	top := imagetest.Mount(t, img.File)
	root, err := openDir(unix.AT_FDCWD, filepath.Join(top, "root"), "root")
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	g := &generationScan{root: root, dirs: map[uint64]string{}}
	p := &part{}
	p.names.Append(storedRef{parent: 99999, name: p.strs.Add("gone")})
	in := &inode{ino: 100000, item: inodeItem{generation: 1, nlink: 1, mode: 0o100644}, count: 1}
	var problems []error
	err = g.emit(p, in, func(c change.Change) error {
		t.Errorf("emitted %q", c.Path)
		return nil
	}, func(err error) { problems = append(problems, err) })
	if err != nil {
		t.Fatalf("emit aborted: %v", err)
	}
	if len(problems) != 1 || !strings.Contains(problems[0].Error(), `file "gone" (inode 100000) vanished during the scan`) {
		t.Errorf("problems: %v", problems)
	}
}
