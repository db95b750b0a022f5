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

	"github.com/fsdiff-nix/fsdiff/internal/change"
	"github.com/fsdiff-nix/fsdiff/internal/chunked"
	"github.com/fsdiff-nix/fsdiff/internal/classify"
	"github.com/fsdiff-nix/fsdiff/internal/report"
	"github.com/fsdiff-nix/fsdiff/internal/snapshot"
	"github.com/spf13/pflag"
)

// targetOptions say what to audit; every command that audits has them.
type targetOptions struct {
	snapshot.Options
	verbose bool
}

func (o *targetOptions) addFlags(f *pflag.FlagSet) {
	f.Var(sourceFlag{&o.Source}, "source", "how to find changes: auto, btrfs (generation IDs), send (btrfs send: sees deletions and renames) or walk (compare two directories)")
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
		return fmt.Errorf("want auto, btrfs, send or walk")
	}
	*f.s = change.SourceName(v)
	return nil
}

func (f sourceFlag) Type() string { return "source" }

// audited is an audit done: the open target, its classifier, its
// classified changes in report order, and the files of the audited root
// classification read.
type audited struct {
	target     *snapshot.Target
	classifier *classify.Classifier
	entries    []classify.Entry
	files      rootFiles
	// incomplete is set when something could not be read: the answer is
	// still printed, then the command fails with it.
	incomplete error
	problems   []error // everything that could not be read, vanished entries included
}

// audit opens the target, scans it and classifies every change. The caller
// closes a.target.
func audit(ctx context.Context, g *globalOptions, o *targetOptions, stderr io.Writer) (_ *audited, err error) {
	a, err := openAudit(g, o, stderr)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			a.target.Close()
		}
	}()
	vanished, unreadable := 0, 0
	var entries chunked.List[classify.Entry] // grows without copying; report.Sorted copies each entry once
	err = a.target.Changes(ctx, func(c change.Change) error {
		entries.Append(classify.Entry{Change: c, Verdict: a.classifier.Classify(c)})
		return nil
	}, func(err error) {
		a.problems = append(a.problems, err)
		if errors.Is(err, fs.ErrNotExist) {
			vanished++
		} else {
			unreadable++
		}
		if o.verbose || !errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(stderr, "fsdiff: warning: %v\n", err)
		}
	})
	if err != nil {
		return nil, err
	}
	if vanished > 0 {
		fmt.Fprintf(stderr, "fsdiff: warning: %d entries vanished while the scan ran and are not listed (-v lists them)\n", vanished)
	}
	if unreadable > 0 {
		a.incomplete = fmt.Errorf("%d entries could not be read: the audit is incomplete: %w", unreadable, errIncomplete)
	}
	a.entries = report.Sorted(&entries)
	return a, nil
}

// openAudit opens the target and builds the classifier of its audit: the
// rules, the audited root's /etc/.clean, /etc/passwd and /etc/group, and
// what is mounted over it. explain judges paths with the same classifier.
// The caller closes a.target.
func openAudit(g *globalOptions, o *targetOptions, stderr io.Writer) (_ *audited, err error) {
	rules, err := g.loadRules(o.notes(stderr)) // a mistake in a rule file fails before anything is read
	if err != nil {
		return nil, err
	}
	target, err := snapshot.Open(o.Options)
	if err != nil && o.SendStream != "" {
		return nil, inputError{"--send-stream", err}
	}
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			target.Close()
		}
	}()
	if o.verbose {
		for _, d := range target.Info.Decisions {
			fmt.Fprintf(stderr, "fsdiff: %s\n", d)
		}
	}
	if target.Info.Source == change.Btrfs && target.Info.Baseline == "" && o.Baseline == "" {
		fmt.Fprintln(stderr, "fsdiff: note: no blank snapshot found; listing everything since the root was created")
		fmt.Fprintln(stderr, "fsdiff: hint: if you keep a blank snapshot, pass --baseline SUBVOL")
	}
	a := &audited{target: target}
	for name, dst := range map[string]*[]byte{"/etc/.clean": &a.files.etcClean, "/etc/passwd": &a.files.passwd, "/etc/group": &a.files.group} {
		if *dst, err = target.ReadFile(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(stderr, "fsdiff: warning: %v; classification will be less exact\n", err)
		}
	}
	if a.classifier, err = g.classifier(rules, a.files, target.LiveMounts()); err != nil {
		return nil, err
	}
	return a, nil
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
