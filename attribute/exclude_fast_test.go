package attribute

import (
	"net/netip"
	"testing"

	"github.com/vpcflow/vpcflow/packet"
	"github.com/vpcflow/vpcflow/topology"
)

// TestLinkLocalMatchesPrefixes: the byte compares of linkLocal agree with
// the prefix and the list they stand for, on the edges of each.
func TestLinkLocalMatchesPrefixes(t *testing.T) {
	for _, s := range []string{
		"169.254.0.0", "169.254.169.254", "169.254.255.255", "169.253.255.255", "169.255.0.0", "10.0.0.1",
		"fd00:ec2::254", "fd00:ec2::123", "fd00:ec2::253", "fd00:ec2::255", "fd00:ec2::1:254", "fd00:ec3::254",
		"::ffff:169.254.1.1", "2001:db8::1", "fe80::1", "::", "0.0.0.0", "fd00:ec2::254%eth0",
	} {
		a := netip.MustParseAddr(s)
		want := linkLocal4.Contains(a)
		for _, e := range ec2v6 {
			want = want || a == e
		}
		if got := linkLocal(a); got != want {
			t.Errorf("linkLocal(%s) = %v, want %v", s, got, want)
		}
	}
}

// TestExclusionsTopology: with the example topology (VPC 10.0.0.0/16,
// subnets 10.0.0.0/24, 10.0.1.0/24 and 10.0.2.0/24), traffic to or from the
// VPC resolver on port 53 (VPC base + 2, 10.0.0.2) and to or from a subnet's
// router (subnet base + 1) is excluded, whichever side the listed address
// is on, and addresses ending like them but not theirs are not.
func TestExclusionsTopology(t *testing.T) {
	topo, err := topology.Load("../examples/topology.yaml")
	if err != nil {
		t.Fatal(err)
	}
	x := newExclusions(topo)
	pkt := func(proto uint8, src, dst string, sport, dport uint16) *packet.Packet {
		return &packet.Packet{Src: netip.MustParseAddr(src), Dst: netip.MustParseAddr(dst), Proto: proto,
			HasPorts: proto != 1, SrcPort: sport, DstPort: dport}
	}
	for _, c := range []struct {
		p    *packet.Packet
		want Exclusion
	}{
		{pkt(17, "10.0.1.20", "10.0.0.2", 40000, 53), ExclAmazonDNS},
		{pkt(17, "10.0.0.2", "10.0.1.20", 53, 40000), ExclAmazonDNS},
		{pkt(6, "10.0.2.30", "10.0.0.2", 40000, 53), ExclAmazonDNS},
		{pkt(17, "::ffff:10.0.1.20", "::ffff:10.0.0.2", 40000, 53), ExclAmazonDNS},
		{pkt(17, "10.0.1.20", "10.0.0.2", 40000, 54), notExcluded},
		{pkt(17, "10.0.1.20", "10.1.0.2", 40000, 53), notExcluded},
		{pkt(1, "10.0.1.20", "10.0.1.1", 0, 0), ExclRouter},
		{pkt(1, "10.0.2.1", "10.0.2.30", 0, 0), ExclRouter},
		{pkt(6, "10.0.0.10", "10.0.0.1", 40000, 443), ExclRouter},
		{pkt(1, "10.0.1.20", "10.0.3.1", 0, 0), notExcluded},
		{pkt(6, "10.0.0.10", "198.51.100.7", 443, 40000), notExcluded},
	} {
		if got := x.match(c.p, c.p.SrcPort, c.p.DstPort); got != c.want {
			t.Errorf("%v:%d → %v:%d proto %d: %q, want %q", c.p.Src, c.p.SrcPort, c.p.Dst, c.p.DstPort, c.p.Proto, got, c.want)
		}
	}
}
