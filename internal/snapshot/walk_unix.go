//go:build unix && !linux

package snapshot

import "golang.org/x/sys/unix"

// statAt stats name in dirfd ("" for dirfd itself). Without mount IDs, the
// walk stops at device boundaries only.
func statAt(dirfd int, name string) (stat, error) {
	var st unix.Stat_t
	var err error
	if name == "" {
		err = unix.Fstat(dirfd, &st)
	} else {
		err = unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
	}
	if err != nil {
		return stat{}, err
	}
	return stat{
		mode: uint32(st.Mode), uid: st.Uid, gid: st.Gid, size: st.Size,
		mtime: unix.TimespecToNsec(st.Mtim), ctime: unix.TimespecToNsec(st.Ctim),
		ino: uint64(st.Ino), nlink: uint32(st.Nlink), dev: uint64(st.Dev),
	}, nil
}
