package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/fsdiff-nix/fsdiff/internal/audit"
	"github.com/fsdiff-nix/fsdiff/internal/report"
	"github.com/fsdiff-nix/fsdiff/internal/tables"
	"github.com/spf13/cobra"
)

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRootCmd(stdout, stderr)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	code := exitCode(err, stderr)
	if errors.As(err, new(flagError)) {
		fmt.Fprint(stderr, "\n"+cmd.UsageString())
	}
	return code
}

// extraCommands are commands that only some builds have (man.go).
var extraCommands []func(stdout io.Writer) *cobra.Command

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	g := &globalOptions{}
	opts := auditOptions{global: g}
	cmd := &cobra.Command{
		Use:   "fsdiff",
		Short: "Find the undeclared state on an erased-at-boot NixOS root",
		Long: `fsdiff lists what changed on the root subvolume since its blank snapshot:
every created, modified and re-permissioned file, directory, symlink, fifo,
socket, device node and subvolume, each classified as state to persist,
unknown, already persisted, ephemeral or managed by NixOS, with the rule
and its reason (fsdiff explain PATH, fsdiff rules). fsdiff suggest writes
the Nix that persists it; fsdiff diff compares two saved reports.

With no flags it audits the running system: the btrfs subvolume mounted at
/, read through a private read-only mount of its filesystem's top level,
against the subvolume it was snapshotted from (else a blank snapshot with a
conventional name such as root-blank, else the root's own creation). -v says
what it chose. It never writes to the filesystem it audits.

On a terminal, tables fit its width ($COLUMNS when set; -l shows whole
cells), categories are coloured (--color, NO_COLOR), each table ends with
a summary and the next step, and a scan longer than a second shows its
progress on stderr (-q: neither). Off a terminal the output is TSV unless
--format says otherwise, without colour, summary or progress.
` + exitStatusHelp,
		Example: `  sudo fsdiff                                   # audit the running root
  sudo fsdiff --all                             # one line per path
  sudo fsdiff --format paths -0 | xargs -0 ls -ld
  sudo mount -o subvolid=5 /dev/vda3 /mnt
  sudo fsdiff --mount /mnt --root root --baseline root-blank`,
		Args:          usage(cobra.NoArgs),
		SilenceErrors: true,
		SilenceUsage:  true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAudit(cmd.Context(), &opts, stdout, stderr)
		},
	}
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	// --version, as most tools have it, says what fsdiff version says.
	cmd.Version = versionLine()
	cmd.SetVersionTemplate("{{.Version}}")
	cmd.Flags().Bool("version", false, "print the version, as fsdiff version does")
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return flagError{err} })
	opts.addFlags(cmd)
	g.addFlags(cmd)
	cmd.AddCommand(newVersionCmd(stdout), newExplainCmd(g, stdout, stderr), newRulesCmd(g, stdout), newSuggestCmd(g, stdout, stderr), newCheckCmd(g, stdout, stderr), newPersistCmd(g, stdout, stderr), newWatchCmd(g, stdout, stderr), newDiffCmd(g, stdout))
	for _, extra := range extraCommands {
		cmd.AddCommand(extra(stdout))
	}
	strictCompletion(cmd)
	return cmd
}

type auditOptions struct {
	global *globalOptions
	target targetOptions
	output outputFlags
}

func (o *auditOptions) addFlags(cmd *cobra.Command) {
	o.target.addFlags(cmd)
	o.output.addFlags(cmd, "table: one row per changed path instead of one per directory")
}

// outputFlags choose how the audit and fsdiff diff write: a table for
// people (package tables) or a format for programs (package report).
type outputFlags struct {
	format string
	all    bool
	null   bool
}

func (o *outputFlags) addFlags(cmd *cobra.Command, allHelp string) {
	f := cmd.Flags()
	f.StringVarP(&o.format, "format", "f", "", "output format: "+strings.Join(strs(report.Formats), ", ")+" (default: table on a terminal, tsv otherwise)")
	enumFlag(cmd, "format", strs(report.Formats))
	f.BoolVarP(&o.all, "all", "a", false, allHelp)
	f.BoolVarP(&o.null, "null", "0", false, "paths: end each path with NUL and write it unescaped")
}

// output is what the output flags chose: a format, and how a table looks.
type output struct {
	report.Options
	layout tables.Layout
}

// options checks the output flags against each other.
func (o *outputFlags) options(stdout io.Writer, g *globalOptions) (output, error) {
	f := report.Format(o.format)
	switch {
	case f == "" && o.null:
		f = report.Paths
	case f == "":
		f = report.Format(tableOrTSV(stdout))
	}
	if err := checkFormat(string(f), strs(report.Formats)); err != nil {
		return output{}, err
	}
	if o.null && f != report.Paths {
		return output{}, flagError{fmt.Errorf("-0 goes with --format paths, not %s", f)}
	}
	return output{report.Options{Format: f, All: o.all, Null: o.null}, g.layout(stdout, true)}, nil
}

// rowsOnly says whether the output is the default table, which needs the
// audit's rows and not each change.
func (o output) rowsOnly() bool { return o.Format == report.Table && !o.All }

// writeAudit writes what the audit found: a table for people, or a format
// for programs.
func (o output) writeAudit(w io.Writer, info report.Audit, r *audit.Result) error {
	switch {
	case o.rowsOnly():
		return tables.Audit(w, r.Rows, r.Paths, o.layout)
	case o.Format == report.Table:
		return tables.AuditAll(w, r.Entries, o.layout)
	}
	return report.Write(w, info, r.Entries, o.Options)
}

// tableOrTSV is the default format of a command that prints a table: a
// table for people on a terminal, TSV for pipes and files.
func tableOrTSV(w io.Writer) string {
	if isTerminal(w) {
		return "table"
	}
	return "tsv"
}

func runAudit(ctx context.Context, o *auditOptions, stdout, stderr io.Writer) error {
	out, err := o.output.options(stdout, o.global)
	if err != nil {
		return err
	}
	a, r, err := scan(ctx, o.global, &o.target, stderr, out.rowsOnly())
	if err != nil {
		return err
	}
	defer a.Target.Close()
	info := report.Audit{Version: version(), Time: now(), Source: a.Target.Info}
	if err := out.writeAudit(stdout, info, r); err != nil {
		return err
	}
	return incomplete(r)
}
