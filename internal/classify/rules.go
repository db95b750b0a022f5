package classify

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Priority says how much a persist verdict matters.
type Priority uint8

const (
	NoPriority  Priority = iota // not a persist verdict
	Critical                    // losing it breaks identity, security or data
	Recommended                 // losing it costs real work or state
	Optional                    // comfort, history, debugging
)

var priorityNames = [...]string{"-", "critical", "recommended", "optional"}

func (p Priority) String() string {
	if int(p) < len(priorityNames) {
		return priorityNames[p]
	}
	return "priority(" + strconv.Itoa(int(p)) + ")"
}

// ParsePriority is the inverse of Priority.String for the priorities of
// persist verdicts: critical, recommended, optional.
func ParsePriority(s string) (Priority, bool) {
	i := slices.Index(priorityNames[:], s)
	return Priority(max(i, 0)), i > 0
}

// Rule is one line of a rule file:
//
//	CATEGORY PATTERN PRIORITY [if=CONTEXT] [anchor=PATH] REASON [-- SOURCE]
//
// for example
//
//	persist  /var/lib/nixos/**  critical  uid/gid maps; losing them renumbers users  -- nixpkgs update-users-groups.pl
//
// PATTERN may be double-quoted, with Go escapes, to hold spaces.
type Rule struct {
	ID       string // FILE:LINE
	Category Category
	Pattern  string
	Priority Priority
	If       string // context that must be set for the rule to apply; empty: always
	Anchor   string // the path a person decides about, when it is not the pattern's fixed part
	Reason   string
	Source   string
	User     bool // from a user's rule file: beats every built-in rule
}

// Contexts are the rule contexts fsdiff knows: settings of the host's
// configuration that make paths state (README, "Rules").
var Contexts = []string{"mutable-users", "imperative-timezone"}

// Limits that keep a hostile rule file from costing unbounded time or
// memory: braces multiply alternatives, and each becomes a matcher.
const (
	MaxRuleFileSize = 1 << 20 // bytes of one rule file; the built-in one has under 50 KB
	MaxAlternatives = 256     // alternatives of one pattern's braces; the built-in rules use at most 10
	MaxBraceGroups  = 16      // {a,b} groups of one pattern, nested ones included
	MaxPatternLen   = 4096    // bytes of one pattern: PATH_MAX
	// MaxExpanded bounds the work and memory of expanding the patterns of
	// one file: each alternative costs its pattern's length once per
	// group (expandBraces builds it group by group) plus matcherCost.
	MaxExpanded = 16 << 20
	matcherCost = 64
)

// ErrTooLarge says that an input is larger than fsdiff reads.
var ErrTooLarge = errors.New("too large")

// RuleError is a mistake in a rule file, at a 1-based line and column.
type RuleError struct {
	File      string
	Line, Col int
	Msg       string
}

func (e *RuleError) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

// ParseRules parses a rule file. Blank lines and lines starting with # are
// ignored. It refuses a file over MaxRuleFileSize (a caller reads at most
// one byte more), a pattern with more than MaxAlternatives alternatives,
// and patterns that together expand to more than MaxExpanded.
func ParseRules(file string, data []byte, user bool) ([]Rule, error) {
	if len(data) > MaxRuleFileSize {
		return nil, fmt.Errorf("%s: %w: a rule file may have at most %d bytes", file, ErrTooLarge, MaxRuleFileSize)
	}
	var rules []Rule
	expanded := 0
	for i, line := range strings.Split(string(data), "\n") {
		r, alts, err := parseRule(line)
		if r != nil {
			groups := strings.Count(r.Pattern, "{")
			if expanded += alts * ((groups+1)*len(r.Pattern) + matcherCost); expanded > MaxExpanded {
				err = &RuleError{Col: 1, Msg: fmt.Sprintf("the patterns up to this line expand to more than %d MiB: write fewer alternatives", MaxExpanded>>20)}
			}
		}
		if err != nil {
			err.File, err.Line = file, i+1
			return nil, err
		}
		if r != nil {
			r.ID, r.User = fmt.Sprintf("%s:%d", file, i+1), user
			if r.Source == "" && user {
				r.Source = r.ID
			}
			rules = append(rules, *r)
		}
	}
	return rules, nil
}

// lineScanner splits a rule line into fields, remembering columns.
type lineScanner struct {
	line string
	pos  int
}

func (s *lineScanner) skipSpace() {
	for s.pos < len(s.line) && (s.line[s.pos] == ' ' || s.line[s.pos] == '\t') {
		s.pos++
	}
}

// field returns the next whitespace-separated field and its 1-based column.
func (s *lineScanner) field() (string, int) {
	s.skipSpace()
	start := s.pos
	for s.pos < len(s.line) && s.line[s.pos] != ' ' && s.line[s.pos] != '\t' {
		s.pos++
	}
	return s.line[start:s.pos], start + 1
}

// parseRule parses one line; alts is the number of alternatives of its
// pattern.
func parseRule(line string) (_ *Rule, alts int, _ *RuleError) {
	line = strings.TrimRight(line, "\r")
	s := &lineScanner{line: line}
	s.skipSpace()
	if s.pos == len(line) || line[s.pos] == '#' {
		return nil, 0, nil
	}
	bad := func(col int, format string, args ...any) *RuleError {
		return &RuleError{Col: col, Msg: fmt.Sprintf(format, args...)}
	}
	var r Rule
	word, col := s.field()
	var ok bool
	if r.Category, ok = ParseCategory(word); !ok || !r.Category.Meaning().Ruled {
		return nil, 0, bad(col, "unknown category %q: want persist, ephemeral, managed or unknown", word)
	}

	s.skipSpace()
	col = s.pos + 1
	if s.pos < len(line) && line[s.pos] == '"' {
		end := s.pos + 1
		for end < len(line) && line[end] != '"' {
			if line[end] == '\\' {
				end++
			}
			end++
		}
		if end >= len(line) {
			return nil, 0, bad(col, "unterminated quoted pattern")
		}
		p, err := strconv.Unquote(line[s.pos : end+1])
		if err != nil {
			return nil, 0, bad(col, "bad quoted pattern: %v", err)
		}
		r.Pattern, s.pos = p, end+1
	} else {
		r.Pattern, col = s.field()
	}
	if r.Pattern == "" {
		return nil, 0, bad(col, "missing pattern")
	}
	alts, err := checkPattern(r.Pattern)
	if err != nil {
		return nil, 0, bad(col, "pattern %q: %v", r.Pattern, err)
	}

	word, col = s.field()
	if word == "" {
		return nil, 0, bad(col, "missing priority: critical, recommended, optional, or - for other categories")
	}
	i := slices.Index(priorityNames[:], word)
	if i < 0 {
		return nil, 0, bad(col, "unknown priority %q: want critical, recommended, optional or -", word)
	}
	r.Priority = Priority(i)
	if prioritized := r.Category.Meaning().Prioritized; prioritized != (r.Priority != NoPriority) {
		if prioritized {
			return nil, 0, bad(col, "a persist rule needs a priority: critical, recommended or optional")
		}
		return nil, 0, bad(col, "only persist rules have a priority; use -")
	}

	for {
		save := s.pos
		word, col = s.field()
		if v, ok := strings.CutPrefix(word, "if="); ok {
			if v == "" {
				return nil, 0, bad(col, "if= needs a context name")
			}
			if !slices.Contains(Contexts, v) {
				return nil, 0, bad(col, "unknown context %q: want %s", v, strings.Join(Contexts, " or "))
			}
			r.If = v
		} else if v, ok := strings.CutPrefix(word, "anchor="); ok {
			if !strings.HasPrefix(v, "/") && !strings.HasPrefix(v, "~/") {
				return nil, 0, bad(col, "anchor %q: want an absolute path or ~/path", v)
			}
			if err := checkAnchor(v, r.Pattern); err != nil {
				return nil, 0, bad(col, "anchor %q: %v", v, err)
			}
			r.Anchor = v
		} else {
			s.pos = save
			break
		}
	}

	s.skipSpace()
	rest := line[s.pos:]
	reason, source, _ := strings.Cut(rest, " -- ")
	r.Reason, r.Source = strings.TrimSpace(reason), strings.TrimSpace(source)
	if strings.HasPrefix(r.Reason, "--") {
		r.Reason, r.Source = "", strings.TrimSpace(strings.TrimPrefix(r.Reason, "--"))
	}
	if r.Reason == "" {
		return nil, 0, bad(s.pos+1, "missing reason: say why, for the people who read fsdiff's output")
	}
	return &r, alts, nil
}

// checkPattern rejects patterns the matcher would misread, or that would
// cost too much, and returns the number of alternatives of its braces.
func checkPattern(p string) (int, error) {
	if p != "~" && !strings.HasPrefix(p, "/") && !strings.HasPrefix(p, "~/") {
		return 0, fmt.Errorf("want an absolute pattern, ~ (a home directory itself) or one starting with ~/")
	}
	if len(p) > MaxPatternLen {
		return 0, fmt.Errorf("longer than %d bytes", MaxPatternLen)
	}
	if strings.Count(p, "{") > MaxBraceGroups {
		return 0, fmt.Errorf("more than %d {a,b} groups", MaxBraceGroups)
	}
	depth := 0
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '{':
			depth++
		case '}':
			if depth == 0 {
				return 0, fmt.Errorf("unbalanced }")
			}
			depth--
		case '[', '?', '\\':
			return 0, fmt.Errorf("%q is not supported: use *, ** and {a,b}", p[i])
		}
	}
	if depth != 0 {
		return 0, fmt.Errorf("unbalanced {")
	}
	for _, comp := range strings.Split(p, "/") {
		if strings.Contains(comp, "**") && comp != "**" {
			return 0, fmt.Errorf("** must be a whole path component")
		}
	}
	n, _ := countAlternatives(p, 0)
	if n > MaxAlternatives {
		return 0, fmt.Errorf("more than %d alternatives: write fewer {a,b} groups, or several rules", MaxAlternatives)
	}
	return n, nil
}

// countAlternatives counts the alternatives of the sequence that starts at
// p[i] and ends at a , or } of its group or at the end, without expanding
// them: a product of groups, each the sum of its sequences. Counts stop
// growing past MaxAlternatives, so that they cannot overflow. It returns
// where the sequence ends.
func countAlternatives(p string, i int) (n, end int) {
	n = 1
	for i < len(p) {
		switch p[i] {
		case ',', '}':
			return n, i
		case '{':
			sum := 0
			for p[i] != '}' { // balanced: checkPattern saw to it
				var m int
				m, i = countAlternatives(p, i+1)
				sum = min(sum+m, MaxAlternatives+1)
			}
			n = min(n*sum, MaxAlternatives+1)
		}
		i++
	}
	return n, i
}

// checkAnchor says whether anchor is a fixed leading part of every
// alternative of pattern, ending at a component boundary: the anchor of a
// verdict is an ancestor of the path it is about, or that path.
func checkAnchor(anchor, pattern string) error {
	if strings.ContainsAny(anchor, "*{},") {
		return fmt.Errorf("an anchor is a path, without wildcards or braces")
	}
	for _, alt := range expandBraces(pattern) {
		if rest, ok := strings.CutPrefix(alt, anchor); !ok || rest != "" && rest[0] != '/' {
			return fmt.Errorf("not a leading part of the pattern (%q): want a directory the pattern is under", alt)
		}
	}
	return nil
}
