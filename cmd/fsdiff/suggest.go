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
	"strings"

	"github.com/fsdiff-nix/fsdiff/internal/change"
	"github.com/fsdiff-nix/fsdiff/internal/classify"
	"github.com/fsdiff-nix/fsdiff/internal/names"
	"github.com/fsdiff-nix/fsdiff/internal/snapshot"
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
	opts.target.addFlags(f)
	f.StringVar(&opts.style, "style", string(suggest.Impermanence), styles())
	f.StringVar(&opts.storage, "storage", "", "persistent storage path (default: detected from the live root's persistence mounts, else /persist)")
	f.StringVarP(&opts.output, "output", "o", "", "write to `FILE` atomically instead of stdout")
	f.BoolVar(&opts.force, "force", false, "with -o: replace FILE if it exists")
	f.StringVarP(&opts.format, "format", "f", "nix", "nix, or json for the model")
	// It fails only for a flag that does not exist.
	_ = cmd.RegisterFlagCompletionFunc("style", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		completions := make([]string, len(suggest.Styles))
		for i, s := range suggest.Styles {
			completions[i] = string(s)
		}
		return completions, cobra.ShellCompDirectiveNoFileComp
	})
	return cmd
}

// styles lists the values of --style, for its help and its error.
func styles() string {
	names := make([]string, len(suggest.Styles))
	for i, s := range suggest.Styles {
		names[i] = string(s)
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

func runSuggest(ctx context.Context, o *suggestOptions, stdout, stderr io.Writer) error {
	style := suggest.Style(o.style)
	if !slices.Contains(suggest.Styles, style) {
		return flagError{fmt.Errorf("unknown --style %q: want %s", o.style, styles())}
	}
	if o.format != "nix" && o.format != "json" {
		return flagError{fmt.Errorf("unknown --format %q: want nix or json", o.format)}
	}
	if o.force && o.output == "" {
		return flagError{errors.New("--force goes with -o FILE")}
	}
	if o.output != "" && !o.force {
		if _, err := os.Lstat(o.output); err == nil {
			return fmt.Errorf("%s exists: %w", o.output, fs.ErrExist)
		}
	}
	a, err := audit(ctx, o.global, &o.target, stderr)
	if err != nil {
		return err
	}
	defer a.target.Close()

	storage := o.storage
	if storage == "" {
		storage = storageOf(a.target.LiveMounts())
	}
	opts := suggest.Options{
		Storage: storage,
		Header:  header(a),
		Users:   classify.ParsePasswd(a.files.passwd),
		Groups:  classify.ParseGroup(a.files.group),
		Stat:    ownerOf(a),
	}
	if style == suggest.Preservation {
		opts.FileMode = 0o644
	}
	p := suggest.Build(a.entries, opts)
	var out []byte
	if o.format == "json" {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(p); err != nil {
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
	return cmp.Or(err, a.incomplete)
}

// ownerOf looks up owners in the audited tree, for suggestions.
func ownerOf(a *audited) func(string) (suggest.Owner, bool) {
	return func(path string) (suggest.Owner, bool) {
		uid, gid, mode, err := a.target.Owner(path)
		return suggest.Owner{UID: uid, GID: gid, Mode: mode}, err == nil
	}
}

// header describes the audit for the snippet's comment.
func header(a *audited) suggest.Header {
	info := a.target.Info
	h := suggest.Header{Version: version(), Time: now(), Source: fmt.Sprintf("%s source, root %s", info.Source, info.Root),
		Baseline: fmt.Sprintf("%s (generation %d)", info.Baseline, info.BaselineGeneration)}
	switch {
	case info.Source != change.Btrfs && info.Baseline != "":
		h.Baseline = info.Baseline
	case info.Source != change.Btrfs, info.Baseline == "" && info.BaselineGeneration == 0:
		h.Baseline = "none" // everything in the root is new
	case info.Baseline == "":
		h.Baseline = fmt.Sprintf("the root's creation (generation %d)", info.BaselineGeneration)
	}
	if name, err := a.target.ReadFile("/etc/hostname"); err == nil {
		h.Host = names.String(strings.TrimSpace(string(name)))
	}
	if h.Host == "" && a.target.LiveMounts() != nil {
		name, _ := os.Hostname()
		h.Host = names.String(name)
	}
	if h.Host == "" {
		h.Host = "unknown"
	}
	return h
}

// storageOf finds the persistent storage path of the live root from its
// bind mounts: a bind of /persist/etc/ssh onto /etc/ssh, from a filesystem
// mounted at /persist, says /persist. It returns /persist when there are
// none.
func storageOf(mounts []snapshot.Mount) string {
	for _, bind := range mounts {
		if bind.Root == "/" || bind.Point == "/" || volatile[bind.FSType] {
			continue
		}
		for _, m := range mounts {
			if m.Dev != bind.Dev || m.Point == bind.Point || volatile[m.FSType] {
				continue
			}
			// m mounts its filesystem's m.Root at m.Point, so the bind's source
			// is at m.Point + (bind.Root - m.Root); the storage is that minus
			// the bind's own path.
			rel, ok := strings.CutPrefix(bind.Root, strings.TrimSuffix(m.Root, "/")+"/")
			if !ok {
				continue
			}
			source := filepath.Join(m.Point, rel)
			if storage, ok := strings.CutSuffix(source, bind.Point); ok && storage != "" {
				return storage
			}
		}
	}
	return "/persist"
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
