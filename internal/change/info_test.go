package change

import (
	"encoding/json"
	"os"
	"slices"
	"testing"
)

// TestSourceSchema: the check report's schema names every source an Info
// can say, and nothing else: auto is a choice, never what compared.
func TestSourceSchema(t *testing.T) {
	data, err := os.ReadFile("../../docs/check-report.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var schema struct {
		Properties struct {
			Source struct {
				Properties struct {
					Kind struct {
						Enum []SourceName `json:"enum"`
					} `json:"kind"`
				} `json:"properties"`
			} `json:"source"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(data, &schema); err != nil {
		t.Fatal(err)
	}
	want := append(slices.DeleteFunc(slices.Clone(SourceNames), func(s SourceName) bool { return s == Auto }), SendStream)
	if got := schema.Properties.Source.Properties.Kind.Enum; !slices.Equal(got, want) {
		t.Errorf("the schema's source kinds are %q, want %q", got, want)
	}
}
