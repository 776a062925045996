package capture

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/vpcflow/vpcflow/packet"
)

// WriterSnapLen is the snap length declared by Writer files.
const WriterSnapLen = 262144

// Writer writes a little-endian pcap file with nanosecond timestamps, the
// variant every current tool (tshark, tcpdump, gopacket) reads. It buffers;
// call Flush at the end.
type Writer struct {
	w   *bufio.Writer
	hdr [16]byte
}

// NewWriter writes the pcap file header for frames of link type lt.
func NewWriter(w io.Writer, lt packet.LinkType) (*Writer, error) {
	pw := &Writer{w: bufio.NewWriterSize(w, 1<<20)}
	var h [24]byte
	le := binary.LittleEndian
	le.PutUint32(h[0:4], 0xa1b23c4d) // nanosecond magic
	le.PutUint16(h[4:6], 2)
	le.PutUint16(h[6:8], 4)
	le.PutUint32(h[16:20], WriterSnapLen)
	le.PutUint32(h[20:24], uint32(lt))
	if _, err := pw.w.Write(h[:]); err != nil {
		return nil, err
	}
	return pw, nil
}

// WritePacket appends one record. wireLen below len(data) is raised to it.
// Timestamps before 1970 or after 2106 cannot be represented in pcap.
func (w *Writer) WritePacket(tsNanos int64, data []byte, wireLen int) error {
	if len(data) > WriterSnapLen {
		return fmt.Errorf("capture: packet of %d bytes exceeds the snap length %d", len(data), WriterSnapLen)
	}
	if tsNanos < 0 || tsNanos/1e9 > 0xFFFFFFFF {
		return fmt.Errorf("capture: timestamp %d ns outside the pcap range", tsNanos)
	}
	le := binary.LittleEndian
	le.PutUint32(w.hdr[0:4], uint32(tsNanos/1e9))
	le.PutUint32(w.hdr[4:8], uint32(tsNanos%1e9))
	le.PutUint32(w.hdr[8:12], uint32(len(data)))
	le.PutUint32(w.hdr[12:16], uint32(max(wireLen, len(data))))
	if _, err := w.w.Write(w.hdr[:]); err != nil {
		return err
	}
	_, err := w.w.Write(data)
	return err
}

// Flush writes buffered records to the underlying writer.
func (w *Writer) Flush() error { return w.w.Flush() }
