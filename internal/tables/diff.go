package tables

import (
	"bufio"
	"fmt"
	"io"
	"strconv"

	"github.com/fsdiff-nix/fsdiff/internal/names"
	"github.com/fsdiff-nix/fsdiff/internal/report"
)

// Diff draws fsdiff diff's table of sorted rows (report.Diff), compared
// anchor by anchor or, with all, path by path.
func Diff(w io.Writer, rows []report.DiffRow, all bool, l Layout) error {
	if len(rows) == 0 {
		unit := "anchor"
		if all {
			unit = "path"
		}
		_, err := fmt.Fprintf(w, "no differences: every %s is in both reports, in the same category\n", unit)
		return err
	}
	side := func(s *report.DiffSide) string {
		if s == nil {
			return "-"
		}
		return Category(s.Verdict)
	}
	g := Grid{CategoryColumn: 3, Columns: []Column{{Header: "DIFFERENCE"}, {Header: "PATH", Give: 2, Middle: true},
		{Header: "OLD"}, {Header: "NEW"}, {Header: "FILES"}, {Header: "REASON", Give: 1}}}
	for _, r := range rows {
		g.Rows = append(g.Rows, []string{r.Difference.String(), names.Escape(r.Path), side(r.Old), side(r.New), strconv.Itoa(r.Side().Files), r.Side().Reason})
		g.Categories = append(g.Categories, r.Side().Category)
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	if err := g.Write(bw, l); err != nil {
		return err
	}
	return bw.Flush()
}
