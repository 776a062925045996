package deliver

import (
	"fmt"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/vpcflow/vpcflow/flowlog"
	"github.com/vpcflow/vpcflow/logstore"
	"github.com/vpcflow/vpcflow/metricfilter"
	"github.com/vpcflow/vpcflow/record"
)

// recordingStore is a log store that writes down the order of deliveries
// and completions.
type recordingStore struct {
	*logstore.Store
	calls []string
}

func (s *recordingStore) IngestOnce(group, source string, evs []logstore.InputEvent) (logstore.IngestResult, error) {
	s.calls = append(s.calls, fmt.Sprintf("ingest %s %d", source, len(evs)))
	return s.Store.IngestOnce(group, source, evs)
}

func (s *recordingStore) Complete(t int64) ([]metricfilter.StateChange, error) {
	s.calls = append(s.calls, fmt.Sprintf("complete %d", t))
	return nil, nil
}

func openRecording(t *testing.T) *recordingStore {
	t.Helper()
	st, err := logstore.Open(t.TempDir(), logstore.Options{Account: "111122223333", Region: "eu-west-1",
		Now: func() time.Time { return time.Unix(1709970000, 0) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &recordingStore{Store: st}
}

func cwFlowLog(id string, interval int64) *flowlog.FlowLog {
	return &flowlog.FlowLog{ID: id, OwnerID: "111122223333", Region: "eu-west-1", Format: record.DefaultFormat,
		DestinationType: flowlog.DestCloudWatch, LogGroupName: "/vpc/flow", MaxAggregationInterval: interval}
}

// TestCloudWatchWindowDeliveredAgain: a window delivered again (the same
// flow log, interfaces and records) stores nothing and is counted per
// interface; with one record changed, that interface's window is counted
// as partly stored and only the changed record is new.
func TestCloudWatchWindowDeliveredAgain(t *testing.T) {
	st := openRecording(t)
	c := NewCloudWatch(st)
	fl := cwFlowLog("fl-1", 60)
	// 1709969700 = 2024-03-09T07:35:00Z: one 60 s window, two interfaces.
	window := func(pkts int64) {
		for _, r := range []record.Record{rec("eni-a", 1709969700, 1709969710, 3), rec("eni-a", 1709969701, 1709969702, 1),
			rec("eni-b", 1709969700, 1709969759, pkts)} {
			if err := c.Write(fl, &r); err != nil {
				t.Fatal(err)
			}
		}
		if err := c.Flush(fl, 1709969760); err != nil {
			t.Fatal(err)
		}
	}
	window(5)
	window(5)
	if s := c.Stats(); s.Events != 3 || s.AlreadyStored != 3 || s.WindowsAlreadyStored != 2 || s.WindowsPartlyStored != 0 {
		t.Fatalf("again: %+v", s)
	}
	window(6) // eni-b's record differs
	if s := c.Stats(); s.Events != 4 || s.AlreadyStored != 5 || s.WindowsAlreadyStored != 3 || s.WindowsPartlyStored != 0 {
		t.Fatalf("eni-b changed: %+v", s)
	}
	// eni-a's two records and eni-b's first one again, plus a new eni-b
	// record: eni-a is wholly stored, eni-b partly.
	for _, r := range []record.Record{rec("eni-a", 1709969700, 1709969710, 3), rec("eni-a", 1709969701, 1709969702, 1),
		rec("eni-b", 1709969700, 1709969759, 5), rec("eni-b", 1709969720, 1709969721, 1)} {
		c.Write(fl, &r)
	}
	if err := c.Flush(fl, 1709969760); err != nil {
		t.Fatal(err)
	}
	if s := c.Stats(); s.Events != 5 || s.AlreadyStored != 8 || s.WindowsAlreadyStored != 4 || s.WindowsPartlyStored != 1 {
		t.Fatalf("eni-b partly: %+v", s)
	}
	if n := st.Counters().Ingested; n != 5 {
		t.Errorf("store holds %d events, want 5", n)
	}
}

// TestCloudWatchCompleteWaitsForSlowest: a 60 s and a 600 s flow log. The
// store is told that nothing is complete before the first delivery, then,
// after each closed window, the time before which both flow logs' records
// are in: nothing until the 600 s flow log's first window closes, whatever
// the 60 s one delivered; a deleted flow log holds nothing back.
func TestCloudWatchCompleteWaitsForSlowest(t *testing.T) {
	st := openRecording(t)
	c := NewCloudWatch(st)
	fast, slow := cwFlowLog("fl-fast", 60), cwFlowLog("fl-slow", 600)
	const w0 = 1709969400 // 2024-03-09T07:30:00Z, a multiple of 600
	closeWindow := func(fl *flowlog.FlowLog, end int64, starts ...int64) {
		for _, s := range starts {
			r := rec("eni-a", s, s+1, 1)
			c.Write(fl, &r)
		}
		if err := c.Flush(fl, end); err != nil {
			t.Fatal(err)
		}
	}
	// The 60 s windows of the first two minutes close; the 600 s flow log
	// has closed none (-1).
	closeWindow(fast, w0+60, w0+10)
	c.Complete(map[*flowlog.FlowLog]int64{fast: w0 + 60, slow: -1})
	closeWindow(fast, w0+120, w0+70)
	c.Complete(map[*flowlog.FlowLog]int64{fast: w0 + 120, slow: -1})
	// Minutes 3 to 10 close (the fast flow log records nothing more); the
	// 600 s window closes after the 60 s one ending at the same time.
	for end := int64(w0 + 180); end <= w0+600; end += 60 {
		closeWindow(fast, end)
		c.Complete(map[*flowlog.FlowLog]int64{fast: end, slow: -1})
	}
	closeWindow(slow, w0+600, w0+5, w0+300)
	c.Complete(map[*flowlog.FlowLog]int64{fast: w0 + 600, slow: w0 + 600})
	// The next minute: complete up to the 600 s flow log's w0+600 still.
	closeWindow(fast, w0+660)
	c.Complete(map[*flowlog.FlowLog]int64{fast: w0 + 660, slow: w0 + 600})
	// The slow flow log is deleted (its last flush says so).
	c.Flush(slow, math.MaxInt64)
	c.Complete(map[*flowlog.FlowLog]int64{fast: w0 + 720})
	want := []string{
		fmt.Sprintf("complete %d", int64(math.MinInt64)),
		"ingest fl-fast 1",
		"ingest fl-fast 1",
		"ingest fl-slow 2",
		fmt.Sprintf("complete %d", (w0+600)*1000),
		fmt.Sprintf("complete %d", (w0+720)*1000),
	}
	if !reflect.DeepEqual(st.calls, want) {
		t.Errorf("calls\n%q\nwant\n%q", st.calls, want)
	}
}
