package watch

import (
	"cmp"
	"slices"
	"strings"

	"github.com/fsdiff-nix/fsdiff/internal/change"
	"github.com/fsdiff-nix/fsdiff/internal/classify"
)

// Options configure a watch.
type Options struct {
	Paths      []string        // directories to watch, absolute
	Skip       map[string]bool // absolute paths never entered
	Classifier *classify.Classifier
	All        bool // report every path, managed and ephemeral ones too
	// Report receives each path as it is first seen (created or changed),
	// and Aggregate a counted anchor with its running count of paths, at
	// its first path and at every power of ten. Notice receives what the
	// user should know (an overflow and its rescan).
	Report    func(classify.Entry)
	Aggregate func(Anchor)
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
	Self   change.Change // the anchor itself, as it was when first met
	Sample change.Change // the first path seen under the anchor, if any
	// Paths counts the distinct paths seen. Past MaxCounted paths of a
	// counted anchor it only counts creations of paths it has not
	// remembered, and Approximate is set.
	Paths       int
	Approximate bool
	Bytes       int64

	counted map[string]bool // a counted anchor's paths, up to MaxCounted
}

// MaxCounted is how many distinct paths of one counted anchor a watch
// remembers, so that a flood into a cache costs bounded memory.
const MaxCounted = 10000

// Entries returns, per anchor, the anchor itself and a path seen under it,
// as suggest.Build takes the changes of an audit: a directory is then
// spoken for by its paths, as in an audit, and not left out because a
// path under it (a fifo) has another anchor.
func (s *Summary) Entries() []classify.Entry {
	out := make([]classify.Entry, 0, len(s.Anchors))
	for _, a := range s.Anchors {
		c := a.Self
		c.Path, c.Kind = a.Anchor, change.Created
		out = append(out, classify.Entry{Change: c, Verdict: a.Verdict})
		if a.Sample.Path != "" {
			out = append(out, classify.Entry{Change: a.Sample, Verdict: a.Verdict})
		}
	}
	return out
}

// counted says whether a verdict's paths are counted per anchor rather
// than reported one by one.
func counted(v classify.Verdict) bool {
	return v.Category.Meaning().Counted
}

// tally keeps per-anchor sums and the paths already reported.
type tally struct {
	anchors    map[anchorKey]*Anchor
	seen       map[string]bool // reported paths: state paths, or all with Options.All
	maxCounted int             // MaxCounted; smaller in tests
}

type anchorKey struct {
	cat    classify.Category
	anchor string
}

func newTally() *tally {
	return &tally{anchors: map[anchorKey]*Anchor{}, seen: map[string]bool{}, maxCounted: MaxCounted}
}

// add records a classified path and says whether it is new to the tally,
// with its anchor. self describes the anchor, for an anchor met for the
// first time.
func (t *tally) add(e classify.Entry, all bool, self func(string) (change.Change, bool)) (isNew bool, a *Anchor) {
	anchor := e.Anchor
	if anchor == "" {
		anchor = e.Path
	}
	perPath := !counted(e.Verdict) || all
	if perPath {
		if t.seen[e.Path] {
			return false, nil
		}
		t.seen[e.Path] = true
	}
	k := anchorKey{e.Category, anchor}
	a = t.anchors[k]
	if a == nil {
		a = &Anchor{Verdict: e.Verdict}
		a.Anchor = anchor
		if e.Path == anchor {
			a.Self = e.Change
		} else if c, ok := self(anchor); ok {
			a.Self = c
		} else {
			a.Self.Type = change.Dir
		}
		if !perPath {
			a.counted = map[string]bool{}
		}
		t.anchors[k] = a
	}
	if !perPath {
		switch {
		case a.counted[e.Path]:
			return false, nil
		case len(a.counted) < t.maxCounted:
			a.counted[e.Path] = true
		case e.Kind != change.Created:
			return false, nil // perhaps counted already: only a creation is surely another path
		default:
			a.Approximate = true
		}
	}
	if e.Path != anchor && a.Sample.Path == "" {
		a.Sample = e.Change
	}
	a.Paths++
	if e.Type == change.File {
		a.Bytes += e.Size
	}
	return true, a
}

func (t *tally) summary() *Summary {
	s := &Summary{}
	for _, a := range t.anchors {
		c := *a
		c.counted = nil
		s.Anchors = append(s.Anchors, c)
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
