package lab

import (
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/vpcflow/vpcflow/topology"
)

func prefixes(ss ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range ss {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}

func TestPingPlan(t *testing.T) {
	p := newPlan(t, "testdata/ping.yaml")
	if p.Router != "vf-lab-router" || p.Internet != "vf-lab-internet" {
		t.Errorf("namespaces %s, %s", p.Router, p.Internet)
	}
	if len(p.Subnets) != 1 || len(p.ENIs) != 1 {
		t.Fatalf("%d subnets, %d ENIs; want 1 and 1", len(p.Subnets), len(p.ENIs))
	}
	s, e := p.Subnets[0], p.ENIs[0]
	igw := netip.MustParseAddr("169.254.0.2")
	wantS := SubnetPlan{Subnet: s.Subnet, Bridge: "br-c3d4e5f60002", MAC: "02:76:66:00:00:01",
		Gateway4: netip.MustParsePrefix("10.1.2.1/24"), Table: 100, RouteTable: "rtb-0a1b2c3d4e5f60006",
		Routes: []Route{
			{Dest: netip.MustParsePrefix("10.1.2.0/24"), Dev: "br-c3d4e5f60002", What: "local"},
			{Dest: netip.MustParsePrefix("0.0.0.0/0"), Dev: "internet", Via: igw, What: "igw-0a1b2c3d4e5f60005"},
		}}
	if !reflect.DeepEqual(*s, wantS) {
		t.Errorf("subnet\n got  %+v\n want %+v", *s, wantS)
	}
	wantE := ENIPlan{ENI: e.ENI, Subnet: s, Namespace: "vf-lab-eni-0a1b2c3d4e5f60718", Port: "eni-3d4e5f60718",
		MAC: "0a:1b:2c:3d:4e:5f", Addrs: prefixes("10.1.2.15/24"), Gateway4: netip.MustParseAddr("10.1.2.1"),
		Public:     netip.MustParseAddr("203.0.113.10"),
		Neighbours: []Neighbour{{netip.MustParseAddr("10.1.2.1"), "02:76:66:00:00:01"}}}
	if !reflect.DeepEqual(*e, wantE) {
		t.Errorf("ENI\n got  %+v\n want %+v", *e, wantE)
	}
	if want := []NAT{{netip.MustParseAddr("203.0.113.10"), netip.MustParseAddr("10.1.2.15"), "eni-0a1b2c3d4e5f60718"}}; !reflect.DeepEqual(p.NAT, want) {
		t.Errorf("NAT %v, want %v", p.NAT, want)
	}
	// 203.0.113.0/24 less the instance's 203.0.113.10, by hand: halve
	// the half holding .10 until it is alone.
	want := prefixes("198.51.100.0/24",
		"203.0.113.0/29", "203.0.113.8/31", "203.0.113.11/32", "203.0.113.12/30",
		"203.0.113.16/28", "203.0.113.32/27", "203.0.113.64/26", "203.0.113.128/25",
		"192.0.2.0/24")
	if !slices.Equal(p.Peers, want) {
		t.Errorf("peers %v\nwant %v", p.Peers, want)
	}
	if p.PeerSource != netip.MustParseAddr("198.51.100.1") {
		t.Errorf("peer source %v", p.PeerSource)
	}
	if !slices.Equal(p.Inbound, prefixes("10.1.2.0/24")) {
		t.Errorf("inbound %v", p.Inbound)
	}
	if p.Link != [2]netip.Prefix{netip.MustParsePrefix("169.254.0.1/30"), netip.MustParsePrefix("169.254.0.2/30")} {
		t.Errorf("link %v", p.Link)
	}
	if len(p.Notes) != 0 || p.IPv6 {
		t.Errorf("notes %q, IPv6 %v; want none, false", p.Notes, p.IPv6)
	}
}

func TestTwoTierPlan(t *testing.T) {
	p := newPlan(t, "testdata/twotier.yaml")
	wantNotes := []string{
		"rtb-0b00000000000000f2: route ::/0 → igw-0b00000000000000f0 not built: the lab's internet is IPv4 only",
	}
	if !slices.Equal(p.Notes, wantNotes) {
		t.Errorf("notes\n%s\nwant\n%s", strings.Join(p.Notes, "\n"), strings.Join(wantNotes, "\n"))
	}
	if !p.IPv6 || len(p.ENIs) != 4 {
		t.Fatalf("IPv6 %v, %d ENIs; want true, 4 (the NAT gateway's too)", p.IPv6, len(p.ENIs))
	}
	// The NAT gateway's interface: its public address is the gateway's,
	// mapped by the internet gateway like an instance's.
	nat := eniPlan(t, p, "eni-0b00000000000000c4")
	if nat.NATGateway == nil || nat.NATGateway.ID != "nat-0b00000000000000f1" || nat.Public != netip.MustParseAddr("203.0.113.100") {
		t.Errorf("NAT gateway interface: gateway %v, public %v", nat.NATGateway, nat.Public)
	}
	if want := (NAT{netip.MustParseAddr("203.0.113.100"), netip.MustParseAddr("10.2.1.100"), "eni-0b00000000000000c4"}); !slices.Contains(p.NAT, want) {
		t.Errorf("internet gateway translations %v lack %v", p.NAT, want)
	}
	web1 := eniPlan(t, p, "eni-0b00000000000000c1")
	router := "02:76:66:00:00:01"
	wantN := []Neighbour{
		{netip.MustParseAddr("10.2.1.1"), router},
		{netip.MustParseAddr("2001:db8:2:1::1"), router},
		{netip.MustParseAddr("10.2.1.11"), "0a:0b:00:00:00:c2"},
		{netip.MustParseAddr("2001:db8:2:1::11"), "0a:0b:00:00:00:c2"},
		{netip.MustParseAddr("10.2.1.100"), "0a:0b:00:00:00:c4"}, // the NAT gateway
	}
	if !reflect.DeepEqual(web1.Neighbours, wantN) {
		t.Errorf("web1 neighbours %v\nwant %v", web1.Neighbours, wantN)
	}
	if !slices.Equal(web1.Addrs, prefixes("10.2.1.10/24", "2001:db8:2:1::10/64")) || web1.Gateway6 != netip.MustParseAddr("2001:db8:2:1::1") {
		t.Errorf("web1 addresses %v via %v", web1.Addrs, web1.Gateway6)
	}
	db := eniPlan(t, p, "eni-0b00000000000000c3")
	if !slices.Equal(db.Addrs, prefixes("10.2.2.30/24", "10.2.2.31/24")) || db.Public.IsValid() {
		t.Errorf("db addresses %v, public %v", db.Addrs, db.Public)
	}
	// The database's subnet uses the main table: the VPC's subnets
	// (local), and the default route through the NAT gateway's interface
	// on the web subnet's bridge.
	var got []string
	for _, r := range db.Subnet.Routes {
		got = append(got, strings.TrimSpace(r.Dest.String()+" "+r.Dev+" "+r.Via.String()))
	}
	if want := []string{"10.2.1.0/24 br-0000000000a1 invalid IP", "2001:db8:2:1::/64 br-0000000000a1 invalid IP", "10.2.2.0/24 br-0000000000a2 invalid IP",
		"0.0.0.0/0 br-0000000000a1 10.2.1.100"}; !slices.Equal(got, want) {
		t.Errorf("db routes %q, want %q", got, want)
	}
	if db.Subnet.Table != 101 || db.Subnet.RouteTable != "rtb-0b00000000000000f3" {
		t.Errorf("db table %d (%s)", db.Subnet.Table, db.Subnet.RouteTable)
	}
}

func TestPlanRefuses(t *testing.T) {
	ping := func(extra string) *topology.Topology {
		t.Helper()
		top, err := topology.Parse("t.yaml", []byte(`
Vpcs:
  - {VpcId: vpc-1, CidrBlock: 10.1.0.0/16}
Subnets:
  - {SubnetId: subnet-1, VpcId: vpc-1, CidrBlock: 10.1.2.0/24}
NetworkInterfaces:
  - {NetworkInterfaceId: eni-1, SubnetId: subnet-1, MacAddress: "0a:00:00:00:00:01", PrivateIpAddress: 10.1.2.15, Association: {PublicIp: 203.0.113.10}}
`+extra))
		if err != nil {
			t.Fatal(err)
		}
		return top
	}
	cases := []struct {
		name string
		cfg  func(*Configuration)
		top  *topology.Topology
		want string
	}{
		{"bad id", func(c *Configuration) { c.ID = "Lab-1" }, ping(""), `lab: ID: lab id "Lab-1": want 1 to 12 lowercase letters and digits, not 'L'`},
		{"long id", func(c *Configuration) { c.ID = "abcdefghijklm" }, ping(""), `lab: ID: lab id "abcdefghijklm": want 1 to 12 lowercase letters and digits`},
		{"link", func(c *Configuration) { c.Link = netip.MustParsePrefix("169.254.0.0/29") }, ping(""), "lab: Link: 169.254.0.0/29: want an IPv4 network of 4 addresses (a /30)"},
	}
	two, err := topology.Parse("t.yaml", []byte(`
Vpcs:
  - {VpcId: vpc-1, CidrBlock: 10.1.0.0/16}
  - {VpcId: vpc-2, CidrBlock: 10.1.128.0/17}
`))
	if err != nil {
		t.Fatal(err)
	}
	cases = append(cases, struct {
		name string
		cfg  func(*Configuration)
		top  *topology.Topology
		want string
	}{"VPCs overlap", nil, two, "lab: vpc-1 (10.1.0.0/16) and vpc-2 (10.1.128.0/17) overlap: the lab routes every VPC in one namespace, so their CIDRs must be distinct"})
	for _, c := range cases {
		cfg := DefaultConfiguration()
		if c.cfg != nil {
			c.cfg(&cfg)
		}
		_, err := New(cfg, Dependencies{Topology: c.top})
		if err == nil || err.Error() != c.want {
			t.Errorf("%s: error %v, want %s", c.name, err, c.want)
		}
	}
	// A public address without an internet gateway is a note, not an
	// error: the instance is built, unreachable from the internet.
	l, err := New(DefaultConfiguration(), Dependencies{Topology: ping("")})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"eni-1: public address 203.0.113.10 not reachable: no internet gateway is attached to vpc-1"}; !slices.Equal(l.Plan().Notes, want) {
		t.Errorf("notes %q, want %q", l.Plan().Notes, want)
	}
	if len(l.Plan().NAT) != 0 || !slices.Contains(l.Plan().Peers, netip.MustParsePrefix("203.0.113.0/24")) {
		t.Errorf("NAT %v, peers %v: want no NAT, 203.0.113.0/24 whole", l.Plan().NAT, l.Plan().Peers)
	}
}

func TestSubtract(t *testing.T) {
	for _, c := range []struct {
		p    string
		ex   []string
		want []netip.Prefix
	}{
		{"10.0.0.0/30", nil, prefixes("10.0.0.0/30")},
		{"10.0.0.0/30", []string{"10.0.0.0"}, prefixes("10.0.0.1/32", "10.0.0.2/31")},
		{"10.0.0.0/30", []string{"10.0.0.3", "10.0.0.0"}, prefixes("10.0.0.1/32", "10.0.0.2/32")},
		{"10.0.0.0/30", []string{"10.0.0.0", "10.0.0.1", "10.0.0.2", "10.0.0.3"}, nil},
		{"10.0.0.0/30", []string{"10.0.0.9"}, prefixes("10.0.0.0/30")},
	} {
		var ex []netip.Addr
		for _, a := range c.ex {
			ex = append(ex, netip.MustParseAddr(a))
		}
		if got := subtract(netip.MustParsePrefix(c.p), ex); !slices.Equal(got, c.want) {
			t.Errorf("%s less %v = %v, want %v", c.p, c.ex, got, c.want)
		}
	}
}

func TestShortName(t *testing.T) {
	taken := map[string]string{}
	for _, c := range []struct{ id, want string }{
		{"eni-0a1b2c3d4e5f60718", "eni-3d4e5f60718"},
		{"eni-1", "eni-1"},
		{"eni-ffff3d4e5f60718", "eni-2"}, // same last 11 as the first: the index
		{"eni-", "eni-3"},
	} {
		if got := shortName("eni-", c.id, 11, len(taken), taken); got != c.want {
			t.Errorf("shortName(%s) = %s, want %s", c.id, got, c.want)
		}
	}
}
