package capture

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// readAllInto reads a capture with NextInto into one reused Frame, copying
// every frame out.
func readAllInto(r *Reader) ([]refFrame, error) {
	var out []refFrame
	var f Frame
	f.Interface = 99 // overwritten by every frame
	for {
		err := r.NextInto(&f)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, refFrame{f.TimestampNanos, append([]byte(nil), f.Data...), f.WireLen, f.LinkType, f.Interface})
	}
}

func sameFrames(t *testing.T, what string, got, want []refFrame, gotErr, wantErr error) {
	t.Helper()
	if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
		t.Fatalf("%s: error %v, want %v", what, gotErr, wantErr)
	}
	if len(got) != len(want) {
		t.Fatalf("%s: %d frames, want %d", what, len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.ts != w.ts || g.wireLen != w.wireLen || g.lt != w.lt || g.iface != w.iface || !bytes.Equal(g.data, w.data) {
			t.Fatalf("%s: frame %d: ts %d len %d wire %d lt %d if %d, want ts %d len %d wire %d lt %d if %d", what, i,
				g.ts, len(g.data), g.wireLen, g.lt, g.iface, w.ts, len(w.data), w.wireLen, w.lt, w.iface)
		}
	}
}

// TestNextIntoAgrees: NextInto returns what Next returns, frame by frame and
// error for error, on every public capture (pcap of both byte orders and
// resolutions, pcapng) and on every cut of a hand-built one.
func TestNextIntoAgrees(t *testing.T) {
	for _, path := range publicCaptures(t) {
		a, err := Open(path)
		if err != nil {
			continue // files the reader rejects are TestAgreesWithPcapgo's
		}
		want, wantErr := readAll(t, a)
		a.Close()
		b, _ := Open(path)
		got, gotErr := readAllInto(b)
		b.Close()
		sameFrames(t, path, got, want, gotErr, wantErr)
	}
	data := pcapFile(1, bytes.Repeat([]byte{0xaa}, 60), bytes.Repeat([]byte{0xbb}, 100), bytes.Repeat([]byte{0xcc}, 40))
	for cut := 24; cut <= len(data); cut++ {
		a, _ := NewReader(bytes.NewReader(data[:cut]), "cut.pcap")
		want, wantErr := readAll(t, a)
		b, _ := NewReader(bytes.NewReader(data[:cut]), "cut.pcap")
		got, gotErr := readAllInto(b)
		sameFrames(t, fmt.Sprint("cut at ", cut), got, want, gotErr, wantErr)
	}
}

// bigCapture builds a pcap of the given byte order, a few times larger than
// the read-ahead chunks, whose records range from 60 bytes to several
// chunks (the snap length allows them), each filled with its own bytes so a
// frame sliced at the wrong place shows.
func bigCapture(order byteOrder, frames int) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	sizes := []int{60, 1514, 90, raHead - 16, raHead, 128, raHead + 1, 3*raChunk + 7, 66, 590}
	var b bytes.Buffer
	h := make([]byte, 24)
	order.PutUint32(h[0:], 0xa1b23c4d) // nanoseconds
	order.PutUint16(h[4:], 2)
	order.PutUint16(h[6:], 4)
	order.PutUint32(h[16:], 8<<20)
	order.PutUint32(h[20:], 1)
	b.Write(h)
	data := make([]byte, 4*raChunk)
	for i := range frames {
		n := sizes[i%len(sizes)]
		if i%len(sizes) == 0 {
			n = 60 + rng.IntN(1400)
		}
		d := data[:n]
		for k := range d {
			d[k] = byte(rng.Uint32())
		}
		rec := make([]byte, 16)
		order.PutUint32(rec[0:], 1700000000+uint32(i))
		order.PutUint32(rec[4:], uint32(i))
		order.PutUint32(rec[8:], uint32(n))
		order.PutUint32(rec[12:], uint32(n+i%3))
		b.Write(rec)
		b.Write(d)
	}
	return b.Bytes()
}

// TestReadAheadAgrees reads files larger than the read-ahead chunks, with
// records that straddle chunks or are longer than several of them, both
// ways: with read-ahead the frames, the errors and their offsets are those
// read without it, through Next and NextInto, plain, gzip-compressed, cut
// in the middle of a record, in both byte orders (little-endian pcap takes
// NextInto's fast path, big-endian the general one) and as pcapng.
func TestReadAheadAgrees(t *testing.T) {
	dir := t.TempDir()
	le := bigCapture(binary.LittleEndian, 60)
	be := bigCapture(binary.BigEndian, 30)
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(le)
	zw.Close()
	ng := ngSHB(binary.LittleEndian)
	ng = append(ng, ngIDB(binary.LittleEndian, 1)...)
	for i := range 400 {
		ng = append(ng, ngEPB(binary.LittleEndian, 0, uint64(i)*1000, bytes.Repeat([]byte{byte(i)}, 60+i*97), uint32(60+i*97))...)
	}
	files := map[string][]byte{
		"le.pcap": le, "be.pcap": be, "le.pcap.gz": z.Bytes(), "ng.pcapng": ng,
		"le-cut.pcap": le[:len(le)-raChunk-5], "be-cut.pcap": be[:len(be)/2+3], "gz-cut.pcap.gz": z.Bytes()[:z.Len()*2/3],
	}
	if len(le) < 6*raChunk || len(ng) < 2*raChunk {
		t.Fatalf("test files too small: %d and %d bytes", len(le), len(ng))
	}
	for name, data := range files {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		plain, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		want, wantErr := readAll(t, plain)
		plain.Close()
		if len(want) < 10 {
			t.Fatalf("%s: only %d frames (%v)", name, len(want), wantErr)
		}
		for _, into := range []bool{false, true} {
			r, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			r.ReadAhead()
			if r.ra == nil {
				t.Fatalf("%s: no read-ahead on a regular file", name)
			}
			var got []refFrame
			if into {
				got, err = readAllInto(r)
			} else {
				got, err = readAll(t, r)
			}
			sameFrames(t, fmt.Sprintf("%s (NextInto %v)", name, into), got, want, err, wantErr)
			if r.Position() != r.Size() || r.Size() != int64(len(data)) {
				t.Fatalf("%s: position %d size %d, want %d", name, r.Position(), r.Size(), len(data))
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestReadAheadClose: closing a reader in the middle of a file ends its
// read-ahead goroutine, and a reader that is not a regular file reads as
// it did.
func TestReadAheadClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "le.pcap")
	if err := os.WriteFile(path, bigCapture(binary.LittleEndian, 60), 0o644); err != nil {
		t.Fatal(err)
	}
	before := runtime.NumGoroutine()
	for range 5 {
		r, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		r.ReadAhead()
		for range 3 {
			if _, err := r.Next(); err != nil {
				t.Fatal(err)
			}
		}
		r.Close()
	}
	for deadline := time.Now().Add(5 * time.Second); runtime.NumGoroutine() > before; {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines, %d before", runtime.NumGoroutine(), before)
		}
		time.Sleep(10 * time.Millisecond)
	}
	r, err := NewReader(bytes.NewReader(pcapFile(1, make([]byte, 60))), "mem")
	if err != nil {
		t.Fatal(err)
	}
	r.ReadAhead()
	if r.ra != nil {
		t.Fatal("read-ahead on a reader that is not a regular file")
	}
}

// TestReadAheadNoAllocations: with read-ahead, frames of a file several
// chunks long (records up to the headroom) come without allocating.
func TestReadAheadNoAllocations(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b.pcap")
	if err := os.WriteFile(path, benchCapture(t, 40000), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.ReadAhead()
	var f Frame
	allocs := testing.AllocsPerRun(39000, func() {
		if err := r.NextInto(&f); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 || r.Position() < 4*raChunk {
		t.Fatalf("%v allocations per packet over %d bytes", allocs, r.Position())
	}
}
