package flow

import (
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"sync"
	"testing"
)

func TestAWSFlags(t *testing.T) {
	// FIN 1, SYN 2, RST 4, SYN-ACK 18; ACK only inside SYN-ACK;
	// unsupported flags never appear (SYN+ECE → 2).
	const fin, syn, rst, psh, ack, ece = 0x01, 0x02, 0x04, 0x08, 0x10, 0x40
	tests := []struct {
		raw  uint8
		want uint8
	}{
		{syn, 2}, {syn | ack, 18}, {ack, 0}, {psh | ack, 0}, {fin | ack, 1},
		{rst, 4}, {rst | ack, 4}, {syn | ece, 2}, {fin | syn | rst | ack, 23},
	}
	for _, tt := range tests {
		if got := AWSFlags(tt.raw); got != tt.want {
			t.Errorf("AWSFlags(%#x) = %d, want %d", tt.raw, got, tt.want)
		}
	}
}

// collector gathers windows for assertions.
type collector struct {
	mu      sync.Mutex
	windows []Window
}

func (c *collector) sink(w *Window) {
	c.mu.Lock()
	c.windows = append(c.windows, *w)
	c.mu.Unlock()
}

func run(t *testing.T, cfg Configuration, intervals []int64, obs []Observation) ([]Window, Stats) {
	t.Helper()
	var c collector
	a, err := New(cfg, c.sink)
	if err != nil {
		t.Fatal(err)
	}
	for _, iv := range intervals {
		if _, err := a.AddCapture(iv); err != nil {
			t.Fatal(err)
		}
	}
	a.Start()
	for i := range obs {
		a.Add(&obs[i])
	}
	st := a.Close()
	return c.windows, st
}

const (
	client = "198.51.100.40"
	server = "10.1.2.15"
)

func pkt(sec int64, src, dst string, sport, dport uint16, bytes uint32, rawFlags uint8, dir uint8) Observation {
	return Observation{
		Time: sec * 1e9, Src: netip.MustParseAddr(src), Dst: netip.MustParseAddr(dst),
		SrcPort: sport, DstPort: dport, Proto: 6, Dir: dir, Action: 1,
		TCPFlags: AWSFlags(rawFlags), Bytes: bytes,
	}
}

type flowSummary struct {
	src            string
	packets, bytes uint64
	start, end     int64
	flags          uint8
}

func summarize(w Window) []flowSummary {
	var out []flowSummary
	for _, f := range w.Flows.Slice() {
		out = append(out, flowSummary{f.SrcAddr().String(), f.Packets, f.Bytes, f.Start, f.End, f.TCPFlags})
	}
	return out
}

// TestTCPFlagsWorkedExample rebuilds the worked example of
// docs/aws-behaviour.md, "TCP flags" (the server's interface, three 60 s
// windows) from packets and checks the six flows it lists.
func TestTCPFlagsWorkedExample(t *testing.T) {
	const syn, ack, fin, psh = 0x02, 0x10, 0x01, 0x08
	const in, out = 1, 2
	var o []Observation
	// Window 1 (1700001000-1700001059): a long connection opens.
	o = append(o, pkt(1700001000, client, server, 55001, 8080, 60, syn, in))
	o = append(o, pkt(1700001000, server, client, 8080, 55001, 60, syn|ack, out))
	for i := 0; i < 7; i++ { // 7 more client packets: 7*94 = 658 bytes
		o = append(o, pkt(1700001001+int64(i)*8, client, server, 55001, 8080, 94, psh|ack, in))
	}
	for i := 0; i < 6; i++ { // 6 more server packets: 6*726 = 4356, total 4420 with a 64-byte one
		o = append(o, pkt(1700001002+int64(i)*9, server, client, 8080, 55001, 726, psh|ack, out))
	}
	o[len(o)-1].Bytes = 726 + 4                                              // 60 + 5*726 + 730 = 4420
	o = append(o, pkt(1700001058, client, server, 55001, 8080, 94, ack, in)) // 9 packets, 60+8*94 = 812
	// Window 2 (1700001060-1700001119): it closes.
	o = append(o, pkt(1700001061, client, server, 55001, 8080, 52, fin|ack, in))
	o = append(o, pkt(1700001061, server, client, 8080, 55001, 60, ack, out))
	o = append(o, pkt(1700001062, server, client, 8080, 55001, 52, fin|ack, out))
	o = append(o, pkt(1700001065, client, server, 55001, 8080, 52, ack, in))
	o = append(o, pkt(1700001069, client, server, 55001, 8080, 52, ack, in))
	o = append(o, pkt(1700001070, client, server, 55001, 8080, 60, ack, in))
	o = append(o, pkt(1700001070, server, client, 8080, 55001, 52, ack, out))
	// Window 3 (1700001120-1700001179): a whole short connection.
	const c2 = "198.51.100.41"
	o = append(o, pkt(1700001122, c2, server, 60210, 8080, 60, syn, in))
	o = append(o, pkt(1700001122, server, c2, 8080, 60210, 60, syn|ack, out))
	for i := 0; i < 4; i++ {
		o = append(o, pkt(1700001123, c2, server, 60210, 8080, 80, ack, in)) // 60 + 4*80 = 380
	}
	o = append(o, pkt(1700001124, c2, server, 60210, 8080, 100, fin|ack, in)) // 480
	for i := 0; i < 3; i++ {
		o = append(o, pkt(1700001123, server, c2, 8080, 60210, 400, psh|ack, out)) // 60 + 1200 = 1260
	}
	o = append(o, pkt(1700001124, server, c2, 8080, 60210, 50, fin|ack, out)) // 1310
	// Captured out of order within its window: times do not need to be sorted
	// inside a window.
	ws, st := run(t, Configuration{Shards: 2, MaxFlowsPerWindow: 10, MaxFlows: 100, BatchSize: 3}, []int64{60}, o)
	if len(ws) != 3 {
		t.Fatalf("%d windows", len(ws))
	}
	// Expected values: the example's lines (packets, bytes, start, end, flags).
	// Flows are ordered by capture, start, end, then key.
	want := [][]flowSummary{
		{{server, 7, 4420, 1700001000, 1700001047, 18}, {client, 9, 812, 1700001000, 1700001058, 2}},
		{{client, 4, 216, 1700001061, 1700001070, 1}, {server, 3, 164, 1700001061, 1700001070, 1}},
		{{c2, 6, 480, 1700001122, 1700001124, 3}, {server, 5, 1310, 1700001122, 1700001124, 19}},
	}
	// (The example's reply line ends at ...058; ours ends with its last packet,
	// at 1700001002 + 5*9 = 1700001047.)
	for i, w := range ws {
		if w.Start != 1700001000+int64(i)*60 || w.Interval != 60 {
			t.Errorf("window %d starts %d", i, w.Start)
		}
		if got := summarize(w); !reflect.DeepEqual(got, want[i]) {
			t.Errorf("window %d:\n got %+v\nwant %+v", i, got, want[i])
		}
	}
	if st.Observations != uint64(len(o)) || st.Late != 0 || st.Windows != 3 || st.Flows != 6 {
		t.Errorf("stats %+v", st)
	}
}

func TestWindowBoundarySplitsFlow(t *testing.T) {
	o := []Observation{
		pkt(1700000099, client, server, 1, 2, 100, 0, 1), // window [1700000040, 1700000100)
		pkt(1700000100, client, server, 1, 2, 100, 0, 1),
	}
	ws, _ := run(t, Configuration{Shards: 1, MaxFlowsPerWindow: 10, MaxFlows: 10, BatchSize: 1}, []int64{60}, o)
	if len(ws) != 2 || ws[0].Flows.Len() != 1 || ws[1].Flows.Len() != 1 ||
		ws[0].Flows.At(0).End != 1700000099 || ws[1].Flows.At(0).Start != 1700000100 {
		t.Fatalf("%+v", ws)
	}
}

func TestEmptyWindowsAndIntervals(t *testing.T) {
	// Captures 0 (60 s) and 1 (600 s). Traffic at 0 s and 300 s.
	o := []Observation{pkt(1700000400, client, server, 1, 2, 10, 0, 1), pkt(1700000700, client, server, 1, 2, 10, 0, 1)}
	o[0].Capture, o[1].Capture = 0, 1
	ws, _ := run(t, Configuration{Shards: 3, MaxFlowsPerWindow: 10, MaxFlows: 10, BatchSize: 8}, []int64{60, 600}, o)
	var got []string
	for _, w := range ws {
		got = append(got, fmt.Sprintf("%d@%d:%d", w.Interval, w.Start, w.Flows.Len()))
	}
	// Both times fall in the 600 s window starting at 1700000400 (a multiple
	// of 600), which holds only capture 1's flow. The 60 s windows run from
	// 1700000400 to 1700000700, empty ones included.
	want60 := []string{"60@1700000400:1", "60@1700000460:0", "60@1700000520:0", "60@1700000580:0", "60@1700000640:0", "60@1700000700:0"}
	want600 := []string{"600@1700000400:1"}
	var got60, got600 []string
	for _, g := range got {
		if g[:3] == "60@" {
			got60 = append(got60, g)
		} else {
			got600 = append(got600, g)
		}
	}
	if !reflect.DeepEqual(got60, want60) || !reflect.DeepEqual(got600, want600) {
		t.Errorf("got %v", got)
	}
}

func TestLatePacketJoinsOpenWindow(t *testing.T) {
	o := []Observation{
		pkt(1700000100, client, server, 1, 2, 10, 0, 1),
		pkt(1700000030, client, server, 1, 2, 10, 0, 1), // older than the open window [1700000100, 1700000160)
	}
	ws, st := run(t, Configuration{Shards: 1, MaxFlowsPerWindow: 10, MaxFlows: 10, BatchSize: 1}, []int64{60}, o)
	if len(ws) != 1 || ws[0].Flows.At(0).Packets != 2 || ws[0].Flows.At(0).Start != 1700000100 || st.Late != 1 {
		t.Errorf("windows %+v stats %+v", ws, st)
	}
}

func TestBoundsGiveSkipData(t *testing.T) {
	var o []Observation
	for i := 0; i < 50; i++ {
		o = append(o, pkt(1700000000, client, server, uint16(1000+i), 80, 40, 0, 1))
	}
	o = append(o, pkt(1700000000, client, server, 1000, 80, 40, 0, 1)) // existing flow still counts
	ws, st := run(t, Configuration{Shards: 2, MaxFlowsPerWindow: 20, MaxFlows: 1000, BatchSize: 7}, []int64{60}, o)
	if len(ws) != 1 || ws[0].Flows.Len() != 20 || ws[0].Skipped[0] != 30 || st.DroppedPackets != 30 || st.DroppedByBudget != 0 {
		t.Fatalf("flows %d skipped %v stats %+v", ws[0].Flows.Len(), ws[0].Skipped, st)
	}
	if ws[0].Flows.At(0).SrcPort != 1000 || ws[0].Flows.At(0).Packets != 2 {
		t.Errorf("first flow %+v", ws[0].Flows.At(0))
	}
	// The global bound.
	ws, st = run(t, Configuration{Shards: 1, MaxFlowsPerWindow: 1000, MaxFlows: 5, BatchSize: 7}, []int64{60}, o)
	if ws[0].Flows.Len() != 5 || ws[0].Skipped[0] != 45 || st.PeakFlows != 5 {
		t.Fatalf("global bound: flows %d skipped %v stats %+v", ws[0].Flows.Len(), ws[0].Skipped, st)
	}
}

func TestShardingIsDeterministic(t *testing.T) {
	var o []Observation
	for i := 0; i < 2000; i++ {
		p := pkt(1700000000+int64(i/10), fmt.Sprintf("10.0.%d.%d", i%7, i%13), server, uint16(i%17), 80, uint32(40+i), 0x02, 1)
		p.Capture = uint32(i % 5)
		o = append(o, p)
	}
	ivs := []int64{60, 60, 600, 60, 600}
	one, _ := run(t, Configuration{Shards: 1, MaxFlowsPerWindow: 1e5, MaxFlows: 1e6, BatchSize: 1}, ivs, o)
	many, _ := run(t, Configuration{Shards: 4, MaxFlowsPerWindow: 1e5, MaxFlows: 1e6, BatchSize: 64}, ivs, o)
	if !reflect.DeepEqual(one, many) {
		t.Error("1 shard and 4 shards disagree")
	}
}

func TestConfigErrors(t *testing.T) {
	if _, err := New(Configuration{}, func(*Window) {}); err == nil {
		t.Error("zero config accepted")
	}
	a, _ := New(DefaultConfiguration(), func(*Window) {})
	if _, err := a.AddCapture(0); err == nil {
		t.Error("interval 0 accepted")
	}
}

// TestLargeWindowSortedInChunks: a window of more flows than a chunk holds,
// from several shards, comes out sorted across chunks (capture, start,
// end, key), with every flow once, as one shard gives it.
func TestLargeWindowSortedInChunks(t *testing.T) {
	var o []Observation
	const n = 3*chunkSize + 1001 // full chunks and partial ones in every shard
	for i := range n {
		p := pkt(1700000000+int64(i%50), fmt.Sprintf("10.%d.%d.%d", i%3, (i/256)%256, i%256), server, uint16(i), 80, 40, 0x02, 1)
		p.Capture = uint32(i % 3)
		o = append(o, p, p) // two packets each
	}
	cfg := Configuration{Shards: 3, MaxFlowsPerWindow: 1e5, MaxFlows: 1e6, BatchSize: 100}
	many, _ := run(t, cfg, []int64{600, 600, 600}, o)
	cfg.Shards = 1
	one, _ := run(t, cfg, []int64{600, 600, 600}, o)
	if len(many) != 1 || many[0].Flows.Len() != n {
		t.Fatalf("windows %d, flows %d", len(many), many[0].Flows.Len())
	}
	fs := many[0].Flows.Slice()
	for i := 1; i < len(fs); i++ {
		if !lessFlow(&fs[i-1], &fs[i]) {
			t.Fatalf("flow %d %+v not before flow %d %+v", i-1, fs[i-1], i, fs[i])
		}
		if fs[i].Packets != 2 {
			t.Fatalf("flow %d has %d packets", i, fs[i].Packets)
		}
	}
	if !slices.Equal(fs, one[0].Flows.Slice()) {
		t.Error("3 shards and 1 shard disagree")
	}
	for i := range fs {
		if *many[0].Flows.At(i) != fs[i] {
			t.Fatalf("At(%d) differs from Slice()[%d]", i, i)
		}
	}
}

// TestCaptureGap: a silence longer than CaptureGap is a gap in the capture:
// the window before it is closed as it was, none is emitted inside it, and
// it is reported; without the bound every empty window is emitted.
func TestCaptureGap(t *testing.T) {
	obs := []Observation{pkt(1700000400, client, server, 40000, 443, 60, 0x02, 0),
		pkt(1700010000, client, server, 40000, 443, 60, 0x10, 0)}
	starts := func(ws []Window) []int64 {
		var out []int64
		for _, w := range ws {
			out = append(out, w.Start)
		}
		return out
	}
	cfg := DefaultConfiguration()
	cfg.CaptureGap = 3600
	ws, st := run(t, cfg, []int64{60}, obs)
	// 1700010000 = 60 × 28333500: the second packet opens its own window.
	if got, want := starts(ws), []int64{1700000400, 1700010000}; !slices.Equal(got, want) {
		t.Errorf("windows %v, want %v", got, want)
	}
	if st.GapCount != 1 || !slices.Equal(st.Gaps, []Gap{{1700000400, 1700010000}}) {
		t.Errorf("gaps %d %v", st.GapCount, st.Gaps)
	}
	cfg.CaptureGap = 0
	ws, st = run(t, cfg, []int64{60}, obs)
	// (1700010000 - 1700000400) / 60 + 1 = 161 windows.
	if len(ws) != 161 || st.GapCount != 0 {
		t.Errorf("without a gap bound: %d windows, %d gaps; want 161 and 0", len(ws), st.GapCount)
	}
}

// stepRun is run with an Advance between observations: steps are applied
// in order, an observation when obs is set, else Advance(advance).
type step struct {
	obs     *Observation
	advance int64
	lost    *lostReport
}

type lostReport struct {
	capture  uint32
	from, to int64
	packets  uint64
}

func stepRun(t *testing.T, cfg Configuration, intervals []int64, steps []step) ([]Window, Stats) {
	t.Helper()
	var c collector
	a, err := New(cfg, c.sink)
	if err != nil {
		t.Fatal(err)
	}
	for _, iv := range intervals {
		if _, err := a.AddCapture(iv); err != nil {
			t.Fatal(err)
		}
	}
	a.Start()
	for _, s := range steps {
		switch {
		case s.obs != nil:
			a.Add(s.obs)
		case s.lost != nil:
			a.MarkLost(s.lost.capture, s.lost.from, s.lost.to, s.lost.packets)
		default:
			a.Advance(s.advance)
		}
	}
	st := a.Close()
	return c.windows, st
}

// TestHoldNext: with HoldNext, a packet of the next window that arrives
// while the open window waits out its grace goes to the next window, and a
// straggler of the open window still joins it; without it, the first closes
// the open window and the straggler is late.
func TestHoldNext(t *testing.T) {
	const w0 = 1700000040 // a multiple of 60
	early := pkt(w0+65, client, server, 40000, 443, 100, 0x10, 0)
	straggler := pkt(w0+30, client, server, 40000, 443, 100, 0x10, 0)
	first := pkt(w0+10, client, server, 40000, 443, 100, 0x10, 0)
	steps := []step{{advance: w0}, {obs: &first}, {obs: &early}, {obs: &straggler}, {advance: w0 + 60}, {advance: w0 + 120}}
	summary := func(ws []Window) [][3]int64 { // start, packets, flow start
		var out [][3]int64
		for _, w := range ws {
			for _, f := range w.Flows.Slice() {
				out = append(out, [3]int64{w.Start, int64(f.Packets), f.Start})
			}
		}
		return out
	}
	cfg := DefaultConfiguration()
	cfg.CaptureGap = 0
	cfg.HoldNext = true
	ws, st := stepRun(t, cfg, []int64{60}, steps)
	// Window w0: first and straggler (2 packets from w0+10); window w0+60:
	// the early packet alone, at its own second.
	if got, want := summary(ws), [][3]int64{{w0, 2, w0 + 10}, {w0 + 60, 1, w0 + 65}}; !reflect.DeepEqual(got, want) {
		t.Errorf("HoldNext: windows %v, want %v", got, want)
	}
	if st.Late != 0 || len(ws) != 3 { // w0, w0+60, and w0+120 closed early by Close
		t.Errorf("HoldNext: late %d, %d windows; want 0 and 3", st.Late, len(ws))
	}
	cfg.HoldNext = false
	ws, st = stepRun(t, cfg, []int64{60}, steps)
	// The early packet closes w0 with one packet; the straggler joins w0+60
	// at its start second (late).
	if got, want := summary(ws), [][3]int64{{w0, 1, w0 + 10}, {w0 + 60, 2, w0 + 60}}; !reflect.DeepEqual(got, want) {
		t.Errorf("without HoldNext: windows %v, want %v", got, want)
	}
	if st.Late != 1 {
		t.Errorf("without HoldNext: late %d, want 1", st.Late)
	}
}

// TestHoldNextBeyond: an observation beyond the next window closes the
// open one on packet time even with HoldNext (the clock fell behind), and
// Close delivers a next window that has observations.
func TestHoldNextBeyond(t *testing.T) {
	const w0 = 1700000040
	a := pkt(w0+1, client, server, 1, 2, 10, 0, 0)
	b := pkt(w0+61, client, server, 1, 2, 10, 0, 0)
	c := pkt(w0+125, client, server, 1, 2, 10, 0, 0) // beyond w0+60's window: closes w0
	cfg := DefaultConfiguration()
	cfg.HoldNext = true
	ws, _ := stepRun(t, cfg, []int64{60}, []step{{advance: w0}, {obs: &a}, {obs: &b}, {obs: &c}})
	var got [][2]int64 // start, packets
	for _, w := range ws {
		n := int64(0)
		for _, f := range w.Flows.Slice() {
			n += int64(f.Packets)
		}
		got = append(got, [2]int64{w.Start, n})
		if w.Start >= w0+60 && !w.Early {
			t.Errorf("window %d closed by Close is not marked early", w.Start)
		}
	}
	if want := [][2]int64{{w0, 1}, {w0 + 60, 1}, {w0 + 120, 1}}; !reflect.DeepEqual(got, want) {
		t.Errorf("windows %v, want %v", got, want)
	}
}

// TestMarkLost: a loss reported over a span that crosses a window boundary
// marks both windows of the capture point it concerns, and only those; a
// report about windows already closed is counted as unmarked.
func TestMarkLost(t *testing.T) {
	const w0 = 1700000040
	o := pkt(w0+5, client, server, 1, 2, 10, 0, 0)
	o1 := o
	o1.Capture = 1
	cfg := DefaultConfiguration()
	cfg.HoldNext = true
	ws, st := stepRun(t, cfg, []int64{60, 60}, []step{
		{advance: w0}, {obs: &o}, {obs: &o1},
		{lost: &lostReport{capture: 0, from: w0 + 59, to: w0 + 61, packets: 5}},
		{advance: w0 + 60}, {advance: w0 + 120},
		{lost: &lostReport{capture: 1, from: w0 + 10, to: w0 + 20, packets: 3}}, // both windows closed
		{advance: w0 + 180},
	})
	if len(ws) < 3 {
		t.Fatalf("%d windows", len(ws))
	}
	for _, w := range ws[:2] {
		if w.Lost[0] != 5 || w.Lost[1] != 0 {
			t.Errorf("window %d: lost %v, want capture 0 with 5 packets", w.Start, w.Lost)
		}
	}
	for _, w := range ws[2:] {
		if len(w.Lost) != 0 {
			t.Errorf("window %d: lost %v, want none", w.Start, w.Lost)
		}
	}
	if st.LostPackets != 8 || st.LostUnmarked != 1 {
		t.Errorf("lost packets %d unmarked %d, want 8 and 1", st.LostPackets, st.LostUnmarked)
	}
}
