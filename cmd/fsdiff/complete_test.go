//go:build linux

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fsdiff-nix/fsdiff/internal/change"
	"github.com/fsdiff-nix/fsdiff/internal/classify"
	"github.com/fsdiff-nix/fsdiff/internal/report"
	"github.com/fsdiff-nix/fsdiff/internal/suggest"
	"github.com/fsdiff-nix/fsdiff/internal/testenv"
)

// bashCompletion is the bash-completion package's main script, which the
// bash script of cobra's completion needs (_get_comp_words_by_ref), as
// NixOS and Debian load it.
var bashCompletions = []string{
	"/usr/share/bash-completion/bash_completion",
	"/run/current-system/sw/share/bash-completion/bash_completion",
}

// completeWords is what bash does at a TAB: it splits the line into
// COMP_WORDS at blanks and at the word-break characters = and : (each its
// own word), and calls the function complete -p names for the command.
// It prints each argument the completions would make of the last one.
const completeWords = `
source "$BASH_COMPLETION"
source <(fsdiff completion bash)
line=$1
words=()
read -ra parts <<<"$line"
for p in "${parts[@]}"; do
	while [[ $p =~ ^([^=:]*)([=:])(.*)$ ]]; do
		[[ -n ${BASH_REMATCH[1]} ]] && words+=("${BASH_REMATCH[1]}")
		words+=("${BASH_REMATCH[2]}")
		p=${BASH_REMATCH[3]}
	done
	[[ -n $p ]] && words+=("$p")
done
[[ $line == *" " || $line == *[=:] ]] && words+=("")
COMP_WORDS=("${words[@]}")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMP_LINE=$line
COMP_POINT=${#line}
func=$(complete -p fsdiff | sed -E 's/.*-F ([^ ]+).*/\1/')
"$func" fsdiff "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
# What the argument becomes: bash replaces the text after the last break
# character, with the one completion quoted for the shell.
last=${line##* }
before=${last%"${last##*[=:]}"}
for r in "${COMPREPLY[@]}"; do
	((${#COMPREPLY[@]} == 1)) && eval "r=$r"
	printf '%s\n' "$before$r"
done
`

// TestCompletionOfFlagValues sources the script of fsdiff completion bash
// in bash, with the bash-completion package, and asks it what a TAB
// offers after each flag that takes one of a set of values: the sets are
// the code's own tables, per command.
func TestCompletionOfFlagValues(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		testenv.SkipOrFail(t, "needs bash to test its completions")
	}
	i := slices.IndexFunc(bashCompletions, func(p string) bool { _, err := os.Stat(p); return err == nil })
	if i < 0 {
		testenv.SkipOrFail(t, "needs the bash-completion package (apt install bash-completion), which fsdiff's bash completion uses as cobra's does")
	}
	bin := staticBinary(t)

	thresholds := []string{}
	for _, th := range classify.Thresholds() {
		thresholds = append(thresholds, th.String())
	}
	without := func(values []string, given ...string) []string {
		var out []string
		for _, v := range values {
			if !slices.Contains(given, v) {
				out = append(out, strings.Join(given, ",")+","+v)
			}
		}
		return out
	}
	for _, tc := range []struct {
		line string
		want []string
	}{
		{"fsdiff --format ", strs(report.Formats)},
		{"fsdiff -f n", []string{"ndjson"}},
		{"fsdiff --format=j", []string{"--format=json"}},
		{"fsdiff check --format ", checkFormats},
		{"fsdiff rules --format ", rulesFormats},
		{"fsdiff suggest --format ", suggestFormats},
		{"fsdiff watch --format ", watchFormats},
		{"fsdiff suggest --style ", strs(suggest.Styles)},
		{"fsdiff persist --style p", []string{"preservation"}},
		{"fsdiff --source ", strs(change.SourceNames)},
		{"fsdiff explain --source w", []string{"walk"}},
		{"fsdiff --context ", classify.Contexts},
		{"fsdiff --color ", colorModes},
		{"fsdiff check --color=n", []string{"--color=never"}},
		{"fsdiff diff --format ", strs(report.Formats)},
		{"fsdiff suggest --context m", []string{"mutable-users"}},
		{"fsdiff check --fail-on ", thresholds},
		{"fsdiff check --fail-on persist,", without(thresholds, "persist")},
		{"fsdiff check --fail-on unknown,persist:critical,", without(thresholds, "unknown", "persist:critical")},
		{"fsdiff check --fail-on persist,m", []string{"persist,managed"}},
		// bash breaks words at ":"; the completions still make whole values.
		{"fsdiff check --fail-on persist:", []string{"persist:critical", "persist:recommended", "persist:optional"}},
		{"fsdiff check --fail-on persist:r", []string{"persist:recommended"}},
		// One completion after a comma and a colon: quoted for the shell
		// (unknown\,persist:...), it is still cut at the colon (fixBashQuoting).
		{"fsdiff check --fail-on unknown,persist:r", []string{"unknown,persist:recommended"}},
		{"fsdiff check --fail-on persist:critical,unknown,m", []string{"persist:critical,unknown,managed"}},
	} {
		t.Run(tc.line, func(t *testing.T) {
			cmd := exec.Command(bash, "-c", completeWords, "bash", tc.line)
			cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(bin)+":"+os.Getenv("PATH"), "BASH_COMPLETION="+bashCompletions[i])
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			got := strings.Fields(string(out))
			slices.Sort(got)
			want := slices.Sorted(slices.Values(tc.want))
			if !slices.Equal(got, want) {
				t.Errorf("%q<TAB> offers %q, want %q", tc.line, got, want)
			}
		})
	}
}
