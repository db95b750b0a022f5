package report

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fsdiff-nix/fsdiff/internal/change"
	"github.com/fsdiff-nix/fsdiff/internal/classify"
	"github.com/fsdiff-nix/fsdiff/internal/names"
)

// DiffSchema names the version of the JSON document of fsdiff diff
// (docs/diff.schema.json). It changes when a field changes meaning or
// disappears, not when one is added.
const DiffSchema = "fsdiff-diff/1"

// DiffRecordSchema names the version of a line of fsdiff diff --format
// ndjson.
const DiffRecordSchema = "fsdiff-difference/1"

// Difference is how an anchor (or, by path, a path) differs from one
// report to the next. Differences are ordered for reports: what is new
// first.
type Difference uint8

const (
	Appeared    Difference = iota + 1 // in the new report only
	Changed                           // in both, in another category or at another priority
	Disappeared                       // in the old report only
)

var differenceNames = [...]string{"", "appeared", "changed", "disappeared"}

func (d Difference) String() string {
	if int(d) < len(differenceNames) {
		return differenceNames[d]
	}
	return "difference(" + strconv.Itoa(int(d)) + ")"
}

// DiffRow is one anchor (or path) that differs, with what each report says
// of it: Old is nil when it appeared, New when it disappeared.
type DiffRow struct {
	Difference Difference
	Path       string
	Old, New   *DiffSide
}

// DiffSide is a verdict and what it holds in one report.
type DiffSide struct {
	classify.Verdict
	Files int
	Bytes int64
}

// Side is the side a row is sorted and described by: the new one, or the
// old one of what disappeared.
func (r DiffRow) Side() *DiffSide { return cmp.Or(r.New, r.Old) }

// Diff compares two reports' entries (each in report order) anchor by
// anchor, as the default table groups them, or path by path. Paths are
// compared as bytes. Under one path each report may hold rows of several
// categories: those of the same category in both are the same (changed
// only if the priority differs); the others pair up in category order as
// changed, and what is left appeared or disappeared. Rows come sorted:
// appeared, changed, disappeared, then by category, then by path.
func Diff(old, new classify.Entries, byPath bool) []DiffRow {
	sides := func(entries classify.Entries) map[string][]DiffSide {
		m := map[string][]DiffSide{}
		if byPath {
			for e := range classify.All(entries) {
				s := DiffSide{Verdict: e.Verdict, Files: 1}
				if e.Type == change.File {
					s.Bytes = e.Size
				}
				// A path deleted and created again is one path of its
				// category, as an anchor is one row.
				ss := m[e.Path]
				if i := slices.IndexFunc(ss, func(o DiffSide) bool { return o.Category == s.Category && o.Priority == s.Priority }); i >= 0 {
					ss[i].Files++
					ss[i].Bytes += s.Bytes
					continue
				}
				m[e.Path] = append(ss, s)
			}
		} else {
			for _, g := range classify.Group(entries) {
				m[g.Anchor] = append(m[g.Anchor], DiffSide{Verdict: g.Verdict, Files: g.Files, Bytes: g.Size})
			}
		}
		for _, ss := range m {
			slices.SortStableFunc(ss, func(a, b DiffSide) int { return cmp.Compare(a.Category, b.Category) })
		}
		return m
	}
	o, n := sides(old), sides(new)
	var rows []DiffRow
	for p, olds := range o {
		rows = append(rows, pairUp(p, olds, n[p])...)
	}
	for p, ns := range n {
		if _, ok := o[p]; !ok {
			rows = append(rows, pairUp(p, nil, ns)...)
		}
	}
	// Rows of one path and category differ by priority, or by detector
	// (a fifo's row and a socket's in one directory): the order is total,
	// so that the output is the same from run to run.
	slices.SortFunc(rows, func(a, b DiffRow) int {
		return cmp.Or(cmp.Compare(a.Difference, b.Difference), cmp.Compare(a.Side().Category, b.Side().Category),
			strings.Compare(a.Path, b.Path), cmp.Compare(a.Side().Priority, b.Side().Priority),
			strings.Compare(a.Side().Rule, b.Side().Rule), cmp.Compare(threshold(a.Old), threshold(b.Old)))
	})
	return rows
}

// pairUp compares what two reports hold under one path, each sorted by
// category.
func pairUp(p string, old, new []DiffSide) []DiffRow {
	var rows []DiffRow
	var oldLeft, newLeft []*DiffSide
	matched := make([]bool, len(new))
	for i := range old {
		j := -1
		for k := range new {
			if !matched[k] && new[k].Category == old[i].Category {
				j = k
				break
			}
		}
		if j < 0 {
			oldLeft = append(oldLeft, &old[i])
			continue
		}
		matched[j] = true
		if old[i].Priority != new[j].Priority {
			rows = append(rows, DiffRow{Changed, p, &old[i], &new[j]})
		}
	}
	for j := range new {
		if !matched[j] {
			newLeft = append(newLeft, &new[j])
		}
	}
	for len(oldLeft) > 0 && len(newLeft) > 0 {
		rows = append(rows, DiffRow{Changed, p, oldLeft[0], newLeft[0]})
		oldLeft, newLeft = oldLeft[1:], newLeft[1:]
	}
	for _, s := range oldLeft {
		rows = append(rows, DiffRow{Disappeared, p, s, nil})
	}
	for _, s := range newLeft {
		rows = append(rows, DiffRow{Appeared, p, nil, s})
	}
	return rows
}

// DiffInput is one report that was compared.
type DiffInput struct {
	File  string // as named on the command line
	Audit Audit
}

// DiffOptions select what WriteDiff writes.
type DiffOptions struct {
	Options
	Version  string // of this fsdiff, for JSON
	Old, New DiffInput
}

// WriteDiff renders sorted rows in a format of the audit's for programs:
// TSV (difference, old and new category with priority, files, path), one
// JSON document, one JSON object per row, or the paths.
func WriteDiff(w io.Writer, rows []DiffRow, opts DiffOptions) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	switch opts.Format {
	case Table:
		return errTable
	case TSV:
		var buf []byte
		for _, r := range rows {
			buf = append(buf[:0], r.Difference.String()...)
			buf = append(buf, '\t')
			buf = append(buf, threshold(r.Old)...)
			buf = append(buf, '\t')
			buf = append(buf, threshold(r.New)...)
			buf = append(buf, '\t')
			buf = strconv.AppendInt(buf, int64(r.Side().Files), 10)
			buf = append(buf, '\t')
			buf = append(buf, names.Escape(r.Path)...)
			buf = append(buf, '\n')
			bw.Write(buf)
		}
	case JSON:
		doc := diffJSON{Schema: DiffSchema, Version: opts.Version, By: "anchor", Old: inputJSON(opts.Old), New: inputJSON(opts.New),
			Counts: map[string]int{}, Differences: []diffRowJSON{}}
		if opts.All {
			doc.By = "path"
		}
		for d := Appeared; d <= Disappeared; d++ {
			doc.Counts[d.String()] = 0
		}
		for _, r := range rows {
			doc.Counts[r.Difference.String()]++
			doc.Differences = append(doc.Differences, rowJSON(r))
		}
		enc := json.NewEncoder(bw)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(doc); err != nil {
			return err
		}
	case NDJSON:
		enc := json.NewEncoder(bw)
		enc.SetEscapeHTML(false)
		for _, r := range rows {
			// Each record says its version: a line is read on its own.
			if err := enc.Encode(diffRecordJSON{DiffRecordSchema, rowJSON(r)}); err != nil {
				return err
			}
		}
	case Paths:
		for _, r := range rows {
			writePath(bw, r.Path, opts.Null)
		}
	default:
		return fmt.Errorf("unknown format %q", opts.Format)
	}
	return bw.Flush()
}

// threshold writes a side's category as fsdiff check's --fail-on does
// (persist:critical), or nothing for a missing side.
func threshold(s *DiffSide) string {
	if s == nil {
		return ""
	}
	return classify.Threshold{Category: s.Category, Priority: s.Priority}.String()
}

// diffJSON is the document of fsdiff diff --format json.
type diffJSON struct {
	Schema      string         `json:"schema"`
	Version     string         `json:"fsdiff_version"`
	By          string         `json:"by"`
	Old         diffInputJSON  `json:"old"`
	New         diffInputJSON  `json:"new"`
	Counts      map[string]int `json:"counts"`
	Differences []diffRowJSON  `json:"differences"`
}

type diffInputJSON struct {
	File    names.String `json:"file"`
	Version string       `json:"fsdiff_version"`
	Time    time.Time    `json:"time"`
	Source  CheckSource  `json:"source"`
}

func inputJSON(in DiffInput) diffInputJSON {
	return diffInputJSON{File: names.String(in.File), Version: in.Audit.Version, Time: in.Audit.Time.UTC(), Source: sourceOf(in.Audit.Source)}
}

type diffRowJSON struct {
	Difference string        `json:"difference"`
	Path       names.String  `json:"path"`
	Old        *diffSideJSON `json:"old"`
	New        *diffSideJSON `json:"new"`
}

type diffSideJSON struct {
	Category string       `json:"category"`
	Priority string       `json:"priority,omitempty"`
	Rule     names.String `json:"rule"`
	Pattern  names.String `json:"pattern"`
	Reason   names.String `json:"reason"`
	Source   names.String `json:"source"`
	Paths    int          `json:"paths"`
	Bytes    int64        `json:"bytes"`
}

// diffRecordJSON is a line of fsdiff diff --format ndjson.
type diffRecordJSON struct {
	Schema string `json:"schema"`
	diffRowJSON
}

func rowJSON(r DiffRow) diffRowJSON {
	side := func(s *DiffSide) *diffSideJSON {
		if s == nil {
			return nil
		}
		j := &diffSideJSON{Category: s.Category.String(), Rule: names.String(s.Rule), Pattern: names.String(s.Pattern),
			Reason: names.String(s.Reason), Source: names.String(s.Source), Paths: s.Files, Bytes: s.Bytes}
		if s.Priority != classify.NoPriority {
			j.Priority = s.Priority.String()
		}
		return j
	}
	return diffRowJSON{Difference: r.Difference.String(), Path: names.String(r.Path), Old: side(r.Old), New: side(r.New)}
}
