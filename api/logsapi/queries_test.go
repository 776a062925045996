package logsapi_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/vpcflow/vpcflow/logsvc"
)

// flowRecords puts five flow-log records in two streams; three are
// REJECT, two of them from 203.0.113.12. It returns the messages.
func flowRecords(t *testing.T, g *rig) []string {
	t.Helper()
	g.mkGroup(t, "/vpc/flows", "eni-a", "eni-b")
	a := []string{
		flow("eni-a", "203.0.113.12", "10.0.0.5", 49152, 22, 6, "REJECT", ms(-10*time.Minute)),
		flow("eni-a", "10.0.0.5", "10.0.1.7", 40000, 443, 6, "ACCEPT", ms(-8*time.Minute)),
		flow("eni-a", "198.51.100.7", "10.0.0.5", 51000, 22, 6, "REJECT", ms(-2*time.Minute)),
	}
	b := []string{
		flow("eni-b", "10.0.1.7", "10.0.0.5", 443, 40000, 6, "ACCEPT", ms(-6*time.Minute)),
		flow("eni-b", "203.0.113.12", "10.0.1.7", 3389, 53, 17, "REJECT", ms(-4*time.Minute)),
	}
	g.put(t, "/vpc/flows", "eni-a", events(ms(-10*time.Minute), a[0], ms(-8*time.Minute), a[1], ms(-2*time.Minute), a[2]))
	g.put(t, "/vpc/flows", "eni-b", events(ms(-6*time.Minute), b[0], ms(-4*time.Minute), b[1]))
	return append(a, b...)
}

// wait polls GetQueryResults until the query has ended; before that its
// status must be Scheduled or Running.
func (g *rig) wait(t *testing.T, id *string, in *cwl.GetQueryResultsInput) *cwl.GetQueryResultsOutput {
	t.Helper()
	if in == nil {
		in = &cwl.GetQueryResultsInput{}
	}
	in.QueryId = id
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := g.c.GetQueryResults(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		switch out.Status {
		case types.QueryStatusScheduled, types.QueryStatusRunning:
		default:
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("query %s still %s", aws.ToString(id), out.Status)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type row map[string]string

func rows(rs [][]types.ResultField) []row {
	out := []row{}
	for _, r := range rs {
		m := row{}
		for _, f := range r {
			m[aws.ToString(f.Field)] = aws.ToString(f.Value)
		}
		out = append(out, m)
	}
	return out
}

func TestQuery(t *testing.T) {
	t.Parallel()
	g := newRig(t, rigOpts{})
	msgs := flowRecords(t, g)
	// The VPC user guide's sample query: rejected connections by source.
	q := `filter action="REJECT" | stats count(*) as numRejections by srcAddr | sort numRejections desc | limit 20`
	st, err := g.c.StartQuery(ctx, &cwl.StartQueryInput{LogGroupName: aws.String("/vpc/flows"), QueryString: aws.String(q),
		StartTime: aws.Int64(t0.Add(-time.Hour).Unix()), EndTime: aws.Int64(t0.Unix())})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(st.QueryId)
	if len(id) != 36 || strings.Count(id, "-") != 4 {
		t.Fatalf("query id %q is not a UUID", id)
	}
	out := g.wait(t, st.QueryId, nil)
	if out.Status != types.QueryStatusComplete || out.QueryLanguage != types.QueryLanguageCwli {
		t.Fatalf("status %s, language %s", out.Status, out.QueryLanguage)
	}
	want := []row{{"srcAddr": "203.0.113.12", "numRejections": "2"}, {"srcAddr": "198.51.100.7", "numRejections": "1"}}
	if got := rows(out.Results); !reflect.DeepEqual(got, want) {
		t.Fatalf("rows %v", got)
	}
	// Five records in the window were scanned, the three REJECT ones
	// passed the filter.
	bytes := 0
	for _, m := range msgs {
		bytes += len(m)
	}
	if s := out.Statistics; s == nil || s.RecordsScanned != 5 || s.RecordsMatched != 3 || s.BytesScanned != float64(bytes) {
		t.Fatalf("statistics %+v, want 5 scanned, 3 matched, %d bytes", out.Statistics, bytes)
	}
	// The statistics are doubles on the wire, as the service sends them.
	r := g.post(t, "Logs_20140328.GetQueryResults", `{"queryId":"`+id+`"}`)
	if !strings.Contains(r.text, `"statistics":{"recordsMatched":3.0,"recordsScanned":5.0,"bytesScanned":`) || !strings.Contains(r.text, `"status":"Complete"`) {
		t.Fatal(r.text)
	}

	// Pages of one row through maxItems and nextToken.
	p1 := g.wait(t, st.QueryId, &cwl.GetQueryResultsInput{MaxItems: aws.Int32(1)})
	if got := rows(p1.Results); !reflect.DeepEqual(got, want[:1]) || p1.NextToken == nil {
		t.Fatalf("page 1: %v %v", got, p1.NextToken)
	}
	p2 := g.wait(t, st.QueryId, &cwl.GetQueryResultsInput{MaxItems: aws.Int32(1), NextToken: p1.NextToken})
	if got := rows(p2.Results); !reflect.DeepEqual(got, want[1:]) || p2.NextToken != nil {
		t.Fatalf("page 2: %v %v", got, p2.NextToken)
	}
	_, err = g.c.GetQueryResults(ctx, &cwl.GetQueryResultsInput{QueryId: st.QueryId, NextToken: aws.String("bogus")})
	apiErr(t, err, "InvalidParameterException", "The specified nextToken is invalid.")

	// A record query over two groups given by ARN and name: the newest
	// first, each row with its @ptr.
	g.mkGroup(t, "other", "s")
	st2, err := g.c.StartQuery(ctx, &cwl.StartQueryInput{LogGroupIdentifiers: []string{"arn:aws:logs:us-east-1:123456789012:log-group:/vpc/flows", "other"},
		QueryString: aws.String(`fields @timestamp, @logStream, srcAddr | filter dstPort = 22 | sort @timestamp desc`),
		StartTime:   aws.Int64(0), EndTime: aws.Int64(t0.Unix())})
	if err != nil {
		t.Fatal(err)
	}
	out = g.wait(t, st2.QueryId, nil)
	got := rows(out.Results)
	if len(got) != 2 || got[0]["srcAddr"] != "198.51.100.7" || got[0]["@logStream"] != "eni-a" || got[0]["@timestamp"] != "2024-05-01 11:58:00.000" ||
		got[1]["srcAddr"] != "203.0.113.12" || got[0]["@ptr"] == "" {
		t.Fatalf("rows %v", got)
	}

	// DescribeQueries lists both, newest first.
	dq, err := g.c.DescribeQueries(ctx, &cwl.DescribeQueriesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(dq.Queries) != 2 || aws.ToString(dq.Queries[0].QueryId) != aws.ToString(st2.QueryId) || dq.Queries[1].Status != types.QueryStatusComplete ||
		aws.ToString(dq.Queries[1].QueryString) != q || aws.ToString(dq.Queries[1].LogGroupName) != "/vpc/flows" || aws.ToInt64(dq.Queries[1].CreateTime) != t0.UnixMilli() {
		t.Fatalf("%+v", dq.Queries)
	}
	dq, err = g.c.DescribeQueries(ctx, &cwl.DescribeQueriesInput{LogGroupName: aws.String("other")})
	if err != nil || len(dq.Queries) != 1 {
		t.Fatalf("%+v %v", dq, err)
	}
	dq, err = g.c.DescribeQueries(ctx, &cwl.DescribeQueriesInput{MaxResults: aws.Int32(1)})
	if err != nil || len(dq.Queries) != 1 || dq.NextToken == nil {
		t.Fatalf("%+v %v", dq, err)
	}
	dq, err = g.c.DescribeQueries(ctx, &cwl.DescribeQueriesInput{MaxResults: aws.Int32(1), NextToken: dq.NextToken})
	if err != nil || len(dq.Queries) != 1 || aws.ToString(dq.Queries[0].QueryId) != id {
		t.Fatalf("%+v %v", dq, err)
	}

	// Stopping a query that has ended is an error; so is an unknown id.
	_, err = g.c.StopQuery(ctx, &cwl.StopQueryInput{QueryId: st.QueryId})
	apiCode(t, err, "InvalidParameterException")
	_, err = g.c.StopQuery(ctx, &cwl.StopQueryInput{QueryId: aws.String("12ab3456-12ab-123a-789e-1234567890ab")})
	apiCode(t, err, "ResourceNotFoundException")
	_, err = g.c.GetQueryResults(ctx, &cwl.GetQueryResultsInput{QueryId: aws.String("12ab3456-12ab-123a-789e-1234567890ab")})
	apiCode(t, err, "ResourceNotFoundException")
}

func TestStartQueryErrors(t *testing.T) {
	t.Parallel()
	g := newRig(t, rigOpts{})
	flowRecords(t, g)
	start := func(in *cwl.StartQueryInput) error {
		if in.StartTime == nil {
			in.StartTime, in.EndTime = aws.Int64(0), aws.Int64(t0.Unix())
		}
		_, err := g.c.StartQuery(ctx, in)
		return err
	}
	err := start(&cwl.StartQueryInput{LogGroupName: aws.String("nope"), QueryString: aws.String("fields @message")})
	apiErr(t, err, "ResourceNotFoundException", "Log group 'nope' does not exist for account ID '123456789012' (Service: AWSLogs; Status Code: 400; Error Code: ResourceNotFoundException; Request ID: "+reqID+"; Proxy: null)")

	err = start(&cwl.StartQueryInput{LogGroupName: aws.String("/vpc/flows"), QueryString: aws.String("stats count(* by srcAddr")})
	var mq *types.MalformedQueryException
	if !errorsAs(err, &mq) || mq.QueryCompileError == nil || mq.QueryCompileError.Location == nil || aws.ToString(mq.QueryCompileError.Message) == "" {
		t.Fatalf("want MalformedQueryException with queryCompileError, got %v", err)
	}
	if loc := mq.QueryCompileError.Location; aws.ToInt32(loc.StartCharOffset) < 0 || aws.ToInt32(loc.EndCharOffset) < aws.ToInt32(loc.StartCharOffset) {
		t.Fatalf("location %+v", loc)
	}
	apiCode(t, start(&cwl.StartQueryInput{LogGroupName: aws.String("/vpc/flows"), QueryString: aws.String("fields @message"),
		StartTime: aws.Int64(t0.Unix()), EndTime: aws.Int64(t0.Unix() - 60)}), "InvalidParameterException")
	apiErr(t, start(&cwl.StartQueryInput{LogGroupName: aws.String("/vpc/flows"), QueryString: aws.String("fields @message"), Limit: aws.Int32(100_001)}),
		"InvalidParameterException", "1 validation error detected: Value '100001' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 100000")
	apiCode(t, start(&cwl.StartQueryInput{QueryString: aws.String("fields @message")}), "InvalidParameterException")
	apiCode(t, start(&cwl.StartQueryInput{LogGroupName: aws.String("/vpc/flows"), LogGroupNames: []string{"/vpc/flows"}, QueryString: aws.String("fields @message")}), "InvalidParameterException")
	apiCode(t, start(&cwl.StartQueryInput{LogGroupName: aws.String("/vpc/flows"), QueryString: aws.String("SELECT 1"), QueryLanguage: types.QueryLanguageSql}), "InvalidParameterException")
	apiErr(t, start(&cwl.StartQueryInput{LogGroupName: aws.String("/vpc/flows"), QueryString: aws.String(strings.Repeat("x", 10_001))}),
		"InvalidParameterException", "1 validation error detected: Value '"+strings.Repeat("x", 10_001)+"' at 'queryString' failed to satisfy constraint: Member must have length less than or equal to 10000")
	_, err = g.c.DescribeQueries(ctx, &cwl.DescribeQueriesInput{Status: "Done"})
	apiErr(t, err, "InvalidParameterException", "1 validation error detected: Value 'Done' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Scheduled, Running, Complete, Failed, Cancelled, Timeout, Unknown]")
}

// TestQueryStatuses runs one slow query at a time: while it runs, a second
// one waits, Scheduled; StopQuery cancels either at once.
func TestQueryStatuses(t *testing.T) {
	t.Parallel()
	g := newRig(t, rigOpts{maxRunning: 1, workers: 1})
	// 20 MB of messages and a regular expression that backtracks over
	// them: seconds of work, cut short by StopQuery.
	msg := []byte(strings.Repeat("ab1 cd2 ", 25_000))
	evs := make([]logsvc.InputEvent, 100)
	for i := range evs {
		evs[i] = logsvc.InputEvent{Stream: "s", Timestamp: ms(-time.Hour) + int64(i), Message: msg}
	}
	if _, err := g.svc.Ingest("big", evs); err != nil {
		t.Fatal(err)
	}
	slow := `parse @message /(?<a>.*)(?<b>\d+)(?<c>.*)(?<d>\d+)(?<e>.*)z/ | stats count(*) by b`
	startSlow := func() *string {
		t.Helper()
		out, err := g.c.StartQuery(ctx, &cwl.StartQueryInput{LogGroupName: aws.String("big"), QueryString: aws.String(slow),
			StartTime: aws.Int64(0), EndTime: aws.Int64(t0.Unix())})
		if err != nil {
			t.Fatal(err)
		}
		return out.QueryId
	}
	a := startSlow()
	// a goes from Scheduled to Running; meanwhile no rows and zero
	// statistics.
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, err := g.c.GetQueryResults(ctx, &cwl.GetQueryResultsInput{QueryId: a})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Results) != 0 || out.Statistics == nil || out.Statistics.RecordsScanned != 0 {
			t.Fatalf("%+v", out)
		}
		if out.Status == types.QueryStatusRunning {
			break
		}
		if out.Status != types.QueryStatusScheduled || time.Now().After(deadline) {
			t.Fatalf("status %s", out.Status)
		}
		time.Sleep(5 * time.Millisecond)
	}
	b := startSlow()
	dq, err := g.c.DescribeQueries(ctx, &cwl.DescribeQueriesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(dq.Queries) != 2 || aws.ToString(dq.Queries[0].QueryId) != aws.ToString(b) || dq.Queries[0].Status != types.QueryStatusScheduled ||
		dq.Queries[1].Status != types.QueryStatusRunning {
		t.Fatalf("%+v", dq.Queries)
	}
	dq, err = g.c.DescribeQueries(ctx, &cwl.DescribeQueriesInput{Status: types.QueryStatusScheduled})
	if err != nil || len(dq.Queries) != 1 {
		t.Fatalf("%+v %v", dq, err)
	}
	for _, id := range []*string{b, a} {
		out, err := g.c.StopQuery(ctx, &cwl.StopQueryInput{QueryId: id})
		if err != nil || !out.Success {
			t.Fatalf("stop: %+v %v", out, err)
		}
		res, err := g.c.GetQueryResults(ctx, &cwl.GetQueryResultsInput{QueryId: id})
		if err != nil || res.Status != types.QueryStatusCancelled {
			t.Fatalf("after stop: %+v %v", res, err)
		}
	}
	_, err = g.c.StopQuery(ctx, &cwl.StopQueryInput{QueryId: a})
	apiCode(t, err, "InvalidParameterException")
}
