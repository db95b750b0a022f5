package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/fsdiff-nix/fsdiff/internal/audit"
	"github.com/fsdiff-nix/fsdiff/internal/classify"
	"github.com/fsdiff-nix/fsdiff/internal/names"
	"github.com/fsdiff-nix/fsdiff/internal/snapshot"
	"github.com/fsdiff-nix/fsdiff/internal/suggest"
	"github.com/fsdiff-nix/fsdiff/internal/tables"
	"github.com/fsdiff-nix/fsdiff/internal/watch"
	"github.com/spf13/cobra"
)

type watchOptions struct {
	global *globalOptions
	dur    time.Duration
	format string
	all    bool
}

func newWatchCmd(g *globalOptions, stdout, stderr io.Writer) *cobra.Command {
	opts := watchOptions{global: g}
	cmd := &cobra.Command{
		Use:   "watch [PATH...]",
		Short: "Show state as it appears, while you set up a host",
		Long: `watch follows the live root (default /) with inotify and prints each new or
changed path once, classified, as it appears: "+ persist  /var/lib/grafana/
grafana.db". Every directory is watched, and one that appears is scanned
too. It skips /nix, /proc, /sys, /dev, /run and every other mount, such
as persistent storage. Paths of ephemeral, managed and persisted anchors
are counted per anchor ("= ephemeral  /root/.cache  100 paths") at each
power of ten instead (--all prints them all). A path counts once, however
many events it gets; past 10,000 paths of one anchor only creations are
counted, and the count is marked approximate ("~12000").

On SIGINT, or after --for, it prints the summary table and the Nix that
would persist what it saw; then it exits with 130 after SIGINT, 0 after
--for.
` + exitStatusHelp,
		Example: `  sudo fsdiff watch                      # while you start services; Ctrl-C to stop
  sudo fsdiff watch --for 10m /var/lib
  sudo fsdiff watch --format ndjson | jq 'select(.category == "persist")'`,
		Args: usage(cobra.ArbitraryArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runWatch(cmd.Context(), &opts, args, stdout, stderr)
		},
	}
	f := cmd.Flags()
	f.DurationVar(&opts.dur, "for", 0, "stop after this long (default: until SIGINT)")
	f.StringVarP(&opts.format, "format", "f", "text", "text, or ndjson for machines")
	enumFlag(cmd, "format", watchFormats)
	f.BoolVarP(&opts.all, "all", "a", false, "print every path, managed and ephemeral ones too")
	return cmd
}

// watchFormats are the values of watch --format.
var watchFormats = []string{"text", "ndjson"}

// watchSchema names the version of the records of watch --format ndjson
// (docs/watch.schema.json): it changes when a field changes meaning or
// disappears, not when one is added.
const watchSchema = "fsdiff-watch/1"

func runWatch(ctx context.Context, o *watchOptions, args []string, stdout, stderr io.Writer) error {
	if err := checkFormat(o.format, watchFormats); err != nil {
		return err
	}
	paths := args
	if len(paths) == 0 {
		paths = []string{"/"}
	}
	for i, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			return err
		}
		if _, err := os.Lstat(abs); err != nil {
			return inputError{"watch", err}
		}
		paths[i] = abs
	}
	live, err := audit.Live(o.global.classifyOptions(nil))
	if err != nil {
		return err
	}
	skip := map[string]bool{}
	for _, p := range snapshot.LiveSkips {
		skip[p] = true
	}
	// SIGINT cancels interrupted; --for only ctx, which stops the watch
	// as asked.
	interrupted := ctx
	if o.dur > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.dur)
		defer cancel()
	}
	line := func(b []byte) { stdout.Write(b) } // the callbacks run one at a time, on the watch's loop
	opts := watch.Options{
		Paths: paths, Skip: skip, Classifier: live.Classifier, All: o.all,
		Report: func(e classify.Entry) {
			if o.format == "ndjson" {
				line(fmt.Appendf(nil, `{"schema":"`+watchSchema+`","event":"path","path":%s,"kind":"%s","type":"%s","category":"%s","anchor":%s,"reason":%s}`+"\n",
					names.AppendJSON(nil, e.Path), e.Kind, e.Type, e.Category, names.AppendJSON(nil, e.Anchor), names.AppendJSON(nil, e.Reason)))
				return
			}
			mark := "+"
			if e.Kind.String() != "created" {
				mark = "*"
			}
			line(fmt.Appendf(nil, "%s %-10s %s\n", mark, e.Category, names.Escape(e.Path)))
		},
		Aggregate: func(a watch.Anchor) {
			if o.format == "ndjson" {
				line(fmt.Appendf(nil, `{"schema":"`+watchSchema+`","event":"count","anchor":%s,"category":"%s","paths":%d,"approximate":%t}`+"\n", names.AppendJSON(nil, a.Anchor), a.Category, a.Paths, a.Approximate))
				return
			}
			line(fmt.Appendf(nil, "= %-10s %s  %s paths\n", a.Category, names.Escape(a.Anchor), pathCount(a)))
		},
		Notice: func(msg string) { fmt.Fprintf(stderr, "fsdiff: note: %s\n", msg) },
	}
	fmt.Fprintf(stderr, "fsdiff: watching %d paths; stop with Ctrl-C\n", len(paths))
	summary, err := watch.Run(ctx, opts)
	if err != nil {
		return err
	}
	if o.format != "ndjson" {
		if err := writeWatchSummary(stdout, summary, paths, live, o.global.layout(stdout, false)); err != nil {
			return err
		}
	}
	// The summary is printed; the exit status still says that the user
	// stopped the watch (130), where --for ended it as asked (0).
	return interrupted.Err()
}

// pathCount is an anchor's count of paths, ~ when it is approximate.
func pathCount(a watch.Anchor) string {
	if a.Approximate {
		return "~" + strconv.Itoa(a.Paths)
	}
	return strconv.Itoa(a.Paths)
}

// writeWatchSummary prints the table of anchors and the Nix that persists
// the state the watch saw.
func writeWatchSummary(stdout io.Writer, summary *watch.Summary, paths []string, live *audit.Audit, l tables.Layout) error {
	g := tables.Grid{Columns: []tables.Column{{Header: "CATEGORY"}, {Header: "PATH", Give: 2, Middle: true}, {Header: "PATHS"}, {Header: "REASON", Give: 1}}}
	for _, a := range summary.Anchors {
		g.Rows = append(g.Rows, []string{a.Category.String(), names.Escape(a.Anchor), pathCount(a), a.Reason})
		g.Categories = append(g.Categories, a.Category)
	}
	fmt.Fprintln(stdout)
	if err := g.Write(stdout, l); err != nil {
		return err
	}
	opts := live.SuggestOptions("")
	opts.Header = suggest.Header{Host: hostname(), Time: now(), Source: "fsdiff watch of " + fmt.Sprint(paths), Baseline: "what existed when the watch began", Version: version()}
	p := suggest.Build(classify.Slice(summary.Entries()), opts)
	fmt.Fprintln(stdout)
	_, err := stdout.Write(p.Nix(suggest.Impermanence))
	return err
}

func hostname() names.String {
	name, _ := os.Hostname()
	return names.String(name)
}
