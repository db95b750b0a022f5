package main

import (
	"fmt"
	"io"
	"os"
	"syscall"

	"github.com/fsdiff-nix/fsdiff/internal/report"
	"github.com/fsdiff-nix/fsdiff/internal/tables"
	"github.com/spf13/cobra"
)

type diffOptions struct {
	global   *globalOptions
	output   outputFlags
	old, new string
}

func newDiffCmd(g *globalOptions, stdout io.Writer) *cobra.Command {
	opts := diffOptions{global: g}
	cmd := &cobra.Command{
		Use:   "diff OLD.json NEW.json",
		Short: "Compare two saved audit reports: what appeared, disappeared or changed category",
		Long: fmt.Sprintf(`diff compares two audit reports saved with fsdiff --format json: two boots of
one host (what the last boot left that the one before did not), or two
hosts. It lists the anchors, the rows of the default table, that appeared
in NEW, disappeared from OLD, or are in both in another category (or, for
persist, at another priority); --all compares path by path instead. The
verdicts are the reports' own: rules are not applied again. Paths are
compared byte for byte.

Each report is read strictly (its schema version must be this fsdiff's)
and within limits, so that a file that is no report cannot take the
memory: at most %d GiB, %d changes and %d MiB for one change.

Exit status:
  0    the reports do not differ
  1    they differ
  2    usage error, or a file that cannot be read as a report
  130  interrupted (SIGINT or SIGTERM)`, report.SavedLimits.Size>>30, report.SavedLimits.Changes, report.SavedLimits.Value>>20),
		Example: `  sudo fsdiff --format json > /persist/fsdiff/$(date +%F).json    # after each boot
  fsdiff diff /persist/fsdiff/2026-01-01.json /persist/fsdiff/2026-01-02.json
  fsdiff diff --format json web1.json web2.json`,
		Args: usage(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.old, opts.new = args[0], args[1]
			return runDiff(&opts, stdout)
		},
	}
	opts.output.addFlags(cmd, "compare path by path instead of anchor by anchor")
	return cmd
}

// differencesFound is the outcome of a diff whose reports differ.
type differencesFound struct{ appeared, changed, disappeared int }

func (e differencesFound) Error() string {
	return fmt.Sprintf("%d appeared, %d changed, %d disappeared", e.appeared, e.changed, e.disappeared)
}

func runDiff(o *diffOptions, stdout io.Writer) error {
	out, err := o.output.options(stdout, o.global)
	if err != nil {
		return err
	}
	older, err := readSaved(o.old)
	if err != nil {
		return err
	}
	newer, err := readSaved(o.new)
	if err != nil {
		return err
	}
	rows := report.Diff(older.Entries, newer.Entries, out.All)
	if err := out.writeDiff(stdout, rows, report.DiffInput{File: o.old, Audit: older.Audit}, report.DiffInput{File: o.new, Audit: newer.Audit}); err != nil {
		return err
	}
	var found differencesFound
	for _, r := range rows {
		switch r.Difference {
		case report.Appeared:
			found.appeared++
		case report.Changed:
			found.changed++
		case report.Disappeared:
			found.disappeared++
		}
	}
	if len(rows) > 0 {
		return found
	}
	return nil
}

// readSaved reads the audit report in the file name.
func readSaved(name string) (*report.Saved, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, inputError{"diff", fmt.Errorf("reading a report: %w", err)}
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return nil, inputError{"diff", fmt.Errorf("reading a report: %q: %w", name, syscall.EISDIR)}
	}
	s, err := report.ReadAudit(f, report.SavedLimits)
	if err != nil {
		return nil, fmt.Errorf("reading %q: %w", name, err)
	}
	return s, nil
}

// writeDiff writes the sorted differences between the reports old and new:
// a table for people, or a format for programs.
func (o output) writeDiff(w io.Writer, rows []report.DiffRow, old, new report.DiffInput) error {
	if o.Format == report.Table {
		return tables.Diff(w, rows, o.All, o.layout)
	}
	return report.WriteDiff(w, rows, report.DiffOptions{Options: o.Options, Version: version(), Old: old, New: new})
}
