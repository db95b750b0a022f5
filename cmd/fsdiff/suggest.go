package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/fsdiff-nix/fsdiff/internal/audit"
	"github.com/fsdiff-nix/fsdiff/internal/suggest"
	"github.com/spf13/cobra"
)

type suggestOptions struct {
	global  *globalOptions
	target  targetOptions
	style   string
	storage string
	output  string
	force   bool
	format  string
}

func newSuggestCmd(g *globalOptions, stdout, stderr io.Writer) *cobra.Command {
	opts := suggestOptions{global: g}
	cmd := &cobra.Command{
		Use:   "suggest",
		Short: "Write the Nix that persists the state this root holds",
		Long: `suggest audits the root like fsdiff does and prints a NixOS module that
persists every anchor classified persist: environment.persistence for
impermanence (default), preservation.preserveAt (--style preservation), or
with --style home-manager environment.persistence for system paths and
home-manager.users.NAME.home.persistence (impermanence's Home Manager
module) for home paths. Directories whose owner, group or mode differ from
the module's default get them, named from the audited root's /etc/passwd
and /etc/group; paths in a home go under users.NAME, relative to it.
Anchors already declared are left out; unknown ones follow, commented out,
under their reason.
` + exitStatusHelp,
		Example: `  sudo fsdiff suggest
  sudo fsdiff suggest --style preservation --storage /persistent -o persist.nix
  sudo fsdiff suggest --style home-manager
  sudo fsdiff suggest --declared persistence.json   # only what is missing`,
		Args: usage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSuggest(cmd.Context(), &opts, stdout, stderr)
		},
	}
	f := cmd.Flags()
	opts.target.addFlags(cmd)
	f.StringVar(&opts.style, "style", string(suggest.Impermanence), oneOf(strs(suggest.Styles)))
	enumFlag(cmd, "style", strs(suggest.Styles))
	f.StringVar(&opts.storage, "storage", "", "persistent storage path (default: detected from the live root's persistence mounts, else /persist)")
	f.StringVarP(&opts.output, "output", "o", "", "write to `FILE` atomically instead of stdout")
	f.BoolVar(&opts.force, "force", false, "with -o: replace FILE if it exists")
	f.StringVarP(&opts.format, "format", "f", "nix", "nix, or json for the model")
	enumFlag(cmd, "format", suggestFormats)
	return cmd
}

// suggestFormats are the values of suggest --format.
var suggestFormats = []string{"nix", "json"}

// suggestSchema names the version of suggest --format json
// (docs/suggest.schema.json): it changes when a field changes meaning or
// disappears, not when one is added.
const suggestSchema = "fsdiff-suggest/1"

// suggestJSON is the model with its version first.
type suggestJSON struct {
	Schema string `json:"schema"`
	suggest.Persistence
}

func runSuggest(ctx context.Context, o *suggestOptions, stdout, stderr io.Writer) error {
	style := suggest.Style(o.style)
	if !slices.Contains(suggest.Styles, style) {
		return flagError{fmt.Errorf("unknown --style %q: want %s", o.style, oneOf(strs(suggest.Styles)))}
	}
	if err := checkFormat(o.format, suggestFormats); err != nil {
		return err
	}
	if o.force && o.output == "" {
		return flagError{errors.New("--force goes with -o FILE")}
	}
	if o.output != "" && !o.force {
		if _, err := os.Lstat(o.output); err == nil {
			return fmt.Errorf("%s exists: %w", o.output, fs.ErrExist)
		}
	}
	a, r, err := scan(ctx, o.global, &o.target, stderr, false)
	if err != nil {
		return err
	}
	defer a.Target.Close()

	opts := suggestOptionsOf(a, o.storage)
	if style == suggest.Preservation {
		opts.FileMode = 0o644
	}
	p := suggest.Build(r.Entries, opts)
	var out []byte
	if o.format == "json" {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(suggestJSON{suggestSchema, p}); err != nil {
			return err
		}
		out = b.Bytes()
	} else {
		out = p.Nix(style)
	}
	if o.output == "" {
		_, err = stdout.Write(out)
	} else {
		if err = writeAtomic(o.output, out, o.force); err != nil {
			err = inputError{"--output", err}
		}
	}
	return cmp.Or(err, incomplete(r))
}

// suggestOptionsOf are the options of a suggestion for what a audited,
// stamped with this fsdiff's version and time.
func suggestOptionsOf(a *audit.Audit, storage string) suggest.Options {
	opts := a.SuggestOptions(storage)
	opts.Header.Version, opts.Header.Time = version(), now()
	return opts
}

// writeAtomic writes data to a temporary file next to name, then moves it
// into place: replacing name only with force, never leaving half a file.
// Its errors name name, not the temporary file the user never saw.
func writeAtomic(name string, data []byte, force bool) error {
	if err := writeVia(name, data, force); err != nil {
		var pe *os.PathError
		var le *os.LinkError
		switch {
		case errors.As(err, &pe):
			err = pe.Err
		case errors.As(err, &le):
			err = le.Err
		}
		return &os.PathError{Op: "write", Path: name, Err: err}
	}
	return nil
}

func writeVia(name string, data []byte, force bool) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), ".fsdiff-suggest-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if force {
		return os.Rename(tmp.Name(), name)
	}
	// A link fails if name appeared meanwhile: never overwrite without --force.
	return os.Link(tmp.Name(), name)
}
