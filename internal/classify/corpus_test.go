package classify

import (
	"bufio"
	"os"
	"strings"
	"testing"

	"github.com/fsdiff-nix/fsdiff/internal/change"
)

// builtinClassifier classifies with the built-in rules for a host with
// one user, alice.
func builtinClassifier() *Classifier {
	return New(Config{Rules: Builtin(), Homes: []string{"/home/alice"}})
}

// TestPersistedByMany: every path that at least 10 of the 94 public
// configurations persist is persist, anchored at the path or within it.
// Some are exceptions, on purpose: /var/cache (caches are never persist
// above optional), /var/lib as a whole (fsdiff anchors each service's
// directory: FHS, StateDirectory=), and the directories /var/lib and
// /var/lib/systemd themselves, which systemd-tmpfiles creates at every boot.
func TestPersistedByMany(t *testing.T) {
	f, err := os.Open("testdata/persisted-by-10.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c := builtinClassifier()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 3 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		n++
		p, kind := fields[0], fields[1]
		if rest, ok := strings.CutPrefix(p, "~/"); ok {
			p = "/home/alice/" + rest
		}
		samples := []string{p}
		if kind == "dir" {
			samples = append(samples, p+"/some/state")
		}
		for _, s := range samples {
			v := c.Classify(file(s))
			switch {
			case p == "/var/cache" || p == "/home/alice/.cache":
				if v.Category == Persist {
					t.Errorf("%s: persist, but caches never are", s)
				}
			case (p == "/var/lib" || p == "/var/lib/systemd") && s == p: // created by tmpfiles: what is in it is decided entry by entry
				if v.Category != Managed {
					t.Errorf("%s: %s, want managed", s, v.Category)
				}
			case p == "/var/lib":
				if v.Category != Persist || v.Anchor != s && v.Anchor != "/var/lib/some" {
					t.Errorf("%s: %s at %s, want persist at the service directory", s, v.Category, v.Anchor)
				}
			case v.Category != Persist:
				t.Errorf("%s: %s (%s), want persist", s, v.Category, v.Pattern)
			case v.Anchor != p && !strings.HasPrefix(v.Anchor, p+"/"):
				t.Errorf("%s: anchor %s, want %s or a path inside it", s, v.Anchor, p)
			}
		}
	}
	if n < 50 {
		t.Errorf("read %d paths, want the 53 of persist_frequency.md", n)
	}
}

// TestCachesPersistOnlyToSaveTime: what is in a cache is ephemeral, or,
// for a cache many configurations keep, persist with the lowest priority
// and a reason that says it only saves time. KeePassXC keeps its settings
// in ~/.cache/keepassxc and tuigreet its last user in /var/cache/tuigreet:
// hand-written rules know those.
func TestCachesPersistOnlyToSaveTime(t *testing.T) {
	exceptions := map[string]bool{"~/.cache/keepassxc/**": true, "/var/cache/tuigreet/**": true}
	c := builtinClassifier()
	for _, dir := range []string{"/home/alice/.cache", "/root/.cache", "/var/cache", "/tmp"} {
		for _, rel := range []string{"", "/x", "/nix/eval-cache-v5/abc.sqlite", "/spotify/Storage/ab", "/mesa_shader_cache/index",
			"/keepassxc/keepassxc.ini", "/tuigreet/lastuser", "/.X11-unix/X0", "/a/b/c/d/e/f", "/libvirt/qemu/x"} {
			v := c.Classify(file(dir + rel))
			if v.Category == Persist && !exceptions[v.Pattern] && (v.Priority != Optional || !strings.Contains(v.Reason, "only saves time")) {
				t.Errorf("%s: persist (%s) by %s: %s", dir+rel, v.Priority, v.Pattern, v.Reason)
			}
		}
	}
	if v := c.Classify(file("/home/alice/.cache/nix/x")); v.Category != Persist || !strings.Contains(v.Source, "public configurations") {
		t.Errorf("~/.cache/nix, kept by many: %+v", v)
	}
}

// TestLocationMeanings: where no specific rule decides, the location does
// (FHS, XDG, systemd.exec), anchored at the level a person decides about.
func TestLocationMeanings(t *testing.T) {
	c := New(Config{Rules: Builtin(), Homes: []string{"/home/alice", "/srv/bob"}})
	for _, tc := range []struct {
		path     string
		typ      change.Type
		want     Category
		priority Priority
		anchor   string
	}{
		{"/var/lib/newservice/db/x", change.File, Persist, Recommended, "/var/lib/newservice"},
		{"/var/lib/newservice", change.Dir, Persist, Recommended, "/var/lib/newservice"},
		{"/var/log/newservice/x.log", change.File, Persist, Optional, "/var/log"},
		{"/var/cache/newservice/x", change.File, Ephemeral, NoPriority, "/var/cache"},
		{"/home/alice/.config/newapp/settings.json", change.File, Persist, Recommended, "/home/alice/.config/newapp"},
		{"/home/alice/.local/share/newapp/db/x", change.File, Persist, Recommended, "/home/alice/.local/share/newapp"},
		{"/home/alice/.local/state/newapp/history", change.File, Persist, Optional, "/home/alice/.local/state/newapp"},
		{"/home/alice/.local/bin/tool", change.File, Persist, Optional, "/home/alice/.local/bin"},
		{"/home/alice/Zotero/storage/x.pdf", change.File, Persist, Recommended, "/home/alice/Zotero"},
		{"/home/alice/notes.txt", change.File, Persist, Recommended, "/home/alice/notes.txt"},
		{"/home/alice/.newapp/config", change.File, Persist, Optional, "/home/alice/.newapp"},
		{"/home/alice/.newapprc", change.File, Persist, Optional, "/home/alice/.newapprc"},
		{"/home/alice/.cache/newapp/x", change.File, Ephemeral, NoPriority, "/home/alice/.cache"},
		{"/home/alice/.local/share/Trash/files/old.txt", change.File, Persist, Recommended, "/home/alice/.local/share/Trash"},
		{"/home/alice", change.Dir, Managed, NoPriority, "/home/alice"},
		{"/srv/bob", change.Dir, Managed, NoPriority, "/srv/bob"},
		{"/root", change.Dir, Managed, NoPriority, "/root"},
		{"/home", change.Dir, Managed, NoPriority, "/home"},
		{"/var/lib/systemd/linger", change.Dir, Persist, Optional, "/var/lib/systemd/linger"},
		{"/var/lib/systemd/coredump/core.1", change.File, Persist, Optional, "/var/lib/systemd/coredump"},
		{"/var/tmp/systemd-private-abc-foo.service-x/tmp/y", change.File, Ephemeral, NoPriority, "/var/tmp/systemd-private-abc-foo.service-x"},
	} {
		v := c.Classify(change.Change{Path: tc.path, Type: tc.typ})
		if v.Category != tc.want || v.Priority != tc.priority || v.Anchor != tc.anchor || v.Source == "" {
			t.Errorf("%s: %s (%s) at %s by %s, want %s (%s) at %s with a source", tc.path, v.Category, v.Priority, v.Anchor, v.Pattern, tc.want, tc.priority, tc.anchor)
		}
	}
	// A path only the corpus knows says how many configurations keep it.
	if v := c.Classify(file("/home/alice/.config/obsidian/obsidian.json")); v.Rule[:7] != "corpus:" || !strings.Contains(v.Source, " of 353 public configurations") {
		t.Errorf("~/.config/obsidian: %+v, want a corpus rule with its frequency", v)
	}
}
