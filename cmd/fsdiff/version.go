package main

import (
	"fmt"
	"io"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// buildVersion is set by the build: -ldflags "-X main.buildVersion=v1.2.3".
var buildVersion string

func version() string {
	if buildVersion != "" {
		return buildVersion
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

// buildDetails says which commit and toolchain built fsdiff.
func buildDetails() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	details := bi.GoVersion
	if rev := settings["vcs.revision"]; rev != "" {
		if settings["vcs.modified"] == "true" {
			rev += ", modified"
		}
		details = fmt.Sprintf("commit %s, %s, %s", rev, settings["vcs.time"], details)
	}
	return details
}

// versionLine is what fsdiff version and fsdiff --version print.
func versionLine() string {
	return fmt.Sprintf("fsdiff %s (%s)\n", version(), buildDetails())
}

func newVersionCmd(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print fsdiff's version, commit and toolchain",
		Args:  usage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := io.WriteString(stdout, versionLine())
			return err
		},
	}
}
