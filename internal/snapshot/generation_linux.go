package snapshot

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math"
	"os"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/fsdiff-nix/fsdiff/internal/change"
	"github.com/fsdiff-nix/fsdiff/internal/chunked"
	"golang.org/x/sys/unix"
)

// inode is a candidate found by the sweep. Hundreds of thousands are kept
// at once, so it holds no pointers: its strings are in its part's strs.
type inode struct {
	ino    uint64
	item   inodeItem
	target chunked.Span // symlink target
	// base is 1 + the index in generationScan.bases of the same inode in
	// the baseline; 0 when it is not there.
	base uint32
	// The inode's names are its part's names[first:first+count]:
	// indexes, not a window of the slice, which would keep each array the
	// slice outgrew alive.
	first, count uint32
	hasTarget    bool
}

// storedRef is a nameRef kept by the sweep.
type storedRef struct {
	parent uint64
	name   chunked.Span
}

const sweepBufSize = 1 << 20

// part is what the sweep found in one range of inode numbers. An inode's
// items all have its number as their object ID, so no inode is split
// between parts.
type part struct {
	lo, hi uint64                  // inode numbers
	inodes chunked.List[inode]     // sorted by inode number; chunked: the sweep appends hundreds of thousands
	names  chunked.List[storedRef] // the names of all inodes
	strs   chunked.Strings         // names and symlink targets
	swept  uint32                  // names found by the sweep; those fetched after it follow
}

// ScanGenerations reports every inode of the subvolume whose root directory
// is root that changed after since, with all its names, then every
// subvolume in nested created after since. An entry whose directory
// vanishes while the scan runs (the root may be live) goes to problem and
// the scan goes on. It needs CAP_SYS_ADMIN.
func ScanGenerations(ctx context.Context, root *os.File, since Since, nested []NestedSubvolume, emit func(change.Change) error, problem func(error)) error {
	workers := min(runtime.GOMAXPROCS(0), maxSweepWorkers)
	return scanGenerations(ctx, root, since, nested, workers, 2*workers, emit, problem) // more parts than workers, for parts that hold more than others
}

// maxSweepWorkers bounds the sweep's goroutines, each with a buffer of
// sweepBufSize that a long sweep fills: 8 MiB at most on a machine of many
// CPUs.
const maxSweepWorkers = 8

// scanGenerations is ScanGenerations with the sweep read in that many
// parts by that many workers.
func scanGenerations(ctx context.Context, root *os.File, since Since, nested []NestedSubvolume, workers, parts int, emit func(change.Change) error, problem func(error)) error {
	g := &generationScan{root: root, since: since, dirs: make(map[uint64]string)}
	if err := g.sweep(ctx, workers, parts); err != nil {
		return err
	}
	for p, in := range g.candidates() {
		// A leaf that was not rewritten is not returned, so an inode's refs or
		// its symlink extent may sit in an older leaf than its INODE_ITEM.
		if in.ino != firstFreeObjectID && in.count < expectedNames(in.item) {
			if err := g.fetchNames(p, in); err != nil {
				return err
			}
		}
		if in.item.mode&unix.S_IFMT == unix.S_IFLNK && !in.hasTarget {
			if err := g.fetchTarget(p, in); err != nil {
				return err
			}
		}
	}
	if since.Tree != 0 {
		if err := g.fetchBaseline(ctx); err != nil {
			return err
		}
	}
	// Candidates are emitted in order, and their records and name indexes
	// freed as it goes, and each part once emitted, so that what the caller
	// keeps of each change takes their place. Directories' names are copied
	// to dirRefs for the paths of their entries.
	g.dirRefs = map[uint64]storedRef{}
	for p, in := range g.candidates() {
		if in.item.mode&unix.S_IFMT == unix.S_IFDIR && in.count == 1 {
			r := p.names.At(int(in.first))
			g.dirRefs[in.ino] = storedRef{r.parent, g.dirNames.AddBytes(p.strs.Bytes(r.name, 0))}
		}
	}
	for _, p := range g.parts {
		for i := range p.inodes.Len() {
			if i&0xfff == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			in := p.inodes.At(i)
			if err := g.emit(p, in, emit, problem); err != nil {
				return err
			}
			p.inodes.Free(i)
			if in.first+in.count <= p.swept { // names come in inode order, except those fetched after the sweep
				p.names.Free(int(in.first))
			}
		}
		*p = part{lo: p.lo, hi: p.hi} // emitted: nothing of it is read again
	}
	for _, sv := range nested {
		if sv.OTransID <= since.Generation {
			continue
		}
		c := change.Change{Path: sv.Path, Kind: change.Created, Type: change.Subvolume, Inode: firstFreeObjectID, Nlink: 1}
		var st unix.Stat_t
		if err := unix.Fstatat(int(root.Fd()), strings.TrimPrefix(sv.Path, "/"), &st, unix.AT_SYMLINK_NOFOLLOW); err == nil {
			c.Mode, c.UID, c.GID = st.Mode&0o7777, st.Uid, st.Gid
			c.MTime = time.Unix(st.Mtim.Unix())
		}
		if err := emit(c); err != nil {
			return err
		}
	}
	return nil
}

// sweep reads every leaf written after the baseline, once, and keeps the
// inodes written after it. It reads that many parts of the range of inode
// numbers in that many goroutines at once: copying items out of the tree
// (the kernel's work) and decoding them are most of a scan's time. The
// first error, in the order of the parts, stops the others.
func (g *generationScan) sweep(ctx context.Context, workers, parts int) error {
	bounds, err := g.partBounds(parts)
	if err != nil {
		return searchError(g.root, err)
	}
	g.parts = make([]*part, len(bounds)-1)
	for i := range g.parts {
		g.parts[i] = &part{lo: bounds[i], hi: bounds[i+1] - 1}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan int, len(g.parts))
	for i := range g.parts {
		next <- i
	}
	close(next)
	errs := make([]error, len(g.parts))
	var wg sync.WaitGroup
	for range min(workers, len(g.parts)) {
		wg.Go(func() {
			s := newTreeSearcher(g.root, sweepBufSize)
			for i := range next {
				if ctx.Err() != nil {
					return
				}
				if errs[i] = g.sweepPart(ctx, s, g.parts[i]); errs[i] != nil {
					cancel()
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
	}
	return ctx.Err()
}

// partBounds splits the inode numbers into at most n ranges, bounds[i] to
// bounds[i+1]-1: the first from the first inode number, the last to the
// last one, and between them those of the items written after the
// baseline in ranges of equal width. The first and last such numbers are
// found by searches of one item, each a descent of the tree through nodes
// written after the baseline: the first search from the start, then a
// bisection for the last.
func (g *generationScan) partBounds(n int) ([]uint64, error) {
	if n <= 1 {
		return []uint64{firstFreeObjectID, lastFreeObjectID + 1}, nil
	}
	s := newTreeSearcher(g.root, 4<<10)
	key := searchKey{
		MaxObjectID: lastFreeObjectID, MaxType: math.MaxUint8, MaxOffset: math.MaxUint64,
		MinTransID: g.since.Generation + 1, MaxTransID: math.MaxUint64,
	}
	// from returns the smallest such number from min on.
	from := func(min uint64) (uint64, bool, error) {
		key.MinObjectID = min
		h, ok, err := s.first(key)
		return h.ObjectID, ok, err
	}
	first, ok, err := from(firstFreeObjectID)
	if err != nil || !ok {
		return []uint64{firstFreeObjectID, lastFreeObjectID + 1}, err
	}
	lo, hi := first, uint64(lastFreeObjectID) // the last is in [lo, hi]
	for lo < hi {
		mid := lo + (hi-lo+1)/2
		id, ok, err := from(mid)
		switch {
		case err != nil:
			return nil, err
		case ok:
			lo = id
		default:
			hi = mid - 1
		}
	}
	width := max((lo-first+1)/uint64(n), 1)
	bounds := []uint64{firstFreeObjectID}
	for b := first + width; b <= lo && len(bounds) < n; b += width {
		bounds = append(bounds, b)
	}
	return append(bounds, lastFreeObjectID+1), nil
}

// sweepPart reads the part's range of inode numbers. Items come in key
// order (objectid, type, offset), so an inode's refs and extents follow
// its INODE_ITEM and p.inodes comes out sorted by inode number.
func (g *generationScan) sweepPart(ctx context.Context, s *treeSearcher, p *part) error {
	// last returns the inode the item belongs to, if its INODE_ITEM was kept.
	last := func(ino uint64) *inode {
		if n := p.inodes.Len(); n > 0 && p.inodes.At(n-1).ino == ino {
			return p.inodes.At(n - 1)
		}
		return nil
	}
	items := 0
	err := s.search(searchKey{
		MinObjectID: p.lo, MaxObjectID: p.hi,
		MinType: keyInodeItem, MaxType: keyExtentData, MaxOffset: math.MaxUint64,
		MinTransID: g.since.Generation + 1, MaxTransID: math.MaxUint64,
	}, func(h *searchHeader, data []byte) error {
		if items++; items&0xfff == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		switch h.Type {
		case keyInodeItem:
			it, transid, err := decodeInodeItem(data)
			if err != nil {
				return fmt.Errorf("inode %d: %w", h.ObjectID, err)
			}
			if transid > g.since.Generation && it.nlink > 0 {
				p.inodes.Append(inode{ino: h.ObjectID, item: it})
			}
		case keyInodeRef, keyInodeExtref:
			if in := last(h.ObjectID); in != nil {
				return p.addNames(in, h, data)
			}
		case keyExtentData:
			if in := last(h.ObjectID); in != nil && h.Offset == 0 && in.item.mode&unix.S_IFMT == unix.S_IFLNK {
				p.setTarget(in, data)
			}
		}
		return nil
	})
	if err != nil {
		return searchError(g.root, err)
	}
	p.swept = uint32(p.names.Len())
	return nil
}

// addNames appends the names in an INODE_REF or INODE_EXTREF item to in.
// All names of the part share one list, so in's names are always its tail
// while in's items are being read.
func (p *part) addNames(in *inode, h *searchHeader, data []byte) error {
	if in.count == 0 {
		in.first = uint32(p.names.Len())
	}
	err := decodeRefs(h.Type, h.Offset, data, func(parent uint64, name []byte) {
		p.names.Append(storedRef{parent, p.strs.AddBytes(name)})
	})
	if err != nil {
		return fmt.Errorf("inode %d: %w", h.ObjectID, err)
	}
	in.count = uint32(p.names.Len()) - in.first
	return nil
}

// setTarget keeps the symlink target in an inline extent item.
func (p *part) setTarget(in *inode, data []byte) {
	if t, ok := inlineExtent(data); ok {
		in.target, in.hasTarget = p.strs.AddBytes(t), true
	}
}

// namesOf returns the names of in.
func (p *part) namesOf(in *inode) iter.Seq[nameRef] {
	return func(yield func(nameRef) bool) {
		for i := in.first; i < in.first+in.count; i++ {
			r := p.names.At(int(i))
			if !yield(nameRef{r.parent, p.strs.Get(r.name, 0)}) {
				return
			}
		}
	}
}

// expectedNames is how many names an inode has: its link count, except
// that a btrfs directory always has a link count of 1.
func expectedNames(it inodeItem) uint32 {
	if it.mode&unix.S_IFMT == unix.S_IFDIR {
		return 1
	}
	return it.nlink
}

type generationScan struct {
	root  *os.File
	since Since
	parts []*part           // in order of their inode numbers
	bases []inodeItem       // baseline versions of candidates (inode.base)
	dirs  map[uint64]string // directory inode → absolute path, memoised
	// dirRefs holds the name of each candidate directory, in dirNames,
	// once candidates are being freed.
	dirRefs  map[uint64]storedRef
	dirNames chunked.Strings
	small    *treeSearcher
}

// candidates yields every candidate in order of inode number, with its
// part.
func (g *generationScan) candidates() iter.Seq2[*part, *inode] {
	return func(yield func(*part, *inode) bool) {
		for _, p := range g.parts {
			for i := range p.inodes.Len() {
				if !yield(p, p.inodes.At(i)) {
					return
				}
			}
		}
	}
}

// find returns the candidate with inode number ino, if there is one, and
// its part.
func (g *generationScan) find(ino uint64) (*part, *inode) {
	k := sort.Search(len(g.parts), func(k int) bool { return g.parts[k].hi >= ino })
	if k == len(g.parts) {
		return nil, nil
	}
	p := g.parts[k]
	return p, p.find(ino)
}

// find returns the candidate with inode number ino, if the part holds it.
func (p *part) find(ino uint64) *inode {
	n := p.inodes.Len()
	i := sort.Search(n, func(i int) bool { return p.inodes.At(i).ino >= ino })
	if i == n || p.inodes.At(i).ino != ino {
		return nil
	}
	return p.inodes.At(i)
}

func (g *generationScan) searcher() *treeSearcher {
	if g.small == nil {
		g.small = newTreeSearcher(g.root, 16<<10)
	}
	return g.small
}

// fetchNames reads every INODE_REF and INODE_EXTREF of ino, whatever leaf
// they are in.
func (g *generationScan) fetchNames(p *part, in *inode) error {
	in.count = 0
	err := g.searcher().search(searchKey{
		MinObjectID: in.ino, MaxObjectID: in.ino, MinType: keyInodeRef, MaxType: keyInodeExtref,
		MaxOffset: math.MaxUint64, MaxTransID: math.MaxUint64,
	}, func(h *searchHeader, data []byte) error {
		return p.addNames(in, h, data)
	})
	if err != nil {
		return fmt.Errorf("reading names of inode %d: %w", in.ino, searchError(g.root, err))
	}
	return nil
}

// fetchTarget reads the inline extent that holds a symlink's target.
func (g *generationScan) fetchTarget(p *part, in *inode) error {
	err := g.searcher().search(searchKey{
		MinObjectID: in.ino, MaxObjectID: in.ino, MinType: keyExtentData, MaxType: keyExtentData,
		MaxTransID: math.MaxUint64,
	}, func(h *searchHeader, data []byte) error {
		p.setTarget(in, data)
		return nil
	})
	if err != nil {
		return fmt.Errorf("reading symlink target of inode %d: %w", in.ino, searchError(g.root, err))
	}
	return nil
}

// fetchBaseline reads the baseline's inode items of the candidates that
// existed at the cutoff, so that emit compares each with its own inode.
// Runs of consecutive inode numbers are read with one search, which also
// returns the other items of all but the last inode of the run: a run only
// goes on past an inode with few items (not a directory, whose entries are
// items, and not a large file, whose extents are).
func (g *generationScan) fetchBaseline(ctx context.Context) error {
	for _, p := range g.parts {
		if err := g.fetchBaselineOf(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

func (g *generationScan) fetchBaselineOf(ctx context.Context, p *part) error {
	const maxRun, smallFile = 256, 1 << 20
	key := searchKey{TreeID: g.since.Tree, MinType: keyInodeItem, MaxType: keyInodeItem, MaxTransID: math.MaxUint64}
	at, n := p.inodes.At, p.inodes.Len()
	for i := 0; i < n; {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		first := at(i)
		if first.item.generation > g.since.Generation && first.ino != firstFreeObjectID {
			i++ // created after the cutoff: the baseline's inode of that number is another one
			continue
		}
		j := i
		for j+1 < n && j+1-i < maxRun && at(j+1).ino == at(j).ino+1 &&
			at(j).item.mode&unix.S_IFMT != unix.S_IFDIR && at(j).item.size < smallFile &&
			at(j+1).item.generation <= g.since.Generation {
			j++
		}
		key.MinObjectID, key.MaxObjectID = first.ino, at(j).ino
		err := g.searcher().search(key, func(h *searchHeader, data []byte) error {
			if h.Type != keyInodeItem {
				return nil
			}
			in := p.find(h.ObjectID)
			if in == nil {
				return nil
			}
			it, _, err := decodeInodeItem(data)
			if err != nil {
				return fmt.Errorf("baseline inode %d: %w", h.ObjectID, err)
			}
			if it.generation == in.item.generation { // the same inode, not a reused number
				g.bases = append(g.bases, it)
				in.base = uint32(len(g.bases))
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("reading the baseline's inodes: %w", searchError(g.root, err))
		}
		i = j + 1
	}
	return nil
}

// dirPath returns the absolute path of directory ino, without a trailing
// slash except for the root. Each directory's name and parent come from its
// own INODE_REF: the sweep's for candidates, a search for the others, and
// every path found is memoised. BTRFS_IOC_INO_LOOKUP would be one call, but
// its name buffer holds 4,080 bytes and any user can make a longer path.
func (g *generationScan) dirPath(ino uint64) (string, error) {
	type step struct {
		ino  uint64
		name string
	}
	var up []step // from ino upwards, until a directory whose path is known
	var seen map[uint64]bool
	p := "/"
	for cur := ino; cur != firstFreeObjectID; {
		if known, ok := g.dirs[cur]; ok {
			p = known
			break
		}
		if seen == nil {
			seen = map[uint64]bool{} // only when the path is not known: most calls find it at once
		}
		if seen[cur] { // a live root renamed directories while it was read
			return "", fmt.Errorf("resolving directory inode %d: directory %d is its own ancestor", ino, cur)
		}
		seen[cur] = true
		ref, err := g.dirRef(cur)
		if err != nil {
			return "", fmt.Errorf("resolving directory inode %d: %w", ino, err)
		}
		up = append(up, step{cur, ref.name})
		cur = ref.parent
	}
	for _, s := range slices.Backward(up) {
		p = join(p, s.name)
		g.dirs[s.ino] = p
	}
	return p, nil
}

// dirRef returns the name of directory ino in its parent.
func (g *generationScan) dirRef(ino uint64) (nameRef, error) {
	if r, ok := g.dirRefs[ino]; ok {
		return nameRef{r.parent, g.dirNames.Get(r.name, 0)}, nil
	}
	if g.dirRefs == nil { // candidates are not freed yet
		if p, in := g.find(ino); in != nil && in.count == 1 {
			r := p.names.At(int(in.first))
			return nameRef{r.parent, p.strs.Get(r.name, 0)}, nil
		}
	}
	var refs []nameRef
	err := g.searcher().search(searchKey{
		MinObjectID: ino, MaxObjectID: ino, MinType: keyInodeRef, MaxType: keyInodeExtref,
		MaxOffset: math.MaxUint64, MaxTransID: math.MaxUint64,
	}, func(h *searchHeader, data []byte) error {
		if h.Type != keyInodeRef && h.Type != keyInodeExtref {
			return nil
		}
		return decodeRefs(h.Type, h.Offset, data, func(parent uint64, name []byte) {
			refs = append(refs, nameRef{parent, string(name)})
		})
	})
	if err != nil {
		return nameRef{}, searchError(g.root, err)
	}
	if len(refs) == 0 {
		return nameRef{}, unix.ENOENT // removed since the sweep
	}
	return refs[0], nil
}

// changed says how an inode changed since its baseline version, by the
// fields the walk compares: modified when its content (a directory's
// entries) changed, metadata when its mode, owner or ctime did (extended
// attributes, links), and false when only its atime did.
func changed(it, base inodeItem) (change.Kind, bool) {
	switch {
	case it.mode&unix.S_IFMT == unix.S_IFDIR && it.mtime != base.mtime:
		return change.Modified, true
	case it.mode&unix.S_IFMT != unix.S_IFDIR && (it.size != base.size || it.mtime != base.mtime):
		return change.Modified, true
	case it.mode != base.mode || it.uid != base.uid || it.gid != base.gid || it.ctime != base.ctime:
		return change.Metadata, true
	}
	return 0, false
}

func join(dir, name string) string {
	if dir == "/" {
		return "/" + name
	}
	return dir + "/" + name
}

func (g *generationScan) emit(p *part, in *inode, emit func(change.Change) error, problem func(error)) error {
	ino, it := in.ino, in.item
	typ, ok := change.TypeOf(it.mode)
	if !ok {
		return fmt.Errorf("inode %d: unknown file type in mode %#o", ino, it.mode)
	}
	c := change.Change{
		Type: typ, Size: it.size, Mode: it.mode & 0o7777, UID: it.uid, GID: it.gid,
		MTime: time.Unix(0, it.mtime), Target: p.strs.Get(in.target, 0), Inode: ino, Nlink: it.nlink,
	}
	switch {
	case it.generation > g.since.Generation && ino != firstFreeObjectID:
		c.Kind = change.Created
	case g.since.Generation == 0:
		return nil // compared with nothing: the root directory is what is audited, not a change
	case in.base != 0:
		if c.Kind, ok = changed(it, g.bases[in.base-1]); !ok {
			return nil // only its atime changed
		}
	case it.mtime > g.since.Time.UnixNano():
		c.Kind = change.Modified
	case it.ctime > g.since.Time.UnixNano():
		c.Kind = change.Metadata
	default:
		return nil // only its atime changed
	}
	if typ == change.Dir {
		c.Size = 0 // a btrfs directory's i_size counts name bytes twice; meaningless to users
	}
	if ino == firstFreeObjectID {
		c.Path = "/"
		return emit(c)
	}
	for ref := range p.namesOf(in) {
		dir, err := g.dirPath(ref.parent)
		if errors.Is(err, unix.ENOENT) {
			problem(fmt.Errorf("%s %q (inode %d) vanished during the scan: %w", c.Type, ref.name, ino, err))
			continue
		}
		if err != nil {
			return err
		}
		c.Path = join(dir, ref.name)
		if err := emit(c); err != nil {
			return err
		}
	}
	return nil
}
