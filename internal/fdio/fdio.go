//go:build unix

// Package fdio opens and lists entries through directory file descriptors
// the way fsdiff reads what it audits: never relative to the working
// directory, and without updating atimes where the kernel allows.
package fdio

import (
	"os"

	"golang.org/x/sys/unix"
)

// Open opens name in dir with O_RDONLY|O_CLOEXEC|flags, and O_NOATIME
// where it may: O_NOATIME needs ownership of the file or CAP_FOWNER, so on
// EPERM it opens again without.
func Open(dir int, name string, flags int) (int, error) {
	flags |= unix.O_RDONLY | unix.O_CLOEXEC
	fd, err := unix.Openat(dir, name, flags|noatime, 0)
	if err == unix.EPERM && noatime != 0 {
		fd, err = unix.Openat(dir, name, flags, 0)
	}
	return fd, err
}

// Names lists the entries of directory fd, in directory order, from its
// offset: fd stays open, at the end of the directory.
func Names(fd int) ([]string, error) {
	dup, err := unix.Dup(fd)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(dup), "")
	defer f.Close()
	return f.Readdirnames(-1)
}
