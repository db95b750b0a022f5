package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
)

// enumFlag makes values the shell completions of cmd's flag name (one of
// its own flags or of its persistent ones). Callers pass the table the
// flag's value is checked against, so that completion cannot offer what
// the flag refuses, nor miss what it takes.
func enumFlag(cmd *cobra.Command, name string, values []string) {
	completeFlag(cmd, name, func(string) ([]string, cobra.ShellCompDirective) {
		return values, cobra.ShellCompDirectiveNoFileComp
	})
}

// enumListFlag is enumFlag for a flag that takes a comma-separated list
// (--fail-on persist,unknown): after a comma, it offers the values not
// given yet, each after what is typed, with no space, so that another
// comma can follow.
func enumListFlag(cmd *cobra.Command, name string, values []string) {
	completeFlag(cmd, name, func(typed string) ([]string, cobra.ShellCompDirective) {
		done := typed[:strings.LastIndex(typed, ",")+1]
		given := strings.Split(done, ",")
		var out []string
		for _, v := range values {
			if !slices.Contains(given, v) {
				out = append(out, done+v)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
	})
}

func completeFlag(cmd *cobra.Command, name string, complete func(typed string) ([]string, cobra.ShellCompDirective)) {
	err := cmd.RegisterFlagCompletionFunc(name, func(_ *cobra.Command, _ []string, typed string) ([]string, cobra.ShellCompDirective) {
		return complete(typed)
	})
	if err != nil {
		panic(err) // a flag that does not exist, or completed twice: a bug the tests meet
	}
}

// strs converts a table of named strings (report.Formats, suggest.Styles)
// to strings.
func strs[S ~string](xs []S) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = string(x)
	}
	return out
}

// oneOf names values for help and errors: "a, b or c".
func oneOf(values []string) string {
	if len(values) < 2 {
		return strings.Join(values, "")
	}
	return strings.Join(values[:len(values)-1], ", ") + " or " + values[len(values)-1]
}

// checkFormat is the error of a --format that is not one of formats.
func checkFormat(format string, formats []string) error {
	if !slices.Contains(formats, format) {
		return flagError{fmt.Errorf("unknown --format %q: want %s", format, oneOf(formats))}
	}
	return nil
}

// strictCompletion makes cobra's completion command, made strict: it refuses
// a shell it has no script for (tcsh) instead of printing its help and
// succeeding, which would leave an empty script behind a redirection.
func strictCompletion(root *cobra.Command) {
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() != "completion" {
			continue
		}
		var shells []string
		for _, sh := range c.Commands() {
			shells = append(shells, sh.Name())
		}
		for _, sh := range c.Commands() {
			if sh.Name() == "bash" {
				fixBashQuoting(sh)
			}
		}
		c.Args = usage(cobra.MaximumNArgs(1))
		c.RunE = func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return flagError{fmt.Errorf("name a shell: %s", oneOf(shells))}
			}
			return flagError{fmt.Errorf("unknown shell %q: fsdiff completes %s", args[0], oneOf(shells))}
		}
	}
}

// fixBashQuoting appends to the bash script of completion bash a
// corrected __fsdiff_handle_special_char. cobra's (v1.10.2) cuts what
// precedes the last ":" of the word from each completion, so that bash
// replaces only what follows it, but it compares with the completion after
// quoting it for the shell, which a lone completion is: after a comma
// (quoted "\,"), --fail-on unknown,persist:r<TAB> would become
// unknown,persist:unknown\,persist:recommended.
func fixBashQuoting(bash *cobra.Command) {
	generate := bash.RunE
	bash.RunE = func(cmd *cobra.Command, args []string) error {
		if err := generate(cmd, args); err != nil {
			return err
		}
		name := cmd.Root().Name()
		_, err := fmt.Fprintf(cmd.OutOrStdout(), `
# fsdiff: a lone completion is quoted for the shell (a comma becomes \,)
# before what precedes the last : or = of the word is cut from it: cut it
# quoted too.
__%[1]s_handle_special_char()
{
    local comp="$1"
    local char=$2
    if [[ "$comp" == *${char}* && "$COMP_WORDBREAKS" == *${char}* ]]; then
        local word=${comp%%"${comp##*${char}}"}
        local quoted
        quoted=$(printf "%%q" "$word")
        local idx=${#COMPREPLY[*]}
        while ((--idx >= 0)); do
            COMPREPLY[idx]=${COMPREPLY[idx]#"$word"}
            COMPREPLY[idx]=${COMPREPLY[idx]#"$quoted"}
        done
    fi
}
`, name)
		return err
	}
}
