package audit

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sync/atomic"

	"github.com/fsdiff-nix/fsdiff/internal/change"
	"github.com/fsdiff-nix/fsdiff/internal/classify"
	"github.com/fsdiff-nix/fsdiff/internal/snapshot"
)

// Options say what to audit and how to classify what changed.
type Options struct {
	ClassifyOptions
	Target snapshot.Options
	// Warn gets, as it happens, what could not be read but did not stop
	// the audit: a file of the audited root that classification reads
	// (classification is less exact without it), an entry that vanished
	// while the scan ran (fs.ErrNotExist) or one that could not be read.
	// nil drops them; Result counts the entries.
	Warn func(error)
	// Read, when set, counts the changes Run has read so far, for a
	// progress display that reads it while Run runs.
	Read *atomic.Int64
	// Rows makes Run sum the changes up into the rows of the default table
	// (Result.Rows) as they come instead of keeping each one: memory for
	// the rows, not for every change.
	Rows bool
}

func (o *Options) warn(err error) {
	if o.Warn != nil {
		o.Warn(err)
	}
}

// Audit is an opened root and the classifier of its changes.
type Audit struct {
	// Target is what is audited; nil for the running system (Live), which
	// is classified path by path and not scanned.
	Target     *snapshot.Target
	Classifier *classify.Classifier
	Files      RootFiles
	mounts     []snapshot.Mount // what is mounted over a live root
	opts       Options
}

// Open reads the rules, opens the target and builds its classifier from
// the rules, the audited root's /etc/.clean, /etc/passwd and /etc/group,
// and what is mounted over it. Every decision the target made goes to
// Note. The caller closes a.Target.
func Open(opts Options) (_ *Audit, err error) {
	rules, err := opts.LoadRules() // a mistake in a rule file fails before anything is read
	if err != nil {
		return nil, err
	}
	target, err := snapshot.Open(opts.Target)
	if err != nil && opts.Target.SendStream != "" {
		return nil, &InputError{SendStream, err}
	}
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			target.Close()
		}
	}()
	for _, d := range target.Info.Decisions {
		opts.note(d)
	}
	a := &Audit{Target: target, mounts: target.LiveMounts(), opts: opts}
	files, errs := readRootFiles(target.ReadFile)
	for _, err := range errs {
		opts.warn(fmt.Errorf("%w; classification will be less exact", err))
	}
	a.Files = files
	if a.Classifier, err = opts.classifier(rules, files, a.mounts); err != nil {
		return nil, err
	}
	return a, nil
}

// Result is what an audit found.
type Result struct {
	Entries *classify.List // every change and its verdict, in report order; nil with Options.Rows
	Rows    []classify.Row // with Options.Rows: the default table's rows, in report order
	Paths   int            // how many changes there are
	// Problems are what could not be read, vanished entries included, in
	// the order the scan met them.
	Problems []error
	// Vanished counts the entries that vanished while the scan ran (the
	// root may be live), Unreadable the others that could not be read:
	// when it is not zero, the audit is incomplete.
	Vanished, Unreadable int
}

// Run scans the target and classifies every change.
func (a *Audit) Run(ctx context.Context) (*Result, error) {
	r := &Result{}
	var rows classify.Rows
	var to sink = &rows
	if !a.opts.Rows {
		r.Entries = &classify.List{}
		to = r.Entries
	}
	k := startClassifying(a.Classifier, to)
	err := a.Target.Changes(ctx, func(c change.Change) error {
		k.add(c)
		if a.opts.Read != nil {
			a.opts.Read.Add(1)
		}
		return nil
	}, func(err error) {
		r.Problems = append(r.Problems, err)
		if errors.Is(err, fs.ErrNotExist) {
			r.Vanished++
		} else {
			r.Unreadable++
		}
		a.opts.warn(err)
	})
	k.finish()
	if err != nil {
		return nil, err
	}
	if r.Entries != nil {
		r.Entries.Sort()
		r.Paths = r.Entries.Len()
	} else {
		r.Rows, r.Paths = rows.Sorted(), rows.Paths()
	}
	return r, nil
}
