package classify

import (
	"bytes"
	"maps"
	"os"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/fsdiff-nix/fsdiff/internal/change"
)

func readCorpus(t *testing.T) []CorpusRepo {
	t.Helper()
	f, err := os.Open("testdata/corpus.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	repos, err := ReadCorpus(f)
	if err != nil {
		t.Fatal(err)
	}
	return repos
}

// TestCorpusRulesUpToDate: the committed corpus.rules is what the
// generator writes from the committed corpus, and that corpus is the
// knowledge base's, when it is at hand (../shared/knowledge).
func TestCorpusRulesUpToDate(t *testing.T) {
	got := CorpusRules(readCorpus(t), Handwritten())
	if !bytes.Equal(got, corpusRules) {
		t.Errorf("corpus.rules is not what the generator writes: run go generate ./internal/classify")
	}
	if _, err := ParseRules("corpus", got, false); err != nil {
		t.Errorf("generated rules do not parse: %v", err)
	}
	shared, err := os.ReadFile("../../../shared/knowledge/corpus.jsonl")
	if err != nil {
		t.Logf("no knowledge base next to the repository to compare testdata/corpus.jsonl with: %v", err)
		return
	}
	if mine, _ := os.ReadFile("testdata/corpus.jsonl"); !bytes.Equal(mine, shared) {
		t.Errorf("testdata/corpus.jsonl differs from ../shared/knowledge/corpus.jsonl: copy it, then go generate ./internal/classify")
	}
}

func TestReadCorpus(t *testing.T) {
	repos, err := ReadCorpus(strings.NewReader(`{"repo": "a/b", "directories": ["/var/lib/x/", {"directory": "/var/lib/y", "mode": "0700"}, "/var/lib/${name}"], "files": ["/etc/machine-id", "etc/relative"],` +
		` "user_directories": [".ssh", "~/.gnupg", "/Documents", "", {"directory": ".config/a b"}], "user_files": [".zsh_history", ".ssh"]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := []CorpusPath{{"/etc/machine-id", false}, {"/var/lib/x", true}, {"/var/lib/y", true}, {"~/.config/a b", true},
		{"~/.gnupg", true}, {"~/.ssh", true}, {"~/.zsh_history", false}, {"~/Documents", true}}
	if len(repos) != 1 || repos[0].Repo != "a/b" || !slices.Equal(repos[0].Paths, want) {
		t.Errorf("ReadCorpus = %+v, want %+v", repos, want)
	}
}

// TestCorpusRulesDecisions: what the generator leaves to hand-written
// rules, and what it says about the rest.
func TestCorpusRulesDecisions(t *testing.T) {
	repo := func(paths ...string) CorpusRepo {
		r := CorpusRepo{Repo: "r"}
		for _, p := range paths {
			r.Paths = append(r.Paths, CorpusPath{Path: strings.TrimSuffix(p, "/"), Dir: strings.HasSuffix(p, "/")})
		}
		return r
	}
	paths := []string{"/var/lib/foo/", "/etc/passwd", "/var/lib/", "/var/", "~/.config/obsidian/", "~/.ssh/known_hosts",
		"/etc/ssh/ssh_host_ed25519_key", "~/.cache/nix/", "/home/florian/", "/var/lib/systemd/", "/nix/persist/", "~/.local/state/x/", "~/.zsh_history"}
	text := string(CorpusRules([]CorpusRepo{repo(paths...), repo(paths...), repo("/var/lib/once/")}, Handwritten()))
	for _, want := range []string{
		"persist  /var/lib/foo/**  recommended  a service's state directory many configurations keep  -- kept by 2 of 3 public configurations",
		"persist  ~/.config/obsidian/**  recommended  an application's settings",
		"persist  ~/.cache/nix/**  optional  a cache many configurations keep: persisting it only saves time",
		"persist  ~/.local/state/x/**  optional  ",
	} {
		if !strings.Contains(text, want+"") {
			t.Errorf("generated rules lack %q:\n%s", want, text)
		}
	}
	for _, never := range []string{
		"/etc/passwd",            // a hand-written rule names it: managed
		"/var/lib/**", "/var/**", // locations and top-level trees
		"/var/lib/systemd/**",           // decided per child by a hand-written rule
		"~/.ssh/known_hosts",            // inside a hand-written persist rule (~/.ssh, critical)
		"/etc/ssh/ssh_host_ed25519_key", // a hand-written rule decides it, critical
		"/home/florian",                 // a home the corpus parser left as a system path
		"/nix/persist",                  // NixOS's own (managed)
		"~/.zsh_history",                // hand-written
		"/var/lib/once",                 // one configuration only
	} {
		if strings.Contains(text, never) {
			t.Errorf("generated rules name %s:\n%s", never, text)
		}
	}
}

// noise is what a NixOS root holds after a boot that nobody persists: the
// managed and ephemeral files of the published listings (knowledge/
// published_listings.md: Guekka's fs-diff output, mt-caret's post, the
// /etc of nixpkgs PR #327552), what tmpfiles and activation create, and
// caches. Symlinks point into /etc/static; directories end in /.
var noise = []string{
	// Guekka, "NixOS as a server, part 1" (fs-diff.sh, first run).
	"/etc/.clean", "/etc/group", "/etc/passwd", "/etc/resolv.conf", "/etc/shadow", "/etc/ssh/authorized_keys.d/user",
	"/etc/subgid", "/etc/subuid", "/etc/sudoers", "/etc/.updated", "/root/.nix-channels", "/root/.nix-defexpr/channels",
	"/var/lib/NetworkManager/internal-84e273c2-b91a-3a96-b341-8234a339bdc7-enp0s8.lease",
	"/var/lib/NetworkManager/internal-84e273c2-b91a-3a96-b341-8234a339bdc7-enp0s9.lease",
	"/var/lib/NetworkManager/NetworkManager-intern.conf", "/var/lib/systemd/catalog/database", "/var/.updated",
	// mt-caret: generated at every boot; tmpfiles' subvolumes.
	"/etc/docker/key.json", "/var/lib/machines/", "/var/lib/portables/",
	// nixpkgs PR #327552: /etc of a test VM (symlinks into /etc/static, and the tag file).
	"/etc/NIXOS", "/etc/X11/xorg.conf.d/00-keyboard.conf@", "/etc/bashrc@", "/etc/binfmt.d/nixos.conf@", "/etc/default/useradd@",
	"/etc/dhcpcd.conf@", "/etc/fstab@", "/etc/fuse.conf@", "/etc/host.conf@", "/etc/hostname@", "/etc/hosts@", "/etc/inputrc@",
	"/etc/issue@", "/etc/lightdm/lightdm.conf@", "/etc/locale.conf@", "/etc/login.defs@", "/etc/lsb-release@", "/etc/lvm/lvm.conf@",
	// What systemd-tmpfiles creates at every boot (var.conf, systemd.conf), empty.
	"/var/lib/", "/var/spool/", "/var/lib/private/", "/var/lib/systemd/", "/var/cache/private/", "/var/log/wtmp", "/var/log/btmp", "/var/log/lastlog",
	// The homes activation creates, empty.
	"/root/", "/home/", "/home/alice/",
	// Lock and backup files of shadow-utils, stamps, runtime files.
	"/etc/.pwd.lock", "/etc/passwd-", "/etc/shadow.lock", "/var/lib/dhcpcd/eth0.lease", "/var/lib/logrotate.status",
	"/tmp/nix-build-x/y", "/var/tmp/systemd-private-x/tmp/y",
}

// caches are cache directories no configuration of the corpus keeps.
var caches = []string{"~/.cache/gopls/x/y", "~/.cache/electron/x", "~/.cache/vscode-cpptools/ipch/x", "~/.cache/ImageMagick/x",
	"~/.cache/gnome-software/x", "~/.cache/evolution/mail/x", "~/.cache/ksycoca6_en", "~/.cache/icon-cache.kcache",
	"~/.cache/plasmashell/qmlcache/x", "~/.cache/kdenlive/x", "/var/cache/fontconfig/x", "/var/cache/lxc/x"}

// TestCrossValidation splits the corpus by repository into folds,
// generates rules from all folds but one with CorpusRules, and classifies,
// with those and the hand-written rules, a file under every path the held-
// out fold persists, and NixOS's noise. It reports per fold and overall:
//   - hit rate: persist, anchored at the declared path or one level from
//     it, over the paths at least two repositories of the whole corpus
//     persist. Counting over the whole corpus, not the training folds, is
//     the honest choice: a path kept by two repositories, one of them held
//     out, is as common as any other, but the training folds see it once,
//     below MinCorpusRepos, so the location rules must get it right.
//     Counting within the training folds would only score paths a
//     generated rule already names.
//   - dangerous rate: of those that are not caches, the share called
//     managed or ephemeral (losing them on the next boot);
//   - noise suggested: noise and caches nobody keeps, classified persist.
//
// go test -v -run CrossValidation ./internal/classify prints the figures.
func TestCrossValidation(t *testing.T) {
	const k = 5
	repos := readCorpus(t)
	slices.SortFunc(repos, func(a, b CorpusRepo) int { return strings.Compare(a.Repo, b.Repo) })
	all := countCorpus(repos)
	hw := Handwritten()

	var noiseProbes []string
	noiseProbes = append(noiseProbes, noise...)
	for _, c := range caches {
		kept := false
		for p := c; p != "~/.cache" && p != "/var/cache"; p = path.Dir(p) { // the cache directories themselves are kept whole by some
			kept = kept || all[p] != nil
		}
		if kept {
			t.Fatalf("%s: some configuration keeps it; the list is of caches nobody keeps", c)
		}
		noiseProbes = append(noiseProbes, c)
	}

	type figures struct{ paths, hits, unsafe, notCache, noise, trainPaths, trainHits int }
	var total figures
	var misses, dangers []string
	for fold := range k {
		var train []CorpusRepo
		held := map[string]bool{} // path → declared as a directory
		for i, r := range repos {
			if i%k != fold {
				train = append(train, r)
				continue
			}
			for _, p := range r.Paths {
				held[p.Path] = held[p.Path] || p.Dir
			}
		}
		generated, err := ParseRules("corpus", CorpusRules(train, hw), false)
		if err != nil {
			t.Fatal(err)
		}
		trained := countCorpus(train)
		c := New(Config{Rules: append(slices.Clone(hw), generated...), Homes: []string{"/home/alice"}, EtcClean: []byte("sudoers\nssh/authorized_keys.d/user\n")})
		var f figures
		for _, p := range slices.Sorted(maps.Keys(held)) {
			if all[p].repos < 2 {
				continue
			}
			abs := p
			if rest, ok := strings.CutPrefix(p, "~/"); ok {
				abs = "/home/alice/" + rest
			}
			probe := abs
			if held[p] {
				probe += "/fsdiff-probe"
			}
			v := c.Classify(change.Change{Path: probe, Type: change.File})
			hit := v.Category == Persist && (v.Anchor == abs || v.Anchor == path.Dir(abs) || path.Dir(v.Anchor) == abs)
			f.paths++
			if trained[p] != nil && trained[p].repos >= 2 { // the easier measure, for comparison
				f.trainPaths++
				if hit {
					f.trainHits++
				}
			}
			if hit {
				f.hits++
			} else {
				misses = append(misses, p+": "+v.Category.String()+" at "+v.Anchor+" by "+v.Pattern)
			}
			if !isCache(p) {
				f.notCache++
				if v.Category == Managed || v.Category == Ephemeral {
					f.unsafe++
					dangers = append(dangers, p+": "+v.Category.String()+" by "+v.Rule+" "+v.Pattern)
				}
			}
		}
		for _, n := range noiseProbes {
			ch := change.Change{Path: strings.TrimRight(strings.Replace(n, "~/", "/home/alice/", 1), "/@"), Type: change.File}
			switch {
			case strings.HasSuffix(n, "/"):
				ch.Type = change.Dir
			case strings.HasSuffix(n, "@"):
				ch.Type, ch.Target = change.Symlink, "/etc/static/"+strings.TrimPrefix(ch.Path, "/etc/")
			}
			if v := c.Classify(ch); v.Category == Persist {
				f.noise++
				t.Errorf("fold %d: noise %s classified persist by %s %s", fold+1, ch.Path, v.Rule, v.Pattern)
			}
		}
		t.Logf("fold %d: %d training repositories, %d generated rules; %d held-out paths kept by 2+ repositories: hit %d (%.1f%%), dangerous %d of %d not caches (%.1f%%), noise suggested %d of %d",
			fold+1, len(train), len(generated), f.paths, f.hits, pct(f.hits, f.paths), f.unsafe, f.notCache, pct(f.unsafe, f.notCache), f.noise, len(noiseProbes))
		total.paths, total.hits, total.unsafe, total.notCache, total.noise = total.paths+f.paths, total.hits+f.hits, total.unsafe+f.unsafe, total.notCache+f.notCache, total.noise+f.noise
		total.trainPaths, total.trainHits = total.trainPaths+f.trainPaths, total.trainHits+f.trainHits
	}
	t.Logf("overall (%d folds): hit %d of %d (%.1f%%), dangerous %d of %d (%.1f%%), noise suggested %d",
		k, total.hits, total.paths, pct(total.hits, total.paths), total.unsafe, total.notCache, pct(total.unsafe, total.notCache), total.noise)
	t.Logf("counted within the training folds instead (paths 2+ training repositories keep): hit %d of %d (%.1f%%)",
		total.trainHits, total.trainPaths, pct(total.trainHits, total.trainPaths))
	if testing.Verbose() {
		t.Logf("dangerous:\n  %s", strings.Join(dangers, "\n  "))
		t.Logf("misses:\n  %s", strings.Join(misses, "\n  "))
	}
	if pct(total.hits, total.paths) < 90 {
		t.Errorf("hit rate %.1f%%, want at least 90%%", pct(total.hits, total.paths))
	}
	if pct(total.unsafe, total.notCache) > 2 {
		t.Errorf("dangerous rate %.1f%%, want at most 2%%", pct(total.unsafe, total.notCache))
	}
}

func pct(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return 100 * float64(n) / float64(of)
}
