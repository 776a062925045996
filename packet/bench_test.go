package packet_test

import (
	"bytes"
	"encoding/binary"
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

// encapsulate wraps the Ethernet frames of the synthetic mix in each
// encapsulation the decoder opens, keeping the IP packets as they are.
func encapsulate(frames [][]byte) map[string][][]byte {
	cat := func(parts ...[]byte) []byte {
		var out []byte
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	outerMACs := []byte{2, 0, 0, 0, 0, 3, 2, 0, 0, 0, 0, 0xfe}
	out := map[string][][]byte{}
	for i, f := range frames {
		et, payload := binary.BigEndian.Uint16(f[12:14]), f[14:]
		ppp := []byte{0x00, 0x21}
		if et == 0x86dd {
			ppp = []byte{0x00, 0x57}
		}
		pppoe := []byte{0x88, 0x64, 0x11, 0x00, 0x00, 0x2a, 0, 0}
		binary.BigEndian.PutUint16(pppoe[6:], uint16(2+len(payload)))
		out["pppoe"] = append(out["pppoe"], cat(f[:12], pppoe, ppp, payload))
		out["mpls"] = append(out["mpls"], cat(f[:12], []byte{0x88, 0x47, 0x00, 0x06, 0x41, 0x40}, payload))
		out["pseudowire"] = append(out["pseudowire"], cat(outerMACs, []byte{0x88, 0x47, 0x00, 0x06, 0x51, 0x40, 0, 0, 0, 0}, f))
		ip := []byte{0x45, 0, 0, 0, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 1, 10, 10, 0, 2, 20}
		binary.BigEndian.PutUint16(ip[2:], uint16(20+8+8+len(f)))
		udp := []byte{0xc3, 0x50, 0x12, 0xb5, 0, 0, 0, 0}
		binary.BigEndian.PutUint16(udp[0:], uint16(49152+i%1000))
		binary.BigEndian.PutUint16(udp[4:], uint16(8+8+len(f)))
		out["vxlan"] = append(out["vxlan"], cat(outerMACs, []byte{0x08, 0x00}, ip, udp, []byte{0x08, 0, 0, 0, 0, 0, 0x7b, 0}, f))
	}
	out["plain"] = frames
	return out
}

// encapVariants are the frames and decoders BenchmarkDecodeEncap compares:
// the plain Ethernet frames first, then each encapsulation around the same
// IP packets, VXLAN opened and kept outer.
var encapVariants = []struct {
	name, frames string
	dec          packet.Decoder
}{
	{"plain", "plain", packet.Decoder{}},
	{"pppoe", "pppoe", packet.Decoder{}},
	{"mpls", "mpls", packet.Decoder{}},
	{"pseudowire", "pseudowire", packet.Decoder{}},
	{"vxlan-decap", "vxlan", packet.Decoder{Decap: packet.DecapVXLAN}},
	{"vxlan-outer", "vxlan", packet.Decoder{}},
}

// BenchmarkDecodeEncap measures decoding through each encapsulation, on the
// IP packets of the synthetic mix, against the plain Ethernet frames in the
// same run: one sub-benchmark per variant (ns/op is per packet, allocs/op
// must be 0), then all variants in alternation, 4096 frames at a time, so
// load from other processes hits them alike, with each one's ratio to plain.
func BenchmarkDecodeEncap(b *testing.B) {
	sets := encapsulate(simFrames(b, 1<<12))
	for _, v := range encapVariants {
		frames := sets[v.frames]
		var p packet.Packet
		for _, f := range frames { // every frame must give its IP packet
			if r := v.dec.Decode(packet.LinkEthernet, f, &p); !r.HasIP() {
				b.Fatalf("%s: %v", v.name, r)
			}
		}
		b.Run(v.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if v.dec.Decode(packet.LinkEthernet, frames[i&(1<<12-1)], &p) == packet.OK {
					sink = result{Src: p.Src, Dst: p.Dst, SrcPort: p.SrcPort, DstPort: p.DstPort, Proto: p.Proto, IPLen: p.IPLen}
				}
			}
		})
	}
	b.Run("interleaved", func(b *testing.B) {
		spent := make([]time.Duration, len(encapVariants))
		var p packet.Packet
		n := 0
		b.ReportAllocs()
		for b.Loop() {
			for j, v := range encapVariants {
				frames := sets[v.frames]
				t0 := time.Now()
				for _, f := range frames {
					if v.dec.Decode(packet.LinkEthernet, f, &p) == packet.OK {
						sink = result{Src: p.Src, Dst: p.Dst, SrcPort: p.SrcPort, DstPort: p.DstPort, Proto: p.Proto, IPLen: p.IPLen}
					}
				}
				spent[j] += time.Since(t0)
			}
			n += 1 << 12
		}
		for j, v := range encapVariants {
			b.ReportMetric(float64(spent[j].Nanoseconds())/float64(n), v.name+"-ns/pkt")
			if j > 0 {
				b.ReportMetric(spent[j].Seconds()/spent[0].Seconds(), v.name+"/plain")
			}
		}
	})
}
