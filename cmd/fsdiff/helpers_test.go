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

// validate checks a JSON document against a committed schema: a file of
// docs/, optionally with a fragment naming one of its definitions
// ("diff.schema.json#/$defs/difference").
func validate(t *testing.T, schema, doc string) {
	t.Helper()
	sch, err := jsonschema.NewCompiler().Compile("../../docs/" + schema)
	if err != nil {
		t.Fatal(err)
	}
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(v); err != nil {
		t.Errorf("does not validate against docs/%s: %v\n%s", schema, err, doc)
	}
}
