package persist

import (
	"errors"
	"fmt"
	"path"
	"slices"

	"github.com/fsdiff-nix/fsdiff/internal/suggest"
)

// Errors that callers turn into hints.
var (
	// ErrNotAnchor: a path asked for is not an anchor the suggestion
	// declares.
	ErrNotAnchor = errors.New("not an anchor to persist")
	// ErrStorageInRoot: the storage is inside the audited root, which the
	// next boot erases.
	ErrStorageInRoot = errors.New("the storage is inside the audited root")
	// ErrMountPoint: an anchor is a mount point, state that lives elsewhere.
	ErrMountPoint = errors.New("the anchor is a mount point")
)

// Anchors returns the absolute paths of the anchors p declares (not the
// unknown ones it only proposes), sorted.
func Anchors(p suggest.Persistence) []string {
	var out []string
	add := func(base string, entries []suggest.Entry) {
		for _, e := range entries {
			if !e.Unknown {
				out = append(out, path.Join(base, string(e.Path)))
			}
		}
	}
	add("/", p.Directories)
	add("/", p.Files)
	for _, h := range p.Users {
		add(string(h.Home), h.Directories)
		add(string(h.Home), h.Files)
	}
	slices.Sort(out)
	return out
}

// Select returns the anchors of p to persist: all of them when paths is
// empty, else those paths, each of which must be one of them.
func Select(p suggest.Persistence, paths []string) ([]string, error) {
	all := Anchors(p)
	if len(paths) == 0 {
		return all, nil
	}
	var out []string
	for _, q := range paths {
		q = path.Clean(q)
		if !slices.Contains(all, q) {
			return nil, fmt.Errorf("%q: %w", q, ErrNotAnchor)
		}
		if !slices.Contains(out, q) {
			out = append(out, q)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Restrict returns p with only the entries of anchors, for the snippet of
// what was moved.
func Restrict(p suggest.Persistence, anchors []string) suggest.Persistence {
	keep := func(base string, entries []suggest.Entry) []suggest.Entry {
		var out []suggest.Entry
		for _, e := range entries {
			if !e.Unknown && slices.Contains(anchors, path.Join(base, string(e.Path))) {
				out = append(out, e)
			}
		}
		return out
	}
	r := p
	r.AlreadyDeclared = 0
	r.Directories, r.Files, r.Users = keep("/", p.Directories), keep("/", p.Files), nil
	for _, h := range p.Users {
		h.Directories, h.Files = keep(string(h.Home), h.Directories), keep(string(h.Home), h.Files)
		if len(h.Directories)+len(h.Files) > 0 {
			r.Users = append(r.Users, h)
		}
	}
	return r
}

// Method is how a file is copied.
type Method string

const (
	Reflink Method = "reflink" // shares extents: same btrfs filesystem
	Copy    Method = "copy"
)

// State is what a destination holds before the copy.
type State string

const (
	New      State = "new"      // nothing: the anchor will be copied
	Present  State = "present"  // an identical copy: nothing to do
	Conflict State = "conflict" // something else: skipped unless forced
)

// Item is the plan of one anchor.
type Item struct {
	Source      string // absolute path in the audited root
	Destination string // the storage path joined with Source
	Entries     int    // entries under the anchor, itself included
	Bytes       int64  // size of its regular files, each counted once
	How         Method
	State       State
	Notes       []string // what will not be copied, and why
}

// Plan is what persisting a set of anchors does.
type Plan struct {
	Storage string
	Items   []Item
	copier  *planned // the open directories Apply works in
}

// Result is what Apply did.
type Result struct {
	Moved     []string // anchors copied into storage
	Conflicts []string // anchors skipped because their destination differs
	Aside     []string // old copies renamed aside by Force
	Notes     []string
}
