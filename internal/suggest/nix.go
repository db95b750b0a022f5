package suggest

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/fsdiff-nix/fsdiff/internal/classify"
	"github.com/fsdiff-nix/fsdiff/internal/names"
)

// Style is the NixOS module a snippet is written for.
type Style string

const (
	Impermanence Style = "impermanence" // environment.persistence (nix-community/impermanence)
	Preservation Style = "preservation" // preservation.preserveAt (nix-community/preservation)
	// HomeManager writes home paths for impermanence's Home Manager module
	// (home-manager.users.NAME.home.persistence), system paths as
	// Impermanence does.
	HomeManager Style = "home-manager"
)

// Styles lists the styles, for flags.
var Styles = []Style{Impermanence, Preservation, HomeManager}

// early lists the paths preservation must set up in the initrd or as
// symlinks (preservation docs/src/examples.md and impermanence-migration.md).
var early = map[string][]string{
	"/etc/machine-id":                   {"inInitrd = true;"},
	"/var/lib/nixos":                    {"inInitrd = true;"},
	"/var/lib/systemd/random-seed":      {`how = "symlink";`, "inInitrd = true;", "configureParent = true;"},
	"/etc/ssh/ssh_host_ed25519_key":     {`how = "symlink";`, "configureParent = true;"},
	"/etc/ssh/ssh_host_ed25519_key.pub": {`how = "symlink";`, "configureParent = true;"},
	"/etc/ssh/ssh_host_rsa_key":         {`how = "symlink";`, "configureParent = true;"},
	"/etc/ssh/ssh_host_rsa_key.pub":     {`how = "symlink";`, "configureParent = true;"},
	"/etc/ssh/ssh_host_ecdsa_key":       {`how = "symlink";`, "configureParent = true;"},
	"/etc/ssh/ssh_host_ecdsa_key.pub":   {`how = "symlink";`, "configureParent = true;"},
}

// Nix writes p as a NixOS module in the given style, laid out as nixfmt
// would, sorted, with the unknown entries commented out under their reason.
func (p Persistence) Nix(style Style) []byte {
	w := &nixWriter{}
	w.comment(0, fmt.Sprintf("Suggested by fsdiff %s for host %s at %s.", p.Header.Version, p.Header.Host, p.Header.Time.UTC().Format(time.RFC3339)))
	w.comment(0, fmt.Sprintf("Source: %s; baseline: %s.", p.Header.Source, p.Header.Baseline))
	if p.AlreadyDeclared > 0 {
		w.comment(0, fmt.Sprintf("%d paths the configuration already persists are left out.", p.AlreadyDeclared))
	}
	if p.hasUnknown() {
		w.comment(0, "Commented-out entries are state no rule knows: uncomment what should survive a reboot.")
	}
	w.line(0, "{")
	option := "environment.persistence"
	if style == Preservation {
		option = "preservation.preserveAt"
		w.line(1, "preservation.enable = true;")
	}
	w.line(1, option+"."+nixString(string(p.Storage))+" = {")
	w.entries(2, "directories", "directory", p.Directories, style, false)
	w.entries(2, "files", "file", p.Files, style, false)
	var homeManager []Home
	for _, h := range p.Users {
		// root's home stays with the system: Home Manager rarely manages
		// root, and a home-manager.users entry makes a Home Manager
		// configuration for an account that had none.
		if style == HomeManager && h.Name != "root" {
			homeManager = append(homeManager, h)
			continue
		}
		w.line(2, "users."+nixAttrName(string(h.Name))+" = {")
		w.entries(3, "directories", "directory", h.Directories, style, true)
		w.entries(3, "files", "file", h.Files, style, true)
		w.line(2, "};")
	}
	w.line(1, "};")
	for _, h := range homeManager {
		w.line(1, "home-manager.users."+nixAttrName(string(h.Name))+".home.persistence."+nixString(string(p.Storage))+" = {")
		w.entries(2, "directories", "directory", h.Directories, style, true)
		w.entries(2, "files", "file", h.Files, style, true)
		w.line(1, "};")
	}
	w.line(0, "}")
	return w.buf.Bytes()
}

func (p Persistence) hasUnknown() bool {
	lists := [][]Entry{p.Directories, p.Files}
	for _, h := range p.Users {
		lists = append(lists, h.Directories, h.Files)
	}
	for _, l := range lists {
		if slices.ContainsFunc(l, func(e Entry) bool { return e.Unknown }) {
			return true
		}
	}
	return false
}

type nixWriter struct{ buf bytes.Buffer }

func (w *nixWriter) line(depth int, s string) {
	w.buf.WriteString(strings.Repeat("  ", depth))
	w.buf.WriteString(s)
	w.buf.WriteByte('\n')
}

// comment writes text as a comment. Text that comes from the audited root
// (a host name, a reason) is escaped to one line, so a comment can never
// end early and let the rest become code.
func (w *nixWriter) comment(depth int, text string) {
	w.line(depth, "# "+names.Escape(text))
}

// entries writes a list: the entries to persist, then the unknown ones,
// commented out, grouped under one short comment per reason.
func (w *nixWriter) entries(depth int, list, key string, entries []Entry, style Style, inHome bool) {
	if len(entries) == 0 {
		return
	}
	w.line(depth, list+" = [")
	var reasons []string
	unknown := map[string][]Entry{}
	for _, e := range entries {
		if !e.Unknown {
			w.entry(depth+1, key, e, style, inHome, "")
			continue
		}
		if unknown[e.Reason] == nil {
			reasons = append(reasons, e.Reason)
		}
		unknown[e.Reason] = append(unknown[e.Reason], e)
	}
	for _, r := range reasons {
		w.comment(depth+1, "unknown: "+classify.Brief(r))
		for _, e := range unknown[r] {
			w.entry(depth+1, key, e, style, inHome, "# ")
		}
	}
	w.line(depth, "];")
}

// entry writes one entry, each line after prefix ("# " comments it out).
func (w *nixWriter) entry(depth int, key string, e Entry, style Style, inHome bool, prefix string) {
	var attrs []string
	if e.User != "" {
		attrs = append(attrs, "user = "+nixString(string(e.User))+";")
	}
	if e.Group != "" {
		attrs = append(attrs, "group = "+nixString(string(e.Group))+";")
	}
	if e.Mode != "" {
		attrs = append(attrs, "mode = "+nixString(e.Mode)+";")
	}
	if style == Preservation && !inHome {
		attrs = append(attrs, early[string(e.Path)]...)
	}
	if key == "file" && style != Preservation {
		attrs = nil // impermanence sets a file's parent directory, not the file
	}
	if len(attrs) == 0 {
		w.line(depth, prefix+nixString(string(e.Path)))
		return
	}
	w.line(depth, prefix+"{")
	w.line(depth+1, prefix+key+" = "+nixString(string(e.Path))+";")
	for _, a := range attrs {
		w.line(depth+1, prefix+a)
	}
	w.line(depth, prefix+"}")
}

// nixString writes s as a Nix string literal that evaluates to exactly s.
// Inside "...", Nix gives meaning to \, " and ${; \n, \r and \t are escaped
// so that the literal stays on one line, and every other byte (control
// bytes, bytes that are not UTF-8) stands for itself.
func nixString(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\', '"':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '$':
			if i+1 < len(s) && s[i+1] == '{' {
				b.WriteByte('\\')
			}
			b.WriteByte('$')
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

var identifier = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_'-]*$`)

var keywords = map[string]bool{"if": true, "then": true, "else": true, "assert": true, "with": true,
	"let": true, "in": true, "rec": true, "inherit": true, "or": true}

// nixAttrName writes an attribute name bare when Nix allows it, quoted
// otherwise.
func nixAttrName(s string) string {
	if identifier.MatchString(s) && !keywords[s] {
		return s
	}
	return nixString(s)
}
