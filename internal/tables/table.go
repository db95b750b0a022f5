package tables

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/clipperhouse/displaywidth"
	"github.com/fsdiff-nix/fsdiff/internal/classify"
	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/pkg/twwidth"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// Layout is how text for people is drawn.
type Layout struct {
	// Width is how many columns a line may take: tables cut their cells
	// to fit, text wraps. 0: no limit, cells whole.
	Width int
	// Color paints categories with ANSI SGR sequences.
	Color bool
	// Summary ends a table with its counts and the next step.
	Summary bool
}

// Column is a column of a table for people.
type Column struct {
	Header string
	// Give is when the column gives way to a narrow terminal: columns of
	// long prose (reasons, patterns) give way first (1), then those with a
	// higher Give, paths last; 0 never, until nothing else can (categories,
	// counts, sizes are short).
	Give int
	// Middle cuts the column's cells in the middle: a path's ends both
	// say something (where it is, what it is).
	Middle bool
}

// Grid is a table for people: left-aligned columns, no borders.
type Grid struct {
	Columns []Column
	Rows    [][]string
	// Categories, when set, holds each row's category: the cell of column
	// CategoryColumn is painted with it, and the rows of categories
	// NixOS recreates are dim.
	Categories     []classify.Category
	CategoryColumn int
}

// gap is the space between two columns.
const gap = "  "

// Write draws t fitted to l.Width: each column as wide as its widest cell
// unless the lines would not fit, in which case the columns that give way
// first are narrowed and their cells cut with "…".
// Cells are made printable first (see Printable), in place.
func (t *Grid) Write(w io.Writer, l Layout) error {
	for _, r := range t.Rows {
		for j, c := range r {
			r[j] = Printable(c)
		}
	}
	cells := append([][]string{headers(t.Columns)}, t.Rows...)
	widths := fitColumns(t.Columns, cells, l.Width)
	header := make([]string, len(t.Columns))
	drawn := make([]int, len(t.Columns)) // each column's widest cell once cut
	for j, c := range t.Columns {
		header[j] = Cut(c.Header, widths[j], false)
		drawn[j] = twwidth.Width(header[j])
	}
	rows := make([][]string, len(t.Rows))
	cut := make([]int32, 0, len(t.Rows)*len(t.Columns)) // the width of each cell once cut, row by row
	for i, r := range t.Rows {
		rows[i] = make([]string, len(r))
		for j, c := range r {
			rows[i][j] = Cut(c, widths[j], t.Columns[j].Middle)
			n := twwidth.Width(rows[i][j])
			cut = append(cut, int32(n))
			drawn[j] = max(drawn[j], n)
		}
	}
	// Every cell but the last of a row is padded to its column's width
	// here, as tablewriter would pad it, so that tables of a part of the
	// rows each are drawn alike (see writeGrid).
	for i, r := range rows {
		for j, c := range r {
			n := int(cut[0])
			cut = cut[1:]
			if l.Color && t.Categories != nil {
				c = paintCell(t.Categories[i], j == t.CategoryColumn, c)
			}
			if j < len(r)-1 {
				c += strings.Repeat(" ", drawn[j]-n)
			}
			r[j] = c
		}
	}
	return writeGrid(w, header, rows)
}

func headers(cols []Column) []string {
	h := make([]string, len(cols))
	for i, c := range cols {
		h[i] = c.Header
	}
	return h
}

// fitColumns returns the width of each column such that the lines of
// cells (header first) fit into width, or the widest cell of each column
// when they do or width is 0. First the widest cells of a column, those
// beyond its typical width (its 90th percentile, when they are half as
// wide again), are cut: one long pattern does not take the room of every
// reason. What room is left goes back to the columns whose cells were
// cut, equally. When even typical widths do not fit, the columns give way
// in Give order.
func fitColumns(cols []Column, cells [][]string, width int) []int {
	n := len(cols)
	natural := make([]int, n)
	typical := make([]int, n)
	for j := range cols {
		var ws []int // of the cells that are not empty: a column of rare conditions is as wide as they are
		for _, r := range cells {
			if j < len(r) && r[j] != "" {
				ws = append(ws, twwidth.Width(r[j]))
			}
		}
		slices.Sort(ws)
		if len(ws) > 0 {
			natural[j], typical[j] = ws[len(ws)-1], ws[len(ws)*9/10]
		}
		if 2*natural[j] <= 3*typical[j] {
			typical[j] = natural[j] // a few cells a little wider are no outliers
		}
	}
	avail := width - len(gap)*(n-1)
	if width <= 0 || sum(natural) <= avail {
		return natural
	}
	widths := slices.Clone(typical)
	var cut []int // columns cut to their typical width
	for j, c := range cols {
		if c.Give == 0 || typical[j] >= natural[j] {
			widths[j] = natural[j]
		} else {
			cut = append(cut, j)
		}
	}
	if left := avail - sum(widths); left >= 0 {
		// Give back the room left, equally: the column that lost least
		// first, so that what it does not need goes to the others.
		slices.SortFunc(cut, func(a, b int) int { return (natural[a] - typical[a]) - (natural[b] - typical[b]) })
		for k, j := range cut {
			grow := min(natural[j]-widths[j], left/(len(cut)-k))
			widths[j] += grow
			left -= grow
		}
		return widths
	}
	// Then the columns give way in Give order, from their typical width
	// down to a few characters, then every column down to one.
	order := make([]int, 0, n)
	for j := range cols {
		order = append(order, j)
	}
	slices.SortStableFunc(order, func(a, b int) int { return give(cols[a]) - give(cols[b]) })
	excess := sum(widths) - avail
	for _, floor := range []func(j int) int{
		func(j int) int {
			if cols[j].Give == 0 {
				return widths[j]
			}
			// A quarter of the room, on a wide terminal: one column of
			// long paths does not leave the reasons a few characters.
			return min(widths[j], max(twwidth.Width(cols[j].Header), minWidth, avail/4))
		},
		func(int) int { return 1 },
	} {
		for _, j := range order {
			shrink := min(excess, widths[j]-floor(j))
			widths[j] -= shrink
			excess -= shrink
		}
	}
	return widths
}

// minWidth is the fewest columns a column that gives way keeps while
// another can still give way.
const minWidth = 12

func give(c Column) int {
	if c.Give == 0 {
		return int(^uint(0) >> 1)
	}
	return c.Give
}

func sum(s []int) int {
	n := 0
	for _, v := range s {
		n += v
	}
	return n
}

// Cut returns s cut to width display columns (0: whole) with "…" at the
// end, or in the middle. It cuts between user-perceived characters
// (grapheme clusters), never inside one, and never inside an escape
// sequence of names.Escape (\xff, \n, \\).
func Cut(s string, width int, middle bool) string {
	if width <= 0 || twwidth.Width(s) <= width {
		return s
	}
	units := split(s)
	mark := ellipsis
	room := width - twwidth.Width(mark)
	if room < 0 { // a wide "…" (East Asian width) in one column
		mark, room = "", width
	}
	head, tail := room, 0
	if middle { // the end of a path names the file: keep more of it
		head, tail = room/3, room-room/3
	}
	i, used := 0, 0
	for ; i < len(units) && used+twwidth.Width(units[i]) <= head; i++ {
		used += twwidth.Width(units[i])
	}
	if middle {
		tail += head - used // what the head could not use
	}
	k := len(units)
	for used = 0; k > i && used+twwidth.Width(units[k-1]) <= tail; k-- {
		used += twwidth.Width(units[k-1])
	}
	out := strings.Join(units[:i], "") + mark + strings.Join(units[k:], "")
	if strings.Contains(out, "\x1b[") && !strings.HasSuffix(out, sgrReset) {
		out += sgrReset // a painted part lost its end
	}
	return out
}

const ellipsis = "…"

// split splits s into the units Cut never cuts: grapheme clusters, a
// backslash with what it escapes (one character, or x and two digits),
// and an SGR sequence (Paint's).
func split(s string) []string {
	var graphemes []string
	for g := displaywidth.StringGraphemes(s); g.Next(); {
		graphemes = append(graphemes, g.Value())
	}
	units := make([]string, 0, len(graphemes))
	for i := 0; i < len(graphemes); i++ {
		n := 1
		switch {
		case graphemes[i] == `\` && i+1 < len(graphemes) && graphemes[i+1] == "x":
			n = 4
		case graphemes[i] == `\`:
			n = 2
		case graphemes[i] == "\x1b" && i+1 < len(graphemes) && graphemes[i+1] == "[":
			for n = 2; i+n < len(graphemes) && graphemes[i+n-1] != "m"; n++ {
			}
		}
		n = min(n, len(graphemes)-i)
		units = append(units, strings.Join(graphemes[i:i+n], ""))
		i += n - 1
	}
	return units
}

// Wrap breaks text into lines of at most width display columns at
// spaces, the first keeping text's leading spaces, the others starting
// with indent. A word wider
// than a line is cut. width 0: one line.
func Wrap(text string, width int, indent string) []string {
	if width <= 0 || twwidth.Width(text) <= width {
		return []string{text}
	}
	var lines []string
	lead := text[:len(text)-len(strings.TrimLeft(text, " "))]
	line := lead
	for _, word := range strings.Fields(text) {
		switch {
		case line == lead || line == indent:
			line += word
		case twwidth.Width(line)+1+twwidth.Width(word) <= width:
			line += " " + word
		default:
			lines = append(lines, Cut(line, width, false))
			line = indent + word
		}
	}
	return append(lines, Cut(line, width, false))
}

// writeGrid writes header and rows with tablewriter: left-aligned
// columns, no borders, cells as given (never wrapped).
func writeGrid(w io.Writer, header []string, rows [][]string) error {
	// tablewriter keeps the table it draws, and its rendering, in memory
	// several times over: a table of a part of the rows at a time keeps
	// fsdiff --all of a large root from taking gigabytes and most of its
	// time in the garbage collector. The cells are padded to their
	// columns' widths (Grid.Write), so the parts line up.
	const part = 4096
	for start := 0; start == 0 || start < len(rows); start += part {
		var h []string
		if start == 0 {
			h = header
		}
		if err := writeGridPart(w, h, rows[start:min(start+part, len(rows))]); err != nil {
			return err
		}
	}
	return nil
}

func writeGridPart(w io.Writer, header []string, rows [][]string) error {
	var buf bytes.Buffer
	t := tablewriter.NewTable(&buf,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{
			Borders:  tw.BorderNone,
			Symbols:  tw.NewSymbols(tw.StyleNone),
			Settings: tw.Settings{Separators: tw.SeparatorsNone, Lines: tw.LinesNone},
		})),
		tablewriter.WithConfig(tablewriter.Config{
			Header: tw.CellConfig{
				Formatting: tw.CellFormatting{AutoFormat: tw.Off},
				Alignment:  tw.CellAlignment{Global: tw.AlignLeft},
				Padding:    tw.CellPadding{Global: tw.Padding{Right: gap, Overwrite: true}},
			},
			Row: tw.CellConfig{
				Formatting: tw.CellFormatting{AutoWrap: tw.WrapNone},
				Alignment:  tw.CellAlignment{Global: tw.AlignLeft},
				Padding:    tw.CellPadding{Global: tw.Padding{Right: gap, Overwrite: true}},
			},
			Behavior: tw.Behavior{TrimSpace: tw.Off},
		}),
	)
	if header != nil {
		t.Header(header)
	}
	if err := t.Bulk(rows); err != nil {
		return err
	}
	if err := t.Render(); err != nil {
		return err
	}
	for line := range bytes.Lines(buf.Bytes()) {
		if _, err := fmt.Fprintf(w, "%s\n", trimEnd(line)); err != nil {
			return err
		}
	}
	return nil
}

// trimEnd trims the padding tablewriter leaves at the end of a line, and
// the resets it writes after a painted cell's padding, with one reset
// in their place.
func trimEnd(line []byte) []byte {
	line = bytes.TrimRight(line, " \n")
	painted := false
	for bytes.HasSuffix(line, []byte(sgrReset)) {
		line = bytes.TrimRight(bytes.TrimSuffix(line, []byte(sgrReset)), " ")
		painted = true
	}
	if painted {
		line = append(line, sgrReset...)
	}
	return line
}

// Printable returns s with its control characters (C0, DEL, C1) written
// as \xNN: a reason from a report of another host or a rule file is text
// to show, and an escape sequence in it must not reach the terminal (set
// its title, clear it) nor a newline split a row. Names are escaped by
// names.Escape before they get here and hold none.
func Printable(s string) string {
	clean := true
	for _, r := range s {
		if isControl(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if isControl(r) {
			fmt.Fprintf(&b, "\\x%02x", r)
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

func isControl(r rune) bool { return r < 0x20 || r >= 0x7f && r <= 0x9f }
