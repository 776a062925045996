package attribute

import (
	"net/netip"
	"testing"

	"github.com/vpcflow/vpcflow/flow"
	"github.com/vpcflow/vpcflow/packet"
	"github.com/vpcflow/vpcflow/record"
)

func single(local ...string) *Attributor {
	var pfx []netip.Prefix
	for _, l := range local {
		pfx = append(pfx, netip.MustParsePrefix(l))
	}
	return New(Config{Captures: [][]uint32{{0}}, LocalPrefixes: pfx})
}

func collect(a *Attributor, p *packet.Packet) []flow.Observation {
	var out []flow.Observation
	a.Packet(p, 1700000000e9, func(o *flow.Observation) { out = append(out, *o) })
	return out
}

func udp(src, dst string, sport, dport uint16) *packet.Packet {
	return &packet.Packet{Src: netip.MustParseAddr(src), Dst: netip.MustParseAddr(dst), Proto: 17,
		HasPorts: true, SrcPort: sport, DstPort: dport, IPLen: 100}
}

func TestDirectionSingleInterface(t *testing.T) {
	a := single("10.0.1.10/32")
	out := collect(a, udp("10.0.1.10", "198.51.100.1", 5000, 443))
	in := collect(a, udp("198.51.100.1", "10.0.1.10", 443, 5000))
	if len(out) != 1 || out[0].Dir != uint8(record.Egress) || len(in) != 1 || in[0].Dir != uint8(record.Ingress) {
		t.Fatalf("out %+v in %+v", out, in)
	}
	if out[0].Action != uint8(record.ActionAccept) || out[0].Bytes != 100 {
		t.Errorf("%+v", out[0])
	}
}

// Exclusions without a topology (docs/aws-behaviour.md, "Excluded traffic"):
// DHCP, DHCPv6 and link-local, in both directions.
func TestExclusions(t *testing.T) {
	a := single()
	for _, p := range []*packet.Packet{
		udp("10.0.1.10", "255.255.255.255", 68, 67),
		udp("10.0.0.1", "10.0.1.10", 67, 68),
		udp("fe80::1", "ff02::1:2", 546, 547),
		udp("10.0.1.10", "169.254.169.123", 123, 123),
		udp("169.254.169.254", "10.0.1.10", 80, 40000),
		udp("fd00:ec2::254", "2001:db8::1", 80, 40000),
	} {
		if got := collect(a, p); len(got) != 0 {
			t.Errorf("%v→%v not excluded", p.Src, p.Dst)
		}
	}
	if got := collect(a, udp("10.0.1.10", "10.0.0.2", 5353, 53)); len(got) != 1 {
		t.Error("the VPC resolver is excluded only when a topology says where it is")
	}
	st := a.Stats()
	if st.Excluded[ExclDHCP] != 3 || st.Excluded[ExclLinkLocal] != 3 {
		t.Errorf("counters %+v", st.Excluded)
	}
}

// [Choice] A later fragment takes the ports of the first fragment
// with the same (source, destination, protocol, IP ID), else 0.
func TestFragmentPorts(t *testing.T) {
	a := single()
	first := udp("198.51.100.1", "10.0.1.10", 4000, 5000)
	first.Fragment, first.MoreFragments, first.FragID = true, true, 7
	later := &packet.Packet{Src: first.Src, Dst: first.Dst, Proto: 17, Fragment: true, FragOffset: 1480, FragID: 7, IPLen: 60}
	other := *later
	other.FragID = 8
	obs := append(append(collect(a, first), collect(a, later)...), collect(a, &other)...)
	if len(obs) != 3 || obs[1].SrcPort != 4000 || obs[1].DstPort != 5000 || obs[2].SrcPort != 0 || obs[2].DstPort != 0 {
		t.Fatalf("%+v", obs)
	}
	if a.Stats().FragmentsNoPorts != 1 {
		t.Errorf("FragmentsNoPorts %d", a.Stats().FragmentsNoPorts)
	}
}

func TestTCPFlagsOnlyForTCP(t *testing.T) {
	a := single()
	p := udp("198.51.100.1", "10.0.1.10", 1, 2)
	p.TCPFlags = 0x12
	if o := collect(a, p); o[0].TCPFlags != 0 {
		t.Error("UDP got TCP flags")
	}
	p.Proto = 6
	if o := collect(a, p); o[0].TCPFlags != flow.FlagSYN|flow.FlagSYNACK {
		t.Errorf("SYN-ACK → %d", o[0].TCPFlags)
	}
}
