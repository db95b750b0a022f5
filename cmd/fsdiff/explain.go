package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/fsdiff-nix/fsdiff/internal/audit"
	"github.com/fsdiff-nix/fsdiff/internal/classify"
	"github.com/fsdiff-nix/fsdiff/internal/names"
	"github.com/fsdiff-nix/fsdiff/internal/tables"
	"github.com/spf13/cobra"
)

type explainOptions struct {
	global *globalOptions
	target targetOptions
}

func newExplainCmd(g *globalOptions, stdout, stderr io.Writer) *cobra.Command {
	opts := explainOptions{global: g}
	cmd := &cobra.Command{
		Use:   "explain PATH...",
		Short: "Say why a path is in its category: every rule that matches, and the winner",
		Long: `explain classifies each PATH as an audit would, and lists the structural
detector that decided, or every rule that matches in order of precedence
(user rules first, then the more specific pattern), marking the one that
wins. A PATH that exists is classified as what it is (a symlink with its
target, a socket...); one that does not, as a regular file.

With no flag that says what to audit, PATH, homes and /etc/.clean are this
host's. With the audit's flags (--mount, --root, --baseline, --source,
--send-stream, --device), they are the audited root's, as the audit sees
them: PATH is looked up inside that root (a symlink never leads out of
it), or in the changes of a saved send stream. --rules, --declared and
--context apply.
` + exitStatusHelp,
		Example: `  fsdiff explain /var/lib/nixos/uid-map /etc/machine-id
  fsdiff explain --context mutable-users /etc/passwd
  sudo fsdiff explain --mount /mnt --root root /var/lib/app/sock`,
		Args: usage(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runExplain(cmd.Context(), &opts, args, stdout, stderr)
		},
	}
	opts.target.addFlags(cmd)
	return cmd
}

func runExplain(ctx context.Context, o *explainOptions, paths []string, stdout, stderr io.Writer) error {
	for _, p := range paths {
		if !strings.HasPrefix(p, "/") {
			return flagError{fmt.Errorf("%q: explain takes absolute paths, as the audit reports them", p)}
		}
	}
	var a *audit.Audit
	var err error
	if o.target.given() {
		if a, err = openAudit(o.global, &o.target, stderr); err != nil {
			return err
		}
		defer a.Target.Close()
	} else if a, err = audit.Live(o.global.classifyOptions(o.target.notes(stderr))); err != nil {
		return err
	}
	describe, err := a.Describer(ctx, paths)
	if err != nil {
		return err
	}
	l := o.global.layout(stdout, false)
	var b strings.Builder
	// On a terminal each line fits its width: the reason and its source,
	// what explain is for, wrap under themselves; other lines are cut.
	line := func(s string) {
		b.WriteString(tables.Cut(s, l.Width, false))
		b.WriteByte('\n')
	}
	prose := func(label, text string) {
		for _, s := range tables.Wrap(label+text, l.Width, strings.Repeat(" ", len(label))) {
			b.WriteString(s)
			b.WriteByte('\n')
		}
	}
	paint := func(c classify.Category, s string) string {
		if l.Color {
			return tables.Paint(c, s)
		}
		return s
	}
	for i, p := range paths {
		if i > 0 {
			b.WriteByte('\n')
		}
		ch := describe(p)
		v, structural, matches := a.Classifier.Explain(ch)
		typ := ch.Type.String()
		if ch.Type == 0 {
			typ = "type unknown" // a saved stream that does not say
		}
		b.WriteString(tables.Cut(names.Escape(p), l.Width-len(typ)-3, true) + " (" + typ + ")\n")
		verdict := "  " + tables.Category(v) + ", anchor "
		anchor := tables.Cut(names.Escape(v.Anchor), l.Width-len(verdict), true)
		line(strings.Replace(verdict, v.Category.String(), paint(v.Category, v.Category.String()), 1) + anchor)
		prose("  reason: ", v.Reason)
		if v.Source != "" {
			prose("  source: ", v.Source)
		}
		if structural {
			line(fmt.Sprintf("  decided by the %s detector, before any rule", v.Rule))
		}
		if len(matches) == 0 {
			line("  no rule matches")
			continue
		}
		line("  rules that match, in order of precedence:")
		decided := structural
		for _, m := range matches {
			mark := "   "
			if !decided && m.Inactive == "" {
				mark, decided = "  →", true // the first active rule wins
			}
			s := fmt.Sprintf("  %s %-16s %s %-11s %s", mark, m.Rule, paint(m.Category, fmt.Sprintf("%-9s", m.Category)), m.Priority, m.Pattern)
			if m.Inactive != "" {
				s += fmt.Sprintf("  (inactive: %s)", m.Inactive)
			}
			line(s)
		}
	}
	if _, err := io.WriteString(stdout, b.String()); err != nil || !l.Summary {
		return err
	}
	return tables.WriteLines(stdout, []string{"", "Next: a user rule decides differently (README, \"Rules\"); fsdiff rules lists every rule."}, l.Width)
}
