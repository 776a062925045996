package ec2_test

import (
	"encoding/xml"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/vpcflow/vpcflow/api/ec2"
	"github.com/vpcflow/vpcflow/api/query"
	"github.com/vpcflow/vpcflow/flowlog"
	"github.com/vpcflow/vpcflow/logsvc"
	"github.com/vpcflow/vpcflow/topology"
)

// memBackend is an in-memory Backend, so the fuzzer spends its time in the
// handler rather than in fsync.
type memBackend struct {
	topo    *topology.Topology
	entries []flowlog.Entry
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
	top, err := topology.Load(topoFile)
	if err != nil {
		f.Fatal(err)
	}
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
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, form string) {
		h := ec2.New(&memBackend{topo: top})
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
