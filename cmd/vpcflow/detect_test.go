package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vpcflow/vpcflow/detect"
	"github.com/vpcflow/vpcflow/internal/e2e"
)

// Through the real binary: a capture of a port scan becomes flow logs
// (`vpcflow pcap`, S3 text, S3 Parquet, the log store), and `vpcflow detect`
// finds the scan in each. Expected values are worked out by hand from the
// packets.

// scanCapture: 198.51.100.7 sends a SYN from port 40000 to each of ports
// 1..40 of the ping example's instance (10.1.2.15), one a second from
// 2026-01-01T00:00:00Z (1767225600). Its security group allows only ICMP:
// every SYN is rejected. Each is its own flow: 40 records of 1 packet and 40
// bytes (IPv4 and TCP headers, no payload), start = end = its second.
func scanCapture(t *testing.T) string {
	var pkts []e2e.Packet
	for p := range 40 {
		pkts = append(pkts, e2e.Packet{Sec: 1767225600 + int64(p), SrcMAC: e2e.RouterMAC, DstMAC: e2e.PingENIMAC,
			Src: "198.51.100.7", Dst: "10.1.2.15", Proto: "tcp", SrcPort: 40000, DstPort: uint16(p + 1), SYN: true})
	}
	return e2e.WritePcap(t, pkts)
}

func decodeFindings(t *testing.T, out string) []detect.Finding {
	t.Helper()
	var v struct{ Findings []detect.Finding }
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return v.Findings
}

// checkScan checks the one finding every source gives.
func checkScan(t *testing.T, fs []detect.Finding, instance, region string) {
	t.Helper()
	if len(fs) != 1 {
		t.Fatalf("%d findings: %+v", len(fs), fs)
	}
	f := fs[0]
	ni := f.Resource.InstanceDetails.NetworkInterfaces[0]
	nca := f.Service.Action.NetworkConnectionAction
	if f.Type != detect.TypeInboundPortscan || f.Severity != 2 || f.AccountID != "111122223333" || f.Region != region ||
		f.Resource.InstanceDetails.InstanceID != instance || ni.NetworkInterfaceID != "eni-0a1b2c3d4e5f60718" ||
		ni.PrivateIPAddress != "10.1.2.15" || f.Service.ResourceRole != "TARGET" || f.Service.Count != 1 {
		t.Errorf("finding %+v", f)
	}
	if !strings.HasPrefix(f.Arn, "arn:aws:guardduty:"+region+":111122223333:detector/"+f.Service.DetectorID+"/finding/"+f.ID) || len(f.ID) != 32 {
		t.Errorf("arn %s, id %s", f.Arn, f.ID)
	}
	// Seconds 0..39 of the window 00:00-00:10, judged when it closes.
	if f.Service.EventFirstSeen != "2026-01-01T00:00:00Z" || f.Service.EventLastSeen != "2026-01-01T00:00:39Z" ||
		f.CreatedAt != "2026-01-01T00:10:00.000Z" || f.UpdatedAt != f.CreatedAt {
		t.Errorf("times %s %s %s %s", f.Service.EventFirstSeen, f.Service.EventLastSeen, f.CreatedAt, f.UpdatedAt)
	}
	if nca.ConnectionDirection != "INBOUND" || !nca.Blocked || nca.Protocol != "TCP" || nca.RemoteIPDetails.IPAddressV4 != "198.51.100.7" ||
		nca.LocalPortDetails.Port != 1 || nca.LocalIPDetails.IPAddressV4 != "10.1.2.15" {
		t.Errorf("action %+v", nca)
	}
	if f.Service.AdditionalInfo == nil || f.Service.AdditionalInfo.Value != `{"attempts":40,"ports":40,"probes":40,"rejected":40}` {
		t.Errorf("additional info %+v", f.Service.AdditionalInfo)
	}
	// --evidence 10 (the default): the 10 earliest of 40 records.
	if len(f.Evidence) != 10 || f.EvidenceOmitted != 30 {
		t.Fatalf("%d evidence records, %d omitted", len(f.Evidence), f.EvidenceOmitted)
	}
}

func TestDetectDeliveryTree(t *testing.T) {
	capture := scanCapture(t)
	out := filepath.Join(t.TempDir(), "flowlogs")
	runPcapCLI(t, "--topology", "../../examples/ping.yaml", "--out", out, capture)
	stdout, errOut, code := runBinary(t, nil, "detect", "--region", "eu-west-1", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	fs := decodeFindings(t, stdout)
	// The default format has no instance-id: the finding names the
	// interface only.
	checkScan(t, fs, "", "eu-west-1")
	objects, _ := filepath.Glob(filepath.Join(out, "AWSLogs/111122223333/vpcflowlogs/eu-west-1/2026/01/01/*.log.gz"))
	if len(objects) != 1 {
		t.Fatalf("objects %q", objects)
	}
	for i, ev := range fs[0].Evidence {
		// The object's line 1 is its header; records follow by start.
		want := fmt.Sprintf("2 111122223333 eni-0a1b2c3d4e5f60718 198.51.100.7 10.1.2.15 40000 %d 6 1 40 %d %d REJECT OK", i+1, 1767225600+i, 1767225600+i)
		if ev.Source != objects[0] || ev.Line != int64(i+2) || ev.Record != want {
			t.Errorf("evidence %d: %+v, want line %d %s", i, ev, i+2, want)
		}
	}
	for _, want := range []string{"vpcflow detect: 40 records from 1 source in", "judged:   40 records in 1 window", "findings: 1 (1 Vpcflow:EC2/InboundPortscan)"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("summary lacks %q:\n%s", want, errOut)
		}
	}
	// The table.
	table, _, code := runBinary(t, nil, "detect", "--output", "table", out)
	if code != 0 || !strings.Contains(table, "Vpcflow:EC2/InboundPortscan  2         eni-0a1b2c3d4e5f60718  TARGET  1      2026-01-01T00:00:00Z  2026-01-01T00:00:39Z  198.51.100.7 is performing port scans against Interface eni-0a1b2c3d4e5f60718.") {
		t.Errorf("table:\n%s", table)
	}
	// --until before the scan: nothing judged, nothing found.
	stdout, errOut, code = runBinary(t, nil, "detect", "--until", "2026-01-01T00:00:00Z", out)
	if code != 0 || strings.TrimSpace(stdout) != "{\n    \"Findings\": []\n}" || !strings.Contains(errOut, "40 outside --since/--until") {
		t.Errorf("--until: exit %d\n%s\n%s", code, stdout, errOut)
	}
}

// TestDetectParquet: the same scan delivered as Parquet in a custom format
// with the instance, region and flow direction.
func TestDetectParquet(t *testing.T) {
	const format = "${version} ${account-id} ${interface-id} ${instance-id} ${vpc-id} ${subnet-id} ${region} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${flow-direction}"
	out := filepath.Join(t.TempDir(), "flowlogs")
	runPcapCLI(t, "--topology", "../../examples/ping.yaml", "--file-format", "parquet", "--format", format, "--out", out, scanCapture(t))
	stdout, errOut, code := runBinary(t, nil, "detect", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	fs := decodeFindings(t, stdout)
	checkScan(t, fs, "i-0a1b2c3d4e5f60718", "eu-west-1")
	ni := fs[0].Resource.InstanceDetails.NetworkInterfaces[0]
	if ni.VpcID != "vpc-0a1b2c3d4e5f60001" || ni.SubnetID != "subnet-0a1b2c3d4e5f60002" {
		t.Errorf("interface %+v", ni)
	}
	ev := fs[0].Evidence[0]
	if !strings.HasSuffix(ev.Source, ".log.parquet") || ev.Line != 1 ||
		ev.Record != "5 111122223333 eni-0a1b2c3d4e5f60718 i-0a1b2c3d4e5f60718 vpc-0a1b2c3d4e5f60001 subnet-0a1b2c3d4e5f60002 eu-west-1 198.51.100.7 10.1.2.15 40000 1 6 1 40 1767225600 1767225600 REJECT OK ingress" {
		t.Errorf("evidence %+v", ev)
	}
}

// TestDetectLogGroup: the scan delivered to a log group of the log store.
func TestDetectLogGroup(t *testing.T) {
	ping, err := os.ReadFile("../../examples/ping.yaml")
	if err != nil {
		t.Fatal(err)
	}
	topo := filepath.Join(t.TempDir(), "ping-cwl.yaml")
	os.WriteFile(topo, append(ping, []byte(`
FlowLogs:
  - ResourceIds: [eni-0a1b2c3d4e5f60718]
    ResourceType: NetworkInterface
    TrafficType: ALL
    LogDestinationType: cloud-watch-logs
    LogGroupName: vpc-flow-logs
    DeliverLogsPermissionArn: arn:aws:iam::111122223333:role/flowlogs
`)...), 0o644)
	data := t.TempDir()
	if _, errOut, code := runBinary(t, nil, "logs", "put", "--data-dir", data, "--group", "vpc-flow-logs", "-"); code != 0 {
		t.Fatalf("logs put: %d %s", code, errOut)
	}
	if _, errOut, code := runBinary(t, nil, "pcap", "--quiet", "--topology", topo, "--data-dir", data, scanCapture(t)); code != 0 {
		t.Fatalf("pcap: %d %s", code, errOut)
	}
	stdout, errOut, code := runBinary(t, nil, "detect", "--region", "eu-west-1", "--data-dir", data, "--group", "vpc-flow-logs")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	fs := decodeFindings(t, stdout)
	checkScan(t, fs, "", "eu-west-1")
	// Events: one stream per interface, timestamp = start in ms.
	ev := fs[0].Evidence[3]
	if ev.Source != "vpc-flow-logs/eni-0a1b2c3d4e5f60718-all" || ev.Timestamp != 1767225603000 || ev.Line != 0 ||
		ev.Record != "2 111122223333 eni-0a1b2c3d4e5f60718 198.51.100.7 10.1.2.15 40000 4 6 1 40 1767225603 1767225603 REJECT OK" {
		t.Errorf("evidence %+v", ev)
	}
	// A group that does not exist.
	_, errOut, code = runBinary(t, nil, "detect", "--data-dir", data, "--group", "nope")
	if code != 1 || !strings.Contains(errOut, "log group nope: ") {
		t.Errorf("missing group: exit %d: %s", code, errOut)
	}
}

// TestDetectAWSFile: AWS's own sample file (a header line, version 3
// fields, 8 records: 6 start in one window, 2 in a later one): read,
// judged, nothing found.
func TestDetectAWSFile(t *testing.T) {
	stdout, errOut, code := runBinary(t, nil, "detect", "../../record/testdata/aws/records-tcp-flag-sequence-v3.log")
	if code != 0 || len(decodeFindings(t, stdout)) != 0 || !strings.Contains(errOut, "judged:   8 records in 2 windows") {
		t.Errorf("exit %d\n%s\n%s", code, stdout, errOut)
	}
}

func TestDetectErrors(t *testing.T) {
	empty := t.TempDir()
	bad := filepath.Join(t.TempDir(), "bad.log.gz")
	os.WriteFile(bad, []byte{0x1f, 0x8b, 0, 1, 2}, 0o644)
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"detect"}, 2, "vpcflow: no source: name delivery directories or flow-log files, or a log group with --group"},
		{[]string{"detect", "--output", "yaml", empty}, 2, `vpcflow: --output "yaml": want json or table`},
		{[]string{"detect", "--since", "yesterday", empty}, 2, "vpcflow: --since: "},
		{[]string{"detect", "--since", "2026-01-02T00:00:00Z", "--until", "2026-01-01T00:00:00Z", empty}, 2, "vpcflow: --until 2026-01-01T00:00:00Z is not after --since 2026-01-02T00:00:00Z"},
		{[]string{"detect", "-"}, 2, "vpcflow: - (standard input): detect reads its sources twice"},
		{[]string{"detect", "--data-dir", empty, empty}, 2, "vpcflow: --data-dir is where --group is read: give --group too"},
		{[]string{"detect", filepath.Join(empty, "missing")}, 1, "vpcflow: " + filepath.Join(empty, "missing") + ": no such file or directory"},
		{[]string{"detect", empty}, 1, "vpcflow: " + empty + ": no flow-log objects (.log.gz or .log.parquet) under this directory"},
		// An object that is not gzip: reported, the run goes on, exit 1.
		{[]string{"detect", bad}, 1, "vpcflow: " + bad + ": not gzip: "},
	} {
		stdout, errOut, code := runBinary(t, nil, c.args...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("%q: exit %d, stderr %q; want %d, %q", c.args, code, errOut, c.code, c.want)
		}
		if c.code == 1 && strings.HasSuffix(c.args[len(c.args)-1], ".gz") && !strings.Contains(stdout, `"Findings": []`) {
			t.Errorf("%q: findings not printed: %s", c.args, stdout)
		}
	}
}
