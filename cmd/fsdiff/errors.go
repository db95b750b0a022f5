package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"syscall"

	"github.com/fsdiff-nix/fsdiff/internal/audit"
	"github.com/fsdiff-nix/fsdiff/internal/persist"
	"github.com/fsdiff-nix/fsdiff/internal/report"
	"github.com/fsdiff-nix/fsdiff/internal/snapshot"
	"github.com/spf13/cobra"
)

// Exit codes, documented in the root command's help.
const (
	exitOK          = 0
	exitUndeclared  = 1 // fsdiff check found undeclared state
	exitError       = 2
	exitInterrupted = 130
)

const exitStatusHelp = `
Exit status:
  0    the audit ran (whatever it found)
  2    usage error, or an error that makes the answer incomplete
  130  interrupted (SIGINT or SIGTERM)`

// flagError is a command-line mistake: the only kind of error that prints
// usage.
type flagError struct{ error }

func (e flagError) Unwrap() error { return e.error }

// quietOutcome is an outcome (checkFailed, staleFound) of check -q: its
// exit status says it, nothing prints it.
type quietOutcome struct{ error }

func (e quietOutcome) Unwrap() error { return e.error }

// usage makes the errors of an argument validator flag errors.
func usage(validate cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := validate(cmd, args); err != nil {
			return flagError{err}
		}
		return nil
	}
}

// exitCode prints err as fsdiff: error and fsdiff: hint lines and returns
// the exit code for it. It is the one place errors become exit codes.
func exitCode(err error, stderr io.Writer) int {
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(stderr, "fsdiff: interrupted")
		return exitInterrupted
	case errors.As(err, new(checkFailed)), errors.As(err, new(persistConflicts)), errors.As(err, new(staleFound)), errors.As(err, new(differencesFound)):
		if !errors.As(err, new(quietOutcome)) {
			fmt.Fprintf(stderr, "fsdiff: %v\n", err)
		}
		return exitUndeclared
	}
	fmt.Fprintf(stderr, "fsdiff: error: %v\n", err)
	if h := hint(err); h != "" {
		fmt.Fprintf(stderr, "fsdiff: hint: %s\n", h)
	}
	return exitError
}

// hint says what to do about an error, where fsdiff knows.
func hint(err error) string {
	var notBtrfs *snapshot.NotBtrfsError
	var input inputError
	var auditInput *audit.InputError
	switch {
	case errors.As(err, new(flagError)):
		return "" // the usage follows
	case errors.Is(err, snapshot.ErrPermission):
		return "reading btrfs trees needs root (CAP_SYS_ADMIN): run sudo fsdiff"
	case errors.Is(err, fs.ErrPermission):
		return "run fsdiff as root (sudo fsdiff) to read everything"
	case errors.As(err, &notBtrfs) && notBtrfs.Path == "/":
		return "to walk it, pass --source walk --root / --baseline DIR (a snapshot, e.g. /.zfs/snapshot/blank) or --baseline none; for a btrfs root mounted elsewhere, pass --mount DIR (its top level) and --root SUBVOL"
	case errors.As(err, &notBtrfs):
		return "--mount, --root and --baseline must be on a btrfs filesystem"
	case errors.Is(err, snapshot.ErrNotTopLevel):
		return "mount the top level with mount -o subvolid=5 DEVICE DIR and pass --mount DIR, or pass --device DEVICE"
	case errors.Is(err, snapshot.ErrNotSubvolume):
		return "--root and --baseline name a subvolume: its path under the top level (root, root-blank) or its absolute directory; btrfs subvolume list DIR shows them"
	case errors.Is(err, snapshot.ErrNoBaseline):
		return "pass --baseline DIR (a snapshot of the root when it was blank) or --baseline none"
	case errors.Is(err, snapshot.ErrUnrelatedBaseline):
		return "--baseline must be the blank snapshot the root was restored from (or taken from it); btrfs subvolume list -uq DIR shows UUIDs and parent UUIDs; or pass --baseline none"
	case errors.Is(err, snapshot.ErrSendNoBaseline):
		return "pass --source btrfs (or --source walk) to list every entry of the root, or --baseline SUBVOL to compare with a snapshot"
	case errors.Is(err, snapshot.ErrSendPathTooLong):
		return "pass --source btrfs: it reads names from the b-tree and has no path length limit"
	case errors.Is(err, snapshot.ErrOutsideTopLevel):
		return "--root and --baseline name a subvolume by its path under the top level (root, old_roots/<ts>) or by its absolute directory"
	case errors.Is(err, snapshot.ErrReadOnly):
		return "fsdiff never makes a read-only filesystem writable: pass --source btrfs (no deletions or renames) or --source walk, which need no snapshot"
	case errors.Is(err, snapshot.ErrWalkDir) && !errors.Is(err, fs.ErrPermission):
		return "check the path: the walk compares a --root directory that exists with a --baseline directory that exists, or with none"
	case errors.Is(err, snapshot.ErrWalkRelative):
		return "the walk source compares directories: pass --root and --baseline as absolute directories, or --baseline none"
	case errors.Is(err, snapshot.ErrNoRoot) && errors.Is(err, errors.ErrUnsupported):
		return "pass --root DIR and --baseline DIR or none"
	case errors.Is(err, snapshot.ErrNoRoot):
		return "pass --root SUBVOL, the root subvolume's path under the top level"
	case errors.Is(err, persist.ErrNotAnchor):
		return "fsdiff persist takes the anchors fsdiff suggest declares (an anchor already declared has nothing to move); fsdiff persist without paths plans them all"
	case errors.Is(err, persist.ErrStorageInRoot):
		return "the next boot erases the root: pass --storage DIR on another subvolume or filesystem (e.g. /persist)"
	case errors.Is(err, persist.ErrMountPoint):
		return "a mount point's content lives on its own filesystem: leave it out, or persist the directories inside it"
	case errors.Is(err, errNoTree):
		return "persist copies from a root: pass --root (and --mount) instead of --send-stream"
	case errors.Is(err, errIncomplete):
		return "run as root (sudo fsdiff) to read everything"
	case errors.Is(err, report.ErrNotAudit):
		return "fsdiff diff compares audit reports saved with fsdiff --format json > FILE (not the output of check, suggest or --format ndjson)"
	case errors.Is(err, report.ErrSchema):
		return "save both reports again with this fsdiff (fsdiff --format json), or compare them with the fsdiff that wrote them"
	case errors.Is(err, report.ErrTooLarge):
		return fmt.Sprintf("fsdiff diff reads reports of at most %d GiB and %d changes, %d MiB for one change: this file is larger, or no report", report.SavedLimits.Size>>30, report.SavedLimits.Changes, report.SavedLimits.Value>>20)
	case errors.Is(err, fs.ErrExist):
		return "pass --force to replace it"
	case errors.As(err, &input) && (errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.EISDIR)):
		return inputHints[input.what]
	case errors.As(err, &auditInput) && errors.Is(err, fs.ErrNotExist):
		return inputHints[auditInputs[auditInput.Input]]
	case errors.Is(err, fs.ErrNotExist):
		return "check the path; btrfs subvolume list DIR shows the subvolumes of a mounted btrfs filesystem"
	}
	return ""
}

// inputError is an error about a file or directory the user named with a
// flag or an argument (what: "--rules"), not a subvolume: its hint is
// about that input.
type inputError struct {
	what string
	err  error
}

func (e inputError) Error() string { return e.err.Error() }
func (e inputError) Unwrap() error { return e.err }

// auditInputs name the flags that give the inputs of an audit.
var auditInputs = map[audit.Input]string{
	audit.RuleFile:     "--rules",
	audit.DeclaredFile: "--declared",
	audit.SendStream:   "--send-stream",
}

// inputHints say what to do about an input that does not exist.
var inputHints = map[string]string{
	"--rules":       "check the path given to --rules: a rule file (README, \"Rules\")",
	"--declared":    "check the path given to --declared: the JSON of nix eval --json FLAKE#nixosConfigurations.HOST.config.environment.persistence (README, \"Declared persistence\")",
	"--send-stream": "check the path given to --send-stream: a file saved with btrfs send --no-data -p BASELINE SNAPSHOT > FILE, or - for standard input",
	"watch":         "fsdiff watch takes directories that exist (default /)",
	"diff":          "fsdiff diff takes two audit reports saved with fsdiff --format json > FILE",
	"--junit":       "the directory of the --junit file must exist: create it, or name a file in another one",
	"--metrics":     "the directory of the --metrics file must exist: create it, or name a file in another one",
	"--output":      "the directory of the --output file must exist: create it, or name a file in another one",
}
