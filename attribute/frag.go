package attribute

import (
	"net/netip"

	"github.com/vpcflow/vpcflow/packet"
)

// fragCache remembers the ports of first fragments so that later fragments
// of the same datagram count in the same flow ([Choice]; docs/aws-behaviour.md,
// "Aggregation and capture windows"). It is bounded: when full it is
// emptied, which only costs ports of fragments whose first fragment came
// long ago.
type fragCache struct {
	m   map[fragKey][2]uint16
	max int
}

type fragKey struct {
	src, dst netip.Addr
	id       uint32
	proto    uint8
}

func newFragCache(max int) fragCache { return fragCache{m: map[fragKey][2]uint16{}, max: max} }

func (c *fragCache) put(p *packet.Packet, sport, dport uint16) {
	if len(c.m) >= c.max {
		clear(c.m)
	}
	c.m[fragKey{p.Src, p.Dst, p.FragID, p.Proto}] = [2]uint16{sport, dport}
}

func (c *fragCache) get(p *packet.Packet) (uint16, uint16, bool) {
	v, ok := c.m[fragKey{p.Src, p.Dst, p.FragID, p.Proto}]
	return v[0], v[1], ok
}
