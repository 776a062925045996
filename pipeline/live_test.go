//go:build linux

package pipeline

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vpcflow/vpcflow/capture/live"
	"github.com/vpcflow/vpcflow/flowlog"
	"github.com/vpcflow/vpcflow/internal/clock"
	"github.com/vpcflow/vpcflow/internal/netnstest"
	"github.com/vpcflow/vpcflow/topology"
)

// The veth ends get the addresses of testdata/live.yaml's ENIs; the
// capture runs on a's end (side 0).
var (
	liveMACs = [2]string{"0a:00:00:00:00:0a", "0a:00:00:00:00:0b"}
	liveIPs  = [2]string{"10.9.0.10", "10.9.0.11"}
)

const (
	eniA = "eni-0a000000000000001"
	eniB = "eni-0b000000000000001"
)

const liveFormat = "${interface-id} ${flow-direction} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}"

// liveFlowLog is a flow log of the VPC of testdata/live.yaml with an
// interval of `interval` seconds (AWS takes only 60 and 600; shorter
// windows let a test see several close on the clock within seconds).
func liveFlowLog(t *testing.T, interval int64) *flowlog.FlowLog {
	t.Helper()
	iv := 60
	fls, err := flowlog.Build(nil, &flowlog.Spec{ResourceIds: []string{"vpc-0e0000000000000a1"}, ResourceType: "VPC", TrafficType: "ALL",
		LogDestinationType: "s3", LogDestination: "arn:aws:s3:::b", MaxAggregationInterval: &iv, LogFormat: liveFormat}, "test")
	if err != nil {
		t.Fatal(err)
	}
	fls[0].ID = "fl-live"
	fls[0].MaxAggregationInterval = interval
	return fls[0]
}

// sumRecords adds up packets and bytes of the OK records by every other
// field but start and end, so flows split over windows count once; it
// also counts the records of each log status.
func sumRecords(t *testing.T, lines []string) (map[string][2]int, map[string]int) {
	t.Helper()
	sums, status := map[string][2]int{}, map[string]int{}
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) != 13 {
			t.Fatalf("record %q", l)
		}
		status[f[12]]++
		if f[12] != "OK" {
			continue
		}
		p, _ := strconv.Atoi(f[7])
		b, _ := strconv.Atoi(f[8])
		k := strings.Join(append(append(f[:7:7], f[11]), f[12]), " ")
		s := sums[k]
		sums[k] = [2]int{s[0] + p, s[1] + b}
	}
	return sums, status
}

// TestLiveRecords captures one end of a veth pair between two namespaces
// while datagrams and pings cross it: the records count exactly the
// packets sent (and the veth's own counters), security group a decides
// ACCEPT or REJECT, and windows close on the clock a grace after their
// end, with no packet to close them.
func TestLiveRecords(t *testing.T) {
	pair := netnstest.NewPair(t, liveMACs, liveIPs, 24)
	topo, err := topology.Load("testdata/live.yaml")
	if err != nil {
		t.Fatal(err)
	}
	pair.ListenUDP(t, 0, 5000)
	pair.ListenUDP(t, 0, 6000)
	fl := liveFlowLog(t, 2)
	lcfg := live.DefaultConfiguration()
	lcfg.Interface = pair.End[0].Veth
	rec := &recorder{}
	var mu sync.Mutex
	var delivered []Delivery
	cfg := DefaultConfig()
	cfg.Topology, cfg.FlowLogs, cfg.Inputs = topo, []*flowlog.FlowLog{fl}, []Input{LiveInput(lcfg, "")}
	p, err := New(cfg, Dependencies{
		Destination: func(*flowlog.FlowLog) flowlog.Destination { return rec },
		Delivered: func(d Delivery) {
			mu.Lock()
			delivered = append(delivered, d)
			mu.Unlock()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	// The capture's socket must be opened inside a's namespace.
	if err := pair.Do(0, func() error { return p.Start(context.Background()) }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Stop() })
	before := pair.Counters(t, 0)
	pair.SendUDP(t, 1, 40000, 5000, 20, 100)
	pair.SendUDP(t, 1, 40001, 6000, 10, 100)
	pair.Ping(t, 0, 3, 56)
	end := time.Now().Unix()
	// Wait for a window that starts after the traffic: every window with
	// traffic has then closed, on the clock alone.
	deadline := time.Now().Add(15 * time.Second)
	for {
		mu.Lock()
		done := len(delivered) > 0 && delivered[len(delivered)-1].Start > end
		mu.Unlock()
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no window after the traffic delivered in 15 s: %+v", delivered)
		}
		time.Sleep(20 * time.Millisecond)
	}
	got := pair.Counters(t, 0).Sub(before)
	lines := rec.get(fl.ID)
	mu.Lock()
	onClock := slices.Clone(delivered) // Stop closes the open window early
	mu.Unlock()
	sum, err := p.Stop()
	if err != nil {
		t.Fatal(err)
	}
	sums, status := sumRecords(t, lines)
	// By hand: a datagram of 100 bytes is 128 at the IP layer, an echo of
	// 56 bytes 84. a's group accepts UDP 5000 and ICMP, rejects UDP 6000;
	// b accepts all; replies to a's pings are tracked.
	want := map[string][2]int{
		eniA + " ingress 10.9.0.11 10.9.0.10 40000 5000 17 ACCEPT OK": {20, 2560},
		eniB + " egress 10.9.0.11 10.9.0.10 40000 5000 17 ACCEPT OK":  {20, 2560},
		eniA + " ingress 10.9.0.11 10.9.0.10 40001 6000 17 REJECT OK": {10, 1280},
		eniB + " egress 10.9.0.11 10.9.0.10 40001 6000 17 ACCEPT OK":  {10, 1280},
		eniA + " egress 10.9.0.10 10.9.0.11 0 0 1 ACCEPT OK":          {3, 252},
		eniB + " ingress 10.9.0.10 10.9.0.11 0 0 1 ACCEPT OK":         {3, 252},
		eniB + " egress 10.9.0.11 10.9.0.10 0 0 1 ACCEPT OK":          {3, 252},
		eniA + " ingress 10.9.0.11 10.9.0.10 0 0 1 ACCEPT OK":         {3, 252},
	}
	if !maps.Equal(sums, want) {
		t.Errorf("records (summed over windows):\n%s\nwant\n%s\nlines:\n%s", fmtSums(sums), fmtSums(want), strings.Join(lines, "\n"))
	}
	// a's records are what its veth counted: 33 received and 3 sent, with
	// 14 bytes of Ethernet header each on the link.
	var pa, ba int
	for k, v := range sums {
		if strings.HasPrefix(k, eniA) {
			pa, ba = pa+v[0], ba+v[1]
		}
	}
	if frames := int(got.RxPackets + got.TxPackets); pa != frames || ba != int(got.RxBytes+got.TxBytes)-14*frames {
		t.Errorf("eni a: %d packets, %d bytes in records; the veth counted %+v", pa, ba, got)
	}
	if status["SKIPDATA"] != 0 {
		t.Errorf("%d SKIPDATA records without a drop", status["SKIPDATA"])
	}
	grace := lcfg.Grace()
	for _, d := range onClock {
		if !d.Paced || d.Latency < grace || d.Latency > grace+3*time.Second {
			t.Errorf("window %d-%d delivered %v after its end: want on the clock, a grace (%v) after", d.Start, d.End, d.Latency, grace)
		}
	}
	if len(sum.Capture) != 1 || sum.Capture[0].Frames != 36 || sum.Capture[0].KernelDrops != 0 || sum.Flow.Late != 0 {
		t.Errorf("capture %+v, late %d: want 36 frames, no drop, nothing late", sum.Capture, sum.Flow.Late)
	}
}

func fmtSums(m map[string][2]int) string {
	var out []string
	for k, v := range m {
		out = append(out, fmt.Sprintf("  %s: %d packets, %d bytes", k, v[0], v[1]))
	}
	slices.Sort(out)
	return strings.Join(out, "\n")
}

// TestLiveDropsSkipData holds the pipeline's clock before the frames'
// kernel timestamps, so it takes no frame while a flood fills a one-block
// ring: the kernel drops. Then the clock moves on: every frame read is in
// the records, the drops are in the summary, and the windows of the flood
// say SKIPDATA for the interface's ENI (pinned), as AWS says when it could
// not capture everything.
func TestLiveDropsSkipData(t *testing.T) {
	pair := netnstest.NewPair(t, liveMACs, liveIPs, 24)
	topo, err := topology.Load("testdata/live.yaml")
	if err != nil {
		t.Fatal(err)
	}
	pair.ListenUDP(t, 0, 5000)
	fl := liveFlowLog(t, 60)
	lcfg := live.DefaultConfiguration()
	lcfg.Interface = pair.End[0].Veth
	lcfg.SnapLen, lcfg.BlockSize, lcfg.Blocks, lcfg.BatchBytes, lcfg.QueueBatches = 64, 4096, 1, 4096, 1
	rec := &recorder{}
	start := time.Unix(time.Now().Unix()/60*60-60, 0)
	clk := clock.NewFake(start)
	cfg := DefaultConfig()
	cfg.Topology, cfg.FlowLogs, cfg.Inputs = topo, []*flowlog.FlowLog{fl}, []Input{LiveInput(lcfg, eniA)}
	p, err := New(cfg, Dependencies{Clock: clk, Destination: func(*flowlog.FlowLog) flowlog.Destination { return rec }})
	if err != nil {
		t.Fatal(err)
	}
	if err := pair.Do(0, func() error { return p.Start(context.Background()) }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Stop() })
	before := pair.Counters(t, 0)
	const n = 2000
	pair.SendUDP(t, 1, 40000, 5000, n, 100)
	floodEnd := time.Now()
	time.Sleep(2 * lcfg.BlockTimeout)
	// Now the frames are due: the pipeline takes them and reads the
	// kernel's counters before it closes the windows.
	clk.Advance(floodEnd.Sub(start) + 3*time.Minute)
	time.Sleep(100 * time.Millisecond)
	sum, err := p.Stop()
	if err != nil {
		t.Fatal(err)
	}
	got := pair.Counters(t, 0).Sub(before)
	sums, status := sumRecords(t, rec.get(fl.ID))
	c := sum.Capture[0]
	key := eniA + " ingress 10.9.0.11 10.9.0.10 40000 5000 17 ACCEPT OK"
	if c.KernelDrops == 0 || c.Frames+c.KernelDrops != n || got.RxPackets != n {
		t.Errorf("veth received %d, %d frames read + %d dropped: want %d = read + dropped, some dropped", got.RxPackets, c.Frames, c.KernelDrops, n)
	}
	if sums[key][0] != int(c.Frames) || len(sums) != 1 {
		t.Errorf("records %v: want %d packets (every frame read) in %q only", sums, c.Frames, key)
	}
	if status["SKIPDATA"] == 0 || sum.Flow.LostPackets != c.KernelDrops {
		t.Errorf("%d SKIPDATA records, %d lost packets in the aggregator: want SKIPDATA and %d", status["SKIPDATA"], sum.Flow.LostPackets, c.KernelDrops)
	}
	// The window of the flood (eni a's only OK records) says SKIPDATA too.
	var okWindow string
	skip := map[string]bool{}
	for _, l := range rec.get(fl.ID) {
		f := strings.Fields(l)
		if f[12] == "OK" {
			okWindow = f[9]
		}
		if f[12] == "SKIPDATA" {
			if f[0] != eniA {
				t.Errorf("SKIPDATA for %s, which is not on the interface: %s", f[0], l)
			}
			skip[f[9]] = true
		}
	}
	if okWindow == "" || !skip[strconv.FormatInt(floorDiv(mustAtoi(t, okWindow), 60)*60, 10)] {
		t.Errorf("the flood's window (flow start %s) has no SKIPDATA record; SKIPDATA windows %v", okWindow, skip)
	}
	t.Logf("%d frames: %d read, %d dropped by the kernel; %d SKIPDATA records", n, c.Frames, c.KernelDrops, status["SKIPDATA"])
}

func mustAtoi(t *testing.T, s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
