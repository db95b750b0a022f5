package audit

import (
	"fmt"
	"runtime"
	"slices"
	"testing"

	"github.com/fsdiff-nix/fsdiff/internal/change"
	"github.com/fsdiff-nix/fsdiff/internal/classify"
)

// TestClassifyingKeepsOrder: changes classified in batches by several
// goroutines, each with its own clone of the classifier, end up in the
// list in the order they came, with the verdicts one classifier gives
// them one by one.
func TestClassifyingKeepsOrder(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	cfg := classify.Config{Rules: classify.Builtin(), Homes: []string{"/home/alice"}}
	var changes []change.Change
	dirs := []string{"/etc", "/etc/ssh", "/var/lib/nixos", "/var/lib/app", "/var/log/journal", "/home/alice/.cache", "/home/alice/.config/app", "/root", "/srv/x", "/tmp"}
	for i := range 5*batchLen + 17 {
		typ := change.File
		if i%7 == 0 {
			typ = change.Dir
		}
		changes = append(changes, change.Change{Path: fmt.Sprintf("%s/f%d", dirs[i%len(dirs)], i%300), Kind: change.Created, Type: typ, Inode: uint64(i)})
	}
	var want classify.List
	one := classify.New(cfg)
	for _, c := range changes {
		want.Append(c, one.Classify(c))
	}
	var got classify.List
	k := startClassifying(classify.New(cfg), &got)
	for _, c := range changes {
		k.add(c)
	}
	k.finish()
	if g, w := slices.Collect(classify.All(&got)), slices.Collect(classify.All(&want)); !slices.Equal(g, w) {
		t.Errorf("%d entries, want %d, or other verdicts or order", len(g), len(w))
	}
}
