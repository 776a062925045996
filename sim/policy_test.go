package sim

import (
	"bytes"
	"encoding/binary"
	"io"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/vpcflow/vpcflow/capture"
	"github.com/vpcflow/vpcflow/packet"
	"github.com/vpcflow/vpcflow/policy"
	"github.com/vpcflow/vpcflow/topology"
)

// dropFilter drops requests (replies passing) or replies (requests passing).
type dropFilter struct{ replies bool }

func (f dropFilter) Pass(_ policy.Direction, _ *policy.Packet, reply bool) bool {
	return reply != f.replies
}

// seen is one decoded frame of a TCP conversation.
type seen struct {
	ts    int64
	flags uint8
	seq   uint32
}

// tcpByConn reads a capture and groups its TCP frames by connection (the
// client's address and port: the side that sent the first SYN), with which
// side sent each frame.
func tcpByConn(t *testing.T, data []byte) (client, server map[netip.AddrPort][]seen, udpOrICMP []packet.Packet) {
	t.Helper()
	r, err := capture.NewReader(bytes.NewReader(data), "sim")
	if err != nil {
		t.Fatal(err)
	}
	client, server = map[netip.AddrPort][]seen{}, map[netip.AddrPort][]seen{}
	for {
		f, err := r.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		var p packet.Packet
		if reason := packet.Decode(f.LinkType, f.Data, &p); reason != packet.OK {
			t.Fatalf("frame: %v", reason)
		}
		if p.Proto != packet.ProtoTCP {
			udpOrICMP = append(udpOrICMP, p)
			continue
		}
		l4 := 14 + 20
		if p.IPVersion == 6 {
			l4 = 14 + 40
		}
		s := seen{f.TimestampNanos, p.TCPFlags, binary.BigEndian.Uint32(f.Data[l4+4:])}
		// client ports are ephemeral (32768 and up), server ports are not
		if p.SrcPort >= 32768 {
			k := netip.AddrPortFrom(p.Src, p.SrcPort)
			client[k] = append(client[k], s)
		} else {
			k := netip.AddrPortFrom(p.Dst, p.DstPort)
			server[k] = append(server[k], s)
		}
	}
}

// TestRefusedConversations drops every request: TCP clients send their SYN
// three times, at 0, 1 s and 3 s, with the same sequence number, and get no
// reply; request-reply UDP gets no reply either; DNS and NTP, which AWS's
// filters leave alone, are answered as before.
func TestRefusedConversations(t *testing.T) {
	ep := DefaultEndpoint
	ep.Filter = dropFilter{}
	data, st := generate(t, Config{Packets: 5000, Flows: 300, Seed: 4, Endpoints: []Endpoint{ep}})
	client, server, other := tcpByConn(t, data)
	if len(server) != 0 {
		t.Fatalf("%d refused connections have replies", len(server))
	}
	if st.Refused == 0 || st.Unanswered != 0 {
		t.Fatalf("%d refused, %d unanswered", st.Refused, st.Unanswered)
	}
	threeTries := 0
	for k, pkts := range client {
		if len(pkts) > 3 {
			t.Fatalf("%v: %d packets, want at most 3 tries", k, len(pkts))
		}
		for i, s := range pkts {
			if s.flags != syn || s.seq != pkts[0].seq {
				t.Fatalf("%v: packet %d flags %#x seq %d, want SYN with seq %d", k, i, s.flags, s.seq, pkts[0].seq)
			}
		}
		if len(pkts) == 3 {
			threeTries++
			if d1, d2 := pkts[1].ts-pkts[0].ts, pkts[2].ts-pkts[0].ts; d1 != int64(time.Second) || d2 != int64(3*time.Second) {
				t.Fatalf("%v: tries at +%v and +%v, want +1s and +3s", k, time.Duration(d1), time.Duration(d2))
			}
		}
	}
	if threeTries == 0 {
		t.Fatal("no connection tried three times")
	}
	local := map[netip.Addr]bool{ep.IPv4: true, ep.IPv6: true}
	answered := 0
	for _, p := range other {
		dns := p.SrcPort == 53 || p.DstPort == 53 || p.SrcPort == 123
		switch {
		case dns && local[p.Dst]:
			answered++
		case !dns && local[p.Dst] && p.Proto == packet.ProtoUDP && p.SrcPort < 32768:
			t.Fatalf("a reply from %v:%d to a refused request", p.Src, p.SrcPort)
		case (p.Proto == packet.ProtoICMP && p.ICMPType == 0) || (p.Proto == packet.ProtoICMPv6 && p.ICMPType == 129):
			t.Fatalf("an echo reply from %v to a refused ping", p.Src)
		}
	}
	if answered == 0 {
		t.Fatal("DNS and NTP went unanswered: the filters do not apply to them")
	}
}

// TestUnansweredConversations drops every reply: each SYN is answered by a
// SYN-ACK (dropped on its way back), the client tries three times and gives
// up; retransmissions on both sides repeat their sequence numbers.
func TestUnansweredConversations(t *testing.T) {
	ep := DefaultEndpoint
	ep.Filter = dropFilter{replies: true}
	data, st := generate(t, Config{Packets: 5000, Flows: 300, Seed: 4, Endpoints: []Endpoint{ep}})
	if st.Unanswered == 0 || st.Refused != 0 {
		t.Fatalf("%d unanswered, %d refused", st.Unanswered, st.Refused)
	}
	client, server, _ := tcpByConn(t, data)
	full := 0
	for k, c := range client {
		s := server[k]
		if len(c) > 3 || len(s) > len(c) || len(c)-len(s) > 1 {
			t.Fatalf("%v: %d client and %d server packets, want pairs of at most 3 tries", k, len(c), len(s))
		}
		for i := range c {
			if c[i].flags != syn || c[i].seq != c[0].seq {
				t.Fatalf("%v: client packet %d flags %#x seq %d", k, i, c[i].flags, c[i].seq)
			}
			if i < len(s) && (s[i].flags != syn|ack || s[i].seq != s[0].seq || s[i].ts <= c[i].ts || s[i].ts-c[i].ts > maxRTT) {
				t.Fatalf("%v: reply %d flags %#x seq %d %v after its try", k, i, s[i].flags, s[i].seq, time.Duration(s[i].ts-c[i].ts))
			}
		}
		if len(c) == 3 && len(s) == 3 {
			full++
			if c[1].ts-c[0].ts != int64(time.Second) || c[2].ts-c[0].ts != int64(3*time.Second) {
				t.Fatalf("%v: tries at +%v, +%v", k, time.Duration(c[1].ts-c[0].ts), time.Duration(c[2].ts-c[0].ts))
			}
		}
	}
	if full == 0 {
		t.Fatal("no connection with three tries and three replies")
	}
}

// TestRefusedPacketsGoOn: the packets a refused conversation does not send
// go to a later one, so the example topology's capture (where the rules
// refuse most inbound connections) still has the packets asked for.
func TestRefusedPacketsGoOn(t *testing.T) {
	eps := exampleEndpoints(t)
	_, st := generate(t, Config{Packets: 20000, Flows: 600, Seed: 7, Endpoints: eps})
	if st.Refused == 0 || st.Packets != 20000 {
		t.Fatalf("%d refused, %d packets; want some refused and 20000 packets", st.Refused, st.Packets)
	}
}

func exampleEndpoints(t *testing.T) []Endpoint {
	t.Helper()
	topo, err := topology.Load(filepath.Join("..", "examples", "topology.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	eps, err := EndpointsFromTopology(topo)
	if err != nil {
		t.Fatal(err)
	}
	return eps
}

// TestTopologyFilters checks the filters EndpointsFromTopology gives the
// example's ENIs against its rules, read by hand: web takes 443 from
// anywhere but not 8080; the bastion takes SSH from 203.0.113.0/24 only; the
// database sends nothing (an empty egress list) but answers PostgreSQL from
// the app server; the NAT gateway has no security group and the public
// subnet's ACL allows all.
func TestTopologyFilters(t *testing.T) {
	eps := exampleEndpoints(t)
	by := map[string]Endpoint{}
	for _, e := range eps {
		by[e.IPv4.String()] = e
	}
	a := netip.MustParseAddr
	tcp := func(src string, sport uint16, dst string, dport uint16) *policy.Packet {
		return &policy.Packet{Src: a(src), Dst: a(dst), Proto: 6, SrcPort: sport, DstPort: dport, TCPFlags: policy.FlagSYN}
	}
	cases := []struct {
		eni   string
		dir   policy.Direction
		p     *policy.Packet
		reply bool
		want  bool
	}{
		{"10.0.0.10", policy.Ingress, tcp("192.0.2.7", 40000, "10.0.0.10", 443), false, true},
		{"10.0.0.10", policy.Ingress, tcp("192.0.2.7", 40000, "10.0.0.10", 8080), false, false},
		{"10.0.0.10", policy.Egress, tcp("10.0.0.10", 443, "192.0.2.7", 40000), true, true},
		{"10.0.0.5", policy.Ingress, tcp("203.0.113.9", 40000, "10.0.0.5", 22), false, true},
		{"10.0.0.5", policy.Ingress, tcp("192.0.2.7", 40000, "10.0.0.5", 22), false, false},
		{"10.0.2.30", policy.Egress, tcp("10.0.2.30", 40000, "192.0.2.7", 443), false, false},
		{"10.0.2.30", policy.Ingress, tcp("10.0.1.20", 40000, "10.0.2.30", 5432), false, true},
		{"10.0.2.30", policy.Egress, tcp("10.0.2.30", 5432, "10.0.1.20", 40000), true, true},
		{"10.0.2.30", policy.Ingress, tcp("10.0.1.99", 40000, "10.0.2.30", 5432), false, false},
		{"10.0.0.100", policy.Ingress, tcp("192.0.2.7", 40000, "10.0.0.100", 8080), false, true},
	}
	for _, c := range cases {
		e, ok := by[c.eni]
		if !ok || e.Filter == nil {
			t.Fatalf("no endpoint with a filter for %s", c.eni)
		}
		if got := e.Filter.Pass(c.dir, c.p, c.reply); got != c.want {
			t.Errorf("%s %v %v:%d -> %v:%d reply=%v: pass %v, want %v", c.eni, c.dir, c.p.Src, c.p.SrcPort, c.p.Dst, c.p.DstPort, c.reply, got, c.want)
		}
	}
}

// TestPinger: the same host pings for a pair whichever is asked first.
func TestPinger(t *testing.T) {
	a := netip.MustParseAddr
	for _, pair := range [][2]string{{"10.0.0.10", "10.0.0.5"}, {"10.0.0.10", "203.0.113.7"}, {"10.0.1.20", "10.0.2.30"}, {"2600:1f18::10", "2001:db8::1"}} {
		x, y := a(pair[0]), a(pair[1])
		if p, q := pinger(x, y), pinger(y, x); p != q || (p != x && p != y) {
			t.Errorf("%v %v: pinger %v one way, %v the other", x, y, p, q)
		}
	}
}
