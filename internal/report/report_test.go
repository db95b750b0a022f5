package report

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/fsdiff-nix/fsdiff/internal/change"
	"github.com/fsdiff-nix/fsdiff/internal/chunked"
	"github.com/fsdiff-nix/fsdiff/internal/classify"
)

func TestSorted(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 50 {
		var entries []classify.Entry
		var l chunked.List[classify.Entry]
		for i := range n {
			entries = append(entries, classify.Entry{
				Change:  change.Change{Path: "/p" + strconv.Itoa(r.IntN(20)), Inode: uint64(i)},
				Verdict: classify.Verdict{Category: classify.Category(1 + r.IntN(5))},
			})
		}
		want := slices.Clone(entries)
		slices.SortStableFunc(want, func(a, b classify.Entry) int {
			if a.Category != b.Category {
				return int(a.Category) - int(b.Category)
			}
			if a.Path != b.Path {
				return map[bool]int{true: -1, false: 1}[a.Path < b.Path]
			}
			return 0
		})
		for _, e := range entries {
			l.Append(e)
		}
		entries = Sorted(&l)
		for i := range entries {
			if entries[i].Category != want[i].Category || entries[i].Path != want[i].Path {
				t.Fatalf("n=%d: position %d holds %s %s, want %s %s", n, i, entries[i].Category, entries[i].Path, want[i].Category, want[i].Path)
			}
		}
		seen := map[uint64]bool{}
		for _, e := range entries {
			seen[e.Inode] = true
		}
		if len(seen) != n {
			t.Fatalf("n=%d: %d distinct entries after sorting", n, len(seen))
		}
	}
}

func BenchmarkSorted(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	entries := make([]classify.Entry, 300_000)
	for i := range entries {
		entries[i] = classify.Entry{
			Change:  change.Change{Path: "/var/lib/svc" + strconv.Itoa(r.IntN(100)) + "/d" + strconv.Itoa(r.IntN(1000)) + "/f" + strconv.Itoa(i)},
			Verdict: classify.Verdict{Category: classify.Category(1 + r.IntN(5))},
		}
	}
	var l chunked.List[classify.Entry]
	for _, e := range entries {
		l.Append(e)
	}
	for b.Loop() {
		Sorted(&l)
	}
}
