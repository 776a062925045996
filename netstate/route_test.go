package netstate

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/vpcflow/vpcflow/topology"
)

// TestRoutes: CreateRoute, ReplaceRoute and DeleteRoute edit a route table
// of the example network, the topology routes by them, and AWS's errors
// come for a route that exists already, one that does not, the local
// route, an unknown gateway and a missing or doubled target.
func TestRoutes(t *testing.T) {
	s, _ := newStore(t)
	if err := s.Seed("topology.yaml", exampleFile(t)); err != nil {
		t.Fatal(err)
	}
	const main = "rtb-0a1b2c3d4e5f60002"
	route := func(dst string) (topology.Route, bool) {
		top, _ := s.Topology()
		for _, rt := range top.RouteTables {
			if rt.ID == main {
				for _, r := range rt.Routes {
					if r.Dest == netip.MustParsePrefix(dst) {
						return r, true
					}
				}
			}
		}
		return topology.Route{}, false
	}
	v0 := func() int { _, v := s.Topology(); return v }()
	v, err := s.CreateRoute(RouteSpec{RouteTableId: main, DestinationCidrBlock: "198.51.100.7/24", GatewayId: "igw-0a1b2c3d4e5f60001"})
	if err != nil || v != v0+1 {
		t.Fatalf("CreateRoute: version %d, %v", v, err)
	}
	if r, ok := route("198.51.100.0/24"); !ok || r.Kind != topology.TargetIGW || r.Target != "igw-0a1b2c3d4e5f60001" {
		t.Fatalf("after CreateRoute: %+v %v", r, ok)
	}
	_, err = s.CreateRoute(RouteSpec{RouteTableId: main, DestinationCidrBlock: "198.51.100.0/24", NatGatewayId: "nat-0a1b2c3d4e5f60001"})
	wantCode(t, err, CodeRouteExists)
	if _, err := s.ReplaceRoute(RouteSpec{RouteTableId: main, DestinationCidrBlock: "198.51.100.0/24", NatGatewayId: "nat-0a1b2c3d4e5f60001"}); err != nil {
		t.Fatal(err)
	}
	if r, _ := route("198.51.100.0/24"); r.Kind != topology.TargetNAT {
		t.Errorf("after ReplaceRoute: %+v", r)
	}
	// The table as written keeps the other routes' spelling and gains
	// the new one as AWS describes it.
	doc := string(s.cur.Load().st.document())
	if !strings.Contains(strings.Join(strings.Fields(doc), ""), `{"DestinationCidrBlock":"198.51.100.0/24","NatGatewayId":"nat-0a1b2c3d4e5f60001","Origin":"CreateRoute","State":"active"}`) {
		t.Errorf("stored route table:\n%s", doc)
	}
	for _, c := range []struct {
		err  error
		code string
	}{
		{errOf(s.ReplaceRoute(RouteSpec{RouteTableId: main, DestinationCidrBlock: "192.0.2.0/24", GatewayId: "igw-0a1b2c3d4e5f60001"})), CodeInvalidParameterValue},
		{errOf(s.ReplaceRoute(RouteSpec{RouteTableId: main, DestinationCidrBlock: "10.0.0.0/16", GatewayId: "igw-0a1b2c3d4e5f60001"})), CodeInvalidParameterValue},
		{errOf(s.CreateRoute(RouteSpec{RouteTableId: main, DestinationCidrBlock: "192.0.2.0/24", GatewayId: "igw-0000000000000dead"})), CodeGatewayNotFound},
		{errOf(s.CreateRoute(RouteSpec{RouteTableId: main, DestinationCidrBlock: "192.0.2.0/24", NatGatewayId: "nat-0000000000000dead"})), CodeNatGatewayMissing},
		{errOf(s.CreateRoute(RouteSpec{RouteTableId: main, DestinationCidrBlock: "192.0.2.0/24"})), CodeMissingParameter},
		{errOf(s.CreateRoute(RouteSpec{RouteTableId: main, DestinationCidrBlock: "192.0.2.0/24", GatewayId: "igw-0a1b2c3d4e5f60001", NatGatewayId: "nat-0a1b2c3d4e5f60001"})), CodeInvalidParameterCombination},
		{errOf(s.CreateRoute(RouteSpec{RouteTableId: "rtb-0000000000000dead", DestinationCidrBlock: "192.0.2.0/24", GatewayId: "igw-0a1b2c3d4e5f60001"})), CodeRouteTableNotFound},
		{errOf(s.CreateRoute(RouteSpec{RouteTableId: main, DestinationCidrBlock: "192.0.2.0/33", GatewayId: "igw-0a1b2c3d4e5f60001"})), CodeInvalidParameterValue},
		{errOf(s.DeleteRoute(main, "192.0.2.0/24", "")), CodeRouteNotFound},
		{errOf(s.DeleteRoute(main, "10.0.0.0/16", "")), CodeInvalidParameterValue},
	} {
		wantCode(t, c.err, c.code)
	}
	if _, err := s.DeleteRoute(main, "198.51.100.0/24", ""); err != nil {
		t.Fatal(err)
	}
	if r, ok := route("198.51.100.0/24"); ok {
		t.Errorf("after DeleteRoute: %+v", r)
	}
	if _, ok := route("0.0.0.0/0"); !ok {
		t.Error("DeleteRoute removed another route")
	}
}

func errOf(_ int, err error) error { return err }

// FuzzRoutes: route calls with any destination and target never panic:
// they succeed (commit has checked that topology accepts the network) or
// fail with an *Error naming a code.
func FuzzRoutes(f *testing.F) {
	for _, s := range [][3]string{
		{"198.51.100.0/24", "GatewayId", "igw-0a1b2c3d4e5f60001"},
		{"2001:db8::/32", "GatewayId", "igw-0a1b2c3d4e5f60001"},
		{"0.0.0.0/0", "NatGatewayId", "nat-0a1b2c3d4e5f60001"},
		{"10.0.0.0/16", "GatewayId", "local"},
		{"10.9.9.9/33", "NetworkInterfaceId", "eni-0c00000000000000c"},
		{"", "TransitGatewayId", "tgw-1"},
		{"1.2.3.4", "InstanceId", ""},
	} {
		f.Add(s[0], s[1], s[2])
	}
	s, _ := newStore(f)
	if err := s.Seed("topology.yaml", exampleFile(f)); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, dst, target, id string) {
		r := RouteSpec{RouteTableId: "rtb-0a1b2c3d4e5f60002"}
		if strings.Contains(dst, ":") {
			r.DestinationIpv6CidrBlock = dst
		} else {
			r.DestinationCidrBlock = dst
		}
		switch target {
		case "GatewayId":
			r.GatewayId = id
		case "NatGatewayId":
			r.NatGatewayId = id
		case "NetworkInterfaceId":
			r.NetworkInterfaceId = id
		default:
			r.TransitGatewayId = id
		}
		for _, call := range []func(RouteSpec) (int, error){s.CreateRoute, s.ReplaceRoute} {
			if _, err := call(r); err != nil {
				var e *Error
				if !errors.As(err, &e) || e.Code == "" {
					t.Fatalf("%+v: error %T %v, want an *Error", r, err, err)
				}
			}
		}
		if _, err := s.DeleteRoute(r.RouteTableId, r.DestinationCidrBlock, r.DestinationIpv6CidrBlock); err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("delete %+v: error %T %v", r, err, err)
			}
		}
	})
}
