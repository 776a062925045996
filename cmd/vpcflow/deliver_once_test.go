package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vpcflow/vpcflow/internal/e2e"
	"github.com/vpcflow/vpcflow/metricfilter"
)

// pingTwoENIs is examples/ping.yaml with a second instance interface in
// the subnet, 10.1.2.16, on a Nitro instance (60 s windows whatever the
// flow log asks), and a VPC flow log to the log group vpc-flow-logs at
// MaxAggregationInterval 600: the first interface has 600 s windows, the
// second 60 s ones. Both answer pings, and the subnet's ACL rejects the
// replies.
func pingTwoENIs(t *testing.T) string {
	t.Helper()
	ping, err := os.ReadFile("../../examples/ping.yaml")
	if err != nil {
		t.Fatal(err)
	}
	y := strings.Replace(string(ping), "SecurityGroups:", `  - NetworkInterfaceId: eni-0a1b2c3d4e5f60719
    SubnetId: subnet-0a1b2c3d4e5f60002
    MacAddress: 0a:1b:2c:3d:4e:60
    PrivateIpAddress: 10.1.2.16
    Attachment: {InstanceId: i-0a1b2c3d4e5f60719}
    Groups: [{GroupId: sg-0a1b2c3d4e5f60003}]
    Nitro: true
SecurityGroups:`, 1) + `
FlowLogs:
  - ResourceIds: [vpc-0a1b2c3d4e5f60001]
    ResourceType: VPC
    TrafficType: ALL
    LogDestinationType: cloud-watch-logs
    LogGroupName: vpc-flow-logs
    DeliverLogsPermissionArn: arn:aws:iam::111122223333:role/flowlogs
    MaxAggregationInterval: 600
`
	path := filepath.Join(t.TempDir(), "ping-two.yaml")
	if err := os.WriteFile(path, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const nitroMAC = "0a:1b:2c:3d:4e:60"

// pings returns an echo request from src to the interface (mac, dst) at
// sec and its reply a second later.
func pings(sec int64, src, mac, dst string) []e2e.Packet {
	return []e2e.Packet{
		{Sec: sec, SrcMAC: e2e.RouterMAC, DstMAC: mac, Src: src, Dst: dst, Proto: "icmp", ICMPType: 8, Payload: 56},
		{Sec: sec + 1, SrcMAC: mac, DstMAC: e2e.RouterMAC, Src: dst, Dst: src, Proto: "icmp", ICMPType: 0, Payload: 56},
	}
}

// rejectFilter puts the group and a metric filter counting REJECT records
// (value 1) into data.
func rejectFilter(t *testing.T, data string) {
	t.Helper()
	if _, errOut, code := runBinary(t, nil, "logs", "put", "--data-dir", data, "--group", "vpc-flow-logs", "-"); code != 0 {
		t.Fatalf("logs put: %d %s", code, errOut)
	}
	if _, errOut, code := runBinary(t, nil, "logs", "metric-filter", "put", "--data-dir", data, "--group", "vpc-flow-logs",
		"--name", "rejects", "--metric-name", "Rejects", "--metric-namespace", "VPC", "--metric-value", "1",
		"--pattern", "[version, account, eni, source, destination, srcport, destport, protocol, packets, bytes, windowstart, windowend, action=REJECT, flowlogstatus]"); code != 0 {
		t.Fatalf("metric-filter put: %d %s", code, errOut)
	}
}

// rejectDatapoints returns the Rejects datapoints per minute as
// "HH:MM=Sum".
func rejectDatapoints(t *testing.T, data string) []string {
	t.Helper()
	out, errOut, code := runBinary(t, nil, "logs", "metric-filter", "datapoints", "--data-dir", data,
		"--metric-namespace", "VPC", "--metric-name", "Rejects", "--output", "json")
	var dps struct {
		Datapoints []metricfilter.StatisticsDatapoint
	}
	if err := json.Unmarshal([]byte(out), &dps); code != 0 || err != nil {
		t.Fatalf("datapoints: %d %v %s", code, err, errOut)
	}
	var got []string
	for _, d := range dps.Datapoints {
		tm, err := time.Parse(time.RFC3339Nano, d.Timestamp)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, tm.UTC().Format("15:04")+"="+strconv.FormatFloat(d.Sum, 'f', -1, 64))
	}
	return got
}

// storedEvents returns the messages of the group's events.
func storedEvents(t *testing.T, data string) []string {
	t.Helper()
	out, errOut, code := runBinary(t, nil, "logs", "filter", "--data-dir", data, "--group", "vpc-flow-logs", "--output", "json")
	var res struct{ Events []struct{ Message string } }
	if err := json.Unmarshal([]byte(out), &res); code != 0 || err != nil {
		t.Fatalf("logs filter: %d %v %s", code, err, errOut)
	}
	var msgs []string
	for _, e := range res.Events {
		msgs = append(msgs, e.Message)
	}
	return msgs
}

// TestPcapDeliversWindowsOnce: converting the same capture into the same
// data dir again used to store every event a second time (and count it
// twice in the metric filters). Now the second run stores nothing and says
// so; a capture of the same time with one more conversation adds only its
// records. 1700000400 = 2023-11-14T22:20:00Z, a multiple of 600.
func TestPcapDeliversWindowsOnce(t *testing.T) {
	topo := pingTwoENIs(t)
	data := t.TempDir()
	rejectFilter(t, data)
	const t0 = 1700000400
	// 198.51.100.7 pings 10.1.2.15 (600 s windows) and 10.1.2.16 (60 s).
	first := append(pings(t0+1, "198.51.100.7", e2e.PingENIMAC, "10.1.2.15"), pings(t0+3, "198.51.100.7", nitroMAC, "10.1.2.16")...)
	capture := e2e.WritePcap(t, first)
	run := func(capture, wantSummary string) {
		t.Helper()
		_, errOut, code := runBinary(t, nil, "pcap", "--topology", topo, "--data-dir", data, capture)
		if code != 0 || !strings.Contains(errOut, wantSummary+"\n") {
			t.Fatalf("exit %d, want %q in\n%s", code, wantSummary, errOut)
		}
	}
	// Four records: a request ACCEPTed and a reply REJECTed per interface,
	// one window each.
	run(capture, "  delivered 4 events to log group(s) vpc-flow-logs")
	want := storedEvents(t, data)
	if len(want) != 4 {
		t.Fatalf("events %q", want)
	}
	run(capture, "  delivered 0 events to log group(s) vpc-flow-logs; 2 capture windows already in the store, not delivered again: 4 events already stored")
	if got := storedEvents(t, data); !reflect.DeepEqual(got, want) {
		t.Errorf("events after the second run\n%q\nwant\n%q", got, want)
	}
	// REJECTs at 22:20:02 and 22:20:04: Sum 2 in minute 22:20, not 4.
	if got := rejectDatapoints(t, data); !reflect.DeepEqual(got, []string{"22:20=2"}) {
		t.Errorf("datapoints %q", got)
	}
	// Another capture of the same time, with 198.51.100.8 pinging
	// 10.1.2.15 too: the 600 s window of 10.1.2.15 is delivered in part
	// (its two new records), the 60 s one of 10.1.2.16 not at all.
	more := append(first, pings(t0+5, "198.51.100.8", e2e.PingENIMAC, "10.1.2.15")...)
	run(e2e.WritePcap(t, more), "  delivered 2 events to log group(s) vpc-flow-logs; 1 capture window already in the store, not delivered again, "+
		"and 1 in part (their records not stored yet were delivered): 4 events already stored")
	got := storedEvents(t, data)
	if len(got) != 6 || !strings.Contains(strings.Join(got, "\n"), "10.1.2.15 198.51.100.8 0 0 1 1 84 1700000406 1700000406 REJECT OK") {
		t.Errorf("events after the third run: %q", got)
	}
	if got := rejectDatapoints(t, data); !reflect.DeepEqual(got, []string{"22:20=3"}) {
		t.Errorf("datapoints after the third run %q", got)
	}
}

// TestPcapAlarmWaitsFor600sWindows: a 600 s flow log over an interface
// with 600 s windows (10.1.2.15) and one on a Nitro instance (60 s). The
// Nitro interface's windows close every minute, and their records used to
// move the alarms on while the 600 s window was still open: minute 22:20
// was judged on its one Nitro REJECT ("[1 (14/11/23 22:20:00)]", OK)
// although `metric-filter datapoints` lists 4 once the 600 s window's
// three REJECTs arrive. Now the minute is judged when every window that
// can hold its records is delivered, from the datapoints the user lists.
func TestPcapAlarmWaitsFor600sWindows(t *testing.T) {
	topo := pingTwoENIs(t)
	data := t.TempDir()
	rejectFilter(t, data)
	if _, errOut, code := runBinary(t, nil, "logs", "alarm", "put", "--data-dir", data, "--alarm-name", "rejects",
		"--namespace", "VPC", "--metric-name", "Rejects", "--statistic", "Sum", "--period", "60", "--evaluation-periods", "1",
		"--threshold", "2", "--comparison-operator", "GreaterThanOrEqualToThreshold"); code != 0 {
		t.Fatalf("alarm put: %d %s", code, errOut)
	}
	const t0 = 1700000400 // 22:20:00
	var pkts []e2e.Packet
	pkts = append(pkts, pings(t0+1, "198.51.100.7", nitroMAC, "10.1.2.16")...) // REJECT at 22:20:02 (60 s window)
	for i, src := range []string{"198.51.100.7", "198.51.100.8", "198.51.100.9"} {
		pkts = append(pkts, pings(t0+3+2*int64(i), src, e2e.PingENIMAC, "10.1.2.15")...) // REJECTs at :04, :06, :08 (600 s window)
	}
	pkts = append(pkts, pings(t0+70, "198.51.100.7", nitroMAC, "10.1.2.16")...)  // REJECT at 22:21:11
	pkts = append(pkts, pings(t0+130, "198.51.100.7", nitroMAC, "10.1.2.16")...) // REJECT at 22:22:11
	if _, errOut, code := runBinary(t, nil, "pcap", "--topology", topo, "--data-dir", data, e2e.WritePcap(t, pkts)); code != 0 ||
		!strings.Contains(errOut, "delivered 12 events") {
		t.Fatalf("pcap: %d %s", code, errOut)
	}
	if got := rejectDatapoints(t, data); !reflect.DeepEqual(got, []string{"22:20=4", "22:21=1", "22:22=1"}) {
		t.Fatalf("datapoints %q", got)
	}
	// Minute 22:20 (4 >= 2) is judged at its end, 22:21 (1) at its end;
	// 22:22 waits for an event after it. Newest first.
	out, errOut, code := runBinary(t, nil, "logs", "alarm", "history", "--data-dir", data, "--alarm-name", "rejects", "--output", "json")
	var h struct {
		AlarmHistoryItems []metricfilter.AlarmHistoryItem
	}
	if err := json.Unmarshal([]byte(out), &h); code != 0 || err != nil {
		t.Fatalf("history: %d %v %s", code, err, errOut)
	}
	type item struct{ at, summary, reason string }
	var got []item
	for _, it := range h.AlarmHistoryItems {
		var d struct{ NewState metricfilter.HistoryState }
		json.Unmarshal([]byte(it.HistoryData), &d)
		got = append(got, item{canonicalAlarmTime(t, it.Timestamp), it.HistorySummary, d.NewState.StateReason})
	}
	want := []item{
		{"2023-11-14T22:22:00Z", "Alarm updated from ALARM to OK",
			"Threshold Crossed: 0 out of the last 1 datapoints [1 (14/11/23 22:21:00)] was not greater than or equal to the threshold (2) (minimum 1 datapoints for ALARM)."},
		{"2023-11-14T22:21:00Z", "Alarm updated from INSUFFICIENT_DATA to ALARM",
			"Threshold Crossed: 1 out of the last 1 datapoints [4 (14/11/23 22:20:00)] was greater than or equal to the threshold (2) (minimum 1 datapoints for ALARM)."},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("history\n%+v\nwant\n%+v", got, want)
	}
	// The text form says the same.
	text, _, _ := runBinary(t, nil, "logs", "alarm", "history", "--data-dir", data, "--alarm-name", "rejects")
	if !strings.Contains(text, "[4 (14/11/23 22:20:00)]") || strings.Contains(text, "[1 (14/11/23 22:20:00)]") {
		t.Errorf("alarm history:\n%s", text)
	}
}

// TestServeRestartDeliversOnce: `vpcflow serve` restarted over the same
// replay delivers the same windows through the same path; the log store
// keeps one copy, and the service says the records were there already.
func TestServeRestartDeliversOnce(t *testing.T) {
	t.Parallel()
	// The service checks a flow log's role against its IAM, which has none
	// here: a flow log without one writes as the service.
	y, err := os.ReadFile(pingTwoENIs(t))
	if err != nil {
		t.Fatal(err)
	}
	topo := filepath.Join(t.TempDir(), "no-role.yaml")
	os.WriteFile(topo, []byte(strings.Replace(string(y), "    DeliverLogsPermissionArn: arn:aws:iam::111122223333:role/flowlogs\n", "", 1)), 0o644)
	data := t.TempDir()
	const t0 = 1700000400
	capture := e2e.WritePcap(t, append(pings(t0+1, "198.51.100.7", e2e.PingENIMAC, "10.1.2.15"), pings(t0+3, "198.51.100.7", nitroMAC, "10.1.2.16")...))
	serveOnce := func() (health, string) {
		t.Helper()
		p := startServe(t, "--data-dir", data, "--topology", topo, "--replay", capture)
		deadline := time.Now().Add(30 * time.Second)
		h := p.health(t)
		for ; !h.SourcesEnded && time.Now().Before(deadline); h = p.health(t) {
			time.Sleep(20 * time.Millisecond)
		}
		p.stop(t)
		return h, p.log()
	}
	if h, log := serveOnce(); h.Records != 4 || h.RecordsAlreadyStored != 0 || !strings.Contains(log, "stopped: 4 packets, 4 records delivered\n") {
		t.Fatalf("first start: %+v\n%s", h, log)
	}
	want := storedEvents(t, data)
	h, log := serveOnce()
	if got := storedEvents(t, data); len(want) != 4 || !reflect.DeepEqual(got, want) {
		t.Errorf("events after a restart\n%q\nwant\n%q", got, want)
	}
	if h.Records != 4 || h.RecordsAlreadyStored != 4 ||
		!strings.Contains(log, "stopped: 4 packets, 4 records delivered (4 of them already in the log store from an earlier delivery of their windows, not stored again)\n") {
		t.Fatalf("second start: %+v, want the 4 records delivered and already stored\n%s", h, log)
	}
}
