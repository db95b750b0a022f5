package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/fsdiff-nix/fsdiff/internal/names"

	"github.com/fsdiff-nix/fsdiff/internal/classify"
	"github.com/fsdiff-nix/fsdiff/internal/snapshot"
	"github.com/spf13/cobra"
)

func newExplainCmd(g *globalOptions, stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "explain PATH...",
		Short: "Say why a path is in its category: every rule that matches, and the winner",
		Long: `explain classifies each PATH as an audit of this host would, and lists the
structural detector that decided, or every rule that matches in order of
precedence (user rules first, then the more specific pattern), marking the
one that wins. A PATH that exists is classified as what it is (a symlink
with its target, a socket...); one that does not, as a regular file. Homes
and /etc/.clean come from this host; --rules, --declared and --context apply.
` + exitStatusHelp,
		Example: `  fsdiff explain /var/lib/nixos/uid-map /etc/machine-id
  fsdiff explain --context mutable-users /etc/passwd`,
		Args: usage(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runExplain(cmd.Context(), g, args, stdout)
		},
	}
}

func runExplain(_ context.Context, g *globalOptions, paths []string, stdout io.Writer) error {
	c, _, err := g.liveClassifier()
	if err != nil {
		return err
	}
	var b strings.Builder
	for i, p := range paths {
		if !strings.HasPrefix(p, "/") {
			return flagError{fmt.Errorf("%q: explain takes absolute paths, as the audit reports them", p)}
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		ch := describe(p)
		v, structural, matches := c.Explain(ch)
		fmt.Fprintf(&b, "%s (%s)\n", names.Escape(p), ch.Type)
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

// describe returns path as a change: what the path is on this host, or a
// regular file if it does not exist.
func describe(path string) snapshot.Change {
	ch := snapshot.Change{Path: path, Kind: snapshot.Created, Type: snapshot.File}
	fi, err := os.Lstat(path)
	if err != nil {
		return ch
	}
	switch m := fi.Mode(); {
	case m.IsDir():
		ch.Type = snapshot.Dir
	case m&fs.ModeSymlink != 0:
		ch.Type = snapshot.Symlink
		ch.Target, _ = os.Readlink(path)
	case m&fs.ModeNamedPipe != 0:
		ch.Type = snapshot.FIFO
	case m&fs.ModeSocket != 0:
		ch.Type = snapshot.Socket
	case m&fs.ModeCharDevice != 0:
		ch.Type = snapshot.CharDev
	case m&fs.ModeDevice != 0:
		ch.Type = snapshot.BlockDev
	}
	return ch
}
