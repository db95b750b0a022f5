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

// Audit draws the default table, one row per anchor, of an audit of paths
// changes, and, when l asks for it, its summary.
func Audit(w io.Writer, rows []classify.Row, paths int, l Layout) error {
	g := Grid{Columns: []Column{{Header: "CATEGORY"}, {Header: "PATH", Give: 2, Middle: true}, {Header: "FILES"}, {Header: "SIZE"}, {Header: "REASON", Give: 1}}}
	for _, r := range rows {
		g.Rows = append(g.Rows, []string{Category(r.Verdict), names.Escape(r.Anchor), strconv.Itoa(r.Files), humanSize(r.Size), r.Reason})
		g.Categories = append(g.Categories, r.Category)
	}
	return writeAudit(w, &g, l, func() []string { return auditSummary(paths, rows, nil, l.Color) })
}

// AuditAll draws the table of every sorted entry, one row per path, and,
// when l asks for it, its summary.
func AuditAll(w io.Writer, entries classify.Entries, l Layout) error {
	g := Grid{Columns: []Column{{Header: "CATEGORY"}, {Header: "KIND"}, {Header: "TYPE"}, {Header: "SIZE"}, {Header: "PATH", Give: 2, Middle: true}, {Header: "REASON", Give: 1}}}
	perPath := map[classify.Category]int{}
	for i := range entries.Len() {
		e := entries.At(i)
		g.Rows = append(g.Rows, []string{Category(e.Verdict), e.Kind.String(), e.Type.String(), humanSize(e.Size), names.Escape(e.Path), e.Reason})
		g.Categories = append(g.Categories, e.Category)
		perPath[e.Category]++
	}
	return writeAudit(w, &g, l, func() []string {
		return auditSummary(entries.Len(), classify.Group(entries), perPath, l.Color)
	})
}

func writeAudit(w io.Writer, g *Grid, l Layout, summary func() []string) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	if err := g.Write(bw, l); err != nil {
		return err
	}
	if l.Summary {
		if err := WriteLines(bw, append([]string{""}, summary()...), l.Width); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// auditSummary says what the table holds, per category, and what to run
// next: per anchor, or with perPath (--all), per path.
func auditSummary(paths int, anchors []classify.Row, perPath map[classify.Category]int, color bool) []string {
	if paths == 0 {
		return []string{"Nothing changed."}
	}
	perAnchor := map[classify.Category]int{}
	for _, r := range anchors {
		perAnchor[r.Category]++
	}
	counts := perAnchor
	total := fmt.Sprintf("%d anchors (%d paths)", len(anchors), paths)
	if perPath != nil {
		counts = perPath
		total = fmt.Sprintf("%d paths", paths)
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
