package classify

import (
	"cmp"
	"slices"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
)

// A rule's pattern becomes one matcher per alternative of its braces. Each
// matcher sits in the bucket of its pattern's fixed leading directory, so a
// path is only tried against the rules filed under its own ancestors.
type matcher struct {
	rule    *Rule
	rank    int    // position in precedence order: lower wins
	spec    int    // specificity of the pattern
	order   int    // position in the rule files
	pattern string // the alternative, without braces
	kind    matchKind
	key     string // bucket: the whole path (exact), X (subtree), the fixed leading directories (glob)
	depth   int    // for a pattern ending in /**: the components before it, which make the anchor
}

type matchKind uint8

const (
	exact   matchKind = iota // no wildcard: the path itself
	subtree                  // X/** with X free of wildcards: X and everything under it
	glob                     // anything else, matched with doublestar
)

func (m *matcher) match(p string) bool {
	switch m.kind {
	case exact:
		return p == m.key
	case subtree:
		return true // the bucket is p or one of its ancestors
	}
	ok, _ := doublestar.Match(m.pattern, p)
	return ok
}

// anchor is the path a person decides about when m matches p (relative
// paths start with ~ and home is prepended).
func (m *matcher) anchor(p, home string) string {
	a := p
	switch {
	case m.rule.Anchor != "":
		a = m.rule.Anchor
	case m.kind == subtree:
		a = m.key
	case m.depth > 0:
		a = firstComponents(p, m.depth)
	}
	if rest, ok := strings.CutPrefix(a, "~"); ok {
		return home + rest
	}
	return a
}

// firstComponents returns the first n components of p: ("/a/b/c", 2) is
// "/a/b", ("~/a/b", 2) is "~/a".
func firstComponents(p string, n int) string {
	seen := 0
	for i := 1; i < len(p); i++ {
		if p[i] == '/' {
			if seen++; seen == n {
				return p[:i]
			}
		}
	}
	return p
}

// compile turns rules into matchers sorted by precedence: user rules first,
// then the more specific pattern, then a rule with a context condition (it
// is the exception to the unconditional one), then file order.
func compile(rules []Rule) []*matcher {
	var ms []*matcher
	for i := range rules {
		r := &rules[i]
		for _, alt := range expandBraces(r.Pattern) {
			ms = append(ms, newMatcher(r, alt))
		}
	}
	for i, m := range ms {
		m.order, m.spec = i, specificity(m.pattern)
	}
	slices.SortFunc(ms, func(a, b *matcher) int { return precedes(a, 0, b, 0) })
	for i, m := range ms {
		m.rank = i
	}
	return ms
}

// precedes orders two matchers, a negative result meaning a wins. A home
// rule (~/...) matched inside home counts the home's length as fixed bytes
// (bonusA, bonusB), so that ~/.ssh/** beats /var/lib/*/** for a home under
// /var/lib, as /var/lib/alice/.ssh/** would.
func precedes(a *matcher, bonusA int, b *matcher, bonusB int) int {
	return cmp.Or(
		-cmp.Compare(boolInt(a.rule.User), boolInt(b.rule.User)),
		-cmp.Compare(a.spec+bonusA, b.spec+bonusB),
		-cmp.Compare(boolInt(a.rule.If != ""), boolInt(b.rule.If != "")),
		cmp.Compare(a.order, b.order),
	)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// specificity counts the fixed bytes of a pattern: wildcards count nothing.
func specificity(p string) int {
	return len(p) - strings.Count(p, "*")
}

func newMatcher(r *Rule, p string) *matcher {
	m := &matcher{rule: r, pattern: p, kind: glob}
	if x, ok := strings.CutSuffix(p, "/**"); ok {
		m.depth = len(strings.Split(strings.TrimPrefix(x, "/"), "/"))
		if !strings.Contains(x, "*") {
			m.kind, m.key = subtree, x
			if x == "" {
				m.key = "/"
			}
			return m
		}
	}
	if !strings.Contains(p, "*") {
		m.kind, m.key = exact, p
		return m
	}
	// The fixed leading directories: everything before the first component
	// with a wildcard.
	m.key = p[:strings.Index(p, "*")]
	m.key = m.key[:strings.LastIndexByte(m.key, '/')]
	if m.key == "" {
		m.key = "/"
	}
	return m
}

// expandBraces returns every alternative of a pattern's {a,b} groups.
func expandBraces(p string) []string {
	open := strings.IndexByte(p, '{')
	if open < 0 {
		return []string{p}
	}
	depth, start := 0, open+1
	var alts []string
	for i := open; i < len(p); i++ {
		switch p[i] {
		case '{':
			depth++
		case ',':
			if depth == 1 {
				alts, start = append(alts, p[start:i]), i+1
			}
		case '}':
			if depth--; depth == 0 {
				alts = append(alts, p[start:i])
				var out []string
				for _, a := range alts {
					out = append(out, expandBraces(p[:open]+a+p[i+1:])...)
				}
				return out
			}
		}
	}
	return []string{p} // unbalanced: checkPattern rejects it before
}

// index files matchers by bucket and remembers, per directory, the
// matchers of all its ancestors in precedence order.
type index struct {
	buckets map[string][]*matcher
	dirs    map[string][]*matcher
}

func newIndex(ms []*matcher) *index {
	ix := &index{buckets: map[string][]*matcher{}, dirs: map[string][]*matcher{}}
	for _, m := range ms { // ms is in precedence order, so every bucket is too
		ix.buckets[m.key] = append(ix.buckets[m.key], m)
	}
	return ix
}

// parent returns the directory of p: "/" for "/a", "~" for "~/a", "" for
// "/" and "~".
func parent(p string) string {
	i := strings.LastIndexByte(p, '/')
	switch {
	case p == "/" || p == "~":
		return ""
	case i == 0:
		return "/"
	case i < 0:
		return ""
	}
	return p[:i]
}

// inherited returns the matchers of dir and all its ancestors, in
// precedence order.
func (ix *index) inherited(dir string) []*matcher {
	if dir == "" {
		return nil
	}
	if ms, ok := ix.dirs[dir]; ok {
		return ms
	}
	up := ix.inherited(parent(dir))
	own := ix.buckets[dir]
	var ms []*matcher
	if len(own) == 0 {
		ms = up
	} else {
		ms = mergeRanked(nil, up, own, 0)
	}
	ix.dirs[dir] = ms
	return ms
}

// mergeRanked appends the union of two lists sorted by precedence to dst,
// sorted; the matchers of b get bonusB (see precedes).
func mergeRanked(dst, a, b []*matcher, bonusB int) []*matcher {
	for len(a) > 0 && len(b) > 0 {
		if precedes(a[0], 0, b[0], bonusB) < 0 {
			dst, a = append(dst, a[0]), a[1:]
		} else {
			dst, b = append(dst, b[0]), b[1:]
		}
	}
	return append(append(dst, a...), b...)
}
