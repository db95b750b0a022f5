package audit

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/fsdiff-nix/fsdiff/internal/classify"
)

// systemRules is the system-wide rule file, read after the user's.
const systemRules = "/etc/fsdiff/rules"

// RuleFiles lists the rule files in precedence order: given in the order
// given, then the user's ($XDG_CONFIG_HOME/fsdiff/rules, else
// ~/.config/fsdiff/rules), then the system's. The default files are
// optional: they may be missing or unreadable; a given file may not.
func RuleFiles(given []string) (files []string, optional map[string]bool) {
	optional = map[string]bool{}
	files = slices.Clone(given)
	config := os.Getenv("XDG_CONFIG_HOME")
	if config == "" {
		if home, err := os.UserHomeDir(); err == nil {
			config = filepath.Join(home, ".config")
		}
	}
	for _, f := range []string{filepath.Join(config, "fsdiff", "rules"), systemRules} {
		// A default file also given is read once, as given.
		if (config != "" || f == systemRules) && !slices.Contains(files, f) {
			files, optional[f] = append(files, f), true
		}
	}
	return files, optional
}

// LoadRules returns the rules of the files RuleFiles lists, then the
// built-in ones. A default rule file the user cannot read is skipped with
// a note: as an unprivileged user, $HOME may still be root's (sudo -u), and
// the walk needs no privileges.
func (o ClassifyOptions) LoadRules() ([]classify.Rule, error) {
	files, optional := RuleFiles(o.RuleFiles)
	var rules []classify.Rule
	for _, f := range files {
		data, err := readLimited(f, classify.MaxRuleFileSize)
		if optional[f] && errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if optional[f] && errors.Is(err, fs.ErrPermission) {
			o.note(fmt.Sprintf("skipping the rule file %s: %v", f, errors.Unwrap(err)))
			continue
		}
		if err != nil {
			return nil, &InputError{RuleFile, fmt.Errorf("reading rules: %w", err)}
		}
		r, err := classify.ParseRules(f, data, true)
		if err != nil {
			return nil, err
		}
		rules = append(rules, r...)
	}
	return append(rules, classify.Builtin()...), nil
}

// readLimited reads a file the user names, up to one byte more than limit:
// enough for the parser to refuse it, however large it is (/dev/zero).
func readLimited(name string, limit int) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, int64(limit)+1))
}

// Input is a file the user names to the audit.
type Input int

const (
	RuleFile     Input = iota + 1 // ClassifyOptions.RuleFiles
	DeclaredFile                  // ClassifyOptions.Declared
	SendStream                    // snapshot.Options.SendStream
)

// InputError is an error about a file the user named, not about the
// audited system: what to do about it is about that input.
type InputError struct {
	Input Input
	Err   error
}

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }
