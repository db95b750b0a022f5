package classify

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/fsdiff-nix/fsdiff/internal/change"
)

func file(p string) change.Change { return change.Change{Path: p, Type: change.File} }

func TestStructural(t *testing.T) {
	c := New(Config{
		EtcClean: []byte("sudoers\nssh/authorized_keys.d/alice\n"),
		Declared: []Declared{{Path: "/var/lib/bluetooth", Reason: "declared"}, {Path: "/etc/machine-id", Reason: "declared"}},
		Storage:  []string{"/persist"},
	})
	for _, tc := range []struct {
		change change.Change
		want   Category
		anchor string
	}{
		{change.Change{Path: "/etc/hosts", Type: change.Symlink, Target: "/etc/static/hosts"}, Managed, "/etc/hosts"},
		{change.Change{Path: "/etc/zshrc", Type: change.Symlink, Target: "/nix/store/abc-zshrc"}, Managed, "/etc/zshrc"},
		{change.Change{Path: "/bin/sh", Type: change.Symlink, Target: "/run/current-system/sw/bin/sh"}, Managed, "/bin/sh"},
		{change.Change{Path: "/x/current", Type: change.Symlink, Target: "state.db"}, Unknown, "/x/current"},
		{change.Change{Path: "/x/y", Type: change.Symlink, Target: "/nix/storefront"}, Unknown, "/x/y"},
		{change.Change{Path: "/home/a/.f", Type: change.Symlink, Target: "/persist/home/a/.f"}, Persisted, "/home/a/.f"},
		{change.Change{Path: "/home/a/.g", Type: change.Symlink, Target: "/persistent/x"}, Unknown, "/home/a/.g"},
		{file("/etc/sudoers"), Managed, "/etc/sudoers"},
		{file("/etc/ssh/authorized_keys.d/alice"), Managed, "/etc/ssh/authorized_keys.d/alice"},
		{file("/sudoers"), Unknown, "/sudoers"},
		{change.Change{Path: "/etc/sudoers", Type: change.Dir}, Unknown, "/etc/sudoers"},
		{change.Change{Path: "/x.fifo", Type: change.FIFO}, Ephemeral, "/x.fifo"},
		{change.Change{Path: "/var/lib/app/sock", Type: change.Socket}, Ephemeral, "/var/lib/app/sock"},
		{file("/var/lib/bluetooth/aa:bb/info"), Persisted, "/var/lib/bluetooth"},
		{file("/var/lib/bluetooth"), Persisted, "/var/lib/bluetooth"},
		{file("/var/lib/bluetoothx"), Unknown, "/var/lib/bluetoothx"},
		{file("/etc/machine-id"), Persisted, "/etc/machine-id"},
	} {
		got := c.Classify(tc.change)
		if got.Category != tc.want || got.Anchor != tc.anchor || got.Reason == "" {
			t.Errorf("Classify(%q %s → %q) = %+v, want %s at %s with a reason", tc.change.Path, tc.change.Type, tc.change.Target, got, tc.want, tc.anchor)
		}
	}
}

func mustRules(t *testing.T, name, text string, user bool) []Rule {
	t.Helper()
	rules, err := ParseRules(name, []byte(text), user)
	if err != nil {
		t.Fatal(err)
	}
	return rules
}

func TestRules(t *testing.T) {
	rules := mustRules(t, "test", `
# comment
persist   /var/lib/nixos/**                     critical  uid maps  -- src
persist   /var/lib/nixos/{uid-map,gid-map}      critical  anchor=/var/lib/nixos  the map  -- src
unknown   /var/lib/*/**                         -         unknown service
ephemeral /var/lib/*/*.lease                    -         leases
persist   /etc/ssh/ssh_host_*_key               critical  host key
managed   /etc/passwd                           -         activation rewrites it
persist   /etc/passwd                           critical  if=mutable-users  mutable users
ephemeral ~/.cache/**                           -         cache
persist   ~/.cache/keepassxc/**                 optional  keepassxc settings
persist   ~/.ssh/**                             critical  keys
unknown   ~/*/**                                -         review
persist   "/srv/my data/**"                     optional  quoted
`, false)
	c := New(Config{Rules: rules, Homes: []string{"/var/lib/alice-home"}})
	for _, tc := range []struct {
		path, want, anchor, pattern string
	}{
		{"/var/lib/nixos/uid-map", "persist", "/var/lib/nixos", "/var/lib/nixos/{uid-map,gid-map}"},
		{"/var/lib/nixos/other", "persist", "/var/lib/nixos", "/var/lib/nixos/**"},
		{"/var/lib/nixos", "persist", "/var/lib/nixos", "/var/lib/nixos/**"}, // X/** matches X
		{"/var/lib/foo/a/b", "unknown", "/var/lib/foo", "/var/lib/*/**"},
		{"/var/lib/foo", "unknown", "/var/lib/foo", "/var/lib/*/**"},
		{"/var/lib/foo/x.lease", "ephemeral", "/var/lib/foo/x.lease", "/var/lib/*/*.lease"},
		{"/var/lib", "unknown", "/var/lib", ""},
		{"/etc/ssh/ssh_host_rsa_key", "persist", "/etc/ssh/ssh_host_rsa_key", "/etc/ssh/ssh_host_*_key"},
		{"/etc/ssh/ssh_host_rsa_key.pub", "unknown", "/etc/ssh/ssh_host_rsa_key.pub", ""},
		{"/etc/passwd", "managed", "/etc/passwd", "/etc/passwd"},
		{"/home/alice/.cache/x/y", "ephemeral", "/home/alice/.cache", "~/.cache/**"},
		{"/home/alice/.cache/keepassxc/k.ini", "persist", "/home/alice/.cache/keepassxc", "~/.cache/keepassxc/**"},
		{"/root/.ssh/id_ed25519", "persist", "/root/.ssh", "~/.ssh/**"},
		{"/var/lib/alice-home/.ssh/config", "persist", "/var/lib/alice-home/.ssh", "~/.ssh/**"},
		{"/home/bob/notes.txt", "unknown", "/home/bob/notes.txt", "~/*/**"},
		{"/home/bob/Documents/a/b", "unknown", "/home/bob/Documents", "~/*/**"},
		{"/srv/my data/x", "persist", "/srv/my data", "/srv/my data/**"},
	} {
		got := c.Classify(file(tc.path))
		if got.Category.String() != tc.want || got.Anchor != tc.anchor || got.Pattern != tc.pattern {
			t.Errorf("%s: got %s at %s by %q, want %s at %s by %q", tc.path, got.Category, got.Anchor, got.Pattern, tc.want, tc.anchor, tc.pattern)
		}
	}
	// The same rules with a context set: the conditional rule wins.
	c = New(Config{Rules: rules, Context: []string{"mutable-users"}})
	if got := c.Classify(file("/etc/passwd")); got.Category != Persist {
		t.Errorf("/etc/passwd with mutable-users: %s, want persist", got.Category)
	}
}

// TestUnknownTypeNotPersist: an entry of a type the source does not say
// (a fifo a saved send stream only unlinks) is unknown, whatever a rule for
// its path says, unless it is declared (stream_type_guess.sh).
func TestUnknownTypeNotPersist(t *testing.T) {
	rules := mustRules(t, "test", "persist /srv/* recommended app state\n", true)
	c := New(Config{Rules: rules, Declared: []Declared{{Path: "/srv/kept", Reason: "declared"}}})
	for p, want := range map[string]Category{"/srv/fifo": Unknown, "/srv/kept": Persisted} {
		got := c.Classify(change.Change{Path: p, Kind: change.Deleted})
		if got.Category != want || want == Unknown && got.Rule != "unknown-type" {
			t.Errorf("%s of unknown type: %+v, want %s", p, got, want)
		}
	}
	if got := c.Classify(file("/srv/file")); got.Category != Persist {
		t.Errorf("/srv/file: %s, want persist", got.Category)
	}
}

func TestUserRuleWins(t *testing.T) {
	builtin := mustRules(t, "builtin", "persist /var/lib/nixos/** critical uid maps -- src\n", false)
	user := mustRules(t, "my.rules", "ephemeral /var/lib/** - I wipe it on purpose\n", true)
	c := New(Config{Rules: append(builtin, user...)})
	got := c.Classify(file("/var/lib/nixos/uid-map"))
	if got.Category != Ephemeral || got.Rule != "my.rules:1" || got.Source != "my.rules:1" {
		t.Errorf("user rule did not win: %+v", got)
	}
	v, _, matches := c.Explain(file("/var/lib/nixos/uid-map"))
	if v != got || len(matches) != 2 || matches[0].Rule != "my.rules:1" || matches[1].Rule != "builtin:1" {
		t.Errorf("Explain = %+v, %+v", v, matches)
	}
}

func TestRuleErrors(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"persits /a - x", "f:1:1: unknown category"},
		{"persisted /a - x", "f:1:1: unknown category \"persisted\""}, // a detector's category, not a rule's
		{"\n\npersist /a", "f:3:11: missing priority"},
		{"persist   /a   - x", "f:1:16: a persist rule needs a priority"},
		{"ephemeral /a critical x", "f:1:14: only persist rules have a priority"},
		{"ephemeral a/b - x", "f:1:11: pattern \"a/b\": want an absolute pattern"},
		{"managed ~x - x", "f:1:9: pattern \"~x\": want an absolute pattern, ~ (a home directory itself)"},
		{"ephemeral /a/{b - x", "f:1:11: pattern \"/a/{b\": unbalanced {"},
		{"ephemeral /a/b** - x", "f:1:11: pattern \"/a/b**\": ** must be a whole path component"},
		{"ephemeral /a/[ab] - x", "not supported"},
		{"ephemeral /a -", "f:1:15: missing reason"},
		{"ephemeral \"/a - x", "f:1:11: unterminated quoted pattern"},
		{"persist /a optional anchor=rel x", "f:1:21: anchor \"rel\""},
		{"persist /a optional if= x", "f:1:21: if= needs a context name"},
	} {
		_, err := ParseRules("f", []byte(tc.text), true)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.text, err, tc.want)
		}
	}
}

func TestBuiltin(t *testing.T) {
	rules := Builtin()
	if len(rules) < 200 {
		t.Errorf("%d built-in rules, want at least 200", len(rules))
	}
	for _, r := range rules {
		if r.Reason == "" || r.Source == "" {
			t.Errorf("%s %s: no reason or no source", r.ID, r.Pattern)
		}
	}
}

func TestExpandBraces(t *testing.T) {
	got := expandBraces("/a/{b,c{d,e}}/{f,g}")
	want := []string{"/a/b/f", "/a/b/g", "/a/cd/f", "/a/cd/g", "/a/ce/f", "/a/ce/g"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("expandBraces = %q, want %q", got, want)
	}
}

// TestBriefNeverSplitsACharacter: a reason without a space near its cut
// is cut before a character, not inside one (it was cut at byte 72).
func TestBriefNeverSplitsACharacter(t *testing.T) {
	reason := "a" + strings.Repeat("é", 50) // byte 72 is inside an é
	got := Brief(reason)
	if !utf8.ValidString(got) || !strings.HasSuffix(got, "…") || len(got) > briefLen+len("…") {
		t.Errorf("Brief = %q", got)
	}
}
