package audit

import (
	"runtime"
	"sync"

	"github.com/fsdiff-nix/fsdiff/internal/change"
	"github.com/fsdiff-nix/fsdiff/internal/classify"
)

// classifying takes a source's changes one by one, classifies them in
// batches, one goroutine per CPU with its own clone of the classifier,
// and appends them to a sink in the order they came: classification is
// most of the CPU an audit spends after the scan, and a source emits from
// one goroutine.
type classifying struct {
	cur     *batch
	work    chan *batch // to the classifiers
	ordered chan *batch // to the appender, in the order of the changes
	free    chan *batch // appended, for reuse
	wg      sync.WaitGroup
}

// batch is a run of changes and, once done is closed, their verdicts.
type batch struct {
	changes  []change.Change
	verdicts []classify.Verdict
	done     chan struct{}
}

const batchLen = 256

// sink takes each change with its verdict: a classify.List keeps them,
// classify.Rows sums them up.
type sink interface {
	Append(change.Change, classify.Verdict)
}

// startClassifying starts the goroutines that classify with c and append
// to to; finish waits for them.
func startClassifying(c *classify.Classifier, to sink) *classifying {
	workers := min(runtime.GOMAXPROCS(0), 8) // each clone memoises every directory it meets
	k := &classifying{
		work:    make(chan *batch, workers),
		ordered: make(chan *batch, 2*workers),
		free:    make(chan *batch, 2*workers+1),
	}
	for range workers {
		c := c.Clone()
		k.wg.Go(func() {
			for b := range k.work {
				for i := range b.changes {
					b.verdicts = append(b.verdicts, c.Classify(b.changes[i]))
				}
				close(b.done)
			}
		})
	}
	k.wg.Go(func() {
		for b := range k.ordered {
			<-b.done
			for i := range b.changes {
				to.Append(b.changes[i], b.verdicts[i])
			}
			select {
			case k.free <- b:
			default:
			}
		}
	})
	k.cur = k.batch()
	return k
}

func (k *classifying) batch() *batch {
	var b *batch
	select {
	case b = <-k.free:
		clear(b.changes) // their strings may hold a source's buffers
		b.changes, b.verdicts = b.changes[:0], b.verdicts[:0]
	default:
		b = &batch{changes: make([]change.Change, 0, batchLen), verdicts: make([]classify.Verdict, 0, batchLen)}
	}
	b.done = make(chan struct{})
	return b
}

// add takes the next change.
func (k *classifying) add(c change.Change) {
	k.cur.changes = append(k.cur.changes, c)
	if len(k.cur.changes) == batchLen {
		k.send()
		k.cur = k.batch()
	}
}

func (k *classifying) send() {
	k.ordered <- k.cur
	k.work <- k.cur
}

// finish classifies and appends what is left, and returns when the sink
// holds every change added.
func (k *classifying) finish() {
	if len(k.cur.changes) > 0 {
		k.send()
	}
	close(k.work)
	close(k.ordered)
	k.wg.Wait()
}
