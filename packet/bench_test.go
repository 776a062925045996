package packet_test

import (
	"bytes"
	"io"
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/vpcflow/vpcflow/capture"
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

type result struct {
	src, dst     netip.Addr
	sport, dport uint16
	proto        uint8
	length       uint32
}

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
				sink = result{p.Src, p.Dst, p.SrcPort, p.DstPort, p.Proto, p.IPLen}
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/1e6, "Mpkt/s")
	})
	b.Run("baseline-gopacket-DecodingLayerParser", func(b *testing.B) {
		var (
			eth   layers.Ethernet
			dot1q layers.Dot1Q
			ip4   layers.IPv4
			ip6   layers.IPv6
			tcp   layers.TCP
			udp   layers.UDP
			icmp4 layers.ICMPv4
			icmp6 layers.ICMPv6
		)
		parser := gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &eth, &dot1q, &ip4, &ip6, &tcp, &udp, &icmp4, &icmp6)
		parser.IgnoreUnsupported = true
		decoded := make([]gopacket.LayerType, 0, 8)
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			parser.DecodeLayers(frames[i&(1<<12-1)], &decoded)
			var r result
			for _, lt := range decoded {
				switch lt {
				case layers.LayerTypeIPv4:
					r.src, _ = netip.AddrFromSlice(ip4.SrcIP)
					r.dst, _ = netip.AddrFromSlice(ip4.DstIP)
					r.proto, r.length = uint8(ip4.Protocol), uint32(ip4.Length)
				case layers.LayerTypeIPv6:
					r.src, _ = netip.AddrFromSlice(ip6.SrcIP)
					r.dst, _ = netip.AddrFromSlice(ip6.DstIP)
					r.proto, r.length = uint8(ip6.NextHeader), 40+uint32(ip6.Length)
				case layers.LayerTypeTCP:
					r.sport, r.dport = uint16(tcp.SrcPort), uint16(tcp.DstPort)
				case layers.LayerTypeUDP:
					r.sport, r.dport = uint16(udp.SrcPort), uint16(udp.DstPort)
				}
			}
			sink = r
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
		eth    layers.Ethernet
		dot1q  layers.Dot1Q
		ip4    layers.IPv4
		ip6    layers.IPv6
		tcp    layers.TCP
		udp    layers.UDP
		icmp4  layers.ICMPv4
		icmp6  layers.ICMPv6
		ours   time.Duration
		theirs time.Duration
	)
	parser := gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &eth, &dot1q, &ip4, &ip6, &tcp, &udp, &icmp4, &icmp6)
	parser.IgnoreUnsupported = true
	decoded := make([]gopacket.LayerType, 0, 8)
	n := 0
	for b.Loop() {
		t0 := time.Now()
		for _, f := range frames {
			if packet.Decode(packet.LinkEthernet, f, &p) == packet.OK {
				sink = result{p.Src, p.Dst, p.SrcPort, p.DstPort, p.Proto, p.IPLen}
			}
		}
		t1 := time.Now()
		for _, f := range frames {
			parser.DecodeLayers(f, &decoded)
			var r result
			for _, lt := range decoded {
				switch lt {
				case layers.LayerTypeIPv4:
					r.src, _ = netip.AddrFromSlice(ip4.SrcIP)
					r.dst, _ = netip.AddrFromSlice(ip4.DstIP)
					r.proto, r.length = uint8(ip4.Protocol), uint32(ip4.Length)
				case layers.LayerTypeIPv6:
					r.src, _ = netip.AddrFromSlice(ip6.SrcIP)
					r.dst, _ = netip.AddrFromSlice(ip6.DstIP)
					r.proto, r.length = uint8(ip6.NextHeader), 40+uint32(ip6.Length)
				case layers.LayerTypeTCP:
					r.sport, r.dport = uint16(tcp.SrcPort), uint16(tcp.DstPort)
				case layers.LayerTypeUDP:
					r.sport, r.dport = uint16(udp.SrcPort), uint16(udp.DstPort)
				}
			}
			sink = r
		}
		ours += t1.Sub(t0)
		theirs += time.Since(t1)
		n += len(frames)
	}
	b.ReportMetric(float64(n)/ours.Seconds()/1e6, "vpcflow-Mpkt/s")
	b.ReportMetric(float64(n)/theirs.Seconds()/1e6, "baseline-Mpkt/s")
	b.ReportMetric(theirs.Seconds()/ours.Seconds(), "speedup-x")
}
