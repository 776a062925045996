package capture

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/vpcflow/vpcflow/packet"
)

// publicCaptures lists every capture committed under testdata/pcaps.
func publicCaptures(t testing.TB) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir("../testdata/pcaps", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(path, ".pcap") || strings.HasSuffix(path, ".pcapng")) {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 20 {
		t.Fatalf("found only %d public captures", len(files))
	}
	return files
}

type refFrame struct {
	ts      int64
	data    []byte
	wireLen int
	lt      packet.LinkType
	iface   int
}

// readAll reads a capture with our reader, copying every frame.
func readAll(t testing.TB, r *Reader) ([]refFrame, error) {
	var out []refFrame
	for {
		f, err := r.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, refFrame{f.TimestampNanos, append([]byte(nil), f.Data...), f.WireLen, f.LinkType, f.Interface})
	}
}

// readPcapgo reads a capture with gopacket's pcapgo, the independent reference.
func readPcapgo(raw []byte) ([]refFrame, error) {
	var out []refFrame
	if bytes.HasPrefix(raw, []byte{0x0a, 0x0d, 0x0d, 0x0a}) {
		ng, err := pcapgo.NewNgReader(bytes.NewReader(raw), pcapgo.NgReaderOptions{WantMixedLinkType: true})
		if err != nil {
			return nil, err
		}
		for {
			d, ci, err := ng.ReadPacketData()
			if err != nil {
				if errors.Is(err, io.EOF) {
					err = nil
				}
				return out, err
			}
			lt := packet.LinkType(0)
			if ci.InterfaceIndex < ng.NInterfaces() {
				intf, _ := ng.Interface(ci.InterfaceIndex)
				lt = packet.LinkType(intf.LinkType)
			}
			out = append(out, refFrame{ci.Timestamp.UnixNano(), d, ci.Length, lt, ci.InterfaceIndex})
		}
	}
	pr, err := pcapgo.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	for {
		d, ci, err := pr.ReadPacketData()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = nil
			}
			return out, err
		}
		out = append(out, refFrame{ci.Timestamp.UnixNano(), d, ci.Length, packet.LinkType(pr.LinkType()), 0})
	}
}

// TestAgreesWithPcapgo reads every public capture with both readers. pcapgo
// rejects records longer than the declared snap length, which tcpdump and
// tshark accept (several tcpdump samples have them); there we compare the
// frames pcapgo did return.
func TestAgreesWithPcapgo(t *testing.T) {
	for _, path := range publicCaptures(t) {
		t.Run(filepath.Base(filepath.Dir(path))+"/"+filepath.Base(path), func(t *testing.T) {
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			want, werr := readPcapgo(raw)
			r, err := Open(path)
			if err != nil {
				if werr == nil && len(want) > 0 {
					t.Fatalf("Open: %v; pcapgo read %d frames", err, len(want))
				}
				return
			}
			defer r.Close()
			got, gerr := readAll(t, r)
			if werr == nil && gerr != nil {
				t.Fatalf("our error %v; pcapgo read the whole file (%d frames)", gerr, len(want))
			}
			if werr == nil && len(got) != len(want) {
				t.Fatalf("got %d frames, pcapgo %d", len(got), len(want))
			}
			if werr != nil && !strings.Contains(werr.Error(), "exceeds snap length") && !strings.Contains(werr.Error(), "exceeds original packet length") {
				t.Logf("pcapgo: %v (ours: %v)", werr, gerr)
			}
			for i := range min(len(got), len(want)) {
				g, w := got[i], want[i]
				if !bytes.Equal(g.data, w.data) {
					t.Fatalf("frame %d: data differs", i)
				}
				if g.lt != w.lt || g.iface != w.iface {
					t.Fatalf("frame %d: link type/interface %v/%d, pcapgo %v/%d", i, g.lt, g.iface, w.lt, w.iface)
				}
				if g.wireLen != max(w.wireLen, len(w.data)) {
					t.Fatalf("frame %d: wire length %d, pcapgo %d", i, g.wireLen, w.wireLen)
				}
				// pcapgo gives simple packet blocks (no timestamp) time zero;
				// we give them the previous packet's.
				if w.ts != 0 && w.ts != (gopacket.CaptureInfo{}).Timestamp.UnixNano() && g.ts != w.ts {
					t.Fatalf("frame %d: timestamp %d, pcapgo %d", i, g.ts, w.ts)
				}
			}
		})
	}
}

// pcapFile builds a little-endian microsecond pcap by hand (not with Writer,
// so the reader is checked against the format, not against our writer).
func pcapFile(linkType uint32, recs ...[]byte) []byte {
	var b bytes.Buffer
	le := binary.LittleEndian
	h := make([]byte, 24)
	le.PutUint32(h[0:], 0xa1b2c3d4)
	le.PutUint16(h[4:], 2)
	le.PutUint16(h[6:], 4)
	le.PutUint32(h[16:], 65535)
	le.PutUint32(h[20:], linkType)
	b.Write(h)
	for i, d := range recs {
		r := make([]byte, 16)
		le.PutUint32(r[0:], 1700000000+uint32(i))
		le.PutUint32(r[4:], 250000) // .25 s
		le.PutUint32(r[8:], uint32(len(d)))
		le.PutUint32(r[12:], uint32(len(d))+4)
		b.Write(r)
		b.Write(d)
	}
	return b.Bytes()
}

func TestPcapHandBuilt(t *testing.T) {
	data := pcapFile(1, bytes.Repeat([]byte{0xaa}, 60), bytes.Repeat([]byte{0xbb}, 100))
	r, err := NewReader(bytes.NewReader(data), "hand.pcap")
	if err != nil {
		t.Fatal(err)
	}
	got, err := readAll(t, r)
	if err != nil {
		t.Fatal(err)
	}
	want := []refFrame{
		{1700000000_250000000, bytes.Repeat([]byte{0xaa}, 60), 64, packet.LinkEthernet, 0},
		{1700000001_250000000, bytes.Repeat([]byte{0xbb}, 100), 104, packet.LinkEthernet, 0},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
	if r.Offset() != int64(len(data)) || r.Format() != FormatPcap {
		t.Fatalf("offset %d format %v", r.Offset(), r.Format())
	}
}

// TestTruncatedEverywhere cuts a 3-record pcap at every byte: every complete
// record before the cut is returned, then an error names the file and the
// offset of the incomplete record (records start at 24, 24+16+60=100 and
// 100+16+100=216; the file ends at 216+16+40=272).
func TestTruncatedEverywhere(t *testing.T) {
	data := pcapFile(1, make([]byte, 60), make([]byte, 100), make([]byte, 40))
	if len(data) != 272 {
		t.Fatalf("file is %d bytes", len(data))
	}
	starts := []int{24, 100, 216, 272}
	for cut := 0; cut <= len(data); cut++ {
		r, err := NewReader(bytes.NewReader(data[:cut]), "cut.pcap")
		if cut < 24 {
			if err == nil || !strings.HasPrefix(err.Error(), "cut.pcap: offset 0") {
				t.Fatalf("cut %d: Open error %v", cut, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("cut %d: %v", cut, err)
		}
		got, err := readAll(t, r)
		complete := 0
		for complete < 3 && starts[complete+1] <= cut {
			complete++
		}
		if len(got) != complete {
			t.Fatalf("cut %d: %d frames, want %d", cut, len(got), complete)
		}
		if cut == starts[complete] {
			if err != nil {
				t.Fatalf("cut %d at a record boundary: %v", cut, err)
			}
			continue
		}
		var fe *FormatError
		if !errors.As(err, &fe) || fe.Offset != int64(starts[complete]) || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("cut %d: error %v, want a truncation at offset %d", cut, err, starts[complete])
		}
		if want := fmt.Sprintf("cut.pcap: offset %d: truncated", starts[complete]); !strings.HasPrefix(err.Error(), want) {
			t.Fatalf("cut %d: %q does not start with %q", cut, err, want)
		}
		if _, again := r.Next(); again != err {
			t.Fatalf("cut %d: error not sticky: %v", cut, again)
		}
	}
}

func TestCorruptRecordLength(t *testing.T) {
	data := pcapFile(1, make([]byte, 60), make([]byte, 10))
	binary.LittleEndian.PutUint32(data[100+8:], 0x7fffffff)
	r, err := NewReader(bytes.NewReader(data), "x.pcap")
	if err != nil {
		t.Fatal(err)
	}
	got, err := readAll(t, r)
	if len(got) != 1 || err == nil || !strings.HasPrefix(err.Error(), "x.pcap: offset 100: packet record claims 2147483647 captured bytes") {
		t.Fatalf("got %d frames, err %v", len(got), err)
	}
}

// A snap length of 0xFFFFFFFF must not let a record length allocate gigabytes.
func TestHugeSnapLen(t *testing.T) {
	data := pcapFile(1, make([]byte, 60), make([]byte, 10))
	binary.LittleEndian.PutUint32(data[16:], 0xFFFFFFFF)
	binary.LittleEndian.PutUint32(data[100+8:], 0xF0000000)
	r, err := NewReader(bytes.NewReader(data), "x.pcap")
	if err != nil {
		t.Fatal(err)
	}
	got, err := readAll(t, r)
	if len(got) != 1 || err == nil || !strings.HasPrefix(err.Error(), "x.pcap: offset 100: packet record claims 4026531840 captured bytes") {
		t.Fatalf("got %d frames, err %v", len(got), err)
	}
}

func TestNotACapture(t *testing.T) {
	_, err := NewReader(strings.NewReader("hello world, not a capture"), "t.txt")
	if err == nil || err.Error() != "t.txt: offset 0: not a pcap or pcapng capture (magic 68 65 6c 6c)" {
		t.Fatalf("err %v", err)
	}
	_, err = NewReader(strings.NewReader(""), "empty")
	if err == nil || !strings.Contains(err.Error(), "empty file") {
		t.Fatalf("err %v", err)
	}
}

// ngBlock builds a pcapng block with its two length fields.
func ngBlock(order byteOrder, typ uint32, body []byte) []byte {
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	b := make([]byte, 8, 12+len(body))
	order.PutUint32(b[0:], typ)
	order.PutUint32(b[4:], uint32(12+len(body)))
	b = append(b, body...)
	return order.AppendUint32(b, uint32(12+len(body)))
}

func ngSHB(order byteOrder) []byte {
	body := order.AppendUint32(nil, 0x1A2B3C4D)
	body = order.AppendUint16(body, 1)
	body = order.AppendUint16(body, 0)
	body = order.AppendUint64(body, 0xFFFFFFFFFFFFFFFF)
	return ngBlock(order, blockSHB, body)
}

func ngIDB(order byteOrder, lt uint16, opts ...[]byte) []byte {
	body := order.AppendUint16(nil, lt)
	body = order.AppendUint16(body, 0)
	body = order.AppendUint32(body, 0)
	for _, o := range opts {
		body = append(body, o...)
	}
	return ngBlock(order, blockIDB, body)
}

func ngOpt(order byteOrder, code uint16, val []byte) []byte {
	o := order.AppendUint16(nil, code)
	o = order.AppendUint16(o, uint16(len(val)))
	o = append(o, val...)
	for len(o)%4 != 0 {
		o = append(o, 0)
	}
	return o
}

func ngEPB(order byteOrder, iface uint32, ts uint64, data []byte, orig uint32) []byte {
	body := order.AppendUint32(nil, iface)
	body = order.AppendUint32(body, uint32(ts>>32))
	body = order.AppendUint32(body, uint32(ts))
	body = order.AppendUint32(body, uint32(len(data)))
	body = order.AppendUint32(body, orig)
	body = append(body, data...)
	return ngBlock(order, blockEPB, body)
}

// TestPcapNGTimestamps checks the if_tsresol and if_tsoffset options on a
// hand-built file: two sections of opposite byte order, interfaces with
// microsecond (default), nanosecond, 2^-10 resolution and a 100 s offset.
func TestPcapNGTimestamps(t *testing.T) {
	le, bo := binary.LittleEndian, binary.BigEndian
	var f []byte
	f = append(f, ngSHB(le)...)
	f = append(f, ngIDB(le, 1)...)                                                                         // iface 0: µs
	f = append(f, ngIDB(le, 228, ngOpt(le, 9, []byte{9}), ngOpt(le, 0, nil))...)                           // iface 1: ns, raw IPv4
	f = append(f, ngIDB(le, 113, ngOpt(le, 9, []byte{0x8a}), ngOpt(le, 14, le.AppendUint64(nil, 100)))...) // iface 2: 2^-10 s, +100 s
	f = append(f, ngBlock(le, 0x0000000A, []byte("unknown block"))...)                                     // skipped
	f = append(f, ngEPB(le, 0, 1_700_000_000_123_456, []byte{1, 2, 3}, 3)...)
	f = append(f, ngEPB(le, 1, 1_700_000_000_123_456_789, []byte{4}, 9)...)
	f = append(f, ngEPB(le, 2, 1700000000<<10|512, []byte{5, 6}, 2)...)
	f = append(f, ngSHB(bo)...)
	f = append(f, ngIDB(bo, 229, ngOpt(bo, 9, []byte{3}))...) // ms
	f = append(f, ngEPB(bo, 0, 1_700_000_000_123, []byte{7}, 1)...)
	r, err := NewReader(bytes.NewReader(f), "ts.pcapng")
	if err != nil {
		t.Fatal(err)
	}
	got, err := readAll(t, r)
	if err != nil {
		t.Fatal(err)
	}
	want := []refFrame{
		{1_700_000_000_123_456_000, []byte{1, 2, 3}, 3, packet.LinkEthernet, 0},
		{1_700_000_000_123_456_789, []byte{4}, 9, packet.LinkIPv4, 1},
		{1_700_000_100_500_000_000, []byte{5, 6}, 2, packet.LinkLinuxSLL, 2},
		{1_700_000_000_123_000_000, []byte{7}, 1, packet.LinkIPv6, 0},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got  %v\nwant %v", got, want)
	}
}

func TestPcapNGErrors(t *testing.T) {
	le := binary.LittleEndian
	good := append(append(ngSHB(le), ngIDB(le, 1)...), ngEPB(le, 0, 0, make([]byte, 20), 20)...)
	// SHB 28 bytes, IDB 20, EPB 32+20 = 52: the EPB starts at 48.
	cases := []struct {
		name string
		tail []byte
		want string
	}{
		{"short packet block", ngBlock(le, blockEPB, nil), "x: offset 100: enhanced packet block: too short (12 bytes)"},
		{"unknown interface", ngEPB(le, 5, 0, []byte{1}, 1), "x: offset 100: enhanced packet block: interface 5 not described (have 1)"},
		{"bad length", []byte{6, 0, 0, 0, 13, 0, 0, 0}, "x: offset 100: block type 0x00000006: bad block length 13"},
		{"trailing length", func() []byte {
			b := ngEPB(le, 0, 0, []byte{1}, 1)
			le.PutUint32(b[len(b)-4:], 99)
			return b
		}(), "x: offset 100: enhanced packet block: trailing length 99 differs from length 36"},
		{"truncated", ngEPB(le, 0, 0, make([]byte, 100), 100)[:50], "x: offset 100: truncated enhanced packet block: want 132 bytes, file ends after 50"},
		{"caplen", func() []byte {
			b := ngEPB(le, 0, 0, []byte{1, 2, 3, 4}, 4)
			le.PutUint32(b[20:], 400)
			return b
		}(), "x: offset 100: enhanced packet block: captured length 400 exceeds the block (4 bytes of data)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(append(append([]byte(nil), good...), c.tail...)), "x")
			if err != nil {
				t.Fatal(err)
			}
			got, err := readAll(t, r)
			if len(got) != 1 || err == nil || err.Error() != c.want {
				t.Fatalf("%d frames, error %v\nwant %s", len(got), err, c.want)
			}
		})
	}
}

// TestGzip: a compressed capture, whatever its name, reads like the plain
// one; cut short, it reports a truncation after the packets before the cut.
func TestGzip(t *testing.T) {
	path := "../testdata/pcaps/tcpdump/mptcp-v0.pcap"
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(raw)
	zw.Close()
	dir := t.TempDir()
	gzPath := filepath.Join(dir, "capture.pcap")
	os.WriteFile(gzPath, z.Bytes(), 0o644)

	plain, _ := Open(path)
	want, err := readAll(t, plain)
	if err != nil || len(want) != 264 {
		t.Fatalf("plain: %d frames, %v", len(want), err)
	}
	r, err := Open(gzPath)
	if err != nil {
		t.Fatal(err)
	}
	got, err := readAll(t, r)
	if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("gzip: %d frames, %v", len(got), err)
	}
	if r.Position() != int64(z.Len()) || r.Size() != int64(z.Len()) {
		t.Fatalf("position %d size %d, want %d", r.Position(), r.Size(), z.Len())
	}
	r.Close()

	cutPath := filepath.Join(dir, "cut.pcap.gz")
	os.WriteFile(cutPath, z.Bytes()[:z.Len()/2], 0o644)
	r, err = Open(cutPath)
	if err != nil {
		t.Fatal(err)
	}
	got, err = readAll(t, r)
	if err == nil || !strings.Contains(err.Error(), cutPath+": offset ") || !strings.Contains(err.Error(), "(uncompressed)") {
		t.Fatalf("error %v", err)
	}
	if len(got) == 0 || len(got) >= len(want) || fmt.Sprint(got) != fmt.Sprint(want[:len(got)]) {
		t.Fatalf("%d good frames before the cut", len(got))
	}
}

func TestWriterRoundTrip(t *testing.T) {
	var b bytes.Buffer
	w, err := NewWriter(&b, packet.LinkEthernet)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WritePacket(1_700_000_000_000_000_001, []byte{1, 2, 3}, 60); err != nil {
		t.Fatal(err)
	}
	if err := w.WritePacket(1_700_000_001_999_999_999, []byte{4}, 0); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	// Header: nanosecond magic, version 2.4, zone 0, sigfigs 0, snaplen
	// 262144 (0x40000), link type 1; record: 1700000000 = 0x6553f100, 1 ns,
	// 3 captured, 60 on the wire.
	wantHex := "4d3cb2a1" + "0200" + "0400" + "00000000" + "00000000" + "00000400" + "01000000" +
		"00f15365" + "01000000" + "03000000" + "3c000000" + "010203"
	if got := hex.EncodeToString(b.Bytes()[:24+16+3]); got != wantHex {
		t.Fatalf("got  %s\nwant %s", got, wantHex)
	}
	r, err := NewReader(bytes.NewReader(b.Bytes()), "w")
	if err != nil {
		t.Fatal(err)
	}
	got, err := readAll(t, r)
	want := []refFrame{
		{1_700_000_000_000_000_001, []byte{1, 2, 3}, 60, packet.LinkEthernet, 0},
		{1_700_000_001_999_999_999, []byte{4}, 1, packet.LinkEthernet, 0},
	}
	if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v %v", got, err)
	}
	// and pcapgo agrees
	ref, err := readPcapgo(b.Bytes())
	if err != nil || fmt.Sprint(ref) != fmt.Sprint(want) {
		t.Fatalf("pcapgo read %v %v", ref, err)
	}
	if err := w.WritePacket(-1, nil, 0); err == nil {
		t.Fatal("negative timestamp accepted")
	}
}

func TestNoAllocations(t *testing.T) {
	data := benchCapture(t, 1000)
	r, err := NewReader(bytes.NewReader(data), "bench")
	if err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(900, func() {
		if _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per packet", allocs)
	}
}

type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}
