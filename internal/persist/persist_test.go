package persist

import (
	"errors"
	"slices"
	"testing"

	"github.com/fsdiff-nix/fsdiff/internal/suggest"
)

var model = suggest.Persistence{
	Storage:     "/persist",
	Directories: []suggest.Entry{{Path: "/var/lib/nixos"}, {Path: "/var/lib/mystery", Unknown: true}},
	Files:       []suggest.Entry{{Path: "/etc/machine-id"}},
	Users: []suggest.Home{
		{Name: "alice", Home: "/home/alice", Directories: []suggest.Entry{{Path: ".ssh"}}, Files: []suggest.Entry{{Path: ".odd", Unknown: true}}},
		{Name: "bob", Home: "/home/bob", Files: []suggest.Entry{{Path: ".zsh_history"}}},
	},
	AlreadyDeclared: 3,
}

// TestSelect: without paths every declared anchor, home paths made
// absolute, unknown ones left out; with paths, those, each an anchor.
func TestSelect(t *testing.T) {
	for _, tc := range []struct {
		name  string
		paths []string
		want  []string
		err   error
	}{
		{"all", nil, []string{"/etc/machine-id", "/home/alice/.ssh", "/home/bob/.zsh_history", "/var/lib/nixos"}, nil},
		{"some", []string{"/home/alice/.ssh/", "/var/lib/nixos", "/home/alice/.ssh"}, []string{"/home/alice/.ssh", "/var/lib/nixos"}, nil},
		{"unknown anchor", []string{"/var/lib/mystery"}, nil, ErrNotAnchor},
		{"inside an anchor", []string{"/var/lib/nixos/uid-map"}, nil, ErrNotAnchor},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Select(model, tc.paths)
			if !errors.Is(err, tc.err) || !slices.Equal(got, tc.want) {
				t.Errorf("Select(%q) = %q, %v; want %q, %v", tc.paths, got, err, tc.want, tc.err)
			}
		})
	}
}

// TestRestrict: the snippet of what was moved holds those anchors only,
// and no home left empty.
func TestRestrict(t *testing.T) {
	r := Restrict(model, []string{"/home/alice/.ssh", "/etc/machine-id"})
	if got := Anchors(r); !slices.Equal(got, []string{"/etc/machine-id", "/home/alice/.ssh"}) {
		t.Errorf("restricted to %q", got)
	}
	if len(r.Users) != 1 || r.Users[0].Name != "alice" || len(r.Users[0].Files) != 0 || len(r.Directories) != 0 {
		t.Errorf("restricted model %+v", r)
	}
	if r.AlreadyDeclared != 0 || r.Storage != "/persist" {
		t.Errorf("restricted model: storage %q, already declared %d", r.Storage, r.AlreadyDeclared)
	}
}
