package report

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/fsdiff-nix/fsdiff/internal/change"
	"github.com/fsdiff-nix/fsdiff/internal/classify"
)

// savedEntries are entries with every field set, names no text format
// holds as they are among them.
func savedEntries() []classify.Entry {
	mtime := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	persist := classify.Verdict{Category: classify.Persist, Priority: classify.Critical, Rule: "builtin:29", Pattern: "/etc/machine-id",
		Reason: "machine id", Source: "S13", Anchor: "/etc/machine-id"}
	odd := []string{"/odd/invalid\xff\xfeutf8", "/odd/new\nline", "/odd/tab\there", "/odd/back\\slash", "/odd/\"quote", "/odd/\x01control",
		"/odd/\u2028sep", "/odd/ünïcødé", "/odd/\xed\xb3\xbf", "/odd/${x}", "/odd/\x7f"}
	entries := []classify.Entry{
		{Change: change.Change{Path: "/etc/machine-id", Kind: change.Created, Type: change.File, Size: 33, Mode: 0o444, MTime: mtime, Inode: 257, Nlink: 1}, Verdict: persist},
		{Change: change.Change{Path: "/etc/hosts", Kind: change.Renamed, Type: change.Symlink, Mode: 0o777, UID: 1000, GID: 100, MTime: mtime,
			Target: "/nix/store/\xff-hosts", Origin: "/etc/hosts.old\n", Inode: 1 << 40, Nlink: 3},
			Verdict: classify.Verdict{Category: classify.Managed, Rule: "store-symlink", Reason: "store", Source: "nixpkgs", Anchor: "/etc/hosts"}},
		{Change: change.Change{Path: "/base/x", Kind: change.Metadata}, Verdict: classify.Verdict{Category: classify.Unknown, Rule: "unknown-type", Reason: "r \xff", Source: "s", Anchor: "/base/x"}},
	}
	for _, p := range odd {
		entries = append(entries, classify.Entry{Change: change.Change{Path: p, Kind: change.Created, Type: change.File, MTime: mtime},
			Verdict: classify.Verdict{Category: classify.Unknown, Reason: "no rule matches", Anchor: "/odd"}})
	}
	return entries
}

func writeSaved(t *testing.T, entries []classify.Entry) []byte {
	t.Helper()
	var b bytes.Buffer
	audit := Audit{Version: "v1", Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		Source: change.Info{Source: change.Walk, Root: "/r\xff", RootID: 5, TopLevel: "/t", Baseline: "/b", BaselineGeneration: 8, Decisions: []string{"d1", "d\n2"}}}
	if err := Write(&b, audit, classify.Slice(entries), Options{Format: JSON}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestReadAuditRoundTrip: what fsdiff --format json writes reads back
// exactly: every field of every entry, names byte for byte.
func TestReadAuditRoundTrip(t *testing.T) {
	entries := savedEntries()
	saved := writeSaved(t, entries)
	s, err := ReadAudit(bytes.NewReader(saved), SavedLimits)
	if err != nil {
		t.Fatal(err)
	}
	if s.Audit.Version != "v1" || !s.Audit.Time.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) || s.Audit.Source.Root != "/r\xff" ||
		s.Audit.Source.BaselineGeneration != 8 || len(s.Audit.Source.Decisions) != 2 || s.Audit.Source.Decisions[1] != "d\n2" {
		t.Errorf("audit %+v", s.Audit)
	}
	if s.Entries.Len() != len(entries) {
		t.Fatalf("%d entries, want %d", s.Entries.Len(), len(entries))
	}
	for i, want := range entries {
		got := s.Entries.At(i)
		if !got.MTime.Equal(want.MTime) {
			t.Errorf("%q: mtime %v, want %v", want.Path, got.MTime, want.MTime)
		}
		got.MTime, want.MTime = time.Time{}, time.Time{}
		if got != want {
			t.Errorf("entry %d:\n got %+v\nwant %+v", i, got, want)
		}
	}
	// NDJSON lines are the same objects: a document of them reads too.
	var nd bytes.Buffer
	if err := Write(&nd, Audit{}, classify.Slice(entries), Options{Format: NDJSON}); err != nil {
		t.Fatal(err)
	}
	doc := `{"schema": "fsdiff-audit/1", "fsdiff_version": "", "time": "2026-01-01T00:00:00Z", "source": {}, "changes": [` +
		strings.Join(strings.Split(strings.TrimSuffix(nd.String(), "\n"), "\n"), ",") + "]}"
	if s, err := ReadAudit(strings.NewReader(doc), SavedLimits); err != nil || s.Entries.Len() != len(entries) || s.Entries.At(3).Path != entries[3].Path {
		t.Errorf("document of NDJSON lines: %v", err)
	}
	// What fsdiff wrote before its outputs named their schemas reads too.
	old := strings.Replace(string(saved), `"schema": "fsdiff-audit/1"`, `"schema": 1`, 1)
	if s, err := ReadAudit(strings.NewReader(old), SavedLimits); err != nil || s.Entries.Len() != len(entries) {
		t.Errorf(`a report of "schema": 1: %v`, err)
	}
}

// TestReadAuditHostile: what is not an audit report fsdiff wrote is an
// error that says so, never a report: other JSON, other fsdiff output,
// other schema versions, damaged and cut documents.
func TestReadAuditHostile(t *testing.T) {
	good := string(writeSaved(t, savedEntries()))
	change := func(old, new string) string {
		if !strings.Contains(good, old) {
			t.Fatalf("the report lacks %q", old)
		}
		return strings.Replace(good, old, new, 1)
	}
	for _, tc := range []struct {
		name, doc string
		want      error
		msg       string
	}{
		{"empty", "", ErrNotAudit, "empty"},
		{"blank", "  \n", ErrNotAudit, "cut short"},
		{"text", "persist /etc/machine-id\n", ErrNotAudit, "invalid JSON at byte 1"},
		{"array", "[]", ErrNotAudit, "not a JSON object"},
		{"other object", `{"name": "x"}`, ErrNotAudit, `first member is not "schema"`},
		{"suggest output", `{"header": {}, "storage": "/persist"}`, ErrNotAudit, `first member is not "schema"`},
		{"check report", `{"schema": "fsdiff-check/1", "passed": true}`, ErrNotAudit, `a check report (schema "fsdiff-check/1")`},
		{"NDJSON", `{"path":"/a","kind":"created"}` + "\n" + `{"path":"/b"}`, ErrNotAudit, `first member is not "schema"`},
		{"next version", change(`"schema": "fsdiff-audit/1",`, `"schema": "fsdiff-audit/2",`), ErrSchema, `schema "fsdiff-audit/2"; this fsdiff reads schema "fsdiff-audit/1"`},
		{"schema of a number not 1", `{"schema": 3}`, ErrSchema, `schema 3; this fsdiff reads schema "fsdiff-audit/1"`},
		{"long schema", `{"schema": "` + strings.Repeat("x", 1<<20) + `"}`, ErrNotAudit, `schema "` + strings.Repeat("x", 64) + `"…`},
		{"long member twice", `{"schema": "fsdiff-audit/1", "` + strings.Repeat("y", 1<<20) + `": 1, "` + strings.Repeat("y", 1<<20) + `": 1}`, ErrNotAudit, `"` + strings.Repeat("y", 64) + `"… twice`},
		{"schema of another kind", `{"schema": {"v": 1}}`, ErrNotAudit, `schema {"v": 1}`},
		{"no changes", `{"schema": "fsdiff-audit/1", "fsdiff_version": "", "time": "2026-01-01T00:00:00Z", "source": {}}`, ErrNotAudit, `no "changes"`},
		{"changes twice", change(`"changes": [`, `"changes": [], "changes": [`), ErrNotAudit, `"changes" twice`},
		{"changes not an array", `{"schema": "fsdiff-audit/1", "changes": {}}`, ErrNotAudit, `"changes" is not an array`},
		{"trailing data", good + "{}", ErrNotAudit, "more follows the document"},
		{"relative path", change(`"path":"/etc/machine-id"`, `"path":"etc/machine-id"`), ErrNotAudit, "change 1: no absolute path"},
		{"bad kind", change(`"kind":"created"`, `"kind":"made"`), ErrNotAudit, `change 1: kind "made"`},
		{"bad type", change(`"type":"file"`, `"type":"door"`), ErrNotAudit, `change 1: type "door"`},
		{"no type", change(`"type":"file",`, ``), ErrNotAudit, `change 1: no type`},
		{"bad category", change(`"category":"persist"`, `"category":"keep"`), ErrNotAudit, `change 1: category "keep"`},
		{"priority of managed", change(`"category":"managed"`, `"category":"managed","priority":"critical"`), ErrNotAudit, `priority "critical" of a managed verdict`},
		{"bad mode", change(`"mode":"0444"`, `"mode":"rw"`), ErrNotAudit, `mode "rw"`},
		{"size as text", change(`"size":33`, `"size":"33"`), ErrNotAudit, "change 1: json: cannot unmarshal string"},
		{"time as number", change(`"time": "2026-01-01T00:00:00Z"`, `"time": 5`), ErrNotAudit, "time: "},
		{"bad surrogate", change(`/odd/invalid\udcff`, `/odd/invalid\uZZZZ`), ErrNotAudit, "invalid JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ReadAudit(strings.NewReader(tc.doc), SavedLimits)
			if !errors.Is(err, tc.want) || !strings.Contains(fmt.Sprint(err), tc.msg) {
				t.Errorf("ReadAudit = %v, %v; want %v with %q", s, err, tc.want, tc.msg)
			}
		})
	}
	// Cut anywhere, the report is refused.
	for n := range len(good) - 1 {
		if _, err := ReadAudit(strings.NewReader(good[:n]), SavedLimits); !errors.Is(err, ErrNotAudit) {
			t.Fatalf("cut after %d bytes: %v, want %v", n, err, ErrNotAudit)
		}
	}
}

// endless is a document that never ends: head, then tail forever.
type endless struct {
	head, tail string
	off        int
	read       int64
}

func (e *endless) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		s := e.tail
		if e.off < len(e.head) {
			s = e.head[e.off:]
		} else {
			s = s[(e.off-len(e.head))%len(s):]
		}
		c := copy(p[n:], s)
		n += c
		e.off += c
	}
	e.read += int64(n)
	return n, nil
}

// TestReadAuditLimits: a document beyond a limit stops there, whatever
// follows: a value that never ends, changes that never end, bytes that
// never end. It never holds much more than the limits.
func TestReadAuditLimits(t *testing.T) {
	const head = `{"schema": "fsdiff-audit/1", "fsdiff_version": "v", "time": "2026-01-01T00:00:00Z", "source": {}, "changes": [`
	entry := `{"path":"/a","kind":"created","type":"file","size":0,"mode":"0644","category":"unknown"},`
	limits := Limits{Size: 64 << 20, Value: 1 << 20, Changes: 100_000}
	small := Limits{Size: 1 << 20, Value: 1 << 20, Changes: 1 << 20}
	for _, tc := range []struct {
		name   string
		r      *endless
		limits Limits
		msg    string
		read   int64 // at most
	}{
		{"endless string", &endless{head: `{"schema": "fsdiff-audit/1", "fsdiff_version": "`, tail: "a"}, limits, "a value at byte 46 is longer than 1048576 bytes", 1<<20 + 64<<10},
		{"endless path", &endless{head: head + `{"path":"/`, tail: "a/"}, limits, "longer than 1048576 bytes", 1<<20 + 64<<10},
		{"endless whitespace", &endless{head: head, tail: " "}, limits, "longer than 1048576 bytes", 1<<20 + 64<<10},
		{"endless changes", &endless{head: head, tail: entry}, limits, "more than 100000 changes", 100_001*int64(len(entry)) + 64<<10},
		{"endless document", &endless{head: head, tail: entry}, small, "longer than 1048576 bytes", 1<<20 + 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, err := ReadAudit(tc.r, tc.limits)
			runtime.ReadMemStats(&after)
			if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("ReadAudit = %v, want %v with %q", err, ErrTooLarge, tc.msg)
			}
			if tc.r.read > tc.read {
				t.Errorf("read %d bytes, want at most %d", tc.r.read, tc.read)
			}
			// What it holds: the changes (about 350 bytes each) and one value
			// at a time, which the decoder may hold twice while it grows its
			// buffer.
			if held := int64(after.HeapInuse) - int64(before.HeapInuse); held > int64(tc.limits.Changes)*400+4*tc.limits.Value+8<<20 {
				t.Errorf("holds %d bytes after reading", held)
			}
		})
	}
	// A document of exactly Size bytes is not too large.
	doc := writeSaved(t, savedEntries())
	if _, err := ReadAudit(bytes.NewReader(doc), Limits{Size: int64(len(doc)), Value: int64(len(doc)), Changes: 100}); err != nil {
		t.Errorf("a document of exactly the limit: %v", err)
	}
	if _, err := ReadAudit(io.MultiReader(bytes.NewReader(doc), strings.NewReader(" ")), Limits{Size: int64(len(doc)), Value: int64(len(doc)), Changes: 100}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("a document one byte over the limit: %v", err)
	}
}
