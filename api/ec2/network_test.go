package ec2_test

import (
	"fmt"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2sdk "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/vpcflow/vpcflow/api/ec2"
	"github.com/vpcflow/vpcflow/netstate"
)

// The expected values below are read by hand from examples/topology.yaml.

// aclAssocID is the form of a network ACL association id, as AWS makes
// them: a prefix and 17 hex digits.
var aclAssocID = regexp.MustCompile(`^aclassoc-[0-9a-f]{17}$`)

func filter(name string, values ...string) []types.Filter {
	return []types.Filter{{Name: aws.String(name), Values: values}}
}

func TestDescribeVpcs(t *testing.T) {
	g := newRig(t, topoFile, nil)
	out, err := g.c.DescribeVpcs(ctx, &ec2sdk.DescribeVpcsInput{})
	if err != nil {
		t.Fatal(err)
	}
	want := []types.Vpc{{
		OwnerId: aws.String(account),
		Ipv6CidrBlockAssociationSet: []types.VpcIpv6CidrBlockAssociation{{Ipv6CidrBlock: aws.String("2600:1f18:abcd:ef00::/56"),
			Ipv6CidrBlockState: &types.VpcCidrBlockState{State: types.VpcCidrBlockStateCodeAssociated}}},
		CidrBlockAssociationSet: []types.VpcCidrBlockAssociation{{CidrBlock: aws.String("10.0.0.0/16"),
			CidrBlockState: &types.VpcCidrBlockState{State: types.VpcCidrBlockStateCodeAssociated}}},
		VpcId:     aws.String(vpcID),
		State:     types.VpcStateAvailable,
		CidrBlock: aws.String("10.0.0.0/16"),
		// AWS always answers these two; the file says IsDefault: false, and
		// "default" is the tenancy of a VPC created without one.
		IsDefault:       aws.Bool(false),
		InstanceTenancy: types.TenancyDefault,
	}}
	if !reflect.DeepEqual(out.Vpcs, want) {
		t.Errorf("vpcs\n%+v\nwant\n%+v", out.Vpcs, want)
	}
	for _, tc := range []struct {
		in   *ec2sdk.DescribeVpcsInput
		want int
	}{
		{&ec2sdk.DescribeVpcsInput{VpcIds: []string{vpcID, vpcID}}, 1},
		{&ec2sdk.DescribeVpcsInput{Filters: filter("vpc-id", vpcID)}, 1},
		{&ec2sdk.DescribeVpcsInput{Filters: filter("cidr", "10.0.*")}, 1},
		{&ec2sdk.DescribeVpcsInput{Filters: filter("cidr", "10.1.*")}, 0},
		{&ec2sdk.DescribeVpcsInput{Filters: filter("ipv6-cidr-block-association.ipv6-cidr-block", "2600:1f18:abcd:ef00::/56")}, 1},
		{&ec2sdk.DescribeVpcsInput{Filters: filter("owner-id", account)}, 1},
		{&ec2sdk.DescribeVpcsInput{Filters: filter("state", "available")}, 1},
		// The example's VPC has no tags (TestTagsAndFilters tags it).
		{&ec2sdk.DescribeVpcsInput{Filters: filter("tag:Name", "*")}, 0},
		{&ec2sdk.DescribeVpcsInput{Filters: filter("tag-key", "Name")}, 0},
		// The file says IsDefault: false, which the store keeps.
		{&ec2sdk.DescribeVpcsInput{Filters: filter("is-default", "false")}, 1},
		{&ec2sdk.DescribeVpcsInput{Filters: filter("is-default", "true")}, 0},
	} {
		out, err := g.c.DescribeVpcs(ctx, tc.in)
		if err != nil || len(out.Vpcs) != tc.want {
			t.Errorf("%+v: %v, %d vpcs, want %d", tc.in, err, len(out.Vpcs), tc.want)
		}
	}
	_, err = g.c.DescribeVpcs(ctx, &ec2sdk.DescribeVpcsInput{VpcIds: []string{"vpc-0000000000000dead"}})
	wantAPIError(t, err, 400, "InvalidVpcID.NotFound", "The vpc ID 'vpc-0000000000000dead' does not exist")
	_, err = g.c.DescribeVpcs(ctx, &ec2sdk.DescribeVpcsInput{VpcIds: []string{"vpc-1", vpcID, "vpc-2"}})
	wantAPIError(t, err, 400, "InvalidVpcID.NotFound", "The vpc IDs 'vpc-1, vpc-2' do not exist")
	_, err = g.c.DescribeVpcs(ctx, &ec2sdk.DescribeVpcsInput{Filters: filter("colour", "blue")})
	wantAPIError(t, err, 400, "InvalidParameterValue", "The filter 'colour' is invalid")
}

func subnetIDs(ss []types.Subnet) []string {
	var out []string
	for _, s := range ss {
		out = append(out, aws.ToString(s.SubnetId))
	}
	return out
}

func TestDescribeSubnets(t *testing.T) {
	g := newRig(t, topoFile, nil)
	out, err := g.c.DescribeSubnets(ctx, &ec2sdk.DescribeSubnetsInput{SubnetIds: []string{pubSubnet}})
	if err != nil {
		t.Fatal(err)
	}
	want := []types.Subnet{{
		AvailabilityZoneId: aws.String("use1-az1"),
		OwnerId:            aws.String(account),
		Ipv6CidrBlockAssociationSet: []types.SubnetIpv6CidrBlockAssociation{{Ipv6CidrBlock: aws.String("2600:1f18:abcd:ef00::/64"),
			Ipv6CidrBlockState: &types.SubnetCidrBlockState{State: types.SubnetCidrBlockStateCodeAssociated}}},
		SubnetArn:  aws.String("arn:aws:ec2:us-east-1:111122223333:subnet/" + pubSubnet),
		Ipv6Native: aws.Bool(false),
		SubnetId:   aws.String(pubSubnet),
		State:      types.SubnetStateAvailable,
		VpcId:      aws.String(vpcID),
		CidrBlock:  aws.String("10.0.0.0/24"),
		// 256 addresses, 5 reserved by AWS, 4 used by the web server (2),
		// the bastion and the NAT gateway.
		AvailableIpAddressCount: aws.Int32(247),
		AvailabilityZone:        aws.String("us-east-1a"),
	}}
	if !reflect.DeepEqual(out.Subnets, want) {
		t.Errorf("subnet\n%+v\nwant\n%+v", out.Subnets, want)
	}
	for _, tc := range []struct {
		f    []types.Filter
		want []string
	}{
		{nil, []string{pubSubnet, appSubnet, dbSubnet}},
		{filter("vpc-id", vpcID), []string{pubSubnet, appSubnet, dbSubnet}},
		{filter("availability-zone", "us-east-1b"), []string{dbSubnet}},
		{filter("availability-zone-id", "use1-az1"), []string{pubSubnet, appSubnet}},
		{filter("cidr-block", "10.0.1.*"), []string{appSubnet}},
		{filter("cidrBlock", "10.0.2.0/24"), []string{dbSubnet}},
		{filter("available-ip-address-count", "250"), []string{appSubnet, dbSubnet}},
		{filter("subnet-id", dbSubnet, pubSubnet), []string{pubSubnet, dbSubnet}},
		{filter("ipv6-cidr-block-association.ipv6-cidr-block", "2600:*"), []string{pubSubnet}},
		{append(filter("vpc-id", vpcID), filter("availability-zone", "us-east-1a")...), []string{pubSubnet, appSubnet}},
		{filter("tag:Name", "app"), nil},
		{filter("default-for-az", "true"), nil},
	} {
		out, err := g.c.DescribeSubnets(ctx, &ec2sdk.DescribeSubnetsInput{Filters: tc.f})
		if got := subnetIDs(out.Subnets); err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%+v: %v %q, want %q", tc.f, err, got, tc.want)
		}
	}
	_, err = g.c.DescribeSubnets(ctx, &ec2sdk.DescribeSubnetsInput{SubnetIds: []string{"subnet-0000000000000dead"}})
	wantAPIError(t, err, 400, "InvalidSubnetID.NotFound", "The subnet ID 'subnet-0000000000000dead' does not exist")
}

func TestDescribeNetworkInterfaces(t *testing.T) {
	g := newRig(t, topoFile, nil)
	out, err := g.c.DescribeNetworkInterfaces(ctx, &ec2sdk.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{webENI, natENI, dbENI}})
	if err != nil || len(out.NetworkInterfaces) != 3 {
		t.Fatalf("%v %d", err, len(out.NetworkInterfaces))
	}
	public := &types.NetworkInterfaceAssociation{PublicIp: aws.String("198.51.100.10")}
	web := types.NetworkInterface{
		Association:        public,
		Attachment:         &types.NetworkInterfaceAttachment{InstanceId: aws.String("i-0a00000000000000a"), Status: types.AttachmentStatusAttached},
		AvailabilityZone:   aws.String("us-east-1a"),
		Description:        aws.String("web server"),
		Groups:             []types.GroupIdentifier{{GroupId: aws.String(webSG), GroupName: aws.String("web")}},
		InterfaceType:      types.NetworkInterfaceTypeInterface,
		Ipv6Addresses:      []types.NetworkInterfaceIpv6Address{{Ipv6Address: aws.String("2600:1f18:abcd:ef00::10")}},
		MacAddress:         aws.String("0a:00:00:00:00:0a"),
		NetworkInterfaceId: aws.String(webENI),
		OwnerId:            aws.String(account),
		PrivateIpAddress:   aws.String("10.0.0.10"),
		PrivateIpAddresses: []types.NetworkInterfacePrivateIpAddress{
			{Association: public, Primary: aws.Bool(true), PrivateIpAddress: aws.String("10.0.0.10")},
			{Primary: aws.Bool(false), PrivateIpAddress: aws.String("10.0.0.11")},
		},
		RequesterManaged: aws.Bool(false),
		Status:           types.NetworkInterfaceStatusInUse,
		SubnetId:         aws.String(pubSubnet),
		VpcId:            aws.String(vpcID),
	}
	if got := out.NetworkInterfaces[0]; !reflect.DeepEqual(got, web) {
		t.Errorf("web\n%+v\nwant\n%+v", got, web)
	}
	nat := out.NetworkInterfaces[1]
	if nat.InterfaceType != "nat_gateway" || !aws.ToBool(nat.RequesterManaged) || nat.Status != types.NetworkInterfaceStatusInUse ||
		nat.Attachment != nil || len(nat.Groups) != 0 || aws.ToString(nat.Description) != "Interface for NAT Gateway nat-0a1b2c3d4e5f60001" {
		t.Errorf("nat %+v", nat)
	}
	db := out.NetworkInterfaces[2]
	if db.ConnectionTrackingConfiguration == nil || aws.ToInt32(db.ConnectionTrackingConfiguration.TcpEstablishedTimeout) != 3600 ||
		db.ConnectionTrackingConfiguration.UdpTimeout != nil {
		t.Errorf("db connection tracking %+v", db.ConnectionTrackingConfiguration)
	}
	for _, tc := range []struct {
		f    []types.Filter
		want []string
	}{
		{filter("group-id", webSG), []string{webENI}},
		{filter("group-name", "app", "db"), []string{appENI, dbENI}},
		{filter("subnet-id", pubSubnet), []string{webENI, bastENI, natENI}},
		{filter("requester-managed", "true"), []string{natENI}},
		{filter("private-ip-address", "10.0.0.11"), []string{webENI}},
		{filter("addresses.private-ip-address", "10.0.1.*"), []string{appENI}},
		{filter("association.public-ip", "198.51.100.5"), []string{bastENI}},
		{filter("attachment.instance-id", "i-0e00000000000000e"), []string{dbENI}},
		{filter("mac-address", "0a:00:00:00:00:0d"), []string{appENI}},
		{filter("interface-type", "nat_gateway"), []string{natENI}},
		{filter("description", "*server"), []string{webENI, appENI}},
		{filter("ipv6-addresses.ipv6-address", "2600:1f18:abcd:ef00::10"), []string{webENI}},
		{filter("availability-zone", "us-east-1b"), []string{dbENI}},
		{filter("status", "available"), nil},
		{filter("vpc-id", vpcID), []string{webENI, bastENI, natENI, appENI, dbENI}},
	} {
		out, err := g.c.DescribeNetworkInterfaces(ctx, &ec2sdk.DescribeNetworkInterfacesInput{Filters: tc.f})
		var got []string
		for _, e := range out.NetworkInterfaces {
			got = append(got, aws.ToString(e.NetworkInterfaceId))
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v %q, want %q", aws.ToString(tc.f[0].Name), err, got, tc.want)
		}
	}
	_, err = g.c.DescribeNetworkInterfaces(ctx, &ec2sdk.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{"eni-0000000000000dead"}})
	wantAPIError(t, err, 400, "InvalidNetworkInterfaceID.NotFound", "The networkInterface ID 'eni-0000000000000dead' does not exist")
}

func TestDescribeSecurityGroups(t *testing.T) {
	g := newRig(t, topoFile, nil)
	out, err := g.c.DescribeSecurityGroups(ctx, &ec2sdk.DescribeSecurityGroupsInput{GroupIds: []string{webSG}})
	if err != nil || len(out.SecurityGroups) != 1 {
		t.Fatalf("%v %d", err, len(out.SecurityGroups))
	}
	none := func() ([]types.UserIdGroupPair, []types.IpRange, []types.Ipv6Range, []types.PrefixListId) {
		return []types.UserIdGroupPair{}, []types.IpRange{}, []types.Ipv6Range{}, []types.PrefixListId{}
	}
	perm := func(proto string, from, to int32) types.IpPermission {
		p := types.IpPermission{IpProtocol: aws.String(proto), FromPort: aws.Int32(from), ToPort: aws.Int32(to)}
		p.UserIdGroupPairs, p.IpRanges, p.Ipv6Ranges, p.PrefixListIds = none()
		return p
	}
	https, http, ssh := perm("tcp", 443, 443), perm("tcp", 80, 80), perm("tcp", 22, 22)
	https.IpRanges = []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}
	https.Ipv6Ranges = []types.Ipv6Range{{CidrIpv6: aws.String("::/0")}}
	http.IpRanges = []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}
	ssh.UserIdGroupPairs = []types.UserIdGroupPair{{UserId: aws.String(account), GroupId: aws.String(bastSG)}}
	// No IpPermissionsEgress in the file: the default rule of a new group,
	// all traffic out.
	egress := types.IpPermission{IpProtocol: aws.String("-1")}
	egress.UserIdGroupPairs, egress.IpRanges, egress.Ipv6Ranges, egress.PrefixListIds = none()
	egress.IpRanges = []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}
	egress.Ipv6Ranges = []types.Ipv6Range{{CidrIpv6: aws.String("::/0")}}
	want := types.SecurityGroup{
		GroupId:             aws.String(webSG),
		IpPermissionsEgress: []types.IpPermission{egress},
		VpcId:               aws.String(vpcID),
		SecurityGroupArn:    aws.String("arn:aws:ec2:us-east-1:111122223333:security-group/" + webSG),
		OwnerId:             aws.String(account),
		GroupName:           aws.String("web"),
		IpPermissions:       []types.IpPermission{https, http, ssh},
	}
	if got := out.SecurityGroups[0]; !reflect.DeepEqual(got, want) {
		t.Errorf("web\n%+v\nwant\n%+v", got, want)
	}
	out, err = g.c.DescribeSecurityGroups(ctx, &ec2sdk.DescribeSecurityGroupsInput{GroupNames: []string{"bastion", "db"}})
	if err != nil || len(out.SecurityGroups) != 2 {
		t.Fatalf("by name: %v %d", err, len(out.SecurityGroups))
	}
	db, bast := out.SecurityGroups[0], out.SecurityGroups[1]
	if aws.ToString(db.GroupId) != dbSG || len(db.IpPermissionsEgress) != 0 || db.IpPermissionsEgress == nil {
		t.Errorf("db: explicit empty egress: %+v", db.IpPermissionsEgress)
	}
	icmp := bast.IpPermissions[1]
	if aws.ToString(icmp.IpProtocol) != "icmp" || aws.ToInt32(icmp.FromPort) != 8 || aws.ToInt32(icmp.ToPort) != -1 ||
		aws.ToString(icmp.IpRanges[0].CidrIp) != "203.0.113.0/24" {
		t.Errorf("bastion icmp %+v", icmp)
	}
	// AWS gives every VPC a security group named default; a region that
	// keeps the network as EC2 does has one too. It is part of the answers
	// below that it matches.
	var def []string
	if out, err := g.c.DescribeSecurityGroups(ctx, &ec2sdk.DescribeSecurityGroupsInput{Filters: filter("group-name", "default")}); err != nil {
		t.Fatal(err)
	} else if len(out.SecurityGroups) == 1 {
		def = []string{aws.ToString(out.SecurityGroups[0].GroupId)}
	}
	withDefault := func(ids ...string) []string {
		all := append(ids, def...)
		slices.Sort(all)
		return all
	}
	for _, tc := range []struct {
		f    []types.Filter
		want []string
	}{
		{filter("group-name", "db"), []string{dbSG}},
		{filter("ip-permission.from-port", "5432"), []string{dbSG}},
		{filter("egress.ip-permission.from-port", "5432"), []string{appSG}},
		{filter("ip-permission.group-id", bastSG), []string{webSG, appSG}},
		{filter("ip-permission.protocol", "icmp"), []string{bastSG}},
		{filter("ip-permission.cidr", "203.0.113.0/24"), []string{bastSG}},
		{filter("ip-permission.ipv6-cidr", "::/0"), []string{webSG}},
		{filter("egress.ip-permission.protocol", "-1"), withDefault(webSG, bastSG)},
		{filter("vpc-id", vpcID), withDefault(webSG, appSG, dbSG, bastSG)},
		// The file gives its groups no description; the default group has
		// AWS's, "default VPC security group".
		{filter("description", "*"), withDefault()},
		{filter("description", "default VPC security group"), withDefault()},
	} {
		out, err := g.c.DescribeSecurityGroups(ctx, &ec2sdk.DescribeSecurityGroupsInput{Filters: tc.f})
		var got []string
		for _, sg := range out.SecurityGroups {
			got = append(got, aws.ToString(sg.GroupId))
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v %q, want %q", aws.ToString(tc.f[0].Name), err, got, tc.want)
		}
	}
	_, err = g.c.DescribeSecurityGroups(ctx, &ec2sdk.DescribeSecurityGroupsInput{GroupIds: []string{"sg-0000000000000dead"}})
	wantAPIError(t, err, 400, "InvalidGroup.NotFound", "The security group 'sg-0000000000000dead' does not exist")
	_, err = g.c.DescribeSecurityGroups(ctx, &ec2sdk.DescribeSecurityGroupsInput{GroupNames: []string{"nope"}})
	wantAPIError(t, err, 400, "InvalidGroup.NotFound", "The security group 'nope' does not exist")
}

func TestDescribeNetworkAcls(t *testing.T) {
	g := newRig(t, topoFile, nil)
	out, err := g.c.DescribeNetworkAcls(ctx, &ec2sdk.DescribeNetworkAclsInput{NetworkAclIds: []string{dbACL}})
	if err != nil || len(out.NetworkAcls) != 1 {
		t.Fatalf("%v %d", err, len(out.NetworkAcls))
	}
	entry := func(egress bool, n int32, proto, action, cidr string) types.NetworkAclEntry {
		e := types.NetworkAclEntry{Egress: aws.Bool(egress), Protocol: aws.String(proto), RuleAction: types.RuleAction(action), RuleNumber: aws.Int32(n)}
		if strings.Contains(cidr, ":") {
			e.Ipv6CidrBlock = aws.String(cidr)
		} else {
			e.CidrBlock = aws.String(cidr)
		}
		return e
	}
	replies := entry(true, 100, "6", "allow", "10.0.1.0/24")
	replies.PortRange = &types.PortRange{From: aws.Int32(1024), To: aws.Int32(65535)}
	postgres := entry(false, 100, "6", "allow", "10.0.1.0/24")
	postgres.PortRange = &types.PortRange{From: aws.Int32(5432), To: aws.Int32(5432)}
	want := types.NetworkAcl{
		Associations: []types.NetworkAclAssociation{{NetworkAclId: aws.String(dbACL), SubnetId: aws.String(dbSubnet)}},
		// Egress entries first, each direction by rule number, ending with
		// the * entries (rule 32767) that deny the rest.
		Entries: []types.NetworkAclEntry{
			replies, entry(true, 32767, "-1", "deny", "0.0.0.0/0"), entry(true, 32767, "-1", "deny", "::/0"),
			postgres, entry(false, 32767, "-1", "deny", "0.0.0.0/0"), entry(false, 32767, "-1", "deny", "::/0"),
		},
		IsDefault:    aws.Bool(false),
		NetworkAclId: aws.String(dbACL),
		VpcId:        aws.String(vpcID),
		OwnerId:      aws.String(account),
	}
	// The store gives the association an id of AWS's form.
	got := out.NetworkAcls[0]
	if len(got.Associations) == 1 {
		if id := aws.ToString(got.Associations[0].NetworkAclAssociationId); !aclAssocID.MatchString(id) {
			t.Errorf("association id %q", id)
		}
		want.Associations[0].NetworkAclAssociationId = got.Associations[0].NetworkAclAssociationId
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("db acl\n%+v\nwant\n%+v", got, want)
	}
	for _, tc := range []struct {
		f    []types.Filter
		want []string
	}{
		{filter("default", "true"), []string{defACL}},
		{filter("association.subnet-id", dbSubnet), []string{dbACL}},
		{filter("association.subnet-id", pubSubnet, appSubnet), []string{defACL}},
		{filter("entry.port-range.from", "5432"), []string{dbACL}},
		{filter("entry.cidr", "10.0.1.0/24"), []string{dbACL}},
		{filter("entry.rule-action", "allow"), []string{defACL, dbACL}},
		{filter("entry.protocol", "-1"), []string{defACL, dbACL}},
		{filter("entry.rule-number", "101"), []string{defACL}},
		{filter("vpc-id", vpcID), []string{defACL, dbACL}},
	} {
		out, err := g.c.DescribeNetworkAcls(ctx, &ec2sdk.DescribeNetworkAclsInput{Filters: tc.f})
		var got []string
		for _, a := range out.NetworkAcls {
			got = append(got, aws.ToString(a.NetworkAclId))
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v %q, want %q", aws.ToString(tc.f[0].Name), err, got, tc.want)
		}
	}
	_, err = g.c.DescribeNetworkAcls(ctx, &ec2sdk.DescribeNetworkAclsInput{NetworkAclIds: []string{"acl-0000000000000dead"}})
	wantAPIError(t, err, 400, "InvalidNetworkAclID.NotFound", "The networkAcl ID 'acl-0000000000000dead' does not exist")
}

func TestDescribeRouteTables(t *testing.T) {
	g := newRig(t, topoFile, nil)
	out, err := g.c.DescribeRouteTables(ctx, &ec2sdk.DescribeRouteTablesInput{})
	if err != nil || len(out.RouteTables) != 2 {
		t.Fatalf("%v %d", err, len(out.RouteTables))
	}
	associated := &types.RouteTableAssociationState{State: types.RouteTableAssociationStateCodeAssociated}
	local4 := types.Route{DestinationCidrBlock: aws.String("10.0.0.0/16"), GatewayId: aws.String("local"),
		Origin: types.RouteOriginCreateRouteTable, State: types.RouteStateActive}
	want := []types.RouteTable{{
		Associations: []types.RouteTableAssociation{{Main: aws.Bool(false), RouteTableId: aws.String(pubRT), SubnetId: aws.String(pubSubnet), AssociationState: associated}},
		RouteTableId: aws.String(pubRT),
		Routes: []types.Route{
			local4,
			{DestinationIpv6CidrBlock: aws.String("2600:1f18:abcd:ef00::/56"), GatewayId: aws.String("local"), Origin: types.RouteOriginCreateRouteTable, State: types.RouteStateActive},
			{DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: aws.String("igw-0a1b2c3d4e5f60001"), Origin: types.RouteOriginCreateRoute, State: types.RouteStateActive},
			{DestinationIpv6CidrBlock: aws.String("::/0"), GatewayId: aws.String("igw-0a1b2c3d4e5f60001"), Origin: types.RouteOriginCreateRoute, State: types.RouteStateActive},
		},
		VpcId:   aws.String(vpcID),
		OwnerId: aws.String(account),
	}, {
		Associations: []types.RouteTableAssociation{{Main: aws.Bool(true), RouteTableId: aws.String(mainRT), AssociationState: associated}},
		RouteTableId: aws.String(mainRT),
		Routes: []types.Route{
			local4,
			{DestinationCidrBlock: aws.String("0.0.0.0/0"), NatGatewayId: aws.String("nat-0a1b2c3d4e5f60001"), Origin: types.RouteOriginCreateRoute, State: types.RouteStateActive},
		},
		VpcId:   aws.String(vpcID),
		OwnerId: aws.String(account),
	}}
	if !reflect.DeepEqual(out.RouteTables, want) {
		t.Errorf("route tables\n%+v\nwant\n%+v", out.RouteTables, want)
	}
	for _, tc := range []struct {
		f    []types.Filter
		want []string
	}{
		{filter("association.main", "true"), []string{mainRT}},
		{filter("association.subnet-id", pubSubnet), []string{pubRT}},
		{filter("route.nat-gateway-id", "nat-0a1b2c3d4e5f60001"), []string{mainRT}},
		{filter("route.gateway-id", "igw-*"), []string{pubRT}},
		{filter("route.destination-cidr-block", "0.0.0.0/0"), []string{pubRT, mainRT}},
		{filter("route.origin", "CreateRouteTable"), []string{pubRT, mainRT}},
		{filter("route-table-id", mainRT), []string{mainRT}},
	} {
		out, err := g.c.DescribeRouteTables(ctx, &ec2sdk.DescribeRouteTablesInput{Filters: tc.f})
		var got []string
		for _, rt := range out.RouteTables {
			got = append(got, aws.ToString(rt.RouteTableId))
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v %q, want %q", aws.ToString(tc.f[0].Name), err, got, tc.want)
		}
	}
	_, err = g.c.DescribeRouteTables(ctx, &ec2sdk.DescribeRouteTablesInput{RouteTableIds: []string{"rtb-0000000000000dead"}})
	wantAPIError(t, err, 400, "InvalidRouteTableID.NotFound", "The routeTable ID 'rtb-0000000000000dead' does not exist")
	_, err = g.c.DescribeRouteTables(ctx, &ec2sdk.DescribeRouteTablesInput{MaxResults: aws.Int32(101)})
	wantAPIError(t, err, 400, "InvalidParameterValue", "Value ( 101 ) for parameter MaxResults is invalid. Expecting a value between 5 and 100.")
}

// swapping answers with a network store the test replaces, as the network
// changes while a client pages through it.
type swapping struct {
	ec2.Backend
	mu  sync.Mutex
	net *netstate.Store
}

func (s *swapping) Network() *netstate.Store {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.net == nil {
		return s.Backend.Network()
	}
	return s.net
}

// TestDescribeNetworkPagination: twelve VPCs in pages of five, stable while
// the network changes between pages.
func TestDescribeNetworkPagination(t *testing.T) {
	var b strings.Builder
	b.WriteString("AccountId: \"444455556666\"\nRegion: eu-west-1\nVpcs:\n")
	var all []string
	for i := 12; i >= 1; i-- { // declared out of order: answers are by id
		id := fmt.Sprintf("vpc-%017d", i)
		fmt.Fprintf(&b, "  - {VpcId: %s, CidrBlock: 10.%d.0.0/16}\n", id, i)
		all = append(all, id)
	}
	slices.Sort(all)
	var swap *swapping
	g := newRig(t, writeTopology(t, b.String()), func(b ec2.Backend) ec2.Backend {
		swap = &swapping{Backend: b}
		return swap
	})
	var got []string
	pages := 0
	p := ec2sdk.NewDescribeVpcsPaginator(g.c, &ec2sdk.DescribeVpcsInput{MaxResults: aws.Int32(5)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, v := range out.Vpcs {
			got = append(got, aws.ToString(v.VpcId))
			if aws.ToString(v.OwnerId) != "444455556666" {
				t.Errorf("owner %s", aws.ToString(v.OwnerId))
			}
		}
	}
	if pages != 3 || !slices.Equal(got, all) {
		t.Errorf("%d pages %q", pages, got)
	}
	// The first page's last VPC disappears before the second page.
	first, err := g.c.DescribeVpcs(ctx, &ec2sdk.DescribeVpcsInput{MaxResults: aws.Int32(5)})
	if err != nil || first.NextToken == nil {
		t.Fatal(err)
	}
	smaller := strings.Replace(b.String(), "  - {VpcId: "+all[4]+", CidrBlock: 10.5.0.0/16}\n", "", 1)
	net2, err := netstate.Open(filepath.Join(t.TempDir(), "network.json"), netstate.Options{Account: "444455556666", Region: "eu-west-1"})
	if err != nil {
		t.Fatal(err)
	}
	defer net2.Close()
	if err := net2.Seed("fewer.yaml", []byte(smaller)); err != nil {
		t.Fatal(err)
	}
	swap.mu.Lock()
	swap.net = net2
	swap.mu.Unlock()
	second, err := g.c.DescribeVpcs(ctx, &ec2sdk.DescribeVpcsInput{MaxResults: aws.Int32(5), NextToken: first.NextToken})
	if err != nil || len(second.Vpcs) != 5 || aws.ToString(second.Vpcs[0].VpcId) != all[5] {
		t.Errorf("second page after a change: %v %+v", err, second.Vpcs)
	}
	_, err = g.c.DescribeVpcs(ctx, &ec2sdk.DescribeVpcsInput{MaxResults: aws.Int32(4)})
	wantAPIError(t, err, 400, "InvalidParameterValue", "Value ( 4 ) for parameter MaxResults is invalid. Expecting a value between 5 and 1000.")
	_, err = g.c.DescribeSubnets(ctx, &ec2sdk.DescribeSubnetsInput{NextToken: first.NextToken})
	wantAPIError(t, err, 400, "InvalidParameterValue", "NextToken")
}
