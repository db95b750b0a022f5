package classify

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"iter"
	"math"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/fsdiff-nix/fsdiff/internal/change"
	"github.com/fsdiff-nix/fsdiff/internal/chunked"
)

// Entries is a read-only sequence of entries: an audit's [List], or a
// [Slice] of a few.
type Entries interface {
	Len() int
	At(i int) Entry
}

// Slice is entries held as they are.
type Slice []Entry

func (s Slice) Len() int       { return len(s) }
func (s Slice) At(i int) Entry { return s[i] }

// List holds the entries of an audit compactly, so that a root of millions
// of changed paths fits in memory a few times the size of its path names:
// each entry is a fixed-size record without pointers (the garbage collector
// never scans it), its names are bytes in an arena, its verdict is an index
// into the verdicts it shares with every path a rule matched, and its
// anchor, nearly always a prefix of its path, is a length. The zero value
// is empty and ready to use.
type List struct {
	records  chunked.List[record]
	arena    arena
	verdicts []Verdict          // distinct verdicts; Anchor is set only where it is not a prefix of the path
	index    map[Verdict]uint32 // verdicts[index[v]] == v
	last     uint32             // index of the verdict appended last, which the next path most often shares
	order    []uint32           // report order, once sorted; nil: append order
}

type record struct {
	path, target, origin span
	size, mtime          int64 // mtime: nanoseconds since the epoch, noTime for none
	inode                uint64
	verdict              uint32
	anchor               uint32 // length of the anchor as a prefix of path; ownAnchor: the verdict holds it
	uid, gid, nlink      uint32
	mode                 uint16
	kind                 change.Kind
	typ                  change.Type
}

const (
	noTime    = math.MinInt64
	ownAnchor = math.MaxUint32
)

// Append adds a change with its verdict.
func (l *List) Append(c change.Change, v Verdict) {
	r := record{
		path: l.arena.add(c.Path), target: l.arena.add(c.Target), origin: l.arena.add(c.Origin),
		size: c.Size, mtime: noTime, inode: c.Inode, uid: c.UID, gid: c.GID, nlink: c.Nlink,
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
	path := l.arena.get(r.path)
	if r.anchor != ownAnchor {
		v.Anchor = path[:r.anchor]
	}
	e := Entry{Change: change.Change{
		Path: path, Kind: r.kind, Type: r.typ, Size: r.size, Mode: uint32(r.mode), UID: r.uid, GID: r.gid,
		Target: l.arena.get(r.target), Origin: l.arena.get(r.origin), Inode: r.inode, Nlink: r.nlink,
	}, Verdict: v}
	if r.mtime != noTime {
		e.MTime = time.Unix(0, r.mtime)
	}
	return e
}

// Sort puts the entries in report order: by category, most urgent first,
// then by path bytes, then in the order they came in (a path deleted and
// created again). Only a permutation of 4 bytes an entry is sorted: the
// records stay where they are.
func (l *List) Sort() {
	order := make([]uint32, l.records.Len())
	for i := range order {
		order[i] = uint32(i)
	}
	cat := func(i uint32) Category { return l.verdicts[l.records.At(int(i)).verdict].Category }
	slices.SortFunc(order, func(a, b uint32) int {
		return cmp.Or(cmp.Compare(cat(a), cat(b)),
			bytes.Compare(l.arena.bytes(l.records.At(int(a)).path), l.arena.bytes(l.records.At(int(b)).path)),
			cmp.Compare(a, b))
	})
	l.order = order
}

// A span locates a string in an arena: the index of its chunk in the high
// 32 bits, its offset in the low ones. The zero span is the empty string.
type span uint64

// An arena holds strings, each behind its length as a uvarint, in chunks
// that are never written again once a string is in them: strings made from
// them by get stay valid as long as the arena does.
type arena struct {
	chunks [][]byte
}

const arenaChunk = 1 << 20

func (a *arena) add(s string) span {
	if s == "" {
		return 0
	}
	if a.chunks == nil {
		a.chunks = [][]byte{make([]byte, 1, arenaChunk)} // the empty string at span 0
	}
	need := binary.MaxVarintLen64 + len(s)
	c := &a.chunks[len(a.chunks)-1]
	if cap(*c)-len(*c) < need {
		a.chunks = append(a.chunks, make([]byte, 0, max(arenaChunk, need)))
		c = &a.chunks[len(a.chunks)-1]
	}
	sp := span(uint64(len(a.chunks)-1)<<32 | uint64(len(*c)))
	*c = binary.AppendUvarint(*c, uint64(len(s)))
	*c = append(*c, s...)
	return sp
}

func (a *arena) bytes(sp span) []byte {
	if sp == 0 {
		return nil
	}
	c := a.chunks[sp>>32][uint32(sp):]
	n, k := binary.Uvarint(c)
	return c[k : k+int(n)]
}

func (a *arena) get(sp span) string {
	b := a.bytes(sp)
	if len(b) == 0 {
		return ""
	}
	// The bytes are never written again (see arena).
	return unsafe.String(&b[0], len(b))
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
