package policy

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/vpcflow/vpcflow/topology"
)

// FuzzRules feeds fuzzed SG permissions and NACL entries through the
// loader's rule parser and, when they load, fuzzed packets through the
// engine. Bad rules must give positioned errors; good ones must give the
// same verdict from the stateful Decide on a fresh engine as from the
// stateless Check, with a rule name that matches the action, and never panic.
func FuzzRules(f *testing.F) {
	f.Add("tcp", "443", "443", "0.0.0.0/0", "6", 100, "allow", "1024", "65535", "10.0.0.0/8", uint8(6), []byte{198, 51, 100, 7}, uint16(51544), uint16(443), true)
	f.Add("-1", "", "", "::/0", "-1", 32767, "deny", "", "", "::/0", uint8(58), []byte{0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, uint16(128), uint16(0), false)
	f.Add("icmp", "8", "-1", "203.0.113.0/24", "1", 1, "allow", "-1", "-1", "0.0.0.0/0", uint8(1), []byte{203, 0, 113, 9}, uint16(8), uint16(0), true)
	f.Add("udp", "53", "52", "10.0.0.0/33", "17", 0, "maybe", "x", "", "nope", uint8(17), []byte{}, uint16(0), uint16(0), false)
	f.Fuzz(func(t *testing.T, proto, from, to, cidr, aclProto string, ruleNum int, action, pfrom, pto, aclCIDR string,
		pproto uint8, remote []byte, sport, dport uint16, ingress bool) {
		num := func(s string) string {
			if s == "" {
				return "null"
			}
			return fmt.Sprintf("%q", s)
		}
		y := fmt.Sprintf(`Vpcs: [{VpcId: vpc-1, CidrBlock: 10.0.0.0/16}]
Subnets: [{SubnetId: subnet-1, VpcId: vpc-1, CidrBlock: 10.0.1.0/24, Ipv6CidrBlockAssociationSet: [{Ipv6CidrBlock: "2001:db8:1:1::/64"}]}]
NetworkInterfaces: [{NetworkInterfaceId: eni-1, SubnetId: subnet-1, PrivateIpAddress: 10.0.1.5, Ipv6Addresses: [{Ipv6Address: "2001:db8:1:1::5"}], Groups: [{GroupId: sg-1}]}]
SecurityGroups:
  - GroupId: sg-1
    IpPermissions:
      - {IpProtocol: %q, FromPort: %s, ToPort: %s, IpRanges: [{CidrIp: %q}], Ipv6Ranges: [{CidrIpv6: "::/0"}]}
NetworkAcls:
  - NetworkAclId: acl-1
    VpcId: vpc-1
    IsDefault: true
    Entries:
      - {RuleNumber: %d, Protocol: %q, RuleAction: %q, Egress: false, CidrBlock: %q, PortRange: {From: %s, To: %s}, IcmpTypeCode: {Type: %s, Code: %s}}
      - {RuleNumber: %d, Protocol: %q, RuleAction: %q, Egress: true, Ipv6CidrBlock: "::/0"}
`, proto, num(from), num(to), cidr, ruleNum, aclProto, action, aclCIDR, num(pfrom), num(pto), num(pfrom), num(pto), ruleNum, aclProto, action)
		top, err := topology.Parse("r.yaml", []byte(y))
		if err != nil {
			var el topology.ErrorList
			if !errors.As(err, &el) {
				t.Fatalf("%T %v", err, err)
			}
			for _, e := range el {
				if e.Line < 1 || strings.Contains(e.Msg, "internal error") {
					t.Fatalf("unpositioned or internal error: %v", e)
				}
			}
			return
		}
		e, err := New(top, Config{MaxTracked: 16})
		if err != nil {
			t.Fatal(err)
		}
		r, ok := netip.AddrFromSlice(remote)
		if !ok {
			return
		}
		eni := top.ENIs()[0]
		local := eni.PrimaryIPv4
		if r.Is6() {
			local = eni.IPv6s[0]
		}
		p := &Packet{Proto: pproto, Src: r, Dst: local, SrcPort: sport, DstPort: dport, ICMPType: uint8(sport), ICMPCode: uint8(dport)}
		dir := Ingress
		if !ingress {
			dir = Egress
			p.Src, p.Dst = local, r
		}
		v := e.Decide(eni, dir, p, 1)
		c := e.Check(eni, dir, p)
		if v != c {
			t.Fatalf("Decide %+v != Check %+v", v, c)
		}
		if !v.Accept && !strings.HasSuffix(v.Rule, "/none") && !strings.HasPrefix(v.Rule, "acl-") {
			t.Fatalf("REJECT with rule %q", v.Rule)
		}
	})
}
