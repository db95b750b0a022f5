package tables

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/fsdiff-nix/fsdiff/internal/classify"
	"github.com/fsdiff-nix/fsdiff/internal/names"
)

// Audit draws the audit's table of sorted entries, one row per anchor
// (classify.Group) or, with all, per path, and, when l asks for it, its
// summary.
func Audit(w io.Writer, entries classify.Entries, all bool, l Layout) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	var g Grid
	var anchors []classify.Row // the rows, or with all what the summary counts
	if !all || l.Summary {
		anchors = classify.Group(entries)
	}
	if all {
		g.Columns = []Column{{Header: "CATEGORY"}, {Header: "KIND"}, {Header: "TYPE"}, {Header: "SIZE"}, {Header: "PATH", Give: 2, Middle: true}, {Header: "REASON", Give: 1}}
		for i := range entries.Len() {
			e := entries.At(i)
			g.Rows = append(g.Rows, []string{Category(e.Verdict), e.Kind.String(), e.Type.String(), humanSize(e.Size), names.Escape(e.Path), e.Reason})
			g.Categories = append(g.Categories, e.Category)
		}
	} else {
		g.Columns = []Column{{Header: "CATEGORY"}, {Header: "PATH", Give: 2, Middle: true}, {Header: "FILES"}, {Header: "SIZE"}, {Header: "REASON", Give: 1}}
		for _, r := range anchors {
			g.Rows = append(g.Rows, []string{Category(r.Verdict), names.Escape(r.Anchor), strconv.Itoa(r.Files), humanSize(r.Size), r.Reason})
			g.Categories = append(g.Categories, r.Category)
		}
	}
	if err := g.Write(bw, l); err != nil {
		return err
	}
	if l.Summary {
		if err := WriteLines(bw, append([]string{""}, auditSummary(entries, anchors, all, l.Color)...), l.Width); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// auditSummary says what the table holds, per category, and what to run
// next.
func auditSummary(entries classify.Entries, anchors []classify.Row, all, color bool) []string {
	if entries.Len() == 0 {
		return []string{"Nothing changed."}
	}
	perAnchor := map[classify.Category]int{}
	for _, r := range anchors {
		perAnchor[r.Category]++
	}
	counts := perAnchor
	total := fmt.Sprintf("%d anchors (%d paths)", len(anchors), entries.Len())
	if all {
		counts = map[classify.Category]int{}
		for e := range classify.All(entries) {
			counts[e.Category]++
		}
		total = fmt.Sprintf("%d paths", entries.Len())
	}
	lines := []string{total + ": " + CountCategories(counts, color) + "."}
	var next []string
	switch persist, unknown := perAnchor[classify.Persist], perAnchor[classify.Unknown]; {
	case persist > 0 && unknown > 0:
		next = append(next, fmt.Sprintf("fsdiff suggest to declare the %d persist anchors and decide about the %d unknown ones", persist, unknown))
	case persist > 0:
		next = append(next, fmt.Sprintf("fsdiff suggest to declare the %d persist anchors", persist))
	case unknown > 0:
		next = append(next, fmt.Sprintf("fsdiff suggest to decide about the %d unknown anchors", unknown))
	default:
		lines = append(lines, "Nothing to declare: the rest is recreated, disposable or already persisted.")
	}
	next = append(next, "fsdiff explain PATH to see why a path is in its category")
	return append(lines, "Next: "+strings.Join(next, "; ")+".")
}

// Category shows a verdict's category with its priority: "persist (critical)".
func Category(v classify.Verdict) string {
	if v.Priority == classify.NoPriority {
		return v.Category.String()
	}
	return v.Category.String() + " (" + v.Priority.String() + ")"
}

func humanSize(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
