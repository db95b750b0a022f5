// Package chunked holds a list that grows without copying, and [Strings]
// in an arena. A list's elements live in fixed-size chunks, so appending
// never moves the elements already in it, and never leaves an outgrown
// array behind. For lists of hundreds
// of thousands of records, growing one slice by append spends most of its
// time copying (and faulting in) ever larger arrays, and its peak memory
// holds the old array next to the new one.
package chunked

const (
	chunkBits = 12
	chunkLen  = 1 << chunkBits
)

// List is a list of T. The zero value is empty and ready to use. Pointers
// returned by At stay valid while the list grows.
type List[T any] struct {
	chunks [][]T
	n      int
}

// Append adds v at the end.
func (l *List[T]) Append(v T) {
	if l.n&(chunkLen-1) == 0 {
		l.chunks = append(l.chunks, make([]T, 0, chunkLen))
	}
	c := &l.chunks[len(l.chunks)-1]
	*c = append(*c, v)
	l.n++
}

// Len returns the number of elements.
func (l *List[T]) Len() int { return l.n }

// At returns the element at index i, which must be in [0, Len()).
func (l *List[T]) At(i int) *T {
	return &l.chunks[i>>chunkBits][i&(chunkLen-1)]
}

// Free releases the chunks that hold only elements before index n, for a
// list read once from the front: At must not be called for them again.
func (l *List[T]) Free(n int) {
	for c := range min(n>>chunkBits, len(l.chunks)) {
		l.chunks[c] = nil
	}
}
