package ec2_test

import (
	"reflect"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2sdk "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func ruleIDs(rs []types.SecurityGroupRule) []string {
	var out []string
	for _, r := range rs {
		out = append(out, aws.ToString(r.SecurityGroupRuleId))
	}
	return out
}

func TestCreateDeleteSecurityGroup(t *testing.T) {
	g := newRig(t, topoFile, nil)
	out, err := g.c.CreateSecurityGroup(ctx, &ec2sdk.CreateSecurityGroupInput{VpcId: aws.String(vpcID), GroupName: aws.String("ssh"),
		Description: aws.String("SSH from the office"), TagSpecifications: tagSpec(types.ResourceTypeSecurityGroup, "team", "ops")})
	ok(t, err)
	id := aws.ToString(out.GroupId)
	if !idOf("sg").MatchString(id) || !reflect.DeepEqual(out.Tags, tags("team", "ops")) ||
		aws.ToString(out.SecurityGroupArn) != "arn:aws:ec2:us-east-1:111122223333:security-group/"+id {
		t.Fatalf("created %s %+v %s", id, out.Tags, aws.ToString(out.SecurityGroupArn))
	}
	d, err := g.c.DescribeSecurityGroups(ctx, &ec2sdk.DescribeSecurityGroupsInput{GroupIds: []string{id}})
	ok(t, err)
	// A new group: no inbound rule; outbound, all traffic, to IPv4 and,
	// the example VPC having IPv6, to IPv6 (VPC user guide).
	egress := types.IpPermission{IpProtocol: aws.String("-1"), UserIdGroupPairs: []types.UserIdGroupPair{},
		IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}, Ipv6Ranges: []types.Ipv6Range{{CidrIpv6: aws.String("::/0")}},
		PrefixListIds: []types.PrefixListId{}}
	want := types.SecurityGroup{GroupId: aws.String(id), IpPermissionsEgress: []types.IpPermission{egress}, Tags: tags("team", "ops"),
		VpcId: aws.String(vpcID), SecurityGroupArn: out.SecurityGroupArn, OwnerId: aws.String(account), GroupName: aws.String("ssh"),
		Description: aws.String("SSH from the office"), IpPermissions: []types.IpPermission{}}
	if !reflect.DeepEqual(d.SecurityGroups[0], want) {
		t.Errorf("described\n%+v\nwant\n%+v", d.SecurityGroups[0], want)
	}
	for _, tc := range []struct {
		vpc, name, desc string
		code, msg       string
	}{
		{vpcID, "ssh", "again", "InvalidGroup.Duplicate", "The security group 'ssh' already exists for VPC '" + vpcID + "'"},
		{vpcID, "default", "x", "InvalidGroup.Reserved", "The security group 'default' is reserved"},
		{vpcID, "sg-mine", "x", "InvalidParameterValue", "Group names may not be in the format sg-*"},
		{vpcID, "bad|name", "x", "InvalidParameterValue", ""},
		{"", "x", "x", "VPCIdNotSpecified", "No default VPC for this user"},
		{"vpc-0000000000000dead", "x", "x", "InvalidVpcID.NotFound", "The vpc ID 'vpc-0000000000000dead' does not exist"},
	} {
		in := &ec2sdk.CreateSecurityGroupInput{GroupName: aws.String(tc.name), Description: aws.String(tc.desc)}
		if tc.vpc != "" {
			in.VpcId = aws.String(tc.vpc)
		}
		_, err := g.c.CreateSecurityGroup(ctx, in)
		wantAPIError(t, err, 400, tc.code, tc.msg)
	}
	st, body := g.raw(t, form("Action", "CreateSecurityGroup", "Version", "2016-11-15", "GroupName", "x", "VpcId", vpcID))
	wantErrorDoc(t, st, body, 400, "MissingParameter", "The request must contain the parameter GroupDescription")

	// DeleteSecurityGroup: AWS answers Return and the group's id.
	del, err := g.c.DeleteSecurityGroup(ctx, &ec2sdk.DeleteSecurityGroupInput{GroupId: aws.String(id)})
	ok(t, err)
	if !aws.ToBool(del.Return) || aws.ToString(del.GroupId) != id {
		t.Errorf("delete answered %v %s", aws.ToBool(del.Return), aws.ToString(del.GroupId))
	}
	_, err = g.c.DescribeSecurityGroups(ctx, &ec2sdk.DescribeSecurityGroupsInput{GroupIds: []string{id}})
	wantAPIError(t, err, 400, "InvalidGroup.NotFound", "The security group '"+id+"' does not exist")
	def, err := g.c.DescribeSecurityGroups(ctx, &ec2sdk.DescribeSecurityGroupsInput{Filters: filter("group-name", "default")})
	ok(t, err)
	defID := aws.ToString(def.SecurityGroups[0].GroupId)
	for _, tc := range []struct {
		in        *ec2sdk.DeleteSecurityGroupInput
		code, msg string
	}{
		{&ec2sdk.DeleteSecurityGroupInput{GroupId: aws.String(id)}, "InvalidGroup.NotFound", "The security group '" + id + "' does not exist"},
		{&ec2sdk.DeleteSecurityGroupInput{GroupId: aws.String("web")}, "InvalidGroupId.Malformed", `Invalid id: "web"`},
		// A group an interface carries, or another group's rule refers to.
		{&ec2sdk.DeleteSecurityGroupInput{GroupId: aws.String(webSG)}, "DependencyViolation", webENI},
		{&ec2sdk.DeleteSecurityGroupInput{GroupId: aws.String(bastSG)}, "DependencyViolation", bastENI},
		{&ec2sdk.DeleteSecurityGroupInput{GroupId: aws.String(defID)}, "CannotDelete", "cannot be deleted by a user"},
		// A name is looked up in the default VPC only; the example has none.
		{&ec2sdk.DeleteSecurityGroupInput{GroupName: aws.String("web")}, "InvalidGroup.NotFound", "The security group 'web' does not exist in default VPC ''"},
	} {
		_, err := g.c.DeleteSecurityGroup(ctx, tc.in)
		wantAPIError(t, err, 400, tc.code, tc.msg)
	}
	st, body = g.raw(t, form("Action", "DeleteSecurityGroup", "Version", "2016-11-15"))
	wantErrorDoc(t, st, body, 400, "MissingParameter", "The request must contain the parameter GroupId")
}

func TestAuthorizeRevokeAndRules(t *testing.T) {
	g := newRig(t, topoFile, nil)
	grp, err := g.c.CreateSecurityGroup(ctx, &ec2sdk.CreateSecurityGroupInput{VpcId: aws.String(vpcID), GroupName: aws.String("svc"), Description: aws.String("svc")})
	ok(t, err)
	id := aws.ToString(grp.GroupId)
	in, err := g.c.AuthorizeSecurityGroupIngress(ctx, &ec2sdk.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(id),
		IpPermissions: []types.IpPermission{
			{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22),
				IpRanges: []types.IpRange{{CidrIp: aws.String("203.0.113.0/24"), Description: aws.String("office")}}},
			{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(8443), ToPort: aws.Int32(8443),
				UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: aws.String(webSG)}}, Ipv6Ranges: []types.Ipv6Range{{CidrIpv6: aws.String("2001:db8::/32")}}},
			{IpProtocol: aws.String("icmp"), FromPort: aws.Int32(8), ToPort: aws.Int32(-1), IpRanges: []types.IpRange{{CidrIp: aws.String("10.0.0.0/16")}}},
		},
		TagSpecifications: tagSpec(types.ResourceTypeSecurityGroupRule, "why", "ops")})
	ok(t, err)
	if !aws.ToBool(in.Return) || len(in.SecurityGroupRules) != 4 {
		t.Fatalf("authorize %v %+v", aws.ToBool(in.Return), in.SecurityGroupRules)
	}
	rule := func(r types.SecurityGroupRule, proto string, from, to int32) types.SecurityGroupRule {
		return types.SecurityGroupRule{SecurityGroupRuleId: r.SecurityGroupRuleId, GroupId: aws.String(id), GroupOwnerId: aws.String(account),
			IsEgress: aws.Bool(false), IpProtocol: aws.String(proto), FromPort: aws.Int32(from), ToPort: aws.Int32(to), Tags: tags("why", "ops"),
			SecurityGroupRuleArn: aws.String("arn:aws:ec2:us-east-1:111122223333:security-group-rule/" + aws.ToString(r.SecurityGroupRuleId))}
	}
	rs := in.SecurityGroupRules
	ssh := rule(rs[0], "tcp", 22, 22)
	ssh.CidrIpv4, ssh.Description = aws.String("203.0.113.0/24"), aws.String("office")
	web := rule(rs[1], "tcp", 8443, 8443)
	web.CidrIpv6 = aws.String("2001:db8::/32")
	fromWeb := rule(rs[2], "tcp", 8443, 8443)
	fromWeb.ReferencedGroupInfo = &types.ReferencedSecurityGroup{GroupId: aws.String(webSG), UserId: aws.String(account)}
	ping := rule(rs[3], "icmp", 8, -1)
	ping.CidrIpv4 = aws.String("10.0.0.0/16")
	for i, want := range []types.SecurityGroupRule{ssh, web, fromWeb, ping} {
		if !idOf("sgr").MatchString(aws.ToString(rs[i].SecurityGroupRuleId)) || !reflect.DeepEqual(rs[i], want) {
			t.Errorf("rule %d\n%+v\nwant\n%+v", i, rs[i], want)
		}
	}
	// DescribeSecurityGroups groups the rules into permissions again.
	d, err := g.c.DescribeSecurityGroups(ctx, &ec2sdk.DescribeSecurityGroupsInput{GroupIds: []string{id}})
	ok(t, err)
	perms := d.SecurityGroups[0].IpPermissions
	if len(perms) != 3 || aws.ToString(perms[0].IpRanges[0].Description) != "office" ||
		len(perms[1].Ipv6Ranges) != 1 || len(perms[1].UserIdGroupPairs) != 1 || aws.ToString(perms[1].UserIdGroupPairs[0].GroupId) != webSG {
		t.Errorf("permissions %+v", perms)
	}
	for _, tc := range []struct {
		f    []types.Filter
		want []string
	}{
		{filter("ip-permission.group-name", "web"), []string{appSG, id}},
		{filter("ip-permission.ipv6-cidr", "2001:db8::/32"), []string{id}},
		{filter("ip-permission.cidr", "203.0.113.0/24"), []string{id, bastSG}},
	} {
		out, err := g.c.DescribeSecurityGroups(ctx, &ec2sdk.DescribeSecurityGroupsInput{Filters: tc.f})
		ok(t, err)
		var got []string
		for _, sg := range out.SecurityGroups {
			got = append(got, aws.ToString(sg.GroupId))
		}
		slices.Sort(got)
		slices.Sort(tc.want)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: %q, want %q", aws.ToString(tc.f[0].Name), got, tc.want)
		}
	}

	// DescribeSecurityGroupRules: the group's 4 inbound rules and its 2
	// outbound ones (all traffic to IPv4 and IPv6).
	all, err := g.c.DescribeSecurityGroupRules(ctx, &ec2sdk.DescribeSecurityGroupRulesInput{Filters: filter("group-id", id)})
	ok(t, err)
	if len(all.SecurityGroupRules) != 6 || all.NextToken != nil {
		t.Fatalf("rules %+v", all.SecurityGroupRules)
	}
	var egress []types.SecurityGroupRule
	for _, r := range all.SecurityGroupRules {
		if aws.ToBool(r.IsEgress) {
			egress = append(egress, r)
		}
	}
	if len(egress) != 2 || aws.ToString(egress[0].IpProtocol) != "-1" || aws.ToInt32(egress[0].FromPort) != -1 || aws.ToInt32(egress[0].ToPort) != -1 {
		t.Errorf("egress rules %+v", egress)
	}
	byID, err := g.c.DescribeSecurityGroupRules(ctx, &ec2sdk.DescribeSecurityGroupRulesInput{SecurityGroupRuleIds: []string{aws.ToString(ssh.SecurityGroupRuleId)}})
	ok(t, err)
	if len(byID.SecurityGroupRules) != 1 || !reflect.DeepEqual(byID.SecurityGroupRules[0], ssh) {
		t.Errorf("by id %+v", byID.SecurityGroupRules)
	}
	for _, tc := range []struct {
		f    []types.Filter
		want int
	}{
		{filter("tag:why", "ops"), 4},
		{filter("tag-key", "why"), 4},
		{filter("security-group-rule-id", aws.ToString(ping.SecurityGroupRuleId), aws.ToString(web.SecurityGroupRuleId)), 2},
		{append(filter("group-id", id), filter("tag:why", "nope")...), 0},
	} {
		out, err := g.c.DescribeSecurityGroupRules(ctx, &ec2sdk.DescribeSecurityGroupRulesInput{Filters: tc.f})
		if err != nil || len(out.SecurityGroupRules) != tc.want {
			t.Errorf("%+v: %v %d, want %d", tc.f, err, len(out.SecurityGroupRules), tc.want)
		}
	}
	// Pages of 5 (the least EC2 takes), in a stable order.
	var paged []string
	p := ec2sdk.NewDescribeSecurityGroupRulesPaginator(g.c, &ec2sdk.DescribeSecurityGroupRulesInput{Filters: filter("group-id", id), MaxResults: aws.Int32(5)})
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		ok(t, err)
		pages++
		paged = append(paged, ruleIDs(out.SecurityGroupRules)...)
	}
	if pages != 2 || !slices.Equal(paged, ruleIDs(all.SecurityGroupRules)) {
		t.Errorf("%d pages %q, want %q", pages, paged, ruleIDs(all.SecurityGroupRules))
	}
	_, err = g.c.DescribeSecurityGroupRules(ctx, &ec2sdk.DescribeSecurityGroupRulesInput{SecurityGroupRuleIds: []string{"sgr-0000000000000dead"}})
	wantAPIError(t, err, 400, "InvalidSecurityGroupRuleId.NotFound", "sgr-0000000000000dead")
	_, err = g.c.DescribeSecurityGroupRules(ctx, &ec2sdk.DescribeSecurityGroupRulesInput{SecurityGroupRuleIds: []string{"rule-1"}})
	wantAPIError(t, err, 400, "InvalidSecurityGroupRuleId.Malformed", "rule-1")
	_, err = g.c.DescribeSecurityGroupRules(ctx, &ec2sdk.DescribeSecurityGroupRulesInput{Filters: filter("ip-protocol", "tcp")})
	wantAPIError(t, err, 400, "InvalidParameterValue", "The filter 'ip-protocol' is invalid")
	_, err = g.c.DescribeSecurityGroupRules(ctx, &ec2sdk.DescribeSecurityGroupRulesInput{MaxResults: aws.Int32(4)})
	wantAPIError(t, err, 400, "InvalidParameterValue", "Value ( 4 ) for parameter MaxResults is invalid. Expecting a value between 5 and 1000.")

	// Authorize errors; each leaves the network as it was.
	tcp := func(from, to int32, cidr string) []types.IpPermission {
		return []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(from), ToPort: aws.Int32(to), IpRanges: []types.IpRange{{CidrIp: aws.String(cidr)}}}}
	}
	for _, tc := range []struct {
		group     string
		perms     []types.IpPermission
		code, msg string
	}{
		{id, tcp(22, 22, "203.0.113.0/24"), "InvalidPermission.Duplicate", "the specified rule \"peer: 203.0.113.0/24, TCP, from port: 22, to port: 22, ALLOW\" already exists"},
		{id, append(tcp(80, 80, "0.0.0.0/0"), tcp(80, 80, "0.0.0.0/0")...), "InvalidPermission.Duplicate", "already exists"},
		{"sg-0000000000000dead", tcp(22, 22, "0.0.0.0/0"), "InvalidGroup.NotFound", "The security group 'sg-0000000000000dead' does not exist"},
		{"web", tcp(22, 22, "0.0.0.0/0"), "InvalidGroupId.Malformed", `Invalid id: "web"`},
		{id, tcp(90, 80, "0.0.0.0/0"), "InvalidParameterValue", ""},
		{id, tcp(22, 22, "10.0.0.0/33"), "InvalidParameterValue", "10.0.0.0/33"},
		{id, []types.IpPermission{{IpProtocol: aws.String("tcp"), IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}, "InvalidParameterValue", ""},
		{id, []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(1), ToPort: aws.Int32(2),
			PrefixListIds: []types.PrefixListId{{PrefixListId: aws.String("pl-0000000000000dead")}}}}, "InvalidPrefixListId.NotFound", "pl-0000000000000dead"},
		{id, []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(1), ToPort: aws.Int32(2),
			UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: aws.String("sg-0000000000000dead")}}}}, "InvalidGroup.NotFound", "sg-0000000000000dead"},
		{id, []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(1), ToPort: aws.Int32(2)}}, "InvalidParameterValue", "names no source"},
	} {
		v := g.version()
		_, err := g.c.AuthorizeSecurityGroupIngress(ctx, &ec2sdk.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(tc.group), IpPermissions: tc.perms})
		wantAPIError(t, err, 400, tc.code, tc.msg)
		if g.version() != v {
			t.Errorf("%s: the network changed", tc.code)
		}
	}
	// 60 inbound rules at most (VPC quotas); the group has 4.
	var many []types.IpPermission
	for i := range 57 {
		many = append(many, tcp(int32(1000+i), int32(1000+i), "0.0.0.0/0")...)
	}
	_, err = g.c.AuthorizeSecurityGroupIngress(ctx, &ec2sdk.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(id), IpPermissions: many})
	wantAPIError(t, err, 400, "RulesPerSecurityGroupLimitExceeded", "The maximum number of rules per security group (60 inbound) has been reached.")

	// Egress.
	eg, err := g.c.AuthorizeSecurityGroupEgress(ctx, &ec2sdk.AuthorizeSecurityGroupEgressInput{GroupId: aws.String(id),
		IpPermissions: []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(5432), ToPort: aws.Int32(5432),
			UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: aws.String(dbSG), Description: aws.String("postgres")}}}}})
	ok(t, err)
	if !aws.ToBool(eg.Return) || len(eg.SecurityGroupRules) != 1 || !aws.ToBool(eg.SecurityGroupRules[0].IsEgress) ||
		aws.ToString(eg.SecurityGroupRules[0].ReferencedGroupInfo.GroupId) != dbSG || aws.ToString(eg.SecurityGroupRules[0].Description) != "postgres" {
		t.Errorf("egress %+v", eg.SecurityGroupRules)
	}

	// Revoke by properties: the description need not match.
	rv, err := g.c.RevokeSecurityGroupIngress(ctx, &ec2sdk.RevokeSecurityGroupIngressInput{GroupId: aws.String(id), IpPermissions: tcp(22, 22, "203.0.113.0/24")})
	ok(t, err)
	if !aws.ToBool(rv.Return) || len(rv.UnknownIpPermissions) != 0 || len(rv.RevokedSecurityGroupRules) != 1 ||
		aws.ToString(rv.RevokedSecurityGroupRules[0].SecurityGroupRuleId) != aws.ToString(ssh.SecurityGroupRuleId) ||
		aws.ToString(rv.RevokedSecurityGroupRules[0].CidrIpv4) != "203.0.113.0/24" {
		t.Errorf("revoke by permission %+v", rv)
	}
	// By rule id.
	rv, err = g.c.RevokeSecurityGroupIngress(ctx, &ec2sdk.RevokeSecurityGroupIngressInput{GroupId: aws.String(id),
		SecurityGroupRuleIds: []string{aws.ToString(fromWeb.SecurityGroupRuleId)}})
	ok(t, err)
	if !aws.ToBool(rv.Return) || len(rv.RevokedSecurityGroupRules) != 1 || aws.ToString(rv.RevokedSecurityGroupRules[0].ReferencedGroupId) != webSG {
		t.Errorf("revoke by id %+v", rv)
	}
	rv2, err := g.c.RevokeSecurityGroupEgress(ctx, &ec2sdk.RevokeSecurityGroupEgressInput{GroupId: aws.String(id),
		SecurityGroupRuleIds: []string{aws.ToString(eg.SecurityGroupRules[0].SecurityGroupRuleId)}})
	ok(t, err)
	if !aws.ToBool(rv2.Return) {
		t.Errorf("revoke egress %+v", rv2)
	}
	left, err := g.c.DescribeSecurityGroupRules(ctx, &ec2sdk.DescribeSecurityGroupRulesInput{Filters: filter("group-id", id)})
	ok(t, err)
	if len(left.SecurityGroupRules) != 4 {
		t.Errorf("left %+v", left.SecurityGroupRules)
	}
	// In a nondefault VPC, revoking a rule that does not exist fails and
	// revokes nothing (API reference).
	existing := types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(8443), ToPort: aws.Int32(8443),
		Ipv6Ranges: []types.Ipv6Range{{CidrIpv6: aws.String("2001:db8::/32")}}}
	_, err = g.c.RevokeSecurityGroupIngress(ctx, &ec2sdk.RevokeSecurityGroupIngressInput{GroupId: aws.String(id),
		IpPermissions: append([]types.IpPermission{existing}, tcp(3389, 3389, "0.0.0.0/0")...)})
	wantAPIError(t, err, 400, "InvalidPermission.NotFound", "The specified rule does not exist in this security group.")
	_, err = g.c.RevokeSecurityGroupIngress(ctx, &ec2sdk.RevokeSecurityGroupIngressInput{GroupId: aws.String(id),
		SecurityGroupRuleIds: []string{aws.ToString(ping.SecurityGroupRuleId)}, IpPermissions: tcp(3389, 3389, "0.0.0.0/0")})
	wantAPIError(t, err, 400, "InvalidParameterCombination", "Specify either IpPermissions or SecurityGroupRuleIds, not both")
	// A rule id of the other direction is not found among these rules.
	_, err = g.c.RevokeSecurityGroupEgress(ctx, &ec2sdk.RevokeSecurityGroupEgressInput{GroupId: aws.String(id),
		SecurityGroupRuleIds: []string{aws.ToString(ping.SecurityGroupRuleId)}})
	wantAPIError(t, err, 400, "InvalidSecurityGroupRuleId.NotFound", aws.ToString(ping.SecurityGroupRuleId))
	st, body := g.raw(t, form("Action", "RevokeSecurityGroupIngress", "Version", "2016-11-15", "GroupId", id))
	wantErrorDoc(t, st, body, 400, "MissingParameter", "The request must contain the parameter IpPermissions")
	left2, err := g.c.DescribeSecurityGroupRules(ctx, &ec2sdk.DescribeSecurityGroupRulesInput{Filters: filter("group-id", id)})
	ok(t, err)
	if !slices.Equal(ruleIDs(left2.SecurityGroupRules), ruleIDs(left.SecurityGroupRules)) {
		t.Errorf("a failed revoke changed the rules")
	}
}

// defaultVPCTopology has a default VPC: the only place EC2 looks groups up
// by name, and where a revoke of rules that do not exist is no error.
const defaultVPCTopology = `AccountId: "111122223333"
Region: us-east-1
Vpcs:
  - {VpcId: vpc-0d0000000000000d1, CidrBlock: 172.31.0.0/16, IsDefault: true}
Subnets:
  - {SubnetId: subnet-0d0000000000000d1, VpcId: vpc-0d0000000000000d1, CidrBlock: 172.31.0.0/20, AvailabilityZone: us-east-1a}
SecurityGroups:
  - GroupId: sg-0d0000000000000d1
    GroupName: web
    Description: web servers
    VpcId: vpc-0d0000000000000d1
    IpPermissions: []
  - GroupId: sg-0d0000000000000d2
    GroupName: lb
    Description: load balancers
    VpcId: vpc-0d0000000000000d1
    IpPermissions: []
`

func TestDefaultVPCAndFlatForm(t *testing.T) {
	g := newRig(t, writeTopology(t, defaultVPCTopology), nil)
	const web, lb = "sg-0d0000000000000d1", "sg-0d0000000000000d2"
	// The flat form of the older API, by group name: one rule for CidrIp.
	st, body := g.raw(t, form("Action", "AuthorizeSecurityGroupIngress", "Version", "2016-11-15", "GroupName", "web",
		"IpProtocol", "tcp", "FromPort", "80", "ToPort", "80", "CidrIp", "0.0.0.0/0"))
	if st != 200 {
		t.Fatalf("flat form: %d %s", st, body)
	}
	// SourceSecurityGroupName: all ICMP, TCP and UDP traffic from the group
	// (API reference).
	st, body = g.raw(t, form("Action", "AuthorizeSecurityGroupIngress", "Version", "2016-11-15", "GroupName", "web",
		"SourceSecurityGroupName", "lb", "SourceSecurityGroupOwnerId", account))
	if st != 200 {
		t.Fatalf("source group form: %d %s", st, body)
	}
	rules, err := g.c.DescribeSecurityGroupRules(ctx, &ec2sdk.DescribeSecurityGroupRulesInput{Filters: filter("group-id", web)})
	ok(t, err)
	type r struct {
		proto    string
		from, to int32
		src      string
	}
	var got []r
	for _, x := range rules.SecurityGroupRules {
		if aws.ToBool(x.IsEgress) {
			continue
		}
		src := aws.ToString(x.CidrIpv4)
		if x.ReferencedGroupInfo != nil {
			src = aws.ToString(x.ReferencedGroupInfo.GroupId)
		}
		got = append(got, r{aws.ToString(x.IpProtocol), aws.ToInt32(x.FromPort), aws.ToInt32(x.ToPort), src})
	}
	want := []r{{"tcp", 80, 80, "0.0.0.0/0"}, {"icmp", -1, -1, lb}, {"tcp", 0, 65535, lb}, {"udp", 0, 65535, lb}}
	slices.SortFunc(got, func(a, b r) int { return cmpRule(a.proto, a.from, a.src, b.proto, b.from, b.src) })
	slices.SortFunc(want, func(a, b r) int { return cmpRule(a.proto, a.from, a.src, b.proto, b.from, b.src) })
	if !slices.Equal(got, want) {
		t.Errorf("rules %+v\nwant %+v", got, want)
	}
	for _, tc := range []struct {
		kv        []string
		code, msg string
	}{
		{[]string{"GroupName", "web", "SourceSecurityGroupName", "lb", "IpProtocol", "tcp"}, "InvalidParameterCombination", "SourceSecurityGroupName cannot be combined with IpProtocol: use IpPermissions to give a protocol and ports."},
		{[]string{"GroupName", "web", "IpProtocol", "tcp", "FromPort", "1", "ToPort", "2"}, "MissingParameter", "The request must contain the parameter CidrIp"},
		{[]string{"GroupName", "web", "CidrIp", "0.0.0.0/0", "IpPermissions.1.IpProtocol", "-1", "IpPermissions.1.IpRanges.1.CidrIp", "10.0.0.0/8"},
			"InvalidParameterCombination", "IpPermissions cannot be combined with IpProtocol, FromPort, ToPort, CidrIp or SourceSecurityGroupName."},
		{[]string{"GroupName", "nope", "IpProtocol", "tcp", "FromPort", "1", "ToPort", "2", "CidrIp", "0.0.0.0/0"},
			"InvalidGroup.NotFound", "The security group 'nope' does not exist in default VPC 'vpc-0d0000000000000d1'"},
		{[]string{"GroupName", "web", "IpProtocol", "tcp", "FromPort", "x", "ToPort", "2", "CidrIp", "0.0.0.0/0"},
			"InvalidParameterValue", "Value ( x ) for parameter FromPort is invalid. Expecting an integer."},
	} {
		st, body := g.raw(t, form(append([]string{"Action", "AuthorizeSecurityGroupIngress", "Version", "2016-11-15"}, tc.kv...)...))
		wantErrorDoc(t, st, body, 400, tc.code, tc.msg)
	}
	// The egress actions document the flat form as not supported.
	st, body = g.raw(t, form("Action", "AuthorizeSecurityGroupEgress", "Version", "2016-11-15", "GroupId", web,
		"IpProtocol", "tcp", "FromPort", "80", "ToPort", "80", "CidrIp", "0.0.0.0/0"))
	wantErrorDoc(t, st, body, 400, "InvalidParameterCombination", "The parameter IpProtocol is not supported by AuthorizeSecurityGroupEgress: use IpPermissions.")

	// In a default VPC, a revoke revokes what matches and returns the rest
	// in UnknownIpPermissions (API reference).
	rv, err := g.c.RevokeSecurityGroupIngress(ctx, &ec2sdk.RevokeSecurityGroupIngressInput{GroupName: aws.String("web"),
		IpPermissions: []types.IpPermission{
			{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(80), ToPort: aws.Int32(80), IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}},
			{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(443), ToPort: aws.Int32(443), IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}},
		}})
	ok(t, err)
	wantUnknown := []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(443), ToPort: aws.Int32(443),
		UserIdGroupPairs: []types.UserIdGroupPair{}, IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}},
		Ipv6Ranges: []types.Ipv6Range{}, PrefixListIds: []types.PrefixListId{}}}
	if !aws.ToBool(rv.Return) || len(rv.RevokedSecurityGroupRules) != 1 || !reflect.DeepEqual(rv.UnknownIpPermissions, wantUnknown) {
		t.Errorf("revoke in the default VPC: %+v\nunknown %+v", rv.RevokedSecurityGroupRules, rv.UnknownIpPermissions)
	}
	// DeleteSecurityGroup by name, in the default VPC.
	del, err := g.c.DeleteSecurityGroup(ctx, &ec2sdk.DeleteSecurityGroupInput{GroupName: aws.String("web")})
	ok(t, err)
	if aws.ToString(del.GroupId) != web {
		t.Errorf("deleted %s", aws.ToString(del.GroupId))
	}
	// A group without VpcId goes to the default VPC.
	out, err := g.c.CreateSecurityGroup(ctx, &ec2sdk.CreateSecurityGroupInput{GroupName: aws.String("web"), Description: aws.String("again")})
	ok(t, err)
	d, err := g.c.DescribeSecurityGroups(ctx, &ec2sdk.DescribeSecurityGroupsInput{GroupIds: []string{aws.ToString(out.GroupId)}})
	ok(t, err)
	if aws.ToString(d.SecurityGroups[0].VpcId) != "vpc-0d0000000000000d1" {
		t.Errorf("vpc %s", aws.ToString(d.SecurityGroups[0].VpcId))
	}
}

func cmpRule(p1 string, f1 int32, s1, p2 string, f2 int32, s2 string) int {
	switch {
	case p1 != p2:
		if p1 < p2 {
			return -1
		}
		return 1
	case f1 != f2:
		return int(f1 - f2)
	case s1 < s2:
		return -1
	case s1 > s2:
		return 1
	}
	return 0
}
