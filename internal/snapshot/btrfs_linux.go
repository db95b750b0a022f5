package snapshot

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"unsafe"

	"github.com/dennwc/btrfs"
	"golang.org/x/sys/unix"
)

// Ioctl numbers and item types from linux/btrfs.h and linux/btrfs_tree.h.
const (
	iocTreeSearchV2  = 0xc0709411 // _IOWR(0x94, 17, struct btrfs_ioctl_search_args_v2)
	iocInoLookup     = 0xd0009412 // _IOWR(0x94, 18, struct btrfs_ioctl_ino_lookup_args)
	iocGetSubvolInfo = 0x81f8943c // _IOR(0x94, 60, struct btrfs_ioctl_get_subvol_info_args)

	keyInodeItem   = 1
	keyInodeRef    = 12
	keyInodeExtref = 13
	keyExtentData  = 108

	// lastFreeObjectID is the largest inode number
	// (BTRFS_LAST_FREE_OBJECTID); the object IDs after it hold the tree's
	// own items, such as orphans.
	lastFreeObjectID = math.MaxUint64 - 255
)

// searchKey mirrors struct btrfs_ioctl_search_key (linux/btrfs.h). The search
// returns items whose (objectid, type, offset) lies between the min and max
// keys, taken from leaves written in a transaction within [MinTransID,
// MaxTransID]: the transid filters whole leaves, not items.
type searchKey struct {
	TreeID                   uint64
	MinObjectID, MaxObjectID uint64
	MinOffset, MaxOffset     uint64
	MinTransID, MaxTransID   uint64
	MinType, MaxType         uint32
	NrItems                  uint32
	_                        uint32
	_                        [4]uint64
}

// searchHeader mirrors struct btrfs_ioctl_search_header.
type searchHeader struct {
	TransID  uint64
	ObjectID uint64
	Offset   uint64
	Type     uint32
	Len      uint32
}

const searchHeaderSize = int(unsafe.Sizeof(searchHeader{}))

// searchArgsV2 mirrors struct btrfs_ioctl_search_args_v2 without its
// trailing flexible buffer.
type searchArgsV2 struct {
	Key     searchKey
	BufSize uint64
}

const searchArgsSize = int(unsafe.Sizeof(searchArgsV2{}))

// treeSearcher runs BTRFS_IOC_TREE_SEARCH_V2 with one reusable buffer.
type treeSearcher struct {
	fd  int
	buf []uint64 // searchArgsV2 followed by the result buffer; uint64 for alignment
}

// newTreeSearcher returns a searcher whose result buffer holds size bytes; a
// larger buffer means fewer ioctls for long sweeps.
func newTreeSearcher(f *os.File, size int) *treeSearcher {
	return &treeSearcher{fd: int(f.Fd()), buf: make([]uint64, (searchArgsSize+size)/8)}
}

// search calls fn for every item in the key range, in key order.
func (s *treeSearcher) search(key searchKey, fn func(h *searchHeader, data []byte) error) error {
	for {
		n, err := s.ioctl(key, math.MaxUint32)
		if err != nil || n == 0 {
			return err
		}
		raw := unsafe.Slice((*byte)(unsafe.Pointer(&s.buf[0])), len(s.buf)*8)[searchArgsSize:]
		var last searchHeader
		for off := 0; n > 0; n-- {
			h := (*searchHeader)(unsafe.Pointer(&raw[off]))
			off += searchHeaderSize
			if err := fn(h, raw[off:off+int(h.Len)]); err != nil {
				return err
			}
			off += int(h.Len)
			last = *h
		}
		// Continue after the last key returned, as btrfs-progs does.
		key.MinObjectID, key.MinType, key.MinOffset = last.ObjectID, last.Type, last.Offset+1
		if key.MinOffset == 0 {
			key.MinType++
			if key.MinType > 255 {
				key.MinType = 0
				key.MinObjectID++
				if key.MinObjectID == 0 {
					return nil
				}
			}
		}
		if key.MinObjectID > key.MaxObjectID {
			return nil
		}
	}
}

// first returns the header of the first item in the key range, if there
// is one.
func (s *treeSearcher) first(key searchKey) (searchHeader, bool, error) {
	n, err := s.ioctl(key, 1)
	if err != nil || n == 0 {
		return searchHeader{}, false, err
	}
	return *(*searchHeader)(unsafe.Pointer(&s.buf[searchArgsSize/8])), true, nil
}

// ioctl fills the buffer with at most max items of the key range and
// returns how many it holds.
func (s *treeSearcher) ioctl(key searchKey, max uint32) (uint32, error) {
	for {
		args := (*searchArgsV2)(unsafe.Pointer(&s.buf[0]))
		args.Key = key
		args.Key.NrItems = max
		args.BufSize = uint64(len(s.buf)*8 - searchArgsSize)
		_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(s.fd), iocTreeSearchV2, uintptr(unsafe.Pointer(&s.buf[0])))
		if errno == unix.EOVERFLOW {
			// One item is larger than the buffer; the kernel says how much it needs.
			s.buf = make([]uint64, (searchArgsSize+int(args.BufSize))/8+1)
			continue
		}
		if errno != 0 {
			return 0, errno
		}
		return args.Key.NrItems, nil
	}
}

// inoLookupArgs mirrors struct btrfs_ioctl_ino_lookup_args.
type inoLookupArgs struct {
	TreeID   uint64
	ObjectID uint64
	Name     [4080]byte
}

// subvolumeID returns the ID of the btrfs subvolume that f belongs to:
// BTRFS_IOC_INO_LOOKUP of the subvolume's root directory answers with it
// (tree ID 0 asks for the subvolume of the descriptor).
func subvolumeID(f *os.File) (uint64, error) {
	args := inoLookupArgs{ObjectID: firstFreeObjectID}
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, f.Fd(), iocInoLookup, uintptr(unsafe.Pointer(&args)))
	if errno != 0 {
		return 0, errno
	}
	return args.TreeID, nil
}

// inodeItem holds the fields fsdiff reads from struct btrfs_inode_item.
type inodeItem struct {
	generation      uint64
	size            int64
	nlink, uid, gid uint32
	mode            uint32
	ctime, mtime    int64 // nanoseconds since the epoch
}

const inodeItemSize = 160

func decodeInodeItem(b []byte) (_ inodeItem, transid uint64, _ error) {
	if len(b) < inodeItemSize {
		return inodeItem{}, 0, fmt.Errorf("inode item: %d bytes, want %d", len(b), inodeItemSize)
	}
	le := binary.LittleEndian
	ts := func(off int) int64 {
		return int64(le.Uint64(b[off:]))*1e9 + int64(le.Uint32(b[off+8:]))
	}
	return inodeItem{
		generation: le.Uint64(b[0:]),
		size:       int64(le.Uint64(b[16:])),
		nlink:      le.Uint32(b[40:]),
		uid:        le.Uint32(b[44:]),
		gid:        le.Uint32(b[48:]),
		mode:       le.Uint32(b[52:]),
		ctime:      ts(124),
		mtime:      ts(136),
	}, le.Uint64(b[8:]), nil
}

// nameRef is one name of an inode: an entry in directory parent.
type nameRef struct {
	parent uint64
	name   string
}

// decodeRefs calls fn with every name in an INODE_REF item (struct
// btrfs_inode_ref: index u64, name_len u16, name; repeated for every name
// in directory offset) or an INODE_EXTREF item (struct btrfs_inode_extref:
// parent u64, index u64, name_len u16, name; repeated). name aliases b.
func decodeRefs(typ uint32, offset uint64, b []byte, fn func(parent uint64, name []byte)) error {
	head, what := 10, "inode ref"
	if typ == keyInodeExtref {
		head, what = 18, "inode extref"
	}
	for len(b) > 0 {
		if len(b) < head {
			return errors.New("truncated " + what)
		}
		parent := offset
		if typ == keyInodeExtref {
			parent = binary.LittleEndian.Uint64(b)
		}
		n := int(binary.LittleEndian.Uint16(b[head-2:]))
		if len(b) < head+n {
			return errors.New("truncated " + what + " name")
		}
		fn(parent, b[head:head+n])
		b = b[head+n:]
	}
	return nil
}

// inlineExtent returns the data of an inline EXTENT_DATA item, aliasing b (struct
// btrfs_file_extent_item: the data follows a 21-byte header whose byte 20
// is the extent type, 0 for inline). Symlink targets are stored this way,
// never compressed.
func inlineExtent(b []byte) ([]byte, bool) {
	if len(b) < 21 || b[20] != 0 || b[16] != 0 {
		return nil, false
	}
	return b[21:], true
}

// subvolInfo mirrors struct btrfs_ioctl_get_subvol_info_args (linux/btrfs.h)
// up to the fields fsdiff reads; the rest is buffer.
type subvolInfo struct {
	TreeID     uint64
	Name       [256]byte
	ParentID   uint64
	DirID      uint64
	Generation uint64
	Flags      uint64 // the root item's: rootSubvolReadOnly
	UUID       btrfs.UUID
	ParentUUID btrfs.UUID
	_          [504 - 328]byte
}

const rootSubvolReadOnly = 1 << 0 // BTRFS_ROOT_SUBVOL_RDONLY (linux/btrfs_tree.h)

// getSubvolInfo runs BTRFS_IOC_GET_SUBVOL_INFO (Linux 4.18, no privileges)
// on the subvolume f belongs to.
func getSubvolInfo(f *os.File) (subvolInfo, error) {
	var info subvolInfo
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, f.Fd(), iocGetSubvolInfo, uintptr(unsafe.Pointer(&info)))
	if errno != 0 {
		return subvolInfo{}, errno
	}
	return info, nil
}
