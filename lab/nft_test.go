package lab

import (
	"strings"
	"testing"

	"github.com/vpcflow/vpcflow/topology"
)

func load(t *testing.T, file string) *topology.Topology {
	t.Helper()
	top, err := topology.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	return top
}

func newPlan(t *testing.T, file string) *Plan {
	t.Helper()
	l, err := New(DefaultConfiguration(), Dependencies{Topology: load(t, file)})
	if err != nil {
		t.Fatal(err)
	}
	return l.Plan()
}

func eniPlan(t *testing.T, p *Plan, id string) *ENIPlan {
	t.Helper()
	for _, e := range p.ENIs {
		if e.ENI.ID == id {
			return e
		}
	}
	t.Fatalf("no ENI %s in the plan", id)
	return nil
}

// diff fails with the first differing line of two rulesets.
func diff(t *testing.T, what, got, want string) {
	t.Helper()
	if got == want {
		return
	}
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < max(len(g), len(w)); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			t.Fatalf("%s: line %d:\n got  %q\n want %q\nwhole ruleset:\n%s", what, i+1, gl, wl, got)
		}
	}
}

// The ping example (examples/ping.yaml with a public address and an
// internet gateway): the instance receives ICMP through the ACL's inbound
// rule 100 and the group's inbound rule 1; it sends only replies (the
// group has no outbound rule), and the ACL, with no outbound entry,
// drops them at rule *.
func TestPingRulesets(t *testing.T) {
	p := newPlan(t, "testdata/ping.yaml")
	diff(t, "ENI", ENIRuleset(eniPlan(t, p, "eni-0a1b2c3d4e5f60718")), `table inet vpcflow {
	chain input {
		type filter hook input priority filter; policy accept;
		iifname "lo" accept
		ip saddr != 10.1.2.0/24 jump nacl_in
		meta nfproto ipv6 jump nacl_in
		jump sg_in
	}

	chain nacl_in {
		ip saddr 0.0.0.0/0 meta l4proto icmp counter return comment "acl-0a1b2c3d4e5f60004/ingress/100"
		counter drop comment "acl-0a1b2c3d4e5f60004/ingress/*"
	}

	chain sg_in {
		ct state established ct direction reply counter accept comment "sg-0a1b2c3d4e5f60003/tracked"
		ip saddr 0.0.0.0/0 meta l4proto icmp counter accept comment "sg-0a1b2c3d4e5f60003/ingress/1"
		ct state established ct direction original counter accept comment "sg-0a1b2c3d4e5f60003/tracked"
		counter drop comment "sg-0a1b2c3d4e5f60003/ingress/none"
	}
}
`)
	diff(t, "router", RouterRuleset(p), `table bridge vpcflow {
	chain prerouting {
		type filter hook prerouting priority -300; policy accept;
		iifname "eni-3d4e5f60718" ether saddr != 0a:1b:2c:3d:4e:5f counter drop comment "eni-0a1b2c3d4e5f60718: not its MAC address"
	}
}

table inet vpcflow {
	chain prerouting {
		type filter hook prerouting priority filter; policy accept;
		ether saddr vmap { 0a:1b:2c:3d:4e:5f : jump out_eni_0a1b2c3d4e5f60718 }
	}

	chain out_eni_0a1b2c3d4e5f60718 {
		jump sg_out_eni_0a1b2c3d4e5f60718
		ip daddr != 10.1.2.0/24 jump nacl_out_eni_0a1b2c3d4e5f60718
		meta nfproto ipv6 jump nacl_out_eni_0a1b2c3d4e5f60718
	}

	chain sg_out_eni_0a1b2c3d4e5f60718 {
		ct state established ct direction reply counter return comment "sg-0a1b2c3d4e5f60003/tracked"
		ct state established ct direction original counter return comment "sg-0a1b2c3d4e5f60003/tracked"
		counter drop comment "sg-0a1b2c3d4e5f60003/egress/none"
	}

	chain nacl_out_eni_0a1b2c3d4e5f60718 {
		counter drop comment "acl-0a1b2c3d4e5f60004/egress/*"
	}

	chain forward {
		type filter hook forward priority filter; policy accept;
		iifname "internet" ct status & (snat | dnat) == 0 counter drop comment "internet gateway: not to a public address"
		oifname "internet" ip saddr != 10.1.2.15 counter drop comment "internet gateway: no public IPv4 address"
		oifname "internet" meta nfproto ipv6 counter drop comment "internet gateway: IPv4 only"
	}

	chain input {
		type filter hook input priority filter; policy drop;
	}

	chain output {
		type filter hook output priority filter; policy drop;
	}

	chain nat_prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		iifname "internet" dnat ip to ip daddr map { 203.0.113.10 : 10.1.2.15 }
	}

	chain nat_postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "internet" snat ip to ip saddr map { 10.1.2.15 : 203.0.113.10 }
	}
}
`)
}

// A network ACL with numbered rules in both directions, written out of
// order in the file and with a deny (90) before an allow (100) that also
// matches its packets: lowest number first, each with its protocol,
// ports or ICMP type and code, then *.
func TestNACLRules(t *testing.T) {
	top := load(t, "testdata/twotier.yaml")
	a := top.NetworkACL("acl-0b00000000000000e2")
	want := map[bool]string{
		false: `ip saddr 10.2.1.11/32 tcp dport 5432 counter drop comment "acl-0b00000000000000e2/ingress/90"
ip saddr 10.2.1.0/24 tcp dport 5432 counter return comment "acl-0b00000000000000e2/ingress/100"
ip saddr 10.2.0.0/16 icmp type 8 counter return comment "acl-0b00000000000000e2/ingress/110"
ip saddr 10.2.0.0/16 udp dport 1024-65535 counter return comment "acl-0b00000000000000e2/ingress/120"
ip saddr 10.2.1.0/24 meta l4proto 50 counter return comment "acl-0b00000000000000e2/ingress/130"
counter drop comment "acl-0b00000000000000e2/ingress/*"`,
		true: `ip daddr 10.2.1.0/24 tcp dport 1024-65535 counter return comment "acl-0b00000000000000e2/egress/100"
ip daddr 10.2.0.0/16 icmp type 0 icmp code 0 counter return comment "acl-0b00000000000000e2/egress/110"
ip daddr 0.0.0.0/0 udp dport 53 counter drop comment "acl-0b00000000000000e2/egress/120"
counter drop comment "acl-0b00000000000000e2/egress/*"`,
	}
	for _, egress := range []bool{false, true} {
		diff(t, "acl", strings.Join(aclRules(a, egress), "\n"), want[egress])
	}
	// The default ACL: rules 100 (IPv4) and 101 (IPv6), allow all.
	diff(t, "default acl", strings.Join(aclRules(top.NetworkACL("acl-0b00000000000000e1"), false), "\n"),
		`ip saddr 0.0.0.0/0 counter return comment "acl-0b00000000000000e1/ingress/100"
ip6 saddr ::/0 counter return comment "acl-0b00000000000000e1/ingress/101"
counter drop comment "acl-0b00000000000000e1/ingress/*"`)
}

// The database's namespace: the subnet's ACL for packets from outside
// 10.2.2.0/24; its group takes PostgreSQL from the web group's members
// (their IPv4 and IPv6 addresses, a set each) and echo requests from the
// VPC (10.2.1.0/24, inside 10.2.0.0/16, is left out of the set).
func TestSecurityGroupRules(t *testing.T) {
	p := newPlan(t, "testdata/twotier.yaml")
	diff(t, "db", ENIRuleset(eniPlan(t, p, "eni-0b00000000000000c3")), `table inet vpcflow {
	chain input {
		type filter hook input priority filter; policy accept;
		iifname "lo" accept
		ip saddr != 10.2.2.0/24 jump nacl_in
		meta nfproto ipv6 jump nacl_in
		jump sg_in
	}

	chain nacl_in {
		ip saddr 10.2.1.11/32 tcp dport 5432 counter drop comment "acl-0b00000000000000e2/ingress/90"
		ip saddr 10.2.1.0/24 tcp dport 5432 counter return comment "acl-0b00000000000000e2/ingress/100"
		ip saddr 10.2.0.0/16 icmp type 8 counter return comment "acl-0b00000000000000e2/ingress/110"
		ip saddr 10.2.0.0/16 udp dport 1024-65535 counter return comment "acl-0b00000000000000e2/ingress/120"
		ip saddr 10.2.1.0/24 meta l4proto 50 counter return comment "acl-0b00000000000000e2/ingress/130"
		counter drop comment "acl-0b00000000000000e2/ingress/*"
	}

	chain sg_in {
		ct state established ct direction reply counter accept comment "sg-0b00000000000000d2/tracked"
		ip saddr { 10.2.1.10, 10.2.1.11 } tcp dport 5432 counter accept comment "sg-0b00000000000000d2/ingress/1"
		ip6 saddr { 2001:db8:2:1::10, 2001:db8:2:1::11 } tcp dport 5432 counter accept comment "sg-0b00000000000000d2/ingress/1"
		ip saddr 10.2.0.0/16 icmp type 8 counter accept comment "sg-0b00000000000000d2/ingress/2"
		ct state established ct direction original counter accept comment "sg-0b00000000000000d2/tracked"
		counter drop comment "sg-0b00000000000000d2/ingress/none"
	}
}
`)
	diff(t, "web", ENIRuleset(eniPlan(t, p, "eni-0b00000000000000c1")), `table inet vpcflow {
	chain input {
		type filter hook input priority filter; policy accept;
		iifname "lo" accept
		ip saddr != 10.2.1.0/24 jump nacl_in
		ip6 saddr != 2001:db8:2:1::/64 jump nacl_in
		jump sg_in
	}

	chain nacl_in {
		ip saddr 0.0.0.0/0 counter return comment "acl-0b00000000000000e1/ingress/100"
		ip6 saddr ::/0 counter return comment "acl-0b00000000000000e1/ingress/101"
		counter drop comment "acl-0b00000000000000e1/ingress/*"
	}

	chain sg_in {
		ct state established ct direction reply counter accept comment "sg-0b00000000000000d1/tracked"
		ip saddr 0.0.0.0/0 tcp dport 80 counter accept comment "sg-0b00000000000000d1/ingress/1"
		ip6 saddr ::/0 tcp dport 80 counter accept comment "sg-0b00000000000000d1/ingress/1"
		ip saddr 198.51.100.0/24 tcp dport 22 counter accept comment "sg-0b00000000000000d1/ingress/2"
		ip saddr { 10.2.1.10, 10.2.1.11 } counter accept comment "sg-0b00000000000000d1/ingress/3"
		ip6 saddr { 2001:db8:2:1::10, 2001:db8:2:1::11 } counter accept comment "sg-0b00000000000000d1/ingress/3"
		ct state established ct direction original counter accept comment "sg-0b00000000000000d1/tracked"
		counter drop comment "sg-0b00000000000000d1/ingress/none"
	}

	chain output {
		type filter hook output priority filter; policy accept;
		ip6 daddr ff02::/16 drop
	}
}
`)
	// Outbound, at the database's port in the router: no rule (an
	// explicit []), so only replies pass, then the ACL for packets
	// leaving the subnet.
	r := RouterRuleset(p)
	for _, want := range []string{`	chain out_eni_0b00000000000000c3 {
		jump sg_out_eni_0b00000000000000c3
		ip daddr != 10.2.2.0/24 jump nacl_out_eni_0b00000000000000c3
		meta nfproto ipv6 jump nacl_out_eni_0b00000000000000c3
	}

	chain sg_out_eni_0b00000000000000c3 {
		ct state established ct direction reply counter return comment "sg-0b00000000000000d2/tracked"
		ct state established ct direction original counter return comment "sg-0b00000000000000d2/tracked"
		counter drop comment "sg-0b00000000000000d2/egress/none"
	}

	chain nacl_out_eni_0b00000000000000c3 {
		ip daddr 10.2.1.0/24 tcp dport 1024-65535 counter return comment "acl-0b00000000000000e2/egress/100"
		ip daddr 10.2.0.0/16 icmp type 0 icmp code 0 counter return comment "acl-0b00000000000000e2/egress/110"
		ip daddr 0.0.0.0/0 udp dport 53 counter drop comment "acl-0b00000000000000e2/egress/120"
		counter drop comment "acl-0b00000000000000e2/egress/*"
	}
`, `	chain sg_out_eni_0b00000000000000c1 {
		ct state established ct direction reply counter return comment "sg-0b00000000000000d1/tracked"
		ip daddr 0.0.0.0/0 counter return comment "sg-0b00000000000000d1/egress/1"
		ip6 daddr ::/0 counter return comment "sg-0b00000000000000d1/egress/1"
		ct state established ct direction original counter return comment "sg-0b00000000000000d1/tracked"
		counter drop comment "sg-0b00000000000000d1/egress/none"
	}
`, `		ether saddr vmap { 0a:0b:00:00:00:c1 : jump out_eni_0b00000000000000c1, 0a:0b:00:00:00:c2 : jump out_eni_0b00000000000000c2, 0a:0b:00:00:00:c3 : jump out_eni_0b00000000000000c3, 0a:0b:00:00:00:c4 : jump out_eni_0b00000000000000c4 }
`} {
		if !strings.Contains(r, want) {
			t.Errorf("router ruleset lacks\n%s\nwhole ruleset:\n%s", want, r)
		}
	}
	// The NAT gateway's interface has no security groups: its port's
	// chain is the network ACL's only.
	if want := "\tchain out_eni_0b00000000000000c4 {\n\t\tip daddr != 10.2.1.0/24 jump nacl_out_eni_0b00000000000000c4\n"; !strings.Contains(r, want) {
		t.Errorf("router ruleset lacks the NAT gateway's chain\n%s\nwhole ruleset:\n%s", want, r)
	}
}

func TestProtoMatch(t *testing.T) {
	for _, c := range []struct {
		proto, pf, pt, it, ic int
		want                  string
	}{
		{topology.Any, 0, 65535, topology.Any, topology.Any, ""},
		{6, 0, 65535, topology.Any, topology.Any, "meta l4proto tcp"},
		{6, 22, 22, topology.Any, topology.Any, "tcp dport 22"},
		{17, 1024, 65535, topology.Any, topology.Any, "udp dport 1024-65535"},
		{1, 0, 65535, topology.Any, topology.Any, "meta l4proto icmp"},
		{1, 0, 65535, 3, topology.Any, "icmp type 3"},
		{1, 0, 65535, 3, 4, "icmp type 3 icmp code 4"},
		{58, 0, 65535, 128, topology.Any, "icmpv6 type 128"},
		{58, 0, 65535, topology.Any, topology.Any, "meta l4proto icmpv6"},
		{47, 0, 65535, topology.Any, topology.Any, "meta l4proto 47"},
	} {
		if got := protoMatch(c.proto, c.pf, c.pt, c.it, c.ic); got != c.want {
			t.Errorf("protoMatch(%d, %d-%d, type %d code %d) = %q, want %q", c.proto, c.pf, c.pt, c.it, c.ic, got, c.want)
		}
	}
}

func TestReplacing(t *testing.T) {
	got := replacing("table inet vpcflow {\n}\n\ntable bridge vpcflow {\n}\n")
	want := "table inet vpcflow\ndelete table inet vpcflow\ntable bridge vpcflow\ndelete table bridge vpcflow\n" +
		"table inet vpcflow {\n}\n\ntable bridge vpcflow {\n}\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
