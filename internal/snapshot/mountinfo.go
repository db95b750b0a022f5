package snapshot

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Mount is one line of /proc/self/mountinfo (proc(5)).
type Mount struct {
	ID, Parent int
	Dev        string // "major:minor" of the filesystem
	Root       string // the path inside the filesystem that is mounted, e.g. "/root" for a btrfs subvolume
	Point      string // where it is mounted, relative to the reader's root
	FSType     string
	Source     string
	Options    string // per-mount options ("ro,relatime")
	Super      string // per-superblock options ("subvolid=256,subvol=/root")
}

// ParseMountInfo reads the mountinfo format of proc(5).
func ParseMountInfo(r io.Reader) ([]Mount, error) {
	var mounts []Mount
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		f := strings.Fields(sc.Text())
		sep := -1
		for i := 6; i < len(f); i++ {
			if f[i] == "-" {
				sep = i
				break
			}
		}
		if sep < 0 || sep+3 >= len(f) {
			return nil, fmt.Errorf("mountinfo line %d: malformed: %q", n, sc.Text())
		}
		id, err1 := strconv.Atoi(f[0])
		parent, err2 := strconv.Atoi(f[1])
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("mountinfo line %d: malformed mount ID: %q", n, sc.Text())
		}
		m := Mount{
			ID: id, Parent: parent, Dev: f[2],
			Root: unescapeMount(f[3]), Point: unescapeMount(f[4]), Options: f[5],
			FSType: f[sep+1], Source: unescapeMount(f[sep+2]), Super: f[sep+3],
		}
		mounts = append(mounts, m)
	}
	return mounts, sc.Err()
}

// unescapeMount undoes the kernel's octal escaping of space, tab, newline and
// backslash in mountinfo fields (fs/proc_namespace.c, mangle()).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// MountAt returns the mount that is visible at point: the last one mounted
// there, since a later mount hides an earlier one.
func MountAt(mounts []Mount, point string) (Mount, bool) {
	for i := len(mounts) - 1; i >= 0; i-- {
		if mounts[i].Point == point {
			return mounts[i], true
		}
	}
	return Mount{}, false
}
