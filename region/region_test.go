package region

import (
	"bufio"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vpcflow/vpcflow/api/s3api"
	"github.com/vpcflow/vpcflow/flowlog"
	"github.com/vpcflow/vpcflow/internal/clock"
	"github.com/vpcflow/vpcflow/internal/e2e"
	"github.com/vpcflow/vpcflow/logstore"
	"github.com/vpcflow/vpcflow/logsvc"
	"github.com/vpcflow/vpcflow/metricfilter"
)

// t0 is a multiple of 600 s: 60 s windows start at t0 + k*60.
const t0 = 1700000400

const (
	eni    = "eni-0a1b2c3d4e5f60718" // the ping example's instance, 10.1.2.15
	eniMAC = e2e.PingENIMAC
)

// pingTopology is the ping example with two declared flow logs of its
// instance: one to S3 (bucket "flows"), one to CloudWatch Logs.
func pingTopology(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile("../examples/ping.yaml")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "topology.yaml")
	extra := `
FlowLogs:
  - ResourceIds: [` + eni + `]
    ResourceType: NetworkInterface
    TrafficType: ALL
    LogDestinationType: s3
    LogDestination: arn:aws:s3:::flows
    MaxAggregationInterval: 60
    LogFormat: '${srcaddr} ${dstaddr} ${packets} ${start} ${end} ${action} ${log-status}'
  - ResourceIds: [` + eni + `]
    ResourceType: NetworkInterface
    TrafficType: ACCEPT
    LogDestinationType: cloud-watch-logs
    LogGroupName: /vpc/flows
    MaxAggregationInterval: 60
    LogFormat: '${srcaddr} ${dstaddr} ${packets} ${start} ${end} ${action} ${log-status}'
`
	if err := os.WriteFile(path, append(src, extra...), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// echo is an ICMP echo request from the internet to the instance, sec
// seconds after the first packet: the ping example's security group
// allows it in.
func echo(sec int64) e2e.Packet {
	return e2e.Packet{Sec: t0 + sec, SrcMAC: e2e.RouterMAC, DstMAC: eniMAC, Src: "198.51.100.7", Dst: "10.1.2.15", Proto: "icmp", ICMPType: 8, Payload: 56}
}

type rig struct {
	dir, topo string
	clk       *clock.Fake
	r         *Region
}

// open starts a Region over the data dir, replaying pcap at speed 1 on
// the fake clock.
func (g *rig) open(t *testing.T, pcap string) {
	t.Helper()
	cfg := DefaultConfiguration()
	cfg.DataDir, cfg.TopologyFile, cfg.Speed = g.dir, g.topo, 1
	if pcap != "" {
		cfg.Replay = []string{pcap}
	}
	r, err := New(cfg, Dependencies{Clock: g.clk})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	g.r = r
	g.settle(t)
}

// bucket creates a bucket in the data dir, as CreateBucket (aws s3 mb)
// does: the service delivers only into buckets that exist.
func (g *rig) bucket(t *testing.T, name string) {
	t.Helper()
	if err := s3api.DirBuckets(filepath.Join(g.dir, BucketsDir)).Create(name); err != nil {
		t.Fatal(err)
	}
}

func (g *rig) settle(t *testing.T) {
	t.Helper()
	if !g.clk.WaitForTimer(5 * time.Second) {
		t.Fatal("the pipeline never waited on the clock")
	}
}

// to moves the clock to t0+sec a second at a time.
func (g *rig) to(t *testing.T, sec int64) {
	t.Helper()
	for g.clk.Now().Unix() < t0+sec {
		g.clk.Advance(time.Second)
		g.settle(t)
	}
}

// objects returns the record lines of every object in bucket, by object
// name, with the header checked and dropped; it waits (bounded) until at
// least want objects exist.
func objects(t *testing.T, dir string, want int) map[string][]string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		out := map[string][]string{}
		filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".log.gz") {
				return nil
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			zr, err := gzip.NewReader(f)
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			sc := bufio.NewScanner(zr)
			var lines []string
			for sc.Scan() {
				lines = append(lines, sc.Text())
			}
			if err := sc.Err(); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			if len(lines) == 0 || lines[0] != "srcaddr dstaddr packets start end action log-status" {
				t.Fatalf("%s: header %q", path, lines)
			}
			out[filepath.Base(path)] = lines[1:]
			return nil
		})
		if len(out) >= want || time.Now().After(deadline) {
			return out
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func allLines(objs map[string][]string) []string {
	var all []string
	for _, ls := range objs {
		all = append(all, ls...)
	}
	sort.Strings(all)
	return all
}

func events(t *testing.T, r *Region, group string) []string {
	t.Helper()
	var out []string
	err := r.Logs().Scan(group, 0, 1<<62, func(e logstore.Event) error {
		out = append(out, fmt.Sprintf("%s %d %s", e.Stream, e.Timestamp/1000, e.Message))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRegionLifecycle: the topology's flow logs are created at the first
// start; records are readable as each window closes on the clock; a flow
// log created mid-run starts at the next window and a deleted one stops;
// a restart keeps the flow logs (same ids and creation times) and what
// was delivered, and does not create the topology's flow logs twice.
func TestRegionLifecycle(t *testing.T) {
	g := &rig{dir: t.TempDir(), topo: pingTopology(t), clk: clock.NewFake(time.Unix(t0, 0))}
	g.bucket(t, "flows")
	g.bucket(t, "late")
	pcap := e2e.WritePcap(t, []e2e.Packet{echo(0), echo(10), echo(70), echo(130)})
	g.open(t, pcap)
	fls, err := g.r.DescribeFlowLogs(flowlog.Filter{})
	if err != nil || len(fls) != 2 {
		t.Fatalf("describe: %v, %d flow logs; want the 2 of the topology", err, len(fls))
	}
	g.to(t, 30)
	iv := 60
	created, bad, err := g.r.CreateFlowLogs(&flowlog.Spec{ResourceIds: []string{eni}, ResourceType: "NetworkInterface", TrafficType: "ALL",
		LogDestinationType: "s3", LogDestination: "arn:aws:s3:::late", MaxAggregationInterval: &iv,
		LogFormat: "${srcaddr} ${dstaddr} ${packets} ${start} ${end} ${action} ${log-status}"}, "")
	if err != nil || len(bad) > 0 || len(created) != 1 {
		t.Fatalf("create: %v %v %v", created, bad, err)
	}
	g.to(t, 60)
	w1 := fmt.Sprintf("198.51.100.7 10.1.2.15 2 %d %d ACCEPT OK", t0, t0+10)
	if got := allLines(objects(t, g.r.BucketDir("flows"), 1)); !slices.Equal(got, []string{w1}) {
		t.Fatalf("first window in S3: %q, want %q", got, w1)
	}
	g.to(t, 120)
	w2 := fmt.Sprintf("198.51.100.7 10.1.2.15 1 %d %d ACCEPT OK", t0+70, t0+70)
	if got := allLines(objects(t, g.r.BucketDir("late"), 1)); !slices.Equal(got, []string{w2}) {
		t.Fatalf("flow log created at t0+30: %q, want only the second window %q", got, w2)
	}
	if bad, err := g.r.DeleteFlowLogs([]string{created[0].FlowLog.ID}); err != nil || len(bad) > 0 {
		t.Fatalf("delete: %v %v", bad, err)
	}
	g.to(t, 180)
	w3 := fmt.Sprintf("198.51.100.7 10.1.2.15 1 %d %d ACCEPT OK", t0+130, t0+130)
	all := []string{w1, w2, w3}
	sort.Strings(all)
	if got := allLines(objects(t, g.r.BucketDir("flows"), 3)); !slices.Equal(got, all) {
		t.Fatalf("S3 flow log: %q", got)
	}
	if got := allLines(objects(t, g.r.BucketDir("late"), 1)); !slices.Equal(got, []string{w2}) {
		t.Fatalf("deleted flow log: %q, want only %q", got, w2)
	}
	// One event per record, stamped with the record's start.
	wantEvents := []string{eni + "-all " + fmt.Sprint(t0) + " " + w1, eni + "-all " + fmt.Sprint(t0+70) + " " + w2, eni + "-all " + fmt.Sprint(t0+130) + " " + w3}
	if got := events(t, g.r, "/vpc/flows"); !slices.Equal(got, wantEvents) {
		t.Fatalf("CloudWatch Logs events:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantEvents, "\n"))
	}
	// Three windows closed on the clock, each delivered at once (the fake
	// clock does not move while the pipeline works).
	if n := testutil.CollectAndCount(g.r.m.latency); n != 1 {
		t.Errorf("latency histogram: %d series", n)
	}
	if got := testutil.ToFloat64(g.r.m.windows); got != 3 {
		t.Errorf("windows delivered: %v, want 3", got)
	}
	created0 := fls
	if err := g.r.Stop(); err != nil {
		t.Fatal(err)
	}

	// Restart without sources: same flow logs, same data.
	g.open(t, "")
	defer g.r.Stop()
	fls, err = g.r.DescribeFlowLogs(flowlog.Filter{})
	if err != nil || len(fls) != 2 {
		t.Fatalf("after restart: %v, %d flow logs; want 2", err, len(fls))
	}
	for i := range fls {
		if fls[i].FlowLog.ID != created0[i].FlowLog.ID || !fls[i].CreationTime.Equal(created0[i].CreationTime) {
			t.Errorf("after restart: flow log %d is %s created %v, was %s created %v", i, fls[i].FlowLog.ID, fls[i].CreationTime,
				created0[i].FlowLog.ID, created0[i].CreationTime)
		}
	}
	if got := allLines(objects(t, g.r.BucketDir("flows"), 3)); !slices.Equal(got, all) {
		t.Fatalf("S3 after restart: %q", got)
	}
	if got := events(t, g.r, "/vpc/flows"); !slices.Equal(got, wantEvents) {
		t.Fatalf("events after restart: %q", got)
	}
}

// TestRegionTopologyChange: a security group rule removed while the
// service runs rejects new traffic from the next packet on, while the
// connection it already tracks goes on (AWS's connection tracking: ICMP is
// tracked per address pair).
func TestRegionTopologyChange(t *testing.T) {
	g := &rig{dir: t.TempDir(), topo: pingTopology(t), clk: clock.NewFake(time.Unix(t0, 0))}
	from := func(src string, sec int64) e2e.Packet {
		p := echo(sec)
		p.Src = src
		return p
	}
	// ICMP is tracked for 30 s after its last packet: 0, 25, then 50.
	pcap := e2e.WritePcap(t, []e2e.Packet{from("198.51.100.7", 0), from("198.51.100.7", 25), from("198.51.100.7", 50), from("198.51.100.8", 51)})
	g.bucket(t, "flows")
	g.open(t, pcap)
	defer g.r.Stop()
	g.to(t, 30)
	src, err := os.ReadFile(g.topo)
	if err != nil {
		t.Fatal(err)
	}
	// The group's only inbound rule (ICMP from anywhere) goes.
	text := strings.Replace(string(src), `    IpPermissions:
      - IpProtocol: icmp
        FromPort: -1
        ToPort: -1
        IpRanges: [{CidrIp: 0.0.0.0/0}]
`, "    IpPermissions: []\n", 1)
	if text == string(src) {
		t.Fatal("the ping example's rule was not found")
	}
	_, before := g.r.Topology()
	if err := os.WriteFile(g.topo, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	v, err := g.r.ReloadTopology()
	if err != nil || v <= before {
		t.Fatalf("reload: version %d (was %d), %v", v, before, err)
	}
	if _, now := g.r.Topology(); now != v {
		t.Errorf("topology version %d, want %d", now, v)
	}
	g.to(t, 60)
	want := []string{
		fmt.Sprintf("198.51.100.7 10.1.2.15 3 %d %d ACCEPT OK", t0, t0+50),
		fmt.Sprintf("198.51.100.8 10.1.2.15 1 %d %d REJECT OK", t0+51, t0+51),
	}
	if got := allLines(objects(t, g.r.BucketDir("flows"), 1)); !slices.Equal(got, want) {
		t.Fatalf("records:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	other := strings.Replace(text, `AccountId: "111122223333"`, `AccountId: "444455556666"`, 1)
	if err := os.WriteFile(g.topo, []byte(other), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := g.r.ReloadTopology(); err == nil || !strings.Contains(err.Error(), "444455556666") {
		t.Errorf("a topology of another account: %v", err)
	}
}

// windows waits (bounded) until n windows were delivered.
func (g *rig) windows(t *testing.T, n float64) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); testutil.ToFloat64(g.r.m.windows) < n; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%v windows delivered, want %v", testutil.ToFloat64(g.r.m.windows), n)
		}
	}
}

// status is a flow log's DeliverLogsStatus and DeliverLogsErrorMessage.
func status(t *testing.T, r *Region, id string) string {
	t.Helper()
	es, err := r.DescribeFlowLogs(flowlog.Filter{FlowLogIds: []string{id}})
	if err != nil || len(es) != 1 {
		t.Fatalf("describe %s: %v %d", id, err, len(es))
	}
	return strings.TrimSpace(es[0].DeliverLogsStatus + " " + es[0].DeliverLogsErrorMessage)
}

// TestRegionMissingBucket: a flow log to a bucket that does not exist is
// created, and each window with records marks it FAILED with AWS's
// "Access error" (the delivery may not write to the destination); its
// records are counted as undeliverable and no directory is made. Once the
// bucket is created (aws s3 mb), the next window is delivered and the flow
// log is SUCCESS again; once it is deleted, FAILED again. The other flow
// logs go on.
func TestRegionMissingBucket(t *testing.T) {
	g := &rig{dir: t.TempDir(), topo: pingTopology(t), clk: clock.NewFake(time.Unix(t0, 0))}
	other := echo(131)
	other.Src = "198.51.100.8"
	pcap := e2e.WritePcap(t, []e2e.Packet{echo(0), echo(10), echo(70), echo(130), other})
	g.open(t, pcap)
	defer g.r.Stop()
	fls, err := g.r.DescribeFlowLogs(flowlog.Filter{Filters: []flowlog.FilterTerm{{Name: "log-destination-type", Values: []string{"s3"}}}})
	if err != nil || len(fls) != 1 {
		t.Fatalf("describe: %v %d", err, len(fls))
	}
	id := fls[0].FlowLog.ID
	bucket := g.r.BucketDir("flows")
	if got := status(t, g.r, id); got != "SUCCESS" {
		t.Errorf("at creation: %q, want SUCCESS (nothing delivered yet)", got)
	}
	undeliverable := func(want float64) {
		t.Helper()
		exp := fmt.Sprintf(`# HELP vpcflow_records_undeliverable_total Flow-log records their destination refused (a bucket that does not exist, a role that may not write to the log group): not delivered; the flow log is FAILED for those windows.
# TYPE vpcflow_records_undeliverable_total counter
vpcflow_records_undeliverable_total{flow_log_id="%s"} %v
`, id, want)
		if err := testutil.CollectAndCompare(g.r.m, strings.NewReader(exp), "vpcflow_records_undeliverable_total"); err != nil {
			t.Error(err)
		}
		if h := g.r.Health(); h.Undeliverable != uint64(want) {
			t.Errorf("health: %d undeliverable, want %v", h.Undeliverable, want)
		}
	}

	// Window 1 (one record): refused.
	g.to(t, 60)
	g.windows(t, 1)
	w1 := fmt.Sprintf("198.51.100.7 10.1.2.15 2 %d %d ACCEPT OK", t0, t0+10)
	if got := status(t, g.r, id); got != "FAILED Access error" {
		t.Errorf("after a window to a missing bucket: %q, want FAILED Access error", got)
	}
	if _, err := os.Stat(bucket); !os.IsNotExist(err) {
		t.Errorf("the bucket's directory was made: %v", err)
	}
	undeliverable(1)
	if got := testutil.ToFloat64(g.r.m.deliveryErrors.WithLabelValues(id)); got != 1 {
		t.Errorf("delivery errors %v, want 1", got)
	}
	// The CloudWatch Logs flow log of the same interface got it.
	if got := events(t, g.r, "/vpc/flows"); len(got) != 1 || !strings.HasSuffix(got[0], w1) {
		t.Errorf("CloudWatch Logs events %q, want the first window's", got)
	}

	// The bucket is created: window 2 is delivered, the flow log recovers.
	g.bucket(t, "flows")
	g.to(t, 120)
	g.windows(t, 2)
	w2 := fmt.Sprintf("198.51.100.7 10.1.2.15 1 %d %d ACCEPT OK", t0+70, t0+70)
	if got := allLines(objects(t, bucket, 1)); !slices.Equal(got, []string{w2}) {
		t.Fatalf("after the bucket was created: %q, want only window 2 %q", got, w2)
	}
	if got := status(t, g.r, id); got != "SUCCESS" {
		t.Errorf("after a window delivered in full: %q, want SUCCESS", got)
	}
	undeliverable(1)

	// The bucket is emptied and deleted (aws s3 rb --force): window 3
	// (two records) is refused, and the directory is not made again.
	filepath.WalkDir(bucket, func(path string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(path, ".log.gz") {
			err = os.Remove(path)
		}
		return err
	})
	if err := s3api.DirBuckets(filepath.Join(g.dir, BucketsDir)).Delete("flows"); err != nil {
		t.Fatalf("deleting the emptied bucket: %v", err)
	}
	g.to(t, 180)
	g.windows(t, 3)
	if got := status(t, g.r, id); got != "FAILED Access error" {
		t.Errorf("after the bucket was deleted: %q, want FAILED Access error", got)
	}
	if _, err := os.Stat(bucket); !os.IsNotExist(err) {
		t.Errorf("the bucket's directory was made again: %v", err)
	}
	undeliverable(3)
	// Delivered: window 2 to S3 (one record), windows 1 to 3 to CloudWatch
	// Logs (one, one, two).
	if h := g.r.Health(); h.Records != 1+4 {
		t.Errorf("health: %d records delivered, want 5", h.Records)
	}
}

// TestRegionMissingBucketRestart: a flow log left FAILED by a run whose
// bucket was missing recovers in a later run once the bucket exists.
func TestRegionMissingBucketRestart(t *testing.T) {
	g := &rig{dir: t.TempDir(), topo: pingTopology(t), clk: clock.NewFake(time.Unix(t0, 0))}
	pcap := e2e.WritePcap(t, []e2e.Packet{echo(0)})
	g.open(t, pcap)
	fls, err := g.r.DescribeFlowLogs(flowlog.Filter{Filters: []flowlog.FilterTerm{{Name: "log-destination-type", Values: []string{"s3"}}}})
	if err != nil || len(fls) != 1 {
		t.Fatalf("describe: %v %d", err, len(fls))
	}
	id := fls[0].FlowLog.ID
	g.to(t, 60)
	g.windows(t, 1)
	if got := status(t, g.r, id); got != "FAILED Access error" {
		t.Fatalf("without the bucket: %q", got)
	}
	if err := g.r.Stop(); err != nil {
		t.Fatal(err)
	}
	g.bucket(t, "flows")
	// The same capture again, released on the clock from t0+60.
	g.open(t, pcap)
	defer g.r.Stop()
	if got := status(t, g.r, id); got != "FAILED Access error" {
		t.Errorf("after the restart, before a window: %q, want FAILED still", got)
	}
	g.to(t, 120)
	g.windows(t, 1)
	if got := allLines(objects(t, g.r.BucketDir("flows"), 1)); len(got) != 1 {
		t.Fatalf("objects after the restart: %q", got)
	}
	if got := status(t, g.r, id); got != "SUCCESS" {
		t.Errorf("after a window delivered in full: %q, want SUCCESS", got)
	}
}

// TestRegionAlarmsOnClock: an alarm on a metric filter of the flow-log
// group is judged as windows close on the clock, not only when a later
// event arrives: ALARM once the window holding the pings is delivered,
// then INSUFFICIENT_DATA when the next window passes without records
// (TreatMissingData missing), with no event to move event time.
func TestRegionAlarmsOnClock(t *testing.T) {
	g := &rig{dir: t.TempDir(), topo: pingTopology(t), clk: clock.NewFake(time.Unix(t0, 0))}
	g.bucket(t, "flows")
	g.open(t, e2e.WritePcap(t, []e2e.Packet{echo(0), echo(10)}))
	defer g.r.Stop()
	logs := g.r.Logs()
	if err := logs.CreateLogGroup("/vpc/flows", logstore.GroupOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := logs.PutMetricFilter(metricfilter.Definition{FilterName: "accepts", LogGroupName: "/vpc/flows",
		FilterPattern:         `[src, dst, packets, start, end, action="ACCEPT", status]`,
		MetricTransformations: []metricfilter.Transformation{{MetricName: "Accepts", MetricNamespace: "VPC", MetricValue: "1"}}}); err != nil {
		t.Fatal(err)
	}
	if err := logs.PutMetricAlarm(metricfilter.Alarm{AlarmName: "accepts", Namespace: "VPC", MetricName: "Accepts", Statistic: "Sum",
		Period: 60, EvaluationPeriods: 1, Threshold: 1, ComparisonOperator: "GreaterThanOrEqualToThreshold"}); err != nil {
		t.Fatal(err)
	}
	state := func() string {
		evs := logs.Alarms(logsvc.AlarmFilter{Names: []string{"accepts"}})
		if len(evs) != 1 {
			t.Fatalf("alarms: %+v", evs)
		}
		return evs[0].State
	}
	g.to(t, 59)
	if s := state(); s != metricfilter.StateInsufficientData {
		t.Fatalf("before the first window closes: %s", s)
	}
	g.to(t, 60)
	g.windows(t, 1)
	if s := state(); s != metricfilter.StateAlarm {
		t.Fatalf("after the window with two pings (one record) closed: %s, want ALARM", s)
	}
	g.to(t, 120)
	g.windows(t, 2)
	if s := state(); s != metricfilter.StateInsufficientData {
		t.Fatalf("after a window without records: %s, want INSUFFICIENT_DATA", s)
	}
}
