//go:build unix

package main

import (
	"strings"
	"testing"
)

// TestErrorsNameFlagsInHintsOnly: the library says what is wrong with an
// option without naming the flag; the hint names it.
func TestErrorsNameFlagsInHintsOnly(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args      []string
		err, hint string
	}{
		{[]string{"--source", "walk", "--root", "relative", "--baseline", "none"},
			`fsdiff: error: root "relative": the walk source takes an absolute directory`,
			"fsdiff: hint: the walk source compares directories: pass --root and --baseline as absolute directories, or --baseline none"},
		{[]string{"--source", "walk", "--root", dir, "--baseline", "relative"},
			`fsdiff: error: baseline "relative": the walk source takes an absolute directory`,
			"fsdiff: hint: the walk source compares directories: pass --root and --baseline as absolute directories, or --baseline none"},
	} {
		_, errs, code := fsdiff(t, tc.args...)
		lines := strings.Split(strings.TrimSpace(errs), "\n")
		if code != exitError || len(lines) != 2 || lines[0] != tc.err || lines[1] != tc.hint {
			t.Errorf("%q: exit %d\n%s", tc.args, code, errs)
		}
	}
}
