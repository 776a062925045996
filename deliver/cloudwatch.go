package deliver

import (
	"fmt"
	"slices"

	"github.com/vpcflow/vpcflow/flowlog"
	"github.com/vpcflow/vpcflow/logstore"
	"github.com/vpcflow/vpcflow/record"
)

// CloudWatch delivers flow logs with destination cloud-watch-logs into the
// embedded log store as AWS does (spec §4.2): one stream per interface named
// `<interface-id>-all` in the flow log's group (flow logs sharing a group
// share the stream), one event per record whose message is the record line
// without header or newline and whose timestamp is start × 1000. Each
// window's batch is sorted by timestamp.
type CloudWatch struct {
	Store LogIngester

	stats CloudWatchStats
	buf   []byte
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
	return &CloudWatch{Store: store, stats: CloudWatchStats{Groups: map[string]bool{}}}
}

// Stats returns the counters.
func (c *CloudWatch) Stats() CloudWatchStats { return c.stats }

// Records writes one window's records of fl.
func (c *CloudWatch) Records(fl *flowlog.FlowLog, recs []record.Record) error {
	if len(recs) == 0 {
		return nil
	}
	evs := make([]logstore.InputEvent, 0, len(recs))
	for i := range recs {
		r := &recs[i]
		c.buf = record.AppendText(c.buf[:0], fl.Format, r)
		evs = append(evs, logstore.InputEvent{
			Stream:    r.InterfaceID + "-all",
			Timestamp: r.Start * 1000,
			Message:   append([]byte(nil), c.buf...),
		})
	}
	slices.SortStableFunc(evs, func(a, b logstore.InputEvent) int {
		switch {
		case a.Stream != b.Stream:
			if a.Stream < b.Stream {
				return -1
			}
			return 1
		case a.Timestamp < b.Timestamp:
			return -1
		case a.Timestamp > b.Timestamp:
			return 1
		}
		return 0
	})
	res, err := c.Store.Ingest(fl.LogGroupName, evs)
	if err != nil {
		return fmt.Errorf("flow log %s: log group %s: %w", fl.ID, fl.LogGroupName, err)
	}
	c.stats.Events += res.Stored
	c.stats.Invalid += res.Invalid
	c.stats.Expired += res.Expired
	c.stats.Groups[fl.LogGroupName] = true
	return nil
}

// Flush does nothing: every window is written as it closes.
func (c *CloudWatch) Flush(*flowlog.FlowLog, int64) error { return nil }

// Close does nothing; the store belongs to the caller.
func (c *CloudWatch) Close() error { return nil }
