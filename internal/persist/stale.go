package persist

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path"

	"github.com/fsdiff-nix/fsdiff/internal/classify"
)

// Stale is a declared entry that persists nothing: its copy in storage is
// missing, or empty.
type Stale struct {
	classify.Declared
	Copy string // the storage path joined with the declared path
	Why  string // "missing" or "empty"
}

// FindStale returns the declared entries whose copies in their storage do
// not exist or are empty (an empty directory, a file of no bytes), in the
// order given. Entries declared by a mount (no storage) are not checked.
func FindStale(declared []classify.Declared) ([]Stale, error) {
	var out []Stale
	for _, d := range declared {
		if d.Storage == "" {
			continue
		}
		p := path.Join(d.Storage, d.Path)
		why, err := staleness(p)
		if err != nil {
			return nil, err
		}
		if why != "" {
			out = append(out, Stale{Declared: d, Copy: p, Why: why})
		}
	}
	return out, nil
}

func staleness(p string) (string, error) {
	info, err := os.Lstat(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "missing", nil
	case err != nil:
		return "", err
	case info.Mode().IsRegular() && info.Size() == 0:
		return "empty", nil
	case !info.IsDir():
		return "", nil
	}
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if _, err := f.Readdirnames(1); err == io.EOF {
		return "empty", nil
	} else if err != nil {
		return "", &os.PathError{Op: "read directory", Path: p, Err: err}
	}
	return "", nil
}
