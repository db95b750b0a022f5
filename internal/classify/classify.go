package classify

import (
	"strconv"
	"strings"

	"github.com/fsdiff-nix/fsdiff/internal/snapshot"
)

// Category is what a changed path is, from a person's point of view.
// Categories are ordered for reports: what needs a decision first.
type Category uint8

const (
	Persist   Category = iota + 1 // state that should survive a reboot
	Unknown                       // nothing says: a person must decide
	Persisted                     // already covered by declared persistence
	Ephemeral                     // safe to lose
	Managed                       // NixOS recreates it at every boot or activation
)

var categoryNames = [...]string{"", "persist", "unknown", "persisted", "ephemeral", "managed"}

func (c Category) String() string {
	if int(c) < len(categoryNames) {
		return categoryNames[c]
	}
	return "category(" + strconv.Itoa(int(c)) + ")"
}

// Verdict is the decision about one changed path.
type Verdict struct {
	Category Category
	Rule     string // what decided: a structural detector's name or a rule's ID
	Reason   string
}

// managedTargets are the prefixes of symlink targets that NixOS activation
// creates (setup-etc.pl links /etc entries to /etc/static, which points into
// the store).
var managedTargets = []string{"/nix/store/", "/etc/static/", "/run/current-system/"}

// Classifier classifies changes of one audited root.
type Classifier struct {
	copiedEtc map[string]bool // absolute paths listed in /etc/.clean
}

// New returns a classifier for a root whose /etc/.clean holds etcClean
// (empty when it has none). NixOS's setup-etc.pl lists there, relative to
// /etc and one per line, every file it copied rather than symlinked.
func New(etcClean []byte) *Classifier {
	c := &Classifier{copiedEtc: map[string]bool{}}
	for line := range strings.SplitSeq(string(etcClean), "\n") {
		if line != "" {
			c.copiedEtc["/etc/"+line] = true
		}
	}
	return c
}

// Classify returns the verdict for one change.
func (c *Classifier) Classify(ch snapshot.Change) Verdict {
	if ch.Type == snapshot.Symlink {
		for _, p := range managedTargets {
			if strings.HasPrefix(ch.Target, p) {
				return Verdict{Managed, "store-symlink", "symlink into " + strings.TrimSuffix(p, "/") + ", recreated by NixOS activation"}
			}
		}
	}
	switch {
	case ch.Type == snapshot.File && c.copiedEtc[ch.Path]:
		return Verdict{Managed, "etc-clean", "listed in /etc/.clean: copied into /etc by NixOS activation"}
	case ch.Type == snapshot.FIFO:
		return Verdict{Ephemeral, "fifo", "fifo: exists only while a program uses it"}
	case ch.Type == snapshot.Socket:
		return Verdict{Ephemeral, "socket", "socket: recreated by the program that listens on it"}
	}
	return Verdict{Unknown, "", "no rule matches"}
}
