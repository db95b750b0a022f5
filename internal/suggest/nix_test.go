package suggest

import (
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fsdiff-nix/fsdiff/internal/names"
)

// adversarial are names that would become Nix code, or break a string,
// if escaping were wrong.
var adversarial = []string{
	"/plain", `/"; system.activationScripts.x = "touch /pwned"; x = "`, `/${builtins.readFile "/etc/shadow"}`,
	"/${", "/$", "/$$", "/a$", "/$${x}", `/\`, `/\${x}`, `/\\${x}`, "/''", "/''${x}", "/new\nline", "/cr\rlf\n",
	"/tab\t", "/\x01\x02\x1b[31m\x7f", "/invalid\xff\xfe", "/\xc3", "/é\u2028\U0001F600", "/-dash", "/ space ",
	"/#comment", "/*/ /*", "/" + strings.Repeat("x", 255),
}

// evalPaths evaluates a snippet with nix-instantiate and returns, as Nix
// sees them, the storage paths, then for each location its directories and
// files, then for each user (by name) the name, directories and files.
func evalPaths(t testing.TB, snippet []byte) []string {
	t.Helper()
	nix, err := exec.LookPath("nix-instantiate")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("nix-instantiate is missing, and CI is set: install nix-bin")
		}
		t.Skip("needs nix-instantiate (apt-get install nix-bin)")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "snippet.nix"), snippet, 0o644); err != nil {
		t.Fatal(err)
	}
	const expr = `
let
  m = import ./snippet.nix;
  locs = if m ? environment then m.environment.persistence else m.preservation.preserveAt;
  get = e: if builtins.isString e then e else if e ? directory then e.directory else e.file;
  entries = l: map get (l.directories or [ ]) ++ map get (l.files or [ ]);
  users = l: builtins.concatLists (map (n: [ n ] ++ entries l.users.${n}) (builtins.attrNames (l.users or { })));
in
builtins.attrNames locs ++ builtins.concatLists (map (l: entries l ++ users l) (builtins.attrValues locs))
`
	cmd := exec.Command(nix, "--store", "dummy://", "--eval", "--strict", "--json", "-E", expr)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("nix-instantiate: %v\n%s\nsnippet:\n%s", err, stderr.String(), snippet)
	}
	return jsonStrings(t, out)
}

// jsonStrings returns the string literals of a flat JSON list, byte-exact:
// nix-instantiate writes bytes that are not UTF-8 as they are.
func jsonStrings(t testing.TB, out []byte) []string {
	t.Helper()
	var strs []string
	for i := 0; i < len(out); i++ {
		if out[i] != '"' {
			continue
		}
		j := i + 1
		for ; j < len(out) && out[j] != '"'; j++ {
			if out[j] == '\\' {
				j++
			}
		}
		s, err := names.DecodeJSON(string(out[i : j+1]))
		if err != nil {
			t.Fatalf("%s: %v", out[i:j+1], err)
		}
		strs, i = append(strs, s), j
	}
	return strs
}

// checkRoundTrip renders p in both styles and checks that Nix evaluates
// every path and name back to exactly what p holds.
func checkRoundTrip(t testing.TB, p Persistence) {
	t.Helper()
	want := []string{string(p.Storage)}
	for _, e := range append(slices.Clone(p.Directories), p.Files...) {
		want = append(want, string(e.Path))
	}
	for _, h := range p.Users {
		want = append(want, string(h.Name))
		for _, e := range append(slices.Clone(h.Directories), h.Files...) {
			want = append(want, string(e.Path))
		}
	}
	for _, style := range Styles {
		got := evalPaths(t, p.Nix(style))
		for i := range max(len(got), len(want)) {
			if i >= len(got) || i >= len(want) || got[i] != want[i] {
				t.Errorf("%s: Nix evaluates %d strings, want %d; first difference at %d:\n got %q\nwant %q",
					style, len(got), len(want), i, got[i:min(i+1, len(got))], want[i:min(i+1, len(want))])
				break
			}
		}
	}
}

func entriesOf(paths []string, mode string) []Entry {
	var es []Entry
	for _, p := range paths {
		es = append(es, Entry{Path: names.String(p), Mode: mode, User: "u\"${x}", Group: "g"})
	}
	return es
}

// TestNixRoundTrip is the property: for any paths, the snippet evaluates
// to exactly those paths; adversarial names stay strings.
func TestNixRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	random := func() string {
		b := make([]byte, 1+r.IntN(40))
		for i := range b {
			b[i] = byte(1 + r.IntN(255)) // any byte but NUL
		}
		return "/" + string(b)
	}
	paths := slices.Clone(adversarial)
	for range 100 {
		paths = append(paths, random())
	}
	slices.Sort(paths)
	p := Persistence{
		Header:      Header{Host: "h\nost ${x}", Source: "test", Baseline: "none", Version: "test"},
		Storage:     `/persist "${x}"`,
		Directories: entriesOf(paths[:len(paths)/2], "0700"),
		Files:       entriesOf(paths[len(paths)/2:], ""),
		Users: []Home{ // sorted by name, as Build sorts them and Nix lists attributes
			{Name: `"; x = "`, Files: entriesOf([]string{"${x}"}, "")},
			{Name: "alice", Directories: entriesOf([]string{".ssh", "a\nb"}, "0700"), Files: entriesOf([]string{".zsh_history"}, "")},
			{Name: "if", Files: entriesOf([]string{"f"}, "")},
		},
	}
	checkRoundTrip(t, p)
}

// FuzzNix: go test -fuzz FuzzNix ./internal/suggest. Each input is a path
// and a user name; the seed corpus is in testdata/fuzz/FuzzNix.
func FuzzNix(f *testing.F) {
	for _, s := range adversarial {
		f.Add(s, "alice")
	}
	f.Fuzz(func(t *testing.T, path, user string) {
		if strings.ContainsRune(path, 0) || strings.ContainsRune(user, 0) || user == "" {
			t.Skip("Nix strings cannot hold NUL, and nor can paths")
		}
		checkRoundTrip(t, Persistence{
			Storage:     "/persist",
			Directories: []Entry{{Path: names.String(path), Mode: "0700"}},
			Files:       []Entry{{Path: names.String(path)}},
			Users:       []Home{{Name: names.String(user), Directories: []Entry{{Path: names.String(path)}}}},
		})
	})
}
