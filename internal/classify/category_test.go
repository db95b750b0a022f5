package classify

import (
	"slices"
	"testing"
)

// TestCategoryMeanings: every category has a name that parses back, and
// the meanings agree with each other.
func TestCategoryMeanings(t *testing.T) {
	for _, c := range Categories() {
		m := c.Meaning()
		if got, ok := ParseCategory(m.Name); !ok || got != c {
			t.Errorf("%d: ParseCategory(%q) = %v, %v", c, m.Name, got, ok)
		}
		if m.FailsAt != NoPriority && !m.Prioritized {
			t.Errorf("%s fails at a priority but has none", c)
		}
		if m.Counted && (m.Suggest == Declare || m.Suggest == Propose || m.Fails) {
			t.Errorf("%s is counted away by watch but needs a decision", c)
		}
	}
	if _, ok := ParseCategory(""); ok {
		t.Error("the empty name parses")
	}
	if got := CategoryList(", ", " or "); got != "persist, unknown, persisted, ephemeral or managed" {
		t.Errorf("CategoryList = %q", got)
	}
	if want := []Threshold{{Persist, Recommended}, {Unknown, NoPriority}}; !slices.Equal(DefaultThresholds, want) {
		t.Errorf("DefaultThresholds = %v, want %v", DefaultThresholds, want)
	}
}

// TestThresholds: Thresholds lists what ParseThreshold reads (what shells
// complete after --fail-on), each once, and it parses back.
func TestThresholds(t *testing.T) {
	var got []string
	for _, th := range Thresholds() {
		back, err := ParseThreshold(th.String())
		if err != nil || back != th {
			t.Errorf("ParseThreshold(%q) = %v, %v", th, back, err)
		}
		got = append(got, th.String())
	}
	want := []string{"persist", "persist:critical", "persist:recommended", "persist:optional", "unknown", "persisted", "ephemeral", "managed"}
	if !slices.Equal(got, want) {
		t.Errorf("Thresholds() = %q, want %q", got, want)
	}
}
