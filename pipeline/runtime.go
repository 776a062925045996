package pipeline

import (
	"container/heap"
	"errors"
	"fmt"
	"time"

	"github.com/vpcflow/vpcflow/flowlog"
)

// Inputs added and removed while a pipeline runs: an interface that
// appears (vpcflow serve --lab builds the namespace of an ENI the EC2 API
// created) is captured from then on, one that goes away is read to its
// end first, so what it captured is in the windows it belongs to.

// inputOp is an AddInput or RemoveInput call for the producer.
type inputOp struct {
	add  *input // opened, not started
	name string // RemoveInput's
	done chan error
}

// ErrStopped is returned by AddInput and RemoveInput once the pipeline has
// stopped.
var ErrStopped = errors.New("pipeline: stopped")

// AddInput opens in, a live input, and adds it to the running pipeline
// between two packets; it returns once the pipeline reads it. Only a
// pipeline on the clock takes inputs while running. in.Grace must not
// exceed the grace of the inputs the pipeline started with (its windows
// already close that long after their end), in.Name must be unique among
// its inputs, and in.ENI, when set, an interface of the current topology.
// Inputs known before Start belong in Config.Inputs.
func (p *Pipeline) AddInput(in Input) error {
	if in.Open == nil {
		return fmt.Errorf("input %s: no Open function", in.Name)
	}
	if !p.started.Load() {
		return fmt.Errorf("input %s: the pipeline has not started: give it in Config.Inputs", in.Name)
	}
	if !in.Live || in.Loop || in.Speed != 0 {
		return fmt.Errorf("input %s: only a live input (no speed, no loop) can join a running pipeline", in.Name)
	}
	if in.Grace < 0 || in.Grace > p.grace {
		return fmt.Errorf("input %s: grace %v: a running pipeline closes windows %v after their end; an input added later must fit in that", in.Name, in.Grace, p.grace)
	}
	select {
	case <-p.done:
		return ErrStopped
	default:
	}
	src, err := in.Open()
	if err != nil {
		return err
	}
	// Inputs that come and go are not read ahead: how many there will be
	// is not known (maxReadAhead).
	err = p.inputOp(&inputOp{add: newInput(in, src, p.poke, false)})
	if err != nil {
		src.Close()
	}
	return err
}

// RemoveInput removes the input named name from the running pipeline. A
// live input stops reading and its frames captured until then are
// processed first (within a block timeout), so they are counted in the
// windows open now, which close and are delivered as usual; its counters
// stay in the summary's Capture. It returns once the input is closed.
func (p *Pipeline) RemoveInput(name string) error {
	if !p.started.Load() {
		return fmt.Errorf("pipeline: not started: no input %s to remove", name)
	}
	return p.inputOp(&inputOp{name: name})
}

// inputOp hands op to the producer and waits for its answer.
func (p *Pipeline) inputOp(op *inputOp) error {
	op.done = make(chan error, 1)
	p.ctlMu.Lock()
	p.inputOps = append(p.inputOps, op)
	p.ctlMu.Unlock()
	p.changed.Store(true)
	p.poke()
	select {
	case err := <-op.done:
		return err
	case <-p.done:
		// The producer may have taken op just before it stopped.
		select {
		case err := <-op.done:
			return err
		default:
			return ErrStopped
		}
	}
}

// runInputOp adds or removes an input; producer goroutine only.
func (p *Pipeline) runInputOp(op *inputOp) error {
	if !p.in.paced {
		return errors.New("pipeline: inputs are added or removed only while it runs on the clock")
	}
	if x := op.add; x != nil {
		for _, o := range p.in.all {
			if o.spec.Name == x.spec.Name {
				return fmt.Errorf("input %s: the pipeline already has an input of that name", x.spec.Name)
			}
		}
		if e := x.spec.ENI; e != "" && (p.cfg.Topology == nil || p.cfg.Topology.ENIByID(e) == nil) {
			return fmt.Errorf("input %s: ENI %s is not in the topology", x.spec.Name, e)
		}
		p.in.all = append(p.in.all, x)
		p.pinInputs()
		p.in.start(x)
		if x.pin != nil {
			p.wholeFromNow(x.pin.ID)
		}
		return nil
	}
	k := -1
	for i, x := range p.in.all {
		if x.spec.Name == op.name {
			k = i
		}
	}
	if k < 0 {
		return fmt.Errorf("pipeline: no input %s", op.name)
	}
	x := p.in.all[k]
	if x.capture != nil && x.src != nil {
		x.capture.StopReading()
		// Bounded: a reader leaves within a block timeout of the stop.
		deadline := time.Now().Add(2*p.grace + time.Second)
		for x.src != nil && time.Now().Before(deadline) {
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
			if x.src != nil {
				time.Sleep(5 * time.Millisecond)
			}
		}
	}
	for i, h := range p.in.h {
		if h == x {
			heap.Remove(&p.in.h, i)
			break
		}
	}
	if x.src != nil {
		x.src.Close()
		x.src, x.into = nil, nil
	}
	if x.capture != nil {
		// The kernel's last drops belong to the windows open now.
		st := x.capture.Stats()
		now := p.clock.Now().UnixNano()
		if drops := st.KernelDrops - x.stats.KernelDrops; drops > 0 {
			p.markLost(x, floorSec(p.lastPoll), floorSec(now), drops)
		}
		x.stats = st
		p.in.retired = append(p.in.retired, x.capture.Counters())
	}
	p.in.all = append(p.in.all[:k:k], p.in.all[k+1:]...)
	return nil
}

// wholeFromNow gives the flow logs of an interface that joined the
// network while the pipeline ran its records from the window open now,
// not only from the next one (the rule for flow logs and interfaces added
// mid-window, whose window so far was not observed): its capture starts
// with the interface (vpcflow serve --lab builds its port when the EC2 API
// creates it), so the window holds all of its traffic. Interfaces the
// pipeline knew before keep their windows as they are.
func (p *Pipeline) wholeFromNow(eni string) {
	cs := &p.caps
	changed := false
	for id := range cs.caps {
		c := &cs.caps[id]
		if !cs.born[uint32(id)] || c.ENI.ID != eni || len(c.From) == 0 {
			continue
		}
		delete(cs.born, uint32(id))
		c.From = nil
		changed = true
	}
	if changed {
		caps := append([]flowlog.Capture(nil), cs.caps...)
		p.agg.Sync(func() { p.fan.SetCaptures(caps) })
	}
}
