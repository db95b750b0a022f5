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
// with changed entries. A rule's verdict names its anchor. Without a rule,
// a created directory anchors everything created under it; what a
// structural detector decided (store symlinks, sockets) is summed up in its
// directory.
func Anchors(entries Entries) []string {
	created := map[string]bool{}
	parents := map[string]bool{}
	for i := range entries.Len() {
		e := entries.At(i)
		if e.Kind == change.Created && (e.Type == change.Dir || e.Type == change.Subvolume) {
			created[e.Path] = true
		}
		if i := strings.LastIndexByte(e.Path, '/'); i > 0 {
			parents[e.Path[:i]] = true
		}
	}
	anchors := make([]string, entries.Len())
	for i := range anchors {
		e := entries.At(i)
		switch {
		case e.Type == change.Dir && (e.Kind == change.Modified || parents[e.Path]):
		case e.Pattern != "" || e.Category == Persisted:
			anchors[i] = e.Anchor
		default:
			anchors[i] = collapse(e.Path, created, e.Rule != "")
		}
	}
	return anchors
}

// collapse returns the topmost created directory above p, else p itself,
// or p's directory when byDir is set.
func collapse(p string, created map[string]bool, byDir bool) string {
	for i := 1; i < len(p); i++ {
		if p[i] == '/' && created[p[:i]] {
			return p[:i]
		}
	}
	if byDir {
		if i := strings.LastIndexByte(p, '/'); i > 0 {
			return p[:i]
		}
		return "/"
	}
	return p
}
