package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/fsdiff-nix/fsdiff/internal/classify"
	"github.com/fsdiff-nix/fsdiff/internal/snapshot"
	"github.com/spf13/pflag"
)

// globalOptions are the flags every command that classifies shares.
type globalOptions struct {
	rules    []string
	declared string
	context  []string
}

func (g *globalOptions) addFlags(f *pflag.FlagSet) {
	f.StringArrayVar(&g.rules, "rules", nil, "rule `FILE` to load before /etc/fsdiff/rules and $XDG_CONFIG_HOME/fsdiff/rules (repeatable; see README, \"Rules\")")
	f.StringVar(&g.declared, "declared", "", "`FILE` with the JSON of config.environment.persistence or config.preservation.preserveAt (see README)")
	f.Var(contextFlag{&g.context}, "context", "set a rule context: "+strings.Join(classify.Contexts, ", ")+" (repeatable)")
}

// contextFlag is --context, checked when parsed: a context no rule knows
// would silently change nothing.
type contextFlag struct{ s *[]string }

func (f contextFlag) String() string { return strings.Join(*f.s, ",") }

func (f contextFlag) Set(v string) error {
	if !slices.Contains(classify.Contexts, v) {
		return fmt.Errorf("unknown context %q: want %s", v, strings.Join(classify.Contexts, " or "))
	}
	*f.s = append(*f.s, v)
	return nil
}

func (f contextFlag) Type() string { return "context" }

// userRuleFiles lists the user rule files in precedence order: --rules in
// the order given, then the user's, then the system's. The default files
// may be missing or unreadable; a file given with --rules may not.
func (g *globalOptions) userRuleFiles() (files []string, optional map[string]bool) {
	optional = map[string]bool{}
	files = slices.Clone(g.rules)
	config := os.Getenv("XDG_CONFIG_HOME")
	if config == "" {
		if home, err := os.UserHomeDir(); err == nil {
			config = filepath.Join(home, ".config")
		}
	}
	for _, f := range []string{filepath.Join(config, "fsdiff", "rules"), "/etc/fsdiff/rules"} {
		// A default file also given with --rules is read once, as --rules.
		if (config != "" || f == "/etc/fsdiff/rules") && !slices.Contains(files, f) {
			files, optional[f] = append(files, f), true
		}
	}
	return files, optional
}

// loadRules returns the user rules, then the built-in ones. A default rule
// file the user cannot read is skipped with a note to verbose (nil: no
// note): as an unprivileged user, $HOME may still be root's (sudo -u), and
// the walk needs no privileges.
func (g *globalOptions) loadRules(verbose io.Writer) ([]classify.Rule, error) {
	files, optional := g.userRuleFiles()
	var rules []classify.Rule
	for _, f := range files {
		data, err := readLimited(f, classify.MaxRuleFileSize)
		if optional[f] && errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if optional[f] && errors.Is(err, fs.ErrPermission) {
			if verbose != nil {
				fmt.Fprintf(verbose, "fsdiff: skipping the rule file %s: %v\n", f, errors.Unwrap(err))
			}
			continue
		}
		if err != nil {
			return nil, inputError{"--rules", fmt.Errorf("reading rules: %w", err)}
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

// rootFiles are the files of the audited root that classification reads.
type rootFiles struct {
	etcClean, passwd, group []byte
}

// classifier builds the classifier for an audited root: rules, contexts,
// its /etc/.clean and homes, and declared persistence from --declared and
// from what is mounted over the live root.
func (g *globalOptions) classifier(rules []classify.Rule, files rootFiles, live []snapshot.Mount) (*classify.Classifier, error) {
	users := classify.ParsePasswd(files.passwd)
	cfg := classify.Config{Rules: rules, Context: g.context, EtcClean: files.etcClean, Homes: classify.Homes(users)}
	if g.declared != "" {
		data, err := readLimited(g.declared, classify.MaxDeclaredSize)
		if err != nil {
			return nil, inputError{"--declared", fmt.Errorf("reading declared persistence: %w", err)}
		}
		declared, storage, err := classify.ParseDeclared(data, users)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", g.declared, err)
		}
		cfg.Declared, cfg.Storage = declared, storage
	}
	declared, storage := declaredByMounts(live)
	cfg.Declared = append(cfg.Declared, declared...)
	cfg.Storage = append(cfg.Storage, storage...)
	return classify.New(cfg), nil
}

// volatile are filesystem types whose mounts hold nothing that survives a
// reboot, or nothing at all: they declare no persistence.
var volatile = map[string]bool{
	"proc": true, "sysfs": true, "devtmpfs": true, "devpts": true, "tmpfs": true, "ramfs": true,
	"cgroup": true, "cgroup2": true, "securityfs": true, "debugfs": true, "tracefs": true,
	"configfs": true, "fusectl": true, "pstore": true, "bpf": true, "mqueue": true,
	"hugetlbfs": true, "autofs": true, "efivarfs": true, "binfmt_misc": true,
	"rpc_pipefs": true, "nsfs": true, "overlay": true,
}

// declaredByMounts turns what is mounted over the live root into declared
// persistence: an impermanence bind mount from /persist, or a filesystem of
// its own (/nix, /persist, /home). Symlinks into such a mount point are
// persisted too.
func declaredByMounts(mounts []snapshot.Mount) (declared []classify.Declared, storage []string) {
	for _, m := range mounts {
		if m.Point == "/" || volatile[m.FSType] {
			continue
		}
		declared = append(declared, classify.Declared{Path: m.Point, Reason: fmt.Sprintf("mounted at %s from %s%s", m.Point, m.Source, bindSuffix(m.Root))})
		storage = append(storage, m.Point)
	}
	return declared, storage
}

func bindSuffix(root string) string {
	if root == "/" {
		return ""
	}
	return ":" + root
}

// liveClassifier classifies paths of the running system: its rules, its
// /etc/.clean, /etc/passwd and /etc/group, and its mounts as declared
// persistence. It also returns those files. verbose gets -v notes (nil:
// none).
func (g *globalOptions) liveClassifier(verbose io.Writer) (*classify.Classifier, rootFiles, error) {
	rules, err := g.loadRules(verbose)
	if err != nil {
		return nil, rootFiles{}, err
	}
	var files rootFiles
	for name, dst := range map[string]*[]byte{"/etc/.clean": &files.etcClean, "/etc/passwd": &files.passwd, "/etc/group": &files.group} {
		if *dst, err = os.ReadFile(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, rootFiles{}, err
		}
	}
	c, err := g.classifier(rules, files, liveMounts())
	return c, files, err
}

// liveMounts reads this process's mount table; nil where there is none.
func liveMounts() []snapshot.Mount {
	mounts, _ := snapshot.MountTable()
	return mounts
}
