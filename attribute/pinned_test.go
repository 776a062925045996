package attribute

import (
	"net"
	"testing"

	"github.com/vpcflow/vpcflow/flow"
	"github.com/vpcflow/vpcflow/packet"
	"github.com/vpcflow/vpcflow/record"
	"github.com/vpcflow/vpcflow/topology"
)

// Two ENIs of one subnet; security groups allow everything, so only the
// attribution is under test.
const pinnedTopo = `
AccountId: "111122223333"
Region: us-east-1
Vpcs: [{VpcId: vpc-1, CidrBlock: 10.9.0.0/16}]
Subnets: [{SubnetId: subnet-1, VpcId: vpc-1, CidrBlock: 10.9.0.0/24}]
NetworkInterfaces:
  - {NetworkInterfaceId: eni-a, SubnetId: subnet-1, MacAddress: "0a:00:00:00:00:0a", PrivateIpAddress: 10.9.0.10}
  - {NetworkInterfaceId: eni-b, SubnetId: subnet-1, MacAddress: "0a:00:00:00:00:0b", PrivateIpAddress: 10.9.0.11}
`

// TestPacketOn: on an interface pinned to eni-a only eni-a sees a packet,
// where MAC attribution gives both ENIs a record; the direction comes from
// eni-a's addresses, else from the source MAC (eni-a's or the interface's).
func TestPacketOn(t *testing.T) {
	topo, err := topology.Parse("pinned.yaml", []byte(pinnedTopo))
	if err != nil {
		t.Fatal(err)
	}
	a := New(Config{Topology: topo, Captures: [][]uint32{{0}, {1}}})
	mac := func(s string) [6]byte { m, _ := net.ParseMAC(s); return [6]byte(m) }
	ifMAC := mac("02:11:22:33:44:55") // the host's own interface, not declared
	pkt := func(src, dst, smac, dmac string) *packet.Packet {
		p := udp(src, dst, 4000, 5000)
		p.HasMAC, p.SrcMAC, p.DstMAC = true, mac(smac), mac(dmac)
		return p
	}
	eniA := topo.ENIByID("eni-a")
	type obs struct {
		capture uint32
		dir     record.Direction
	}
	for _, c := range []struct {
		name   string
		p      *packet.Packet
		pinned []obs
		byMAC  []obs
	}{
		{"a to b", pkt("10.9.0.10", "10.9.0.11", "0a:00:00:00:00:0a", "0a:00:00:00:00:0b"),
			[]obs{{0, record.Egress}}, []obs{{0, record.Egress}, {1, record.Ingress}}},
		{"b to a", pkt("10.9.0.11", "10.9.0.10", "0a:00:00:00:00:0b", "0a:00:00:00:00:0a"),
			[]obs{{0, record.Ingress}}, []obs{{1, record.Egress}, {0, record.Ingress}}},
		{"forwarded out by the host", pkt("198.51.100.1", "203.0.113.9", "02:11:22:33:44:55", "02:00:00:00:00:fe"),
			[]obs{{0, record.Egress}}, nil},
		{"forwarded in", pkt("203.0.113.9", "198.51.100.1", "02:00:00:00:00:fe", "02:11:22:33:44:55"),
			[]obs{{0, record.Ingress}}, nil},
	} {
		var pinned, byMAC []obs
		a.PacketOn(eniA, ifMAC, c.p, 1700000000e9, func(o *flow.Observation) {
			pinned = append(pinned, obs{o.Capture, record.Direction(o.Dir)})
		})
		a.Packet(c.p, 1700000000e9, func(o *flow.Observation) { byMAC = append(byMAC, obs{o.Capture, record.Direction(o.Dir)}) })
		if !equalObs(pinned, c.pinned) || !equalObs(byMAC, c.byMAC) {
			t.Errorf("%s: pinned %v (want %v), by MAC %v (want %v)", c.name, pinned, c.pinned, byMAC, c.byMAC)
		}
	}
}

func equalObs[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
