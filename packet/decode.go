package packet

import (
	"encoding/binary"
	"net/netip"
)

const (
	etherIPv4   = 0x0800
	etherIPv6   = 0x86DD
	etherVLAN   = 0x8100 // 802.1Q
	etherQinQ   = 0x88A8 // 802.1ad service tag
	etherQinQv1 = 0x9100 // pre-standard QinQ, still seen on switches
	etherPPPoE  = 0x8864 // PPPoE session stage (RFC 2516); 0x8863, discovery, carries no IP
	etherMPLS   = 0x8847 // MPLS unicast (RFC 3032)
	etherMPLSmc = 0x8848 // MPLS multicast (RFC 5332)
)

// Address families of the NULL/LOOP link types. IPv6 differs by OS: the BSDs
// disagree, so every known value is accepted.
const (
	afInet       = 2
	afInet6Linux = 10
	afInet6BSD   = 24 // NetBSD, OpenBSD
	afInet6BSDi  = 28 // FreeBSD
	afInet6Apple = 30 // macOS
)

var be = binary.BigEndian

// opts are what a decoder may still open, passed down the layers: each
// tunnel is opened at most once per frame, which bounds the nesting.
type opts uint8

const (
	optVXLAN opts = 1 << iota // open VXLAN (UDP to port 4789)
	optNoPW                   // a pseudowire was opened: do not open another
)

// Decode decodes one frame of the given link type into p and returns the
// outcome, opening no IP tunnel (Decoder{}.Decode). It never allocates and
// never panics; p is fully overwritten, and after a Reason other than OK or
// L4Truncated its IP fields must be ignored.
func Decode(lt LinkType, data []byte, p *Packet) Reason {
	return decode(lt, data, p, 0)
}

// Decoder decodes frames as Decode does, opening the IP tunnels of Decap.
// The zero Decoder is Decode.
type Decoder struct {
	// Decap lists the IP tunnels whose inner packet is reported instead of
	// the outer one.
	Decap Decap
}

// Decode decodes one frame as the package-level Decode does, opening the
// tunnels of d.Decap.
func (d Decoder) Decode(lt LinkType, data []byte, p *Packet) Reason {
	var o opts
	if d.Decap&DecapVXLAN != 0 {
		o |= optVXLAN
	}
	return decode(lt, data, p, o)
}

func decode(lt LinkType, data []byte, p *Packet, o opts) Reason {
	*p = Packet{}
	switch lt {
	case LinkEthernet:
		if len(data) >= 14 && data[12] == 0x08 && data[13] == 0x00 {
			// Untagged IPv4, most frames of most captures: where
			// decodeEthernet and decodeEtherType lead, two calls sooner.
			p.DstMAC, p.SrcMAC, p.HasMAC = [6]byte(data[0:6]), [6]byte(data[6:12]), true
			return decodeIPv4(data[14:], p, o)
		}
		return decodeEthernet(data, p, o)
	case LinkPPP:
		// RFC 1662 framing starts with address ff and control 03; without
		// it, the frame starts with the protocol.
		if len(data) >= 2 && data[0] == 0xff && data[1] == 0x03 {
			data = data[2:]
		}
		return decodePPP(data, p, o)
	case LinkRaw, linkRawDLT12, linkRawDLT14:
		if len(data) == 0 {
			return Truncated
		}
		switch data[0] >> 4 {
		case 4:
			return decodeIPv4(data, p, o)
		case 6:
			return decodeIPv6(data, p, o)
		}
		return BadIPHeader
	case LinkIPv4:
		return decodeIPv4(data, p, o)
	case LinkIPv6:
		return decodeIPv6(data, p, o)
	case LinkLinuxSLL:
		// packet type(2) ARPHRD(2) addr len(2) addr(8) protocol(2)
		if len(data) < 16 {
			return Truncated
		}
		return decodeCooked(be.Uint16(data[2:4]), be.Uint16(data[14:16]), data[16:], p, o)
	case LinkLinuxSLL2:
		// protocol(2) reserved(2) ifindex(4) ARPHRD(2) packet type(1) addr len(1) addr(8)
		if len(data) < 20 {
			return Truncated
		}
		return decodeCooked(be.Uint16(data[8:10]), be.Uint16(data[0:2]), data[20:], p, o)
	case LinkNull, LinkLoop:
		if len(data) < 4 {
			return Truncated
		}
		var family uint32
		if lt == LinkLoop {
			family = be.Uint32(data)
		} else {
			// Host byte order of the capturing machine, which the file does
			// not record: a family is a small number, so the order that gives
			// one is the right one.
			family = binary.LittleEndian.Uint32(data)
			if family > 0xFFFF {
				family = be.Uint32(data)
			}
		}
		switch family {
		case afInet:
			return decodeIPv4(data[4:], p, o)
		case afInet6Linux, afInet6BSD, afInet6BSDi, afInet6Apple:
			return decodeIPv6(data[4:], p, o)
		}
		return NotIP
	}
	return UnsupportedLink
}

func decodeEthernet(data []byte, p *Packet, o opts) Reason {
	if len(data) < 14 {
		return Truncated
	}
	copy(p.DstMAC[:], data[0:6])
	copy(p.SrcMAC[:], data[6:12])
	p.HasMAC = true
	return decodeEtherType(be.Uint16(data[12:14]), data[14:], p, o)
}

// decodeCooked handles the Linux cooked headers: the protocol field is an
// EtherType unless the device type says otherwise (netlink, CAN, ...).
func decodeCooked(arphrd, proto uint16, data []byte, p *Packet, o opts) Reason {
	const arphrdNetlink = 824
	if arphrd == arphrdNetlink {
		return NotIP
	}
	return decodeEtherType(proto, data, p, o)
}

// decodeEtherType walks VLAN tags, then hands IP, PPPoE and MPLS to their
// decoders. An EtherType below 0x0600 is an 802.3 length (LLC frames: STP,
// ...), not IP.
func decodeEtherType(et uint16, data []byte, p *Packet, o opts) Reason {
	for et == etherVLAN || et == etherQinQ || et == etherQinQv1 {
		if len(data) < 4 {
			return Truncated
		}
		vid := be.Uint16(data[0:2]) & 0x0FFF
		switch p.VLANTags {
		case 0:
			p.VLAN = vid
		case 1:
			p.InnerVLAN = vid
		}
		if p.VLANTags < 255 {
			p.VLANTags++
		}
		et = be.Uint16(data[2:4])
		data = data[4:]
	}
	switch et {
	case etherIPv4:
		return decodeIPv4(data, p, o)
	case etherIPv6:
		return decodeIPv6(data, p, o)
	case etherPPPoE:
		return decodePPPoE(data, p, o)
	case etherMPLS, etherMPLSmc:
		return decodeMPLS(data, p, o)
	}
	return NotIP
}

func decodeIPv4(data []byte, p *Packet, o opts) Reason {
	if len(data) < 20 {
		return Truncated
	}
	if data[0]>>4 != 4 {
		return BadIPHeader
	}
	ihl := int(data[0]&0x0F) * 4
	total := int(be.Uint16(data[2:4]))
	if ihl < 20 || total < ihl {
		return BadIPHeader
	}
	if len(data) < ihl {
		return Truncated
	}
	p.IPVersion = 4
	p.IPLen = uint32(total)
	p.FragID = uint32(be.Uint16(data[4:6]))
	ff := be.Uint16(data[6:8])
	p.MoreFragments = ff&0x2000 != 0
	p.FragOffset = uint32(ff&0x1FFF) * 8
	p.Fragment = p.MoreFragments || p.FragOffset != 0
	p.TTL = data[8]
	p.Proto = data[9]
	p.Src = netip.AddrFrom4([4]byte(data[12:16]))
	p.Dst = netip.AddrFrom4([4]byte(data[16:20]))
	if p.FragOffset != 0 {
		return OK
	}
	// Ethernet pads short frames; the transport header ends where IP says.
	if total < len(data) {
		data = data[:total]
	}
	return decodeL4(data[ihl:], p, o)
}

// IPv6 extension headers that Decode walks through (RFC 8200 order).
const (
	ipv6HopByHop = 0
	ipv6Routing  = 43
	ipv6Fragment = 44
	ipv6AH       = 51
	ipv6DestOpts = 60
)

func decodeIPv6(data []byte, p *Packet, o opts) Reason {
	if len(data) < 40 {
		return Truncated
	}
	if data[0]>>4 != 6 {
		return BadIPHeader
	}
	plen := int(be.Uint16(data[4:6]))
	p.IPVersion = 6
	p.IPLen = 40 + uint32(plen)
	p.TTL = data[7]
	p.Src = netip.AddrFrom16([16]byte(data[8:24]))
	p.Dst = netip.AddrFrom16([16]byte(data[24:40]))
	next := data[6]
	// The extension headers and the transport header lie within the payload
	// length; anything after it is link-layer padding.
	rest := data[40:]
	cut := len(rest) < plen // snap length shorter than the packet
	if plen < len(rest) {
		rest = rest[:plen]
	}
	for {
		switch next {
		case ipv6HopByHop, ipv6Routing, ipv6DestOpts, ipv6AH, ipv6Fragment:
		default:
			p.Proto = next
			return decodeL4(rest, p, o)
		}
		if len(rest) < 8 {
			return extTruncated(cut, next, rest, p)
		}
		var hlen int
		switch next {
		case ipv6Fragment:
			hlen = 8
			ff := be.Uint16(rest[2:4])
			p.Fragment = true
			p.FragOffset = uint32(ff &^ 7)
			p.MoreFragments = ff&1 != 0
			p.FragID = be.Uint32(rest[4:8])
		case ipv6AH:
			hlen = (int(rest[1]) + 2) * 4
		default:
			hlen = (int(rest[1]) + 1) * 8
		}
		if len(rest) < hlen {
			return extTruncated(cut, next, rest, p)
		}
		next = rest[0]
		rest = rest[hlen:]
		if p.FragOffset != 0 {
			// A non-first fragment: what follows is the middle of a payload.
			p.Proto = next
			return OK
		}
	}
}

// extTruncated classifies an extension header that does not fit: cut by the
// snap length, the IP fields are still good; inside a complete packet, the
// header lies about its length. Proto is the last Next Header value that
// could be read, as tshark reports it.
func extTruncated(cut bool, next uint8, rest []byte, p *Packet) Reason {
	p.Proto = next
	if len(rest) > 0 {
		p.Proto = rest[0]
	}
	if cut {
		return L4Truncated
	}
	return BadExtHeader
}

// decodeL4 reads ports, TCP flags or ICMP type/code from the transport header,
// and opens VXLAN when asked to.
func decodeL4(data []byte, p *Packet, o opts) Reason {
	switch p.Proto {
	case ProtoTCP:
		if len(data) >= 4 {
			p.SrcPort = be.Uint16(data[0:2])
			p.DstPort = be.Uint16(data[2:4])
			p.HasPorts = true
		}
		if len(data) < 14 {
			return L4Truncated
		}
		p.TCPFlags = data[13]
	case ProtoUDP, ProtoSCTP:
		if len(data) < 4 {
			return L4Truncated
		}
		p.SrcPort = be.Uint16(data[0:2])
		p.DstPort = be.Uint16(data[2:4])
		p.HasPorts = true
		if o&optVXLAN != 0 && p.DstPort == vxlanPort && p.Proto == ProtoUDP {
			return decodeVXLAN(data, p, o)
		}
	case ProtoICMP, ProtoICMPv6:
		if len(data) < 2 {
			return L4Truncated
		}
		p.ICMPType = data[0]
		p.ICMPCode = data[1]
		p.HasICMP = true
	}
	return OK
}
