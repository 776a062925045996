package ec2_test

import (
	"reflect"
	"regexp"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2sdk "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// Tests of the actions that change the network, through the SDK against a
// real region. Expected values are written by hand from the EC2 API
// reference and the VPC user guide (what AWS creates with a VPC, the
// addresses it reserves in a subnet) and from docs/netstate.md where AWS
// leaves a choice to the emulator (zone ids, the lowest free address).

// idOf matches AWS's resource ids: a prefix and 17 lowercase hex digits.
func idOf(prefix string) *regexp.Regexp {
	return regexp.MustCompile(`^` + prefix + `-[0-9a-f]{17}$`)
}

func ok(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func tagSpec(rt types.ResourceType, kv ...string) []types.TagSpecification {
	return []types.TagSpecification{{ResourceType: rt, Tags: tags(kv...)}}
}

func tags(kv ...string) []types.Tag {
	var out []types.Tag
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, types.Tag{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
	}
	return out
}

// version is the region's network version, which every change increases.
func (g *rig) version() int {
	_, v := g.r.Topology()
	return v
}

func TestCreateVpc(t *testing.T) {
	g := newRig(t, topoFile, nil)
	v0 := g.version()
	out, err := g.c.CreateVpc(ctx, &ec2sdk.CreateVpcInput{CidrBlock: aws.String("10.9.0.0/16"),
		TagSpecifications: tagSpec(types.ResourceTypeVpc, "Name", "lab")})
	ok(t, err)
	v := out.Vpc
	id := aws.ToString(v.VpcId)
	if !idOf("vpc").MatchString(id) {
		t.Fatalf("vpc id %q", id)
	}
	if g.version() != v0+1 {
		t.Errorf("version %d after %d", g.version(), v0)
	}
	if len(v.CidrBlockAssociationSet) != 1 || !idOf("vpc-cidr-assoc").MatchString(aws.ToString(v.CidrBlockAssociationSet[0].AssociationId)) {
		t.Fatalf("cidr associations %+v", v.CidrBlockAssociationSet)
	}
	want := types.Vpc{
		OwnerId:         aws.String(account),
		InstanceTenancy: types.TenancyDefault,
		CidrBlockAssociationSet: []types.VpcCidrBlockAssociation{{AssociationId: v.CidrBlockAssociationSet[0].AssociationId,
			CidrBlock: aws.String("10.9.0.0/16"), CidrBlockState: &types.VpcCidrBlockState{State: types.VpcCidrBlockStateCodeAssociated}}},
		IsDefault: aws.Bool(false),
		Tags:      tags("Name", "lab"),
		VpcId:     aws.String(id),
		// The emulator's VPCs are usable at once; AWS answers "pending"
		// here and "available" moments later.
		State:     types.VpcStateAvailable,
		CidrBlock: aws.String("10.9.0.0/16"),
	}
	if !reflect.DeepEqual(*v, want) {
		t.Errorf("vpc\n%+v\nwant\n%+v", *v, want)
	}
	// DescribeVpcs answers the same, and finds it by tag.
	d, err := g.c.DescribeVpcs(ctx, &ec2sdk.DescribeVpcsInput{Filters: filter("tag:Name", "lab")})
	ok(t, err)
	if len(d.Vpcs) != 1 || !reflect.DeepEqual(d.Vpcs[0], want) {
		t.Errorf("described\n%+v", d.Vpcs)
	}

	// What AWS creates with a VPC (VPC user guide): the default security
	// group, the default network ACL and the main route table.
	sgs, err := g.c.DescribeSecurityGroups(ctx, &ec2sdk.DescribeSecurityGroupsInput{Filters: filter("vpc-id", id)})
	ok(t, err)
	if len(sgs.SecurityGroups) != 1 {
		t.Fatalf("groups %+v", sgs.SecurityGroups)
	}
	def := sgs.SecurityGroups[0]
	defID := aws.ToString(def.GroupId)
	in := types.IpPermission{IpProtocol: aws.String("-1"), UserIdGroupPairs: []types.UserIdGroupPair{{UserId: aws.String(account), GroupId: aws.String(defID)}},
		IpRanges: []types.IpRange{}, Ipv6Ranges: []types.Ipv6Range{}, PrefixListIds: []types.PrefixListId{}}
	out4 := types.IpPermission{IpProtocol: aws.String("-1"), UserIdGroupPairs: []types.UserIdGroupPair{},
		IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}, Ipv6Ranges: []types.Ipv6Range{}, PrefixListIds: []types.PrefixListId{}}
	wantSG := types.SecurityGroup{GroupId: aws.String(defID), IpPermissionsEgress: []types.IpPermission{out4}, VpcId: aws.String(id),
		SecurityGroupArn: aws.String("arn:aws:ec2:us-east-1:111122223333:security-group/" + defID), OwnerId: aws.String(account),
		GroupName: aws.String("default"), Description: aws.String("default VPC security group"), IpPermissions: []types.IpPermission{in}}
	if !idOf("sg").MatchString(defID) || !reflect.DeepEqual(def, wantSG) {
		t.Errorf("default group\n%+v\nwant\n%+v", def, wantSG)
	}
	acls, err := g.c.DescribeNetworkAcls(ctx, &ec2sdk.DescribeNetworkAclsInput{Filters: filter("vpc-id", id)})
	ok(t, err)
	if len(acls.NetworkAcls) != 1 {
		t.Fatalf("acls %+v", acls.NetworkAcls)
	}
	acl := acls.NetworkAcls[0]
	entry := func(egress bool, n int32, action types.RuleAction) types.NetworkAclEntry {
		return types.NetworkAclEntry{CidrBlock: aws.String("0.0.0.0/0"), Egress: aws.Bool(egress), Protocol: aws.String("-1"), RuleAction: action, RuleNumber: aws.Int32(n)}
	}
	wantACL := types.NetworkAcl{Associations: []types.NetworkAclAssociation{},
		Entries:   []types.NetworkAclEntry{entry(true, 100, "allow"), entry(true, 32767, "deny"), entry(false, 100, "allow"), entry(false, 32767, "deny")},
		IsDefault: aws.Bool(true), NetworkAclId: acl.NetworkAclId, VpcId: aws.String(id), OwnerId: aws.String(account)}
	if !idOf("acl").MatchString(aws.ToString(acl.NetworkAclId)) || !reflect.DeepEqual(acl, wantACL) {
		t.Errorf("default acl\n%+v\nwant\n%+v", acl, wantACL)
	}
	rts, err := g.c.DescribeRouteTables(ctx, &ec2sdk.DescribeRouteTablesInput{Filters: filter("vpc-id", id)})
	ok(t, err)
	if len(rts.RouteTables) != 1 {
		t.Fatalf("route tables %+v", rts.RouteTables)
	}
	rt := rts.RouteTables[0]
	if !idOf("rtb").MatchString(aws.ToString(rt.RouteTableId)) || len(rt.Associations) != 1 || !aws.ToBool(rt.Associations[0].Main) ||
		!idOf("rtbassoc").MatchString(aws.ToString(rt.Associations[0].RouteTableAssociationId)) ||
		!reflect.DeepEqual(rt.Routes, []types.Route{{DestinationCidrBlock: aws.String("10.9.0.0/16"), GatewayId: aws.String("local"),
			Origin: types.RouteOriginCreateRouteTable, State: types.RouteStateActive}}) {
		t.Errorf("main route table %+v", rt)
	}
	if out, err := g.c.DescribeRouteTables(ctx, &ec2sdk.DescribeRouteTablesInput{Filters: filter("association.route-table-association-id",
		aws.ToString(rt.Associations[0].RouteTableAssociationId))}); err != nil || len(out.RouteTables) != 1 {
		t.Errorf("by association id: %v %+v", err, out)
	}

	for _, tc := range []struct {
		in        *ec2sdk.CreateVpcInput
		code, msg string
	}{
		{&ec2sdk.CreateVpcInput{}, "MissingParameter", "The request must contain the parameter CidrBlock"},
		{&ec2sdk.CreateVpcInput{CidrBlock: aws.String("10.9.0.0/29")}, "InvalidVpc.Range", "The CIDR '10.9.0.0/29' is invalid."},
		{&ec2sdk.CreateVpcInput{CidrBlock: aws.String("10.9.0.0/15")}, "InvalidVpc.Range", "The CIDR '10.9.0.0/15' is invalid."},
		{&ec2sdk.CreateVpcInput{CidrBlock: aws.String("10.9.0.300/16")}, "InvalidParameterValue", "This is not a valid CIDR block."},
		{&ec2sdk.CreateVpcInput{CidrBlock: aws.String("10.9.0.0/16"), TagSpecifications: tagSpec(types.ResourceTypeSubnet, "a", "b")},
			"InvalidParameterValue", "'subnet' is not a valid taggable resource type for this operation."},
		{&ec2sdk.CreateVpcInput{CidrBlock: aws.String("10.9.0.0/16"), TagSpecifications: tagSpec(types.ResourceTypeVpc, "aws:x", "b")},
			"InvalidTagKey.Malformed", "aws:"},
		{&ec2sdk.CreateVpcInput{CidrBlock: aws.String("10.9.0.0/16"), AmazonProvidedIpv6CidrBlock: aws.Bool(true)},
			"InvalidParameter", "AmazonProvidedIpv6CidrBlock"},
		{&ec2sdk.CreateVpcInput{CidrBlock: aws.String("10.9.0.0/16"), InstanceTenancy: types.TenancyDedicated},
			"InvalidParameter", "InstanceTenancy"},
	} {
		v := g.version()
		_, err := g.c.CreateVpc(ctx, tc.in)
		wantAPIError(t, err, 400, tc.code, tc.msg)
		if g.version() != v {
			t.Errorf("%s: the network changed", tc.code)
		}
	}
}

func TestCreateSubnet(t *testing.T) {
	g := newRig(t, topoFile, nil)
	vpc, err := g.c.CreateVpc(ctx, &ec2sdk.CreateVpcInput{CidrBlock: aws.String("10.9.0.0/16")})
	ok(t, err)
	vid := aws.ToString(vpc.Vpc.VpcId)
	out, err := g.c.CreateSubnet(ctx, &ec2sdk.CreateSubnetInput{VpcId: aws.String(vid), CidrBlock: aws.String("10.9.1.0/24"),
		AvailabilityZone: aws.String("us-east-1b"), TagSpecifications: tagSpec(types.ResourceTypeSubnet, "tier", "app")})
	ok(t, err)
	sid := aws.ToString(out.Subnet.SubnetId)
	want := types.Subnet{
		// docs/netstate.md: the zone id is derived from the name.
		AvailabilityZoneId: aws.String("use1-az2"),
		OwnerId:            aws.String(account),
		Tags:               tags("tier", "app"),
		SubnetArn:          aws.String("arn:aws:ec2:us-east-1:111122223333:subnet/" + sid),
		Ipv6Native:         aws.Bool(false),
		SubnetId:           aws.String(sid),
		State:              types.SubnetStateAvailable,
		VpcId:              aws.String(vid),
		CidrBlock:          aws.String("10.9.1.0/24"),
		// 256 addresses less the 5 AWS reserves.
		AvailableIpAddressCount: aws.Int32(251),
		AvailabilityZone:        aws.String("us-east-1b"),
	}
	if !idOf("subnet").MatchString(sid) || !reflect.DeepEqual(*out.Subnet, want) {
		t.Errorf("subnet\n%+v\nwant\n%+v", *out.Subnet, want)
	}
	// The new subnet is associated with its VPC's default network ACL.
	acls, err := g.c.DescribeNetworkAcls(ctx, &ec2sdk.DescribeNetworkAclsInput{Filters: filter("association.subnet-id", sid)})
	ok(t, err)
	if len(acls.NetworkAcls) != 1 || !aws.ToBool(acls.NetworkAcls[0].IsDefault) || aws.ToString(acls.NetworkAcls[0].VpcId) != vid ||
		!idOf("aclassoc").MatchString(aws.ToString(acls.NetworkAcls[0].Associations[0].NetworkAclAssociationId)) {
		t.Errorf("acl of the new subnet %+v", acls.NetworkAcls)
	}
	d, err := g.c.DescribeSubnets(ctx, &ec2sdk.DescribeSubnetsInput{Filters: filter("tag:tier", "app")})
	ok(t, err)
	if !slices.Equal(subnetIDs(d.Subnets), []string{sid}) {
		t.Errorf("by tag %q", subnetIDs(d.Subnets))
	}
	for _, tc := range []struct {
		vpc, cidr, az string
		code, msg     string
	}{
		{vid, "10.8.0.0/24", "", "InvalidSubnet.Range", "The CIDR '10.8.0.0/24' is invalid."},
		{vid, "10.9.0.0/29", "", "InvalidSubnet.Range", "The CIDR '10.9.0.0/29' is invalid."},
		{vid, "10.9.1.128/25", "", "InvalidSubnet.Conflict", "The CIDR '10.9.1.128/25' conflicts with another subnet"},
		{"vpc-0000000000000dead", "10.9.2.0/24", "", "InvalidVpcID.NotFound", "The vpc ID 'vpc-0000000000000dead' does not exist"},
		{vid, "10.9.2.0/24", "eu-west-1a", "InvalidParameterValue", "availabilityZone"},
		{vid, "", "", "MissingParameter", "The request must contain the parameter CidrBlock"},
		{"", "10.9.2.0/24", "", "MissingParameter", "The request must contain the parameter VpcId"},
	} {
		in := &ec2sdk.CreateSubnetInput{VpcId: aws.String(tc.vpc), CidrBlock: aws.String(tc.cidr)}
		if tc.az != "" {
			in.AvailabilityZone = aws.String(tc.az)
		}
		_, err := g.c.CreateSubnet(ctx, in)
		wantAPIError(t, err, 400, tc.code, tc.msg)
	}
}

func TestNetworkInterfaces(t *testing.T) {
	g := newRig(t, topoFile, nil)
	vpc, err := g.c.CreateVpc(ctx, &ec2sdk.CreateVpcInput{CidrBlock: aws.String("10.9.0.0/16")})
	ok(t, err)
	vid := aws.ToString(vpc.Vpc.VpcId)
	sn, err := g.c.CreateSubnet(ctx, &ec2sdk.CreateSubnetInput{VpcId: aws.String(vid), CidrBlock: aws.String("10.9.1.0/24")})
	ok(t, err)
	sid := aws.ToString(sn.Subnet.SubnetId)
	sgs, err := g.c.DescribeSecurityGroups(ctx, &ec2sdk.DescribeSecurityGroupsInput{Filters: filter("vpc-id", vid)})
	ok(t, err)
	defSG := aws.ToString(sgs.SecurityGroups[0].GroupId)

	out, err := g.c.CreateNetworkInterface(ctx, &ec2sdk.CreateNetworkInterfaceInput{SubnetId: aws.String(sid),
		Description: aws.String("worker"), TagSpecifications: tagSpec(types.ResourceTypeNetworkInterface, "role", "worker")})
	ok(t, err)
	e := out.NetworkInterface
	id := aws.ToString(e.NetworkInterfaceId)
	// The first four addresses of a subnet are AWS's: the lowest free one
	// is .4. Without groups, the VPC's default group.
	want := types.NetworkInterface{
		AvailabilityZone:   aws.String("us-east-1a"),
		Description:        aws.String("worker"),
		Groups:             []types.GroupIdentifier{{GroupId: aws.String(defSG), GroupName: aws.String("default")}},
		InterfaceType:      types.NetworkInterfaceTypeInterface,
		Ipv6Addresses:      []types.NetworkInterfaceIpv6Address{},
		MacAddress:         e.MacAddress,
		NetworkInterfaceId: aws.String(id),
		OwnerId:            aws.String(account),
		PrivateIpAddress:   aws.String("10.9.1.4"),
		PrivateIpAddresses: []types.NetworkInterfacePrivateIpAddress{{Primary: aws.Bool(true), PrivateIpAddress: aws.String("10.9.1.4")}},
		RequesterManaged:   aws.Bool(false),
		SourceDestCheck:    aws.Bool(true),
		Status:             types.NetworkInterfaceStatusAvailable,
		SubnetId:           aws.String(sid),
		TagSet:             tags("role", "worker"),
		VpcId:              aws.String(vid),
	}
	if !idOf("eni").MatchString(id) || !regexp.MustCompile(`^[0-9a-f]{2}(:[0-9a-f]{2}){5}$`).MatchString(aws.ToString(e.MacAddress)) ||
		!reflect.DeepEqual(*e, want) {
		t.Errorf("interface\n%+v\nwant\n%+v", *e, want)
	}
	if aws.ToString(out.ClientToken) == "" {
		t.Errorf("the SDK's client token is not echoed")
	}
	// One address fewer in the subnet; the interface is found by tag.
	d, err := g.c.DescribeSubnets(ctx, &ec2sdk.DescribeSubnetsInput{SubnetIds: []string{sid}})
	ok(t, err)
	if aws.ToInt32(d.Subnets[0].AvailableIpAddressCount) != 250 {
		t.Errorf("available %d, want 250", aws.ToInt32(d.Subnets[0].AvailableIpAddressCount))
	}
	de, err := g.c.DescribeNetworkInterfaces(ctx, &ec2sdk.DescribeNetworkInterfacesInput{Filters: filter("tag:role", "worker")})
	ok(t, err)
	if len(de.NetworkInterfaces) != 1 || !reflect.DeepEqual(de.NetworkInterfaces[0], want) {
		t.Errorf("described %+v", de.NetworkInterfaces)
	}

	// An address and a group given.
	g2, err := g.c.CreateSecurityGroup(ctx, &ec2sdk.CreateSecurityGroupInput{VpcId: aws.String(vid), GroupName: aws.String("w"), Description: aws.String("w")})
	ok(t, err)
	out, err = g.c.CreateNetworkInterface(ctx, &ec2sdk.CreateNetworkInterfaceInput{SubnetId: aws.String(sid), PrivateIpAddress: aws.String("10.9.1.200"),
		Groups: []string{aws.ToString(g2.GroupId)}})
	ok(t, err)
	if aws.ToString(out.NetworkInterface.PrivateIpAddress) != "10.9.1.200" ||
		!reflect.DeepEqual(out.NetworkInterface.Groups, []types.GroupIdentifier{{GroupId: g2.GroupId, GroupName: aws.String("w")}}) {
		t.Errorf("second interface %+v", out.NetworkInterface)
	}
	for _, tc := range []struct {
		in        *ec2sdk.CreateNetworkInterfaceInput
		code, msg string
	}{
		{&ec2sdk.CreateNetworkInterfaceInput{SubnetId: aws.String("subnet-0000000000000dead")}, "InvalidSubnetID.NotFound", "The subnet ID 'subnet-0000000000000dead' does not exist"},
		{&ec2sdk.CreateNetworkInterfaceInput{SubnetId: aws.String(sid), PrivateIpAddress: aws.String("10.9.1.200")}, "InvalidIPAddress.InUse", "10.9.1.200"},
		{&ec2sdk.CreateNetworkInterfaceInput{SubnetId: aws.String(sid), PrivateIpAddress: aws.String("10.9.2.5")}, "InvalidParameterValue", "does not fall within the subnet's address range"},
		{&ec2sdk.CreateNetworkInterfaceInput{SubnetId: aws.String(sid), PrivateIpAddress: aws.String("10.9.1.2")}, "InvalidParameterValue", "reserved"},
		{&ec2sdk.CreateNetworkInterfaceInput{SubnetId: aws.String(sid), PrivateIpAddress: aws.String("10.9.1.255")}, "InvalidParameterValue", "reserved"},
		{&ec2sdk.CreateNetworkInterfaceInput{SubnetId: aws.String(sid), Groups: []string{webSG}}, "InvalidParameter", "belong to different networks"},
		{&ec2sdk.CreateNetworkInterfaceInput{SubnetId: aws.String(sid), Groups: []string{"sg-0000000000000dead"}}, "InvalidGroup.NotFound", "sg-0000000000000dead"},
		{&ec2sdk.CreateNetworkInterfaceInput{SubnetId: aws.String(sid), SecondaryPrivateIpAddressCount: aws.Int32(2)}, "InvalidParameter", "SecondaryPrivateIpAddressCount"},
	} {
		_, err := g.c.CreateNetworkInterface(ctx, tc.in)
		wantAPIError(t, err, 400, tc.code, tc.msg)
	}
	// The SDK does not send a request without SubnetId; a raw one is refused.
	st, body := g.raw(t, form("Action", "CreateNetworkInterface", "Version", "2016-11-15", "Description", "x"))
	wantErrorDoc(t, st, body, 400, "MissingParameter", "The request must contain the parameter SubnetId")

	// DeleteNetworkInterface.
	_, err = g.c.DeleteNetworkInterface(ctx, &ec2sdk.DeleteNetworkInterfaceInput{NetworkInterfaceId: aws.String(id)})
	ok(t, err)
	_, err = g.c.DescribeNetworkInterfaces(ctx, &ec2sdk.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{id}})
	wantAPIError(t, err, 400, "InvalidNetworkInterfaceID.NotFound", "The networkInterface ID '"+id+"' does not exist")
	_, err = g.c.DeleteNetworkInterface(ctx, &ec2sdk.DeleteNetworkInterfaceInput{NetworkInterfaceId: aws.String(id)})
	wantAPIError(t, err, 400, "InvalidNetworkInterfaceID.NotFound", "The networkInterface ID '"+id+"' does not exist")
	// Attached to an instance, or a NAT gateway's: in use.
	_, err = g.c.DeleteNetworkInterface(ctx, &ec2sdk.DeleteNetworkInterfaceInput{NetworkInterfaceId: aws.String(webENI)})
	wantAPIError(t, err, 400, "InvalidNetworkInterface.InUse", webENI)
	_, err = g.c.DeleteNetworkInterface(ctx, &ec2sdk.DeleteNetworkInterfaceInput{NetworkInterfaceId: aws.String(natENI)})
	wantAPIError(t, err, 400, "InvalidNetworkInterface.InUse", natENI)
	// The raw answer: <return>true</return>.
	st, body = g.raw(t, form("Action", "DeleteNetworkInterface", "Version", "2016-11-15", "NetworkInterfaceId", aws.ToString(out.NetworkInterface.NetworkInterfaceId)))
	if want := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<DeleteNetworkInterfaceResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>req-test</requestId><return>true</return></DeleteNetworkInterfaceResponse>`; st != 200 || body != want {
		t.Errorf("raw delete: %d\n%s\nwant\n%s", st, body, want)
	}
}

func TestTags(t *testing.T) {
	g := newRig(t, topoFile, nil)
	rules, err := g.c.DescribeSecurityGroupRules(ctx, &ec2sdk.DescribeSecurityGroupRulesInput{Filters: filter("group-id", bastSG)})
	ok(t, err)
	ruleID := aws.ToString(rules.SecurityGroupRules[0].SecurityGroupRuleId)
	all := []string{vpcID, pubSubnet, webENI, webSG, ruleID, dbACL, pubRT}
	_, err = g.c.CreateTags(ctx, &ec2sdk.CreateTagsInput{Resources: all, Tags: tags("team", "net", "env", "prod")})
	ok(t, err)
	count := func(name string, values ...string) []int {
		f := filter(name, values...)
		vs, err := g.c.DescribeVpcs(ctx, &ec2sdk.DescribeVpcsInput{Filters: f})
		ok(t, err)
		ss, err := g.c.DescribeSubnets(ctx, &ec2sdk.DescribeSubnetsInput{Filters: f})
		ok(t, err)
		es, err := g.c.DescribeNetworkInterfaces(ctx, &ec2sdk.DescribeNetworkInterfacesInput{Filters: f})
		ok(t, err)
		gs, err := g.c.DescribeSecurityGroups(ctx, &ec2sdk.DescribeSecurityGroupsInput{Filters: f})
		ok(t, err)
		rs, err := g.c.DescribeSecurityGroupRules(ctx, &ec2sdk.DescribeSecurityGroupRulesInput{Filters: f})
		ok(t, err)
		as, err := g.c.DescribeNetworkAcls(ctx, &ec2sdk.DescribeNetworkAclsInput{Filters: f})
		ok(t, err)
		ts, err := g.c.DescribeRouteTables(ctx, &ec2sdk.DescribeRouteTablesInput{Filters: f})
		ok(t, err)
		return []int{len(vs.Vpcs), len(ss.Subnets), len(es.NetworkInterfaces), len(gs.SecurityGroups), len(rs.SecurityGroupRules),
			len(as.NetworkAcls), len(ts.RouteTables)}
	}
	ones, zeros := []int{1, 1, 1, 1, 1, 1, 1}, []int{0, 0, 0, 0, 0, 0, 0}
	for _, tc := range []struct {
		name   string
		values []string
		want   []int
	}{
		{"tag:team", []string{"net"}, ones},
		{"tag:team", []string{"n*"}, ones},
		{"tag:team", []string{"ops"}, zeros},
		{"tag-key", []string{"env"}, ones},
		{"tag-value", []string{"prod"}, ones},
	} {
		if got := count(tc.name, tc.values...); !slices.Equal(got, tc.want) {
			t.Errorf("%s=%q: %v, want %v", tc.name, tc.values, got, tc.want)
		}
	}
	// The tags are in the resources' tagSet.
	vs, err := g.c.DescribeVpcs(ctx, &ec2sdk.DescribeVpcsInput{VpcIds: []string{vpcID}})
	ok(t, err)
	if !reflect.DeepEqual(vs.Vpcs[0].Tags, tags("team", "net", "env", "prod")) {
		t.Errorf("vpc tags %+v", vs.Vpcs[0].Tags)
	}
	rs, err := g.c.DescribeSecurityGroupRules(ctx, &ec2sdk.DescribeSecurityGroupRulesInput{SecurityGroupRuleIds: []string{ruleID}})
	ok(t, err)
	if !reflect.DeepEqual(rs.SecurityGroupRules[0].Tags, tags("team", "net", "env", "prod")) {
		t.Errorf("rule tags %+v", rs.SecurityGroupRules[0].Tags)
	}
	// CreateTags replaces a key's value.
	_, err = g.c.CreateTags(ctx, &ec2sdk.CreateTagsInput{Resources: []string{vpcID}, Tags: tags("env", "test")})
	ok(t, err)
	if got := count("tag:env", "test"); !slices.Equal(got, []int{1, 0, 0, 0, 0, 0, 0}) {
		t.Errorf("replaced value: %v", got)
	}
	// DeleteTags (API reference): a value given must match, "" included;
	// a key alone deletes the tag whatever its value.
	_, err = g.c.DeleteTags(ctx, &ec2sdk.DeleteTagsInput{Resources: all, Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("ops")}}})
	ok(t, err)
	if got := count("tag-key", "team"); !slices.Equal(got, ones) {
		t.Errorf("a tag of another value was deleted: %v", got)
	}
	_, err = g.c.DeleteTags(ctx, &ec2sdk.DeleteTagsInput{Resources: all, Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("")}}})
	ok(t, err)
	if got := count("tag-key", "team"); !slices.Equal(got, ones) {
		t.Errorf("Value=\"\" deleted a tag with a value: %v", got)
	}
	_, err = g.c.DeleteTags(ctx, &ec2sdk.DeleteTagsInput{Resources: all, Tags: []types.Tag{{Key: aws.String("team")}}})
	ok(t, err)
	if got := count("tag-key", "team"); !slices.Equal(got, zeros) {
		t.Errorf("a key alone did not delete: %v", got)
	}
	// No tags at all: every tag of the resources.
	_, err = g.c.DeleteTags(ctx, &ec2sdk.DeleteTagsInput{Resources: all})
	ok(t, err)
	if got := count("tag-key", "env"); !slices.Equal(got, zeros) {
		t.Errorf("DeleteTags without tags: %v", got)
	}

	for _, tc := range []struct {
		in        *ec2sdk.CreateTagsInput
		code, msg string
	}{
		{&ec2sdk.CreateTagsInput{Resources: []string{"vpc-0000000000000dead"}, Tags: tags("a", "b")}, "InvalidVpcID.NotFound", "The vpc ID 'vpc-0000000000000dead' does not exist"},
		{&ec2sdk.CreateTagsInput{Resources: []string{"i-0123456789abcdef0"}, Tags: tags("a", "b")}, "InvalidID", "i-0123456789abcdef0"},
		{&ec2sdk.CreateTagsInput{Resources: []string{vpcID}, Tags: tags("aws:x", "b")}, "InvalidTagKey.Malformed", "aws:"},
		{&ec2sdk.CreateTagsInput{Resources: []string{vpcID}, Tags: tags("", "b")}, "InvalidTagKey.Malformed", "empty"},
		// All or none: the known VPC is not tagged either.
		{&ec2sdk.CreateTagsInput{Resources: []string{vpcID, "subnet-0000000000000dead"}, Tags: tags("half", "done")}, "InvalidSubnetID.NotFound", "subnet-0000000000000dead"},
	} {
		_, err := g.c.CreateTags(ctx, tc.in)
		wantAPIError(t, err, 400, tc.code, tc.msg)
	}
	if got := count("tag-key", "half"); !slices.Equal(got, zeros) {
		t.Errorf("a failed CreateTags tagged something: %v", got)
	}
	// Required parameters the SDK will not leave out.
	st, body := g.raw(t, form("Action", "CreateTags", "Version", "2016-11-15", "ResourceId.1", vpcID))
	wantErrorDoc(t, st, body, 400, "MissingParameter", "The request must contain the parameter Tag")
	st, body = g.raw(t, form("Action", "CreateTags", "Version", "2016-11-15", "Tag.1.Key", "a"))
	wantErrorDoc(t, st, body, 400, "MissingParameter", "The request must contain the parameter ResourceId")
	st, body = g.raw(t, form("Action", "DeleteTags", "Version", "2016-11-15", "ResourceId.1", vpcID, "Tag.1.Value", "a"))
	wantErrorDoc(t, st, body, 400, "MissingParameter", "The request must contain the parameter Tag.1.Key")
}
