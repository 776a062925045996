// Package pipeline wires the stages of vpcflow together: read (capture
// files, the simulator, live interfaces) → decode (packet) → attribute and decide (attribute,
// policy) → aggregate (flow) → fan out to flow logs (flowlog) → deliver.
//
// It exists so every front end runs the same code: `vpcflow pcap` runs a
// pipeline over files to their end (Run), `vpcflow serve` keeps one running
// while flow logs are created and deleted, with windows closing on the
// clock. The pipeline owns the merge of several inputs by time, pacing
// against the clock, changes of the flow-log set between two packets,
// progress and the run summary.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vpcflow/vpcflow/attribute"
	"github.com/vpcflow/vpcflow/capture"
	"github.com/vpcflow/vpcflow/capture/live"
	"github.com/vpcflow/vpcflow/flow"
	"github.com/vpcflow/vpcflow/flowlog"
	"github.com/vpcflow/vpcflow/internal/clock"
	"github.com/vpcflow/vpcflow/packet"
	"github.com/vpcflow/vpcflow/policy"
	"github.com/vpcflow/vpcflow/record"
	"github.com/vpcflow/vpcflow/topology"
)

// Config describes a pipeline.
type Config struct {
	// Topology is the declared network; nil runs in single-interface mode
	// with Interface standing for the capture.
	Topology *topology.Topology
	// Interface is the monitored interface in single-interface mode.
	Interface *topology.ENI
	// LocalPrefixes are Interface's addresses (single-interface mode).
	LocalPrefixes []netip.Prefix
	// FlowLogs to produce from the start; SetFlowLogs changes them later.
	FlowLogs []*flowlog.FlowLog
	// Inputs are the frame sources.
	Inputs []Input
	Flow   flow.Configuration
	Policy policy.Config
	// Decap lists the IP tunnels whose inner packets are logged instead of
	// the outer ones: packet.DecapVXLAN for captures of AWS Traffic
	// Mirroring, attributed to the mirrored interfaces
	// (attribute.Attributor.Mirrored). Zero keeps every tunnel outer, as AWS
	// logs them.
	Decap packet.Decap
	// MaxWait bounds how long a paced pipeline sleeps between two looks
	// at its inputs and the clock (default 1 s).
	MaxWait time.Duration
	// LiveGrace is the grace of live inputs that may join while the
	// pipeline runs (AddInput): windows close at least that long after
	// their end, as with such an input from the start, even when none is
	// there yet.
	LiveGrace time.Duration
}

// DefaultConfig returns a configuration with the aggregator's and the
// policy engine's defaults; topology, flow logs and inputs are the caller's.
func DefaultConfig() Config {
	return Config{Flow: flow.DefaultConfiguration(), Policy: policy.DefaultConfig()}
}

// Dependencies are what a pipeline uses but does not own.
type Dependencies struct {
	// Destination returns where a flow log's records go.
	Destination func(*flowlog.FlowLog) flowlog.Destination
	// Clock paces paced inputs and closes their windows (default: the wall
	// clock).
	Clock clock.Clock
	// Progress, when set, is called about once a second.
	Progress func(Progress)
	// Delivered, when set, is called after every window has reached the
	// destinations of its flow logs.
	Delivered func(Delivery)
	// DeliveryError, when set, receives a flow log's delivery error and the
	// pipeline goes on (a service marks the flow log FAILED); when nil, the
	// first delivery error stops the pipeline.
	DeliveryError func(fl *flowlog.FlowLog, err error)
}

// Delivery describes a window whose records were delivered.
type Delivery struct {
	Interval, Start, End int64 // Unix seconds
	// Latency is the time from the window's end on the clock to its
	// delivery; meaningful only when Paced.
	Latency time.Duration
	Paced   bool
}

// Progress is a snapshot for progress lines.
type Progress struct {
	Packets  uint64
	Elapsed  time.Duration
	Fraction float64 // of the input bytes read, 0..1; -1 when unknown
}

// Summary is what a pipeline did.
type Summary struct {
	Packets uint64 // frames read
	Bytes   uint64 // their length on the wire
	Decode  packet.Counters
	// Encap counts the frames by the encapsulations the decoder opened in
	// them (PPPoE, MPLS, pseudowires; VXLAN with Config.Decap).
	Encap     packet.EncapCounters
	Attribute attribute.Stats
	Flow      flow.Stats
	Records   flowlog.Stats
	Policy    *policy.Stats
	// TopologyChanges counts the topologies taken while running, and
	// TrackingResets those with other interfaces, which emptied the
	// connection-tracking table.
	TopologyChanges, TrackingResets uint64
	InputErrors                     []error // per-input read errors; the frames before them were processed
	Elapsed                         time.Duration
	// Capture has the counters of each live interface (frames, the
	// kernel's drops and ring freezes), read every second; inputs removed
	// while running (RemoveInput) keep their last counters here.
	Capture []live.Stats
	// RSSStart is the resident memory before the first packet, RSSPeak the
	// peak of the process (Linux; 0 elsewhere): memory per flow is
	// (RSSPeak - RSSStart) / Flow.PeakFlows.
	RSSStart, RSSPeak int64
}

// Count is a counter with its reason.
type Count struct {
	Reason string
	N      uint64
}

// Undecodable counts, by the decoder's reason, the frames that had no IP
// packet to attribute; every reason is listed, zero or not.
func (s *Summary) Undecodable() []Count {
	var out []Count
	for r := packet.Reason(0); r < packet.NumReasons; r++ {
		if !r.HasIP() {
			out = append(out, Count{r.String(), s.Decode[r]})
		}
	}
	return out
}

// Excluded counts, by kind, the packets of traffic AWS never logs; every
// kind is listed, zero or not.
func (s *Summary) Excluded() []Count {
	var out []Count
	for e := attribute.Exclusion(1); e < attribute.NumExclusions; e++ {
		out = append(out, Count{e.String(), s.Attribute.Excluded[e]})
	}
	return out
}

// Pipeline is a running pipeline: New, Start, then Stop (or Wait for inputs
// that end).
type Pipeline struct {
	cfg   Config
	deps  Dependencies
	clock clock.Clock

	in     *inputs
	engine *policy.Engine
	attr   *attribute.Attributor
	agg    *flow.Aggregator
	fan    *flowlog.Fanout
	caps   captureSet
	sinkMu sync.Mutex
	sinkEr error

	dec      packet.Decoder
	pkt      packet.Packet
	emit     func(*flow.Observation)
	sum      Summary
	start    time.Time
	nowSec   int64 // event time of the producer, Unix seconds
	progress time.Time

	// Live inputs: windows close grace after their end; the kernel's drop
	// counters are polled at least every second and before any window
	// closes (lastPoll, nextPoll: clock times in nanoseconds).
	grace              time.Duration
	lastPoll, nextPoll int64

	ctlMu                       sync.Mutex
	pending                     []*flowlog.FlowLog // set by SetFlowLogs, applied between packets
	pendingTopo                 *topology.Topology // set by SetTopology
	topoChanges, trackingResets uint64
	waiting                     []chan struct{} // SetFlowLogs calls waiting for pending to apply
	flChange                    bool            // pending and pendingTopo hold a change
	inputOps                    []*inputOp      // AddInput and RemoveInput calls, in order
	changed                     atomic.Bool
	stop                        atomic.Bool
	wake                        chan struct{}
	done                        chan struct{}
	ended                       chan struct{} // closed when every input has ended (unpaced)
	started                     atomic.Bool
	err                         error

	liveMu sync.Mutex
	live   Summary // published by the producer for Snapshot
}

// New builds a pipeline; it reads nothing before Start.
func New(cfg Config, deps Dependencies) (*Pipeline, error) {
	if deps.Destination == nil {
		return nil, errors.New("pipeline: no Destination")
	}
	if cfg.Topology == nil && cfg.Interface == nil {
		return nil, errors.New("pipeline: single-interface mode needs an interface")
	}
	if deps.Clock == nil {
		deps.Clock = clock.Real{}
	}
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = time.Second
	}
	p := &Pipeline{cfg: cfg, deps: deps, clock: deps.Clock, wake: make(chan struct{}, 1),
		done: make(chan struct{}), ended: make(chan struct{}), dec: packet.Decoder{Decap: cfg.Decap}}
	var err error
	if cfg.Topology != nil {
		if p.engine, err = policy.New(cfg.Topology, cfg.Policy); err != nil {
			return nil, err
		}
	}
	if OnClock(cfg.Inputs) {
		// On the clock the capture observes all the time: an idle
		// interface gets its NODATA however long it stays idle.
		cfg.Flow.CaptureGap = 0
	}
	if cfg.LiveGrace < 0 {
		return nil, fmt.Errorf("pipeline: LiveGrace %v: want 0 or more", cfg.LiveGrace)
	}
	if cfg.LiveGrace > 0 {
		p.grace = cfg.LiveGrace
		cfg.Flow.HoldNext = true
	}
	for _, in := range cfg.Inputs {
		if in.Grace < 0 {
			return nil, fmt.Errorf("input %s: grace %v: want 0 or more", in.Name, in.Grace)
		}
		if in.Grace > 0 {
			// Frames of a window still arrive during the grace, and so do
			// frames of the next one: keep both open.
			p.grace = max(p.grace, in.Grace)
			cfg.Flow.HoldNext = true
		}
		if in.ENI == "" {
			continue
		}
		if cfg.Topology != nil && cfg.Topology.ENIByID(in.ENI) == nil {
			return nil, fmt.Errorf("input %s: ENI %s is not in the topology", in.Name, in.ENI)
		}
		if cfg.Topology == nil && in.ENI != cfg.Interface.ID {
			return nil, fmt.Errorf("input %s: ENI %s: without a topology the only interface is %s", in.Name, in.ENI, cfg.Interface.ID)
		}
	}
	if p.agg, err = flow.New(cfg.Flow, p.sink); err != nil {
		return nil, err
	}
	p.caps.enis = []*topology.ENI{cfg.Interface}
	if cfg.Topology != nil {
		p.caps.enis = cfg.Topology.ENIs()
	}
	p.attr = attribute.New(attribute.Config{Topology: cfg.Topology, Policy: p.engine, LocalPrefixes: cfg.LocalPrefixes})
	p.fan = flowlog.NewFanout(nil, deps.Destination)
	p.fan.SetRules(p.attr.Rules)
	if deps.DeliveryError != nil {
		p.fan.OnError = deps.DeliveryError
	}
	if err := p.setFlowLogs(cfg.FlowLogs, true); err != nil {
		return nil, err
	}
	return p, nil
}

// Start opens the inputs and starts the pipeline's goroutine. Cancelling
// ctx stops the pipeline as Stop does.
func (p *Pipeline) Start(ctx context.Context) error {
	if p.started.Swap(true) {
		return errors.New("pipeline: started twice")
	}
	p.start = time.Now()
	now := p.clock.Now().UnixNano()
	in, err := openInputs(p.cfg.Inputs, now, p.poke)
	if err != nil {
		p.started.Store(false)
		return err
	}
	p.in = in
	p.pinInputs()
	p.lastPoll, p.nextPoll = now, now+int64(time.Second)
	p.fan.NoDataWhenEarly = !in.paced
	p.sum.RSSStart = procStatus("VmRSS")
	p.progress = p.start
	p.agg.Start()
	go func() {
		select {
		case <-ctx.Done():
			p.signalStop()
		case <-p.done:
		}
	}()
	go p.run()
	return nil
}

// Paced reports whether the pipeline runs on the clock (paced inputs) rather
// than on packet time.
func (p *Pipeline) Paced() bool { return p.in != nil && p.in.paced }

// Ended is closed when every input has ended and, for unpaced inputs, every
// window has been delivered. Paced pipelines keep closing windows on the
// clock after their inputs end, until Stop.
func (p *Pipeline) Ended() <-chan struct{} { return p.ended }

// Done is closed when the pipeline has stopped and flushed.
func (p *Pipeline) Done() <-chan struct{} { return p.done }

func (p *Pipeline) signalStop() {
	p.stop.Store(true)
	p.poke()
}

func (p *Pipeline) poke() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Stop stops reading, closes and delivers every open window, closes the
// destinations and returns the summary. A pipeline never started (a
// service opened only to change its flow logs) just closes its
// destinations.
func (p *Pipeline) Stop() (*Summary, error) {
	if !p.started.Swap(true) {
		close(p.done)
		close(p.ended)
		return &p.sum, p.fan.Close()
	}
	p.signalStop()
	return p.Wait()
}

// Wait waits until the pipeline has stopped (its unpaced inputs ended, or
// Stop) and returns the summary.
func (p *Pipeline) Wait() (*Summary, error) {
	<-p.done
	if p.err != nil {
		return nil, p.err
	}
	return &p.sum, nil
}

// SetFlowLogs replaces the set of flow logs, between two packets, and
// returns once the pipeline has taken it (or has stopped). A flow log new
// to the set gets records from the next window of its interval on (the
// window open now is partial for it); one missing from the set gets no more
// records, and what it delivered stays.
func (p *Pipeline) SetFlowLogs(fls []*flowlog.FlowLog) {
	p.change(nil, fls)
}

// SetTopology replaces the declared network and the flow logs together,
// between two packets (a packet never sees half a change), and returns once
// the pipeline has taken them. Security groups and network ACLs decide by
// the new rules from the next packet on; connections already tracked go on
// when the interfaces are the same. A pipeline in single-interface mode
// switches to the topology's interfaces.
func (p *Pipeline) SetTopology(t *topology.Topology, fls []*flowlog.FlowLog) error {
	if t == nil {
		return errors.New("pipeline: no topology")
	}
	p.change(t, fls)
	return nil
}

func (p *Pipeline) change(t *topology.Topology, fls []*flowlog.FlowLog) {
	applied := make(chan struct{})
	p.ctlMu.Lock()
	p.pending = append([]*flowlog.FlowLog(nil), fls...)
	p.flChange = true
	if t != nil {
		p.pendingTopo = t
	}
	p.waiting = append(p.waiting, applied)
	p.ctlMu.Unlock()
	p.changed.Store(true)
	if !p.started.Load() {
		p.applyPending() // no producer yet: this goroutine is the only one
		return
	}
	p.poke()
	select {
	case <-applied:
	case <-p.done:
	}
}

// Snapshot returns the counters so far; safe from any goroutine. They are
// published by the pipeline's goroutine every few thousand packets and at
// every look at the clock.
func (p *Pipeline) Snapshot() Summary {
	p.liveMu.Lock()
	s := p.live
	p.liveMu.Unlock()
	s.Records = p.fan.Stats()
	s.Flow = p.agg.Stats()
	return s
}

// StatsByFlowLog returns the record counters of each flow log.
func (p *Pipeline) StatsByFlowLog() map[string]flowlog.Stats { return p.fan.StatsByFlowLog() }

// sink receives closed windows on the aggregator's collector goroutine.
func (p *Pipeline) sink(w *flow.Window) {
	p.sinkMu.Lock()
	failed := p.sinkEr != nil
	p.sinkMu.Unlock()
	if failed {
		return
	}
	if err := p.fan.Window(w); err != nil {
		p.sinkMu.Lock()
		p.sinkEr = err
		p.sinkMu.Unlock()
		p.signalStop()
		return
	}
	if p.deps.Delivered != nil {
		d := Delivery{Interval: w.Interval, Start: w.Start, End: w.End(), Paced: p.Paced()}
		d.Latency = p.clock.Now().Sub(time.Unix(w.End(), 0))
		p.deps.Delivered(d)
	}
}

// run is the producer goroutine: every packet and every change of the flow
// logs goes through it, in order.
func (p *Pipeline) run() {
	defer close(p.done)
	if p.in.paced {
		p.runPaced()
	} else {
		p.runUnpaced()
		defer close(p.ended) // after the summary: every window is delivered
	}
	p.in.close()
	p.sum.Capture = p.captureStats()
	p.sum.Flow = p.agg.Close()
	p.sinkMu.Lock()
	err := p.sinkEr
	p.sinkMu.Unlock()
	if cerr := p.fan.Close(); err == nil && cerr != nil && p.deps.DeliveryError == nil {
		err = cerr
	}
	p.err = err
	p.sum.InputErrors = p.in.errs
	p.sum.Attribute = p.attr.Stats()
	p.sum.TopologyChanges, p.sum.TrackingResets = p.topoChanges, p.trackingResets
	p.sum.Records = p.fan.Stats()
	if p.engine != nil {
		st := p.engine.Stats()
		p.sum.Policy = &st
	}
	p.sum.Elapsed = time.Since(p.start)
	p.sum.RSSPeak = procStatus("VmHWM")
	p.publish()
}

// process decodes and attributes one frame of input x. A packet taken out
// of VXLAN is a mirrored copy: it belongs to the interface mirrored, not to
// the one that captured it, whatever input x is pinned to.
func (p *Pipeline) process(x *input, fr *capture.Frame) {
	p.sum.Packets++
	p.sum.Bytes += uint64(fr.WireLen)
	r := p.dec.Decode(fr.LinkType, fr.Data, &p.pkt)
	p.sum.Decode.Add(r)
	p.sum.Encap.Add(p.pkt.Encap)
	if !r.HasIP() {
		return
	}
	if p.pkt.Encap&packet.EncapVXLAN != 0 {
		p.attr.Mirrored(&p.pkt, fr.TimestampNanos, p.emit)
		return
	}
	if x.pin != nil {
		p.attr.PacketOn(x.pin, x.ifMAC, &p.pkt, fr.TimestampNanos, p.emit)
		return
	}
	p.attr.Packet(&p.pkt, fr.TimestampNanos, p.emit)
}

// pinInputs finds the ENIs inputs are pinned to in the current topology.
// One that a topology change removed falls back to attribution by
// address: its frames are still counted, as unattributed if no ENI has
// their addresses.
func (p *Pipeline) pinInputs() {
	if p.in == nil {
		return
	}
	for _, x := range p.in.all {
		x.pin = nil
		switch {
		case x.spec.ENI == "":
		case p.cfg.Topology != nil:
			x.pin = p.cfg.Topology.ENIByID(x.spec.ENI)
		case p.cfg.Interface != nil && p.cfg.Interface.ID == x.spec.ENI:
			x.pin = p.cfg.Interface
		}
	}
}

// runUnpaced reads as fast as possible; windows close on packet time.
func (p *Pipeline) runUnpaced() {
	p.emit = p.agg.Add
	for {
		fr, ok := p.in.top()
		if !ok {
			return
		}
		p.process(p.in.topInput(), fr)
		if p.sum.Packets&0xfff == 0 {
			p.nowSec = fr.TimestampNanos / 1e9
			if p.checkpoint() {
				p.in.advance()
				return
			}
		}
		p.in.advance()
	}
}

// checkpoint publishes counters, reports progress and applies changes; it
// reports whether the pipeline must stop.
func (p *Pipeline) checkpoint() bool {
	p.publish()
	if p.deps.Progress != nil {
		if now := time.Now(); now.Sub(p.progress) >= time.Second {
			p.progress = now
			p.deps.Progress(Progress{Packets: p.sum.Packets, Elapsed: now.Sub(p.start), Fraction: p.in.fraction()})
		}
	}
	if p.changed.Load() {
		p.applyPending()
	}
	return p.stop.Load()
}

// runPaced releases each frame when the clock reaches its time and closes
// windows on the clock, packets or not: grace after their end when live
// inputs are there (their frames come late), at their end otherwise.
func (p *Pipeline) runPaced() {
	p.emit = p.agg.Add
	grace := int64(p.grace)
	for {
		if p.changed.Load() {
			p.nowSec = p.clock.Now().Unix()
			p.applyPending()
		}
		if p.stop.Load() {
			p.finishLive()
			return
		}
		p.in.refill()
		now := p.clock.Now().UnixNano()
		// Under a flood of live frames the loop below would never run dry:
		// it leaves when a window is due to close or the kernel's counters
		// to be read.
		due := p.nextPoll
		if next, ok := p.agg.NextClose(); ok {
			due = min(due, next*1e9+grace)
		}
		for n := 1; ; n++ {
			fr, ok := p.in.top()
			if !ok || fr.TimestampNanos > now {
				break
			}
			p.process(p.in.topInput(), fr)
			p.in.advance()
			if n&0xff == 0 {
				now = p.clock.Now().UnixNano()
				if p.stop.Load() || now >= due {
					break
				}
			}
		}
		p.nowSec = floorSec(now)
		closeTo := floorSec(now - grace)
		if next, ok := p.agg.NextClose(); now >= p.nextPoll || ok && closeTo >= next {
			p.pollLosses(now)
		}
		// Every frame up to now - grace is in: windows that ended by then
		// are complete.
		p.agg.Advance(closeTo)
		p.publish()
		wait := p.cfg.MaxWait
		if fr, ok := p.in.top(); ok {
			wait = min(wait, time.Duration(fr.TimestampNanos-now))
		}
		if next, ok := p.agg.NextClose(); ok {
			wait = min(wait, time.Duration(next*1e9+grace-now))
		}
		if p.in.liveRunning() {
			wait = min(wait, time.Duration(p.nextPoll-now))
		}
		if wait > 0 {
			c, stop := p.clock.NewTimer(wait)
			select {
			case <-c:
			case <-p.wake:
				stop()
			}
		}
	}
}

// finishLive stops the live inputs and processes the frames they captured
// before the stop (readers hand over what their rings hold, within a block
// timeout), so the windows closed by Stop hold them; the kernel's counters
// are read a last time for the windows still open.
func (p *Pipeline) finishLive() {
	if !p.in.liveRunning() {
		return
	}
	for _, x := range p.in.all {
		if x.capture != nil {
			x.capture.StopReading()
		}
	}
	// Bounded: readers leave a block timeout and two polls after the stop.
	deadline := time.Now().Add(2*p.grace + time.Second)
	for {
		p.in.refill()
		now := p.clock.Now().UnixNano()
		for {
			fr, ok := p.in.top()
			if !ok || fr.TimestampNanos > now {
				break
			}
			p.process(p.in.topInput(), fr)
			p.in.advance()
		}
		if !p.in.liveRunning() || time.Now().After(deadline) {
			break
		}
		t := time.NewTimer(10 * time.Millisecond)
		select {
		case <-t.C:
		case <-p.wake:
			t.Stop()
		}
	}
	p.pollLosses(p.clock.Now().UnixNano())
}

// pollLosses reads the kernel's counters of the live inputs. Frames the
// kernel dropped since the last poll were lost between then and now: the
// windows of that time are marked for the ENIs the interface carries, so
// their records say SKIPDATA. Producer goroutine only.
func (p *Pipeline) pollLosses(now int64) {
	from := p.lastPoll
	p.lastPoll, p.nextPoll = now, now+int64(time.Second)
	for _, x := range p.in.all {
		if x.capture == nil {
			continue
		}
		st := x.capture.Stats()
		drops := st.KernelDrops - x.stats.KernelDrops
		x.stats = st
		if drops > 0 {
			p.markLost(x, floorSec(from), floorSec(now), drops)
		}
	}
}

// markLost marks the windows from..to (Unix seconds) of the capture points
// of the ENIs a live input carries: the one it is pinned to, else the one
// with its interface's MAC, else every ENI (the lost frames could have been
// anyone's).
func (p *Pipeline) markLost(x *input, from, to int64, drops uint64) {
	var eni *topology.ENI
	switch {
	case x.pin != nil:
		eni = x.pin
	case p.cfg.Topology != nil:
		eni = p.cfg.Topology.ENIByMAC(x.ifMAC)
	}
	for id, c := range p.caps.caps {
		if len(c.FlowLogs) > 0 && (eni == nil || c.ENI.ID == eni.ID) {
			p.agg.MarkLost(uint32(id), from, to, drops)
		}
	}
}

// captureStats returns the live inputs' counters: frames as of now, the
// kernel's as of the source's last poll (at most a second old).
func (p *Pipeline) captureStats() []live.Stats {
	out := append([]live.Stats(nil), p.in.retired...)
	for _, x := range p.in.all {
		if x.capture != nil {
			out = append(out, x.capture.Counters())
		}
	}
	return out
}

func floorSec(ns int64) int64 {
	s := ns / 1e9
	if ns < 0 && ns%1e9 != 0 {
		s--
	}
	return s
}

// publish copies the producer's counters for Snapshot.
func (p *Pipeline) publish() {
	p.liveMu.Lock()
	p.live.Packets, p.live.Bytes, p.live.Decode, p.live.Encap = p.sum.Packets, p.sum.Bytes, p.sum.Decode, p.sum.Encap
	p.live.Attribute = p.attr.Stats()
	p.live.TopologyChanges, p.live.TrackingResets = p.topoChanges, p.trackingResets
	if p.engine != nil {
		st := p.engine.Stats()
		p.live.Policy = &st
	}
	if p.in != nil {
		p.live.InputErrors = append(p.live.InputErrors[:0], p.in.errs...)
		p.live.Capture = p.captureStats()
	}
	p.liveMu.Unlock()
}

// wantsRules reports whether a flow log's format has the x-rule extension.
func wantsRules(fls []*flowlog.FlowLog) bool {
	for _, fl := range fls {
		if fl.Format.Has(record.XRule) {
			return true
		}
	}
	return false
}
