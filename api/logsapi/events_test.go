package logsapi_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

const day = 24 * time.Hour

func events(pairs ...any) []types.InputLogEvent {
	var out []types.InputLogEvent
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, types.InputLogEvent{Timestamp: aws.Int64(pairs[i].(int64)), Message: aws.String(pairs[i+1].(string))})
	}
	return out
}

func (g *rig) put(t *testing.T, group, stream string, evs []types.InputLogEvent) *cwl.PutLogEventsOutput {
	t.Helper()
	out, err := g.c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream), LogEvents: evs})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// stored lists a stream's messages, oldest first.
func (g *rig) stored(t *testing.T, group, stream string) []string {
	t.Helper()
	out, err := g.c.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream), StartFromHead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	msgs := []string{}
	for _, e := range out.Events {
		msgs = append(msgs, aws.ToString(e.Message))
	}
	return msgs
}

func TestPutLogEvents(t *testing.T) {
	t.Parallel()
	g := newRig(t, rigOpts{})
	g.mkGroup(t, "app", "s")
	out := g.put(t, "app", "s", events(ms(-3*time.Minute), "one", ms(-2*time.Minute), "two", ms(-2*time.Minute), "three"))
	if aws.ToString(out.NextSequenceToken) == "" || out.RejectedLogEventsInfo != nil {
		t.Fatalf("%+v", out)
	}
	// The sequence token is ignored since 2023: an old one is fine.
	out2, err := g.c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String("app"), LogStreamName: aws.String("s"),
		SequenceToken: aws.String("49039859213335317863066455891891733549883496914553213570"), LogEvents: events(ms(-time.Minute), "four")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out2.NextSequenceToken) == aws.ToString(out.NextSequenceToken) {
		t.Fatal("the next sequence token did not change after a put")
	}
	if got := g.stored(t, "app", "s"); !reflect.DeepEqual(got, []string{"one", "two", "three", "four"}) {
		t.Fatal(got)
	}
}

// TestPutLogEventsRejected follows the API reference's rules: events more
// than 14 days old or more than 2 hours ahead, and events older than the
// group's retention, are left out and reported by index; the call
// succeeds.
func TestPutLogEventsRejected(t *testing.T) {
	t.Parallel()
	g := newRig(t, rigOpts{})
	g.mkGroup(t, "app", "s")
	out := g.put(t, "app", "s", events(ms(-15*day), "too old", ms(-time.Hour), "kept 1", ms(0), "kept 2", ms(3*time.Hour), "too new"))
	r := out.RejectedLogEventsInfo
	if r == nil || aws.ToInt32(r.TooOldLogEventEndIndex) != 1 || aws.ToInt32(r.TooNewLogEventStartIndex) != 3 || r.ExpiredLogEventEndIndex != nil {
		t.Fatalf("rejected %+v", r)
	}
	if got := g.stored(t, "app", "s"); !reflect.DeepEqual(got, []string{"kept 1", "kept 2"}) {
		t.Fatal(got)
	}
	// Two hours ahead is still accepted; 14 days back too.
	out = g.put(t, "app", "s", events(ms(-14*day+time.Minute), "edge old"))
	if out.RejectedLogEventsInfo != nil {
		t.Fatalf("%+v", out.RejectedLogEventsInfo)
	}
	out = g.put(t, "app", "s", events(ms(2*time.Hour), "edge new"))
	if out.RejectedLogEventsInfo != nil {
		t.Fatalf("%+v", out.RejectedLogEventsInfo)
	}

	// With a retention of 1 day, an event of 2 days ago has expired.
	g.mkGroup(t, "short", "s")
	if _, err := g.c.PutRetentionPolicy(ctx, &cwl.PutRetentionPolicyInput{LogGroupName: aws.String("short"), RetentionInDays: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	out = g.put(t, "short", "s", events(ms(-2*day), "expired", ms(-time.Hour), "kept"))
	r = out.RejectedLogEventsInfo
	if r == nil || aws.ToInt32(r.ExpiredLogEventEndIndex) != 1 || r.TooOldLogEventEndIndex != nil || r.TooNewLogEventStartIndex != nil {
		t.Fatalf("rejected %+v", r)
	}
	if got := g.stored(t, "short", "s"); !reflect.DeepEqual(got, []string{"kept"}) {
		t.Fatal(got)
	}
	// Every event rejected is still a success.
	out = g.put(t, "app", "s", events(ms(5*time.Hour), "late"))
	if r := out.RejectedLogEventsInfo; r == nil || aws.ToInt32(r.TooNewLogEventStartIndex) != 0 {
		t.Fatalf("%+v", r)
	}
}

func TestPutLogEventsErrors(t *testing.T) {
	t.Parallel()
	g := newRig(t, rigOpts{})
	g.mkGroup(t, "app", "s")
	put := func(stream string, evs []types.InputLogEvent) error {
		_, err := g.c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String("app"), LogStreamName: aws.String(stream), LogEvents: evs})
		return err
	}
	apiErr(t, put("s", events(ms(0), "b", ms(-time.Minute), "a")), "InvalidParameterException",
		"Log events in a single PutLogEvents request must be in chronological order.")
	apiErr(t, put("s", events(ms(-25*time.Hour), "a", ms(0), "b")), "InvalidParameterException",
		"The batch of log events in a single PutLogEvents request cannot span more than 24 hours.")
	apiErr(t, put("nope", events(ms(0), "a")), "ResourceNotFoundException", "The specified log stream does not exist.")
	_, err := g.c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String("nope"), LogStreamName: aws.String("s"), LogEvents: events(ms(0), "a")})
	apiErr(t, err, "ResourceNotFoundException", "The specified log group does not exist.")
	apiErr(t, put("s", []types.InputLogEvent{}), "InvalidParameterException",
		"1 validation error detected: Value '[]' at 'logEvents' failed to satisfy constraint: Member must have length greater than or equal to 1")
	// The batch limit is 1,048,576 bytes counting 26 per event.
	big := strings.Repeat("x", 600_000)
	apiCode(t, put("s", events(ms(0), big, ms(0), big)), "InvalidParameterException")
	// Nothing of the failed calls was stored.
	if got := g.stored(t, "app", "s"); len(got) != 0 {
		t.Fatalf("%d events stored", len(got))
	}
}

func TestGetLogEvents(t *testing.T) {
	t.Parallel()
	g := newRig(t, rigOpts{})
	g.mkGroup(t, "app", "s")
	var in []types.InputLogEvent
	for i := 1; i <= 5; i++ {
		in = append(in, events(ms(time.Duration(i-6)*time.Minute), fmt.Sprintf("e%d", i))...)
	}
	g.put(t, "app", "s", in)
	get := func(in *cwl.GetLogEventsInput) ([]string, *cwl.GetLogEventsOutput) {
		t.Helper()
		in.LogGroupName, in.LogStreamName = aws.String("app"), aws.String("s")
		out, err := g.c.GetLogEvents(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		msgs := []string{}
		for _, e := range out.Events {
			msgs = append(msgs, aws.ToString(e.Message))
			if aws.ToInt64(e.IngestionTime) != t0.UnixMilli() {
				t.Fatalf("ingestion time %d", aws.ToInt64(e.IngestionTime))
			}
		}
		if out.NextForwardToken == nil || out.NextBackwardToken == nil {
			t.Fatalf("both tokens are always present: %+v", out)
		}
		return msgs, out
	}
	// From the head, two at a time, following nextForwardToken; at the end
	// the token sent comes back.
	msgs, out := get(&cwl.GetLogEventsInput{StartFromHead: aws.Bool(true), Limit: aws.Int32(2)})
	if !reflect.DeepEqual(msgs, []string{"e1", "e2"}) {
		t.Fatal(msgs)
	}
	msgs, out = get(&cwl.GetLogEventsInput{Limit: aws.Int32(2), NextToken: out.NextForwardToken})
	if !reflect.DeepEqual(msgs, []string{"e3", "e4"}) {
		t.Fatal(msgs)
	}
	msgs, out = get(&cwl.GetLogEventsInput{Limit: aws.Int32(2), NextToken: out.NextForwardToken})
	if !reflect.DeepEqual(msgs, []string{"e5"}) {
		t.Fatal(msgs)
	}
	sent := out.NextForwardToken
	msgs, out = get(&cwl.GetLogEventsInput{Limit: aws.Int32(2), NextToken: sent})
	if len(msgs) != 0 || aws.ToString(out.NextForwardToken) != aws.ToString(sent) {
		t.Fatalf("at the end: %v, token %q, sent %q", msgs, aws.ToString(out.NextForwardToken), aws.ToString(sent))
	}
	// Without startFromHead: the newest events, still oldest first in the
	// page; nextBackwardToken goes back in time.
	msgs, out = get(&cwl.GetLogEventsInput{Limit: aws.Int32(2)})
	if !reflect.DeepEqual(msgs, []string{"e4", "e5"}) {
		t.Fatal(msgs)
	}
	msgs, _ = get(&cwl.GetLogEventsInput{Limit: aws.Int32(2), NextToken: out.NextBackwardToken})
	if !reflect.DeepEqual(msgs, []string{"e2", "e3"}) {
		t.Fatal(msgs)
	}
	// The window includes startTime and excludes endTime.
	msgs, _ = get(&cwl.GetLogEventsInput{StartFromHead: aws.Bool(true), StartTime: aws.Int64(ms(-4 * time.Minute)), EndTime: aws.Int64(ms(-2 * time.Minute))})
	if !reflect.DeepEqual(msgs, []string{"e2", "e3"}) {
		t.Fatal(msgs)
	}
	// The SDK's paginator, told to, stops when the token comes back.
	p := cwl.NewGetLogEventsPaginator(g.c, &cwl.GetLogEventsInput{LogGroupName: aws.String("app"), LogStreamName: aws.String("s"), StartFromHead: aws.Bool(true), Limit: aws.Int32(2)},
		func(o *cwl.GetLogEventsPaginatorOptions) { o.StopOnDuplicateToken = true })
	var all []string
	for pages := 0; p.HasMorePages(); pages++ {
		if pages > 5 {
			t.Fatal("the paginator does not stop")
		}
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Events {
			all = append(all, aws.ToString(e.Message))
		}
	}
	if !reflect.DeepEqual(all, []string{"e1", "e2", "e3", "e4", "e5"}) {
		t.Fatal(all)
	}
	// By ARN.
	o, err := g.c.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupIdentifier: aws.String("arn:aws:logs:us-east-1:123456789012:log-group:app"), LogStreamName: aws.String("s")})
	if err != nil || len(o.Events) != 5 {
		t.Fatalf("%v %v", o, err)
	}

	_, err = g.c.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String("app"), LogStreamName: aws.String("nope")})
	apiErr(t, err, "ResourceNotFoundException", "The specified log stream does not exist.")
	_, err = g.c.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String("app"), LogStreamName: aws.String("s"), Limit: aws.Int32(10001)})
	apiErr(t, err, "InvalidParameterException", "1 validation error detected: Value '10001' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 10000")
	_, err = g.c.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String("app"), LogStreamName: aws.String("s"), NextToken: aws.String("f/123")})
	apiErr(t, err, "InvalidParameterException", "The specified nextToken is invalid.")
	_, err = g.c.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogStreamName: aws.String("s")})
	apiCode(t, err, "InvalidParameterException")
}

// flow is a VPC flow log record in the default format (VPC user guide,
// "Flow log records").
func flow(eni, src, dst string, srcPort, dstPort, proto int, action string, start int64) string {
	return fmt.Sprintf("2 123456789012 %s %s %s %d %d %d 10 840 %d %d %s OK", eni, src, dst, srcPort, dstPort, proto, start/1000, start/1000+60, action)
}

func TestFilterLogEvents(t *testing.T) {
	t.Parallel()
	g := newRig(t, rigOpts{})
	g.mkGroup(t, "/vpc/flows", "eni-a", "eni-b")
	// a1 a2 b1 b2 a3 in time order.
	g.put(t, "/vpc/flows", "eni-a", events(
		ms(-10*time.Minute), flow("eni-a", "203.0.113.12", "10.0.0.5", 49152, 22, 6, "REJECT", ms(-10*time.Minute)),
		ms(-8*time.Minute), flow("eni-a", "10.0.0.5", "10.0.1.7", 40000, 443, 6, "ACCEPT", ms(-8*time.Minute)),
		ms(-2*time.Minute), flow("eni-a", "198.51.100.7", "10.0.0.5", 51000, 22, 6, "REJECT", ms(-2*time.Minute))))
	g.put(t, "/vpc/flows", "eni-b", events(
		ms(-6*time.Minute), flow("eni-b", "10.0.1.7", "10.0.0.5", 443, 40000, 6, "ACCEPT", ms(-6*time.Minute)),
		ms(-4*time.Minute), flow("eni-b", "203.0.113.12", "10.0.1.7", 3389, 53, 17, "REJECT", ms(-4*time.Minute))))
	type ev struct {
		stream string
		at     int64
	}
	filter := func(in *cwl.FilterLogEventsInput) ([]ev, *cwl.FilterLogEventsOutput) {
		t.Helper()
		if in.LogGroupIdentifier == nil {
			in.LogGroupName = aws.String("/vpc/flows")
		}
		out, err := g.c.FilterLogEvents(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		got := []ev{}
		for _, e := range out.Events {
			got = append(got, ev{aws.ToString(e.LogStreamName), aws.ToInt64(e.Timestamp)})
			if aws.ToString(e.EventId) == "" || aws.ToInt64(e.IngestionTime) != t0.UnixMilli() {
				t.Fatalf("%+v", e)
			}
		}
		if out.SearchedLogStreams == nil || len(out.SearchedLogStreams) != 0 {
			t.Fatalf("searchedLogStreams %v", out.SearchedLogStreams)
		}
		return got, out
	}
	a1, a2, a3 := ev{"eni-a", ms(-10 * time.Minute)}, ev{"eni-a", ms(-8 * time.Minute)}, ev{"eni-a", ms(-2 * time.Minute)}
	b1, b2 := ev{"eni-b", ms(-6 * time.Minute)}, ev{"eni-b", ms(-4 * time.Minute)}

	if got, _ := filter(&cwl.FilterLogEventsInput{}); !reflect.DeepEqual(got, []ev{a1, a2, b1, b2, a3}) {
		t.Fatal(got)
	}
	if got, _ := filter(&cwl.FilterLogEventsInput{FilterPattern: aws.String("REJECT")}); !reflect.DeepEqual(got, []ev{a1, b2, a3}) {
		t.Fatal(got)
	}
	// The VPC user guide's pattern for rejected SSH traffic.
	ssh := `[version, account, eni, source, destination, srcport, destport="22", protocol="6", packets, bytes, windowstart, windowend, action="REJECT", flowlogstatus]`
	if got, _ := filter(&cwl.FilterLogEventsInput{FilterPattern: aws.String(ssh)}); !reflect.DeepEqual(got, []ev{a1, a3}) {
		t.Fatal(got)
	}
	// Both ends of the window are included.
	if got, _ := filter(&cwl.FilterLogEventsInput{StartTime: aws.Int64(a2.at), EndTime: aws.Int64(b2.at)}); !reflect.DeepEqual(got, []ev{a2, b1, b2}) {
		t.Fatal(got)
	}
	if got, _ := filter(&cwl.FilterLogEventsInput{LogStreamNames: []string{"eni-b", "eni-z"}}); !reflect.DeepEqual(got, []ev{b1, b2}) {
		t.Fatal(got)
	}
	if got, _ := filter(&cwl.FilterLogEventsInput{LogStreamNamePrefix: aws.String("eni-a")}); !reflect.DeepEqual(got, []ev{a1, a2, a3}) {
		t.Fatal(got)
	}
	// startFromHead false: newest first.
	if got, _ := filter(&cwl.FilterLogEventsInput{StartFromHead: aws.Bool(false)}); !reflect.DeepEqual(got, []ev{a3, b2, b1, a2, a1}) {
		t.Fatal(got)
	}
	if got, _ := filter(&cwl.FilterLogEventsInput{LogGroupIdentifier: aws.String("arn:aws:logs:us-east-1:123456789012:log-group:/vpc/flows"), Interleaved: aws.Bool(true)}); len(got) != 5 {
		t.Fatal(got)
	}
	// Pages of two through nextToken, which is absent on the last page.
	var all []ev
	in := &cwl.FilterLogEventsInput{Limit: aws.Int32(2)}
	for pages := 0; ; pages++ {
		got, out := filter(in)
		if pages > 3 {
			t.Fatal("paging does not end")
		}
		all = append(all, got...)
		if out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
	}
	if !reflect.DeepEqual(all, []ev{a1, a2, b1, b2, a3}) {
		t.Fatal(all)
	}

	_, err := g.c.FilterLogEvents(ctx, &cwl.FilterLogEventsInput{LogGroupName: aws.String("/vpc/flows"), LogStreamNames: []string{"eni-a"}, LogStreamNamePrefix: aws.String("eni")})
	apiCode(t, err, "InvalidParameterException")
	_, err = g.c.FilterLogEvents(ctx, &cwl.FilterLogEventsInput{LogGroupName: aws.String("/vpc/flows"), FilterPattern: aws.String(`{ $.a = `)})
	apiCode(t, err, "InvalidParameterException")
	_, err = g.c.FilterLogEvents(ctx, &cwl.FilterLogEventsInput{LogGroupName: aws.String("nope")})
	apiErr(t, err, "ResourceNotFoundException", "The specified log group does not exist.")
	_, err = g.c.FilterLogEvents(ctx, &cwl.FilterLogEventsInput{LogGroupName: aws.String("/vpc/flows"), StartTime: aws.Int64(-1)})
	apiErr(t, err, "InvalidParameterException", "1 validation error detected: Value '-1' at 'startTime' failed to satisfy constraint: Member must have value greater than or equal to 0")
}
