package snapshot

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"

	"golang.org/x/sys/unix"
)

// Mounting: the top level of the root's filesystem, from the options or
// the mount table, and fsdiff's own private mounts of it.

func (o *opener) mountInfo() ([]Mount, error) {
	if o.mounts != nil {
		return o.mounts, nil
	}
	var err error
	o.mounts, err = MountTable()
	return o.mounts, err
}

// liveRoot returns the mount of "/", which must be btrfs.
func (o *opener) liveRoot() (Mount, error) {
	mounts, err := o.mountInfo()
	if err != nil {
		return Mount{}, err
	}
	m, ok := MountAt(mounts, "/")
	if !ok {
		return Mount{}, errors.New("no mount at / in /proc/self/mountinfo")
	}
	if m.FSType != "btrfs" {
		return Mount{}, &NotBtrfsError{Path: "/", FSType: m.FSType}
	}
	return m, nil
}

// topLevel returns the top-level subvolume (ID 5): Options.Mount, an existing
// mount of it, or a private read-only mount of Options.Device or of the device
// that holds "/".
func (o *opener) topLevel() (*os.File, error) {
	if o.top != nil {
		return o.top, nil
	}
	var err error
	switch {
	case o.opts.Mount != "":
		if o.top, err = o.openSubvolume(nil, o.opts.Mount); err != nil {
			return nil, err
		}
		id, err := subvolumeID(o.top)
		if err != nil {
			return nil, fmt.Errorf("reading subvolume ID of %q: %w", o.opts.Mount, permissionError(err))
		}
		if id != topLevelID {
			return nil, fmt.Errorf("top level %q is subvolume %d, %w", o.opts.Mount, id, ErrNotTopLevel)
		}
		o.t.Info.TopLevel = o.opts.Mount
		o.t.note("top level: %s, as given", o.opts.Mount)
	case o.opts.Device != "":
		if o.top, err = o.mountDetached(o.opts.Device, false); err != nil {
			return nil, err
		}
		o.t.note("top level: %s, as given, mounted read-only, detached and private", o.opts.Device)
	default:
		m, err := o.liveRoot()
		if err != nil {
			return nil, err
		}
		mounts, _ := o.mountInfo()
		for _, other := range slices.Backward(mounts) {
			if other.FSType == "btrfs" && other.Dev == m.Dev && other.Root == "/" {
				if o.top, err = openDir(unix.AT_FDCWD, other.Point, other.Point); err == nil {
					o.t.closers = append(o.t.closers, o.top.Close)
					o.t.Info.TopLevel = other.Point
					o.t.note("top level: %s (already mounted)", other.Point)
					return o.top, nil
				}
			}
		}
		if o.top, err = o.mountDetached(m.Source, false); err != nil {
			return nil, err
		}
		o.t.note("top level: %s (the device of /) mounted read-only, detached and private", m.Source)
	}
	return o.top, nil
}

// mountDetached mounts the top level of the btrfs filesystem on device
// read-only and noatime with the new mount API (fsopen(2), fsconfig(2),
// fsmount(2)) and never attaches it anywhere: no directory is created, no
// other process can see it, and the kernel removes it when its last
// descriptor closes, however fsdiff exits.
//
// A writable mount, for the send source's snapshot, is writable only if
// the filesystem already is: the superblock is always asked for read-only.
// Without the "ro" flag, btrfs turns the superblock of a filesystem mounted
// read-only elsewhere read-write for the new mount (btrfs_get_tree_subvol,
// btrfs_reconfigure_for_mount), whatever the mount's own attributes; with
// it, an existing read-write superblock is shared as it is, a read-only one
// stays read-only (the mount then reports ST_RDONLY), and a filesystem
// mounted nowhere else is opened read-only.
func (o *opener) mountDetached(device string, writable bool) (*os.File, error) {
	fsfd, err := unix.Fsopen("btrfs", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("mounting the top level of %q: fsopen: %w", device, permissionError(err))
	}
	defer unix.Close(fsfd)
	for _, kv := range [][2]string{{"source", device}, {"subvolid", strconv.Itoa(topLevelID)}} {
		if err := unix.FsconfigSetString(fsfd, kv[0], kv[1]); err != nil {
			return nil, fmt.Errorf("mounting the top level of %q: %s: %w", device, kv[0], permissionError(err))
		}
	}
	if err := unix.FsconfigSetFlag(fsfd, "ro"); err != nil {
		return nil, fmt.Errorf("mounting the top level of %q: ro: %w", device, permissionError(err))
	}
	if err := unix.FsconfigCreate(fsfd); err != nil {
		return nil, fmt.Errorf("mounting the top level of %q: %w", device, permissionError(err))
	}
	attrs := unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOATIME
	if writable {
		attrs = unix.MOUNT_ATTR_NOATIME // only for the send source's snapshot
	}
	mfd, err := unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, attrs)
	if err != nil {
		return nil, fmt.Errorf("mounting the top level of %q: fsmount: %w", device, permissionError(err))
	}
	f := os.NewFile(uintptr(mfd), device+" (top level)")
	o.t.closers = append(o.t.closers, f.Close)
	o.t.Info.TopLevel, o.device = device, device
	return f, nil
}
