package flowlog

import (
	"fmt"

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
}

// Destination receives the records of flow logs, one at a time and in a
// deterministic order: window by window, and within a window by interface
// (ENI id), then status record first, then start, end and flow key. Flush is
// called after every closed window of a flow log and promises that no record
// whose end is before `before` will come for that flow log again, so complete
// objects can be finished; `before` is -1 when nothing is final yet.
type Destination interface {
	// Write receives one record; r is only valid during the call.
	Write(fl *FlowLog, r *record.Record) error
	Flush(fl *FlowLog, before int64) error
	Close() error
}

// Stats counts what the fan-out wrote.
type Stats struct {
	Records  uint64 // every record handed to destinations
	OK       uint64
	NoData   uint64
	SkipData uint64
	Filtered uint64 // flows left out by a flow log's traffic type
}

// Fanout turns closed windows into records for every flow log.
type Fanout struct {
	captures   []Capture
	rules      func() []string // rule id → rule name (x-rule); grows during a run
	dest       func(*FlowLog) Destination
	flowLogs   []*FlowLog
	hadOK      map[okKey]bool
	intervals  map[*FlowLog][]int64 // distinct capture intervals of each flow log
	lastClosed map[int64]int64      // per interval, end of the last closed window
	rec        record.Record        // reused for every record
	err        error                // first destination error of the current window
	stats      Stats
}

type okKey struct {
	fl      *FlowLog
	capture uint32
}

// NewFanout prepares the fan-out. captures is indexed by the capture ids the
// aggregator assigned; dest returns the destination of a flow log.
func NewFanout(captures []Capture, dest func(*FlowLog) Destination) *Fanout {
	f := &Fanout{
		captures: captures, dest: dest,
		hadOK: map[okKey]bool{}, intervals: map[*FlowLog][]int64{},
		lastClosed: map[int64]int64{},
	}
	for _, c := range captures {
		for _, fl := range c.FlowLogs {
			ivs, seen := f.intervals[fl]
			if !seen {
				f.flowLogs = append(f.flowLogs, fl)
			}
			if !containsInt(ivs, c.Interval) {
				f.intervals[fl] = append(ivs, c.Interval)
			}
		}
	}
	return f
}

func containsInt(xs []int64, x int64) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// SetRules gives the names of Observation.Rule ids (x-rule). The function
// is called when records are built, so names added during a run are seen.
func (f *Fanout) SetRules(rules func() []string) { f.rules = rules }

// Stats returns the counters.
func (f *Fanout) Stats() Stats { return f.stats }

// Window handles one closed window from the aggregator.
func (f *Fanout) Window(w *flow.Window) error {
	p := 0 // flows before p are done
	for ci := range f.captures {
		c := &f.captures[ci]
		if c.Interval != w.Interval {
			continue
		}
		// Flows arrive sorted by capture: take this capture's run.
		end := p
		for end < w.Flows.Len() && w.Flows.At(end).Capture == uint32(ci) {
			end++
		}
		for _, fl := range c.FlowLogs {
			f.capture(fl, uint32(ci), c, w, p, end)
		}
		p = end
	}
	if f.err != nil {
		return f.err
	}
	if left := w.Flows.Len() - p; left != 0 {
		return fmt.Errorf("flowlog: %d flows of unknown capture points", left)
	}
	f.lastClosed[w.Interval] = w.End()
	for _, fl := range f.flowLogs {
		if !containsInt(f.intervals[fl], w.Interval) {
			continue
		}
		if err := f.dest(fl).Flush(fl, f.watermark(fl)); err != nil {
			return err
		}
	}
	return nil
}

// write hands one record to fl's destination, keeping the first error.
func (f *Fanout) write(fl *FlowLog) {
	if f.err != nil {
		return
	}
	f.stats.Records++
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
	if skipped := w.Skipped[ci]; skipped > 0 {
		f.status(fl, c, w, record.StatusSkipData)
		f.stats.SkipData++
		f.write(fl)
	} else if lo == hi && f.hadOK[k] {
		f.status(fl, c, w, record.StatusNoData)
		f.stats.NoData++
		f.write(fl)
	}
	for i := lo; i < hi; i++ {
		fw := w.Flows.At(i)
		if !fl.Accepts(record.ActionValue(fw.Action)) {
			f.stats.Filtered++
			continue
		}
		f.okRecord(fl, c, fw)
		f.stats.OK++
		f.hadOK[k] = true
		f.write(fl)
	}
}

// meta fills the fields that describe the interface, which status records
// keep too ([Choice] spec §3.5).
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
	meta(r, fl, c.ENI)
	r.Start, r.End, r.LogStatus = w.Start, w.End(), st
}

// okRecord fills f.rec with the record of one flow.
func (f *Fanout) okRecord(fl *FlowLog, c *Capture, fw *flow.Flow) {
	r := &f.rec
	r.Reset()
	meta(r, fl, c.ENI)
	src, dst := fw.SrcAddr(), fw.DstAddr()
	r.PktSrcAddr, r.PktDstAddr = src, dst
	// Spec §3.6: the interface side of an IPv4 record is always its primary
	// private address; IPv6 is used as is.
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
	if dir == record.Egress && fw.TrafficPath != 0 {
		r.TrafficPath = int64(fw.TrafficPath)
	}
	if fw.Rule != 0 && f.rules != nil {
		if names := f.rules(); int(fw.Rule) < len(names) {
			r.XRule = names[fw.Rule]
		}
	}
}

// Close closes every destination once, even when flow logs share one.
func (f *Fanout) Close() error {
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
