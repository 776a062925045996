package sim

import (
	"fmt"

	"github.com/vpcflow/vpcflow/policy"
	"github.com/vpcflow/vpcflow/topology"
)

// EndpointsFromTopology turns a topology's ENIs that have a MAC and a
// private IPv4 address into endpoints, so generated traffic belongs to the
// declared network: each endpoint's Filter is its ENI's security groups and
// network ACL, so traffic the rules refuse gets no reply.
func EndpointsFromTopology(t *topology.Topology) ([]Endpoint, error) {
	// Filters only ask for verdicts of single packets: the engine tracks
	// nothing, so its table stays at the smallest size.
	eng, err := policy.New(t, policy.Config{MaxTracked: 1, Shards: 1})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t.Name, err)
	}
	var eps []Endpoint
	for _, e := range t.ENIs() {
		if !e.HasMAC || !e.PrimaryIPv4.Is4() {
			continue
		}
		ep := Endpoint{MAC: e.MAC, IPv4: e.PrimaryIPv4, Filter: eniFilter{eng, e}}
		if len(e.IPv6s) > 0 {
			ep.IPv6 = e.IPv6s[0]
		}
		if e.VPC != nil {
			for _, p := range e.VPC.CIDRs {
				if p.Addr().Is4() && p.Bits() <= 28 {
					ep.VPC = p
					break
				}
			}
			if d := e.VPC.DNSAddr(); d.Is4() {
				ep.DNS = d
			}
		}
		eps = append(eps, ep)
	}
	if len(eps) == 0 {
		return nil, fmt.Errorf("%s: no ENI has both a MAC address and a private IPv4 address to generate traffic for", t.Name)
	}
	return eps, nil
}

// eniFilter is an ENI's security groups and network ACL, as the policy
// engine judges them.
type eniFilter struct {
	eng *policy.Engine
	eni *topology.ENI
}

func (f eniFilter) Pass(dir policy.Direction, p *policy.Packet, reply bool) bool {
	return f.eng.Explain(f.eni, dir, p, reply).Accept
}
