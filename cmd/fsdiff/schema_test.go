//go:build linux

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fsdiff-nix/fsdiff/internal/change"
	"github.com/fsdiff-nix/fsdiff/internal/classify"
	"github.com/fsdiff-nix/fsdiff/internal/report"
	"golang.org/x/sys/unix"
)

// TestSchemaEnums: the enumerations and versions of every committed
// schema are the code's own: categories, priorities, kinds, types, sources
// (auto is a choice, never what compared) and contexts from their tables,
// and each output's version constant. The check report counts every
// category.
func TestSchemaEnums(t *testing.T) {
	var cats, ruled, prios, kinds, types []string
	for _, c := range classify.Categories() {
		cats = append(cats, c.String())
		if c.Meaning().Ruled {
			ruled = append(ruled, c.String())
		}
	}
	for p := classify.Critical; !strings.HasPrefix(p.String(), "priority("); p++ {
		prios = append(prios, p.String())
	}
	for k := change.Kind(1); !strings.HasPrefix(k.String(), "kind("); k++ {
		kinds = append(kinds, k.String())
	}
	types = []string{""} // where a saved send stream does not say
	for ty := change.Type(1); !strings.HasPrefix(ty.String(), "type("); ty++ {
		types = append(types, ty.String())
	}
	var sources []string
	for _, s := range append(slices.Clone(change.SourceNames), change.SendStream) {
		if s != change.Auto { // chosen, never reported
			sources = append(sources, string(s))
		}
	}
	want := map[string][]string{"category": cats, "ruledCategory": ruled, "priority": prios, "kind": kinds, "type": types, "sourceKind": sources, "context": classify.Contexts}

	type schema struct {
		Properties struct {
			Schema struct {
				Const string `json:"const"`
			} `json:"schema"`
		} `json:"properties"`
		OneOf []struct {
			Properties struct {
				Schema struct {
					Const string `json:"const"`
				} `json:"schema"`
			} `json:"properties"`
		} `json:"oneOf"`
		Defs map[string]struct {
			Enum       []string `json:"enum"`
			Properties struct {
				Schema struct {
					Const string `json:"const"`
				} `json:"schema"`
			} `json:"properties"`
		} `json:"$defs"`
	}
	versions := map[string][]string{
		"audit.schema.json":        {report.AuditSchema, report.ChangeSchema},
		"check-report.schema.json": {report.CheckSchema},
		"suggest.schema.json":      {suggestSchema},
		"rules.schema.json":        {rulesSchema},
		"watch.schema.json":        {watchSchema},
		"diff.schema.json":         {report.DiffSchema, report.DiffRecordSchema},
	}
	files, err := filepath.Glob("../../docs/*.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var s schema
		if err := json.Unmarshal(data, &s); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		name := filepath.Base(f)
		for def, values := range want {
			if d, ok := s.Defs[def]; ok {
				seen[def] = true
				if !slices.Equal(d.Enum, values) {
					t.Errorf("%s: $defs/%s is %q, the code's table %q", name, def, d.Enum, values)
				}
			}
		}
		got := []string{}
		if v := s.Properties.Schema.Const; v != "" {
			got = append(got, v)
		}
		if v := s.Defs["record"].Properties.Schema.Const; v != "" {
			got = append(got, v)
		}
		for _, o := range s.OneOf {
			if v := o.Properties.Schema.Const; v != "" && !slices.Contains(got, v) {
				got = append(got, v)
			}
		}
		if v, ok := versions[name]; !ok {
			t.Errorf("%s: no output of fsdiff has this schema", name)
		} else if !slices.Equal(got, v) {
			t.Errorf("%s: versions %q, the code's %q", name, got, v)
		}
		delete(versions, name)
	}
	for name := range versions {
		t.Errorf("docs/%s is missing", name)
	}
	var check struct {
		Properties struct {
			Counts struct {
				Required []string `json:"required"`
			} `json:"counts"`
		} `json:"properties"`
	}
	data, err := os.ReadFile("../../docs/check-report.schema.json")
	if err == nil {
		err = json.Unmarshal(data, &check)
	}
	if err != nil {
		t.Fatal(err)
	}
	if got := check.Properties.Counts.Required; !slices.Equal(got, cats) {
		t.Errorf("check-report.schema.json requires counts of %q, the table has %q", got, cats)
	}
	for def := range want {
		if !seen[def] {
			t.Errorf("no schema has $defs/%s", def)
		}
	}
}

// oddTree makes a root and an empty baseline for the walk, whose names no
// text format holds as they are: a newline, bytes that are not UTF-8, a
// quote and ${, next to a symlink, a fifo and a service's state.
func oddTree(t *testing.T) (root, base string) {
	t.Helper()
	dir := t.TempDir()
	root, base = filepath.Join(dir, "root"), filepath.Join(dir, "base")
	for _, d := range []string{base, root + "/var/lib/app", root + "/odd", root + "/home/alice/.cache"} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"/etc-machine-id", "/var/lib/app/state.db", "/odd/new\nline", "/odd/\xff\xfe", "/odd/quote\"${x}", "/home/alice/.cache/c"} {
		if err := os.WriteFile(root+f, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("state.db", root+"/var/lib/app/current"); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/nix/store/\xff", root+"/odd/link\xfe"); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mkfifo(root+"/var/lib/app/fifo", 0o600); err != nil {
		t.Fatal(err)
	}
	return root, base
}

// TestOutputsValidate: every JSON output of fsdiff, run over the committed
// send streams and over a walk of odd names, validates against its
// committed schema: the audit's document and NDJSON records, the check
// report, suggest's model, the rule table.
func TestOutputsValidate(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	streams, err := filepath.Glob("../../internal/snapshot/testdata/send/*.stream")
	if err != nil || len(streams) == 0 {
		t.Fatalf("no committed streams: %v", err)
	}
	root, base := oddTree(t)
	odd := writeFile(t, "odd.rules", "persist /odd/* recommended odd names, each its own anchor -- test\n"+
		`persist "/srv/\xff\n/**" optional a pattern that is not UTF-8 -- test`+"\n"+
		"unknown /etc/fsdiff-test - if=mutable-users anchor=/etc edited by hand -- test\n")
	targets := [][]string{{"--source", "walk", "--root", root, "--baseline", base}, {"--source", "walk", "--root", root, "--baseline", "none"}}
	for _, s := range streams {
		targets = append(targets, []string{"--send-stream", s})
	}
	for _, target := range targets {
		for _, rules := range [][]string{nil, {"--rules", odd}} {
			args := append(slices.Clone(target), rules...)
			run := func(cmd ...string) string {
				t.Helper()
				out, errs, code := fsdiff(t, append(cmd, args...)...)
				if code != exitOK && code != exitUndeclared {
					t.Fatalf("%q %q: exit %d\n%s", cmd, args, code, errs)
				}
				return out
			}
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				validate(t, "audit.schema.json", run("--format", "json"), false)
				validate(t, "audit.schema.json#/$defs/record", run("--format", "ndjson"), true)
				validate(t, "check-report.schema.json", run("check", "--format", "json"), false)
				validate(t, "check-report.schema.json", run("check", "--format", "json", "--fail-on", "managed"), false)
				validate(t, "suggest.schema.json", run("suggest", "--format", "json"), false)
			})
		}
	}
	out, errs, code := fsdiff(t, "rules", "--format", "json", "--rules", odd)
	if code != exitOK {
		t.Fatalf("rules: exit %d\n%s", code, errs)
	}
	validate(t, "rules.schema.json", out, false)
	if !strings.Contains(out, `"pattern": "/srv/\udcff\n/**"`) {
		t.Errorf("rules --format json lacks the pattern that is not UTF-8, escaped:\n%.500s", out)
	}
}

// TestWatchNDJSONValidates: the records watch prints as paths appear, odd
// names included, validate against docs/watch.schema.json: paths of state,
// and the counts of a cache's paths.
func TestWatchNDJSONValidates(t *testing.T) {
	dir := t.TempDir()
	rules := writeFile(t, "watch.rules", `persist "`+dir+`/var/lib/app/**" recommended state -- test`+"\n"+`ephemeral "`+dir+`/cache/**" - a cache -- test`+"\n")
	go func() {
		time.Sleep(500 * time.Millisecond)
		os.MkdirAll(filepath.Join(dir, "var/lib/app"), 0o755)
		for _, f := range []string{"state.db", "new\nline", "\xff\xfe"} {
			os.WriteFile(filepath.Join(dir, "var/lib/app", f), []byte("x"), 0o600)
		}
		os.MkdirAll(filepath.Join(dir, "cache"), 0o755)
		for i := range 20 {
			os.WriteFile(filepath.Join(dir, "cache", strings.Repeat("x", i+1)), nil, 0o644)
		}
	}()
	out, errs, code := fsdiff(t, "watch", dir, "--for", "2s", "--rules", rules, "--format", "ndjson")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	validate(t, "watch.schema.json", out, true)
	for _, want := range []string{`"event":"path","path":"` + dir + `/var/lib/app/\udcff\udcfe"`, `"event":"path","path":"` + dir + `/var/lib/app/new\nline"`, `"event":"count","anchor":"` + dir + `/cache"`} {
		if !strings.Contains(out, want) {
			t.Errorf("no record %s:\n%s", want, out)
		}
	}
}
