package snapshot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"unsafe"

	"github.com/dennwc/btrfs"
	"github.com/fsdiff-nix/fsdiff/internal/change"
	"github.com/fsdiff-nix/fsdiff/internal/fdio"
	"github.com/fsdiff-nix/fsdiff/internal/snapshot/sendstream"
	"golang.org/x/sys/unix"
)

// The send source: BTRFS_IOC_SEND (linux/btrfs.h) needs read-only
// subvolumes on both sides, so fsdiff snapshots the root read-only as
// .fsdiff-<random> next to it: the one write it ever makes. The snapshot
// is deleted on every way out, interruption included (the caller's context
// is cancelled on SIGINT and SIGTERM); one left by a killed run is found
// by its free lock and deleted by the next.

const (
	iocSend            = 0x40489426 // _IOW(0x94, 38, struct btrfs_ioctl_send_args)
	sendFlagNoFileData = 0x1        // BTRFS_SEND_FLAG_NO_FILE_DATA
	tempSnapshotPrefix = ".fsdiff-"
)

// sendArgs mirrors struct btrfs_ioctl_send_args.
type sendArgs struct {
	SendFd            int64
	CloneSourcesCount uint64
	CloneSources      uintptr // __u64 *
	ParentRoot        uint64
	Flags             uint64
	Version           uint32
	_                 [28]byte
}

// prepareSend sets t up to scan with the send source.
func (o *opener) prepareSend(t *Target, base *btrfs.SubvolInfo, since Since, nested []NestedSubvolume) error {
	basePath, err := o.basePath(base)
	if err != nil {
		return err
	}
	if ro, err := btrfs.IsReadOnly(basePath); err == nil && !ro {
		return fmt.Errorf("%w: baseline %q is writable: btrfs send compares read-only subvolumes (btrfs property set %s ro true)", ErrSendBaseline, base.Path, base.Path)
	}
	rootPath, err := o.writableRoot()
	if err != nil {
		return err
	}
	snaps, err := o.openSnapshotDir(rootPath)
	if err != nil {
		return err
	}
	if removed := snaps.removeLeftovers(); len(removed) > 0 {
		t.note("removed %d snapshots left by interrupted runs: %s", len(removed), strings.Join(removed, ", "))
	}
	t.note("source: btrfs send --no-data of a temporary read-only snapshot of the root against the baseline")
	t.source = sendSource{snaps: snaps, rootPath: rootPath, basePath: basePath, baseID: base.RootID, since: since, nested: nested}
	return nil
}

// sendSource runs btrfs send between the baseline and a read-only snapshot
// of the root it makes for each scan and deletes after it.
type sendSource struct {
	snaps              *snapshotDir
	rootPath, basePath string // directories of the root, on a writable mount, and of the baseline
	baseID             uint64
	since              Since
	nested             []NestedSubvolume
}

func (s sendSource) Changes(ctx context.Context, emit func(change.Change) error, problem func(error)) (err error) {
	snap, err := s.snaps.create(s.rootPath)
	if err != nil {
		return err
	}
	defer func() {
		// A snapshot left behind is an error, never silent: the next run
		// removes it, but the user should know it is there.
		err = errors.Join(err, snap.remove())
	}()
	baseDir, err := os.Open(s.basePath)
	if err != nil {
		return err
	}
	defer baseDir.Close()
	var dirs []change.Change // baseline directories whose entries changed
	err = sendStream(ctx, snap.f, s.baseID, func(stream *os.File) error {
		stat, statDone := TreeStat(snap.f)
		defer statDone()
		baseStat, baseDone := TreeStat(baseDir)
		defer baseDone()
		opts := sendstream.Options{Since: s.since.Time, Stat: stat, BaseStat: baseStat, Names: linkNames(snap.f)}
		return sendstream.Changes(stream, opts, func(c change.Change) error {
			if c.Type == change.Dir && (c.Kind == change.Modified || c.Kind == change.Renamed || c.Kind == change.Deleted) {
				dirs = append(dirs, c)
			}
			return emit(c)
		})
	})
	if err != nil {
		return err
	}
	if len(dirs) > 0 {
		baseNames := linkNames(baseDir)
		for _, d := range dirs {
			if err := deletedSubvolumes(baseDir, snap.f, d, baseNames, emit); err != nil {
				return err
			}
		}
	}
	for _, sv := range s.nested {
		if sv.OTransID > s.since.Generation {
			if c, err := lstatIn(snap.f, sv.Path); err == nil {
				c.Kind, c.Type = change.Created, change.Subvolume
				if err := emit(c); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// writableRoot returns the root's directory on a mount where the send
// source can make its snapshot next to it, or an error that wraps
// ErrReadOnly. fsdiff never changes a filesystem's read-only state: when
// the top level it mounted itself is read-only, it mounts it again
// writable, which mountDetached makes writable only if the filesystem
// already is. A read-only mount it did not make (Options.Mount, an existing
// mount of the top level, an absolute root) is left as it is.
func (o *opener) writableRoot() (string, error) {
	if o.sendRoot != "" {
		return o.sendRoot, nil
	}
	rootPath := o.rootPath
	var st unix.Statfs_t
	if unix.Statfs(filepath.Dir(rootPath), &st) == nil && st.Flags&unix.ST_RDONLY != 0 {
		if o.device == "" || o.rootRel == "" {
			name := filepath.Dir(o.opts.Root)
			if !filepath.IsAbs(o.opts.Root) {
				name = filepath.Join(o.t.Info.TopLevel, filepath.Dir(o.rootRel))
			}
			return "", fmt.Errorf("the send source snapshots the root next to it, but %q is %w", name, ErrReadOnly)
		}
		top, err := o.mountDetached(o.device, true)
		if err != nil {
			return "", err
		}
		if err := unix.Fstatfs(int(top.Fd()), &st); err != nil {
			return "", fmt.Errorf("statfs of the top level of %q: %w", o.device, err)
		}
		if st.Flags&unix.ST_RDONLY != 0 {
			return "", fmt.Errorf("the send source snapshots the root, but the filesystem on %q is %w: it is mounted read-write nowhere", o.device, ErrReadOnly)
		}
		rootPath = fdPath(top) + "/" + o.rootRel
		o.t.note("top level: %s mounted again, writable, detached and private, for the snapshot", o.device)
	}
	o.sendRoot = rootPath
	return rootPath, nil
}

// linkNames returns every name of an inode of the subvolume at snap, from
// its INODE_REF and INODE_EXTREF items, as the generation source finds
// them: a send stream writes to one name of a multiply-linked inode.
func linkNames(snap *os.File) func(ino uint64) ([]string, error) {
	g := &generationScan{root: snap, dirs: map[uint64]string{}}
	p := &part{} // holds the names found: a few bytes each, kept for the scan's life
	return func(ino uint64) ([]string, error) {
		in := &inode{ino: ino}
		if err := g.fetchNames(p, in); err != nil {
			return nil, err
		}
		names := make([]string, 0, in.count)
		for ref := range p.namesOf(in) {
			dir, err := g.dirPath(ref.parent)
			if err != nil {
				return nil, err
			}
			names = append(names, join(dir, ref.name))
		}
		return names, nil
	}
}

// emptySubvolDir is the inode number of the empty directory that stands
// for a nested subvolume in a snapshot (BTRFS_EMPTY_SUBVOL_DIR_OBJECTID,
// linux/btrfs_tree.h).
const emptySubvolDir = 2

// deletedSubvolumes reports the nested subvolumes, or the empty
// directories that stand for them in a snapshot, that baseline directory
// d (a changed or deleted directory of the stream) held and that are gone:
// send skips directory entries that name subvolumes, so the stream only
// says that d changed. baseNames gives the names of a baseline inode.
func deletedSubvolumes(base, snap *os.File, d change.Change, baseNames func(uint64) ([]string, error), emit func(change.Change) error) error {
	orig := d.Path // a deleted directory's path is its baseline path
	if d.Kind != change.Deleted && d.Inode != firstFreeObjectID {
		// A directory above d may have moved: d's baseline path is that of
		// its inode, which a snapshot shares with its baseline.
		names, err := baseNames(d.Inode)
		if err != nil {
			return fmt.Errorf("finding baseline directory %q: %w", d.Path, err)
		}
		if len(names) != 1 {
			return nil
		}
		orig = names[0]
	}
	dir, err := readIn(base, orig, unix.O_DIRECTORY)
	if err != nil {
		return fmt.Errorf("reading baseline directory %q: %w", orig, err)
	}
	entries, err := dir.ReadDir(-1)
	dir.Close()
	if err != nil {
		return fmt.Errorf("reading baseline directory %q: %w", orig, err)
	}
	baseStat, baseDone := TreeStat(base)
	defer baseDone()
	stat, done := TreeStat(snap)
	defer done()
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		c, ok := baseStat(join(orig, e.Name()))
		if !ok || c.Inode != emptySubvolDir && c.Inode != firstFreeObjectID {
			continue
		}
		if _, ok := stat(join(d.Path, e.Name())); ok && d.Kind != change.Deleted {
			continue
		}
		c.Kind = change.Deleted
		if c.Inode == firstFreeObjectID {
			c.Type = change.Subvolume
		}
		if err := emit(c); err != nil {
			return err
		}
	}
	return nil
}

// basePath is the baseline's directory, as a path.
func (o *opener) basePath(base *btrfs.SubvolInfo) (string, error) {
	if filepath.IsAbs(o.opts.Baseline) {
		return o.opts.Baseline, nil
	}
	top, err := o.topLevel()
	if err != nil {
		return "", err
	}
	return fdPath(top) + "/" + cleanRel(base.Path), nil
}

// Snapshots and their locks. A run holds a shared flock(2) on its snapshot
// for as long as the snapshot exists, so that another run's cleanup, which
// deletes only snapshots whose lock it can take exclusively, leaves it
// alone. That lock alone leaves a window: between the snapshot's creation
// and its lock, cleanup would find it free and delete it under its run.
// So the directory that holds the snapshots, which exists before any of
// them, is locked too: a run holds it shared from before it creates its
// snapshot until it holds the snapshot's lock, and cleanup holds it
// exclusively. Cleanup then never sees a snapshot in that window, and a
// snapshot whose lock is free belongs to no live run. Runs may create
// their snapshots at the same time; cleanup does not wait for them: it
// gives up, and a later run cleans.
//
// flock(2) locks the inode, whichever mount or descriptor reaches it, so
// runs through different mounts of the filesystem exclude each other; a
// lock goes with the last descriptor of its open file, so a run killed by
// SIGKILL leaves a snapshot that the next run finds free.

// snapshotDir is the directory that holds the temporary snapshots of one
// root, open for locking.
type snapshotDir struct {
	path     string   // as the btrfs library opens it
	f        *os.File // for flock(2), openat(2) and reading, once
	rootUUID btrfs.UUID
}

// openSnapshotDir opens the directory next to the root at rootPath.
func (o *opener) openSnapshotDir(rootPath string) (*snapshotDir, error) {
	root, err := getSubvolInfo(o.t.Root)
	if err != nil {
		return nil, fmt.Errorf("reading the subvolume information of %q: %w", o.t.Root.Name(), permissionError(err))
	}
	dir := filepath.Dir(rootPath)
	f, err := openDir(unix.AT_FDCWD, dir, dir)
	if err != nil {
		return nil, err
	}
	o.t.closers = append(o.t.closers, f.Close)
	return &snapshotDir{path: dir, f: f, rootUUID: root.UUID}, nil
}

// tempSnap is a temporary read-only snapshot, held open and locked.
type tempSnap struct {
	path string
	f    *os.File
}

// create makes a read-only snapshot of the root at rootPath, named
// .fsdiff- and 16 random hexadecimal digits, and locks it.
func (d *snapshotDir) create(rootPath string) (_ *tempSnap, err error) {
	if err := unix.Flock(int(d.f.Fd()), unix.LOCK_SH); err != nil {
		return nil, fmt.Errorf("locking %q: %w", d.f.Name(), err)
	}
	defer unix.Flock(int(d.f.Fd()), unix.LOCK_UN)
	b := make([]byte, 8)
	rand.Read(b)
	name := tempSnapshotPrefix + hex.EncodeToString(b)
	p := filepath.Join(d.path, name)
	if err := btrfs.SnapshotSubVolume(rootPath, p, true); err != nil {
		return nil, fmt.Errorf("making the read-only snapshot the send source needs: %w", permissionError(err))
	}
	defer func() {
		if err != nil {
			btrfs.DeleteSubVolume(p)
		}
	}()
	fd, err := openDirAt(int(d.f.Fd()), name)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: name, Err: err}
	}
	f := os.NewFile(uintptr(fd), p)
	if err := unix.Flock(fd, unix.LOCK_SH); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %q: %w", name, err)
	}
	return &tempSnap{path: p, f: f}, nil
}

// remove deletes the snapshot, then lets its lock go: released first, it
// would let another run's cleanup take the snapshot for a leftover.
func (s *tempSnap) remove() error {
	err := btrfs.DeleteSubVolume(s.path)
	s.f.Close()
	if err != nil {
		return fmt.Errorf("deleting the temporary snapshot %q: %w", s.path, err)
	}
	return nil
}

// isTempSnapshotName says whether name is one that create gives.
func isTempSnapshotName(name string) bool {
	digits, ok := strings.CutPrefix(name, tempSnapshotPrefix)
	return ok && len(digits) == 16 && strings.Trim(digits, "0123456789abcdef") == ""
}

// removeLeftovers deletes the snapshots in d that are provably left by
// runs that are gone: named as create names them, read-only, snapshots of
// this root (their parent UUID is the root's), and locked by no one. A
// user's subvolume that only looks like one is never touched. It does
// nothing while another run is making its snapshot.
func (d *snapshotDir) removeLeftovers() (removed []string) {
	if unix.Flock(int(d.f.Fd()), unix.LOCK_EX|unix.LOCK_NB) != nil {
		return nil
	}
	defer unix.Flock(int(d.f.Fd()), unix.LOCK_UN)
	names, _ := fdio.Names(int(d.f.Fd()))
	for _, name := range names {
		if isTempSnapshotName(name) && d.removeLeftover(name) {
			removed = append(removed, name)
		}
	}
	slices.Sort(removed)
	return removed
}

func (d *snapshotDir) removeLeftover(name string) bool {
	fd, err := openDirAt(int(d.f.Fd()), name)
	if err != nil {
		return false
	}
	f := os.NewFile(uintptr(fd), name)
	defer f.Close() // after the deletion: the lock is held until then
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || st.Ino != firstFreeObjectID {
		return false // a directory, not a subvolume
	}
	if unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB) != nil {
		return false // a live run's
	}
	info, err := getSubvolInfo(f)
	if err != nil || info.Flags&rootSubvolReadOnly == 0 || info.ParentUUID != d.rootUUID {
		return false
	}
	return btrfs.DeleteSubVolume(filepath.Join(d.path, name)) == nil
}

// sendStream runs BTRFS_IOC_SEND of subvolume snap against parent, without
// file data, into a pipe that read consumes. Cancelling ctx closes the
// pipe, which makes the kernel stop sending.
func sendStream(ctx context.Context, snap *os.File, parent uint64, read func(*os.File) error) error {
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	sent := make(chan error, 1)
	go func() {
		sources := []uint64{parent}
		args := sendArgs{SendFd: int64(w.Fd()), CloneSourcesCount: 1, CloneSources: uintptr(unsafe.Pointer(&sources[0])),
			ParentRoot: parent, Flags: sendFlagNoFileData}
		_, _, errno := unix.Syscall(unix.SYS_IOCTL, snap.Fd(), iocSend, uintptr(unsafe.Pointer(&args)))
		runtime.KeepAlive(sources)
		w.Close() // the end of the stream for read
		if errno != 0 {
			sent <- sendError(errno)
			return
		}
		sent <- nil
	}()
	stop := context.AfterFunc(ctx, func() { r.Close() })
	readErr := read(r)
	stop()
	r.Close() // a reader that stopped early must not leave the kernel blocked on a full pipe
	sendErr := <-sent
	if err := ctx.Err(); err != nil {
		return err
	}
	if sendErr != nil && !errors.Is(sendErr, unix.EPIPE) {
		return sendErr
	}
	return readErr
}

// sendError describes a failed BTRFS_IOC_SEND.
func sendError(errno unix.Errno) error {
	if errno == unix.ENAMETOOLONG {
		return fmt.Errorf("btrfs send: %w: %w", ErrSendPathTooLong, errno)
	}
	return fmt.Errorf("btrfs send: %w", permissionError(errno))
}
