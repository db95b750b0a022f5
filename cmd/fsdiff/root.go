package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/fsdiff-nix/fsdiff/internal/classify"
	"github.com/fsdiff-nix/fsdiff/internal/report"
	"github.com/fsdiff-nix/fsdiff/internal/snapshot"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"
)

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmd := newRootCmd(stdout, stderr)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	var fe flagError
	if errors.As(err, &fe) {
		fmt.Fprintln(stderr, cmd.UsageString())
	}
	return exitCode(err, stderr)
}

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	g := &globalOptions{}
	opts := auditOptions{global: g}
	cmd := &cobra.Command{
		Use:   "fsdiff",
		Short: "Find the undeclared state on an erased-at-boot NixOS root",
		Long: `fsdiff lists what changed on the root subvolume since its blank snapshot:
every created, modified and re-permissioned file, directory, symlink, fifo,
socket, device node and subvolume, classified as managed by NixOS,
ephemeral, or unknown.

With no flags it audits the running system: the btrfs subvolume mounted at
/, read through a private read-only mount of its filesystem's top level,
against the subvolume it was snapshotted from (else a blank snapshot with a
conventional name such as root-blank, else the root's own creation). -v says
what it chose. It never writes to the filesystem it audits.
` + exitStatusHelp,
		Example: `  sudo fsdiff                                   # audit the running root
  sudo fsdiff --all                             # one line per path
  sudo fsdiff --format paths -0 | xargs -0 ls -ld
  sudo mount -o subvolid=5 /dev/vda3 /mnt
  sudo fsdiff --mount /mnt --root root --baseline root-blank`,
		Args: func(cmd *cobra.Command, args []string) error {
			if err := cobra.NoArgs(cmd, args); err != nil {
				return flagError{err}
			}
			return nil
		},
		SilenceErrors: true,
		SilenceUsage:  true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAudit(cmd.Context(), &opts, stdout, stderr)
		},
	}
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return flagError{err} })
	opts.addFlags(cmd.Flags())
	g.addFlags(cmd.PersistentFlags())
	cmd.AddCommand(newVersionCmd(stdout), newExplainCmd(g, stdout), newRulesCmd(g, stdout))
	return cmd
}

type auditOptions struct {
	global  *globalOptions
	target  snapshot.Options
	format  string
	all     bool
	null    bool
	verbose bool
}

func (o *auditOptions) addFlags(f *pflag.FlagSet) {
	f.StringVar(&o.target.Mount, "mount", "", "top level of the btrfs filesystem (mounted with -o subvolid=5)")
	f.StringVar(&o.target.Root, "root", "", "root subvolume: path under the top level, or absolute directory (default: the subvolume mounted at /)")
	f.StringVar(&o.target.Baseline, "baseline", "", "blank snapshot to compare with, in the same forms as --root (default: detected)")
	f.StringVar(&o.target.Device, "device", "", "device to mount the top level from, privately and read-only (default: the device of /)")
	formats := make([]string, len(report.Formats))
	for i, f := range report.Formats {
		formats[i] = string(f)
	}
	f.StringVarP(&o.format, "format", "f", "", "output format: "+strings.Join(formats, ", ")+" (default: table on a terminal, tsv otherwise)")
	f.BoolVarP(&o.all, "all", "a", false, "table: one row per changed path instead of one per directory")
	f.BoolVarP(&o.null, "null", "0", false, "paths: end each path with NUL and write it unescaped")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "say what was detected and chosen, on stderr")
}

// outputOptions checks the output flags against each other.
func (o *auditOptions) outputOptions(stdout io.Writer) (report.Options, error) {
	f := report.Format(o.format)
	switch {
	case f == "" && o.null:
		f = report.Paths
	case f == "" && isTerminal(stdout):
		f = report.Table
	case f == "":
		f = report.TSV
	}
	if !slices.Contains(report.Formats, f) {
		return report.Options{}, flagError{fmt.Errorf("unknown --format %q", o.format)}
	}
	if o.null && f != report.Paths {
		return report.Options{}, flagError{fmt.Errorf("-0 goes with --format paths, not %s", f)}
	}
	return report.Options{Format: f, All: o.all, Null: o.null}, nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func runAudit(ctx context.Context, o *auditOptions, stdout, stderr io.Writer) error {
	out, err := o.outputOptions(stdout)
	if err != nil {
		return err
	}
	rules, err := o.global.loadRules() // a mistake in a rule file fails before anything is read
	if err != nil {
		return err
	}
	target, err := snapshot.Open(o.target)
	if err != nil {
		return err
	}
	defer target.Close()
	if o.verbose {
		for _, d := range target.Info.Decisions {
			fmt.Fprintf(stderr, "fsdiff: %s\n", d)
		}
	}
	if target.Info.Baseline == "" && o.target.Baseline == "" {
		fmt.Fprintln(stderr, "fsdiff: note: no blank snapshot found; listing everything since the root was created")
		fmt.Fprintln(stderr, "fsdiff: hint: if you keep a blank snapshot, pass --baseline SUBVOL")
	}
	var files rootFiles
	for name, dst := range map[string]*[]byte{"/etc/.clean": &files.etcClean, "/etc/passwd": &files.passwd} {
		if *dst, err = target.ReadFile(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(stderr, "fsdiff: warning: %v; classification will be less exact\n", err)
		}
	}
	classifier, err := o.global.classifier(rules, files, target.LiveMounts())
	if err != nil {
		return err
	}
	var entries []classify.Entry
	problems := 0
	err = target.Changes(ctx, func(c snapshot.Change) error {
		entries = append(entries, classify.Entry{Change: c, Verdict: classifier.Classify(c)})
		return nil
	}, func(err error) {
		problems++
		if o.verbose {
			fmt.Fprintf(stderr, "fsdiff: warning: %v\n", err)
		}
	})
	if err != nil {
		return err
	}
	if problems > 0 {
		fmt.Fprintf(stderr, "fsdiff: warning: %d entries vanished while the scan ran and are not listed (-v lists them)\n", problems)
	}
	report.Sort(entries)
	audit := report.Audit{Version: version(), Time: time.Now(), Source: target.Info}
	return report.Write(stdout, audit, entries, out)
}
