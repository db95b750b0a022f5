package classify

import (
	"slices"
	"strconv"
	"strings"
)

// Category is what a changed path is, from a person's point of view.
// Categories are ordered for reports: what needs a decision first.
type Category uint8

const (
	Persist   Category = iota + 1 // state that should survive a reboot
	Unknown                       // nothing says, or a catch-all asks: a person must decide
	Persisted                     // already covered by declared persistence
	Ephemeral                     // safe to lose
	Managed                       // NixOS recreates it at every boot or activation
)

// Meaning is what a category means downstream. Consumers (rule files,
// watch, suggest, check, reports) ask their category's Meaning instead of
// naming categories, so that a category is defined in one place: the
// meanings table.
type Meaning struct {
	Name string // in rule files, reports and the JSON schemas
	// Ruled: a rule may give it. Persisted comes from declared
	// persistence only.
	Ruled bool
	// Prioritized: its verdicts have a priority (critical, recommended,
	// optional), and its rules must give one.
	Prioritized bool
	// Counted: nothing to decide about its paths, so fsdiff watch counts
	// them per anchor instead of printing each.
	Counted bool
	// Suggest is what a suggestion does with its anchors.
	Suggest Suggestion
	// Fails: fsdiff check fails on it by default, at FailsAt or a more
	// urgent priority when it is Prioritized.
	Fails   bool
	FailsAt Priority
}

// Suggestion is what a suggestion does with an anchor of a category.
type Suggestion uint8

const (
	Omit            Suggestion = iota // nothing to declare
	Declare                           // declared in the Nix it writes
	Propose                           // written commented out under its reason: a person decides
	AlreadyDeclared                   // left out, and counted as already declared
)

// meanings is the table of categories, in report order.
var meanings = [...]Meaning{
	Persist: {Name: "persist", Ruled: true, Prioritized: true, Suggest: Declare,
		// Losing it at the next boot would cost data, settings or function;
		// optional state (logs, caches many keep, histories) only costs time
		// or convenience: it is reported, not failed.
		Fails: true, FailsAt: Recommended},
	Unknown:   {Name: "unknown", Ruled: true, Suggest: Propose, Fails: true}, // a person must decide
	Persisted: {Name: "persisted", Counted: true, Suggest: AlreadyDeclared},
	Ephemeral: {Name: "ephemeral", Ruled: true, Counted: true},
	Managed:   {Name: "managed", Ruled: true, Counted: true},
}

// Meaning is what c means downstream; the zero Meaning for a category
// that does not exist.
func (c Category) Meaning() Meaning {
	if c > 0 && int(c) < len(meanings) {
		return meanings[c]
	}
	return Meaning{}
}

// Categories lists every category in report order: what needs a
// decision first.
func Categories() []Category {
	cats := make([]Category, 0, len(meanings)-1)
	for c := Category(1); int(c) < len(meanings); c++ {
		cats = append(cats, c)
	}
	return cats
}

// CategoryList names every category in report order, separated by sep
// and, before the last, by last: "persist, unknown, ... or managed".
func CategoryList(sep, last string) string {
	var b strings.Builder
	cats := Categories()
	for i, c := range cats {
		switch {
		case i == len(cats)-1 && i > 0:
			b.WriteString(last)
		case i > 0:
			b.WriteString(sep)
		}
		b.WriteString(c.String())
	}
	return b.String()
}

func (c Category) String() string {
	if int(c) < len(meanings) {
		return meanings[c].Name // "" for no category
	}
	return "category(" + strconv.Itoa(int(c)) + ")"
}

// ParseCategory is the inverse of Category.String.
func ParseCategory(s string) (Category, bool) {
	i := slices.IndexFunc(meanings[:], func(m Meaning) bool { return m.Name == s && s != "" })
	return Category(max(i, 0)), i > 0
}

// DefaultThresholds are what fsdiff check fails on by default: the
// categories whose Meaning Fails.
var DefaultThresholds = defaultThresholds()

func defaultThresholds() []Threshold {
	var ts []Threshold
	for _, c := range Categories() {
		if m := c.Meaning(); m.Fails {
			ts = append(ts, Threshold{Category: c, Priority: m.FailsAt})
		}
	}
	return ts
}
