package classify

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/fsdiff-nix/fsdiff/internal/change"
)

// groupEach is the table's rows as they were made before Rows: from the
// anchor of each sorted entry, the row of an anchor taking the verdict of
// its first entry unless one is the anchor, rows in order of their first
// entry, then sorted stably by category and anchor.
func groupEach(entries Entries) []Row {
	type key struct {
		cat              Category
		anchor, detector string
	}
	rows := map[key]*Row{}
	var order []key
	for i, anchor := range Anchors(entries) {
		e := entries.At(i)
		if anchor == "" {
			continue
		}
		k := key{e.Category, anchor, ""}
		if !ruled(&e) {
			k.detector = e.Rule
		}
		r := rows[k]
		if r == nil {
			r = &Row{Verdict: e.Verdict, Anchor: anchor}
			rows[k] = r
			order = append(order, k)
		}
		if e.Path == anchor {
			r.Verdict = e.Verdict
		}
		r.Files++
		if e.Type == change.File {
			r.Size += e.Size
		}
	}
	var out []Row
	for _, k := range order {
		out = append(out, *rows[k])
	}
	slices.SortStableFunc(out, func(a, b Row) int {
		return cmp.Or(cmp.Compare(a.Category, b.Category), strings.Compare(a.Anchor, b.Anchor))
	})
	return out
}

// randomEntries makes changes of a small random tree: created and
// existing directories, paths changed twice, rules' verdicts anchored at
// the path, above it or elsewhere, detectors', declared persistence and no
// rule at all.
func randomEntries(r *rand.Rand, n int) []Entry {
	names := []string{"a", "b", "etc", "var", "lib", "x.log"}
	var out []Entry
	for range n {
		p := ""
		for range 1 + r.IntN(4) {
			p += "/" + names[r.IntN(len(names))]
		}
		c := change.Change{Path: p, Kind: change.Kind(1 + r.IntN(4)), Type: []change.Type{change.File, change.Dir, change.Dir, change.Symlink, change.Socket, change.Subvolume}[r.IntN(6)], Size: int64(r.IntN(1000))}
		var v Verdict
		switch r.IntN(5) {
		case 0: // a rule
			v = Verdict{Category: Category(1 + r.IntN(3)), Rule: fmt.Sprintf("builtin:%d", r.IntN(3)), Pattern: "/" + names[r.IntN(3)] + "/**", Reason: fmt.Sprint("reason ", r.IntN(3))}
			switch r.IntN(3) {
			case 0:
				v.Anchor = p
			case 1:
				v.Anchor = parent(p)
			default:
				v.Anchor = "/elsewhere"
			}
		case 1: // declared persistence
			v = Verdict{Category: Persisted, Anchor: parent(p), Reason: "declared"}
		case 2, 3: // a detector
			v = Verdict{Category: Category(1 + r.IntN(2)), Rule: []string{"socket", "store-symlink"}[r.IntN(2)], Anchor: p}
		default:
			v = Verdict{Category: Unknown, Reason: "no rule matches", Anchor: p}
		}
		out = append(out, Entry{c, v})
	}
	return out
}

// TestRowsAnyOrder: rows summed up as changes come, in any order, are the
// rows of the sorted entries, each anchored as Anchors says, and Group
// gives them too.
func TestRowsAnyOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for round := range 2000 {
		entries := randomEntries(r, 1+r.IntN(40))
		var rows Rows
		var l List
		for _, e := range entries {
			rows.Append(e.Change, e.Verdict)
			l.Append(e.Change, e.Verdict)
		}
		l.Sort()
		want := groupEach(&l)
		if got := rows.Sorted(); !slices.Equal(got, want) {
			t.Fatalf("round %d: %d entries\ngot  %v\nwant %v", round, len(entries), got, want)
		}
		if got := Group(&l); !slices.Equal(got, want) {
			t.Fatalf("round %d: Group: %v, want %v", round, got, want)
		}
		if rows.Paths() != len(entries) {
			t.Fatalf("round %d: Paths() = %d, want %d", round, rows.Paths(), len(entries))
		}
	}
}
