package audit

import (
	"fmt"
	"os"
	"strings"

	"github.com/fsdiff-nix/fsdiff/internal/change"
	"github.com/fsdiff-nix/fsdiff/internal/classify"
	"github.com/fsdiff-nix/fsdiff/internal/names"
	"github.com/fsdiff-nix/fsdiff/internal/suggest"
)

// SuggestOptions are the options of a suggestion for what a has audited:
// persistent storage at storage (empty: found from the live root's bind
// mounts), owners and modes from its tree, user and group names from its
// /etc/passwd and /etc/group, and a header that says what was audited.
// The header's version and time are the caller's to set.
func (a *Audit) SuggestOptions(storage string) suggest.Options {
	if storage == "" {
		storage = StorageOf(a.mounts)
	}
	opts := suggest.Options{
		Storage: storage,
		Users:   classify.ParsePasswd(a.Files.Passwd),
		Groups:  classify.ParseGroup(a.Files.Group),
	}
	if a.Target != nil {
		opts.Header = a.header()
		opts.Stat = func(path string) (suggest.Owner, bool) {
			uid, gid, mode, err := a.Target.Owner(path)
			return suggest.Owner{UID: uid, GID: gid, Mode: mode}, err == nil
		}
	}
	return opts
}

// header describes the audit for a suggestion's comment.
func (a *Audit) header() suggest.Header {
	info := a.Target.Info
	h := suggest.Header{Source: fmt.Sprintf("%s source, root %s", info.Source, info.Root),
		Baseline: fmt.Sprintf("%s (generation %d)", info.Baseline, info.BaselineGeneration), Host: a.Host()}
	switch {
	case info.Source != change.Btrfs && info.Baseline != "":
		h.Baseline = info.Baseline
	case info.Source != change.Btrfs, info.Baseline == "" && info.BaselineGeneration == 0:
		h.Baseline = "none" // everything in the root is new
	case info.Baseline == "":
		h.Baseline = fmt.Sprintf("the root's creation (generation %d)", info.BaselineGeneration)
	}
	return h
}

// Host is the audited root's host name: its /etc/hostname, else, when it
// is the running system, the kernel's, else "unknown".
func (a *Audit) Host() names.String {
	var host names.String
	if a.Target != nil {
		if name, err := a.Target.ReadFile("/etc/hostname"); err == nil {
			host = names.String(strings.TrimSpace(string(name)))
		}
	}
	if host == "" && a.mounts != nil {
		name, _ := os.Hostname()
		host = names.String(name)
	}
	if host == "" {
		host = "unknown"
	}
	return host
}
