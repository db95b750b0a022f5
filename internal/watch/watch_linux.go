package watch

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/fsdiff-nix/fsdiff/internal/change"
	"github.com/fsdiff-nix/fsdiff/internal/classify"
	"github.com/fsdiff-nix/fsdiff/internal/snapshot"
	"github.com/fsnotify/fsnotify"
	"golang.org/x/sys/unix"
)

// Errors that name their remedy.
var (
	ErrWatches   = errors.New("out of inotify watches")
	ErrInstances = errors.New("out of inotify instances")
)

// Run watches until ctx is done and returns what it saw.
func Run(ctx context.Context, opts Options) (*Summary, error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		if errors.Is(err, unix.EMFILE) {
			return nil, fmt.Errorf("%w: raise fs.inotify.max_user_instances (now %s): %v", ErrInstances, sysctl("max_user_instances"), err)
		}
		return nil, err
	}
	defer w.Close()
	root, err := os.Open("/")
	if err != nil {
		return nil, err
	}
	defer root.Close()
	r := &runner{opts: opts, w: w, tally: newTally(), mounts: map[string]uint64{}}
	r.stat, r.statDone = snapshot.TreeStat(root)
	defer r.statDone()
	for _, p := range opts.Paths {
		mnt, err := mountID(p)
		if err != nil {
			return nil, &os.PathError{Op: "stat", Path: p, Err: err}
		}
		r.mounts[p] = mnt
		// The initial scan only watches: what exists already is not new.
		if err := r.watchTree(p, p, false); err != nil {
			return nil, err
		}
	}
	if opts.started != nil {
		opts.started()
	}
	for {
		select {
		case <-ctx.Done():
			return r.tally.summary(), nil
		case ev, ok := <-w.Events:
			if !ok {
				return r.tally.summary(), nil
			}
			if err := r.event(ev); err != nil {
				return nil, err
			}
		case err, ok := <-w.Errors:
			if !ok {
				return r.tally.summary(), nil
			}
			if !errors.Is(err, fsnotify.ErrEventOverflow) {
				return nil, err
			}
			r.notice("the kernel's event queue overflowed (fs.inotify.max_queued_events is " + sysctl("max_queued_events") + "); rescanning")
			for _, p := range opts.Paths {
				if err := r.watchTree(p, p, true); err != nil {
					return nil, err
				}
			}
		}
	}
}

type runner struct {
	opts     Options
	w        *fsnotify.Watcher
	tally    *tally
	mounts   map[string]uint64                       // watched root → its mount ID
	stat     func(path string) (change.Change, bool) // what is at an absolute path now
	statDone func()                                  // releases the directory stat holds
}

func (r *runner) notice(msg string) {
	if r.opts.Notice != nil {
		r.opts.Notice(msg)
	}
}

// rootOf returns the watched root a path is under.
func (r *runner) rootOf(p string) string {
	for root := range r.mounts {
		if p == root || strings.HasPrefix(p, strings.TrimSuffix(root, "/")+"/") {
			return root
		}
	}
	return ""
}

// watchTree adds a watch on dir and every directory under it on the same
// mount, and with report, reports every entry as it goes: watch first,
// then read, so nothing created in between is missed.
func (r *runner) watchTree(root, dir string, report bool) error {
	if r.opts.Skip[dir] {
		return nil
	}
	if err := r.w.Add(dir); err != nil {
		switch {
		case errors.Is(err, unix.ENOSPC):
			return fmt.Errorf("%w: watching %s: raise fs.inotify.max_user_watches (now %s) above the number of directories to watch (%s has %d)",
				ErrWatches, dir, sysctl("max_user_watches"), root, countDirs(root, r.opts.Skip))
		case errors.Is(err, fs.ErrNotExist), errors.Is(err, unix.ENOTDIR):
			return nil // gone already
		case errors.Is(err, fs.ErrPermission):
			r.notice(fmt.Sprintf("cannot watch %s: %v", dir, err))
			return nil
		}
		return err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			r.notice(fmt.Sprintf("cannot read %s: %v", dir, err))
		}
		return nil
	}
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		if report {
			r.seen(p, change.Created)
		}
		if e.IsDir() {
			if mnt, err := mountID(p); err != nil || mnt != r.mounts[root] {
				continue // another mount: declared state, or a kernel filesystem
			}
			if err := r.watchTree(root, p, report); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *runner) event(ev fsnotify.Event) error {
	p := ev.Name
	root := r.rootOf(p)
	if root == "" || r.opts.Skip[p] {
		return nil
	}
	switch {
	case ev.Has(fsnotify.Create):
		st, err := os.Lstat(p)
		if err != nil {
			return nil // gone already
		}
		r.seen(p, change.Created)
		if st.IsDir() {
			if mnt, err := mountID(p); err == nil && mnt == r.mounts[root] {
				return r.watchTree(root, p, true)
			}
		}
	case ev.Has(fsnotify.Write):
		r.seen(p, change.Modified)
	case ev.Has(fsnotify.Chmod):
		r.seen(p, change.Metadata)
	}
	return nil
}

// seen classifies a path and reports it if it is new.
func (r *runner) seen(p string, kind change.Kind) {
	defer r.statDone() // hold no directory of the live tree between events
	c, ok := r.stat(p)
	if !ok {
		return
	}
	c.Kind = kind
	e := classify.Entry{Change: c, Verdict: r.opts.Classifier.Classify(c)}
	isNew, a := r.tally.add(e, r.opts.All, r.stat)
	if !isNew {
		return
	}
	if counted(e.Verdict) && !r.opts.All {
		if r.opts.Aggregate != nil && powerOfTen(a.Paths) {
			r.opts.Aggregate(*a)
		}
		return
	}
	if r.opts.Report != nil {
		r.opts.Report(e)
	}
}

func mountID(p string) (uint64, error) {
	var sx unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, p, unix.AT_SYMLINK_NOFOLLOW, unix.STATX_MNT_ID, &sx); err != nil {
		return 0, err
	}
	return sx.Mnt_id, nil
}

func sysctl(name string) string {
	b, err := os.ReadFile("/proc/sys/fs/inotify/" + name)
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}

// countDirs counts the directories a watch of root needs.
func countDirs(root string, skip map[string]bool) int {
	n := 0
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if skip[p] {
			return filepath.SkipDir
		}
		n++
		return nil
	})
	return n
}
