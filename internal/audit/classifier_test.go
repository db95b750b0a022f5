package audit

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/fsdiff-nix/fsdiff/internal/change"
	"github.com/fsdiff-nix/fsdiff/internal/classify"
	"github.com/fsdiff-nix/fsdiff/internal/snapshot"
)

func TestStorageOf(t *testing.T) {
	for _, tc := range []struct {
		mounts []snapshot.Mount
		want   string
	}{
		{nil, "/persist"},
		{[]snapshot.Mount{ // a persist subvolume at /persistent, a bind of /persistent/etc/ssh
			{Dev: "0:30", Root: "/root", Point: "/", FSType: "btrfs"},
			{Dev: "0:30", Root: "/persist", Point: "/persistent", FSType: "btrfs"},
			{Dev: "0:30", Root: "/persist/etc/ssh", Point: "/etc/ssh", FSType: "btrfs"},
		}, "/persistent"},
		{[]snapshot.Mount{ // an ext4 storage at /nix/persist
			{Dev: "8:3", Root: "/", Point: "/nix/persist", FSType: "ext4"},
			{Dev: "8:3", Root: "/var/lib/nixos", Point: "/var/lib/nixos", FSType: "ext4"},
		}, "/nix/persist"},
		{[]snapshot.Mount{ // a bind from a tmpfs is no storage
			{Dev: "0:40", Root: "/", Point: "/mnt/scratch", FSType: "tmpfs"},
			{Dev: "0:40", Root: "/etc/ssh", Point: "/etc/ssh", FSType: "tmpfs"},
		}, "/persist"},
	} {
		if got := StorageOf(tc.mounts); got != tc.want {
			t.Errorf("StorageOf(%v) = %q, want %q", tc.mounts, got, tc.want)
		}
	}
}

// TestDeclaredByMounts: what is mounted over the live root is declared
// persistence, with the mount's source in the reason; volatile filesystems
// and the root itself are not.
func TestDeclaredByMounts(t *testing.T) {
	mounts := []snapshot.Mount{
		{Dev: "0:30", Root: "/root", Point: "/", FSType: "btrfs", Source: "/dev/vda3"},
		{Dev: "0:30", Root: "/nix", Point: "/nix", FSType: "btrfs", Source: "/dev/vda3"},
		{Dev: "0:30", Root: "/persist/etc/ssh", Point: "/etc/ssh", FSType: "btrfs", Source: "/dev/vda3"},
		{Dev: "8:1", Root: "/", Point: "/home", FSType: "ext4", Source: "/dev/sda1"},
		{Dev: "0:5", Root: "/", Point: "/proc", FSType: "proc", Source: "proc"},
		{Dev: "0:22", Root: "/", Point: "/run", FSType: "tmpfs", Source: "tmpfs"},
		{Dev: "0:23", Root: "/", Point: "/sys/fs/cgroup", FSType: "cgroup2", Source: "cgroup2"},
	}
	declared, storage := declaredByMounts(mounts)
	want := []classify.Declared{
		{Path: "/nix", Reason: "mounted at /nix from /dev/vda3:/nix"},
		{Path: "/etc/ssh", Reason: "mounted at /etc/ssh from /dev/vda3:/persist/etc/ssh"},
		{Path: "/home", Reason: "mounted at /home from /dev/sda1"},
	}
	if !slices.Equal(declared, want) {
		t.Errorf("declared %v, want %v", declared, want)
	}
	if want := []string{"/nix", "/etc/ssh", "/home"}; !slices.Equal(storage, want) {
		t.Errorf("storage %v, want %v", storage, want)
	}
}

// TestVolatileMountsDeclareNothing: a path under a volatile mount stays
// what the rules say; one under a mount of real storage is persisted.
func TestVolatileMountsDeclareNothing(t *testing.T) {
	for _, fstype := range []string{"tmpfs", "overlay", "proc", "devtmpfs", "ramfs"} {
		if !volatile[fstype] {
			t.Errorf("%s is not volatile", fstype)
		}
	}
	for _, fstype := range []string{"btrfs", "ext4", "xfs", "zfs", "vfat"} {
		if volatile[fstype] {
			t.Errorf("%s is volatile", fstype)
		}
	}
	classifyUnder := func(m snapshot.Mount) classify.Category {
		c, err := ClassifyOptions{}.classifier(classify.Builtin(), RootFiles{}, []snapshot.Mount{m})
		if err != nil {
			t.Fatal(err)
		}
		return c.Classify(change.Change{Path: "/srv/www/index.html", Kind: change.Created, Type: change.File}).Category
	}
	bare := classifyUnder(snapshot.Mount{Root: "/", Point: "/", FSType: "btrfs", Source: "/dev/vda3"})
	if bare == classify.Persisted {
		t.Fatalf("/srv/www/index.html is persisted with nothing mounted")
	}
	if got := classifyUnder(snapshot.Mount{Root: "/", Point: "/srv", FSType: "tmpfs", Source: "tmpfs"}); got != bare {
		t.Errorf("under a tmpfs: %s, want %s as with nothing mounted", got, bare)
	}
	if got := classifyUnder(snapshot.Mount{Root: "/", Point: "/srv", FSType: "xfs", Source: "/dev/sdb1"}); got != classify.Persisted {
		t.Errorf("under an xfs: %s, want persisted", got)
	}
}

// TestRuleFiles: given files come first, in order, then the user's and the
// system's, which are optional; a default file also given is read once,
// as given.
func TestRuleFiles(t *testing.T) {
	xdg := t.TempDir()
	user := filepath.Join(xdg, "fsdiff", "rules")
	t.Run("xdg", func(t *testing.T) {
		t.Setenv("XDG_CONFIG_HOME", xdg)
		files, optional := RuleFiles([]string{"b.rules", "a.rules"})
		if want := []string{"b.rules", "a.rules", user, "/etc/fsdiff/rules"}; !slices.Equal(files, want) {
			t.Errorf("files %q, want %q", files, want)
		}
		if optional["a.rules"] || optional["b.rules"] || !optional[user] || !optional["/etc/fsdiff/rules"] {
			t.Errorf("optional %v", optional)
		}
	})
	t.Run("home", func(t *testing.T) {
		home := t.TempDir()
		t.Setenv("XDG_CONFIG_HOME", "")
		t.Setenv("HOME", home)
		files, _ := RuleFiles(nil)
		if want := []string{filepath.Join(home, ".config", "fsdiff", "rules"), "/etc/fsdiff/rules"}; !slices.Equal(files, want) {
			t.Errorf("files %q, want %q", files, want)
		}
	})
	t.Run("given default", func(t *testing.T) {
		t.Setenv("XDG_CONFIG_HOME", xdg)
		files, optional := RuleFiles([]string{"/etc/fsdiff/rules"})
		if want := []string{"/etc/fsdiff/rules", user}; !slices.Equal(files, want) {
			t.Errorf("files %q, want %q", files, want)
		}
		if optional["/etc/fsdiff/rules"] {
			t.Error("a default file given is not optional")
		}
	})
}

// TestLoadRules: a missing default file is skipped, a missing given one is
// an InputError; user rules precede the built-in ones.
func TestLoadRules(t *testing.T) {
	xdg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", xdg)
	rules, err := ClassifyOptions{}.LoadRules()
	if err != nil {
		t.Fatal(err)
	}
	builtin := classify.Builtin()
	if tail := rules[len(rules)-len(builtin):]; tail[0].ID != builtin[0].ID || tail[len(tail)-1].ID != builtin[len(builtin)-1].ID {
		t.Errorf("the rules do not end with the built-in ones")
	}

	_, err = ClassifyOptions{RuleFiles: []string{filepath.Join(xdg, "missing")}}.LoadRules()
	var ie *InputError
	if !errors.As(err, &ie) || ie.Input != RuleFile || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing given file: %v", err)
	}

	user := filepath.Join(xdg, "fsdiff", "rules")
	os.MkdirAll(filepath.Dir(user), 0o755)
	if err := os.WriteFile(user, []byte("ephemeral /var/lib/foo/** - scratch\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rules, err = ClassifyOptions{}.LoadRules()
	if err != nil {
		t.Fatal(err)
	}
	if rules[0].ID != user+":1" || !rules[0].User {
		t.Errorf("first rule %+v, want the user's", rules[0])
	}
}
