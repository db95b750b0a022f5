package persist

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dennwc/btrfs"
	"github.com/fsdiff-nix/fsdiff/internal/fdio"
	"golang.org/x/sys/unix"
)

// planned holds what Prepare opened for Apply.
type planned struct {
	root    *os.File // the audited root
	storage *os.File // the storage directory
	// linked holds, for each inode with several links that an anchor
	// moved, its copy's path relative to the storage, so that a later
	// anchor links to it: hard links hold across the copied set.
	linked map[devIno]string
}

// Close releases the storage directory Prepare opened; the root is the
// caller's.
func (p *Plan) Close() error {
	if p.copier == nil {
		return nil
	}
	return p.copier.storage.Close()
}

// Prepare plans the copy of anchors of the root directory root into
// storage: what each holds, where it goes, how, and what is there already.
// It changes nothing.
func Prepare(root *os.File, storage string, anchors []string) (_ *Plan, err error) {
	sfd, err := unix.Open(storage, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open storage", Path: storage, Err: err}
	}
	sf := os.NewFile(uintptr(sfd), storage)
	defer func() {
		if err != nil {
			sf.Close()
		}
	}()
	if err := outsideRoot(root, sfd, storage); err != nil {
		return nil, err
	}
	how := Copy
	if sameBtrfs(root, sf) {
		how = Reflink
	}
	rootMnt, err := mountID(int(root.Fd()), "")
	if err != nil {
		return nil, &os.PathError{Op: "statx", Path: "/", Err: err}
	}
	p := &Plan{Storage: storage, copier: &planned{root: root, storage: sf, linked: map[devIno]string{}}}
	for _, a := range anchors {
		it := Item{Source: a, Destination: path.Join(storage, a), How: how, State: New}
		dir, name, err := openParent(root, a)
		if err != nil {
			return nil, err
		}
		mnt, err := mountID(dir, name)
		if err == nil && mnt != rootMnt {
			err = ErrMountPoint
		}
		if err == nil {
			err = count(dir, name, &it)
		}
		if err == nil {
			it.State, err = destinationState(dir, name, sf, a)
		}
		unix.Close(dir)
		if err != nil {
			return nil, fmt.Errorf("planning %q: %w", a, err)
		}
		p.Items = append(p.Items, it)
	}
	return p, nil
}

// outsideRoot fails when the storage directory sfd is the audited root or
// under it on the root's own filesystem: what the next boot erases. A
// storage mounted over a directory of a live root is another filesystem.
func outsideRoot(root *os.File, sfd int, storage string) error {
	var rst unix.Stat_t
	if err := unix.Fstat(int(root.Fd()), &rst); err != nil {
		return err
	}
	dir, err := unix.Dup(sfd)
	if err != nil {
		return err
	}
	for {
		var st unix.Stat_t
		if err := unix.Fstat(dir, &st); err != nil {
			unix.Close(dir)
			return err
		}
		if st.Dev != rst.Dev {
			unix.Close(dir)
			return nil
		}
		if st.Ino == rst.Ino {
			unix.Close(dir)
			return fmt.Errorf("%q: %w", storage, ErrStorageInRoot)
		}
		up, err := unix.Openat(dir, "..", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		unix.Close(dir)
		if err != nil {
			return err
		}
		var ust unix.Stat_t
		if err := unix.Fstat(up, &ust); err != nil {
			unix.Close(up)
			return err
		}
		if ust.Dev == st.Dev && ust.Ino == st.Ino { // "/" is its own parent
			unix.Close(up)
			return nil
		}
		dir = up
	}
}

// sameBtrfs says whether a and b are on one btrfs filesystem, where a file
// can share its extents with a copy.
func sameBtrfs(a, b *os.File) bool {
	id := func(f *os.File) (btrfs.FSID, bool) {
		fs, err := btrfs.Open(procPath(int(f.Fd()), ""), true)
		if err != nil {
			return btrfs.FSID{}, false
		}
		defer fs.Close()
		info, err := fs.Info()
		return info.FSID, err == nil
	}
	ida, oka := id(a)
	idb, okb := id(b)
	return oka && okb && ida == idb
}

// procPath names name in the open directory fd for calls that take a path
// (the xattr calls): a single component below a descriptor, so no symlink
// above it is followed.
func procPath(fd int, name string) string {
	p := "/proc/self/fd/" + strconv.Itoa(fd)
	if name != "" {
		p += "/" + name
	}
	return p
}

// openParent opens the directory of absolute path a in root (O_PATH),
// resolving symlinks above it inside the root, and returns it with a's
// last name.
func openParent(root *os.File, a string) (int, string, error) {
	dir, name := path.Split(path.Clean(a))
	dir = strings.Trim(dir, "/")
	if dir == "" {
		dir = "."
	}
	fd, err := unix.Openat2(int(root.Fd()), dir, &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	})
	if err != nil {
		return -1, "", &os.PathError{Op: "open", Path: path.Dir(a), Err: err}
	}
	return fd, name, nil
}

// openStorageDir opens directory rel under the storage without following
// any symlink: a link in storage could send the copy anywhere.
func openStorageDir(storage *os.File, rel string) (int, error) {
	if rel == "" {
		rel = "."
	}
	return unix.Openat2(int(storage.Fd()), rel, &unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	})
}

// mountID is the mount ID of name in dir (dir itself when name is empty).
func mountID(dir int, name string) (uint64, error) {
	flags := unix.AT_SYMLINK_NOFOLLOW
	if name == "" {
		flags |= unix.AT_EMPTY_PATH
	}
	var stx unix.Statx_t
	if err := unix.Statx(dir, name, flags, unix.STATX_MNT_ID, &stx); err != nil {
		return 0, err
	}
	return stx.Mnt_id, nil
}

func lstat(dir int, name string) (unix.Stat_t, error) {
	var st unix.Stat_t
	err := unix.Fstatat(dir, name, &st, unix.AT_SYMLINK_NOFOLLOW)
	return st, err
}

// openNoatime opens name in dir without following a symlink and without
// updating its atime where the kernel lets it.
func openNoatime(dir int, name string, flags int) (int, error) {
	return fdio.Open(dir, name, unix.O_NOFOLLOW|flags)
}

// readNames lists directory fd, sorted for a deterministic copy.
func readNames(fd int) ([]string, error) {
	names, err := fdio.Names(fd)
	slices.Sort(names)
	return names, err
}

// walkTree calls fn for name in dir and, for a directory, for everything
// under it that is on the same mount, depth first; the directory's own
// call comes first. fn returns false to skip a directory's contents.
func walkTree(dir int, name, rel string, fn func(dir int, name, rel string, st *unix.Stat_t) (bool, error)) error {
	st, err := lstat(dir, name)
	if err != nil {
		return &os.PathError{Op: "lstat", Path: rel, Err: err}
	}
	enter, err := fn(dir, name, rel, &st)
	if err != nil || !enter || st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return err
	}
	fd, err := openNoatime(dir, name, unix.O_DIRECTORY)
	if err != nil {
		return &os.PathError{Op: "open", Path: rel, Err: err}
	}
	defer unix.Close(fd)
	names, err := readNames(fd)
	if err != nil {
		return &os.PathError{Op: "read directory", Path: rel, Err: err}
	}
	for _, n := range names {
		if err := walkTree(fd, n, rel+"/"+n, fn); err != nil {
			return err
		}
	}
	return nil
}

// count fills in the entries and bytes of the anchor name in dir.
func count(dir int, name string, it *Item) error {
	anchorMnt, err := mountID(dir, name)
	if err != nil {
		return err
	}
	seen := map[devIno]bool{} // a file's other names take no more bytes
	return walkTree(dir, name, it.Source, func(dir int, name, rel string, st *unix.Stat_t) (bool, error) {
		if note := skipped(dir, name, rel, st, anchorMnt); note != "" {
			it.Notes = append(it.Notes, note)
			return false, nil
		}
		it.Entries++
		if key := (devIno{st.Dev, st.Ino}); st.Mode&unix.S_IFMT == unix.S_IFREG && !seen[key] {
			seen[key] = true
			it.Bytes += st.Size
		}
		return true, nil
	})
}

// skipped says why an entry is not copied: a socket is a live endpoint,
// not state; a mount point below an anchor is another filesystem's.
func skipped(dir int, name, rel string, st *unix.Stat_t, anchorMnt uint64) string {
	if st.Mode&unix.S_IFMT == unix.S_IFSOCK {
		return fmt.Sprintf("%q: a socket, skipped", rel)
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		if mnt, err := mountID(dir, name); err == nil && mnt != anchorMnt {
			return fmt.Sprintf("%q: a mount point, skipped", rel)
		}
	}
	return ""
}

// destinationState compares the anchor name in dir with what the storage
// holds at a.
func destinationState(dir int, name string, storage *os.File, a string) (State, error) {
	ddir, err := openStorageDir(storage, strings.Trim(path.Dir(a), "/"))
	if errors.Is(err, unix.ENOENT) {
		return New, nil
	}
	if err != nil {
		return "", &os.PathError{Op: "open", Path: path.Join(storage.Name(), path.Dir(a)), Err: err}
	}
	defer unix.Close(ddir)
	if _, err := lstat(ddir, name); errors.Is(err, unix.ENOENT) {
		return New, nil
	}
	same, err := identical(dir, name, ddir, name)
	if err != nil {
		return "", err
	}
	if same {
		return Present, nil
	}
	return Conflict, nil
}

// identical says whether the trees at name in a and b hold the same types,
// owners, modes, contents, link targets and devices.
func identical(a int, an string, b int, bn string) (bool, error) {
	sa, err := lstat(a, an)
	if err != nil {
		return false, err
	}
	sb, err := lstat(b, bn)
	if err != nil {
		return false, err
	}
	if sa.Mode != sb.Mode || sa.Uid != sb.Uid || sa.Gid != sb.Gid || sa.Rdev != sb.Rdev ||
		(sa.Mode&unix.S_IFMT != unix.S_IFDIR && sa.Size != sb.Size) {
		return false, nil
	}
	switch sa.Mode & unix.S_IFMT {
	case unix.S_IFLNK:
		ta, err := readlink(a, an)
		if err != nil {
			return false, err
		}
		tb, err := readlink(b, bn)
		return ta == tb, err
	case unix.S_IFREG:
		return sameContent(a, an, b, bn)
	case unix.S_IFDIR:
		fa, err := openNoatime(a, an, unix.O_DIRECTORY)
		if err != nil {
			return false, err
		}
		defer unix.Close(fa)
		fb, err := openNoatime(b, bn, unix.O_DIRECTORY)
		if err != nil {
			return false, err
		}
		defer unix.Close(fb)
		na, err := copiedNames(fa)
		if err != nil {
			return false, err
		}
		nb, err := copiedNames(fb)
		if err != nil {
			return false, err
		}
		if strings.Join(na, "/") != strings.Join(nb, "/") {
			return false, nil
		}
		for _, n := range na {
			if same, err := identical(fa, n, fb, n); err != nil || !same {
				return false, err
			}
		}
	}
	return true, nil
}

// copiedNames lists what a copy of directory fd holds: not its sockets,
// nor its mount points.
func copiedNames(fd int) ([]string, error) {
	names, err := readNames(fd)
	if err != nil {
		return nil, err
	}
	mnt, err := mountID(fd, "")
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(names, func(n string) bool {
		st, err := lstat(fd, n)
		return err == nil && skipped(fd, n, n, &st, mnt) != ""
	}), nil
}

func readlink(dir int, name string) (string, error) {
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlinkat(dir, name, buf)
	if err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}

func sameContent(a int, an string, b int, bn string) (bool, error) {
	fa, err := openNoatime(a, an, 0)
	if err != nil {
		return false, err
	}
	ra := os.NewFile(uintptr(fa), an)
	defer ra.Close()
	fb, err := openNoatime(b, bn, 0)
	if err != nil {
		return false, err
	}
	rb := os.NewFile(uintptr(fb), bn)
	defer rb.Close()
	ba, bb := make([]byte, 64<<10), make([]byte, 64<<10)
	for {
		na, ea := io.ReadFull(ra, ba)
		nb, eb := io.ReadFull(rb, bb)
		if !bytes.Equal(ba[:na], bb[:nb]) {
			return false, nil
		}
		if ea != nil || eb != nil {
			if (ea == io.EOF || ea == io.ErrUnexpectedEOF) && (eb == io.EOF || eb == io.ErrUnexpectedEOF) {
				return true, nil
			}
			return false, errors.Join(ignoreEOF(ea), ignoreEOF(eb))
		}
	}
}

func ignoreEOF(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return nil
	}
	return err
}

// tempPrefix starts the name of an anchor being copied; tempName matches
// exactly the names fsdiff makes, the only ones a later run removes.
const tempPrefix = ".fsdiff-persist-"

var tempName = regexp.MustCompile(`^\.fsdiff-persist-[0-9a-f]{16}$`)

// afterEntry, when set (by tests), runs after each entry is copied: a
// test stops or kills the copy there.
var afterEntry func() error

// Apply carries out the plan: it copies every new anchor, and with force
// every conflicting one after renaming the old copy aside. Each anchor is
// complete under its final name or absent from it. progress, when not
// nil, gets each anchor's count of entries copied as it grows.
func (p *Plan) Apply(ctx context.Context, force bool, progress func(it *Item, done int)) (*Result, error) {
	r := &Result{}
	for i := range p.Items {
		it := &p.Items[i]
		switch {
		case it.State == Present:
			continue
		case it.State == Conflict && !force:
			r.Conflicts = append(r.Conflicts, it.Source)
			continue
		}
		aside, notes, err := p.copier.persist(ctx, it, progress)
		if errors.Is(err, unix.EEXIST) {
			// Appeared after the plan: never overwritten.
			r.Conflicts = append(r.Conflicts, it.Source)
			continue
		}
		if err != nil {
			return r, fmt.Errorf("persisting %q: %w", it.Source, err)
		}
		r.Moved = append(r.Moved, it.Source)
		r.Notes = append(r.Notes, notes...)
		if aside != "" {
			r.Aside = append(r.Aside, aside)
		}
	}
	return r, nil
}

// persist copies one anchor into place; it returns where an old copy was
// renamed aside, if it was.
func (c *planned) persist(ctx context.Context, it *Item, progress func(*Item, int)) (aside string, notes []string, err error) {
	src, name, err := openParent(c.root, it.Source)
	if err != nil {
		return "", nil, err
	}
	defer unix.Close(src)
	dst, err := c.parents(it.Source)
	if err != nil {
		return "", nil, err
	}
	defer unix.Close(dst)
	removeLeftovers(dst)
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return "", nil, err
	}
	tmp := tempPrefix + hex.EncodeToString(rnd[:])
	cp := &copier{ctx: ctx, top: dst, reflink: it.How == Reflink, links: map[devIno]string{},
		storage: int(c.storage.Fd()), linked: c.linked}
	if progress != nil {
		cp.progress = func(done int) { progress(it, done) }
	}
	if cp.anchorMnt, err = mountID(src, name); err != nil {
		return "", nil, err
	}
	if err := cp.entry(src, name, dst, tmp, it.Source, tmp); err != nil {
		os.RemoveAll(procPath(dst, tmp))
		return "", nil, err
	}
	if it.State == Conflict {
		aside = name + ".fsdiff-old-" + time.Now().UTC().Format("20060102T150405Z")
		if err := unix.Renameat2(dst, name, dst, aside, unix.RENAME_NOREPLACE); err != nil && !errors.Is(err, unix.ENOENT) {
			os.RemoveAll(procPath(dst, tmp))
			return "", nil, &os.PathError{Op: "rename aside", Path: it.Destination, Err: err}
		}
		aside = path.Join(path.Dir(it.Destination), aside)
	}
	if err := unix.Renameat2(dst, tmp, dst, name, unix.RENAME_NOREPLACE); err != nil {
		os.RemoveAll(procPath(dst, tmp))
		return "", nil, &os.PathError{Op: "rename", Path: it.Destination, Err: err}
	}
	for key, at := range cp.links {
		c.linked[key] = strings.TrimPrefix(path.Join(path.Dir(it.Source), name+strings.TrimPrefix(at, tmp)), "/")
	}
	if err := unix.Fsync(dst); err != nil {
		return aside, cp.notes, &os.PathError{Op: "fsync", Path: path.Dir(it.Destination), Err: err}
	}
	return aside, cp.notes, nil
}

// parents opens the destination directory of anchor a in storage,
// creating what is missing with the owners and modes of the root's
// directories, as impermanence and preservation do.
func (c *planned) parents(a string) (int, error) {
	dir, err := unix.Dup(int(c.storage.Fd()))
	if err != nil {
		return -1, err
	}
	rel := ""
	for _, n := range strings.Split(strings.Trim(path.Dir(a), "/"), "/") {
		if n == "" {
			continue
		}
		rel = path.Join(rel, n)
		next, err := openStorageDir(c.storage, rel)
		if errors.Is(err, unix.ENOENT) {
			err = c.mkdirLike(dir, n, "/"+rel)
			if err == nil {
				next, err = openStorageDir(c.storage, rel)
			}
		}
		unix.Close(dir)
		if err != nil {
			return -1, &os.PathError{Op: "open", Path: path.Join(c.storage.Name(), rel), Err: err}
		}
		dir = next
	}
	return dir, nil
}

// mkdirLike makes name in dir with the owner and mode of the root's
// directory orig.
func (c *planned) mkdirLike(dir int, name, orig string) error {
	src, oname, err := openParent(c.root, orig)
	if err != nil {
		return err
	}
	defer unix.Close(src)
	st, err := lstat(src, oname)
	if err != nil {
		return &os.PathError{Op: "lstat", Path: orig, Err: err}
	}
	if err := unix.Mkdirat(dir, name, 0o700); err != nil && err != unix.EEXIST {
		return err
	}
	if err := unix.Fchownat(dir, name, int(st.Uid), int(st.Gid), unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return err
	}
	if err := unix.Fchmodat(dir, name, st.Mode&0o7777, 0); err != nil {
		return err
	}
	return unix.Fsync(dir)
}

// removeLeftovers removes what an interrupted run left in dir: only names
// fsdiff makes.
func removeLeftovers(dir int) {
	names, err := readNames(dir)
	if err != nil {
		return
	}
	for _, n := range names {
		if tempName.MatchString(n) {
			os.RemoveAll(procPath(dir, n))
		}
	}
}

type devIno struct{ dev, ino uint64 }

// copier copies one anchor into a temporary name in its destination
// directory.
type copier struct {
	ctx       context.Context
	top       int // the destination directory
	reflink   bool
	anchorMnt uint64
	links     map[devIno]string // first copy of each inode with several links, relative to top
	storage   int               // the storage directory
	linked    map[devIno]string // copies earlier anchors made, relative to storage
	notes     []string
	copied    int // entries copied
	progress  func(done int)
}

// entry copies name in src to dname in dst: rel is its path in the root,
// at the same path relative to the destination directory.
func (c *copier) entry(src int, name string, dst int, dname, rel, at string) error {
	if err := c.ctx.Err(); err != nil {
		return err
	}
	st, err := lstat(src, name)
	if err != nil {
		return &os.PathError{Op: "lstat", Path: rel, Err: err}
	}
	if note := skipped(src, name, rel, &st, c.anchorMnt); note != "" {
		c.notes = append(c.notes, note)
		return nil
	}
	typ := st.Mode & unix.S_IFMT
	if typ != unix.S_IFDIR && st.Nlink > 1 {
		key := devIno{st.Dev, st.Ino}
		if first, ok := c.links[key]; ok {
			if err := unix.Linkat(c.top, first, dst, dname, 0); err != nil {
				return &os.PathError{Op: "link", Path: rel, Err: err}
			}
			return c.entryDone()
		}
		if first, ok := c.linked[key]; ok {
			// EXDEV: a mount in storage separates them; a copy of its own then.
			if err := unix.Linkat(c.storage, first, dst, dname, 0); err == nil {
				return c.entryDone()
			} else if err != unix.EXDEV {
				return &os.PathError{Op: "link", Path: rel, Err: err}
			}
		}
		c.links[key] = at
	}
	switch typ {
	case unix.S_IFREG:
		err = c.file(src, name, dst, dname, &st)
	case unix.S_IFDIR:
		err = c.dir(src, name, dst, dname, rel, at)
	case unix.S_IFLNK:
		var target string
		if target, err = readlink(src, name); err == nil {
			err = unix.Symlinkat(target, dst, dname)
		}
	default: // fifo, character and block devices
		err = unix.Mknodat(dst, dname, typ|0o600, int(st.Rdev))
	}
	if err == nil {
		err = c.metadata(src, name, dst, dname, &st)
	}
	if err != nil {
		return &os.PathError{Op: "copy", Path: rel, Err: err}
	}
	return c.entryDone()
}

func (c *copier) entryDone() error {
	c.copied++
	if c.progress != nil {
		c.progress(c.copied)
	}
	if afterEntry != nil {
		return afterEntry()
	}
	return nil
}

func (c *copier) dir(src int, name string, dst int, dname, rel, at string) error {
	if err := unix.Mkdirat(dst, dname, 0o700); err != nil {
		return err
	}
	sfd, err := openNoatime(src, name, unix.O_DIRECTORY)
	if err != nil {
		return err
	}
	defer unix.Close(sfd)
	dfd, err := unix.Openat(dst, dname, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(dfd)
	names, err := readNames(sfd)
	if err != nil {
		return err
	}
	for _, n := range names {
		if err := c.entry(sfd, n, dfd, n, rel+"/"+n, at+"/"+n); err != nil {
			return err
		}
	}
	return unix.Fsync(dfd)
}

func (c *copier) file(src int, name string, dst int, dname string, st *unix.Stat_t) error {
	sfd, err := openNoatime(src, name, 0)
	if err != nil {
		return err
	}
	defer unix.Close(sfd)
	dfd, err := unix.Openat(dst, dname, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return err
	}
	defer unix.Close(dfd)
	if err := copyData(sfd, dfd, st.Size, c.reflink); err != nil {
		return err
	}
	return unix.Fsync(dfd)
}

// copyData copies size bytes of src to dst: a reflink when it may, else
// each data segment (holes stay holes) by copy_file_range, else by read and
// write.
func copyData(src, dst int, size int64, reflink bool) error {
	if reflink && unix.IoctlFileClone(dst, src) == nil {
		return nil
	}
	for off := int64(0); off < size; {
		data, err := unix.Seek(src, off, unix.SEEK_DATA)
		if err == unix.ENXIO { // only a hole is left
			break
		}
		if err != nil {
			data = off // no SEEK_DATA: all of it is data
		}
		end, err := unix.Seek(src, data, unix.SEEK_HOLE)
		if err != nil {
			end = size
		}
		if err := copyRange(src, dst, data, end-data); err != nil {
			return err
		}
		off = end
	}
	return unix.Ftruncate(dst, size)
}

func copyRange(src, dst int, off, n int64) error {
	for n > 0 {
		in, out := off, off
		w, err := unix.CopyFileRange(src, &in, dst, &out, int(min(n, 1<<30)), 0)
		if err != nil || w == 0 {
			return readWrite(src, dst, off, n)
		}
		off, n = off+int64(w), n-int64(w)
	}
	return nil
}

func readWrite(src, dst int, off, n int64) error {
	buf := make([]byte, 1<<20)
	for n > 0 {
		r, err := unix.Pread(src, buf[:min(n, int64(len(buf)))], off)
		if err != nil {
			return err
		}
		if r == 0 {
			return nil // the file shrank while copied
		}
		if _, err := unix.Pwrite(dst, buf[:r], off); err != nil {
			return err
		}
		off, n = off+int64(r), n-int64(r)
	}
	return nil
}

// metadata gives dname in dst the owner, extended attributes, mode and
// times of name in src. The owner comes first: chown clears setuid bits
// and security.capability.
func (c *copier) metadata(src int, name string, dst int, dname string, st *unix.Stat_t) error {
	if err := unix.Fchownat(dst, dname, int(st.Uid), int(st.Gid), unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("chown: %w", err)
	}
	if err := c.xattrs(procPath(src, name), procPath(dst, dname)); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFLNK { // a symlink's mode means nothing and cannot be set
		if err := unix.Fchmodat(dst, dname, st.Mode&0o7777, 0); err != nil {
			return fmt.Errorf("chmod: %w", err)
		}
	}
	ts := []unix.Timespec{st.Atim, st.Mtim}
	if err := unix.UtimesNanoAt(dst, dname, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("setting times: %w", err)
	}
	return nil
}

// xattrs copies the extended attributes of src to dst (ACLs, capabilities,
// user and trusted ones). A security label the destination refuses (no
// SELinux policy loaded) is noted, not fatal.
func (c *copier) xattrs(src, dst string) error {
	names, err := listXattrs(src)
	if err != nil {
		return fmt.Errorf("listing xattrs: %w", err)
	}
	for _, n := range names {
		v, err := getXattr(src, n)
		if err != nil {
			return fmt.Errorf("reading xattr %q: %w", n, err)
		}
		if err := unix.Lsetxattr(dst, n, v, 0); err != nil {
			if n == "security.selinux" {
				c.notes = append(c.notes, fmt.Sprintf("SELinux label not set (%v)", err))
				continue
			}
			return fmt.Errorf("setting xattr %q: %w", n, err)
		}
	}
	return nil
}

func listXattrs(p string) ([]string, error) {
	for {
		n, err := unix.Llistxattr(p, nil)
		if err != nil || n == 0 {
			if err == unix.ENOTSUP {
				return nil, nil
			}
			return nil, err
		}
		buf := make([]byte, n)
		n, err = unix.Llistxattr(p, buf)
		if err == unix.ERANGE {
			continue // grew meanwhile
		}
		if err != nil {
			return nil, err
		}
		var names []string
		for _, s := range strings.Split(string(buf[:n]), "\x00") {
			if s != "" {
				names = append(names, s)
			}
		}
		return names, nil
	}
}

func getXattr(p, name string) ([]byte, error) {
	for {
		n, err := unix.Lgetxattr(p, name, nil)
		if err != nil {
			return nil, err
		}
		buf := make([]byte, n)
		n, err = unix.Lgetxattr(p, name, buf)
		if err == unix.ERANGE {
			continue
		}
		return buf[:n], err
	}
}
