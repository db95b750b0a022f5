package watch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fsdiff-nix/fsdiff/internal/change"
	"github.com/fsdiff-nix/fsdiff/internal/classify"
	"github.com/fsdiff-nix/fsdiff/internal/testenv"
)

// watcher runs a watch of dir in the background, recording every path it
// reports; stop ends it.
type watcher struct {
	mu       sync.Mutex
	reported map[string]int
	notices  []string
	done     chan error
	cancel   context.CancelFunc
}

// start runs the watch; with a gate, reporting waits until the gate is
// closed, so that the watch reads no events meanwhile.
func start(t *testing.T, dir string, gate chan struct{}) *watcher {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := &watcher{reported: map[string]int{}, done: make(chan error, 1), cancel: cancel}
	ready := make(chan struct{})
	go func() {
		_, err := Run(ctx, Options{
			Paths: []string{dir}, All: true,
			Classifier: classify.New(classify.Config{Rules: classify.Builtin()}),
			Report: func(e classify.Entry) {
				if gate != nil {
					<-gate
				}
				w.mu.Lock()
				w.reported[e.Path]++
				w.mu.Unlock()
			},
			Notice: func(msg string) {
				w.mu.Lock()
				w.notices = append(w.notices, msg)
				w.mu.Unlock()
			},
			started: func() { close(ready) },
		})
		w.done <- err
	}()
	select {
	case <-ready:
	case err := <-w.done:
		t.Fatalf("watch ended: %v", err)
	}
	return w
}

// waitFor waits until n paths were reported, or the watch stalls.
func (w *watcher) waitFor(t *testing.T, n int) {
	t.Helper()
	last, stalled := -1, 0
	for stalled < 50 {
		w.mu.Lock()
		got := len(w.reported)
		w.mu.Unlock()
		if got >= n {
			return
		}
		if got == last {
			stalled++
		} else {
			last, stalled = got, 0
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (w *watcher) stop(t *testing.T) {
	t.Helper()
	w.cancel()
	if err := <-w.done; err != nil {
		t.Fatal(err)
	}
}

// flood creates files as fast as it can in freshly made nested
// directories, and returns every path it made.
func flood(t *testing.T, dir string, n int) []string {
	t.Helper()
	var made []string
	for i := 0; len(made) < n; i++ {
		sub := filepath.Join(dir, fmt.Sprintf("a%03d", i), "b", "c")
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		made = append(made, filepath.Join(dir, fmt.Sprintf("a%03d", i)), filepath.Join(dir, fmt.Sprintf("a%03d", i), "b"), sub)
		for j := 0; j < 200 && len(made) < n; j++ {
			p := filepath.Join(sub, fmt.Sprintf("f%03d", j))
			if err := os.WriteFile(p, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			made = append(made, p)
		}
	}
	return made
}

func checkOnce(t *testing.T, w *watcher, made []string) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	missing := 0
	for _, p := range made {
		switch w.reported[p] {
		case 1:
		case 0:
			if missing++; missing <= 5 {
				t.Errorf("%s not reported", p)
			}
		default:
			t.Errorf("%s reported %d times", p, w.reported[p])
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d paths not reported", missing, len(made))
	}
}

// TestWatchFlood: 20,000 files written as fast as possible into nested
// directories made while the watch runs are each reported exactly once.
func TestWatchFlood(t *testing.T) {
	dir := t.TempDir()
	w := start(t, dir, nil)
	made := flood(t, dir, 20000)
	w.waitFor(t, len(made))
	w.stop(t)
	checkOnce(t, w, made)
}

// sysctlSet sets an inotify sysctl for the test, and restores it after.
func sysctlSet(t *testing.T, name, value string) {
	t.Helper()
	p := "/proc/sys/fs/inotify/" + name
	old, err := os.ReadFile(p)
	if err == nil {
		err = os.WriteFile(p, []byte(value), 0o644)
	}
	if err != nil {
		testenv.SkipOrFail(t, fmt.Sprintf("needs to set fs.inotify.%s (root): %v", name, err))
	}
	t.Cleanup(func() { os.WriteFile(p, old, 0o644) })
}

// TestWatchOverflow: with a tiny kernel queue and a watch held back while
// the flood comes, the queue overflows; the rescan still finds every file,
// once.
func TestWatchOverflow(t *testing.T) {
	sysctlSet(t, "max_queued_events", "16") // read when the watch's inotify instance is made
	dir := t.TempDir()
	gate := make(chan struct{})
	w := start(t, dir, gate)
	made := flood(t, dir, 20000)
	close(gate)
	w.waitFor(t, len(made))
	w.stop(t)
	checkOnce(t, w, made)
	if !strings.Contains(strings.Join(w.notices, "\n"), "overflowed") {
		t.Errorf("no overflow noticed: %q", w.notices)
	}
}

// TestWatchLimit: running out of watches names the sysctl and the need.
func TestWatchLimit(t *testing.T) {
	dir := t.TempDir()
	for i := range 30 {
		os.MkdirAll(filepath.Join(dir, fmt.Sprintf("d%02d", i)), 0o755)
	}
	sysctlSet(t, "max_user_watches", "10")
	_, err := Run(context.Background(), Options{Paths: []string{dir}, Classifier: classify.New(classify.Config{})})
	if !errors.Is(err, ErrWatches) || !strings.Contains(err.Error(), "raise fs.inotify.max_user_watches (now 10) above the number of directories to watch ("+dir+" has 31)") {
		t.Errorf("error %v", err)
	}
}

// TestWatchCountsPaths: a counted anchor counts paths, not events: 20
// files written in 2 new directories are 22 paths (they were 42: a create
// and a write per file), and the count ends exact.
func TestWatchCountsPaths(t *testing.T) {
	dir := t.TempDir() // under /tmp: an ephemeral anchor, counted
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	done := make(chan *Summary, 1)
	var mu sync.Mutex
	var counts []int
	go func() {
		s, err := Run(ctx, Options{
			Paths:      []string{dir},
			Classifier: classify.New(classify.Config{Rules: classify.Builtin()}),
			Aggregate: func(a Anchor) {
				mu.Lock()
				counts = append(counts, a.Paths)
				mu.Unlock()
			},
			started: func() { close(ready) },
		})
		if err != nil {
			t.Error(err)
		}
		done <- s
	}()
	<-ready
	for _, d := range []string{"d1", "d2"} {
		os.Mkdir(filepath.Join(dir, d), 0o755)
		for i := range 10 {
			p := filepath.Join(dir, d, fmt.Sprintf("f%d", i))
			os.WriteFile(p, []byte("x"), 0o644)
			os.WriteFile(p, []byte("xy"), 0o644) // more events, no more paths
			os.Chmod(p, 0o600)
		}
	}
	time.Sleep(time.Second)
	cancel()
	s := <-done
	if len(s.Anchors) != 1 || s.Anchors[0].Paths != 22 || s.Anchors[0].Approximate {
		t.Errorf("summary %+v, want one anchor of 22 paths", s.Anchors)
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(counts) != "[1 10]" {
		t.Errorf("running counts %v, want [1 10]", counts)
	}
}

// TestTallyCap: a counted anchor remembers at most maxCounted paths; past
// them only creations count, and the count is approximate.
func TestTallyCap(t *testing.T) {
	tl := newTally()
	tl.maxCounted = 3
	v := classify.Verdict{Category: classify.Ephemeral, Anchor: "/c"}
	add := func(p string, kind change.Kind) bool {
		isNew, _ := tl.add(classify.Entry{Change: change.Change{Path: p, Kind: kind, Type: change.File}, Verdict: v}, false, func(string) (change.Change, bool) { return change.Change{}, false })
		return isNew
	}
	for i, tc := range []struct {
		path string
		kind change.Kind
		new  bool
	}{
		{"/c/a", change.Created, true}, {"/c/a", change.Modified, false}, {"/c/b", change.Modified, true}, {"/c/c", change.Created, true},
		{"/c/a", change.Created, false},  // remembered
		{"/c/d", change.Modified, false}, // past the cap: perhaps counted already
		{"/c/e", change.Created, true},   // past the cap: a creation
	} {
		if got := add(tc.path, tc.kind); got != tc.new {
			t.Errorf("%d: add(%s %s) = %v", i, tc.kind, tc.path, got)
		}
	}
	a := tl.summary().Anchors[0]
	if a.Paths != 4 || !a.Approximate || a.Sample.Path != "/c/a" {
		t.Errorf("anchor %+v", a)
	}
}
