package lab

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/vpcflow/vpcflow/topology"
)

// The rulesets are nftables text fed to `nft -f -` in the namespace.
//
// [Choice] The nft command rather than github.com/google/nftables: the
// generated text is the unit under test (a reader checks it against the
// topology line by line, and `nft list ruleset` shows the same rules with
// their counters in the lab), nft compiles the rules with the checks and
// dependencies it adds for every user (the protocol an `icmp type` or a
// `tcp dport` implies, interval sets), and a file is applied in one
// transaction. The library would have us emit the kernel's expression
// bytecode by hand. nft (Debian package nftables) is one more program the
// lab needs besides iproute2's ip and bridge.

// Table is the name of the lab's nftables tables (inet in every
// namespace, bridge in the router's).
const Table = "vpcflow"

// ENIRuleset is the ruleset of an ENI's namespace: what the ENI receives
// is judged here, after its link, where a capture sees it whether it is
// dropped or not. Network ACL inbound first, for packets from outside the
// subnet, then the security groups; both in package policy's order, each
// rule's comment its policy rule name.
func ENIRuleset(e *ENIPlan) string {
	var b strings.Builder
	n := e.ENI
	b.WriteString("table inet " + Table + " {\n")
	chain(&b, "input", "type filter hook input priority filter; policy accept;",
		append(append([]string{`iifname "lo" accept`}, crossing(n.Subnet, "saddr", "jump nacl_in")...), sgJump(n, "jump sg_in")...))
	b.WriteString("\n")
	chain(&b, "nacl_in", "", aclRules(n.Subnet.ACL, false))
	if len(n.SecurityGroups) > 0 {
		b.WriteString("\n")
		chain(&b, "sg_in", "", sgRules(n, false))
	}
	if g := e.NATGateway; g != nil {
		// What the subnets route through the NAT gateway is received
		// here too: its network ACL judges it as it judges what the
		// gateway itself receives. The translation is of the source
		// only, to the interface's private address; the replies are
		// translated back by connection tracking.
		b.WriteString("\n")
		chain(&b, "forward", "type filter hook forward priority filter; policy accept;", crossing(n.Subnet, "saddr", "jump nacl_in"))
		b.WriteString("\n")
		chain(&b, "nat_postrouting", "type nat hook postrouting priority srcnat; policy accept;",
			[]string{fmt.Sprintf("oifname %q ip saddr != %s snat ip to %s comment %q", ENIDev, n.PrimaryIPv4, n.PrimaryIPv4, g.ID)})
	}
	if len(n.IPv6s) > 0 {
		// A VPC has no multicast: no listener reports or neighbour
		// solicitations on the captured link (neighbours are permanent).
		b.WriteString("\n")
		chain(&b, "output", "type filter hook output priority filter; policy accept;", []string{"ip6 daddr ff02::/16 drop"})
	}
	b.WriteString("}\n")
	return b.String()
}

// RouterRuleset is the ruleset of the router namespace: what each ENI
// sends is judged as it arrives at its port (security groups outbound,
// then the network ACL outbound for packets leaving the subnet), after the
// capture of the port saw it. Bridged traffic between two ENIs of a subnet
// passes the inet hooks too (the bridges call them, br_netfilter), so one
// connection-tracking table sees every packet of the VPC. Then the
// internet gateway: 1:1 NAT of public IPv4 addresses, nothing from the
// internet but to a public address or back to a connection an ENI made.
// The router itself neither receives nor sends anything.
func RouterRuleset(p *Plan) string {
	var b strings.Builder
	b.WriteString("table bridge " + Table + " {\n")
	var spoof []string
	for _, e := range p.ENIs {
		spoof = append(spoof, fmt.Sprintf(`iifname %q ether saddr != %s counter drop comment "%s: not its MAC address"`, e.Port, e.MAC, e.ENI.ID))
	}
	chain(&b, "prerouting", "type filter hook prerouting priority -300; policy accept;", spoof)
	b.WriteString("}\n\ntable inet " + Table + " {\n")
	var vmap []string
	for _, e := range p.ENIs {
		vmap = append(vmap, e.MAC+" : jump out_"+chainID(e.ENI.ID))
	}
	var dispatch []string
	if len(vmap) > 0 {
		dispatch = []string{"ether saddr vmap { " + strings.Join(vmap, ", ") + " }"}
	}
	chain(&b, "prerouting", "type filter hook prerouting priority filter; policy accept;", dispatch)
	for _, e := range p.ENIs {
		id := chainID(e.ENI.ID)
		b.WriteString("\n")
		chain(&b, "out_"+id, "", append(sgJump(e.ENI, "jump sg_out_"+id), crossing(e.ENI.Subnet, "daddr", "jump nacl_out_"+id)...))
		if len(e.ENI.SecurityGroups) > 0 {
			b.WriteString("\n")
			chain(&b, "sg_out_"+id, "", sgRules(e.ENI, true))
		}
		b.WriteString("\n")
		chain(&b, "nacl_out_"+id, "", aclRules(e.ENI.Subnet.ACL, true))
	}
	var privates []string
	for _, m := range p.NAT {
		privates = append(privates, m.Private.String())
	}
	fwd := []string{
		fmt.Sprintf(`iifname %q ct status & (snat | dnat) == 0 counter drop comment "internet gateway: not to a public address"`, RouterLinkDev),
	}
	if len(privates) == 0 {
		fwd = append(fwd, fmt.Sprintf(`oifname %q counter drop comment "internet gateway: no public IPv4 address"`, RouterLinkDev))
	} else {
		fwd = append(fwd, fmt.Sprintf(`oifname %q ip saddr != %s counter drop comment "internet gateway: no public IPv4 address"`, RouterLinkDev, set(privates)),
			fmt.Sprintf(`oifname %q meta nfproto ipv6 counter drop comment "internet gateway: IPv4 only"`, RouterLinkDev))
	}
	b.WriteString("\n")
	chain(&b, "forward", "type filter hook forward priority filter; policy accept;", fwd)
	b.WriteString("\n")
	chain(&b, "input", "type filter hook input priority filter; policy drop;", nil)
	b.WriteString("\n")
	chain(&b, "output", "type filter hook output priority filter; policy drop;", nil)
	if len(p.NAT) > 0 {
		var in, out []string
		for _, m := range p.NAT {
			in = append(in, m.Public.String()+" : "+m.Private.String())
			out = append(out, m.Private.String()+" : "+m.Public.String())
		}
		b.WriteString("\n")
		chain(&b, "nat_prerouting", "type nat hook prerouting priority dstnat; policy accept;",
			[]string{fmt.Sprintf("iifname %q dnat ip to ip daddr map { %s }", RouterLinkDev, strings.Join(in, ", "))})
		b.WriteString("\n")
		chain(&b, "nat_postrouting", "type nat hook postrouting priority srcnat; policy accept;",
			[]string{fmt.Sprintf("oifname %q snat ip to ip saddr map { %s }", RouterLinkDev, strings.Join(out, ", "))})
	}
	b.WriteString("}\n")
	return b.String()
}

// replacing prefixes a ruleset with the deletion of its tables, so
// applying it replaces what a previous one made, in one transaction.
func replacing(ruleset string) string {
	var b strings.Builder
	for _, line := range strings.Split(ruleset, "\n") {
		if strings.HasPrefix(line, "table ") {
			t := strings.TrimSuffix(line, " {")
			b.WriteString(t + "\ndelete " + t + "\n")
		}
	}
	return b.String() + ruleset
}

func chain(b *strings.Builder, name, hook string, rules []string) {
	b.WriteString("\tchain " + name + " {\n")
	if hook != "" {
		b.WriteString("\t\t" + hook + "\n")
	}
	for _, r := range rules {
		b.WriteString("\t\t" + r + "\n")
	}
	b.WriteString("\t}\n")
}

func chainID(id string) string { return strings.ReplaceAll(id, "-", "_") }

// crossing returns the rules sending packets to or from outside the
// subnet (which of saddr/daddr is the far end) to verdict: the network
// ACL's traffic. An IPv6 packet crosses unless the subnet has its prefix.
func crossing(s *topology.Subnet, dir, verdict string) []string {
	var out []string
	if s.CIDR.IsValid() {
		out = append(out, fmt.Sprintf("ip %s != %s %s", dir, s.CIDR.Masked(), verdict))
	} else {
		out = append(out, "meta nfproto ipv4 "+verdict)
	}
	if len(s.IPv6CIDRs) > 0 {
		var cs []string
		for _, c := range s.IPv6CIDRs {
			cs = append(cs, c.Masked().String())
		}
		out = append(out, fmt.Sprintf("ip6 %s != %s %s", dir, set(cs), verdict))
	} else {
		out = append(out, "meta nfproto ipv6 "+verdict)
	}
	return out
}

func sgJump(n *topology.ENI, verdict string) []string {
	if len(n.SecurityGroups) == 0 {
		return nil
	}
	return []string{verdict}
}

// aclRules compiles a network ACL's entries of one direction: lowest rule
// number first, allow returns to the caller (the security groups come
// next, or nothing), deny drops; the final `*` drops what no entry
// matched.
func aclRules(a *topology.NetworkACL, egress bool) []string {
	dir, addr, es := "ingress", "saddr", a.Ingress
	if egress {
		dir, addr, es = "egress", "daddr", a.Egress
	}
	var out []string
	for _, x := range es {
		if x.RuleNumber == topology.StarRule {
			continue
		}
		fam := "ip"
		if x.Prefix.Addr().Is6() {
			fam = "ip6"
		}
		m := fmt.Sprintf("%s %s %s", fam, addr, x.Prefix.Masked())
		if pm := protoMatch(x.Proto, x.PortFrom, x.PortTo, x.ICMPType, x.ICMPCode); pm != "" {
			m += " " + pm
		}
		verdict := "return"
		if !x.Allow {
			verdict = "drop"
		}
		out = append(out, fmt.Sprintf("%s counter %s comment %q", m, verdict, a.ID+"/"+dir+"/"+x.Name()))
	}
	return append(out, fmt.Sprintf("counter drop comment %q", a.ID+"/"+dir+"/*"))
}

// sgRules compiles the union of an ENI's security groups for one
// direction: replies of tracked connections, then each rule (group order,
// then rule order, as policy names the first that allows), then the drop.
// Ingress rules accept (nothing follows them in the ENI's namespace);
// egress rules return to the ENI's chain, where the network ACL follows.
//
// A reply is a packet in the reply direction of a connection the
// namespace's connection tracking knows (ct state established: it has
// seen both directions, or this is the first reply). Other packets of a
// tracked connection go through the rules again, which allow them as they
// allowed the first; when the rules no longer do (changed by the EC2 API
// under vpcflow serve --lab), the connection goes on by the rule before
// the drop. ICMP errors about a connection (ct state related)
// are judged by the rules, as policy does.
func sgRules(n *topology.ENI, egress bool) []string {
	dir, addr, verdict := "ingress", "saddr", "accept"
	if egress {
		dir, addr, verdict = "egress", "daddr", "return"
	}
	out := []string{fmt.Sprintf("ct state established ct direction reply counter %s comment %q", verdict, joinGroups(n)+"/tracked")}
	for _, g := range n.SecurityGroups {
		rs := g.Ingress
		if egress {
			rs = g.Egress
		}
		for _, r := range rs {
			var v4, v6 []netip.Prefix
			for _, pf := range r.Prefixes {
				if pf.Addr().Is4() {
					v4 = append(v4, pf.Masked())
				} else {
					v6 = append(v6, pf.Masked())
				}
			}
			for _, rg := range r.Groups {
				for _, m := range rg.Members {
					for _, a := range m.IPv4s {
						v4 = append(v4, netip.PrefixFrom(a, 32))
					}
					for _, a := range m.IPv6s {
						v6 = append(v6, netip.PrefixFrom(a, 128))
					}
				}
			}
			pm := protoMatch(r.Proto, r.From, r.To, r.From, r.To)
			name := fmt.Sprintf("%s/%s/%d", g.ID, dir, r.Num)
			for _, fam := range []struct {
				name string
				ps   []netip.Prefix
			}{{"ip", v4}, {"ip6", v6}} {
				ps := merge(fam.ps)
				if len(ps) == 0 {
					continue
				}
				var s []string
				for _, pf := range ps {
					if pf.Bits() == pf.Addr().BitLen() {
						s = append(s, pf.Addr().String())
					} else {
						s = append(s, pf.String())
					}
				}
				m := fmt.Sprintf("%s %s %s", fam.name, addr, set(s))
				if pm != "" {
					m += " " + pm
				}
				out = append(out, fmt.Sprintf("%s counter %s comment %q", m, verdict, name))
			}
		}
	}
	// Last before the drop: a same-direction packet of a connection the
	// rules no longer allow (one was revoked after it opened) goes on, as
	// AWS keeps tracked connections when rules change; while the rules
	// are unchanged the rule that opened the connection counts it.
	out = append(out, fmt.Sprintf("ct state established ct direction original counter %s comment %q", verdict, joinGroups(n)+"/tracked"))
	return append(out, fmt.Sprintf("counter drop comment %q", joinGroups(n)+"/"+dir+"/none"))
}

func joinGroups(n *topology.ENI) string {
	ids := make([]string, len(n.SecurityGroups))
	for i, g := range n.SecurityGroups {
		ids[i] = g.ID
	}
	return strings.Join(ids, ",")
}

// protoMatch is the nft match of a protocol and, for TCP and UDP, a
// destination port range, for ICMP and ICMPv6 a type and code
// (topology.Any: all). "" matches every protocol.
func protoMatch(proto, portFrom, portTo, icmpType, icmpCode int) string {
	switch proto {
	case topology.Any:
		return ""
	case topology.ProtoTCP, topology.ProtoUDP:
		name := topology.ProtocolName(proto)
		switch {
		case portFrom <= 0 && portTo >= 65535:
			return "meta l4proto " + name
		case portFrom == portTo:
			return fmt.Sprintf("%s dport %d", name, portFrom)
		}
		return fmt.Sprintf("%s dport %d-%d", name, portFrom, portTo)
	case topology.ProtoICMP, topology.ProtoICMPv6:
		name := topology.ProtocolName(proto)
		if icmpType == topology.Any {
			return "meta l4proto " + name
		}
		m := fmt.Sprintf("%s type %d", name, icmpType)
		if icmpCode != topology.Any {
			m += fmt.Sprintf(" %s code %d", name, icmpCode)
		}
		return m
	}
	return "meta l4proto " + strconv.Itoa(proto)
}

// merge sorts prefixes and drops those inside another: nft refuses
// overlapping intervals in a set.
func merge(ps []netip.Prefix) []netip.Prefix {
	slices.SortFunc(ps, func(a, b netip.Prefix) int {
		if c := a.Addr().Compare(b.Addr()); c != 0 {
			return c
		}
		return a.Bits() - b.Bits()
	})
	var out []netip.Prefix
	for _, p := range ps {
		if len(out) > 0 && out[len(out)-1].Contains(p.Addr()) && out[len(out)-1].Bits() <= p.Bits() {
			continue
		}
		out = append(out, p)
	}
	return out
}

// set writes one element as itself, several as an anonymous set.
func set(elems []string) string {
	if len(elems) == 1 {
		return elems[0]
	}
	return "{ " + strings.Join(elems, ", ") + " }"
}
