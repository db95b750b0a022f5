package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/fsdiff-nix/fsdiff/internal/names"
	"github.com/fsdiff-nix/fsdiff/internal/persist"
	"github.com/fsdiff-nix/fsdiff/internal/suggest"
	"github.com/spf13/cobra"
)

type persistOptions struct {
	global  *globalOptions
	target  targetOptions
	storage string
	style   string
	apply   bool
	force   bool
}

func newPersistCmd(g *globalOptions, stdout, stderr io.Writer) *cobra.Command {
	opts := persistOptions{global: g}
	cmd := &cobra.Command{
		Use:   "persist [PATH...]",
		Short: "Copy the state to keep into persistent storage",
		Long: `persist audits the root like fsdiff suggest does and copies the persist
anchors not declared yet (or the PATHs given, each such an anchor) into the
persistent storage, at the same path under it: the manual step of the
impermanence guides, done exactly.

By default it only prints the plan: per anchor, the source, the
destination, its entries and bytes, how it will be copied (reflink when the
storage is on the root's btrfs filesystem, else copy) and whether the
destination is new, present (an identical copy) or a conflict. --apply
carries it out, then prints the Nix that declares what it moved (in
--style), to paste before the next boot; on a terminal, it shows its
progress on stderr.

Copies keep every file type (sockets are skipped), owner, group, mode,
timestamps, extended attributes (ACLs, capabilities, SELinux labels), hard
links within an anchor, holes, and create missing parent directories with
their originals' owners and modes. Nothing in storage is overwritten: a
destination that differs is a conflict, skipped (exit status 1) unless
--force, which renames the old copy aside as NAME.fsdiff-old-TIME first.
Each anchor is copied under a temporary name (.fsdiff-persist-*) beside its
destination, synced and renamed into place, so an interrupted run leaves
nothing half-copied under the real name; the next run removes the
temporary and finishes the job. persist refuses a storage inside the
audited root and an anchor that is a mount point.

Exit status:
  0    planned, or copied everything
  1    a destination conflicts
  2    usage error, or an error that stopped the copy
  130  interrupted (SIGINT or SIGTERM)`,
		Example: `  sudo fsdiff persist                       # the plan: changes nothing
  sudo fsdiff persist --apply               # copy, then print the Nix
  sudo fsdiff persist --apply /var/lib/foo --storage /persistent --style preservation`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPersist(cmd.Context(), &opts, args, stdout, stderr)
		},
	}
	f := cmd.Flags()
	opts.target.addFlags(cmd)
	f.StringVar(&opts.storage, "storage", "", "persistent storage path (default: detected from the live root's persistence mounts, else /persist)")
	f.StringVar(&opts.style, "style", string(suggest.Impermanence), "style of the Nix printed after --apply: "+oneOf(strs(suggest.Styles)))
	enumFlag(cmd, "style", strs(suggest.Styles))
	f.BoolVar(&opts.apply, "apply", false, "copy, rather than print the plan")
	f.BoolVar(&opts.force, "force", false, "with --apply: rename a conflicting destination aside, then copy")
	return cmd
}

// persistConflicts is the outcome of a copy that skipped conflicting
// destinations.
type persistConflicts []string

func (e persistConflicts) Error() string {
	return fmt.Sprintf("%d destinations conflict and were left as they are: %s", len(e), strings.Join(quoted(e), ", "))
}

func quoted(paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = names.Escape(p)
	}
	return out
}

var errNoTree = errors.New("a saved send stream holds no files to copy")

func runPersist(ctx context.Context, o *persistOptions, paths []string, stdout, stderr io.Writer) error {
	style := suggest.Style(o.style)
	if !slices.Contains(suggest.Styles, style) {
		return flagError{fmt.Errorf("unknown --style %q: want %s", o.style, oneOf(strs(suggest.Styles)))}
	}
	if o.force && !o.apply {
		return flagError{errors.New("--force goes with --apply")}
	}
	if o.target.SendStream != "" {
		return errNoTree
	}
	a, r, err := scan(ctx, o.global, &o.target, stderr, false)
	if err != nil {
		return err
	}
	defer a.Target.Close()
	opts := suggestOptionsOf(a, o.storage)
	if style == suggest.Preservation {
		opts.FileMode = 0o644
	}
	model := suggest.Build(r.Entries, opts)
	anchors, err := persist.Select(model, paths)
	if err != nil {
		return err
	}
	plan, err := persist.Prepare(a.Target.Root, opts.Storage, anchors)
	if err != nil {
		return err
	}
	defer plan.Close()
	writePlan(stdout, plan, o.apply)
	if !o.apply {
		return cmp.Or(incomplete(r), conflicts(plan))
	}
	var progress func(*persist.Item, int)
	if isTerminal(stderr) {
		progress = showProgress(stderr)
	}
	res, err := plan.Apply(ctx, o.force, progress)
	if progress != nil {
		fmt.Fprint(stderr, "\r\033[K") // the progress line goes
	}
	for _, n := range res.Notes {
		fmt.Fprintf(stderr, "fsdiff: note: %s\n", n)
	}
	for _, p := range res.Aside {
		fmt.Fprintf(stderr, "fsdiff: moved the old copy aside to %s\n", names.Escape(p))
	}
	if len(res.Moved) > 0 {
		fmt.Fprintf(stderr, "fsdiff: copied %d anchors; add this to the configuration before the next boot:\n", len(res.Moved))
		if _, werr := stdout.Write(persist.Restrict(model, res.Moved).Nix(style)); werr != nil {
			return werr
		}
	}
	if err != nil {
		return err
	}
	if len(res.Conflicts) > 0 {
		return persistConflicts(res.Conflicts)
	}
	return incomplete(r)
}

// conflicts is the outcome of a plan with conflicting destinations.
func conflicts(p *persist.Plan) error {
	var c persistConflicts
	for _, it := range p.Items {
		if it.State == persist.Conflict {
			c = append(c, it.Source)
		}
	}
	if len(c) == 0 {
		return nil
	}
	return c
}

// writePlan prints the plan on w (stdout without --apply, where it is the
// answer; with --apply the Nix is, so the plan goes first, as a comment).
func writePlan(w io.Writer, p *persist.Plan, applying bool) {
	prefix := ""
	if applying {
		prefix = "# "
	}
	if len(p.Items) == 0 {
		fmt.Fprintf(w, "%snothing to persist: every persist anchor is declared\n", prefix)
		return
	}
	for _, it := range p.Items {
		fmt.Fprintf(w, "%s%s -> %s  %d entries, %s, %s, %s\n", prefix, names.Escape(it.Source), names.Escape(it.Destination),
			it.Entries, byteCount(it.Bytes), it.How, it.State)
		for _, n := range it.Notes {
			fmt.Fprintf(w, "%s  note: %s\n", prefix, n)
		}
	}
	if !applying {
		fmt.Fprintf(w, "this is a plan: nothing was copied; run with --apply to copy\n")
	}
}

// byteCount writes n in binary units.
func byteCount(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// showProgress returns a progress callback that rewrites one line of a
// terminal: the anchor being copied and its entries copied so far, at
// most every 100 entries, so that printing costs nothing next to copying.
func showProgress(w io.Writer) func(*persist.Item, int) {
	return func(it *persist.Item, done int) {
		if done%100 == 0 || done == it.Entries {
			fmt.Fprintf(w, "\r\033[Kfsdiff: copying %s: %d/%d entries", names.Escape(it.Source), done, it.Entries)
		}
	}
}
