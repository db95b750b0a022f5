package classify

import (
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
// ignored.
func ParseRules(file string, data []byte, user bool) ([]Rule, error) {
	var rules []Rule
	for i, line := range strings.Split(string(data), "\n") {
		r, err := parseRule(line)
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

func parseRule(line string) (*Rule, *RuleError) {
	line = strings.TrimRight(line, "\r")
	s := &lineScanner{line: line}
	s.skipSpace()
	if s.pos == len(line) || line[s.pos] == '#' {
		return nil, nil
	}
	bad := func(col int, format string, args ...any) *RuleError {
		return &RuleError{Col: col, Msg: fmt.Sprintf(format, args...)}
	}
	var r Rule
	word, col := s.field()
	var ok bool
	if r.Category, ok = ParseCategory(word); !ok || r.Category == Persisted {
		return nil, bad(col, "unknown category %q: want persist, ephemeral, managed or unknown", word)
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
			return nil, bad(col, "unterminated quoted pattern")
		}
		p, err := strconv.Unquote(line[s.pos : end+1])
		if err != nil {
			return nil, bad(col, "bad quoted pattern: %v", err)
		}
		r.Pattern, s.pos = p, end+1
	} else {
		r.Pattern, col = s.field()
	}
	if r.Pattern == "" {
		return nil, bad(col, "missing pattern")
	}
	if err := checkPattern(r.Pattern); err != nil {
		return nil, bad(col, "pattern %q: %v", r.Pattern, err)
	}

	word, col = s.field()
	if word == "" {
		return nil, bad(col, "missing priority: critical, recommended, optional, or - for other categories")
	}
	i := slices.Index(priorityNames[:], word)
	if i < 0 {
		return nil, bad(col, "unknown priority %q: want critical, recommended, optional or -", word)
	}
	r.Priority = Priority(i)
	if (r.Category == Persist) != (r.Priority != NoPriority) {
		if r.Category == Persist {
			return nil, bad(col, "a persist rule needs a priority: critical, recommended or optional")
		}
		return nil, bad(col, "only persist rules have a priority; use -")
	}

	for {
		save := s.pos
		word, col = s.field()
		if v, ok := strings.CutPrefix(word, "if="); ok {
			if v == "" {
				return nil, bad(col, "if= needs a context name")
			}
			r.If = v
		} else if v, ok := strings.CutPrefix(word, "anchor="); ok {
			if !strings.HasPrefix(v, "/") && !strings.HasPrefix(v, "~/") {
				return nil, bad(col, "anchor %q: want an absolute path or ~/path", v)
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
		return nil, bad(s.pos+1, "missing reason: say why, for the people who read fsdiff's output")
	}
	return &r, nil
}

// checkPattern rejects patterns the matcher would misread.
func checkPattern(p string) error {
	if p != "~" && !strings.HasPrefix(p, "/") && !strings.HasPrefix(p, "~/") {
		return fmt.Errorf("want an absolute pattern, ~ (a home directory itself) or one starting with ~/")
	}
	depth := 0
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '{':
			depth++
		case '}':
			if depth == 0 {
				return fmt.Errorf("unbalanced }")
			}
			depth--
		case '[', '?', '\\':
			return fmt.Errorf("%q is not supported: use *, ** and {a,b}", p[i])
		}
	}
	if depth != 0 {
		return fmt.Errorf("unbalanced {")
	}
	for _, comp := range strings.Split(p, "/") {
		if strings.Contains(comp, "**") && comp != "**" {
			return fmt.Errorf("** must be a whole path component")
		}
	}
	return nil
}
