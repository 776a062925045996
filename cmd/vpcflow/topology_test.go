package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vpcflow/vpcflow/internal/e2e"
)

func TestTopologyValidateE2E(t *testing.T) {
	out, errOut, code := policyExec(t, "topology", "validate", "examples/topology.yaml")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"examples/topology.yaml: valid\n",
		"account 111122223333, region us-east-1\n",
		// 8 entries written in the file; the IPv6 deny-all of the default ACL
		// (in and out) and both of the db subnet's ACL are AWS's
		"1 VPC, 3 subnets, 5 network interfaces, 4 security groups (12 rules), 2 network ACLs (8 entries + AWS's defaults: 6 deny-all *), 1 internet gateway, 1 NAT gateway, 2 route tables, 1 flow log\n",
		"flow log fl-ef2527b0f1133704b: VPC vpc-0f1e2d3c4b5a69788, ALL, 60 s, s3 arn:aws:s3:::demo-flow-bucket\n",
		"vpc-0f1e2d3c4b5a69788 10.0.0.0/16 2600:1f18:abcd:ef00::/56 (DNS 10.0.0.2)\n",
		"  subnet-0a1b2c3d4e5f00003 10.0.2.0/24 use1-az2 nacl acl-0d1e2f3a4b5c60002\n",
		"    eni-0a00000000000000a interface 0a:00:00:00:00:0a 10.0.0.10,10.0.0.11,2600:1f18:abcd:ef00::10 i-0a00000000000000a [sg-0aaaaaaaaaaaaaaa1]\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	out, _, code = policyExec(t, "topology", "validate", "examples/ping.yaml")
	// one entry written, four deny-all added (IPv4 and IPv6, in and out)
	if code != 0 || !strings.Contains(out, "1 VPC, 1 subnet, 1 network interface, 1 security group (1 rule), 1 network ACL (1 entry + AWS's defaults: 4 deny-all *), 0 internet gateways,") {
		t.Errorf("ping.yaml: exit %d\n%s", code, out)
	}
}

func TestTopologyValidateE2EErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	err := os.WriteFile(bad, []byte(`Vpcs:
  - VpcId: vpc-1
    CidrBlock: 10.0.0.0/16
Subnets:
  - SubnetId: subnet-1
    VpcId: vpc-1
    CidrBlok: 10.0.1.0/24
`), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	out, errOut, code := policyExec(t, "topology", "validate", bad)
	want := "vpcflow: " + bad + `:7: Subnets[0].CidrBlok: unknown key; did you mean "CidrBlock"?` + "\n"
	if code != 1 || out != "" || errOut != want {
		t.Errorf("exit %d\nstdout %q\nstderr %q\nwant   %q", code, out, errOut, want)
	}
	_, _, code = policyExec(t, "topology", "validate")
	if code != 2 {
		t.Errorf("no argument: exit %d, want 2", code)
	}
}

// topologyWithFlowLogs is a small valid network followed by flow-log
// entries (they start at line 16).
const topologyWithFlowLogs = `AccountId: "111122223333"
Region: us-east-1
Vpcs:
  - VpcId: vpc-1
    CidrBlock: 10.0.0.0/16
Subnets:
  - SubnetId: subnet-1
    VpcId: vpc-1
    CidrBlock: 10.0.1.0/24
NetworkInterfaces:
  - NetworkInterfaceId: eni-1
    SubnetId: subnet-1
    MacAddress: 0a:00:00:00:00:01
    PrivateIpAddress: 10.0.1.10
FlowLogs:
`

// TestTopologyValidateAgreesWithPcap: a file whose flow logs pcap refuses
// is refused by validate too, with every problem at once, each at its line
// and in line order, and pcap gives the very same list. Both passed it,
// then pcap refused the first problem alone.
func TestTopologyValidateAgreesWithPcap(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "flows.yaml")
	body := topologyWithFlowLogs + `  - ResourceIds: [vpc-1, vpc-2]
    ResourceType: VPC
    TrafficType: all
    LogDestinationType: s3
    LogDestination: arn:aws:s3:::bucket
    MaxAggregationInterval: 300
    LogFormat: '${version} ${srcadr}'
  - ResourceIds: [subnet-1]
    ResourceType: Subnet
    TrafficType: ALL
    LogDestinationType: kinesis-data-firehose
    LogDestination: arn:aws:firehose:us-east-1:1111:deliverystream/x
  - ResourceIds: [eni-1]
    ResourceType: NetworkInterface
    TrafficType: REJECT
    LogDestinationType: cloud-watch-logs
`
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	// lines counted by hand: the entries begin at 16, 23 and 28
	want := "vpcflow: " + path + `:16: FlowLogs[0].ResourceIds[1]: VPC "vpc-2" is not in the topology (InvalidVpcID.NotFound)
` + path + `:18: FlowLogs[0].TrafficType: want ACCEPT, REJECT or ALL (upper case), got "all" (InvalidParameterValue)
` + path + `:21: FlowLogs[0].MaxAggregationInterval: want 60 or 600, got 300 (InvalidParameterValue)
` + path + `:22: FlowLogs[0].LogFormat: unknown field (did you mean srcaddr?): "srcadr" at offset 11 (InvalidParameter)
` + path + `:27: FlowLogs[1].LogDestination: account "1111" in "arn:aws:firehose:us-east-1:1111:deliverystream/x": want 12 digits (InvalidParameter)
` + path + `:28: FlowLogs[2].LogGroupName: cloud-watch-logs needs LogGroupName or a log-group LogDestination (InvalidParameter)
`
	out, errOut, code := runBinary(t, nil, "topology", "validate", path)
	if code != 1 || out != "" || errOut != want {
		t.Errorf("validate: exit %d\nstdout %q\nstderr %s\nwant   %s", code, out, errOut, want)
	}
	pcap := e2e.WritePcap(t, []e2e.Packet{{Sec: 1, SrcMAC: "0a:00:00:00:00:01", DstMAC: e2e.RouterMAC, Src: "10.0.1.10", Dst: "192.0.2.1", Proto: "udp", SrcPort: 5000, DstPort: 53}})
	for _, args := range [][]string{
		{"pcap", "--stdout", "--topology", path, pcap},
		{"gen", "pcap", "--topology", path, "--out", filepath.Join(dir, "g.pcap")},
		{"policy", "check", "--topology", path, "--eni", "eni-1", "--direction", "egress", "--protocol", "udp", "--src", "10.0.1.10:5000", "--dst", "192.0.2.1:53"},
	} {
		if _, errOut, code := runBinary(t, nil, args...); code != 1 || errOut != want {
			t.Errorf("%s: exit %d\nstderr %s\nwant   %s", args[0], code, errOut, want)
		}
	}
}

// TestTopologyValidateCIDRs: a prefix length past 32 is one problem (it was
// three: the CIDR, "required", and the interface "outside" an invalid
// prefix), said in words; a subnet CIDR with host bits set is refused.
func TestTopologyValidateCIDRs(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ cidr, want string }{
		{"10.0.1.0/33", `:9: Subnets[0].CidrBlock: "10.0.1.0/33" is not a CIDR: prefix length 33 is more than 32, the bits of an IPv4 address`},
		{"10.0.1.5/24", `:9: Subnets[0].CidrBlock: "10.0.1.5/24" is not a network CIDR: host bits are set (the network of 10.0.1.5 is 10.0.1.0/24)`},
		{"10.0.1.0", `:9: Subnets[0].CidrBlock: "10.0.1.0" is not a CIDR: want ADDRESS/LENGTH, such as 10.0.1.0/24`},
	} {
		path := filepath.Join(dir, "cidr.yaml")
		body := strings.Replace(topologyWithFlowLogs, "CidrBlock: 10.0.1.0/24", "CidrBlock: "+c.cidr, 1)
		body = strings.TrimSuffix(body, "FlowLogs:\n")
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		_, errOut, code := runBinary(t, nil, "topology", "validate", path)
		if want := "vpcflow: " + path + c.want + "\n"; code != 1 || errOut != want {
			t.Errorf("%s: exit %d\nstderr %q\nwant   %q", c.cidr, code, errOut, want)
		}
	}
}

// TestTopologyPlural: "gateways", not "gatewaies".
func TestTopologyPlural(t *testing.T) {
	for n, want := range map[string]string{"internet gateway": "2 internet gateways", "entry": "2 entries", "NAT gateway": "2 NAT gateways", "key": "2 keys", "policy": "2 policies"} {
		if got := topologyPlural(2, n); got != want {
			t.Errorf("%s: %q, want %q", n, got, want)
		}
	}
}
