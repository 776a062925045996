package attribute

import (
	"encoding/binary"
	"net/netip"

	"github.com/vpcflow/vpcflow/topology"
)

// The lookups in this file run for every packet. They answer what
// netip.Prefix.Contains and the topology's maps answer, from fixed-size
// integer keys: hashing a netip.Addr (which carries a zone pointer) or
// testing prefixes one by one costs more than the rest of attribution.

// localNets is Config.LocalPrefixes as masked integers.
type localNets struct {
	v4 []net4
	v6 []net6
}

type net4 struct{ addr, mask uint32 }

type net6 struct{ hi, lo, mhi, mlo uint64 }

func newLocalNets(pfx []netip.Prefix) localNets {
	var l localNets
	for _, p := range pfx {
		if !p.IsValid() {
			continue // Contains is false for every address
		}
		bits, a := p.Bits(), p.Addr()
		if a.Is4() {
			b := a.As4()
			mask := ^uint32(0) << (32 - bits)
			l.v4 = append(l.v4, net4{binary.BigEndian.Uint32(b[:]) & mask, mask})
			continue
		}
		b := a.As16()
		mhi, mlo := ^uint64(0)<<(64-min(bits, 64)), ^uint64(0)<<(128-max(bits, 64))
		if bits <= 64 {
			mlo = 0
		}
		l.v6 = append(l.v6, net6{binary.BigEndian.Uint64(b[:8]) & mhi, binary.BigEndian.Uint64(b[8:]) & mlo, mhi, mlo})
	}
	return l
}

// contains is whether one of the prefixes contains a.Unmap(), as Contains
// says it: a zoned address is in none.
func (l *localNets) contains(a netip.Addr) bool {
	a = a.Unmap()
	if a.Is4() {
		b := a.As4()
		v := binary.BigEndian.Uint32(b[:])
		for _, n := range l.v4 {
			if v&n.mask == n.addr {
				return true
			}
		}
		return false
	}
	if len(l.v6) == 0 || !a.Is6() || a.Zone() != "" {
		return false
	}
	b := a.As16()
	hi, lo := binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
	for _, n := range l.v6 {
		if hi&n.mhi == n.hi && lo&n.mlo == n.lo {
			return true
		}
	}
	return false
}

// eniIndex answers Topology.ENIByMAC for pairs of MACs and
// Topology.ENIByIP("", ip) for addresses. A capture's frames go between few
// pairs of MACs (an interface and its router, two interfaces), so the last
// answer for each of a few pairs is kept; addresses, many more, are
// looked up in maps keyed by their bytes, built from the topology's own
// answers so that an address declared in two VPCs stays nobody's.
type eniIndex struct {
	t    *topology.Topology
	macs [64]macPair
	v4   map[uint32]*topology.ENI
	v6   map[[16]byte]*topology.ENI
}

type macPair struct {
	src, dst uint64 // mac64 of the MACs, with bit 63 set so a zero entry matches nothing
	from, to *topology.ENI
}

func newENIIndex(t *topology.Topology) *eniIndex {
	if t == nil {
		return nil
	}
	x := &eniIndex{t: t, v4: map[uint32]*topology.ENI{}, v6: map[[16]byte]*topology.ENI{}}
	for _, e := range t.ENIs() {
		for _, l := range [][]netip.Addr{e.IPv4s, e.IPv6s} {
			for _, a := range l {
				switch {
				case a.Is4():
					b := a.As4()
					x.v4[binary.BigEndian.Uint32(b[:])] = t.ENIByIP("", a)
				case a.Is6() && !a.Is4In6() && a.Zone() == "":
					x.v6[a.As16()] = t.ENIByIP("", a)
				}
			}
		}
	}
	return x
}

func mac64(m [6]byte) uint64 {
	return 1<<63 | uint64(m[0])<<40 | uint64(m[1])<<32 | uint64(m[2])<<24 | uint64(m[3])<<16 | uint64(m[4])<<8 | uint64(m[5])
}

// byMACs is ENIByMAC of src and of dst.
func (x *eniIndex) byMACs(src, dst [6]byte) (from, to *topology.ENI) {
	s, d := mac64(src), mac64(dst)
	c := &x.macs[((s^d<<7)*0x9e3779b97f4a7c15)>>58]
	if c.src == s && c.dst == d {
		return c.from, c.to
	}
	from, to = x.t.ENIByMAC(src), x.t.ENIByMAC(dst)
	*c = macPair{s, d, from, to}
	return from, to
}

// byIP is ENIByIP("", a).
func (x *eniIndex) byIP(a netip.Addr) *topology.ENI {
	a = a.Unmap()
	switch {
	case a.Is4():
		b := a.As4()
		return x.v4[binary.BigEndian.Uint32(b[:])]
	case a.Is6() && a.Zone() == "":
		return x.v6[a.As16()]
	}
	return x.t.ENIByIP("", a)
}
