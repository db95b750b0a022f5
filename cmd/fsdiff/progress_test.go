//go:build linux

package main

import (
	"bytes"
	"testing"
	"time"
)

// TestProgressLine draws the progress line with its own clock: nothing
// in the first second, then the time and the changes found, erased before
// anything else is written and when the scan ends.
func TestProgressLine(t *testing.T) {
	var b bytes.Buffer
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := &progress{w: &b, start: start}
	p.read.Store(500)
	p.draw(start.Add(900 * time.Millisecond))
	if b.Len() != 0 {
		t.Fatalf("drawn before a second: %q", b.String())
	}
	p.read.Store(3000)
	p.draw(start.Add(2 * time.Second))
	if got, want := b.String(), "\r\x1b[Kfsdiff: scanning, 2 s: 3000 changes found"; got != want {
		t.Fatalf("line %q, want %q", got, want)
	}
	b.Reset()
	p.Write([]byte("fsdiff: warning: x\n"))
	p.Write([]byte("fsdiff: warning: y\n"))
	if got := b.String(); got != "\r\x1b[Kfsdiff: warning: x\nfsdiff: warning: y\n" {
		t.Errorf("warnings do not erase the line first, once: %q", got)
	}
}

// TestProgressRun: the line is drawn at each tick and erased when the
// scan ends.
func TestProgressRun(t *testing.T) {
	var b bytes.Buffer
	p := &progress{w: &b}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ticks := make(chan time.Time)
	stop, done := make(chan struct{}), make(chan struct{})
	go p.run(start, ticks, stop, done)
	p.read.Store(10)
	ticks <- start.Add(5 * time.Second)
	close(stop)
	<-done
	if got, want := b.String(), "\r\x1b[Kfsdiff: scanning, 5 s: 10 changes found\r\x1b[K"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
}

// TestProgressOnlyOnATerminal: no progress line off a terminal, nor with
// --quiet; one on a terminal.
func TestProgressOnlyOnATerminal(t *testing.T) {
	term, _ := openTerminal(t, 80)
	if newProgress(&bytes.Buffer{}, false) != nil {
		t.Error("progress off a terminal")
	}
	if newProgress(term, true) != nil {
		t.Error("progress with --quiet")
	}
	if newProgress(term, false) == nil {
		t.Error("no progress on a terminal")
	}
	// A whole audit with stderr off a terminal writes nothing there.
	_, stderr, code := fsdiff(t, "--send-stream", blankStream)
	if code != 0 || stderr != "" {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}
