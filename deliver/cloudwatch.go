package deliver

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/vpcflow/vpcflow/flowlog"
	"github.com/vpcflow/vpcflow/logstore"
	"github.com/vpcflow/vpcflow/metricfilter"
	"github.com/vpcflow/vpcflow/record"
)

// CloudWatch delivers flow logs with destination cloud-watch-logs into the
// embedded log store as AWS does (docs/aws-behaviour.md, "CloudWatch Logs
// delivery"): one stream per interface named `<interface-id>-all` in the flow
// log's group (flow logs sharing a group share the stream), one event per
// record whose message is the record line without header or newline and whose
// timestamp is start × 1000. Each window's batch is sorted by timestamp and
// ingested once: records its flow log delivered before (a capture converted
// again, a service restarted over a replay) are skipped and counted. After
// each closed window it tells the log service how far every flow log's
// records are in (Complete), so alarms wait for the windows still open.
type CloudWatch struct {
	Store LogIngester

	mu      sync.Mutex // guards stats, which Stats may read from any goroutine
	stats   CloudWatchStats
	pending map[*flowlog.FlowLog][]logstore.InputEvent // the current window's events
	buf     []byte

	// Alarms wait for the slowest flow log (see Complete).
	before   map[string]int64 // flow log id → its records before this (s) are delivered; -1: none yet
	complete int64            // what Store was last told (ms)
	held     bool             // Store was told that nothing is complete yet
}

// LogIngester is the log store's ingestion path for delivery. Both
// *logstore.Store and *logsvc.Service provide it; give the service so
// delivered records also run the group's metric filters and alarms.
// IngestOnce is given the flow log's id as the source, so a window
// delivered again (a capture converted twice, a service restarted over a
// replay) does not store its records twice.
type LogIngester interface {
	IngestOnce(group, source string, evs []logstore.InputEvent) (logstore.IngestResult, error)
}

// AlarmHold is the part of the log service that judges alarms
// (*logsvc.Service): Complete(t) says every event before t (ms) has been
// ingested, so no alarm judges a period before the records that fall in
// it are delivered.
type AlarmHold interface {
	Complete(t int64) ([]metricfilter.StateChange, error)
}

// CloudWatchStats counts delivered and skipped events.
type CloudWatchStats struct {
	Events  int
	Invalid int // refused by the store (never expected from records)
	Expired int // older than the group's retention
	// AlreadyStored counts records not stored because their flow log had
	// delivered them before (the same stream, timestamp and line: a
	// capture converted again). WindowsAlreadyStored counts the windows of
	// an interface (capture windows, per log stream) whose every record
	// was stored already; WindowsPartlyStored those of which some were,
	// the others being new (another capture of the same time).
	AlreadyStored        int
	WindowsAlreadyStored int
	WindowsPartlyStored  int
	Groups               map[string]bool
}

// NewCloudWatch returns a destination writing into store.
func NewCloudWatch(store LogIngester) *CloudWatch {
	return &CloudWatch{Store: store, stats: CloudWatchStats{Groups: map[string]bool{}}, pending: map[*flowlog.FlowLog][]logstore.InputEvent{},
		before: map[string]int64{}, complete: math.MinInt64}
}

// Stats returns the counters; safe from any goroutine.
func (c *CloudWatch) Stats() CloudWatchStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.stats
	st.Groups = maps.Clone(c.stats.Groups)
	return st
}

// Write buffers one record as an event of the current window.
func (c *CloudWatch) Write(fl *flowlog.FlowLog, r *record.Record) error {
	c.buf = record.AppendText(c.buf[:0], fl.Format, r)
	c.pending[fl] = append(c.pending[fl], logstore.InputEvent{
		Stream:    r.InterfaceID + "-all",
		Timestamp: r.Start * 1000,
		Message:   append([]byte(nil), c.buf...),
	})
	return nil
}

// Flush ingests the window's events of fl, sorted by stream and timestamp,
// in one durable batch; the events fl delivered before are skipped and
// counted. before is when fl's delivered records are complete (Complete).
func (c *CloudWatch) Flush(fl *flowlog.FlowLog, before int64) error {
	defer c.note(fl, before)
	evs := c.pending[fl]
	if len(evs) == 0 {
		return nil
	}
	if err := c.hold(); err != nil {
		return err
	}
	slices.SortStableFunc(evs, func(a, b logstore.InputEvent) int {
		if c := strings.Compare(a.Stream, b.Stream); c != 0 {
			return c
		}
		return cmp.Compare(a.Timestamp, b.Timestamp)
	})
	res, err := c.Store.IngestOnce(fl.LogGroupName, fl.ID, evs)
	if err != nil {
		return fmt.Errorf("flow log %s: log group %s: %w", fl.ID, fl.LogGroupName, err)
	}
	c.pending[fl] = evs[:0]
	c.mu.Lock()
	defer c.mu.Unlock()
	c.countWindows(evs, res.Duplicates)
	c.stats.Events += res.Stored
	c.stats.Invalid += res.Invalid
	c.stats.Expired += res.Expired
	c.stats.AlreadyStored += len(res.Duplicates)
	c.stats.Groups[fl.LogGroupName] = true
	return nil
}

// countWindows classifies the window's streams by how many of their
// events were stored before: evs is sorted by stream, dups ascending. The
// caller holds mu.
func (c *CloudWatch) countWindows(evs []logstore.InputEvent, dups []int) {
	if len(dups) == 0 {
		return
	}
	for lo := 0; lo < len(evs); {
		hi := lo
		for hi < len(evs) && evs[hi].Stream == evs[lo].Stream {
			hi++
		}
		d := 0
		for len(dups) > 0 && dups[0] < hi {
			d++
			dups = dups[1:]
		}
		switch {
		case d == hi-lo:
			c.stats.WindowsAlreadyStored++
		case d > 0:
			c.stats.WindowsPartlyStored++
		}
		lo = hi
	}
}

// Complete records how far each flow log's records are delivered (the
// fan-out's flowlog.Completer call after each closed window, with every
// flow log) and tells the store when all of them are complete further
// than before: the records of a 600 s window come when it closes, up to
// ten minutes after their timestamps, so an alarm period is judged only
// once no flow log can still deliver records into it.
func (c *CloudWatch) Complete(before map[*flowlog.FlowLog]int64) error {
	for fl, b := range before {
		c.note(fl, b)
	}
	cs, ok := c.Store.(AlarmHold)
	if !ok {
		return nil
	}
	upTo := int64(math.MaxInt64)
	for _, b := range c.before {
		if b < 0 {
			return nil // a flow log none of whose windows has closed yet
		}
		upTo = min(upTo, b)
	}
	if upTo < math.MaxInt64/1000 {
		upTo *= 1000
	}
	if upTo <= c.complete {
		return nil
	}
	c.complete, c.held = upTo, true
	_, err := cs.Complete(upTo)
	return err
}

// note keeps the latest of what fl's flushes and completions said.
func (c *CloudWatch) note(fl *flowlog.FlowLog, before int64) {
	if b, ok := c.before[fl.ID]; !ok || before > b {
		c.before[fl.ID] = before
	}
}

// hold tells the store, before the first delivery, that nothing is
// complete yet: the other flow logs' windows may hold earlier records.
func (c *CloudWatch) hold() error {
	cs, ok := c.Store.(AlarmHold)
	if !ok || c.held {
		return nil
	}
	c.held = true
	_, err := cs.Complete(math.MinInt64)
	return err
}

// Close ingests what is still pending; the store belongs to the caller.
func (c *CloudWatch) Close() error {
	for fl := range c.pending {
		if err := c.Flush(fl, -1); err != nil {
			return err
		}
	}
	return nil
}
