package main

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/fsdiff-nix/fsdiff/internal/audit"
	"github.com/fsdiff-nix/fsdiff/internal/classify"
	"github.com/spf13/cobra"
)

// globalOptions are the flags every command that classifies shares, and
// how output for people looks.
type globalOptions struct {
	rules    []string
	declared string
	context  []string
	termOptions
}

func (g *globalOptions) addFlags(cmd *cobra.Command) {
	f := cmd.PersistentFlags()
	f.StringArrayVar(&g.rules, "rules", nil, "rule `FILE` to load before /etc/fsdiff/rules and $XDG_CONFIG_HOME/fsdiff/rules (repeatable; see README, \"Rules\")")
	f.StringVar(&g.declared, "declared", "", "`FILE` with the JSON of config.environment.persistence or config.preservation.preserveAt (see README)")
	f.Var(contextFlag{&g.context}, "context", "set a rule context: "+strings.Join(classify.Contexts, ", ")+" (repeatable)")
	enumFlag(cmd, "context", classify.Contexts)
	g.termOptions.addFlags(f)
	enumFlag(cmd, "color", colorModes)
}

// classifyOptions turns the flags into options; notes gets -v notes (nil:
// none).
func (g *globalOptions) classifyOptions(notes io.Writer) audit.ClassifyOptions {
	o := audit.ClassifyOptions{RuleFiles: g.rules, Declared: g.declared, Context: g.context}
	if notes != nil {
		o.Note = func(msg string) { fmt.Fprintf(notes, "fsdiff: %s\n", msg) }
	}
	return o
}

// contextFlag is --context, checked when parsed: a context no rule knows
// would silently change nothing.
type contextFlag struct{ s *[]string }

func (f contextFlag) String() string { return strings.Join(*f.s, ",") }

func (f contextFlag) Set(v string) error {
	if !slices.Contains(classify.Contexts, v) {
		return fmt.Errorf("unknown context %q: want %s", v, oneOf(classify.Contexts))
	}
	*f.s = append(*f.s, v)
	return nil
}

func (f contextFlag) Type() string { return "context" }
