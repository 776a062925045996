package flowlog

import (
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/vpcflow/vpcflow/flow"
	"github.com/vpcflow/vpcflow/record"
	"github.com/vpcflow/vpcflow/topology"
)

// The example network of docs/aws-behaviour.md (instance
// eni-0a1b2c3d4e5f60718 at 10.1.2.15) plus the NAT gateway of "Addresses, NAT
// gateway and pkt-* fields" there.
const testTopology = `
AccountId: "111122223333"
Region: eu-west-1
Vpcs:
  - {VpcId: vpc-0f1e2d3c4b5a69788, CidrBlock: 10.1.0.0/16}
Subnets:
  - {SubnetId: subnet-0123abcd4567ef890, VpcId: vpc-0f1e2d3c4b5a69788, CidrBlock: 10.1.2.0/24, AvailabilityZoneId: euw1-az2}
  - {SubnetId: subnet-0000000000000pub, VpcId: vpc-0f1e2d3c4b5a69788, CidrBlock: 10.1.0.0/24, AvailabilityZoneId: euw1-az1}
NetworkInterfaces:
  - NetworkInterfaceId: eni-0a1b2c3d4e5f60718
    SubnetId: subnet-0123abcd4567ef890
    PrivateIpAddress: 10.1.2.15
    PrivateIpAddresses: [{PrivateIpAddress: 10.1.2.15, Primary: true}, {PrivateIpAddress: 10.1.2.16, Primary: false}]
    Attachment: {InstanceId: i-0abc1234def567890}
  - NetworkInterfaceId: eni-04d3c2b1a0f9e8d76
    SubnetId: subnet-0000000000000pub
    PrivateIpAddress: 10.1.0.50
    InterfaceType: nat_gateway
    RequesterManaged: true
    Nitro: true
`

func load(t *testing.T) *topology.Topology {
	t.Helper()
	topo, err := topology.Parse("test.yaml", []byte(testTopology))
	if err != nil {
		t.Fatal(err)
	}
	return topo
}

func ptr[T any](v T) *T { return &v }

func TestBuildValidation(t *testing.T) {
	topo := load(t)
	base := func() Spec {
		return Spec{ResourceIds: []string{"vpc-0f1e2d3c4b5a69788"}, ResourceType: "VPC", TrafficType: "ALL",
			LogDestinationType: "s3", LogDestination: "arn:aws:s3:::bucket/prod/"}
	}
	tests := []struct {
		name   string
		modify func(*Spec)
		want   string // error substring; "" = ok
	}{
		{"ok", func(*Spec) {}, ""},
		{"no resources", func(s *Spec) { s.ResourceIds = nil }, "ResourceIds: want at least one resource id (MissingParameter)"},
		{"bad type", func(s *Spec) { s.ResourceType = "Vpc" }, `ResourceType: want VPC, Subnet or NetworkInterface, got "Vpc" (InvalidParameterValue)`},
		{"bad traffic", func(s *Spec) { s.TrafficType = "ANY" }, `TrafficType: want ACCEPT, REJECT or ALL, got "ANY" (InvalidParameterValue)`},
		{"no traffic", func(s *Spec) { s.TrafficType = "" }, "(MissingParameter)"},
		{"interval", func(s *Spec) { s.MaxAggregationInterval = ptr(300) }, "MaxAggregationInterval: want 60 or 600, got 300 (InvalidParameterValue)"},
		{"AWSLogs prefix", func(s *Spec) { s.LogDestination = "arn:aws:s3:::bucket/x/AWSLogs/" }, "AWSLogs"},
		{"not an s3 arn", func(s *Spec) { s.LogDestination = "s3://bucket" }, "want arn:aws:s3:::BUCKET"},
		{"log group with s3", func(s *Spec) { s.LogGroupName = "g" }, "LogGroupName: not allowed with LogDestinationType s3 (InvalidParameter)"},
		{"cwl needs group", func(s *Spec) { s.LogDestinationType = "cloud-watch-logs"; s.LogDestination = "" }, "(InvalidParameter)"},
		{"cwl both", func(s *Spec) {
			s.LogDestinationType = "cloud-watch-logs"
			s.LogGroupName = "g"
			s.LogDestination = "arn:aws:logs:eu-west-1:1:log-group:g"
		}, "(InvalidParameterCombination)"},
		{"cwl arn", func(s *Spec) {
			s.LogDestinationType = "cloud-watch-logs"
			s.LogDestination = "arn:aws:logs:eu-west-1:111122223333:log-group:flows:*"
		}, ""},
		{"format trailing space", func(s *Spec) { s.LogFormat = "${srcaddr} " }, "(InvalidParameter)"},
		{"format unknown", func(s *Spec) { s.LogFormat = "${srcaddr} ${nope}" }, `unknown field: "nope"`},
		{"format tgw field", func(s *Spec) { s.LogFormat = "${tgw-id}" }, "only for transit gateway flow logs"},
		{"unknown vpc", func(s *Spec) { s.ResourceIds = []string{"vpc-404"} }, "(InvalidVpcID.NotFound)"},
		{"unknown eni", func(s *Spec) { s.ResourceType = "NetworkInterface"; s.ResourceIds = []string{"eni-404"} }, "(InvalidNetworkInterfaceID.NotFound)"},
		{"tag aws:", func(s *Spec) {
			s.TagSpecifications = []topology.TagSpecification{{ResourceType: "vpc-flow-log", Tags: []topology.Tag{{Key: "aws:x", Value: "y"}}}}
		}, "bad tag key"},
	}
	for _, tt := range tests {
		s := base()
		tt.modify(&s)
		fls, err := Build(topo, &s, "test.yaml:9: FlowLogs[0]")
		if tt.want == "" {
			if err != nil || len(fls) != 1 {
				t.Errorf("%s: %v", tt.name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "test.yaml:9: FlowLogs[0].") {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestBuildDefaultsAndCoverage(t *testing.T) {
	topo := load(t)
	s := Spec{ResourceIds: []string{"vpc-0f1e2d3c4b5a69788", "subnet-0123abcd4567ef890"}, ResourceType: "VPC", TrafficType: "REJECT",
		LogDestinationType: "s3", LogDestination: "arn:aws:s3:::bucket"}
	if _, err := Build(topo, &s, "x"); err == nil {
		t.Fatal("a subnet id under ResourceType VPC was accepted")
	}
	s.ResourceIds = s.ResourceIds[:1]
	fls, err := Build(topo, &s, "x")
	if err != nil {
		t.Fatal(err)
	}
	fl := fls[0]
	if fl.MaxAggregationInterval != 600 || fl.Format != record.DefaultFormat || fl.OwnerID != "111122223333" ||
		fl.Region != "eu-west-1" || fl.Bucket != "bucket" || fl.Prefix != "" || len(fl.ID) != 20 || !strings.HasPrefix(fl.ID, "fl-") {
		t.Errorf("defaults %+v", fl)
	}
	again, _ := Build(topo, &s, "x")
	if again[0].ID != fl.ID {
		t.Error("ids are not derived from the definition")
	}
	if enis := fl.ENIs(topo); len(enis) != 2 {
		t.Errorf("VPC flow log covers %d ENIs, want 2", len(enis))
	}
	nat := topo.ENIByID("eni-04d3c2b1a0f9e8d76")
	if fl.Interval(nat) != 60 || fl.Interval(topo.ENIByID("eni-0a1b2c3d4e5f60718")) != 600 {
		t.Error("Nitro ENIs are capped at 60 s")
	}
	if fl.Accepts(record.ActionAccept) || !fl.Accepts(record.ActionReject) || !fl.Accepts(record.ActionNone) {
		t.Error("REJECT traffic type filter")
	}
}

func key(src, dst string, dir record.Direction) flow.Key {
	s, d := netip.MustParseAddr(src), netip.MustParseAddr(dst)
	return flow.Key{Src: s.As16(), Dst: d.As16(), V4: s.Is4(), Dir: uint8(dir), Action: uint8(record.ActionAccept), Proto: 6}
}

type memDest struct{ lines []string }

func (m *memDest) Write(fl *FlowLog, r *record.Record) error {
	m.lines = append(m.lines, record.Text(fl.Format, r))
	return nil
}
func (m *memDest) Flush(*FlowLog, int64) error { return nil }
func (m *memDest) Close() error                { return nil }

// TestAddressesSecondaryIPAndNATGateway reproduces the examples of
// docs/aws-behaviour.md, "Addresses, NAT gateway and pkt-* fields": traffic
// to a secondary address, and the NAT gateway's four legs.
func TestAddressesSecondaryIPAndNATGateway(t *testing.T) {
	topo := load(t)
	inst, nat := topo.ENIByID("eni-0a1b2c3d4e5f60718"), topo.ENIByID("eni-04d3c2b1a0f9e8d76")
	fl := &FlowLog{ID: "fl-1", TrafficType: "ALL", MaxAggregationInterval: 60, OwnerID: "111122223333",
		Format: record.MustFormat("${instance-id} ${interface-id} ${srcaddr} ${dstaddr} ${pkt-srcaddr} ${pkt-dstaddr} ${flow-direction}")}
	d := &memDest{}
	fan := NewFanout([]Capture{{ENI: inst, Interval: 60, FlowLogs: []*FlowLog{fl}}, {ENI: nat, Interval: 60, FlowLogs: []*FlowLog{fl}}},
		func(*FlowLog) Destination { return d })
	mk := func(c uint32, k flow.Key) flow.Flow { k.Capture = c; return flow.Flow{Key: k, Packets: 1, Bytes: 40} }
	w := &flow.Window{Interval: 60, Start: 1700000040, Flows: flow.FlowsOf([]flow.Flow{
		mk(0, key("198.51.100.23", "10.1.2.16", record.Ingress)),
		mk(0, key("10.1.2.16", "198.51.100.23", record.Egress)),
		mk(1, key("10.1.3.25", "192.0.2.80", record.Ingress)),
		mk(1, key("10.1.0.50", "192.0.2.80", record.Egress)),
		mk(1, key("192.0.2.80", "10.1.0.50", record.Ingress)),
		mk(1, key("192.0.2.80", "10.1.3.25", record.Egress)),
	})}
	if err := fan.Window(w); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"i-0abc1234def567890 eni-0a1b2c3d4e5f60718 198.51.100.23 10.1.2.15 198.51.100.23 10.1.2.16 ingress",
		"i-0abc1234def567890 eni-0a1b2c3d4e5f60718 10.1.2.15 198.51.100.23 10.1.2.16 198.51.100.23 egress",
		"- eni-04d3c2b1a0f9e8d76 10.1.3.25 10.1.0.50 10.1.3.25 192.0.2.80 ingress",
		"- eni-04d3c2b1a0f9e8d76 10.1.0.50 192.0.2.80 10.1.0.50 192.0.2.80 egress",
		"- eni-04d3c2b1a0f9e8d76 192.0.2.80 10.1.0.50 192.0.2.80 10.1.0.50 ingress",
		"- eni-04d3c2b1a0f9e8d76 10.1.0.50 10.1.3.25 192.0.2.80 10.1.3.25 egress",
	}
	if strings.Join(d.lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(d.lines, "\n"), strings.Join(want, "\n"))
	}
}

func TestStatusRecordsAndFilter(t *testing.T) {
	topo := load(t)
	inst := topo.ENIByID("eni-0a1b2c3d4e5f60718")
	acc := &FlowLog{ID: "fl-a", TrafficType: "ACCEPT", MaxAggregationInterval: 60, Format: record.MustFormat(
		"${version} ${interface-id} ${vpc-id} ${subnet-id} ${instance-id} ${az-id} ${srcaddr} ${packets} ${start} ${end} ${action} ${tcp-flags} ${log-status}")}
	d := &memDest{}
	fan := NewFanout([]Capture{{ENI: inst, Interval: 60, FlowLogs: []*FlowLog{acc}}}, func(*FlowLog) Destination { return d })
	rej := key("203.0.113.77", "10.1.2.15", record.Ingress)
	rej.Action = uint8(record.ActionReject)
	ok := key("198.51.100.23", "10.1.2.15", record.Ingress)
	windows := []*flow.Window{
		{Interval: 60, Start: 1700000400}, // before any OK record: no NODATA
		{Interval: 60, Start: 1700000460, Flows: flow.FlowsOf([]flow.Flow{{Key: ok, Packets: 2, Start: 1700000461, End: 1700000470, TCPFlags: 18}, {Key: rej, Packets: 2}})},
		{Interval: 60, Start: 1700000520},
		{Interval: 60, Start: 1700000580, Flows: flow.FlowsOf([]flow.Flow{{Key: rej, Packets: 1, Start: 1700000590, End: 1700000590}}), Skipped: map[uint32]uint64{0: 7}},
		// packets lost before observation (a full capture ring): SKIPDATA, not NODATA
		{Interval: 60, Start: 1700000640, Lost: map[uint32]uint64{0: 3}},
	}
	for _, w := range windows {
		if err := fan.Window(w); err != nil {
			t.Fatal(err)
		}
	}
	// az-id makes it a version 4 format. Status records keep the interface
	// metadata ([Choice], docs/aws-behaviour.md, "NODATA and SKIPDATA") and
	// have action "-" so every traffic type gets them; the REJECT flows are
	// left out.
	want := []string{
		"4 eni-0a1b2c3d4e5f60718 vpc-0f1e2d3c4b5a69788 subnet-0123abcd4567ef890 i-0abc1234def567890 euw1-az2 198.51.100.23 2 1700000461 1700000470 ACCEPT 18 OK",
		"4 eni-0a1b2c3d4e5f60718 vpc-0f1e2d3c4b5a69788 subnet-0123abcd4567ef890 i-0abc1234def567890 euw1-az2 - - 1700000520 1700000580 - - NODATA",
		"4 eni-0a1b2c3d4e5f60718 vpc-0f1e2d3c4b5a69788 subnet-0123abcd4567ef890 i-0abc1234def567890 euw1-az2 - - 1700000580 1700000640 - - SKIPDATA",
		"4 eni-0a1b2c3d4e5f60718 vpc-0f1e2d3c4b5a69788 subnet-0123abcd4567ef890 i-0abc1234def567890 euw1-az2 - - 1700000640 1700000700 - - SKIPDATA",
	}
	if strings.Join(d.lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(d.lines, "\n"), strings.Join(want, "\n"))
	}
	if st := fan.Stats(); st.Filtered != 2 || st.NoData != 1 || st.SkipData != 2 || st.OK != 1 {
		t.Errorf("stats %+v", st)
	}
}

// TestFromTopologyEveryProblem: every problem of every entry, in line
// order, each at its key's line; errors.As still finds an *Error.
func TestFromTopologyEveryProblem(t *testing.T) {
	y := `Vpcs:
  - {VpcId: vpc-1, CidrBlock: 10.0.0.0/16}
FlowLogs:
  - ResourceIds: [vpc-1]
    ResourceType: VPC
    TrafficType: ALL
    LogDestinationType: s3
    LogDestination: arn:aws:s3:::b
    LogFormat: '${srcaddr} ${nope}'
  - ResourceIds: [vpc-9]
    ResourceType: VPC
    TrafficType: all
    MaxAggregationInterval: 30
    LogDestinationType: s3
    LogDestination: arn:aws:s3:::b
`
	topo, err := topology.Parse("t.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	_, err = FromTopology(topo)
	want := `t.yaml:9: FlowLogs[0].LogFormat: unknown field: "nope" at offset 11 (InvalidParameter)
t.yaml:10: FlowLogs[1].ResourceIds[0]: VPC "vpc-9" is not in the topology (InvalidVpcID.NotFound)
t.yaml:12: FlowLogs[1].TrafficType: want ACCEPT, REJECT or ALL (upper case), got "all" (InvalidParameterValue)
t.yaml:13: FlowLogs[1].MaxAggregationInterval: want 60 or 600, got 30 (InvalidParameterValue)`
	if err == nil || err.Error() != want {
		t.Fatalf("got\n%v\nwant\n%s", err, want)
	}
	var fe *Error
	if !errors.As(err, &fe) || fe.Line != 9 {
		t.Fatalf("errors.As: %v %+v", err, fe)
	}
}

// completeDest is a Completer that writes down what it is told.
type completeDest struct {
	memDest
	told []string
}

func (c *completeDest) Complete(before map[*FlowLog]int64) error {
	var parts []string
	for fl, b := range before {
		parts = append(parts, fmt.Sprintf("%s<%d", fl.ID, b))
	}
	sort.Strings(parts)
	c.told = append(c.told, strings.Join(parts, " "))
	return nil
}

// TestFanoutComplete: after every closed window, a Completer destination
// hears of every flow log, not only those of the window's interval, with
// the time before which no record of it will start: a 60 s flow log and a
// 600 s one (closed no window yet: -1).
func TestFanoutComplete(t *testing.T) {
	topo := load(t)
	inst, nat := topo.ENIByID("eni-0a1b2c3d4e5f60718"), topo.ENIByID("eni-04d3c2b1a0f9e8d76")
	fast := &FlowLog{ID: "fl-fast", TrafficType: "ALL", MaxAggregationInterval: 60, Format: record.DefaultFormat}
	slow := &FlowLog{ID: "fl-slow", TrafficType: "ALL", MaxAggregationInterval: 600, Format: record.DefaultFormat}
	d := &completeDest{}
	fan := NewFanout([]Capture{{ENI: inst, Interval: 60, FlowLogs: []*FlowLog{fast}}, {ENI: nat, Interval: 600, FlowLogs: []*FlowLog{slow}}},
		func(*FlowLog) Destination { return d })
	for _, w := range []*flow.Window{{Interval: 60, Start: 1700000400}, {Interval: 60, Start: 1700000940}, {Interval: 600, Start: 1700000400},
		{Interval: 60, Start: 1700001000}} {
		if err := fan.Window(w); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"fl-fast<1700000460 fl-slow<-1", "fl-fast<1700001000 fl-slow<-1", "fl-fast<1700001000 fl-slow<1700001000",
		"fl-fast<1700001060 fl-slow<1700001000"}
	if !reflect.DeepEqual(d.told, want) {
		t.Errorf("told %q, want %q", d.told, want)
	}
}

// TestRecordsDoNotInherit: the fan-out refills one record for every flow;
// what an earlier record had (traffic path, rule, a status record's
// absent fields) must not show in the next one.
func TestRecordsDoNotInherit(t *testing.T) {
	topo := load(t)
	inst := topo.ENIByID("eni-0a1b2c3d4e5f60718")
	fl := &FlowLog{ID: "fl-1", TrafficType: "ALL", MaxAggregationInterval: 60, Format: record.MustFormat(
		"${srcaddr} ${dstaddr} ${srcport} ${protocol} ${tcp-flags} ${flow-direction} ${traffic-path} ${x-rule} ${log-status}")}
	d := &memDest{}
	fan := NewFanout([]Capture{{ENI: inst, Interval: 60, FlowLogs: []*FlowLog{fl}}}, func(*FlowLog) Destination { return d })
	names := []string{"", "sg-0123/egress/0"}
	fan.SetRules(func() []string { return names })
	out := key("10.1.2.15", "198.51.100.23", record.Egress)
	out.SrcPort, out.TrafficPath, out.Rule = 40000, 8, 1
	in := key("198.51.100.23", "10.1.2.15", record.Ingress)
	in.Proto = 17
	// A rule named during the run (the third window's) is seen.
	named := in
	named.Rule = 2
	windows := []*flow.Window{
		{Interval: 60, Start: 1700000400, Flows: flow.FlowsOf([]flow.Flow{{Key: out, Packets: 1, TCPFlags: 2}, {Key: in, Packets: 1}})},
		{Interval: 60, Start: 1700000460},
		{Interval: 60, Start: 1700000520, Flows: flow.FlowsOf([]flow.Flow{{Key: in, Packets: 1}, {Key: named, Packets: 1}})},
	}
	for i, w := range windows {
		if i == 2 {
			names = append(names, "acl-0456/ingress/100")
		}
		if err := fan.Window(w); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{
		"10.1.2.15 198.51.100.23 40000 6 2 egress 8 sg-0123/egress/0 OK",
		"198.51.100.23 10.1.2.15 0 17 0 ingress - - OK",
		"- - - - - - - - NODATA",
		"198.51.100.23 10.1.2.15 0 17 0 ingress - - OK",
		"198.51.100.23 10.1.2.15 0 17 0 ingress - acl-0456/ingress/100 OK",
	}
	if strings.Join(d.lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(d.lines, "\n"), strings.Join(want, "\n"))
	}
}
