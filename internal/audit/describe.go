package audit

import (
	"context"
	"io/fs"
	"os"

	"github.com/fsdiff-nix/fsdiff/internal/change"
)

// asFile is a path that is not there, as explain classifies it: a regular
// file.
func asFile(path string) change.Change {
	return change.Change{Path: path, Kind: change.Created, Type: change.File}
}

// describeHost returns path as a change: what the path is on this host, or
// a regular file if it does not exist.
func describeHost(path string) change.Change {
	ch := asFile(path)
	fi, err := os.Lstat(path)
	if err != nil {
		return ch
	}
	switch m := fi.Mode(); {
	case m.IsDir():
		ch.Type = change.Dir
	case m&fs.ModeSymlink != 0:
		ch.Type = change.Symlink
		ch.Target, _ = os.Readlink(path)
	case m&fs.ModeNamedPipe != 0:
		ch.Type = change.FIFO
	case m&fs.ModeSocket != 0:
		ch.Type = change.Socket
	case m&fs.ModeCharDevice != 0:
		ch.Type = change.CharDev
	case m&fs.ModeDevice != 0:
		ch.Type = change.BlockDev
	}
	return ch
}

// Describer describes paths as the audit sees them, for explaining their
// verdicts: what is there in its root, or, for a saved send stream, which
// has no tree, what its changes say (one pass over paths, so that stdin
// works). A path that is not there is a regular file.
func (a *Audit) Describer(ctx context.Context, paths []string) (func(string) change.Change, error) {
	t := a.Target
	if t == nil {
		return describeHost, nil
	}
	if t.Root != nil {
		return func(path string) change.Change {
			if ch, err := t.Lstat(path); err == nil {
				return ch
			}
			return asFile(path)
		}, nil
	}
	want := map[string]bool{}
	for _, p := range paths {
		want[p] = true
	}
	seen := map[string]change.Change{}
	err := t.Changes(ctx, func(ch change.Change) error {
		if want[ch.Path] {
			seen[ch.Path] = ch
		}
		return nil
	}, func(error) {})
	if err != nil {
		return nil, err
	}
	return func(path string) change.Change {
		if ch, ok := seen[path]; ok {
			return ch
		}
		return asFile(path)
	}, nil
}
