package pipeline

import (
	"fmt"
	"slices"

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
}

type capKey struct {
	eni      string // ENI id: indices change with the topology
	interval int64
}

// applyPending takes the topology and flow logs given to SetTopology and
// SetFlowLogs.
func (p *Pipeline) applyPending() {
	p.ctlMu.Lock()
	fls, topo, waiting := p.pending, p.pendingTopo, p.waiting
	p.pendingTopo, p.waiting = nil, nil
	p.changed.Store(false)
	p.ctlMu.Unlock()
	defer func() {
		for _, c := range waiting {
			close(c)
		}
	}()
	err := p.setTopology(topo)
	if err == nil {
		err = p.setFlowLogs(fls, false)
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
