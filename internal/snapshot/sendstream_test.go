package snapshot

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
)

var sendNames = map[uint16]string{
	sendSnapshot: "snapshot", sendMkfile: "mkfile", sendMkdir: "mkdir", sendMknod: "mknod", sendMkfifo: "mkfifo",
	sendMksock: "mksock", sendSymlink: "symlink", sendRename: "rename", sendLink: "link", sendUnlink: "unlink",
	sendRmdir: "rmdir", sendSetXattr: "set_xattr", sendRemoveXattr: "remove_xattr", sendWrite: "write",
	sendClone: "clone", sendTruncate: "truncate", sendChmod: "chmod", sendChown: "chown", sendUtimes: "utimes",
	sendUpdateExtent: "update_extent", sendFallocate: "fallocate", sendFileattr: "fileattr",
	sendEncodedWrite: "encoded_write",
}

// TestSendReader reads real streams (btrfs send --no-data of the fixture
// image, protocols 1 and 2) and finds every command btrfs receive --dump
// printed for them, in order.
func TestSendReader(t *testing.T) {
	for _, v := range []string{"v1", "v2"} {
		t.Run(v, func(t *testing.T) {
			f, err := os.Open("testdata/send/blank-" + v + ".stream")
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
				got = append(got, sendNames[c.typ])
			}
			dump, err := os.Open("testdata/send/blank-" + v + ".dump")
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
		data, err := os.ReadFile("testdata/send/blank-" + v + ".stream")
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]Change{}
		if err := StreamChanges(bytes.NewReader(data), StreamOptions{}, func(c Change) error {
			got[c.Path] = c
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		for p, want := range map[string]Change{
			"/base/delete-me.txt":        {Kind: Deleted, Type: File},
			"/base/delete-dir":           {Kind: Deleted, Type: Dir},
			"/base/delete-dir/inner.txt": {Kind: Deleted, Type: File},
			"/base/renamed.txt":          {Kind: Renamed, Type: File, Origin: "/base/rename-me.txt"},
			"/etc/moved.txt":             {Kind: Renamed, Type: File, Origin: "/base/move-me.txt"},
			"/base/append.txt":           {Kind: Modified, Type: File},
			"/base/chmod.txt":            {Kind: Metadata, Type: File, Mode: 0o600},
			"/var/lib/app/hl-b":          {Kind: Created, Type: File},
			"/var/lib/app/current":       {Kind: Created, Type: Symlink, Target: "state.db"},
			"/var/lib/app/loop":          {Kind: Created, Type: BlockDev},
			"/deep/d01/d02/d03/d04/d05/d06/d07/d08/d09/d10/d11/d12/d13/d14/d15/d16/d17/d18/d19/d20/d21/d22/d23/d24/d25/d26/d27/d28/d29/d30/d31/d32/d33/d34/d35/d36/d37/d38/d39/d40/d41/d42/d43/d44/d45/d46/d47/d48/d49/d50/d51/d52/d53/d54/d55/d56/d57/d58/d59/leaf": {Kind: Created, Type: File},
		} {
			c := got[p]
			if c.Kind != want.Kind || c.Type != want.Type || c.Origin != want.Origin || c.Target != want.Target || want.Mode != 0 && c.Mode != want.Mode {
				t.Errorf("%s %s: got %+v, want %+v", v, p, c, want)
			}
		}
		for _, name := range []string{"new\nline", `back\slash`, "invalid\xff\xfeutf8", "${builtins.getEnv \"USER\"}", strings.Repeat("é", 127) + "x"} {
			if c := got["/odd/"+name]; c.Kind != Created {
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
	data, err := os.ReadFile("testdata/send/blank-v1.stream")
	if err != nil {
		t.Fatal(err)
	}
	corrupt := bytes.Clone(data)
	corrupt[200] ^= 0x40
	for name, in := range map[string][]byte{
		"empty":     nil,
		"not btrfs": []byte("hello, world, this is not a stream"),
		"truncated": data[:len(data)/2],
		"corrupt":   corrupt,
		"version 9": append([]byte("btrfs-stream\x00\x09\x00\x00\x00"), data[17:]...),
	} {
		err := StreamChanges(bytes.NewReader(in), StreamOptions{}, func(Change) error { return nil })
		if !errors.Is(err, ErrBadStream) {
			t.Errorf("%s: error %v, want ErrBadStream", name, err)
		}
	}
}

// FuzzSendStream: go test -fuzz FuzzSendStream ./internal/snapshot. Any
// input is read without panicking; a malformed one is ErrBadStream.
func FuzzSendStream(f *testing.F) {
	for _, v := range []string{"v1", "v2"} {
		data, err := os.ReadFile("testdata/send/blank-" + v + ".stream")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data[:2000])
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		err := StreamChanges(bytes.NewReader(data), StreamOptions{}, func(Change) error { return nil })
		if err != nil && !errors.Is(err, ErrBadStream) {
			t.Errorf("error %v is not ErrBadStream", err)
		}
	})
}
