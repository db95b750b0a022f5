package classify

import (
	"maps"
	"testing"

	"github.com/fsdiff-nix/fsdiff/internal/change"
)

// TestAnchorsNameTheRealThing: what a structural detector or no rule
// decided is reported under the entry itself or the nearest directory that
// stands for it, never under a top-level directory that was merely created
// around it (issue 14: "ephemeral /var 1 socket", two "managed /etc" rows).
func TestAnchorsNameTheRealThing(t *testing.T) {
	dir := func(p string) Entry {
		return Entry{Change: change.Change{Path: p, Kind: change.Created, Type: change.Dir}}
	}
	existing := func(p string) Entry {
		return Entry{Change: change.Change{Path: p, Kind: change.Modified, Type: change.Dir}}
	}
	detector := func(p string, typ change.Type, cat Category, rule string) Entry {
		return Entry{Change: change.Change{Path: p, Kind: change.Created, Type: typ}, Verdict: Verdict{Category: cat, Rule: rule, Anchor: p}}
	}
	socket := func(p string) Entry { return detector(p, change.Socket, Ephemeral, "socket") }
	fifo := func(p string) Entry { return detector(p, change.FIFO, Ephemeral, "fifo") }
	storeLink := func(p string) Entry { return detector(p, change.Symlink, Managed, "store-symlink") }
	etcClean := func(p string) Entry { return detector(p, change.File, Managed, "etc-clean") }
	noRule := func(p string) Entry {
		return Entry{Change: change.Change{Path: p, Kind: change.Created, Type: change.File}, Verdict: Verdict{Category: Unknown, Anchor: p}}
	}
	ruled := func(p, anchor string) Entry {
		return Entry{Change: change.Change{Path: p, Kind: change.Created, Type: change.File},
			Verdict: Verdict{Category: Persist, Rule: "builtin:1", Pattern: "/var/lib/*/**", Anchor: anchor}}
	}
	for _, tc := range []struct {
		name    string
		entries []Entry
		want    []string
	}{{
		name:    "a socket in a service directory created with /var and /var/lib",
		entries: []Entry{dir("/var"), dir("/var/lib"), dir("/var/lib/foo"), socket("/var/lib/foo/sock")},
		want:    []string{"", "", "", "/var/lib/foo/sock"},
	}, {
		name:    "a socket and a fifo next to a service's state",
		entries: []Entry{dir("/var"), dir("/var/lib"), dir("/var/lib/foo"), ruled("/var/lib/foo/db", "/var/lib/foo"), socket("/var/lib/foo/sock"), fifo("/var/lib/foo/fifo")},
		want:    []string{"", "", "", "/var/lib/foo", "/var/lib/foo/sock", "/var/lib/foo/fifo"},
	}, {
		name:    "sockets alone in a new directory: the directory",
		entries: []Entry{dir("/var"), dir("/var/lib"), dir("/var/lib/s"), socket("/var/lib/s/a"), socket("/var/lib/s/b")},
		want:    []string{"", "", "", "/var/lib/s", "/var/lib/s"},
	}, {
		name:    "sockets in two new directories under a new /var: one row each",
		entries: []Entry{dir("/var"), dir("/var/a"), dir("/var/b"), socket("/var/a/s"), socket("/var/b/s")},
		want:    []string{"", "", "", "/var/a/s", "/var/b/s"},
	}, {
		name:    "two store symlinks and a copied file directly in /etc",
		entries: []Entry{existing("/etc"), storeLink("/etc/hosts"), storeLink("/etc/zshrc"), etcClean("/etc/sudoers")},
		want:    []string{"", "/etc/hosts", "/etc/zshrc", "/etc/sudoers"},
	}, {
		name:    "store symlinks directly in a new /etc that holds nothing else",
		entries: []Entry{dir("/etc"), storeLink("/etc/hosts"), storeLink("/etc/zshrc")},
		want:    []string{"", "/etc/hosts", "/etc/zshrc"},
	}, {
		name:    "store symlinks in an existing directory below the top level",
		entries: []Entry{existing("/etc/systemd/system"), storeLink("/etc/systemd/system/a.service"), storeLink("/etc/systemd/system/b.service")},
		want:    []string{"", "/etc/systemd/system", "/etc/systemd/system"},
	}, {
		name: "a new tree of store symlinks in a new /etc: the tree",
		entries: []Entry{dir("/etc"), dir("/etc/systemd"), dir("/etc/systemd/system"), dir("/etc/systemd/user"),
			storeLink("/etc/systemd/system/a.service"), storeLink("/etc/systemd/user/b.service"), storeLink("/etc/hosts")},
		want: []string{"", "", "", "", "/etc/systemd", "/etc/systemd", "/etc/hosts"},
	}, {
		name:    "a fifo at the top level",
		entries: []Entry{existing("/"), fifo("/x.fifo")},
		want:    []string{"", "/x.fifo"},
	}, {
		name:    "what no rule knows in a new top-level directory: the directory",
		entries: []Entry{dir("/odd"), noRule("/odd/a"), noRule("/odd/b"), socket("/odd/sock")},
		want:    []string{"", "/odd", "/odd", "/odd/sock"},
	}, {
		name:    "what no rule knows deep in a new tree: the deepest directory that holds it all",
		entries: []Entry{dir("/opt"), dir("/opt/tool"), dir("/opt/tool/bin"), noRule("/opt/tool/bin/x"), noRule("/opt/tool/share")},
		want:    []string{"", "", "", "/opt/tool", "/opt/tool"},
	}, {
		name:    "one file no rule knows in a new tree: the file",
		entries: []Entry{dir("/deep"), dir("/deep/a"), noRule("/deep/a/leaf")},
		want:    []string{"", "", "/deep/a/leaf"},
	}, {
		name:    "what no rule knows in a new /var that a rule decides about too",
		entries: []Entry{dir("/var"), dir("/var/lib"), dir("/var/lib/foo"), ruled("/var/lib/foo/db", "/var/lib/foo"), noRule("/var/x")},
		want:    []string{"", "", "", "/var/lib/foo", "/var/x"},
	}, {
		name:    "what no rule knows in an existing directory",
		entries: []Entry{existing("/srv"), noRule("/srv/a"), noRule("/srv/b")},
		want:    []string{"", "/srv/a", "/srv/b"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got := Anchors(Slice(tc.entries))
			for i, e := range tc.entries {
				if got[i] != tc.want[i] {
					t.Errorf("%s (%s %s): anchor %q, want %q", e.Path, e.Category, e.Rule, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestCommonDir(t *testing.T) {
	for _, tc := range []struct{ a, b, want string }{
		{"/a/b", "/a/b", "/a/b"},
		{"/a/b", "/a/c", "/a"},
		{"/a/b", "/a/bc", "/a"},
		{"/a/bc", "/a/b", "/a"},
		{"/a", "/a/b/c", "/a"},
		{"/a/b/c", "/a", "/a"},
		{"/ab", "/ac", "/"},
		{"/", "/x", "/"},
		{"/a/\xff", "/a/\xfe", "/a"},
	} {
		if got := commonDir(tc.a, tc.b); got != tc.want {
			t.Errorf("commonDir(%q, %q) = %q, want %q", tc.a, tc.b, got, tc.want)
		}
	}
}

// TestAnchorsFreshEtc: with the built-in rules, which call every directory
// of /etc unknown (/etc/*/**), a new /etc of store symlinks, as activation
// makes on an empty root, is one row per tree of them: the directories'
// own verdicts are nobody's row and do not split it.
func TestAnchorsFreshEtc(t *testing.T) {
	c := New(Config{Rules: Builtin()})
	var entries []Entry
	add := func(ch change.Change) {
		ch.Kind = change.Created
		entries = append(entries, Entry{Change: ch, Verdict: c.Classify(ch)})
	}
	for _, d := range []string{"/etc", "/etc/systemd", "/etc/systemd/system", "/etc/systemd/system/multi-user.target.wants", "/etc/pam.d"} {
		add(change.Change{Path: d, Type: change.Dir})
	}
	for _, l := range []string{"/etc/hosts", "/etc/zshrc", "/etc/systemd/system/a.service", "/etc/systemd/system/multi-user.target.wants/a.service",
		"/etc/systemd/journald.conf", "/etc/pam.d/login", "/etc/pam.d/sshd"} {
		add(change.Change{Path: l, Type: change.Symlink, Target: "/etc/static" + l[len("/etc"):]})
	}
	add(change.Change{Path: "/etc/machine-id", Type: change.File})
	got := map[string]string{}
	for i, a := range Anchors(Slice(entries)) {
		if a != "" {
			got[entries[i].Path] = a
		}
	}
	want := map[string]string{
		"/etc/hosts": "/etc/hosts", "/etc/zshrc": "/etc/zshrc",
		"/etc/systemd/system/a.service": "/etc/systemd", "/etc/systemd/system/multi-user.target.wants/a.service": "/etc/systemd",
		"/etc/systemd/journald.conf": "/etc/systemd", "/etc/pam.d/login": "/etc/pam.d", "/etc/pam.d/sshd": "/etc/pam.d",
		"/etc/machine-id": "/etc/machine-id",
	}
	if !maps.Equal(got, want) {
		t.Errorf("anchors %v, want %v", got, want)
	}
}
