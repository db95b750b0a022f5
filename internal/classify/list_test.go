package classify

import (
	"cmp"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/fsdiff-nix/fsdiff/internal/change"
)

// TestListRoundTrip: every field of a change and its verdict comes back as
// it went in, names byte for byte, whatever their length, and anchors
// whether or not they are a prefix of the path.
func TestListRoundTrip(t *testing.T) {
	long := "/" + strings.Repeat("d/", 1<<20) + "f" // longer than an arena chunk
	in := []Entry{
		{Change: change.Change{Path: "/etc/machine-id", Kind: change.Created, Type: change.File, Size: 33, Mode: 0o7444, UID: 1, GID: 2,
			MTime: time.Unix(1700000000, 123456789), Inode: 1 << 40, Nlink: 3},
			Verdict: Verdict{Category: Persist, Priority: Critical, Rule: "builtin:1", Pattern: "/etc/machine-id", Reason: "r", Source: "s", Anchor: "/etc/machine-id"}},
		{Change: change.Change{Path: "/var/lib/x/\xff\n\x00y", Kind: change.Renamed, Type: change.Symlink, Target: "/nix/store/\xfe", Origin: "/var/lib/x/old"},
			Verdict: Verdict{Category: Persist, Rule: "builtin:2", Anchor: "/var/lib/x"}},
		{Change: change.Change{Path: "/srv", Kind: change.Deleted, Type: change.Dir},
			Verdict: Verdict{Category: Persisted, Rule: "declared", Anchor: "/persist/srv"}}, // not a prefix
		{Change: change.Change{Path: long, Kind: change.Created, Type: change.File, MTime: time.Unix(0, -5)},
			Verdict: Verdict{Category: Unknown, Reason: "no rule matches", Anchor: long}},
		{Change: change.Change{Path: "/", Kind: change.Modified, Type: change.Dir},
			Verdict: Verdict{Category: Unknown, Anchor: ""}},
	}
	var l List
	for _, e := range in {
		l.Append(e.Change, e.Verdict)
	}
	if l.Len() != len(in) {
		t.Fatalf("Len() = %d, want %d", l.Len(), len(in))
	}
	for i, want := range in {
		got := l.At(i)
		if got.Path != want.Path || got.Target != want.Target || got.Origin != want.Origin || !got.MTime.Equal(want.MTime) ||
			got.MTime.IsZero() != want.MTime.IsZero() || got.Verdict != want.Verdict {
			t.Errorf("entry %d: got %+v, want %+v", i, got, want)
		}
		got.MTime, want.MTime = time.Time{}, time.Time{}
		if got != want {
			t.Errorf("entry %d: got %+v, want %+v", i, got, want)
		}
	}
	if len(l.verdicts) != len(in) {
		t.Errorf("%d verdicts kept for %d distinct ones", len(l.verdicts), len(in))
	}
}

// TestListSharesVerdicts: paths that one rule matches share its verdict,
// whatever their anchors.
func TestListSharesVerdicts(t *testing.T) {
	var l List
	for i := range 1000 {
		p := "/var/lib/svc" + strconv.Itoa(i%7) + "/f" + strconv.Itoa(i)
		l.Append(change.Change{Path: p}, Verdict{Category: Persist, Rule: "r" + strconv.Itoa(i%3), Anchor: p[:len("/var/lib/svc0")]})
	}
	if len(l.verdicts) != 3 {
		t.Errorf("%d verdicts kept, want 3", len(l.verdicts))
	}
	if a := l.At(999).Anchor; a != "/var/lib/svc5" {
		t.Errorf("anchor %q", a)
	}
}

func TestListSort(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3)) // a long list is sorted in 3 parts, then merged
	r := rand.New(rand.NewPCG(1, 2))
	sizes := []int{1<<16 + 5}
	for n := range 50 {
		sizes = append(sizes, n)
	}
	for _, n := range sizes {
		var in []Entry
		var l List
		for i := range n {
			e := Entry{
				Change:  change.Change{Path: "/p" + strconv.Itoa(r.IntN(20+n/8)), Inode: uint64(i)},
				Verdict: Verdict{Category: Category(1 + r.IntN(5))},
			}
			in = append(in, e)
			l.Append(e.Change, e.Verdict)
		}
		want := slices.Clone(in)
		slices.SortStableFunc(want, func(a, b Entry) int {
			return cmp.Or(cmp.Compare(a.Category, b.Category), strings.Compare(a.Path, b.Path))
		})
		l.Sort()
		got := slices.Collect(All(&l))
		if !slices.Equal(got, want) {
			t.Fatalf("n=%d: sorted %v, want %v", n, got, want)
		}
		for i := range got {
			if p := l.Path(i); p != got[i].Path {
				t.Fatalf("n=%d: Path(%d) = %q, At(%d).Path = %q", n, i, p, i, got[i].Path)
			}
		}
	}
}

func benchEntries() []Entry {
	r := rand.New(rand.NewPCG(1, 2))
	entries := make([]Entry, 300_000)
	for i := range entries {
		p := "/var/lib/svc" + strconv.Itoa(r.IntN(100)) + "/d" + strconv.Itoa(r.IntN(1000)) + "/f" + strconv.Itoa(i)
		entries[i] = Entry{
			Change:  change.Change{Path: p, Type: change.File, MTime: time.Unix(int64(i), 0)},
			Verdict: Verdict{Category: Category(1 + r.IntN(5)), Anchor: p[:strings.LastIndexByte(p, '/')]},
		}
	}
	return entries
}

func BenchmarkListAppend(b *testing.B) {
	entries := benchEntries()
	for b.Loop() {
		var l List
		for _, e := range entries {
			l.Append(e.Change, e.Verdict)
		}
	}
}

func BenchmarkListSort(b *testing.B) {
	var l List
	for _, e := range benchEntries() {
		l.Append(e.Change, e.Verdict)
	}
	for b.Loop() {
		l.Sort()
	}
}

// TestRecordSize: the record is what an audit holds per path; a field
// added carelessly shows here first.
func TestRecordSize(t *testing.T) {
	if n := unsafe.Sizeof(record{}); n != 56 {
		t.Errorf("record is %d bytes, want 56", n)
	}
}
