package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/fsdiff-nix/fsdiff/internal/audit"
	"github.com/fsdiff-nix/fsdiff/internal/change"
	"github.com/fsdiff-nix/fsdiff/internal/snapshot"
	"github.com/spf13/cobra"
)

// targetOptions say what to audit; every command that audits has them.
type targetOptions struct {
	snapshot.Options
	verbose bool
}

func (o *targetOptions) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.Var(sourceFlag{&o.Source}, "source", "how to find changes: auto, btrfs (generation IDs), send (btrfs send: sees deletions and renames) or walk (compare two directories)")
	enumFlag(cmd, "source", strs(change.SourceNames))
	f.StringVar(&o.SendStream, "send-stream", "", "read a saved `FILE` of btrfs send -p BASELINE (- for stdin) instead of a root")
	f.StringVar(&o.Mount, "mount", "", "top level of the btrfs filesystem (mounted with -o subvolid=5)")
	f.StringVar(&o.Root, "root", "", "root subvolume: path under the top level, or absolute directory (default: the subvolume mounted at /)")
	f.StringVar(&o.Baseline, "baseline", "", "blank snapshot to compare with, in the same forms as --root, or none (default: detected)")
	f.BoolVar(&o.Content, "content", false, "walk: also compare the content of regular files whose metadata is equal")
	f.StringVar(&o.Device, "device", "", "device to mount the top level from, privately and read-only (default: the device of /)")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "say what was detected and chosen, on stderr")
}

// given says whether any flag names what to audit: without one, explain
// judges paths of the running system.
func (o *targetOptions) given() bool {
	return o.Source != "" || o.SendStream != "" || o.Mount != "" || o.Root != "" || o.Baseline != "" || o.Device != ""
}

// notes is where -v notes go: stderr with -v, else nowhere.
func (o *targetOptions) notes(stderr io.Writer) io.Writer {
	if o.verbose {
		return stderr
	}
	return nil
}

// sourceFlag is --source, checked when parsed.
type sourceFlag struct{ s *change.SourceName }

func (f sourceFlag) String() string {
	if *f.s == "" {
		return string(change.Auto)
	}
	return string(*f.s)
}

func (f sourceFlag) Set(v string) error {
	if !slices.Contains(change.SourceNames, change.SourceName(v)) {
		return fmt.Errorf("want %s", oneOf(strs(change.SourceNames)))
	}
	*f.s = change.SourceName(v)
	return nil
}

func (f sourceFlag) Type() string { return "source" }

// auditOptions turns the flags into the options of an audit whose notes
// (-v) and warnings go to stderr.
func (o *targetOptions) auditOptions(g *globalOptions, stderr io.Writer) audit.Options {
	return audit.Options{
		ClassifyOptions: g.classifyOptions(o.notes(stderr)),
		Target:          o.Options,
		Warn: func(err error) {
			if o.verbose || !errors.Is(err, fs.ErrNotExist) {
				fmt.Fprintf(stderr, "fsdiff: warning: %v\n", err)
			}
		},
	}
}

// openAudit opens the audit the flags name. explain judges paths with its
// classifier. The caller closes a.Target.
func openAudit(g *globalOptions, o *targetOptions, stderr io.Writer) (*audit.Audit, error) {
	return openWith(o.auditOptions(g, stderr), o, stderr)
}

func openWith(opts audit.Options, o *targetOptions, stderr io.Writer) (*audit.Audit, error) {
	a, err := audit.Open(opts)
	if err != nil {
		return nil, err
	}
	if info := a.Target.Info; info.Source == change.Btrfs && info.Baseline == "" && o.Baseline == "" {
		fmt.Fprintln(stderr, "fsdiff: note: no blank snapshot found; listing everything since the root was created")
		fmt.Fprintln(stderr, "fsdiff: hint: if you keep a blank snapshot, pass --baseline SUBVOL")
	}
	return a, nil
}

// scan opens the audit the flags name, scans it and classifies every
// change, with a progress line on a terminal; with rows, it keeps the
// default table's rows, not each change (audit.Options.Rows). The caller
// closes a.Target.
func scan(ctx context.Context, g *globalOptions, o *targetOptions, stderr io.Writer, rows bool) (*audit.Audit, *audit.Result, error) {
	p := newProgress(stderr, g.quiet)
	var warn io.Writer = stderr
	if p != nil {
		warn = p // warnings while the scan runs erase the line first
	}
	opts := o.auditOptions(g, warn)
	opts.Rows = rows
	if p != nil {
		opts.Read = &p.read
	}
	a, err := openWith(opts, o, stderr)
	if err != nil {
		return nil, nil, err
	}
	end := func() {}
	if p != nil {
		end = p.begin()
	}
	r, err := a.Run(ctx)
	end()
	if err != nil {
		a.Target.Close()
		return nil, nil, err
	}
	if r.Vanished > 0 {
		fmt.Fprintf(stderr, "fsdiff: warning: %d entries vanished while the scan ran and are not listed (-v lists them)\n", r.Vanished)
	}
	return a, r, nil
}

// incomplete is the error of an audit that could not read everything: the
// answer is still printed, then the command fails with it.
func incomplete(r *audit.Result) error {
	if r.Unreadable == 0 {
		return nil
	}
	return fmt.Errorf("%d entries could not be read: the audit is incomplete: %w", r.Unreadable, errIncomplete)
}

var errIncomplete = errors.New("see the warnings above")

// now is the time reports and suggestions are stamped with:
// $SOURCE_DATE_EPOCH when set, for reproducible output.
func now() time.Time {
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		if sec, err := strconv.ParseInt(s, 10, 64); err == nil {
			return time.Unix(sec, 0).UTC()
		}
	}
	return time.Now()
}
