package snapshot

import (
	"cmp"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"time"
)

// StreamOptions say what the reader of a send stream knows besides it.
type StreamOptions struct {
	// Since is when the baseline was taken: a touched entry whose mtime and
	// ctime are not later only had its atime updated. Zero when unknown: an
	// entry whose only change is its times is then reported as metadata.
	Since time.Time
	// Stat returns what the entry at an absolute path of the new tree is,
	// and BaseStat of the baseline tree; nil when there is no tree to look
	// at (a saved stream): types and attributes then come from the stream.
	Stat, BaseStat func(path string) (Change, bool)
}

// node is an entry of the tree a send stream describes: the entries it
// touched, and their directories.
type node struct {
	name     string
	parent   *node
	children map[string]*node
	orig     string // absolute path in the baseline; "" for a new entry
	created  bool
	touched  bool // a command named it (not only one of its descendants)
	typ      Type
	content  bool // data written, cloned, truncated or preallocated
	meta     bool // mode, owner or extended attributes set
	attrs    Change
	mtime    int64
	ctime    int64
	linkOf   *node // for a new name made by link: the entry it names
}

func (n *node) path() string {
	if n.parent == nil {
		return "/"
	}
	var parts []string
	for ; n.parent != nil; n = n.parent {
		parts = append(parts, n.name)
	}
	slices.Reverse(parts)
	return "/" + strings.Join(parts, "/")
}

func (n *node) attach(parent *node, name string) {
	n.parent, n.name = parent, name
	if parent.children == nil {
		parent.children = map[string]*node{}
	}
	parent.children[name] = n
}

func (n *node) detach() {
	delete(n.parent.children, n.name)
	n.parent = nil
}

// streamTree applies a stream's commands to a model of the tree.
type streamTree struct {
	opts    StreamOptions
	root    *node
	removed []*node         // baseline entries deleted
	links   map[*node]*node // new names made by link, by the entry they name
}

// StreamChanges reads an incremental send stream (btrfs send -p BASELINE,
// with or without file data) and reports what changed between the
// baseline and the sent subvolume: created, modified, metadata, deleted
// and renamed entries, with their final paths. New entries first appear
// under orphan names (o<ino>-<gen>-0) and moves may be sent as link and
// unlink; both are resolved.
func StreamChanges(r io.Reader, opts StreamOptions, emit func(Change) error) error {
	s, err := newSendReader(r)
	if err != nil {
		return err
	}
	t := &streamTree{opts: opts, root: &node{orig: "/", typ: Dir}, links: map[*node]*node{}}
	for {
		c, err := s.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if err := t.apply(c); err != nil {
			return fmt.Errorf("%w: command %d: %v", ErrBadStream, s.n, err)
		}
	}
	return t.emit(emit)
}

// resolve returns the node at a stream path ("" is the root), making nodes
// for the baseline entries on the way.
func (t *streamTree) resolve(p string) *node {
	n := t.root
	if p == "" {
		return n
	}
	for _, name := range strings.Split(p, "/") {
		child := n.children[name]
		if child == nil {
			child = &node{}
			if n.orig != "" {
				child.orig = path.Join(n.orig, name)
			}
			child.attach(n, name)
		}
		n = child
	}
	return n
}

// place puts n at stream path p. An entry already there is replaced, as
// rename(2) replaces it.
func (t *streamTree) place(n *node, p string) {
	dir, name := path.Split(p)
	parent := t.resolve(strings.TrimSuffix(dir, "/"))
	if old := parent.children[name]; old != nil && old != n {
		old.detach()
		t.remove(old)
	}
	n.attach(parent, name)
}

// remove records the end of an entry: a baseline entry is deleted, unless
// a new name was linked to it first (a move sent as link and unlink).
func (t *streamTree) remove(n *node) {
	if n.created || n.orig == "" {
		return
	}
	if l := t.links[n]; l != nil {
		l.created, l.orig, l.typ = false, n.orig, cmp.Or(l.typ, n.typ)
		l.content, l.meta, l.touched = l.content || n.content, l.meta || n.meta, true
		delete(t.links, n)
		return
	}
	t.removed = append(t.removed, n)
}

func (t *streamTree) apply(c *sendCommand) error {
	p := c.str(attrPath)
	switch c.typ {
	case sendSubvol, sendSnapshot:
		return nil
	case sendMkfile, sendMkdir, sendMknod, sendMkfifo, sendMksock, sendSymlink:
		n := &node{created: true, touched: true, typ: map[uint16]Type{sendMkfile: File, sendMkdir: Dir, sendMkfifo: FIFO, sendMksock: Socket, sendSymlink: Symlink}[c.typ]}
		if c.typ == sendMknod {
			mode, _ := c.u64(attrMode)
			n.typ, _ = typeOf(uint32(mode))
		}
		if c.typ == sendSymlink {
			n.attrs.Target = c.str(attrPathLink)
		}
		t.place(n, p)
	case sendRename:
		n := t.resolve(p)
		n.touched = true
		n.detach()
		t.place(n, c.str(attrPathTo))
	case sendLink:
		target := t.resolve(c.str(attrPathLink))
		n := &node{created: true, touched: true, typ: cmp.Or(target.typ, File), linkOf: target}
		t.place(n, p)
		if !target.created {
			t.links[target] = n
		}
	case sendUnlink, sendRmdir:
		n := t.resolve(p)
		if c.typ == sendRmdir {
			n.typ = Dir
		} else if n.typ == 0 {
			n.typ = File // or a symlink, fifo...: a saved stream does not say
		}
		n.detach()
		t.remove(n)
	case sendWrite, sendClone, sendTruncate, sendUpdateExtent, sendFallocate, sendEncodedWrite:
		n := t.resolve(p)
		n.touched, n.content = true, true
		if size, ok := c.u64(attrSize); ok && c.typ == sendTruncate {
			n.attrs.Size = int64(size)
		}
	case sendChmod:
		n := t.resolve(p)
		mode, _ := c.u64(attrMode)
		n.touched, n.meta, n.attrs.Mode = true, true, uint32(mode)&0o7777
	case sendChown:
		n := t.resolve(p)
		uid, _ := c.u64(attrUID)
		gid, _ := c.u64(attrGID)
		n.touched, n.meta, n.attrs.UID, n.attrs.GID = true, true, uint32(uid), uint32(gid)
	case sendSetXattr, sendRemoveXattr, sendFileattr:
		n := t.resolve(p)
		n.touched, n.meta = true, true
	case sendUtimes:
		n := t.resolve(p)
		n.touched = true
		n.mtime, _ = c.timespec(attrMtime)
		n.ctime, _ = c.timespec(attrCtime)
	default:
		// Commands fsdiff does not know change nothing it reports, as the
		// format allows (enable_verity, later ones).
	}
	return nil
}

// emit reports every change of the final tree, then the deletions.
func (t *streamTree) emit(emit func(Change) error) error {
	since := t.opts.Since.UnixNano()
	if t.opts.Since.IsZero() {
		since = 0
	}
	// A baseline directory whose entries changed: one was created, removed,
	// or moved in or out.
	changedDirs := map[string]bool{}
	var nodes []*node
	var visit func(n *node)
	visit = func(n *node) {
		nodes = append(nodes, n)
		for _, c := range n.children {
			visit(c)
		}
	}
	visit(t.root)
	for _, n := range nodes {
		if n.parent == nil {
			continue
		}
		if n.created {
			changedDirs[n.parent.orig] = true
		} else if n.orig != "" && path.Dir(n.orig) != n.parent.orig {
			changedDirs[n.parent.orig] = true
			changedDirs[path.Dir(n.orig)] = true
		}
	}
	for _, n := range t.removed {
		changedDirs[path.Dir(n.orig)] = true
	}
	delete(changedDirs, "")

	var changes []Change
	for _, n := range nodes {
		p := n.path()
		var kind Kind
		switch {
		case n.created:
			kind = Created
		case n.orig == "":
			continue // inside a new directory, never named: not in this stream's tree
		case n.orig != p:
			kind = Renamed
		case n.content || changedDirs[n.orig] || since > 0 && n.mtime > since:
			kind = Modified
		case n.meta || since > 0 && n.ctime > since || since == 0 && n.touched:
			kind = Metadata
		default:
			continue // untouched, or only its atime changed
		}
		c := n.attrs
		c.Path, c.Kind, c.Type = p, kind, n.typ
		if kind == Renamed {
			c.Origin = n.orig
		}
		if c.MTime.IsZero() && n.mtime != 0 {
			c.MTime = time.Unix(0, n.mtime)
		}
		if t.opts.Stat != nil {
			if st, ok := t.opts.Stat(p); ok {
				st.Path, st.Kind, st.Origin = c.Path, c.Kind, c.Origin
				c = st
			}
		}
		if c.Type == 0 {
			c.Type = guessType(n)
		}
		changes = append(changes, c)
	}
	for _, n := range t.removed {
		c := Change{Path: n.orig, Kind: Deleted, Type: n.typ}
		if t.opts.BaseStat != nil {
			if st, ok := t.opts.BaseStat(n.orig); ok {
				st.Path, st.Kind = c.Path, Deleted
				c = st
			}
		}
		if c.Type == 0 {
			c.Type = guessType(n)
		}
		changes = append(changes, c)
	}
	for _, c := range changes {
		if err := emit(c); err != nil {
			return err
		}
	}
	return nil
}

// guessType says what a saved stream implies an entry is: a directory if
// it holds others, a file otherwise.
func guessType(n *node) Type {
	if len(n.children) > 0 {
		return Dir
	}
	return File
}
