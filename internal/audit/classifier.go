package audit

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/fsdiff-nix/fsdiff/internal/classify"
	"github.com/fsdiff-nix/fsdiff/internal/snapshot"
)

// ClassifyOptions say how to classify changes.
type ClassifyOptions struct {
	RuleFiles []string // rule files the user names, read before the default ones
	Declared  string   // a file with the JSON of the declared persistence; empty for none
	Context   []string // rule contexts that are set
	// Note gets what was chosen or skipped, for people who ask (-v); nil
	// drops it.
	Note func(string)
}

func (o ClassifyOptions) note(msg string) {
	if o.Note != nil {
		o.Note(msg)
	}
}

// RootFiles are the files of the audited root that classification reads.
type RootFiles struct {
	EtcClean, Passwd, Group []byte
}

// readRootFiles reads the RootFiles with read; a file that is not there is
// empty.
func readRootFiles(read func(string) ([]byte, error)) (RootFiles, []error) {
	var files RootFiles
	var errs []error
	for _, f := range []struct {
		name string
		dst  *[]byte
	}{{"/etc/.clean", &files.EtcClean}, {"/etc/passwd", &files.Passwd}, {"/etc/group", &files.Group}} {
		var err error
		if *f.dst, err = read(f.name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return files, errs
}

// classifier builds the classifier for an audited root: rules, contexts,
// its /etc/.clean and homes, and declared persistence from o.Declared and
// from what is mounted over the live root.
func (o ClassifyOptions) classifier(rules []classify.Rule, files RootFiles, live []snapshot.Mount) (*classify.Classifier, error) {
	users := classify.ParsePasswd(files.Passwd)
	cfg := classify.Config{Rules: rules, Context: o.Context, EtcClean: files.EtcClean, Homes: classify.Homes(users)}
	if o.Declared != "" {
		declared, storage, err := ReadDeclared(o.Declared, users)
		if err != nil {
			return nil, err
		}
		cfg.Declared, cfg.Storage = declared, storage
	}
	declared, storage := declaredByMounts(live)
	cfg.Declared = append(cfg.Declared, declared...)
	cfg.Storage = append(cfg.Storage, storage...)
	return classify.New(cfg), nil
}

// ReadDeclared reads the declared persistence in file (the JSON of
// environment.persistence or preservation.preserveAt): every declared path,
// with users' paths under their homes in users, and the storage paths.
func ReadDeclared(file string, users []classify.User) ([]classify.Declared, []string, error) {
	data, err := readLimited(file, classify.MaxDeclaredSize)
	if err != nil {
		return nil, nil, &InputError{DeclaredFile, fmt.Errorf("reading declared persistence: %w", err)}
	}
	declared, storage, err := classify.ParseDeclared(data, users)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", file, err)
	}
	return declared, storage, nil
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

// StorageOf finds the persistent storage path of the live root from its
// bind mounts: a bind of /persist/etc/ssh onto /etc/ssh, from a filesystem
// mounted at /persist, says /persist. It returns /persist when there are
// none.
func StorageOf(mounts []snapshot.Mount) string {
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

// Live classifies paths of the running system: its rules, its
// /etc/.clean, /etc/passwd and /etc/group, and its mounts as declared
// persistence. It has no target: nothing to scan.
func Live(o ClassifyOptions) (*Audit, error) {
	rules, err := o.LoadRules()
	if err != nil {
		return nil, err
	}
	files, errs := readRootFiles(os.ReadFile)
	if len(errs) > 0 {
		return nil, errs[0]
	}
	a := &Audit{Files: files, mounts: liveMounts()}
	if a.Classifier, err = o.classifier(rules, files, a.mounts); err != nil {
		return nil, err
	}
	return a, nil
}

// liveMounts reads this process's mount table; nil where there is none.
func liveMounts() []snapshot.Mount {
	mounts, _ := snapshot.MountTable()
	return mounts
}
