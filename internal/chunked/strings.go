package chunked

import (
	"encoding/binary"
	"unsafe"
)

// Strings holds strings in an arena of large byte chunks, each string
// behind its length as a uvarint: a few bytes of overhead a string instead
// of a 16-byte header and an allocation, and nothing the garbage collector
// scans. A chunk is never written again where a string is, so strings read
// back alias the arena without copying and stay valid as long as it does.
// The zero value is empty and ready to use.
type Strings struct {
	chunks [][]byte
}

// A Span locates a run of strings added together: the index of its chunk
// in the high 32 bits, its offset in the low ones. The zero Span holds
// empty strings.
type Span uint64

const firstChunk, stringsChunk = 4 << 10, 1 << 20

// Add stores parts next to each other and returns where they start; Get
// reads part k back.
func (a *Strings) Add(parts ...string) Span {
	n := 0
	for _, p := range parts {
		n += binary.MaxVarintLen64 + len(p)
	}
	c := a.room(n)
	sp := Span(uint64(len(a.chunks)-1)<<32 | uint64(len(*c)))
	for _, p := range parts {
		*c = binary.AppendUvarint(*c, uint64(len(p)))
		*c = append(*c, p...)
	}
	return sp
}

// AddBytes stores one string.
func (a *Strings) AddBytes(b []byte) Span {
	c := a.room(binary.MaxVarintLen64 + len(b))
	sp := Span(uint64(len(a.chunks)-1)<<32 | uint64(len(*c)))
	*c = binary.AppendUvarint(*c, uint64(len(b)))
	*c = append(*c, b...)
	return sp
}

// room returns the chunk to append n bytes to. Chunks start small and
// double up to stringsChunk: an arena may hold a few names (the send
// source makes one per hard-linked inode) or millions.
func (a *Strings) room(n int) *[]byte {
	if a.chunks == nil {
		a.chunks = [][]byte{make([]byte, 1, max(firstChunk, n+1))} // empty strings at Span 0
	}
	c := &a.chunks[len(a.chunks)-1]
	if cap(*c)-len(*c) < n {
		a.chunks = append(a.chunks, make([]byte, 0, max(min(2*cap(*c), stringsChunk), n)))
		c = &a.chunks[len(a.chunks)-1]
	}
	return c
}

// Bytes returns part k of the strings at sp. The caller must not modify
// them.
func (a *Strings) Bytes(sp Span, k int) []byte {
	if sp == 0 {
		return nil
	}
	c := a.chunks[sp>>32][uint32(sp):]
	for {
		n, w := uint64(c[0]), 1
		if n >= 0x80 { // names of 128 bytes and more
			n, w = binary.Uvarint(c)
		}
		if k == 0 {
			return c[w : w+int(n)]
		}
		c = c[w+int(n):]
		k--
	}
}

// Get returns part k of the strings at sp.
func (a *Strings) Get(sp Span, k int) string {
	b := a.Bytes(sp, k)
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b)) // never written again (see Strings)
}
