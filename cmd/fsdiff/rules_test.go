package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func TestExplain(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	out, errs, code := fsdiff(t, "explain", "/var/lib/nixos/uid-map", "/nonexistent/x")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	for _, want := range []string{
		"/var/lib/nixos/uid-map (file)\n  persist (critical), anchor /var/lib/nixos\n  reason: name->id history",
		"  rules that match, in order of precedence:\n    → builtin:",
		"/var/lib/nixos/{uid-map,gid-map}\n",
		"persist   critical    /var/lib/nixos/**\n", // the less specific match, listed after the winner
		"/nonexistent/x (file)\n  unknown, anchor /nonexistent/x\n  reason: no rule matches\n  no rule matches\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("explain output lacks %q:\n%s", want, out)
		}
	}
	// A context flips a rule; the inactive one is shown as such without it.
	out, _, _ = fsdiff(t, "explain", "/etc/shadow")
	if !strings.Contains(out, "  managed, anchor /etc/shadow") || !strings.Contains(out, "(inactive: needs context mutable-users)") {
		t.Errorf("explain /etc/shadow:\n%s", out)
	}
	out, _, _ = fsdiff(t, "explain", "--context", "mutable-users", "/etc/shadow")
	if !strings.Contains(out, "  persist (critical), anchor /etc/shadow") {
		t.Errorf("explain --context mutable-users /etc/shadow:\n%s", out)
	}
}

func TestUserRules(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	mine := writeFile(t, "mine.rules", "# my host keeps no uid maps\nephemeral /var/lib/nixos/**  -  rebuilt from my flake  -- my notes\n")
	out, errs, code := fsdiff(t, "explain", "--rules", mine, "/var/lib/nixos/uid-map")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	if !strings.Contains(out, "  ephemeral, anchor /var/lib/nixos\n  reason: rebuilt from my flake\n  source: my notes\n") ||
		!strings.Contains(out, "→ "+mine+":2 ") {
		t.Errorf("user rule does not win:\n%s", out)
	}
	// $XDG_CONFIG_HOME/fsdiff/rules is read too, after --rules.
	xdg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", xdg)
	os.MkdirAll(filepath.Join(xdg, "fsdiff"), 0o755)
	os.WriteFile(filepath.Join(xdg, "fsdiff", "rules"), []byte("managed /etc/machine-id - set by my provisioning\n"), 0o644)
	out, _, _ = fsdiff(t, "explain", "/etc/machine-id")
	if !strings.Contains(out, "  managed, anchor /etc/machine-id\n  reason: set by my provisioning") {
		t.Errorf("XDG rules not applied:\n%s", out)
	}
	out, _, _ = fsdiff(t, "rules", "--format", "json")
	var doc rulesJSON
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	rules := doc.Rules
	if len(rules) < 200 || !rules[0].User || rules[0].Pattern != "/etc/machine-id" || rules[1].User {
		t.Errorf("rules --format json: %d rules, first %+v", len(rules), rules[0])
	}
}

func TestBadRuleFile(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	bad := writeFile(t, "bad.rules", "persist /var/lib/x/** critical fine\n\npersist  /var/lib/y/**  sometimes  bad priority\n")
	for _, args := range [][]string{{"rules", "--rules", bad}, {"explain", "--rules", bad, "/x"}, {"--rules", bad}} {
		_, errs, code := fsdiff(t, args...)
		if code != exitError || !strings.Contains(errs, "fsdiff: error: "+bad+":3:25: unknown priority \"sometimes\"") {
			t.Errorf("fsdiff %q: exit %d\n%s", args, code, errs)
		}
	}
	_, errs, code := fsdiff(t, "rules", "--rules", "/nonexistent.rules")
	if code != exitError || !strings.Contains(errs, "no such file or directory") {
		t.Errorf("missing --rules file: exit %d\n%s", code, errs)
	}
}

func TestRulesTable(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	out, errs, code := fsdiff(t, "rules", "--format", "table")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	if !strings.HasPrefix(out, "ID ") || !strings.Contains(out, "persist    critical     /etc/machine-id") || strings.Count(out, "\n") < 201 {
		t.Errorf("rules table:\n%.2000s", out)
	}
	tsv, _, _ := fsdiff(t, "rules", "--format", "tsv")
	// Into a pipe or a file, as here, TSV is the default, as for the audit.
	if def, _, _ := fsdiff(t, "rules"); def != tsv {
		t.Errorf("rules into a non-terminal writer is not TSV:\n%.500s", def)
	}
	for line := range strings.SplitSeq(strings.TrimSuffix(tsv, "\n"), "\n") {
		if n := strings.Count(line, "\t"); n != 6 {
			t.Fatalf("tsv line with %d tabs: %q", n, line)
		}
	}
}

// TestCompletionAndMan: completions come from fsdiff completion SHELL, man
// pages from the man command of a -tags docs build.
func TestCompletionAndMan(t *testing.T) {
	for shell, want := range map[string]string{"bash": "bash completion V2 for fsdiff", "zsh": "#compdef fsdiff", "fish": "complete -c fsdiff"} {
		out, errs, code := fsdiff(t, "completion", shell)
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("completion %s: exit %d, %d bytes\n%s", shell, code, len(out), errs)
		}
	}
	if testing.Short() {
		t.Skip("builds fsdiff with -tags docs")
	}
	dir := t.TempDir()
	cmd := exec.Command("go", "run", "-tags", "docs", ".", "man", dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go run -tags docs . man: %v\n%s", err, out)
	}
	// A page for every command, naming each of its flags (--version, check's
	// -q/--quiet...) and the global ones.
	var visit func(c *cobra.Command)
	visit = func(c *cobra.Command) {
		if !c.IsAvailableCommand() && c.HasParent() {
			return
		}
		page := strings.ReplaceAll(c.CommandPath(), " ", "-") + ".1"
		data, err := os.ReadFile(filepath.Join(dir, page))
		if err != nil || !bytes.Contains(data, []byte(".TH \"FSDIFF\"")) {
			t.Errorf("%s: %v, %.80q", page, err, data)
			return
		}
		man := string(data)
		for _, flags := range []*pflag.FlagSet{c.NonInheritedFlags(), c.InheritedFlags()} {
			flags.VisitAll(func(f *pflag.Flag) {
				name := `\fB--` + f.Name + `\fP`
				if f.Shorthand != "" {
					name = `\fB-` + f.Shorthand + `\fP, ` + name
				}
				if !strings.Contains(man, name) {
					t.Errorf("%s does not name %s", page, name)
				}
			})
		}
		for _, sub := range c.Commands() {
			visit(sub)
		}
	}
	visit(newRootCmd(io.Discard, io.Discard))
}

// TestHostileRulesAndDeclarations: oversized or hostile --rules and
// --declared files, and an unknown --context, are errors that name the
// limit or the known values, never a crash or unbounded memory.
func TestHostileRulesAndDeclarations(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	huge := writeFile(t, "huge.rules", strings.Repeat("# padding\n", 200000))
	deep := writeFile(t, "deep.json", strings.Repeat("[", 100000)+strings.Repeat("]", 100000))
	bomb := filepath.Join("..", "..", "internal", "classify", "testdata", "rules", "brace-bomb.rules")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--declared", "/dev/zero"}, "fsdiff: error: /dev/zero: too large: declared persistence may have at most 16777216 bytes\n"},
		{[]string{"--declared", deep}, "exceeded max depth"},
		{[]string{"--rules", huge}, "fsdiff: error: " + huge + ": too large: a rule file may have at most 1048576 bytes\n"},
		{[]string{"--rules", bomb}, "fsdiff: error: " + bomb + ":2:9: pattern \"/{a,b}"},
		{[]string{"--context", "nope"}, "fsdiff: error: invalid argument \"nope\" for \"--context\" flag: unknown context \"nope\": want mutable-users or imperative-timezone\n"},
	} {
		_, errs, code := fsdiff(t, append([]string{"explain", "/x"}, tc.args...)...)
		if code != exitError || !strings.Contains(errs, tc.want) {
			t.Errorf("%q: exit %d, stderr:\n%s\nwant %q", tc.args, code, errs, tc.want)
		}
	}
}

// TestInputHints: a missing file or directory the user named gets a hint
// about that input, not the btrfs one about subvolumes, and the error
// names the user's path, never a temporary file.
func TestInputHints(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	const stream = "../../internal/snapshot/testdata/send/blank-v2.stream"
	for _, tc := range []struct {
		args        []string
		error, hint string
	}{
		{[]string{"explain", "/x", "--rules", "/nonexistent.rules"}, "open /nonexistent.rules: no such file or directory", "check the path given to --rules"},
		{[]string{"explain", "/x", "--declared", "/nonexistent.json"}, "open /nonexistent.json: no such file or directory", "check the path given to --declared"},
		{[]string{"--send-stream", "/nonexistent.stream"}, "open /nonexistent.stream: no such file or directory", "check the path given to --send-stream"},
		{[]string{"watch", "/nonexistent-dir", "--for", "1s"}, "lstat /nonexistent-dir: no such file or directory", "fsdiff watch takes directories that exist"},
		{[]string{"check", "--send-stream", stream, "--junit", "/nonexistent-dir/report.xml"}, "writing the JUnit report: write /nonexistent-dir/report.xml: no such file or directory", "the directory of the --junit file must exist"},
		{[]string{"check", "--send-stream", stream, "--metrics", "/nonexistent-dir/fsdiff.prom"}, "write /nonexistent-dir/fsdiff.prom: no such file or directory", "the directory of the --metrics file must exist"},
		{[]string{"--source", "walk", "--root", "/nonexistent-root", "--baseline", "none"}, "open /nonexistent-root: no such file or directory", "check the path: the walk compares"},
		{[]string{"--source", "walk", "--root", t.TempDir(), "--baseline", "/nonexistent-base"}, "open /nonexistent-base: no such file or directory", "check the path: the walk compares"},
		{[]string{"suggest", "--send-stream", stream, "--output", "/nonexistent-dir/persist.nix"}, "write /nonexistent-dir/persist.nix: no such file or directory", "the directory of the --output file must exist"},
	} {
		_, errs, code := fsdiff(t, tc.args...)
		if code != exitError || !strings.Contains(errs, "fsdiff: error: ") || !strings.Contains(errs, tc.error+"\n") ||
			!strings.Contains(errs, "fsdiff: hint: "+tc.hint) || strings.Contains(errs, "btrfs subvolume list") || strings.Contains(errs, ".fsdiff-") {
			t.Errorf("%q: exit %d, stderr:\n%s", tc.args, code, errs)
		}
	}
}
