package suggest

import (
	"cmp"
	"fmt"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fsdiff-nix/fsdiff/internal/change"
	"github.com/fsdiff-nix/fsdiff/internal/classify"
	"github.com/fsdiff-nix/fsdiff/internal/names"
)

// Persistence is what to add to a host's configuration: one entry per
// anchor of a persist verdict, and the unknown anchors to decide about.
type Persistence struct {
	Header          Header       `json:"header"`
	Storage         names.String `json:"storage"`
	Directories     []Entry      `json:"directories"`
	Files           []Entry      `json:"files"`
	Users           []Home       `json:"users"`
	AlreadyDeclared int          `json:"already_declared"` // anchors left out: the configuration persists them
}

// Header says where a suggestion comes from.
type Header struct {
	Host     names.String `json:"host"`
	Time     time.Time    `json:"time"`
	Source   string       `json:"source"`
	Baseline string       `json:"baseline"`
	Version  string       `json:"fsdiff_version"`
}

// Home holds the entries of one user's home, relative to it.
type Home struct {
	Name        names.String `json:"name"`
	Home        names.String `json:"home"`
	Directories []Entry      `json:"directories"`
	Files       []Entry      `json:"files"`
}

// Entry is one directory or file to persist. User, Group and Mode are set
// when the audited tree differs from what the module creates by default.
type Entry struct {
	Path     names.String `json:"path"` // absolute, or relative to the home for users
	User     names.String `json:"user,omitempty"`
	Group    names.String `json:"group,omitempty"`
	Mode     string       `json:"mode,omitempty"` // octal, "0700"
	Unknown  bool         `json:"unknown,omitempty"`
	Priority string       `json:"priority,omitempty"`
	Reason   string       `json:"reason"`
	Changes  int          `json:"changes"` // changed paths under it
}

// Owner is the owner and mode of a path in the audited tree.
type Owner struct {
	UID, GID, Mode uint32 // Mode: permission bits
}

// Options is what Build knows of the audited root.
type Options struct {
	Storage string
	Header  Header
	Users   []classify.User
	Groups  map[int]string
	// Stat returns the owner of a path of the audited tree that did not
	// change itself (an anchor above changed files).
	Stat func(path string) (Owner, bool)
	// Files default to this mode, for an attrset to be needed: 0 for
	// impermanence (which creates no files), 0644 for preservation.
	FileMode uint32
}

type anchor struct {
	path     string
	dir      bool
	category classify.Category
	priority classify.Priority
	reason   string
	changes  int
	owner    *Owner
}

// Build makes the persistence model of entries.
func Build(entries classify.Entries, opts Options) Persistence {
	// Empty lists, not nil ones: the JSON has arrays, never null.
	p := Persistence{Header: opts.Header, Storage: names.String(opts.Storage), Directories: []Entry{}, Files: []Entry{}, Users: []Home{}}
	anchors := map[string]*anchor{}
	declared := map[string]bool{}
	owners := map[string]Owner{} // of every changed path, anchors included
	for i, a := range classify.Anchors(entries) {
		e := entries.At(i)
		if e.Mode != 0 {
			// Mode 0 is what a saved send stream gives an entry whose
			// metadata it never states (a baseline file it only writes
			// to): its owner is not known, and "0000" would be a guess.
			owners[e.Path] = Owner{UID: e.UID, GID: e.GID, Mode: e.Mode}
		}
		if a == "" || e.Kind == change.Deleted { // nothing to keep of what is gone
			continue
		}
		switch e.Category.Meaning().Suggest {
		case classify.AlreadyDeclared:
			declared[a] = true
			continue
		case classify.Omit:
			continue
		}
		an := anchors[a]
		if an == nil {
			an = &anchor{path: a, category: e.Category, priority: e.Priority, reason: e.Reason}
			anchors[a] = an
		}
		an.changes++
		if declares(e.Category) && (!declares(an.category) || e.Priority < an.priority) {
			an.category, an.priority, an.reason = e.Category, e.Priority, e.Reason
		}
		if e.Path != a || e.Type == change.Dir || e.Type == change.Subvolume {
			an.dir = true
		}
	}
	p.AlreadyDeclared = len(declared)
	nest(anchors)

	accts := accounts{users: opts.Users, groups: opts.Groups}
	homes := map[string]*Home{}
	for _, a := range slices.Sorted(maps.Keys(anchors)) {
		an := anchors[a]
		if o, ok := owners[a]; ok {
			an.owner = &o
		} else if opts.Stat != nil {
			if o, ok := opts.Stat(a); ok {
				an.owner = &o
			}
		}
		e := Entry{Path: names.String(a), Unknown: proposes(an.category), Reason: an.reason, Changes: an.changes}
		if an.category.Meaning().Prioritized {
			e.Priority = an.priority.String()
		}
		user, home := accts.homeOf(a)
		defUser, defGroup := "root", "root"
		if home != "" {
			e.Path = names.String(strings.TrimPrefix(a, home+"/"))
			defUser, defGroup = user.Name, accts.group(user.GID)
		}
		if an.owner != nil {
			mode := uint32(0o755)
			if !an.dir {
				mode = opts.FileMode
			}
			if mode != 0 && an.owner.Mode != mode {
				e.Mode = fmt.Sprintf("%04o", an.owner.Mode)
			}
			if u := accts.user(an.owner.UID); u != defUser {
				e.User = names.String(u)
			}
			if g := accts.group(int(an.owner.GID)); g != defGroup {
				e.Group = names.String(g)
			}
			if home == "" && (e.User != "" || e.Group != "" || e.Mode != "") {
				// A system entry says all three, so that it reads without the
				// defaults; in a home, the user's own account is the default.
				e.User, e.Group = names.String(accts.user(an.owner.UID)), names.String(accts.group(int(an.owner.GID)))
				if e.Mode == "" {
					e.Mode = fmt.Sprintf("%04o", an.owner.Mode)
				}
			}
		}
		dirs, files := &p.Directories, &p.Files
		if home != "" {
			h := homes[home]
			if h == nil {
				h = &Home{Name: names.String(user.Name), Home: names.String(home), Directories: []Entry{}, Files: []Entry{}}
				homes[home] = h
			}
			dirs, files = &h.Directories, &h.Files
		}
		if an.dir {
			*dirs = append(*dirs, e)
		} else {
			*files = append(*files, e)
		}
	}
	for _, h := range homes {
		p.Users = append(p.Users, *h)
	}
	slices.SortFunc(p.Users, func(a, b Home) int { return cmp.Compare(a.Name, b.Name) })
	return p
}

// nest makes one entry of anchors inside one another: never an entry
// inside another suggested entry. The outermost persist anchor wins: it
// keeps everything under it anyway, and what a person decided to keep as a
// whole (a directory a rule anchors) is the right unit; what is inside it
// adds its changes and, if higher, its priority. An unknown anchor inside
// another unknown one joins it too. A persist anchor inside an unknown one
// stays: it is suggested, the unknown one only proposed in a comment.
func nest(anchors map[string]*anchor) {
	for _, a := range slices.Sorted(maps.Keys(anchors)) { // a directory sorts before what is in it
		an := anchors[a]
		for p := path.Dir(a); p != "/" && p != "."; p = path.Dir(p) {
			outer := anchors[p]
			if outer == nil {
				continue
			}
			if declares(outer.category) || proposes(an.category) {
				outer.changes += an.changes
				outer.dir = true
				if declares(an.category) && an.priority < outer.priority {
					outer.priority, outer.reason = an.priority, an.reason
				}
				delete(anchors, a)
			}
			break
		}
	}
}

// accounts names the users and groups of the audited root.
type accounts struct {
	users  []classify.User
	groups map[int]string
}

func (a accounts) user(uid uint32) string {
	for _, u := range a.users {
		if u.UID == int(uid) {
			return u.Name
		}
	}
	if uid == 0 {
		return "root"
	}
	return strconv.Itoa(int(uid))
}

func (a accounts) group(gid int) string {
	if g, ok := a.groups[gid]; ok {
		return g
	}
	if gid == 0 {
		return "root"
	}
	return strconv.Itoa(gid)
}

// homeOf returns the user whose home p is strictly inside, and that home:
// people's homes from passwd, /root, and every /home/NAME.
func (a accounts) homeOf(p string) (classify.User, string) {
	homes := classify.Homes(a.users)
	for _, h := range append(homes, "/root") {
		if strings.HasPrefix(p, h+"/") {
			for _, u := range a.users {
				if path.Clean(u.Home) == h {
					return u, h
				}
			}
			return classify.User{Name: "root"}, h
		}
	}
	if rest, ok := strings.CutPrefix(p, "/home/"); ok {
		if name, _, ok := strings.Cut(rest, "/"); ok && name != "" {
			return classify.User{Name: name, UID: -1, GID: -1}, "/home/" + name
		}
	}
	return classify.User{}, ""
}

// declares says whether a suggestion declares anchors of c, rather than
// proposing them in a comment.
func declares(c classify.Category) bool { return c.Meaning().Suggest == classify.Declare }

// proposes says whether a suggestion proposes anchors of c in a comment.
func proposes(c classify.Category) bool { return c.Meaning().Suggest == classify.Propose }
