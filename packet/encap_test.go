package packet

import (
	"encoding/hex"
	"net/netip"
	"strings"
	"testing"
)

// Frames of the encapsulations, written field by field like those of
// decode_test.go. The lengths in the headers were worked out by hand:
// ipv4TCP+tcpSYN+tcpOpts is a 60-byte IPv4 packet, its Ethernet frame 74
// bytes (14 + 60).
const (
	ipv4SYN   = ipv4TCP + tcpSYN + tcpOpts
	pppoeIPv4 = "88 64  11 00 00 2a 00 3e  00 21" // ver 1 type 1, code 0 (session), session 42, length 2 + 60; PPP IPv4
	mplsS100  = "00 06 41 40"                     // label 100, TC 0, bottom of stack, TTL 64
	mpls1000  = "00 3e 80 40"                     // label 1000, not bottom
	routerMAC = "02 00 00 00 00 fe"
	// collector is the Ethernet header of a frame to a mirror target
	// (02:..:03) from the VPC router (02:..:fe).
	collector = "02 00 00 00 00 03" + routerMAC
	// mirrorV4 is a VXLAN datagram as AWS Traffic Mirroring sends it:
	// IPv4 10.0.1.10 (the source interface) > 10.0.2.20 (the target), total
	// length 20 + 90, id 42; UDP 50000 > 4789, length 8 + 8 + 74; VXLAN with
	// the I flag and VNI 123, then the mirrored 74-byte frame.
	mirrorV4 = collector + "08 00" +
		"45 00 00 6e  00 2a 00 00  40 11 00 00  0a 00 01 0a  0a 00 02 14" +
		"c3 50 12 b5  00 5a 00 00" +
		"08 00 00 00  00 00 7b 00" +
		ethHdr + "08 00" + ipv4SYN
)

var (
	routerMACb = [6]byte{2, 0, 0, 0, 0, 0xfe}
	enaMAC     = [6]byte{0x0a, 0x1b, 0x2c, 0x3d, 0x4e, 0x5f}
	srcENI     = netip.MustParseAddr("10.0.1.10")
	target     = netip.MustParseAddr("10.0.2.20")
)

type encapCase struct {
	name   string
	decap  Decap
	lt     LinkType
	frame  string
	reason Reason
	want   Packet
}

// cut is the hex of the first n bytes of frame.
func cut(frame string, n int) string { return hex.EncodeToString(hx(frame)[:n]) }

func with(p Packet, f func(*Packet)) Packet {
	f(&p)
	return p
}

// udp53v6 is an IPv6 UDP 53 > 53 datagram with 8 bytes of payload header
// only: IP length 40 + 8.
var udp53v6 = Packet{IPVersion: 6, Src: a6, Dst: b6, Proto: 17, TTL: 64, IPLen: 48, HasPorts: true, SrcPort: 53, DstPort: 53}

// encapCases are the frames of encapsulations, header layouts first, then
// choices.
func encapCases() []encapCase { return append(encapLayoutCases(), encapChoiceCases()...) }

func encapLayoutCases() []encapCase {
	macs := func(p Packet) Packet { p.SrcMAC, p.DstMAC, p.HasMAC = mac1, mac2, true; return p }
	noMAC := with(tcpSynV4, func(p *Packet) { p.SrcMAC, p.DstMAC, p.HasMAC = [6]byte{}, [6]byte{}, false })
	return []encapCase{
		{"pppoe session ipv4", 0, LinkEthernet, ethHdr + pppoeIPv4 + ipv4SYN, OK,
			with(tcpSynV4, func(p *Packet) { p.Encap = EncapPPPoE })},
		{"pppoe compressed protocol field, ipv6", 0, LinkEthernet, ethHdr + "88 64 11 00 00 2a 00 3d 57" + v6("00 14", "06") + tcpSYN, OK,
			Packet{SrcMAC: mac1, DstMAC: mac2, HasMAC: true, IPVersion: 6, Src: a6, Dst: b6, Proto: 6, TTL: 64,
				IPLen: 60, HasPorts: true, SrcPort: 49153, DstPort: 443, TCPFlags: TCPSyn, Encap: EncapPPPoE}},
		{"vlan-tagged pppoe", 0, LinkEthernet, ethHdr + "81 00 00 0a" + pppoeIPv4 + ipv4SYN, OK,
			with(tcpSynV4, func(p *Packet) { p.VLAN, p.VLANTags, p.Encap = 10, 1, EncapPPPoE })},
		{"pppoe carrying mpls", 0, LinkEthernet, ethHdr + "88 64 11 00 00 2a 00 42 02 81" + mplsS100 + ipv4SYN, OK,
			with(tcpSynV4, func(p *Packet) { p.Encap = EncapPPPoE | EncapMPLS })},
		{"linux sll pppoe", 0, LinkLinuxSLL, "00 00 00 01 00 06 02 00 00 00 00 01 00 00" + pppoeIPv4 + ipv4SYN, OK,
			with(noMAC, func(p *Packet) { p.Encap = EncapPPPoE })},
		{"mpls one label, ipv4", 0, LinkEthernet, ethHdr + "88 47" + mplsS100 + ipv4SYN, OK,
			with(tcpSynV4, func(p *Packet) { p.Encap = EncapMPLS })},
		// label 2 is the IPv6 explicit null; the payload is still guessed
		// from its first nibble
		{"mpls two labels, ipv6", 0, LinkEthernet, ethHdr + "88 47" + mpls1000 + "00 00 21 40" + v6("00 08", "11") + "00 35 00 35 00 08 00 00", OK,
			with(macs(udp53v6), func(p *Packet) { p.Encap = EncapMPLS })},
		{"mpls multicast", 0, LinkEthernet, ethHdr + "88 48" + mplsS100 + ipv4SYN, OK,
			with(tcpSynV4, func(p *Packet) { p.Encap = EncapMPLS })},
		// The outer frame (VLAN 200, provider MACs) carries labels 1000 and
		// 101, the control word (sequence 7), then the customer's frame:
		// 02:..:fe > 0a:1b:2c:3d:4e:5f in VLAN 5. Its MACs and VLAN are
		// reported.
		{"ethernet pseudowire with control word", 0, LinkEthernet, ethHdr + "81 00 00 c8 88 47" + mpls1000 + "00 06 51 40" + "00 00 00 07" +
			"0a 1b 2c 3d 4e 5f" + routerMAC + "81 00 00 05 08 00" + ipv4SYN, OK,
			with(tcpSynV4, func(p *Packet) {
				p.SrcMAC, p.DstMAC, p.VLAN, p.VLANTags, p.Encap = routerMACb, enaMAC, 5, 1, EncapMPLS|EncapPseudowire
			})},
		{"ppp link, hdlc framing", 0, LinkPPP, "ff 03 00 21" + ipv4SYN, OK, noMAC},
		{"ppp link, ipv6, no framing", 0, LinkPPP, "00 57" + v6("00 08", "11") + "00 35 00 35 00 08 00 00", OK, udp53v6},
		{"ppp link, mpls", 0, LinkPPP, "ff 03 02 81" + mplsS100 + ipv4SYN, OK,
			with(noMAC, func(p *Packet) { p.Encap = EncapMPLS })},

		{"vxlan opened", DecapVXLAN, LinkEthernet, mirrorV4, OK,
			with(tcpSynV4, func(p *Packet) { p.Encap, p.VNI, p.TunnelSrc, p.TunnelDst = EncapVXLAN, 123, srcENI, target })},
		// Outer IPv6 a6 > b6, payload 8 + 8 + 62 (inner frame: 14 + 48);
		// VNI 456.
		{"vxlan over ipv6, inner ipv6", DecapVXLAN, LinkEthernet, collector + "86 dd" + v6("00 4e", "11") +
			"c3 51 12 b5 00 4e 00 00" + "08 00 00 00 00 01 c8 00" + ethHdr + "86 dd" + v6("00 08", "11") + "00 35 00 35 00 08 00 00", OK,
			with(macs(udp53v6), func(p *Packet) { p.Encap, p.VNI, p.TunnelSrc, p.TunnelDst = EncapVXLAN, 456, a6, b6 })},
		{"vxlan reserved bits and group policy are ignored", DecapVXLAN, LinkEthernet,
			strings.Replace(mirrorV4, "08 00 00 00  00 00 7b 00", "88 ff 12 34  00 00 7b ff", 1), OK,
			with(tcpSynV4, func(p *Packet) { p.Encap, p.VNI, p.TunnelSrc, p.TunnelDst = EncapVXLAN, 123, srcENI, target })},
		{"pppoe frame to the collector, vxlan opened", DecapVXLAN, LinkEthernet,
			collector + "88 64 11 00 00 2a 00 70 00 21" + mirrorV4[len(collector+"08 00"):], OK,
			with(tcpSynV4, func(p *Packet) { p.Encap, p.VNI, p.TunnelSrc, p.TunnelDst = EncapPPPoE|EncapVXLAN, 123, srcENI, target })},
	}
}

// encapChoiceCases are behaviours of the decoder that the specifications
// leave open or that follow AWS rather than a header layout
// (docs/pcap-to-flowlogs.md, "Decoding").
func encapChoiceCases() []encapCase {
	return []encapCase{
		// Like the Linux kernel, tshark and gopacket, the decoder does not
		// check the version, type and code of a session frame.
		{"pppoe version 2, code a7", 0, LinkEthernet, ethHdr + "88 64 21 a7 00 2a 00 3e 00 21" + ipv4SYN, OK,
			with(tcpSynV4, func(p *Packet) { p.Encap = EncapPPPoE })},
		// IP tunnels stay outer, as AWS logs them, whatever the Decoder.
		{"ip-in-ip stays outer", DecapVXLAN, LinkEthernet, ethHdr + "08 00" +
			"45 00 00 50  00 01 00 00  40 04 00 00  0a 00 01 0a  c6 33 64 07" + ipv4SYN, OK, // 20 + 60
			Packet{SrcMAC: mac1, DstMAC: mac2, HasMAC: true, IPVersion: 4, Src: a4, Dst: b4, Proto: 4, TTL: 64, IPLen: 80, FragID: 1}},
		{"6in4 stays outer", DecapVXLAN, LinkEthernet, ethHdr + "08 00" +
			"45 00 00 44  00 02 00 00  40 29 00 00  0a 00 01 0a  c6 33 64 07" + v6("00 08", "11") + "00 35 00 35 00 08 00 00", OK, // 20 + 48
			Packet{SrcMAC: mac1, DstMAC: mac2, HasMAC: true, IPVersion: 4, Src: a4, Dst: b4, Proto: 41, TTL: 64, IPLen: 68, FragID: 2}},
		{"4in6 stays outer", DecapVXLAN, LinkEthernet, ethHdr + "86 dd" + v6("00 3c", "04") + ipv4SYN, OK, // 40 + 60
			Packet{SrcMAC: mac1, DstMAC: mac2, HasMAC: true, IPVersion: 6, Src: a6, Dst: b6, Proto: 4, TTL: 64, IPLen: 100}},
		{"gre stays outer", DecapVXLAN, LinkEthernet, ethHdr + "08 00" +
			"45 00 00 18  00 00 00 00  40 2f 00 00  0a 00 01 0a  c6 33 64 07  00 00 08 00", OK,
			Packet{SrcMAC: mac1, DstMAC: mac2, HasMAC: true, IPVersion: 4, Src: a4, Dst: b4, Proto: 47, TTL: 64, IPLen: 24}},
		// VXLAN: the outer UDP datagram unless asked.
		{"vxlan stays outer by default", 0, LinkEthernet, mirrorV4, OK,
			Packet{SrcMAC: routerMACb, DstMAC: [6]byte{2, 0, 0, 0, 0, 3}, HasMAC: true, IPVersion: 4, Src: srcENI, Dst: target,
				Proto: 17, TTL: 64, IPLen: 110, HasPorts: true, SrcPort: 50000, DstPort: 4789, FragID: 42}},
		// One VXLAN header is opened: the packet inside is reported even if
		// it is VXLAN again.
		{"vxlan inside vxlan is opened once", DecapVXLAN, LinkEthernet, collector + "08 00" +
			"45 00 00 a0  00 2b 00 00  40 11 00 00  0a 00 01 0a  0a 00 02 14" + // 20 + 140
			"c3 52 12 b5  00 8c 00 00" + "08 00 00 00  00 00 7b 00" + // 8 + 8 + 124
			ethHdr + "08 00" + mirrorV4[len(collector+"08 00"):], OK, // 14 + the 110-byte datagram of mirrorV4
			Packet{SrcMAC: mac1, DstMAC: mac2, HasMAC: true, IPVersion: 4, Src: srcENI, Dst: target, Proto: 17, TTL: 64, IPLen: 110,
				HasPorts: true, SrcPort: 50000, DstPort: 4789, FragID: 42, Encap: EncapVXLAN, VNI: 123, TunnelSrc: srcENI, TunnelDst: target}},
		// A later fragment of a datagram to 4789 has no UDP header: the
		// decoder cannot tell it is VXLAN, so it stays the outer packet.
		{"later fragment of an outer datagram stays outer", DecapVXLAN, LinkEthernet, collector + "08 00" +
			"45 00 00 30  00 2a 00 b9  40 11 00 00  0a 00 01 0a  0a 00 02 14" + strings.Repeat("00 ", 28), OK,
			Packet{SrcMAC: routerMACb, DstMAC: [6]byte{2, 0, 0, 0, 0, 3}, HasMAC: true, IPVersion: 4, Src: srcENI, Dst: target,
				Proto: 17, TTL: 64, IPLen: 48, Fragment: true, FragOffset: 1480, FragID: 42}},
		{"udp from port 4789 is not vxlan", DecapVXLAN, LinkEthernet, collector + "08 00" +
			"45 00 00 1c  00 2a 00 00  40 11 00 00  0a 00 01 0a  0a 00 02 14" + "12 b5 c3 50 00 08 00 00", OK,
			Packet{SrcMAC: routerMACb, DstMAC: [6]byte{2, 0, 0, 0, 0, 3}, HasMAC: true, IPVersion: 4, Src: srcENI, Dst: target,
				Proto: 17, TTL: 64, IPLen: 28, HasPorts: true, SrcPort: 4789, DstPort: 50000, FragID: 42}},
	}
}

// encapBadCases only check the reason (and the encapsulations seen).
var encapBadCases = []struct {
	name   string
	decap  Decap
	lt     LinkType
	frame  string
	reason Reason
	encap  Encap
}{
	{"pppoe discovery", 0, LinkEthernet, ethHdr + "88 63 11 09 00 00 00 04 01 01 00 00", NotIP, 0},
	{"pppoe lcp", 0, LinkEthernet, ethHdr + "88 64 11 00 00 2a 00 06 c0 21 01 01 00 04", NotIP, EncapPPPoE},
	{"pppoe length shorter than the ip header", 0, LinkEthernet, ethHdr + "88 64 11 00 00 2a 00 10 00 21" + ipv4SYN, Truncated, EncapPPPoE},
	{"pppoe header cut", 0, LinkEthernet, ethHdr + "88 64 11 00 00", Truncated, EncapPPPoE},
	{"pppoe without ppp protocol", 0, LinkEthernet, ethHdr + "88 64 11 00 00 2a 00 00", Truncated, EncapPPPoE},
	{"ppp protocol cut", 0, LinkEthernet, ethHdr + "88 64 11 00 00 2a 00 01 00", Truncated, EncapPPPoE},
	{"pppoe ipv4 header cut", 0, LinkEthernet, ethHdr + pppoeIPv4 + "45 00 00 3c", Truncated, EncapPPPoE},
	{"mpls stack without bottom", 0, LinkEthernet, ethHdr + "88 47" + mpls1000 + mpls1000, Truncated, EncapMPLS},
	{"mpls with nothing after the stack", 0, LinkEthernet, ethHdr + "88 47" + mplsS100, Truncated, EncapMPLS},
	{"mpls label cut", 0, LinkEthernet, ethHdr + "88 47 00 06", Truncated, EncapMPLS},
	{"mpls associated channel", 0, LinkEthernet, ethHdr + "88 47 00 00 d1 40 10 00 00 21 00 00 00 00", NotIP, EncapMPLS},
	{"mpls payload of unknown type", 0, LinkEthernet, ethHdr + "88 47" + mplsS100 + "50 00 00 00", NotIP, EncapMPLS},
	{"mpls ipv4 with a bad header length", 0, LinkEthernet, ethHdr + "88 47" + mplsS100 + "44" + ipv4SYN[2:], BadIPHeader, EncapMPLS},
	{"pseudowire control word cut", 0, LinkEthernet, ethHdr + "88 47" + mplsS100 + "00 00", Truncated, EncapMPLS | EncapPseudowire},
	{"pseudowire inner frame cut", 0, LinkEthernet, ethHdr + "88 47" + mplsS100 + "00 00 00 00 0a 1b 2c 3d 4e 5f 02", Truncated, EncapMPLS | EncapPseudowire},
	{"pseudowire carrying arp", 0, LinkEthernet, ethHdr + "88 47" + mplsS100 + "00 00 00 00" + ethHdr + "08 06 00 01 08 00 06 04 00 01", NotIP, EncapMPLS | EncapPseudowire},
	{"pseudowire inside a pseudowire is not opened", 0, LinkEthernet, ethHdr + "88 47" + mplsS100 + "00 00 00 00" + ethHdr + "88 47" + mplsS100 + "00 00 00 00" + ethHdr + "08 00" + ipv4SYN,
		NotIP, EncapMPLS | EncapPseudowire},
	{"ppp link lcp", 0, LinkPPP, "ff 03 c0 21 01 01 00 04", NotIP, 0},
	{"ppp link empty", 0, LinkPPP, "", Truncated, 0},
	{"ppp link framing only", 0, LinkPPP, "ff 03", Truncated, 0},
	{"vxlan without the I flag", DecapVXLAN, LinkEthernet, strings.Replace(mirrorV4, "08 00 00 00  00 00 7b 00", "00 00 00 00  00 00 7b 00", 1), BadEncap, EncapVXLAN},
	{"vxlan header cut", DecapVXLAN, LinkEthernet, cut(mirrorV4, 14+20+8+4), Truncated, EncapVXLAN},
	{"vxlan inner frame cut in its ip header", DecapVXLAN, LinkEthernet, cut(mirrorV4, 14+20+8+8+14+10), Truncated, EncapVXLAN},
	{"vxlan carrying arp", DecapVXLAN, LinkEthernet, collector + "08 00" +
		"45 00 00 40  00 2a 00 00  40 11 00 00  0a 00 01 0a  0a 00 02 14" + // 20 + 44
		"c3 50 12 b5  00 2c 00 00" + "08 00 00 00  00 00 7b 00" + // 8 + 8 + 28
		ethHdr + "08 06 00 01 08 00 06 04 00 01 02 00 00 00 00 01", NotIP, EncapVXLAN},
}

func TestDecodeEncapsulations(t *testing.T) {
	runEncapCases(t, encapLayoutCases())
	for _, c := range encapBadCases {
		t.Run(c.name, func(t *testing.T) {
			var p Packet
			if r := (Decoder{Decap: c.decap}).Decode(c.lt, hx(c.frame), &p); r != c.reason || p.Encap != c.encap {
				t.Fatalf("reason %v, encap %v; want %v, %v", r, p.Encap, c.reason, c.encap)
			}
		})
	}
}

func TestDecodeEncapChoice(t *testing.T) {
	runEncapCases(t, encapChoiceCases())
}

func runEncapCases(t *testing.T, cases []encapCase) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var p Packet
			p.SrcPort, p.VNI = 999, 7 // leftovers of the previous packet must go
			if r := (Decoder{Decap: c.decap}).Decode(c.lt, hx(c.frame), &p); r != c.reason {
				t.Fatalf("reason %v, want %v (%+v)", r, c.reason, p)
			}
			if p != c.want {
				t.Fatalf("got  %+v\nwant %+v", p, c.want)
			}
			if c.decap == 0 {
				// the package-level Decode is the zero Decoder
				var q Packet
				if Decode(c.lt, hx(c.frame), &q); q != p {
					t.Fatalf("Decode %+v\nDecoder{} %+v", q, p)
				}
			}
		})
	}
}

// TestDecapOnlyChangesVXLAN: opening VXLAN changes the outcome of no frame
// but those with UDP to port 4789, so a capture without mirrored traffic
// gives the same records with --decap vxlan.
func TestDecapOnlyChangesVXLAN(t *testing.T) {
	var frames []encapCase
	for _, c := range append(decodeCases(), choiceCases()...) {
		frames = append(frames, encapCase{name: c.name, lt: c.lt, frame: c.frame})
	}
	for _, c := range encapCases() {
		frames = append(frames, encapCase{name: c.name, lt: c.lt, frame: c.frame})
	}
	for _, c := range frames {
		var plain, decap Packet
		r1 := Decode(c.lt, hx(c.frame), &plain)
		r2 := Decoder{Decap: DecapVXLAN}.Decode(c.lt, hx(c.frame), &decap)
		vxlan := r1.HasIP() && plain.Proto == ProtoUDP && plain.HasPorts && plain.DstPort == 4789
		if !vxlan && (r1 != r2 || plain != decap) {
			t.Errorf("%s: %v %+v\nwith decap %v %+v", c.name, r1, plain, r2, decap)
		}
		if vxlan && decap.Encap&EncapVXLAN == 0 {
			t.Errorf("%s: not opened", c.name)
		}
	}
}

func TestEncapNames(t *testing.T) {
	if s := (EncapMPLS | EncapPseudowire).String(); s != "mpls+pseudowire" {
		t.Fatal(s)
	}
	if Encap(0).String() != "none" || EncapVXLAN.String() != "vxlan" || EncapPPPoE.String() != "pppoe" {
		t.Fatal("names")
	}
	var c EncapCounters
	c.Add(0)
	c.Add(EncapMPLS | EncapPseudowire)
	c.Add(EncapVXLAN)
	if c.Frames != 2 || c.String() != "mpls=1 pseudowire=1 vxlan=1" {
		t.Fatalf("%d %s", c.Frames, c.String())
	}
	if (&EncapCounters{}).String() != "none" {
		t.Fatal("empty")
	}
	for _, tc := range []struct {
		in   string
		want Decap
		err  string
	}{
		{"", 0, ""}, {"none", 0, ""}, {"vxlan", DecapVXLAN, ""}, {"VXLAN", DecapVXLAN, ""}, {"vxlan,vxlan", DecapVXLAN, ""},
		{"geneve", 0, `unknown tunnel "geneve": want vxlan or none`},
		{"vxlan,gre", 0, `unknown tunnel "gre": want vxlan or none`},
	} {
		d, err := ParseDecap(tc.in)
		if d != tc.want || (err == nil) != (tc.err == "") || err != nil && err.Error() != tc.err {
			t.Errorf("ParseDecap(%q) = %v, %v", tc.in, d, err)
		}
	}
	if DecapVXLAN.String() != "vxlan" || Decap(0).String() != "none" {
		t.Fatal("decap names")
	}
	if LinkPPP.String() != "PPP" || !LinkPPP.Supported() {
		t.Fatal("ppp link type")
	}
}

func TestDecodeEncapsulationsDoNotAllocate(t *testing.T) {
	cases := encapCases()
	var frames [][]byte
	for _, c := range cases {
		frames = append(frames, hx(c.frame))
	}
	var p Packet
	allocs := testing.AllocsPerRun(100, func() {
		for i, f := range frames {
			Decoder{Decap: cases[i].decap}.Decode(cases[i].lt, f, &p)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations", allocs)
	}
}

// EncapFrame is a frame of the encapsulation tables, exported for the
// cross-checks with gopacket and tshark in package packet_test.
type EncapFrame struct {
	Name   string
	Decap  Decap
	LT     LinkType
	Data   []byte
	Reason Reason
}

// EncapFrames returns every frame of encapCases and encapBadCases.
func EncapFrames() []EncapFrame {
	var out []EncapFrame
	for _, c := range encapCases() {
		out = append(out, EncapFrame{c.name, c.decap, c.lt, hx(c.frame), c.reason})
	}
	for _, c := range encapBadCases {
		out = append(out, EncapFrame{c.name, c.decap, c.lt, hx(c.frame), c.reason})
	}
	return out
}
