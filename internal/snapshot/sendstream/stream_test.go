package sendstream

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fsdiff-nix/fsdiff/internal/change"
)

// TestSendReader reads real streams (btrfs send --no-data of the fixture
// image, protocols 1 and 2) and finds every command btrfs receive --dump
// printed for them, in order.
func TestSendReader(t *testing.T) {
	for _, v := range []string{"v1", "v2"} {
		t.Run(v, func(t *testing.T) {
			f, err := os.Open("../testdata/send/blank-" + v + ".stream")
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			s, err := newSendReader(f)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for {
				c, err := s.next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, commandName(c.typ))
			}
			dump, err := os.Open("../testdata/send/blank-" + v + ".dump")
			if err != nil {
				t.Fatal(err)
			}
			defer dump.Close()
			var want []string
			for sc := bufio.NewScanner(dump); sc.Scan(); {
				want = append(want, strings.Fields(sc.Text())[0])
			}
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("commands differ from btrfs receive --dump: %d read, %d dumped", len(got), len(want))
			}
		})
	}
}

// TestStreamFile: a saved stream alone gives the changes, deletions and
// renames included, with names byte for byte.
func TestStreamFile(t *testing.T) {
	for _, v := range []string{"v1", "v2"} {
		data, err := os.ReadFile("../testdata/send/blank-" + v + ".stream")
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]change.Change{}
		if err := Changes(bytes.NewReader(data), Options{}, func(c change.Change) error {
			got[c.Path] = c
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		// A baseline entry that the stream only unlinks, moves or changes the
		// metadata of is of a type the stream does not say: zero, not a guess.
		for p, want := range map[string]change.Change{
			"/base/delete-me.txt":        {Kind: change.Deleted},
			"/base/delete-dir":           {Kind: change.Deleted, Type: change.Dir},
			"/base/delete-dir/inner.txt": {Kind: change.Deleted},
			"/base/renamed.txt":          {Kind: change.Renamed, Origin: "/base/rename-me.txt"},
			"/etc/moved.txt":             {Kind: change.Renamed, Origin: "/base/move-me.txt"},
			"/base/append.txt":           {Kind: change.Modified, Type: change.File},
			"/base/chmod.txt":            {Kind: change.Metadata, Mode: 0o600},
			"/var/lib/app/hl-b":          {Kind: change.Created, Type: change.File},
			"/var/lib/app/current":       {Kind: change.Created, Type: change.Symlink, Target: "state.db"},
			"/var/lib/app/loop":          {Kind: change.Created, Type: change.BlockDev},
			"/deep/d01/d02/d03/d04/d05/d06/d07/d08/d09/d10/d11/d12/d13/d14/d15/d16/d17/d18/d19/d20/d21/d22/d23/d24/d25/d26/d27/d28/d29/d30/d31/d32/d33/d34/d35/d36/d37/d38/d39/d40/d41/d42/d43/d44/d45/d46/d47/d48/d49/d50/d51/d52/d53/d54/d55/d56/d57/d58/d59/leaf": {Kind: change.Created, Type: change.File},
		} {
			c := got[p]
			if c.Kind != want.Kind || c.Type != want.Type || c.Origin != want.Origin || c.Target != want.Target || want.Mode != 0 && c.Mode != want.Mode {
				t.Errorf("%s %s: got %+v, want %+v", v, p, c, want)
			}
		}
		for _, name := range []string{"new\nline", `back\slash`, "invalid\xff\xfeutf8", "${builtins.getEnv \"USER\"}", strings.Repeat("é", 127) + "x"} {
			if c := got["/odd/"+name]; c.Kind != change.Created {
				t.Errorf("%s: /odd/%q: %+v", v, name, c)
			}
		}
		for _, gone := range []string{"/base/rename-me.txt", "/base/move-me.txt"} {
			if _, ok := got[gone]; ok {
				t.Errorf("%s: %s reported, though it moved", v, gone)
			}
		}
	}
}

func TestStreamErrors(t *testing.T) {
	data, err := os.ReadFile("../testdata/send/blank-v1.stream")
	if err != nil {
		t.Fatal(err)
	}
	corrupt := bytes.Clone(data)
	corrupt[200] ^= 0x40
	for name, in := range map[string][]byte{
		"empty":         nil,
		"not btrfs":     []byte("hello, world, this is not a stream"),
		"truncated":     data[:len(data)/2],
		"corrupt":       corrupt,
		"version 9":     append([]byte("btrfs-stream\x00\x09\x00\x00\x00"), data[17:]...),
		"2 MiB command": append([]byte("btrfs-stream\x00\x01\x00\x00\x00"), 0, 0, 0x20, 0, 3, 0, 0, 0, 0, 0),
	} {
		err := Changes(bytes.NewReader(in), Options{}, func(change.Change) error { return nil })
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: error %v, want ErrMalformed", name, err)
		}
	}
}

// FuzzSendStream: go test -fuzz FuzzSendStream ./internal/snapshot/sendstream. Any
// input is read without panicking; a malformed one is ErrMalformed.
func FuzzSendStream(f *testing.F) {
	for _, v := range []string{"v1", "v2"} {
		data, err := os.ReadFile("../testdata/send/blank-" + v + ".stream")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data[:2000])
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		err := Changes(bytes.NewReader(data), Options{}, func(change.Change) error { return nil })
		if err != nil && !errors.Is(err, ErrMalformed) {
			t.Errorf("error %v is not ErrMalformed", err)
		}
	})
}

// testCommand is a send command to write into a test stream.
type testCommand struct {
	typ   uint16
	attrs []testAttr
}

type testAttr struct {
	typ  uint16
	data []byte
}

func pathAttr(a uint16, p string) testAttr { return testAttr{a, []byte(p)} }

func u64Attr(a uint16, v uint64) testAttr {
	return testAttr{a, binary.LittleEndian.AppendUint64(nil, v)}
}

func timeAttr(a uint16, sec int64) testAttr {
	return testAttr{a, binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint64(nil, uint64(sec)), 0)}
}

// buildStream writes a send stream of the given version: a snapshot
// command, then cmds, then the end command, each with its CRC32C.
func buildStream(version uint32, cmds ...testCommand) []byte {
	out := binary.LittleEndian.AppendUint32([]byte(sendMagic), version)
	cmds = append([]testCommand{{typ: sendSnapshot, attrs: []testAttr{pathAttr(attrPath, "snap")}}}, cmds...)
	for _, c := range append(cmds, testCommand{typ: sendEnd}) {
		var body []byte
		for _, a := range c.attrs {
			body = binary.LittleEndian.AppendUint16(body, a.typ)
			body = binary.LittleEndian.AppendUint16(body, uint16(len(a.data)))
			body = append(body, a.data...)
		}
		msg := binary.LittleEndian.AppendUint32(nil, uint32(len(body)))
		msg = binary.LittleEndian.AppendUint16(msg, c.typ)
		msg = append(msg, 0, 0, 0, 0)
		msg = append(msg, body...)
		binary.LittleEndian.PutUint32(msg[6:], ^crc32.Update(0xffffffff, castagnoli, msg))
		out = append(out, msg...)
	}
	return out
}

// streamCase decodes the text of a test or fuzz case into a stream: one
// command a line, "NAME ATTR=VALUE...", NAME as btrfs receive --dump
// prints it or a number; ATTR path, path_to, path_link (VALUE
// percent-encoded bytes), mode, size, uid, gid, ino, rdev (numbers, 0o for
// octal), mtime, ctime (seconds) or a number (VALUE raw bytes,
// percent-encoded). A first line "v2" makes a version 2 stream. Lines and
// words that do not parse are left out, so that any input is a stream.
func streamCase(text string) []byte {
	version := uint32(1)
	if rest, ok := strings.CutPrefix(text, "v2\n"); ok {
		version, text = 2, rest
	}
	byName := map[string]uint16{}
	for typ, name := range sendNames {
		byName[name] = typ
	}
	attrs := map[string]uint16{"path": attrPath, "path_to": attrPathTo, "path_link": attrPathLink, "mode": attrMode,
		"size": attrSize, "uid": attrUID, "gid": attrGID, "ino": attrIno, "rdev": attrRdev, "mtime": attrMtime, "ctime": attrCtime}
	var cmds []testCommand
	for line := range strings.Lines(text) {
		words := strings.Fields(line)
		if len(words) == 0 {
			continue
		}
		typ, ok := byName[words[0]]
		if !ok {
			n, err := strconv.ParseUint(words[0], 10, 16)
			if err != nil {
				continue
			}
			typ = uint16(n)
		}
		c := testCommand{typ: typ}
		for _, w := range words[1:] {
			k, v, _ := strings.Cut(w, "=")
			a, named := attrs[k]
			if !named {
				n, err := strconv.ParseUint(k, 10, 16)
				if err != nil {
					continue
				}
				a = uint16(n)
			}
			switch {
			case named && (a == attrMtime || a == attrCtime):
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					continue
				}
				c.attrs = append(c.attrs, timeAttr(a, n))
			case named && a != attrPath && a != attrPathTo && a != attrPathLink:
				n, err := strconv.ParseUint(v, 0, 64)
				if err != nil {
					continue
				}
				c.attrs = append(c.attrs, u64Attr(a, n))
			default:
				b, err := url.PathUnescape(v)
				if err != nil || len(b) > 0xffff {
					continue
				}
				c.attrs = append(c.attrs, testAttr{a, []byte(b)})
			}
		}
		cmds = append(cmds, c)
	}
	return buildStream(version, cmds...)
}

// FuzzStreamCommands: go test -fuzz FuzzStreamCommands ./internal/snapshot/sendstream.
// Its input is a sequence of commands (see streamCase), written into a
// stream with valid CRCs, so that mutations explore what commands say and
// in which order, not checksums. Any stream gives an ErrMalformed or
// changes whose paths are clean and absolute, within a second.
func FuzzStreamCommands(f *testing.F) {
	f.Fuzz(func(t *testing.T, text string) {
		stream := streamCase(text)
		start := cpuTime()
		var changes []change.Change
		err := Changes(bytes.NewReader(stream), Options{}, func(c change.Change) error {
			changes = append(changes, c)
			return nil
		})
		if d := cpuTime() - start; d > time.Second {
			t.Errorf("%d-byte stream took %v of CPU", len(stream), d)
		}
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("error %v is not ErrMalformed", err)
			}
			return
		}
		for _, c := range changes {
			for _, p := range []string{c.Path, c.Origin} {
				if p != "" && !cleanPath(p) {
					t.Errorf("%s %q (origin %q): not a clean absolute path", c.Kind, c.Path, c.Origin)
				}
			}
		}
	})
}

// cpuTime is the CPU time the process used: a bound on it holds on a
// machine busy with other work, where one on wall-clock time would not.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cleanPath says whether p is "/" or absolute with no empty, "." or ".."
// component and within PATH_MAX.
func cleanPath(p string) bool {
	if p == "/" {
		return true
	}
	if !strings.HasPrefix(p, "/") || len(p) >= maxPath {
		return false
	}
	for _, name := range strings.Split(p[1:], "/") {
		if name == "" || name == "." || name == ".." {
			return false
		}
	}
	return true
}

// TestStreamHostilePaths: a command whose path could not come from the
// kernel is ErrMalformed naming the command, never a panic or a change
// outside the tree (crafted_streams.sh; crash-stream-0.bin and
// crash-stream-3.bin are a rename without a path or with an empty one).
func TestStreamHostilePaths(t *testing.T) {
	e48 := "newdeep/" + strings.Repeat("e/", 47) + "e"
	for name, tc := range map[string]struct{ text, want string }{
		"rename of the root (crash-stream-0)":   {"mkdir path=newdeep\nrename path= path_to=" + e48, "command 3 (rename): empty path"},
		"rename without path (crash-stream-3)":  {"mkdir path=newdeep\nrename path_to=" + e48, "command 3 (rename): no path attribute"},
		"rename to the root":                    {"mkdir path=a\nrename path=a path_to=", "command 3 (rename): empty path_to"},
		"unlink of the root":                    {"unlink path=", "command 2 (unlink): empty path"},
		"unlink without path":                   {"unlink", "command 2 (unlink): no path attribute"},
		"rmdir of the root":                     {"rmdir path=", "command 2 (rmdir): empty path"},
		"link to the root":                      {"link path=a path_link=", "command 2 (link): empty path_link"},
		"utimes without path":                   {"utimes mtime=1 ctime=1", "command 2 (utimes): no path attribute"},
		"dotdot":                                {"mkfile path=../../etc/evil", `command 2 (mkfile): path "../../etc/evil": component ".."`},
		"dot":                                   {"mkfile path=a/./b", `component "."`},
		"leading slash":                         {"mkfile path=/a", `path "/a": component ""`},
		"empty component":                       {"mkfile path=a//b", `path "a//b": component ""`},
		"trailing slash":                        {"mkfile path=a/b/", `path "a/b/": trailing slash`},
		"NUL":                                   {"mkfile path=a%00b", "a name holds NUL"},
		"name over NAME_MAX":                    {"mkfile path=" + strings.Repeat("x", 256), "longer than NAME_MAX"},
		"path over PATH_MAX":                    {"mkfile path=" + strings.Repeat("a/", 2048) + "a", "longer than PATH_MAX"},
		"symlink target over PATH_MAX":          {"symlink path=l path_link=" + strings.Repeat("x", 4096), "longer than PATH_MAX"},
		"rename into itself":                    {"mkdir path=a\nrename path=a path_to=a/b", "command 3 (rename): moves an entry into itself"},
		"rename of a baseline dir into its own": {"rename path=old path_to=old/sub/x", "moves an entry into itself"},
		"path through a file":                   {"mkfile path=f\nmkfile path=f/g", `"f" goes through a file`},
		"link to a directory":                   {"mkdir path=d\nlink path=x path_link=d", "a directory is used as a file"},
		"rmdir of a file":                       {"mkfile path=f\nrmdir path=f", "rmdir of a file"},
		"entry a new directory never held":      {"mkdir path=d\nchmod path=d/x mode=0o600", `no entry "x" in a directory the stream created`},
		"deep chain by renames":                 {"mkfile path=c0/" + strings.Repeat("a/", 1500) + "f\nmkfile path=c1/" + strings.Repeat("a/", 1500) + "f\nrename path=c0 path_to=c1/" + strings.Repeat("a/", 1500) + "prev", "a path longer than PATH_MAX"},
	} {
		err := Changes(bytes.NewReader(streamCase(tc.text)), Options{}, func(c change.Change) error {
			t.Errorf("%s: reported %s %q", name, c.Kind, c.Path)
			return nil
		})
		if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want ErrMalformed with %q", name, err, tc.want)
		}
	}
}

// TestStreamDeepPathLinear: a stream describing a deep tree is read in
// time linear in its size (one 64 KB command of a 32,000-deep path took
// 29 s and 2.6 GB; deep_path.sh, mkstream.py deepone). A path as deep as
// PATH_MAX allows, touched in every directory, is reported whole.
func TestStreamDeepPathLinear(t *testing.T) {
	var b strings.Builder
	p := "d"
	for range 2000 {
		fmt.Fprintf(&b, "mkdir path=%s\n", p)
		p += "/d"
	}
	nested, deep := streamCase(b.String()), streamCase("mkfile path="+strings.Repeat("a/", 31999)+"a")
	start := time.Now()
	n := 0
	err := Changes(bytes.NewReader(nested), Options{}, func(c change.Change) error {
		n++
		return nil
	})
	if err != nil || n != 2001 { // 2000 directories and the root's entries
		t.Errorf("2000 nested mkdirs: %d changes, error %v", n, err)
	}
	err = Changes(bytes.NewReader(deep), Options{}, func(change.Change) error { return nil })
	if !errors.Is(err, ErrMalformed) {
		t.Errorf("a 32,000-deep path: %v", err)
	}
	// About 0.1 s; generous for a loaded machine, far from quadratic.
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("deep streams took %v", d)
	}
}

// TestStreamTypes: a saved stream types what it proves and nothing more
// (stream_type_guess.sh). testdata/send/types.stream is btrfs send
// --no-data of a root that deleted srv/app/old, the fifo srv/fifo, the
// symlink srv/link and the empty directory srv/empty of its blank: srv/app
// is a directory because it held an entry, though the stream only gives
// its times; what the unlinked entries were it does not say.
func TestStreamTypes(t *testing.T) {
	data, err := os.ReadFile("../testdata/send/types.stream")
	if err != nil {
		t.Fatal(err)
	}
	crafted := streamCase(`mknod path=o257-9-0 mode=0o10644
rename path=o257-9-0 path_to=srv/pipe
rename path=moved/out path_to=outside
truncate path=srv/data size=0
chmod path=srv/unknown mode=0o600
link path=srv/link2 path_link=srv/data
`)
	for name, tc := range map[string]struct {
		stream []byte
		want   map[string]change.Change
	}{
		"types.stream": {data, map[string]change.Change{
			"/srv":         {Kind: change.Modified, Type: change.Dir},
			"/srv/app":     {Kind: change.Modified, Type: change.Dir},
			"/srv/empty":   {Kind: change.Deleted, Type: change.Dir},
			"/srv/app/old": {Kind: change.Deleted},
			"/srv/fifo":    {Kind: change.Deleted},
			"/srv/link":    {Kind: change.Deleted},
		}},
		"crafted": {crafted, map[string]change.Change{
			"/srv/pipe":    {Kind: change.Created, Type: change.FIFO},
			"/moved":       {Kind: change.Modified, Type: change.Dir}, // an entry moved out of it
			"/outside":     {Kind: change.Renamed, Origin: "/moved/out"},
			"/srv/data":    {Kind: change.Modified, Type: change.File},
			"/srv/link2":   {Kind: change.Created, Type: change.File},
			"/srv/unknown": {Kind: change.Metadata},
		}},
	} {
		got := map[string]change.Change{}
		if err := Changes(bytes.NewReader(tc.stream), Options{}, func(c change.Change) error {
			got[c.Path] = c
			return nil
		}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for p, want := range tc.want {
			if c := got[p]; c.Kind != want.Kind || c.Type != want.Type || c.Origin != want.Origin {
				t.Errorf("%s: %s: %s %q (origin %q), want %s %q", name, p, c.Kind, c.Type, c.Origin, want.Kind, want.Type)
			}
		}
	}
}

// TestStreamHugeAttributesBounded: the attributes of a command are read
// in place, not copied, so a stream of many large attributes costs one
// command's buffer, whatever its length.
func TestStreamHugeAttributesBounded(t *testing.T) {
	var cmds []testCommand
	for range 500 {
		cmds = append(cmds, testCommand{sendSetXattr, []testAttr{pathAttr(attrPath, "f"), {attrData, make([]byte, 60000)}, {99, make([]byte, 5000)}}})
	}
	stream := buildStream(1, cmds...)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if err := Changes(bytes.NewReader(stream), Options{}, func(change.Change) error { return nil }); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4<<20 {
		t.Errorf("reading a %d-byte stream allocated %d bytes", len(stream), alloc)
	}
}

// TestTimespecBounds: a hostile utimes with seconds past 2262 or
// nanoseconds over a second is no time at all, not a wrapped one that
// could make an entry look modified or untouched.
func TestTimespecBounds(t *testing.T) {
	ts := func(sec uint64, nsec uint32) []byte {
		b := binary.LittleEndian.AppendUint64(nil, sec)
		return binary.LittleEndian.AppendUint32(b, nsec)
	}
	for _, tc := range []struct {
		b    []byte
		want int64
		ok   bool
	}{
		{ts(1700000000, 5), 1700000000*1e9 + 5, true},
		{ts(math.MaxUint64, 0), 0, false},
		{ts(1<<62, 0), 0, false},
		{ts(1, 1e9), 0, false},
	} {
		c := &sendCommand{attrs: map[uint16][]byte{attrMtime: tc.b}}
		if got, ok := c.timespec(attrMtime); got != tc.want || ok != tc.ok {
			t.Errorf("timespec(%x) = %d, %v; want %d, %v", tc.b, got, ok, tc.want, tc.ok)
		}
	}
}
