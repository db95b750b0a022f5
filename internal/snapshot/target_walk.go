//go:build unix

package snapshot

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/fsdiff-nix/fsdiff/internal/change"
	"golang.org/x/sys/unix"
)

// openWalk opens a root directory to walk against a baseline directory or
// nothing. live says that the root is the running system's "/", found by
// detection: then the baseline is nothing unless given, and the system's
// own mounts and directories are skipped.
func openWalk(opts Options, live bool) (_ *Target, err error) {
	t := &Target{Info: change.Info{Source: change.Walk}}
	defer func() {
		if err != nil {
			t.Close()
		}
	}()
	root := opts.Root
	if root == "" || root == "/" {
		root, live = "/", true // the running system's root, however it was chosen
	}
	if !filepath.IsAbs(root) {
		return nil, fmt.Errorf("root %q: %w", root, ErrWalkRelative)
	}
	fd, err := openDirAt(unix.AT_FDCWD, root)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrWalkDir, &os.PathError{Op: "open", Path: root, Err: err})
	}
	t.Root = os.NewFile(uintptr(fd), root)
	t.closers = append(t.closers, t.Root.Close)
	t.Root = t.readOnlyView(t.Root)
	walk := WalkOptions{Root: root, Content: opts.Content, Skip: map[string]bool{}}
	t.Info.Root = root
	if live {
		t.note("root: %s, the running system's root (walk)", root)
		for _, p := range LiveSkips {
			walk.Skip[p] = true
		}
		t.liveMounts, _ = MountTable() // without it, nothing is declared by mounts
	} else {
		t.note("root: %s (walk)", root)
	}
	var baseDir *os.File
	switch base := opts.Baseline; {
	case base == NoBaseline || base == "" && live:
		t.note("baseline: none; every entry is new")
	case base == "":
		return nil, fmt.Errorf("%w to walk %s against", ErrNoBaseline, root)
	case !filepath.IsAbs(base):
		return nil, fmt.Errorf("baseline %q: %w", base, ErrWalkRelative)
	default:
		fd, err := openDirAt(unix.AT_FDCWD, base)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrWalkDir, &os.PathError{Op: "open", Path: base, Err: err})
		}
		baseDir = os.NewFile(uintptr(fd), base)
		t.closers = append(t.closers, baseDir.Close)
		baseDir = t.readOnlyView(baseDir)
		walk.Baseline = base
		t.Info.Baseline = base
		t.note("baseline: directory %s", base)
	}
	if walk.Content {
		t.note("comparing the content of regular files whose metadata is equal")
	}
	t.source = walkSource{opts: walk, root: t.Root, base: baseDir}
	return t, nil
}

// walkSource walks a root directory against a baseline directory, or
// against nothing when base is nil.
type walkSource struct {
	opts       WalkOptions
	root, base *os.File // read-only views
}

func (s walkSource) Changes(ctx context.Context, emit func(change.Change) error, problem func(error)) error {
	// Fresh descriptors of the views, which the walk reads and closes.
	rootFd, err := openDirAt(int(s.root.Fd()), ".")
	if err != nil {
		return &os.PathError{Op: "open", Path: s.opts.Root, Err: err}
	}
	baseFd := -1
	if s.base != nil {
		if baseFd, err = openDirAt(int(s.base.Fd()), "."); err != nil {
			unix.Close(rootFd)
			return &os.PathError{Op: "open", Path: s.base.Name(), Err: err}
		}
	}
	return walkDirs(ctx, s.opts, rootFd, baseFd, emit, problem)
}
