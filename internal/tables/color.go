package tables

import "github.com/fsdiff-nix/fsdiff/internal/classify"

// SGR sequences (ECMA-48 Select Graphic Rendition).
const (
	sgrReset   = "\x1b[0m"
	sgrDim     = "\x1b[2m"
	sgrDecide  = "\x1b[1;33m" // bold yellow: state to declare
	sgrPropose = "\x1b[1;35m" // bold magenta: a person must decide
	sgrDone    = "\x1b[32m"   // green: already declared
)

// color is how a category is painted, from what it means: what needs a
// decision stands out, what is already declared is green, what NixOS
// recreates or may be lost is dim. dim says the whole row is.
func color(c classify.Category) (sgr string, dim bool) {
	switch c.Meaning().Suggest {
	case classify.Declare:
		return sgrDecide, false
	case classify.Propose:
		return sgrPropose, false
	case classify.AlreadyDeclared:
		return sgrDone, false
	}
	return sgrDim, true
}

// Paint returns s painted as category c is.
func Paint(c classify.Category, s string) string {
	sgr, _ := color(c)
	return paint(sgr, s)
}

func paint(sgr, s string) string {
	if s == "" {
		return s
	}
	return sgr + s + sgrReset
}

// paintCell paints a cell of a row of category c: the category's own
// cell, and every cell of a dim row.
func paintCell(c classify.Category, categoryCell bool, s string) string {
	sgr, dim := color(c)
	if categoryCell || dim {
		return paint(sgr, s)
	}
	return s
}
