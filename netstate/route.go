package netstate

import (
	"encoding/json"
	"net/netip"
	"slices"
)

// Routes of route tables: CreateRoute, ReplaceRoute and DeleteRoute edit
// the Routes key of a route table kept as written, leaving its other keys
// (and the other routes' spelling) alone, so describe-route-tables shows
// what the file and the calls wrote.

// RouteSpec is a route of CreateRoute and ReplaceRoute: a destination
// (IPv4 or IPv6 CIDR) and exactly one target.
type RouteSpec struct {
	RouteTableId             string
	DestinationCidrBlock     string
	DestinationIpv6CidrBlock string
	// Targets: exactly one.
	GatewayId, NatGatewayId, NetworkInterfaceId, InstanceId, TransitGatewayId,
	VpcPeeringConnectionId, EgressOnlyInternetGatewayId string
}

// Error codes of routes.
const (
	CodeRouteExists       = "RouteAlreadyExists"
	CodeRouteNotFound     = "InvalidRoute.NotFound"
	CodeGatewayNotFound   = "InvalidGatewayID.NotFound"
	CodeNatGatewayMissing = "NatGatewayNotFound"
)

// targets are the target keys of a route, in the order AWS lists them.
func (r RouteSpec) targets() [][2]string {
	var out [][2]string
	for _, t := range [][2]string{
		{"GatewayId", r.GatewayId}, {"NatGatewayId", r.NatGatewayId}, {"NetworkInterfaceId", r.NetworkInterfaceId},
		{"InstanceId", r.InstanceId}, {"TransitGatewayId", r.TransitGatewayId},
		{"VpcPeeringConnectionId", r.VpcPeeringConnectionId}, {"EgressOnlyInternetGatewayId", r.EgressOnlyInternetGatewayId},
	} {
		if t[1] != "" {
			out = append(out, t)
		}
	}
	return out
}

// destination checks the destination of a route call: one CIDR, IPv4 or
// IPv6, masked as AWS stores it. key is the JSON key it goes in.
func destination(cidr, cidr6 string) (key string, p netip.Prefix, err error) {
	switch {
	case cidr != "" && cidr6 != "":
		return "", p, errf(CodeInvalidParameterCombination, "Only one of destinationCidrBlock and destinationIpv6CidrBlock may be given")
	case cidr != "":
		p, err = parseCIDR(cidr, false)
		return "DestinationCidrBlock", p, err
	case cidr6 != "":
		p, err = parseCIDR(cidr6, true)
		return "DestinationIpv6CidrBlock", p, err
	}
	return "", p, errf(CodeMissingParameter, "The request must contain the parameter destinationCidrBlock or destinationIpv6CidrBlock")
}

// rawTable is a route table kept as written, opened for an edit.
type rawTable struct {
	index     int
	obj       map[string]json.RawMessage
	routeList []map[string]json.RawMessage
	vpc       string
}

func (st *state) rawTable(id string) (*rawTable, error) {
	if id == "" {
		return nil, errf(CodeMissingParameter, "The request must contain the parameter routeTableId")
	}
	for i, raw := range st.net.RouteTables {
		if rawID(raw, "RouteTableId") != id {
			continue
		}
		rt := &rawTable{index: i}
		if err := json.Unmarshal(raw, &rt.obj); err != nil {
			return nil, err
		}
		if r, ok := rt.obj["Routes"]; ok && json.Unmarshal(r, &rt.routeList) != nil {
			return nil, errf(CodeInvalidParameterValue, "route table %s: its Routes cannot be read", id)
		}
		rt.vpc = rawID(raw, "VpcId")
		return rt, nil
	}
	return nil, errf(CodeRouteTableNotFound, "The routeTable ID '%s' does not exist", id)
}

// find returns the index of the route to p, or -1.
func (rt *rawTable) find(key string, p netip.Prefix) int {
	for i, r := range rt.routeList {
		var s string
		if json.Unmarshal(r[key], &s) != nil || s == "" {
			continue
		}
		if q, err := netip.ParsePrefix(s); err == nil && q.Masked() == p {
			return i
		}
	}
	return -1
}

func (rt *rawTable) local(i int) bool {
	var s string
	json.Unmarshal(rt.routeList[i]["GatewayId"], &s)
	return s == "local"
}

// save writes the routes back into the network.
func (st *state) saveRoutes(rt *rawTable) error {
	b, err := json.Marshal(rt.routeList)
	if err != nil {
		return err
	}
	rt.obj["Routes"] = b
	st.net.RouteTables[rt.index], err = json.Marshal(rt.obj)
	return err
}

// route is the stored form of a route call's route.
func (st *state) route(rt *rawTable, r RouteSpec, key string, p netip.Prefix) (map[string]json.RawMessage, error) {
	ts := r.targets()
	switch {
	case len(ts) == 0:
		return nil, errf(CodeMissingParameter, "The request must contain exactly one of gatewayId, natGatewayId, networkInterfaceId, instanceId, transitGatewayId, vpcPeeringConnectionId or egressOnlyInternetGatewayId")
	case len(ts) > 1:
		return nil, errf(CodeInvalidParameterCombination, "Only one of %s and %s may be given", ts[0][0], ts[1][0])
	}
	name, id := ts[0][0], ts[0][1]
	switch name {
	case "GatewayId":
		if id == "local" {
			return nil, errf(CodeInvalidParameterValue, "cannot create or replace a local route: the local route of %s is the VPC's", r.RouteTableId)
		}
		if !slices.Contains(sectionIDs(st.net.InternetGateways, "InternetGatewayId"), id) {
			return nil, errf(CodeGatewayNotFound, "The gateway ID '%s' does not exist", id)
		}
		if !st.attached(id, rt.vpc) {
			return nil, errf(CodeInvalidParameterValue, "route table %s and network gateway %s belong to different networks", r.RouteTableId, id)
		}
	case "NatGatewayId":
		if !slices.Contains(sectionIDs(st.net.NatGateways, "NatGatewayId"), id) {
			return nil, errf(CodeNatGatewayMissing, "The Nat Gateway %s was not found", id)
		}
	case "NetworkInterfaceId":
		if !slices.ContainsFunc(st.net.NetworkInterfaces, func(n NetworkInterface) bool { return n.NetworkInterfaceId == id }) {
			return nil, errf(CodeInterfaceNotFound, "The networkInterface ID '%s' does not exist", id)
		}
	}
	out := map[string]json.RawMessage{}
	for k, v := range map[string]string{key: p.String(), name: id, "Origin": "CreateRoute", "State": "active"} {
		b, _ := json.Marshal(v)
		out[k] = b
	}
	return out, nil
}

// attached reports whether internet gateway igw is attached to vpc (a
// route table without a VpcId takes any).
func (st *state) attached(igw, vpc string) bool {
	for _, raw := range st.net.InternetGateways {
		if rawID(raw, "InternetGatewayId") != igw {
			continue
		}
		var g struct{ Attachments []struct{ VpcId string } }
		json.Unmarshal(raw, &g)
		for _, a := range g.Attachments {
			if a.VpcId == vpc || vpc == "" {
				return true
			}
		}
	}
	return false
}

// CreateRoute is CreateRoute: a route to a destination the table has no
// route to yet (RouteAlreadyExists otherwise). Internet gateways, NAT
// gateways and interfaces must exist; an internet gateway must be
// attached to the table's VPC.
func (s *Store) CreateRoute(r RouteSpec) (int, error) {
	key, p, err := destination(r.DestinationCidrBlock, r.DestinationIpv6CidrBlock)
	if err != nil {
		return 0, err
	}
	return s.mutate(func(st *state, _ ids) error {
		rt, err := st.rawTable(r.RouteTableId)
		if err != nil {
			return err
		}
		if rt.find(key, p) >= 0 {
			return errf(CodeRouteExists, "The route identified by %s already exists.", p)
		}
		route, err := st.route(rt, r, key, p)
		if err != nil {
			return err
		}
		rt.routeList = append(rt.routeList, route)
		return st.saveRoutes(rt)
	})
}

// ReplaceRoute is ReplaceRoute: the route to the destination gets the new
// target. A destination without a route, or the local route, is refused.
func (s *Store) ReplaceRoute(r RouteSpec) (int, error) {
	key, p, err := destination(r.DestinationCidrBlock, r.DestinationIpv6CidrBlock)
	if err != nil {
		return 0, err
	}
	return s.mutate(func(st *state, _ ids) error {
		rt, err := st.rawTable(r.RouteTableId)
		if err != nil {
			return err
		}
		i := rt.find(key, p)
		if i < 0 {
			return errf(CodeInvalidParameterValue, "There is no route defined for '%s' in the route table. Use CreateRoute instead.", p)
		}
		if rt.local(i) {
			return errf(CodeInvalidParameterValue, "cannot replace local route %s in route table %s", p, r.RouteTableId)
		}
		route, err := st.route(rt, r, key, p)
		if err != nil {
			return err
		}
		route["Origin"], _ = json.Marshal("CreateRoute")
		rt.routeList[i] = route
		return st.saveRoutes(rt)
	})
}

// DeleteRoute is DeleteRoute: the route to the destination goes; the
// local route stays (InvalidParameterValue).
func (s *Store) DeleteRoute(tableID, cidr, cidr6 string) (int, error) {
	key, p, err := destination(cidr, cidr6)
	if err != nil {
		return 0, err
	}
	return s.mutate(func(st *state, _ ids) error {
		rt, err := st.rawTable(tableID)
		if err != nil {
			return err
		}
		i := rt.find(key, p)
		if i < 0 {
			return errf(CodeRouteNotFound, "The route identified by %s does not exist.", p)
		}
		if rt.local(i) {
			return errf(CodeInvalidParameterValue, "cannot remove local route %s in route table %s", p, tableID)
		}
		rt.routeList = slices.Delete(rt.routeList, i, i+1)
		return st.saveRoutes(rt)
	})
}
