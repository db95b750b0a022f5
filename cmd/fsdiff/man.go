//go:build docs

package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// The man command is built only with -tags docs, so that the man page
// generator and its Markdown renderer stay out of fsdiff itself:
//
//	go run -tags docs ./cmd/fsdiff man DIR
func init() {
	extraCommands = append(extraCommands, newManCmd)
}

func newManCmd(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:    "man DIR",
		Short:  "Write a man page for every command into DIR",
		Hidden: true,
		Args:   usage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := os.MkdirAll(args[0], 0o755); err != nil {
				return err
			}
			root := cmd.Root()
			root.DisableAutoGenTag = true // reproducible pages
			header := &doc.GenManHeader{Title: "FSDIFF", Section: "1", Source: "fsdiff " + version(), Manual: "fsdiff manual"}
			if err := doc.GenManTree(root, header, args[0]); err != nil {
				return err
			}
			_, err := fmt.Fprintf(stdout, "man pages written to %s\n", args[0])
			return err
		},
	}
}
