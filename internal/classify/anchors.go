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
	k := newKnown()
	var ruledDirs []int
	for i := range entries.Len() {
		e := entries.At(i)
		k.see(&e)
		if ruledDir(&e) {
			ruledDirs = append(ruledDirs, i)
		}
	}
	for _, i := range ruledDirs {
		e := entries.At(i)
		k.claimDir(&e)
	}
	var g groups
	member := make([]int32, entries.Len())
	anchors := make([]string, entries.Len())
	for i := range anchors {
		e := entries.At(i)
		switch {
		case k.leftOut(&e):
			continue
		case ruled(&e):
			anchors[i] = e.Anchor
			continue
		}
		member[i] = g.add(k, &e) + 1
	}
	for i, m := range member {
		if m > 0 {
			anchors[i] = g.names[m-1]
		}
	}
	return anchors
}

// known is what naming the anchor of one entry needs to know of all the
// others (see Anchors): the directories created, those with changed
// entries, and those a rule's verdict or declared persistence claimed.
type known struct {
	created, parents, claimed map[string]bool
	lastParent, lastClaimed   string // the last seen, which the next entry most often shares
}

func newKnown() *known {
	return &known{created: map[string]bool{}, parents: map[string]bool{}, claimed: map[string]bool{}}
}

// see takes an entry, in any order. A directory a rule decided claims its
// parent only if it is not left out, which is known once every entry was
// seen: the caller gives it to claimDir then.
//
// claimed holds the directories above an entry a rule or declared
// persistence decided, but not above a directory that is left out: its
// verdict is nobody's row (the /etc/*/** rule calls every directory of a
// new /etc unknown, which does not make /etc/systemd a rule's). Marking
// stops at the first directory already marked: everything above it is.
// Siblings mostly follow one another, and most need not look.
func (k *known) see(e *Entry) {
	if e.Kind == change.Created && (e.Type == change.Dir || e.Type == change.Subvolume) {
		k.created[e.Path] = true
	}
	d := parent(e.Path)
	if d != k.lastParent {
		k.lastParent = d
		k.parents[d] = true
	}
	if ruled(e) && e.Type != change.Dir && d != k.lastClaimed {
		k.lastClaimed = d
		k.claim(d)
	}
}

// claimDir claims the parent of a directory a rule decided, unless it is
// left out, once every entry was seen; it ignores other entries.
func (k *known) claimDir(e *Entry) {
	if ruledDir(e) && !k.leftOut(e) {
		k.claim(parent(e.Path))
	}
}

func (k *known) claim(d string) {
	for ; d != "" && !k.claimed[d]; d = parent(d) {
		k.claimed[d] = true
	}
}

// leftOut says whether e has no row, once every entry was seen: a
// baseline directory whose only change is its list of entries, or a
// directory with changed entries.
func (k *known) leftOut(e *Entry) bool {
	return e.Type == change.Dir && (e.Kind == change.Modified || k.parents[e.Path])
}

func ruled(e *Entry) bool { return e.Pattern != "" || e.Category == Persisted }

func ruledDir(e *Entry) bool { return e.Type == change.Dir && ruled(e) }

// groups sums entries no rule decided up with others of their verdict in
// the directory that stands for them, once every entry was seen: a group
// is named by its entry, then by the directory that holds it and each one
// that joins it.
type groups struct {
	index map[groupKey]int32
	names []string
}

type groupKey struct {
	category Category
	rule     string
	unit     string
}

// add puts e in its group and returns the group's index.
func (g *groups) add(k *known, e *Entry) int32 {
	key := groupKey{e.Category, e.Rule, unit(e.Path, e.Rule != "", k.created, k.claimed)}
	i, ok := g.index[key]
	if ok {
		g.names[i] = commonDir(g.names[i], e.Path)
		return i
	}
	if g.index == nil {
		g.index = map[groupKey]int32{}
	}
	i = int32(len(g.names))
	g.index[key] = i
	g.names = append(g.names, e.Path)
	return i
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
