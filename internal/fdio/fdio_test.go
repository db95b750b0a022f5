//go:build linux

package fdio

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

// TestOpenNoatime: a file opened through Open keeps its atime (the
// filesystem is relatime, and the atime older than the mtime), and Names
// lists a directory without closing it.
func TestOpenNoatime(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "f")
	if err := os.WriteFile(name, []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	old := unix.NsecToTimespec(1e9)
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, name, []unix.Timespec{old, old}, 0); err != nil {
		t.Fatal(err)
	}
	d, err := Open(unix.AT_FDCWD, dir, unix.O_DIRECTORY)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(d)
	fd, err := Open(d, "f", unix.O_NOFOLLOW)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := unix.Read(fd, buf); err != nil {
		t.Fatal(err)
	}
	unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Stat(name, &st); err != nil {
		t.Fatal(err)
	}
	if st.Atim != old {
		t.Errorf("atime %v, want %v: reading updated it", st.Atim, old)
	}
	if names, err := Names(d); err != nil || !slices.Equal(names, []string{"f"}) {
		t.Fatalf("Names = %q, %v", names, err)
	}
	if _, err := unix.FcntlInt(uintptr(d), unix.F_GETFD, 0); err != nil {
		t.Errorf("Names closed the directory: %v", err)
	}
}
