package pipeline

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/vpcflow/vpcflow/flowlog"
	"github.com/vpcflow/vpcflow/policy"
	"github.com/vpcflow/vpcflow/topology"
)

// captureSet is the producer's view of the aggregation points: one per
// (ENI, effective interval) that some flow log wants. Capture ids are the
// aggregator's and never change meaning; a point no flow log wants any more
// stays, unused, so ids stay dense.
type captureSet struct {
	enis  []*topology.ENI // by ENI index
	caps  []flowlog.Capture
	byKey map[capKey]uint32
	fls   map[string]*flowlog.FlowLog // current flow logs by id
	// born are the points made for interfaces new to a running pipeline
	// (no point of theirs existed before); AddInput of a capture of the
	// interface makes them whole from the window open now (wholeFromNow).
	born map[uint32]bool
	seen map[string]bool // ENI ids that have points
}

type capKey struct {
	eni      string // ENI id: indices change with the topology
	interval int64
}

// applyPending takes the topology and flow logs given to SetTopology and
// SetFlowLogs.
func (p *Pipeline) applyPending() {
	p.ctlMu.Lock()
	fls, topo, waiting, flChange, ops := p.pending, p.pendingTopo, p.waiting, p.flChange, p.inputOps
	p.pendingTopo, p.waiting, p.flChange, p.inputOps = nil, nil, false, nil
	p.changed.Store(false)
	p.ctlMu.Unlock()
	defer func() {
		for _, c := range waiting {
			close(c)
		}
	}()
	var err error
	if flChange {
		if p.removesCaptured(topo) {
			p.catchUp(p.clock.Now().UnixNano())
		}
		err = p.setTopology(topo)
		if err == nil {
			err = p.setFlowLogs(fls, false)
		}
	}
	// After the topology: an input added with an interface pins to the
	// interface of the network that has it.
	for _, op := range ops {
		op.done <- p.runInputOp(op)
	}
	if err != nil {
		// Only a bound of the aggregator (255 distinct intervals) or a
		// topology the caller did not check can fail here.
		p.sinkMu.Lock()
		if p.sinkEr == nil {
			p.sinkEr = err
		}
		p.sinkMu.Unlock()
		p.stop.Store(true)
	}
}

// removesCaptured reports whether t lacks an interface that a running
// live input is pinned to.
func (p *Pipeline) removesCaptured(t *topology.Topology) bool {
	if t == nil || p.in == nil {
		return false
	}
	for _, x := range p.in.all {
		if x.capture != nil && x.src != nil && x.spec.ENI != "" && t.ENIByID(x.spec.ENI) == nil {
			return true
		}
	}
	return false
}

// catchUp processes every frame stamped up to `to` (clock nanoseconds),
// waiting the live inputs' grace for those still in their rings: the
// frames of an interface about to leave the network are attributed to it
// while it is there. It holds the producer for the grace (a few hundred
// milliseconds), once per such change.
func (p *Pipeline) catchUp(to int64) {
	deadline := time.Now().Add(p.grace)
	for {
		p.in.refill()
		for {
			fr, ok := p.in.top()
			if !ok || fr.TimestampNanos > to {
				break
			}
			p.process(p.in.topInput(), fr)
			p.in.advance()
		}
		if !time.Now().Before(deadline) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// setFlowLogs makes the capture points and memberships of fls and hands
// them to attribution and the fan-out. Flow logs of the initial set get
// every window; later ones start at the next window boundary of their
// interval after the producer's current time. A flow log whose resource has
// no ENI is not an error (AWS accepts it too); it just produces nothing.
func (p *Pipeline) setFlowLogs(fls []*flowlog.FlowLog, initial bool) error {
	cs := &p.caps
	if cs.byKey == nil {
		cs.byKey = map[capKey]uint32{}
	}
	if cs.seen == nil {
		cs.seen = map[string]bool{}
	}
	known := maps.Clone(cs.seen)
	members := make([][]*flowlog.FlowLog, len(cs.caps))
	current := make(map[string]*flowlog.FlowLog, len(fls))
	for _, fl := range fls {
		if old, ok := cs.fls[fl.ID]; ok {
			fl = old // a flow log never changes: keep the one the fan-out knows
		}
		current[fl.ID] = fl
		for _, e := range cs.enis {
			if p.cfg.Topology != nil && !fl.Covers(e) {
				continue
			}
			k := capKey{e.ID, fl.Interval(e)}
			id, ok := cs.byKey[k]
			if !ok {
				got, err := p.agg.AddCapture(k.interval)
				if err != nil {
					return err
				}
				if int(got) != len(cs.caps) {
					return fmt.Errorf("pipeline: capture id %d, want %d", got, len(cs.caps))
				}
				id = got
				cs.byKey[k] = id
				cs.seen[e.ID] = true
				if !initial && !known[e.ID] {
					if cs.born == nil {
						cs.born = map[uint32]bool{}
					}
					cs.born[id] = true
				}
				cs.caps = append(cs.caps, flowlog.Capture{ENI: e, Interval: k.interval})
				members = append(members, nil)
			}
			members[id] = append(members[id], fl)
		}
	}
	byID := make(map[string]*topology.ENI, len(cs.enis))
	for _, e := range cs.enis {
		byID[e.ID] = e
	}
	caps := make([]flowlog.Capture, len(cs.caps))
	perENI := make([][]uint32, len(cs.enis))
	for id, old := range cs.caps {
		eni := old.ENI
		if e := byID[eni.ID]; e != nil {
			eni = e // the current topology's description of the interface
		} else if !initial {
			// The interface is gone: its flow logs still get the window
			// open now, which holds its last packets, and nothing later.
			caps[id] = retire(old, current, p.nowSec)
			continue
		}
		c := flowlog.Capture{ENI: eni, Interval: old.Interval, FlowLogs: members[id]}
		for _, fl := range c.FlowLogs {
			from, had := old.From[fl]
			if !had {
				if initial || slices.Contains(old.FlowLogs, fl) {
					continue // gets every window
				}
				from = (floorDiv(p.nowSec, c.Interval) + 1) * c.Interval
			}
			if c.From == nil {
				c.From = map[*flowlog.FlowLog]int64{}
			}
			c.From[fl] = from
		}
		caps[id] = c
		if len(c.FlowLogs) > 0 {
			// ENI.Index is the ENI's position in the topology; the one
			// interface of single-interface mode has index 0.
			perENI[c.ENI.Index] = append(perENI[c.ENI.Index], uint32(id))
		}
	}
	cs.caps, cs.fls = caps, current
	p.attr.SetCaptures(perENI, wantsRules(fls))
	// Windows closed before the change still go to the old flow logs.
	p.agg.Sync(func() { p.fan.SetCaptures(caps) })
	return nil
}

// retire is the capture point of an interface removed at now (Unix
// seconds): the flow logs it had that still exist, each until the end of
// the window open at now (or the end it was given at an earlier removal).
// It is in no ENI's list of captures, so no packet reaches it any more.
func retire(old flowlog.Capture, current map[string]*flowlog.FlowLog, now int64) flowlog.Capture {
	c := flowlog.Capture{ENI: old.ENI, Interval: old.Interval, Until: map[*flowlog.FlowLog]int64{}}
	for _, fl := range old.FlowLogs {
		if current[fl.ID] != fl {
			continue // deleted with the interface: nothing more for it
		}
		c.FlowLogs = append(c.FlowLogs, fl)
		if from, ok := old.From[fl]; ok {
			if c.From == nil {
				c.From = map[*flowlog.FlowLog]int64{}
			}
			c.From[fl] = from
		}
		until, ok := old.Until[fl]
		if !ok {
			until = (floorDiv(now, c.Interval) + 1) * c.Interval
		}
		c.Until[fl] = until
	}
	return c
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// setTopology switches to a changed declared network, keeping the tracked
// connections when the interfaces are the same (see policy.Rebuild).
func (p *Pipeline) setTopology(t *topology.Topology) error {
	if t == nil {
		return nil
	}
	engine, kept := (*policy.Engine)(nil), false
	var err error
	if p.engine == nil {
		engine, err = policy.New(t, p.cfg.Policy) // leaving single-interface mode
	} else {
		engine, kept, err = p.engine.Rebuild(t)
	}
	if err != nil {
		return err
	}
	// The attributor still holds the old engine until SetTopology below:
	// nothing decides in between (this is the producer goroutine).
	p.engine, p.cfg.Topology, p.caps.enis = engine, t, t.ENIs()
	p.attr.SetTopology(t, engine)
	p.pinInputs()
	p.topoChanges++
	if !kept {
		p.trackingResets++
	}
	return nil
}
