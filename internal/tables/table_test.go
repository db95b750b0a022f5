package tables

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/fsdiff-nix/fsdiff/internal/classify"
	"github.com/fsdiff-nix/fsdiff/internal/names"
	"github.com/olekukonko/tablewriter/pkg/twwidth"
)

// TestCut: a cell is cut to its display width, never inside a character
// (multibyte, wide, combined) nor inside an escape of a name that is not
// UTF-8, with "…" at the end or, for paths, in the middle.
func TestCut(t *testing.T) {
	for _, tc := range []struct {
		in     string
		width  int
		middle bool
		want   string
	}{
		{"short", 10, false, "short"},
		{"short", 0, false, "short"},
		{"exactly10!", 10, false, "exactly10!"},
		{"a reason that is too long", 10, false, "a reason …"},
		{"été à l'hôtel", 6, false, "été à…"},
		{"日本語のファイル", 7, false, "日本語…"}, // wide: 2 columns each, 3 fit with "…"
		{"日本語のファイル", 8, false, "日本語…"}, // a fourth would need 9
		{"e\u0301e\u0301e\u0301e\u0301", 3, false, "e\u0301e\u0301…"},
		{names.Escape("/odd/\xff\xfe\xfd"), 9, false, `/odd/…`}, // \xff would need 4 more
		{names.Escape("/odd/\xff\xfe\xfd"), 10, false, `/odd/\xff…`},
		{names.Escape("/a/new\nline"), 8, false, `/a/new…`},
		{"/home/alice/.local/share/app/db.sqlite", 20, true, "/home/…app/db.sqlite"},
		{"/var/lib/日本語/ファイル", 12, true, "/va…ファイル"},
		{"\x1b[1;33mpersist\x1b[0m", 5, false, "\x1b[1;33mpers…\x1b[0m"},
	} {
		got := Cut(tc.in, tc.width, tc.middle)
		if got != tc.want {
			t.Errorf("Cut(%q, %d, %t) = %q, want %q", tc.in, tc.width, tc.middle, got, tc.want)
		}
		if !utf8.ValidString(got) {
			t.Errorf("Cut(%q, %d) = %q: not UTF-8", tc.in, tc.width, got)
		}
		if tc.width > 0 && twwidth.Width(got) > tc.width {
			t.Errorf("Cut(%q, %d) = %q: %d columns", tc.in, tc.width, got, twwidth.Width(got))
		}
	}
}

// TestWrap: prose wraps at spaces under its label.
func TestWrap(t *testing.T) {
	got := Wrap("  reason: one two three four five", 16, "          ")
	want := []string{"  reason: one", "          two", "          three", "          four", "          five"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("Wrap = %q, want %q", got, want)
	}
	if got := Wrap("fits", 0, ""); len(got) != 1 || got[0] != "fits" {
		t.Errorf("Wrap without a width = %q", got)
	}
}

var sgr = regexp.MustCompile("\x1b\\[[0-9;]*m")

// TestGridFits: at any width, no line is wider; a table that fits keeps
// its cells whole; one long cell does not narrow the others' column
// (rules rows were 393 columns wide for one pattern); reasons give way
// before paths.
func TestGridFits(t *testing.T) {
	g := Grid{Columns: []Column{{Header: "CATEGORY"}, {Header: "PATH", Give: 2, Middle: true}, {Header: "REASON", Give: 1}}}
	for i := range 20 {
		g.Rows = append(g.Rows, []string{"persist", "/var/lib/app" + strings.Repeat("x", i%3), "state of a service " + strings.Repeat("and more ", i%4)})
	}
	g.Rows = append(g.Rows, []string{"unknown", "/" + strings.Repeat("long/", 60), "short reason"})
	for _, width := range []int{20, 40, 80, 120, 200} {
		var b bytes.Buffer
		if err := g.Write(&b, Layout{Width: width}); err != nil {
			t.Fatal(err)
		}
		for line := range strings.Lines(b.String()) {
			if w := twwidth.Width(strings.TrimSuffix(line, "\n")); w > width {
				t.Errorf("width %d: line of %d columns: %q", width, w, line)
			}
		}
		if width == 200 && strings.Count(b.String(), "…") != 1 {
			t.Errorf("width 200: only the one long path should be cut:\n%s", b.String())
		}
	}
	var b bytes.Buffer
	if err := g.Write(&b, Layout{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "…") {
		t.Errorf("without a width, cells are whole:\n%s", b.String())
	}
	// At 60 columns the reasons (up to 55 wide) give way before the paths
	// (15 wide, but for the outlier).
	b.Reset()
	if err := g.Write(&b, Layout{Width: 60}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "/var/lib/appxx ") {
		t.Errorf("width 60: a typical path was cut:\n%s", b.String())
	}
}

// TestGridColor: categories are painted only when asked, what needs a
// decision stands out, managed and ephemeral rows are dim.
func TestGridColor(t *testing.T) {
	g := Grid{Columns: []Column{{Header: "CATEGORY"}, {Header: "PATH"}},
		Rows:       [][]string{{"persist", "/a"}, {"unknown", "/b"}, {"managed", "/c"}},
		Categories: []classify.Category{classify.Persist, classify.Unknown, classify.Managed}}
	var plain, painted bytes.Buffer
	if err := g.Write(&plain, Layout{Width: 80}); err != nil {
		t.Fatal(err)
	}
	if err := g.Write(&painted, Layout{Width: 80, Color: true}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plain.String(), "\x1b") {
		t.Errorf("painted without Color:\n%q", plain.String())
	}
	for _, want := range []string{sgrDecide + "persist" + sgrReset, sgrPropose + "unknown" + sgrReset, sgrDim + "managed" + sgrReset, sgrDim + "/c" + sgrReset + "\n"} {
		if !strings.Contains(painted.String(), want) {
			t.Errorf("painted:\n%q\nwants %q", painted.String(), want)
		}
	}
	if strings.Contains(painted.String(), "/a"+sgrReset) || strings.Contains(painted.String(), " \n") {
		t.Errorf("painted more than the category, or left padding:\n%q", painted.String())
	}
	if sgr.ReplaceAllString(painted.String(), "") != plain.String() {
		t.Errorf("painting moved the columns:\n%s\n%s", painted.String(), plain.String())
	}
}

// TestGridLargeAlignsParts: a table is drawn a part of the rows at a time;
// the parts line up even when a column's widest cell is in the last part.
func TestGridLargeAlignsParts(t *testing.T) {
	g := Grid{Columns: []Column{{Header: "A"}, {Header: "B"}}}
	for i := range 10_000 {
		a := "x"
		if i == 9_999 {
			a = "the widest cell, last"
		}
		g.Rows = append(g.Rows, []string{a, "b" + strconv.Itoa(i)})
	}
	var b strings.Builder
	if err := g.Write(&b, Layout{}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 10_001 {
		t.Fatalf("%d lines, want 10001", len(lines))
	}
	want := len("the widest cell, last") + len(gap)
	for i, l := range lines {
		if k := strings.IndexByte(l, 'b'); (i > 0 && k != want) || (i == 0 && strings.IndexByte(l, 'B') != want) {
			t.Fatalf("line %d: second column at %d, want %d: %q", i, k, want, l)
		}
	}
}

// TestGridPrintable: a cell's control characters (an escape sequence, a
// newline) are shown, not sent to the terminal: a reason from another
// host's report must not set the terminal's title nor split a row.
func TestGridPrintable(t *testing.T) {
	g := Grid{Columns: []Column{{Header: "PATH"}, {Header: "REASON"}},
		Rows: [][]string{{"/a", "\x1b]0;pwned\x07\x1b[2Jgone\nnext line\u009b1m \xff kept"}}}
	var b strings.Builder
	if err := g.Write(&b, Layout{}); err != nil {
		t.Fatal(err)
	}
	// (tablewriter shows a byte that is not UTF-8 as U+FFFD.)
	want := "PATH  REASON\n/a    \\x1b]0;pwned\\x07\\x1b[2Jgone\\x0anext line\\x9b1m \ufffd kept\n"
	if b.String() != want {
		t.Errorf("got  %q\nwant %q", b.String(), want)
	}
}
