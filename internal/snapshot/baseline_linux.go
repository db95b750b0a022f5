package snapshot

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/dennwc/btrfs"
)

// The baseline policy: which subvolume the root is compared with, and the
// cutoff, the transaction after which the root's content differs from it.
//
// The cutoff is never the baseline's ROOT_ITEM generation: snapshotting a
// subvolume copies its root node in the snapshot's transaction, so that
// generation rises every time the baseline is snapshotted, which the
// rollback of every impermanence guide does at each boot. It comes from how
// the two subvolumes descend from each other (their parent UUIDs): a
// snapshot shares every block of its source as of its creation transaction
// (otransid), including what was written in that same transaction, and
// nothing it writes later is older than the next one.

// findBaseline picks the baseline: Options.Baseline, else the subvolume the root
// was snapshotted from, else a conventionally named blank snapshot that can
// be its baseline, else the root's own creation; and the cutoff.
func (o *opener) findBaseline(all []btrfs.SubvolInfo, root btrfs.SubvolInfo) (Since, *btrfs.SubvolInfo, error) {
	lineage := newLineage(all, root)
	var base btrfs.SubvolInfo
	var reason string
	switch {
	case o.opts.Baseline == NoBaseline:
		// Nothing to compare with: every entry of the root is created, as the
		// walk reports against nothing. The root directory itself is what is
		// audited, not a change.
		o.t.note("baseline: none, as given: every entry of the root is created (generation 0)")
		return Since{}, nil, nil
	case o.opts.Baseline != "":
		var top *os.File
		if !filepath.IsAbs(o.opts.Baseline) {
			var err error
			if top, err = o.topLevel(); err != nil {
				return Since{}, nil, err
			}
		}
		f, err := o.openSubvolume(top, o.opts.Baseline)
		if err != nil {
			return Since{}, nil, fmt.Errorf("baseline: %w", err)
		}
		id, err := subvolumeID(f)
		if err != nil {
			return Since{}, nil, err
		}
		var ok bool
		if base, ok = findSubvolume(all, func(s btrfs.SubvolInfo) bool { return s.RootID == id }); !ok {
			return Since{}, nil, fmt.Errorf("baseline %q: subvolume %d is not in the subvolume list", o.opts.Baseline, id)
		}
		reason = "as given"
	default:
		var ok bool
		if !root.ParentUUID.IsZero() {
			base, ok = findSubvolume(all, func(s btrfs.SubvolInfo) bool { return s.UUID == root.ParentUUID })
			reason = "the root is a snapshot of it"
		}
		if !ok {
			// A blank taken from the root (the guides' first boot) is newer
			// than the root and still its baseline; an unrelated newer one is not.
			names := conventionalBlanks(root.Path)
			base, ok = findSubvolume(all, func(s btrfs.SubvolInfo) bool {
				if !slices.Contains(names, s.Path) {
					return false
				}
				_, err := lineage.cutoff(s)
				return err == nil
			})
			reason = "conventional name of a blank snapshot"
		}
		if !ok {
			since := creation(root)
			o.t.Info.BaselineGeneration = since.Generation
			o.t.note("baseline: none found; the root's creation (generation %d, %s)", root.OTransID, root.OTime.Format("2006-01-02 15:04:05"))
			return since, nil, nil
		}
	}
	c, err := lineage.cutoff(base)
	if err != nil {
		return Since{}, nil, fmt.Errorf("baseline %q of root %q: %w", "/"+base.Path, "/"+root.Path, err)
	}
	o.t.Info.Baseline, o.t.Info.BaselineGeneration = "/"+base.Path, c.since.Generation
	o.t.note("baseline: subvolume %q (ID %d), %s", "/"+base.Path, base.RootID, reason)
	o.t.note("cutoff: generation %d, %s", c.since.Generation, c.why)
	return c.since, &base, nil
}

// creation is the cutoff of a root compared with what it started from: a
// new subvolume holds nothing older than its creation transaction, which
// may already write into it; a snapshot holds its source as of its
// creation transaction.
func creation(s btrfs.SubvolInfo) Since {
	since := Since{Generation: s.OTransID, Time: s.OTime}
	if s.ParentUUID.IsZero() && s.OTransID > 0 {
		since.Generation--
	}
	return since
}

// lineage knows the subvolumes by UUID, to follow parent UUIDs from the root.
type lineage struct {
	root   btrfs.SubvolInfo
	byUUID map[btrfs.UUID]btrfs.SubvolInfo
}

func newLineage(all []btrfs.SubvolInfo, root btrfs.SubvolInfo) lineage {
	l := lineage{root: root, byUUID: make(map[btrfs.UUID]btrfs.SubvolInfo, len(all)+1)}
	for _, s := range all {
		if !s.UUID.IsZero() {
			l.byUUID[s.UUID] = s
		}
	}
	if !root.UUID.IsZero() {
		l.byUUID[root.UUID] = root // the top level is not in the list
	}
	return l
}

// ancestors returns s, the subvolume it was snapshotted from, that one's
// source, and so on, as far as they still exist.
func (l lineage) ancestors(s btrfs.SubvolInfo) []btrfs.SubvolInfo {
	chain := []btrfs.SubvolInfo{s}
	for !s.ParentUUID.IsZero() {
		p, ok := l.byUUID[s.ParentUUID]
		if !ok || slices.ContainsFunc(chain, func(c btrfs.SubvolInfo) bool { return c.RootID == p.RootID }) {
			break
		}
		chain = append(chain, p)
		s = p
	}
	return chain
}

// cut is a cutoff and why it was chosen.
type cut struct {
	since Since
	why   string
}

// cutoff chooses the transaction after which the root's content differs
// from base's, from what the two really share:
//   - the root descends from base: the creation of the root's ancestor (or
//     the root itself) that was snapshotted from base;
//   - base descends from the root: the creation of base's ancestor (or
//     base itself) that was snapshotted from the root;
//   - both descend from a common ancestor: the root's changes since its
//     line was snapshotted from it; what base changed since its own
//     snapshot was taken is not seen;
//   - unrelated: the root's creation, if base is older; a newer unrelated
//     subvolume cannot be what the root started from.
//
// Where the inodes of the two trees are the same inodes (all but the last
// case), old candidates are compared with base's inodes (Since.Tree).
func (l lineage) cutoff(base btrfs.SubvolInfo) (cut, error) {
	root := l.root
	if base.RootID == root.RootID {
		return cut{}, errors.New("the baseline is the root itself")
	}
	fork := func(child btrfs.SubvolInfo, why string, args ...any) cut {
		return cut{Since{Generation: child.OTransID, Time: child.OTime, Tree: base.RootID},
			fmt.Sprintf(why, args...) + fmt.Sprintf(" (generation %d, %s)", child.OTransID, child.OTime.Format(time.DateTime))}
	}
	up, down := l.ancestors(root), l.ancestors(base)
	if i := slices.IndexFunc(up, func(s btrfs.SubvolInfo) bool { return s.RootID == base.RootID }); i == 1 {
		return fork(root, "the root's creation as a snapshot of the baseline"), nil
	} else if i > 1 {
		return fork(up[i-1], "the creation of %q, the root's ancestor snapshotted from the baseline", "/"+up[i-1].Path), nil
	}
	if j := slices.IndexFunc(down, func(s btrfs.SubvolInfo) bool { return s.RootID == root.RootID }); j == 1 {
		return fork(base, "the baseline's creation as a snapshot of the root"), nil
	} else if j > 1 {
		return fork(down[j-1], "the creation of %q, the baseline's ancestor snapshotted from the root", "/"+down[j-1].Path), nil
	}
	for i, a := range up[1:] {
		if slices.ContainsFunc(down[1:], func(s btrfs.SubvolInfo) bool { return s.RootID == a.RootID }) {
			return fork(up[i], "the root's line and the baseline are both snapshots of %q: the root's changes since it was taken from it; what the baseline changed since its own snapshot is not seen", "/"+a.Path), nil
		}
	}
	if base.OTransID > root.OTransID {
		return cut{}, fmt.Errorf("%w: neither is a snapshot of the other, and it was created (generation %d) after the root (generation %d)",
			ErrUnrelatedBaseline, base.OTransID, root.OTransID)
	}
	since := creation(root)
	return cut{since, fmt.Sprintf("the root's creation (generation %d, %s): neither is a snapshot of the other, so every entry of the root is newer than the baseline",
		root.OTransID, root.OTime.Format(time.DateTime))}, nil
}

// conventionalBlanks lists the names people give the blank snapshot of a
// root subvolume, next to it and at the top level.
func conventionalBlanks(rootPath string) []string {
	dir, name := filepath.Split(rootPath)
	var out []string
	for _, d := range []string{dir, ""} {
		for _, n := range []string{name + "-blank", name + "@blank", name + "_blank", "@" + name + "-blank",
			"root-blank", "root@blank", "@root-blank", "@blank", "blank"} {
			if p := d + n; !slices.Contains(out, p) && p != rootPath {
				out = append(out, p)
			}
		}
	}
	return out
}

func findSubvolume(all []btrfs.SubvolInfo, match func(btrfs.SubvolInfo) bool) (btrfs.SubvolInfo, bool) {
	for _, s := range all {
		if match(s) {
			return s, true
		}
	}
	return btrfs.SubvolInfo{}, false
}
