package classify

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

// builtinClassifier classifies with the built-in rules for a host with
// one user, alice.
func builtinClassifier() *Classifier {
	return New(Config{Rules: Builtin(), Homes: []string{"/home/alice"}})
}

// TestPersistedByMany: every path that at least 10 of the 94 public
// configurations persist is persist, anchored at the path or within it.
// Two are exceptions the knowledge base decides otherwise, on purpose:
// /var/cache (caches are never persist) and /var/lib as a whole: fsdiff
// anchors each service's directory, and one no rule knows is unknown.
func TestPersistedByMany(t *testing.T) {
	f, err := os.Open("testdata/persisted-by-10.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c := builtinClassifier()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 3 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		n++
		p, kind := fields[0], fields[1]
		if rest, ok := strings.CutPrefix(p, "~/"); ok {
			p = "/home/alice/" + rest
		}
		samples := []string{p}
		if kind == "dir" {
			samples = append(samples, p+"/some/state")
		}
		for _, s := range samples {
			v := c.Classify(file(s))
			switch {
			case p == "/var/cache" || p == "/home/alice/.cache":
				if v.Category == Persist {
					t.Errorf("%s: persist, but caches never are", s)
				}
			case p == "/var/lib":
				if v.Category != Unknown || v.Anchor != s && v.Anchor != "/var/lib/some" {
					t.Errorf("%s: %s at %s, want unknown at the service directory", s, v.Category, v.Anchor)
				}
			case v.Category != Persist:
				t.Errorf("%s: %s (%s), want persist", s, v.Category, v.Pattern)
			case v.Anchor != p && !strings.HasPrefix(v.Anchor, p+"/"):
				t.Errorf("%s: anchor %s, want %s or a path inside it", s, v.Anchor, p)
			}
		}
	}
	if n < 50 {
		t.Errorf("read %d paths, want the 53 of persist_frequency.md", n)
	}
}

// TestCachesNeverPersist: caches and temporary files are never persist,
// except where a specific rule knows better (KeePassXC keeps its settings
// in ~/.cache/keepassxc, tuigreet its last user in /var/cache/tuigreet).
func TestCachesNeverPersist(t *testing.T) {
	exceptions := map[string]bool{"~/.cache/keepassxc/**": true, "/var/cache/tuigreet/**": true}
	c := builtinClassifier()
	for _, dir := range []string{"/home/alice/.cache", "/root/.cache", "/var/cache", "/tmp"} {
		for _, rel := range []string{"", "/x", "/nix/eval-cache-v5/abc.sqlite", "/spotify/Storage/ab", "/mesa_shader_cache/index",
			"/keepassxc/keepassxc.ini", "/tuigreet/lastuser", "/.X11-unix/X0", "/a/b/c/d/e/f", "/libvirt/qemu/x"} {
			v := c.Classify(file(dir + rel))
			if v.Category == Persist && !exceptions[v.Pattern] {
				t.Errorf("%s: persist by %s", dir+rel, v.Pattern)
			}
		}
	}
}
