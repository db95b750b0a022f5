package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/fsdiff-nix/fsdiff/internal/change"
	"github.com/fsdiff-nix/fsdiff/internal/classify"
	"github.com/fsdiff-nix/fsdiff/internal/names"
)

// CheckSchema names the version of the check report's JSON schema
// (docs/check-report.schema.json). It changes when a field changes meaning
// or disappears, not when one is added.
const CheckSchema = "fsdiff-check/1"

// CheckReport is what fsdiff check found, for machines.
type CheckReport struct {
	Schema   string         `json:"schema"`
	Version  string         `json:"fsdiff_version"`
	Host     names.String   `json:"host"`
	Time     time.Time      `json:"time"`
	Duration float64        `json:"duration_seconds"`
	Source   CheckSource    `json:"source"`
	FailOn   []string       `json:"fail_on"`
	Passed   bool           `json:"passed"`
	Counts   map[string]int `json:"counts"` // changed paths per category, every category present
	Anchors  []CheckAnchor  `json:"anchors"`
	Errors   []string       `json:"errors"`
}

// CheckSource is what was audited and against what.
type CheckSource struct {
	Kind               string         `json:"kind"`
	Root               names.String   `json:"root"`
	Baseline           names.String   `json:"baseline"`
	BaselineGeneration uint64         `json:"baseline_generation"`
	Decisions          []names.String `json:"decisions"`
}

// sourceOf says what was audited and against what, for a JSON document.
func sourceOf(info change.Info) CheckSource {
	s := CheckSource{Kind: string(info.Source), Root: names.String(info.Root), Baseline: names.String(info.Baseline),
		BaselineGeneration: info.BaselineGeneration, Decisions: []names.String{}}
	for _, d := range info.Decisions {
		s.Decisions = append(s.Decisions, names.String(d))
	}
	return s
}

// CheckAnchor is one anchor with its verdict and what changed under it.
type CheckAnchor struct {
	Anchor   names.String `json:"anchor"`
	Category string       `json:"category"`
	Priority string       `json:"priority,omitempty"`
	Rule     string       `json:"rule"`
	Pattern  names.String `json:"pattern"`
	Reason   string       `json:"reason"`
	Source   string       `json:"source"`
	Paths    int          `json:"paths"`
	Bytes    int64        `json:"bytes"`
	Failing  bool         `json:"failing"`
}

// Failing lists the anchors that make the check fail.
func (r *CheckReport) Failing() []CheckAnchor {
	var out []CheckAnchor
	for _, a := range r.Anchors {
		if a.Failing {
			out = append(out, a)
		}
	}
	return out
}

// NewCheckReport builds the report of sorted entries; an anchor fails the
// check when one of its entries meets a threshold of failOn (a persist
// anchor holds entries of several priorities).
func NewCheckReport(entries classify.Entries, failOn []classify.Threshold, info change.Info) *CheckReport {
	r := &CheckReport{Schema: CheckSchema, Counts: map[string]int{}, Errors: []string{}, Anchors: []CheckAnchor{}, Source: sourceOf(info)}
	for _, c := range failOn {
		r.FailOn = append(r.FailOn, c.String())
	}
	for _, c := range classify.Categories() {
		r.Counts[c.String()] = 0
	}
	for i := range entries.Len() {
		e := entries.At(i)
		r.Counts[e.Category.String()]++
	}
	type key struct {
		cat    classify.Category
		anchor string
	}
	failing := map[key]bool{}
	for i, a := range classify.Anchors(entries) {
		if a == "" {
			continue
		}
		v := entries.At(i).Verdict
		for _, t := range failOn {
			if t.Fails(v) {
				failing[key{v.Category, a}] = true
			}
		}
	}
	for _, g := range classify.Group(entries) {
		a := CheckAnchor{Anchor: names.String(g.Anchor), Category: g.Category.String(), Rule: g.Rule, Pattern: names.String(g.Pattern),
			Reason: g.Reason, Source: g.Source, Paths: g.Files, Bytes: g.Size, Failing: failing[key{g.Category, g.Anchor}]}
		if g.Priority != classify.NoPriority {
			a.Priority = g.Priority.String()
		}
		r.Anchors = append(r.Anchors, a)
	}
	r.Passed = len(r.Failing()) == 0
	return r
}

// JSON writes the report as one JSON document.
func (r *CheckReport) JSON() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	err := enc.Encode(r)
	return b.Bytes(), err
}

// JUnit writes the report in the JUnit XML that CI systems show: one test
// case per failing anchor, or one passing case when nothing fails.
func (r *CheckReport) JUnit() ([]byte, error) {
	type failure struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		Text    string `xml:",chardata"`
	}
	type testcase struct {
		Name      string   `xml:"name,attr"`
		Classname string   `xml:"classname,attr"`
		Failure   *failure `xml:"failure,omitempty"`
	}
	type testsuite struct {
		XMLName   xml.Name   `xml:"testsuite"`
		Name      string     `xml:"name,attr"`
		Tests     int        `xml:"tests,attr"`
		Failures  int        `xml:"failures,attr"`
		Errors    int        `xml:"errors,attr"`
		Time      string     `xml:"time,attr"`
		Timestamp string     `xml:"timestamp,attr"`
		Hostname  string     `xml:"hostname,attr"`
		Cases     []testcase `xml:"testcase"`
	}
	s := testsuite{Name: "fsdiff check", Errors: len(r.Errors), Time: fmt.Sprintf("%.3f", r.Duration),
		Timestamp: r.Time.UTC().Format(time.RFC3339), Hostname: names.Escape(string(r.Host))}
	for _, a := range r.Failing() {
		s.Cases = append(s.Cases, testcase{Name: names.Escape(string(a.Anchor)), Classname: "fsdiff." + a.Category,
			Failure: &failure{Message: a.Reason, Type: a.Category,
				Text: fmt.Sprintf("%s is %s (%d changed paths, %d bytes): %s\nrule %s %s\nsource: %s", names.Escape(string(a.Anchor)), a.Category, a.Paths, a.Bytes, a.Reason, a.Rule, names.Escape(string(a.Pattern)), a.Source)}})
	}
	if len(s.Cases) == 0 {
		s.Cases = []testcase{{Name: "no undeclared state", Classname: "fsdiff"}}
	}
	s.Tests, s.Failures = len(s.Cases), len(r.Failing())
	b, err := xml.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), append(b, '\n')...), nil
}

// Metrics writes the report in the Prometheus text format, for the node
// exporter's textfile collector.
func (r *CheckReport) Metrics() []byte {
	var b strings.Builder
	metric := func(name, help string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name)
	}
	metric("fsdiff_paths", "Changed paths on the root, by category.")
	anchors := map[string]int{}
	for _, a := range r.Anchors {
		anchors[a.Category]++
	}
	cats := slices.Sorted(maps.Keys(r.Counts))
	for _, c := range cats {
		fmt.Fprintf(&b, "fsdiff_paths{category=%q} %d\n", c, r.Counts[c])
	}
	metric("fsdiff_anchors", "Anchors (paths a person decides about) on the root, by category.")
	for _, c := range cats {
		fmt.Fprintf(&b, "fsdiff_anchors{category=%q} %d\n", c, anchors[c])
	}
	failed := 0
	if !r.Passed {
		failed = 1
	}
	metric("fsdiff_check_failed", "1 when the last check found undeclared state, else 0.")
	fmt.Fprintf(&b, "fsdiff_check_failed %d\n", failed)
	metric("fsdiff_errors", "Errors the last check met (unreadable or vanished entries).")
	fmt.Fprintf(&b, "fsdiff_errors %d\n", len(r.Errors))
	metric("fsdiff_last_run_timestamp_seconds", "When the last check ran, in Unix time.")
	fmt.Fprintf(&b, "fsdiff_last_run_timestamp_seconds %d\n", r.Time.Unix())
	metric("fsdiff_last_run_duration_seconds", "How long the last check took.")
	fmt.Fprintf(&b, "fsdiff_last_run_duration_seconds %.3f\n", r.Duration)
	return []byte(b.String())
}
