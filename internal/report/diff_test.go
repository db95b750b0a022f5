package report

import (
	"fmt"
	"slices"
	"testing"

	"github.com/fsdiff-nix/fsdiff/internal/change"
	"github.com/fsdiff-nix/fsdiff/internal/classify"
)

// TestDiff: anchors that appeared, disappeared or changed category (or
// priority) are listed, sorted; what is the same in both is not, whatever
// else changed under it (more files, another reason); paths are bytes.
func TestDiff(t *testing.T) {
	e := func(p string, typ change.Type, cat classify.Category, prio classify.Priority, pattern, anchor string) classify.Entry {
		return classify.Entry{Change: change.Change{Path: p, Kind: change.Created, Type: typ, Size: 10},
			Verdict: classify.Verdict{Category: cat, Priority: prio, Rule: "r", Pattern: pattern, Reason: "why " + cat.String(), Anchor: anchor}}
	}
	app := func(p string, prio classify.Priority) classify.Entry {
		return e(p, change.File, classify.Persist, prio, "/var/lib/*/**", "/var/lib/app")
	}
	old := []classify.Entry{
		app("/var/lib/app/a", classify.Recommended),
		e("/var/lib/gone/x", change.File, classify.Persist, classify.Optional, "/var/lib/*/**", "/var/lib/gone"),
		e("/etc/hosts", change.Symlink, classify.Managed, 0, "", "/etc/hosts"),
		e("/odd/\xff", change.File, classify.Unknown, 0, "/odd/*", "/odd/\xff"),
		e("/same", change.File, classify.Ephemeral, 0, "/same", "/same"),
		e("/two", change.File, classify.Unknown, 0, "/two", "/two"),
		e("/two/x", change.File, classify.Ephemeral, 0, "/two/**", "/two"),
	}
	new := []classify.Entry{
		app("/var/lib/app/a", classify.Critical),
		app("/var/lib/app/b", classify.Critical),
		e("/var/lib/new/x", change.File, classify.Persist, classify.Recommended, "/var/lib/*/**", "/var/lib/new"),
		e("/etc/hosts", change.File, classify.Unknown, 0, "/etc/*", "/etc/hosts"),
		e("/odd/\xfe", change.File, classify.Unknown, 0, "/odd/*", "/odd/\xfe"),
		e("/same", change.File, classify.Ephemeral, 0, "/same", "/same"),
		e("/two/x", change.File, classify.Ephemeral, 0, "/two/**", "/two"),
		e("/two/y", change.File, classify.Managed, 0, "/two/y", "/two"),
	}
	row := func(r DiffRow) string {
		side := func(s *DiffSide) string {
			if s == nil {
				return "-"
			}
			return fmt.Sprintf("%s/%d/%d", threshold(s), s.Files, s.Bytes)
		}
		return fmt.Sprintf("%s %q %s %s", r.Difference, r.Path, side(r.Old), side(r.New))
	}
	var got []string
	for _, r := range Diff(classify.Slice(old), classify.Slice(new), false) {
		got = append(got, row(r))
	}
	want := []string{
		`appeared "/var/lib/new" - persist:recommended/1/10`,
		`appeared "/odd/\xfe" - unknown/1/10`,
		`changed "/var/lib/app" persist:recommended/1/10 persist:critical/2/20`,
		`changed "/etc/hosts" managed/1/0 unknown/1/10`,
		`changed "/two" unknown/1/10 managed/1/10`, // /two's ephemeral rows are the same
		`disappeared "/var/lib/gone" persist:optional/1/10 -`,
		`disappeared "/odd/\xff" unknown/1/10 -`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("Diff by anchor:\n%q\nwant\n%q", got, want)
	}

	got = got[:0]
	for _, r := range Diff(classify.Slice(old), classify.Slice(new), true) {
		got = append(got, row(r))
	}
	want = []string{
		`appeared "/var/lib/app/b" - persist:critical/1/10`,
		`appeared "/var/lib/new/x" - persist:recommended/1/10`,
		`appeared "/odd/\xfe" - unknown/1/10`,
		`appeared "/two/y" - managed/1/10`,
		`changed "/var/lib/app/a" persist:recommended/1/10 persist:critical/1/10`,
		`changed "/etc/hosts" managed/1/0 unknown/1/10`,
		`disappeared "/var/lib/gone/x" persist:optional/1/10 -`,
		`disappeared "/odd/\xff" unknown/1/10 -`,
		`disappeared "/two" unknown/1/10 -`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("Diff by path:\n%q\nwant\n%q", got, want)
	}
	if rows := Diff(classify.Slice(new), classify.Slice(new), false); len(rows) != 0 {
		t.Errorf("a report differs from itself: %v", rows)
	}

	// Two detectors' rows under one anchor come in one order, every time.
	detector := func(p string, typ change.Type, rule string) classify.Entry {
		return classify.Entry{Change: change.Change{Path: p, Kind: change.Created, Type: typ},
			Verdict: classify.Verdict{Category: classify.Ephemeral, Rule: rule, Reason: rule, Anchor: p}}
	}
	sockets := []classify.Entry{detector("/var/lib/s/a", change.FIFO, "fifo"), detector("/var/lib/s/b", change.FIFO, "fifo"),
		detector("/var/lib/s/c", change.Socket, "socket"), detector("/var/lib/s/d", change.Socket, "socket")}
	for i := range 40 { // enough rows for the sort not to be an insertion sort
		sockets = append(sockets, detector(fmt.Sprintf("/var/lib/s%02d/a", i), change.Socket, "socket"), detector(fmt.Sprintf("/var/lib/s%02d/b", i), change.Socket, "socket"))
	}
	for range 50 {
		rows := Diff(classify.Slice(nil), classify.Slice(sockets), false)
		if len(rows) != 42 || rows[0].Path != "/var/lib/s" || rows[0].New.Rule != "fifo" || rows[1].New.Rule != "socket" {
			t.Fatalf("rows %+v, want the fifos' then the sockets' at /var/lib/s", rows[:2])
		}
	}
}

// TestDiffPathTwice: path by path, a path deleted and created again in
// one report (two entries of one category) is the same path as the one
// entry of the other report: no difference.
func TestDiffPathTwice(t *testing.T) {
	e := func(k change.Kind) classify.Entry {
		return classify.Entry{Change: change.Change{Path: "/var/lib/x", Kind: k, Type: change.File},
			Verdict: classify.Verdict{Category: classify.Unknown, Anchor: "/var/lib/x"}}
	}
	old := classify.Slice{e(change.Deleted), e(change.Created)}
	new := classify.Slice{e(change.Created)}
	if rows := Diff(old, new, true); len(rows) != 0 {
		t.Errorf("rows %+v, want none", rows)
	}
}
