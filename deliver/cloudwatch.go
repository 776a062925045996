package deliver

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/vpcflow/vpcflow/flowlog"
	"github.com/vpcflow/vpcflow/logstore"
	"github.com/vpcflow/vpcflow/record"
)

// CloudWatch delivers flow logs with destination cloud-watch-logs into the
// embedded log store as AWS does (docs/aws-behaviour.md, "CloudWatch Logs
// delivery"): one stream per interface named `<interface-id>-all` in the flow
// log's group (flow logs sharing a group share the stream), one event per
// record whose message is the record line without header or newline and whose
// timestamp is start × 1000. Each window's batch is sorted by timestamp.
type CloudWatch struct {
	Store LogIngester

	stats   CloudWatchStats
	pending map[*flowlog.FlowLog][]logstore.InputEvent // the current window's events
	buf     []byte
}

// LogIngester is the log store's internal ingestion path. Both
// *logstore.Store and *logsvc.Service provide it; give the service so
// delivered records also run the group's metric filters and alarms.
type LogIngester interface {
	Ingest(group string, evs []logstore.InputEvent) (logstore.IngestResult, error)
}

// CloudWatchStats counts delivered and skipped events.
type CloudWatchStats struct {
	Events  int
	Invalid int // refused by the store (never expected from records)
	Expired int // older than the group's retention
	Groups  map[string]bool
}

// NewCloudWatch returns a destination writing into store.
func NewCloudWatch(store LogIngester) *CloudWatch {
	return &CloudWatch{Store: store, stats: CloudWatchStats{Groups: map[string]bool{}}, pending: map[*flowlog.FlowLog][]logstore.InputEvent{}}
}

// Stats returns the counters.
func (c *CloudWatch) Stats() CloudWatchStats { return c.stats }

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
// in one durable batch.
func (c *CloudWatch) Flush(fl *flowlog.FlowLog, _ int64) error {
	evs := c.pending[fl]
	if len(evs) == 0 {
		return nil
	}
	slices.SortStableFunc(evs, func(a, b logstore.InputEvent) int {
		if c := strings.Compare(a.Stream, b.Stream); c != 0 {
			return c
		}
		return cmp.Compare(a.Timestamp, b.Timestamp)
	})
	res, err := c.Store.Ingest(fl.LogGroupName, evs)
	if err != nil {
		return fmt.Errorf("flow log %s: log group %s: %w", fl.ID, fl.LogGroupName, err)
	}
	c.pending[fl] = evs[:0]
	c.stats.Events += res.Stored
	c.stats.Invalid += res.Invalid
	c.stats.Expired += res.Expired
	c.stats.Groups[fl.LogGroupName] = true
	return nil
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
