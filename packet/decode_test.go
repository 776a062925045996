package packet

import (
	"encoding/hex"
	"net/netip"
	"strings"
	"testing"
)

// hx turns a spaced hex string into bytes; frames below are written field by
// field so each value can be checked against the header layouts by eye.
func hx(s string) []byte {
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		panic(err)
	}
	return b
}

const (
	ethHdr  = "02 00 00 00 00 02  02 00 00 00 00 01"                            // dst 02:..:02, src 02:..:01
	ipv4TCP = "45 00 00 3c  1c 46 40 00  40 06 00 00  0a 00 01 0a  c6 33 64 07" // len 60, id 0x1c46, DF, ttl 64, TCP, 10.0.1.10 > 198.51.100.7
	tcpSYN  = "c0 01 01 bb  00 00 00 01  00 00 00 00  a0 02 fa f0  00 00 00 00" // 49153 > 443, data offset 10 (40 bytes), SYN
	tcpOpts = "02 04 05 b4  04 02 08 0a  00 00 00 01  00 00 00 00  01 03 03 07" // MSS, SACK ok, TS, NOP, WS
	ipv6Hdr = "60 00 00 00  %s %s 40"                                           // payload length, next header, hop limit 64
	v6Src   = "20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01"
	v6Dst   = "20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 02"
)

func v6(plen, next string) string {
	return strings.Replace(strings.Replace(ipv6Hdr, "%s", plen, 1), "%s", next, 1) + v6Src + v6Dst
}

var (
	mac1 = [6]byte{2, 0, 0, 0, 0, 1}
	mac2 = [6]byte{2, 0, 0, 0, 0, 2}
	a4   = netip.MustParseAddr("10.0.1.10")
	b4   = netip.MustParseAddr("198.51.100.7")
	a6   = netip.MustParseAddr("2001:db8::1")
	b6   = netip.MustParseAddr("2001:db8::2")
)

type decodeCase struct {
	name   string
	lt     LinkType
	frame  string
	reason Reason
	want   Packet
}

// tcpSynV4 is the Packet expected for ipv4TCP+tcpSYN behind an Ethernet header.
var tcpSynV4 = Packet{SrcMAC: mac1, DstMAC: mac2, HasMAC: true, IPVersion: 4, Src: a4, Dst: b4, Proto: 6, TTL: 64,
	IPLen: 60, HasPorts: true, SrcPort: 49153, DstPort: 443, TCPFlags: TCPSyn, FragID: 0x1c46}

func decodeCases() []decodeCase {
	noMAC := tcpSynV4
	noMAC.SrcMAC, noMAC.DstMAC, noMAC.HasMAC = [6]byte{}, [6]byte{}, false
	vlan := tcpSynV4
	vlan.VLAN, vlan.VLANTags = 100, 1
	qinq := tcpSynV4
	qinq.VLAN, qinq.InnerVLAN, qinq.VLANTags = 0x123, 5, 2
	return []decodeCase{
		{"ethernet ipv4 tcp syn", LinkEthernet, ethHdr + "08 00" + ipv4TCP + tcpSYN + tcpOpts, OK, tcpSynV4},
		{"802.1Q", LinkEthernet, ethHdr + "81 00 20 64 08 00" + ipv4TCP + tcpSYN + tcpOpts, OK, vlan},
		{"802.1ad QinQ", LinkEthernet, ethHdr + "88 a8 01 23 81 00 00 05 08 00" + ipv4TCP + tcpSYN + tcpOpts, OK, qinq},
		{"ipv4 options udp", LinkEthernet, ethHdr + "08 00" +
			"46 00 00 24  00 07 00 00  01 11 00 00  0a 00 01 0a  c6 33 64 07  94 04 00 00" + // IHL 6, router alert, len 36
			"00 35 d4 31 00 10 00 00  de ad be ef",
			OK, Packet{SrcMAC: mac1, DstMAC: mac2, HasMAC: true, IPVersion: 4, Src: a4, Dst: b4, Proto: 17, TTL: 1,
				IPLen: 36, HasPorts: true, SrcPort: 53, DstPort: 54321, FragID: 7}},
		{"ethernet padding is not the ip payload", LinkEthernet, ethHdr + "08 00" +
			"45 00 00 1c  00 01 00 00  40 01 00 00  0a 00 01 0a  c6 33 64 07  08 00 f7 ff 00 00 00 00" + // 28-byte ICMP echo
			strings.Repeat("00 ", 18),
			OK, Packet{SrcMAC: mac1, DstMAC: mac2, HasMAC: true, IPVersion: 4, Src: a4, Dst: b4, Proto: 1, TTL: 64,
				IPLen: 28, HasICMP: true, ICMPType: 8, FragID: 1}},
		{"ping 56 data bytes is 84", LinkEthernet, ethHdr + "08 00" +
			"45 00 00 54  ab cd 40 00  40 01 00 00  0a 00 01 0a  c6 33 64 07  00 00 00 00 12 34 00 01" + strings.Repeat("00 ", 56),
			OK, Packet{SrcMAC: mac1, DstMAC: mac2, HasMAC: true, IPVersion: 4, Src: a4, Dst: b4, Proto: 1, TTL: 64,
				IPLen: 84, HasICMP: true, ICMPType: 0, FragID: 0xabcd}},
		{"ipv4 first fragment carries ports", LinkEthernet, ethHdr + "08 00" +
			"45 00 05 dc  30 39 20 00  40 11 00 00  0a 00 01 0a  c6 33 64 07  13 88 13 89 05 c8 00 00", // MF, offset 0, len 1500
			OK, Packet{SrcMAC: mac1, DstMAC: mac2, HasMAC: true, IPVersion: 4, Src: a4, Dst: b4, Proto: 17, TTL: 64,
				IPLen: 1500, HasPorts: true, SrcPort: 5000, DstPort: 5001, Fragment: true, MoreFragments: true, FragID: 12345}},
		{"ipv6 tcp", LinkEthernet, ethHdr + "86 dd" + v6("00 14", "06") + tcpSYN,
			OK, Packet{SrcMAC: mac1, DstMAC: mac2, HasMAC: true, IPVersion: 6, Src: a6, Dst: b6, Proto: 6, TTL: 64,
				IPLen: 60, HasPorts: true, SrcPort: 49153, DstPort: 443, TCPFlags: TCPSyn}},
		{"ipv6 hop-by-hop, destination options, udp", LinkEthernet, ethHdr + "86 dd" + v6("00 28", "00") +
			"3c 00 05 02 00 00 01 00" + // HBH: next 60, len 0 (8 bytes), router alert
			"11 01 01 0c 00 00 00 00 00 00 00 00 00 00 00 00" + // DO: next 17, len 1 (16 bytes), PadN
			"00 35 00 35 00 10 00 00 00 00 00 00 00 00 00 00", // UDP 53 > 53, 8 bytes of data
			OK, Packet{SrcMAC: mac1, DstMAC: mac2, HasMAC: true, IPVersion: 6, Src: a6, Dst: b6, Proto: 17, TTL: 64,
				IPLen: 80, HasPorts: true, SrcPort: 53, DstPort: 53}},
		{"ipv6 routing header, icmpv6 echo", LinkEthernet, ethHdr + "86 dd" + v6("00 20", "2b") +
			"3a 02 00 00 00 00 00 00" + v6Dst + // type 0 routing, next 58, len 2 (24 bytes)
			"80 00 00 00 00 01 00 01", // echo request
			OK, Packet{SrcMAC: mac1, DstMAC: mac2, HasMAC: true, IPVersion: 6, Src: a6, Dst: b6, Proto: 58, TTL: 64,
				IPLen: 72, HasICMP: true, ICMPType: 128}},
		{"ipv6 AH length counts 4-byte words", LinkEthernet, ethHdr + "86 dd" + v6("00 2c", "33") +
			"06 04 00 00 00 00 10 00 00 00 00 01 00 00 00 00 00 00 00 00 00 00 00 00" + // AH: next 6, len 4 -> (4+2)*4 = 24
			tcpSYN,
			OK, Packet{SrcMAC: mac1, DstMAC: mac2, HasMAC: true, IPVersion: 6, Src: a6, Dst: b6, Proto: 6, TTL: 64,
				IPLen: 84, HasPorts: true, SrcPort: 49153, DstPort: 443, TCPFlags: TCPSyn}},
		{"ipv6 first fragment", LinkEthernet, ethHdr + "86 dd" + v6("00 18", "2c") +
			"11 00 00 01 de ad be ef" + // next 17, offset 0, M
			"13 88 13 89 05 c8 00 00 00 00 00 00 00 00 00 00",
			OK, Packet{SrcMAC: mac1, DstMAC: mac2, HasMAC: true, IPVersion: 6, Src: a6, Dst: b6, Proto: 17, TTL: 64,
				IPLen: 64, HasPorts: true, SrcPort: 5000, DstPort: 5001, Fragment: true, MoreFragments: true, FragID: 0xdeadbeef}},
		{"gre is reported as the outer protocol", LinkEthernet, ethHdr + "08 00" +
			"45 00 00 18  00 00 00 00  40 2f 00 00  0a 00 01 0a  c6 33 64 07  00 00 08 00",
			OK, Packet{SrcMAC: mac1, DstMAC: mac2, HasMAC: true, IPVersion: 4, Src: a4, Dst: b4, Proto: 47, TTL: 64, IPLen: 24}},
		{"linux sll", LinkLinuxSLL, "00 00 00 01 00 06 02 00 00 00 00 01 00 00 08 00" + ipv4TCP + tcpSYN + tcpOpts, OK, noMAC},
		{"linux sll2", LinkLinuxSLL2, "08 00 00 00 00 00 00 02 00 01 04 06 02 00 00 00 00 01 00 00" + ipv4TCP + tcpSYN + tcpOpts, OK, noMAC},
		{"bsd null little-endian AF_INET", LinkNull, "02 00 00 00" + ipv4TCP + tcpSYN + tcpOpts, OK, noMAC},
		{"bsd null big-endian AF_INET", LinkNull, "00 00 00 02" + ipv4TCP + tcpSYN + tcpOpts, OK, noMAC},
		{"openbsd loop AF_INET", LinkLoop, "00 00 00 02" + ipv4TCP + tcpSYN + tcpOpts, OK, noMAC},
		{"raw ipv4", LinkRaw, ipv4TCP + tcpSYN + tcpOpts, OK, noMAC},
		{"linktype ipv4", LinkIPv4, ipv4TCP + tcpSYN + tcpOpts, OK, noMAC},
		{"bsd null macOS AF_INET6", LinkNull, "1e 00 00 00" + v6("00 08", "11") + "00 35 00 35 00 08 00 00",
			OK, Packet{IPVersion: 6, Src: a6, Dst: b6, Proto: 17, TTL: 64, IPLen: 48, HasPorts: true, SrcPort: 53, DstPort: 53}},
		{"raw ipv6", LinkRaw, v6("00 08", "11") + "00 35 00 35 00 08 00 00",
			OK, Packet{IPVersion: 6, Src: a6, Dst: b6, Proto: 17, TTL: 64, IPLen: 48, HasPorts: true, SrcPort: 53, DstPort: 53}},
		{"linktype ipv6", LinkIPv6, v6("00 08", "11") + "00 35 00 35 00 08 00 00",
			OK, Packet{IPVersion: 6, Src: a6, Dst: b6, Proto: 17, TTL: 64, IPLen: 48, HasPorts: true, SrcPort: 53, DstPort: 53}},
	}
}

// choiceCases are behaviours AWS leaves to us ([Choice] in
// docs/aws-behaviour.md, or not covered there), kept apart from the [AWS] header
// layouts above.
func choiceCases() []decodeCase {
	return []decodeCase{
		// [Choice] A later fragment is a packet of its own; it has no
		// ports (the flow table may give it those of the first fragment).
		{"ipv4 later fragment has no ports", LinkEthernet, ethHdr + "08 00" +
			"45 00 00 30  30 39 00 b9  40 11 00 00  0a 00 01 0a  c6 33 64 07  13 88 13 89 05 c8 00 00", // offset 185*8 = 1480, last
			OK, Packet{SrcMAC: mac1, DstMAC: mac2, HasMAC: true, IPVersion: 4, Src: a4, Dst: b4, Proto: 17, TTL: 64,
				IPLen: 48, Fragment: true, FragOffset: 1480, FragID: 12345}},
		{"ipv6 later fragment", LinkEthernet, ethHdr + "86 dd" + v6("00 18", "2c") +
			"11 00 05 a8 de ad be ef" + // next 17, offset 181*8 = 1448, last
			"13 88 13 89 05 c8 00 00 00 00 00 00 00 00 00 00",
			OK, Packet{SrcMAC: mac1, DstMAC: mac2, HasMAC: true, IPVersion: 6, Src: a6, Dst: b6, Proto: 17, TTL: 64,
				IPLen: 64, Fragment: true, FragOffset: 1448, FragID: 0xdeadbeef}},
		// Cut by the snap length: the IP fields count, the transport header
		// gives what it can; in a cut IPv6 extension header chain, the
		// protocol is the last Next Header that could be read (as tshark).
		{"tcp cut by snap length keeps ports", LinkIPv4, ipv4TCP + "c0 01 01 bb 00 00 00 01", L4Truncated,
			Packet{IPVersion: 4, Src: a4, Dst: b4, Proto: 6, TTL: 64, IPLen: 60, HasPorts: true, SrcPort: 49153, DstPort: 443, FragID: 0x1c46}},
		{"ipv6 extension header cut by snap length", LinkIPv6, v6("00 40", "00") + "3c 07 00 00", L4Truncated,
			Packet{IPVersion: 6, Src: a6, Dst: b6, Proto: 60, TTL: 64, IPLen: 104}}, // the cut hop-by-hop header names 60 next
		// [Unverified]: SCTP ports are reported like TCP and UDP ports.
		{"sctp ports", LinkIPv4, "45 00 00 20 00 01 00 00 40 84 00 00 0a 00 01 0a c6 33 64 07" +
			"0b 59 0b 59 00 00 00 00 00 00 00 00",
			OK, Packet{IPVersion: 4, Src: a4, Dst: b4, Proto: 132, TTL: 64, IPLen: 32, HasPorts: true,
				SrcPort: 2905, DstPort: 2905, FragID: 1}},
	}
}

// badCases only check the reason: the IP fields are undefined.
var badCases = []struct {
	name   string
	lt     LinkType
	frame  string
	reason Reason
}{
	{"arp", LinkEthernet, ethHdr + "08 06 00 01 08 00 06 04 00 01", NotIP},
	{"lldp", LinkEthernet, ethHdr + "88 cc 02 07 04", NotIP},
	{"802.3 llc (stp)", LinkEthernet, ethHdr + "00 26 42 42 03 00 00", NotIP},
	{"vlan-tagged arp", LinkEthernet, ethHdr + "81 00 00 0a 08 06 00 01", NotIP},
	{"sll netlink", LinkLinuxSLL, "00 04 03 38 00 00 00 00 00 00 00 00 00 00 00 00 14 00", NotIP},
	{"null unknown family", LinkNull, "07 00 00 00 45", NotIP},
	{"802.11 radiotap", 127, "00 00 08 00 00 00 00 00", UnsupportedLink},
	{"short ethernet", LinkEthernet, "02 00 00 00 00 02 02 00", Truncated},
	{"vlan tag cut", LinkEthernet, ethHdr + "81 00 00", Truncated},
	{"short ipv4", LinkEthernet, ethHdr + "08 00 45 00 00 3c 1c 46", Truncated},
	{"ipv4 options cut", LinkIPv4, "4f 00 00 3c 1c 46 40 00 40 06 00 00 0a 00 01 0a c6 33 64 07 01 01", Truncated},
	{"short ipv6", LinkIPv6, "60 00 00 00 00 08 11 40 20 01", Truncated},
	{"empty raw", LinkRaw, "", Truncated},
	{"short sll", LinkLinuxSLL, "00 00 00 01", Truncated},
	{"short sll2", LinkLinuxSLL2, "08 00 00 00", Truncated},
	{"short null", LinkNull, "02 00", Truncated},
	{"ihl below 5", LinkIPv4, "44 00 00 3c 1c 46 40 00 40 06 00 00 0a 00 01 0a c6 33 64 07", BadIPHeader},
	{"total length below header", LinkIPv4, "45 00 00 13 1c 46 40 00 40 06 00 00 0a 00 01 0a c6 33 64 07", BadIPHeader},
	{"ipv6 in an ipv4 ethertype", LinkEthernet, ethHdr + "08 00" + v6("00 00", "3b"), BadIPHeader},
	{"raw version 5", LinkRaw, "50 00 00 14", BadIPHeader},
	{"ipv6 header in linktype ipv4", LinkIPv4, v6("00 00", "3b"), BadIPHeader},
	{"ipv6 extension header longer than the payload", LinkIPv6, v6("00 08", "00") + "3b 01 00 00 00 00 00 00", BadExtHeader},
}

func TestDecode(t *testing.T) {
	runDecodeCases(t, decodeCases())
	for _, c := range badCases {
		t.Run(c.name, func(t *testing.T) {
			var p Packet
			if r := Decode(c.lt, hx(c.frame), &p); r != c.reason {
				t.Fatalf("reason %v, want %v", r, c.reason)
			}
		})
	}
}

func TestDecodeChoice(t *testing.T) {
	runDecodeCases(t, choiceCases())
}

func runDecodeCases(t *testing.T, cases []decodeCase) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var p Packet
			p.SrcPort = 999 // Decode must overwrite leftovers of the previous packet
			if r := Decode(c.lt, hx(c.frame), &p); r != c.reason {
				t.Fatalf("reason %v, want %v", r, c.reason)
			}
			if p != c.want {
				t.Fatalf("got  %+v\nwant %+v", p, c.want)
			}
		})
	}
}

func TestReasonsAndCounters(t *testing.T) {
	var c Counters
	for _, r := range []Reason{OK, OK, NotIP, Truncated, L4Truncated} {
		c.Add(r)
	}
	if c.String() != "ok=2 l4-truncated=1 not-ip=1 truncated=1" || c.Total() != 5 || c.Skipped() != 2 {
		t.Fatalf("%s total %d skipped %d", c.String(), c.Total(), c.Skipped())
	}
	var d Counters
	d.Merge(&c)
	d.Merge(&c)
	if d[OK] != 4 {
		t.Fatal(d)
	}
	for r := range NumReasons {
		if r.String() == "" || strings.HasPrefix(r.String(), "reason-") {
			t.Fatalf("reason %d has no name", r)
		}
	}
	if Reason(200).String() != "reason-200" || LinkType(127).String() != "LINKTYPE_127" || LinkLinuxSLL2.String() != "LINUX_SLL2" {
		t.Fatal("names")
	}
	if (&Counters{}).String() != "none" {
		t.Fatal("empty counters")
	}
}

func TestDecodeDoesNotAllocate(t *testing.T) {
	var frames [][]byte
	for _, c := range decodeCases() {
		frames = append(frames, hx(c.frame))
	}
	var p Packet
	cases := decodeCases()
	allocs := testing.AllocsPerRun(100, func() {
		for i, f := range frames {
			Decode(cases[i].lt, f, &p)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations", allocs)
	}
}

// FuzzDecode: any bytes under any link type decode without panic, with and
// without VXLAN opened, and a packet reported as IP has consistent fields.
// The seeds are every frame of the tables, encapsulations included.
func FuzzDecode(f *testing.F) {
	for _, c := range append(decodeCases(), choiceCases()...) {
		f.Add(uint16(c.lt), hx(c.frame))
	}
	for _, c := range badCases {
		f.Add(uint16(c.lt), hx(c.frame))
	}
	for _, c := range encapCases() {
		f.Add(uint16(c.lt), hx(c.frame))
	}
	for _, c := range encapBadCases {
		f.Add(uint16(c.lt), hx(c.frame))
	}
	f.Fuzz(func(t *testing.T, lt uint16, data []byte) {
		var plain, decap Packet
		r := Decode(LinkType(lt), data, &plain)
		checkDecoded(t, r, &plain)
		if plain.Encap&EncapVXLAN != 0 || plain.VNI != 0 || plain.TunnelSrc.IsValid() {
			t.Fatalf("vxlan opened by Decode: %+v", plain)
		}
		rd := Decoder{Decap: DecapVXLAN}.Decode(LinkType(lt), data, &decap)
		checkDecoded(t, rd, &decap)
		if decap.Encap&EncapVXLAN == 0 && (rd != r || decap != plain) {
			t.Fatalf("no vxlan, yet decap changed %v %+v into %v %+v", r, plain, rd, decap)
		}
		if decap.Encap&EncapVXLAN != 0 && rd.HasIP() && (!decap.TunnelSrc.IsValid() || !decap.TunnelDst.IsValid() || decap.VNI >= 1<<24) {
			t.Fatalf("vxlan fields %+v", decap)
		}
	})
}

func checkDecoded(t *testing.T, r Reason, p *Packet) {
	t.Helper()
	if r >= NumReasons {
		t.Fatalf("reason %d", r)
	}
	if p.Encap >= 1<<NumEncaps {
		t.Fatalf("encap %b", p.Encap)
	}
	if !r.HasIP() {
		return
	}
	switch p.IPVersion {
	case 4:
		if !p.Src.Is4() || !p.Dst.Is4() || p.IPLen < 20 {
			t.Fatalf("ipv4 fields %+v", p)
		}
	case 6:
		if !p.Src.Is6() || !p.Dst.Is6() || p.IPLen < 40 {
			t.Fatalf("ipv6 fields %+v", p)
		}
	default:
		t.Fatalf("version %d with reason %v", p.IPVersion, r)
	}
	if p.HasPorts && p.FragOffset != 0 {
		t.Fatal("ports on a later fragment")
	}
}
