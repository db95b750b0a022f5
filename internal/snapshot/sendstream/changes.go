package sendstream

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/fsdiff-nix/fsdiff/internal/change"
)

// Options say what the reader of a send stream knows besides it.
type Options struct {
	// Since is when the baseline was taken: without BaseStat, a touched
	// entry whose mtime and ctime are not later only had its atime updated.
	// Zero when unknown: an entry whose only change is its times is then
	// reported as metadata.
	Since time.Time
	// Stat returns what the entry at an absolute path of the new tree is,
	// and BaseStat of the baseline tree; nil when there is no tree to look
	// at (a saved stream): types and attributes then come from the stream,
	// and whether an entry changed from its times and Since. With both, a
	// baseline entry is compared with its own baseline inode, as the walk
	// compares it.
	Stat, BaseStat func(path string) (change.Change, bool)
	// Names returns every name (absolute path) of inode ino in the new
	// tree. A stream names one link of a changed inode; nil when only the
	// stream is known.
	Names func(ino uint64) ([]string, error)
}

// maxPath is PATH_MAX: the kernel's send builds no longer path
// (fs/btrfs/send.c, fs_path_ensure_buf), and no name is longer than
// NAME_MAX. Bounding every path a stream names, and every path fsdiff
// reports from it, keeps time and memory linear in the stream.
const (
	maxPath = 4096
	maxName = 255
)

// node is an entry of the tree a send stream describes: the entries it
// touched, and their directories.
type node struct {
	name     string
	parent   *node
	children map[string]*node
	// The baseline entry it is, if it is one: its directory and name there.
	// Paths are never stored, so that a deep tree costs one node per entry.
	inBase   bool
	baseDir  *node
	baseName string
	created  bool
	touched  bool        // a command named it (not only one of its descendants)
	typ      change.Type // zero while the stream has not said
	content  bool        // data written, cloned, truncated or preallocated
	meta     bool        // mode, owner or extended attributes set
	entries  bool        // a directory whose entries changed (set by emit)
	size     int64
	mode     uint32
	uid, gid uint32
	target   string
	mtime    int64
	ctime    int64
}

// moved says whether a baseline entry is no longer where it was.
func (n *node) moved() bool { return n.parent != n.baseDir || n.name != n.baseName }

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
	opts    Options
	root    *node
	removed []*node         // baseline entries deleted
	links   map[*node]*node // new names made by link, by the entry they name
}

// Changes reads an incremental send stream (btrfs send -p BASELINE,
// with or without file data) and reports what changed between the
// baseline and the sent subvolume: created, modified, metadata, deleted
// and renamed entries, with their final paths. New entries first appear
// under orphan names (o<ino>-<gen>-0) and moves may be sent as link and
// unlink; both are resolved. A stream whose paths could not come from the
// kernel (empty components, "." or "..", a move into itself, longer than
// PATH_MAX) is ErrMalformed.
func Changes(r io.Reader, opts Options, emit func(change.Change) error) error {
	s, err := newSendReader(r)
	if err != nil {
		return err
	}
	root := &node{inBase: true, typ: change.Dir}
	t := &streamTree{opts: opts, root: root, links: map[*node]*node{}}
	for {
		c, err := s.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if err := t.apply(c); err != nil {
			return fmt.Errorf("%w: command %d (%s): %v", ErrMalformed, s.n, commandName(c.typ), err)
		}
	}
	return t.emit(emit)
}

// path returns path attribute a of c, checked: relative, no empty, "."
// or ".." component, no NUL, within PATH_MAX. "" (the subvolume's root) is
// allowed only where root is set.
func (c *sendCommand) path(a uint16, root bool) (string, error) {
	b, ok := c.attrs[a]
	if !ok {
		return "", fmt.Errorf("no %s attribute", attrName(a))
	}
	p := string(b)
	if p == "" {
		if root {
			return "", nil
		}
		return "", fmt.Errorf("empty %s", attrName(a))
	}
	if len(p) >= maxPath {
		return "", fmt.Errorf("%s of %d bytes, longer than PATH_MAX", attrName(a), len(p))
	}
	for rest := p; rest != ""; {
		var name string
		name, rest, ok = strings.Cut(rest, "/")
		switch {
		case name == "" || name == "." || name == "..":
			return "", fmt.Errorf("%s %q: component %q", attrName(a), p, name)
		case len(name) > maxName:
			return "", fmt.Errorf("%s %q: a name of %d bytes, longer than NAME_MAX", attrName(a), p, len(name))
		case strings.IndexByte(name, 0) >= 0:
			return "", fmt.Errorf("%s %q: a name holds NUL", attrName(a), p)
		case ok && rest == "":
			return "", fmt.Errorf("%s %q: trailing slash", attrName(a), p)
		}
	}
	return p, nil
}

func attrName(a uint16) string {
	switch a {
	case attrPath:
		return "path"
	case attrPathTo:
		return "path_to"
	case attrPathLink:
		return "path_link"
	}
	return fmt.Sprintf("attribute %d", a)
}

// dir returns the directory at stream path p ("" is the root), making
// nodes for the baseline directories on the way. Every entry a path goes
// through is a directory.
func (t *streamTree) dir(p string) (*node, error) {
	n := t.root
	for rest := p; rest != ""; {
		var name string
		name, rest, _ = strings.Cut(rest, "/")
		child, err := t.child(n, name)
		if err != nil {
			return nil, err
		}
		switch child.typ {
		case 0:
			child.typ = change.Dir
		case change.Dir:
		default:
			return nil, fmt.Errorf("%q goes through a %s", p, child.typ)
		}
		n = child
	}
	return n, nil
}

// child returns entry name of directory n, which the stream has not
// mentioned yet if it is a baseline entry.
func (t *streamTree) child(n *node, name string) (*node, error) {
	if c := n.children[name]; c != nil {
		return c, nil
	}
	if !n.inBase {
		// A new directory holds only what the stream put there.
		return nil, fmt.Errorf("no entry %q in a directory the stream created", name)
	}
	c := &node{inBase: true, baseDir: n, baseName: name}
	c.attach(n, name)
	return c, nil
}

// lookup returns the entry at stream path p, which is not the root.
func (t *streamTree) lookup(p string) (*node, error) {
	dir, name := splitPath(p)
	parent, err := t.dir(dir)
	if err != nil {
		return nil, err
	}
	return t.child(parent, name)
}

// splitPath splits a checked, non-empty stream path into its directory
// ("" for the root) and name.
func splitPath(p string) (dir, name string) {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i], p[i+1:]
	}
	return "", p
}

// place puts n at stream path p. An entry already there is replaced, as
// rename(2) replaces it.
func (t *streamTree) place(n *node, p string) error {
	dir, name := splitPath(p)
	parent, err := t.dir(dir)
	if err != nil {
		return err
	}
	// A directory moved into itself would leave the tree. parent was just
	// reached from the root in as many steps as p has components, so this
	// walk back is as long as p.
	for a := parent; a != nil; a = a.parent {
		if a == n {
			return fmt.Errorf("moves an entry into itself (%q)", p)
		}
	}
	if n.parent != nil {
		n.detach()
	}
	if old := parent.children[name]; old != nil {
		old.detach()
		t.remove(old)
	}
	n.attach(parent, name)
	return nil
}

// remove records the end of an entry: a baseline entry is deleted, unless
// a new name was linked to it first (a move sent as link and unlink).
func (t *streamTree) remove(n *node) {
	if n.created || !n.inBase {
		return
	}
	if l := t.links[n]; l != nil {
		l.created, l.inBase, l.baseDir, l.baseName = false, true, n.baseDir, n.baseName
		l.typ = cmpType(l.typ, n.typ)
		l.content, l.meta, l.touched = l.content || n.content, l.meta || n.meta, true
		delete(t.links, n)
		return
	}
	t.removed = append(t.removed, n)
}

// cmpType returns the first type the stream said.
func cmpType(a, b change.Type) change.Type {
	if a != 0 {
		return a
	}
	return b
}

// notDir records that the stream proved n is not a directory (unlinked,
// hard-linked); what else it is may stay unknown.
func notDir(n *node) error {
	if n.typ == change.Dir {
		return errors.New("a directory is used as a file")
	}
	return nil
}

func (t *streamTree) apply(c *sendCommand) error {
	switch c.typ {
	case sendSubvol, sendSnapshot:
		return nil
	case sendMkfile, sendMkdir, sendMknod, sendMkfifo, sendMksock, sendSymlink:
		p, err := c.path(attrPath, false)
		if err != nil {
			return err
		}
		n := &node{created: true, touched: true}
		switch c.typ {
		case sendMkfile:
			n.typ = change.File
		case sendMkdir:
			n.typ = change.Dir
		case sendMkfifo:
			n.typ = change.FIFO
		case sendMksock:
			n.typ = change.Socket
		case sendSymlink:
			n.typ = change.Symlink
			n.target = c.str(attrPathLink)
			if len(n.target) >= maxPath {
				return fmt.Errorf("symlink target of %d bytes, longer than PATH_MAX", len(n.target))
			}
		case sendMknod:
			mode, _ := c.u64(attrMode)
			n.typ, _ = change.TypeOf(uint32(mode)) // zero for a mode of no known type
		}
		return t.place(n, p)
	case sendRename:
		from, err := c.path(attrPath, false)
		if err != nil {
			return err
		}
		to, err := c.path(attrPathTo, false)
		if err != nil {
			return err
		}
		n, err := t.lookup(from)
		if err != nil {
			return err
		}
		n.touched = true
		return t.place(n, to)
	case sendLink:
		p, err := c.path(attrPath, false)
		if err != nil {
			return err
		}
		to, err := c.path(attrPathLink, false)
		if err != nil {
			return err
		}
		target, err := t.lookup(to)
		if err != nil {
			return err
		}
		if err := notDir(target); err != nil {
			return err
		}
		n := &node{created: true, touched: true, typ: target.typ}
		if err := t.place(n, p); err != nil {
			return err
		}
		if !target.created {
			t.links[target] = n
		}
	case sendUnlink, sendRmdir:
		p, err := c.path(attrPath, false)
		if err != nil {
			return err
		}
		n, err := t.lookup(p)
		if err != nil {
			return err
		}
		if c.typ == sendRmdir {
			if n.typ != 0 && n.typ != change.Dir {
				return fmt.Errorf("rmdir of a %s", n.typ)
			}
			n.typ = change.Dir
		} else if err := notDir(n); err != nil {
			return err
		}
		n.detach()
		t.remove(n)
	case sendWrite, sendClone, sendTruncate, sendUpdateExtent, sendFallocate, sendEncodedWrite:
		n, err := t.touch(c)
		if err != nil {
			return err
		}
		if n.typ == 0 {
			n.typ = change.File // only regular files have data in a stream
		}
		n.content = true
		if size, ok := c.u64(attrSize); ok && c.typ == sendTruncate {
			n.size = int64(size)
		}
	case sendChmod:
		n, err := t.touch(c)
		if err != nil {
			return err
		}
		mode, _ := c.u64(attrMode)
		n.meta, n.mode = true, uint32(mode)&0o7777
	case sendChown:
		n, err := t.touch(c)
		if err != nil {
			return err
		}
		uid, _ := c.u64(attrUID)
		gid, _ := c.u64(attrGID)
		n.meta, n.uid, n.gid = true, uint32(uid), uint32(gid)
	case sendSetXattr, sendRemoveXattr, sendFileattr:
		n, err := t.touch(c)
		if err != nil {
			return err
		}
		n.meta = true
	case sendUtimes:
		n, err := t.touch(c)
		if err != nil {
			return err
		}
		n.mtime, _ = c.timespec(attrMtime)
		n.ctime, _ = c.timespec(attrCtime)
	default:
		// Commands fsdiff does not know change nothing it reports, as the
		// format allows (enable_verity, later ones).
	}
	return nil
}

// touch returns the entry a command that changes an entry in place
// names: the root when its path is empty.
func (t *streamTree) touch(c *sendCommand) (*node, error) {
	p, err := c.path(attrPath, true)
	if err != nil {
		return nil, err
	}
	n := t.root
	if p != "" {
		if n, err = t.lookup(p); err != nil {
			return nil, err
		}
	}
	n.touched = true
	return n, nil
}

// emit reports every change of the final tree, then the deletions.
func (t *streamTree) emit(emit func(change.Change) error) error {
	// A baseline directory whose entries changed: one was created, removed,
	// or moved in or out.
	for n := range t.nodes() {
		switch {
		case n.created:
			n.parent.entries = true
		case n.inBase && n.moved():
			n.parent.entries = true
			n.baseDir.entries = true
		}
	}
	for _, n := range t.removed {
		n.baseDir.entries = true
	}

	var changes []change.Change
	err := t.paths(func(n *node, p string, under bool) error {
		c, ok, err := t.change(n, p, under)
		if ok {
			changes = append(changes, c)
		}
		return err
	})
	if err != nil {
		return err
	}
	for _, n := range t.removed {
		orig, err := basePath(n)
		if err != nil {
			return err
		}
		c := change.Change{Path: orig, Kind: change.Deleted, Type: n.typ}
		if t.opts.BaseStat != nil {
			if st, ok := t.opts.BaseStat(orig); ok {
				st.Path, st.Kind = c.Path, change.Deleted
				c = st
			}
		}
		changes = append(changes, c)
	}
	if changes, err = t.otherNames(changes); err != nil {
		return err
	}
	for _, c := range changes {
		if err := emit(c); err != nil {
			return err
		}
	}
	return nil
}

// nodes yields every entry of the final tree but the root, depth first
// without recursion: a stream can describe a tree deeper than a stack.
func (t *streamTree) nodes() func(yield func(*node) bool) {
	return func(yield func(*node) bool) {
		stack := []*node{t.root}
		for len(stack) > 0 {
			n := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if n != t.root && !yield(n) {
				return
			}
			for _, c := range n.children {
				stack = append(stack, c)
			}
		}
	}
}

// paths calls fn for every entry of the final tree with its absolute
// path, and whether a directory above it moved (then its baseline path is
// not its path). Paths are built in one buffer as the walk goes down, so a
// deep tree costs no more than its entries; one longer than PATH_MAX is
// an error, as the kernel sends none.
func (t *streamTree) paths(fn func(n *node, p string, under bool) error) error {
	type frame struct {
		n     *node
		at    int // length of its directory's path in buf
		under bool
	}
	if err := fn(t.root, "/", false); err != nil {
		return err
	}
	var stack []frame
	for _, c := range t.root.children {
		stack = append(stack, frame{c, 0, false})
	}
	buf := make([]byte, 0, maxPath)
	for len(stack) > 0 {
		f := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		buf = append(append(buf[:f.at], '/'), f.n.name...)
		if len(buf) >= maxPath {
			return fmt.Errorf("%w: a path longer than PATH_MAX, starting %q", ErrMalformed, buf[:64])
		}
		if err := fn(f.n, string(buf), f.under); err != nil {
			return err
		}
		under := f.under || f.n.inBase && f.n.moved()
		for _, c := range f.n.children {
			stack = append(stack, frame{c, len(buf), under})
		}
	}
	return nil
}

// basePath returns the path a baseline entry had in the baseline.
func basePath(n *node) (string, error) {
	var names []string
	size := 0
	for ; n.baseDir != nil; n = n.baseDir {
		names = append(names, n.baseName)
		if size += 1 + len(n.baseName); size >= maxPath {
			return "", fmt.Errorf("%w: a baseline path longer than PATH_MAX", ErrMalformed)
		}
	}
	if len(names) == 0 {
		return "/", nil
	}
	var b strings.Builder
	b.Grow(size)
	for i := len(names) - 1; i >= 0; i-- {
		b.WriteByte('/')
		b.WriteString(names[i])
	}
	return b.String(), nil
}

// change says how entry n at path p changed, if it did. under says that a
// directory above it moved.
func (t *streamTree) change(n *node, p string, under bool) (change.Change, bool, error) {
	if !n.created && !n.touched && !n.entries {
		return change.Change{}, false, nil // a directory on the way to a change
	}
	orig := p
	if !n.created && (under || n.moved()) {
		var err error
		if orig, err = basePath(n); err != nil {
			return change.Change{}, false, err
		}
	}
	c := change.Change{Path: p, Type: n.typ, Size: n.size, Mode: n.mode, UID: n.uid, GID: n.gid, Target: n.target}
	if n.mtime != 0 {
		c.MTime = time.Unix(0, n.mtime)
	}
	var st, bst change.Change
	var stOK, bstOK bool
	if t.opts.Stat != nil {
		if st, stOK = t.opts.Stat(p); stOK {
			c = st
			c.Path = p
		}
	}
	if t.opts.BaseStat != nil && !n.created {
		bst, bstOK = t.opts.BaseStat(orig)
	}
	switch {
	case n.created:
		c.Kind = change.Created
	case n.moved():
		c.Kind, c.Origin = change.Renamed, orig
	case stOK && bstOK:
		c.Kind = compareInode(st, bst, n.entries)
	default:
		c.Kind = t.guessKind(n)
	}
	return c, c.Kind != 0, nil
}

// compareInode says how a baseline entry changed from its own baseline
// inode, as the walk says: content (a directory's: its entries) or
// metadata, and nothing when only its atime changed. entries says that
// the stream changed a directory's entries.
func compareInode(st, bst change.Change, entries bool) change.Kind {
	switch {
	case st.Type == change.Dir && (entries || !st.MTime.Equal(bst.MTime)):
		return change.Modified
	case st.Type != change.Dir && (st.Size != bst.Size || !st.MTime.Equal(bst.MTime)):
		return change.Modified
	case st.Mode != bst.Mode || st.UID != bst.UID || st.GID != bst.GID || st.Nlink != bst.Nlink || st.CTime != bst.CTime:
		return change.Metadata
	}
	return 0
}

// guessKind says how a baseline entry changed from what a saved stream
// says: its commands, and its times against Since.
func (t *streamTree) guessKind(n *node) change.Kind {
	since := t.opts.Since.UnixNano()
	if t.opts.Since.IsZero() {
		since = 0
	}
	switch {
	case n.content || n.entries || since > 0 && n.mtime > since:
		return change.Modified
	case n.meta || since > 0 && n.ctime > since || since == 0 && n.touched:
		return change.Metadata
	}
	return 0 // only its atime changed
}

// otherNames adds the names of changed multiply-linked inodes that the
// stream did not name: it writes to one link only.
func (t *streamTree) otherNames(changes []change.Change) ([]change.Change, error) {
	if t.opts.Names == nil || t.opts.Stat == nil {
		return changes, nil
	}
	seen := map[string]bool{}
	for _, c := range changes {
		if c.Kind != change.Deleted {
			seen[c.Path] = true
		}
	}
	for i := range changes { // changes grows; the new ones have all their names already
		c := changes[i]
		if c.Kind == change.Deleted || c.Kind == change.Created || c.Type == change.Dir || c.Nlink < 2 {
			continue
		}
		names, err := t.opts.Names(c.Inode)
		if err != nil {
			return nil, err
		}
		for _, p := range names {
			if seen[p] {
				continue
			}
			seen[p] = true
			st, ok := t.opts.Stat(p)
			if !ok || st.Inode != c.Inode {
				continue
			}
			st.Path, st.Kind = p, change.Created
			if t.opts.BaseStat != nil {
				if bst, ok := t.opts.BaseStat(p); ok && bst.Inode == st.Inode {
					st.Kind = compareInode(st, bst, false)
				}
			}
			if st.Kind != 0 {
				changes = append(changes, st)
			}
		}
	}
	return changes, nil
}
