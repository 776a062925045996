package packet

import (
	"errors"
	"strconv"
	"strings"
)

// Encap is a set of encapsulations Decode opened to reach the IP packet of
// a frame.
type Encap uint8

// Encapsulations Decode opens. PPPoE, MPLS and Ethernet pseudowires are
// link-layer framings, always opened; VXLAN is an IP tunnel, opened only
// when a Decoder asks for it (DecapVXLAN).
const (
	// EncapPPPoE: a PPPoE session frame (EtherType 0x8864, RFC 2516)
	// carrying PPP protocol 0x0021 (IPv4), 0x0057 (IPv6) or 0x0281/0x0283
	// (MPLS).
	EncapPPPoE Encap = 1 << iota
	// EncapMPLS: an MPLS label stack (EtherType 0x8847 or 0x8848, RFC 3032)
	// down to the bottom-of-stack entry. The payload carries no type: it is
	// IPv4 when its first nibble is 4, IPv6 when 6 (as tshark and gopacket
	// guess), an Ethernet pseudowire when 0.
	EncapMPLS
	// EncapPseudowire: an Ethernet pseudowire over MPLS with its control
	// word (RFC 4448, RFC 4385: the 4-byte word starts with nibble 0), then
	// the Ethernet frame it carries.
	EncapPseudowire
	// EncapVXLAN: a VXLAN header (RFC 7348) after UDP to port 4789, then the
	// Ethernet frame it carries. AWS Traffic Mirroring sends mirrored
	// packets this way.
	EncapVXLAN

	// NumEncaps is the number of Encap bits.
	NumEncaps = iota
)

var encapNames = [NumEncaps]string{"pppoe", "mpls", "pseudowire", "vxlan"}

// String names the encapsulations in the order of the constants, joined by
// '+' ("mpls+pseudowire"); "none" for the empty set.
func (e Encap) String() string {
	if e == 0 {
		return "none"
	}
	var parts []string
	for i, n := range encapNames {
		if e&(1<<i) != 0 {
			parts = append(parts, n)
		}
	}
	return strings.Join(parts, "+")
}

// EncapCounters counts frames by the encapsulations Decode opened in them,
// whatever the outcome. Not safe for concurrent use.
type EncapCounters struct {
	Frames uint64 // frames with at least one encapsulation
	// ByKind counts the frames of each encapsulation, indexed by bit number
	// (EncapPPPoE is 0); a frame counts once under each it had.
	ByKind [NumEncaps]uint64
}

// Add counts the encapsulations of one frame; e == 0 counts nothing.
func (c *EncapCounters) Add(e Encap) {
	if e == 0 {
		return
	}
	c.Frames++
	for i := range c.ByKind {
		if e&(1<<i) != 0 {
			c.ByKind[i]++
		}
	}
}

// String lists the non-zero counts by kind, e.g. "pppoe=2 vxlan=5"; "none"
// when no frame was counted.
func (c *EncapCounters) String() string {
	var b []byte
	for i, n := range c.ByKind {
		if n == 0 {
			continue
		}
		if len(b) > 0 {
			b = append(b, ' ')
		}
		b = append(b, encapNames[i]...)
		b = append(b, '=')
		b = append(b, itoa(n)...)
	}
	if b == nil {
		return "none"
	}
	return string(b)
}

// Decap is a set of IP tunnels a Decoder opens, reporting the inner packet
// instead of the outer one.
type Decap uint8

// IP tunnels a Decoder can open.
const (
	// DecapVXLAN opens UDP datagrams to port 4789 as VXLAN, as AWS Traffic
	// Mirroring sends them to a mirror target. A datagram too short for the
	// VXLAN header is Truncated, one without the I flag BadEncap.
	DecapVXLAN Decap = 1 << iota
)

var decapNames = []struct {
	name string
	d    Decap
}{{"vxlan", DecapVXLAN}}

// ParseDecap reads a comma-separated list of tunnel names ("vxlan"); ""
// and "none" are the empty set.
func ParseDecap(s string) (Decap, error) {
	var d Decap
	if s == "" || s == "none" {
		return 0, nil
	}
	for _, part := range strings.Split(s, ",") {
		part = strings.ToLower(strings.TrimSpace(part))
		found := false
		for _, n := range decapNames {
			if n.name == part {
				d |= n.d
				found = true
			}
		}
		if !found {
			return 0, errors.New("unknown tunnel " + strconv.Quote(part) + ": want vxlan or none")
		}
	}
	return d, nil
}

// String is the comma-separated list ParseDecap reads; "none" for the
// empty set.
func (d Decap) String() string {
	var parts []string
	for _, n := range decapNames {
		if d&n.d != 0 {
			parts = append(parts, n.name)
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ",")
}

const (
	pppIPv4    = 0x0021
	pppIPv6    = 0x0057
	pppMPLS    = 0x0281
	pppMPLSmc  = 0x0283
	vxlanPort  = 4789
	vxlanFlagI = 0x08
)

// decodePPPoE reads a PPPoE session header (RFC 2516: version and type in
// one byte, code, session id, length) and the PPP frame of that length
// after it. Version, type and code are not checked, as the Linux kernel,
// tshark and gopacket do not check them; a length past the end of the
// frame is that of a frame cut by the snap length.
func decodePPPoE(data []byte, p *Packet, o opts) Reason {
	p.Encap |= EncapPPPoE
	if len(data) < 6 {
		return Truncated
	}
	payload := data[6:]
	if n := int(be.Uint16(data[4:6])); n < len(payload) {
		payload = payload[:n] // Ethernet padding
	}
	return decodePPP(payload, p, o)
}

// decodePPP reads the PPP protocol field (RFC 1661: two bytes, or one when
// compressed, which an odd first byte says) and decodes what it carries.
func decodePPP(data []byte, p *Packet, o opts) Reason {
	if len(data) == 0 {
		return Truncated
	}
	proto := uint16(data[0])
	rest := data[1:]
	if proto&1 == 0 {
		if len(data) < 2 {
			return Truncated
		}
		proto = be.Uint16(data[0:2])
		rest = data[2:]
	}
	switch proto {
	case pppIPv4:
		return decodeIPv4(rest, p, o)
	case pppIPv6:
		return decodeIPv6(rest, p, o)
	case pppMPLS, pppMPLSmc:
		return decodeMPLS(rest, p, o)
	}
	return NotIP // LCP, IPCP, PAP, CHAP, ...
}

// decodeMPLS walks an MPLS label stack (4-byte entries: label 20 bits,
// traffic class 3, bottom of stack 1, TTL 8) and guesses the payload from
// its first nibble, the way tshark and gopacket do: 4 IPv4, 6 IPv6, 0 an
// Ethernet pseudowire's control word. Anything else (1 is the associated
// channel of MPLS OAM, RFC 5586) is not IP.
func decodeMPLS(data []byte, p *Packet, o opts) Reason {
	p.Encap |= EncapMPLS
	for {
		if len(data) < 4 {
			return Truncated
		}
		bottom := data[2]&1 != 0
		data = data[4:]
		if bottom {
			break
		}
	}
	if len(data) == 0 {
		return Truncated
	}
	switch data[0] >> 4 {
	case 4:
		return decodeIPv4(data, p, o)
	case 6:
		return decodeIPv6(data, p, o)
	case 0:
		return decodePseudowire(data, p, o)
	}
	return NotIP
}

// decodePseudowire skips an Ethernet pseudowire's control word and decodes
// the frame after it, whose MACs and VLAN tags replace the outer frame's.
// One pseudowire is opened per frame; a second one counts as not IP.
func decodePseudowire(data []byte, p *Packet, o opts) Reason {
	if o&optNoPW != 0 {
		return NotIP
	}
	p.Encap |= EncapPseudowire
	if len(data) < 4 {
		return Truncated
	}
	p.VLAN, p.InnerVLAN, p.VLANTags = 0, 0, 0
	return decodeEthernet(data[4:], p, o|optNoPW)
}

// decodeVXLAN reads the VXLAN header after the UDP header that starts data
// (RFC 7348: flags with I, the valid-VNI bit, set; 24 reserved bits; the
// 24-bit VNI; 8 reserved bits) and decodes the Ethernet frame it carries.
// The inner packet replaces the outer one; the outer addresses are kept
// in TunnelSrc and TunnelDst. One VXLAN header is opened per frame.
func decodeVXLAN(data []byte, p *Packet, o opts) Reason {
	p.Encap |= EncapVXLAN
	if len(data) < 16 {
		return Truncated
	}
	h := data[8:16]
	if h[0]&vxlanFlagI == 0 {
		return BadEncap
	}
	*p = Packet{Encap: p.Encap, TunnelSrc: p.Src, TunnelDst: p.Dst,
		VNI: uint32(h[4])<<16 | uint32(h[5])<<8 | uint32(h[6])}
	return decodeEthernet(data[16:], p, o&^optVXLAN)
}
