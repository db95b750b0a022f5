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
	"strings"
	"unsafe"

	"github.com/dennwc/btrfs"
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
	rootPath := o.rootPath
	var st unix.Statfs_t
	if unix.Statfs(filepath.Dir(rootPath), &st) == nil && st.Flags&unix.ST_RDONLY != 0 {
		// fsdiff's own top-level mount is read-only; the snapshot needs a
		// writable one, as private and short-lived.
		if o.device == "" || o.rootRel == "" {
			return fmt.Errorf("%w: %s is read-only, and the send source makes its snapshot next to the root", ErrSendBaseline, filepath.Dir(rootPath))
		}
		top, err := o.mountDetached(o.device, true)
		if err != nil {
			return err
		}
		rootPath = fdPath(top) + "/" + o.rootRel
		t.note("top level: %s mounted again, writable, detached and private, for the snapshot", o.device)
	}
	dir := filepath.Dir(rootPath)
	if removed := removeLeftovers(dir); len(removed) > 0 {
		t.note("removed %d snapshots left by interrupted runs: %s", len(removed), strings.Join(removed, ", "))
	}
	t.note("source: btrfs send --no-data of a temporary read-only snapshot of the root against the baseline")
	t.scan = func(ctx context.Context, emit func(Change) error, problem func(error)) error {
		snap, err := tempSnapshot(rootPath, dir)
		if err != nil {
			return err
		}
		defer snap.remove()
		var dirs []Change // baseline directories whose entries changed
		err = sendStream(ctx, snap.f, base.RootID, func(stream *os.File) error {
			opts := StreamOptions{Since: since.Time, Stat: TreeStat(snap.path), BaseStat: TreeStat(basePath), Names: linkNames(snap.f)}
			return StreamChanges(stream, opts, func(c Change) error {
				if c.Type == Dir && (c.Kind == Modified || c.Kind == Renamed || c.Kind == Deleted) {
					dirs = append(dirs, c)
				}
				return emit(c)
			})
		})
		if err != nil {
			return err
		}
		if len(dirs) > 0 {
			baseDir, err := os.Open(basePath)
			if err != nil {
				return err
			}
			defer baseDir.Close()
			baseNames := linkNames(baseDir)
			for _, d := range dirs {
				if err := deletedSubvolumes(basePath, snap.path, d, baseNames, emit); err != nil {
					return err
				}
			}
		}
		for _, sv := range nested {
			if sv.OTransID > since.Generation {
				if c, ok := TreeStat(snap.path)(sv.Path); ok {
					c.Kind, c.Type = Created, Subvolume
					if err := emit(c); err != nil {
						return err
					}
				}
			}
		}
		return nil
	}
	return nil
}

// linkNames returns every name of an inode of the subvolume at snap, from
// its INODE_REF and INODE_EXTREF items, as the generation source finds
// them: a send stream writes to one name of a multiply-linked inode.
func linkNames(snap *os.File) func(ino uint64) ([]string, error) {
	g := &generationScan{root: snap, dirs: map[uint64]string{}}
	return func(ino uint64) ([]string, error) {
		in := &inode{ino: ino}
		if err := g.fetchNames(in); err != nil {
			return nil, err
		}
		names := make([]string, 0, len(in.names))
		for _, ref := range in.names {
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
func deletedSubvolumes(base, snap string, d Change, baseNames func(uint64) ([]string, error), emit func(Change) error) error {
	orig := d.Path // a deleted directory's path is its baseline path
	if d.Kind != Deleted && d.Inode != firstFreeObjectID {
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
	entries, err := os.ReadDir(base + "/" + cleanRel(orig))
	if err != nil {
		return fmt.Errorf("reading baseline directory %q: %w", orig, err)
	}
	baseStat, stat := TreeStat(base), TreeStat(snap)
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		c, ok := baseStat(join(orig, e.Name()))
		if !ok || c.Inode != emptySubvolDir && c.Inode != firstFreeObjectID {
			continue
		}
		if _, ok := stat(join(d.Path, e.Name())); ok && d.Kind != Deleted {
			continue
		}
		c.Kind = Deleted
		if c.Inode == firstFreeObjectID {
			c.Type = Subvolume
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

// deletionsMatter says whether a baseline holds anything but its root
// directory: then entries can be deleted or moved, which only the send
// source sees, and it is read-only, as send needs.
func (o *opener) deletionsMatter(base *btrfs.SubvolInfo) bool {
	p, err := o.basePath(base)
	if err != nil {
		return false
	}
	if ro, err := btrfs.IsReadOnly(p); err != nil || !ro {
		return false
	}
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	names, _ := f.Readdirnames(1)
	return len(names) > 0
}

// tempSnap is a temporary read-only snapshot, held open and locked.
type tempSnap struct {
	path string
	f    *os.File
}

func tempSnapshot(root, dir string) (*tempSnap, error) {
	b := make([]byte, 8)
	rand.Read(b)
	p := filepath.Join(dir, tempSnapshotPrefix+hex.EncodeToString(b))
	if err := btrfs.SnapshotSubVolume(root, p, true); err != nil {
		return nil, fmt.Errorf("making the read-only snapshot the send source needs: %w", permissionError(err))
	}
	f, err := os.Open(p)
	if err == nil {
		// A shared lock says that this run is alive; removeLeftovers skips it.
		err = unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB)
	}
	if err != nil {
		btrfs.DeleteSubVolume(p)
		return nil, fmt.Errorf("opening %q: %w", p, err)
	}
	return &tempSnap{path: p, f: f}, nil
}

func (s *tempSnap) remove() {
	s.f.Close()
	btrfs.DeleteSubVolume(s.path)
}

// removeLeftovers deletes the .fsdiff- snapshots in dir that no running
// fsdiff holds locked.
func removeLeftovers(dir string) (removed []string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), tempSnapshotPrefix) {
			continue
		}
		p := filepath.Join(dir, e.Name())
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		free := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) == nil
		f.Close()
		if ok, _ := btrfs.IsSubVolume(p); free && ok && btrfs.DeleteSubVolume(p) == nil {
			removed = append(removed, e.Name())
		}
	}
	return removed
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
			sent <- fmt.Errorf("btrfs send: %w", permissionError(errno))
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
