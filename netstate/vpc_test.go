package netstate

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"testing"

	"github.com/vpcflow/vpcflow/policy"
	"github.com/vpcflow/vpcflow/topology"
)

// Defaults checked here are those the VPC User Guide lists for a new VPC:
// a default network ACL allowing all IPv4 traffic in and out (rule 100,
// then *), a default security group (all inbound from itself, all outbound
// to IPv4) and a main route table with the local route.

func TestCreateVpcDefaults(t *testing.T) {
	s, _ := newStore(t)
	vpc, v, err := s.CreateVpc("10.1.0.7/16", []Tag{{Key: "Name", Value: "lab"}})
	if err != nil {
		t.Fatal(err)
	}
	if v != 1 || !isID(vpc.VpcId, "vpc") || vpc.CidrBlock != "10.1.0.0/16" || vpc.State != "available" || vpc.IsDefault ||
		vpc.OwnerId != testAccount || len(vpc.Tags) != 1 || len(vpc.CidrBlockAssociationSet) != 1 ||
		!isID(vpc.CidrBlockAssociationSet[0].AssociationId, "vpc-cidr-assoc") {
		t.Fatalf("vpc v%d %+v", v, vpc)
	}
	n := s.Network()
	var acls []NetworkAcl
	for _, a := range n.NetworkAcls {
		if a.VpcId == vpc.VpcId {
			acls = append(acls, a)
		}
	}
	if len(acls) != 1 || !acls[0].IsDefault || !isID(acls[0].NetworkAclId, "acl") {
		t.Fatalf("ACLs %+v", acls)
	}
	want := []NetworkAclEntry{
		{RuleNumber: 100, Protocol: "-1", RuleAction: "allow", CidrBlock: "0.0.0.0/0"},
		{RuleNumber: 32767, Protocol: "-1", RuleAction: "deny", CidrBlock: "0.0.0.0/0"},
		{RuleNumber: 100, Protocol: "-1", RuleAction: "allow", Egress: true, CidrBlock: "0.0.0.0/0"},
		{RuleNumber: 32767, Protocol: "-1", RuleAction: "deny", Egress: true, CidrBlock: "0.0.0.0/0"},
	}
	if got, _ := json.Marshal(acls[0].Entries); string(got) != string(mustJSON(want)) {
		t.Errorf("default ACL entries\n got %s\nwant %s", got, mustJSON(want))
	}
	var def *SecurityGroup
	for i, g := range n.SecurityGroups {
		if g.VpcId == vpc.VpcId {
			def = &n.SecurityGroups[i]
		}
	}
	if def == nil || def.GroupName != "default" || def.Description != "default VPC security group" {
		t.Fatalf("default group %+v", def)
	}
	wantIn := []IpPermission{{IpProtocol: "-1", UserIdGroupPairs: []UserIdGroupPair{{GroupId: def.GroupId, UserId: testAccount}}}}
	wantOut := []IpPermission{{IpProtocol: "-1", IpRanges: []IpRange{{CidrIp: "0.0.0.0/0"}}}}
	if string(mustJSON(def.IpPermissions)) != string(mustJSON(wantIn)) || string(mustJSON(def.IpPermissionsEgress)) != string(mustJSON(wantOut)) {
		t.Errorf("default group rules %s / %s", mustJSON(def.IpPermissions), mustJSON(def.IpPermissionsEgress))
	}
	if len(n.RouteTables) != 1 {
		t.Fatalf("route tables %d", len(n.RouteTables))
	}
	var rt routeTable
	if err := json.Unmarshal(n.RouteTables[0], &rt); err != nil {
		t.Fatal(err)
	}
	if !isID(rt.RouteTableId, "rtb") || rt.VpcId != vpc.VpcId || len(rt.Associations) != 1 || !rt.Associations[0].Main ||
		len(rt.Routes) != 1 || rt.Routes[0].DestinationCidrBlock != "10.1.0.0/16" || rt.Routes[0].GatewayId != "local" {
		t.Errorf("main route table %+v", rt)
	}

	// The topology sees all of it: the subnet uses the default ACL and the
	// main table routes the VPC's addresses locally.
	sub := must[Subnet](t)(s.CreateSubnet(vpc.VpcId, "10.1.2.0/24", "", nil))
	top, _ := s.Topology()
	ts := top.Subnet(sub.SubnetId)
	if ts == nil || ts.ACL.ID != acls[0].NetworkAclId {
		t.Fatalf("topology subnet %+v", ts)
	}
	if r, ok := top.Route(ts, netip.MustParseAddr("10.1.9.9")); !ok || r.Kind != topology.TargetLocal {
		t.Errorf("route %+v %v", r, ok)
	}

	// Two interfaces in the default group reach each other; others do not.
	a := must[NetworkInterface](t)(s.CreateNetworkInterface(sub.SubnetId, "", nil, "", nil))
	b := must[NetworkInterface](t)(s.CreateNetworkInterface(sub.SubnetId, "", nil, "", nil))
	if len(a.Groups) != 1 || a.Groups[0].GroupId != def.GroupId {
		t.Fatalf("an interface without groups gets the default group, got %+v", a.Groups)
	}
	if got := decide(t, s, a.NetworkInterfaceId, policy.Ingress, "tcp "+b.PrivateIpAddress+":40000 "+a.PrivateIpAddress+":5432 S"); got != "ACCEPT "+def.GroupId+"/ingress/1" {
		t.Errorf("member to member: %s", got)
	}
	if got := decide(t, s, a.NetworkInterfaceId, policy.Ingress, "tcp 10.1.2.99:40000 "+a.PrivateIpAddress+":5432 S"); got != "REJECT "+def.GroupId+"/ingress/none" {
		t.Errorf("non-member: %s", got)
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func TestCreateVpcErrors(t *testing.T) {
	s, _ := newStore(t)
	for _, c := range []struct{ cidr, code string }{
		{"", CodeMissingParameter},
		{"bogus", CodeInvalidParameterValue},
		{"2600:1f18::/56", CodeInvalidParameterValue},
		{"10.0.0.0/15", CodeVpcRange},
		{"10.0.0.0/29", CodeVpcRange},
	} {
		_, _, err := s.CreateVpc(c.cidr, nil)
		wantCode(t, err, c.code)
	}
	_, _, err := s.CreateVpc("10.0.0.0/16", []Tag{{Key: "aws:cloudformation", Value: "x"}})
	wantCode(t, err, CodeTagKeyMalformed)
	if !s.Empty() {
		t.Error("failed creates changed the store")
	}
}

func TestCreateSubnet(t *testing.T) {
	s, _ := newStore(t)
	vpc := must[Vpc](t)(s.CreateVpc("10.1.0.0/16", nil))
	sub, _, err := s.CreateSubnet(vpc.VpcId, "10.1.1.0/24", "us-east-1b", []Tag{{Key: "tier", Value: "web"}})
	if err != nil {
		t.Fatal(err)
	}
	if !isID(sub.SubnetId, "subnet") || sub.VpcId != vpc.VpcId || sub.CidrBlock != "10.1.1.0/24" || sub.AvailabilityZone != "us-east-1b" ||
		sub.AvailabilityZoneId != "use1-az2" || sub.SubnetArn != "arn:aws:ec2:us-east-1:111122223333:subnet/"+sub.SubnetId {
		t.Fatalf("subnet %+v", sub)
	}
	for _, c := range []struct{ vpc, cidr, az, code string }{
		{"vpc-00000000000000000", "10.1.2.0/24", "", CodeVpcNotFound},
		{"", "10.1.2.0/24", "", CodeMissingParameter},
		{vpc.VpcId, "", "", CodeMissingParameter},
		{vpc.VpcId, "bogus", "", CodeInvalidParameterValue},
		{vpc.VpcId, "10.2.0.0/24", "", CodeSubnetRange}, // outside the VPC
		{vpc.VpcId, "10.1.2.0/29", "", CodeSubnetRange}, // smaller than /28
		{vpc.VpcId, "10.1.0.0/15", "", CodeSubnetRange}, // larger than /16 (and the VPC)
		{vpc.VpcId, "10.1.1.128/25", "", CodeSubnetConflict},
		{vpc.VpcId, "10.1.0.0/16", "", CodeSubnetConflict}, // contains 10.1.1.0/24
		{vpc.VpcId, "10.1.2.0/24", "us-west-2a", CodeInvalidParameterValue},
		{vpc.VpcId, "10.1.2.0/24", "us-east-1", CodeInvalidParameterValue},
	} {
		_, _, err := s.CreateSubnet(c.vpc, c.cidr, c.az, nil)
		wantCode(t, err, c.code)
	}
	// Subnets of two VPCs may overlap.
	other := must[Vpc](t)(s.CreateVpc("10.1.0.0/16", nil))
	o := must[Subnet](t)(s.CreateSubnet(other.VpcId, "10.1.1.0/24", "", nil))
	if o.AvailabilityZone != "us-east-1a" || o.AvailabilityZoneId != "use1-az1" {
		t.Errorf("default zone %s %s", o.AvailabilityZone, o.AvailabilityZoneId)
	}
}

func TestAZID(t *testing.T) {
	for _, c := range [][3]string{
		{"us-east-1", "us-east-1a", "use1-az1"},
		{"ap-southeast-2", "ap-southeast-2c", "apse2-az3"},
		{"eu-central-1", "eu-central-1b", "euc1-az2"},
		{"us-gov-west-1", "us-gov-west-1a", "usgw1-az1"},
		{"ap-northeast-1", "ap-northeast-1d", "apne1-az4"},
	} {
		if got := azID(c[0], c[1]); got != c[2] {
			t.Errorf("azID(%s, %s) = %s, want %s", c[0], c[1], got, c[2])
		}
	}
}

func TestNetworkInterfaces(t *testing.T) {
	l := newLab(t)
	s := l.s
	e := l.eni
	if !isID(e.NetworkInterfaceId, "eni") || e.PrivateIpAddress != "10.1.1.4" || e.Status != "available" || e.InterfaceType != "interface" ||
		len(e.PrivateIpAddresses) != 1 || !e.PrivateIpAddresses[0].Primary || e.VpcId != l.vpc.VpcId || e.AvailabilityZone != "us-east-1a" {
		t.Fatalf("interface %+v", e)
	}
	top, _ := s.Topology()
	te := top.ENIByID(e.NetworkInterfaceId)
	if te == nil || !te.HasMAC || topology.FormatMAC(te.MAC) != e.MacAddress || te.MAC[0]&0x03 != 0x02 || te.InstanceID != "" ||
		te.PrimaryIPv4 != netip.MustParseAddr("10.1.1.4") || len(te.SecurityGroups) != 1 {
		t.Fatalf("topology interface %+v", te)
	}
	next := must[NetworkInterface](t)(s.CreateNetworkInterface(l.subnet.SubnetId, "", []string{l.web.GroupId}, "", nil))
	if next.PrivateIpAddress != "10.1.1.5" || next.MacAddress == e.MacAddress {
		t.Errorf("next interface %s %s", next.PrivateIpAddress, next.MacAddress)
	}
	must[NetworkInterface](t)(s.CreateNetworkInterface(l.subnet.SubnetId, "10.1.1.100", nil, "", nil))
	other := must[Vpc](t)(s.CreateVpc("10.2.0.0/16", nil))
	og := must[SecurityGroup](t)(s.CreateSecurityGroup(other.VpcId, "o", "o", nil))
	var six []string
	for i := 0; i < 6; i++ {
		g := must[SecurityGroup](t)(s.CreateSecurityGroup(l.vpc.VpcId, fmt.Sprint("g", i), "g", nil))
		six = append(six, g.GroupId)
	}
	for _, c := range []struct {
		subnet, ip string
		groups     []string
		code       string
	}{
		{l.subnet.SubnetId, "10.1.1.100", nil, CodeIPAddressInUse},
		{l.subnet.SubnetId, "10.1.1.4", nil, CodeIPAddressInUse},
		{l.subnet.SubnetId, "10.1.1.3", nil, CodeInvalidParameterValue},   // reserved: network +3
		{l.subnet.SubnetId, "10.1.1.0", nil, CodeInvalidParameterValue},   // reserved: network address
		{l.subnet.SubnetId, "10.1.1.255", nil, CodeInvalidParameterValue}, // reserved: broadcast
		{l.subnet.SubnetId, "10.1.2.5", nil, CodeInvalidParameterValue},   // outside the subnet
		{l.subnet.SubnetId, "bogus", nil, CodeInvalidParameterValue},
		{l.subnet.SubnetId, "", []string{og.GroupId}, CodeInvalidParameter},
		{l.subnet.SubnetId, "", []string{"sg-00000000000000000"}, CodeGroupNotFound},
		{l.subnet.SubnetId, "", six, "SecurityGroupsPerInterfaceLimitExceeded"},
		{"subnet-00000000000000000", "", nil, CodeSubnetNotFound},
		{"", "", nil, CodeMissingParameter},
	} {
		_, _, err := s.CreateNetworkInterface(c.subnet, c.ip, c.groups, "", nil)
		wantCode(t, err, c.code)
	}

	// A /28 has 16 addresses, 5 reserved: 11 interfaces fit, .4 to .14.
	small := must[Subnet](t)(s.CreateSubnet(l.vpc.VpcId, "10.1.2.0/28", "", nil))
	var last NetworkInterface
	for i := 0; i < 11; i++ {
		last = must[NetworkInterface](t)(s.CreateNetworkInterface(small.SubnetId, "", nil, "", nil))
	}
	if last.PrivateIpAddress != "10.1.2.14" {
		t.Errorf("last address %s", last.PrivateIpAddress)
	}
	_, _, err := s.CreateNetworkInterface(small.SubnetId, "", nil, "", nil)
	wantCode(t, err, CodeInsufficientAddresses)

	ok(t)(s.DeleteNetworkInterface(next.NetworkInterfaceId))
	if top, _ := s.Topology(); top.ENIByID(next.NetworkInterfaceId) != nil {
		t.Error("deleted interface still in the topology")
	}
	_, err = s.DeleteNetworkInterface(next.NetworkInterfaceId)
	wantCode(t, err, CodeInterfaceNotFound)
	// Its address is free again.
	again := must[NetworkInterface](t)(s.CreateNetworkInterface(l.subnet.SubnetId, "", nil, "", nil))
	if again.PrivateIpAddress != "10.1.1.5" {
		t.Errorf("freed address not reused: %s", again.PrivateIpAddress)
	}
}

func TestDeleteInterfaceInUse(t *testing.T) {
	s, _ := newStore(t)
	if err := s.Seed("examples/topology.yaml", exampleFile(t)); err != nil {
		t.Fatal(err)
	}
	_, err := s.DeleteNetworkInterface("eni-0a00000000000000a") // attached to i-0a00000000000000a
	wantCode(t, err, CodeInterfaceInUse)
	_, err = s.DeleteNetworkInterface("eni-0c00000000000000c") // the NAT gateway's
	wantCode(t, err, CodeInterfaceInUse)
}

func TestTags(t *testing.T) {
	l := newLab(t)
	s := l.s
	rule := must[[]SecurityGroupRule](t)(s.AuthorizeSecurityGroupIngress(l.web.GroupId, []IpPermission{tcp(22, 22, "0.0.0.0/0")}, nil))[0]
	aclID, _ := l.association(t)
	var rtb string
	json.Unmarshal(s.Network().RouteTables[0], &struct{ RouteTableId *string }{&rtb})
	ids := []string{l.vpc.VpcId, l.subnet.SubnetId, l.web.GroupId, rule.SecurityGroupRuleId, aclID, l.eni.NetworkInterfaceId, rtb}
	ok(t)(s.CreateTags(ids, []Tag{{Key: "env", Value: "test"}, {Key: "Name", Value: "a"}}))
	ok(t)(s.CreateTags(ids, []Tag{{Key: "Name", Value: "b"}})) // replaces the value
	tagsOf := func() map[string][]Tag {
		n := s.Network()
		out := map[string][]Tag{n.Vpcs[0].VpcId: n.Vpcs[0].Tags, n.Subnets[0].SubnetId: n.Subnets[0].Tags}
		for _, g := range n.SecurityGroups {
			out[g.GroupId] = g.Tags
		}
		for _, a := range n.NetworkAcls {
			out[a.NetworkAclId] = a.Tags
		}
		for _, e := range n.NetworkInterfaces {
			out[e.NetworkInterfaceId] = e.TagSet
		}
		var rt struct {
			RouteTableId string
			Tags         []Tag
		}
		json.Unmarshal(n.RouteTables[0], &rt)
		out[rt.RouteTableId] = rt.Tags
		r, _ := s.DescribeSecurityGroupRules([]string{rule.SecurityGroupRuleId}, nil)
		out[rule.SecurityGroupRuleId] = r[0].Tags
		return out
	}
	for _, id := range ids {
		if got := tagsOf()[id]; string(mustJSON(got)) != `[{"Key":"env","Value":"test"},{"Key":"Name","Value":"b"}]` {
			t.Errorf("%s: %s", id, mustJSON(got))
		}
	}
	// A value given must match; none deletes whatever the value.
	ok(t)(s.DeleteTags(ids, []DeleteTag{{Key: "env", Value: ptr("prod")}, {Key: "Name"}}))
	for _, id := range ids {
		if got := tagsOf()[id]; string(mustJSON(got)) != `[{"Key":"env","Value":"test"}]` {
			t.Errorf("%s after delete: %s", id, mustJSON(got))
		}
	}
	ok(t)(s.DeleteTags([]string{l.vpc.VpcId}, nil)) // no tags: all of them
	if got := tagsOf()[l.vpc.VpcId]; len(got) != 0 {
		t.Errorf("vpc tags %v", got)
	}

	for _, c := range []struct {
		id, code string
	}{
		{"vpc-00000000000000000", CodeVpcNotFound},
		{"subnet-00000000000000000", CodeSubnetNotFound},
		{"sg-00000000000000000", CodeGroupNotFound},
		{"sgr-00000000000000000", CodeRuleIdNotFound},
		{"acl-00000000000000000", CodeNetworkAclNotFound},
		{"eni-00000000000000000", CodeInterfaceNotFound},
		{"rtb-00000000000000000", CodeRouteTableNotFound},
		{"i-00000000000000000", CodeInvalidID},
	} {
		// All or nothing: the good id before the bad one is not tagged.
		_, err := s.CreateTags([]string{l.subnet.SubnetId, c.id}, []Tag{{Key: "k", Value: "v"}})
		wantCode(t, err, c.code)
	}
	if got := tagsOf()[l.subnet.SubnetId]; len(got) != 1 {
		t.Errorf("a failed CreateTags tagged the subnet: %v", got)
	}
	var many []Tag
	for i := 0; i < 50; i++ {
		many = append(many, Tag{Key: fmt.Sprint("k", i)})
	}
	_, err := s.CreateTags([]string{l.subnet.SubnetId}, many) // 1 + 50 > 50
	wantCode(t, err, CodeTagLimitExceeded)
	_, err = s.CreateTags([]string{l.subnet.SubnetId}, []Tag{{Key: "aws:x"}})
	wantCode(t, err, CodeTagKeyMalformed)
	_, err = s.CreateTags([]string{l.subnet.SubnetId}, []Tag{{Key: ""}})
	wantCode(t, err, CodeTagKeyMalformed)
	_, err = s.CreateTags(nil, []Tag{{Key: "k"}})
	wantCode(t, err, CodeMissingParameter)
	_, err = s.CreateTags([]string{l.subnet.SubnetId}, nil)
	wantCode(t, err, CodeMissingParameter)
}
