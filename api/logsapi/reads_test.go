package logsapi_test

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// TestRetentionOnReads: once the clock passes an event's retention, no
// read returns it, before anything has purged it from disk: "CloudWatch
// Logs doesn't immediately delete log events when they reach their
// retention setting", but expired events are not what a read is for
// (the store hides them at once, docs/logstore.md).
func TestRetentionOnReads(t *testing.T) {
	t.Parallel()
	g := newRig(t, rigOpts{})
	g.mkGroup(t, "g", "s1", "s2")
	if _, err := g.c.PutRetentionPolicy(ctx, &cwl.PutRetentionPolicyInput{LogGroupName: aws.String("g"), RetentionInDays: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	g.put(t, "g", "s1", events(ms(-20*time.Hour), "old", ms(-time.Hour), "new"))
	g.put(t, "g", "s2", events(ms(-19*time.Hour), "old too"))
	// Six hours on, the first two are 26 and 25 hours old: past a day.
	g.clk.Advance(6 * time.Hour)

	if got := g.stored(t, "g", "s1"); !reflect.DeepEqual(got, []string{"new"}) {
		t.Errorf("GetLogEvents from the head: %v", got)
	}
	back, err := g.c.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s1")})
	if err != nil || len(back.Events) != 1 || aws.ToString(back.Events[0].Message) != "new" {
		t.Errorf("GetLogEvents from the tail: %+v %v", back, err)
	}
	if got := g.stored(t, "g", "s2"); len(got) != 0 {
		t.Errorf("GetLogEvents of a stream whose events expired: %v", got)
	}
	f, err := g.c.FilterLogEvents(ctx, &cwl.FilterLogEventsInput{LogGroupName: aws.String("g")})
	if err != nil || len(f.Events) != 1 || aws.ToString(f.Events[0].Message) != "new" || f.NextToken != nil {
		t.Errorf("FilterLogEvents: %+v %v", f, err)
	}
	q, err := g.c.StartQuery(ctx, &cwl.StartQueryInput{LogGroupName: aws.String("g"), QueryString: aws.String("stats count(*) as n"),
		StartTime: aws.Int64(t0.Add(-2 * day).Unix()), EndTime: aws.Int64(t0.Add(day).Unix())})
	if err != nil {
		t.Fatal(err)
	}
	res := g.wait(t, q.QueryId, nil)
	if len(res.Results) != 1 || aws.ToString(res.Results[0][0].Value) != "1" {
		t.Errorf("stats count(*): %+v", res.Results)
	}
}

// TestFilterLogEventsPages: pages of FilterLogEvents follow one order over
// every stream and across UTC days (events of equal timestamp in the
// order they were stored), ascending by default and newest first with
// startFromHead false. A nextToken keeps the direction of the request
// that issued it: "If you provide both nextToken and startFromHead, the
// direction of the nextToken is used" (FilterLogEvents, API reference).
func TestFilterLogEventsPages(t *testing.T) {
	t.Parallel()
	g := newRig(t, rigOpts{})
	g.mkGroup(t, "g", "a", "b", "c")
	// Nine events over two days (midnight of 2024-05-01 is t0-12h), three
	// of them at the same millisecond in three streams, put a, b, c.
	mid := ms(-12 * time.Hour)
	g.put(t, "g", "a", events(mid-2000, "a1", mid, "a2", mid+5000, "a3"))
	g.put(t, "g", "b", events(mid-1000, "b1", mid, "b2", mid+4000, "b3"))
	g.put(t, "g", "c", events(mid, "c1", mid+3000, "c2", mid+6000, "c3"))
	asc := []string{"a1", "b1", "a2", "b2", "c1", "c2", "b3", "a3", "c3"}
	desc := []string{"c3", "a3", "b3", "c2", "c1", "b2", "a2", "b1", "a1"}

	pages := func(in *cwl.FilterLogEventsInput, flip func(page int, in *cwl.FilterLogEventsInput)) ([]string, int) {
		t.Helper()
		in.LogGroupName = aws.String("g")
		var got []string
		for n := 0; n < 20; n++ {
			out, err := g.c.FilterLogEvents(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range out.Events {
				got = append(got, aws.ToString(e.Message))
			}
			if out.NextToken == nil {
				return got, n + 1
			}
			in.NextToken = out.NextToken
			if flip != nil {
				flip(n, in)
			}
		}
		t.Fatal("paging does not end")
		return nil, 0
	}
	for _, limit := range []int32{1, 2, 4, 9} {
		got, n := pages(&cwl.FilterLogEventsInput{Limit: aws.Int32(limit)}, nil)
		if !reflect.DeepEqual(got, asc) || n != (9+int(limit)-1)/int(limit) {
			t.Errorf("limit %d ascending: %v in %d pages", limit, got, n)
		}
		got, n = pages(&cwl.FilterLogEventsInput{Limit: aws.Int32(limit), StartFromHead: aws.Bool(false)}, nil)
		if !reflect.DeepEqual(got, desc) || n != (9+int(limit)-1)/int(limit) {
			t.Errorf("limit %d newest first: %v in %d pages", limit, got, n)
		}
	}
	// The token's direction wins over startFromHead on later pages.
	got, _ := pages(&cwl.FilterLogEventsInput{Limit: aws.Int32(2), StartFromHead: aws.Bool(false)},
		func(_ int, in *cwl.FilterLogEventsInput) { in.StartFromHead = aws.Bool(true) })
	if !reflect.DeepEqual(got, desc) {
		t.Errorf("newest-first token with startFromHead true: %v", got)
	}
	got, _ = pages(&cwl.FilterLogEventsInput{Limit: aws.Int32(2)},
		func(_ int, in *cwl.FilterLogEventsInput) { in.StartFromHead = aws.Bool(false) })
	if !reflect.DeepEqual(got, asc) {
		t.Errorf("ascending token with startFromHead false: %v", got)
	}
	// Streams and a pattern narrow every page alike.
	got, _ = pages(&cwl.FilterLogEventsInput{Limit: aws.Int32(1), LogStreamNames: []string{"c", "a"}, FilterPattern: aws.String(`"3"`)}, nil)
	if !reflect.DeepEqual(got, []string{"a3", "c3"}) {
		t.Errorf("streams a, c, pattern 3: %v", got)
	}
	// A token is tied to the rest of its request.
	first, err := g.c.FilterLogEvents(ctx, &cwl.FilterLogEventsInput{LogGroupName: aws.String("g"), Limit: aws.Int32(1)})
	if err != nil || first.NextToken == nil {
		t.Fatal(first, err)
	}
	_, err = g.c.FilterLogEvents(ctx, &cwl.FilterLogEventsInput{LogGroupName: aws.String("g"), Limit: aws.Int32(1), FilterPattern: aws.String("a"), NextToken: first.NextToken})
	apiErr(t, err, "InvalidParameterException", "The specified nextToken is invalid.")
}

// TestDescribePages: DescribeLogGroups and DescribeLogStreams give at most
// 50 items a page by default (API reference: "the default is up to 50
// items") and a nextToken while more remain; the SDK's paginators walk
// every item once, in name order or, for streams, by last event time.
// With logGroupNamePattern a group has only logGroupName, creationTime and
// arn ("If you specify logGroupNamePattern in your request, then only arn,
// creationTime, and logGroupName are included in the response").
func TestDescribePages(t *testing.T) {
	t.Parallel()
	g := newRig(t, rigOpts{})
	const n = 120
	for i := 0; i < n; i++ {
		g.mkGroup(t, fmt.Sprintf("/g/%03d", i))
	}
	var names []string
	var sizes []int
	p := cwl.NewDescribeLogGroupsPaginator(g.c, &cwl.DescribeLogGroupsInput{})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(out.LogGroups))
		names = append(names, groupNames(out.LogGroups)...)
	}
	if !reflect.DeepEqual(sizes, []int{50, 50, 20}) {
		t.Errorf("pages of %v groups", sizes)
	}
	for i, name := range names {
		if want := fmt.Sprintf("/g/%03d", i); name != want {
			t.Fatalf("group %d is %s, want %s", i, name, want)
		}
	}

	// "/01" is a substring of /g/010 … /g/019 only: ten groups, in pages
	// of 4.
	in := &cwl.DescribeLogGroupsInput{LogGroupNamePattern: aws.String("/01"), Limit: aws.Int32(4)}
	var found []string
	for pages := 0; pages < 5; pages++ {
		out, err := g.c.DescribeLogGroups(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		for _, lg := range out.LogGroups {
			if lg.StoredBytes != nil || lg.LogGroupArn != nil || lg.MetricFilterCount != nil || lg.LogGroupClass != "" ||
				aws.ToString(lg.Arn) != "arn:aws:logs:us-east-1:123456789012:log-group:"+aws.ToString(lg.LogGroupName)+":*" ||
				aws.ToInt64(lg.CreationTime) != t0.UnixMilli() {
				t.Fatalf("with a pattern: %+v", lg)
			}
		}
		found = append(found, groupNames(out.LogGroups)...)
		if out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
	}
	if want := []string{"/g/010", "/g/011", "/g/012", "/g/013", "/g/014", "/g/015", "/g/016", "/g/017", "/g/018", "/g/019"}; !reflect.DeepEqual(found, want) {
		t.Errorf("pattern /01: %v", found)
	}
	r := g.post(t, "Logs_20140328.DescribeLogGroups", `{"logGroupNamePattern":"/119"}`)
	if want := fmt.Sprintf(`{"logGroups":[{"logGroupName":"/g/119","creationTime":%d,"arn":"arn:aws:logs:us-east-1:123456789012:log-group:/g/119:*"}]}`, t0.UnixMilli()); r.text != want {
		t.Errorf("with a pattern:\n got %s\nwant %s", r.text, want)
	}

	// Streams s000 … s119; stream i's one event is i minutes old, so
	// LastEventTime descending is s000, s001, …
	g.mkGroup(t, "streams")
	for i := 0; i < n; i++ {
		s := fmt.Sprintf("s%03d", i)
		if _, err := g.c.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: aws.String("streams"), LogStreamName: aws.String(s)}); err != nil {
			t.Fatal(err)
		}
		g.put(t, "streams", s, events(ms(-time.Duration(i)*time.Minute), "x"))
	}
	for _, order := range []struct {
		in   cwl.DescribeLogStreamsInput
		name func(i int) string
	}{
		{cwl.DescribeLogStreamsInput{}, func(i int) string { return fmt.Sprintf("s%03d", i) }},
		{cwl.DescribeLogStreamsInput{Descending: aws.Bool(true)}, func(i int) string { return fmt.Sprintf("s%03d", n-1-i) }},
		{cwl.DescribeLogStreamsInput{OrderBy: types.OrderByLastEventTime, Descending: aws.Bool(true)}, func(i int) string { return fmt.Sprintf("s%03d", i) }},
		{cwl.DescribeLogStreamsInput{OrderBy: types.OrderByLastEventTime}, func(i int) string { return fmt.Sprintf("s%03d", n-1-i) }},
	} {
		in := order.in
		in.LogGroupName = aws.String("streams")
		var got []string
		sizes = nil
		p := cwl.NewDescribeLogStreamsPaginator(g.c, &in)
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			sizes = append(sizes, len(out.LogStreams))
			for _, s := range out.LogStreams {
				got = append(got, aws.ToString(s.LogStreamName))
			}
		}
		if !reflect.DeepEqual(sizes, []int{50, 50, 20}) {
			t.Errorf("%s descending %v: pages of %v streams", in.OrderBy, aws.ToBool(in.Descending), sizes)
		}
		for i := range got {
			if got[i] != order.name(i) {
				t.Fatalf("%s descending %v: stream %d is %s, want %s", in.OrderBy, aws.ToBool(in.Descending), i, got[i], order.name(i))
			}
		}
	}
}
