package classify

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/fsdiff-nix/fsdiff/internal/change"
)

// CorpusRepo is what one public configuration persists: absolute system
// paths, and home paths as ~/REL.
type CorpusRepo struct {
	Repo  string
	Paths []CorpusPath // sorted by path, one per path
}

// CorpusPath is one persisted path of a configuration.
type CorpusPath struct {
	Path string // "/var/lib/nixos" or "~/.config/obsidian"
	Dir  bool   // declared in a directories list
}

// MinCorpusRepos is how many configurations must keep a path for it to
// become a rule. One configuration is a personal choice (a project folder
// named after its owner, a parser's misreading); two independent ones
// (forks are removed from the corpus) are a shared practice. Paths kept by
// one are left to the location rules.
const MinCorpusRepos = 2

// ReadCorpus reads corpus.jsonl: one JSON object per repository with
// directories, files, user_directories and user_files, whose entries are
// strings or attribute sets with a directory or file. Entries that still
// hold an unresolved ${...} are the corpus parser's, not paths, and are
// dropped, as are patterns the rule format cannot hold.
func ReadCorpus(r io.Reader) ([]CorpusRepo, error) {
	type record struct {
		Repo            string            `json:"repo"`
		Directories     []json.RawMessage `json:"directories"`
		Files           []json.RawMessage `json:"files"`
		UserDirectories []json.RawMessage `json:"user_directories"`
		UserFiles       []json.RawMessage `json:"user_files"`
	}
	var repos []CorpusRepo
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 16<<20)
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var rec record
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return nil, fmt.Errorf("corpus line %d: %w", line, err)
		}
		paths := map[string]bool{} // path → dir
		for _, list := range []struct {
			entries   []json.RawMessage
			dir, home bool
		}{{rec.Directories, true, false}, {rec.Files, false, false}, {rec.UserDirectories, true, true}, {rec.UserFiles, false, true}} {
			for _, raw := range list.entries {
				p, err := corpusEntry(raw)
				if err != nil {
					return nil, fmt.Errorf("corpus line %d (%s): %w", line, rec.Repo, err)
				}
				if p, ok := corpusPath(p, list.home); ok {
					paths[p] = paths[p] || list.dir
				}
			}
		}
		repo := CorpusRepo{Repo: rec.Repo}
		for _, p := range slices.Sorted(maps.Keys(paths)) {
			repo.Paths = append(repo.Paths, CorpusPath{Path: p, Dir: paths[p]})
		}
		repos = append(repos, repo)
	}
	return repos, sc.Err()
}

func corpusEntry(raw json.RawMessage) (string, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, nil
	}
	var attrs struct{ Directory, File string }
	if err := json.Unmarshal(raw, &attrs); err != nil {
		return "", err
	}
	return attrs.Directory + attrs.File, nil
}

// corpusPath normalises an entry: system paths absolute and clean, home
// paths as ~/REL. ok is false for what is not a path the rules can name.
func corpusPath(p string, home bool) (string, bool) {
	if strings.Contains(p, "${") || strings.ContainsAny(p, "*?[]{}\\\n\r\t\"") {
		return "", false
	}
	if home {
		p = strings.TrimPrefix(strings.TrimPrefix(p, "~"), "/")
		p = path.Clean("/" + p)
		if p == "/" {
			return "", false // the whole home: a top-level tree, never a rule
		}
		return "~" + p, true
	}
	if !strings.HasPrefix(p, "/") {
		return "", false
	}
	return path.Clean(p), true
}

// corpusCount is how many repositories keep a path, and as what.
type corpusCount struct {
	repos, dirs int
}

func countCorpus(repos []CorpusRepo) map[string]*corpusCount {
	counts := map[string]*corpusCount{}
	for _, r := range repos {
		for _, p := range r.Paths {
			c := counts[p.Path]
			if c == nil {
				c = &corpusCount{}
				counts[p.Path] = c
			}
			c.repos++
			if p.Dir {
				c.dirs++
			}
		}
	}
	return counts
}

// locationRule matches the patterns of rules that give a location its
// meaning (/var/lib/*/**, ~/.config/*/**, ~/.*/**): they anchor one level
// below a directory, whatever is there, so what the corpus knows about a
// particular path under them is more specific knowledge, not a repetition.
var locationRule = regexp.MustCompile(`/\.?\*/\*\*$`)

// CorpusRules writes the rules the corpus gives, in the rule file format:
// every path that at least MinCorpusRepos repositories keep becomes a
// persist rule whose source says how many, unless the hand-written rules
// already decide it:
//   - a hand-written rule names the path (P, P/**, P/*/**): a person chose
//     what P is, e.g. /etc/passwd is managed, /var/lib/systemd is decided
//     per child, /var/lib and ~/.config are locations, not anchors;
//   - a hand-written persist rule other than a location rule covers it (a
//     file under ~/.ssh, the host keys): its reason and priority stay;
//   - NixOS creates it (a managed verdict);
//   - it is a top-level tree (/var, /srv; SPEC §4: never a whole tree), or
//     not a system path at all (see systemPath).
//
// Generated rules rank below hand-written ones of the same specificity:
// callers load them after the hand-written rules (Builtin does).
func CorpusRules(repos []CorpusRepo, handwritten []Rule) []byte {
	counts := countCorpus(repos)
	named := map[string]bool{}
	for _, m := range compile(handwritten) {
		p := strings.TrimSuffix(strings.TrimSuffix(m.pattern, "/**"), "/*")
		named[p] = true
	}
	c := New(Config{Rules: handwritten})
	var b strings.Builder
	fmt.Fprintf(&b, "# Generated by go generate ./internal/classify from testdata/corpus.jsonl: DO NOT EDIT.\n")
	fmt.Fprintf(&b, "# Every path that at least %d of the %d public configurations of the corpus persist, and\n", MinCorpusRepos, len(repos))
	fmt.Fprintf(&b, "# that builtin.rules does not decide already (see CorpusRules). Hand-written rules win ties.\n\n")
	for _, p := range slices.Sorted(maps.Keys(counts)) {
		n := counts[p]
		if n.repos < MinCorpusRepos || named[p] || !strings.HasPrefix(p, "~/") && !systemPath(p) {
			continue
		}
		dir := n.dirs*2 >= n.repos
		probe := p
		if dir {
			probe = p + "/state"
		}
		v := c.classifyHome(probe)
		if v.Category == Managed ||
			v.Category == Persist && !locationRule.MatchString(v.Pattern) && (v.Anchor == p || strings.HasPrefix(p, v.Anchor+"/")) {
			continue
		}
		prio, reason := corpusMeaning(p, v)
		pattern := p
		if dir {
			pattern += "/**"
		}
		if strings.ContainsAny(pattern, " #") {
			pattern = strconv.Quote(pattern)
		}
		fmt.Fprintf(&b, "persist  %s  %s  %s  -- kept by %d of %d public configurations (knowledge/corpus.jsonl)\n", pattern, prio, reason, n.repos, len(repos))
	}
	return []byte(b.String())
}

// systemPath says whether p is a system path a rule may name: not a
// top-level tree (/var, /srv), not a home (/home/NAME: the corpus parser
// left a user's home path there), not a hidden top-level directory (/.cache:
// a home path that lost its home).
func systemPath(p string) bool {
	top, rest, _ := strings.Cut(p[1:], "/")
	return rest != "" && top != "home" && !strings.HasPrefix(top, ".")
}

// classifyHome classifies p, a path or ~/REL, with ~ in a home of its own.
func (c *Classifier) classifyHome(p string) Verdict {
	const home = "/home/corpus"
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		v := c.Classify(change.Change{Path: home + "/" + rest, Type: change.File})
		if a, ok := strings.CutPrefix(v.Anchor, home); ok {
			v.Anchor = "~" + a
		}
		return v
	}
	return c.Classify(change.Change{Path: p, Type: change.File})
}

// isCache says whether p is in a cache directory (FHS /var/cache, XDG
// $XDG_CACHE_HOME): what is there only saves time.
func isCache(p string) bool {
	return slices.ContainsFunc([]string{"/var/cache", "~/.cache", "/root/.cache"}, func(c string) bool {
		return p == c || strings.HasPrefix(p, c+"/")
	})
}

// corpusMeaning gives a generated rule its priority and reason from where
// the path is: what losing it costs is what the location means (the
// verdict of the hand-written rules, v), which the corpus cannot tell; a
// cache only saves time.
func corpusMeaning(p string, v Verdict) (Priority, string) {
	prio := Recommended
	if v.Category == Persist {
		prio = v.Priority
	}
	under := func(dirs ...string) bool {
		return slices.ContainsFunc(dirs, func(d string) bool { return strings.HasPrefix(p, d+"/") })
	}
	switch {
	case isCache(p):
		return Optional, "a cache many configurations keep: persisting it only saves time (downloads, builds, indexes)"
	case under("~/.local/state", "/var/log"):
		return prio, "history, logs and last-used settings many configurations keep"
	case under("/var/lib"):
		return prio, "a service's state directory many configurations keep"
	case under("~/.config"):
		return prio, "an application's settings many configurations keep"
	case under("~/.local/share"):
		return prio, "an application's data many configurations keep"
	case under("/etc"):
		return prio, "configuration written at run time that many configurations keep"
	case strings.HasPrefix(p, "~/.") || under("/root"):
		return prio, "an application's settings and data many configurations keep"
	case strings.HasPrefix(p, "~/"):
		return prio, "the user's own files, kept by many configurations"
	}
	return prio, "state many configurations keep"
}
