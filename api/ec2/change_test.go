package ec2_test

import (
	"encoding/json"
	"net/netip"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2sdk "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/vpcflow/vpcflow/policy"
	"github.com/vpcflow/vpcflow/topology"
)

// TestDryRunChanges: DryRun=true answers DryRunOperation (HTTP 412) once
// the request reads well, and changes nothing; a request that does not
// read well gets its error first.
func TestDryRunChanges(t *testing.T) {
	g := newRig(t, topoFile, nil)
	before, err := json.Marshal(g.r.Network().Network())
	ok(t, err)
	v0 := g.version()
	db := describeACL(t, g, dbACL)
	assoc := aws.ToString(db.Associations[0].NetworkAclAssociationId)
	for _, kv := range [][]string{
		{"Action", "CreateVpc", "CidrBlock", "10.9.0.0/16"},
		{"Action", "CreateSubnet", "VpcId", vpcID, "CidrBlock", "10.0.9.0/24"},
		{"Action", "CreateSecurityGroup", "GroupName", "x", "GroupDescription", "x", "VpcId", vpcID},
		{"Action", "DeleteSecurityGroup", "GroupId", dbSG},
		{"Action", "AuthorizeSecurityGroupIngress", "GroupId", dbSG, "IpPermissions.1.IpProtocol", "tcp", "IpPermissions.1.FromPort", "22",
			"IpPermissions.1.ToPort", "22", "IpPermissions.1.IpRanges.1.CidrIp", "0.0.0.0/0"},
		{"Action", "AuthorizeSecurityGroupEgress", "GroupId", dbSG, "IpPermissions.1.IpProtocol", "-1", "IpPermissions.1.IpRanges.1.CidrIp", "0.0.0.0/0"},
		{"Action", "RevokeSecurityGroupIngress", "GroupId", webSG, "IpPermissions.1.IpProtocol", "tcp", "IpPermissions.1.FromPort", "80",
			"IpPermissions.1.ToPort", "80", "IpPermissions.1.IpRanges.1.CidrIp", "0.0.0.0/0"},
		{"Action", "RevokeSecurityGroupEgress", "GroupId", appSG, "SecurityGroupRuleId.1", "sgr-00000000000000001"},
		{"Action", "DescribeSecurityGroupRules"},
		{"Action", "CreateNetworkAcl", "VpcId", vpcID},
		{"Action", "CreateNetworkAclEntry", "NetworkAclId", dbACL, "RuleNumber", "110", "Protocol", "-1", "RuleAction", "allow", "Egress", "false", "CidrBlock", "0.0.0.0/0"},
		{"Action", "ReplaceNetworkAclEntry", "NetworkAclId", dbACL, "RuleNumber", "100", "Protocol", "-1", "RuleAction", "deny", "Egress", "false", "CidrBlock", "0.0.0.0/0"},
		{"Action", "DeleteNetworkAclEntry", "NetworkAclId", dbACL, "RuleNumber", "100", "Egress", "false"},
		{"Action", "ReplaceNetworkAclAssociation", "AssociationId", assoc, "NetworkAclId", defACL},
		{"Action", "CreateNetworkInterface", "SubnetId", appSubnet},
		{"Action", "DeleteNetworkInterface", "NetworkInterfaceId", dbENI},
		{"Action", "CreateTags", "ResourceId.1", vpcID, "Tag.1.Key", "a"},
		{"Action", "DeleteTags", "ResourceId.1", vpcID},
	} {
		st, body := g.raw(t, form(append(kv, "Version", "2016-11-15", "DryRun", "true")...))
		wantErrorDoc(t, st, body, 412, "DryRunOperation", "Request would have succeeded, but DryRun flag is set.")
	}
	after, err := json.Marshal(g.r.Network().Network())
	ok(t, err)
	if g.version() != v0 || string(after) != string(before) {
		t.Errorf("a dry run changed the network (version %d, was %d)", g.version(), v0)
	}
	// The SDK's DryRun gives the same answer.
	_, err = g.c.CreateVpc(ctx, &ec2sdk.CreateVpcInput{CidrBlock: aws.String("10.9.0.0/16"), DryRun: aws.Bool(true)})
	wantAPIError(t, err, 412, "DryRunOperation", "Request would have succeeded, but DryRun flag is set.")
	// Checks of the request come first.
	st, body := g.raw(t, form("Action", "CreateSubnet", "Version", "2016-11-15", "VpcId", vpcID, "DryRun", "true"))
	wantErrorDoc(t, st, body, 400, "MissingParameter", "The request must contain the parameter CidrBlock")
	st, body = g.raw(t, form("Action", "CreateNetworkAclEntry", "Version", "2016-11-15", "NetworkAclId", dbACL, "RuleNumber", "x",
		"Protocol", "-1", "RuleAction", "allow", "Egress", "false", "CidrBlock", "0.0.0.0/0", "DryRun", "true"))
	wantErrorDoc(t, st, body, 400, "InvalidParameterValue", "Value ( x ) for parameter RuleNumber is invalid. Expecting an integer.")
}

// verdict is what the region's current network decides for a packet
// arriving at an interface, with a fresh policy engine (no connection
// tracked): the judgement of the packet path's next packet.
func verdict(t *testing.T, g *rig, eni string, p *policy.Packet) string {
	t.Helper()
	top, _ := g.r.Topology()
	e, err := policy.New(top, policy.DefaultConfig())
	ok(t, err)
	x := top.ENIByID(eni)
	if x == nil {
		t.Fatalf("%s is not in the topology", eni)
	}
	return e.Decide(x, policy.Ingress, p, 0).Action()
}

// TestChangesDecideNextPacket: a change through the API reaches the
// topology the packet path judges packets by.
func TestChangesDecideNextPacket(t *testing.T) {
	g := newRig(t, topoFile, nil)
	// A connection from the internet to the web server's port 8080, which
	// its group does not open (80 and 443 only).
	syn := &policy.Packet{Src: netip.MustParseAddr("198.51.100.77"), Dst: netip.MustParseAddr("10.0.0.10"),
		Proto: topology.ProtoTCP, SrcPort: 40000, DstPort: 8080, TCPFlags: policy.FlagSYN}
	if got := verdict(t, g, webENI, syn); got != "REJECT" {
		t.Fatalf("before: %s", got)
	}
	v0 := g.version()
	out, err := g.c.AuthorizeSecurityGroupIngress(ctx, &ec2sdk.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(webSG),
		IpPermissions: []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(8080), ToPort: aws.Int32(8080),
			IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}})
	ok(t, err)
	if g.version() != v0+1 {
		t.Errorf("version %d, want %d", g.version(), v0+1)
	}
	if got := verdict(t, g, webENI, syn); got != "ACCEPT" {
		t.Errorf("after authorize: %s", got)
	}
	// The network ACL decides before the group: deny the public subnet's
	// inbound traffic.
	_, err = g.c.ReplaceNetworkAclEntry(ctx, &ec2sdk.ReplaceNetworkAclEntryInput{NetworkAclId: aws.String(defACL), RuleNumber: aws.Int32(100),
		Protocol: aws.String("-1"), RuleAction: types.RuleActionDeny, Egress: aws.Bool(false), CidrBlock: aws.String("0.0.0.0/0")})
	ok(t, err)
	if got := verdict(t, g, webENI, syn); got != "REJECT" {
		t.Errorf("after the ACL deny: %s", got)
	}
	_, err = g.c.ReplaceNetworkAclEntry(ctx, &ec2sdk.ReplaceNetworkAclEntryInput{NetworkAclId: aws.String(defACL), RuleNumber: aws.Int32(100),
		Protocol: aws.String("-1"), RuleAction: types.RuleActionAllow, Egress: aws.Bool(false), CidrBlock: aws.String("0.0.0.0/0")})
	ok(t, err)
	if got := verdict(t, g, webENI, syn); got != "ACCEPT" {
		t.Errorf("after the ACL allow: %s", got)
	}
	_, err = g.c.RevokeSecurityGroupIngress(ctx, &ec2sdk.RevokeSecurityGroupIngressInput{GroupId: aws.String(webSG),
		SecurityGroupRuleIds: []string{aws.ToString(out.SecurityGroupRules[0].SecurityGroupRuleId)}})
	ok(t, err)
	if got := verdict(t, g, webENI, syn); got != "REJECT" {
		t.Errorf("after revoke: %s", got)
	}
	// A new interface is in the topology at once, with its group's rules.
	grp, err := g.c.CreateSecurityGroup(ctx, &ec2sdk.CreateSecurityGroupInput{VpcId: aws.String(vpcID), GroupName: aws.String("svc"), Description: aws.String("svc")})
	ok(t, err)
	_, err = g.c.AuthorizeSecurityGroupIngress(ctx, &ec2sdk.AuthorizeSecurityGroupIngressInput{GroupId: grp.GroupId,
		IpPermissions: []types.IpPermission{{IpProtocol: aws.String("udp"), FromPort: aws.Int32(53), ToPort: aws.Int32(53),
			IpRanges: []types.IpRange{{CidrIp: aws.String("10.0.0.0/16")}}}}})
	ok(t, err)
	e, err := g.c.CreateNetworkInterface(ctx, &ec2sdk.CreateNetworkInterfaceInput{SubnetId: aws.String(appSubnet), PrivateIpAddress: aws.String("10.0.1.53"),
		Groups: []string{aws.ToString(grp.GroupId)}})
	ok(t, err)
	dns := &policy.Packet{Src: netip.MustParseAddr("10.0.0.10"), Dst: netip.MustParseAddr("10.0.1.53"), Proto: topology.ProtoUDP, SrcPort: 5353, DstPort: 53}
	if got := verdict(t, g, aws.ToString(e.NetworkInterface.NetworkInterfaceId), dns); got != "ACCEPT" {
		t.Errorf("new interface, allowed: %s", got)
	}
	dns.DstPort = 54
	if got := verdict(t, g, aws.ToString(e.NetworkInterface.NetworkInterfaceId), dns); got != "REJECT" {
		t.Errorf("new interface, not allowed: %s", got)
	}
}

// snapshot is everything the describes say of the network.
type snapshot struct {
	Vpcs       []types.Vpc
	Subnets    []types.Subnet
	Interfaces []types.NetworkInterface
	Groups     []types.SecurityGroup
	Rules      []types.SecurityGroupRule
	Acls       []types.NetworkAcl
	Routes     []types.RouteTable
}

func describeEverything(t *testing.T, g *rig) snapshot {
	t.Helper()
	var s snapshot
	v, err := g.c.DescribeVpcs(ctx, &ec2sdk.DescribeVpcsInput{})
	ok(t, err)
	sn, err := g.c.DescribeSubnets(ctx, &ec2sdk.DescribeSubnetsInput{})
	ok(t, err)
	e, err := g.c.DescribeNetworkInterfaces(ctx, &ec2sdk.DescribeNetworkInterfacesInput{})
	ok(t, err)
	sg, err := g.c.DescribeSecurityGroups(ctx, &ec2sdk.DescribeSecurityGroupsInput{})
	ok(t, err)
	r, err := g.c.DescribeSecurityGroupRules(ctx, &ec2sdk.DescribeSecurityGroupRulesInput{})
	ok(t, err)
	a, err := g.c.DescribeNetworkAcls(ctx, &ec2sdk.DescribeNetworkAclsInput{})
	ok(t, err)
	rt, err := g.c.DescribeRouteTables(ctx, &ec2sdk.DescribeRouteTablesInput{})
	ok(t, err)
	s.Vpcs, s.Subnets, s.Interfaces, s.Groups, s.Rules, s.Acls, s.Routes = v.Vpcs, sn.Subnets, e.NetworkInterfaces, sg.SecurityGroups,
		r.SecurityGroupRules, a.NetworkAcls, rt.RouteTables
	return s
}

// TestRestartKeepsChanges: what the API created is in the data dir, ids
// and all, and the restarted service judges packets by it.
func TestRestartKeepsChanges(t *testing.T) {
	dir := t.TempDir()
	g := newRigIn(t, dir, topoFile, nil)
	vpc, err := g.c.CreateVpc(ctx, &ec2sdk.CreateVpcInput{CidrBlock: aws.String("10.9.0.0/16"), TagSpecifications: tagSpec(types.ResourceTypeVpc, "Name", "lab")})
	ok(t, err)
	sn, err := g.c.CreateSubnet(ctx, &ec2sdk.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String("10.9.1.0/24")})
	ok(t, err)
	grp, err := g.c.CreateSecurityGroup(ctx, &ec2sdk.CreateSecurityGroupInput{VpcId: vpc.Vpc.VpcId, GroupName: aws.String("svc"), Description: aws.String("svc")})
	ok(t, err)
	_, err = g.c.AuthorizeSecurityGroupIngress(ctx, &ec2sdk.AuthorizeSecurityGroupIngressInput{GroupId: grp.GroupId,
		IpPermissions: []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(8080), ToPort: aws.Int32(8080),
			IpRanges: []types.IpRange{{CidrIp: aws.String("10.0.0.0/8"), Description: aws.String("internal")}}}},
		TagSpecifications: tagSpec(types.ResourceTypeSecurityGroupRule, "k", "v")})
	ok(t, err)
	_, err = g.c.AuthorizeSecurityGroupIngress(ctx, &ec2sdk.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(webSG),
		IpPermissions: []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(8080), ToPort: aws.Int32(8080),
			IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}})
	ok(t, err)
	_, err = g.c.CreateNetworkInterface(ctx, &ec2sdk.CreateNetworkInterfaceInput{SubnetId: sn.Subnet.SubnetId, Groups: []string{aws.ToString(grp.GroupId)}})
	ok(t, err)
	_, err = g.c.CreateTags(ctx, &ec2sdk.CreateTagsInput{Resources: []string{webSG, pubRT}, Tags: tags("team", "web")})
	ok(t, err)
	acl, err := g.c.CreateNetworkAcl(ctx, &ec2sdk.CreateNetworkAclInput{VpcId: aws.String(vpcID)})
	ok(t, err)
	db := describeACL(t, g, dbACL)
	_, err = g.c.ReplaceNetworkAclAssociation(ctx, &ec2sdk.ReplaceNetworkAclAssociationInput{AssociationId: db.Associations[0].NetworkAclAssociationId,
		NetworkAclId: acl.NetworkAcl.NetworkAclId})
	ok(t, err)
	want := describeEverything(t, g)
	v := g.version()
	ok(t, g.r.Stop())
	g.srv.Close()

	// The topology file is given again, as serve would: the data dir wins.
	g2 := newRigIn(t, dir, topoFile, nil)
	if got := describeEverything(t, g2); !reflect.DeepEqual(got, want) {
		t.Errorf("after restart\n%+v\nwant\n%+v", got, want)
	}
	if g2.version() != v {
		t.Errorf("version %d after restart, want %d", g2.version(), v)
	}
	syn := &policy.Packet{Src: netip.MustParseAddr("198.51.100.77"), Dst: netip.MustParseAddr("10.0.0.10"),
		Proto: topology.ProtoTCP, SrcPort: 40000, DstPort: 8080, TCPFlags: policy.FlagSYN}
	if got := verdict(t, g2, webENI, syn); got != "ACCEPT" {
		t.Errorf("the restarted service judges by %s", got)
	}
}

// awsCLI finds the AWS CLI: VPCFLOW_AWS_CLI, else /usr/bin/aws, else aws
// on the PATH.
func awsCLI(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the AWS CLI")
	}
	for _, c := range []string{os.Getenv("VPCFLOW_AWS_CLI"), "/usr/bin/aws", "aws"} {
		if c == "" {
			continue
		}
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	t.Skip("no AWS CLI")
	return ""
}

// TestAWSCLI runs the AWS CLI's shorthand forms against the handler: the
// CLI turns --protocol/--port/--cidr into IpPermissions.1.* and
// --protocol tcp into Protocol=6 for a network ACL entry.
func TestAWSCLI(t *testing.T) {
	cli := awsCLI(t)
	g := newRig(t, topoFile, nil)
	run := func(args ...string) []byte {
		t.Helper()
		cmd := exec.Command(cli, append([]string{"--endpoint-url", g.srv.URL, "--output", "json", "ec2"}, args...)...)
		home := t.TempDir()
		cmd.Env = []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=secret",
			"AWS_EC2_METADATA_DISABLED=true",
			"AWS_DEFAULT_REGION=us-east-1", "AWS_CONFIG_FILE=" + home + "/config", "AWS_SHARED_CREDENTIALS_FILE=" + home + "/credentials",
			"AWS_PAGER=", "AWS_MAX_ATTEMPTS=1"}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("aws ec2 %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	var auth struct {
		Return             bool
		SecurityGroupRules []struct {
			SecurityGroupRuleId, GroupId, IpProtocol, CidrIpv4 string
			FromPort, ToPort                                   int
			IsEgress                                           bool
		}
	}
	ok(t, json.Unmarshal(run("authorize-security-group-ingress", "--group-id", webSG, "--protocol", "tcp", "--port", "22", "--cidr", "0.0.0.0/0"), &auth))
	if r := auth.SecurityGroupRules; !auth.Return || len(r) != 1 || r[0].GroupId != webSG || r[0].IpProtocol != "tcp" ||
		r[0].FromPort != 22 || r[0].ToPort != 22 || r[0].CidrIpv4 != "0.0.0.0/0" || r[0].IsEgress || !idOf("sgr").MatchString(r[0].SecurityGroupRuleId) {
		t.Errorf("authorize answered %+v", auth)
	}
	run("authorize-security-group-ingress", "--group-id", appSG, "--protocol", "tcp", "--port", "9000-9100", "--source-group", webSG)
	run("create-network-acl-entry", "--network-acl-id", dbACL, "--ingress", "--rule-number", "110", "--protocol", "tcp",
		"--port-range", "From=22,To=22", "--cidr-block", "10.0.0.0/16", "--rule-action", "allow")
	rules, err := g.c.DescribeSecurityGroupRules(ctx, &ec2sdk.DescribeSecurityGroupRulesInput{Filters: filter("group-id", appSG)})
	ok(t, err)
	var from []types.SecurityGroupRule
	for _, r := range rules.SecurityGroupRules {
		if aws.ToInt32(r.FromPort) == 9000 {
			from = append(from, r)
		}
	}
	if len(from) != 1 || aws.ToInt32(from[0].ToPort) != 9100 || from[0].ReferencedGroupInfo == nil ||
		aws.ToString(from[0].ReferencedGroupInfo.GroupId) != webSG {
		t.Errorf("--source-group made %+v", from)
	}
	acl := describeACL(t, g, dbACL)
	want := types.NetworkAclEntry{CidrBlock: aws.String("10.0.0.0/16"), Egress: aws.Bool(false), Protocol: aws.String("6"),
		PortRange: &types.PortRange{From: aws.Int32(22), To: aws.Int32(22)}, RuleAction: types.RuleActionAllow, RuleNumber: aws.Int32(110)}
	found := false
	for _, e := range acl.Entries {
		found = found || reflect.DeepEqual(e, want)
	}
	if !found {
		t.Errorf("entries %+v", acl.Entries)
	}
}
