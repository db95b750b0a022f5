// Package tables draws what people see on a terminal: tables fitted to a
// width, their cells cut between characters (grapheme clusters, never
// inside one nor inside an escape of names.Escape), painted by category,
// and text wrapped under its label. It draws the audit's table and fsdiff
// diff's from the rows package report groups; the commands draw theirs
// with Grid.
//
// It is apart from report because drawing needs tablewriter, whose
// colours (fatih/color, mattn/go-isatty) import golang.org/x/sys/unix:
// report, like classify and suggest, stays free of the kernel packages.
package tables
