//go:build linux

package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fsdiff-nix/fsdiff/internal/imagetest"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// TestCheckExitCodes: 0 for drift NixOS manages or may lose, 1 for a new
// service's state, 2 for a bad flag; a user rule allows a path.
func TestCheckExitCodes(t *testing.T) {
	quiet := imagetest.Mount(t, imagetest.Get(t, "quiet").File)
	out, errs, code := fsdiff(t, "check", "--mount", quiet, "--root", "root", "--format", "table")
	if code != exitOK || !strings.HasPrefix(out, "no undeclared state: ") {
		t.Errorf("quiet root: exit %d\n%s%s", code, out, errs)
	}
	service := imagetest.Mount(t, imagetest.Get(t, "newservice").File)
	out, errs, code = fsdiff(t, "check", "--mount", service, "--root", "root", "--format", "table")
	if code != exitUndeclared || !strings.Contains(out, "persist   /var/lib/foo ") || !strings.Contains(out, `"/var/lib/foo"`) ||
		!strings.Contains(errs, "fsdiff: 1 anchors (1 paths) of undeclared state\n") {
		t.Errorf("new service: exit %d\n%s%s", code, out, errs)
	}
	// The snippet check prints is the one suggest prints, accepted by the real module.
	_, snippet, ok := strings.Cut(out, "To declare it (fsdiff suggest prints this with every option):\n")
	model, _, _ := fsdiff(t, "suggest", "--mount", service, "--root", "root", "--format", "json")
	if !ok || !strings.Contains(snippet, `"/var/lib/foo"`) {
		t.Errorf("no snippet:\n%s", out)
	}
	checkModule(t, "impermanence", snippet, model)
	allow := writeFile(t, "allow.rules", "ephemeral /var/lib/foo/** - a cache that happens to live in /var/lib\n")
	if _, errs, code := fsdiff(t, "check", "--mount", service, "--root", "root", "--rules", allow); code != exitOK {
		t.Errorf("allowed by a user rule: exit %d\n%s", code, errs)
	}
	if _, errs, code := fsdiff(t, "check", "--mount", service, "--root", "root", "--fail-on", "unknown"); code != exitOK {
		t.Errorf("--fail-on unknown: exit %d\n%s", code, errs)
	}
	for _, bad := range [][]string{{"--fail-on", "sometimes"}, {"--fail-on", "persist:sometimes"}, {"--fail-on", "unknown:critical"}, {"--format", "yaml"}, {"--bogus"}} {
		if _, errs, code := fsdiff(t, append([]string{"check", "--mount", service, "--root", "root"}, bad...)...); code != exitError {
			t.Errorf("check %q: exit %d\n%s", bad, code, errs)
		}
	}
}

// TestCheckTSVOffTerminal: into a pipe or file, check prints the failing
// anchors as TSV, as the audit does, and nothing when none fails.
func TestCheckTSVOffTerminal(t *testing.T) {
	service := imagetest.Mount(t, imagetest.Get(t, "newservice").File)
	out, errs, code := fsdiff(t, "check", "--mount", service, "--root", "root")
	if code != exitUndeclared || !strings.HasPrefix(out, "persist\t/var/lib/foo\t1\t") || strings.Count(out, "\n") != 1 || strings.Contains(out, "CATEGORY") {
		t.Errorf("exit %d, stdout %q\n%s", code, out, errs)
	}
	quiet := imagetest.Mount(t, imagetest.Get(t, "quiet").File)
	if out, errs, code := fsdiff(t, "check", "--mount", quiet, "--root", "root"); code != exitOK || out != "" {
		t.Errorf("quiet root: exit %d, stdout %q\n%s", code, out, errs)
	}
}

// TestCheckQuietRoot: a root that holds only what NixOS recreates
// (/etc/.clean, /etc/passwd, stamps, leases, caches, what tmpfiles creates,
// the empty homes activation creates, an empty /root) passes with the
// default thresholds. With every priority of persist failing, only the
// cache many configurations keep fails: persist, optional, to save time.
func TestCheckQuietRoot(t *testing.T) {
	quiet := imagetest.Mount(t, imagetest.Get(t, "quiet").File)
	out, errs, code := fsdiff(t, "check", "--mount", quiet, "--root", "root", "--format", "json")
	if code != exitOK {
		t.Errorf("default thresholds: exit %d\n%s%s", code, out, errs)
	}
	for _, want := range []string{`"anchor": "/root",`, `"anchor": "/home/bob",`, `"anchor": "/etc/passwd",`, `"anchor": "/home/alice/.cache",`, `"anchor": "/var/lib/machines",`} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %s:\n%s", want, out)
		}
	}
	out, errs, code = fsdiff(t, "check", "--mount", quiet, "--root", "root", "--fail-on", "persist,unknown", "--format", "json")
	var r struct {
		Anchors []struct {
			Anchor, Priority, Reason string
			Failing                  bool
		}
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v\n%s", err, errs)
	}
	var failing []string
	for _, a := range r.Anchors {
		if a.Failing {
			failing = append(failing, a.Anchor)
			if a.Priority != "optional" || !strings.Contains(a.Reason, "only saves time") {
				t.Errorf("%s fails: %s, %s", a.Anchor, a.Priority, a.Reason)
			}
		}
	}
	if code != exitUndeclared || !slices.Equal(failing, []string{"/home/alice/.cache/fontconfig"}) {
		t.Errorf("--fail-on persist,unknown: exit %d, failing %q", code, failing)
	}
}

// TestCheckPriorityThresholds: persist:PRIORITY fails on persist state at
// that priority or above; the default fails on recommended, not optional.
func TestCheckPriorityThresholds(t *testing.T) {
	service := imagetest.Mount(t, imagetest.Get(t, "newservice").File) // /var/lib/foo: persist, recommended
	for failOn, want := range map[string]int{"persist:critical": exitOK, "persist:recommended": exitUndeclared, "persist:optional": exitUndeclared, "persist": exitUndeclared} {
		if _, errs, code := fsdiff(t, "check", "--mount", service, "--root", "root", "--fail-on", failOn); code != want {
			t.Errorf("--fail-on %s: exit %d, want %d\n%s", failOn, code, want, errs)
		}
	}
	optional := writeFile(t, "optional.rules", "persist /var/lib/foo/** optional only a convenience\n")
	if _, errs, code := fsdiff(t, "check", "--mount", service, "--root", "root", "--rules", optional); code != exitOK {
		t.Errorf("optional state with the default thresholds: exit %d\n%s", code, errs)
	}
	if _, errs, code := fsdiff(t, "check", "--mount", service, "--root", "root", "--rules", optional, "--fail-on", "persist:optional"); code != exitUndeclared {
		t.Errorf("optional state with persist:optional: exit %d\n%s", code, errs)
	}
}

// TestCheckReports: the JSON report validates against the committed
// schema; the JUnit and metrics files parse with real parsers.
func TestCheckReports(t *testing.T) {
	top := imagetest.Mount(t, imagetest.Get(t, "blank").File)
	dir := t.TempDir()
	junit, metrics := filepath.Join(dir, "report.xml"), filepath.Join(dir, "fsdiff.prom")
	out, errs, code := fsdiff(t, "check", "--mount", top, "--root", "root", "--format", "json", "--junit", junit, "--metrics", metrics)
	if code != exitUndeclared {
		t.Fatalf("exit %d\n%s", code, errs)
	}

	validate(t, "check-report.schema.json", out)
	var r struct {
		Passed  bool           `json:"passed"`
		Counts  map[string]int `json:"counts"`
		Anchors []struct {
			Anchor   string `json:"anchor"`
			Category string `json:"category"`
			Failing  bool   `json:"failing"`
		} `json:"anchors"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	failing := 0
	for _, a := range r.Anchors {
		if a.Failing {
			failing++
		}
	}
	if r.Passed || r.Counts["persist"] == 0 || failing == 0 {
		t.Errorf("report: passed %v, counts %v, %d failing anchors", r.Passed, r.Counts, failing)
	}

	data, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	var suite struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Cases    []struct {
			Name    string `xml:"name,attr"`
			Failure *struct {
				Message string `xml:"message,attr"`
			} `xml:"failure"`
		} `xml:"testcase"`
	}
	if err := xml.Unmarshal(data, &suite); err != nil {
		t.Fatalf("JUnit report: %v\n%s", err, data)
	}
	if suite.Failures != failing || suite.Tests != failing || len(suite.Cases) != failing || suite.Cases[0].Failure == nil {
		t.Errorf("JUnit: %d tests, %d failures, want %d\n%s", suite.Tests, suite.Failures, failing, data)
	}

	data, err = os.ReadFile(metrics)
	if err != nil {
		t.Fatal(err)
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("metrics: %v\n%s", err, data)
	}
	paths := map[string]float64{}
	for _, m := range families["fsdiff_paths"].GetMetric() {
		paths[m.GetLabel()[0].GetValue()] = m.GetGauge().GetValue()
	}
	for cat, n := range r.Counts {
		if paths[cat] != float64(n) {
			t.Errorf("fsdiff_paths{category=%q} = %v, want %d", cat, paths[cat], n)
		}
	}
	for _, name := range []string{"fsdiff_check_failed", "fsdiff_errors", "fsdiff_last_run_timestamp_seconds", "fsdiff_last_run_duration_seconds", "fsdiff_anchors"} {
		if families[name] == nil {
			t.Errorf("metrics lack %s", name)
		}
	}
	if families["fsdiff_check_failed"].GetMetric()[0].GetGauge().GetValue() != 1 {
		t.Errorf("fsdiff_check_failed is not 1")
	}
}
