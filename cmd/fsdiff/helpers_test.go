package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fsdiff-nix/fsdiff/internal/names"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// fsdiff runs the command in-process.
func fsdiff(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), code
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// record is an NDJSON line with its names decoded byte for byte.
type record struct {
	Path, Kind, Type, Target, Category, Anchor string
}

func parseNDJSON(t *testing.T, out string) []record {
	t.Helper()
	var recs []record
	for line := range strings.SplitSeq(strings.TrimSuffix(out, "\n"), "\n") {
		var raw map[string]json.RawMessage
		if err := json.Unmarshal([]byte(line), &raw); err != nil {
			t.Fatalf("invalid NDJSON line %q: %v", line, err)
		}
		var r record
		for key, dst := range map[string]*string{"path": &r.Path, "kind": &r.Kind, "type": &r.Type, "target": &r.Target, "category": &r.Category, "anchor": &r.Anchor} {
			if lit, ok := raw[key]; ok {
				v, err := names.DecodeJSON(string(lit))
				if err != nil {
					t.Fatalf("%s %s: %v", key, lit, err)
				}
				*dst = v
			}
		}
		recs = append(recs, r)
	}
	return recs
}

// validate checks out against a committed schema: loc is a file in docs/,
// with a fragment for a part of it ("audit.schema.json#/$defs/record").
// With lines, each line of out is a document (NDJSON). Formats such as
// date-time are asserted, not only annotations.
func validate(t *testing.T, loc, out string, lines bool) {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	schema, err := c.Compile(filepath.Join("..", "..", "docs", loc))
	if err != nil {
		t.Fatal(err)
	}
	docs := []string{out}
	if lines {
		docs = strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	}
	for _, d := range docs {
		v, err := jsonschema.UnmarshalJSON(strings.NewReader(d))
		if err != nil {
			t.Fatalf("not JSON: %v\n%s", err, d)
		}
		if err := schema.Validate(v); err != nil {
			t.Errorf("does not validate against docs/%s: %v\n%.2000s", loc, err, d)
		}
	}
}
