package chunked

import (
	"strconv"
	"strings"
	"testing"
)

func TestList(t *testing.T) {
	var l List[int]
	first := (*int)(nil)
	for i := range 3*chunkLen + 5 {
		l.Append(i * 2)
		if i == 0 {
			first = l.At(0)
		}
	}
	if l.Len() != 3*chunkLen+5 {
		t.Fatalf("Len() = %d, want %d", l.Len(), 3*chunkLen+5)
	}
	for i := range l.Len() {
		if *l.At(i) != i*2 {
			t.Fatalf("At(%d) = %d, want %d", i, *l.At(i), i*2)
		}
	}
	if first != l.At(0) {
		t.Error("the first element moved while the list grew")
	}
}

func TestFree(t *testing.T) {
	var l List[int]
	for i := range 3 * chunkLen {
		l.Append(i)
	}
	l.Free(2*chunkLen - 1) // the second chunk still holds an element at 2*chunkLen-1
	if l.chunks[0] != nil || l.chunks[1] == nil {
		t.Errorf("chunks freed: %v %v", l.chunks[0] == nil, l.chunks[1] == nil)
	}
	if *l.At(2*chunkLen - 1) != 2*chunkLen-1 || *l.At(3*chunkLen - 1) != 3*chunkLen-1 {
		t.Error("an element after the freed chunks changed")
	}
}

func TestStrings(t *testing.T) {
	var a Strings
	if a.Get(0, 0) != "" || a.Get(0, 2) != "" {
		t.Error("the zero span is not empty")
	}
	big := strings.Repeat("x", stringsChunk+3)
	type added struct {
		sp    Span
		parts []string
	}
	var all []added
	for i := range 5000 {
		parts := []string{strconv.Itoa(i), "", "\xff\x00/" + strconv.Itoa(i*7)}
		if i%1000 == 999 {
			parts[1] = big // a string longer than a chunk gets one of its own
		}
		all = append(all, added{a.Add(parts...), parts})
		all = append(all, added{a.AddBytes([]byte(parts[2])), parts[2:]})
	}
	for _, ad := range all {
		for k, p := range ad.parts {
			if got := a.Get(ad.sp, k); got != p {
				t.Fatalf("part %d of %v: %q", k, ad.parts, got[:min(len(got), 20)])
			}
		}
	}
}

// TestStringsStartSmall: an arena of a few names takes a few kilobytes,
// not a megabyte (the send source makes one per hard-linked inode).
func TestStringsStartSmall(t *testing.T) {
	var a Strings
	a.Add("/etc/machine-id")
	if n := cap(a.chunks[0]); n > firstChunk {
		t.Errorf("first chunk of %d bytes for one name", n)
	}
	for range 100_000 {
		a.Add("/var/lib/some/longer/name")
	}
	if n := cap(a.chunks[len(a.chunks)-1]); n != stringsChunk {
		t.Errorf("chunks grow to %d bytes, want %d", n, stringsChunk)
	}
}
