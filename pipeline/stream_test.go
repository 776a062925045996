package pipeline

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vpcflow/vpcflow/capture"
	"github.com/vpcflow/vpcflow/flow"
	"github.com/vpcflow/vpcflow/flowlog"
	"github.com/vpcflow/vpcflow/internal/clock"
	"github.com/vpcflow/vpcflow/internal/e2e"
	"github.com/vpcflow/vpcflow/packet"
	"github.com/vpcflow/vpcflow/policy"
	"github.com/vpcflow/vpcflow/record"
	"github.com/vpcflow/vpcflow/topology"
)

// t0 is a multiple of 600 s, so 60 s windows start at t0 + k*60.
const t0 = 1700000400

// memSource yields frames built with gopacket from packets whose Sec is
// relative to t0.
type memSource struct {
	frames []capture.Frame
	i      int
}

func newMemSource(t *testing.T, pkts []e2e.Packet) *memSource {
	s := &memSource{}
	for _, p := range pkts {
		data := e2e.Frame(t, p)
		s.frames = append(s.frames, capture.Frame{TimestampNanos: (t0 + p.Sec) * 1e9, Data: data, WireLen: len(data), LinkType: packet.LinkEthernet})
	}
	return s
}

func (s *memSource) Next() (capture.Frame, error) {
	if s.i == len(s.frames) {
		return capture.Frame{}, io.EOF
	}
	s.i++
	return s.frames[s.i-1], nil
}

func (s *memSource) Close() error { return nil }

// recorder is a destination that keeps every record line per flow log.
type recorder struct {
	mu    sync.Mutex
	lines map[string][]string
}

func (r *recorder) Write(fl *flowlog.FlowLog, rec *record.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.lines == nil {
		r.lines = map[string][]string{}
	}
	r.lines[fl.ID] = append(r.lines[fl.ID], record.Text(fl.Format, rec))
	return nil
}
func (r *recorder) Flush(*flowlog.FlowLog, int64) error { return nil }
func (r *recorder) Close() error                        { return nil }

func (r *recorder) get(id string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.lines[id])
}

// waitFor polls until id has n lines (the fan-out runs on its own
// goroutine), then returns them.
func (r *recorder) waitFor(t *testing.T, id string, n int) []string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if got := r.get(id); len(got) >= n {
			return got
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatalf("flow log %s: want %d records, have %q", id, n, r.get(id))
	return nil
}

const eniID = "eni-00000000000000001"

var testENI = &topology.ENI{ID: eniID, AccountID: "123456789012", Region: "us-east-1"}

// testFlowLog is a 60 s flow log of testENI with a short format.
func testFlowLog(t *testing.T, id string) *flowlog.FlowLog {
	iv := 60
	fls, err := flowlog.Build(nil, &flowlog.Spec{ResourceIds: []string{eniID}, ResourceType: "NetworkInterface", TrafficType: "ALL",
		LogDestinationType: "s3", LogDestination: "arn:aws:s3:::b", MaxAggregationInterval: &iv,
		LogFormat: "${srcport} ${dstport} ${packets} ${start} ${end} ${log-status}"}, "test")
	if err != nil {
		t.Fatal(err)
	}
	fls[0].ID = id
	return fls[0]
}

// udp is one 40-byte datagram into the interface, sec seconds after t0.
func udp(sec int64, sport uint16) e2e.Packet {
	return e2e.Packet{Sec: sec, SrcMAC: e2e.RouterMAC, DstMAC: "02:00:00:00:00:01", Src: "203.0.113.9", Dst: "10.0.1.10",
		Proto: "udp", SrcPort: sport, DstPort: 53, Payload: 12}
}

type streamRig struct {
	clk *clock.Fake
	rec *recorder
	p   *Pipeline
}

// startStream runs a paced pipeline (speed 1) over pkts on a fake clock
// that starts at t0, with the given flow logs. A paced input's first frame
// is released at the clock's start: give pkts a first packet at 0.
func startStream(t *testing.T, pkts []e2e.Packet, fls ...*flowlog.FlowLog) *streamRig {
	t.Helper()
	r := &streamRig{clk: clock.NewFake(time.Unix(t0, 0)), rec: &recorder{}}
	src := newMemSource(t, pkts)
	cfg := Config{
		Interface: testENI, LocalPrefixes: []netip.Prefix{netip.MustParsePrefix("10.0.1.10/32")}, FlowLogs: fls,
		Inputs: []Input{{Name: "mem", Speed: 1, Open: func() (capture.Source, error) { return src, nil }}},
		Flow:   flow.DefaultConfiguration(), Policy: policy.DefaultConfig(),
	}
	p, err := New(cfg, Dependencies{Clock: r.clk, Destination: func(*flowlog.FlowLog) flowlog.Destination { return r.rec }})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.p = p
	t.Cleanup(func() { p.Stop() })
	r.settle(t)
	return r
}

// settle waits until the pipeline sleeps on the clock again.
func (r *streamRig) settle(t *testing.T) {
	t.Helper()
	if !r.clk.WaitForTimer(5 * time.Second) {
		t.Fatal("the pipeline never waited on the clock")
	}
}

// to moves the fake clock to t0+sec in one-second steps, letting the
// pipeline run at each.
func (r *streamRig) to(t *testing.T, sec int64) {
	t.Helper()
	for r.clk.Now().Unix() < t0+sec {
		r.clk.Advance(time.Second)
		r.settle(t)
	}
}

// TestStreamWindowsCloseOnClock: a window is delivered when the clock
// passes its end, with no later packet to push it out, and the idle
// window after it gets NODATA (the interface had an OK record before).
func TestStreamWindowsCloseOnClock(t *testing.T) {
	fl := testFlowLog(t, "fl-a")
	r := startStream(t, []e2e.Packet{udp(0, 5000), udp(4, 5000)}, fl)
	r.to(t, 59)
	time.Sleep(50 * time.Millisecond)
	if got := r.rec.get("fl-a"); len(got) != 0 {
		t.Fatalf("records before the window ended: %q", got)
	}
	r.to(t, 60)
	// Both datagrams, one flow: start t0, end t0+4.
	want := []string{fmt.Sprintf("5000 53 2 %d %d OK", t0, t0+4)}
	if got := r.rec.waitFor(t, "fl-a", 1); !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	r.to(t, 120)
	want = append(want, fmt.Sprintf("- - - %d %d NODATA", t0+60, t0+120))
	if got := r.rec.waitFor(t, "fl-a", 2); !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// TestStreamFlowLogChanges: a flow log created while traffic flows starts
// at the next window; a deleted one gets nothing more.
func TestStreamFlowLogChanges(t *testing.T) {
	a, b := testFlowLog(t, "fl-a"), testFlowLog(t, "fl-b")
	r := startStream(t, []e2e.Packet{udp(0, 1000), udp(40, 1040), udp(70, 1070), udp(130, 1130), udp(190, 1190)}, a)
	r.to(t, 41)
	r.p.SetFlowLogs([]*flowlog.FlowLog{a, b}) // created at t0+41: starts at t0+60
	r.to(t, 121)
	r.p.SetFlowLogs([]*flowlog.FlowLog{b}) // a deleted at t0+121
	r.to(t, 241)
	wantA := []string{
		fmt.Sprintf("1000 53 1 %d %d OK", t0, t0),
		fmt.Sprintf("1040 53 1 %d %d OK", t0+40, t0+40),
		fmt.Sprintf("1070 53 1 %d %d OK", t0+70, t0+70),
	}
	wantB := []string{
		fmt.Sprintf("1070 53 1 %d %d OK", t0+70, t0+70),
		fmt.Sprintf("1130 53 1 %d %d OK", t0+130, t0+130),
		fmt.Sprintf("1190 53 1 %d %d OK", t0+190, t0+190),
	}
	if got := r.rec.waitFor(t, "fl-b", 3); !slices.Equal(got, wantB) {
		t.Errorf("created flow log: got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantB, "\n"))
	}
	if got := r.rec.get("fl-a"); !slices.Equal(got, wantA) {
		t.Errorf("deleted flow log: got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantA, "\n"))
	}
}

// TestStreamStopDeliversOpenWindow: stopping flushes the open window.
func TestStreamStopDeliversOpenWindow(t *testing.T) {
	fl := testFlowLog(t, "fl-a")
	r := startStream(t, []e2e.Packet{udp(0, 5000), udp(70, 5001)}, fl)
	r.to(t, 75)
	sum, err := r.p.Stop()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		fmt.Sprintf("5000 53 1 %d %d OK", t0, t0),
		fmt.Sprintf("5001 53 1 %d %d OK", t0+70, t0+70),
	}
	if got := r.rec.get("fl-a"); !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	if sum.Packets != 2 || sum.Records.OK != 2 {
		t.Errorf("summary: %d packets, %d OK records; want 2 and 2", sum.Packets, sum.Records.OK)
	}
}

// TestStreamLoopAndSpeed: a looped input at ×10 replays its frames again,
// one second (of recorded time) after the end of each pass, and the clock
// times its frames are released at are the records' times.
func TestStreamLoopAndSpeed(t *testing.T) {
	fl := testFlowLog(t, "fl-a")
	r := &streamRig{clk: clock.NewFake(time.Unix(t0, 0)), rec: &recorder{}}
	pkts := []e2e.Packet{udp(0, 7000), udp(99, 7001)} // a 99 s pass: 9.9 s at ×10, then 0.1 s gap
	cfg := Config{
		Interface: testENI, FlowLogs: []*flowlog.FlowLog{fl},
		Inputs: []Input{{Name: "mem", Speed: 10, Loop: true, Open: func() (capture.Source, error) { return newMemSource(t, pkts), nil }}},
		Flow:   flow.DefaultConfiguration(), Policy: policy.DefaultConfig(),
	}
	p, err := New(cfg, Dependencies{Clock: r.clk, Destination: func(*flowlog.FlowLog) flowlog.Destination { return r.rec }})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.p = p
	defer p.Stop()
	r.settle(t)
	r.to(t, 60)
	// Passes start every 10 s: frames at t0+0, 9.9, 10, 19.9, ... 50, 59.9.
	want := []string{
		fmt.Sprintf("7000 53 6 %d %d OK", t0, t0+50),
		fmt.Sprintf("7001 53 6 %d %d OK", t0+9, t0+59),
	}
	got := r.rec.waitFor(t, "fl-a", 2)
	if !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}
