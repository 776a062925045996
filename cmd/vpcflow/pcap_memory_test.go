package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vpcflow/vpcflow/internal/e2e"
)

// TestPcapMemoryBudgetSkipData: 5000 UDP flows of 3 packets each (every
// flow's first packet, then every second, then every third) in one 600 s
// window, converted with --memory 430000 and one shard. The flow table
// keeps the first 4096 flows and drops every packet of the other 904:
// 904 × 3 = 2712 packets lost, one SKIPDATA record for the window.
//
// By hand (the sizes are those of flow.TestMemoryBudgetGivesSkipData): a
// chunk of 4096 flows of 88 B is 360 448 B; the window's index grows to
// 8192 slots of 4 B (32 768 B) and the next window's table has its initial
// 1024 slots (4096 B): 397 312 B for 4096 flows; the 4097th needs another
// chunk, which 430 000 B do not hold.
func TestPcapMemoryBudgetSkipData(t *testing.T) {
	const flows, rounds, start = 5000, 3, 1700000400 // a multiple of 600
	var pkts []e2e.Packet
	for r := 0; r < rounds; r++ {
		for i := 0; i < flows; i++ {
			pkts = append(pkts, e2e.Packet{Sec: start + int64(r), SrcMAC: e2e.RouterMAC, DstMAC: e2e.PingENIMAC,
				Src: "203.0.113.9", Dst: "10.1.2.15", Proto: "udp", SrcPort: uint16(10000 + i), DstPort: 53, Payload: 12})
		}
	}
	path := e2e.WritePcap(t, pkts)
	out, stderr, code := runBinary(t, nil, "pcap", "--stdout", "--shards", "1", "--memory", "430000", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 4097 {
		t.Fatalf("%d records, want 4096 OK and 1 SKIPDATA", len(lines))
	}
	// --stdout orders by start, end, then bytewise: the flows (end
	// start+2) by source port, then the status record with the window's
	// bounds.
	if want := fmt.Sprintf("2 123456789012 eni-00000000000000001 - - - - - - - %d %d - SKIPDATA", start, start+600); lines[4096] != want {
		t.Errorf("last record %q, want %q", lines[4096], want)
	}
	for i, l := range lines[:4096] {
		// UDP: 20 + 8 + 12 = 40 bytes a packet.
		want := fmt.Sprintf("2 123456789012 eni-00000000000000001 203.0.113.9 10.1.2.15 %d 53 17 3 120 %d %d ACCEPT OK", 10000+i, start, start+2)
		if l != want {
			t.Fatalf("record %d: %q, want %q", i, l, want)
		}
	}
	for _, want := range []string{
		"4,096 in 1 window (0 late packets, 2,712 packets dropped at a bound)",
		"SKIPDATA: 2,712 packets of new flows not recorded (2,712 at the memory budget of 419.9KiB (--memory))",
		"1 SKIPDATA",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("summary lacks %q:\n%s", want, stderr)
		}
	}
	// A budget that holds every flow gives no SKIPDATA; the old flow-count
	// bound still applies on top when asked for.
	out = runPcapCLI(t, "--stdout", "--shards", "1", "--memory", "1MiB", path)
	if n := strings.Count(out, "\n"); n != 5000 || strings.Contains(out, "SKIPDATA") {
		t.Errorf("--memory 1MiB: %d records, SKIPDATA %v", n, strings.Contains(out, "SKIPDATA"))
	}
	out = runPcapCLI(t, "--stdout", "--memory", "1MiB", "--max-flows-per-window", "10", path)
	if n := strings.Count(out, "\n"); n != 11 || !strings.Contains(out, "SKIPDATA") {
		t.Errorf("--max-flows-per-window 10: %d records:\n%s", n, out)
	}
	for _, bad := range []string{"lots", "-1GiB", "2 parsecs"} {
		if _, stderr, code := runBinary(t, nil, "pcap", "--stdout", "--memory", bad, path); code != 2 || !strings.Contains(stderr, "--memory") {
			t.Errorf("--memory %s: exit %d, %s", bad, code, stderr)
		}
	}
}

// TestServeMemoryBudgetMetrics: the same capture replayed by vpcflow serve
// with the same budget exports the lost packets on /metrics. Serve runs
// GOMAXPROCS shards, each with two tables whose indexes start at 4 KiB:
// with the one interface in one shard, 4096 flows take 360 448 + 32 768 +
// 4096 B plus 8192 B per other shard, within 430 000 B on up to three
// shards; the 4097th flow's chunk does not fit.
func TestServeMemoryBudgetMetrics(t *testing.T) {
	if runtime.GOMAXPROCS(0) > 3 {
		t.Skip("the budget's arithmetic holds for up to three shards")
	}
	const flows, rounds, start = 5000, 3, 1700000400
	var pkts []e2e.Packet
	for r := 0; r < rounds; r++ {
		for i := 0; i < flows; i++ {
			pkts = append(pkts, e2e.Packet{Sec: start + int64(r), SrcMAC: e2e.RouterMAC, DstMAC: e2e.PingENIMAC,
				Src: "203.0.113.9", Dst: "10.1.2.15", Proto: "udp", SrcPort: uint16(10000 + i), DstPort: 53, Payload: 12})
		}
	}
	// A packet in the next window closes the first on packet time.
	pkts = append(pkts, e2e.Packet{Sec: start + 600, SrcMAC: e2e.RouterMAC, DstMAC: e2e.PingENIMAC,
		Src: "203.0.113.9", Dst: "10.1.2.15", Proto: "udp", SrcPort: 10000, DstPort: 53, Payload: 12})
	path := e2e.WritePcap(t, pkts)
	topo, err := os.ReadFile("../../examples/ping.yaml")
	if err != nil {
		t.Fatal(err)
	}
	topoPath := filepath.Join(t.TempDir(), "ping-flowlog.yaml")
	topo = append(topo, []byte(`
FlowLogs:
  - ResourceIds: [vpc-0a1b2c3d4e5f60001]
    ResourceType: VPC
    TrafficType: ALL
    LogDestinationType: s3
    LogDestination: arn:aws:s3:::memory-bucket
    MaxAggregationInterval: 600
`)...)
	if err := os.WriteFile(topoPath, topo, 0o644); err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	makeBucket(t, data, "memory-bucket")
	p := startServe(t, "--data-dir", data, "--topology", topoPath, "--replay", path, "--memory", "430000")
	// 2712 packets of the first window; the packet that closes it is
	// dropped too when it comes while the first window is being delivered
	// (its chunk is held until then, and the next window needs its own).
	re := regexp.MustCompile(`(?m)^vpcflow_flow_table_dropped_packets_total\{bound="memory"\} (\d+)$`)
	deadline := time.Now().Add(30 * time.Second)
	var metrics string
	var m []string
	for {
		metrics = p.get(t, "/metrics")
		if m = re.FindStringSubmatch(metrics); (m != nil && m[1] != "0") || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if m == nil || (m[1] != "2712" && m[1] != "2713") {
		t.Fatalf("dropped packets %v, want 2712 (or 2713):\n%s", m, metricLines(metrics, "dropped"))
	}
	for _, line := range []string{`vpcflow_flow_table_dropped_packets_total{bound="count"} 0`, "vpcflow_flows_dropped_total " + m[1]} {
		if !strings.Contains(metrics, line+"\n") {
			t.Errorf("metrics lack %q:\n%s", line, metricLines(metrics, "dropped"))
		}
	}
	p.stop(t)
}

func metricLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestPcapMillionFlowsNoSkipData: a generated capture of about a million
// flows in one 600 s window, converted with the defaults, loses nothing:
// no SKIPDATA, no packet dropped at a bound. (The count bound of 100 000
// flows per interface and window this replaces made 90% of them SKIPDATA.)
func TestPcapMillionFlowsNoSkipData(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and converts 5 M packets (~15 s)")
	}
	dir := t.TempDir()
	capPath := filepath.Join(dir, "big.pcap")
	if _, stderr, code := runBinary(t, nil, "gen", "pcap", "--packets", "5000000", "--flows", "960000", "--snaplen", "96", "--out", capPath); code != 0 {
		t.Fatalf("gen: exit %d: %s", code, stderr)
	}
	_, stderr, code := runBinary(t, nil, "pcap", "--local-cidr", "10.0.1.10/32,2600:1f18:7a3:f401::10/128", "--out", filepath.Join(dir, "out"), capPath)
	if code != 0 {
		t.Fatalf("pcap: exit %d: %s", code, stderr)
	}
	m := regexp.MustCompile(`records:  ([0-9,]+) \(([0-9,]+) OK, 0 NODATA, 0 SKIPDATA;`).FindStringSubmatch(stderr)
	if m == nil || !strings.Contains(stderr, "(0 late packets, 0 packets dropped at a bound)") {
		t.Fatalf("summary:\n%s", stderr)
	}
	n, _ := strconv.Atoi(strings.ReplaceAll(m[2], ",", ""))
	if n < 1_000_000 {
		t.Errorf("%d OK records: the capture was meant to have about a million flows", n)
	}
	os.RemoveAll(dir)
}
