package capture

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopacket/gopacket/pcapgo"
	"github.com/vpcflow/vpcflow/packet"
)

// benchCapture is an in-memory pcap of n frames of mixed sizes (64 to 1514
// bytes, the spread of real traffic), so the benchmark measures the reader,
// not the disk.
func benchCapture(tb testing.TB, n int) []byte {
	return benchCaptureSizes(tb, n, []int{64, 66, 1514, 90, 590, 1514, 66, 200})
}

// benchCaptureSizes writes n frames cycling through sizes.
func benchCaptureSizes(tb testing.TB, n int, sizes []int) []byte {
	tb.Helper()
	var b bytes.Buffer
	w, err := NewWriter(&b, packet.LinkEthernet)
	if err != nil {
		tb.Fatal(err)
	}
	frame := make([]byte, 1514)
	for i := range n {
		s := sizes[i%len(sizes)]
		if err := w.WritePacket(int64(1_700_000_000+i)*1e9, frame[:s], s); err != nil {
			tb.Fatal(err)
		}
	}
	w.Flush()
	return b.Bytes()
}

const benchPackets = 200_000

// BenchmarkRead compares our reader (Next; NextInto into one Frame; NextInto
// from a file read ahead) with gopacket's pcapgo (the baseline) on the same
// in-memory file; all touch every frame's bytes once. One op is one
// whole file of benchPackets frames: "full" has frames of 64 to 1514 bytes,
// "headers" frames cut to 128 bytes or less (vpcflow gen pcap --snaplen 128),
// where the per-packet cost shows.
func BenchmarkRead(b *testing.B) {
	for _, set := range []struct {
		name string
		data []byte
	}{
		{"full", benchCapture(b, benchPackets)},
		{"headers", benchCaptureSizes(b, benchPackets, []int{66, 74, 128, 90, 128, 128, 66, 110})},
	} {
		b.Run(set.name, func(b *testing.B) { benchRead(b, set.data) })
	}
}

func benchRead(b *testing.B, data []byte) {
	b.Run("vpcflow", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			r, err := NewReader(bytes.NewReader(data), "bench")
			if err != nil {
				b.Fatal(err)
			}
			n, sum := 0, 0
			for {
				f, err := r.Next()
				if err != nil {
					if err != io.EOF {
						b.Fatal(err)
					}
					break
				}
				n++
				sum += int(f.Data[0])
			}
			if n != benchPackets {
				b.Fatal(n)
			}
		}
		b.ReportMetric(float64(benchPackets)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mpkt/s")
	})
	b.Run("vpcflow-into", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			r, err := NewReader(bytes.NewReader(data), "bench")
			if err != nil {
				b.Fatal(err)
			}
			n, sum := 0, 0
			var f Frame
			for {
				if err := r.NextInto(&f); err != nil {
					if err != io.EOF {
						b.Fatal(err)
					}
					break
				}
				n++
				sum += int(f.Data[0])
			}
			if n != benchPackets {
				b.Fatal(n)
			}
		}
		b.ReportMetric(float64(benchPackets)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mpkt/s")
	})
	b.Run("vpcflow-readahead", func(b *testing.B) {
		// From a file (read-ahead needs one), in the page cache after the
		// first pass: the reads run on the read-ahead goroutine.
		path := filepath.Join(b.TempDir(), "bench.pcap")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			r, err := Open(path)
			if err != nil {
				b.Fatal(err)
			}
			r.ReadAhead()
			n, sum := 0, 0
			var f Frame
			for {
				if err := r.NextInto(&f); err != nil {
					if err != io.EOF {
						b.Fatal(err)
					}
					break
				}
				n++
				sum += int(f.Data[0])
			}
			r.Close()
			if n != benchPackets {
				b.Fatal(n)
			}
		}
		b.ReportMetric(float64(benchPackets)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mpkt/s")
	})
	b.Run("baseline-pcapgo", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			r, err := pcapgo.NewReader(bytes.NewReader(data))
			if err != nil {
				b.Fatal(err)
			}
			n, sum := 0, 0
			for {
				d, _, err := r.ZeroCopyReadPacketData()
				if err != nil {
					if err != io.EOF {
						b.Fatal(err)
					}
					break
				}
				n++
				sum += int(d[0])
			}
			if n != benchPackets {
				b.Fatal(n)
			}
		}
		b.ReportMetric(float64(benchPackets)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mpkt/s")
	})
}

// FuzzReader feeds arbitrary bytes to the reader: it must never panic, loop
// or return a frame whose captured length exceeds its wire length, and an
// error must be sticky.
func FuzzReader(f *testing.F) {
	for _, p := range []string{
		"../testdata/pcaps/tcpdump/dns_udp.pcap",
		"../testdata/pcaps/tcpdump/802.1ad_QinQ.pcap",
		"../testdata/pcaps/tcpdump/bgp-role.pcapng",
		"../testdata/pcaps/pcapng-suite/le/test010.pcapng",
		"../testdata/pcaps/pcapng-suite/be/test016.pcapng",
	} {
		if d, err := os.ReadFile(p); err == nil {
			f.Add(d)
		}
	}
	f.Add(pcapFile(1, make([]byte, 60)))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader(bytes.NewReader(data), "fuzz")
		if err != nil {
			return
		}
		for i := 0; ; i++ {
			fr, err := r.Next()
			if err != nil {
				if _, again := r.Next(); again != err {
					t.Fatalf("error not sticky: %v then %v", err, again)
				}
				return
			}
			if len(fr.Data) > fr.WireLen {
				t.Fatalf("captured %d > wire %d", len(fr.Data), fr.WireLen)
			}
			if i > len(data) {
				t.Fatal("more frames than bytes")
			}
		}
	})
}

// BenchmarkReadInterleaved reads the same file with both readers in
// alternation, so load from other processes hits both alike, and reports
// each rate and their ratio.
func BenchmarkReadInterleaved(b *testing.B) {
	for _, set := range []struct {
		name string
		data []byte
	}{
		{"full", benchCapture(b, benchPackets)},
		{"headers", benchCaptureSizes(b, benchPackets, []int{66, 74, 128, 90, 128, 128, 66, 110})},
	} {
		b.Run(set.name, func(b *testing.B) {
			var ours, theirs time.Duration
			n := 0
			for b.Loop() {
				t0 := time.Now()
				r, _ := NewReader(bytes.NewReader(set.data), "bench")
				for {
					f, err := r.Next()
					if err != nil {
						break
					}
					sinkByte += f.Data[0]
				}
				t1 := time.Now()
				pr, _ := pcapgo.NewReader(bytes.NewReader(set.data))
				for {
					d, _, err := pr.ZeroCopyReadPacketData()
					if err != nil {
						break
					}
					sinkByte += d[0]
				}
				ours += t1.Sub(t0)
				theirs += time.Since(t1)
				n += benchPackets
			}
			b.ReportMetric(float64(n)/ours.Seconds()/1e6, "vpcflow-Mpkt/s")
			b.ReportMetric(float64(n)/theirs.Seconds()/1e6, "baseline-Mpkt/s")
			b.ReportMetric(theirs.Seconds()/ours.Seconds(), "speedup-x")
		})
	}
}

var sinkByte byte
