package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"time"

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
	f.StringVar(&o.Mount, "mount", "", "top level of the btrfs filesystem (mounted with -o subvolid=5)")
	f.StringVar(&o.Root, "root", "", "root subvolume: path under the top level, or absolute directory (default: the subvolume mounted at /)")
	f.StringVar(&o.Baseline, "baseline", "", "blank snapshot to compare with, in the same forms as --root (default: detected)")
	f.StringVar(&o.Device, "device", "", "device to mount the top level from, privately and read-only (default: the device of /)")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "say what was detected and chosen, on stderr")
}

// audited is an audit done: the open target, its classified changes in
// report order, and the files of the audited root classification read.
type audited struct {
	target  *snapshot.Target
	entries []classify.Entry
	files   rootFiles
}

// audit opens the target, scans it and classifies every change. The caller
// closes a.target.
func audit(ctx context.Context, g *globalOptions, o *targetOptions, stderr io.Writer) (_ *audited, err error) {
	rules, err := g.loadRules() // a mistake in a rule file fails before anything is read
	if err != nil {
		return nil, err
	}
	target, err := snapshot.Open(o.Options)
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
	if target.Info.Baseline == "" && o.Baseline == "" {
		fmt.Fprintln(stderr, "fsdiff: note: no blank snapshot found; listing everything since the root was created")
		fmt.Fprintln(stderr, "fsdiff: hint: if you keep a blank snapshot, pass --baseline SUBVOL")
	}
	a := &audited{target: target}
	for name, dst := range map[string]*[]byte{"/etc/.clean": &a.files.etcClean, "/etc/passwd": &a.files.passwd, "/etc/group": &a.files.group} {
		if *dst, err = target.ReadFile(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(stderr, "fsdiff: warning: %v; classification will be less exact\n", err)
		}
	}
	classifier, err := g.classifier(rules, a.files, target.LiveMounts())
	if err != nil {
		return nil, err
	}
	problems := 0
	err = target.Changes(ctx, func(c snapshot.Change) error {
		a.entries = append(a.entries, classify.Entry{Change: c, Verdict: classifier.Classify(c)})
		return nil
	}, func(err error) {
		problems++
		if o.verbose {
			fmt.Fprintf(stderr, "fsdiff: warning: %v\n", err)
		}
	})
	if err != nil {
		return nil, err
	}
	if problems > 0 {
		fmt.Fprintf(stderr, "fsdiff: warning: %d entries vanished while the scan ran and are not listed (-v lists them)\n", problems)
	}
	report.Sort(a.entries)
	return a, nil
}

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
