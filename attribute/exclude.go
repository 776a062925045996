package attribute

import (
	"encoding/binary"
	"net/netip"

	"github.com/vpcflow/vpcflow/packet"
	"github.com/vpcflow/vpcflow/topology"
)

// Exclusion is why a packet was not logged (docs/aws-behaviour.md,
// "Excluded traffic").
type Exclusion uint8

const (
	notExcluded Exclusion = iota
	ExclDHCP
	ExclLinkLocal // instance metadata, time sync, Amazon DNS at 169.254.169.253, license activation
	ExclAmazonDNS // the VPC resolver at VPC base + 2, port 53
	ExclRouter    // the reserved default router at subnet base + 1
	NumExclusions
)

var exclNames = [NumExclusions]string{"", "dhcp", "link-local", "amazon-dns", "vpc-router"}

func (e Exclusion) String() string { return exclNames[e] }

type exclusions struct {
	dns    map[netip.Addr]bool // VPC resolvers
	router map[netip.Addr]bool // subnet routers
	// last marks the last bytes of every IPv4 address in dns and router: a
	// packet whose addresses end otherwise (nearly all) skips the map lookups.
	last [256]bool
}

var (
	linkLocal4 = netip.MustParsePrefix("169.254.0.0/16")
	ec2v6      = []netip.Addr{
		netip.MustParseAddr("fd00:ec2::254"), netip.MustParseAddr("fd00:ec2::123"), netip.MustParseAddr("fd00:ec2::253"),
	}
)

func newExclusions(t *topology.Topology) exclusions {
	x := exclusions{dns: map[netip.Addr]bool{}, router: map[netip.Addr]bool{}}
	if t == nil {
		return x
	}
	for _, v := range t.VPCs {
		if d := v.DNSAddr(); d.IsValid() {
			x.dns[d] = true
			x.last[d.As4()[3]] = true
		}
	}
	for _, s := range t.Subnets {
		if s.CIDR.IsValid() {
			r := s.CIDR.Masked().Addr().Next()
			x.router[r] = true
			x.last[r.As4()[3]] = true
		}
	}
	return x
}

// mayBeListed is the cheap test in front of the dns and router maps.
func (x *exclusions) mayBeListed(a netip.Addr) bool {
	return a.Is4() && x.last[a.As4()[3]]
}

// match says whether AWS would leave the packet out of flow logs. Replies of
// excluded flows are excluded too, so both directions are checked.
func (x *exclusions) match(p *packet.Packet, sport, dport uint16) Exclusion {
	if p.Proto == 17 && (isDHCPPort(sport) || isDHCPPort(dport)) {
		return ExclDHCP
	}
	if p.Src.Is4() && p.Dst.Is4() {
		// Nearly every packet: the tests below on the addresses as
		// integers, without unmapping and re-reading each per test.
		s, d := be4(p.Src), be4(p.Dst)
		if s>>16 == 0xa9fe || d>>16 == 0xa9fe { // 169.254.0.0/16
			return ExclLinkLocal
		}
		if !x.last[uint8(s)] && !x.last[uint8(d)] {
			return notExcluded
		}
	}
	src, dst := p.Src.Unmap(), p.Dst.Unmap()
	if linkLocal(src) || linkLocal(dst) {
		return ExclLinkLocal
	}
	srcListed, dstListed := x.mayBeListed(src), x.mayBeListed(dst)
	if !srcListed && !dstListed {
		return notExcluded
	}
	if (p.Proto == 6 || p.Proto == 17) && ((dstListed && x.dns[dst] && dport == 53) || (srcListed && x.dns[src] && sport == 53)) {
		return ExclAmazonDNS
	}
	if (dstListed && x.router[dst]) || (srcListed && x.router[src]) {
		return ExclRouter
	}
	return notExcluded
}

// linkLocal is linkLocal4.Contains(a) or a in ec2v6, with byte compares
// instead of prefix arithmetic and a loop: it runs for every packet.
func linkLocal(a netip.Addr) bool {
	if a.Is4() {
		b := a.As4()
		return b[0] == 169 && b[1] == 254
	}
	if !a.Is6() || a.Zone() != "" {
		return false
	}
	b := a.As16()
	if binary.BigEndian.Uint64(b[:8]) != 0xfd00_0ec2_0000_0000 {
		return false
	}
	lo := binary.BigEndian.Uint64(b[8:])
	return lo == 0x254 || lo == 0x123 || lo == 0x253
}

// be4 is an IPv4 address as a big-endian integer.
func be4(a netip.Addr) uint32 {
	b := a.As4()
	return binary.BigEndian.Uint32(b[:])
}

func isDHCPPort(p uint16) bool { return p == 67 || p == 68 || p == 546 || p == 547 }
