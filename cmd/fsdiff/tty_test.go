//go:build linux

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/olekukonko/tablewriter/pkg/twwidth"
	"golang.org/x/sys/unix"
)

const blankStream = "../../internal/snapshot/testdata/send/blank-v2.stream"

// openTerminal opens a pseudo-terminal cols columns wide: term is the side
// a program writes to (its stdout and stderr), screen the side a terminal
// emulator reads. Output is read as written (no \n to \r\n).
func openTerminal(t *testing.T, cols int) (term, screen *os.File) {
	t.Helper()
	screen, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	fd := int(screen.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	term, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		term.Close()
		screen.Close()
	})
	if err := unix.IoctlSetWinsize(int(term.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 24, Col: uint16(cols)}); err != nil {
		t.Fatal(err)
	}
	tio, err := unix.IoctlGetTermios(int(term.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	tio.Oflag &^= unix.OPOST
	if err := unix.IoctlSetTermios(int(term.Fd()), unix.TCSETS, tio); err != nil {
		t.Fatal(err)
	}
	return term, screen
}

// onTerminal runs fsdiff in-process with stdout and stderr on a terminal
// cols columns wide, and returns what the terminal shows. $COLUMNS,
// $NO_COLOR and the user's rules are unset; TERM is a colour terminal's.
func onTerminal(t *testing.T, cols int, args ...string) string {
	t.Helper()
	term, screen := openTerminal(t, cols)
	var out bytes.Buffer
	read := make(chan struct{})
	go func() {
		io.Copy(&out, screen) // until the terminal closes (EIO)
		close(read)
	}()
	run(context.Background(), args, term, term)
	term.Close()
	<-read
	screen.Close()
	return out.String()
}

// terminalEnv is the environment of a person's terminal, without what
// would change fsdiff's output.
func terminalEnv(t *testing.T) {
	t.Setenv("COLUMNS", "")
	t.Setenv("NO_COLOR", "")
	t.Setenv("TERM", "xterm-256color")
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
}

var sgrSequence = regexp.MustCompile("\x1b\\[[0-9;]*[mK]")

// screenLines are the lines a terminal shows, without colour.
func screenLines(out string) []string {
	return strings.Split(strings.TrimSuffix(sgrSequence.ReplaceAllString(out, ""), "\n"), "\n")
}

// wideTree is a root to walk whose names are long, multibyte, wide,
// combined and not UTF-8: cutting them must never split a character.
func wideTree(t *testing.T) string {
	root := t.TempDir()
	for _, p := range []string{
		"var/lib/サービスのデータベース/ファイルの名前はとても長いです.sqlite",
		"var/lib/cafe\u0301-service/e\u0301te\u0301-" + strings.Repeat("a\u0301", 40),
		"srv/bytes-\xff\xfe-" + strings.Repeat("\xc3", 30) + "-" + strings.Repeat("x", 60),
		"home/alice/.config/" + strings.Repeat("長い", 30) + "/settings.json",
	} {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// TestTerminalFits80Columns: at 80 columns, no line of the audit (anchors
// and --all), check, rules or explain is wider than the terminal, cells
// are cut with "…" at character boundaries (names that are multibyte,
// wide or not UTF-8 included), and nothing is wrapped.
func TestTerminalFits80Columns(t *testing.T) {
	terminalEnv(t)
	odd := wideTree(t)
	for _, args := range [][]string{
		{"--send-stream", blankStream},
		{"--send-stream", blankStream, "--all"},
		{"--source", "walk", "--root", odd, "--baseline", "none"},
		{"--source", "walk", "--root", odd, "--baseline", "none", "--all"},
		{"check", "--send-stream", blankStream},
		{"check", "--source", "walk", "--root", odd, "--baseline", "none"},
		{"rules"},
		{"explain", "--send-stream", blankStream, "/etc/machine-id", "/var/lib/app/sock", "/odd/new\nline"},
		{"explain", "--source", "walk", "--root", odd, "--baseline", "none", "/srv/bytes-\xff\xfe-" + strings.Repeat("\xc3", 30) + "-" + strings.Repeat("x", 60)},
	} {
		t.Run(strings.Join(args[:min(len(args), 3)], " "), func(t *testing.T) {
			out := onTerminal(t, 80, args...)
			if !utf8.ValidString(out) {
				t.Errorf("output is not UTF-8: a character was split:\n%q", out)
			}
			if !strings.Contains(out, "…") && !strings.Contains(out, "/etc/machine-id") { // explain wraps prose
				t.Errorf("nothing was cut at 80 columns:\n%s", out)
			}
			for _, line := range screenLines(out) {
				if w := twwidth.Width(line); w > 80 {
					t.Errorf("line of %d columns:\n%s", w, line)
				}
			}
		})
	}
}

// TestTerminal200ColumnsReasonsWhole: at 200 columns, a reason that fits
// is shown whole; only one that does not is cut.
func TestTerminal200ColumnsReasonsWhole(t *testing.T) {
	terminalEnv(t)
	stdout, _, _ := fsdiff(t, "--send-stream", blankStream, "--format", "json")
	var doc struct{ Changes []struct{ Reason string } }
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"--send-stream", blankStream}, {"check", "--send-stream", blankStream}} {
		lines := screenLines(onTerminal(t, 200, args...))
		start := strings.Index(lines[0], "REASON")
		rows := 0
		for _, line := range lines[1:] {
			if line == "" {
				break
			}
			rows++
			reason := line[start:]
			if w := twwidth.Width(line); w > 200 {
				t.Errorf("line of %d columns: %s", w, line)
			}
			cut, ok := strings.CutSuffix(reason, "…")
			if !ok {
				continue
			}
			for _, c := range doc.Changes {
				if strings.HasPrefix(c.Reason, cut) && twwidth.Width(c.Reason) <= 200-start {
					t.Errorf("%v: reason cut though it fits in %d columns: %q", args, 200-start, c.Reason)
				}
			}
		}
		if rows < 10 {
			t.Errorf("%v: %d rows", args, rows)
		}
	}
}

// TestTerminalFull: --full and -l show whole cells, as systemctl -l.
func TestTerminalFull(t *testing.T) {
	terminalEnv(t)
	const reason = "systemd generates a random ID at boot when missing: journal continuity is lost (new /var/log/journal/<id>/ each boot), networkd DUID changes. impermanence auto-suppresses initrd systemd-machine-id-commit when it is persisted"
	for _, flag := range []string{"--full", "-l"} {
		out := onTerminal(t, 80, "--send-stream", blankStream, flag)
		if !strings.Contains(out, reason) || strings.Contains(out, "…") {
			t.Errorf("%s: not whole:\n%s", flag, out)
		}
	}
	if out := onTerminal(t, 80, "--send-stream", blankStream); strings.Contains(out, reason) {
		t.Errorf("whole at 80 columns without --full:\n%s", out)
	}
}

// TestTerminalColor: categories are painted on a terminal only: never
// with NO_COLOR, --color=never or TERM=dumb, never off a terminal, and
// never in TSV or JSON; --color=always paints a table anywhere (it
// overrides NO_COLOR, as no-color.org asks of flags).
func TestTerminalColor(t *testing.T) {
	terminalEnv(t)
	args := []string{"--send-stream", blankStream}
	if out := onTerminal(t, 80, args...); !strings.Contains(out, "\x1b[1;33mpersist") || !strings.Contains(out, "\x1b[2mmanaged") {
		t.Errorf("no colour on a terminal:\n%q", out)
	}
	if out := onTerminal(t, 80, append(args, "--color=never")...); strings.Contains(out, "\x1b[") {
		t.Errorf("colour with --color=never:\n%q", out)
	}
	for _, cmd := range [][]string{args, {"rules"}, {"check", "--send-stream", blankStream}, {"explain", "/etc/machine-id"}} {
		t.Setenv("NO_COLOR", "1")
		if out := onTerminal(t, 80, cmd...); strings.Contains(out, "\x1b[") {
			t.Errorf("%v: colour with NO_COLOR:\n%q", cmd, out)
		}
		if out := onTerminal(t, 80, append(cmd, "--color=always")...); !strings.Contains(out, "\x1b[") {
			t.Errorf("%v: no colour with NO_COLOR and --color=always:\n%q", cmd, out)
		}
		t.Setenv("NO_COLOR", "")
		t.Setenv("TERM", "dumb")
		if out := onTerminal(t, 80, cmd...); strings.Contains(out, "\x1b[") {
			t.Errorf("%v: colour with TERM=dumb:\n%q", cmd, out)
		}
		t.Setenv("TERM", "xterm-256color")
	}
	for _, format := range []string{"table", "tsv", "json", "ndjson", "paths"} {
		plain, _, _ := fsdiff(t, append(args, "--format", format)...)
		if strings.Contains(plain, "\x1b") {
			t.Errorf("--format %s off a terminal is painted", format)
		}
		always, _, _ := fsdiff(t, append(args, "--format", format, "--color=always")...)
		if painted := strings.Contains(always, "\x1b["); painted != (format == "table") {
			t.Errorf("--format %s --color=always: painted %t", format, painted)
		}
	}
	if _, stderr, code := fsdiff(t, append(args, "--color=sometimes")...); code != exitError || !strings.Contains(stderr, "want auto, always or never") {
		t.Errorf("--color=sometimes: exit %d, %s", code, stderr)
	}
}

// TestTerminalSummary: on a terminal a table ends with the counts per
// category and the next step; off a terminal, and with -q, it does not.
func TestTerminalSummary(t *testing.T) {
	terminalEnv(t)
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--send-stream", blankStream}, []string{
			"27 anchors (116 paths): 6 persist, 15 unknown, 3 ephemeral, 3 managed.",
			"Next: fsdiff suggest to declare the 6 persist anchors and decide about the 15",
			"  unknown ones; fsdiff explain PATH to see why a path is in its category.",
		}},
		{[]string{"--send-stream", blankStream, "--all"}, []string{"116 paths: 14 persist, 93 unknown, 4 ephemeral, 5 managed."}},
		{[]string{"check", "--send-stream", blankStream}, []string{
			"19 anchors (37 paths) fail the check: 4 persist, 15 unknown.",
			"Next: fsdiff suggest to declare them;",
		}},
		{[]string{"rules"}, []string{" rules (0 from user rule files): ", "Next: fsdiff explain PATH to see which rules match a path"}},
		{[]string{"explain", "/etc/machine-id"}, []string{"Next: a user rule decides differently"}},
	} {
		out := strings.Join(screenLines(onTerminal(t, 80, tc.args...)), "\n")
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%v: no %q in\n%s", tc.args, w, out)
			}
		}
		if quiet := onTerminal(t, 80, append(tc.args, "-q")...); strings.Contains(quiet, "Next:") {
			t.Errorf("%v -q: summary printed:\n%s", tc.args, quiet)
		}
		if len(tc.args) > 0 && tc.args[0] != "explain" {
			table, _, _ := fsdiff(t, append(tc.args, "--format", "table")...)
			if strings.Contains(table, "Next:") {
				t.Errorf("%v --format table off a terminal: summary printed", tc.args)
			}
		}
	}
}
