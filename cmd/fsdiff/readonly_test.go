//go:build linux

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/fsdiff-nix/fsdiff/internal/imagetest"
	"golang.org/x/sys/unix"
)

// times are an entry's atime, mtime and ctime.
type times [3]unix.Timespec

// treeTimes records the times of every entry under each of dirs, themselves
// included, without changing any: lstat(2) touches nothing, and directories
// are read O_NOATIME.
func treeTimes(t *testing.T, dirs ...string) map[string]times {
	t.Helper()
	out := map[string]times{}
	var rec func(p string)
	rec = func(p string) {
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			t.Fatal(err)
		}
		out[p] = times{st.Atim, st.Mtim, st.Ctim}
		if st.Mode&unix.S_IFMT != unix.S_IFDIR {
			return
		}
		fd, err := unix.Open(p, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_NOATIME|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		f := os.NewFile(uintptr(fd), p)
		names, err := f.Readdirnames(-1)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			rec(filepath.Join(p, n))
		}
	}
	for _, d := range dirs {
		rec(d)
	}
	return out
}

// subvolumeGeneration returns the generation of the subvolume at dir: the
// last transaction that changed it, an atime update included.
func subvolumeGeneration(t *testing.T, dir string) string {
	t.Helper()
	sync := exec.Command("btrfs", "filesystem", "sync", dir)
	if out, err := sync.CombinedOutput(); err != nil {
		t.Fatalf("btrfs filesystem sync: %v: %s", err, out)
	}
	out, err := exec.Command("btrfs", "subvolume", "show", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("btrfs subvolume show: %v: %s", err, out)
	}
	m := regexp.MustCompile(`(?m)^\s*Generation:\s+(\d+)$`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("btrfs subvolume show %s: no generation:\n%s", dir, out)
	}
	return string(m[1])
}

// strictatimeImage lays out a root and its blank on a strictatime mount, with
// what makes reads write there: symlinks new and changed (the walk reads
// their targets), /etc/hostname a symlink into /etc/static (suggest and
// check read it through the link), and the files classification reads.
func strictatimeImage(t *testing.T) string {
	t.Helper()
	top := imagetest.Mount(t, imagetest.Empty(t, 256<<20), "strictatime")
	sh := func(script string) {
		t.Helper()
		cmd := exec.Command("sh", "-euc", script)
		cmd.Dir = top
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v: %s\n%s", err, out, script)
		}
	}
	sh(`btrfs -q subvolume create src
		mkdir -p src/etc/static src/var/lib
		echo myhost > src/etc/static/hostname
		ln -s static/hostname src/etc/hostname
		printf 'root:x:0:0::/root:/bin/sh\nalice:x:1000:100::/home/alice:/bin/sh\n' > src/etc/passwd
		printf 'root:x:0:\nusers:x:100:\n' > src/etc/group
		echo static > src/etc/.clean
		ln -s /nix/store/aaa-old src/etc/oldlink
		ln -s old-target src/etc/changelink
		echo data > src/etc/file
		btrfs -q subvolume snapshot -r src root-blank
		btrfs -q subvolume snapshot root-blank root
		mkdir -p root/var/lib/svc root/home/alice/.local/share
		echo s > root/var/lib/svc/state
		echo id > root/etc/machine-id
		ln -s /nix/store/bbb-new root/etc/newlink
		ln -s ../var/lib/svc root/etc/relnewlink
		rm root/etc/changelink
		ln -s new-target root/etc/changelink
		echo m >> root/etc/file
		echo h > root/home/alice/.local/share/x
		chown -R 1000:100 root/home/alice
		btrfs filesystem sync .`)
	return top
}

// TestNoWritesStrictatime (issue 10, item 7): on a strictatime mount,
// where every read that is not O_NOATIME would update an atime, no command
// with any source changes an atime, mtime or ctime in the root or its
// baseline, nor the root subvolume's generation. The send source's
// temporary snapshot is the documented exception for the generation: a
// snapshot copies the root's tree root, which raises the root's generation
// whatever fsdiff does (btrfs subvolume snapshot alone does the same).
func TestNoWritesStrictatime(t *testing.T) {
	top := strictatimeImage(t)
	root, blank := filepath.Join(top, "root"), filepath.Join(top, "root-blank")
	sources := map[string][]string{
		"btrfs": {"--source", "btrfs", "--mount", top, "--root", "root", "--baseline", "root-blank"},
		"send":  {"--source", "send", "--mount", top, "--root", "root", "--baseline", "root-blank"},
		"walk":  {"--source", "walk", "--root", root, "--baseline", blank},
	}
	for _, source := range []string{"btrfs", "send", "walk"} {
		for _, command := range [][]string{{"audit", "-f", "tsv"}, {"suggest"}, {"check"}} {
			args := append(slices.Clone(command[1:]), sources[source]...)
			if command[0] != "audit" {
				args = append([]string{command[0]}, args...)
			}
			t.Run(fmt.Sprintf("%s %s", source, command[0]), func(t *testing.T) {
				gen, before := subvolumeGeneration(t, root), treeTimes(t, root, blank)
				_, errs, code := fsdiff(t, args...)
				if code != exitOK && !(command[0] == "check" && code == exitUndeclared) {
					t.Fatalf("fsdiff %s: exit %d\n%s", strings.Join(args, " "), code, errs)
				}
				after := treeTimes(t, root, blank)
				for p, was := range before {
					if now := after[p]; now != was {
						t.Errorf("%s: atime, mtime, ctime %v, were %v", p, now, was)
					}
				}
				if g := subvolumeGeneration(t, root); g != gen && source != "send" {
					t.Errorf("generation of the root %s, was %s", g, gen)
				}
			})
		}
	}
}

// TestReadsRootFilesNotOwned (issue 10, item 12): a user who does not own
// /etc/.clean, /etc/passwd and /etc/group (O_NOATIME is then refused with
// EPERM) still has them read: a file /etc/.clean lists is managed, and no
// warning says that classification is less exact.
func TestReadsRootFilesNotOwned(t *testing.T) {
	imagetest.Require(t)
	dir := t.TempDir()
	os.Chmod(filepath.Dir(dir), 0o755) // testing's own directory is 0700
	os.Chmod(dir, 0o755)
	root := filepath.Join(dir, "root")
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{
		".clean": "app.conf\n", "app.conf": "x = 1\n",
		"passwd": "root:x:0:0::/root:/bin/sh\n", "group": "root:x:0:\n",
	} {
		if err := os.WriteFile(filepath.Join(root, "etc", name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", staticBinary(t), "--root", root, "--baseline", "none", "-f", "ndjson")
	cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+dir) // no user rules, and none unreadable
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("run as nobody: %v\n%s", err, errb.String())
	}
	if errb.String() != "" {
		t.Errorf("stderr:\n%s", errb.String())
	}
	recs := parseNDJSON(t, out.String())
	i := slices.IndexFunc(recs, func(r record) bool { return r.Path == "/etc/app.conf" })
	if i < 0 || recs[i].Category != "managed" {
		t.Errorf("/etc/app.conf, listed in /etc/.clean, is not managed: %+v", recs)
	}
}

// TestSendReadOnlyHint (issue 10, item 5): on a read-only --mount, the send
// source is refused naming the user's path (not a /proc/self/fd path fsdiff
// opened it by), with a hint to the sources that need no snapshot; auto
// picks the btrfs source and says why.
func TestSendReadOnlyHint(t *testing.T) {
	img := imagetest.Get(t, "blank")
	top := imagetest.Mount(t, img.File, "ro")
	_, errs, code := fsdiff(t, "--source", "send", "--mount", top, "--root", "root", "-f", "paths")
	want := fmt.Sprintf("fsdiff: error: the send source snapshots the root next to it, but %q is read-only\n", top) +
		"fsdiff: hint: fsdiff never makes a read-only filesystem writable: pass --source btrfs (no deletions or renames) or --source walk, which need no snapshot\n"
	if code != exitError || errs != want {
		t.Errorf("exit %d, stderr:\n%s\nwant:\n%s", code, errs, want)
	}
	out, errs, code := fsdiff(t, "-v", "--mount", top, "--root", "root", "-f", "paths")
	if code != exitOK || out == "" || !strings.Contains(errs, "fsdiff: source: btrfs, which sees no deletions or renames, not send: ") {
		t.Errorf("auto: exit %d, stderr:\n%s", code, errs)
	}
}
