package deliver

import (
	"bytes"
	stdflate "compress/flate"
	"compress/gzip"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/klauspost/compress/flate"
)

// recordText is n lines shaped like default-format records.
func recordText(n int) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	var b []byte
	for i := 0; i < n; i++ {
		b = fmt.Appendf(b, "2 123456789012 eni-0a1b2c3d4e5f60718 10.0.%d.%d 198.51.100.%d %d 443 6 %d %d 1767225600 1767225659 ACCEPT OK\n",
			rng.IntN(256), rng.IntN(256), rng.IntN(256), 1024+rng.IntN(60000), 1+rng.IntN(100), 40+rng.IntN(100000))
	}
	return b
}

// gzipRoundTrip writes text through blockGzip in pieces of the given
// size and checks, with compress/gzip (one member only), that gunzip
// gives the text back and the SHA-256 fed in order is the text's.
func gzipRoundTrip(t testing.TB, text []byte, piece int) []byte {
	var out bytes.Buffer
	sum := sha256.New()
	z, err := newBlockGzip(&out, sum)
	if err != nil {
		t.Fatal(err)
	}
	for p := text; len(p) > 0; {
		k := min(piece, len(p))
		z.Write(p[:k])
		p = p[k:]
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(out.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	zr.Multistream(false)
	got, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("%d bytes in pieces of %d: %v", len(text), piece, err)
	}
	if !bytes.Equal(got, text) {
		t.Fatalf("%d bytes in pieces of %d: gunzip gives %d other bytes", len(text), piece, len(got))
	}
	if want := sha256.Sum256(text); !bytes.Equal(sum.Sum(nil), want[:]) {
		t.Fatalf("%d bytes: the SHA-256 is not the text's", len(text))
	}
	return out.Bytes()
}

func TestBlockGzip(t *testing.T) {
	text := recordText(30_000) // ~3 MB: a dozen blocks
	for _, n := range []int{0, 1, gzBlockSize - 1, gzBlockSize, gzBlockSize + 1, 5*gzBlockSize + 17, len(text)} {
		for _, piece := range []int{1 << 20, 113} {
			gzipRoundTrip(t, text[:n], piece)
		}
	}
	// The same text gives the same bytes, however it is cut and however
	// fast the blocks compress; and about the size of one stream.
	a, b := gzipRoundTrip(t, text, 4096), gzipRoundTrip(t, text, 999)
	if !bytes.Equal(a, b) {
		t.Error("two writes of the same text differ")
	}
	// One stream of the same deflater at the same level: the blocks'
	// missing history costs little.
	var one bytes.Buffer
	fw, _ := flate.NewWriter(&one, flate.BestSpeed)
	fw.Write(text)
	fw.Close()
	if r := float64(len(a)-len(gzipHeader)-8) / float64(one.Len()); r > 1.05 || r < 0.95 {
		t.Errorf("blocks %d bytes, one stream %d (%.3f)", len(a), one.Len(), r)
	}
	var std bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&std, gzip.BestSpeed)
	zw.Write(text)
	zw.Close()
	if !bytes.Equal(a[:10], std.Bytes()[:10]) {
		t.Errorf("header % x, compress/gzip's % x", a[:10], std.Bytes()[:10])
	}
}

// TestBlockGzipSettled: the settled size counts the header, then each
// block once gzDepth more have been submitted.
func TestBlockGzipSettled(t *testing.T) {
	var out bytes.Buffer
	z, _ := newBlockGzip(&out, nil)
	if z.Settled() != 10 {
		t.Fatalf("settled %d before any text, want the 10-byte header", z.Settled())
	}
	text := recordText(60_000)
	var blocks int
	for p := text; len(p) >= gzBlockSize; p = p[gzBlockSize:] {
		z.Write(p[:gzBlockSize])
		blocks++
		if s := z.Settled(); (blocks <= gzDepth) != (s == 10) {
			t.Fatalf("after %d blocks settled %d", blocks, s)
		}
	}
	z.Close()
	if z.Settled() >= int64(out.Len()) || blocks <= gzDepth {
		t.Errorf("settled %d of %d bytes after %d blocks", z.Settled(), out.Len(), blocks)
	}
}

func FuzzBlockGzip(f *testing.F) {
	f.Add([]byte("2 123456789012 eni-1 - - - - - - - 1 2 - NODATA\n"), uint16(7))
	f.Add(bytes.Repeat([]byte{0}, 1000), uint16(1))
	f.Fuzz(func(t *testing.T, text []byte, piece uint16) {
		// Repeated to cross block boundaries.
		big := bytes.Repeat(text, 1+gzBlockSize/(len(text)+1))
		gzipRoundTrip(t, big, int(piece)+1)
	})
}

// BenchmarkGzipText compares blockGzip with compress/gzip at level 1 (one
// stream, the writer before, with the SHA-256 S3Dir computed beside it) on
// ~11 MB of record text written a line at a time.
func BenchmarkGzipText(b *testing.B) {
	text := recordText(100_000)
	b.Run("compress-gzip", func(b *testing.B) {
		b.SetBytes(int64(len(text)))
		for b.Loop() {
			zw, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
			sum := sha256.New() // as S3Dir hashed the text beside
			for p := text; len(p) > 0; p = p[min(len(p), 120):] {
				zw.Write(p[:min(len(p), 120)])
				sum.Write(p[:min(len(p), 120)])
			}
			zw.Close()
		}
	})
	b.Run("blocks", func(b *testing.B) {
		b.SetBytes(int64(len(text)))
		for b.Loop() {
			z, _ := newBlockGzip(io.Discard, sha256.New())
			for p := text; len(p) > 0; p = p[min(len(p), 120):] {
				z.Write(p[:min(len(p), 120)])
			}
			z.Close()
		}
	})
}

// BenchmarkDeflateBlock compares the deflater of blockGzip with
// compress/flate (the baseline) at level 1, one 256 KiB block of record
// text at a time on one goroutine, as each block is compressed; bytes/op
// is the compressed size of 2 MiB.
func BenchmarkDeflateBlock(b *testing.B) {
	text := recordText(100_000)[:8*gzBlockSize]
	type deflater interface {
		Reset(io.Writer)
		Write([]byte) (int, error)
		Flush() error
	}
	std, _ := stdflate.NewWriter(nil, stdflate.BestSpeed)
	kp, _ := flate.NewWriter(nil, flate.BestSpeed)
	for _, c := range []struct {
		name string
		w    deflater
	}{{"compress-flate", std}, {"klauspost", kp}} {
		b.Run(c.name, func(b *testing.B) {
			var out bytes.Buffer
			n := 0
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				n = 0
				for p := text; len(p) > 0; p = p[gzBlockSize:] {
					out.Reset()
					c.w.Reset(&out)
					c.w.Write(p[:gzBlockSize])
					c.w.Flush()
					n += out.Len()
				}
			}
			b.ReportMetric(float64(n), "bytes/op")
		})
	}
}
