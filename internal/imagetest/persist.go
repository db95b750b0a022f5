//go:build linux

package imagetest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// PersistAnchors are the persist anchors PersistLayout's root holds, as
// fsdiff suggest declares them.
var PersistAnchors = []string{"/etc/machine-id", "/home/alice/.ssh", "/var/lib/foo"}

// PersistLayout builds, in a fresh image of its own (fsdiff persist
// writes into it), the layout fsdiff persist works on: "root" restored
// from the blank "root-blank", a subvolume "persist" next to it, and in
// root state to persist of every kind fsdiff must copy exactly: a file
// anchor, a home directory, and /var/lib/foo with hard links (one to
// /etc/machine-id, across anchors), a sparse
// file, a large file, empty entries, symlinks, a fifo, devices, a socket,
// a setuid file, owners, an ACL, a capability and user and trusted xattrs.
// It returns the mounted top level.
func PersistLayout(t testing.TB) string {
	t.Helper()
	top := Mount(t, Empty(t, 512<<20))
	b := &builder{top: top}
	b.restoredRoot(func() {
		for _, d := range []string{"etc", "var", "var/lib", "home", "home/alice"} {
			b.do(os.Mkdir(b.p(d), 0o755))
		}
		b.do(os.Chmod(b.p("home/alice"), 0o700))
		b.do(os.Chown(b.p("home/alice"), 1000, 100))
		b.do(os.WriteFile(b.p("etc/passwd"), []byte("root:x:0:0::/root:/bin/sh\nalice:x:1000:100::/home/alice:/bin/sh\nfoo:x:124:124::/var/lib/foo:/bin/nologin\n"), 0o644))
		b.do(os.WriteFile(b.p("etc/group"), []byte("root:x:0:\nusers:x:100:\nfoo:x:124:\n"), 0o644))
	})
	b.do(run("btrfs", "subvolume", "create", filepath.Join(top, "persist")))
	b.file("etc/machine-id", "0123456789abcdef0123456789abcdef\n", 0o444)
	b.mkdir("home/alice/.ssh", 0o700)
	b.file("home/alice/.ssh/id_ed25519", "secret\n", 0o600)
	b.chown("home/alice/.ssh", 1000, 100)
	b.chown("home/alice/.ssh/id_ed25519", 1000, 100)

	b.mkdir("var/lib/foo", 0o750)
	b.mkdir("var/lib/foo/sub", 0o2775)
	b.mkdir("var/lib/foo/empty-dir", 0o700)
	b.file("var/lib/foo/a", "hello\n", 0o644)
	b.link("var/lib/foo/a", "var/lib/foo/sub/a-link")
	b.link("var/lib/foo/a", "var/lib/foo/a-link")
	b.link("etc/machine-id", "var/lib/foo/machine-id-link") // a hard link across anchors
	b.file("var/lib/foo/empty", "", 0o600)
	b.file("var/lib/foo/setuid", "#!/bin/sh\n", 0o4755)
	b.chown("var/lib/foo/setuid", 124, 124)
	big := bytes.Repeat([]byte("0123456789abcdef"), 64<<10) // 1 MiB, not inline
	b.do(os.WriteFile(b.p("var/lib/foo/big"), big, 0o644))
	if f, err := os.OpenFile(b.p("var/lib/foo/sparse"), os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
		_, err1 := f.WriteAt(big[:64<<10], 0)
		_, err2 := f.WriteAt(big[:64<<10], 8<<20)
		b.do(err1)
		b.do(err2)
		b.do(f.Truncate(16 << 20))
		b.do(f.Close())
	} else {
		b.do(err)
	}
	b.symlink("a", "var/lib/foo/rel-link")
	b.symlink("/etc/passwd", "var/lib/foo/abs-link")
	b.symlink("../../../../../../etc/shadow", "var/lib/foo/sub/climbing-link")
	b.fifo("var/lib/foo/fifo")
	b.node("var/lib/foo/null", unix.S_IFCHR|0o666, unix.Mkdev(1, 3), "char")
	b.node("var/lib/foo/loop", unix.S_IFBLK|0o660, unix.Mkdev(7, 0), "block")
	b.socket("var/lib/foo/sock")
	b.do(unix.Lsetxattr(b.p("var/lib/foo/a"), "user.note", []byte("kept"), 0))
	b.do(unix.Lsetxattr(b.p("var/lib/foo/sub"), "trusted.tag", []byte{0, 1, 2}, 0))
	b.do(unix.Lsetxattr(b.p("var/lib/foo/a"), "system.posix_acl_access", acl(1000), 0))
	b.do(unix.Lsetxattr(b.p("var/lib/foo/sub"), "system.posix_acl_default", acl(1000), 0))
	b.do(unix.Lsetxattr(b.p("var/lib/foo/setuid"), "security.capability", capability(10), 0))
	for _, p := range []string{"var/lib/foo", "var/lib/foo/sub", "var/lib/foo/empty-dir"} {
		b.chown(p, 124, 124)
	}
	b.do(run("btrfs", "filesystem", "sync", top))
	if b.err != nil {
		t.Fatal(b.err)
	}
	return top
}

// acl is a POSIX access ACL (linux/posix_acl_xattr.h, version 2) that gives
// user uid read access besides rw-r--r--.
func acl(uid uint32) []byte {
	const userObj, user, groupObj, mask, other = 0x01, 0x02, 0x04, 0x10, 0x20
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, uint32(2))
	for _, e := range []struct {
		tag, perm uint16
		id        uint32
	}{{userObj, 6, ^uint32(0)}, {user, 4, uid}, {groupObj, 4, ^uint32(0)}, {mask, 4, ^uint32(0)}, {other, 4, ^uint32(0)}} {
		binary.Write(&b, binary.LittleEndian, e)
	}
	return b.Bytes()
}

// capability is a security.capability value (linux/capability.h,
// VFS_CAP_REVISION_2) with capability bit permitted and effective.
func capability(bit uint) []byte {
	var b bytes.Buffer
	for _, v := range []uint32{0x02000000 | 1, 1 << bit, 0, 0, 0} {
		binary.Write(&b, binary.LittleEndian, v)
	}
	return b.Bytes()
}

// Tree lists everything under dir: path, mode, owner, size, mtime and
// content, to tell that nothing changed.
func Tree(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		st := info.Sys().(*syscall.Stat_t)
		line := fmt.Sprintf("%s %o %d:%d %d %d", p, st.Mode, st.Uid, st.Gid, st.Size, info.ModTime().UnixNano())
		if info.Mode().IsRegular() {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			line += " " + string(data)
		}
		out = append(out, line)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
