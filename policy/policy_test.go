package policy

import (
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/vpcflow/vpcflow/topology"
)

// Expected verdicts below were worked out by hand from testdata/cases.yaml
// (or examples/ping.yaml) and the AWS semantics in docs/aws-behaviour.md,
// "Security groups and network ACLs":
// NACL in → SG in; SG out → NACL out; NACL only across the subnet boundary;
// SG replies pass by tracking.

func load(t testing.TB, path string) *topology.Topology {
	t.Helper()
	top, err := topology.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return top
}

func parse(t testing.TB, name, text string) *topology.Topology {
	t.Helper()
	top, err := topology.Parse(name, []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return top
}

func engine(t testing.TB, top *topology.Topology, cfg Config) *Engine {
	t.Helper()
	e, err := New(top, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// pkt builds a packet from "proto src dst [flags]" with addresses as
// ip:port, [ip6]:port, or bare ip (ICMP: "icmp 1.2.3.4 5.6.7.8 8/0").
func pkt(t testing.TB, s string) *Packet {
	t.Helper()
	f := strings.Fields(s)
	p := &Packet{}
	proto, err := topology.ParseProtocol(f[0])
	if err != nil {
		t.Fatal(err)
	}
	p.Proto = uint8(proto)
	addr := func(x string) (netip.Addr, uint16) {
		if ap, err := netip.ParseAddrPort(x); err == nil {
			return ap.Addr(), ap.Port()
		}
		a, err := netip.ParseAddr(x)
		if err != nil {
			t.Fatalf("bad address %q", x)
		}
		return a, 0
	}
	p.Src, p.SrcPort = addr(f[1])
	p.Dst, p.DstPort = addr(f[2])
	if len(f) > 3 {
		switch p.Proto {
		case topology.ProtoICMP, topology.ProtoICMPv6:
			var ty, co int
			if _, err := fmt.Sscanf(f[3], "%d/%d", &ty, &co); err != nil {
				t.Fatalf("bad icmp %q", f[3])
			}
			p.ICMPType, p.ICMPCode = uint8(ty), uint8(co)
		case topology.ProtoTCP:
			for _, c := range f[3] {
				switch c {
				case 'S':
					p.TCPFlags |= FlagSYN
				case 'A':
					p.TCPFlags |= FlagACK
				case 'F':
					p.TCPFlags |= FlagFIN
				case 'R':
					p.TCPFlags |= FlagRST
				}
			}
		}
	}
	return p
}

type step struct {
	eni  string
	dir  Direction
	pkt  string
	at   int64 // seconds since the scenario start
	want string
}

func runSteps(t *testing.T, e *Engine, top *topology.Topology, steps []step) {
	t.Helper()
	const t0 = int64(1700000000) * 1e9
	for i, s := range steps {
		eni := top.ENIByID(s.eni)
		if eni == nil {
			t.Fatalf("step %d: no ENI %s", i, s.eni)
		}
		v := e.Decide(eni, s.dir, pkt(t, s.pkt), t0+s.at*1e9)
		if got := v.Action() + " " + v.Rule; got != s.want {
			t.Errorf("step %d %s %s %q at +%ds:\n got %s\nwant %s", i, s.eni, s.dir, s.pkt, s.at, got, s.want)
		}
	}
}

func TestMustShow(t *testing.T) {
	top := load(t, "testdata/cases.yaml")
	cases := []struct {
		name  string
		steps []step
	}{
		{"sg reply allowed without an outbound rule, NACL ephemeral return rule missing", []step{
			// sg-web has no egress rules; the reply passes the SG by tracking,
			// then acl-a egress has only 443 (100), v6 ephemeral (101), 10/16 (110).
			{"eni-a1", Ingress, "tcp 198.51.100.23:51544 10.0.1.10:443 S", 0, "ACCEPT sg-web/ingress/1"},
			{"eni-a1", Egress, "tcp 10.0.1.10:443 198.51.100.23:51544 SA", 0, "REJECT acl-a/egress/*"},
			{"eni-a1", Ingress, "tcp 198.51.100.23:51544 10.0.1.10:443 A", 1, "ACCEPT sg-web/ingress/1"},
		}},
		{"sg reply allowed inside the VPC where the NACL allows it", []step{
			{"eni-b1", Ingress, "tcp 10.0.1.20:40000 10.0.2.30:5432 S", 0, "ACCEPT sg-db/ingress/1"},
			{"eni-b1", Egress, "tcp 10.0.2.30:5432 10.0.1.20:40000 SA", 0, "ACCEPT sg-db/tracked"},
			// a new outbound connection from the db has no rule
			{"eni-b1", Egress, "tcp 10.0.2.30:40001 10.0.1.20:5432 S", 1, "REJECT sg-db/egress/none"},
		}},
		{"deny rule before allow rule", []step{
			{"eni-a1", Ingress, "tcp 203.0.113.77:40112 10.0.1.10:443 S", 0, "REJECT acl-a/ingress/90"},
			// 198.51.100.0/24 is denied by 200, but 100 allows first
			{"eni-a1", Ingress, "tcp 198.51.100.5:40000 10.0.1.10:443 S", 0, "ACCEPT sg-web/ingress/1"},
			{"eni-a1", Ingress, "tcp 203.0.113.99:40112 10.0.1.10:23 S", 0, "REJECT acl-a/ingress/*"},
		}},
		{"same-subnet traffic skips the NACL", []step{
			// acl-a has no inbound rule for 10.0.0.0/16: only the SG decides
			{"eni-a1", Ingress, "tcp 10.0.1.20:40000 10.0.1.10:22 S", 0, "ACCEPT sg-web/ingress/2"},
			{"eni-a1", Ingress, "tcp 10.0.2.30:40000 10.0.1.10:22 S", 0, "REJECT acl-a/ingress/*"},
		}},
		{"IPv6 rules", []step{
			{"eni-a1", Ingress, "tcp [2001:db8:ffff::1]:50000 [2001:db8:1:1::10]:443 S", 0, "ACCEPT sg-web/ingress/1"},
			{"eni-a1", Egress, "tcp [2001:db8:1:1::10]:443 [2001:db8:ffff::1]:50000 SA", 0, "ACCEPT sg-web/tracked"},
			// IPv4-only rule 2 (10.0.0.0/16) does not match IPv6; the NACL has no v6 rule for 22
			{"eni-a1", Ingress, "tcp [2001:db8:1:1::20]:50000 [2001:db8:1:1::10]:22 S", 0, "REJECT sg-web/ingress/none"},
			{"eni-a1", Ingress, "tcp [2001:db8:ffff::1]:50000 [2001:db8:1:1::10]:22 S", 0, "REJECT acl-a/ingress/*"},
		}},
		{"SG-to-SG references", []step{
			{"eni-b1", Ingress, "tcp 10.0.1.20:40000 10.0.2.30:5432 S", 0, "ACCEPT sg-db/ingress/1"},
			{"eni-b1", Ingress, "tcp 10.0.1.10:40000 10.0.2.30:5432 S", 0, "REJECT sg-db/ingress/none"},
			{"eni-a2", Egress, "tcp 10.0.1.20:40002 10.0.2.30:5432 S", 0, "ACCEPT sg-app/egress/1"},
			{"eni-a2", Egress, "tcp 10.0.1.20:40003 10.0.2.40:5432 S", 0, "REJECT sg-app/egress/none"},
			{"eni-a2", Ingress, "tcp 10.0.1.10:40000 10.0.1.20:8080 S", 0, "ACCEPT sg-app/ingress/1"},
		}},
		{"protocol -1", []step{
			{"eni-b2", Ingress, "udp 10.0.1.20:5000 10.0.2.40:161", 0, "ACCEPT sg-any/ingress/1"},
			{"eni-b2", Ingress, "47 10.0.1.20 10.0.2.40", 0, "ACCEPT sg-any/ingress/1"},
			{"eni-b2", Ingress, "udp 198.51.100.1:5000 10.0.2.40:161", 0, "REJECT sg-any,sg-web/ingress/none"},
			{"eni-b2", Ingress, "tcp 198.51.100.1:5000 10.0.2.40:443 S", 0, "ACCEPT sg-web/ingress/1"},
			// absent IpPermissionsEgress = allow all
			{"eni-b2", Egress, "udp 10.0.2.40:5000 198.51.100.53:53", 0, "ACCEPT sg-any/egress/1"},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			runSteps(t, engine(t, top, Config{}), top, c.steps)
		})
	}
}

// TestPingScenario reproduces the table of docs/aws-behaviour.md, "The ping
// example": one row per SG/NACL combination.
func TestPingScenario(t *testing.T) {
	base, err := os.ReadFile("../examples/ping.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const (
		req   = "icmp 198.51.100.7 10.1.2.15 8/0"
		reply = "icmp 10.1.2.15 198.51.100.7 0/0"
		eni   = "eni-0a1b2c3d4e5f60718"
		sg    = "sg-0a1b2c3d4e5f60003"
		acl   = "acl-0a1b2c3d4e5f60004"
	)
	naclOut := strings.Replace(string(base), "IcmpTypeCode: {Type: -1, Code: -1}}",
		"IcmpTypeCode: {Type: -1, Code: -1}}\n      - {RuleNumber: 100, Protocol: \"1\", RuleAction: allow, Egress: true, CidrBlock: 0.0.0.0/0}", 1)
	noSG := strings.Replace(string(base), "    IpPermissions:\n      - IpProtocol: icmp\n        FromPort: -1\n        ToPort: -1\n        IpRanges: [{CidrIp: 0.0.0.0/0}]\n", "    IpPermissions: []\n", 1)
	naclInDeny := strings.Replace(string(base), "      - {RuleNumber: 100, Protocol: \"1\", RuleAction: allow, Egress: false, CidrBlock: 0.0.0.0/0, IcmpTypeCode: {Type: -1, Code: -1}}\n", "", 1)
	if naclOut == string(base) || noSG == string(base) || naclInDeny == string(base) {
		t.Fatal("examples/ping.yaml changed: update the variants")
	}
	rows := []struct {
		name, yaml string
		steps      []step
	}{
		{"SG allow, NACL in allow, NACL out deny", string(base), []step{
			{eni, Ingress, req, 0, "ACCEPT " + sg + "/ingress/1"},
			{eni, Egress, reply, 1, "REJECT " + acl + "/egress/*"},
		}},
		{"SG allow, NACL in allow, NACL out allow", naclOut, []step{
			{eni, Ingress, req, 0, "ACCEPT " + sg + "/ingress/1"},
			{eni, Egress, reply, 1, "ACCEPT " + sg + "/tracked"},
		}},
		{"SG no rule", noSG, []step{
			{eni, Ingress, req, 0, "REJECT " + sg + "/ingress/none"},
		}},
		{"NACL in deny", naclInDeny, []step{
			{eni, Ingress, req, 0, "REJECT " + acl + "/ingress/*"},
		}},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			top := parse(t, "ping.yaml", r.yaml)
			runSteps(t, engine(t, top, Config{}), top, r.steps)
		})
	}
}

// TestTrackingTimeouts checks the idle timeouts, which are AWS's documented
// defaults: TCP established 432000 s, UDP 30 s, UDP stream 180 s
// (docs/aws-behaviour.md, "Connection tracking and timeouts").
func TestTrackingTimeouts(t *testing.T) {
	top := load(t, "testdata/cases.yaml")
	// eni-b2: egress allowed by sg-any's default rule; inbound from outside
	// 10.0.0.0/16 only for tcp 443, so replies depend on tracking.
	cases := []struct {
		name  string
		steps []step
	}{
		{"udp expires after 30 s one way", []step{
			{"eni-b2", Egress, "udp 10.0.2.40:5000 198.51.100.53:53", 0, "ACCEPT sg-any/egress/1"},
			{"eni-b2", Ingress, "udp 198.51.100.53:53 10.0.2.40:5000", 30, "ACCEPT sg-any/tracked"},
			{"eni-b2", Egress, "udp 10.0.2.40:5001 198.51.100.53:53", 100, "ACCEPT sg-any/egress/1"},
			{"eni-b2", Ingress, "udp 198.51.100.53:53 10.0.2.40:5001", 131, "REJECT sg-any,sg-web/ingress/none"},
		}},
		{"udp stream lives 180 s", []step{
			{"eni-b2", Egress, "udp 10.0.2.40:5000 198.51.100.53:53", 0, "ACCEPT sg-any/egress/1"},
			{"eni-b2", Ingress, "udp 198.51.100.53:53 10.0.2.40:5000", 29, "ACCEPT sg-any/tracked"},
			{"eni-b2", Ingress, "udp 198.51.100.53:53 10.0.2.40:5000", 29 + 180, "ACCEPT sg-any/tracked"},
			{"eni-b2", Ingress, "udp 198.51.100.53:53 10.0.2.40:5000", 29 + 180 + 181, "REJECT sg-any,sg-web/ingress/none"},
		}},
		{"tcp established lives 432000 s", []step{
			{"eni-b2", Egress, "tcp 10.0.2.40:40000 198.51.100.80:80 S", 0, "ACCEPT sg-any/egress/1"},
			{"eni-b2", Ingress, "tcp 198.51.100.80:80 10.0.2.40:40000 SA", 432000, "ACCEPT sg-any/tracked"},
			{"eni-b2", Ingress, "tcp 198.51.100.80:80 10.0.2.40:40000 A", 432000 + 432001, "REJECT sg-any,sg-web/ingress/none"},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			runSteps(t, engine(t, top, Config{}), top, c.steps)
		})
	}
	t.Run("ConnectionTrackingConfiguration overrides", func(t *testing.T) {
		y, _ := os.ReadFile("testdata/cases.yaml")
		s := strings.Replace(string(y), "PrivateIpAddress: 10.0.2.40,", "PrivateIpAddress: 10.0.2.40, ConnectionTrackingConfiguration: {UdpTimeout: 60},", 1)
		top := parse(t, "cases.yaml", s)
		runSteps(t, engine(t, top, Config{}), top, []step{
			{"eni-b2", Egress, "udp 10.0.2.40:5000 198.51.100.53:53", 0, "ACCEPT sg-any/egress/1"},
			{"eni-b2", Ingress, "udp 198.51.100.53:53 10.0.2.40:5000", 60, "ACCEPT sg-any/tracked"},
			{"eni-b2", Egress, "udp 10.0.2.40:5001 198.51.100.53:53", 100, "ACCEPT sg-any/egress/1"},
			{"eni-b2", Ingress, "udp 198.51.100.53:53 10.0.2.40:5001", 161, "REJECT sg-any,sg-web/ingress/none"},
		})
	})
}

func TestTableBound(t *testing.T) {
	top := load(t, "testdata/cases.yaml")
	e := engine(t, top, Config{MaxTracked: 2, Shards: 1})
	runSteps(t, e, top, []step{
		{"eni-b2", Egress, "udp 10.0.2.40:5000 198.51.100.53:53", 0, "ACCEPT sg-any/egress/1"},
		{"eni-b2", Egress, "udp 10.0.2.40:5001 198.51.100.53:53", 1, "ACCEPT sg-any/egress/1"},
		{"eni-b2", Ingress, "udp 198.51.100.53:53 10.0.2.40:5000", 2, "ACCEPT sg-any/tracked"}, // 5000 now most recent
		{"eni-b2", Egress, "udp 10.0.2.40:5002 198.51.100.53:53", 3, "ACCEPT sg-any/egress/1"}, // evicts 5001
		{"eni-b2", Ingress, "udp 198.51.100.53:53 10.0.2.40:5001", 4, "REJECT sg-any,sg-web/ingress/none"},
		{"eni-b2", Ingress, "udp 198.51.100.53:53 10.0.2.40:5000", 5, "ACCEPT sg-any/tracked"},
	})
	st := e.Stats()
	want := Stats{Tracked: 2, Capacity: 2, Inserted: 3, Hits: 2, Evicted: 1}
	if st != want {
		t.Errorf("stats %+v, want %+v", st, want)
	}
	// When full, an idle-past-timeout entry is dropped as expired, not evicted.
	e.Decide(top.ENIByID("eni-b2"), Egress, pkt(t, "udp 10.0.2.40:6000 198.51.100.53:53"), (1700000000+1000)*1e9)
	st = e.Stats()
	if st.Expired != 1 || st.Evicted != 1 || st.Inserted != 4 || st.Tracked != 2 {
		t.Errorf("after idle: %+v, want Expired 1, Evicted 1, Inserted 4, Tracked 2", st)
	}
}

func TestExplain(t *testing.T) {
	top := load(t, "../examples/ping.yaml")
	e := engine(t, top, Config{})
	eni := top.ENIByID("eni-0a1b2c3d4e5f60718")
	ex := e.Explain(eni, Egress, pkt(t, "icmp 10.1.2.15 198.51.100.7 0/0"), true)
	if ex.Accept || ex.Rule != "acl-0a1b2c3d4e5f60004/egress/*" || len(ex.Path) != 2 {
		t.Fatalf("reply: %+v", ex)
	}
	if h := ex.Path[0]; h.Kind != "sg" || h.Rule != "sg-0a1b2c3d4e5f60003/tracked" || h.Action != "ACCEPT" {
		t.Errorf("sg hop %+v", h)
	}
	if h := ex.Path[1]; h.Kind != "nacl" || h.Rule != "acl-0a1b2c3d4e5f60004/egress/*" || h.Action != "REJECT" {
		t.Errorf("nacl hop %+v", h)
	}
	// Without --reply the echo reply is a new packet: the SG has no egress rule.
	if v := e.Check(eni, Egress, pkt(t, "icmp 10.1.2.15 198.51.100.7 0/0")); v.Accept || v.Rule != "sg-0a1b2c3d4e5f60003/egress/none" {
		t.Errorf("check without reply: %+v", v)
	}
	// Check leaves no state behind.
	if st := e.Stats(); st.Inserted != 0 {
		t.Errorf("Explain tracked something: %+v", st)
	}
}

// TestChoice holds behaviour that is our decision, not AWS's documented one.
func TestChoice(t *testing.T) {
	top := load(t, "testdata/cases.yaml")
	// Packets of a TCP connection arriving more than 5 s after it closed are
	// REJECT, even where a rule would allow them as new
	// (sg-ID/closed, the group whose rule allowed the connection); a new
	// SYN starts a new connection; after ClosedRejectTimeout (120 s) the
	// connection is forgotten and the rules judge a late packet.
	t.Run("RST closes the tracked connection after 5 s", func(t *testing.T) {
		e := engine(t, top, Config{})
		runSteps(t, e, top, []step{
			{"eni-b2", Egress, "tcp 10.0.2.40:40000 198.51.100.80:80 S", 0, "ACCEPT sg-any/egress/1"},
			{"eni-b2", Ingress, "tcp 198.51.100.80:80 10.0.2.40:40000 R", 1, "ACCEPT sg-any/tracked"},
			{"eni-b2", Ingress, "tcp 198.51.100.80:80 10.0.2.40:40000 A", 5, "ACCEPT sg-any/tracked"},
			{"eni-b2", Ingress, "tcp 198.51.100.80:80 10.0.2.40:40000 A", 7, "REJECT sg-any/closed"},
			{"eni-b2", Egress, "tcp 10.0.2.40:40000 198.51.100.80:80 A", 11, "REJECT sg-any/closed"}, // egress/1 would allow it as new
			{"eni-b2", Egress, "tcp 10.0.2.40:40000 198.51.100.80:80 FA", 125, "REJECT sg-any/closed"},
			{"eni-b2", Egress, "tcp 10.0.2.40:40000 198.51.100.80:80 A", 127, "ACCEPT sg-any/egress/1"}, // forgotten: new
			{"eni-b2", Ingress, "tcp 198.51.100.80:80 10.0.2.40:40000 A", 128, "ACCEPT sg-any/tracked"},
		})
		if st := e.Stats(); st.Closed != 3 {
			t.Errorf("Stats.Closed = %d, want 3", st.Closed)
		}
	})
	t.Run("FIN both ways closes", func(t *testing.T) {
		runSteps(t, engine(t, top, Config{}), top, []step{
			{"eni-b2", Egress, "tcp 10.0.2.40:40000 198.51.100.80:80 S", 0, "ACCEPT sg-any/egress/1"},
			{"eni-b2", Ingress, "tcp 198.51.100.80:80 10.0.2.40:40000 FA", 1, "ACCEPT sg-any/tracked"},
			{"eni-b2", Egress, "tcp 10.0.2.40:40000 198.51.100.80:80 FA", 2, "ACCEPT sg-any/egress/1"},
			{"eni-b2", Ingress, "tcp 198.51.100.80:80 10.0.2.40:40000 A", 7, "ACCEPT sg-any/tracked"}, // 5 s after the close
			{"eni-b2", Ingress, "tcp 198.51.100.80:80 10.0.2.40:40000 A", 8, "REJECT sg-any/closed"},
		})
	})
	t.Run("one FIN does not close", func(t *testing.T) {
		runSteps(t, engine(t, top, Config{}), top, []step{
			{"eni-b2", Egress, "tcp 10.0.2.40:40000 198.51.100.80:80 S", 0, "ACCEPT sg-any/egress/1"},
			{"eni-b2", Ingress, "tcp 198.51.100.80:80 10.0.2.40:40000 FA", 1, "ACCEPT sg-any/tracked"},
			{"eni-b2", Ingress, "tcp 198.51.100.80:80 10.0.2.40:40000 A", 60, "ACCEPT sg-any/tracked"},
		})
	})
	t.Run("a SYN after the close starts a new connection", func(t *testing.T) {
		runSteps(t, engine(t, top, Config{}), top, []step{
			{"eni-b2", Egress, "tcp 10.0.2.40:40000 198.51.100.80:80 S", 0, "ACCEPT sg-any/egress/1"},
			{"eni-b2", Ingress, "tcp 198.51.100.80:80 10.0.2.40:40000 R", 1, "ACCEPT sg-any/tracked"},
			// Within the 5 s too: the SYN is judged by the rules, not passed as tracked.
			{"eni-b2", Ingress, "tcp 198.51.100.80:80 10.0.2.40:40000 S", 2, "REJECT sg-any,sg-web/ingress/none"},
			{"eni-b2", Egress, "tcp 10.0.2.40:40000 198.51.100.80:80 S", 30, "ACCEPT sg-any/egress/1"},
			{"eni-b2", Ingress, "tcp 198.51.100.80:80 10.0.2.40:40000 SA", 31, "ACCEPT sg-any/tracked"},
			{"eni-b2", Ingress, "tcp 198.51.100.80:80 10.0.2.40:40000 A", 90, "ACCEPT sg-any/tracked"},
		})
	})
	t.Run("UDP is not closed by flags", func(t *testing.T) {
		runSteps(t, engine(t, top, Config{}), top, []step{
			{"eni-b2", Egress, "udp 10.0.2.40:5000 198.51.100.53:53", 0, "ACCEPT sg-any/egress/1"},
			{"eni-b2", Ingress, "udp 198.51.100.53:53 10.0.2.40:5000", 20, "ACCEPT sg-any/tracked"},
		})
	})
	t.Run("interface without security group: NACL decides, rule is the NACL's", func(t *testing.T) {
		runSteps(t, engine(t, top, Config{}), top, []step{
			{"eni-nat", Ingress, "tcp 198.51.100.1:4000 10.0.1.100:443 S", 0, "ACCEPT acl-a/ingress/100"},
			{"eni-nat", Ingress, "tcp 198.51.100.1:4000 10.0.1.100:80 S", 0, "REJECT acl-a/ingress/*"},
			{"eni-nat", Ingress, "tcp 10.0.1.10:4000 10.0.1.100:80 S", 0, "ACCEPT "},
		})
	})
	t.Run("first matching SG rule is named, in group then rule order", func(t *testing.T) {
		// eni-b2 has [sg-any, sg-web]; tcp 443 from 10.0.1.5 matches sg-any/ingress/1 and sg-web/ingress/1
		runSteps(t, engine(t, top, Config{}), top, []step{
			{"eni-b2", Ingress, "tcp 10.0.1.5:4000 10.0.2.40:443 S", 0, "ACCEPT sg-any/ingress/1"},
		})
	})
	t.Run("unknown ENI", func(t *testing.T) {
		e := engine(t, top, Config{})
		other := load(t, "../examples/ping.yaml").ENIs()[0]
		if v := e.Decide(other, Ingress, pkt(t, "icmp 1.2.3.4 10.1.2.15 8/0"), 0); v.Accept || v.Rule != "unknown-eni" {
			t.Errorf("%+v", v)
		}
	})
}

func TestDecideAllocs(t *testing.T) {
	top := load(t, "testdata/cases.yaml")
	e := engine(t, top, Config{})
	eni := top.ENIByID("eni-a1")
	in := pkt(t, "tcp 198.51.100.23:51544 10.0.1.10:443 S")
	out := pkt(t, "tcp 10.0.1.10:443 198.51.100.23:51544 SA")
	e.Decide(eni, Ingress, in, 1)
	n := testing.AllocsPerRun(1000, func() {
		e.Decide(eni, Egress, out, 2)
		e.Decide(eni, Ingress, in, 3)
	})
	if n != 0 {
		t.Errorf("tracked verdicts allocate: %v per run", n)
	}
}

func TestConfig(t *testing.T) {
	top := load(t, "testdata/cases.yaml")
	if _, err := New(top, Config{MaxTracked: -1}); err == nil || !strings.Contains(err.Error(), "MaxTracked") {
		t.Errorf("negative MaxTracked: %v", err)
	}
	if _, err := New(top, Config{UDPTimeout: -1}); err == nil || !strings.Contains(err.Error(), "UDPTimeout") {
		t.Errorf("negative UDPTimeout: %v", err)
	}
	if _, err := New(nil, Config{}); err == nil {
		t.Error("nil topology accepted")
	}
	for _, s := range []string{"ingress", "egress"} {
		d, err := ParseDirection(s)
		if err != nil || d.String() != s {
			t.Errorf("ParseDirection(%q) = %v, %v", s, d, err)
		}
	}
	if _, err := ParseDirection("sideways"); err == nil {
		t.Error("bad direction accepted")
	}
}

// TestRebuildKeepsTracking: a security group rule removed while a
// connection is tracked does not cut that connection (AWS's connection
// tracking documentation), while new connections are judged by the new
// rules; a topology with other interfaces starts with an empty table.
func TestRebuildKeepsTracking(t *testing.T) {
	const base = `AccountId: "111122223333"
Region: eu-west-1
Vpcs: [{VpcId: vpc-1, CidrBlock: 10.1.0.0/16}]
Subnets: [{SubnetId: subnet-1, VpcId: vpc-1, CidrBlock: 10.1.2.0/24}]
NetworkInterfaces:
  - {NetworkInterfaceId: eni-1, SubnetId: subnet-1, PrivateIpAddress: 10.1.2.15, Groups: [{GroupId: sg-1}]}
%s
SecurityGroups:
  - GroupId: sg-1
    VpcId: vpc-1
    IpPermissions: [%s]
    IpPermissionsEgress: []
`
	ssh := `{IpProtocol: tcp, FromPort: 22, ToPort: 22, IpRanges: [{CidrIp: 0.0.0.0/0}]}`
	before := parse(t, "before.yaml", fmt.Sprintf(base, "", ssh))
	after := parse(t, "after.yaml", fmt.Sprintf(base, "", ""))
	e := engine(t, before, DefaultConfig())
	runSteps(t, e, before, []step{
		{"eni-1", Ingress, "tcp 198.51.100.7:40000 10.1.2.15:22 S", 0, "ACCEPT sg-1/ingress/1"},
	})
	n, kept, err := e.Rebuild(after)
	if err != nil || !kept {
		t.Fatalf("rebuild: kept %v, %v", kept, err)
	}
	runSteps(t, n, after, []step{
		// The tracked connection goes on both ways; its direction of
		// origin is still credited to the rule that admitted it, removed or
		// not.
		{"eni-1", Egress, "tcp 10.1.2.15:22 198.51.100.7:40000 SA", 1, "ACCEPT sg-1/tracked"},
		{"eni-1", Ingress, "tcp 198.51.100.7:40000 10.1.2.15:22 A", 2, "ACCEPT sg-1/ingress/1"},
		// A new connection meets the rule set without the ssh rule.
		{"eni-1", Ingress, "tcp 198.51.100.7:40001 10.1.2.15:22 S", 3, "REJECT sg-1/ingress/none"},
	})
	// Another interface: the table starts over, so the old connection is
	// judged as new.
	other := parse(t, "other.yaml", fmt.Sprintf(base,
		"  - {NetworkInterfaceId: eni-2, SubnetId: subnet-1, PrivateIpAddress: 10.1.2.16, Groups: [{GroupId: sg-1}]}", ""))
	m, kept, err := n.Rebuild(other)
	if err != nil || kept {
		t.Fatalf("rebuild with another interface: kept %v, %v", kept, err)
	}
	runSteps(t, m, other, []step{
		{"eni-1", Ingress, "tcp 198.51.100.7:40000 10.1.2.15:22 A", 4, "REJECT sg-1/ingress/none"},
	})
}
