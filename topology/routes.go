package topology

import (
	"fmt"
	"net/netip"
	"strings"
)

// TargetKind is what a route sends traffic to; the flow package maps it to
// the traffic-path field (docs/aws-behaviour.md, "Traffic path").
type TargetKind uint8

// Route target kinds.
const (
	TargetNone     TargetKind = iota // no route matched
	TargetLocal                      // GatewayId local: inside the VPC
	TargetIGW                        // internet gateway (igw-) or egress-only IGW
	TargetNAT                        // NAT gateway
	TargetTGW                        // transit gateway
	TargetVGW                        // virtual private gateway
	TargetPeering                    // VPC peering connection
	TargetEndpoint                   // gateway VPC endpoint (vpce-)
	TargetENI                        // network interface or instance
	TargetLocalGW                    // local gateway (Outposts)
	TargetOther                      // carrier gateway, core network
)

var targetNames = [...]string{"none", "local", "igw", "nat", "tgw", "vgw", "pcx", "vpce", "eni", "lgw", "other"}

func (k TargetKind) String() string {
	if int(k) < len(targetNames) {
		return targetNames[k]
	}
	return "?"
}

// RouteTable is a describe-route-tables entry with parsed routes.
type RouteTable struct {
	ID      string
	VPCID   string
	Main    bool
	Subnets []*Subnet
	Routes  []Route
	Line    int
}

// Route is one route; prefix-list destinations are expanded to one Route
// per CIDR.
type Route struct {
	Dest   netip.Prefix
	Kind   TargetKind
	Target string // the gateway/interface id
	Line   int
}

// Route does a longest-prefix match of dst in the route table of subnet s
// (its explicit association, else its VPC's main table). ok is false when
// the topology has no route table for the subnet or no route matches.
func (t *Topology) Route(s *Subnet, dst netip.Addr) (Route, bool) {
	rt := t.rtBySub[s]
	if rt == nil && s != nil {
		rt = t.mainRT[s.VPC]
	}
	if rt == nil {
		return Route{}, false
	}
	dst = dst.Unmap()
	best, bits := -1, -1
	for i := range rt.Routes {
		r := &rt.Routes[i]
		if r.Dest.Bits() > bits && r.Dest.Contains(dst) {
			best, bits = i, r.Dest.Bits()
		}
	}
	if best < 0 {
		return Route{}, false
	}
	return rt.Routes[best], true
}

func (b *builder) routeTables() {
	t := b.t
	seen := map[string]bool{}
	for i, rr := range b.raw.RouteTables {
		p := fmt.Sprintf("RouteTables[%d]", i)
		if !b.required(p+".RouteTableId", rr.Line, rr.RouteTableId) {
			continue
		}
		if seen[rr.RouteTableId] {
			b.at(p+".RouteTableId", rr.Line, "duplicate route table id %s", rr.RouteTableId)
			continue
		}
		seen[rr.RouteTableId] = true
		v := b.vpcRef(p+".VpcId", rr.Line, rr.VpcId)
		rt := &RouteTable{ID: rr.RouteTableId, VPCID: rr.VpcId, Line: rr.Line}
		for j, a := range rr.Associations {
			kp := fmt.Sprintf("%s.Associations[%d]", p, j)
			if a.Main {
				rt.Main = true
				if v != nil {
					if o := t.mainRT[v]; o != nil {
						b.at(kp+".Main", rr.Line, "%s already has main route table %s", v.ID, o.ID)
					} else {
						t.mainRT[v] = rt
					}
				}
			}
			if a.SubnetId == "" {
				continue
			}
			s := t.subByID[a.SubnetId]
			switch {
			case s == nil:
				b.at(kp+".SubnetId", rr.Line, "unknown subnet %q (not in Subnets)", a.SubnetId)
			case t.rtBySub[s] != nil:
				b.at(kp+".SubnetId", rr.Line, "subnet %s already uses route table %s", s.ID, t.rtBySub[s].ID)
			default:
				t.rtBySub[s] = rt
				rt.Subnets = append(rt.Subnets, s)
			}
		}
		for j, ro := range rr.Routes {
			kp := fmt.Sprintf("%s.Routes[%d]", p, j)
			kind, target := routeTarget(ro)
			if kind == TargetNone {
				b.at(kp, ro.Line, "route has no target (GatewayId, NatGatewayId, TransitGatewayId, ...)")
				continue
			}
			var dests []netip.Prefix
			switch {
			case ro.DestinationCidrBlock != "":
				if pf, ok := b.prefix(kp+".DestinationCidrBlock", ro.Line, ro.DestinationCidrBlock, false); ok {
					dests = append(dests, pf)
				}
			case ro.DestinationIpv6CidrBlock != "":
				if pf, ok := b.prefix(kp+".DestinationIpv6CidrBlock", ro.Line, ro.DestinationIpv6CidrBlock, true); ok {
					dests = append(dests, pf)
				}
			case ro.DestinationPrefixListId != "":
				pl := t.plByID[ro.DestinationPrefixListId]
				if pl == nil {
					b.at(kp+".DestinationPrefixListId", ro.Line, "unknown prefix list %q: declare its entries in ManagedPrefixLists", ro.DestinationPrefixListId)
					continue
				}
				dests = append(dests, pl.CIDRs...)
			default:
				b.at(kp+".DestinationCidrBlock", ro.Line, "required (or DestinationIpv6CidrBlock, DestinationPrefixListId)")
				continue
			}
			for _, d := range dests {
				rt.Routes = append(rt.Routes, Route{Dest: d, Kind: kind, Target: target, Line: ro.Line})
			}
		}
		t.RouteTables = append(t.RouteTables, rt)
	}
}

func routeTarget(r rawRoute) (TargetKind, string) {
	switch {
	case r.GatewayId == "local":
		return TargetLocal, "local"
	case strings.HasPrefix(r.GatewayId, "igw-"):
		return TargetIGW, r.GatewayId
	case strings.HasPrefix(r.GatewayId, "vgw-"):
		return TargetVGW, r.GatewayId
	case strings.HasPrefix(r.GatewayId, "vpce-"):
		return TargetEndpoint, r.GatewayId
	case r.EgressOnlyInternetGatewayId != "":
		return TargetIGW, r.EgressOnlyInternetGatewayId
	case r.NatGatewayId != "":
		return TargetNAT, r.NatGatewayId
	case r.TransitGatewayId != "":
		return TargetTGW, r.TransitGatewayId
	case r.VpcPeeringConnectionId != "":
		return TargetPeering, r.VpcPeeringConnectionId
	case r.NetworkInterfaceId != "":
		return TargetENI, r.NetworkInterfaceId
	case r.InstanceId != "":
		return TargetENI, r.InstanceId
	case r.LocalGatewayId != "":
		return TargetLocalGW, r.LocalGatewayId
	case r.CarrierGatewayId != "" || r.CoreNetworkArn != "":
		return TargetOther, r.CarrierGatewayId + r.CoreNetworkArn
	case r.GatewayId != "":
		return TargetOther, r.GatewayId
	}
	return TargetNone, ""
}
