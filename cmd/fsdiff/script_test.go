//go:build linux

package main

import (
	"bytes"
	"errors"
	"io/fs"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fsdiff-nix/fsdiff/internal/imagetest"
	"github.com/rogpeppe/go-internal/testscript"
	"golang.org/x/sys/unix"
)

// TestScript runs the scripts in testdata/script: every command and output
// format of fsdiff, with golden output, over the committed send streams and
// directory trees the scripts make. They need neither root nor btrfs.
// go test -run TestScript -update rewrites the golden sections from what
// fsdiff prints; review the diff.
func TestScript(t *testing.T) {
	streams, err := filepath.Abs("../../internal/snapshot/testdata/send")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, scriptParams("testdata/script", map[string]string{"STREAMS": streams}))
}

// TestScriptRoot runs the scripts in testdata/script-root, the btrfs paths,
// against loop-mounted images: $BLANK and $NEWSERVICE are the top levels of
// the "blank" and "newservice" images (imagetest.Scenarios).
func TestScriptRoot(t *testing.T) {
	env := map[string]string{}
	for name, scenario := range map[string]string{"BLANK": "blank", "NEWSERVICE": "newservice"} {
		env[name] = imagetest.Mount(t, imagetest.Get(t, scenario).File)
	}
	testscript.Run(t, scriptParams("testdata/script-root", env))
}

// scriptParams runs the scripts in dir with env set, and the variables
// WORK and env's as the ones redact replaces.
func scriptParams(dir string, env map[string]string) testscript.Params {
	vars := append([]string{"WORK"}, slices.Sorted(maps.Keys(env))...)
	return testscript.Params{
		Dir:                 dir,
		UpdateScripts:       *update,
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Setup: func(e *testscript.Env) error {
			// No rule file of the developer's, and timestamps that do not move.
			home := filepath.Join(e.WorkDir, "home")
			e.Setenv("HOME", home)
			e.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
			e.Setenv("SOURCE_DATE_EPOCH", "1767225600") // 2026-01-01
			for k, v := range env {
				e.Setenv(k, v)
			}
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exits":    cmdExits,
			"head":     cmdHead,
			"settimes": cmdSettimes,
			"mkfifo":   cmdMkfifo,
			"mksocket": cmdMksocket,
			"nullines": cmdNullines,
			"mkfile":   cmdMkfile,
			"redact": func(ts *testscript.TestScript, neg bool, args []string) {
				cmdRedact(ts, neg, args, vars)
			},
		},
	}
}

// cmdExits is "exits CODE PROGRAM [ARGS...]": exec that wants the exit
// status CODE, where "! exec" takes any failure (check's 1 and 2 mean
// different things).
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits CODE PROGRAM [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	got := 0
	var exit *exec.ExitError
	switch err := ts.Exec(args[1], args[2:]...); {
	case errors.As(err, &exit):
		got = exit.ExitCode()
	case err != nil:
		ts.Fatalf("%v", err)
	}
	if got != want {
		ts.Fatalf("exit status %d, want %d", got, want)
	}
}

// cmdHead is "head N FILE OUT": the first N lines of FILE (stdout and
// stderr are the last command's) into OUT, for a golden of the start of a
// long output.
func cmdHead(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: head N FILE OUT")
	}
	n, err := strconv.Atoi(args[0])
	ts.Check(err)
	var b strings.Builder
	for line := range strings.Lines(ts.ReadFile(args[1])) {
		if n == 0 {
			break
		}
		b.WriteString(line)
		n--
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[2]), []byte(b.String()), 0o644))
}

// cmdSettimes is "settimes PATH...": the access and modification times of
// every entry under each PATH become $SOURCE_DATE_EPOCH, symlinks' own
// included, so that a walk compares trees the script made by what it made,
// not by when.
func cmdSettimes(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: settimes PATH...")
	}
	sec, err := strconv.ParseInt(ts.Getenv("SOURCE_DATE_EPOCH"), 10, 64)
	ts.Check(err)
	t := unix.NsecToTimespec(time.Unix(sec, 0).UnixNano())
	for _, root := range args {
		ts.Check(filepath.WalkDir(ts.MkAbs(root), func(p string, _ fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			return unix.UtimesNanoAt(unix.AT_FDCWD, p, []unix.Timespec{t, t}, unix.AT_SYMLINK_NOFOLLOW)
		}))
	}
}

// cmdMkfifo is "mkfifo PATH...".
func cmdMkfifo(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: mkfifo PATH...")
	}
	for _, p := range args {
		ts.Check(unix.Mkfifo(ts.MkAbs(p), 0o644))
	}
}

// cmdMksocket is "mksocket PATH...": a Unix socket left behind by a
// listener that is gone, as a crashed service leaves one.
func cmdMksocket(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: mksocket PATH...")
	}
	for _, p := range args {
		l, err := net.ListenUnix("unix", &net.UnixAddr{Name: ts.MkAbs(p), Net: "unix"})
		ts.Check(err)
		l.SetUnlinkOnClose(false)
		ts.Check(l.Close())
	}
}

// cmdNullines is "nullines FILE": it writes the last command's standard
// output to FILE with a newline after every NUL. NUL-terminated output
// (paths -0) then ends with a newline, as a txtar section must, and stays
// byte for byte what fsdiff wrote, invalid UTF-8 and newlines in names
// included: cmp FILE against a golden section.
func cmdNullines(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: nullines FILE")
	}
	out := bytes.ReplaceAll([]byte(ts.ReadFile("stdout")), []byte{0}, []byte{0, '\n'})
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), out, 0o644))
}

// cmdMkfile is "mkfile NAME...": it creates empty files whose names are Go
// string literals ("\"odd/new\\nline\"", "\"odd/\\xff\""), which a txtar
// section cannot name.
func cmdMkfile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: mkfile NAME...")
	}
	for _, q := range args {
		name, err := strconv.Unquote(q)
		ts.Check(err)
		ts.Check(os.WriteFile(ts.MkAbs(name), nil, 0o644))
	}
}

// cmdRedact is "redact FILE OUT [REGEXP...]": it writes FILE (stdout and
// stderr are the last command's) to OUT with what differs from run to run
// replaced: the value of $WORK and of the variables a test sets (image
// mounts) by the variable's name, and what the first group of each REGEXP
// matches (a duration: "duration_seconds": ([0-9.]+)) by REDACTED.
func cmdRedact(ts *testscript.TestScript, neg bool, args []string, vars []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: redact FILE OUT [REGEXP...]")
	}
	text := ts.ReadFile(args[0])
	for _, v := range vars {
		if val := ts.Getenv(v); val != "" {
			text = strings.ReplaceAll(text, val, "$"+v)
		}
	}
	for _, expr := range args[2:] {
		re, err := regexp.Compile(expr)
		ts.Check(err)
		if re.NumSubexp() < 1 {
			ts.Fatalf("redact: %q has no group to redact", expr)
		}
		var b strings.Builder
		last := 0
		for _, m := range re.FindAllStringSubmatchIndex(text, -1) {
			b.WriteString(text[last:m[2]])
			b.WriteString("REDACTED")
			last = m[3]
		}
		text = b.String() + text[last:]
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(text), 0o644))
}
