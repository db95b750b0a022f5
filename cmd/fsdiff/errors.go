package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"

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
	case errors.As(err, new(checkFailed)):
		fmt.Fprintf(stderr, "fsdiff: %v\n", err)
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
	case errors.Is(err, snapshot.ErrReadOnly):
		return "fsdiff never makes a read-only filesystem writable: pass --source btrfs (no deletions or renames) or --source walk, which need no snapshot"
	case errors.Is(err, snapshot.ErrNoRoot):
		return "pass --root SUBVOL, the root subvolume's path under the top level"
	case errors.Is(err, errIncomplete):
		return "run as root (sudo fsdiff) to read everything"
	case errors.Is(err, fs.ErrExist):
		return "pass --force to replace it"
	case errors.Is(err, fs.ErrNotExist):
		return "check the path; btrfs subvolume list DIR shows the subvolumes of a mounted btrfs filesystem"
	}
	return ""
}
