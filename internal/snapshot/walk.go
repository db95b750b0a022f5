//go:build unix

package snapshot

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/fsdiff-nix/fsdiff/internal/change"
	"github.com/fsdiff-nix/fsdiff/internal/fdio"
	"golang.org/x/sys/unix"
)

// WalkOptions configure a directory walk.
type WalkOptions struct {
	Root     string          // the directory to audit
	Baseline string          // the directory to compare with; empty: nothing, everything is created
	Skip     map[string]bool // paths (as reported, "/nix") not to enter or report
	Content  bool            // hash regular files whose metadata is equal
}

// stat is what the walk compares of an entry.
type stat struct {
	mode         uint32 // st_mode
	uid, gid     uint32
	size         int64
	mtime, ctime int64 // nanoseconds
	ino          uint64
	nlink        uint32
	dev          uint64
	mnt          uint64 // mount ID where the kernel gives it, else 0
}

// Walk compares the tree at opts.Root with opts.Baseline and reports
// created, modified, metadata and deleted entries; a name that disappeared
// and one that appeared with the same inode number (a snapshot baseline
// keeps them) is renamed. It never follows a symlink and never leaves the
// root's filesystem or mount: a nested btrfs subvolume is reported, not
// entered; a mount point is neither. Directories it cannot read go to
// problem; the walk goes on.
func Walk(ctx context.Context, opts WalkOptions, emit func(change.Change) error, problem func(error)) error {
	rootFd, err := openDirAt(unix.AT_FDCWD, opts.Root)
	if err != nil {
		return &os.PathError{Op: "open", Path: opts.Root, Err: err}
	}
	baseFd := -1
	if opts.Baseline != "" {
		if baseFd, err = openDirAt(unix.AT_FDCWD, opts.Baseline); err != nil {
			unix.Close(rootFd)
			return &os.PathError{Op: "open", Path: opts.Baseline, Err: err}
		}
	}
	return walkDirs(ctx, opts, rootFd, baseFd, emit, problem)
}

// walkDirs is Walk of the open directories rootFd and baseFd (-1 for no
// baseline), which opts.Root and opts.Baseline name; it closes them.
func walkDirs(ctx context.Context, opts WalkOptions, rootFd, baseFd int, emit func(change.Change) error, problem func(error)) error {
	closeAll := func() { // until w.dir owns them
		unix.Close(rootFd)
		if baseFd >= 0 {
			unix.Close(baseFd)
		}
	}
	rootSt, err := statAt(rootFd, "")
	if err != nil {
		closeAll()
		return &os.PathError{Op: "stat", Path: opts.Root, Err: err}
	}
	// The walk's batches go to this goroutine, which emits them while the
	// walk goes on: classifying overlaps with reading, and a batch is
	// garbage once emitted instead of waiting for the whole tree. When emit
	// fails, the walk is cancelled and its batches drained.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := &walker{ctx: ctx, opts: opts, root: rootSt, sem: make(chan struct{}, 4*runtime.GOMAXPROCS(0)), out: make(chan batch, 64)}
	if baseFd >= 0 {
		baseSt, err := statAt(baseFd, "")
		if err != nil {
			closeAll()
			return &os.PathError{Op: "stat", Path: opts.Baseline, Err: err}
		}
		w.base = &baseSt
	}
	go func() {
		if w.base != nil {
			w.flush(w.compare(nil, "/", rootSt, *w.base, rootFd, baseFd, ""))
		}
		w.wg.Add(1)
		w.dir("", rootFd, baseFd) // closes both
		w.wg.Wait()
		close(w.out)
	}()
	var emitErr error
	for b := range w.out {
		for _, c := range b {
			if emitErr == nil {
				emitErr = emit(c)
			}
		}
		if emitErr != nil {
			cancel()
		}
	}
	if emitErr != nil {
		return emitErr
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	w.pairRenames()
	for _, p := range w.problems {
		problem(p)
	}
	for _, c := range w.moves {
		if err := emit(c); err != nil {
			return err
		}
	}
	return nil
}

type walker struct {
	ctx  context.Context
	opts WalkOptions
	root stat
	base *stat
	sem  chan struct{} // bounds the directories read at once
	wg   sync.WaitGroup

	// Each directory's changes are one batch, sent to out. Against a
	// snapshot, deleted and created entries that may pair up as renames go
	// to moves, emitted when the walk is over.
	out      chan batch
	mu       sync.Mutex
	moves    []change.Change
	problems []error
}

// batch collects the changes of one directory.
type batch []change.Change

func (w *walker) flush(b batch) {
	if len(b) == 0 {
		return
	}
	// A baseline on the root's own device is no snapshot of it: an inode
	// in both trees has two links, which never pair up (pairRenames), so
	// its batches need not wait.
	if w.base != nil && w.base.dev != w.root.dev {
		rest := b[:0]
		w.mu.Lock()
		for _, c := range b {
			if (c.Kind == change.Deleted || c.Kind == change.Created) && c.Type != change.Dir {
				w.moves = append(w.moves, c)
			} else {
				rest = append(rest, c)
			}
		}
		w.mu.Unlock()
		b = rest
	}
	if len(b) > 0 {
		w.out <- b
	}
}

func (w *walker) fail(err error) {
	w.mu.Lock()
	w.problems = append(w.problems, err)
	w.mu.Unlock()
}

// dir compares directory rel of the root (open as fd) with the same
// directory of the baseline (bfd, or -1 when the baseline has none), then
// closes both. It runs its subdirectories in new goroutines while the
// semaphore allows, in its own otherwise.
func (w *walker) dir(rel string, fd, bfd int) {
	defer w.wg.Done()
	defer unix.Close(fd)
	if bfd >= 0 {
		defer unix.Close(bfd)
	}
	if w.ctx.Err() != nil {
		return
	}
	var out batch
	defer func() { w.flush(out) }()
	names, err := fdio.Names(fd)
	if err != nil {
		w.fail(&os.PathError{Op: "read directory", Path: cmp.Or(rel, "/"), Err: err})
		return
	}
	var baseNames map[string]bool
	if bfd >= 0 {
		bn, err := fdio.Names(bfd)
		if err != nil {
			w.fail(&os.PathError{Op: "read baseline directory", Path: cmp.Or(rel, "/"), Err: err})
		}
		baseNames = make(map[string]bool, len(bn))
		for _, n := range bn {
			baseNames[n] = true
		}
	}
	for _, name := range names {
		p := rel + "/" + name
		if w.opts.Skip[p] {
			continue
		}
		st, err := statAt(fd, name)
		if err != nil {
			if !errors.Is(err, unix.ENOENT) { // gone since readdir: nothing to report
				w.fail(&os.PathError{Op: "stat", Path: p, Err: err})
			}
			continue
		}
		var bst stat
		inBase := baseNames[name]
		delete(baseNames, name)
		if inBase {
			if bst, err = statAt(bfd, name); err != nil {
				w.fail(&os.PathError{Op: "stat baseline", Path: p, Err: err})
				inBase = false
			}
		}
		isDir := st.mode&unix.S_IFMT == unix.S_IFDIR
		if isDir && (st.dev != w.root.dev || st.mnt != w.root.mnt) {
			// Another filesystem or mount. A nested btrfs subvolume (same
			// mount, its own device number, inode 256) is reported; a mount
			// point is declared state, not drift.
			if st.mnt == w.root.mnt && st.ino == firstFreeObjectID && !inBase {
				out = append(out, changeOf(p, change.Created, change.Subvolume, st, ""))
			}
			continue
		}
		switch {
		case !inBase:
			out = append(out, w.created(fd, name, p, st))
		case st.mode&unix.S_IFMT != bst.mode&unix.S_IFMT:
			out = append(out, w.created(fd, name, p, st)) // a new entry of another type
			if bst.mode&unix.S_IFMT == unix.S_IFDIR {
				out = w.deletedTree(out, bfd, name, p)
			} else {
				out = append(out, changeOf(p, change.Deleted, mustType(bst.mode), bst, ""))
			}
			inBase = false
		default:
			out = w.compare(out, p, st, bst, fd, bfd, name)
		}
		if !isDir {
			continue
		}
		sub, err := openDirAt(fd, name)
		if err != nil {
			w.fail(&os.PathError{Op: "open", Path: p, Err: err})
			continue
		}
		bsub := -1
		if inBase && bst.mode&unix.S_IFMT == unix.S_IFDIR {
			if bsub, err = openDirAt(bfd, name); err != nil {
				w.fail(&os.PathError{Op: "open baseline", Path: p, Err: err})
				bsub = -1
			}
		}
		w.wg.Add(1)
		select {
		case w.sem <- struct{}{}:
			go func() {
				defer func() { <-w.sem }()
				w.dir(p, sub, bsub)
			}()
		default:
			w.dir(p, sub, bsub)
		}
	}
	for name := range baseNames { // in the baseline only
		p := rel + "/" + name
		if !w.opts.Skip[p] {
			out = w.deletedTree(out, bfd, name, p)
		}
	}
}

// created describes a new entry.
func (w *walker) created(fd int, name, p string, st stat) change.Change {
	target := ""
	if st.mode&unix.S_IFMT == unix.S_IFLNK {
		target = readlinkAt(fd, name)
	}
	return changeOf(p, change.Created, mustType(st.mode), st, target)
}

// compare reports how an entry present on both sides changed, if it did.
func (w *walker) compare(out batch, p string, st, bst stat, fd, bfd int, name string) batch {
	var kind change.Kind
	typ := mustType(st.mode)
	switch {
	case typ == change.Dir && st.mtime != bst.mtime:
		kind = change.Modified // its entries changed
	case typ != change.Dir && (st.size != bst.size || st.mtime != bst.mtime):
		kind = change.Modified
	case typ == change.File && w.opts.Content && !sameContent(fd, bfd, name):
		kind = change.Modified
	case st.mode != bst.mode || st.uid != bst.uid || st.gid != bst.gid:
		kind = change.Metadata
	case st.ino == bst.ino && st.ctime != bst.ctime:
		// The same inode in a snapshot: a new ctime means a change the other
		// fields do not show (extended attributes, links).
		kind = change.Metadata
	default:
		return out
	}
	target := ""
	if typ == change.Symlink && name != "" {
		target = readlinkAt(fd, name)
	}
	return append(out, changeOf(p, kind, typ, st, target))
}

// deletedTree reports name in baseline directory bfd, and everything
// under it, as deleted.
func (w *walker) deletedTree(out batch, bfd int, name, p string) batch {
	st, err := statAt(bfd, name)
	if err != nil {
		w.fail(&os.PathError{Op: "stat baseline", Path: p, Err: err})
		return out
	}
	target := ""
	if st.mode&unix.S_IFMT == unix.S_IFLNK {
		target = readlinkAt(bfd, name)
	}
	out = append(out, changeOf(p, change.Deleted, mustType(st.mode), st, target))
	if st.mode&unix.S_IFMT != unix.S_IFDIR || st.dev != w.base.dev {
		return out
	}
	fd, err := openDirAt(bfd, name)
	if err != nil {
		w.fail(&os.PathError{Op: "open baseline", Path: p, Err: err})
		return out
	}
	defer unix.Close(fd)
	names, err := fdio.Names(fd)
	if err != nil {
		w.fail(&os.PathError{Op: "read baseline directory", Path: p, Err: err})
	}
	for _, n := range names {
		out = w.deletedTree(out, fd, n, p+"/"+n)
	}
	return out
}

// pairRenames turns a deleted name and a created one of the same inode
// into one renamed change: with a snapshot baseline, inode numbers are
// shared, so this is what a move looks like.
func (w *walker) pairRenames() {
	deleted := map[uint64]int{}
	for i, c := range w.moves {
		if c.Kind == change.Deleted && c.Inode != 0 && c.Type != change.Dir {
			deleted[c.Inode] = i
		}
	}
	gone := map[int]bool{}
	for i, c := range w.moves {
		if c.Kind != change.Created {
			continue
		}
		if j, ok := deleted[c.Inode]; ok && !gone[j] && w.moves[j].Type == c.Type && w.moves[j].Nlink == 1 {
			w.moves[i].Kind, w.moves[i].Origin = change.Renamed, w.moves[j].Path
			gone[j] = true
		}
	}
	if len(gone) > 0 {
		i := 0
		w.moves = slices.DeleteFunc(w.moves, func(change.Change) bool { i++; return gone[i-1] })
	}
}

func changeOf(p string, kind change.Kind, typ change.Type, st stat, target string) change.Change {
	if typ == change.Dir || typ == change.Subvolume {
		st.size = 0
	}
	return change.Change{Path: p, Kind: kind, Type: typ, Size: st.size, Mode: st.mode & 0o7777, UID: st.uid, GID: st.gid,
		MTime: time.Unix(0, st.mtime), Target: target, Inode: st.ino, Nlink: st.nlink, CTime: st.ctime}
}

func mustType(mode uint32) change.Type {
	t, _ := change.TypeOf(mode)
	return t
}

// openDirAt opens a directory without following a symlink and, where it
// may, without updating its atime.
func openDirAt(dirfd int, name string) (int, error) {
	return fdio.Open(dirfd, name, unix.O_DIRECTORY|unix.O_NOFOLLOW)
}

// readlinkAt reads a symlink's target. readlink updates the link's atime
// (but through the read-only view targets are opened with), so it is only
// called for links that are new or changed.
func readlinkAt(fd int, name string) string {
	buf := make([]byte, 256)
	for {
		n, err := unix.Readlinkat(fd, name, buf)
		if err != nil {
			return ""
		}
		if n < len(buf) {
			return string(buf[:n])
		}
		buf = make([]byte, 2*len(buf))
	}
}

// sameContent compares two regular files byte by byte through SHA-256.
func sameContent(fd, bfd int, name string) bool {
	hash := func(dirfd int) []byte {
		f, err := fdio.Open(dirfd, name, unix.O_NOFOLLOW)
		if err != nil {
			return nil
		}
		file := os.NewFile(uintptr(f), name)
		defer file.Close()
		h := sha256.New()
		if _, err := io.Copy(h, file); err != nil {
			return nil
		}
		return h.Sum(nil)
	}
	a, b := hash(fd), hash(bfd)
	return a != nil && bytes.Equal(a, b)
}
