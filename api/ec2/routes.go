package ec2

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"strconv"

	"github.com/vpcflow/vpcflow/api/query"
	"github.com/vpcflow/vpcflow/netstate"
)

// ---- DescribeRouteTables ----
//
// The network store keeps route tables as the topology file wrote them
// (and CreateVpc writes a main one in the same shape): describe-route-tables
// output, with AWS's key names. They are read here as written, so a route
// names its target in the element the file used (gatewayId, natGatewayId,
// destinationPrefixListId, ...), exactly as AWS returned it.

// text is a scalar of a route table as written: a topology file's YAML may
// make a number or a boolean of what AWS writes as a string.
type text string

func (t *text) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*t = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = text(s)
	case len(b) > 0 && (b[0] == '{' || b[0] == '['):
		*t = "" // not a scalar: topology refuses it, nothing to show
	default:
		*t = text(b)
	}
	return nil
}

// flag is a boolean of a route table as written (true, or "true").
type flag bool

func (f *flag) UnmarshalJSON(b []byte) error {
	var t text
	if err := t.UnmarshalJSON(b); err != nil {
		return err
	}
	v, _ := strconv.ParseBool(string(t))
	*f = flag(v)
	return nil
}

type rawRouteTable struct {
	RouteTableId text
	VpcId        text
	OwnerId      text
	Associations []struct {
		Main                    flag
		RouteTableAssociationId text
		RouteTableId            text
		SubnetId                text
		GatewayId               text
		AssociationState        *struct{ State text }
	}
	Routes []struct {
		DestinationCidrBlock        text
		DestinationIpv6CidrBlock    text
		DestinationPrefixListId     text
		EgressOnlyInternetGatewayId text
		GatewayId                   text
		InstanceId                  text
		NatGatewayId                text
		TransitGatewayId            text
		LocalGatewayId              text
		CarrierGatewayId            text
		NetworkInterfaceId          text
		VpcPeeringConnectionId      text
		CoreNetworkArn              text
		Origin                      text
		State                       text
	}
	PropagatingVgws []struct{ GatewayId text }
	Tags            []struct{ Key, Value text }
}

// routeTables reads the network's route tables; one that does not read
// (the store only holds what topology accepted) is left out.
func routeTables(n *netstate.Network) []*rawRouteTable {
	var out []*rawRouteTable
	for _, m := range n.RouteTables {
		rt := &rawRouteTable{}
		if json.Unmarshal(m, rt) == nil && rt.RouteTableId != "" {
			out = append(out, rt)
		}
	}
	return out
}

type rtAssociationXML struct {
	Main                    bool          `xml:"main"`
	RouteTableAssociationID string        `xml:"routeTableAssociationId,omitempty"`
	RouteTableID            string        `xml:"routeTableId"`
	SubnetID                string        `xml:"subnetId,omitempty"`
	GatewayID               string        `xml:"gatewayId,omitempty"`
	AssociationState        *cidrStateXML `xml:"associationState"`
}

type routeXML struct {
	DestinationCidrBlock        string `xml:"destinationCidrBlock,omitempty"`
	DestinationIpv6CidrBlock    string `xml:"destinationIpv6CidrBlock,omitempty"`
	DestinationPrefixListID     string `xml:"destinationPrefixListId,omitempty"`
	EgressOnlyInternetGatewayID string `xml:"egressOnlyInternetGatewayId,omitempty"`
	GatewayID                   string `xml:"gatewayId,omitempty"`
	InstanceID                  string `xml:"instanceId,omitempty"`
	NatGatewayID                string `xml:"natGatewayId,omitempty"`
	TransitGatewayID            string `xml:"transitGatewayId,omitempty"`
	LocalGatewayID              string `xml:"localGatewayId,omitempty"`
	CarrierGatewayID            string `xml:"carrierGatewayId,omitempty"`
	NetworkInterfaceID          string `xml:"networkInterfaceId,omitempty"`
	Origin                      string `xml:"origin"`
	State                       string `xml:"state"`
	VpcPeeringConnectionID      string `xml:"vpcPeeringConnectionId,omitempty"`
	CoreNetworkArn              string `xml:"coreNetworkArn,omitempty"`
}

type propagatingVgwXML struct {
	GatewayID string `xml:"gatewayId"`
}

type routeTableXML struct {
	Associations    *set[rtAssociationXML]  `xml:"associationSet"`
	PropagatingVgws *set[propagatingVgwXML] `xml:"propagatingVgwSet,omitempty"`
	RouteTableID    string                  `xml:"routeTableId"`
	Routes          *set[routeXML]          `xml:"routeSet"`
	Tags            *set[tagXML]            `xml:"tagSet,omitempty"`
	VpcID           string                  `xml:"vpcId"`
	OwnerID         string                  `xml:"ownerId"`
}

// routes writes the routes as written. What a file leaves out is what AWS
// shows for a route of a table in use: the local route comes with the
// table (origin CreateRouteTable), the others were added (CreateRoute),
// and all are active.
func routes(rt *rawRouteTable) []routeXML {
	out := []routeXML{}
	for _, r := range rt.Routes {
		x := routeXML{DestinationCidrBlock: canonPrefix(string(r.DestinationCidrBlock)),
			DestinationIpv6CidrBlock: canonPrefix(string(r.DestinationIpv6CidrBlock)),
			DestinationPrefixListID:  string(r.DestinationPrefixListId), EgressOnlyInternetGatewayID: string(r.EgressOnlyInternetGatewayId),
			GatewayID: string(r.GatewayId), InstanceID: string(r.InstanceId), NatGatewayID: string(r.NatGatewayId),
			TransitGatewayID: string(r.TransitGatewayId), LocalGatewayID: string(r.LocalGatewayId),
			CarrierGatewayID: string(r.CarrierGatewayId), NetworkInterfaceID: string(r.NetworkInterfaceId),
			Origin: string(r.Origin), State: orDefault(string(r.State), "active"),
			VpcPeeringConnectionID: string(r.VpcPeeringConnectionId), CoreNetworkArn: string(r.CoreNetworkArn)}
		if x.Origin == "" {
			x.Origin = "CreateRoute"
			if x.GatewayID == "local" {
				x.Origin = "CreateRouteTable"
			}
		}
		out = append(out, x)
	}
	return out
}

func rtAssociations(rt *rawRouteTable) []rtAssociationXML {
	out := []rtAssociationXML{}
	for _, a := range rt.Associations {
		st := &cidrStateXML{State: "associated"}
		if a.AssociationState != nil && a.AssociationState.State != "" {
			st.State = string(a.AssociationState.State)
		}
		out = append(out, rtAssociationXML{Main: bool(a.Main), RouteTableAssociationID: string(a.RouteTableAssociationId),
			RouteTableID: orDefault(string(a.RouteTableId), string(rt.RouteTableId)), SubnetID: string(a.SubnetId),
			GatewayID: string(a.GatewayId), AssociationState: st})
	}
	return out
}

func rtTags(rt *rawRouteTable) []netstate.Tag {
	var out []netstate.Tag
	for _, t := range rt.Tags {
		out = append(out, netstate.Tag{Key: string(t.Key), Value: string(t.Value)})
	}
	return out
}

func routeValues(rt *rawRouteTable, fn func(r routeXML) string) []string {
	var out []string
	for _, r := range routes(rt) {
		out = append(out, one(fn(r))...)
	}
	return out
}

func assocValues(rt *rawRouteTable, fn func(a rtAssociationXML) string) []string {
	var out []string
	for _, a := range rtAssociations(rt) {
		out = append(out, one(fn(a))...)
	}
	return out
}

func rtOwner(c *netCtx, rt *rawRouteTable) string {
	if rt.OwnerId != "" {
		return string(rt.OwnerId)
	}
	if v := c.vpcs[string(rt.VpcId)]; v != nil {
		return c.owner(v.OwnerId)
	}
	return c.acct
}

func renderRouteTable(c *netCtx, rt *rawRouteTable) routeTableXML {
	var vgws []propagatingVgwXML
	for _, g := range rt.PropagatingVgws {
		vgws = append(vgws, propagatingVgwXML{GatewayID: string(g.GatewayId)})
	}
	return routeTableXML{Associations: newSet(rtAssociations(rt)), PropagatingVgws: optSet(vgws),
		RouteTableID: string(rt.RouteTableId), Routes: newSet(routes(rt)), Tags: tagSet(rtTags(rt)),
		VpcID: string(rt.VpcId), OwnerID: rtOwner(c, rt)}
}

var rtKind = func() *describeKind[*rawRouteTable, routeTableXML] {
	f := filters[*rawRouteTable]{
		"association.gateway-id": func(_ *netCtx, rt *rawRouteTable) []string {
			return assocValues(rt, func(a rtAssociationXML) string { return a.GatewayID })
		},
		"association.route-table-association-id": func(_ *netCtx, rt *rawRouteTable) []string {
			return assocValues(rt, func(a rtAssociationXML) string { return a.RouteTableAssociationID })
		},
		"association.route-table-id": func(_ *netCtx, rt *rawRouteTable) []string {
			return assocValues(rt, func(a rtAssociationXML) string { return a.RouteTableID })
		},
		"association.subnet-id": func(_ *netCtx, rt *rawRouteTable) []string {
			return assocValues(rt, func(a rtAssociationXML) string { return a.SubnetID })
		},
		"association.main": func(_ *netCtx, rt *rawRouteTable) []string {
			return assocValues(rt, func(a rtAssociationXML) string { return strconv.FormatBool(a.Main) })
		},
		"owner-id":       func(c *netCtx, rt *rawRouteTable) []string { return one(rtOwner(c, rt)) },
		"route-table-id": func(_ *netCtx, rt *rawRouteTable) []string { return []string{string(rt.RouteTableId)} },
		"vpc-id":         func(_ *netCtx, rt *rawRouteTable) []string { return one(string(rt.VpcId)) },
	}
	for name, field := range map[string]func(r routeXML) string{
		"route.destination-cidr-block":          func(r routeXML) string { return r.DestinationCidrBlock },
		"route.destination-ipv6-cidr-block":     func(r routeXML) string { return r.DestinationIpv6CidrBlock },
		"route.destination-prefix-list-id":      func(r routeXML) string { return r.DestinationPrefixListID },
		"route.egress-only-internet-gateway-id": func(r routeXML) string { return r.EgressOnlyInternetGatewayID },
		"route.gateway-id":                      func(r routeXML) string { return r.GatewayID },
		"route.instance-id":                     func(r routeXML) string { return r.InstanceID },
		"route.nat-gateway-id":                  func(r routeXML) string { return r.NatGatewayID },
		"route.transit-gateway-id":              func(r routeXML) string { return r.TransitGatewayID },
		"route.origin":                          func(r routeXML) string { return r.Origin },
		"route.state":                           func(r routeXML) string { return r.State },
		"route.vpc-peering-connection-id":       func(r routeXML) string { return r.VpcPeeringConnectionID },
	} {
		f[name] = func(_ *netCtx, rt *rawRouteTable) []string { return routeValues(rt, field) }
	}
	return &describeKind[*rawRouteTable, routeTableXML]{
		// DescribeRouteTables takes at most 100 results a page.
		kind: "route-tables", idParam: "RouteTableId", minResults: 5, maxResults: 100,
		notFound: func(ids []string) error { return notFound("InvalidRouteTableID.NotFound", "routeTable ID", ids) },
		list:     routeTables,
		id:       func(rt *rawRouteTable) string { return string(rt.RouteTableId) },
		tags:     rtTags,
		filters:  f,
		noData:   []string{"tag"},
		render:   renderRouteTable,
	}
}()

type describeRouteTablesResponse struct {
	XMLName xml.Name `xml:"http://ec2.amazonaws.com/doc/2016-11-15/ DescribeRouteTablesResponse"`
	responseMeta
	RouteTables *set[routeTableXML] `xml:"routeTableSet"`
	NextToken   string              `xml:"nextToken,omitempty"`
}

func describeRouteTables(h *Handler, p query.Params) (response, error) {
	items, next, err := describe(h, p, rtKind, nil)
	if err != nil {
		return nil, err
	}
	return &describeRouteTablesResponse{RouteTables: newSet(items), NextToken: next}, nil
}
