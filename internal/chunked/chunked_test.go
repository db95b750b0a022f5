package chunked

import "testing"

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
