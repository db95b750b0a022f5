package snapshot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/dennwc/btrfs"
	"github.com/fsdiff-nix/fsdiff/internal/change"
	"github.com/fsdiff-nix/fsdiff/internal/fdio"
	"golang.org/x/sys/unix"
)

// openBtrfs opens the root subvolume to audit by generation IDs.
func openBtrfs(opts Options) (_ *Target, err error) {
	t := &Target{Info: change.Info{Source: cmpSource(opts.Source, change.Btrfs)}}
	defer func() {
		if err != nil {
			t.Close()
		}
	}()
	o := opener{opts: opts, t: t}
	if t.Root, err = o.openRoot(); err != nil {
		return nil, err
	}
	if o.device == "" || o.rootRel == "" {
		// Not under the top level fsdiff mounted itself, which is read-only
		// and noatime already.
		t.Root = t.readOnlyView(t.Root)
	}
	rootID, err := subvolumeID(t.Root)
	if err != nil {
		return nil, fmt.Errorf("reading subvolume ID of %q: %w", t.Root.Name(), err)
	}
	fs, err := btrfs.Open(fdPath(t.Root), true)
	if err != nil {
		return nil, fmt.Errorf("opening %q: %w", t.Root.Name(), err)
	}
	defer fs.Close()
	all, err := fs.ListSubvolumes(nil)
	if err != nil {
		return nil, fmt.Errorf("listing subvolumes: %w", permissionError(err))
	}
	// Sorted, so that a choice among several matches is deterministic.
	slices.SortFunc(all, func(a, b btrfs.SubvolInfo) int { return strings.Compare(a.Path, b.Path) })
	root, ok := findSubvolume(all, func(s btrfs.SubvolInfo) bool { return s.RootID == rootID })
	if !ok {
		if rootID != topLevelID {
			return nil, fmt.Errorf("subvolume %d of %q is not in the subvolume list", rootID, t.Root.Name())
		}
		root = btrfs.SubvolInfo{RootID: topLevelID}
		info, err := getSubvolInfo(t.Root) // the list leaves the top level out
		if err != nil {
			return nil, fmt.Errorf("reading the UUID of the top level: %w", permissionError(err))
		}
		root.UUID = info.UUID
	}
	t.Info.Root, t.Info.RootID = "/"+root.Path, rootID
	t.note("root: subvolume %q (ID %d), %s", t.Info.Root, rootID, o.rootReason)
	var nested []NestedSubvolume
	for _, s := range all {
		if rel, ok := strings.CutPrefix(s.Path, root.Path+"/"); ok || root.Path == "" {
			if root.Path == "" {
				rel = s.Path
			}
			nested = append(nested, NestedSubvolume{Path: "/" + rel, OTransID: s.OTransID})
		}
	}
	since, base, err := o.findBaseline(all, root)
	if err != nil {
		return nil, err
	}
	if cmpSource(opts.Source, change.Auto) == change.Auto {
		if err := o.chooseSend(base); err != nil {
			return nil, err
		}
	}
	if t.Info.Source == change.Send {
		if base == nil {
			return nil, fmt.Errorf("%w: it compares two subvolumes, and there is no baseline", ErrSendNoBaseline)
		}
		if err := o.prepareSend(t, base, since, nested); err != nil {
			return nil, err
		}
		return t, nil
	}
	t.source = generationSource{root: t.Root, since: since, nested: nested}
	return t, nil
}

// generationSource reads the root subvolume's b-tree for what was written
// after the baseline's cutoff (generation_linux.go).
type generationSource struct {
	root   *os.File
	since  Since
	nested []NestedSubvolume
}

func (s generationSource) Changes(ctx context.Context, emit func(change.Change) error, problem func(error)) error {
	return ScanGenerations(ctx, s.root, s.since, s.nested, emit, problem)
}

// topLevelID is the ID of the btrfs top-level subvolume (BTRFS_FS_TREE_OBJECTID).
const topLevelID = 5

// ReadFile reads a file of the audited root, resolving symlinks inside it
// (RESOLVE_IN_ROOT) so that an absolute link never escapes to the host, and
// without updating its atime where it may.
func (t *Target) ReadFile(name string) ([]byte, error) {
	if t.Root == nil {
		return nil, &os.PathError{Op: "open", Path: name, Err: fs.ErrNotExist} // a saved stream has no tree
	}
	f, err := readIn(t.Root, name, unix.O_RDONLY)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

type opener struct {
	opts       Options
	t          *Target
	mounts     []Mount
	top        *os.File
	rootReason string
	rootPath   string // the root's directory, as a path the btrfs library can open
	rootRel    string // the root's path under the top level, when it was opened there
	sendRoot   string // the root's directory on a writable mount, once writableRoot found one
	device     string // the device of a top level fsdiff mounted itself
}

func (o *opener) openRoot() (*os.File, error) {
	if filepath.IsAbs(o.opts.Root) {
		o.rootReason, o.rootPath = "as given", o.opts.Root
		return o.openSubvolume(nil, o.opts.Root)
	}
	top, err := o.topLevel()
	if err != nil {
		return nil, err
	}
	rel := o.opts.Root
	if rel != "" {
		o.rootReason = "as given"
	} else {
		m, err := o.liveRoot()
		if err != nil {
			if o.opts.Mount != "" || o.opts.Device != "" {
				return nil, fmt.Errorf("%w (%v)", ErrNoRoot, err)
			}
			return nil, err
		}
		rel = strings.TrimPrefix(m.Root, "/")
		o.rootReason = "mounted at /"
		o.t.liveMounts = o.mounts
	}
	if o.rootRel, err = underTopLevel(rel); err != nil {
		return nil, err
	}
	o.rootPath = fdPath(top) + "/" + o.rootRel
	return o.openSubvolume(top, rel)
}

// underTopLevel cleans name, a path relative to the top level. A path that
// climbs out of it is an error: clamping it would audit the top level.
func underTopLevel(name string) (string, error) {
	if rel := filepath.Clean(name); rel == ".." || strings.HasPrefix(rel, "../") {
		return "", fmt.Errorf("%q: %w", name, ErrOutsideTopLevel)
	}
	return cleanRel(name), nil
}

// openSubvolume opens a subvolume's root directory: an absolute path, or a
// path relative to the top level.
func (o *opener) openSubvolume(top *os.File, name string) (*os.File, error) {
	var f *os.File
	var err error
	if top == nil || filepath.IsAbs(name) {
		f, err = openDir(unix.AT_FDCWD, name, name)
	} else {
		rel, relErr := underTopLevel(name)
		if relErr != nil {
			return nil, relErr
		}
		f, err = openDir(int(top.Fd()), rel, name)
	}
	if err != nil {
		return nil, err
	}
	o.t.closers = append(o.t.closers, f.Close)
	if _, err := subvolumeID(f); err != nil {
		return nil, notBtrfs(name, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return nil, &os.PathError{Op: "stat", Path: name, Err: err}
	}
	if st.Ino != firstFreeObjectID || st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return nil, fmt.Errorf("%w: %q", ErrNotSubvolume, name)
	}
	return f, nil
}

// openDir opens directory path relative to dirfd without updating its
// atime where it may; name is how errors and the file call it.
func openDir(dirfd int, path, name string) (*os.File, error) {
	fd, err := fdio.Open(dirfd, path, unix.O_DIRECTORY)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: name, Err: err}
	}
	return os.NewFile(uintptr(fd), name), nil
}

// fdPath names an open file for APIs that want a path.
func fdPath(f *os.File) string { return "/proc/self/fd/" + strconv.Itoa(int(f.Fd())) }

// notBtrfs describes the failure of a btrfs ioctl on path: ENOTTY means
// another filesystem, which a NotBtrfsError names.
func notBtrfs(path string, err error) error {
	if !errors.Is(err, unix.ENOTTY) {
		return fmt.Errorf("%q: %w", path, permissionError(err))
	}
	var st unix.Statfs_t
	typ := "not btrfs"
	if unix.Statfs(path, &st) == nil {
		typ = fsTypeName(st.Type)
	}
	return &NotBtrfsError{Path: path, FSType: typ}
}

func fsTypeName(magic int64) string {
	switch magic {
	case unix.TMPFS_MAGIC:
		return "tmpfs"
	case unix.PROC_SUPER_MAGIC:
		return "proc"
	case unix.EXT4_SUPER_MAGIC:
		return "ext4"
	case unix.XFS_SUPER_MAGIC:
		return "xfs"
	case unix.OVERLAYFS_SUPER_MAGIC:
		return "overlayfs"
	case 0x2fc12fc1:
		return "zfs"
	}
	return fmt.Sprintf("filesystem type %#x", magic)
}

// permissionError marks EPERM and EACCES from btrfs ioctls and mounts as
// ErrPermission so that callers can suggest running as root.
func permissionError(err error) error {
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		return fmt.Errorf("%w: %w", ErrPermission, err)
	}
	return err
}

func searchError(root *os.File, err error) error {
	return fmt.Errorf("searching subvolume %q: %w", root.Name(), permissionError(err))
}
