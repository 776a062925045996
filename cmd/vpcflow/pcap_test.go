package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vpcflow/vpcflow/capture"
	"github.com/vpcflow/vpcflow/internal/e2e"
	"github.com/vpcflow/vpcflow/packet"
)

// Captures for these tests are built with gopacket's own serializers, not
// vpcflow code, and every expected record below was computed by hand.

func runPcapCLI(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, code := runBinary(t, nil, append([]string{"pcap", "--quiet"}, args...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	return out
}

func checkLines(t *testing.T, got string, want ...string) {
	t.Helper()
	if w := strings.Join(want, "\n") + "\n"; got != w {
		t.Errorf("got:\n%swant:\n%s", got, w)
	}
}

// TestPcapSpecPing: the ping example of docs/aws-behaviour.md. The security
// group allows inbound ICMP; the NACL allows inbound ICMP only, so the echo
// replies die at the NACL: inbound ACCEPT, outbound REJECT. The expected
// lines are the example's own.
func TestPcapSpecPing(t *testing.T) {
	var pkts []e2e.Packet
	for _, s := range [][2]int64{{1700000301, 1700000302}, {1700000330, 1700000331}, {1700000359, 1700000359}} {
		pkts = append(pkts,
			e2e.Packet{Sec: s[0], SrcMAC: e2e.RouterMAC, DstMAC: e2e.PingENIMAC, Src: "198.51.100.7", Dst: "10.1.2.15", Proto: "icmp", ICMPType: 8, Payload: 56},
			e2e.Packet{Sec: s[1], SrcMAC: e2e.PingENIMAC, DstMAC: e2e.RouterMAC, Src: "10.1.2.15", Dst: "198.51.100.7", Proto: "icmp", ICMPType: 0, Payload: 56})
	}
	path := e2e.WritePcap(t, pkts)
	out := runPcapCLI(t, "--stdout", "--topology", "../../examples/ping.yaml", path)
	checkLines(t, out,
		"2 111122223333 eni-0a1b2c3d4e5f60718 198.51.100.7 10.1.2.15 0 0 1 3 252 1700000301 1700000359 ACCEPT OK",
		"2 111122223333 eni-0a1b2c3d4e5f60718 10.1.2.15 198.51.100.7 0 0 1 3 252 1700000302 1700000359 REJECT OK")
	// The extension field names the deciding rule (rule names:
	// docs/policy.md).
	out = runPcapCLI(t, "--stdout", "--topology", "../../examples/ping.yaml",
		"--format", "${srcaddr} ${flow-direction} ${action} ${x-rule}", path)
	checkLines(t, out,
		"198.51.100.7 ingress ACCEPT sg-0a1b2c3d4e5f60003/ingress/1",
		"10.1.2.15 egress REJECT acl-0a1b2c3d4e5f60004/egress/*")
}

// TestPcapSpecTCPFlags: the third window of the example of
// docs/aws-behaviour.md, "TCP flags", a complete short connection: client
// SYN + FIN → 3, server SYN-ACK + FIN → 19.
func TestPcapSpecTCPFlags(t *testing.T) {
	const c, s = "198.51.100.41", "10.1.2.15"
	cl := func(sec int64, syn, ack, fin bool, payload int) e2e.Packet {
		return e2e.Packet{Sec: sec, SrcMAC: e2e.RouterMAC, DstMAC: e2e.PingENIMAC, Src: c, Dst: s, Proto: "tcp", SrcPort: 60210, DstPort: 8080, SYN: syn, ACK: ack, FIN: fin, Payload: payload}
	}
	sv := func(sec int64, syn, ack, fin bool, payload int) e2e.Packet {
		return e2e.Packet{Sec: sec, SrcMAC: e2e.PingENIMAC, DstMAC: e2e.RouterMAC, Src: s, Dst: c, Proto: "tcp", SrcPort: 8080, DstPort: 60210, SYN: syn, ACK: ack, FIN: fin, Payload: payload}
	}
	// IPv4 + TCP headers are 40 bytes. Client: 6 packets, 40*6 + 240 = 480.
	// Server: 5 packets, 40*5 + 1110 = 1310.
	pkts := []e2e.Packet{
		cl(1700001122, true, false, false, 0),
		sv(1700001122, true, true, false, 0),
		cl(1700001122, false, true, false, 0),
		cl(1700001123, false, true, false, 240),
		sv(1700001123, false, true, false, 1110),
		cl(1700001123, false, true, false, 0),
		sv(1700001124, false, true, false, 0),
		cl(1700001124, false, true, true, 0),
		sv(1700001124, false, true, true, 0),
		cl(1700001124, false, true, false, 0),
		sv(1700001124, false, true, false, 0),
	}
	path := e2e.WritePcap(t, pkts)
	out := runPcapCLI(t, "--stdout", "--interval", "60", "--local-cidr", "10.1.2.0/24",
		"--format", "${version} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${tcp-flags} ${log-status}", path)
	// Lines of one interface with equal start and end sort bytewise.
	checkLines(t, out,
		"3 10.1.2.15 198.51.100.41 8080 60210 6 5 1310 1700001122 1700001124 ACCEPT 19 OK",
		"3 198.51.100.41 10.1.2.15 60210 8080 6 6 480 1700001122 1700001124 ACCEPT 3 OK")
}

func TestPcapWindowsNoDataSkipData(t *testing.T) {
	const in = "10.1.2.15"
	p := func(sec int64, sport uint16) e2e.Packet {
		return e2e.Packet{Sec: sec, SrcMAC: e2e.RouterMAC, DstMAC: e2e.PingENIMAC, Src: "203.0.113.9", Dst: in, Proto: "udp", SrcPort: sport, DstPort: 53, Payload: 12}
	}
	// One flow across the boundary at 1700001180, silence in the window
	// [1700001240, 1700001300), then a flood of 5 flows with a bound of 3.
	pkts := []e2e.Packet{p(1700001179, 5000), p(1700001180, 5000)}
	for i := 0; i < 5; i++ {
		pkts = append(pkts, p(1700001300, uint16(6000+i)))
	}
	path := e2e.WritePcap(t, pkts)
	out := runPcapCLI(t, "--stdout", "--interval", "60", "--max-flows-per-window", "3", path)
	// UDP: 20 + 8 + 12 = 40 bytes.
	checkLines(t, out,
		"2 123456789012 eni-00000000000000001 203.0.113.9 10.1.2.15 5000 53 17 1 40 1700001179 1700001179 ACCEPT OK",
		"2 123456789012 eni-00000000000000001 203.0.113.9 10.1.2.15 5000 53 17 1 40 1700001180 1700001180 ACCEPT OK",
		"2 123456789012 eni-00000000000000001 - - - - - - - 1700001240 1700001300 - NODATA",
		"2 123456789012 eni-00000000000000001 203.0.113.9 10.1.2.15 6000 53 17 1 40 1700001300 1700001300 ACCEPT OK",
		"2 123456789012 eni-00000000000000001 203.0.113.9 10.1.2.15 6001 53 17 1 40 1700001300 1700001300 ACCEPT OK",
		"2 123456789012 eni-00000000000000001 203.0.113.9 10.1.2.15 6002 53 17 1 40 1700001300 1700001300 ACCEPT OK",
		"2 123456789012 eni-00000000000000001 - - - - - - - 1700001300 1700001360 - SKIPDATA")
}

func TestPcapExcludedTraffic(t *testing.T) {
	pkts := []e2e.Packet{
		{Sec: 1700000000, SrcMAC: e2e.PingENIMAC, DstMAC: e2e.RouterMAC, Src: "10.1.2.15", Dst: "169.254.169.254", Proto: "tcp", SrcPort: 40000, DstPort: 80, SYN: true},
		{Sec: 1700000000, SrcMAC: e2e.RouterMAC, DstMAC: e2e.PingENIMAC, Src: "169.254.169.254", Dst: "10.1.2.15", Proto: "tcp", SrcPort: 80, DstPort: 40000, SYN: true, ACK: true},
		{Sec: 1700000001, SrcMAC: e2e.PingENIMAC, DstMAC: e2e.RouterMAC, Src: "10.1.2.15", Dst: "255.255.255.255", Proto: "udp", SrcPort: 68, DstPort: 67, Payload: 300},
		{Sec: 1700000001, SrcMAC: e2e.PingENIMAC, DstMAC: e2e.RouterMAC, Src: "10.1.2.15", Dst: "169.254.169.123", Proto: "udp", SrcPort: 123, DstPort: 123, Payload: 48},
		{Sec: 1700000002, SrcMAC: e2e.PingENIMAC, DstMAC: e2e.RouterMAC, Src: "10.1.2.15", Dst: "10.1.0.2", Proto: "udp", SrcPort: 5353, DstPort: 53, Payload: 30},
		{Sec: 1700000002, SrcMAC: e2e.PingENIMAC, DstMAC: e2e.RouterMAC, Src: "10.1.2.15", Dst: "10.1.2.1", Proto: "udp", SrcPort: 5353, DstPort: 9, Payload: 30},
		{Sec: 1700000003, SrcMAC: e2e.RouterMAC, DstMAC: e2e.PingENIMAC, Src: "198.51.100.7", Dst: "10.1.2.15", Proto: "icmp", ICMPType: 8, Payload: 56},
	}
	path := e2e.WritePcap(t, pkts)
	out := runPcapCLI(t, "--stdout", "--topology", "../../examples/ping.yaml", path)
	// Only the ping remains: metadata, DHCP, time sync, the VPC resolver
	// (10.1.0.0/16 + 2) and the subnet router (10.1.2.0/24 + 1) are excluded.
	checkLines(t, out, "2 111122223333 eni-0a1b2c3d4e5f60718 198.51.100.7 10.1.2.15 0 0 1 1 84 1700000003 1700000003 ACCEPT OK")
}

func TestPcapS3Layout(t *testing.T) {
	pkts := []e2e.Packet{
		{Sec: 1700000290, SrcMAC: e2e.RouterMAC, DstMAC: e2e.PingENIMAC, Src: "198.51.100.7", Dst: "10.1.2.15", Proto: "icmp", ICMPType: 8, Payload: 56},
		{Sec: 1700000310, SrcMAC: e2e.RouterMAC, DstMAC: e2e.PingENIMAC, Src: "198.51.100.7", Dst: "10.1.2.15", Proto: "icmp", ICMPType: 8, Payload: 56},
	}
	path := e2e.WritePcap(t, pkts)
	dir := t.TempDir()
	_, errOut, code := runBinary(t, nil, "pcap", "--interval", "60", "--out", dir, "--local-cidr", "10.1.2.15", path)
	if code != 0 {
		t.Fatal(errOut)
	}
	var files []string
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, rel)
		}
		return nil
	})
	// 1700000290 = 2023-11-14T22:18:10Z and 1700000310 = 22:18:30: one flow
	// in the window [22:18, 22:19), ending in the 5-minute slot 22:15.
	if len(files) != 1 {
		t.Fatalf("files %v", files)
	}
	wantDir := "AWSLogs/123456789012/vpcflowlogs/us-east-1/2023/11/14/123456789012_vpcflowlogs_us-east-1_fl-"
	if !strings.HasPrefix(files[0], wantDir) || !strings.Contains(files[0], "_20231114T2215Z_") || !strings.HasSuffix(files[0], ".log.gz") {
		t.Errorf("object %s", files[0])
	}
	if !strings.Contains(errOut, "wrote 1 objects") {
		t.Errorf("summary %s", errOut)
	}
}

// TestPcapCloudWatchDestination: a flow log to cloud-watch-logs fills the
// log store with one stream per ENI: message = the record line,
// timestamp = start in ms.
func TestPcapCloudWatchDestination(t *testing.T) {
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
	path := e2e.WritePcap(t, []e2e.Packet{
		{Sec: 1700000301, SrcMAC: e2e.RouterMAC, DstMAC: e2e.PingENIMAC, Src: "198.51.100.7", Dst: "10.1.2.15", Proto: "icmp", ICMPType: 8, Payload: 56},
		{Sec: 1700000302, SrcMAC: e2e.PingENIMAC, DstMAC: e2e.RouterMAC, Src: "10.1.2.15", Dst: "198.51.100.7", Proto: "icmp", ICMPType: 0, Payload: 56},
	})
	data := t.TempDir()
	deliverOnce := func() {
		t.Helper()
		_, errOut, code := runBinary(t, nil, "pcap", "--topology", topo, "--data-dir", data, path)
		if code != 0 || !strings.Contains(errOut, "delivered 2 events to log group(s) vpc-flow-logs") {
			t.Fatalf("exit %d: %s", code, errOut)
		}
	}
	// The group first (an empty import makes it), then a metric filter
	// counting rejected records: as on AWS it sees the events ingested
	// after it exists.
	if _, errOut, code := runBinary(t, nil, "logs", "put", "--data-dir", data, "--group", "vpc-flow-logs", "-"); code != 0 {
		t.Fatalf("logs put: %d %s", code, errOut)
	}
	_, errOut, code := runBinary(t, nil, "logs", "metric-filter", "put", "--data-dir", data, "--group", "vpc-flow-logs",
		"--name", "rejects", "--metric-name", "Rejects", "--metric-namespace", "VPC", "--metric-value", "1",
		"--pattern", "[version, account, eni, source, destination, srcport, destport, protocol, packets, bytes, windowstart, windowend, action=REJECT, flowlogstatus]")
	if code != 0 {
		t.Fatalf("metric-filter put: %d %s", code, errOut)
	}
	deliverOnce()
	out, errOut, code := runBinary(t, nil, "logs", "get", "--data-dir", data, "--group", "vpc-flow-logs",
		"--stream", "eni-0a1b2c3d4e5f60718-all", "--output", "json")
	if code != 0 {
		t.Fatalf("logs get: %d %s", code, errOut)
	}
	points, errOut, code := runBinary(t, nil, "logs", "metric-filter", "datapoints", "--data-dir", data,
		"--metric-namespace", "VPC", "--metric-name", "Rejects", "--output", "json")
	// One REJECT record (the echo reply), at its start time 1700000302 → the
	// minute 1700000280 = 2023-11-14T22:18:00Z.
	if code != 0 || !strings.Contains(points, `"Sum": 1`) || !strings.Contains(points, "2023-11-14T22:18:00") {
		t.Errorf("datapoints: %d %s\n%s", code, errOut, points)
	}
	for _, want := range []string{
		`"timestamp": 1700000301000`,
		`"message": "2 111122223333 eni-0a1b2c3d4e5f60718 198.51.100.7 10.1.2.15 0 0 1 1 84 1700000301 1700000301 ACCEPT OK"`,
		`"timestamp": 1700000302000`,
		`"message": "2 111122223333 eni-0a1b2c3d4e5f60718 10.1.2.15 198.51.100.7 0 0 1 1 84 1700000302 1700000302 REJECT OK"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %s in\n%s", want, out)
		}
	}
}

// TestPcapTruncatedInput: a capture cut in the middle of a record still gives
// the records of every packet before the cut, then an error naming the file
// and offset, and exit status 1.
func TestPcapTruncatedInput(t *testing.T) {
	path := e2e.WritePcap(t, []e2e.Packet{
		{Sec: 1700000301, SrcMAC: e2e.RouterMAC, DstMAC: e2e.PingENIMAC, Src: "198.51.100.7", Dst: "10.1.2.15", Proto: "icmp", ICMPType: 8, Payload: 56},
		{Sec: 1700000302, SrcMAC: e2e.RouterMAC, DstMAC: e2e.PingENIMAC, Src: "198.51.100.7", Dst: "10.1.2.15", Proto: "icmp", ICMPType: 8, Payload: 56},
	})
	data, _ := os.ReadFile(path)
	// 24-byte file header, then 16 + 98 bytes per packet: cut the second one.
	os.WriteFile(path, data[:24+114+40], 0o644)
	out, errOut, code := runBinary(t, nil, "pcap", "--stdout", "--local-cidr", "10.1.2.15", path)
	if code != 1 {
		t.Errorf("exit %d", code)
	}
	checkLines(t, out, "2 123456789012 eni-00000000000000001 198.51.100.7 10.1.2.15 0 0 1 1 84 1700000301 1700000301 ACCEPT OK")
	if !strings.Contains(errOut, path) || !strings.Contains(errOut, "138") {
		t.Errorf("error does not name the file and offset 138:\n%s", errOut)
	}
}

func TestPcapUsageErrors(t *testing.T) {
	path := e2e.WritePcap(t, []e2e.Packet{{Sec: 1700000000, SrcMAC: e2e.RouterMAC, DstMAC: e2e.PingENIMAC, Src: "198.51.100.7", Dst: "10.1.2.15", Proto: "icmp", ICMPType: 8}})
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--traffic-type", "ANY"}, `--traffic-type: want ACCEPT, REJECT or ALL, got "ANY"`},
		{[]string{"--interval", "30"}, "--interval: want 60 or 600, got 30"},
		{[]string{"--format", "${srcaddr} ${bogus}"}, `--format: unknown field: "bogus" at offset 11`},
		{[]string{"--eni", "eni 1"}, `--eni: want a non-empty id`},
		// in our words, not netip.ParsePrefix's
		{[]string{"--local-cidr", "10.0.0.0/33"}, `vpcflow: --local-cidr "10.0.0.0/33" is not a CIDR: prefix length 33 is more than 32, the bits of an IPv4 address` + "\n"},
		{[]string{"--local-cidr", "10.0.0.x"}, `vpcflow: --local-cidr "10.0.0.x" is not an IP address or a CIDR (such as 10.0.1.10 or 10.0.1.0/24)` + "\n"},
		{[]string{"--out", "x", "--stdout"}, "--stdout and --out exclude each other"},
		{[]string{"--topology", "../../examples/ping.yaml", "--eni", "eni-1"}, "apply only without --topology"},
		{[]string{"--topology", "../../examples/topology.yaml", "--interval", "60"}, "--interval applies to implicit flow logs"},
	} {
		_, errOut, code := runBinary(t, nil, append(append([]string{"pcap", "--stdout"}, tt.args...), path)...)
		if tt.args[0] == "--out" {
			_, errOut, code = runBinary(t, nil, append(append([]string{"pcap"}, tt.args...), path)...)
		}
		if code != 2 || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", tt.args, code, errOut, tt.want)
		}
	}
	// A missing input names the file.
	_, errOut, code := runBinary(t, nil, "pcap", "--stdout", "/nonexistent.pcap")
	if code != 1 || !strings.Contains(errOut, "/nonexistent.pcap") {
		t.Errorf("missing file: %d %s", code, errOut)
	}
}

// TestPcapLateAfterClose [Choice]: packets of a TCP
// connection arriving more than 5 s after it closed are REJECT, on both
// sides, even though the security group would allow the client's packet as
// a new connection; the rule says why (sg-ID/closed, docs/policy.md).
func TestPcapLateAfterClose(t *testing.T) {
	y, err := os.ReadFile("../../examples/ping.yaml")
	if err != nil {
		t.Fatal(err)
	}
	top := strings.Replace(string(y), "    IpPermissions:\n",
		"    IpPermissions:\n      - {IpProtocol: tcp, FromPort: 80, ToPort: 80, IpRanges: [{CidrIp: 0.0.0.0/0}]}\n", 1)
	top += "      - {RuleNumber: 90, Protocol: \"-1\", RuleAction: allow, Egress: false, CidrBlock: 0.0.0.0/0}\n" +
		"      - {RuleNumber: 90, Protocol: \"-1\", RuleAction: allow, Egress: true, CidrBlock: 0.0.0.0/0}\n"
	topPath := filepath.Join(t.TempDir(), "top.yaml")
	if err := os.WriteFile(topPath, []byte(top), 0o644); err != nil {
		t.Fatal(err)
	}
	const c, s, t0 = "198.51.100.41", "10.1.2.15", 1700001000
	cl := func(sec int64, syn, ack bool) e2e.Packet {
		return e2e.Packet{Sec: sec, SrcMAC: e2e.RouterMAC, DstMAC: e2e.PingENIMAC, Src: c, Dst: s, Proto: "tcp", SrcPort: 60210, DstPort: 80, SYN: syn, ACK: ack}
	}
	sv := func(sec int64, syn, ack, rst bool) e2e.Packet {
		return e2e.Packet{Sec: sec, SrcMAC: e2e.PingENIMAC, DstMAC: e2e.RouterMAC, Src: s, Dst: c, Proto: "tcp", SrcPort: 80, DstPort: 60210, SYN: syn, ACK: ack, RST: rst}
	}
	path := e2e.WritePcap(t, []e2e.Packet{
		cl(t0, true, false), sv(t0, true, true, false), cl(t0, false, true),
		sv(t0+1, false, false, true), // RST: closed
		cl(t0+4, false, true),        // within 5 s: still tracked
		cl(t0+10, false, true),       // late
		sv(t0+11, false, true, false),
	})
	out := runPcapCLI(t, "--stdout", "--topology", topPath,
		"--format", "${srcaddr} ${flow-direction} ${packets} ${start} ${action} ${x-rule}", path)
	got := strings.Split(strings.TrimSpace(out), "\n")
	slices.Sort(got)
	checkLines(t, strings.Join(got, "\n")+"\n",
		"10.1.2.15 egress 1 1700001011 REJECT sg-0a1b2c3d4e5f60003/closed",
		"10.1.2.15 egress 2 1700001000 ACCEPT sg-0a1b2c3d4e5f60003/tracked",
		"198.51.100.41 ingress 1 1700001010 REJECT sg-0a1b2c3d4e5f60003/closed",
		"198.51.100.41 ingress 3 1700001000 ACCEPT sg-0a1b2c3d4e5f60003/ingress/1")
}

// TestPcapParquetFlowLog: a flow log declared with DestinationOptions
// FileFormat parquet (and Hive prefixes) writes .log.parquet objects under
// the Hive key layout; --file-format, which is for implicit
// flow logs, is refused next to declared ones.
func TestPcapParquetFlowLog(t *testing.T) {
	y, err := os.ReadFile("../../examples/ping.yaml")
	if err != nil {
		t.Fatal(err)
	}
	top := string(y) + `FlowLogs:
  - ResourceIds: [eni-0a1b2c3d4e5f60718]
    ResourceType: NetworkInterface
    TrafficType: ALL
    LogDestinationType: s3
    LogDestination: arn:aws:s3:::my-flow-bucket/prod
    DestinationOptions: {FileFormat: parquet, HiveCompatiblePartitions: true, PerHourPartition: true}
`
	topPath := filepath.Join(t.TempDir(), "top.yaml")
	if err := os.WriteFile(topPath, []byte(top), 0o644); err != nil {
		t.Fatal(err)
	}
	path := e2e.WritePcap(t, []e2e.Packet{
		{Sec: 1700000301, SrcMAC: e2e.RouterMAC, DstMAC: e2e.PingENIMAC, Src: "198.51.100.7", Dst: "10.1.2.15", Proto: "icmp", ICMPType: 8, Payload: 56},
	})
	dir := t.TempDir()
	runPcapCLI(t, "--topology", topPath, "--out", dir, path)
	var files []string
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	// 1700000301 = 2023-11-14T22:18:21Z: slot 22:15.
	const wantDir = "prod/AWSLogs/aws-account-id=111122223333/aws-service=vpcflowlogs/aws-region=eu-west-1/year=2023/month=11/day=14/hour=22/111122223333_vpcflowlogs_eu-west-1_fl-"
	if len(files) != 1 || !strings.HasPrefix(files[0], wantDir) || !strings.Contains(files[0], "_20231114T2215Z_") || !strings.HasSuffix(files[0], ".log.parquet") {
		t.Fatalf("objects %v", files)
	}
	b, err := os.ReadFile(filepath.Join(dir, files[0]))
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 8 || string(b[:4]) != "PAR1" || string(b[len(b)-4:]) != "PAR1" {
		t.Errorf("not a Parquet file: % x ... % x", b[:min(8, len(b))], b[max(0, len(b)-8):])
	}
	if _, stderr, code := runBinary(t, nil, "pcap", "--file-format", "parquet", "--topology", topPath, "--out", t.TempDir(), path); code != 2 || !strings.Contains(stderr, "--file-format applies to implicit flow logs") {
		t.Errorf("--file-format with declared FlowLogs: exit %d, %s", code, stderr)
	}
}

// TestPcapCorruptTimestamp: one timestamp off by 2^24 s (a flipped byte)
// is a capture gap: no window is emitted inside it (there were 280 000
// NODATA windows), and the summary says so.
func TestPcapCorruptTimestamp(t *testing.T) {
	p := func(sec int64, sport uint16) e2e.Packet {
		return e2e.Packet{Sec: sec, SrcMAC: e2e.RouterMAC, DstMAC: e2e.PingENIMAC, Src: "203.0.113.9", Dst: "10.1.2.15", Proto: "udp", SrcPort: sport, DstPort: 53, Payload: 12}
	}
	const t0 = 1700000400
	path := e2e.WritePcap(t, []e2e.Packet{p(t0-1<<24, 5000), p(t0, 5001), p(t0+70, 5002)})
	out, errOut, code := runBinary(t, nil, "pcap", "--stdout", "--interval", "60", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	// 1700000400 - 16777216 = 1683223184.
	checkLines(t, out,
		"2 123456789012 eni-00000000000000001 203.0.113.9 10.1.2.15 5000 53 17 1 40 1683223184 1683223184 ACCEPT OK",
		"2 123456789012 eni-00000000000000001 203.0.113.9 10.1.2.15 5001 53 17 1 40 1700000400 1700000400 ACCEPT OK",
		"2 123456789012 eni-00000000000000001 203.0.113.9 10.1.2.15 5002 53 17 1 40 1700000470 1700000470 ACCEPT OK")
	if !strings.Contains(errOut, "capture gaps: 1 (silences over an hour: no windows inside them): 2023-05-04T17:59:44Z → 2023-11-14T22:20:00Z") {
		t.Errorf("summary does not report the gap:\n%s", errOut)
	}
}

// TestPcapKill9: `pcap --out` killed with SIGKILL at random moments leaves
// only complete objects; the next run removes the dead runs' temporary
// files, says so, and ends with exactly the objects of a clean run.
func TestPcapKill9(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	capture := filepath.Join(dir, "big.pcap")
	if _, errOut, code := runBinary(t, nil, "gen", "pcap", "--packets", "400000", "--flows", "40000", "--seed", "5", "--snaplen", "128", "--out", capture); code != 0 {
		t.Fatalf("gen: %s", errOut)
	}
	clean, out := filepath.Join(dir, "clean"), filepath.Join(dir, "out")
	if _, errOut, code := runBinary(t, nil, "pcap", "--quiet", "--interval", "60", "--out", clean, capture); code != 0 {
		t.Fatalf("clean run: %s", errOut)
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for i := 0; i < 4; i++ {
		cmd := exec.Command(vpcflowBinary(t), "pcap", "--quiet", "--interval", "60", "--out", out, capture)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(20+rng.IntN(300)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		filepath.WalkDir(out, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".tmp-") {
				return nil
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			zr, err := gzip.NewReader(f)
			if err == nil {
				_, err = io.Copy(io.Discard, zr)
			}
			if err != nil {
				t.Fatalf("kill %d: torn object %s: %v", i, path, err)
			}
			return nil
		})
	}
	_, errOut, code := runBinary(t, nil, "pcap", "--interval", "60", "--out", out, capture)
	if code != 0 {
		t.Fatalf("rerun: %d %s", code, errOut)
	}
	t.Logf("rerun: %s", strings.SplitN(errOut, "\n", 2)[0])
	got, want := tree(t, out), tree(t, clean)
	if len(got) != len(want) {
		t.Errorf("after kills and a rerun: %d files, a clean run %d", len(got), len(want))
	}
	for k, b := range want {
		if !bytes.Equal(got[k], b) {
			t.Errorf("%s differs from the clean run's", k)
		}
	}
}

// TestPcapStdin: - reads the capture from standard input (it was opened as
// a file named "-"), with the records a file gives; - twice is refused.
func TestPcapStdin(t *testing.T) {
	path := e2e.WritePcap(t, []e2e.Packet{
		{Sec: 1700000301, SrcMAC: e2e.RouterMAC, DstMAC: e2e.PingENIMAC, Src: "198.51.100.7", Dst: "10.1.2.15", Proto: "icmp", ICMPType: 8, Payload: 56},
		{Sec: 1700000302, SrcMAC: e2e.PingENIMAC, DstMAC: e2e.RouterMAC, Src: "10.1.2.15", Dst: "198.51.100.7", Proto: "icmp", ICMPType: 0, Payload: 56},
	})
	data, _ := os.ReadFile(path)
	for _, in := range [][]byte{data, gzipBytes(t, data)} {
		out, errOut, code := runBinary(t, in, "pcap", "--quiet", "--stdout", "--topology", "../../examples/ping.yaml", "-")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		// the ping example: the request in, the reply out (REJECT by the ACL)
		checkLines(t, out,
			"2 111122223333 eni-0a1b2c3d4e5f60718 198.51.100.7 10.1.2.15 0 0 1 1 84 1700000301 1700000301 ACCEPT OK",
			"2 111122223333 eni-0a1b2c3d4e5f60718 10.1.2.15 198.51.100.7 0 0 1 1 84 1700000302 1700000302 REJECT OK")
	}
	_, errOut, code := runBinary(t, data, "pcap", "--stdout", "-", "-")
	if code != 2 || errOut != "vpcflow: - (standard input) is given twice: it can be read once\n" {
		t.Errorf("- -: exit %d, %q", code, errOut)
	}
}

func gzipBytes(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// TestPcapNothingUsable: a capture none of whose packets can give a record
// exits 1 and says why, with the counts (it exited 0, silent with
// --quiet); packets AWS never logs are a reason for no record, not an
// error (TestPcapExcludedTraffic).
func TestPcapNothingUsable(t *testing.T) {
	// three ARP requests: Ethernet, but not IP
	arp := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0a, 0, 0, 0, 0, 0x0a, 0x08, 0x06,
		0, 1, 8, 0, 6, 4, 0, 1, 0x0a, 0, 0, 0, 0, 0x0a, 10, 0, 0, 10, 0, 0, 0, 0, 0, 0, 10, 0, 0, 5}
	path := filepath.Join(t.TempDir(), "arp.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := capture.NewWriter(f, packet.LinkEthernet)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		w.WritePacket(int64(1700000000+i)*1e9, arp, len(arp))
	}
	w.Flush()
	f.Close()
	out, errOut, code := runBinary(t, nil, "pcap", "--quiet", "--stdout", path)
	if code != 1 || out != "" || errOut != "vpcflow: no record: none of the 3 packets could be used: 3 skipped (3 not-ip)\n" {
		t.Errorf("ARP: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	// IP packets between hosts the topology does not declare
	other := e2e.WritePcap(t, []e2e.Packet{
		{Sec: 1700000000, SrcMAC: "02:00:00:00:00:01", DstMAC: e2e.RouterMAC, Src: "192.0.2.1", Dst: "192.0.2.2", Proto: "udp", SrcPort: 5000, DstPort: 5001},
		{Sec: 1700000001, SrcMAC: "02:00:00:00:00:01", DstMAC: e2e.RouterMAC, Src: "192.0.2.1", Dst: "192.0.2.2", Proto: "udp", SrcPort: 5000, DstPort: 5001},
	})
	_, errOut, code = runBinary(t, nil, "pcap", "--quiet", "--stdout", "--topology", "../../examples/ping.yaml", other)
	want := "vpcflow: no record: none of the 2 packets could be used: 2 sent and received by no declared interface (check the MAC and IP addresses of the topology's NetworkInterfaces)\n"
	if code != 1 || errOut != want {
		t.Errorf("unattributed: exit %d, stderr %q", code, errOut)
	}
}

// TestPcapStdoutFormats [Choice]: --stdout with flow logs of two record
// formats is refused, naming them (their lines mixed with no way to tell
// them apart); flow logs of one format share stdout.
func TestPcapStdoutFormats(t *testing.T) {
	y, err := os.ReadFile("../../examples/topology.yaml")
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(y, []byte("FlowLogs:"))
	top := string(y[:i]) + `FlowLogs:
  - {ResourceIds: [vpc-0f1e2d3c4b5a69788], ResourceType: VPC, TrafficType: ALL, LogDestinationType: s3, LogDestination: "arn:aws:s3:::b"}
  - {ResourceIds: [subnet-0a1b2c3d4e5f00001], ResourceType: Subnet, TrafficType: REJECT, LogDestinationType: s3, LogDestination: "arn:aws:s3:::b", LogFormat: "${srcaddr} ${action}"}
`
	path := filepath.Join(t.TempDir(), "two.yaml")
	os.WriteFile(path, []byte(top), 0o644)
	capFile := e2e.WritePcap(t, []e2e.Packet{{Sec: 1700000000, SrcMAC: e2e.RouterMAC, DstMAC: "0a:00:00:00:00:0a", Src: "192.0.2.9", Dst: "10.0.0.10", Proto: "tcp", SrcPort: 40000, DstPort: 443, SYN: true}})
	_, errOut, code := runBinary(t, nil, "pcap", "--stdout", "--topology", path, capFile)
	if code != 2 || !strings.Contains(errOut, "these flow logs have 2 record formats:") ||
		!strings.Contains(errOut, ": ${srcaddr} ${action}\n") || !strings.Contains(errOut, ": ${version} ${account-id} ${interface-id}") ||
		!strings.Contains(errOut, "use --out DIR") {
		t.Errorf("exit %d, stderr %s", code, errOut)
	}
	// one format: both flow logs print. The SYN to web's 443 is ACCEPT: the
	// VPC flow log has it, the REJECT-only subnet flow log does not; 20 bytes
	// of IP and 20 of TCP (no options).
	same := strings.Replace(top, `, LogFormat: "${srcaddr} ${action}"`, "", 1)
	os.WriteFile(path, []byte(same), 0o644)
	out := runPcapCLI(t, "--stdout", "--topology", path, capFile)
	checkLines(t, out, "2 111122223333 eni-0a00000000000000a 192.0.2.9 10.0.0.10 40000 443 6 1 40 1700000000 1700000000 ACCEPT OK")
}
