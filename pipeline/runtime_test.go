//go:build linux

package pipeline

import (
	"context"
	"maps"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vpcflow/vpcflow/capture/live"
	"github.com/vpcflow/vpcflow/flowlog"
	"github.com/vpcflow/vpcflow/internal/netnstest"
	"github.com/vpcflow/vpcflow/topology"
)

// TestRuntimeInputs adds a capture of b's end of the veth to a pipeline
// that captures a's, then removes b from the network and its capture, as
// vpcflow serve --lab does when the EC2 API creates and deletes an
// interface. Datagrams from b to a before the add are seen on a only;
// those between the add and the removal on both, b's exactly once although
// its interface was gone before its window closed; those after on a only.
func TestRuntimeInputs(t *testing.T) {
	pair := netnstest.NewPair(t, liveMACs, liveIPs, 24)
	topo, err := topology.Load("testdata/live.yaml")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("testdata/live.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// The same network less ENI b (its group stays, unused).
	i := strings.Index(string(src), "  - NetworkInterfaceId: eni-0b000000000000001")
	j := strings.Index(string(src), "SecurityGroups:")
	withoutB, err := topology.Parse("live-without-b.yaml", append(src[:i:i], src[j:]...))
	if err != nil {
		t.Fatal(err)
	}
	pair.ListenUDP(t, 0, 5000)
	fl := liveFlowLog(t, 60) // one window: the whole test
	// And windows of a second: after b's removal, b's end within one.
	fast := liveFlowLog(t, 1)
	fast.ID = "fl-fast"
	lcfg := live.DefaultConfiguration()
	lcfg.Interface = pair.End[0].Veth
	rec := &recorder{}
	cfg := DefaultConfig()
	cfg.Topology, cfg.FlowLogs, cfg.Inputs = topo, []*flowlog.FlowLog{fl, fast}, []Input{LiveInput(lcfg, eniA)}
	p, err := New(cfg, Dependencies{Destination: func(*flowlog.FlowLog) flowlog.Destination { return rec }})
	if err != nil {
		t.Fatal(err)
	}
	inB := Input{Name: "b", Live: true, Grace: lcfg.Grace(), ENI: eniB}
	if err := p.AddInput(LiveInput(lcfg, eniB)); err == nil || !strings.Contains(err.Error(), "not started") {
		t.Errorf("AddInput before Start: %v, want an error saying it has not started", err)
	}
	if err := pair.Do(0, func() error { return p.Start(context.Background()) }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Stop() })
	pair.SendUDP(t, 1, 40000, 5000, 5, 100)

	bcfg := lcfg
	bcfg.Interface = pair.End[1].Veth
	in := LiveInput(bcfg, eniB)
	inB.Open = in.Open
	if err := pair.Do(1, func() error { return p.AddInput(inB) }); err != nil {
		t.Fatal(err)
	}
	if err := pair.Do(1, func() error { return p.AddInput(inB) }); err == nil || !strings.Contains(err.Error(), "already has an input") {
		t.Errorf("adding b twice: %v, want an error naming the duplicate", err)
	}
	other := inB
	other.Name, other.ENI = "c", "eni-0c000000000000001"
	if err := pair.Do(1, func() error { return p.AddInput(other) }); err == nil || !strings.Contains(err.Error(), "not in the topology") {
		t.Errorf("an input pinned to an unknown ENI: %v", err)
	}
	slow := inB
	slow.Name, slow.Grace = "slow", time.Hour
	if err := p.AddInput(slow); err == nil || !strings.Contains(err.Error(), "grace") {
		t.Errorf("an input with a longer grace: %v", err)
	}
	pair.SendUDP(t, 1, 40000, 5000, 7, 100)
	if err := p.SetTopology(withoutB, []*flowlog.FlowLog{fl, fast}); err != nil {
		t.Fatal(err)
	}
	removed := time.Now().Unix()
	if err := p.RemoveInput("b"); err != nil {
		t.Fatal(err)
	}
	if err := p.RemoveInput("b"); err == nil {
		t.Errorf("removing b twice: no error")
	}
	pair.SendUDP(t, 1, 40000, 5000, 4, 100)
	time.Sleep(2500 * time.Millisecond) // windows of a second close after the removal
	sum, err := p.Stop()
	if err != nil {
		t.Fatal(err)
	}
	sums, _ := sumRecords(t, rec.get(fl.ID))
	// By hand: 100 bytes of payload are 128 at the IP layer.
	want := map[string][2]int{
		eniA + " ingress 10.9.0.11 10.9.0.10 40000 5000 17 ACCEPT OK": {16, 16 * 128},
		eniB + " egress 10.9.0.11 10.9.0.10 40000 5000 17 ACCEPT OK":  {7, 7 * 128},
	}
	if !maps.Equal(sums, want) {
		t.Errorf("records:\n%s\nwant\n%s\nlines:\n%s", fmtSums(sums), fmtSums(want), strings.Join(rec.get(fl.ID), "\n"))
	}
	if len(sum.Capture) != 2 || sum.Capture[0].Frames != 7 || sum.Capture[1].Frames != 16 {
		t.Errorf("capture counters %+v: want b's (7 frames, kept after its removal) and a's (16)", sum.Capture)
	}
	// b's second windows end with the one open at its removal: no NODATA
	// for an interface that is gone; a's go on.
	var bLast, aLast int64
	for _, l := range rec.get(fast.ID) {
		f := strings.Fields(l)
		start := mustAtoi(t, f[9])
		if f[0] == eniB {
			bLast = max(bLast, start)
		} else {
			aLast = max(aLast, start)
		}
	}
	if bLast == 0 || bLast > removed || aLast <= removed {
		t.Errorf("1 s windows: b's last starts at %d, a's at %d; b removed at %d: want b's last at or before, a's after\n%s",
			bLast, aLast, removed, strings.Join(rec.get(fast.ID), "\n"))
	}
	if err := p.AddInput(inB); err != ErrStopped {
		t.Errorf("AddInput after Stop: %v, want ErrStopped", err)
	}
}

// TestRuntimeInputsFromNone: a pipeline started without inputs takes a
// live one while running when Config.LiveGrace says how late its frames
// may come; without it, the input is refused (its windows would close
// before its frames are in).
func TestRuntimeInputsFromNone(t *testing.T) {
	pair := netnstest.NewPair(t, liveMACs, liveIPs, 24)
	topo, err := topology.Load("testdata/live.yaml")
	if err != nil {
		t.Fatal(err)
	}
	pair.ListenUDP(t, 0, 5000)
	fl := liveFlowLog(t, 60)
	lcfg := live.DefaultConfiguration()
	lcfg.Interface = pair.End[0].Veth
	for _, grace := range []time.Duration{0, lcfg.Grace()} {
		rec := &recorder{}
		cfg := DefaultConfig()
		cfg.Topology, cfg.FlowLogs, cfg.LiveGrace = topo, []*flowlog.FlowLog{fl}, grace
		p, err := New(cfg, Dependencies{Destination: func(*flowlog.FlowLog) flowlog.Destination { return rec }})
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		err = pair.Do(0, func() error { return p.AddInput(LiveInput(lcfg, eniA)) })
		if grace == 0 {
			if err == nil || !strings.Contains(err.Error(), "grace") {
				t.Errorf("no LiveGrace: AddInput %v, want an error about the grace", err)
			}
			p.Stop()
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		pair.SendUDP(t, 1, 40000, 5000, 9, 100)
		time.Sleep(50 * time.Millisecond)
		if _, err := p.Stop(); err != nil {
			t.Fatal(err)
		}
		sums, _ := sumRecords(t, rec.get(fl.ID))
		want := map[string][2]int{eniA + " ingress 10.9.0.11 10.9.0.10 40000 5000 17 ACCEPT OK": {9, 9 * 128}}
		if !maps.Equal(sums, want) {
			t.Errorf("records %v, want %v", sums, want)
		}
	}
}
