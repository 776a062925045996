// Package gopacketbase is the baseline decoder that vpcflow's benchmarks
// measure against: gopacket's DecodingLayerParser with preallocated layers,
// extracting the fields a flow record needs. One copy, so every benchmark
// compares with the same baseline.
package gopacketbase

import (
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Tuple is what a flow needs from a packet.
type Tuple struct {
	Src, Dst         netip.Addr
	SrcPort, DstPort uint16
	Proto            uint8
	IPLen            uint32 // IPv4 Total Length, or 40 + IPv6 Payload Length
}

// Parser decodes Ethernet frames (with 802.1Q) carrying IPv4/IPv6 and
// TCP/UDP/ICMP. Not safe for concurrent use.
type Parser struct {
	eth     layers.Ethernet
	dot1q   layers.Dot1Q
	ip4     layers.IPv4
	ip6     layers.IPv6
	tcp     layers.TCP
	udp     layers.UDP
	icmp4   layers.ICMPv4
	icmp6   layers.ICMPv6
	parser  *gopacket.DecodingLayerParser
	decoded []gopacket.LayerType
}

// New returns a Parser.
func New() *Parser {
	p := &Parser{decoded: make([]gopacket.LayerType, 0, 8)}
	p.parser = gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &p.eth, &p.dot1q, &p.ip4, &p.ip6, &p.tcp, &p.udp, &p.icmp4, &p.icmp6)
	p.parser.IgnoreUnsupported = true
	return p
}

// Decode fills t from frame and reports whether it carried IP.
func (p *Parser) Decode(frame []byte, t *Tuple) bool {
	p.parser.DecodeLayers(frame, &p.decoded)
	*t = Tuple{}
	ok := false
	for _, lt := range p.decoded {
		switch lt {
		case layers.LayerTypeIPv4:
			t.Src, _ = netip.AddrFromSlice(p.ip4.SrcIP)
			t.Dst, _ = netip.AddrFromSlice(p.ip4.DstIP)
			t.Proto, t.IPLen, ok = uint8(p.ip4.Protocol), uint32(p.ip4.Length), true
		case layers.LayerTypeIPv6:
			t.Src, _ = netip.AddrFromSlice(p.ip6.SrcIP)
			t.Dst, _ = netip.AddrFromSlice(p.ip6.DstIP)
			t.Proto, t.IPLen, ok = uint8(p.ip6.NextHeader), 40+uint32(p.ip6.Length), true
		case layers.LayerTypeTCP:
			t.SrcPort, t.DstPort = uint16(p.tcp.SrcPort), uint16(p.tcp.DstPort)
		case layers.LayerTypeUDP:
			t.SrcPort, t.DstPort = uint16(p.udp.SrcPort), uint16(p.udp.DstPort)
		}
	}
	return ok
}
