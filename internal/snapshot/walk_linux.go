package snapshot

import "golang.org/x/sys/unix"

// statAt stats name in dirfd ("" for dirfd itself) with statx(2), which
// also gives the mount ID (Linux 5.8): a bind mount of a directory of the
// same filesystem has the same device number but another mount ID.
func statAt(dirfd int, name string) (stat, error) {
	var sx unix.Statx_t
	flags := unix.AT_SYMLINK_NOFOLLOW | unix.AT_STATX_DONT_SYNC
	if name == "" {
		flags |= unix.AT_EMPTY_PATH
	}
	if err := unix.Statx(dirfd, name, flags, unix.STATX_BASIC_STATS|unix.STATX_MNT_ID, &sx); err != nil {
		return stat{}, err
	}
	st := stat{
		mode: uint32(sx.Mode), uid: sx.Uid, gid: sx.Gid, size: int64(sx.Size),
		mtime: sx.Mtime.Sec*1e9 + int64(sx.Mtime.Nsec), ctime: sx.Ctime.Sec*1e9 + int64(sx.Ctime.Nsec),
		ino: sx.Ino, nlink: sx.Nlink, dev: unix.Mkdev(sx.Dev_major, sx.Dev_minor),
	}
	if sx.Mask&unix.STATX_MNT_ID != 0 {
		st.mnt = sx.Mnt_id
	}
	return st, nil
}
