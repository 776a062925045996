package sim

import (
	"fmt"

	"github.com/vpcflow/vpcflow/topology"
)

// EndpointsFromTopology turns a topology's ENIs that have a MAC and a
// private IPv4 address into endpoints, so generated traffic belongs to the
// declared network.
func EndpointsFromTopology(t *topology.Topology) ([]Endpoint, error) {
	var eps []Endpoint
	for _, e := range t.ENIs() {
		if !e.HasMAC || !e.PrimaryIPv4.Is4() {
			continue
		}
		ep := Endpoint{MAC: e.MAC, IPv4: e.PrimaryIPv4}
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
