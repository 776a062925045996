package packet_test

import (
	"bytes"
	"io"
	"testing"
	"time"

	"github.com/vpcflow/vpcflow/capture"
	"github.com/vpcflow/vpcflow/internal/gopacketbase"
	"github.com/vpcflow/vpcflow/packet"
	"github.com/vpcflow/vpcflow/sim"
)

// simFrames returns the frames of a synthetic capture (the traffic mix of
// `vpcflow gen pcap`: TCP, UDP, ICMP, 20% IPv6).
func simFrames(b *testing.B, n int) [][]byte {
	var buf bytes.Buffer
	w, _ := capture.NewWriter(&buf, packet.LinkEthernet)
	if _, err := sim.Generate(sim.Config{Packets: int64(n), Flows: n / 20, Seed: 1}, w, nil); err != nil {
		b.Fatal(err)
	}
	r, _ := capture.NewReader(bytes.NewReader(buf.Bytes()), "sim")
	var out [][]byte
	for {
		f, err := r.Next()
		if err == io.EOF {
			return out
		}
		out = append(out, append([]byte(nil), f.Data...))
	}
}

type result = gopacketbase.Tuple

var sink result

// BenchmarkDecode compares Decode with the gopacket baseline the design
// names (a DecodingLayerParser over the same layers), on the same frames,
// each extracting the fields a flow record needs.
func BenchmarkDecode(b *testing.B) {
	frames := simFrames(b, 1<<12) // 2.4 MB: decode cost, not memory misses
	b.Run("vpcflow", func(b *testing.B) {
		var p packet.Packet
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if packet.Decode(packet.LinkEthernet, frames[i&(1<<12-1)], &p) == packet.OK {
				sink = result{Src: p.Src, Dst: p.Dst, SrcPort: p.SrcPort, DstPort: p.DstPort, Proto: p.Proto, IPLen: p.IPLen}
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/1e6, "Mpkt/s")
	})
	b.Run("baseline-gopacket-DecodingLayerParser", func(b *testing.B) {
		parser := gopacketbase.New()
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			parser.Decode(frames[i&(1<<12-1)], &sink)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/1e6, "Mpkt/s")
	})
}

// BenchmarkDecodeInterleaved runs both decoders in alternation, 4096 frames
// at a time, so that load from other processes on a shared machine hits
// both alike; it reports each rate and their ratio.
func BenchmarkDecodeInterleaved(b *testing.B) {
	frames := simFrames(b, 1<<12)
	var (
		p      packet.Packet
		ours   time.Duration
		theirs time.Duration
	)
	parser := gopacketbase.New()
	n := 0
	for b.Loop() {
		t0 := time.Now()
		for _, f := range frames {
			if packet.Decode(packet.LinkEthernet, f, &p) == packet.OK {
				sink = result{Src: p.Src, Dst: p.Dst, SrcPort: p.SrcPort, DstPort: p.DstPort, Proto: p.Proto, IPLen: p.IPLen}
			}
		}
		t1 := time.Now()
		for _, f := range frames {
			parser.Decode(f, &sink)
		}
		ours += t1.Sub(t0)
		theirs += time.Since(t1)
		n += len(frames)
	}
	b.ReportMetric(float64(n)/ours.Seconds()/1e6, "vpcflow-Mpkt/s")
	b.ReportMetric(float64(n)/theirs.Seconds()/1e6, "baseline-Mpkt/s")
	b.ReportMetric(theirs.Seconds()/ours.Seconds(), "speedup-x")
}
