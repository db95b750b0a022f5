package sendstream

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"time"
)

// The btrfs send stream (btrfs-progs Documentation/dev/dev-send-stream.rst,
// kernel fs/btrfs/send.h): "btrfs-stream\0", a little-endian u32 version,
// then commands of {u32 length, u16 type, u32 crc32c} and length bytes of
// attributes {u16 type, u16 length, data}. The CRC32C (seed 0, no final
// xor) covers the command with its crc field zeroed.

const sendMagic = "btrfs-stream\x00"

// Send command types (send.h, enum btrfs_send_cmd).
const (
	sendSubvol       = 1
	sendSnapshot     = 2
	sendMkfile       = 3
	sendMkdir        = 4
	sendMknod        = 5
	sendMkfifo       = 6
	sendMksock       = 7
	sendSymlink      = 8
	sendRename       = 9
	sendLink         = 10
	sendUnlink       = 11
	sendRmdir        = 12
	sendSetXattr     = 13
	sendRemoveXattr  = 14
	sendWrite        = 15
	sendClone        = 16
	sendTruncate     = 17
	sendChmod        = 18
	sendChown        = 19
	sendUtimes       = 20
	sendEnd          = 21
	sendUpdateExtent = 22
	sendFallocate    = 23 // v2
	sendFileattr     = 24 // v2
	sendEncodedWrite = 25 // v2
)

// Send attribute types (send.h, enum btrfs_send_attr).
const (
	attrIno      = 3
	attrSize     = 4
	attrMode     = 5
	attrUID      = 6
	attrGID      = 7
	attrRdev     = 8
	attrCtime    = 9
	attrMtime    = 10
	attrPath     = 15
	attrPathTo   = 16
	attrPathLink = 17
	attrData     = 19
)

// sendNames are the names btrfs receive --dump prints.
var sendNames = map[uint16]string{
	sendSnapshot: "snapshot", sendMkfile: "mkfile", sendMkdir: "mkdir", sendMknod: "mknod", sendMkfifo: "mkfifo",
	sendMksock: "mksock", sendSymlink: "symlink", sendRename: "rename", sendLink: "link", sendUnlink: "unlink",
	sendRmdir: "rmdir", sendSetXattr: "set_xattr", sendRemoveXattr: "remove_xattr", sendWrite: "write",
	sendClone: "clone", sendTruncate: "truncate", sendChmod: "chmod", sendChown: "chown", sendUtimes: "utimes",
	sendUpdateExtent: "update_extent", sendFallocate: "fallocate", sendFileattr: "fileattr",
	sendEncodedWrite: "encoded_write",
}

func commandName(typ uint16) string {
	if name, ok := sendNames[typ]; ok {
		return name
	}
	return fmt.Sprintf("command type %d", typ)
}

// sendCommand is one command of a send stream with its attributes.
type sendCommand struct {
	typ   uint16
	attrs map[uint16][]byte
}

func (c *sendCommand) str(a uint16) string { return string(c.attrs[a]) }

func (c *sendCommand) u64(a uint16) (uint64, bool) {
	b := c.attrs[a]
	if len(b) != 8 {
		return 0, false
	}
	return binary.LittleEndian.Uint64(b), true
}

// timespec decodes a btrfs_timespec attribute (le64 sec, le32 nsec) into
// nanoseconds.
func (c *sendCommand) timespec(a uint16) (int64, bool) {
	b := c.attrs[a]
	if len(b) != 12 {
		return 0, false
	}
	sec, nsec := binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint32(b[8:])
	if sec >= math.MaxInt64/uint64(time.Second) || nsec >= uint32(time.Second) {
		return 0, false // past 2262 or not a time: as if absent, never a wrapped one
	}
	return int64(sec)*1e9 + int64(nsec), true
}

// ErrMalformed says that a send stream is malformed.
var ErrMalformed = errors.New("malformed send stream")

// maxCommand bounds a command's length, and so the one buffer the reader
// holds: the kernel sends at most 64 KiB (BTRFS_SEND_BUF_SIZE_V1), or 16
// KiB and a 128 KiB compressed extent in version 2 (fs/btrfs/send.c).
const maxCommand = 1 << 20

// sendReader reads the commands of a send stream, checking every CRC.
type sendReader struct {
	r       *bufio.Reader
	version uint32
	n       int // commands read
	buf     []byte
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func newSendReader(r io.Reader) (*sendReader, error) {
	br := bufio.NewReaderSize(r, 256<<10)
	head := make([]byte, len(sendMagic)+4)
	if _, err := io.ReadFull(br, head); err != nil {
		return nil, fmt.Errorf("%w: reading the header: %v", ErrMalformed, err)
	}
	if string(head[:len(sendMagic)]) != sendMagic {
		return nil, fmt.Errorf("%w: not a btrfs send stream (no %q header)", ErrMalformed, "btrfs-stream")
	}
	v := binary.LittleEndian.Uint32(head[len(sendMagic):])
	if v < 1 || v > 3 {
		return nil, fmt.Errorf("%w: stream version %d, fsdiff reads 1 to 3", ErrMalformed, v)
	}
	return &sendReader{r: br, version: v}, nil
}

// next returns the next command, or io.EOF after the end command or at a
// clean end of input. The command's attributes share one buffer with the
// next command's: nothing is copied, so memory is one command's, and
// callers copy what they keep.
func (s *sendReader) next() (*sendCommand, error) {
	const headLen = 10
	if cap(s.buf) < headLen {
		s.buf = make([]byte, headLen, 64<<10)
	}
	head := s.buf[:headLen]
	if _, err := io.ReadFull(s.r, head); err != nil {
		if err == io.EOF {
			return nil, io.EOF // a stream may end without an end command (several subvolumes)
		}
		return nil, fmt.Errorf("%w: command %d: %v", ErrMalformed, s.n+1, err)
	}
	length := binary.LittleEndian.Uint32(head)
	typ := binary.LittleEndian.Uint16(head[4:])
	crc := binary.LittleEndian.Uint32(head[6:])
	if length > maxCommand {
		return nil, fmt.Errorf("%w: command %d: %d bytes long", ErrMalformed, s.n+1, length)
	}
	if cap(s.buf) < headLen+int(length) {
		s.buf = append(s.buf[:headLen], make([]byte, length)...)
	}
	msg := s.buf[:headLen+int(length)]
	if _, err := io.ReadFull(s.r, msg[headLen:]); err != nil {
		return nil, fmt.Errorf("%w: command %d: %v", ErrMalformed, s.n+1, err)
	}
	s.n++
	clear(msg[6:10])
	if got := ^crc32.Update(0xffffffff, castagnoli, msg); got != crc {
		return nil, fmt.Errorf("%w: command %d: CRC32C %#08x, want %#08x", ErrMalformed, s.n, got, crc)
	}
	c := &sendCommand{typ: typ, attrs: map[uint16][]byte{}}
	for p := msg[headLen:]; len(p) > 0; {
		if len(p) < 2 {
			return nil, fmt.Errorf("%w: command %d: truncated attribute", ErrMalformed, s.n)
		}
		at := binary.LittleEndian.Uint16(p)
		if s.version >= 2 && at == attrData {
			c.attrs[at] = p[2:] // v2: the data runs to the end of the command, without a length
			break
		}
		if len(p) < 4 {
			return nil, fmt.Errorf("%w: command %d: truncated attribute", ErrMalformed, s.n)
		}
		n := int(binary.LittleEndian.Uint16(p[2:]))
		if len(p) < 4+n {
			return nil, fmt.Errorf("%w: command %d: attribute %d of %d bytes overruns the command", ErrMalformed, s.n, at, n)
		}
		c.attrs[at] = p[4 : 4+n] // unknown attributes are kept, and ignored
		p = p[4+n:]
	}
	if typ == sendEnd {
		return nil, io.EOF
	}
	return c, nil
}
