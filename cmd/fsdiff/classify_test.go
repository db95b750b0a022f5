//go:build linux

package main

import (
	"strings"
	"testing"

	"github.com/fsdiff-nix/fsdiff/internal/imagetest"
)

// TestGuekkaListing replays a published fs-diff.sh output (Guekka, "NixOS
// as a server, part 1", listing 1a in the knowledge base) as a root image
// and checks the classification annotated there.
func TestGuekkaListing(t *testing.T) {
	img := imagetest.Get(t, "guekka")
	top := imagetest.Mount(t, img.File)
	out, errs, code := fsdiff(t, "--mount", top, "--root", "root", "--format", "ndjson")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	checkTruth(t, parseNDJSON(t, out), img, "btrfs") // an empty blank: generation IDs
	got := map[string]record{}
	for _, r := range parseNDJSON(t, out) {
		got[r.Path] = r
	}
	want := map[string][2]string{ // path → category, anchor
		"/etc/.clean":                           {"managed", "/etc/.clean"},
		"/etc/group":                            {"managed", "/etc/group"},
		"/etc/machine-id":                       {"persist", "/etc/machine-id"},
		"/etc/nixos/configuration.nix":          {"persist", "/etc/nixos"},
		"/etc/nixos/hardware-configuration.nix": {"persist", "/etc/nixos"},
		"/etc/passwd":                           {"managed", "/etc/passwd"},
		"/etc/resolv.conf":                      {"ephemeral", "/etc/resolv.conf"},
		"/etc/shadow":                           {"managed", "/etc/shadow"},
		"/etc/ssh/authorized_keys.d/user":       {"managed", "/etc/ssh/authorized_keys.d/user"},
		"/etc/ssh/ssh_host_ed25519_key":         {"persist", "/etc/ssh/ssh_host_ed25519_key"},
		"/etc/ssh/ssh_host_ed25519_key.pub":     {"persist", "/etc/ssh/ssh_host_ed25519_key.pub"},
		"/etc/ssh/ssh_host_rsa_key":             {"persist", "/etc/ssh/ssh_host_rsa_key"},
		"/etc/ssh/ssh_host_rsa_key.pub":         {"persist", "/etc/ssh/ssh_host_rsa_key.pub"},
		"/etc/subgid":                           {"managed", "/etc/subgid"},
		"/etc/subuid":                           {"managed", "/etc/subuid"},
		"/etc/sudoers":                          {"managed", "/etc/sudoers"},
		"/etc/.updated":                         {"ephemeral", "/etc/.updated"},
		"/root/.nix-channels":                   {"managed", "/root/.nix-channels"},
		"/root/.nix-defexpr/channels":           {"managed", "/root/.nix-defexpr"},
		"/var/lib/NetworkManager/internal-84e273c2-b91a-3a96-b341-8234a339bdc7-enp0s8.lease": {"ephemeral", "/var/lib/NetworkManager/internal-84e273c2-b91a-3a96-b341-8234a339bdc7-enp0s8.lease"},
		"/var/lib/NetworkManager/internal-84e273c2-b91a-3a96-b341-8234a339bdc7-enp0s9.lease": {"ephemeral", "/var/lib/NetworkManager/internal-84e273c2-b91a-3a96-b341-8234a339bdc7-enp0s9.lease"},
		"/var/lib/NetworkManager/NetworkManager-intern.conf":                                 {"ephemeral", "/var/lib/NetworkManager/NetworkManager-intern.conf"},
		"/var/lib/NetworkManager/secret_key":                                                 {"persist", "/var/lib/NetworkManager"},
		"/var/lib/NetworkManager/timestamps":                                                 {"persist", "/var/lib/NetworkManager"},
		"/var/lib/nixos/auto-subuid-map":                                                     {"persist", "/var/lib/nixos"},
		"/var/lib/nixos/declarative-groups":                                                  {"persist", "/var/lib/nixos"},
		"/var/lib/nixos/declarative-users":                                                   {"persist", "/var/lib/nixos"},
		"/var/lib/nixos/gid-map":                                                             {"persist", "/var/lib/nixos"},
		"/var/lib/nixos/uid-map":                                                             {"persist", "/var/lib/nixos"},
		"/var/lib/systemd/catalog/database":                                                  {"ephemeral", "/var/lib/systemd/catalog"},
		"/var/lib/systemd/random-seed":                                                       {"persist", "/var/lib/systemd/random-seed"},
		"/var/.updated":                                                                      {"ephemeral", "/var/.updated"},
	}
	if len(want) != len(imagetest.GuekkaListing) {
		t.Fatalf("%d expectations for %d listed paths", len(want), len(imagetest.GuekkaListing))
	}
	for p, w := range want {
		if r := got[p]; r.Category != w[0] || r.Anchor != w[1] {
			t.Errorf("%s: %s at %s, want %s at %s", p, r.Category, r.Anchor, w[0], w[1])
		}
	}
}

// TestDeclared: what the configuration already persists is persisted, from
// --declared (impermanence's evaluated JSON, users included).
func TestDeclared(t *testing.T) {
	img := imagetest.Get(t, "guekka")
	top := imagetest.Mount(t, img.File)
	declared := writeFile(t, "persistence.json", `{"/persist": {"hideMounts": true,
		"directories": [{"directory": "/var/lib/nixos", "mode": "0755"}, "/etc/nixos"],
		"files": ["/etc/machine-id"],
		"users": {"root": {"directories": [".nix-defexpr"], "files": []}}}}`)
	out, errs, code := fsdiff(t, "--mount", top, "--root", "root", "--format", "ndjson", "--declared", declared)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	got := map[string]record{}
	for _, r := range parseNDJSON(t, out) {
		got[r.Path] = r
	}
	for p, anchor := range map[string]string{
		"/var/lib/nixos/uid-map":       "/var/lib/nixos",
		"/etc/nixos/configuration.nix": "/etc/nixos",
		"/etc/machine-id":              "/etc/machine-id",
		"/root/.nix-defexpr/channels":  "/root/.nix-defexpr", // users.root, relative to root's home
	} {
		if r := got[p]; r.Category != "persisted" || r.Anchor != anchor {
			t.Errorf("%s: %s at %s, want persisted at %s", p, r.Category, r.Anchor, anchor)
		}
	}
	if r := got["/etc/ssh/ssh_host_rsa_key"]; r.Category != "persist" {
		t.Errorf("undeclared host key: %s, want persist", r.Category)
	}
}

// TestLiveMounts: auditing the running root, what is mounted over it (an
// impermanence bind mount from /persist) is persisted.
func TestLiveMounts(t *testing.T) {
	img := imagetest.Get(t, "blank")
	persist := t.TempDir()
	out, errs, code := inChroot(t, `mount -o loop,subvol=root "`+img.File+`" "$R"
mount --bind "`+persist+`" "$R/var/lib/app"`, "--format", "ndjson")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	got := map[string]record{}
	for _, r := range parseNDJSON(t, out) {
		got[r.Path] = r
	}
	for _, p := range []string{"/var/lib/app", "/var/lib/app/state.db", "/var/lib/app/hl-a"} {
		if r := got[p]; r.Category != "persisted" || r.Anchor != "/var/lib/app" {
			t.Errorf("%s under a bind mount: %s at %s, want persisted at /var/lib/app", p, r.Category, r.Anchor)
		}
	}
	if r := got["/var/lib/emptydir"]; r.Category != "persist" { // a service's state directory (FHS, StateDirectory=)
		t.Errorf("/var/lib/emptydir: %s, want persist", r.Category)
	}
}

// TestExplainCorpusFrequency: explain shows how many public configurations
// keep a path a corpus-derived rule decides, and the location rule below it.
func TestExplainCorpusFrequency(t *testing.T) {
	out, errs, code := fsdiff(t, "explain", "/home/alice/.config/obsidian/obsidian.json")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	for _, want := range []string{
		"persist (recommended), anchor /home/alice/.config/obsidian\n",
		"  source: kept by 32 of 353 public configurations (knowledge/corpus.jsonl)\n",
		"~/.config/obsidian/**\n",
		"~/.config/*/**\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("explain lacks %q:\n%s", want, out)
		}
	}
}
