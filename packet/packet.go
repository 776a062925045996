// Package packet decodes captured frames into the few header fields a flow
// log needs (addresses, ports, protocol, TCP flags, ICMP type, IP length).
//
// It exists because decoding is the hot path of the pipeline: a hand-written
// offset parser into one flat, reusable struct is several times faster than a
// general layer decoder and allocates nothing. Malformed input is never an
// error or a panic, it is a Reason.
//
// Link-layer encapsulations are opened to the IP packet they carry: PPPoE
// sessions, MPLS label stacks and Ethernet pseudowires over MPLS (see Encap).
// IP tunnels (GRE, IP-in-IP, 6in4, VXLAN, ...) are reported as their outer
// packet, the way AWS logs them, unless a Decoder is asked to open VXLAN
// (DecapVXLAN), for captures of AWS Traffic Mirroring (docs/aws-behaviour.md,
// "Encapsulations and Traffic Mirroring"; docs/pcap-to-flowlogs.md,
// "Decoding").
package packet

import (
	"net/netip"
)

// LinkType is a pcap LINKTYPE_ value: the link-layer header a frame starts with.
type LinkType uint16

// Link types understood by Decode.
const (
	LinkNull      LinkType = 0   // BSD loopback, 4-byte address family in the capturing host's byte order
	LinkEthernet  LinkType = 1   // Ethernet II, with optional 802.1Q/802.1ad tags
	LinkPPP       LinkType = 9   // PPP (RFC 1661), with or without the HDLC-like address and control bytes ff 03
	LinkRaw       LinkType = 101 // raw IP; version from the first nibble
	LinkLoop      LinkType = 108 // OpenBSD loopback, 4-byte address family in network byte order
	LinkLinuxSLL  LinkType = 113 // Linux cooked capture v1 (16-byte header)
	LinkIPv4      LinkType = 228 // raw IPv4
	LinkIPv6      LinkType = 229 // raw IPv6
	LinkLinuxSLL2 LinkType = 276 // Linux cooked capture v2 (20-byte header)

	// Old files carry the platform DLT_RAW numbers instead of LINKTYPE_RAW.
	linkRawDLT12 LinkType = 12
	linkRawDLT14 LinkType = 14
)

// String returns the libpcap name of the link type.
func (l LinkType) String() string {
	switch l {
	case LinkNull:
		return "NULL"
	case LinkEthernet:
		return "EN10MB"
	case LinkPPP:
		return "PPP"
	case LinkRaw, linkRawDLT12, linkRawDLT14:
		return "RAW"
	case LinkLoop:
		return "LOOP"
	case LinkLinuxSLL:
		return "LINUX_SLL"
	case LinkIPv4:
		return "IPV4"
	case LinkIPv6:
		return "IPV6"
	case LinkLinuxSLL2:
		return "LINUX_SLL2"
	}
	return "LINKTYPE_" + itoa(uint64(l))
}

// Supported reports whether Decode understands frames of this link type.
func (l LinkType) Supported() bool {
	switch l {
	case LinkNull, LinkEthernet, LinkPPP, LinkRaw, LinkLoop, LinkLinuxSLL, LinkIPv4, LinkIPv6, LinkLinuxSLL2,
		linkRawDLT12, linkRawDLT14:
		return true
	}
	return false
}

// IP protocol numbers Decode looks into.
const (
	ProtoICMP   = 1
	ProtoTCP    = 6
	ProtoUDP    = 17
	ProtoICMPv6 = 58
	ProtoSCTP   = 132
)

// TCP flag bits as they appear in byte 13 of the TCP header; the flow log's
// tcp-flags field uses the same values (docs/aws-behaviour.md, "TCP flags").
const (
	TCPFin = 0x01
	TCPSyn = 0x02
	TCPRst = 0x04
	TCPPsh = 0x08
	TCPAck = 0x10
	TCPUrg = 0x20
	TCPEce = 0x40
	TCPCwr = 0x80
)

// Packet is the flat result of Decode. Decode overwrites every field, so one
// Packet can be reused for a whole capture.
type Packet struct {
	// SrcMAC and DstMAC are set when HasMAC (Ethernet frames only; Linux
	// cooked and raw IP captures have no destination MAC). They are those of
	// the Ethernet frame that carries the IP packet: the inner frame of a
	// pseudowire or of an opened VXLAN tunnel, the outer one otherwise.
	SrcMAC, DstMAC [6]byte
	HasMAC         bool
	// VLAN is the VLAN ID of the outermost 802.1Q/802.1ad tag and InnerVLAN
	// that of the second one (QinQ); VLANTags counts the tags (0 = untagged).
	// Like the MACs, they are those of the frame that carries the IP packet.
	VLAN, InnerVLAN uint16
	VLANTags        uint8

	// Encap lists the encapsulations opened to reach the IP packet (0: none).
	Encap Encap
	// VNI is the VXLAN Network Identifier of an opened VXLAN tunnel, and
	// TunnelSrc, TunnelDst the addresses of the outer IP packet (for AWS
	// Traffic Mirroring: the source interface's primary address and the
	// mirror target's). Set when Encap has EncapVXLAN.
	VNI                  uint32
	TunnelSrc, TunnelDst netip.Addr

	IPVersion uint8 // 4 or 6
	Src, Dst  netip.Addr
	// Proto is the upper-layer protocol: for IPv6 the Next Header after the
	// extension headers (hop-by-hop, routing, fragment, destination options, AH).
	Proto uint8
	TTL   uint8 // IPv4 TTL or IPv6 hop limit
	// IPLen is the IP-layer length AWS counts in `bytes`: the IPv4
	// Total Length, or 40 + Payload Length for IPv6. It comes from the header,
	// so a frame cut by the snap length still counts in full.
	IPLen uint32

	// HasPorts is true when SrcPort and DstPort were read: TCP, UDP or SCTP,
	// not a non-first fragment.
	HasPorts         bool
	SrcPort, DstPort uint16
	TCPFlags         uint8 // FIN..CWR, see the TCP* constants
	// ICMPType and ICMPCode are set for ICMP and ICMPv6 (HasICMP).
	HasICMP            bool
	ICMPType, ICMPCode uint8

	// Fragment fields. FragID is the IPv4 Identification (also set on
	// unfragmented IPv4 packets) or the IPv6 Fragment header's Identification.
	// FragOffset is in bytes. A packet is a fragment when FragOffset != 0 or
	// MoreFragments; only the first fragment (offset 0) carries ports.
	Fragment      bool
	MoreFragments bool
	FragOffset    uint32
	FragID        uint32
}

// IsFirstFragment reports whether p is the first fragment of a fragmented
// datagram (the one that carries the transport header).
func (p *Packet) IsFirstFragment() bool { return p.Fragment && p.FragOffset == 0 }

// Reason is the outcome of Decode. Everything except OK and L4Truncated means
// the IP fields of the Packet are not valid.
type Reason uint8

const (
	// OK: every field that applies to the packet was decoded.
	OK Reason = iota
	// L4Truncated: the IP header is valid (addresses, Proto, IPLen and the
	// fragment fields are set) but the transport header was cut short, so
	// ports, TCP flags or ICMP type may be missing (HasPorts/HasICMP say which).
	L4Truncated
	// NotIP: a well-formed frame that does not carry IP (ARP, LLDP, STP, ...).
	NotIP
	// UnsupportedLink: the capture's link type is not one Decode knows.
	UnsupportedLink
	// Truncated: the frame ends inside the link-layer or IP header.
	Truncated
	// BadIPHeader: the IP header is inconsistent (version, header length,
	// total length smaller than the header).
	BadIPHeader
	// BadExtHeader: an IPv6 extension header runs past the packet's length.
	BadExtHeader
	// BadEncap: an encapsulation header Decode was asked to open is
	// inconsistent: a VXLAN header without its valid-VNI (I) flag, which
	// the Linux kernel drops too.
	BadEncap

	// NumReasons is the number of Reason values, for arrays indexed by Reason.
	NumReasons
)

var reasonNames = [NumReasons]string{
	OK:              "ok",
	L4Truncated:     "l4-truncated",
	NotIP:           "not-ip",
	UnsupportedLink: "unsupported-link-type",
	Truncated:       "truncated",
	BadIPHeader:     "bad-ip-header",
	BadExtHeader:    "bad-ipv6-extension-header",
	BadEncap:        "bad-encapsulation-header",
}

// String returns a short kebab-case name, suitable for summaries and metric labels.
func (r Reason) String() string {
	if r < NumReasons {
		return reasonNames[r]
	}
	return "reason-" + itoa(uint64(r))
}

// HasIP reports whether the IP-level fields of a Packet decoded with this
// outcome are valid, that is whether the packet counts in a flow.
func (r Reason) HasIP() bool { return r == OK || r == L4Truncated }

// Counters counts Decode outcomes by reason. The zero value is ready; it is
// not safe for concurrent use (keep one per goroutine and Merge them).
type Counters [NumReasons]uint64

// Add counts one outcome.
func (c *Counters) Add(r Reason) {
	if r < NumReasons {
		c[r]++
	}
}

// Merge adds the counts of o to c.
func (c *Counters) Merge(o *Counters) {
	for i := range c {
		c[i] += o[i]
	}
}

// Total is the number of outcomes counted.
func (c *Counters) Total() uint64 {
	var t uint64
	for _, n := range c {
		t += n
	}
	return t
}

// Skipped is the number of frames that did not yield IP fields.
func (c *Counters) Skipped() uint64 { return c.Total() - c[OK] - c[L4Truncated] }

// String lists the non-zero counts, e.g. "ok=10 not-ip=2".
func (c *Counters) String() string {
	var b []byte
	for i, n := range c {
		if n == 0 {
			continue
		}
		if len(b) > 0 {
			b = append(b, ' ')
		}
		b = append(b, reasonNames[i]...)
		b = append(b, '=')
		b = append(b, itoa(n)...)
	}
	if b == nil {
		return "none"
	}
	return string(b)
}

func itoa(n uint64) string {
	var buf [20]byte
	i := len(buf)
	for {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return string(buf[i:])
}
