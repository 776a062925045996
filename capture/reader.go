// Package capture reads packets from capture files (pcap and pcapng, either
// optionally gzip-compressed) and writes pcap files; package capture/live
// captures live interfaces behind the same Source interface.
//
// It exists so the rest of vpcflow sees one small Source interface, whatever
// the file format: a stream of frames with a timestamp, the captured bytes,
// the wire length and the link type. The reader is hand-written rather than
// gopacket's pcapgo because it returns frames straight out of its read buffer
// (no copy, no allocation per packet) and positions every format error at a
// byte offset, after returning every good packet before it.
package capture

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"os"
	"sync/atomic"

	"github.com/vpcflow/vpcflow/packet"
)

// Frame is one captured packet. Data aliases the reader's buffer: it is valid
// until the next call to Next.
type Frame struct {
	TimestampNanos int64 // Unix time in nanoseconds
	Data           []byte
	WireLen        int // length on the wire; >= len(Data)
	LinkType       packet.LinkType
	Interface      int // pcapng interface index; 0 for pcap
}

// Source is a stream of frames: Next returns io.EOF after the last one.
type Source interface {
	Next() (Frame, error)
	Close() error
}

// Format is the container format of a capture file.
type Format uint8

// Container formats recognised by their magic number.
const (
	FormatPcap Format = iota + 1
	FormatPcapNG
)

func (f Format) String() string {
	switch f {
	case FormatPcap:
		return "pcap"
	case FormatPcapNG:
		return "pcapng"
	}
	return "unknown"
}

// FormatError is a malformed or truncated capture. Offset is the byte
// position of the bad record or block in the capture stream (after gzip
// decompression when Compressed).
type FormatError struct {
	File       string
	Offset     int64
	Compressed bool
	Msg        string
	Err        error // underlying cause, e.g. io.ErrUnexpectedEOF for truncation
}

func (e *FormatError) Error() string {
	where := ""
	if e.Compressed {
		where = " (uncompressed)"
	}
	return fmt.Sprintf("%s: offset %d%s: %s", e.File, e.Offset, where, e.Msg)
}

func (e *FormatError) Unwrap() error { return e.Err }

const (
	// bufSize is the initial read buffer: records are sliced out of it, so
	// it holds the largest one (it grows for bigger records, up to
	// maxRecord). 256 KiB keeps it in the L2 cache.
	bufSize = 256 << 10
	// maxRecord bounds a record or block length: beyond it the length field
	// is taken as corruption rather than a reason to allocate.
	maxRecord = 64 << 20
	// minSnapLen is the largest snap length tools use by default; records up
	// to it are accepted even when the file header declares a smaller one.
	minSnapLen = 262144
)

// Reader reads a pcap or pcapng stream. It is not safe for concurrent use.
type Reader struct {
	name   string
	closer io.Closer
	file   *countingReader
	size   int64
	gz     *gzip.Reader
	src    io.Reader // the capture stream: the file, or its decompressor
	buf    []byte    // buf[pos:end] is read but not consumed
	pos    int
	end    int
	srcErr error // sticky error of src, reported once the buffer is drained
	off    int64 // offset of the next unread byte of the capture stream
	err    error // sticky: once set, Next keeps returning it
	format Format

	// ra, once ReadAhead is called on a regular file, reads the stream
	// into chunks on its own goroutine; buf is then one of them (cur) or,
	// for a record longer than a chunk's headroom, big.
	ra  *readAhead
	cur []byte
	big []byte

	// pcap
	order    binary.ByteOrder
	fastLE   bool  // a little-endian pcap file: NextInto's fast path applies
	tsMul    int64 // 1000 for microsecond files, 1 for nanosecond files
	linkType packet.LinkType
	snapLen  uint32

	// pcapng: interfaces of the current section
	ifaces []ngIface
	lastTS int64
}

type ngIface struct {
	linkType packet.LinkType
	snapLen  uint32
	// timestamp units to nanoseconds: units*mul, units/div or a binary fraction
	mul, div uint64
	shift    uint // binary resolution 2^-shift when > 0
	binary   bool
	offset   int64 // if_tsoffset in seconds
}

// Open opens a capture file. Gzip compression is detected from the content,
// not the file name.
func Open(path string) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	var size int64
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		size = st.Size()
	}
	r, err := newReader(f, path, size)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.closer = f
	return r, nil
}

// NewReader reads a capture from rd; name is used in error messages.
func NewReader(rd io.Reader, name string) (*Reader, error) {
	return newReader(rd, name, 0)
}

func newReader(rd io.Reader, name string, size int64) (*Reader, error) {
	r := &Reader{name: name, size: size, file: &countingReader{r: rd}}
	r.src = r.file
	r.buf = make([]byte, bufSize)
	if r.fill(2) >= 2 && r.buf[0] == 0x1f && r.buf[1] == 0x8b {
		// Hand the bytes already read, then the rest of the file, to gzip.
		head := append([]byte(nil), r.buf[r.pos:r.end]...)
		gz, err := gzip.NewReader(io.MultiReader(bytes.NewReader(head), r.file))
		if err != nil {
			return nil, &FormatError{File: name, Msg: "bad gzip header: " + err.Error(), Err: err}
		}
		r.gz, r.src = gz, gz
		r.pos, r.end, r.srcErr = 0, 0, nil
	}
	if err := r.readHeader(); err != nil {
		return nil, err
	}
	return r, nil
}

// Name is the file name given to Open or NewReader.
func (r *Reader) Name() string { return r.name }

// Format is pcap or pcapng.
func (r *Reader) Format() Format { return r.format }

// Offset is the byte offset of the next record in the capture stream
// (decompressed when the file is gzip-compressed).
func (r *Reader) Offset() int64 { return r.off }

// Size is the size of the file on disk, or 0 when unknown (a pipe).
func (r *Reader) Size() int64 { return r.size }

// Position is how many bytes of the file on disk have been read so far;
// Position/Size is the progress, also for compressed files. It runs ahead of
// Offset by up to the read buffer.
func (r *Reader) Position() int64 { return r.file.n.Load() }

// LinkType is the link type of a pcap file, or of the first interface of a
// pcapng file (0 if none has been seen yet).
func (r *Reader) LinkType() packet.LinkType {
	if r.format == FormatPcapNG && len(r.ifaces) > 0 {
		return r.ifaces[0].linkType
	}
	return r.linkType
}

// Close closes the file opened by Open.
func (r *Reader) Close() error {
	if r.ra != nil {
		// The goroutine is at most in one read of a regular file, which
		// returns; only then may the decompressor and the file go.
		close(r.ra.stop)
		<-r.ra.done
		r.ra = nil
	}
	if r.gz != nil {
		r.gz.Close()
	}
	if r.closer != nil {
		return r.closer.Close()
	}
	return nil
}

// Next returns the next frame, io.EOF at the clean end of the capture, or a
// *FormatError for a truncated or corrupt one; errors are sticky.
func (r *Reader) Next() (Frame, error) {
	var f Frame
	err := r.NextInto(&f)
	return f, err
}

// NextInto is Next writing the frame into *f, which it overwrites whole: the
// frame is not copied on its way out, which for small frames is a good part
// of the cost of reading one. f.Data is valid until the next call.
func (r *Reader) NextInto(f *Frame) error {
	if r.fastLE && r.end-r.pos >= 16 && r.err == nil {
		// nextPcap's common case, written in place.
		h := r.buf[r.pos : r.pos+16]
		incl := binary.LittleEndian.Uint32(h[8:12])
		if n := r.pos + 16 + int(incl); incl <= r.maxCaptured(r.snapLen) && n <= r.end {
			sec := binary.LittleEndian.Uint32(h[0:4])
			frac := binary.LittleEndian.Uint32(h[4:8])
			orig := binary.LittleEndian.Uint32(h[12:16])
			f.TimestampNanos = int64(sec)*1e9 + int64(frac)*r.tsMul
			f.Data = r.buf[r.pos+16 : n : n]
			f.WireLen = int(max(orig, incl))
			f.LinkType = r.linkType
			f.Interface = 0
			r.off += int64(n - r.pos)
			r.pos = n
			return nil
		}
	}
	if r.err != nil {
		*f = Frame{}
		return r.err
	}
	var err error
	if r.format == FormatPcap {
		*f, err = r.nextPcap()
	} else {
		*f, err = r.nextPcapNG()
	}
	if err != nil {
		r.err = err
	}
	return err
}

func (r *Reader) errorf(off int64, cause error, format string, args ...any) error {
	return &FormatError{File: r.name, Offset: off, Compressed: r.gz != nil, Msg: fmt.Sprintf(format, args...), Err: cause}
}

// fill reads until n bytes are buffered or the stream ends, and returns how
// many are buffered.
func (r *Reader) fill(n int) int {
	if r.end-r.pos >= n {
		return r.end - r.pos
	}
	if r.ra != nil {
		return r.fillAhead(n)
	}
	if r.pos > 0 {
		r.end = copy(r.buf, r.buf[r.pos:r.end])
		r.pos = 0
	}
	for r.end < n && r.srcErr == nil {
		if r.end == len(r.buf) {
			// Grow as the data arrives, not as the length field claims: a
			// corrupt length in a short file costs no more than the file.
			nb := make([]byte, min(n, 2*len(r.buf)))
			copy(nb, r.buf[:r.end])
			r.buf = nb
		}
		m, err := r.src.Read(r.buf[r.end:])
		r.end += m
		if err != nil {
			r.srcErr = err
		}
	}
	return r.end - r.pos
}

// read consumes n bytes and returns them. The slice is valid until the next
// read. On a short read it returns how many bytes there were and the cause:
// io.EOF when there were none, io.ErrUnexpectedEOF for a partial read, or
// the decompressor's error.
func (r *Reader) read(n int) ([]byte, int, error) {
	if r.end-r.pos < n && r.fill(n) < n {
		got := r.end - r.pos
		r.pos = r.end
		r.off += int64(got)
		err := r.srcErr
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
			if got == 0 {
				err = io.EOF
			}
		}
		return nil, got, err
	}
	b := r.buf[r.pos : r.pos+n]
	r.pos += n
	r.off += int64(n)
	return b, n, nil
}

// skip discards n bytes without keeping them in the buffer.
func (r *Reader) skip(n int) (int, error) {
	done := 0
	for done < n {
		if r.end == r.pos && r.fill(1) == 0 {
			err := r.srcErr
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return done, err
		}
		k := min(n-done, r.end-r.pos)
		r.pos += k
		r.off += int64(k)
		done += k
	}
	return done, nil
}

// shortError describes a read that ended early: truncation, or the
// decompressor's own error for a corrupt gzip stream.
func (r *Reader) shortError(off int64, what string, want, got int, err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || err == io.EOF {
		return r.errorf(off, io.ErrUnexpectedEOF, "truncated %s: want %d bytes, file ends after %d", what, want, got)
	}
	return r.errorf(off, err, "reading %s: %v", what, err)
}

func (r *Reader) readHeader() error {
	m, n, err := r.read(4)
	if err != nil {
		if n == 0 && err == io.EOF {
			return r.errorf(0, io.ErrUnexpectedEOF, "empty file: not a pcap or pcapng capture")
		}
		return r.shortError(0, "file header", 4, n, err)
	}
	switch {
	case m[0] == 0x0a && m[1] == 0x0d && m[2] == 0x0d && m[3] == 0x0a:
		r.format = FormatPcapNG
		l, n, err := r.read(4)
		if err != nil {
			return r.shortError(0, "section header block", 12, 4+n, err)
		}
		return r.readSHB(0, [4]byte(l))
	}
	magic := binary.LittleEndian.Uint32(m)
	switch magic {
	case 0xa1b2c3d4:
		r.order, r.tsMul = binary.LittleEndian, 1000
	case 0xa1b23c4d:
		r.order, r.tsMul = binary.LittleEndian, 1
	case 0xd4c3b2a1:
		r.order, r.tsMul = binary.BigEndian, 1000
	case 0x4d3cb2a1:
		r.order, r.tsMul = binary.BigEndian, 1
	default:
		return r.errorf(0, nil, "not a pcap or pcapng capture (magic % x)", m)
	}
	r.format = FormatPcap
	h, n, err := r.read(20)
	if err != nil {
		return r.shortError(0, "pcap file header", 24, 4+n, err)
	}
	if major := r.order.Uint16(h[0:2]); major != 2 {
		return r.errorf(4, nil, "unsupported pcap version %d.%d", major, r.order.Uint16(h[2:4]))
	}
	r.snapLen = r.order.Uint32(h[12:16])
	r.linkType = packet.LinkType(r.order.Uint32(h[16:20]) & 0xFFFF)
	r.fastLE = r.order == binary.LittleEndian
	return nil
}

// maxCaptured is the longest record accepted under a declared snap length:
// at least the common default (some writers declare less than they write),
// at most maxRecord (some declare 0xFFFFFFFF).
func (r *Reader) maxCaptured(snap uint32) uint32 {
	return min(max(snap, minSnapLen), maxRecord)
}

// nextPcap reads a pcap record the slow way: NextInto takes the common case
// (little-endian, header and data buffered) before it gets here.
func (r *Reader) nextPcap() (Frame, error) {
	start := r.off
	h, n, err := r.read(16)
	if err != nil {
		if n == 0 && err == io.EOF {
			return Frame{}, io.EOF
		}
		return Frame{}, r.shortError(start, "packet record header", 16, n, err)
	}
	sec := r.order.Uint32(h[0:4])
	frac := r.order.Uint32(h[4:8])
	incl := r.order.Uint32(h[8:12])
	orig := r.order.Uint32(h[12:16])
	if incl > r.maxCaptured(r.snapLen) {
		return Frame{}, r.errorf(start, nil, "packet record claims %d captured bytes, more than the snap length %d", incl, r.snapLen)
	}
	data, n, err := r.read(int(incl))
	if err != nil {
		return Frame{}, r.shortError(start, "packet record", 16+int(incl), 16+n, err)
	}
	return Frame{
		TimestampNanos: int64(sec)*1e9 + int64(frac)*r.tsMul,
		Data:           data,
		WireLen:        int(max(orig, incl)),
		LinkType:       r.linkType,
	}, nil
}

// pcapng block types.
const (
	blockSHB = 0x0A0D0D0A
	blockIDB = 0x00000001
	blockPB  = 0x00000002 // obsolete Packet Block
	blockSPB = 0x00000003
	blockEPB = 0x00000006
)

// readSHB reads a Section Header Block whose type and length fields have
// been consumed; the length is decoded once the byte-order magic is known.
// A new section resets byte order and interfaces.
func (r *Reader) readSHB(start int64, lenBytes [4]byte) error {
	h, n, err := r.read(4)
	if err != nil {
		return r.shortError(start, "section header block", 12, 8+n, err)
	}
	switch {
	case binary.LittleEndian.Uint32(h) == 0x1A2B3C4D:
		r.order = binary.LittleEndian
	case binary.BigEndian.Uint32(h) == 0x1A2B3C4D:
		r.order = binary.BigEndian
	default:
		return r.errorf(start, nil, "section header block: bad byte-order magic % x", h)
	}
	blen := r.order.Uint32(lenBytes[:])
	if blen < 28 || blen%4 != 0 || blen > maxRecord {
		return r.errorf(start, nil, "section header block: bad block length %d", blen)
	}
	body, n, err := r.read(int(blen) - 12)
	if err != nil {
		return r.shortError(start, "section header block", int(blen), 12+n, err)
	}
	if major := r.order.Uint16(body[0:2]); major != 1 {
		return r.errorf(start, nil, "unsupported pcapng version %d.%d", major, r.order.Uint16(body[2:4]))
	}
	if t := r.order.Uint32(body[len(body)-4:]); t != blen {
		return r.errorf(start, nil, "section header block: trailing length %d differs from length %d", t, blen)
	}
	r.ifaces = r.ifaces[:0]
	return nil
}

func (r *Reader) nextPcapNG() (Frame, error) {
	for {
		start := r.off
		h, n, err := r.read(8)
		if err != nil {
			if n == 0 && err == io.EOF {
				return Frame{}, io.EOF
			}
			return Frame{}, r.shortError(start, "block header", 8, n, err)
		}
		btype := r.order.Uint32(h[0:4])
		if btype == blockSHB {
			// The length is in the new section's byte order.
			if err := r.readSHB(start, [4]byte(h[4:8])); err != nil {
				return Frame{}, err
			}
			continue
		}
		blen := r.order.Uint32(h[4:8])
		if blen < 12 || blen%4 != 0 || blen > maxRecord {
			return Frame{}, r.errorf(start, nil, "block type 0x%08x: bad block length %d", btype, blen)
		}
		switch btype {
		case blockIDB, blockEPB, blockSPB, blockPB:
		default:
			if m, err := r.skip(int(blen) - 8); err != nil {
				return Frame{}, r.shortError(start, fmt.Sprintf("block type 0x%08x", btype), int(blen), 8+m, err)
			}
			continue
		}
		body, n, err := r.read(int(blen) - 8)
		if err != nil {
			return Frame{}, r.shortError(start, blockName(btype), int(blen), 8+n, err)
		}
		if t := r.order.Uint32(body[len(body)-4:]); t != blen {
			return Frame{}, r.errorf(start, nil, "%s: trailing length %d differs from length %d", blockName(btype), t, blen)
		}
		body = body[:len(body)-4]
		switch btype {
		case blockIDB:
			if err := r.addIface(start, body); err != nil {
				return Frame{}, err
			}
			continue
		case blockEPB:
			if len(body) < 20 {
				return Frame{}, r.errorf(start, nil, "enhanced packet block: too short (%d bytes)", blen)
			}
			return r.packetBlock(start, body, r.order.Uint32(body[0:4]), 20, btype)
		case blockPB:
			if len(body) < 20 {
				return Frame{}, r.errorf(start, nil, "packet block: too short (%d bytes)", blen)
			}
			return r.packetBlock(start, body, uint32(r.order.Uint16(body[0:2])), 20, btype)
		case blockSPB:
			if len(r.ifaces) == 0 {
				return Frame{}, r.errorf(start, nil, "simple packet block before any interface description block")
			}
			if len(body) < 4 {
				return Frame{}, r.errorf(start, nil, "simple packet block: too short (%d bytes)", blen)
			}
			ifc := &r.ifaces[0]
			orig := r.order.Uint32(body[0:4])
			capLen := min(uint32(len(body)-4), orig)
			if ifc.snapLen > 0 {
				capLen = min(capLen, ifc.snapLen)
			}
			// A simple packet block has no timestamp: it takes the last one seen.
			return Frame{TimestampNanos: r.lastTS, Data: body[4 : 4+capLen], WireLen: int(max(orig, capLen)), LinkType: ifc.linkType}, nil
		}
	}
}

func blockName(t uint32) string {
	switch t {
	case blockIDB:
		return "interface description block"
	case blockEPB:
		return "enhanced packet block"
	case blockSPB:
		return "simple packet block"
	case blockPB:
		return "packet block"
	}
	return fmt.Sprintf("block type 0x%08x", t)
}

func (r *Reader) packetBlock(start int64, body []byte, ifIndex uint32, hdr int, btype uint32) (Frame, error) {
	if len(body) < hdr {
		return Frame{}, r.errorf(start, nil, "%s: too short (%d bytes)", blockName(btype), len(body)+12)
	}
	if int(ifIndex) >= len(r.ifaces) {
		return Frame{}, r.errorf(start, nil, "%s: interface %d not described (have %d)", blockName(btype), ifIndex, len(r.ifaces))
	}
	ifc := &r.ifaces[ifIndex]
	units := uint64(r.order.Uint32(body[hdr-16:hdr-12]))<<32 | uint64(r.order.Uint32(body[hdr-12:hdr-8]))
	capLen := r.order.Uint32(body[hdr-8 : hdr-4])
	orig := r.order.Uint32(body[hdr-4 : hdr])
	if uint64(capLen) > uint64(len(body)-hdr) {
		return Frame{}, r.errorf(start, nil, "%s: captured length %d exceeds the block (%d bytes of data)", blockName(btype), capLen, len(body)-hdr)
	}
	ts := ifc.nanos(units)
	r.lastTS = ts
	return Frame{
		TimestampNanos: ts,
		Data:           body[hdr : hdr+int(capLen)],
		WireLen:        int(max(orig, capLen)),
		LinkType:       ifc.linkType,
		Interface:      int(ifIndex),
	}, nil
}

// pcapng option codes of the interface description block.
const (
	optEnd      = 0
	optTSResol  = 9
	optTSOffset = 14
)

func (r *Reader) addIface(start int64, body []byte) error {
	if len(body) < 8 {
		return r.errorf(start, nil, "interface description block: too short")
	}
	ifc := ngIface{
		linkType: packet.LinkType(r.order.Uint16(body[0:2])),
		snapLen:  r.order.Uint32(body[4:8]),
		mul:      1000, // default resolution: microseconds
	}
	opts := body[8:]
	for len(opts) >= 4 {
		code := r.order.Uint16(opts[0:2])
		olen := int(r.order.Uint16(opts[2:4]))
		if code == optEnd {
			break
		}
		padded := (olen + 3) &^ 3
		if 4+padded > len(opts) {
			return r.errorf(start, nil, "interface description block: option %d runs past the block", code)
		}
		val := opts[4 : 4+olen]
		switch {
		case code == optTSResol && olen == 1:
			v := val[0]
			if v&0x80 != 0 {
				e := uint(v & 0x7F)
				if e > 63 {
					return r.errorf(start, nil, "interface description block: bad if_tsresol 0x%02x", v)
				}
				ifc.binary, ifc.shift, ifc.mul = true, e, 0
			} else {
				if v > 19 {
					return r.errorf(start, nil, "interface description block: bad if_tsresol %d", v)
				}
				ifc.mul, ifc.div = 0, 0
				if v <= 9 {
					ifc.mul = pow10(9 - uint(v))
				} else {
					ifc.div = pow10(uint(v) - 9)
				}
			}
		case code == optTSOffset && olen == 8:
			ifc.offset = int64(r.order.Uint64(val))
		}
		opts = opts[4+padded:]
	}
	r.ifaces = append(r.ifaces, ifc)
	return nil
}

func pow10(n uint) uint64 {
	p := uint64(1)
	for range n {
		p *= 10
	}
	return p
}

// nanos converts timestamp units of the interface to Unix nanoseconds.
func (ifc *ngIface) nanos(units uint64) int64 {
	var ns uint64
	switch {
	case ifc.binary:
		if ifc.shift == 0 {
			ns = units * 1e9
		} else {
			whole := units >> ifc.shift
			hi, lo := bits.Mul64(units&(1<<ifc.shift-1), 1e9)
			ns = whole*1e9 + (hi<<(64-ifc.shift) | lo>>ifc.shift)
		}
	case ifc.div != 0:
		ns = units / ifc.div
	default:
		ns = units * ifc.mul
	}
	return int64(ns) + ifc.offset*1e9
}

// countingReader counts the bytes read from the file, for progress; with
// read-ahead it counts on another goroutine than Position's.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}
