package flowlog

import (
	"github.com/vpcflow/vpcflow/topology"
	"path/filepath"
	"strings"
	"testing"
)

// A kinesis-data-firehose flow log takes a delivery stream's ARN, nothing
// else; its name is the stream's.
func TestFirehoseDestination(t *testing.T) {
	topo := load(t)
	base := func() Spec {
		return Spec{ResourceIds: []string{"vpc-0f1e2d3c4b5a69788"}, ResourceType: "VPC", TrafficType: "ALL",
			LogDestinationType: DestFirehose, LogDestination: "arn:aws:firehose:eu-west-1:111122223333:deliverystream/vpc-flows.1"}
	}
	s := base()
	fls, err := Build(topo, &s, "t")
	if err != nil || len(fls) != 1 || fls[0].DeliveryStream != "vpc-flows.1" || fls[0].LogDestination != s.LogDestination || fls[0].Bucket != "" {
		t.Fatalf("%+v, %v", fls, err)
	}
	for _, c := range []struct {
		modify func(*Spec)
		want   string
	}{
		{func(s *Spec) { s.LogDestination = "" }, `LogDestination: want arn:aws:firehose:REGION:ACCOUNT:deliverystream/NAME, got "" (InvalidParameter)`},
		{func(s *Spec) { s.LogDestination = "arn:aws:s3:::bucket" }, "want arn:aws:firehose:"},
		{func(s *Spec) { s.LogDestination = "arn:aws:firehose:eu-west-1:111122223333:stream/x" }, "want arn:aws:firehose:"},
		{func(s *Spec) { s.LogDestination = "arn:aws:firehose::111122223333:deliverystream/x" }, "want arn:aws:firehose:"},
		{func(s *Spec) { s.LogDestination = "arn:aws:firehose:eu-west-1:11112222333:deliverystream/x" }, `account "11112222333"`},
		{func(s *Spec) { s.LogDestination = "arn:aws:firehose:eu-west-1:111122223333:deliverystream/" }, `delivery stream name ""`},
		{func(s *Spec) { s.LogDestination = "arn:aws:firehose:eu-west-1:111122223333:deliverystream/a/b" }, `delivery stream name "a/b"`},
		{func(s *Spec) {
			s.LogDestination = "arn:aws:firehose:eu-west-1:111122223333:deliverystream/" + strings.Repeat("x", 65)
		}, "want 1 to 64"},
		{func(s *Spec) { s.LogGroupName = "g" }, "LogGroupName: not allowed with LogDestinationType kinesis-data-firehose"},
		{func(s *Spec) { s.DestinationOptions = &topology.DestinationOptions{FileFormat: "parquet"} }, "DestinationOptions: only allowed with LogDestinationType s3"},
	} {
		s := base()
		c.modify(&s)
		if _, err := Build(topo, &s, "t"); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", s.LogDestination, err, c.want)
		}
	}
}

func FuzzFirehoseStream(f *testing.F) {
	f.Add("arn:aws:firehose:eu-west-1:111122223333:deliverystream/x")
	f.Add("arn:aws:firehose:eu-west-1:1:deliverystream/")
	f.Fuzz(func(t *testing.T, arn string) {
		name, err := firehoseStream(arn)
		if err == nil && (name == "" || !strings.HasSuffix(arn, "deliverystream/"+name) || strings.Contains(name, "/")) {
			t.Errorf("%q gave %q", arn, name)
		}
	})
}

// Flow logs of one resource to two delivery streams are two flow logs;
// the same stream twice is FlowLogAlreadyExists.
func TestRegistryFirehoseStreams(t *testing.T) {
	r := openReg(t, filepath.Join(t.TempDir(), "f.json"), newClock())
	defer r.Close()
	topo := regTopo(t, regSeeds)
	spec := func(stream string) *Spec {
		s := s3Spec("VPC", "ALL", "", vpcID)
		s.LogDestinationType = DestFirehose
		s.LogDestination = "arn:aws:firehose:eu-west-1:111122223333:deliverystream/" + stream
		return s
	}
	for _, stream := range []string{"a", "b"} {
		if made, _, err := r.Create(topo, spec(stream), ""); err != nil || len(made) != 1 || made[0].FlowLog.DeliveryStream != stream {
			t.Fatalf("stream %s: %v, %v", stream, made, err)
		}
	}
	_, _, err := r.Create(topo, spec("a"), "")
	wantCode(t, err, "FlowLogAlreadyExists")
	if n := len(describe(t, r, Filter{})); n != 2 {
		t.Errorf("%d flow logs, want 2", n)
	}
}
