package main

import (
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/fsdiff-nix/fsdiff/internal/tables"
	"github.com/spf13/pflag"
	"golang.org/x/term"
)

// termOptions say how output for people looks: --color, --full, --quiet.
type termOptions struct {
	color string
	full  bool
	quiet bool
}

// colorModes are the values of --color.
var colorModes = []string{"auto", "always", "never"}

func (t *termOptions) addFlags(f *pflag.FlagSet) {
	f.Var(colorFlag{&t.color}, "color", "colour tables by category: auto (on a terminal, unless $NO_COLOR is set), always or never")
	f.BoolVarP(&t.full, "full", "l", false, "tables: show whole cells instead of cutting them to the terminal's width")
	f.BoolVarP(&t.quiet, "quiet", "q", false, "no progress line and no summary after a table, only the data and errors")
}

// layout is how a table or text for people written to w looks. On a
// terminal, it fits the terminal's width ($COLUMNS when set, as for
// systemctl), is painted, and ends with a summary. Off one, it is neither
// painted nor summed up, and keeps its cells whole: a file or a pager gets
// all of it, unless $COLUMNS is set and the output is a table, which off
// a terminal is only printed when --format table asks for it.
func (t *termOptions) layout(w io.Writer, table bool) tables.Layout {
	tty := isTerminal(w)
	l := tables.Layout{Color: t.colored(tty), Summary: tty && !t.quiet}
	if !t.full && (tty || table) {
		l.Width = width(w, tty)
	}
	return l
}

// colored says whether to paint: --color=always and never decide, else a
// terminal that is not dumb, without $NO_COLOR (https://no-color.org: a
// flag overrides it).
func (t *termOptions) colored(tty bool) bool {
	switch t.color {
	case "always":
		return true
	case "never":
		return false
	}
	return tty && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
}

// width is how many columns output to w may take: $COLUMNS when it is a
// positive number, else the terminal's width, else 0 (no limit).
func width(w io.Writer, tty bool) int {
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 0 {
		return n
	}
	if !tty {
		return 0
	}
	n, _, err := term.GetSize(int(w.(*os.File).Fd()))
	if err != nil || n <= 0 {
		return 80
	}
	return n
}

// isTerminal says whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// colorFlag is --color, checked when parsed.
type colorFlag struct{ s *string }

func (f colorFlag) String() string {
	if *f.s == "" {
		return "auto"
	}
	return *f.s
}

func (f colorFlag) Set(v string) error {
	for _, m := range colorModes {
		if v == m {
			*f.s = v
			return nil
		}
	}
	return fmt.Errorf("want auto, always or never")
}

func (f colorFlag) Type() string { return "when" }
