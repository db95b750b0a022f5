//go:build linux

package imagetest

import (
	"cmp"
	"fmt"
	"net"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// OddNames are file names that break naive tools; every scenario creates
// each of them, and every output format must carry them byte for byte.
var OddNames = []string{
	"new\nline",
	"tab\there",
	"cr\rhere",
	"\x01control",
	`back\slash`,
	`quote"s'`,
	"-leading-dash",
	" leading space",
	"trailing space ",
	`${builtins.getEnv "USER"}`,
	`"; system.activationScripts.x = "`,
	"invalid\xff\xfeutf8",
	"ünïcødé",
	strings.Repeat("é", 127) + "x", // 255 bytes, the longest name Linux allows
}

// DeepLevels is how deep the deepest created directory is.
const DeepLevels = 60

// builder performs a scenario inside a mounted top level and records what
// it changes. The first error stops everything after it.
type builder struct {
	top     string
	root    string // the "root" subvolume, once it exists
	err     error
	created map[string]Entry
	changed map[string]Entry // modified and metadata changes of paths that exist in the baseline
	oldDirs map[string]bool  // directories of the baseline
	roots   map[string][]Entry
}

func (b *builder) do(err error) {
	if b.err == nil && err != nil {
		b.err = err
	}
}

func (b *builder) p(rel string) string { return filepath.Join(b.root, rel) }

// restoredRoot makes the "erase your darlings" layout: a root subvolume
// filled by base, snapshotted read-only as root-blank, then restored from
// it as at boot. The truth starts empty, with "/" as a baseline directory.
func (b *builder) restoredRoot(base func()) {
	b.root = filepath.Join(b.top, "root")
	b.do(run("btrfs", "subvolume", "create", b.root))
	b.oldDirs = map[string]bool{"/": true}
	b.created, b.changed = map[string]Entry{}, map[string]Entry{}
	base()
	b.do(run("btrfs", "subvolume", "snapshot", "-r", b.root, filepath.Join(b.top, "root-blank")))
	b.do(run("btrfs", "subvolume", "delete", b.root))
	b.do(run("btrfs", "subvolume", "snapshot", filepath.Join(b.top, "root-blank"), b.root))
}

// blank is the layout of "erase your darlings": a read-only blank snapshot
// with a few files, and the root restored from it at boot.
func (b *builder) blank() {
	b.restoredRoot(b.blankBase)
	if b.err != nil {
		return
	}
	b.baselineChanges()
}

// blankBase is the blank snapshot's tree: files to change in every way.
func (b *builder) blankBase() {
	for _, d := range []string{"etc", "var", "var/lib", "home", "home/alice", "nix", "proc", "dev", "tmp", "base", "base/atime-dir", "base/delete-dir"} {
		b.do(os.Mkdir(b.p(d), 0o755))
		b.oldDirs["/"+d] = true
	}
	old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for name, content := range map[string]string{
		"base/append.txt": "hello\n", "base/truncate.txt": "some content\n", "base/overwrite.txt": "0123456789\n",
		"base/chmod.txt": "x", "base/chown.txt": "x", "base/xattr.txt": "x", "base/atime.txt": "read me\n",
		"base/untouched.txt": "x", "base/delete-me.txt": "x", "base/delete-dir/inner.txt": "x",
		"base/rename-me.txt": "renamed\n", "base/move-me.txt": "moved\n", "etc/passwd": "root:x:0:0:System administrator:/root:/bin/sh\nalice:x:1000:100::/home/alice:/bin/sh\ncolord:x:124:124::/var/lib/colord:/run/current-system/sw/bin/nologin\n",
		"etc/group": "root:x:0:\nusers:x:100:\ncolord:x:124:\n",
	} {
		b.do(os.WriteFile(b.p(name), []byte(content), 0o644))
		b.do(os.Chtimes(b.p(name), old, old))
	}
	b.do(os.Chtimes(b.p("base/atime-dir"), old, old))
}

// baselineChanges creates one of every entry, then changes, deletes and
// moves the baseline's files.
func (b *builder) baselineChanges() {
	b.changes()

	// Content changes of baseline files.
	f, err := os.OpenFile(b.p("base/append.txt"), os.O_WRONLY|os.O_APPEND, 0)
	b.do(err)
	if err == nil {
		_, err = f.WriteString("world\n")
		b.do(err)
		b.do(f.Close())
	}
	b.modified("base/append.txt", 12)
	b.do(os.Truncate(b.p("base/truncate.txt"), 0))
	b.modified("base/truncate.txt", 0)
	f, err = os.OpenFile(b.p("base/overwrite.txt"), os.O_WRONLY, 0)
	b.do(err)
	if err == nil {
		_, err = f.WriteAt([]byte("abcdefghij"), 0)
		b.do(err)
		b.do(f.Close())
	}
	b.modified("base/overwrite.txt", 11)

	// Metadata-only changes.
	b.do(os.Chmod(b.p("base/chmod.txt"), 0o600))
	b.changed["/base/chmod.txt"] = Entry{Kind: "metadata", Type: "file", Path: []byte("/base/chmod.txt"), Mode: 0o600, Size: 1}
	b.do(os.Chown(b.p("base/chown.txt"), 1000, 100))
	b.changed["/base/chown.txt"] = Entry{Kind: "metadata", Type: "file", Path: []byte("/base/chown.txt"), UID: 1000, Size: 1}
	b.do(unix.Setxattr(b.p("base/xattr.txt"), "user.fsdiff", []byte("1"), 0))
	b.changed["/base/xattr.txt"] = Entry{Kind: "metadata", Type: "file", Path: []byte("/base/xattr.txt"), Size: 1}

	// Deletions and renames.
	b.remove("base/delete-me.txt", "file")
	b.remove("base/delete-dir/inner.txt", "file")
	b.remove("base/delete-dir", "dir")
	b.rename("base/rename-me.txt", "base/renamed.txt", 8)
	b.rename("base/move-me.txt", "etc/moved.txt", 6)

	// Reads that only update atime (relatime: the old atime is over a day
	// old), which bumps the inodes' transid but changes nothing.
	before := atime(b.p("base/atime.txt"))
	_, err = os.ReadFile(b.p("base/atime.txt"))
	b.do(err)
	_, err = os.ReadDir(b.p("base/atime-dir"))
	b.do(err)
	if b.err == nil && !atime(b.p("base/atime.txt")).After(before) {
		b.do(fmt.Errorf("reading base/atime.txt did not update its atime: is the image mounted noatime?"))
	}
}

func atime(name string) time.Time {
	var st unix.Stat_t
	if unix.Stat(name, &st) != nil {
		return time.Time{}
	}
	return time.Unix(st.Atim.Unix())
}

// fresh is the impermanence README's layout: a new empty root subvolume
// at every boot, no blank snapshot.
func (b *builder) fresh() {
	b.root = filepath.Join(b.top, "root")
	b.do(run("btrfs", "subvolume", "create", filepath.Join(b.top, "old_roots")))
	b.do(run("btrfs", "subvolume", "create", b.root))
	b.do(run("btrfs", "filesystem", "sync", b.top))
	b.oldDirs = map[string]bool{"/": true}
	b.created, b.changed = map[string]Entry{}, map[string]Entry{}
	b.changes()
}

// GuekkaListing is the first fs-diff.sh output published by Guekka ("NixOS
// as a server, part 1: Impermanence", 2023), a server's root after its
// first boot with nothing persisted.
var GuekkaListing = []string{
	"/etc/.clean", "/etc/group", "/etc/machine-id", "/etc/nixos/configuration.nix",
	"/etc/nixos/hardware-configuration.nix", "/etc/passwd", "/etc/resolv.conf", "/etc/shadow",
	"/etc/ssh/authorized_keys.d/user", "/etc/ssh/ssh_host_ed25519_key", "/etc/ssh/ssh_host_ed25519_key.pub",
	"/etc/ssh/ssh_host_rsa_key", "/etc/ssh/ssh_host_rsa_key.pub", "/etc/subgid", "/etc/subuid", "/etc/sudoers",
	"/etc/.updated", "/root/.nix-channels", "/root/.nix-defexpr/channels",
	"/var/lib/NetworkManager/internal-84e273c2-b91a-3a96-b341-8234a339bdc7-enp0s8.lease",
	"/var/lib/NetworkManager/internal-84e273c2-b91a-3a96-b341-8234a339bdc7-enp0s9.lease",
	"/var/lib/NetworkManager/NetworkManager-intern.conf", "/var/lib/NetworkManager/secret_key",
	"/var/lib/NetworkManager/timestamps", "/var/lib/nixos/auto-subuid-map", "/var/lib/nixos/declarative-groups",
	"/var/lib/nixos/declarative-users", "/var/lib/nixos/gid-map", "/var/lib/nixos/uid-map",
	"/var/lib/systemd/catalog/database", "/var/lib/systemd/random-seed", "/var/.updated",
}

// guekkaFile is the content and mode of a path of GuekkaListing.
func guekkaFile(p string) (content string, mode uint32) {
	content = map[string]string{
		"/etc/.clean":  "sudoers\nssh/authorized_keys.d/user\n",
		"/etc/passwd":  "root:x:0:0:System administrator:/root:/run/current-system/sw/bin/bash\nuser:x:1000:100::/home/user:/run/current-system/sw/bin/bash\n",
		"/etc/sudoers": "root ALL=(ALL:ALL) SETENV: ALL\n",
	}[p]
	mode = 0o644
	if strings.HasPrefix(p, "/etc/ssh/ssh_host_") && !strings.HasSuffix(p, ".pub") || p == "/etc/shadow" {
		mode = 0o600
	}
	return cmp.Or(content, "state of "+p+"\n"), mode
}

// guekka replays GuekkaListing on a root restored from an empty blank.
func (b *builder) guekka() {
	b.restoredRoot(func() {})
	for _, p := range GuekkaListing {
		rel := strings.TrimPrefix(p, "/")
		for d := path.Dir(rel); d != "."; d = path.Dir(d) {
			if _, ok := b.created["/"+d]; !ok {
				b.mkdirAll(d)
			}
		}
		content, mode := guekkaFile(p)
		b.file(rel, content, mode)
	}
}

// WriteGuekka writes the files of GuekkaListing under dir, a plain
// directory: the same tree as the "guekka" image's root, for the walk
// source and tests that need no root.
func WriteGuekka(dir string) error {
	for _, p := range GuekkaListing {
		name := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			return err
		}
		content, mode := guekkaFile(p)
		if err := os.WriteFile(name, []byte(content), os.FileMode(mode)); err != nil {
			return err
		}
	}
	return nil
}

// quiet is a root after a boot whose drift NixOS manages or may lose:
// nothing to persist. It holds what NixOS recreates at every boot: the
// files activation writes (/etc/.clean, /etc/passwd...), stamps, leases,
// caches, what tmpfiles creates, and the homes activation creates, empty
// (/root, /home/bob) or with only a cache (/home/alice). newservice is the
// same with a new service's state.
func (b *builder) quiet(newService bool) {
	b.restoredRoot(func() {})
	for _, d := range []string{"etc", "var/lib/NetworkManager", "var/lib/machines", "var/lib/portables", "var/lib/systemd/catalog", "var/spool", "var/log",
		"var/cache/man", "tmp", "home/bob", "home/alice/.cache/fontconfig", "home/alice/.cache/gopls"} {
		b.mkdirAll(d)
	}
	b.mkdir("root", 0o700)
	b.mkdir("var/lib/private", 0o700) // systemd-tmpfiles creates these at every boot
	b.mkdir("var/cache/private", 0o700)
	b.file("var/log/wtmp", "", 0o664)
	for _, p := range []string{"home/alice", "home/alice/.cache", "home/alice/.cache/fontconfig", "home/alice/.cache/gopls", "home/bob"} {
		b.chown(p, 1000, 100)
	}
	b.chown("home/bob", 1001, 100)
	b.file("etc/passwd", "root:x:0:0:System administrator:/root:/run/current-system/sw/bin/bash\n"+
		"alice:x:1000:100::/home/alice:/run/current-system/sw/bin/bash\nbob:x:1001:100::/home/bob:/run/current-system/sw/bin/bash\n", 0o644)
	b.file("etc/group", "root:x:0:\nusers:x:100:alice,bob\n", 0o644)
	b.file("etc/shadow", "root:!:1::::::\nalice:!:1::::::\nbob:!:1::::::\n", 0o600)
	b.file("home/alice/.cache/fontconfig/cache-7", "x", 0o644)
	b.chown("home/alice/.cache/fontconfig/cache-7", 1000, 100)
	b.file("home/alice/.cache/gopls/index", "x", 0o644) // a cache nobody keeps
	b.chown("home/alice/.cache/gopls/index", 1000, 100)
	b.file("var/lib/systemd/catalog/database", "catalog", 0o644)
	b.file("etc/.clean", "sudoers\n", 0o644)
	b.file("etc/sudoers", "root ALL=(ALL:ALL) ALL\n", 0o440)
	b.file("etc/.updated", "TIMESTAMP_NSEC=1\n", 0o644)
	b.symlink("/etc/static/hosts", "etc/hosts")
	b.file("var/.updated", "TIMESTAMP_NSEC=1\n", 0o644)
	b.file("var/lib/NetworkManager/internal-eth0.lease", "lease\n", 0o644)
	b.file("var/cache/man/index.db", "x", 0o644)
	b.file("tmp/x", "x", 0o644)
	if newService {
		b.mkdirAll("var/lib/foo")
		b.file("var/lib/foo/state", "state\n", 0o600)
	}
}

// mkdirAll creates rel and its missing parents, recording each.
func (b *builder) mkdirAll(rel string) {
	if _, ok := b.created["/"+rel]; ok {
		return
	}
	if parent := path.Dir(rel); parent != "." {
		if _, ok := b.created["/"+parent]; !ok {
			b.mkdirAll(parent)
		}
	}
	b.mkdir(rel, 0o755)
}

// OldRoot is where the "oldroots" scenario keeps the previous boot's root.
const OldRoot = "old_roots/2026-11-20_08:00:00"

// oldRoots is the impermanence README's rollback: at boot, the previous
// root moves to old_roots/<timestamp> and a new empty root is created; the
// old root is what the truth describes.
func (b *builder) oldRoots() {
	b.fresh()
	if b.err != nil {
		return
	}
	b.do(os.Rename(b.root, filepath.Join(b.top, OldRoot))) // fresh made old_roots

	b.do(run("btrfs", "subvolume", "create", b.root))
}

// RebootOldRoots are the previous roots the "reboots" scenario keeps,
// oldest first.
var RebootOldRoots = []string{"old_roots/2026-11-28_08:00:00", "old_roots/2026-11-29_08:00:00"}

// reboots is the rollback of the impermanence guides, kept over two
// reboots. At installation, root is created and filled with the blank's
// tree, and root-blank is snapshotted read-only from it at once (in the
// same transaction as its last writes, as far as a test can make sure);
// the first boot then writes its state into root. At each of two reboots,
// root moves to old_roots/<timestamp>, a new root is snapshotted from
// root-blank (which raises root-blank's generation) and the boot writes
// other state. Last, a backup snapshots root-blank once more, before the
// live root's last write. Every root's truth is kept, against root-blank.
func (b *builder) reboots() {
	b.root = filepath.Join(b.top, "root")
	blank := filepath.Join(b.top, "root-blank")
	b.do(run("btrfs", "subvolume", "create", b.root))
	b.oldDirs = map[string]bool{"/": true}
	b.blankBase()
	b.do(run("btrfs", "subvolume", "snapshot", "-r", b.root, blank))
	b.do(os.Mkdir(filepath.Join(b.top, "old_roots"), 0o755))
	b.roots = map[string][]Entry{}
	for boot, dest := range append(RebootOldRoots, "root") {
		if boot > 0 {
			b.do(run("btrfs", "subvolume", "snapshot", blank, b.root))
		}
		b.created, b.changed = map[string]Entry{}, map[string]Entry{}
		b.bootState(boot)
		if dest == "root" {
			b.do(run("btrfs", "subvolume", "snapshot", "-r", blank, filepath.Join(b.top, "root-blank-backup")))
			b.do(run("btrfs", "filesystem", "sync", b.top))
			b.file("etc/after-backup", "x", 0o644)
		} else {
			b.do(os.Rename(b.root, filepath.Join(b.top, dest)))
		}
		b.roots[dest] = b.truth()
	}
}

// bootState is what one boot of the "reboots" scenario writes: new state
// in an old directory, a nested subvolume, a content, a mode, a deletion
// and a rename of the blank's files, and reads that only change atimes.
func (b *builder) bootState(boot int) {
	b.mkdir(fmt.Sprintf("var/lib/boot%d", boot), 0o750)
	b.file(fmt.Sprintf("var/lib/boot%d/state", boot), fmt.Sprintf("boot %d\n", boot), 0o600)
	b.file("etc/machine-id", fmt.Sprintf("%032d\n", boot), 0o444)
	b.symlink(fmt.Sprintf("/nix/store/boot%d-etc/etc/hosts", boot), "etc/hosts")
	b.do(run("btrfs", "subvolume", "create", b.p("var/lib/machines")))
	b.created["/var/lib/machines"] = Entry{Kind: "created", Type: "subvolume", Path: []byte("/var/lib/machines")}
	b.do(os.WriteFile(b.p("base/overwrite.txt"), []byte(fmt.Sprintf("boot %d\n", boot)), 0))
	b.modified("base/overwrite.txt", 7)
	b.do(os.Chmod(b.p("base/chmod.txt"), 0o600))
	b.changed["/base/chmod.txt"] = Entry{Kind: "metadata", Type: "file", Path: []byte("/base/chmod.txt"), Mode: 0o600, Size: 1}
	b.remove("base/delete-me.txt", "file")
	b.rename("base/rename-me.txt", "base/renamed.txt", 8)
	before := atime(b.p("base/atime.txt"))
	_, err := os.ReadFile(b.p("base/atime.txt"))
	b.do(err)
	if b.err == nil && !atime(b.p("base/atime.txt")).After(before) {
		b.do(fmt.Errorf("reading base/atime.txt did not update its atime: is the image mounted noatime?"))
	}
}

// skew is a root restored from a blank with a file whose mtime lies in the
// future (a clock set wrong when it was written), then only read: its
// atime changes under relatime, since it is not after its mtime, and
// nothing else does.
func (b *builder) skew() {
	future := time.Date(2035, 1, 1, 0, 0, 0, 0, time.UTC)
	b.restoredRoot(func() {
		b.do(os.WriteFile(b.p("future.txt"), []byte("from the future\n"), 0o644))
		b.do(os.Chtimes(b.p("future.txt"), future, future))
		b.do(os.WriteFile(b.p("normal.txt"), []byte("normal\n"), 0o644))
	})
	b.do(run("btrfs", "filesystem", "sync", b.top))
	for _, name := range []string{"future.txt", "normal.txt"} {
		before := atime(b.p(name))
		_, err := os.ReadFile(b.p(name))
		b.do(err)
		if b.err == nil && name == "future.txt" && atime(b.p(name)).Equal(before) { // it goes back, to now
			b.do(fmt.Errorf("reading %s did not update its atime", name))
		}
	}
}

// LongPathLevels and LongPathName make the "longpath" scenario's deep
// tree: 400 levels of 20-byte names, an 8,405-byte path, over the 4,080
// bytes of BTRFS_IOC_INO_LOOKUP and the PATH_MAX of btrfs send.
const (
	LongPathLevels = 400
	LongPathName   = "dddddddddddddddddddd"
)

// longPath is a root restored from a blank that holds a directory tree
// deeper than any path buffer; the root adds a file at its bottom and one
// at the top. Paths this long can only be made relative to a directory
// descriptor, one level at a time.
func (b *builder) longPath() {
	deep := "/tmp" + strings.Repeat("/"+LongPathName, LongPathLevels)
	b.restoredRoot(func() {
		b.do(os.Mkdir(b.p("tmp"), 0o755))
		b.oldDirs["/tmp"] = true
		fd, err := b.descend(LongPathLevels, true)
		b.do(err)
		if err == nil {
			unix.Close(fd)
		}
		b.oldDirs[deep] = true
	})
	fd, err := b.descend(LongPathLevels, false)
	b.do(err)
	if err != nil {
		return
	}
	defer unix.Close(fd)
	leaf, err := unix.Openat(fd, "new_leaf", unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, 0o644)
	b.do(err)
	if err == nil {
		_, err = unix.Write(leaf, []byte("x"))
		b.do(err)
		b.do(unix.Close(leaf))
	}
	b.created[deep+"/new_leaf"] = Entry{Kind: "created", Type: "file", Path: []byte(deep + "/new_leaf"), Mode: 0o644, Size: 1}
	b.file("new-state", "secret\n", 0o600)
}

// descend opens root/tmp and the levels of LongPathName below it, making
// them first if mkdir, and returns the bottom directory's descriptor.
func (b *builder) descend(levels int, mkdir bool) (int, error) {
	fd, err := unix.Open(b.p("tmp"), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	for i := 0; i < levels && err == nil; i++ {
		if mkdir {
			if err = unix.Mkdirat(fd, LongPathName, 0o755); err != nil {
				unix.Close(fd)
				break
			}
		}
		var next int
		next, err = unix.Openat(fd, LongPathName, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		unix.Close(fd)
		fd = next
	}
	if err != nil {
		return -1, fmt.Errorf("descending into the deep tree: %w", err)
	}
	return fd, nil
}

// changes creates one of every kind of entry.
func (b *builder) changes() {
	for _, d := range []string{"etc", "var", "var/lib", "home", "home/alice"} {
		if !b.oldDirs["/"+d] {
			b.mkdir(d, 0o755)
		}
	}
	b.mkdir("var/lib/app", 0o750)
	b.file("var/lib/app/state.db", "state\n", 0o640)
	b.file("etc/empty", "", 0o644)
	b.mkdir("var/lib/emptydir", 0o700)
	b.symlink("/nix/store/0123456789abcdfghijklmnpqrsvwxyz-etc/etc/hosts", "etc/hosts")
	b.symlink("state.db", "var/lib/app/current")
	b.fifo("var/lib/app/fifo")
	b.socket("var/lib/app/sock")
	b.node("var/lib/app/null", unix.S_IFCHR|0o666, unix.Mkdev(1, 3), "char")
	b.node("var/lib/app/loop", unix.S_IFBLK|0o660, unix.Mkdev(7, 200), "block")
	b.file("var/lib/app/hl-a", "linked\n", 0o644)
	b.link("var/lib/app/hl-a", "var/lib/app/hl-b")
	b.file("etc/machine-id", "0123456789abcdef0123456789abcdef\n", 0o444)
	b.file("etc/sudoers", "root ALL=(ALL:ALL) SETENV: ALL\n", 0o440)
	b.file("etc/.clean", "sudoers\n", 0o644)
	b.mkdir("odd", 0o755)
	for _, name := range OddNames {
		b.file("odd/"+name, name, 0o644)
	}
	d := "deep"
	b.mkdir(d, 0o755)
	for i := 1; i <= DeepLevels-1; i++ {
		d = fmt.Sprintf("%s/d%02d", d, i)
		b.mkdir(d, 0o755)
	}
	b.file(d+"/leaf", "deep\n", 0o644)
	// State with owners and modes a suggestion must carry over.
	b.mkdir("var/lib/colord", 0o750)
	b.file("var/lib/colord/storage.db", "colord\n", 0o640)
	b.chown("var/lib/colord", 124, 124)
	b.chown("var/lib/colord/storage.db", 124, 124)
	b.mkdir("home/alice/.ssh", 0o700)
	b.file("home/alice/.ssh/id_ed25519", "key\n", 0o600)
	b.file("home/alice/.zsh_history", ": 1:0;ls\n", 0o600)
	b.mkdir("home/alice/.cache", 0o755)
	b.file("home/alice/.cache/thumbnail.png", "png", 0o644)
	for _, p := range []string{"home/alice/.ssh", "home/alice/.ssh/id_ed25519", "home/alice/.zsh_history", "home/alice/.cache", "home/alice/.cache/thumbnail.png"} {
		b.chown(p, 1000, 100)
	}
	b.do(run("btrfs", "subvolume", "create", b.p("var/lib/machines")))
	b.created["/var/lib/machines"] = Entry{Kind: "created", Type: "subvolume", Path: []byte("/var/lib/machines")}
}

func (b *builder) add(rel string, e Entry) {
	e.Kind, e.Path = "created", []byte("/"+rel)
	b.created["/"+rel] = e
}

func (b *builder) mkdir(rel string, mode uint32) {
	b.do(os.Mkdir(b.p(rel), 0))
	b.do(os.Chmod(b.p(rel), os.FileMode(mode)))
	b.add(rel, Entry{Type: "dir", Mode: mode})
}

func (b *builder) file(rel, content string, mode uint32) {
	b.do(os.WriteFile(b.p(rel), []byte(content), 0))
	b.do(os.Chmod(b.p(rel), os.FileMode(mode)))
	b.add(rel, Entry{Type: "file", Mode: mode, Size: int64(len(content))})
}

func (b *builder) symlink(target, rel string) {
	b.do(os.Symlink(target, b.p(rel)))
	b.add(rel, Entry{Type: "symlink", Target: []byte(target)})
}

func (b *builder) fifo(rel string) {
	b.do(unix.Mkfifo(b.p(rel), 0o600))
	b.add(rel, Entry{Type: "fifo", Mode: 0o600})
}

func (b *builder) socket(rel string) {
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: b.p(rel), Net: "unix"})
	b.do(err)
	if err == nil {
		l.SetUnlinkOnClose(false)
		b.do(l.Close())
	}
	b.add(rel, Entry{Type: "socket"})
}

func (b *builder) node(rel string, mode uint32, dev uint64, typ string) {
	b.do(unix.Mknod(b.p(rel), mode, int(dev)))
	b.do(os.Chmod(b.p(rel), os.FileMode(mode&0o777)))
	b.add(rel, Entry{Type: typ, Mode: mode & 0o777})
}

// remove deletes a baseline entry (a directory must be empty by then).
func (b *builder) remove(rel, typ string) {
	b.do(os.Remove(b.p(rel)))
	b.changed["/"+rel] = Entry{Kind: "deleted", Type: typ, Path: []byte("/" + rel), GenKind: "none"}
}

// rename moves a baseline file: renamed for sources that see the move, a
// metadata change of the new name (its ctime) for the generation source.
func (b *builder) rename(old, rel string, size int64) {
	b.do(os.Rename(b.p(old), b.p(rel)))
	b.changed["/"+rel] = Entry{Kind: "renamed", Type: "file", Path: []byte("/" + rel), Origin: []byte("/" + old), GenKind: "metadata", Size: size}
}

func (b *builder) chown(rel string, uid, gid int) {
	b.do(os.Lchown(b.p(rel), uid, gid))
	e := b.created["/"+rel]
	e.UID = uint32(uid)
	b.created["/"+rel] = e
}

func (b *builder) link(old, rel string) {
	b.do(os.Link(b.p(old), b.p(rel)))
	e := b.created["/"+old]
	b.add(rel, e)
}

func (b *builder) modified(rel string, size int64) {
	b.changed["/"+rel] = Entry{Kind: "modified", Type: "file", Path: []byte("/" + rel), Size: size}
}

// truth lists every change sorted by path: what the builder created and
// changed, plus each baseline directory whose entries changed.
func (b *builder) truth() []Entry {
	all := map[string]Entry{}
	touch := func(p string) { // a baseline directory whose entries changed
		if parent := path.Dir(p); b.oldDirs[parent] {
			if _, gone := b.changed[parent]; !gone {
				all[parent] = Entry{Kind: "modified", Type: "dir", Path: []byte(parent)}
			}
		}
	}
	for p, e := range b.changed {
		all[p] = e
		if e.Kind == "deleted" || e.Kind == "renamed" {
			touch(p)
		}
		if e.Origin != nil {
			touch(string(e.Origin))
		}
	}
	for p, e := range b.created {
		all[p] = e
		touch(p)
	}
	out := make([]Entry, 0, len(all))
	for _, e := range all {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return string(out[i].Path) < string(out[j].Path) })
	return out
}
