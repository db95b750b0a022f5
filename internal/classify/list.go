package classify

import (
	"cmp"
	"iter"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fsdiff-nix/fsdiff/internal/change"
	"github.com/fsdiff-nix/fsdiff/internal/chunked"
)

// Entries is a read-only sequence of entries: an audit's [List], or a
// [Slice] of a few.
type Entries interface {
	Len() int
	At(i int) Entry
	Path(i int) string // At(i).Path, without building the rest of the entry
}

// Slice is entries held as they are.
type Slice []Entry

func (s Slice) Len() int       { return len(s) }
func (s Slice) At(i int) Entry { return s[i] }

func (s Slice) Path(i int) string { return s[i].Path }

// List holds the entries of an audit compactly, so that a root of millions
// of changed paths fits in memory a few times the size of its path names:
// each entry is a 56-byte record without pointers (the garbage collector
// never scans it), its names are bytes in an arena (chunked.Strings), its
// verdict is an index into the verdicts it shares with every path a rule
// matched, and its anchor, nearly always a prefix of its path, is a
// length. A change's CTime, which only sources compare, is not kept. The
// zero value is empty and ready to use.
type List struct {
	records  chunked.List[record]
	names    chunked.Strings    // each record's path, symlink target and origin, added together
	verdicts []Verdict          // distinct verdicts; Anchor is set only where it is not a prefix of the path
	index    map[Verdict]uint32 // verdicts[index[v]] == v
	last     uint32             // index of the verdict appended last, which the next path most often shares
	order    []uint32           // report order, once sorted; nil: append order
}

type record struct {
	names           chunked.Span // path, target, origin
	size, mtime     int64        // mtime: nanoseconds since the epoch, noTime for none
	inode           uint64
	verdict         uint32
	anchor          uint32 // length of the anchor as a prefix of path; ownAnchor: the verdict holds it
	uid, gid, nlink uint32
	mode            uint16
	kind            change.Kind
	typ             change.Type
}

// Parts of record.names.
const (
	pathPart = iota
	targetPart
	originPart
)

const (
	noTime    = math.MinInt64
	ownAnchor = math.MaxUint32
)

// Append adds a change with its verdict.
func (l *List) Append(c change.Change, v Verdict) {
	r := record{
		names: l.names.Add(c.Path, c.Target, c.Origin),
		size:  c.Size, mtime: noTime, inode: c.Inode, uid: c.UID, gid: c.GID, nlink: c.Nlink,
		mode: uint16(c.Mode), kind: c.Kind, typ: c.Type,
	}
	if !c.MTime.IsZero() {
		r.mtime = c.MTime.UnixNano()
	}
	if strings.HasPrefix(c.Path, v.Anchor) && len(v.Anchor) < ownAnchor {
		r.anchor = uint32(len(v.Anchor))
		v.Anchor = ""
	} else {
		r.anchor = ownAnchor
	}
	r.verdict = l.verdictIndex(v)
	l.records.Append(r)
	l.order = nil
}

// verdictIndex returns the index of v in l.verdicts, adding it if it is new.
func (l *List) verdictIndex(v Verdict) uint32 {
	if int(l.last) < len(l.verdicts) && l.verdicts[l.last] == v {
		return l.last
	}
	i, ok := l.index[v]
	if !ok {
		if l.index == nil {
			l.index = map[Verdict]uint32{}
		}
		i = uint32(len(l.verdicts))
		l.verdicts = append(l.verdicts, v)
		l.index[v] = i
	}
	l.last = i
	return i
}

// Len returns the number of entries.
func (l *List) Len() int { return l.records.Len() }

// At returns entry i, in report order once the list is sorted. Its strings
// point into the list's arena: they stay valid as long as the list does.
func (l *List) At(i int) Entry {
	if l.order != nil {
		i = int(l.order[i])
	}
	r := l.records.At(i)
	v := l.verdicts[r.verdict]
	path := l.names.Get(r.names, pathPart)
	if r.anchor != ownAnchor {
		v.Anchor = path[:r.anchor]
	}
	e := Entry{Change: change.Change{
		Path: path, Kind: r.kind, Type: r.typ, Size: r.size, Mode: uint32(r.mode), UID: r.uid, GID: r.gid,
		Target: l.names.Get(r.names, targetPart), Origin: l.names.Get(r.names, originPart), Inode: r.inode, Nlink: r.nlink,
	}, Verdict: v}
	if r.mtime != noTime {
		e.MTime = time.Unix(0, r.mtime)
	}
	return e
}

// Path returns the path of entry i, in report order once the list is
// sorted.
func (l *List) Path(i int) string {
	if l.order != nil {
		i = int(l.order[i])
	}
	return l.names.Get(l.records.At(i).names, pathPart)
}

// Sort puts the entries in report order: by category, most urgent first,
// then by path bytes, then in the order they came in (a path deleted and
// created again). It sorts keys that hold what they are compared by (the
// path aliases the arena), then keeps only the permutation, 4 bytes an
// entry: the records stay where they are.
func (l *List) Sort() {
	type key struct {
		path string
		cat  Category
		i    uint32
	}
	keys := make([]key, l.records.Len())
	for i := range keys {
		r := l.records.At(i)
		keys[i] = key{l.names.Get(r.names, pathPart), l.verdicts[r.verdict].Category, uint32(i)}
	}
	compare := func(a, b key) int {
		return cmp.Or(cmp.Compare(a.cat, b.cat), strings.Compare(a.path, b.path), cmp.Compare(a.i, b.i))
	}
	// A long list is sorted in parts at once, one per CPU up to 4, then
	// merged: no two keys are equal, so the order is the same.
	parts := 1
	if len(keys) >= 1<<16 {
		parts = min(runtime.GOMAXPROCS(0), 4)
	}
	runs := make([][]key, parts)
	var wg sync.WaitGroup
	for k := range runs {
		runs[k] = keys[k*len(keys)/parts : (k+1)*len(keys)/parts]
		wg.Go(func() { slices.SortFunc(runs[k], compare) })
	}
	wg.Wait()
	l.order = make([]uint32, len(keys))
	for i := range l.order {
		next := -1
		for k, run := range runs {
			if len(run) > 0 && (next < 0 || compare(run[0], runs[next][0]) < 0) {
				next = k
			}
		}
		l.order[i] = runs[next][0].i
		runs[next] = runs[next][1:]
	}
}

// All yields the entries in order.
func All(entries Entries) iter.Seq[Entry] {
	return func(yield func(Entry) bool) {
		for i := range entries.Len() {
			if !yield(entries.At(i)) {
				return
			}
		}
	}
}
