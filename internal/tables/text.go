package tables

import (
	"fmt"
	"io"
	"strings"

	"github.com/fsdiff-nix/fsdiff/internal/classify"
)

// CountCategories lists counts per category in report order, the empty
// ones left out: "6 persist, 9 unknown, 3 managed".
func CountCategories(counts map[classify.Category]int, color bool) string {
	var parts []string
	for _, c := range classify.Categories() {
		if counts[c] == 0 {
			continue
		}
		name := c.String()
		if color {
			name = Paint(c, name)
		}
		parts = append(parts, fmt.Sprintf("%d %s", counts[c], name))
	}
	return strings.Join(parts, ", ")
}

// WriteLines writes text for people: each line wrapped to width (0: not
// wrapped), its continuation lines indented.
func WriteLines(w io.Writer, lines []string, width int) error {
	var b strings.Builder
	for _, l := range lines {
		for _, part := range Wrap(l, width, "  ") {
			b.WriteString(part)
			b.WriteByte('\n')
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
