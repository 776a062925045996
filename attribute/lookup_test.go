package attribute

import (
	"net/netip"
	"testing"

	"github.com/vpcflow/vpcflow/flow"
	"github.com/vpcflow/vpcflow/topology"
)

// TestLocalNetsMatchesContains: the masked integers say what
// netip.Prefix.Contains says, on the edges of each prefix, for mapped and
// zoned addresses too.
func TestLocalNetsMatchesContains(t *testing.T) {
	sets := [][]string{
		{"10.0.1.10/32"},
		{"10.0.1.10/32", "2600:1f18:7a3:f401::10/128"},
		{"10.0.0.0/8", "192.168.1.0/24"},
		{"0.0.0.0/0"},
		{"::/0"},
		{"2001:db8::/32", "2001:db8:0:0:8000::/65"},
		{"2001:db8:1:2::/64"},
		{"::ffff:10.0.0.0/104"},
		{},
	}
	addrs := []string{
		"10.0.1.10", "10.0.1.11", "10.0.1.9", "10.255.255.255", "11.0.0.0", "9.255.255.255", "192.168.1.0",
		"192.168.1.255", "192.168.2.0", "0.0.0.0", "255.255.255.255", "::ffff:10.0.1.10", "::ffff:11.0.0.0",
		"2600:1f18:7a3:f401::10", "2600:1f18:7a3:f401::11", "2001:db8::1", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
		"2001:db9::", "2001:db7:ffff::", "2001:db8:0:0:8000::", "2001:db8:0:0:7fff:ffff:ffff:ffff",
		"2001:db8:1:2::", "2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:3::", "2001:db8:1:2::1%eth0", "::", "fe80::1%eth0",
	}
	for _, set := range sets {
		var pfx []netip.Prefix
		for _, s := range set {
			pfx = append(pfx, netip.MustParsePrefix(s))
		}
		l := newLocalNets(pfx)
		for _, s := range addrs {
			a := netip.MustParseAddr(s)
			want := false
			for _, p := range pfx {
				want = want || p.Contains(a.Unmap())
			}
			if got := l.contains(a); got != want {
				t.Errorf("prefixes %v, %s: got %v, want %v", set, s, got, want)
			}
		}
	}
}

// Two VPCs that both use 10.1.0.5: that address is no one's without the VPC.
const indexTopo = `
AccountId: "111122223333"
Region: us-east-1
Vpcs:
  - {VpcId: vpc-1, CidrBlock: 10.1.0.0/16, Ipv6CidrBlockAssociationSet: [{Ipv6CidrBlock: "2600:1f18:abcd:ef00::/56"}]}
  - {VpcId: vpc-2, CidrBlock: 10.1.0.0/16}
Subnets:
  - {SubnetId: subnet-1, VpcId: vpc-1, CidrBlock: 10.1.0.0/24, Ipv6CidrBlockAssociationSet: [{Ipv6CidrBlock: "2600:1f18:abcd:ef00::/64"}]}
  - {SubnetId: subnet-2, VpcId: vpc-2, CidrBlock: 10.1.0.0/24}
NetworkInterfaces:
  - {NetworkInterfaceId: eni-a, SubnetId: subnet-1, MacAddress: "0a:00:00:00:00:0a", PrivateIpAddress: 10.1.0.5,
     PrivateIpAddresses: [{PrivateIpAddress: 10.1.0.5, Primary: true}, {PrivateIpAddress: 10.1.0.6}],
     Ipv6Addresses: [{Ipv6Address: "2600:1f18:abcd:ef00::10"}]}
  - {NetworkInterfaceId: eni-b, SubnetId: subnet-2, MacAddress: "0a:00:00:00:00:0b", PrivateIpAddress: 10.1.0.5}
  - {NetworkInterfaceId: eni-c, SubnetId: subnet-2, MacAddress: "0a:00:00:00:00:0c", PrivateIpAddress: 10.1.0.7}
`

// TestENIIndexMatchesTopology: the index answers what the topology's own
// lookups answer, for every pair of MACs asked again and again (hits and
// evictions of the pair cache) and for addresses in both families.
func TestENIIndexMatchesTopology(t *testing.T) {
	topo, err := topology.Parse("index.yaml", []byte(indexTopo))
	if err != nil {
		t.Fatal(err)
	}
	if topo.ENIByIP("", netip.MustParseAddr("10.1.0.5")) != nil || topo.ENIByIP("", netip.MustParseAddr("10.1.0.6")) == nil {
		t.Fatal("the topology is not the one this test needs: 10.1.0.5 in two VPCs, 10.1.0.6 in one")
	}
	x := newENIIndex(topo)
	var macs [][6]byte
	for i := range 40 {
		macs = append(macs, [6]byte{0x0a, 0, 0, 0, 0, byte(i)}) // 0x0a-0x0c are declared
	}
	for range 3 {
		for _, s := range macs {
			for _, d := range macs {
				from, to := x.byMACs(s, d)
				if from != topo.ENIByMAC(s) || to != topo.ENIByMAC(d) {
					t.Fatalf("%x → %x: got %v %v", s, d, from, to)
				}
			}
		}
	}
	for _, s := range []string{"10.1.0.5", "10.1.0.6", "10.1.0.7", "10.1.0.8", "::ffff:10.1.0.6", "::ffff:10.1.0.5",
		"2600:1f18:abcd:ef00::10", "2600:1f18:abcd:ef00::11", "2600:1f18:abcd:ef00::10%eth0", "0.0.0.0", "::"} {
		a := netip.MustParseAddr(s)
		if got, want := x.byIP(a), topo.ENIByIP("", a); got != want {
			t.Errorf("%s: got %v, want %v", s, got, want)
		}
	}
}

// TestSetTopologyForgetsMACs: after a topology change the same MACs are
// looked up in the new topology, not answered from the old one.
func TestSetTopologyForgetsMACs(t *testing.T) {
	before, err := topology.Parse("before.yaml", []byte(pinnedTopo))
	if err != nil {
		t.Fatal(err)
	}
	// eni-a's MAC now belongs to eni-z, the second ENI by id.
	after, err := topology.Parse("after.yaml", []byte(`
AccountId: "111122223333"
Region: us-east-1
Vpcs: [{VpcId: vpc-1, CidrBlock: 10.9.0.0/16}]
Subnets: [{SubnetId: subnet-1, VpcId: vpc-1, CidrBlock: 10.9.0.0/24}]
NetworkInterfaces:
  - {NetworkInterfaceId: eni-b, SubnetId: subnet-1, MacAddress: "0a:00:00:00:00:0b", PrivateIpAddress: 10.9.0.11}
  - {NetworkInterfaceId: eni-z, SubnetId: subnet-1, MacAddress: "0a:00:00:00:00:0a", PrivateIpAddress: 10.9.0.10}
`))
	if err != nil {
		t.Fatal(err)
	}
	a := New(Config{Topology: before, Captures: [][]uint32{{100}, {101}}})
	p := udp("10.9.0.10", "198.51.100.1", 4000, 443)
	p.HasMAC, p.SrcMAC, p.DstMAC = true, [6]byte{0x0a, 0, 0, 0, 0, 0x0a}, [6]byte{0x02, 0, 0, 0, 0, 0xfe}
	var caps []uint32
	emit := func(o *flow.Observation) { caps = append(caps, o.Capture) }
	a.Packet(p, 1700000000e9, emit)
	a.SetTopology(after, nil)
	a.Packet(p, 1700000001e9, emit)
	// eni-a is index 0 before; eni-z index 1 after (ENIs sort by id).
	if len(caps) != 2 || caps[0] != 100 || caps[1] != 101 {
		t.Errorf("captures %v, want [100 101]", caps)
	}
}
