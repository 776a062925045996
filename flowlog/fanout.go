package flowlog

import (
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/vpcflow/vpcflow/flow"
	"github.com/vpcflow/vpcflow/record"
	"github.com/vpcflow/vpcflow/topology"
)

// Capture is one aggregation point: an ENI at one interval, and the flow logs
// that receive its records.
type Capture struct {
	ENI      *topology.ENI
	Interval int64
	FlowLogs []*FlowLog
	// From gives, for flow logs added while the service runs, the start of
	// the first window they get records for (the window after the one open
	// when they were created, as on AWS). Flow logs not in it get every
	// window.
	From map[*FlowLog]int64
	// Until gives, for an interface removed while the service runs, the
	// start of the first window its flow logs no longer get: the window
	// open at the removal is delivered (its traffic happened), later ones
	// would only be NODATA of an interface that is gone.
	Until map[*FlowLog]int64
}

// Destination receives the records of flow logs, one at a time and in a
// deterministic order: window by window, and within a window by interface
// (ENI id), then status record first, then start, end and flow key. Flush is
// called after every closed window of a flow log and promises that no record
// whose end is before `before` will come for that flow log again, so complete
// objects can be finished; `before` is -1 when nothing is final yet, and
// math.MaxInt64 when the flow log was deleted.
type Destination interface {
	// Write receives one record; r is only valid during the call.
	Write(fl *FlowLog, r *record.Record) error
	Flush(fl *FlowLog, before int64) error
	Close() error
}

// Completer is a Destination that wants to know how far every flow log's
// records have been handed over, not only the flow logs of the window that
// closed: after each closed window the fan-out calls Complete once with
// each of its flow logs that has this destination and the time (Unix
// seconds) before which no record of that flow log will start any more
// (its windows up to there are closed, and a record never starts before
// its window; -1 while one of its intervals has closed no window yet). A
// reader that judges periods of time (CloudWatch alarms) waits for the
// slowest flow log rather than for the newest record: a 600 s window's
// records come when it closes.
type Completer interface {
	Complete(before map[*FlowLog]int64) error
}

// Stats counts what the fan-out wrote.
type Stats struct {
	Records  uint64 // every record handed to destinations
	OK       uint64
	NoData   uint64
	SkipData uint64
	Filtered uint64 // flows left out by a flow log's traffic type
	Errors   uint64 // windows whose delivery failed (see Fanout.OnError)
}

func (s *Stats) add(o Stats) {
	s.Records += o.Records
	s.OK += o.OK
	s.NoData += o.NoData
	s.SkipData += o.SkipData
	s.Filtered += o.Filtered
	s.Errors += o.Errors
}

// Fanout turns closed windows into records for every flow log. Window, Close
// and the destinations run on one goroutine (the aggregator's sink);
// SetCaptures and the Stats methods may be called from any goroutine.
type Fanout struct {
	rules func() []string // rule id → rule name (x-rule); grows during a run
	// ruleNames is what rules gave at the start of the current window.
	ruleNames []string
	dest      func(*FlowLog) Destination
	// OnError, when set, receives a flow log's delivery error and the
	// fan-out goes on with the other flow logs and the next windows (a
	// running service marks the flow log FAILED, as AWS does); when nil,
	// Window returns the first error.
	OnError func(fl *FlowLog, err error)
	// NoDataWhenEarly writes NODATA records for windows closed before
	// their end (Window.Early). A batch run wants them: its last window
	// reaches the last packet. A service stopping on the clock does not:
	// nobody has watched the rest of that window.
	NoDataWhenEarly bool

	mu      sync.Mutex
	next    []Capture // set by SetCaptures, taken at the next window
	changed bool
	total   Stats
	byFL    map[*FlowLog]*Stats

	captures   []Capture
	flowLogs   []*FlowLog
	hadOK      map[okKey]bool
	intervals  map[*FlowLog][]int64 // distinct capture intervals of each flow log
	lastClosed map[int64]int64      // per interval, end of the last closed window
	rec        record.Record        // reused for every record
	// recOK says rec holds an OK record: the next one overwrites the same
	// fields, so it need not clear the whole (1 KB) record first.
	recOK bool
	err   error  // first destination error of the current flow log
	cur   *Stats // counters of the current flow log in this window
}

type okKey struct {
	fl      *FlowLog
	capture uint32
}

// NewFanout prepares the fan-out. captures is indexed by the capture ids the
// aggregator assigned; dest returns the destination of a flow log.
func NewFanout(captures []Capture, dest func(*FlowLog) Destination) *Fanout {
	f := &Fanout{dest: dest, hadOK: map[okKey]bool{}, lastClosed: map[int64]int64{}, byFL: map[*FlowLog]*Stats{}}
	f.use(captures)
	return f
}

// SetCaptures replaces the capture points and their flow logs, from the
// next closed window on. Capture ids keep their meaning: the new slice
// extends the old one. A flow log that is no longer in any capture is
// deleted: its destination is flushed completely, so what it delivered
// stays, and it gets no more records.
func (f *Fanout) SetCaptures(captures []Capture) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.next, f.changed = captures, true
}

// takeCaptures switches to the captures given to SetCaptures, if any.
func (f *Fanout) takeCaptures() {
	f.mu.Lock()
	next, changed := f.next, f.changed
	f.next, f.changed = nil, false
	f.mu.Unlock()
	if changed {
		f.use(next)
	}
}

func (f *Fanout) use(captures []Capture) {
	f.captures = captures
	f.intervals = map[*FlowLog][]int64{}
	old := f.flowLogs
	f.flowLogs = nil
	for _, c := range captures {
		for _, fl := range c.FlowLogs {
			ivs, seen := f.intervals[fl]
			if !seen {
				f.flowLogs = append(f.flowLogs, fl)
			}
			if !slices.Contains(ivs, c.Interval) {
				f.intervals[fl] = append(ivs, c.Interval)
			}
		}
	}
	for _, fl := range old {
		if _, ok := f.intervals[fl]; !ok {
			f.fail(fl, f.dest(fl).Flush(fl, math.MaxInt64))
		}
	}
}

// SetRules gives the names of Observation.Rule ids (x-rule). The function
// is called for every closed window, so names added during a run are seen.
func (f *Fanout) SetRules(rules func() []string) { f.rules = rules }

// Stats returns the counters of every flow log together.
func (f *Fanout) Stats() Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.total
}

// StatsByFlowLog returns the counters of each flow log that got a window.
func (f *Fanout) StatsByFlowLog() map[string]Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]Stats, len(f.byFL))
	for fl, st := range f.byFL {
		out[fl.ID] = *st
	}
	return out
}

// Window handles one closed window from the aggregator.
func (f *Fanout) Window(w *flow.Window) error {
	f.takeCaptures()
	// Once per window, not per record (the function may lock): the names
	// only grow, and every rule of the window's flows was named before
	// the window closed.
	f.ruleNames = nil
	if f.rules != nil {
		f.ruleNames = f.rules()
	}
	// Flows arrive sorted by capture: find each capture's run once.
	type run struct{ lo, hi int }
	runs := map[uint32]run{}
	for p := 0; p < w.Flows.Len(); {
		c := w.Flows.At(p).Capture
		end := p
		for end < w.Flows.Len() && w.Flows.At(end).Capture == c {
			end++
		}
		if int(c) >= len(f.captures) || f.captures[c].Interval != w.Interval {
			return fmt.Errorf("flowlog: %d flows of unknown capture point %d", end-p, c)
		}
		runs[c] = run{p, end}
		p = end
	}
	f.lastClosed[w.Interval] = w.End()
	var first error
	for _, fl := range f.flowLogs {
		if !slices.Contains(f.intervals[fl], w.Interval) {
			continue
		}
		st := Stats{}
		f.err, f.cur = nil, &st
		for ci := range f.captures {
			c := &f.captures[ci]
			if c.Interval != w.Interval || !slices.Contains(c.FlowLogs, fl) {
				continue
			}
			if from, ok := c.From[fl]; ok && w.Start < from {
				continue
			}
			if until, ok := c.Until[fl]; ok && w.Start >= until {
				continue
			}
			r := runs[uint32(ci)]
			f.capture(fl, uint32(ci), c, w, r.lo, r.hi)
		}
		if f.err == nil {
			f.err = f.dest(fl).Flush(fl, f.watermark(fl))
		}
		if f.err != nil {
			st.Errors++
		}
		f.mu.Lock()
		f.total.add(st)
		if f.byFL[fl] == nil {
			f.byFL[fl] = &Stats{}
		}
		f.byFL[fl].add(st)
		f.mu.Unlock()
		if f.err != nil && first == nil {
			first = f.err
		}
		f.fail(fl, f.err)
	}
	if err := f.complete(); err != nil && first == nil {
		first = err
	}
	if f.OnError != nil {
		return nil
	}
	return first
}

// complete tells each Completer destination how far its flow logs are.
func (f *Fanout) complete() error {
	var dests []Completer
	before := map[Completer]map[*FlowLog]int64{}
	for _, fl := range f.flowLogs {
		c, ok := f.dest(fl).(Completer)
		if !ok {
			continue
		}
		if before[c] == nil {
			before[c] = map[*FlowLog]int64{}
			dests = append(dests, c)
		}
		before[c][fl] = f.watermark(fl)
	}
	var first error
	for _, c := range dests {
		if err := c.Complete(before[c]); err != nil {
			for fl := range before[c] {
				f.fail(fl, err)
			}
			if first == nil {
				first = err
			}
		}
	}
	return first
}

// fail reports a flow log's delivery error to OnError.
func (f *Fanout) fail(fl *FlowLog, err error) {
	if err != nil && f.OnError != nil {
		f.OnError(fl, err)
	}
}

// write hands one record to fl's destination, keeping the first error.
func (f *Fanout) write(fl *FlowLog) {
	if f.err != nil {
		return
	}
	f.cur.Records++
	f.err = f.dest(fl).Write(fl, &f.rec)
}

// watermark is the time before which fl gets no more records: the earliest
// last-closed window end among its intervals.
func (f *Fanout) watermark(fl *FlowLog) int64 {
	wm := int64(-1)
	for _, iv := range f.intervals[fl] {
		end, ok := f.lastClosed[iv]
		if !ok {
			return -1
		}
		if wm < 0 || end < wm {
			wm = end
		}
	}
	return wm
}

// capture writes the records of capture point ci for flow log fl: its
// flows w.Flows[lo:hi], or a status record.
func (f *Fanout) capture(fl *FlowLog, ci uint32, c *Capture, w *flow.Window, lo, hi int) {
	k := okKey{fl, ci}
	// SKIPDATA when flows were dropped at a bound, or packets were lost
	// before they were observed (a full capture ring).
	if w.Skipped[ci] > 0 || w.Lost[ci] > 0 {
		f.status(fl, c, w, record.StatusSkipData)
		f.cur.SkipData++
		f.write(fl)
	} else if lo == hi && f.hadOK[k] && (!w.Early || f.NoDataWhenEarly) {
		f.status(fl, c, w, record.StatusNoData)
		f.cur.NoData++
		f.write(fl)
	}
	ok := uint64(0)
	for i := lo; i < hi; i++ {
		fw := w.Flows.At(i)
		if !fl.Accepts(record.ActionValue(fw.Action)) {
			f.cur.Filtered++
			continue
		}
		f.okRecord(fl, c, fw)
		ok++
		f.write(fl)
	}
	if ok > 0 {
		f.cur.OK += ok
		f.hadOK[k] = true
	}
}

// meta fills the fields that describe the interface, which status records
// keep too ([Choice], docs/aws-behaviour.md, "NODATA and SKIPDATA").
func meta(r *record.Record, fl *FlowLog, e *topology.ENI) {
	r.Version = int64(fl.Format.Version())
	r.AccountID, r.InterfaceID = e.AccountID, e.ID
	r.VPCID, r.SubnetID, r.InstanceID = e.VPCID, e.SubnetID, e.InstanceID
	r.Region, r.AZID = e.Region, e.AZID
	if r.AccountID == "" {
		r.AccountID = fl.OwnerID
	}
	if r.Region == "" {
		r.Region = fl.Region
	}
}

// status fills f.rec with a NODATA or SKIPDATA record.
func (f *Fanout) status(fl *FlowLog, c *Capture, w *flow.Window, st record.Status) {
	r := &f.rec
	r.Reset()
	f.recOK = false
	meta(r, fl, c.ENI)
	r.Start, r.End, r.LogStatus = w.Start, w.End(), st
}

// okRecord fills f.rec with the record of one flow. It sets every field it
// ever sets, the optional ones too, so that the record needs clearing only
// after a status record.
func (f *Fanout) okRecord(fl *FlowLog, c *Capture, fw *flow.Flow) {
	r := &f.rec
	if !f.recOK {
		r.Reset()
		f.recOK = true
	}
	meta(r, fl, c.ENI)
	src, dst := fw.SrcAddr(), fw.DstAddr()
	r.PktSrcAddr, r.PktDstAddr = src, dst
	// The interface side of an IPv4 record is always its primary private
	// address; IPv6 is used as is (docs/aws-behaviour.md, "Addresses, NAT
	// gateway and pkt-* fields").
	primary := c.ENI.PrimaryIPv4
	dir := record.Direction(fw.Dir)
	switch {
	case dir == record.Ingress && src.Is4() && primary.IsValid():
		dst = primary
	case dir == record.Egress && src.Is4() && primary.IsValid():
		src = primary
	}
	r.SrcAddr, r.DstAddr = src, dst
	r.SrcPort, r.DstPort, r.Protocol = int64(fw.SrcPort), int64(fw.DstPort), int64(fw.Proto)
	r.Packets, r.Bytes, r.Start, r.End = int64(fw.Packets), int64(fw.Bytes), fw.Start, fw.End
	r.Action, r.LogStatus = record.ActionValue(fw.Action), record.StatusOK
	r.TCPFlags = 0 // [Choice] non-TCP records write 0
	if fw.Proto == 6 {
		r.TCPFlags = int64(fw.TCPFlags)
	}
	r.Type = record.TypeIPv6
	if src.Is4() {
		r.Type = record.TypeIPv4
	}
	r.FlowDirection = dir
	r.TrafficPath = record.Absent
	if dir == record.Egress && fw.TrafficPath != 0 {
		r.TrafficPath = int64(fw.TrafficPath)
	}
	r.XRule = ""
	if fw.Rule != 0 && int(fw.Rule) < len(f.ruleNames) {
		r.XRule = f.ruleNames[fw.Rule]
	}
}

// Close closes every destination once, even when flow logs share one.
func (f *Fanout) Close() error {
	f.takeCaptures()
	var first error
	closed := map[Destination]bool{}
	for _, fl := range f.flowLogs {
		d := f.dest(fl)
		if closed[d] {
			continue
		}
		closed[d] = true
		if err := d.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
