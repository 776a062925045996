package netstate

import (
	"fmt"
	"slices"
	"testing"

	"github.com/vpcflow/vpcflow/policy"
)

// Expected values below come from EC2's rules as the API reference states
// them: a new group has no inbound rule and one outbound rule allowing all
// IPv4 traffic; each source of a permission is one rule with its own id;
// in a nondefault VPC revoking an unknown rule fails with
// InvalidPermission.NotFound. Packet verdicts are worked out by hand: the
// default NACL allows everything, so the group alone decides; the engine
// names rules sg-ID/ingress/N with N the permission's position.

func TestCreateSecurityGroupDefaults(t *testing.T) {
	l := newLab(t)
	g := l.web
	if !isID(g.GroupId, "sg") || g.GroupName != "web" || g.Description != "web servers" || g.VpcId != l.vpc.VpcId || g.OwnerId != testAccount {
		t.Fatalf("group %+v", g)
	}
	if len(g.IpPermissions) != 0 {
		t.Errorf("a new group has no inbound rule, got %+v", g.IpPermissions)
	}
	if len(g.IpPermissionsEgress) != 1 || g.IpPermissionsEgress[0].IpProtocol != "-1" ||
		len(g.IpPermissionsEgress[0].IpRanges) != 1 || g.IpPermissionsEgress[0].IpRanges[0].CidrIp != "0.0.0.0/0" {
		t.Errorf("want the allow-all IPv4 outbound rule, got %+v", g.IpPermissionsEgress)
	}
	rules, err := l.s.DescribeSecurityGroupRules(nil, []Filter{{Name: "group-id", Values: []string{g.GroupId}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 1 || !rules[0].IsEgress || !isID(rules[0].SecurityGroupRuleId, "sgr") || rules[0].FromPort != -1 || rules[0].ToPort != -1 ||
		rules[0].CidrIpv4 != "0.0.0.0/0" || rules[0].GroupOwnerId != testAccount ||
		rules[0].SecurityGroupRuleArn != "arn:aws:ec2:us-east-1:111122223333:security-group-rule/"+rules[0].SecurityGroupRuleId {
		t.Errorf("rules %+v", rules)
	}
	// The default egress rule lets the interface open connections anywhere.
	if got := decide(t, l.s, l.eni.NetworkInterfaceId, policy.Egress, "tcp 10.1.1.4:40000 93.184.216.34:443 S"); got != "ACCEPT "+g.GroupId+"/egress/1" {
		t.Errorf("egress: %s", got)
	}
}

func TestCreateSecurityGroupErrors(t *testing.T) {
	l := newLab(t)
	s := l.s
	v0, _ := s.Topology()
	_ = v0
	_, ver, _ := s.CreateSecurityGroup(l.vpc.VpcId, "web", "again", nil)
	if ver != 0 {
		t.Errorf("failed call returned version %d", ver)
	}
	for _, c := range []struct {
		vpc, name, desc, code string
	}{
		{l.vpc.VpcId, "web", "again", CodeGroupDuplicate},
		{l.vpc.VpcId, "default", "x", CodeGroupReserved},
		{l.vpc.VpcId, "sg-mine", "x", CodeInvalidParameterValue},
		{l.vpc.VpcId, "", "x", CodeMissingParameter},
		{l.vpc.VpcId, "x", "", CodeMissingParameter},
		{l.vpc.VpcId, "x", "caf\u00e9", CodeInvalidParameterValue},
		{"vpc-0000000000000000f", "x", "x", CodeVpcNotFound},
		{"", "x", "x", CodeVPCIdNotSpecified}, // no default VPC here
	} {
		_, _, err := s.CreateSecurityGroup(c.vpc, c.name, c.desc, nil)
		wantCode(t, err, c.code)
	}
	// The same name in another VPC is fine.
	other := must[Vpc](t)(s.CreateVpc("10.2.0.0/16", nil))
	must[SecurityGroup](t)(s.CreateSecurityGroup(other.VpcId, "web", "web servers", nil))
}

func TestAuthorizeRevokeIngressDecides(t *testing.T) {
	l := newLab(t)
	s, sg, eni := l.s, l.web.GroupId, l.eni.NetworkInterfaceId
	ssh := "tcp 203.0.113.5:40000 10.1.1.4:22 S"
	if got := decide(t, s, eni, policy.Ingress, ssh); got != "REJECT "+sg+"/ingress/none" {
		t.Fatalf("before: %s", got)
	}
	_, v0 := s.Topology()
	rules, v1, err := s.AuthorizeSecurityGroupIngress(sg, []IpPermission{tcp(22, 22, "203.0.113.0/24")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if v1 != v0+1 {
		t.Errorf("version %d after %d", v1, v0)
	}
	if len(rules) != 1 || rules[0].IsEgress || rules[0].IpProtocol != "tcp" || rules[0].FromPort != 22 || rules[0].ToPort != 22 ||
		rules[0].CidrIpv4 != "203.0.113.0/24" || rules[0].GroupId != sg || !isID(rules[0].SecurityGroupRuleId, "sgr") {
		t.Fatalf("rules %+v", rules)
	}
	if got := decide(t, s, eni, policy.Ingress, ssh); got != "ACCEPT "+sg+"/ingress/1" {
		t.Errorf("after authorize: %s", got)
	}
	if got := decide(t, s, eni, policy.Ingress, "tcp 198.51.100.1:40000 10.1.1.4:22 S"); got != "REJECT "+sg+"/ingress/none" {
		t.Errorf("other source: %s", got)
	}
	if got := decide(t, s, eni, policy.Ingress, "tcp 203.0.113.5:40000 10.1.1.4:23 S"); got != "REJECT "+sg+"/ingress/none" {
		t.Errorf("other port: %s", got)
	}

	// The same rule again, even with a description, is a duplicate.
	dup := tcp(22, 22, "203.0.113.0/24")
	dup.IpRanges[0].Description = "office"
	_, _, err = s.AuthorizeSecurityGroupIngress(sg, []IpPermission{dup}, nil)
	wantCode(t, err, CodePermissionDuplicate)
	// A protocol given by number is stored by name: still the same rule.
	byNumber := tcp(22, 22, "203.0.113.0/24")
	byNumber.IpProtocol = "6"
	_, _, err = s.AuthorizeSecurityGroupIngress(sg, []IpPermission{byNumber}, nil)
	wantCode(t, err, CodePermissionDuplicate)
	if _, v := s.Topology(); v != v1 {
		t.Errorf("a failed authorize changed the version to %d", v)
	}

	// Revoke by properties (no description needed).
	res, v2, err := s.RevokeSecurityGroupIngress(sg, []IpPermission{tcp(22, 22, "203.0.113.0/24")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if v2 != v1+1 || len(res.Revoked) != 1 || res.Revoked[0].SecurityGroupRuleId != rules[0].SecurityGroupRuleId || len(res.UnknownIpPermissions) != 0 {
		t.Fatalf("revoke: v%d %+v", v2, res)
	}
	if got := decide(t, s, eni, policy.Ingress, ssh); got != "REJECT "+sg+"/ingress/none" {
		t.Errorf("after revoke: %s", got)
	}
	// Nothing left to revoke: a nondefault VPC answers NotFound.
	_, _, err = s.RevokeSecurityGroupIngress(sg, []IpPermission{tcp(22, 22, "203.0.113.0/24")}, nil)
	wantCode(t, err, CodePermissionNotFound)
}

func TestEgressAndICMP(t *testing.T) {
	l := newLab(t)
	s, sg, eni := l.s, l.web.GroupId, l.eni.NetworkInterfaceId
	https := "tcp 10.1.1.4:40000 93.184.216.34:443 S"
	all := IpPermission{IpProtocol: "-1", IpRanges: []IpRange{{CidrIp: "0.0.0.0/0"}}}
	ok(t)(second(s.RevokeSecurityGroupEgress(sg, []IpPermission{all}, nil)))
	if got := decide(t, s, eni, policy.Egress, https); got != "REJECT "+sg+"/egress/none" {
		t.Errorf("no egress rule: %s", got)
	}
	must[[]SecurityGroupRule](t)(s.AuthorizeSecurityGroupEgress(sg, []IpPermission{tcp(443, 443, "0.0.0.0/0")}, nil))
	if got := decide(t, s, eni, policy.Egress, https); got != "ACCEPT "+sg+"/egress/1" {
		t.Errorf("https: %s", got)
	}
	if got := decide(t, s, eni, policy.Egress, "tcp 10.1.1.4:40000 93.184.216.34:80 S"); got != "REJECT "+sg+"/egress/none" {
		t.Errorf("http: %s", got)
	}
	// ICMP: FromPort is the type, ToPort the code (-1: any). Echo request only.
	ping := IpPermission{IpProtocol: "icmp", FromPort: ptr(8), ToPort: ptr(-1), IpRanges: []IpRange{{CidrIp: "0.0.0.0/0"}}}
	must[[]SecurityGroupRule](t)(s.AuthorizeSecurityGroupIngress(sg, []IpPermission{ping}, nil))
	if got := decide(t, s, eni, policy.Ingress, "icmp 198.51.100.7 10.1.1.4 8/0"); got != "ACCEPT "+sg+"/ingress/1" {
		t.Errorf("echo request: %s", got)
	}
	if got := decide(t, s, eni, policy.Ingress, "icmp 198.51.100.7 10.1.1.4 13/0"); got != "REJECT "+sg+"/ingress/none" {
		t.Errorf("timestamp request: %s", got)
	}
	// All protocols: the ports given are ignored and reported as -1.
	r := must[[]SecurityGroupRule](t)(s.AuthorizeSecurityGroupIngress(sg, []IpPermission{{IpProtocol: "-1", FromPort: ptr(5), ToPort: ptr(6),
		IpRanges: []IpRange{{CidrIp: "10.9.0.0/16"}}}}, nil))
	if r[0].IpProtocol != "-1" || r[0].FromPort != -1 || r[0].ToPort != -1 {
		t.Errorf("all-protocol rule %+v", r[0])
	}
}

func second[A, B, C any](_ A, b B, c C) (B, C) { return b, c }

func TestGroupReferenceAndDependencies(t *testing.T) {
	l := newLab(t)
	s := l.s
	admin := must[SecurityGroup](t)(s.CreateSecurityGroup(l.vpc.VpcId, "admin", "admin hosts", nil))
	jump := must[NetworkInterface](t)(s.CreateNetworkInterface(l.subnet.SubnetId, "", []string{admin.GroupId}, "jump host", nil))
	if jump.PrivateIpAddress != "10.1.1.5" {
		t.Fatalf("second interface got %s, want 10.1.1.5", jump.PrivateIpAddress)
	}
	perm := IpPermission{IpProtocol: "tcp", FromPort: ptr(22), ToPort: ptr(22), UserIdGroupPairs: []UserIdGroupPair{{GroupName: "admin"}}}
	rs := must[[]SecurityGroupRule](t)(s.AuthorizeSecurityGroupIngress(l.web.GroupId, []IpPermission{perm}, nil))
	if rs[0].ReferencedGroupInfo == nil || rs[0].ReferencedGroupInfo.GroupId != admin.GroupId || rs[0].ReferencedGroupInfo.UserId != testAccount {
		t.Fatalf("rule %+v", rs[0])
	}
	web := l.web.GroupId
	if got := decide(t, s, l.eni.NetworkInterfaceId, policy.Ingress, "tcp 10.1.1.5:40000 10.1.1.4:22 S"); got != "ACCEPT "+web+"/ingress/1" {
		t.Errorf("from a member of admin: %s", got)
	}
	if got := decide(t, s, l.eni.NetworkInterfaceId, policy.Ingress, "tcp 10.1.1.6:40000 10.1.1.4:22 S"); got != "REJECT "+web+"/ingress/none" {
		t.Errorf("from a non-member: %s", got)
	}

	_, _, err := s.DeleteSecurityGroup(admin.GroupId, "")
	wantCode(t, err, CodeDependencyViolation) // the jump host carries it
	ok(t)(s.DeleteNetworkInterface(jump.NetworkInterfaceId))
	_, _, err = s.DeleteSecurityGroup(admin.GroupId, "")
	wantCode(t, err, CodeDependencyViolation) // web's rule refers to it
	ok(t)(second(s.RevokeSecurityGroupIngress(web, nil, []string{rs[0].SecurityGroupRuleId})))
	id, _, err := s.DeleteSecurityGroup(admin.GroupId, "")
	if err != nil || id != admin.GroupId {
		t.Fatalf("delete: %s %v", id, err)
	}
	_, _, err = s.DeleteSecurityGroup(admin.GroupId, "")
	wantCode(t, err, CodeGroupNotFound)
	_, _, err = s.DeleteSecurityGroup("admin-group", "")
	wantCode(t, err, CodeGroupIdMalformed)
	_, _, err = s.DeleteSecurityGroup("", "")
	wantCode(t, err, CodeMissingParameter)
	// By name only in the default VPC; this VPC is not one.
	_, _, err = s.DeleteSecurityGroup("", "web")
	wantCode(t, err, CodeGroupNotFound)

	// The default group cannot be deleted.
	var def string
	for _, g := range s.Network().SecurityGroups {
		if g.VpcId == l.vpc.VpcId && g.GroupName == "default" {
			def = g.GroupId
		}
	}
	_, _, err = s.DeleteSecurityGroup(def, "")
	wantCode(t, err, CodeCannotDelete)
	if top, _ := s.Topology(); top.SecurityGroup(admin.GroupId) != nil {
		t.Error("deleted group still in the topology")
	}
}

func TestRevokeByRuleID(t *testing.T) {
	l := newLab(t)
	s, sg, eni := l.s, l.web.GroupId, l.eni.NetworkInterfaceId
	rs := must[[]SecurityGroupRule](t)(s.AuthorizeSecurityGroupIngress(sg, []IpPermission{tcp(443, 443, "192.0.2.0/24", "198.51.100.0/24")},
		[]Tag{{Key: "Name", Value: "https"}}))
	if len(rs) != 2 || rs[0].SecurityGroupRuleId == rs[1].SecurityGroupRuleId {
		t.Fatalf("two sources are two rules with two ids: %+v", rs)
	}
	if len(rs[0].Tags) != 1 || rs[0].Tags[0] != (Tag{"Name", "https"}) {
		t.Errorf("tags %+v", rs[0].Tags)
	}
	_, _, err := s.RevokeSecurityGroupIngress(sg, nil, []string{"sgr-00000000000000000"})
	wantCode(t, err, CodeRuleIdNotFound)
	_, _, err = s.RevokeSecurityGroupIngress(sg, nil, []string{"rule-1"})
	wantCode(t, err, CodeRuleIdMalformed)
	egressRule, _ := s.DescribeSecurityGroupRules(nil, []Filter{{Name: "group-id", Values: []string{sg}}})
	var eid string
	for _, r := range egressRule {
		if r.IsEgress {
			eid = r.SecurityGroupRuleId
		}
	}
	_, _, err = s.RevokeSecurityGroupIngress(sg, nil, []string{eid}) // an outbound rule is not an inbound one
	wantCode(t, err, CodeRuleIdNotFound)
	_, _, err = s.RevokeSecurityGroupIngress(sg, []IpPermission{tcp(443, 443, "192.0.2.0/24")}, []string{rs[0].SecurityGroupRuleId})
	wantCode(t, err, CodeInvalidParameterCombination)

	res, _, err := s.RevokeSecurityGroupIngress(sg, nil, []string{rs[0].SecurityGroupRuleId})
	if err != nil || len(res.Revoked) != 1 || res.Revoked[0].CidrIpv4 != "192.0.2.0/24" {
		t.Fatalf("%+v %v", res, err)
	}
	if got := decide(t, s, eni, policy.Ingress, "tcp 192.0.2.9:40000 10.1.1.4:443 S"); got != "REJECT "+sg+"/ingress/none" {
		t.Errorf("revoked source: %s", got)
	}
	if got := decide(t, s, eni, policy.Ingress, "tcp 198.51.100.9:40000 10.1.1.4:443 S"); got != "ACCEPT "+sg+"/ingress/1" {
		t.Errorf("remaining source: %s", got)
	}
}

func TestAuthorizeValidation(t *testing.T) {
	l := newLab(t)
	s, sg := l.s, l.web.GroupId
	for i, c := range []struct {
		perm IpPermission
		code string
	}{
		{IpPermission{IpProtocol: "tcp", IpRanges: []IpRange{{CidrIp: "0.0.0.0/0"}}}, CodeInvalidParameterValue}, // TCP needs ports
		{IpPermission{IpProtocol: "tcp", FromPort: ptr(22), IpRanges: []IpRange{{CidrIp: "0.0.0.0/0"}}}, CodeInvalidParameterValue},
		{tcp(80, 22, "0.0.0.0/0"), CodeInvalidParameterValue},
		{tcp(0, 70000, "0.0.0.0/0"), CodeInvalidParameterValue},
		{IpPermission{IpProtocol: "bogus", IpRanges: []IpRange{{CidrIp: "0.0.0.0/0"}}}, CodeInvalidParameterValue},
		{IpPermission{IpProtocol: "", IpRanges: []IpRange{{CidrIp: "0.0.0.0/0"}}}, CodeMissingParameter},
		{tcp(22, 22, "10.0.0.0/33"), CodeInvalidParameterValue},
		{tcp(22, 22, "::/0"), CodeInvalidParameterValue}, // IPv6 in IpRanges
		{tcp(22, 22), CodeInvalidParameterValue},         // no source
		{IpPermission{IpProtocol: "icmp", FromPort: ptr(-1), ToPort: ptr(3), IpRanges: []IpRange{{CidrIp: "0.0.0.0/0"}}}, CodeInvalidParameterValue},
		{IpPermission{IpProtocol: "tcp", FromPort: ptr(22), ToPort: ptr(22), UserIdGroupPairs: []UserIdGroupPair{{GroupId: "sg-00000000000000000"}}}, CodeGroupNotFound},
		{IpPermission{IpProtocol: "tcp", FromPort: ptr(22), ToPort: ptr(22), PrefixListIds: []PrefixListId{{PrefixListId: "pl-00000000000000000"}}}, CodePrefixListNotFound},
		{IpPermission{IpProtocol: "tcp", FromPort: ptr(22), ToPort: ptr(22), IpRanges: []IpRange{{CidrIp: "0.0.0.0/0", Description: "bad\ttab"}}}, CodeInvalidParameterValue},
	} {
		if _, _, err := s.AuthorizeSecurityGroupIngress(sg, []IpPermission{c.perm}, nil); err == nil {
			t.Errorf("case %d: no error", i)
		} else {
			wantCode(t, err, c.code)
		}
	}
	_, _, err := s.AuthorizeSecurityGroupIngress(sg, nil, nil)
	wantCode(t, err, CodeMissingParameter)
	_, _, err = s.AuthorizeSecurityGroupIngress("sg-00000000000000000", []IpPermission{tcp(22, 22, "0.0.0.0/0")}, nil)
	wantCode(t, err, CodeGroupNotFound)
	// A group of another VPC cannot be referred to.
	other := must[Vpc](t)(s.CreateVpc("10.2.0.0/16", nil))
	og := must[SecurityGroup](t)(s.CreateSecurityGroup(other.VpcId, "o", "o", nil))
	_, _, err = s.AuthorizeSecurityGroupIngress(sg, []IpPermission{{IpProtocol: "-1", UserIdGroupPairs: []UserIdGroupPair{{GroupId: og.GroupId}}}}, nil)
	wantCode(t, err, CodeGroupNotFound)
	// Two identical sources in one request: a duplicate, nothing added.
	_, _, err = s.AuthorizeSecurityGroupIngress(sg, []IpPermission{tcp(22, 22, "10.0.0.0/8"), tcp(22, 22, "10.0.0.0/8")}, nil)
	wantCode(t, err, CodePermissionDuplicate)

	// 60 inbound rules fit, the 61st does not.
	var cidrs []string
	for i := 0; i < maxRulesPerDirection; i++ {
		cidrs = append(cidrs, fmt.Sprintf("10.%d.0.0/16", i))
	}
	must[[]SecurityGroupRule](t)(s.AuthorizeSecurityGroupIngress(sg, []IpPermission{tcp(22, 22, cidrs...)}, nil))
	_, _, err = s.AuthorizeSecurityGroupIngress(sg, []IpPermission{tcp(23, 23, "10.0.0.0/8")}, nil)
	wantCode(t, err, CodeRulesPerGroupLimit)
	// Outbound rules are counted apart.
	must[[]SecurityGroupRule](t)(s.AuthorizeSecurityGroupEgress(sg, []IpPermission{tcp(23, 23, "10.0.0.0/8")}, nil))
}

// In a default VPC EC2 revokes what matches and returns the rest.
func TestRevokeInDefaultVPC(t *testing.T) {
	s, _ := newStore(t)
	file := `
Vpcs: [{VpcId: vpc-0000000000000000d, CidrBlock: 172.31.0.0/16, IsDefault: true}]
SecurityGroups:
  - GroupId: sg-0000000000000000a
    GroupName: app
    VpcId: vpc-0000000000000000d
    IpPermissions:
      - {IpProtocol: tcp, FromPort: 80, ToPort: 80, IpRanges: [{CidrIp: 0.0.0.0/0}]}
`
	if err := s.Seed("default.yaml", []byte(file)); err != nil {
		t.Fatal(err)
	}
	res, _, err := s.RevokeSecurityGroupIngress("sg-0000000000000000a", []IpPermission{tcp(80, 80, "0.0.0.0/0"), tcp(81, 81, "0.0.0.0/0")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Revoked) != 1 || res.Revoked[0].FromPort != 80 || len(res.UnknownIpPermissions) != 1 || *res.UnknownIpPermissions[0].FromPort != 81 {
		t.Fatalf("%+v", res)
	}
	// Nothing matches: no error, no change.
	_, v0 := s.Topology()
	res, v, err := s.RevokeSecurityGroupIngress("sg-0000000000000000a", []IpPermission{tcp(82, 82, "0.0.0.0/0")}, nil)
	if err != nil || v != v0 || len(res.UnknownIpPermissions) != 1 {
		t.Fatalf("%+v v%d %v", res, v, err)
	}
	// CreateSecurityGroup without a VPC uses the default VPC, and
	// DeleteSecurityGroup by name works there.
	g := must[SecurityGroup](t)(s.CreateSecurityGroup("", "temp", "temp", nil))
	if g.VpcId != "vpc-0000000000000000d" {
		t.Errorf("group in %s", g.VpcId)
	}
	id, _, err := s.DeleteSecurityGroup("", "temp")
	if err != nil || id != g.GroupId {
		t.Fatalf("%s %v", id, err)
	}
}

func TestDescribeSecurityGroupRules(t *testing.T) {
	l := newLab(t)
	s, sg := l.s, l.web.GroupId
	a := must[[]SecurityGroupRule](t)(s.AuthorizeSecurityGroupIngress(sg, []IpPermission{tcp(22, 22, "192.0.2.0/24")}, []Tag{{Key: "team", Value: "ops"}}))
	b := must[[]SecurityGroupRule](t)(s.AuthorizeSecurityGroupIngress(sg, []IpPermission{tcp(80, 80, "0.0.0.0/0")}, []Tag{{Key: "team", Value: "web"}}))
	ids := func(rs []SecurityGroupRule) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.SecurityGroupRuleId)
		}
		slices.Sort(out)
		return out
	}
	all, err := s.DescribeSecurityGroupRules(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	// web: 2 inbound + 1 outbound; the VPC's default group: 1 + 1.
	if len(all) != 5 {
		t.Errorf("%d rules, want 5", len(all))
	}
	for _, c := range []struct {
		ids     []string
		filters []Filter
		want    []string
	}{
		{[]string{a[0].SecurityGroupRuleId}, nil, ids(a)},
		{nil, []Filter{{Name: "security-group-rule-id", Values: []string{b[0].SecurityGroupRuleId}}}, ids(b)},
		{nil, []Filter{{Name: "tag:team", Values: []string{"ops", "web"}}}, ids(append(a, b...))},
		{nil, []Filter{{Name: "tag:team", Values: []string{"web"}}, {Name: "group-id", Values: []string{sg}}}, ids(b)},
		{nil, []Filter{{Name: "tag-key", Values: []string{"team"}}}, ids(append(a, b...))},
	} {
		got, err := s.DescribeSecurityGroupRules(c.ids, c.filters)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ids(got), c.want) {
			t.Errorf("%v %+v: got %v, want %v", c.ids, c.filters, ids(got), c.want)
		}
	}
	_, err = s.DescribeSecurityGroupRules(nil, []Filter{{Name: "ip-protocol", Values: []string{"tcp"}}})
	wantCode(t, err, CodeInvalidParameterValue)
	_, err = s.DescribeSecurityGroupRules(nil, []Filter{{Name: "group-id"}})
	wantCode(t, err, CodeInvalidParameterValue)
	_, err = s.DescribeSecurityGroupRules([]string{"sgr-00000000000000000"}, nil)
	wantCode(t, err, CodeRuleIdNotFound)
	// Results are copies.
	got, _ := s.DescribeSecurityGroupRules([]string{a[0].SecurityGroupRuleId}, nil)
	got[0].Tags[0].Value = "changed"
	again, _ := s.DescribeSecurityGroupRules([]string{a[0].SecurityGroupRuleId}, nil)
	if again[0].Tags[0].Value != "ops" {
		t.Error("a caller changed the store's rule")
	}
}
