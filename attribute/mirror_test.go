package attribute

import (
	"net"
	"net/netip"
	"testing"

	"github.com/vpcflow/vpcflow/flow"
	"github.com/vpcflow/vpcflow/packet"
	"github.com/vpcflow/vpcflow/record"
	"github.com/vpcflow/vpcflow/topology"
)

// TestChoiceMirrored: eni-a and eni-b are both mirrored to a target, so the target
// receives each packet between them twice, once from each source's primary
// address. Each copy gives a record to its source interface only, in the
// direction the inner packet has for it; a copy from an address no
// interface owns is attributed by its MACs, like any frame.
func TestChoiceMirrored(t *testing.T) {
	topo, err := topology.Parse("pinned.yaml", []byte(pinnedTopo))
	if err != nil {
		t.Fatal(err)
	}
	a := New(Config{Topology: topo, Captures: [][]uint32{{0}, {1}}})
	mac := func(s string) [6]byte { m, _ := net.ParseMAC(s); return [6]byte(m) }
	copyFrom := func(src, dst, smac, dmac, from string) *packet.Packet {
		p := udp(src, dst, 4000, 5000)
		p.HasMAC, p.SrcMAC, p.DstMAC = true, mac(smac), mac(dmac)
		p.Encap, p.VNI, p.TunnelSrc, p.TunnelDst = packet.EncapVXLAN, 1, netip.MustParseAddr(from), netip.MustParseAddr("10.9.0.200")
		return p
	}
	type obs struct {
		capture uint32
		dir     record.Direction
	}
	const macA, macB = "0a:00:00:00:00:0a", "0a:00:00:00:00:0b"
	for _, c := range []struct {
		name string
		p    *packet.Packet
		want []obs
	}{
		{"a to b, a's copy", copyFrom("10.9.0.10", "10.9.0.11", macA, macB, "10.9.0.10"), []obs{{0, record.Egress}}},
		{"a to b, b's copy", copyFrom("10.9.0.10", "10.9.0.11", macA, macB, "10.9.0.11"), []obs{{1, record.Ingress}}},
		{"b to a, a's copy", copyFrom("10.9.0.11", "10.9.0.10", macB, macA, "10.9.0.10"), []obs{{0, record.Ingress}}},
		{"internet to a through the router, a's copy", copyFrom("198.51.100.7", "10.9.0.10", "02:00:00:00:00:fe", macA, "10.9.0.10"),
			[]obs{{0, record.Ingress}}},
		{"a to b, copy from an undeclared source", copyFrom("10.9.0.10", "10.9.0.11", macA, macB, "10.9.0.99"),
			[]obs{{0, record.Egress}, {1, record.Ingress}}},
	} {
		var got []obs
		a.Mirrored(c.p, 1700000000e9, func(o *flow.Observation) { got = append(got, obs{o.Capture, record.Direction(o.Dir)}) })
		if !equalObs(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	if st := a.Stats(); st.Mirrored != 5 || st.MirrorSourceUnknown != 1 {
		t.Errorf("mirrored %d, unknown source %d", st.Mirrored, st.MirrorSourceUnknown)
	}

	// Without a topology the one interface gets every copy, its direction
	// from --local-cidr.
	s := single("10.9.0.10/32")
	var dirs []record.Direction
	for _, p := range []*packet.Packet{
		copyFrom("10.9.0.10", "10.9.0.11", macA, macB, "10.9.0.10"),
		copyFrom("10.9.0.11", "10.9.0.10", macB, macA, "10.9.0.10"),
	} {
		s.Mirrored(p, 1700000000e9, func(o *flow.Observation) { dirs = append(dirs, record.Direction(o.Dir)) })
	}
	if !equalObs(dirs, []record.Direction{record.Egress, record.Ingress}) || s.Stats().MirrorSourceUnknown != 0 {
		t.Errorf("single interface: %v, %+v", dirs, s.Stats())
	}
}
