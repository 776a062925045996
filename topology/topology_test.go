package topology

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func mustLoad(t *testing.T, path string) *Topology {
	t.Helper()
	top, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return top
}

// TestExample checks what examples/topology.yaml declares, value by value
// as written in the file.
func TestExample(t *testing.T) {
	top := mustLoad(t, "../examples/topology.yaml")
	if top.AccountID != "111122223333" || top.Region != "us-east-1" {
		t.Errorf("account/region %q %q", top.AccountID, top.Region)
	}
	var ids []string
	for _, e := range top.ENIs() {
		ids = append(ids, e.ID)
	}
	if got := strings.Join(ids, " "); got != "eni-0a00000000000000a eni-0b00000000000000b eni-0c00000000000000c eni-0d00000000000000d eni-0e00000000000000e" {
		t.Errorf("ENIs %s", got)
	}
	web := top.ENIByMAC([6]byte{0x0a, 0, 0, 0, 0, 0x0a})
	if web == nil || web.ID != "eni-0a00000000000000a" {
		t.Fatalf("ENIByMAC: %v", web)
	}
	checks := []struct{ name, got, want string }{
		{"primary", web.PrimaryIPv4.String(), "10.0.0.10"},
		{"ipv4s", strings.Trim(strings.Join(strs(web.IPv4s), " "), " "), "10.0.0.10 10.0.0.11"},
		{"ipv6s", strings.Join(strs(web.IPv6s), " "), "2600:1f18:abcd:ef00::10"},
		{"public", web.PublicIPv4.String(), "198.51.100.10"},
		{"instance", web.InstanceID, "i-0a00000000000000a"},
		{"account", web.AccountID, "111122223333"},
		{"region", web.Region, "us-east-1"},
		{"az", web.AZID, "use1-az1"},
		{"type", web.InterfaceType, "interface"},
		{"subnet", web.Subnet.ID, "subnet-0a1b2c3d4e5f00001"},
		{"vpc", web.VPC.ID, "vpc-0f1e2d3c4b5a69788"},
		{"groups", strings.Join(web.Groups, ","), "sg-0aaaaaaaaaaaaaaa1"},
		{"mac", FormatMAC(web.MAC), "0a:00:00:00:00:0a"},
		{"dns", web.VPC.DNSAddr().String(), "10.0.0.2"},
		{"nat type", top.ENIByID("eni-0c00000000000000c").InterfaceType, "nat_gateway"},
		{"nat instance", top.ENIByID("eni-0c00000000000000c").InstanceID, ""},
		{"db acl", top.ENIByID("eni-0e00000000000000e").Subnet.ACL.ID, "acl-0d1e2f3a4b5c60002"},
		{"app acl", top.ENIByID("eni-0d00000000000000d").Subnet.ACL.ID, "acl-0d1e2f3a4b5c60001"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, c.got, c.want)
		}
	}
	if !web.Nitro || top.ENIByID("eni-0b00000000000000b").Nitro {
		t.Error("Nitro flag")
	}
	if db := top.ENIByID("eni-0e00000000000000e"); db.TCPEstablishedTimeout != 3600 || db.UDPTimeout != 0 {
		t.Errorf("conntrack config %d %d", db.TCPEstablishedTimeout, db.UDPTimeout)
	}
	for _, ip := range []string{"10.0.0.10", "10.0.0.11", "2600:1f18:abcd:ef00::10"} {
		a := netip.MustParseAddr(ip)
		if e := top.ENIByIP("", a); e != web {
			t.Errorf("ENIByIP(%s) = %v", ip, e)
		}
		if e := top.ENIByIP("vpc-0f1e2d3c4b5a69788", a); e != web {
			t.Errorf("ENIByIP(vpc, %s) = %v", ip, e)
		}
	}
	if e := top.ENIByIP("", netip.MustParseAddr("198.51.100.10")); e != nil {
		t.Errorf("public address looked up: %v", e)
	}
	if e := top.ENIByIP("", netip.MustParseAddr("::ffff:10.0.0.10")); e != web {
		t.Errorf("v4-mapped lookup: %v", e)
	}
	// Flow logs as decoded.
	if len(top.FlowLogs) != 1 {
		t.Fatalf("FlowLogs: %d", len(top.FlowLogs))
	}
	fl := top.FlowLogs[0]
	if fl.LogDestination != "arn:aws:s3:::demo-flow-bucket" || fl.LogDestinationType != "s3" || fl.ResourceType != "VPC" ||
		strings.Join(fl.ResourceIds, ",") != "vpc-0f1e2d3c4b5a69788" || fl.TrafficType != "ALL" ||
		fl.MaxAggregationInterval == nil || *fl.MaxAggregationInterval != 60 || fl.DestinationOptions == nil ||
		fl.DestinationOptions.FileFormat != "plain-text" || fl.DestinationOptions.PerHourPartition == nil || *fl.DestinationOptions.PerHourPartition ||
		len(fl.TagSpecifications) != 1 || fl.TagSpecifications[0].Tags[0] != (Tag{"team", "net"}) || fl.Line == 0 {
		t.Errorf("flow log %+v", fl)
	}
	// SG defaults: absent IpPermissionsEgress allows all, [] allows none.
	if g := top.SecurityGroup("sg-0aaaaaaaaaaaaaaa1"); len(g.Egress) != 1 || g.Egress[0].Proto != Any || len(g.Egress[0].Prefixes) != 2 {
		t.Errorf("default egress %+v", g.Egress)
	}
	if g := top.SecurityGroup("sg-0aaaaaaaaaaaaaaa3"); len(g.Egress) != 0 {
		t.Errorf("explicit [] egress %+v", g.Egress)
	}
	if g := top.SecurityGroup("sg-0aaaaaaaaaaaaaaa4"); g.Ingress[1].Proto != ProtoICMP || g.Ingress[1].From != 8 || g.Ingress[1].To != Any {
		t.Errorf("icmp rule %+v", g.Ingress[1])
	}
}

func strs(as []netip.Addr) []string {
	var s []string
	for _, a := range as {
		s = append(s, a.String())
	}
	return s
}

func TestRoutes(t *testing.T) {
	top := mustLoad(t, "../examples/topology.yaml")
	pub, app := top.Subnet("subnet-0a1b2c3d4e5f00001"), top.Subnet("subnet-0a1b2c3d4e5f00002")
	cases := []struct {
		s      *Subnet
		dst    string
		kind   TargetKind
		target string
	}{
		{pub, "10.0.2.30", TargetLocal, "local"},
		{pub, "8.8.8.8", TargetIGW, "igw-0a1b2c3d4e5f60001"},
		{pub, "2001:db8::1", TargetIGW, "igw-0a1b2c3d4e5f60001"},
		{pub, "2600:1f18:abcd:ef00::99", TargetLocal, "local"},
		{app, "8.8.8.8", TargetNAT, "nat-0a1b2c3d4e5f60001"}, // main table
		{app, "10.0.0.10", TargetLocal, "local"},
	}
	for _, c := range cases {
		r, ok := top.Route(c.s, netip.MustParseAddr(c.dst))
		if !ok || r.Kind != c.kind || r.Target != c.target {
			t.Errorf("%s -> %s: %v %v %s", c.s.ID, c.dst, ok, r.Kind, r.Target)
		}
	}
	if _, ok := top.Route(app, netip.MustParseAddr("2001:db8::1")); ok {
		t.Error("app subnet has no IPv6 route")
	}
}

const base = `AccountId: "111122223333"
Region: us-east-1
Vpcs:
  - VpcId: vpc-1
    CidrBlock: 10.0.0.0/16
Subnets:
  - SubnetId: subnet-1
    VpcId: vpc-1
    CidrBlock: 10.0.1.0/24
`

// TestErrors checks positioned messages: FILE:LINE: path.to.key: problem.
// Line numbers are counted by hand in the snippets (base is lines 1-9).
func TestErrors(t *testing.T) {
	cases := []struct{ name, yaml, want string }{
		{"unknown key with hint", base + "NetworkInterface:\n  - {}\n",
			"t.yaml:10: NetworkInterface: unknown key; did you mean \"NetworkInterfaces\"?"},
		{"unknown nested key with hint", base + "NetworkInterfaces:\n  - NetworkInterfaceId: eni-1\n    SubnetId: subnet-1\n    PrivateIPAddress: 10.0.1.5\n",
			"t.yaml:13: NetworkInterfaces[0].PrivateIPAddress: unknown key; did you mean \"PrivateIpAddress\"?"},
		{"unknown key without hint", base + "Zebra: 1\n", "t.yaml:10: Zebra: unknown key"},
		{"duplicate subnet id", base + "  - SubnetId: subnet-1\n    VpcId: vpc-1\n    CidrBlock: 10.0.2.0/24\n",
			"t.yaml:10: Subnets[1].SubnetId: duplicate subnet id subnet-1"},
		{"overlapping subnets in one VPC", base + "  - SubnetId: subnet-2\n    VpcId: vpc-1\n    CidrBlock: 10.0.1.128/25\n",
			"t.yaml:12: Subnets[1].CidrBlock: 10.0.1.128/25 overlaps subnet-1 (10.0.1.0/24) in vpc-1"},
		{"subnet outside VPC", base + "  - SubnetId: subnet-2\n    VpcId: vpc-1\n    CidrBlock: 10.1.0.0/24\n",
			"t.yaml:12: Subnets[1].CidrBlock: 10.1.0.0/24 is outside the CIDRs of vpc-1"},
		{"unknown VPC", base + "  - SubnetId: subnet-2\n    VpcId: vpc-9\n    CidrBlock: 10.0.2.0/24\n",
			"t.yaml:11: Subnets[1].VpcId: unknown VPC vpc-9 (not in Vpcs)"},
		{"address outside subnet", base + "NetworkInterfaces:\n  - NetworkInterfaceId: eni-1\n    SubnetId: subnet-1\n    PrivateIpAddress: 10.0.2.5\n",
			"t.yaml:13: NetworkInterfaces[0].PrivateIpAddress: 10.0.2.5 is outside subnet subnet-1 (10.0.1.0/24)"},
		{"unknown subnet", base + "NetworkInterfaces:\n  - NetworkInterfaceId: eni-1\n    SubnetId: subnet-9\n    PrivateIpAddress: 10.0.1.5\n",
			"t.yaml:12: NetworkInterfaces[0].SubnetId: unknown subnet \"subnet-9\" (not in Subnets)"},
		{"bad MAC", base + "NetworkInterfaces:\n  - NetworkInterfaceId: eni-1\n    SubnetId: subnet-1\n    PrivateIpAddress: 10.0.1.5\n    MacAddress: 0a:1b:2c\n",
			"t.yaml:14: NetworkInterfaces[0].MacAddress: bad MAC address \"0a:1b:2c\": want 6 hex pairs like 0a:1b:2c:3d:4e:5f"},
		{"unknown security group", base + "NetworkInterfaces:\n  - NetworkInterfaceId: eni-1\n    SubnetId: subnet-1\n    PrivateIpAddress: 10.0.1.5\n    Groups: [{GroupId: sg-9}]\n",
			"t.yaml:14: NetworkInterfaces[0].Groups[0].GroupId: unknown security group \"sg-9\" (not in SecurityGroups)"},
		{"bad rule number", base + "NetworkAcls:\n  - NetworkAclId: acl-1\n    VpcId: vpc-1\n    Entries:\n      - {RuleNumber: 40000, Protocol: \"-1\", RuleAction: allow, CidrBlock: 0.0.0.0/0}\n",
			"t.yaml:14: NetworkAcls[0].Entries[0].RuleNumber: rule number 40000 out of range 1-32766 (32767 is the implicit * entry)"},
		{"duplicate rule number", base + "NetworkAcls:\n  - NetworkAclId: acl-1\n    VpcId: vpc-1\n    Entries:\n      - {RuleNumber: 100, Protocol: \"-1\", RuleAction: allow, CidrBlock: 0.0.0.0/0}\n      - {RuleNumber: 100, Protocol: \"6\", RuleAction: deny, CidrBlock: 0.0.0.0/0}\n",
			"t.yaml:15: NetworkAcls[0].Entries[1].RuleNumber: rule number 100 repeats NetworkAcls[0].Entries[0]"},
		{"bad protocol", base + "SecurityGroups:\n  - GroupId: sg-1\n    IpPermissions:\n      - IpProtocol: tpc\n        IpRanges: [{CidrIp: 0.0.0.0/0}]\n",
			"t.yaml:13: SecurityGroups[0].IpPermissions[0].IpProtocol: bad protocol \"tpc\": want -1, tcp, udp, icmp, icmpv6 or a number 0-255"},
		{"reversed ports", base + "SecurityGroups:\n  - GroupId: sg-1\n    IpPermissions:\n      - IpProtocol: tcp\n        FromPort: 443\n        ToPort: 80\n        IpRanges: [{CidrIp: 0.0.0.0/0}]\n",
			"t.yaml:14: SecurityGroups[0].IpPermissions[0].FromPort: FromPort 443 is above ToPort 80"},
		{"bad CIDR", base + "SecurityGroups:\n  - GroupId: sg-1\n    IpPermissions:\n      - IpProtocol: tcp\n        FromPort: 443\n        ToPort: 443\n        IpRanges: [{CidrIp: 10.0.0.0/33}]\n",
			"t.yaml:16: SecurityGroups[0].IpPermissions[0].IpRanges[0].CidrIp: \"10.0.0.0/33\" is not a CIDR: prefix length 33 is more than 32, the bits of an IPv4 address"},
		{"wrong type", base + "NetworkAcls:\n  - NetworkAclId: acl-1\n    VpcId: vpc-1\n    Entries:\n      - {RuleNumber: ten, Protocol: \"-1\", RuleAction: allow, CidrBlock: 0.0.0.0/0}\n",
			"t.yaml:14: NetworkAcls[0].Entries[0].RuleNumber: want an integer, got \"ten\""},
		{"list expected", base + "NetworkInterfaces: {NetworkInterfaceId: eni-1}\n",
			"t.yaml:10: NetworkInterfaces: want a list, got a mapping"},
		{"syntax error", base + "Vpcs: [\n", "t.yaml:10: syntax error: "},
		{"duplicate key", base + "Region: eu-west-1\n", "t.yaml:10: syntax error: "},
		{"empty", "", "t.yaml: empty file"},
		{"unknown prefix list", base + "SecurityGroups:\n  - GroupId: sg-1\n    IpPermissions:\n      - IpProtocol: tcp\n        FromPort: 443\n        ToPort: 443\n        PrefixListIds: [{PrefixListId: pl-63a5400a}]\n",
			"t.yaml:16: SecurityGroups[0].IpPermissions[0].PrefixListIds[0].PrefixListId: unknown prefix list \"pl-63a5400a\": declare its entries in ManagedPrefixLists"},
		{"two default NACLs", base + "NetworkAcls:\n  - {NetworkAclId: acl-1, VpcId: vpc-1, IsDefault: true}\n  - {NetworkAclId: acl-2, VpcId: vpc-1, IsDefault: true}\n",
			"t.yaml:12: NetworkAcls[1].IsDefault: vpc-1 already has a default network ACL (acl-1)"},
		{"duplicate address", base + "NetworkInterfaces:\n  - {NetworkInterfaceId: eni-1, SubnetId: subnet-1, PrivateIpAddress: 10.0.1.5}\n  - {NetworkInterfaceId: eni-2, SubnetId: subnet-1, PrivateIpAddress: 10.0.1.5}\n",
			"t.yaml:12: NetworkInterfaces[1].PrivateIpAddress: 10.0.1.5 is already eni-1's in vpc-1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(c.yaml))
			if err == nil {
				t.Fatalf("no error, want %s", c.want)
			}
			var el ErrorList
			if !errors.As(err, &el) {
				t.Fatalf("error is %T", err)
			}
			if got := el[0].Error(); !strings.HasPrefix(got, c.want) {
				t.Errorf("\n got %s\nwant %s", got, c.want)
			}
		})
	}
}

func TestAllErrorsReported(t *testing.T) {
	y := base + "NetworkInterfaces:\n  - {NetworkInterfaceId: eni-1, SubnetId: subnet-9, PrivateIpAddress: 10.0.1.5}\n  - {NetworkInterfaceId: eni-2, SubnetId: subnet-1, PrivateIpAddress: 10.9.1.5}\n"
	_, err := Parse("t.yaml", []byte(y))
	var el ErrorList
	if !errors.As(err, &el) || len(el) != 2 {
		t.Fatalf("want 2 errors, got %v", err)
	}
}

func TestIgnoredAWSKeys(t *testing.T) {
	y := `AccountId: "111122223333"
Vpcs:
  - VpcId: vpc-1
    CidrBlock: 10.0.0.0/16
    State: available
    DhcpOptionsId: dopt-1
    InstanceTenancy: default
    CidrBlockAssociationSet:
      - {AssociationId: vpc-cidr-assoc-1, CidrBlock: 10.0.0.0/16, CidrBlockState: {State: associated}}
      - {AssociationId: vpc-cidr-assoc-2, CidrBlock: 100.64.0.0/16, CidrBlockState: {State: associated}}
    Tags: [{Key: Name, Value: main}]
Subnets:
  - {SubnetId: subnet-1, VpcId: vpc-1, CidrBlock: 100.64.1.0/24, AvailableIpAddressCount: 250, DefaultForAz: false, MapPublicIpOnLaunch: false, State: available, SubnetArn: "arn:aws:ec2:us-east-1:111122223333:subnet/subnet-1"}
NetworkInterfaces:
  - NetworkInterfaceId: eni-1
    SubnetId: subnet-1
    VpcId: vpc-1
    OwnerId: "444455556666"
    PrivateIpAddress: 100.64.1.5
    PrivateIpAddresses: [{PrivateIpAddress: 100.64.1.5, Primary: true, PrivateDnsName: ip-100-64-1-5.ec2.internal}]
    Attachment: {AttachTime: "2024-01-01T00:00:00+00:00", AttachmentId: eni-attach-1, DeleteOnTermination: true, DeviceIndex: 0, InstanceId: i-1, InstanceOwnerId: "111122223333", Status: attached}
    Status: in-use
    SourceDestCheck: true
    RequesterManaged: false
    Groups: [{GroupName: default, GroupId: sg-1}]
SecurityGroups:
  - {GroupId: sg-1, GroupName: default, Description: default VPC security group, OwnerId: "111122223333", VpcId: vpc-1, SecurityGroupArn: x,
     IpPermissions: [{IpProtocol: "-1", UserIdGroupPairs: [{GroupId: sg-1, UserId: "111122223333"}], IpRanges: [], Ipv6Ranges: [], PrefixListIds: []}]}
`
	top, err := Parse("aws.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	e := top.ENIByID("eni-1")
	if e.AccountID != "444455556666" || e.InstanceID != "i-1" {
		t.Errorf("OwnerId/InstanceId: %q %q", e.AccountID, e.InstanceID)
	}
	if len(top.VPC("vpc-1").CIDRs) != 2 {
		t.Errorf("secondary VPC CIDR: %v", top.VPC("vpc-1").CIDRs)
	}
	// A VPC without a default NACL gets an implicit allow-all one.
	if a := top.Subnet("subnet-1").ACL; a == nil || !a.Implicit || a.Ingress[0].RuleNumber != 100 || !a.Ingress[0].Allow {
		t.Errorf("implicit default NACL: %+v", a)
	}
}

func TestJSON(t *testing.T) {
	j := `{"AccountId": "111122223333", "Region": "eu-west-1",
 "Vpcs": [{"VpcId": "vpc-1", "CidrBlock": "10.0.0.0/16"}],
 "Subnets": [{"SubnetId": "subnet-1", "VpcId": "vpc-1", "CidrBlock": "10.0.1.0/24"}],
 "NetworkInterfaces": [{"NetworkInterfaceId": "eni-1", "SubnetId": "subnet-1", "PrivateIpAddress": "10.0.1.5", "MacAddress": "02:AB:cd:00:00:01"}]}`
	top, err := Parse("t.json", []byte(j))
	if err != nil {
		t.Fatal(err)
	}
	if e := top.ENIByMAC([6]byte{2, 0xab, 0xcd, 0, 0, 1}); e == nil || e.ID != "eni-1" {
		t.Errorf("MAC lookup: %v", e)
	}
	_, err = Parse("t.json", []byte(`{"Vpcs": [{"VpcId": "vpc-1", "CidrBlok": "10.0.0.0/16"}]}`))
	if err == nil || err.Error() != `t.json:1: Vpcs[0].CidrBlok: unknown key; did you mean "CidrBlock"?` {
		t.Errorf("JSON error: %v", err)
	}
}

// TestOverlappingVPCs: the same address in two VPCs is allowed, and then
// the lookup without a VPC is ambiguous ([Choice]; docs/aws-behaviour.md,
// "Direction and attribution").
func TestOverlappingVPCs(t *testing.T) {
	y := `Vpcs:
  - {VpcId: vpc-1, CidrBlock: 10.0.0.0/16}
  - {VpcId: vpc-2, CidrBlock: 10.0.0.0/16}
Subnets:
  - {SubnetId: subnet-1, VpcId: vpc-1, CidrBlock: 10.0.1.0/24}
  - {SubnetId: subnet-2, VpcId: vpc-2, CidrBlock: 10.0.1.0/24}
NetworkInterfaces:
  - {NetworkInterfaceId: eni-1, SubnetId: subnet-1, PrivateIpAddress: 10.0.1.5}
  - {NetworkInterfaceId: eni-2, SubnetId: subnet-2, PrivateIpAddress: 10.0.1.5}
  - {NetworkInterfaceId: eni-3, SubnetId: subnet-2, PrivateIpAddress: 10.0.1.6}
`
	top, err := Parse("t.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	a := netip.MustParseAddr("10.0.1.5")
	if e := top.ENIByIP("", a); e != nil {
		t.Errorf("ambiguous lookup returned %s", e.ID)
	}
	if e := top.ENIByIP("vpc-2", a); e == nil || e.ID != "eni-2" {
		t.Errorf("vpc-2 lookup: %v", e)
	}
	if e := top.ENIByIP("", netip.MustParseAddr("10.0.1.6")); e == nil || e.ID != "eni-3" {
		t.Errorf("unambiguous lookup: %v", e)
	}
	if e := top.VPC("vpc-1").ENIByIP(a); e == nil || e.ID != "eni-1" {
		t.Errorf("VPC.ENIByIP: %v", e)
	}
}

func TestParseProtocol(t *testing.T) {
	cases := []struct {
		in   string
		want int
		ok   bool
	}{
		{"-1", Any, true}, {"tcp", 6, true}, {"TCP", 6, true}, {"udp", 17, true}, {"icmp", 1, true},
		{"icmpv6", 58, true}, {"6", 6, true}, {"50", 50, true}, {"0", 0, true}, {"255", 255, true},
		{"256", 0, false}, {"-2", 0, false}, {"", 0, false}, {"tpc", 0, false},
	}
	for _, c := range cases {
		got, err := ParseProtocol(c.in)
		if (err == nil) != c.ok || (c.ok && got != c.want) {
			t.Errorf("ParseProtocol(%q) = %d, %v", c.in, got, err)
		}
	}
}

func TestLevenshteinHint(t *testing.T) {
	known := []string{"CidrBlock", "VpcId", "Ipv6CidrBlockAssociationSet"}
	for in, want := range map[string]string{"cidrblock": "CidrBlock", "CidrBlok": "CidrBlock", "VpcID": "VpcId", "Foo": "", "Ipv6CidrBlockAssociationSe": "Ipv6CidrBlockAssociationSet"} {
		if got := nearest(in, known); got != want {
			t.Errorf("nearest(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestChoice holds loader behaviour that is our decision rather than AWS's.
func TestChoice(t *testing.T) {
	y := `Vpcs: [{VpcId: vpc-1, CidrBlock: 10.0.0.0/16, Ipv6CidrBlockAssociationSet: [{Ipv6CidrBlock: "2001:db8::/56"}]}]
Subnets: [{SubnetId: subnet-1, VpcId: vpc-1, CidrBlock: 10.0.1.0/24}]
NetworkInterfaces: [{NetworkInterfaceId: eni-1, SubnetId: subnet-1, PrivateIpAddress: 10.0.1.5}]
`
	top, err := Parse("t.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("implicit default NACL is named acl-default-<VpcId> and allows all", func(t *testing.T) {
		a := top.Subnet("subnet-1").ACL
		if a == nil || a.ID != "acl-default-vpc-1" || !a.Implicit || top.NetworkACL("acl-default-vpc-1") != a {
			t.Fatalf("%+v", a)
		}
		var got []string
		for _, e := range a.Egress {
			got = append(got, e.Name()+" "+e.Prefix.String())
		}
		if strings.Join(got, ",") != "100 0.0.0.0/0,101 ::/0,* 0.0.0.0/0,* ::/0" {
			t.Errorf("entries %v", got)
		}
	})
	t.Run("missing AccountId and Region stay empty", func(t *testing.T) {
		if e := top.ENIByID("eni-1"); e.AccountID != "" || e.Region != "" || e.InterfaceType != "interface" {
			t.Errorf("%q %q %q", e.AccountID, e.Region, e.InterfaceType)
		}
	})
	t.Run("type errors stop the load before semantic checks", func(t *testing.T) {
		_, err := Parse("t.yaml", []byte("Vpcs: [{VpcId: vpc-1, CidrBlock: [1]}]\nSubnets: [{SubnetId: subnet-1, VpcId: vpc-9, CidrBlock: 10.0.1.0/24}]\n"))
		if err == nil || err.Error() != "t.yaml:1: Vpcs[0].CidrBlock: want a string, got a list" {
			t.Errorf("%v", err)
		}
	})
}

// TestErrorsInLineOrder: problems come in the order of their lines, not in
// the order the checks run (subnets are checked before interfaces, but here
// the interfaces are written first).
func TestErrorsInLineOrder(t *testing.T) {
	y := `Vpcs:
  - {VpcId: vpc-1, CidrBlock: 10.0.0.0/16}
NetworkInterfaces:
  - {NetworkInterfaceId: eni-1, SubnetId: subnet-1, PrivateIpAddress: 10.0.2.5}
Subnets:
  - {SubnetId: subnet-1, VpcId: vpc-1, CidrBlock: 10.0.1.0/24}
  - {SubnetId: subnet-2, VpcId: vpc-1, CidrBlock: 10.0.1.128/25}
`
	_, err := Parse("t.yaml", []byte(y))
	want := "t.yaml:4: NetworkInterfaces[0].PrivateIpAddress: 10.0.2.5 is outside subnet subnet-1 (10.0.1.0/24)\n" +
		"t.yaml:7: Subnets[1].CidrBlock: 10.0.1.128/25 overlaps subnet-1 (10.0.1.0/24) in vpc-1"
	if err == nil || err.Error() != want {
		t.Fatalf("got\n%v\nwant\n%s", err, want)
	}
}

// TestOneErrorPerBadCIDR: a CIDR that cannot be read is one problem, not
// echoed as a missing CIDR, nor by the addresses checked against it.
func TestOneErrorPerBadCIDR(t *testing.T) {
	for _, c := range []struct{ file, want string }{
		{strings.Replace(base, "10.0.1.0/24", "10.0.1.0/33", 1) + "NetworkInterfaces:\n  - {NetworkInterfaceId: eni-1, SubnetId: subnet-1, PrivateIpAddress: 10.0.1.5}\n",
			`t.yaml:9: Subnets[0].CidrBlock: "10.0.1.0/33" is not a CIDR: prefix length 33 is more than 32, the bits of an IPv4 address`},
		{strings.Replace(base, "10.0.0.0/16", "10.0.0.0/x", 1),
			`t.yaml:5: Vpcs[0].CidrBlock: "10.0.0.0/x" is not a CIDR: the prefix length "x" is not a number from 0 to 32`},
		{strings.Replace(base, "10.0.1.0/24", "10.0.1.5/24", 1),
			`t.yaml:9: Subnets[0].CidrBlock: "10.0.1.5/24" is not a network CIDR: host bits are set (the network of 10.0.1.5 is 10.0.1.0/24)`},
		{base + "SecurityGroups:\n  - GroupId: sg-1\n    IpPermissions:\n      - {IpProtocol: tcp, FromPort: 22, ToPort: 22, IpRanges: [{CidrIp: 300.0.0.0/8}]}\n",
			`t.yaml:13: SecurityGroups[0].IpPermissions[0].IpRanges[0].CidrIp: "300.0.0.0/8" is not a CIDR: "300.0.0.0" is not an IP address`},
	} {
		_, err := Parse("t.yaml", []byte(c.file))
		if err == nil || err.Error() != c.want {
			t.Errorf("got\n%v\nwant\n%s", err, c.want)
		}
	}
	// a rule's CIDR may have host bits set, as AWS canonicalises it
	top, err := Parse("t.yaml", []byte(base+"SecurityGroups:\n  - GroupId: sg-1\n    IpPermissions:\n      - {IpProtocol: tcp, FromPort: 22, ToPort: 22, IpRanges: [{CidrIp: 100.68.0.18/18}]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := top.SecurityGroups[0].Ingress[0].Prefixes[0].String(); got != "100.68.0.0/18" {
		t.Errorf("rule CIDR %s, want 100.68.0.0/18", got)
	}
}

func TestFlowLogLine(t *testing.T) {
	y := base + `FlowLogs:
  - ResourceIds: [vpc-1]
    ResourceType: VPC
    DestinationOptions:
      FileFormat: csv
`
	top, err := Parse("t.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]int{"": 11, "ResourceIds": 11, "ResourceIds[0]": 11, "ResourceType": 12,
		"DestinationOptions.FileFormat": 14, "DestinationOptions.PerHourPartition": 14, "TrafficType": 11} {
		if got := top.FlowLogLine(0, key); got != want {
			t.Errorf("%q: line %d, want %d", key, got, want)
		}
	}
}
