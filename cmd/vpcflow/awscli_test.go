package main

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vpcflow/vpcflow/internal/e2e"
)

// awsCLI is Debian's awscli: another aws may come first in PATH.
const awsCLI = "/usr/bin/aws"

// The access key the tests give serve and awscli alike.
const (
	testKeyID  = "AKIAVPCFLOWTEST00001"
	testSecret = "vpcflowTestSecretKey0000000000000000000a"
)

// aws runs awscli against a serve process and returns stdout, stderr and
// the exit status.
func aws(t *testing.T, p *serveProc, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(awsCLI, append([]string{"--endpoint-url", "http://" + p.addr, "--region", "eu-west-1", "--output", "json"}, args...)...)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+testKeyID, "AWS_SECRET_ACCESS_KEY="+testSecret,
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=")
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// awsOK runs awscli and decodes its JSON output into v (when not nil).
func awsOK(t *testing.T, p *serveProc, v any, args ...string) {
	t.Helper()
	out, errOut, code := aws(t, p, args...)
	if code != 0 {
		t.Fatalf("aws %s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
	if v != nil {
		if err := json.Unmarshal([]byte(out), v); err != nil {
			t.Fatalf("aws %s: %v in %q", strings.Join(args, " "), err, out)
		}
	}
}

// The test network: one instance behind a security group that allows
// nothing in, in a subnet without a network ACL (the VPC's default allows
// all), so the security group alone decides.
const awsTopology = `AccountId: "111122223333"
Region: eu-west-1
Vpcs: [{VpcId: vpc-0a1b2c3d4e5f60001, CidrBlock: 10.1.0.0/16}]
Subnets: [{SubnetId: subnet-0a1b2c3d4e5f60002, VpcId: vpc-0a1b2c3d4e5f60001, CidrBlock: 10.1.2.0/24, AvailabilityZone: eu-west-1b}]
NetworkInterfaces:
  - NetworkInterfaceId: eni-0a1b2c3d4e5f60718
    SubnetId: subnet-0a1b2c3d4e5f60002
    MacAddress: 0a:1b:2c:3d:4e:5f
    PrivateIpAddress: 10.1.2.15
    Groups: [{GroupId: sg-0a1b2c3d4e5f60003}]
SecurityGroups:
  - {GroupId: sg-0a1b2c3d4e5f60003, GroupName: ssh, VpcId: vpc-0a1b2c3d4e5f60001, IpPermissions: []}
`

const (
	trustPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"vpc-flow-logs.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	ec2Trust    = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	logsPolicy  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:CreateLogGroup","logs:CreateLogStream","logs:PutLogEvents","logs:DescribeLogGroups","logs:DescribeLogStreams"],"Resource":"*"}]}`
)

// s3Records reads the records of a bucket directory: every line of every
// object but the headers, split into fields.
func s3Records(t *testing.T, dir string) [][]string {
	t.Helper()
	var out [][]string
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
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
			t.Fatal(err)
		}
		sc := bufio.NewScanner(zr)
		for first := true; sc.Scan(); first = false {
			if !first {
				out = append(out, strings.Fields(sc.Text()))
			}
		}
		return nil
	})
	return out
}

// sshActions returns the actions of the OK records to port 22 whose window
// starts at or after from (Unix seconds).
func sshActions(recs [][]string, from int64) map[string]int {
	n := map[string]int{}
	for _, r := range recs {
		var start int64
		if len(r) != 14 || r[6] != "22" || r[13] != "OK" {
			continue
		}
		fmt.Sscan(r[10], &start)
		if start >= from {
			n[r[12]]++
		}
	}
	return n
}

type flowLogsOut struct {
	FlowLogs []struct {
		FlowLogID, ResourceID, TrafficType, LogGroupName, LogDestinationType, LogDestination string
		DeliverLogsPermissionArn, DeliverLogsStatus, DeliverLogsErrorMessage, FlowLogStatus  string
		MaxAggregationInterval                                                               int
	}
}

// TestAWSCLIFlowLogs is the seeds' exercise, through the real awscli
// against the real binary: a role for the flow-logs service, flow logs on
// a subnet (CloudWatch Logs) and on the VPC (S3), a security group that
// rejects ssh until a rule is authorized (REJECT, then ACCEPT in the next
// window), a role the service cannot assume (refused), a role without
// permissions (FAILED "Access error" until put-role-policy fixes it), and
// delete-flow-logs stopping records. It waits for two windows on the wall
// clock (up to three minutes) and runs beside the other tests.
func TestAWSCLIFlowLogs(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for two capture windows on the wall clock")
	}
	if _, err := os.Stat(awsCLI); err != nil {
		t.Skip("awscli is not installed at /usr/bin/aws (.ci/run installs it)")
	}
	t.Parallel()
	dir := t.TempDir()
	topo := filepath.Join(dir, "topology.yaml")
	if err := os.WriteFile(topo, []byte(awsTopology), 0o644); err != nil {
		t.Fatal(err)
	}
	// ssh attempts every 2 s for 30 s, replayed in a loop on the clock.
	var pkts []e2e.Packet
	for i := int64(0); i < 15; i++ {
		pkts = append(pkts, e2e.Packet{Sec: 1700000000 + 2*i, SrcMAC: e2e.RouterMAC, DstMAC: e2e.PingENIMAC,
			Src: "198.51.100.7", Dst: "10.1.2.15", Proto: "tcp", SrcPort: uint16(40000 + i), DstPort: 22, SYN: true})
	}
	capture := e2e.WritePcap(t, pkts)
	data := filepath.Join(dir, "data")
	p := startServeEnv(t, []string{"AWS_ACCESS_KEY_ID=" + testKeyID, "AWS_SECRET_ACCESS_KEY=" + testSecret},
		"--data-dir", data, "--topology", topo, "--replay", capture, "--speed", "1", "--loop")

	var role struct {
		Role struct{ Arn, RoleName, Path string }
	}
	awsOK(t, p, &role, "iam", "create-role", "--role-name", "flowlogs", "--assume-role-policy-document", trustPolicy)
	if role.Role.Arn != "arn:aws:iam::111122223333:role/flowlogs" || role.Role.Path != "/" {
		t.Fatalf("create-role: %+v", role.Role)
	}
	awsOK(t, p, nil, "iam", "put-role-policy", "--role-name", "flowlogs", "--policy-name", "logs", "--policy-document", logsPolicy)
	awsOK(t, p, nil, "iam", "create-role", "--role-name", "ec2only", "--assume-role-policy-document", ec2Trust)
	awsOK(t, p, nil, "iam", "create-role", "--role-name", "noperm", "--assume-role-policy-document", trustPolicy)

	_, errOut, code := aws(t, p, "ec2", "create-flow-logs", "--resource-type", "Subnet", "--resource-ids", "subnet-0a1b2c3d4e5f60002",
		"--traffic-type", "ALL", "--log-group-name", "/vpc/x", "--deliver-logs-permission-arn", "arn:aws:iam::111122223333:role/ec2only")
	if code != 254 || !strings.Contains(errOut, "An error occurred (InvalidParameter) when calling the CreateFlowLogs operation: Unable to assume given IAM role: 'arn:aws:iam::111122223333:role/ec2only'") {
		t.Errorf("a role the flow-logs service cannot assume: exit %d, %s", code, errOut)
	}

	// What the seeds do before the traffic: the bucket, the log group with
	// a metric filter on rejected ssh, an alarm on its metric.
	awsOK(t, p, nil, "s3", "mb", "s3://flows")
	awsOK(t, p, nil, "s3", "mb", "s3://deleted")
	awsOK(t, p, nil, "logs", "create-log-group", "--log-group-name", "/vpc/flows")
	awsOK(t, p, nil, "logs", "put-metric-filter", "--log-group-name", "/vpc/flows", "--filter-name", "ssh-rejects",
		"--filter-pattern", sshRejectPattern,
		"--metric-transformations", "metricName=SSHRejects,metricNamespace=VPCFlow,metricValue=1")
	awsOK(t, p, nil, "cloudwatch", "put-metric-alarm", "--alarm-name", "ssh-rejects", "--namespace", "VPCFlow",
		"--metric-name", "SSHRejects", "--statistic", "Sum", "--period", "60", "--evaluation-periods", "1",
		"--threshold", "1", "--comparison-operator", "GreaterThanOrEqualToThreshold",
		"--alarm-actions", "arn:aws:sns:eu-west-1:111122223333:ops")

	type created struct{ FlowLogIds []string }
	create := func(args ...string) string {
		t.Helper()
		var c created
		awsOK(t, p, &c, append([]string{"ec2", "create-flow-logs", "--traffic-type", "ALL", "--max-aggregation-interval", "60"}, args...)...)
		if len(c.FlowLogIds) != 1 {
			t.Fatalf("create-flow-logs %v: %+v", args, c)
		}
		return c.FlowLogIds[0]
	}
	subnetFL := create("--resource-type", "Subnet", "--resource-ids", "subnet-0a1b2c3d4e5f60002",
		"--log-group-name", "/vpc/flows", "--deliver-logs-permission-arn", "arn:aws:iam::111122223333:role/flowlogs")
	vpcFL := create("--resource-type", "VPC", "--resource-ids", "vpc-0a1b2c3d4e5f60001",
		"--log-destination-type", "s3", "--log-destination", "arn:aws:s3:::flows")
	nopermFL := create("--resource-type", "NetworkInterface", "--resource-ids", "eni-0a1b2c3d4e5f60718",
		"--log-group-name", "/vpc/noperm", "--deliver-logs-permission-arn", "arn:aws:iam::111122223333:role/noperm")
	deletedFL := create("--resource-type", "NetworkInterface", "--resource-ids", "eni-0a1b2c3d4e5f60718",
		"--log-destination-type", "s3", "--log-destination", "arn:aws:s3:::deleted")
	created0 := time.Now().Unix()

	var d flowLogsOut
	awsOK(t, p, &d, "ec2", "describe-flow-logs", "--filter", "Name=resource-id,Values=subnet-0a1b2c3d4e5f60002")
	if len(d.FlowLogs) != 1 {
		t.Fatalf("describe by resource-id: %+v", d)
	}
	if f := d.FlowLogs[0]; f.FlowLogID != subnetFL || f.TrafficType != "ALL" || f.LogGroupName != "/vpc/flows" ||
		f.LogDestinationType != "cloud-watch-logs" || f.LogDestination != "arn:aws:logs:eu-west-1:111122223333:log-group:/vpc/flows" ||
		f.DeliverLogsPermissionArn != "arn:aws:iam::111122223333:role/flowlogs" || f.DeliverLogsStatus != "SUCCESS" ||
		f.FlowLogStatus != "ACTIVE" || f.MaxAggregationInterval != 60 {
		t.Errorf("describe-flow-logs: %+v", f)
	}

	// The first window after the flow logs were created (they start at
	// the next window boundary) closes on the clock: ssh is rejected.
	w1 := (created0/60 + 1) * 60
	flows := filepath.Join(data, "buckets", "flows")
	n := waitRecords(t, w1+60, "the first window", func() map[string]int { return sshActions(s3Records(t, flows), w1) })
	if n["REJECT"] == 0 || n["ACCEPT"] != 0 {
		t.Fatalf("first window: ssh records %v, want REJECT only\nserve: %s", n, p.log())
	}
	checkAlarm(t, p, "ALARM")
	awsOK(t, p, &d, "ec2", "describe-flow-logs", "--filter", "Name=deliver-log-status,Values=FAILED")
	if len(d.FlowLogs) != 1 || d.FlowLogs[0].FlowLogID != nopermFL || d.FlowLogs[0].DeliverLogsErrorMessage != "Access error" {
		t.Fatalf("a role without permissions: %+v, want %s FAILED with Access error", d, nopermFL)
	}

	// Fix the rule and the role, delete a flow log: from the next window
	// on, ssh is accepted, the role delivers, the deleted log gets nothing.
	awsOK(t, p, nil, "ec2", "authorize-security-group-ingress", "--group-id", "sg-0a1b2c3d4e5f60003", "--protocol", "tcp", "--port", "22", "--cidr", "0.0.0.0/0")
	awsOK(t, p, nil, "iam", "put-role-policy", "--role-name", "noperm", "--policy-name", "logs", "--policy-document", logsPolicy)
	var del struct{ Unsuccessful []any }
	awsOK(t, p, &del, "ec2", "delete-flow-logs", "--flow-log-ids", deletedFL)
	if len(del.Unsuccessful) != 0 {
		t.Errorf("delete-flow-logs: %+v", del)
	}
	deletedRecs := len(s3Records(t, filepath.Join(data, "buckets", "deleted")))
	changed := time.Now().Unix()
	w2 := (changed/60 + 1) * 60
	n = waitRecords(t, w2+60, "the window after the changes", func() map[string]int { return sshActions(s3Records(t, flows), w2) })
	if n["ACCEPT"] == 0 || n["REJECT"] != 0 {
		t.Errorf("after authorize-security-group-ingress: ssh records %v, want ACCEPT only", n)
	}
	if n := len(s3Records(t, filepath.Join(data, "buckets", "deleted"))); n != deletedRecs {
		t.Errorf("the deleted flow log got %d more records", n-deletedRecs)
	}
	awsOK(t, p, &d, "ec2", "describe-flow-logs", "--flow-log-ids", nopermFL)
	if len(d.FlowLogs) != 1 || d.FlowLogs[0].DeliverLogsStatus != "SUCCESS" {
		t.Errorf("after put-role-policy: %+v, want SUCCESS", d)
	}
	awsOK(t, p, &d, "ec2", "describe-flow-logs")
	if len(d.FlowLogs) != 3 {
		t.Errorf("describe-flow-logs after a delete: %d flow logs, want 3", len(d.FlowLogs))
	}
	for _, f := range d.FlowLogs {
		if f.FlowLogID == deletedFL {
			t.Errorf("deleted flow log still described")
		}
	}
	_ = vpcFL
	// What was delivered, read where AWS users read it: the bucket and the
	// log group, over the API.
	out, errOut, code := aws(t, p, "s3", "ls", "--recursive", "s3://flows/")
	if code != 0 || !strings.Contains(out, "AWSLogs/111122223333/vpcflowlogs/eu-west-1/") || !strings.Contains(out, ".log.gz") {
		t.Errorf("aws s3 ls: %d %s %s", code, out, errOut)
	}
	checkBucketDownloads(t, p, flows)
	checkLogsReads(t, p)
	p.stop(t)

	// The offline CLI answers as awscli did, from the same data dir.
	out, errOut, code = runBinary(t, nil, "ec2", "describe-flow-logs", "--data-dir", data, "--flow-log-ids", subnetFL)
	if code != 0 || !strings.Contains(out, `"FlowLogId": "`+subnetFL+`"`) {
		t.Errorf("vpcflow ec2 describe-flow-logs: %d %s %s", code, out, errOut)
	}
	// The CloudWatch Logs side: events in both groups; the fixed role's
	// group only from the window after the fix.
	for _, g := range []string{"/vpc/flows", "/vpc/noperm"} {
		out, errOut, code := runBinary(t, nil, "logs", "filter", "--data-dir", data, "--group", g, "--output", "json")
		if code != 0 {
			t.Errorf("logs filter %s: %d %s", g, code, errOut)
			continue
		}
		var res struct{ Events []struct{ Timestamp int64 } }
		json.Unmarshal([]byte(out), &res)
		if len(res.Events) == 0 {
			t.Errorf("group %s has no events", g)
		}
		for _, e := range res.Events {
			if g == "/vpc/noperm" && e.Timestamp/1000 < w2-60 {
				t.Errorf("group %s has an event of %d, before the role was fixed", g, e.Timestamp/1000)
			}
		}
	}
}

// waitRecords sleeps until the window ending at end has closed on the wall
// clock, then polls count until it finds records (delivery takes
// milliseconds, but a loaded machine may be slower), for at most 30 s.
func waitRecords(t *testing.T, end int64, what string, count func() map[string]int) map[string]int {
	t.Helper()
	if d := time.Until(time.Unix(end, 0)); d > 0 {
		t.Logf("waiting %v for %s to close", d.Round(time.Second), what)
		time.Sleep(d)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		n := count()
		if len(n) > 0 || time.Now().After(deadline) {
			return n
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// sshRejectPattern is the seeds' space-delimited filter pattern for
// rejected ssh over TCP in default-format records.
const sshRejectPattern = `[version, account, eni, source, destination, srcport, destport="22", protocol="6", packets, bytes, windowstart, windowend, action="REJECT", flowlogstatus]`

// checkAlarm polls describe-alarms (up to 90 s: the alarm's period is
// evaluated once its minute has passed) until the ssh alarm is in state,
// then checks the history names the change.
func checkAlarm(t *testing.T, p *serveProc, state string) {
	t.Helper()
	var al struct {
		MetricAlarms []struct {
			AlarmName, StateValue, StateReason string
			AlarmActions                       []string
		}
	}
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(time.Second) {
		awsOK(t, p, &al, "cloudwatch", "describe-alarms", "--alarm-names", "ssh-rejects")
		if len(al.MetricAlarms) == 1 && al.MetricAlarms[0].StateValue == state || time.Now().After(deadline) {
			break
		}
	}
	if len(al.MetricAlarms) != 1 || al.MetricAlarms[0].StateValue != state {
		t.Fatalf("describe-alarms: %+v, want ssh-rejects in %s\nserve: %s", al, state, p.log())
	}
	var h struct {
		AlarmHistoryItems []struct{ AlarmName, HistoryItemType, HistorySummary string }
	}
	awsOK(t, p, &h, "cloudwatch", "describe-alarm-history", "--alarm-name", "ssh-rejects", "--history-item-type", "StateUpdate")
	want := "Alarm updated from INSUFFICIENT_DATA to " + state
	if len(h.AlarmHistoryItems) == 0 || h.AlarmHistoryItems[0].HistorySummary != want {
		t.Errorf("describe-alarm-history: %+v, want the newest item %q", h, want)
	}
}

// checkBucketDownloads fetches the bucket as users do: s3 cp of one object
// and s3 sync of the whole bucket give the delivered bytes.
func checkBucketDownloads(t *testing.T, p *serveProc, bucketDir string) {
	t.Helper()
	var keys []string
	filepath.WalkDir(bucketDir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(bucketDir, path)
			keys = append(keys, filepath.ToSlash(rel))
		}
		return nil
	})
	if len(keys) == 0 {
		t.Fatal("the bucket holds no objects")
	}
	dst := t.TempDir()
	awsOK(t, p, nil, "s3", "cp", "s3://flows/"+keys[0], filepath.Join(dst, "one.log.gz"))
	sameFile(t, filepath.Join(bucketDir, keys[0]), filepath.Join(dst, "one.log.gz"))
	synced := filepath.Join(dst, "sync")
	awsOK(t, p, nil, "s3", "sync", "s3://flows", synced)
	for _, k := range keys {
		sameFile(t, filepath.Join(bucketDir, k), filepath.Join(synced, k))
	}
}

func sameFile(t *testing.T, want, got string) {
	t.Helper()
	a, err := os.ReadFile(want)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(got)
	if err != nil {
		t.Errorf("downloaded object: %v", err)
		return
	}
	if string(a) != string(b) {
		t.Errorf("%s: %d bytes downloaded differ from the %d bytes delivered", got, len(b), len(a))
	}
}

// checkLogsReads reads the flow-log group through the CloudWatch Logs API
// as the seeds do: groups, the one stream per ENI, a space-delimited
// filter pattern, an Insights query, and logs tail.
func checkLogsReads(t *testing.T, p *serveProc) {
	t.Helper()
	var groups struct {
		LogGroups []struct{ LogGroupName string }
	}
	awsOK(t, p, &groups, "logs", "describe-log-groups", "--log-group-name-prefix", "/vpc/")
	if fmt.Sprint(groups.LogGroups) != "[{/vpc/flows} {/vpc/noperm}]" {
		t.Errorf("describe-log-groups: %+v", groups)
	}
	var streams struct {
		LogStreams []struct{ LogStreamName string }
	}
	awsOK(t, p, &streams, "logs", "describe-log-streams", "--log-group-name", "/vpc/flows")
	if fmt.Sprint(streams.LogStreams) != "[{eni-0a1b2c3d4e5f60718-all}]" {
		t.Errorf("describe-log-streams: %+v, want the ENI's stream", streams)
	}
	var evs struct {
		Events []struct{ LogStreamName, Message string }
	}
	awsOK(t, p, &evs, "logs", "filter-log-events", "--log-group-name", "/vpc/flows", "--filter-pattern", sshRejectPattern)
	if len(evs.Events) == 0 {
		t.Errorf("filter-log-events with the ssh pattern found nothing")
	}
	for _, e := range evs.Events {
		f := strings.Fields(e.Message)
		if len(f) != 14 || f[6] != "22" || f[7] != "6" || f[12] != "REJECT" || e.LogStreamName != "eni-0a1b2c3d4e5f60718-all" {
			t.Errorf("filter-log-events matched %q in %s", e.Message, e.LogStreamName)
		}
	}
	now := time.Now().Unix()
	var q struct{ QueryID string }
	awsOK(t, p, &q, "logs", "start-query", "--log-group-name", "/vpc/flows", "--start-time", fmt.Sprint(now-3600),
		"--end-time", fmt.Sprint(now+60),
		"--query-string", `filter action="REJECT" | stats count(*) as numRejections by srcAddr | sort numRejections desc | limit 20`)
	var res struct {
		Status  string
		Results [][]struct{ Field, Value string }
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		awsOK(t, p, &res, "logs", "get-query-results", "--query-id", q.QueryID)
		if res.Status != "Scheduled" && res.Status != "Running" || time.Now().After(deadline) {
			break
		}
	}
	if res.Status != "Complete" || len(res.Results) != 1 || len(res.Results[0]) != 2 ||
		res.Results[0][0] != (struct{ Field, Value string }{"srcAddr", "198.51.100.7"}) ||
		res.Results[0][1].Field != "numRejections" || res.Results[0][1].Value != fmt.Sprint(len(evs.Events)) {
		t.Errorf("get-query-results: %+v, want srcAddr 198.51.100.7 with %d rejections", res, len(evs.Events))
	}
	out, errOut, code := aws(t, p, "logs", "tail", "/vpc/flows", "--since", "1h", "--filter-pattern", sshRejectPattern)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != len(evs.Events) || !strings.Contains(lines[0], " eni-0a1b2c3d4e5f60718-all ") {
		t.Errorf("logs tail: exit %d, %d lines for %d events: %s %s", code, len(lines), len(evs.Events), out, errOut)
	}
}
