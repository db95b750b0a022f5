package snapshot

import (
	"strings"
	"testing"
)

func TestParseMountInfo(t *testing.T) {
	const in = `22 1 0:21 /root / rw,relatime shared:1 - btrfs /dev/mapper/crypt rw,ssd,subvolid=256,subvol=/root
35 22 0:21 /persist/etc/ssh /etc/ssh rw,relatime shared:1 - btrfs /dev/mapper/crypt rw,subvolid=258,subvol=/persist
40 22 0:21 / /mnt/top\040level rw,relatime - btrfs /dev/mapper/crypt rw,subvolid=5,subvol=/
41 22 0:30 / / rw - tmpfs none rw,mode=755
`
	mounts, err := ParseMountInfo(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(mounts) != 4 {
		t.Fatalf("%d mounts, want 4", len(mounts))
	}
	m := mounts[1]
	if m.ID != 35 || m.Parent != 22 || m.Dev != "0:21" || m.Root != "/persist/etc/ssh" || m.Point != "/etc/ssh" ||
		m.FSType != "btrfs" || m.Source != "/dev/mapper/crypt" || m.Super != "rw,subvolid=258,subvol=/persist" {
		t.Errorf("mount 35: %+v", m)
	}
	if mounts[2].Point != "/mnt/top level" {
		t.Errorf("octal escape: point %q", mounts[2].Point)
	}
	if top, ok := MountAt(mounts, "/"); !ok || top.FSType != "tmpfs" {
		t.Errorf("MountAt(/) = %+v, %v; want the last mount there, tmpfs", top, ok)
	}
	if _, err := ParseMountInfo(strings.NewReader("1 2 3\n")); err == nil {
		t.Error("a malformed line parsed")
	}
}
