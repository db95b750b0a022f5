package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/fsdiff-nix/fsdiff/internal/classify"
	"github.com/fsdiff-nix/fsdiff/internal/names"
	"github.com/fsdiff-nix/fsdiff/internal/tables"
	"github.com/spf13/cobra"
)

func newRulesCmd(g *globalOptions, stdout io.Writer) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "List the classification rules, user rules first",
		Long: `rules lists every rule fsdiff classifies with: those of --rules files, of
$XDG_CONFIG_HOME/fsdiff/rules and of /etc/fsdiff/rules, then the built-in
ones, in file order. A rule's ID is FILE:LINE.
` + exitStatusHelp,
		Args: usage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRules(g, cmp.Or(format, tableOrTSV(stdout)), stdout)
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "", "output format: "+strings.Join(rulesFormats, ", ")+" (default: table on a terminal, tsv otherwise)")
	enumFlag(cmd, "format", rulesFormats)
	return cmd
}

// rulesFormats are the values of rules --format.
var rulesFormats = []string{"table", "tsv", "json"}

// rulesSchema names the version of rules --format json
// (docs/rules.schema.json): it changes when a field changes meaning or
// disappears, not when one is added.
const rulesSchema = "fsdiff-rules/1"

// rulesJSON is fsdiff rules --format json.
type rulesJSON struct {
	Schema string     `json:"schema"`
	Rules  []ruleJSON `json:"rules"`
}

// ruleJSON is a rule in fsdiff rules --format json. A pattern is a name:
// its bytes need not be UTF-8.
type ruleJSON struct {
	ID       string       `json:"id"`
	Category string       `json:"category"`
	Pattern  names.String `json:"pattern"`
	Priority string       `json:"priority,omitempty"`
	If       string       `json:"if,omitempty"`
	Anchor   names.String `json:"anchor,omitempty"`
	Reason   string       `json:"reason"`
	Source   string       `json:"source"`
	User     bool         `json:"user"`
}

func runRules(g *globalOptions, format string, stdout io.Writer) error {
	if err := checkFormat(format, rulesFormats); err != nil {
		return err
	}
	rules, err := g.classifyOptions(nil).LoadRules()
	if err != nil {
		return err
	}
	switch format {
	case "json":
		out := make([]ruleJSON, len(rules))
		for i, r := range rules {
			out[i] = ruleJSON{ID: r.ID, Category: r.Category.String(), Pattern: names.String(r.Pattern), If: r.If, Anchor: names.String(r.Anchor), Reason: r.Reason, Source: r.Source, User: r.User}
			if r.Priority != 0 {
				out[i].Priority = r.Priority.String()
			}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(rulesJSON{rulesSchema, out})
	case "tsv":
		var b strings.Builder
		for _, r := range rules {
			fmt.Fprintf(&b, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Category, r.Priority, names.Escape(r.Pattern), r.If, tsvField(r.Reason), tsvField(r.Source))
		}
		_, err := io.WriteString(stdout, b.String())
		return err
	default: // table
		l := g.layout(stdout, true)
		t := tables.Grid{CategoryColumn: 1, Columns: []tables.Column{{Header: "ID", Give: 3, Middle: true}, {Header: "CATEGORY"}, {Header: "PRIORITY"},
			{Header: "PATTERN", Give: 2, Middle: true}, {Header: "IF", Give: 1}, {Header: "REASON", Give: 1}}}
		counts := map[classify.Category]int{}
		user := 0
		for _, r := range rules {
			cond := ""
			if r.If != "" {
				cond = "if " + r.If
			}
			t.Rows = append(t.Rows, []string{r.ID, r.Category.String(), r.Priority.String(), r.Pattern, cond, r.Reason})
			t.Categories = append(t.Categories, r.Category)
			counts[r.Category]++
			if r.User {
				user++
			}
		}
		if err := t.Write(stdout, l); err != nil || !l.Summary {
			return err
		}
		return tables.WriteLines(stdout, []string{"",
			fmt.Sprintf("%d rules (%d from user rule files): %s.", len(rules), user, tables.CountCategories(counts, l.Color)),
			"Next: fsdiff explain PATH to see which rules match a path and which one wins.",
		}, l.Width)
	}
}

func tsvField(s string) string { return strings.NewReplacer("\t", " ", "\n", " ").Replace(s) }
