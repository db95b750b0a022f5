package audit

import (
	"cmp"
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/fsdiff-nix/fsdiff/internal/classify"
	"github.com/fsdiff-nix/fsdiff/internal/snapshot"
)

const stream = "../snapshot/testdata/send/blank-v2.stream"

// TestRunSendStream runs the whole pipeline on a committed send stream,
// without root and without a command line: every change is classified,
// in report order, and the suggestion's options describe the stream.
func TestRunSendStream(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	var notes []string
	var read atomic.Int64
	a, err := Open(Options{
		ClassifyOptions: ClassifyOptions{Note: func(s string) { notes = append(notes, s) }},
		Target:          snapshot.Options{SendStream: stream},
		Warn:            func(err error) { t.Errorf("warning: %v", err) },
		Read:            &read,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Target.Close()
	if want := []string{"source: the send stream in " + stream}; !slices.Equal(notes, want) {
		t.Errorf("notes %q, want %q", notes, want)
	}
	r, err := a.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	entries := slices.Collect(classify.All(r.Entries))
	if len(entries) == 0 || len(r.Problems) != 0 || r.Vanished != 0 || r.Unreadable != 0 {
		t.Fatalf("%d entries, problems %v", len(entries), r.Problems)
	}
	if read.Load() != int64(len(entries)) {
		t.Errorf("Options.Read counted %d changes, Run returned %d", read.Load(), len(entries))
	}
	if !slices.IsSortedFunc(entries, func(x, y classify.Entry) int {
		return cmp.Or(cmp.Compare(x.Category, y.Category), strings.Compare(x.Path, y.Path))
	}) {
		t.Error("entries are not in report order")
	}
	for _, e := range entries {
		if e.Category == 0 {
			t.Errorf("%s has no verdict", e.Path)
		}
		if e.Path == "/etc/machine-id" && e.Category != classify.Persist {
			t.Errorf("/etc/machine-id is %s", e.Category)
		}
	}
	opts := a.SuggestOptions("")
	if opts.Storage != "/persist" || opts.Header.Host != "unknown" || opts.Header.Baseline != "none" ||
		opts.Header.Source != "send-stream source, root "+stream {
		t.Errorf("suggest options %+v", opts)
	}
	if got := a.SuggestOptions("/persistent").Storage; got != "/persistent" {
		t.Errorf("storage %q, want the given /persistent", got)
	}
}

// TestRunRows: with Options.Rows, Run keeps the default table's rows and
// the number of changes, not the changes: the rows are those of the
// entries Run keeps otherwise.
func TestRunRows(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	run := func(rows bool) *Result {
		a, err := Open(Options{Target: snapshot.Options{SendStream: stream}, Rows: rows})
		if err != nil {
			t.Fatal(err)
		}
		defer a.Target.Close()
		r, err := a.Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	all, rows := run(false), run(true)
	if rows.Entries != nil || all.Rows != nil {
		t.Errorf("Rows kept %v entries; without Rows, %d rows", rows.Entries, len(all.Rows))
	}
	if want := classify.Group(all.Entries); len(want) == 0 || !slices.Equal(rows.Rows, want) {
		t.Errorf("rows %v, want %v", rows.Rows, want)
	}
	if rows.Paths != all.Entries.Len() || all.Paths != all.Entries.Len() {
		t.Errorf("paths %d and %d, want %d", rows.Paths, all.Paths, all.Entries.Len())
	}
}

// TestOpenInputErrors: a file the user names that is not there is an
// InputError that says which input, for the command's hint.
func TestOpenInputErrors(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	missing := filepath.Join(t.TempDir(), "missing")
	for _, tc := range []struct {
		opts Options
		want Input
	}{
		{Options{Target: snapshot.Options{SendStream: missing}}, SendStream},
		{Options{Target: snapshot.Options{SendStream: stream}, ClassifyOptions: ClassifyOptions{Declared: missing}}, DeclaredFile},
		{Options{Target: snapshot.Options{SendStream: stream}, ClassifyOptions: ClassifyOptions{RuleFiles: []string{missing}}}, RuleFile},
	} {
		a, err := Open(tc.opts)
		if err == nil {
			a.Target.Close()
		}
		var ie *InputError
		if !errors.As(err, &ie) || ie.Input != tc.want || !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("input %d: %v", tc.want, err)
		}
	}
}
