package classify

import (
	"testing"

	"github.com/fsdiff-nix/fsdiff/internal/snapshot"
)

func TestClassify(t *testing.T) {
	c := New([]byte("sudoers\nssh/authorized_keys.d/alice\n"))
	for _, tc := range []struct {
		change snapshot.Change
		want   Category
	}{
		{snapshot.Change{Path: "/etc/hosts", Type: snapshot.Symlink, Target: "/etc/static/hosts"}, Managed},
		{snapshot.Change{Path: "/etc/zshrc", Type: snapshot.Symlink, Target: "/nix/store/abc-zshrc"}, Managed},
		{snapshot.Change{Path: "/bin/sh", Type: snapshot.Symlink, Target: "/run/current-system/sw/bin/sh"}, Managed},
		{snapshot.Change{Path: "/var/lib/app/current", Type: snapshot.Symlink, Target: "state.db"}, Unknown},
		{snapshot.Change{Path: "/etc/x", Type: snapshot.Symlink, Target: "/nix/storefront"}, Unknown},
		{snapshot.Change{Path: "/etc/sudoers", Type: snapshot.File}, Managed},
		{snapshot.Change{Path: "/etc/ssh/authorized_keys.d/alice", Type: snapshot.File}, Managed},
		{snapshot.Change{Path: "/etc/ssh/authorized_keys.d/bob", Type: snapshot.File}, Unknown},
		{snapshot.Change{Path: "/sudoers", Type: snapshot.File}, Unknown},
		{snapshot.Change{Path: "/etc/sudoers", Type: snapshot.Dir}, Unknown},
		{snapshot.Change{Path: "/run/x.fifo", Type: snapshot.FIFO}, Ephemeral},
		{snapshot.Change{Path: "/var/lib/app/sock", Type: snapshot.Socket}, Ephemeral},
		{snapshot.Change{Path: "/etc/machine-id", Type: snapshot.File}, Unknown},
	} {
		if got := c.Classify(tc.change); got.Category != tc.want || got.Reason == "" {
			t.Errorf("Classify(%q %s → %q) = %+v, want %s with a reason", tc.change.Path, tc.change.Type, tc.change.Target, got, tc.want)
		}
	}
}

func TestNoEtcClean(t *testing.T) {
	if got := New(nil).Classify(snapshot.Change{Path: "/etc/", Type: snapshot.File}); got.Category != Unknown {
		t.Errorf("empty .clean classified /etc/ as %s", got.Category)
	}
}
