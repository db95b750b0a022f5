package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/fsdiff-nix/fsdiff/internal/audit"
	"github.com/fsdiff-nix/fsdiff/internal/classify"
	"github.com/fsdiff-nix/fsdiff/internal/names"
	"github.com/fsdiff-nix/fsdiff/internal/persist"
	"github.com/fsdiff-nix/fsdiff/internal/report"
	"github.com/fsdiff-nix/fsdiff/internal/suggest"
	"github.com/fsdiff-nix/fsdiff/internal/tables"
	"github.com/spf13/cobra"
)

type checkOptions struct {
	global  *globalOptions
	target  targetOptions
	failOn  []string
	format  string
	junit   string
	metrics string
	stale   bool
	quiet   bool
}

func newCheckCmd(g *globalOptions, stdout, stderr io.Writer) *cobra.Command {
	opts := checkOptions{global: g}
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Fail when the root holds state the configuration does not declare",
		Long: `check audits the root like fsdiff does and fails when an anchor holds a path
that meets a --fail-on threshold: the gate for CI and fleets. By default
it fails on persist state whose loss costs data, settings or function
(persist:recommended: critical and recommended) and on unknown state;
optional state (logs, caches many keep, histories) is reported, not
failed: --fail-on persist,unknown fails on every priority. It prints the
failing anchors and, on a terminal, a summary and the next step, else the
Nix that would declare them (fsdiff suggest prints it); --format json
prints the versioned report (docs/check-report.md), --junit and --metrics
write files for CI systems and Prometheus.

With --stale it audits nothing and lists, the other way round, the
declared entries (--declared) whose copies in storage are missing or
empty: configuration that persists nothing.

To allow a path, write a user rule (ephemeral /var/lib/foo/**) in a --rules
file, $XDG_CONFIG_HOME/fsdiff/rules or /etc/fsdiff/rules.

-q prints nothing but errors and warnings: the exit status is the answer,
as with grep -q.

Exit status:
  0    no undeclared state
  1    undeclared state found (with --stale: stale declarations found)
  2    usage error, or an error that makes the answer incomplete
  130  interrupted (SIGINT or SIGTERM)`,
		Example: `  sudo fsdiff check
  sudo fsdiff check -q || echo "this host holds undeclared state"
  sudo fsdiff check --declared persistence.json --format json --junit report.xml
  sudo fsdiff check --fail-on persist:critical --metrics /var/lib/node-exporter/fsdiff.prom
  sudo fsdiff check --stale --declared persistence.json`,
		Args: usage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCheck(cmd.Context(), &opts, stdout, stderr)
		},
	}
	f := cmd.Flags()
	opts.target.addFlags(cmd)
	var defaults, thresholds []string
	for _, t := range classify.DefaultThresholds {
		defaults = append(defaults, t.String())
	}
	for _, t := range classify.Thresholds() {
		thresholds = append(thresholds, t.String())
	}
	f.StringSliceVar(&opts.failOn, "fail-on", defaults, "what fails the check: categories ("+classify.CategoryList(", ", ", ")+"), persist:PRIORITY for persist at that priority or above")
	enumListFlag(cmd, "fail-on", thresholds)
	f.StringVarP(&opts.format, "format", "f", "", "table, tsv (the failing anchors), or json for the report (default: table on a terminal, tsv otherwise)")
	enumFlag(cmd, "format", checkFormats)
	f.StringVar(&opts.junit, "junit", "", "also write a JUnit XML report to `FILE`")
	f.StringVar(&opts.metrics, "metrics", "", "also write Prometheus metrics to `FILE` (textfile collector format), atomically")
	f.BoolVar(&opts.stale, "stale", false, "list the --declared entries whose copies in storage are missing or empty, instead of auditing")
	f.BoolVarP(&opts.quiet, "quiet", "q", false, "print nothing, as grep -q: the exit status is the answer (errors and warnings still go to stderr, --junit and --metrics files are written)")
	return cmd
}

// checkFormats are the values of check --format.
var checkFormats = []string{"table", "tsv", "json"}

// checkFailed is the outcome of a check that found undeclared state.
type checkFailed struct{ anchors, paths int }

func (e checkFailed) Error() string {
	return fmt.Sprintf("%d anchors (%d paths) of undeclared state", e.anchors, e.paths)
}

// staleFound is the outcome of check --stale that found declarations
// that persist nothing.
type staleFound int

func (e staleFound) Error() string {
	return fmt.Sprintf("%d declared entries persist nothing", int(e))
}

func runCheck(ctx context.Context, o *checkOptions, stdout, stderr io.Writer) error {
	if o.quiet {
		// The outcome is the exit status; what goes wrong still shows. -q
		// wins over --format, as grep -q does over its output options, so
		// that it can be added to a command line that names one (the NixOS
		// module's). It is also the global -q (no progress line), which
		// check's own flag shadows.
		o.global.quiet = true
		err := runCheckTo(ctx, o, io.Discard, stderr)
		if errors.As(err, new(checkFailed)) || errors.As(err, new(staleFound)) {
			err = quietOutcome{err}
		}
		return err
	}
	return runCheckTo(ctx, o, stdout, stderr)
}

func runCheckTo(ctx context.Context, o *checkOptions, stdout, stderr io.Writer) error {
	if o.stale {
		return runStale(o, stdout, stderr)
	}
	var failOn []classify.Threshold
	for _, s := range o.failOn {
		t, err := classify.ParseThreshold(s)
		if err != nil {
			return flagError{fmt.Errorf("--fail-on: %w", err)}
		}
		failOn = append(failOn, t)
	}
	format := cmp.Or(o.format, tableOrTSV(stdout))
	if err := checkFormat(format, checkFormats); err != nil {
		return err
	}
	start := time.Now()
	a, res, err := scan(ctx, o.global, &o.target, stderr, false)
	if err != nil {
		return err
	}
	defer a.Target.Close()
	r := report.NewCheckReport(res.Entries, failOn, a.Target.Info)
	r.Version, r.Time, r.Duration = version(), now(), time.Since(start).Seconds()
	r.Host = a.Host()
	for _, p := range res.Problems {
		r.Errors = append(r.Errors, p.Error())
	}

	if o.junit != "" {
		data, err := r.JUnit()
		if err == nil {
			err = writeAtomic(o.junit, data, true)
		}
		if err != nil {
			return inputError{"--junit", fmt.Errorf("writing the JUnit report: %w", err)}
		}
	}
	if o.metrics != "" {
		if err := writeAtomic(o.metrics, r.Metrics(), true); err != nil {
			return inputError{"--metrics", fmt.Errorf("writing metrics: %w", err)}
		}
	}
	switch format {
	case "json":
		data, err := r.JSON()
		if err != nil {
			return err
		}
		if _, err := stdout.Write(data); err != nil {
			return err
		}
	case "tsv":
		var b strings.Builder
		for _, f := range r.Failing() {
			fmt.Fprintf(&b, "%s\t%s\t%d\t%s\n", f.Category, names.Escape(string(f.Anchor)), f.Paths, tsvField(f.Reason))
		}
		if _, err := io.WriteString(stdout, b.String()); err != nil {
			return err
		}
	default:
		if err := writeCheck(stdout, a, res, r, o.global.layout(stdout, true), isTerminal(stdout)); err != nil {
			return err
		}
	}
	if err := incomplete(res); err != nil {
		return err
	}
	if failing := r.Failing(); len(failing) > 0 {
		paths := 0
		for _, f := range failing {
			paths += f.Paths
		}
		return checkFailed{len(failing), paths}
	}
	return nil
}

// writeCheck prints the failing anchors, then the Nix that declares them.
// On a terminal, where the table fits its width, a summary and the next
// step take the place of the Nix, whose lines cannot be cut: fsdiff
// suggest prints it.
func writeCheck(w io.Writer, a *audit.Audit, res *audit.Result, r *report.CheckReport, l tables.Layout, tty bool) error {
	failing := r.Failing()
	if len(failing) == 0 {
		return tables.WriteLines(w, []string{fmt.Sprintf("no undeclared state: %d changed paths, none %s", res.Entries.Len(), strings.Join(r.FailOn, " or "))}, l.Width)
	}
	g := tables.Grid{Columns: []tables.Column{{Header: "CATEGORY"}, {Header: "PATH", Give: 2, Middle: true}, {Header: "FILES"}, {Header: "REASON", Give: 1}}}
	counts := map[classify.Category]int{}
	paths := 0
	for _, f := range failing {
		g.Rows = append(g.Rows, []string{f.Category, names.Escape(string(f.Anchor)), fmt.Sprint(f.Paths), f.Reason})
		c, _ := classify.ParseCategory(f.Category)
		g.Categories = append(g.Categories, c)
		counts[c]++
		paths += f.Paths
	}
	if err := g.Write(w, l); err != nil {
		return err
	}
	if tty {
		if !l.Summary {
			return nil
		}
		return tables.WriteLines(w, []string{"",
			fmt.Sprintf("%d anchors (%d paths) fail the check: %s.", len(failing), paths, tables.CountCategories(counts, l.Color)),
			"Next: fsdiff suggest to declare them; fsdiff explain PATH to see why a path is in its category; a user rule to allow one (README, \"Rules\").",
		}, l.Width)
	}
	// The suggestion holds the persist anchors (optional ones too, which the
	// default thresholds report without failing) and, commented out, the
	// unknown ones.
	p := suggest.Build(res.Entries, suggestOptionsOf(a, ""))
	if _, err := fmt.Fprintln(w, "\nTo declare it (fsdiff suggest prints this with every option):"); err != nil {
		return err
	}
	_, err := w.Write(p.Nix(suggest.Impermanence))
	return err
}

// runStale lists the declared entries whose copies in storage are missing
// or empty, one per line: why, the copy's path, where it is declared.
func runStale(o *checkOptions, stdout, stderr io.Writer) error {
	if o.global.declared == "" {
		return flagError{errors.New("--stale needs --declared FILE")}
	}
	a, err := openAudit(o.global, &o.target, stderr) // for the homes of users.NAME entries
	if err != nil {
		return err
	}
	defer a.Target.Close()
	declared, _, err := audit.ReadDeclared(o.global.declared, classify.ParsePasswd(a.Files.Passwd))
	if err != nil {
		return err
	}
	stale, err := persist.FindStale(declared)
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, s := range stale {
		fmt.Fprintf(&b, "%s\t%s\t%s\n", s.Why, names.Escape(s.Copy), tsvField(s.Reason))
	}
	if len(stale) == 0 {
		fmt.Fprintf(&b, "no stale declarations: each of the %d declared entries holds something in storage\n", len(declared))
	}
	if _, err := io.WriteString(stdout, b.String()); err != nil {
		return err
	}
	if len(stale) > 0 {
		return staleFound(len(stale))
	}
	return nil
}
