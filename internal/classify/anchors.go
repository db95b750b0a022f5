package classify

import (
	"strings"

	"github.com/fsdiff-nix/fsdiff/internal/change"
)

// Entry is a change with its verdict.
type Entry struct {
	change.Change
	Verdict
}

// Anchors returns, for each entry, the anchor it is reported under, and ""
// for entries that are left out because others speak for them: baseline
// directories whose only change is their list of entries, and directories
// with changed entries. A rule's verdict and declared persistence name
// their anchor.
//
// The other verdicts (a structural detector's: sockets, fifos, store
// symlinks, entries a send stream does not type; and "no rule matches")
// say what an entry is, not what the place it is in is, so the row must
// name the entry. Several of them are summed up in one row only inside a
// directory that stands for them:
//   - a directory created in this change set that holds nothing a rule or
//     declared persistence decided (a new tree nobody knows: /opt/tool, or
//     /etc/systemd full of store symlinks); for a detector it must also be
//     below the top level: a detector's verdict never makes /var or /etc
//     the thing to decide about, whatever the directory holds;
//   - for a detector, else its entry's directory when that is below the
//     top level (new store symlinks in /etc/systemd/system);
//   - else the entry stands alone.
//
// Such a group is named by its entry when it holds one, else by the deepest
// directory that holds all of its entries: one socket in a new /var/lib/foo
// is /var/lib/foo/sock, not /var/lib/foo nor /var.
func Anchors(entries Entries) []string {
	created := map[string]bool{}
	parents := map[string]bool{}
	leftOut := func(e *Entry) bool {
		return e.Type == change.Dir && (e.Kind == change.Modified || parents[e.Path])
	}
	ruled := func(e *Entry) bool { return e.Pattern != "" || e.Category == Persisted }
	// claimed holds the directories above an entry a rule or declared
	// persistence decided, but not above a directory that is left out: its
	// verdict is nobody's row (the /etc/*/** rule calls every directory of
	// a new /etc unknown, which does not make /etc/systemd a rule's). A
	// directory is left out when something is in it, which is known at the
	// end: the directories wait until then. Marking stops at the first
	// directory already marked: everything above it is. Entries come
	// sorted, so siblings follow one another and most need not look.
	claimed := map[string]bool{}
	claim := func(d string) {
		for ; d != "" && !claimed[d]; d = parent(d) {
			claimed[d] = true
		}
	}
	var ruledDirs []Entry
	var lastParent, lastClaimed string
	for i := range entries.Len() {
		e := entries.At(i)
		if e.Kind == change.Created && (e.Type == change.Dir || e.Type == change.Subvolume) {
			created[e.Path] = true
		}
		d := parent(e.Path)
		if d != lastParent {
			lastParent = d
			parents[d] = true
		}
		switch {
		case !ruled(&e):
		case e.Type == change.Dir:
			ruledDirs = append(ruledDirs, e)
		case d != lastClaimed:
			lastClaimed = d
			claim(d)
		}
	}
	for _, e := range ruledDirs {
		if !leftOut(&e) {
			claim(parent(e.Path))
		}
	}

	// Each entry summed up with others holds the index of its group, plus
	// one; a group is named by its entry, then by the directory that holds
	// it and each one that joins it.
	type groupKey struct {
		category Category
		rule     string
		unit     string
	}
	groups := map[groupKey]int32{}
	var names []string
	member := make([]int32, entries.Len())
	anchors := make([]string, entries.Len())
	for i := range anchors {
		e := entries.At(i)
		switch {
		case leftOut(&e):
			continue
		case ruled(&e):
			anchors[i] = e.Anchor
			continue
		}
		k := groupKey{e.Category, e.Rule, unit(e.Path, e.Rule != "", created, claimed)}
		g, ok := groups[k]
		if ok {
			names[g] = commonDir(names[g], e.Path)
		} else {
			g = int32(len(names))
			groups[k] = g
			names = append(names, e.Path)
		}
		member[i] = g + 1
	}
	for i, g := range member {
		if g > 0 {
			anchors[i] = names[g-1]
		}
	}
	return anchors
}

// unit returns the directory whose entries of one verdict are summed up
// with p (see Anchors), or p itself.
func unit(p string, detector bool, created, claimed map[string]bool) string {
	for i := 1; i < len(p); i++ {
		if p[i] != '/' {
			continue
		}
		if d := p[:i]; created[d] && !claimed[d] && (!detector || !topLevel(d)) {
			return d
		}
	}
	if d := parent(p); detector && d != "" && !topLevel(d) {
		return d
	}
	return p
}

// topLevel says whether d is "/" or a directory in it.
func topLevel(d string) bool { return strings.LastIndexByte(d, '/') <= 0 }

// commonDir returns the deepest directory that holds both a and b, or a
// itself when they are the same path.
func commonDir(a, b string) string {
	if a == b {
		return a
	}
	n := min(len(a), len(b))
	i := 0
	for i < n && a[i] == b[i] {
		i++
	}
	// a[:i] is the longest common prefix; it is a directory of both when
	// it ends at a component boundary of each.
	if i == n && (len(a) == n && b[n] == '/' || len(b) == n && a[n] == '/') {
		return a[:n]
	}
	j := strings.LastIndexByte(a[:i], '/')
	if j <= 0 {
		return "/"
	}
	return a[:j]
}
