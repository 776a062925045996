package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vpcflow/vpcflow/flowlog"
	"github.com/vpcflow/vpcflow/policy"
	"github.com/vpcflow/vpcflow/topology"
)

func init() { register(newPolicyCmd) }

func newPolicyCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "policy",
		Short: "Evaluate security groups and network ACLs of a topology",
		Long: `The policy commands answer "would this packet pass?" against the security
groups (stateful) and network ACLs (stateless, only across the subnet
boundary) declared in a topology file, naming the deciding rule.`,
	}
	c.AddCommand(newPolicyCheckCmd())
	return c
}

type policyCheckFlags struct {
	topology, eni, direction, protocol, src, dst, output string
	icmpType, icmpCode                                   int
	reply                                                bool
}

func newPolicyCheckCmd() *cobra.Command {
	var f policyCheckFlags
	c := &cobra.Command{
		Use:   "check --topology FILE --eni ID --direction ingress|egress --protocol P --src IP[:PORT] --dst IP[:PORT]",
		Short: "Decide ACCEPT or REJECT for one packet at one network interface",
		Long: `check evaluates one packet at one network interface, as a new connection
(no tracked state), and prints ACCEPT or REJECT as the first word, then the
deciding rule, then each filter the packet met:

  sg-ID/ingress/N      the Nth IpPermissions entry of a security group allowed it
  sg-A,sg-B/egress/none no rule of the interface's groups allowed it
  sg-ID/tracked        a reply passed by connection tracking (with --reply)
  acl-ID/ingress/100   network ACL rule 100 decided (allow or deny)
  acl-ID/egress/*      nothing matched: the ACL's final deny

Only one hop is evaluated: the given interface in the given direction. Its
subnet's network ACL applies only when the other address is outside that
subnet. The rule is "-" when no rule decided (an interface without security
groups talking inside its subnet). Exit status is 0 for ACCEPT and REJECT
alike; 1 for a bad topology, 2 for bad flags.

--protocol is tcp, udp, icmp, icmpv6 or a protocol number. tcp and udp need
ports on both addresses; IPv6 with a port is written [addr]:port. For icmp
the type defaults to 8 (echo request; 0 with --reply) and for icmpv6 to 128
(129 with --reply). --eni may be omitted when the interface address (--dst
for ingress, --src for egress) belongs to exactly one interface.`,
		Example: `  # the ping example: request accepted, reply rejected by the NACL
  vpcflow policy check --topology examples/ping.yaml --eni eni-0a1b2c3d4e5f60718 \
    --direction ingress --protocol icmp --src 198.51.100.7 --dst 10.1.2.15
  vpcflow policy check --topology examples/ping.yaml --direction egress --reply \
    --protocol icmp --src 10.1.2.15 --dst 198.51.100.7

  # can the app server reach the database? (SG-to-SG reference)
  vpcflow policy check --topology examples/topology.yaml --direction ingress \
    --protocol tcp --src 10.0.1.20:40000 --dst 10.0.2.30:5432 --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runPolicyCheck(cmd, &f)
		},
	}
	fl := c.Flags()
	fl.StringVar(&f.topology, "topology", "", "topology file (YAML or JSON, see docs/topology.md)")
	fl.StringVar(&f.eni, "eni", "", "network interface id (default: the interface owning the local address)")
	fl.StringVar(&f.direction, "direction", "", "ingress (received by the interface) or egress (sent by it)")
	fl.StringVar(&f.protocol, "protocol", "", "tcp, udp, icmp, icmpv6 or a protocol number")
	fl.StringVar(&f.src, "src", "", "source IP[:PORT]")
	fl.StringVar(&f.dst, "dst", "", "destination IP[:PORT]")
	fl.IntVar(&f.icmpType, "icmp-type", -1, "ICMP type (default 8 or 128, echo request)")
	fl.IntVar(&f.icmpCode, "icmp-code", 0, "ICMP code")
	fl.BoolVar(&f.reply, "reply", false, "evaluate as the reply of a connection opened by the reverse packet")
	fl.StringVarP(&f.output, "output", "o", "text", "text or json")
	return c
}

// policyAddr parses IP, IP:PORT or [IPv6]:PORT.
func policyAddr(flag, s string) (netip.Addr, int, error) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), int(ap.Port()), nil
	}
	a, err := netip.ParseAddr(strings.Trim(s, "[]"))
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, 0, usageErrorf("--%s %q: want IP, IP:PORT or [IPv6]:PORT", flag, s)
	}
	return a.Unmap(), -1, nil
}

func runPolicyCheck(cmd *cobra.Command, f *policyCheckFlags) error {
	for _, r := range []struct{ name, v string }{{"topology", f.topology}, {"direction", f.direction}, {"protocol", f.protocol}, {"src", f.src}, {"dst", f.dst}} {
		if r.v == "" {
			return usageErrorf("--%s is required\nRun 'vpcflow policy check --help' for usage.", r.name)
		}
	}
	if f.output != "text" && f.output != "json" {
		return usageErrorf("--output %q: want text or json", f.output)
	}
	dir, err := policy.ParseDirection(f.direction)
	if err != nil {
		return usageErrorf("--direction: %v", err)
	}
	proto, err := topology.ParseProtocol(f.protocol)
	if err != nil || proto == topology.Any {
		return usageErrorf("--protocol %q: want tcp, udp, icmp, icmpv6 or a number 0-255", f.protocol)
	}
	src, sport, err := policyAddr("src", f.src)
	if err != nil {
		return err
	}
	dst, dport, err := policyAddr("dst", f.dst)
	if err != nil {
		return err
	}
	if src.Is4() != dst.Is4() {
		return usageErrorf("--src %s and --dst %s are not the same IP version", src, dst)
	}
	p := &policy.Packet{Src: src, Dst: dst, Proto: uint8(proto)}
	switch proto {
	case topology.ProtoTCP, topology.ProtoUDP:
		if sport < 0 || dport < 0 {
			return usageErrorf("--protocol %s needs ports: --src IP:PORT --dst IP:PORT", topology.ProtocolName(proto))
		}
		p.SrcPort, p.DstPort = uint16(sport), uint16(dport)
		if proto == topology.ProtoTCP {
			p.TCPFlags = policy.FlagSYN
			if f.reply {
				p.TCPFlags |= policy.FlagACK
			}
		}
	case topology.ProtoICMP, topology.ProtoICMPv6:
		if sport > 0 || dport > 0 {
			return usageErrorf("--protocol %s has no ports; use --icmp-type and --icmp-code", topology.ProtocolName(proto))
		}
		t := f.icmpType
		if t < 0 {
			t = map[[2]bool]int{{false, false}: 8, {false, true}: 0, {true, false}: 128, {true, true}: 129}[[2]bool{proto == topology.ProtoICMPv6, f.reply}]
		}
		if t > 255 || f.icmpCode < 0 || f.icmpCode > 255 {
			return usageErrorf("--icmp-type/--icmp-code: want 0-255")
		}
		p.ICMPType, p.ICMPCode = uint8(t), uint8(f.icmpCode)
	}
	top, _, err := flowlog.Load(f.topology)
	if err != nil {
		return &exitError{code: 1, msg: err.Error()}
	}
	local := dst
	if dir == policy.Egress {
		local = src
	}
	var eni *topology.ENI
	if f.eni != "" {
		if eni = top.ENIByID(f.eni); eni == nil {
			return usageErrorf("--eni %s: no such network interface in %s", f.eni, f.topology)
		}
		if !policyOwns(eni, local) {
			side := "--dst"
			if dir == policy.Egress {
				side = "--src"
			}
			return usageErrorf("%s %s is not an address of %s (%s traffic is %s the interface)", side, local, eni.ID, dir, map[bool]string{true: "sent by", false: "received by"}[dir == policy.Egress])
		}
	} else if eni = top.ENIByIP("", local); eni == nil {
		return usageErrorf("no network interface owns %s in %s: give --eni", local, f.topology)
	}
	eng, err := policy.New(top, policy.Config{MaxTracked: 1, Shards: 1})
	if err != nil {
		return err
	}
	ex := eng.Explain(eni, dir, p, f.reply)
	return policyPrint(cmd.OutOrStdout(), f.output, eni, dir, p, ex)
}

func policyOwns(e *topology.ENI, a netip.Addr) bool {
	for _, x := range e.IPv4s {
		if x == a {
			return true
		}
	}
	for _, x := range e.IPv6s {
		if x == a {
			return true
		}
	}
	return false
}

func policyEndpoint(a netip.Addr, port uint16, proto uint8) string {
	if proto == topology.ProtoTCP || proto == topology.ProtoUDP {
		return netip.AddrPortFrom(a, port).String()
	}
	return a.String()
}

func policyPrint(w io.Writer, output string, eni *topology.ENI, dir policy.Direction, p *policy.Packet, ex policy.Explanation) error {
	rule := ex.Rule
	if rule == "" {
		rule = "-"
	}
	if output == "json" {
		type out struct {
			Action    string       `json:"action"`
			Rule      string       `json:"rule"`
			ENI       string       `json:"eni"`
			Direction string       `json:"direction"`
			Protocol  int          `json:"protocol"`
			Src       string       `json:"src"`
			Dst       string       `json:"dst"`
			ICMPType  *int         `json:"icmp-type,omitempty"`
			ICMPCode  *int         `json:"icmp-code,omitempty"`
			Path      []policy.Hop `json:"path"`
		}
		o := out{Action: ex.Action(), Rule: rule, ENI: eni.ID, Direction: dir.String(), Protocol: int(p.Proto),
			Src: policyEndpoint(p.Src, p.SrcPort, p.Proto), Dst: policyEndpoint(p.Dst, p.DstPort, p.Proto), Path: ex.Path}
		if p.Proto == topology.ProtoICMP || p.Proto == topology.ProtoICMPv6 {
			t, c := int(p.ICMPType), int(p.ICMPCode)
			o.ICMPType, o.ICMPCode = &t, &c
		}
		b, err := json.Marshal(o)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	what := topology.ProtocolName(int(p.Proto))
	if p.Proto == topology.ProtoICMP || p.Proto == topology.ProtoICMPv6 {
		what += " type " + strconv.Itoa(int(p.ICMPType)) + " code " + strconv.Itoa(int(p.ICMPCode))
	}
	fmt.Fprintf(w, "%s %s\n", ex.Action(), rule)
	fmt.Fprintf(w, "  %s %s %s %s -> %s\n", eni.ID, dir, what,
		policyEndpoint(p.Src, p.SrcPort, p.Proto), policyEndpoint(p.Dst, p.DstPort, p.Proto))
	for i, h := range ex.Path {
		r := h.Rule
		if r == "" {
			r = "-"
		}
		fmt.Fprintf(w, "  %d. %-4s %-7s %-7s %s", i+1, h.Kind, h.Direction, h.Action, r)
		if h.Note != "" {
			fmt.Fprintf(w, " (%s)", h.Note)
		}
		fmt.Fprintln(w)
	}
	return nil
}
