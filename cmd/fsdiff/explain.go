package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/fsdiff-nix/fsdiff/internal/audit"
	"github.com/fsdiff-nix/fsdiff/internal/classify"
	"github.com/fsdiff-nix/fsdiff/internal/names"
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
	var b strings.Builder
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
		fmt.Fprintf(&b, "%s (%s)\n", names.Escape(p), typ)
		fmt.Fprintf(&b, "  %s%s, anchor %s\n", v.Category, priority(v.Priority), names.Escape(v.Anchor))
		fmt.Fprintf(&b, "  reason: %s\n", v.Reason)
		if v.Source != "" {
			fmt.Fprintf(&b, "  source: %s\n", v.Source)
		}
		if structural {
			fmt.Fprintf(&b, "  decided by the %s detector, before any rule\n", v.Rule)
		}
		if len(matches) == 0 {
			b.WriteString("  no rule matches\n")
			continue
		}
		b.WriteString("  rules that match, in order of precedence:\n")
		decided := structural
		for _, m := range matches {
			mark := "   "
			if !decided && m.Inactive == "" {
				mark, decided = "  →", true // the first active rule wins
			}
			fmt.Fprintf(&b, "  %s %-16s %-9s %-11s %s", mark, m.Rule, m.Category, m.Priority, m.Pattern)
			if m.Inactive != "" {
				fmt.Fprintf(&b, "  (inactive: %s)", m.Inactive)
			}
			b.WriteByte('\n')
		}
	}
	_, err = io.WriteString(stdout, b.String())
	return err
}

func priority(p classify.Priority) string {
	if p == classify.NoPriority {
		return ""
	}
	return " (" + p.String() + ")"
}
