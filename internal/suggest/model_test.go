package suggest

import (
	"testing"

	"github.com/fsdiff-nix/fsdiff/internal/classify"
	"github.com/fsdiff-nix/fsdiff/internal/snapshot"
)

func persist(path string, typ snapshot.Type, uid, gid, mode uint32, anchor string) classify.Entry {
	return classify.Entry{
		Change:  snapshot.Change{Path: path, Kind: snapshot.Created, Type: typ, UID: uid, GID: gid, Mode: mode},
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
	entries := []classify.Entry{
		persist("/var/lib/plain/x", snapshot.File, 0, 0, 0o644, "/var/lib/plain"),
		persist("/var/lib/colord/x", snapshot.File, 124, 124, 0o640, "/var/lib/colord"),
		persist("/var/lib/secret/x", snapshot.File, 0, 0, 0o600, "/var/lib/secret"),
		persist("/var/lib/nobody/x", snapshot.File, 0, 0, 0o644, "/var/lib/nobody"),
		persist("/etc/machine-id", snapshot.File, 0, 0, 0o444, "/etc/machine-id"),
		persist("/home/alice/.ssh", snapshot.Dir, 1000, 100, 0o700, "/home/alice/.ssh"),
		persist("/home/alice/.ssh/id", snapshot.File, 1000, 100, 0o600, "/home/alice/.ssh"),
		persist("/home/alice/.local/share/x/y", snapshot.File, 1000, 100, 0o644, "/home/alice/.local/share/x"),
		persist("/home/alice/.zsh_history", snapshot.File, 1000, 100, 0o600, "/home/alice/.zsh_history"),
		{Change: snapshot.Change{Path: "/var/lib/bluetooth/a", Type: snapshot.File}, Verdict: classify.Verdict{Category: classify.Persisted, Rule: "declared", Anchor: "/var/lib/bluetooth"}},
		{Change: snapshot.Change{Path: "/home/alice/.cache/x", Type: snapshot.File}, Verdict: classify.Verdict{Category: classify.Ephemeral, Pattern: "~/.cache/**", Anchor: "/home/alice/.cache"}},
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
