// Package pipeline wires the stages of vpcflow together for one run over
// capture files: read (capture) → decode (packet) → attribute and decide
// (attribute, policy) → aggregate (flow) → fan out to flow logs (flowlog) →
// deliver. It owns the merge of several inputs by packet time, progress
// reporting and the run summary, so every front end (the CLI today, live
// capture later) runs the same code.
package pipeline

import (
	"container/heap"
	"errors"
	"io"
	"net/netip"
	"time"

	"github.com/vpcflow/vpcflow/attribute"
	"github.com/vpcflow/vpcflow/capture"
	"github.com/vpcflow/vpcflow/flow"
	"github.com/vpcflow/vpcflow/flowlog"
	"github.com/vpcflow/vpcflow/packet"
	"github.com/vpcflow/vpcflow/policy"
	"github.com/vpcflow/vpcflow/record"
	"github.com/vpcflow/vpcflow/topology"
)

// Config describes one run.
type Config struct {
	// Topology is the declared network; nil runs in single-interface mode
	// with Interface standing for the capture.
	Topology *topology.Topology
	// Interface is the monitored interface in single-interface mode.
	Interface *topology.ENI
	// LocalPrefixes are Interface's addresses (single-interface mode).
	LocalPrefixes []netip.Prefix
	// FlowLogs to produce. Each must cover at least one interface.
	FlowLogs []*flowlog.FlowLog
	// Destination returns where a flow log's records go.
	Destination func(*flowlog.FlowLog) flowlog.Destination
	Flow        flow.Configuration
	Policy      policy.Config
	// Progress, when set, is called about once a second.
	Progress func(Progress)
}

// Progress is a snapshot for progress lines.
type Progress struct {
	Packets  uint64
	Elapsed  time.Duration
	Fraction float64 // of the input bytes read, 0..1; -1 when unknown
}

// Summary is what a run did.
type Summary struct {
	Packets     uint64 // frames read
	Decode      packet.Counters
	Attribute   attribute.Stats
	Flow        flow.Stats
	Records     flowlog.Stats
	Policy      *policy.Stats
	InputErrors []error // per-file read errors; the frames before them were processed
	Elapsed     time.Duration
	// RSSStart is the resident memory before the first packet, RSSPeak the
	// peak of the process (Linux; 0 elsewhere). DECISIONS.md measures memory
	// per flow as (RSSPeak - RSSStart) / Flow.PeakFlows.
	RSSStart, RSSPeak int64
}

// Run processes the inputs (capture files, merged by packet time).
func Run(cfg Config, inputs []string) (*Summary, error) {
	start := time.Now()
	sum := &Summary{}
	captures, perENI, err := buildCaptures(&cfg)
	if err != nil {
		return nil, err
	}
	var engine *policy.Engine
	if cfg.Topology != nil {
		if engine, err = policy.New(cfg.Topology, cfg.Policy); err != nil {
			return nil, err
		}
	}
	wantRules := false
	for _, fl := range cfg.FlowLogs {
		wantRules = wantRules || fl.Format.Has(record.XRule)
	}
	attr := attribute.New(attribute.Config{
		Topology: cfg.Topology, Policy: engine, Captures: perENI,
		LocalPrefixes: cfg.LocalPrefixes, Rules: wantRules,
	})
	var fan *flowlog.Fanout
	var sinkErr error
	agg, err := flow.New(cfg.Flow, func(w *flow.Window) {
		if sinkErr == nil {
			sinkErr = fan.Window(w)
		}
	})
	if err != nil {
		return nil, err
	}
	for _, c := range captures {
		if _, err := agg.AddCapture(c.Interval); err != nil {
			return nil, err
		}
	}
	fan = flowlog.NewFanout(captures, cfg.Destination)
	fan.SetRules(attr.Rules)

	in, err := openAll(inputs)
	if err != nil {
		return nil, err
	}
	defer in.close()
	sum.RSSStart = procStatus("VmRSS")
	agg.Start()
	emit := agg.Add
	var pkt packet.Packet
	lastProgress := start
	for {
		fr, ok := in.next(sum)
		if !ok {
			break
		}
		sum.Packets++
		r := packet.Decode(fr.LinkType, fr.Data, &pkt)
		sum.Decode.Add(r)
		if r.HasIP() {
			attr.Packet(&pkt, fr.TimestampNanos, emit)
		}
		if cfg.Progress != nil && sum.Packets&0xfff == 0 {
			if now := time.Now(); now.Sub(lastProgress) >= time.Second {
				lastProgress = now
				cfg.Progress(Progress{Packets: sum.Packets, Elapsed: now.Sub(start), Fraction: in.fraction()})
			}
		}
	}
	sum.Flow = agg.Close()
	if sinkErr != nil {
		return nil, sinkErr
	}
	if err := fan.Close(); err != nil {
		return nil, err
	}
	sum.Attribute = attr.Stats()
	sum.Records = fan.Stats()
	if engine != nil {
		st := engine.Stats()
		sum.Policy = &st
	}
	sum.Elapsed = time.Since(start)
	sum.RSSPeak = procStatus("VmHWM")
	return sum, nil
}

// buildCaptures makes one aggregation point per (ENI, effective interval)
// with the flow logs that want it. A flow log whose resource has no ENI is
// not an error (AWS accepts it too); it just produces nothing.
func buildCaptures(cfg *Config) ([]flowlog.Capture, [][]uint32, error) {
	if len(cfg.FlowLogs) == 0 {
		return nil, nil, errors.New("no flow logs to produce")
	}
	var enis []*topology.ENI
	if cfg.Topology != nil {
		enis = cfg.Topology.ENIs()
	} else {
		if cfg.Interface == nil {
			return nil, nil, errors.New("single-interface mode needs an interface")
		}
		enis = []*topology.ENI{cfg.Interface}
	}
	var captures []flowlog.Capture
	perENI := make([][]uint32, len(enis))
	for i, e := range enis {
		byIv := map[int64]int{}
		for _, fl := range cfg.FlowLogs {
			if cfg.Topology != nil && !fl.Covers(e) {
				continue
			}
			iv := fl.Interval(e)
			ci, ok := byIv[iv]
			if !ok {
				ci = len(captures)
				byIv[iv] = ci
				captures = append(captures, flowlog.Capture{ENI: e, Interval: iv})
				perENI[i] = append(perENI[i], uint32(ci))
			}
			captures[ci].FlowLogs = append(captures[ci].FlowLogs, fl)
		}
	}
	return captures, perENI, nil
}

// inputs merges several capture files by packet time with a heap of the
// next frame of each; a frame's data stays valid because its reader is only
// advanced after the frame was processed.
type inputs struct {
	h       frameHeap
	readers []*capture.Reader
	last    *input
}

type input struct {
	r  *capture.Reader
	fr capture.Frame
}

type frameHeap []*input

func (h frameHeap) Len() int           { return len(h) }
func (h frameHeap) Less(i, j int) bool { return h[i].fr.TimestampNanos < h[j].fr.TimestampNanos }
func (h frameHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *frameHeap) Push(x any)        { *h = append(*h, x.(*input)) }
func (h *frameHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func openAll(paths []string) (*inputs, error) {
	in := &inputs{}
	for _, p := range paths {
		r, err := capture.Open(p)
		if err != nil {
			in.close()
			return nil, err
		}
		in.readers = append(in.readers, r)
	}
	return in, nil
}

func (in *inputs) close() {
	for _, r := range in.readers {
		r.Close()
	}
}

// next returns the earliest pending frame of all inputs.
func (in *inputs) next(sum *Summary) (capture.Frame, bool) {
	if in.last == nil && in.h == nil { // first call: prime every reader
		in.h = frameHeap{}
		for _, r := range in.readers {
			in.advance(&input{r: r}, sum)
		}
	} else if in.last != nil {
		in.advance(in.last, sum)
	}
	in.last = nil
	if len(in.h) == 0 {
		return capture.Frame{}, false
	}
	in.last = heap.Pop(&in.h).(*input)
	return in.last.fr, true
}

func (in *inputs) advance(x *input, sum *Summary) {
	fr, err := x.r.Next()
	if err != nil {
		if err != io.EOF {
			sum.InputErrors = append(sum.InputErrors, err)
		}
		return
	}
	x.fr = fr
	heap.Push(&in.h, x)
}

func (in *inputs) fraction() float64 {
	var pos, size int64
	for _, r := range in.readers {
		if r.Size() <= 0 {
			return -1
		}
		pos += r.Position()
		size += r.Size()
	}
	if size == 0 {
		return -1
	}
	return min(1, float64(pos)/float64(size))
}
