package ec2

import (
	"github.com/vpcflow/vpcflow/api/query"
	"github.com/vpcflow/vpcflow/netstate"
)

// ---- CreateRoute, ReplaceRoute, DeleteRoute ----
//
// Routes of a route table: a destination (DestinationCidrBlock or
// DestinationIpv6CidrBlock) and one target. The store checks them and
// answers AWS's errors (RouteAlreadyExists, InvalidRoute.NotFound, the
// local route, unknown gateways).

func routeSpec(p query.Params) netstate.RouteSpec {
	return netstate.RouteSpec{
		RouteTableId:                p.String("RouteTableId"),
		DestinationCidrBlock:        p.String("DestinationCidrBlock"),
		DestinationIpv6CidrBlock:    p.String("DestinationIpv6CidrBlock"),
		GatewayId:                   p.String("GatewayId"),
		NatGatewayId:                p.String("NatGatewayId"),
		NetworkInterfaceId:          p.String("NetworkInterfaceId"),
		InstanceId:                  p.String("InstanceId"),
		TransitGatewayId:            p.String("TransitGatewayId"),
		VpcPeeringConnectionId:      p.String("VpcPeeringConnectionId"),
		EgressOnlyInternetGatewayId: p.String("EgressOnlyInternetGatewayId"),
	}
}

func createRoute(h *Handler, p query.Params) (response, error) {
	return routeCall(h, p, "CreateRoute", (*netstate.Store).CreateRoute)
}

func replaceRoute(h *Handler, p query.Params) (response, error) {
	return routeCall(h, p, "ReplaceRoute", (*netstate.Store).ReplaceRoute)
}

func routeCall(h *Handler, p query.Params, action string, do func(*netstate.Store, netstate.RouteSpec) (int, error)) (response, error) {
	dry, err := dryRun(p)
	if err != nil {
		return nil, err
	}
	if err := required(p, "RouteTableId"); err != nil {
		return nil, err
	}
	if dry {
		return nil, errDryRun
	}
	r := routeSpec(p)
	if err := h.change(func(s *netstate.Store) (int, error) { return do(s, r) }); err != nil {
		return nil, err
	}
	return returnTrue(action), nil
}

func deleteRoute(h *Handler, p query.Params) (response, error) {
	dry, err := dryRun(p)
	if err != nil {
		return nil, err
	}
	if err := required(p, "RouteTableId"); err != nil {
		return nil, err
	}
	if dry {
		return nil, errDryRun
	}
	id, cidr, cidr6 := p.String("RouteTableId"), p.String("DestinationCidrBlock"), p.String("DestinationIpv6CidrBlock")
	if err := h.change(func(s *netstate.Store) (int, error) { return s.DeleteRoute(id, cidr, cidr6) }); err != nil {
		return nil, err
	}
	return returnTrue("DeleteRoute"), nil
}
