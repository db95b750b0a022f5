package main

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// progress shows on one line of a terminal how long a scan has run and
// how many changes it has found, once it has run longer than
// progressDelay: a cold walk of a large root takes seconds. What else is written to the
// terminal while it runs goes through Write, which erases the line first.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	read  atomic.Int64 // audit.Options.Read
	start time.Time
	shown bool
}

const (
	progressDelay = time.Second
	progressEvery = 200 * time.Millisecond
)

// newProgress returns the progress line of a scan for stderr: nil when
// stderr is not a terminal or with --quiet.
func newProgress(stderr io.Writer, quiet bool) *progress {
	if quiet || !isTerminal(stderr) {
		return nil
	}
	return &progress{w: stderr}
}

// run draws the line at every tick from start on, until stop is closed;
// then it erases the line and closes done.
func (p *progress) run(start time.Time, ticks <-chan time.Time, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	p.mu.Lock()
	p.start = start
	p.mu.Unlock()
	for {
		select {
		case now := <-ticks:
			p.draw(now)
		case <-stop:
			p.mu.Lock()
			p.erase()
			p.mu.Unlock()
			return
		}
	}
}

// draw shows the line as of now.
func (p *progress) draw(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	elapsed := now.Sub(p.start)
	if elapsed < progressDelay {
		return
	}
	// It counts changes as the audit receives them: a btrfs source finds
	// them all before it hands over the first, so the time says it works.
	fmt.Fprintf(p.w, "\r\033[Kfsdiff: scanning, %d s: %d changes found", int(elapsed.Seconds()), p.read.Load())
	p.shown = true
}

// erase removes the line; p.mu is held.
func (p *progress) erase() {
	if p.shown {
		io.WriteString(p.w, "\r\033[K")
		p.shown = false
	}
}

// Write writes b below the line's place: the line goes, and the next tick
// draws it again after b.
func (p *progress) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.erase()
	return p.w.Write(b)
}

// begin runs the line on a ticker from now on; the function it returns
// stops it and waits until the line is gone.
func (p *progress) begin() (end func()) {
	t := time.NewTicker(progressEvery)
	stop, done := make(chan struct{}), make(chan struct{})
	go p.run(time.Now(), t.C, stop, done)
	return func() {
		t.Stop()
		close(stop)
		<-done
	}
}
