package classify

import (
	_ "embed"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/fsdiff-nix/fsdiff/internal/change"
)

// Verdict is the decision about one changed path.
type Verdict struct {
	Category Category
	Priority Priority // persist verdicts only
	Rule     string   // a rule's ID (FILE:LINE) or a structural detector's name; empty when nothing matched
	Pattern  string   // the rule's pattern
	Reason   string
	Source   string // where the knowledge comes from
	Anchor   string // the path a person decides about: /var/lib/postgresql for a file deep inside it
}

// briefLen is how much of a reason a comment of suggested Nix shows;
// fsdiff explain and the JSON formats give all of it.
const briefLen = 72

// Brief cuts a reason to briefLen bytes at a word boundary, else at a
// character boundary, for comments.
func Brief(reason string) string {
	if len(reason) <= briefLen {
		return reason
	}
	cut := strings.LastIndexByte(reason[:briefLen], ' ')
	if cut < briefLen/2 {
		for cut = briefLen; !utf8.RuneStart(reason[cut]); cut-- {
		}
	}
	return strings.TrimRight(reason[:cut], " ,;:") + "…"
}

//go:generate go run ./gen -corpus testdata/corpus.jsonl -o corpus.rules

// builtinRules are the hand-written rules; corpusRules are generated from
// what public configurations persist (see CorpusRules).
var (
	//go:embed builtin.rules
	builtinRules []byte
	//go:embed corpus.rules
	corpusRules []byte
)

// Handwritten returns the hand-written built-in rules (builtin.rules).
func Handwritten() []Rule {
	return mustParse("builtin", builtinRules)
}

// Builtin returns fsdiff's built-in rules: the hand-written ones, then
// those generated from the corpus, which lose ties to them.
func Builtin() []Rule {
	return append(Handwritten(), mustParse("corpus", corpusRules)...)
}

func mustParse(name string, data []byte) []Rule {
	rules, err := ParseRules(name, data, false)
	if err != nil {
		panic(err) // a test parses the embedded files
	}
	return rules
}

// Declared is a path that configuration already persists: it and
// everything under it are covered.
type Declared struct {
	Path    string
	Storage string // the persistent storage it is declared in; empty for a mount
	Reason  string // "environment.persistence.\"/persist\".directories"
}

// Config is what a classifier knows about the audited root.
type Config struct {
	Rules    []Rule   // user and built-in rules, in any order
	Context  []string // contexts that are set (rules with if=CONTEXT apply)
	EtcClean []byte   // the audited root's /etc/.clean
	Homes    []string // home directories from the audited root's /etc/passwd; /root and /home/* always are
	Declared []Declared
	Storage  []string // persistent storage paths: a symlink into one is persisted state
}

// Classifier classifies the changes of one audited root. It is not safe
// for concurrent use: it memoises per directory. Each goroutine uses its
// own [Classifier.Clone].
type Classifier struct {
	copiedEtc map[string]bool
	context   map[string]bool
	homes     map[string]bool
	declared  map[string]Declared
	storage   []string
	index     *index
	scratch   [3][]*matcher // reused by candidates: the path's, the home's, both merged
}

// Clone returns a classifier that decides as c does, for another
// goroutine. It shares c's rules and configuration, not its memo.
func (c *Classifier) Clone() *Classifier {
	d := *c
	d.index = &index{buckets: c.index.buckets, dirs: map[string][]*matcher{}}
	d.scratch = [3][]*matcher{}
	return &d
}

// New returns a classifier.
func New(cfg Config) *Classifier {
	c := &Classifier{
		copiedEtc: map[string]bool{},
		context:   map[string]bool{},
		homes:     map[string]bool{"/root": true},
		declared:  map[string]Declared{},
		storage:   cfg.Storage,
		index:     newIndex(compile(cfg.Rules)),
	}
	for line := range strings.SplitSeq(string(cfg.EtcClean), "\n") {
		if line != "" {
			c.copiedEtc["/etc/"+line] = true
		}
	}
	for _, k := range cfg.Context {
		c.context[k] = true
	}
	for _, h := range cfg.Homes {
		c.homes[h] = true
	}
	for _, d := range cfg.Declared {
		if _, dup := c.declared[d.Path]; !dup {
			c.declared[d.Path] = d
		}
	}
	return c
}

// managedTargets are the prefixes of symlink targets that NixOS activation
// creates (setup-etc.pl links /etc entries to /etc/static, which points into
// the store).
var managedTargets = []string{"/nix/store/", "/etc/static/", "/run/current-system/"}

// structural applies the detectors that need no rule: what a path is, not
// where it is. ok is false when none applies.
func (c *Classifier) structural(ch change.Change) (v Verdict, ok bool) {
	const nixos = "nixpkgs nixos/modules/system/etc/setup-etc.pl"
	if ch.Type == change.Symlink {
		for _, p := range managedTargets {
			if strings.HasPrefix(ch.Target, p) {
				return Verdict{Category: Managed, Rule: "store-symlink", Reason: "symlink into " + strings.TrimSuffix(p, "/") + ", recreated by NixOS activation", Source: nixos, Anchor: ch.Path}, true
			}
		}
	}
	switch {
	case ch.Type == change.File && c.copiedEtc[ch.Path]:
		return Verdict{Category: Managed, Rule: "etc-clean", Reason: "listed in /etc/.clean: copied into /etc by NixOS activation", Source: nixos, Anchor: ch.Path}, true
	case ch.Type == change.FIFO:
		return Verdict{Category: Ephemeral, Rule: "fifo", Reason: "fifo: exists only while a program uses it", Source: "fifo(7)", Anchor: ch.Path}, true
	case ch.Type == change.Socket:
		return Verdict{Category: Ephemeral, Rule: "socket", Reason: "socket: recreated by the program that listens on it", Source: "unix(7)", Anchor: ch.Path}, true
	}
	for p := ch.Path; p != ""; p = parent(p) {
		if d, ok := c.declared[p]; ok {
			return Verdict{Category: Persisted, Rule: "declared", Reason: d.Reason, Source: d.Reason, Anchor: d.Path}, true
		}
	}
	if ch.Type == change.Symlink {
		for _, s := range c.storage {
			if ch.Target == s || strings.HasPrefix(ch.Target, strings.TrimSuffix(s, "/")+"/") {
				return Verdict{Category: Persisted, Rule: "storage-symlink", Reason: "symlink into the persistent storage " + s, Source: "impermanence symlink method", Anchor: ch.Path}, true
			}
		}
	}
	if ch.Type == 0 {
		// A saved send stream does not say what an entry it only unlinks,
		// moves or changes the metadata of is: a rule for a path must not
		// make a fifo or a directory persist state as if it were a file.
		return Verdict{Category: Unknown, Rule: "unknown-type", Reason: "the send stream does not say what this entry is: look at it", Source: "btrfs send stream", Anchor: ch.Path}, true
	}
	return Verdict{}, false
}

// home returns the home directory p is in, or "".
func (c *Classifier) home(p string) string {
	if rest, ok := strings.CutPrefix(p, "/home/"); ok && rest != "" {
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			return p[:len("/home/")+i]
		}
		return p
	}
	for h := p; h != ""; h = parent(h) {
		if c.homes[h] {
			return h
		}
	}
	return ""
}

// candidates returns the matchers that may match p, in precedence order,
// with the home p is in and p relative to it ("~/...").
func (c *Classifier) candidates(p string) (ms []*matcher, home, rel string) {
	ms = mergeRanked(c.scratch[0][:0], c.index.inherited(parent(p)), c.index.buckets[p], 0)
	c.scratch[0] = ms[:0]
	if home = c.home(p); home != "" {
		rel = "~" + p[len(home):]
		rs := mergeRanked(c.scratch[1][:0], c.index.inherited(parent(rel)), c.index.buckets[rel], 0)
		ms = mergeRanked(c.scratch[2][:0], ms, rs, len(home)-1)
		c.scratch[1], c.scratch[2] = rs[:0], ms[:0]
	}
	return ms, home, rel
}

func (c *Classifier) verdict(m *matcher, p, home string) Verdict {
	r := m.rule
	return Verdict{Category: r.Category, Priority: r.Priority, Rule: r.ID, Pattern: r.Pattern, Reason: r.Reason, Source: r.Source, Anchor: m.anchor(p, home)}
}

func (c *Classifier) matches(m *matcher, p, rel string) (string, bool) {
	if strings.HasPrefix(m.pattern, "~") {
		return rel, rel != "" && m.match(rel)
	}
	return p, m.match(p)
}

// Classify returns the verdict for one change.
func (c *Classifier) Classify(ch change.Change) Verdict {
	if v, ok := c.structural(ch); ok {
		return v
	}
	ms, home, rel := c.candidates(ch.Path)
	for _, m := range ms {
		if m.rule.If != "" && !c.context[m.rule.If] {
			continue
		}
		if s, ok := c.matches(m, ch.Path, rel); ok {
			return c.verdict(m, s, home)
		}
	}
	return Verdict{Category: Unknown, Reason: "no rule matches", Anchor: ch.Path}
}

// Match is a rule that matches a path, for explain.
type Match struct {
	Verdict
	Inactive string // why it does not apply ("needs context mutable-users"); empty if it does
}

// Explain returns what decides about ch: the structural detector that
// applies, if any, then every rule that matches, in precedence order. The
// verdict is the structural one, else the first active match, else unknown.
func (c *Classifier) Explain(ch change.Change) (verdict Verdict, structural bool, matches []Match) {
	ms, home, rel := c.candidates(ch.Path)
	for _, m := range slices.Clone(ms) {
		if s, ok := c.matches(m, ch.Path, rel); ok {
			mt := Match{Verdict: c.verdict(m, s, home)}
			if m.rule.If != "" && !c.context[m.rule.If] {
				mt.Inactive = "needs context " + m.rule.If
			}
			matches = append(matches, mt)
		}
	}
	v, structural := c.structural(ch)
	if !structural {
		v = c.Classify(ch)
	}
	return v, structural, matches
}

// Threshold is what fails a check: a category and, for persist, the
// lowest priority that still fails ("persist:recommended": critical and
// recommended fail, optional does not). NoPriority fails every priority.
type Threshold struct {
	Category Category
	Priority Priority
}

// ParseThreshold reads CATEGORY or persist:PRIORITY.
func ParseThreshold(s string) (Threshold, error) {
	cat, prio, hasPrio := strings.Cut(strings.TrimSpace(s), ":")
	c, ok := ParseCategory(cat)
	if !ok {
		return Threshold{}, fmt.Errorf("unknown category %q: want %s", cat, CategoryList(", ", " or "))
	}
	t := Threshold{Category: c}
	if hasPrio {
		p, ok := ParsePriority(prio)
		if !c.Meaning().Prioritized || !ok {
			return Threshold{}, fmt.Errorf("%q: only persist takes a priority: persist:critical, persist:recommended or persist:optional", s)
		}
		t.Priority = p
	}
	return t, nil
}

// Thresholds lists every threshold ParseThreshold reads, in report
// order: each category, and each priority of a prioritized one.
func Thresholds() []Threshold {
	var ts []Threshold
	for _, c := range Categories() {
		ts = append(ts, Threshold{Category: c})
		if c.Meaning().Prioritized {
			for p := Critical; int(p) < len(priorityNames); p++ {
				ts = append(ts, Threshold{Category: c, Priority: p})
			}
		}
	}
	return ts
}

func (t Threshold) String() string {
	if t.Priority == NoPriority {
		return t.Category.String()
	}
	return t.Category.String() + ":" + t.Priority.String()
}

// Fails says whether a verdict meets the threshold.
func (t Threshold) Fails(v Verdict) bool {
	return v.Category == t.Category && (t.Priority == NoPriority || v.Priority != NoPriority && v.Priority <= t.Priority)
}
