package watch

import (
	"cmp"
	"slices"
	"strings"

	"github.com/fsdiff-nix/fsdiff/internal/classify"
	"github.com/fsdiff-nix/fsdiff/internal/snapshot"
)

// Options configure a watch.
type Options struct {
	Paths      []string        // directories to watch, absolute
	Skip       map[string]bool // absolute paths never entered
	Classifier *classify.Classifier
	All        bool // report every path, managed and ephemeral ones too
	// Report receives each path as it is first seen (created or changed),
	// and Aggregate a running count of the paths under a counted anchor,
	// at its first path and at every power of ten. Notice receives what the
	// user should know (an overflow and its rescan).
	Report    func(classify.Entry)
	Aggregate func(classify.Verdict, int)
	Notice    func(string)

	started func() // for tests: called once every watch is in place
}

// Summary is what a watch saw, per category and anchor.
type Summary struct {
	Anchors []Anchor
}

// Anchor sums up the paths seen under one anchor.
type Anchor struct {
	classify.Verdict
	Self  snapshot.Change // the anchor itself, as it was when first met
	Paths int
	Bytes int64
}

// Entries returns one entry per anchor, the anchor itself as the change,
// as suggest.Build takes them.
func (s *Summary) Entries() []classify.Entry {
	out := make([]classify.Entry, 0, len(s.Anchors))
	for _, a := range s.Anchors {
		c := a.Self
		c.Path, c.Kind = a.Anchor, snapshot.Created
		out = append(out, classify.Entry{Change: c, Verdict: a.Verdict})
	}
	return out
}

// counted says whether a verdict's paths are counted per anchor rather
// than reported one by one.
func counted(v classify.Verdict) bool {
	return v.Category == classify.Ephemeral || v.Category == classify.Managed || v.Category == classify.Persisted
}

// tally keeps per-anchor sums and the paths already reported.
type tally struct {
	anchors map[anchorKey]*Anchor
	seen    map[string]bool // reported paths: state paths, or all with Options.All
}

type anchorKey struct {
	cat    classify.Category
	anchor string
}

func newTally() *tally {
	return &tally{anchors: map[anchorKey]*Anchor{}, seen: map[string]bool{}}
}

// add records a classified path and says whether it is new to the tally;
// for a counted anchor it also returns the anchor's new count. self
// describes the anchor, for an anchor met for the first time.
func (t *tally) add(e classify.Entry, all bool, self func(string) (snapshot.Change, bool)) (isNew bool, count int) {
	anchor := e.Anchor
	if anchor == "" {
		anchor = e.Path
	}
	if !counted(e.Verdict) || all {
		if t.seen[e.Path] {
			return false, 0
		}
		t.seen[e.Path] = true
	}
	k := anchorKey{e.Category, anchor}
	a := t.anchors[k]
	if a == nil {
		a = &Anchor{Verdict: e.Verdict}
		a.Anchor = anchor
		if e.Path == anchor {
			a.Self = e.Change
		} else if c, ok := self(anchor); ok {
			a.Self = c
		} else {
			a.Self.Type = snapshot.Dir
		}
		t.anchors[k] = a
	}
	a.Paths++
	if e.Type == snapshot.File {
		a.Bytes += e.Size
	}
	return true, a.Paths
}

func (t *tally) summary() *Summary {
	s := &Summary{}
	for _, a := range t.anchors {
		s.Anchors = append(s.Anchors, *a)
	}
	slices.SortFunc(s.Anchors, func(a, b Anchor) int {
		return cmp.Or(cmp.Compare(a.Category, b.Category), strings.Compare(a.Anchor, b.Anchor))
	})
	return s
}

// powerOfTen says whether n is 1, 10, 100...
func powerOfTen(n int) bool {
	for n >= 10 && n%10 == 0 {
		n /= 10
	}
	return n == 1
}
