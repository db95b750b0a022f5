package classify

import (
	"slices"
	"testing"
)

func TestParseDeclared(t *testing.T) {
	users := ParsePasswd([]byte("root:x:0:0::/root:/bin/sh\nalice:x:1000:100::/home/alice:/bin/sh\npostgres:x:71:71::/var/lib/postgresql:/bin/sh\nbad line\n"))
	if got := Homes(users); !slices.Equal(got, []string{"/home/alice", "/root"}) {
		t.Errorf("Homes = %q", got)
	}
	for _, tc := range []struct{ name, json string }{
		// impermanence, as nix eval --json prints the evaluated submodules
		{"impermanence", `{"/persist": {"enable": true, "hideMounts": true, "persistentStoragePath": "/persist",
			"directories": [{"directory": "/var/lib/nixos", "user": "root", "group": "root", "mode": "0755", "dirPath": "/var/lib/nixos"}],
			"files": [{"file": "/etc/machine-id", "parentDirectory": {"mode": "0755"}}],
			"users": {"alice": {"directories": [{"directory": ".ssh", "mode": "0700", "home": "/home/alice"}], "files": [".zsh_history"]}}},
			"/off": {"enable": false, "directories": ["/nope"]}}`},
		// preservation, with plain strings where the options allow them
		{"preservation", `{"/persist": {"directories": ["/var/lib/nixos"], "files": [{"file": "/etc/machine-id", "how": "symlink", "inInitrd": true}],
			"users": {"alice": {"directories": [{"directory": "/.ssh", "mode": "0700"}], "files": [".zsh_history"]}}}}`},
		// preservation as nix eval --json prints its evaluated options: user
		// paths already joined to the home, and the parents it only creates
		// (how = "_intermediate") listed among the directories
		{"preservation evaluated", `{"/persist": {"directories": [{"directory": "/var/lib", "how": "_intermediate"}, {"directory": "/var/lib/nixos", "how": "bindmount"}],
			"files": [{"file": "/etc/machine-id", "how": "symlink", "inInitrd": true}],
			"users": {"alice": {"home": "/home/alice", "username": "alice",
				"directories": [{"directory": "/home/alice", "how": "_intermediate"}, {"directory": "/home/alice/.ssh", "how": "bindmount", "mode": "0700"}],
				"files": [{"file": "/home/alice/.zsh_history", "how": "bindmount"}]}}}}`},
	} {
		declared, storage, err := ParseDeclared([]byte(tc.json), users)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var paths []string
		for _, d := range declared {
			paths = append(paths, d.Path)
			if d.Storage != "/persist" {
				t.Errorf("%s: %s declared in storage %q, want /persist", tc.name, d.Path, d.Storage)
			}
		}
		want := []string{"/var/lib/nixos", "/etc/machine-id", "/home/alice/.ssh", "/home/alice/.zsh_history"}
		if !slices.Equal(paths, want) || !slices.Equal(storage, []string{"/persist"}) {
			t.Errorf("%s: paths %q storage %q, want %q [/persist]", tc.name, paths, storage, want)
		}
		c := New(Config{Declared: declared, Storage: storage})
		if v := c.Classify(file("/home/alice/.ssh/id_ed25519")); v.Category != Persisted || v.Anchor != "/home/alice/.ssh" {
			t.Errorf("%s: %+v", tc.name, v)
		}
	}
	if _, _, err := ParseDeclared([]byte(`["/persist"]`), nil); err == nil {
		t.Error("a JSON list parsed as declared persistence")
	}
	if _, _, err := ParseDeclared([]byte(`{"/p": {"directories": [{"mode": "0700"}]}}`), nil); err == nil {
		t.Error("an entry with neither directory nor file parsed")
	}
}
