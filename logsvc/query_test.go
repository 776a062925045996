package logsvc

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/vpcflow/vpcflow/logstore"
)

func i64(v int64) *int64 { return &v }

// queryStore is a data dir with L1-L4 in group vpc at hour+0..3 ms, and a
// clock at 15:00 that day.
func queryStore(t *testing.T, opts Options) *Service {
	t.Helper()
	opts.Identity = testID
	opts.Store.Now = func() time.Time { return time.UnixMilli(hour + 3*3600_000) }
	s, err := Open(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	mustIngest(t, s, "vpc", evs(hour, l1, l2, l3, l4))
	if err := s.CreateLogGroup("other", logstore.GroupOptions{}); err != nil {
		t.Fatal(err)
	}
	return s
}

func status(t *testing.T, s *Service, id string) string {
	t.Helper()
	r, err := s.GetQueryResults(id)
	if err != nil {
		t.Fatal(err)
	}
	return r.Status
}

// TestQueryLifecycle drives queries through every status. The first query
// is held as it starts running; with one query allowed at a time, the
// second waits (Scheduled) and is stopped there; the first then completes
// with the rows worked out by hand: REJECT records by destination port are
// L1, L2 (22) and L4 (80); 4 records of 113+111+115+113 bytes scanned.
func TestQueryLifecycle(t *testing.T) {
	started := make(chan string, 2)
	release := make(chan struct{})
	queryRunning = func(id string) {
		started <- id
		<-release
	}
	s := queryStore(t, Options{MaxRunningQueries: 1})
	defer func() {
		s.Close()
		queryRunning = nil
	}()
	const q = "filter action = 'REJECT' | stats count(*) as n by dstPort"
	id1, err := s.StartQuery(StartQueryInput{LogGroupNames: []string{"vpc"}, QueryString: q})
	if err != nil {
		t.Fatal(err)
	}
	if got := <-started; got != id1 {
		t.Fatalf("started %s, want %s", got, id1)
	}
	if st := status(t, s, id1); st != QueryRunning {
		t.Errorf("first query: %s, want Running", st)
	}
	id2, err := s.StartQuery(StartQueryInput{LogGroupNames: []string{"vpc", "other"}, QueryString: "limit 1"})
	if err != nil {
		t.Fatal(err)
	}
	if st := status(t, s, id2); st != QueryScheduled {
		t.Errorf("second query: %s, want Scheduled", st)
	}
	qs, next, err := s.DescribeQueries(DescribeQueriesInput{})
	if err != nil || next != "" || len(qs) != 2 {
		t.Fatalf("DescribeQueries: %+v %q %v", qs, next, err)
	}
	created := hour + 3*3600_000
	want := []QueryInfo{
		{QueryLanguage: "CWLI", QueryID: id2, QueryString: "limit 1", Status: QueryScheduled, CreateTime: created, LogGroupName: "vpc"},
		{QueryLanguage: "CWLI", QueryID: id1, QueryString: q, Status: QueryRunning, CreateTime: created, LogGroupName: "vpc"},
	}
	if qs[0] != want[0] || qs[1] != want[1] {
		t.Errorf("DescribeQueries = %+v\nwant %+v", qs, want)
	}
	if ok, err := s.StopQuery(id2); !ok || err != nil {
		t.Fatalf("StopQuery(scheduled) = %v, %v", ok, err)
	}
	if st := status(t, s, id2); st != QueryCancelled {
		t.Errorf("stopped query: %s, want Cancelled", st)
	}
	close(release)
	res, err := s.WaitQuery(context.Background(), id1)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(res)
	wantJSON := `{"results":[[{"field":"dstPort","value":"22"},{"field":"n","value":"2"}],[{"field":"dstPort","value":"80"},{"field":"n","value":"1"}]],` +
		`"statistics":{"recordsMatched":3.0,"recordsScanned":4.0,"bytesScanned":452.0},"status":"Complete"}`
	if string(got) != wantJSON {
		t.Errorf("results:\n got %s\nwant %s", got, wantJSON)
	}
	if r, err := s.GetQueryResults(id1); err != nil || r.Status != QueryComplete || len(r.Rows) != 2 {
		t.Errorf("GetQueryResults after completion: %+v %v", r, err)
	}
	if _, err := s.WaitQuery(context.Background(), id2); err == nil {
		t.Error("WaitQuery of a cancelled query: no error")
	}
	if _, err := s.StopQuery(id1); code(err) != logstore.CodeInvalidParameter {
		t.Errorf("StopQuery(complete): %v, want InvalidParameterException", err)
	}
	if _, err := s.StopQuery("nope"); code(err) != logstore.CodeResourceNotFound {
		t.Errorf("StopQuery(unknown): %v", err)
	}
	if _, err := s.GetQueryResults("nope"); code(err) != logstore.CodeResourceNotFound {
		t.Errorf("GetQueryResults(unknown): %v", err)
	}

	// Filters and pages.
	for _, tc := range []struct {
		in   DescribeQueriesInput
		want []string
	}{
		{DescribeQueriesInput{Status: QueryComplete}, []string{id1}},
		{DescribeQueriesInput{Status: QueryCancelled}, []string{id2}},
		{DescribeQueriesInput{LogGroupName: "other"}, []string{id2}},
		{DescribeQueriesInput{LogGroupName: "nope"}, nil},
	} {
		qs, _, err := s.DescribeQueries(tc.in)
		var ids []string
		for _, q := range qs {
			ids = append(ids, q.QueryID)
		}
		if err != nil || len(ids) != len(tc.want) || len(ids) > 0 && ids[0] != tc.want[0] {
			t.Errorf("DescribeQueries(%+v) = %v, %v; want %v", tc.in, ids, err, tc.want)
		}
	}
	page, next, err := s.DescribeQueries(DescribeQueriesInput{MaxResults: 1})
	if err != nil || len(page) != 1 || page[0].QueryID != id2 || next == "" {
		t.Fatalf("page 1: %+v %q %v", page, next, err)
	}
	page, next, err = s.DescribeQueries(DescribeQueriesInput{MaxResults: 1, NextToken: next})
	if err != nil || len(page) != 1 || page[0].QueryID != id1 || next != "" {
		t.Fatalf("page 2: %+v %q %v", page, next, err)
	}
	if _, _, err := s.DescribeQueries(DescribeQueriesInput{NextToken: "bogus"}); err != logstore.ErrInvalidToken {
		t.Errorf("bad token: %v", err)
	}
	if _, _, err := s.DescribeQueries(DescribeQueriesInput{Status: "Done"}); code(err) != logstore.CodeInvalidParameter {
		t.Errorf("bad status: %v", err)
	}
}

// TestQueryTimes: StartQuery's times are seconds, an end covering its whole
// second, or milliseconds above 10^10; without an end the query reads to
// the newest event and queryEndTime() is the time it started (15:00, the
// clock; queryStartTime() is 12:00, both in ms).
func TestQueryTimes(t *testing.T) {
	s := queryStore(t, Options{})
	defer s.Close()
	sec := hour / 1000
	for _, tc := range []struct {
		start, end *int64
		want       string
	}{
		{i64(sec), i64(sec), "4"},               // [hour, hour+999]: all four
		{i64(hour), i64(hour + 1), "2"},         // ms: hour and hour+1
		{i64(sec + 1), nil, "0"},                // after them, open end
		{nil, i64(sec - 1), "0"},                // before them
		{i64(hour + 2), i64(hour + 3_600), "2"}, // ms: hour+2, hour+3
	} {
		id, err := s.StartQuery(StartQueryInput{LogGroupNames: []string{"vpc"}, StartTime: tc.start, EndTime: tc.end, QueryString: "stats count(*) as n"})
		if err != nil {
			t.Fatal(err)
		}
		res, err := s.WaitQuery(context.Background(), id)
		if err != nil || len(res.Rows) != 1 || res.Rows[0][0].Value != tc.want {
			t.Errorf("start %v end %v: %+v %v, want n=%s", tc.start, tc.end, res, err, tc.want)
		}
	}
	id, err := s.StartQuery(StartQueryInput{LogGroupNames: []string{"vpc"}, StartTime: i64(sec), QueryString: "fields queryStartTime() as s, queryEndTime() as e | limit 1"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.WaitQuery(context.Background(), id)
	if err != nil || len(res.Rows) != 1 || res.Rows[0][0].Value != "1563105600000" || res.Rows[0][1].Value != "1563116400000" {
		t.Errorf("query times: %+v %v", res, err)
	}
}

func TestStartQueryErrors(t *testing.T) {
	s := queryStore(t, Options{})
	defer s.Close()
	_, err := s.StartQuery(StartQueryInput{LogGroupNames: []string{"vpc", "nope"}, QueryString: "limit 1"})
	if code(err) != logstore.CodeResourceNotFound || err.Error() != "ResourceNotFoundException: Log group 'nope' does not exist for account ID '123456789012'" {
		t.Errorf("missing group: %v", err)
	}
	_, err = s.StartQuery(StartQueryInput{LogGroupNames: []string{"vpc"}, QueryString: "fields a\n| sortt a"})
	var mq *MalformedQueryError
	if !errors.As(err, &mq) || mq.Err.Line != 2 || mq.Err.Col != 3 {
		t.Errorf("malformed: %v", err)
	}
	for name, in := range map[string]StartQueryInput{
		"no group":    {QueryString: "limit 1"},
		"limit":       {LogGroupNames: []string{"vpc"}, QueryString: "limit 1", Limit: 100_001},
		"end < start": {LogGroupNames: []string{"vpc"}, QueryString: "limit 1", StartTime: i64(20), EndTime: i64(10)},
		"negative":    {LogGroupNames: []string{"vpc"}, QueryString: "limit 1", StartTime: i64(-1)},
	} {
		if _, err := s.StartQuery(in); code(err) != logstore.CodeInvalidParameter {
			t.Errorf("%s: %v, want InvalidParameterException", name, err)
		}
	}
	// A group's ARN names it too.
	if _, err := s.StartQuery(StartQueryInput{LogGroupNames: []string{"arn:aws:logs:us-east-1:123456789012:log-group:vpc:*"}, QueryString: "limit 1"}); err != nil {
		t.Errorf("by ARN: %v", err)
	}
}

// TestCloseStopsQueries: Close cancels a running query and waits for it,
// so nothing reads the store after it is closed. The query is held as it
// starts until its context is cancelled, which only Close does here.
func TestCloseStopsQueries(t *testing.T) {
	var s *Service
	queryRunning = func(id string) {
		q, _ := s.q.get(id)
		<-q.ctx.Done()
	}
	defer func() { queryRunning = nil }()
	s = queryStore(t, Options{})
	id, err := s.StartQuery(StartQueryInput{LogGroupNames: []string{"vpc"}, QueryString: "limit 1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if st := status(t, s, id); st != QueryCancelled {
		t.Errorf("after Close: %s, want Cancelled", st)
	}
	if _, err := s.StartQuery(StartQueryInput{LogGroupNames: []string{"vpc"}, QueryString: "limit 1"}); err == nil {
		t.Error("StartQuery after Close: no error")
	}
}
