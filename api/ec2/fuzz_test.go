package ec2_test

import (
	"encoding/xml"
	"errors"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/vpcflow/vpcflow/api/ec2"
	"github.com/vpcflow/vpcflow/api/query"
	"github.com/vpcflow/vpcflow/flowlog"
	"github.com/vpcflow/vpcflow/logsvc"
	"github.com/vpcflow/vpcflow/netstate"
	"github.com/vpcflow/vpcflow/topology"
)

// memBackend keeps flow logs in memory, so the fuzzer spends its time in
// the handler rather than in fsync; the network is a real store (the
// actions that change it are the store's calls), set back to the topology
// file every resetEvery changes so that it does not grow without bound.
type memBackend struct {
	topo    *topology.Topology
	entries []flowlog.Entry

	mu      sync.Mutex
	net     *netstate.Store
	file    []byte
	changes int
}

const resetEvery = 50

func newMemBackend(tb testing.TB) *memBackend {
	tb.Helper()
	top, err := topology.Load(topoFile)
	if err != nil {
		tb.Fatal(err)
	}
	file, err := os.ReadFile(topoFile)
	if err != nil {
		tb.Fatal(err)
	}
	s, err := netstate.Open(filepath.Join(tb.TempDir(), "network.json"), netstate.Options{Account: account, Region: "us-east-1"})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	if err := s.Seed(topoFile, file); err != nil {
		tb.Fatal(err)
	}
	return &memBackend{topo: top, net: s, file: file}
}

func (m *memBackend) Network() *netstate.Store { return m.net }

func (m *memBackend) ChangeNetwork(change func(*netstate.Store) (int, error)) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.changes++; m.changes%resetEvery == 0 {
		if err := m.net.Replace(topoFile, m.file); err != nil {
			return 0, err
		}
	}
	return change(m.net)
}

func (m *memBackend) CreateFlowLogs(spec *flowlog.Spec, _ string) ([]*flowlog.Entry, []flowlog.Unsuccessful, error) {
	fls, err := flowlog.Build(m.topo, spec, "CreateFlowLogs")
	if err != nil {
		return nil, nil, err
	}
	var out []*flowlog.Entry
	for _, f := range fls {
		e := flowlog.Entry{FlowLog: f, Spec: *spec, CreationTime: t0, DeliverLogsStatus: flowlog.DeliverySuccess, FlowLogStatus: flowlog.FlowLogActive}
		if len(m.entries) < 50 {
			m.entries = append(m.entries, e)
		}
		out = append(out, &e)
	}
	return out, nil, nil
}

func (m *memBackend) DescribeFlowLogs(flowlog.Filter) ([]flowlog.Entry, error) { return m.entries, nil }

func (m *memBackend) DeleteFlowLogs(ids []string) ([]flowlog.Unsuccessful, error) {
	var out []flowlog.Unsuccessful
	for _, id := range ids {
		out = append(out, flowlog.Unsuccessful{ResourceID: id, Code: "InvalidFlowLogId.NotFound", Message: "The specified flow log does not exist."})
	}
	return out, nil
}

func (m *memBackend) Topology() (*topology.Topology, int) { return m.topo, 1 }

func (m *memBackend) Identity() logsvc.Identity {
	return logsvc.Identity{Account: account, Region: "us-east-1"}
}

// FuzzServe: whatever the form, the answer is a well-formed document with
// a client-error or success status, never a panic.
func FuzzServe(f *testing.F) {
	b := newMemBackend(f)
	for _, s := range []string{
		createForm(),
		"Action=DescribeFlowLogs&Version=2016-11-15&Filter.1.Name=tag%3Ateam&Filter.1.Value.1=n*t&MaxResults=1",
		"Action=DescribeVpcs&Version=2016-11-15&VpcId.1=vpc-0f1e2d3c4b5a69788&Filter.1.Name=cidr&Filter.1.Value.1=10.*&MaxResults=5",
		"Action=DescribeSubnets&Version=2016-11-15&Filter.1.Name=cidr-block&Filter.1.Value.1=%3F*%5C*&NextToken=djF8c3VibmV0c3xz",
		"Action=DescribeNetworkInterfaces&Version=2016-11-15&Filter.1.Name=private-ip-address&Filter.1.Value.1=10.0.0.1*",
		"Action=DescribeSecurityGroups&Version=2016-11-15&GroupName.1=web&Filter.1.Name=ip-permission.from-port&Filter.1.Value.1=22",
		"Action=DescribeNetworkAcls&Version=2016-11-15&Filter.1.Name=entry.icmp.type&Filter.1.Value.1=-1",
		"Action=DescribeRouteTables&Version=2016-11-15&Filter.1.Name=route.gateway-id&Filter.1.Value.1=local&MaxResults=100",
		"Action=DeleteFlowLogs&Version=2016-11-15&FlowLogId.1=fl-1&DryRun=false",
		// The actions that change the network, in the forms the AWS CLI
		// sends them.
		"Action=CreateVpc&Version=2016-11-15&CidrBlock=10.9.0.0%2F16&TagSpecification.1.ResourceType=vpc&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=v",
		"Action=CreateSubnet&Version=2016-11-15&AvailabilityZone=us-east-1b&CidrBlock=10.0.9.0%2F24&VpcId=" + vpcID,
		"Action=CreateSecurityGroup&Version=2016-11-15&GroupDescription=d+x&GroupName=g&VpcId=" + vpcID,
		"Action=DeleteSecurityGroup&Version=2016-11-15&GroupId=" + dbSG + "&DryRun=true",
		"Action=AuthorizeSecurityGroupIngress&Version=2016-11-15&GroupId=" + dbSG + "&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=22&IpPermissions.1.ToPort=22&IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0%2F0",
		"Action=AuthorizeSecurityGroupEgress&Version=2016-11-15&GroupId=" + dbSG + "&IpPermissions.1.IpProtocol=-1&IpPermissions.1.Groups.1.GroupId=" + appSG,
		"Action=AuthorizeSecurityGroupIngress&Version=2016-11-15&GroupId=" + dbSG + "&IpProtocol=udp&FromPort=53&ToPort=53&CidrIp=10.0.0.0%2F8",
		"Action=RevokeSecurityGroupIngress&Version=2016-11-15&GroupId=" + webSG + "&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=80&IpPermissions.1.ToPort=80&IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0%2F0",
		"Action=RevokeSecurityGroupEgress&Version=2016-11-15&GroupId=" + appSG + "&SecurityGroupRuleId.1=sgr-00000000000000001",
		"Action=DescribeSecurityGroupRules&Version=2016-11-15&Filter.1.Name=group-id&Filter.1.Value.1=" + webSG + "&MaxResults=5",
		"Action=CreateNetworkAcl&Version=2016-11-15&VpcId=" + vpcID,
		"Action=CreateNetworkAclEntry&Version=2016-11-15&CidrBlock=0.0.0.0%2F0&Egress=false&NetworkAclId=" + dbACL + "&PortRange.From=22&PortRange.To=22&Protocol=6&RuleAction=allow&RuleNumber=110",
		"Action=ReplaceNetworkAclEntry&Version=2016-11-15&Egress=true&Icmp.Type=-1&Icmp.Code=-1&Ipv6CidrBlock=%3A%3A%2F0&NetworkAclId=" + dbACL + "&Protocol=1&RuleAction=deny&RuleNumber=100",
		"Action=DeleteNetworkAclEntry&Version=2016-11-15&Egress=false&NetworkAclId=" + dbACL + "&RuleNumber=100",
		"Action=ReplaceNetworkAclAssociation&Version=2016-11-15&AssociationId=aclassoc-00000000000000001&NetworkAclId=" + defACL,
		"Action=CreateNetworkInterface&Version=2016-11-15&Description=hi&SecurityGroupId.1=" + appSG + "&PrivateIpAddress=10.0.1.9&SubnetId=" + appSubnet + "&ClientToken=t",
		"Action=DeleteNetworkInterface&Version=2016-11-15&NetworkInterfaceId=" + dbENI,
		"Action=CreateTags&Version=2016-11-15&ResourceId.1=" + vpcID + "&ResourceId.2=" + webSG + "&Tag.1.Key=a&Tag.1.Value=b&Tag.2.Key=c",
		"Action=DeleteTags&Version=2016-11-15&ResourceId.1=" + vpcID + "&Tag.1.Key=a&Tag.2.Key=c&Tag.2.Value=",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, form string) {
		h := ec2.New(b)
		w := httptest.NewRecorder()
		req, err := query.ParseForm(form)
		if err != nil {
			var e *query.Error
			if !errors.As(err, &e) {
				t.Fatalf("parse error %v", err)
			}
			ec2.WriteError(w, e.Status, e.Code, e.Message, "r")
		} else {
			h.Serve(w, req, "r")
		}
		switch w.Code {
		case 200, 400, 412:
		default:
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
		d := xml.NewDecoder(strings.NewReader(w.Body.String()))
		for {
			_, err := d.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("malformed document: %v\n%s", err, w.Body)
			}
		}
	})
}

func createForm() string {
	return form("Action", "CreateFlowLogs", "Version", "2016-11-15", "ResourceType", "Subnet", "ResourceId.1", pubSubnet,
		"TrafficType", "ALL", "LogDestinationType", "s3", "LogDestination", "arn:aws:s3:::b/p/", "MaxAggregationInterval", "60",
		"DestinationOptions.FileFormat", "parquet", "TagSpecification.1.ResourceType", "vpc-flow-log",
		"TagSpecification.1.Tag.1.Key", "team", "TagSpecification.1.Tag.1.Value", "net", "ClientToken", "t")
}
