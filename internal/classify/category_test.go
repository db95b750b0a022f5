package classify

import (
	"encoding/json"
	"os"
	"slices"
	"testing"
)

// TestCategorySchema: the check report's schema names every category of
// the meanings table, in report order, and requires a count of each.
func TestCategorySchema(t *testing.T) {
	data, err := os.ReadFile("../../docs/check-report.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var schema struct {
		Properties struct {
			Counts struct {
				Required []string `json:"required"`
			} `json:"counts"`
		} `json:"properties"`
		Defs struct {
			Category struct {
				Enum []string `json:"enum"`
			} `json:"category"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(data, &schema); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range Categories() {
		names = append(names, c.String())
	}
	if !slices.Equal(schema.Defs.Category.Enum, names) {
		t.Errorf("the schema's categories are %q, the table's %q", schema.Defs.Category.Enum, names)
	}
	if !slices.Equal(schema.Properties.Counts.Required, names) {
		t.Errorf("the schema requires counts of %q, the table has %q", schema.Properties.Counts.Required, names)
	}
}

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
