package suggest

import (
	"cmp"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fsdiff-nix/fsdiff/internal/names"
	"github.com/fsdiff-nix/fsdiff/internal/nixtest"
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
// files, then for each user (by name) the name, directories and files,
// then the same for each Home Manager user.
func evalPaths(t testing.TB, snippet []byte) []string {
	t.Helper()
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
  hm = m.home-manager.users or { };
  hmUsers = builtins.concatLists (map (n: [ n ] ++ builtins.concatLists (map entries (builtins.attrValues hm.${n}.home.persistence))) (builtins.attrNames hm));
in
builtins.attrNames locs ++ builtins.concatLists (map (l: entries l ++ users l) (builtins.attrValues locs)) ++ hmUsers
`
	return nixtest.Strings(t, nixtest.Run(t, dir, "--eval", "--strict", "--json", "-E", expr))
}

// checkRoundTrip renders p in every style and checks that Nix evaluates
// every path and name back to exactly what p holds, and that the real
// module accepts the snippet and reads back what p means. Unknown entries
// are commented out; uncommented, they too evaluate, with the module.
func checkRoundTrip(t testing.TB, p Persistence) {
	t.Helper()
	for _, style := range Styles {
		want, all := expectedStrings(p, style, false), expectedStrings(p, style, true)
		snippet := p.Nix(style)
		compareStrings(t, string(style), evalPaths(t, snippet), want)
		checkModule(t, p, style, snippet)
		if len(all) != len(want) { // ready to uncomment
			uncommented := uncomment(snippet)
			got := evalPaths(t, uncommented)
			slices.Sort(got)
			compareStrings(t, string(style)+" uncommented", got, all)
			checkModule(t, known(p), style, uncommented)
		}
	}
}

// expectedStrings lists what evalPaths should give for p in style: the
// storage path, the paths of the entries (all, or only the ones not
// commented out) and the user names, sorted when all. Home Manager's users
// come after the system's (root).
func expectedStrings(p Persistence, style Style, all bool) []string {
	want := []string{string(p.Storage)}
	for _, e := range append(slices.Clone(p.Directories), p.Files...) {
		if all || !e.Unknown {
			want = append(want, string(e.Path))
		}
	}
	users := slices.Clone(p.Users)
	if i := slices.IndexFunc(users, func(h Home) bool { return h.Name == "root" }); style == HomeManager && i > 0 {
		users = append(append([]Home{users[i]}, users[:i]...), users[i+1:]...)
	}
	for _, h := range users {
		want = append(want, string(h.Name))
		for _, e := range append(slices.Clone(h.Directories), h.Files...) {
			if all || !e.Unknown {
				want = append(want, string(e.Path))
			}
		}
	}
	if all {
		slices.Sort(want)
	}
	return want
}

func compareStrings(t testing.TB, what string, got, want []string) {
	t.Helper()
	for i := range max(len(got), len(want)) {
		if i >= len(got) || i >= len(want) || got[i] != want[i] {
			t.Errorf("%s: Nix evaluates %d strings, want %d; first difference at %d:\n got %q\nwant %q",
				what, len(got), len(want), i, got[i:min(i+1, len(got))], want[i:min(i+1, len(want))])
			return
		}
	}
}

// uncomment does what a person does to keep the unknown entries: removes
// the "# " before each commented-out line of an entry.
func uncomment(snippet []byte) []byte {
	var b strings.Builder
	for line := range strings.Lines(string(snippet)) {
		body := strings.TrimLeft(line, " ")
		if indent := line[:len(line)-len(body)]; indent != "" && strings.HasPrefix(body, "# ") && !strings.HasPrefix(body, "# unknown: ") {
			line = indent + strings.TrimPrefix(body, "# ")
		}
		b.WriteString(line)
	}
	return []byte(b.String())
}

// known returns p with every entry kept, none unknown.
func known(p Persistence) Persistence {
	keep := func(es []Entry) []Entry {
		es = slices.Clone(es)
		for i := range es {
			es[i].Unknown = false
		}
		return es
	}
	p.Directories, p.Files, p.Users = keep(p.Directories), keep(p.Files), slices.Clone(p.Users)
	for i := range p.Users {
		p.Users[i].Directories, p.Users[i].Files = keep(p.Users[i].Directories), keep(p.Users[i].Files)
	}
	return p
}

// checkModule evaluates p's snippet in style with the real module and
// checks that what the module reads back, defaults filled in, is what p
// means: every active entry, none of the commented-out ones, owners, modes
// and preservation's how and inInitrd. The module's users are those of
// nixtest's stub: home /home/NAME, group "users" (root: /root, "root");
// Home Manager's users are every one but root.
func checkModule(t testing.TB, p Persistence, style Style, snippet []byte) {
	t.Helper()
	var want []nixtest.Entry
	add := func(user, kind string, e Entry) {
		if e.Unknown {
			return
		}
		w := nixtest.Entry{Location: string(p.Storage), User: user, Kind: kind, Path: string(e.Path)}
		owner, group, mode := "root", "root", "0755"
		if kind == "file" {
			mode = "0644"
		}
		if user != "" {
			owner, group = user, "users"
			home := "/home/" + user
			if user == "root" {
				home, group = "/root", "root"
			}
			if style == Preservation { // preservation makes user paths absolute
				w.Path = home + "/" + w.Path
				if strings.HasPrefix(string(e.Path), "/") {
					w.Path = home + string(e.Path)
				}
			}
		}
		if style != Preservation && kind == "file" {
			want = append(want, w) // impermanence has no owner or mode for a file
			return
		}
		if style == HomeManager && user != "" && user != "root" {
			group = "" // Home Manager does not know the user's group: impermanence's NixOS module fills it in
		}
		w.Owner, w.Group, w.Mode = cmp.Or(string(e.User), owner), cmp.Or(string(e.Group), group), cmp.Or(e.Mode, mode)
		if style == Preservation {
			w.How, w.InInitrd = "bindmount", "false"
			if user == "" {
				for _, a := range early[string(e.Path)] {
					switch a {
					case `how = "symlink";`:
						w.How = "symlink"
					case "inInitrd = true;":
						w.InInitrd = "true"
					}
				}
			}
		}
		want = append(want, w)
	}
	for _, e := range p.Directories {
		add("", "directory", e)
	}
	for _, e := range p.Files {
		add("", "file", e)
	}
	for _, h := range p.Users {
		for _, e := range h.Directories {
			add(string(h.Name), "directory", e)
		}
		for _, e := range h.Files {
			add(string(h.Name), "file", e)
		}
	}
	got := nixtest.Modules(t, string(style), snippet)
	order := func(a, b nixtest.Entry) int { // the order of a list does not matter to the modules
		return cmp.Or(strings.Compare(a.Location, b.Location), strings.Compare(a.User, b.User), strings.Compare(a.Kind, b.Kind), strings.Compare(a.Path, b.Path))
	}
	slices.SortStableFunc(got, order)
	slices.SortStableFunc(want, order)
	for i := range max(len(got), len(want)) {
		if i >= len(got) || i >= len(want) || got[i] != want[i] {
			t.Errorf("%s module reads back %d entries, want %d; first difference at %d:\n got %+v\nwant %+v\nsnippet:\n%s",
				style, len(got), len(want), i, got[i:min(i+1, len(got))], want[i:min(i+1, len(want))], snippet)
			break
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
