package logsvc

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/vpcflow/vpcflow/logstore"
)

// TestQueryProgress: while a query runs, GetQueryResults says how many
// records it has scanned (as CloudWatch's statistics do); once Complete,
// the count is the engine's. The query (one worker) is held when it has
// counted its first events, so the running figure is exactly those.
func TestQueryProgress(t *testing.T) {
	const n = 10_000
	now := time.UnixMilli(hour + 3*3600_000)
	s, err := Open(t.TempDir(), Options{Identity: testID, QueryWorkers: 1, Store: logstore.Options{Now: func() time.Time { return now }}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var evs []logstore.InputEvent
	for i := range n {
		evs = append(evs, logstore.InputEvent{Stream: "eni-1", Timestamp: hour + int64(i),
			Message: fmt.Appendf(nil, "2 123456789012 eni-1 10.0.0.1 10.0.0.2 %d 443 6 1 60 1 2 ACCEPT OK", 1024+i)})
	}
	if _, err := s.Ingest("vpc", evs); err != nil {
		t.Fatal(err)
	}
	held, release := make(chan int64, 1), make(chan struct{})
	first := true
	queryProgress = func(added int64) {
		if first && added > 0 {
			first = false
			held <- added
			<-release
		}
	}
	defer func() { queryProgress = nil }()
	id, err := s.StartQuery(StartQueryInput{LogGroupNames: []string{"vpc"}, QueryString: "stats count(*) as n"})
	if err != nil {
		t.Fatal(err)
	}
	var added int64
	select {
	case added = <-held:
	case <-time.After(30 * time.Second):
		t.Fatal("the query never counted an event")
	}
	r, err := s.GetQueryResults(id)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != QueryRunning || r.Statistics.RecordsScanned != float64(added) || added >= n {
		t.Errorf("while running: %s, %v records scanned, want Running, %d (of %d)", r.Status, r.Statistics.RecordsScanned, added, n)
	}
	close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err = s.WaitQuery(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if r.Statistics.RecordsScanned != n || len(r.Rows) != 1 || r.Rows[0][0].Value != "10000" {
		t.Errorf("complete: %v scanned, rows %v; want %d and n=10000", r.Statistics.RecordsScanned, r.Rows, n)
	}
}
