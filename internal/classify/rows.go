package classify

import (
	"cmp"
	"slices"
	"strings"

	"github.com/fsdiff-nix/fsdiff/internal/change"
)

// Row is a line of the default table, and an anchor of the check report:
// the changes of one category under one anchor.
type Row struct {
	Verdict
	Anchor string
	Files  int   // changed paths
	Size   int64 // bytes of the regular files among them
}

// Rows sums changes up into rows as they come, in any order: one row per
// category and anchor (see Anchors), and rows summed up per directory also
// differ by detector. An entry a rule decided joins its row at once;
// directories (left out when something in them changed) and the entries
// no rule decided wait in a List until Sorted, when what was created and
// claimed is known. So it holds the rows and those entries, not every
// change. The zero value is empty and ready to use.
type Rows struct {
	known   *known
	rows    map[rowKey]*row
	pending List     // directories and the entries no rule decided
	seqs    []uint32 // the order each pending entry came in
	n       int
}

type rowKey struct {
	category Category
	anchor   string
	detector string
}

// row is a Row and its first entry in report order (by path, then in the
// order they came), which gives the row its verdict unless an entry is its
// anchor, and its place among rows of the same category and anchor.
type row struct {
	Row
	first     string
	firstSeq  uint32
	anchorSeq int64 // the last entry that is the anchor; -1 for none
}

// Append adds a change with its verdict.
func (t *Rows) Append(c change.Change, v Verdict) {
	if t.known == nil {
		t.known = newKnown()
	}
	e := Entry{c, v}
	seq := uint32(t.n)
	t.n++
	t.known.see(&e)
	if e.Type != change.Dir && ruled(&e) { // never left out: joins its row now
		t.add(rowKey{e.Category, e.Anchor, ""}, &e, seq)
		return
	}
	t.pending.Append(c, v)
	t.seqs = append(t.seqs, seq)
}

// Paths returns how many changes were added.
func (t *Rows) Paths() int { return t.n }

// Sorted returns the rows in report order: by category, most urgent first,
// then by anchor, then by first entry. Neither Append nor Sorted may be
// called after it.
func (t *Rows) Sorted() []Row {
	k := t.known
	if k == nil {
		return nil
	}
	for i := range t.pending.Len() {
		e := t.pending.At(i)
		k.claimDir(&e)
	}
	var g groups
	member := make([]int32, t.pending.Len()) // group index + 1
	for i := range member {
		e := t.pending.At(i)
		switch {
		case k.leftOut(&e):
		case ruled(&e):
			t.add(rowKey{e.Category, e.Anchor, ""}, &e, t.seqs[i])
		default:
			member[i] = g.add(k, &e) + 1
		}
	}
	for i, m := range member {
		if m > 0 {
			e := t.pending.At(i)
			t.add(rowKey{e.Category, g.names[m-1], e.Rule}, &e, t.seqs[i])
		}
	}
	return t.sorted()
}

func (t *Rows) sorted() []Row {
	rows := make([]*row, 0, len(t.rows))
	for _, r := range t.rows {
		rows = append(rows, r)
	}
	slices.SortFunc(rows, func(a, b *row) int {
		return cmp.Or(cmp.Compare(a.Category, b.Category), strings.Compare(a.Anchor, b.Anchor),
			strings.Compare(a.first, b.first), cmp.Compare(a.firstSeq, b.firstSeq))
	})
	out := make([]Row, len(rows))
	for i, r := range rows {
		out[i] = r.Row
	}
	return out
}

func (t *Rows) add(key rowKey, e *Entry, seq uint32) {
	r := t.rows[key]
	if r == nil {
		if t.rows == nil {
			t.rows = map[rowKey]*row{}
		}
		r = &row{Row: Row{Verdict: e.Verdict, Anchor: key.anchor}, first: e.Path, firstSeq: seq, anchorSeq: -1}
		t.rows[key] = r
	} else if c := strings.Compare(e.Path, r.first); c < 0 || c == 0 && seq < r.firstSeq {
		r.first, r.firstSeq = e.Path, seq
		if r.anchorSeq < 0 {
			r.Verdict = e.Verdict
		}
	}
	if e.Path == key.anchor && int64(seq) > r.anchorSeq {
		r.Verdict, r.anchorSeq = e.Verdict, int64(seq)
	}
	r.Files++
	if e.Type == change.File {
		r.Size += e.Size
	}
}

// Group sums sorted entries up into rows, as Rows does, from the anchor of
// each (Anchors): nothing of them is copied.
func Group(entries Entries) []Row {
	var t Rows
	for i, a := range Anchors(entries) {
		if a == "" {
			continue
		}
		e := entries.At(i)
		key := rowKey{e.Category, a, ""}
		if !ruled(&e) {
			key.detector = e.Rule
		}
		t.add(key, &e, uint32(i))
	}
	return t.sorted()
}
