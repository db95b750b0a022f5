package snapshot

import (
	"context"
	"io"
	"os"

	"github.com/fsdiff-nix/fsdiff/internal/change"
	"github.com/fsdiff-nix/fsdiff/internal/snapshot/sendstream"
)

// Source finds what changed in an opened root since its baseline. Each
// source is a type that implements it: generationSource (btrfs generation
// IDs, target_linux.go), sendSource (btrfs send, send_linux.go),
// walkSource (two directories, target_walk.go) and streamSource (a saved
// send stream, below). Open detects or takes the source (detect_linux.go),
// mounts what it needs (mount_linux.go) and picks the baseline
// (baseline_linux.go); the source only scans.
type Source interface {
	// Changes streams the changes to emit, and what could not be read but
	// did not stop the scan to problem.
	Changes(ctx context.Context, emit func(change.Change) error, problem func(error)) error
}

// openStream opens a saved send stream: no root, no btrfs. What a stream
// cannot say (the type of a baseline entry it only unlinks, moves or
// changes the metadata of; whether only an atime changed) is left unknown
// or guessed; see sendstream.Options.
func openStream(opts Options) (*Target, error) {
	t := &Target{Info: change.Info{Source: change.SendStream, Root: opts.SendStream}}
	var r *os.File
	if opts.SendStream == "-" {
		r = os.Stdin
	} else {
		f, err := os.Open(opts.SendStream)
		if err != nil {
			return nil, err
		}
		t.closers = append(t.closers, f.Close)
		r = f
	}
	t.note("source: the send stream in %s", opts.SendStream)
	t.source = streamSource{r}
	return t, nil
}

// streamSource reads the changes of a saved send stream.
type streamSource struct{ r io.Reader }

func (s streamSource) Changes(ctx context.Context, emit func(change.Change) error, problem func(error)) error {
	return sendstream.Changes(s.r, sendstream.Options{}, emit)
}
