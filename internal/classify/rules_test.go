package classify

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/fsdiff-nix/fsdiff/internal/change"
)

// TestRuleFileHostile: the hostile rule files of testdata/rules are
// refused at their line and column, with a message naming the limit or
// the mistake, and quickly (the brace bomb was OOM-killed after 16 s at
// 1.1 GB).
func TestRuleFileHostile(t *testing.T) {
	for _, tc := range []struct{ file, want string }{
		{"brace-bomb.rules", ":2:9: pattern \"/{a,b}{a,b}"},
		{"brace-bomb.rules", "more than 16 {a,b} groups"},
		{"wide-braces.rules", ":2:9: pattern \"/{a0,a1,"},
		{"wide-braces.rules", "more than 256 alternatives"},
		{"nested-braces.rules", ":2:9: pattern \"/{a,{a,"},
		{"nested-braces.rules", "longer than 4096 bytes"},
		{"deep-braces.rules", ":2:9: pattern \"/{{{"},
		{"deep-braces.rules", "more than 16 {a,b} groups"},
		{"unknown-context.rules", ":1:24: unknown context \"nosuchctx\": want mutable-users or imperative-timezone"},
		{"anchor-not-prefix.rules", ":1:24: anchor \"/y\": not a leading part of the pattern (\"/x/**\")"},
		{"anchor-partial-component.rules", ":1:36: anchor \"/var/lib/nix\": not a leading part"},
		{"anchor-wildcard.rules", ":1:32: anchor \"/var/lib/*\": an anchor is a path, without wildcards"},
		{"anchor-one-alternative.rules", ":1:40: anchor \"/var/lib/app\": not a leading part of the pattern (\"/srv/lib/app/**\")"},
	} {
		name := filepath.Join("testdata", "rules", tc.file)
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, err = ParseRules(name, data, true)
		if d := time.Since(start); d > time.Second {
			t.Errorf("%s: parsing took %v", tc.file, d)
		}
		want := tc.want
		if strings.HasPrefix(want, ":") {
			want = name + want // at its line and column
		}
		var re *RuleError
		if !errors.As(err, &re) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", tc.file, err, tc.want)
		}
	}
}

// TestRuleLimits: a rule file over MaxRuleFileSize, and one whose patterns
// together expand past MaxExpanded, are refused with the limit named; what
// the limits allow still parses.
func TestRuleLimits(t *testing.T) {
	big := []byte(strings.Repeat("# padding\n", MaxRuleFileSize/10+1))
	if _, err := ParseRules("big", big, true); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), fmt.Sprintf("at most %d bytes", MaxRuleFileSize)) {
		t.Errorf("a %d-byte file: %v", len(big), err)
	}
	// 8 groups of 2: 256 alternatives, the most a pattern may have, each
	// costing (9 × 4,000 + 64) bytes: the second such rule crosses 16 MiB.
	eight := "/" + strings.Repeat("{a,b}", 8) + "/" + strings.Repeat("x", 3950)
	one := "persist " + eight + " critical x\n"
	if _, err := ParseRules("ok", []byte(one), true); err != nil {
		t.Fatalf("256 alternatives: %v", err)
	}
	_, err := ParseRules("many", []byte(strings.Repeat(one, 2)), true)
	if err == nil || !strings.Contains(err.Error(), "many:2:1: the patterns up to this line expand to more than 16 MiB") {
		t.Errorf("two rules of 256 long alternatives: %v", err)
	}
	if n, _ := countAlternatives("/{a,b{c,d,e}}/{f,{g,h}}", 0); n != 12 {
		t.Errorf("countAlternatives = %d, want 12", n)
	}
}

// FuzzParseRules: whatever the bytes, parsing a rule file and compiling
// its rules ends quickly, allocates memory bounded by the limits, and an
// accepted rule's alternatives are no more than MaxAlternatives.
func FuzzParseRules(f *testing.F) {
	f.Add(builtinRules)
	for _, seed := range []string{
		"persist /var/lib/nixos/{uid-map,gid-map} critical anchor=/var/lib/nixos the map -- src\n",
		"persist \"/srv/my data/**\" optional if=mutable-users quoted\nephemeral ~/.cache/** - cache\n",
		"persist /" + strings.Repeat("{a,b}", 64) + " critical x\n",
		"persist /" + strings.Repeat("{a,b}", 8) + " critical x\n",
		"persist /" + strings.Repeat("{a,", 5000) + "b" + strings.Repeat("}", 5000) + " critical x\n",
		"persist /" + strings.Repeat("**/", 200) + "x critical x\n",
		"persist /" + strings.Repeat("*", 3000) + "x critical x\n",
		"persist /x/** critical anchor=/y reason\n",
		"persist /x/** critical if=nosuchctx reason\n",
	} {
		f.Add([]byte(seed))
	}
	paths := []change.Change{file("/var/lib/nixos/uid-map"), file("/a/b/a/b/a/b/a/b"), file("/home/u/.cache/x"), file("/x")}
	f.Fuzz(func(t *testing.T, data []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		rules, err := ParseRules("fuzz", data, true)
		if err != nil {
			return
		}
		ms := compile(rules)
		for _, r := range rules {
			if n, _ := countAlternatives(r.Pattern, 0); n > MaxAlternatives {
				t.Fatalf("%q: %d alternatives accepted", r.Pattern, n)
			}
		}
		c := New(Config{Rules: rules, Homes: []string{"/home/u"}})
		for _, p := range paths {
			c.Classify(p)
		}
		runtime.ReadMemStats(&after)
		// The expansion's own bound, plus what parsing a file of the
		// largest size allocates.
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4*MaxExpanded+64*MaxRuleFileSize {
			t.Fatalf("%d rules, %d matchers: %d bytes allocated", len(rules), len(ms), alloc)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("%d rules, %d matchers: %v", len(rules), len(ms), d)
		}
	})
}
