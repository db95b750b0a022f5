package classify

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/fsdiff-nix/fsdiff/internal/change"
)

// realisticChanges is a mix of what a root's diff holds after some use:
// caches in homes, service state under /var/lib (known and unknown
// services), journals, /etc symlinks into the store, configs, /tmp.
func realisticChanges(n int) []change.Change {
	r := rand.New(rand.NewPCG(1, 2))
	services := []string{"nixos", "systemd/timers", "postgresql/16", "bluetooth/aa:bb", "tailscale", "docker/overlay2/ab12", "myapp", "grafana/plugins", "NetworkManager", "acme/example.org"}
	apps := []string{"nix", "mozilla/firefox", "spotify/Storage", "mesa_shader_cache", "fontconfig", "keepassxc", "go-build/ab", "pip/http"}
	configs := []string{"Code/User", "Signal/attachments", "discord/Cache", "gh", "kdeconnect", "obsidian", "htop"}
	var out []change.Change
	for i := range n {
		var ch change.Change
		switch k := r.IntN(100); {
		case k < 35:
			ch = file(fmt.Sprintf("/home/alice/.cache/%s/%02x/%08x", apps[r.IntN(len(apps))], r.IntN(256), i))
		case k < 55:
			ch = file(fmt.Sprintf("/var/lib/%s/%08x", services[r.IntN(len(services))], i))
		case k < 65:
			ch = file(fmt.Sprintf("/var/log/journal/0123456789abcdef/system@%08x.journal", i))
		case k < 75:
			ch = change.Change{Path: fmt.Sprintf("/etc/f%05d", i%5000), Type: change.Symlink, Target: "/etc/static/x"}
		case k < 85:
			ch = file(fmt.Sprintf("/home/alice/.config/%s/%08x", configs[r.IntN(len(configs))], i))
		case k < 90:
			ch = file(fmt.Sprintf("/home/alice/Documents/p%d/%08x.txt", r.IntN(50), i))
		case k < 95:
			ch = file(fmt.Sprintf("/tmp/nix-build-%d/%08x", r.IntN(20), i))
		default:
			ch = file(fmt.Sprintf("/root/.cache/nix/%08x", i))
		}
		out = append(out, ch)
	}
	return out
}

// BenchmarkClassify measures classification with the full built-in rule
// set; SPEC §8 asks for over 1,000,000 paths per second per core. Run it
// with -cpu 1: a classifier is single-threaded.
func BenchmarkClassify(b *testing.B) {
	changes := realisticChanges(100_000)
	c := New(Config{Rules: Builtin(), Homes: []string{"/home/alice"}, EtcClean: []byte("sudoers\n")})
	b.ResetTimer()
	n := 0
	for b.Loop() {
		c.Classify(changes[n%len(changes)])
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "paths/s")
}

// BenchmarkAnchors measures the anchors of a fresh root's changes (every
// directory created, as after an erase-your-darlings boot), which the
// default table, check and suggest compute once per run.
func BenchmarkAnchors(b *testing.B) {
	c := New(Config{Rules: Builtin(), Homes: []string{"/home/alice"}, EtcClean: []byte("sudoers\n")})
	dirs := map[string]bool{}
	var entries []Entry
	for _, ch := range realisticChanges(300_000) {
		for d := parent(ch.Path); d != "/" && !dirs[d]; d = parent(d) {
			dirs[d] = true
			dc := change.Change{Path: d, Kind: change.Created, Type: change.Dir}
			entries = append(entries, Entry{Change: dc, Verdict: c.Classify(dc)})
		}
		ch.Kind = change.Created
		entries = append(entries, Entry{Change: ch, Verdict: c.Classify(ch)})
	}
	slices.SortFunc(entries, func(a, b Entry) int { // report order
		return cmp.Or(cmp.Compare(a.Category, b.Category), strings.Compare(a.Path, b.Path))
	})
	b.ResetTimer()
	for b.Loop() {
		Anchors(Slice(entries))
	}
	b.ReportMetric(float64(len(entries))*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}
