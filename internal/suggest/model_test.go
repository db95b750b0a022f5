package suggest

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/fsdiff-nix/fsdiff/internal/change"
	"github.com/fsdiff-nix/fsdiff/internal/classify"
)

func persist(path string, typ change.Type, uid, gid, mode uint32, anchor string) classify.Entry {
	return classify.Entry{
		Change:  change.Change{Path: path, Kind: change.Created, Type: typ, UID: uid, GID: gid, Mode: mode},
		Verdict: classify.Verdict{Category: classify.Persist, Priority: classify.Critical, Pattern: "p", Rule: "r", Reason: "why", Anchor: anchor},
	}
}

// TestBuildOwners: attribute sets appear exactly when the audited tree
// differs from the module's defaults, with names from the audited root.
func TestBuildOwners(t *testing.T) {
	users := classify.ParsePasswd([]byte("root:x:0:0::/root:/bin/sh\nalice:x:1000:100::/home/alice:/bin/sh\ncolord:x:124:124::/var/lib/colord:/bin/false\n"))
	groups := classify.ParseGroup([]byte("root:x:0:\nusers:x:100:\ncolord:x:124:\n"))
	stat := map[string]Owner{
		"/var/lib/plain":  {0, 0, 0o755},
		"/var/lib/colord": {124, 124, 0o750},
		"/var/lib/secret": {0, 0, 0o700},
		"/var/lib/nobody": {4242, 4343, 0o755},
	}
	entries := classify.Slice{
		persist("/var/lib/plain/x", change.File, 0, 0, 0o644, "/var/lib/plain"),
		persist("/var/lib/colord/x", change.File, 124, 124, 0o640, "/var/lib/colord"),
		persist("/var/lib/secret/x", change.File, 0, 0, 0o600, "/var/lib/secret"),
		persist("/var/lib/nobody/x", change.File, 0, 0, 0o644, "/var/lib/nobody"),
		persist("/etc/machine-id", change.File, 0, 0, 0o444, "/etc/machine-id"),
		persist("/home/alice/.ssh", change.Dir, 1000, 100, 0o700, "/home/alice/.ssh"),
		persist("/home/alice/.ssh/id", change.File, 1000, 100, 0o600, "/home/alice/.ssh"),
		persist("/home/alice/.local/share/x/y", change.File, 1000, 100, 0o644, "/home/alice/.local/share/x"),
		persist("/home/alice/.zsh_history", change.File, 1000, 100, 0o600, "/home/alice/.zsh_history"),
		{Change: change.Change{Path: "/var/lib/bluetooth/a", Type: change.File}, Verdict: classify.Verdict{Category: classify.Persisted, Rule: "declared", Anchor: "/var/lib/bluetooth"}},
		{Change: change.Change{Path: "/home/alice/.cache/x", Type: change.File}, Verdict: classify.Verdict{Category: classify.Ephemeral, Pattern: "~/.cache/**", Anchor: "/home/alice/.cache"}},
	}
	p := Build(entries, Options{Storage: "/persist", Users: users, Groups: groups, Stat: func(path string) (Owner, bool) {
		o, ok := stat[path]
		return o, ok
	}})
	want := []Entry{
		{Path: "/var/lib/colord", User: "colord", Group: "colord", Mode: "0750"},
		{Path: "/var/lib/nobody", User: "4242", Group: "4343", Mode: "0755"},
		{Path: "/var/lib/plain"},
		{Path: "/var/lib/secret", User: "root", Group: "root", Mode: "0700"},
	}
	check := func(what string, got, want []Entry) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: %+v, want %+v", what, got, want)
		}
		for i := range want {
			if got[i].Path != want[i].Path || got[i].User != want[i].User || got[i].Group != want[i].Group || got[i].Mode != want[i].Mode {
				t.Errorf("%s[%d] = %+v, want %+v", what, i, got[i], want[i])
			}
		}
	}
	check("directories", p.Directories, want)
	check("files", p.Files, []Entry{{Path: "/etc/machine-id"}}) // impermanence: no file attributes
	if len(p.Users) != 1 || p.Users[0].Name != "alice" || p.Users[0].Home != "/home/alice" {
		t.Fatalf("users: %+v", p.Users)
	}
	check("users.alice.directories", p.Users[0].Directories, []Entry{{Path: ".local/share/x"}, {Path: ".ssh", Mode: "0700"}})
	check("users.alice.files", p.Users[0].Files, []Entry{{Path: ".zsh_history"}})
	if p.AlreadyDeclared != 1 {
		t.Errorf("AlreadyDeclared = %d, want 1", p.AlreadyDeclared)
	}
	// Preservation applies 0644 to files unless told otherwise.
	p = Build(entries, Options{Storage: "/persist", Users: users, Groups: groups, FileMode: 0o644})
	check("preservation files", p.Files, []Entry{{Path: "/etc/machine-id", User: "root", Group: "root", Mode: "0444"}})
}

// classified classifies changes with the built-in rules, as an audit does,
// for a host with the user alice.
func classified(changes ...change.Change) classify.Slice {
	c := classify.New(classify.Config{Rules: classify.Builtin(), Homes: []string{"/home/alice"}})
	var entries classify.Slice
	for _, ch := range changes {
		ch.Kind = change.Created
		entries = append(entries, classify.Entry{Change: ch, Verdict: c.Classify(ch)})
	}
	return entries
}

func paths(es []Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, string(e.Path))
	}
	return out
}

// TestBuildNeverNests: one entry per anchor, never one inside another. An
// empty /var/lib/systemd/linger once made all of /var/lib/systemd an
// anchor, suggested together with coredump, backlight, rfkill, timers and
// random-seed inside it: each part of systemd's state is its own entry now.
// Where rules do anchor one path inside another, the outer one wins, with
// the higher priority; the snippets evaluate with the real modules.
func TestBuildNeverNests(t *testing.T) {
	dir := func(p string) change.Change { return change.Change{Path: p, Type: change.Dir, Mode: 0o755} }
	file := func(p string) change.Change { return change.Change{Path: p, Type: change.File, Mode: 0o644} }
	p := Build(classified(dir("/var/lib/systemd"), dir("/var/lib/systemd/linger"), dir("/var/lib/systemd/coredump"), file("/var/lib/systemd/coredump/core.1"),
		dir("/var/lib/systemd/backlight"), file("/var/lib/systemd/backlight/pci:intel_backlight"), dir("/var/lib/systemd/rfkill"), file("/var/lib/systemd/rfkill/x"),
		dir("/var/lib/systemd/timers"), file("/var/lib/systemd/timers/stamp-fstrim.timer"), file("/var/lib/systemd/random-seed")), Options{Storage: "/persist"})
	if got, want := paths(p.Directories), []string{"/var/lib/systemd/backlight", "/var/lib/systemd/coredump", "/var/lib/systemd/linger", "/var/lib/systemd/rfkill", "/var/lib/systemd/timers"}; !slices.Equal(got, want) {
		t.Errorf("directories %q, want %q", got, want)
	}
	if got := paths(p.Files); !slices.Equal(got, []string{"/var/lib/systemd/random-seed"}) {
		t.Errorf("files %q", got)
	}
	checkRoundTrip(t, p)

	// Rules that anchor inside one another (the corpus keeps both
	// ~/.config/vesktop and ~/.config/vesktop/settings; a user rule keeps
	// /srv/site/db critical): the outermost wins and takes the priority.
	user, err := classify.ParseRules("my.rules", []byte("persist /srv/site/db/** critical the database\nunknown /opt/x/** - review\nunknown /opt/x/y/** - review deeper\n"), true)
	if err != nil {
		t.Fatal(err)
	}
	c := classify.New(classify.Config{Rules: append(user, classify.Builtin()...), Homes: []string{"/home/alice"}})
	var entries classify.Slice
	for _, ch := range []change.Change{file("/srv/site/index.html"), file("/srv/site/db/data"), file("/home/alice/.config/vesktop/settings/settings.json"),
		file("/home/alice/.config/vesktop/state.json"), file("/opt/x/a"), file("/opt/x/y/b"), file("/etc/foo/bar")} {
		ch.Kind = change.Created
		entries = append(entries, classify.Entry{Change: ch, Verdict: c.Classify(ch)})
	}
	p = Build(entries, Options{Storage: "/persist", Users: []classify.User{{Name: "alice", UID: 1000, GID: 100, Home: "/home/alice"}}})
	if got, want := paths(p.Directories), []string{"/etc/foo", "/opt/x", "/srv/site"}; !slices.Equal(got, want) {
		t.Errorf("directories %q, want %q", got, want)
	}
	for _, e := range p.Directories {
		if e.Path == "/srv/site" && (e.Priority != "critical" || e.Changes != 2) {
			t.Errorf("/srv/site: %+v, want critical with 2 changes", e)
		}
		if e.Path == "/opt/x" && (!e.Unknown || e.Changes != 2) {
			t.Errorf("/opt/x: %+v, want unknown with 2 changes", e)
		}
	}
	if len(p.Users) != 1 || !slices.Equal(paths(p.Users[0].Directories), []string{".config/vesktop"}) {
		t.Errorf("users %+v, want alice with .config/vesktop", p.Users)
	}
	checkRoundTrip(t, p)
}

// TestBuildFreshRootDetectors: on a root where /var and /etc are new too,
// what a detector or no rule decided never makes a top-level directory an
// entry, and a new tree nobody knows is one proposal, not a line per file:
// the state directory is declared, its socket and a directory of sockets
// are left out, /weird/tool is proposed whole.
func TestBuildFreshRootDetectors(t *testing.T) {
	dir := func(p string) change.Change { return change.Change{Path: p, Type: change.Dir, Mode: 0o755} }
	file := func(p string) change.Change { return change.Change{Path: p, Type: change.File, Mode: 0o644} }
	socket := func(p string) change.Change { return change.Change{Path: p, Type: change.Socket, Mode: 0o755} }
	p := Build(classified(dir("/var"), dir("/var/lib"), dir("/var/lib/foo"), file("/var/lib/foo/db"), socket("/var/lib/foo/sock"),
		dir("/var/lib/sockets"), socket("/var/lib/sockets/a"), socket("/var/lib/sockets/b"),
		dir("/etc"), change.Change{Path: "/etc/hosts", Type: change.Symlink, Target: "/etc/static/hosts"},
		dir("/weird"), dir("/weird/tool"), dir("/weird/tool/bin"), file("/weird/tool/bin/x"), file("/weird/tool/README")), Options{Storage: "/persist"})
	var got []string
	for _, e := range p.Directories {
		got = append(got, fmt.Sprintf("%s unknown=%t changes=%d", e.Path, e.Unknown, e.Changes))
	}
	if want := []string{"/var/lib/foo unknown=false changes=1", "/weird/tool unknown=true changes=2"}; !slices.Equal(got, want) {
		t.Errorf("directories %q, want %q", got, want)
	}
	if len(p.Files) != 0 {
		t.Errorf("files %+v, want none", p.Files)
	}
	checkRoundTrip(t, p)
}

// TestNixGroupsUnknown: commented-out unknown entries come after the
// others, under one short comment per reason.
func TestNixGroupsUnknown(t *testing.T) {
	long := "review: any other regular, non-symlink /etc file not listed in /etc/.clean was written at runtime by some tool: usually imperative state (or junk); needs human review"
	p := Persistence{Storage: "/persist", Files: []Entry{
		{Path: "/etc/a", Unknown: true, Reason: long}, {Path: "/etc/machine-id", Priority: "critical", Reason: "id"},
		{Path: "/etc/b", Unknown: true, Reason: long, Mode: "0600", User: "root", Group: "root"}, {Path: "/x", Unknown: true, Reason: "no rule matches"},
	}}
	out := string(p.Nix(Preservation))
	want := `    files = [
      {
        file = "/etc/machine-id";
        inInitrd = true;
      }
      # unknown: review: any other regular, non-symlink /etc file not listed in…
      # "/etc/a"
      # {
        # file = "/etc/b";
        # user = "root";
        # group = "root";
        # mode = "0600";
      # }
      # unknown: no rule matches
      # "/x"
    ];
`
	if !strings.Contains(out, want) {
		t.Errorf("snippet:\n%s\nwant it to hold:\n%s", out, want)
	}
	for line := range strings.Lines(out) {
		if len(line) > 100 {
			t.Errorf("line of %d bytes: %s", len(line), line)
		}
	}
	checkRoundTrip(t, p)
}

// TestBuildUnstatedMode: an entry whose mode the source never stated (a
// saved send stream's baseline file it only writes to: mode 0) is
// proposed without owner and mode, never with mode "0000".
func TestBuildUnstatedMode(t *testing.T) {
	p := Build(classified(change.Change{Path: "/etc/ssh/ssh_host_ed25519_key", Kind: change.Modified, Type: change.File}), Options{Storage: "/persist", FileMode: 0o644})
	if len(p.Files) != 1 {
		t.Fatalf("files %+v", p.Files)
	}
	if f := p.Files[0]; f.Mode != "" || f.User != "" || f.Group != "" {
		t.Errorf("file %+v: owner and mode made up", f)
	}
}
