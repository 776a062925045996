package api

import (
	"context"
	"errors"
	"fmt"
	"github.com/vpcflow/vpcflow/internal/sdktest"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logstypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/vpcflow/vpcflow/api/sigv4"
	"github.com/vpcflow/vpcflow/internal/reporter"
	"github.com/vpcflow/vpcflow/logstore"
	"github.com/vpcflow/vpcflow/logsvc"
	"github.com/vpcflow/vpcflow/region"
)

// The CloudWatch Logs load: several writers, one stream each, send
// PutLogEvents batches through the real front on 127.0.0.1 (SigV4, HTTP,
// JSON) while readers run FilterLogEvents and Insights queries on the same
// group. Every load is bounded in events and in time. TestLogsLoad checks
// that nothing is lost; BenchmarkPutLogEvents measures the rate.

const (
	loadKey    = "AKIALOADTEST"
	loadSecret = "load-secret"
	loadGroup  = "/load/flows"
)

// startLogsFront runs a region on a new data dir (the ping example's
// network, no packet source) behind a front on 127.0.0.1, and returns a
// CloudWatch Logs client signed with the front's key. The client does not
// retry: a failed request is counted, never hidden (a retried PutLogEvents
// could also store its events twice).
func startLogsFront(tb testing.TB) (*cloudwatchlogs.Client, *region.Region) {
	tb.Helper()
	cfg := region.DefaultConfiguration()
	cfg.DataDir, cfg.TopologyFile = tb.TempDir(), "../examples/ping.yaml"
	r, err := region.New(cfg, region.Dependencies{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { r.Stop() })
	ln, err := Listen("127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	c, err := New(Configuration{Listener: ln}, Dependencies{Region: r, Reporter: reporter.New(nil),
		Credentials: sigv4.StaticCredentials{loadKey: loadSecret}})
	if err != nil {
		tb.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Stop() })
	client := cloudwatchlogs.New(cloudwatchlogs.Options{
		Region: r.Identity().Region, BaseEndpoint: aws.String("http://" + c.Addr()),
		Credentials:      credentials.NewStaticCredentialsProvider(loadKey, loadSecret, ""),
		HTTPClient:       sdktest.HTTPClient(), // see sdktest: these clients do not retry, so that no failure is hidden and no PutLogEvents is stored twice
		RetryMaxAttempts: 1,
	})
	return client, r
}

// loadPlan is one bounded load: writers streams, each sent batches
// batches of batch events. Event i of a stream has timestamp base+i (ms),
// so a stream's timestamps name its events one to one.
type loadPlan struct {
	writers, batches, batch int
	base                    int64 // ms; recent enough for PutLogEvents' 14-day limit
}

func (p loadPlan) total() int { return p.writers * p.batches * p.batch }

func streamName(w int) string { return fmt.Sprintf("eni-%017x-all", w) }

// message is a version 2 flow-log line of about 110 bytes; one in four is
// a REJECT, which the readers' filter pattern looks for.
func message(w, i int) string {
	action := "ACCEPT"
	if i%4 == 0 {
		action = "REJECT"
	}
	start := 1_714_564_800 + i/1000
	return fmt.Sprintf("2 123456789012 eni-%017x 10.0.%d.%d 203.0.113.%d %d 443 6 %d %d %d %d %s OK",
		w, i%200, i%250, i%100, 30000+i%30000, 1+i%20, 40+i%9000, start, start+60, action)
}

// sdkBatches builds every writer's batches as the SDK sends them, before
// any timing starts.
func (p loadPlan) sdkBatches() [][][]logstypes.InputLogEvent {
	out := make([][][]logstypes.InputLogEvent, p.writers)
	for w := range out {
		for b := 0; b < p.batches; b++ {
			evs := make([]logstypes.InputLogEvent, p.batch)
			for j := range evs {
				i := b*p.batch + j
				evs[j] = logstypes.InputLogEvent{Timestamp: aws.Int64(p.base + int64(i)), Message: aws.String(message(w, i))}
			}
			out[w] = append(out[w], evs)
		}
	}
	return out
}

// putBatches are the same batches for logsvc.PutLogEvents.
func (p loadPlan) putBatches() [][][]logstore.PutEvent {
	out := make([][][]logstore.PutEvent, p.writers)
	for w := range out {
		for b := 0; b < p.batches; b++ {
			evs := make([]logstore.PutEvent, p.batch)
			for j := range evs {
				i := b*p.batch + j
				evs[j] = logstore.PutEvent{Timestamp: p.base + int64(i), Message: message(w, i)}
			}
			out[w] = append(out[w], evs)
		}
	}
	return out
}

// createLoadGroup creates the group and one stream per writer.
func createLoadGroup(ctx context.Context, c *cloudwatchlogs.Client, writers int) error {
	if _, err := c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(loadGroup)}); err != nil {
		return err
	}
	for w := 0; w < writers; w++ {
		if _, err := c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(loadGroup), LogStreamName: aws.String(streamName(w))}); err != nil {
			return err
		}
	}
	return nil
}

// errCount counts failed requests and keeps the first few for the report.
type errCount struct {
	n     atomic.Int64
	mu    sync.Mutex
	first []error
}

func (e *errCount) add(what string, err error) {
	if e.n.Add(1) <= 5 {
		e.mu.Lock()
		e.first = append(e.first, fmt.Errorf("%s: %w", what, err))
		e.mu.Unlock()
	}
}

func (e *errCount) err() error {
	if n := e.n.Load(); n > 0 {
		e.mu.Lock()
		defer e.mu.Unlock()
		return fmt.Errorf("%d requests failed, first: %w", n, errors.Join(e.first...))
	}
	return nil
}

// writeResult is what the writers did.
type writeResult struct {
	elapsed time.Duration
	latency []time.Duration // one per request, sorted
}

// percentile of sorted latencies, in milliseconds.
func percentile(sorted []time.Duration, p int) float64 {
	if len(sorted) == 0 {
		return 0
	}
	return float64(sorted[(len(sorted)-1)*p/100].Microseconds()) / 1000
}

// runWriters runs one goroutine per writer; writer w sends its batches 0
// … shares[w]-1 in order through send, and stops early once ctx is done.
func runWriters(ctx context.Context, shares []int, send func(ctx context.Context, w, i int) error, errs *errCount) writeResult {
	lat := make([][]time.Duration, len(shares))
	start := time.Now()
	var wg sync.WaitGroup
	for w := range shares {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < shares[w] && ctx.Err() == nil; i++ {
				t := time.Now()
				err := send(ctx, w, i)
				lat[w] = append(lat[w], time.Since(t))
				if err != nil {
					errs.add("PutLogEvents", err)
				}
			}
		}(w)
	}
	wg.Wait()
	res := writeResult{elapsed: time.Since(start)}
	for w := range lat {
		res.latency = append(res.latency, lat[w]...)
	}
	slices.Sort(res.latency)
	return res
}

// shares splits n batches among the plan's writers.
func (p loadPlan) shares(n int) []int {
	out := make([]int, p.writers)
	for w := range out {
		out[w] = n / p.writers
		if w < n%p.writers {
			out[w]++
		}
	}
	return out
}

// sdkSender sends writer w's batch i through the client; a batch with
// rejected events is an error (none is old or new enough to be).
func sdkSender(c *cloudwatchlogs.Client, batches [][][]logstypes.InputLogEvent) func(context.Context, int, int) error {
	return func(ctx context.Context, w, i int) error {
		out, err := c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(loadGroup),
			LogStreamName: aws.String(streamName(w)), LogEvents: batches[w][i]})
		if err == nil && out.RejectedLogEventsInfo != nil {
			err = fmt.Errorf("%s: rejected events: %+v", streamName(w), *out.RejectedLogEventsInfo)
		}
		return err
	}
}

// readers runs FilterLogEvents and StartQuery/GetQueryResults in a loop
// until stop is closed or each has made limit requests (or queries), and
// counts their errors and what they did.
type readers struct {
	filters, queries atomic.Int64
	maxCount         atomic.Int64 // highest stats count(*) seen while writing
}

func (rd *readers) run(ctx context.Context, c *cloudwatchlogs.Client, p loadPlan, stop <-chan struct{}, limit int, errs *errCount) *sync.WaitGroup {
	var wg sync.WaitGroup
	stopped := func() bool {
		select {
		case <-stop:
			return true
		default:
			return ctx.Err() != nil
		}
	}
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := 0; i < limit && !stopped(); i++ {
			// The newest rejects of the group, as a console tail shows them.
			_, err := c.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(loadGroup),
				FilterPattern: aws.String("REJECT"), StartTime: aws.Int64(p.base), StartFromHead: aws.Bool(false), Limit: aws.Int32(100)})
			if err != nil {
				errs.add("FilterLogEvents", err)
			}
			rd.filters.Add(1)
		}
	}()
	go func() {
		defer wg.Done()
		for i := 0; i < limit && !stopped(); i++ {
			n, err := countQuery(ctx, c, p)
			if err != nil {
				errs.add("StartQuery/GetQueryResults", err)
				continue
			}
			rd.queries.Add(1)
			for {
				m := rd.maxCount.Load()
				if n <= m || rd.maxCount.CompareAndSwap(m, n) {
					break
				}
			}
		}
	}()
	return &wg
}

// countQuery runs `stats count(*)` over the load's time range and waits
// for its result.
func countQuery(ctx context.Context, c *cloudwatchlogs.Client, p loadPlan) (int64, error) {
	out, err := c.StartQuery(ctx, &cloudwatchlogs.StartQueryInput{LogGroupName: aws.String(loadGroup),
		StartTime: aws.Int64(p.base/1000 - 1), EndTime: aws.Int64(p.base/1000 + int64(p.batches*p.batch)/1000 + 1),
		QueryString: aws.String("stats count(*) as n")})
	if err != nil {
		return 0, err
	}
	for {
		res, err := c.GetQueryResults(ctx, &cloudwatchlogs.GetQueryResultsInput{QueryId: out.QueryId})
		if err != nil {
			return 0, err
		}
		switch res.Status {
		case logstypes.QueryStatusComplete:
			if len(res.Results) != 1 || len(res.Results[0]) != 1 {
				return 0, fmt.Errorf("stats count(*): %d rows, want 1", len(res.Results))
			}
			return strconv.ParseInt(aws.ToString(res.Results[0][0].Value), 10, 64)
		case logstypes.QueryStatusScheduled, logstypes.QueryStatusRunning:
		default:
			return 0, fmt.Errorf("query %s ended %s", aws.ToString(out.QueryId), res.Status)
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// TestLogsLoad: 8 writers send 200,000 events in batches of 5,000 through
// the front while FilterLogEvents and Insights queries read the same
// group. Afterwards no request has failed, no event was rejected, every
// event is stored exactly once (FilterLogEvents over the whole group finds
// each stream's timestamps base … base+n-1 once each), and `stats
// count(*)` agrees. It asserts correctness only; BenchmarkPutLogEvents
// measures the rate. Bounded: 200,000 events and 3 minutes (under -race on a busy
// 2-core machine the load takes over a minute; the bound is a safety net,
// not a speed check).
func TestLogsLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("load test: 200,000 events through the front")
	}
	p := loadPlan{writers: 8, batches: 5, batch: 5000, base: time.Now().Add(-time.Hour).UnixMilli()}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, r := startLogsFront(t)
	if err := createLoadGroup(ctx, c, p.writers); err != nil {
		t.Fatal(err)
	}
	batches := p.sdkBatches()
	var errs, readErrs errCount
	stop := make(chan struct{})
	var rd readers
	wg := rd.run(ctx, c, p, stop, 1000, &readErrs)
	res := runWriters(ctx, p.shares(p.writers*p.batches), sdkSender(c, batches), &errs)
	close(stop)
	wg.Wait()
	if err := errs.err(); err != nil {
		t.Fatal(err)
	}
	if err := readErrs.err(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d events in %v (%.0f events/s, %d requests, p50 %.1f ms, p99 %.1f ms); %d FilterLogEvents and %d queries alongside",
		p.total(), res.elapsed.Round(time.Millisecond), float64(p.total())/res.elapsed.Seconds(), len(res.latency),
		percentile(res.latency, 50), percentile(res.latency, 99), rd.filters.Load(), rd.queries.Load())
	if rd.filters.Load() == 0 || rd.queries.Load() == 0 {
		t.Errorf("the readers did not run alongside the writers: %d FilterLogEvents, %d queries", rd.filters.Load(), rd.queries.Load())
	}
	if m := rd.maxCount.Load(); m > int64(p.total()) {
		t.Errorf("a query counted %d events while %d were sent", m, p.total())
	}

	// Every event once: each stream's timestamps, through FilterLogEvents
	// pages over the whole group.
	per := p.batches * p.batch
	seen := make([][]bool, p.writers)
	for w := range seen {
		seen[w] = make([]bool, per)
	}
	in := &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(loadGroup)}
	found, pages := 0, 0
	for ; pages < 1000; pages++ {
		out, err := c.FilterLogEvents(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range out.Events {
			var w int
			if _, err := fmt.Sscanf(aws.ToString(e.LogStreamName), "eni-%017x-all", &w); err != nil || w < 0 || w >= p.writers {
				t.Fatalf("an event of stream %q", aws.ToString(e.LogStreamName))
			}
			i := aws.ToInt64(e.Timestamp) - p.base
			if i < 0 || i >= int64(per) || seen[w][i] {
				t.Fatalf("stream %d: event at base+%d is unexpected or seen twice", w, i)
			}
			if want := message(w, int(i)); aws.ToString(e.Message) != want {
				t.Fatalf("stream %d, base+%d: message %q, want %q", w, i, aws.ToString(e.Message), want)
			}
			seen[w][i] = true
			found++
		}
		if out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
	}
	if found != p.total() {
		t.Fatalf("FilterLogEvents found %d events in %d pages, %d were sent", found, pages+1, p.total())
	}
	if got := r.Logs().Store().Counters().Ingested; got != uint64(p.total()) {
		t.Errorf("the store counted %d events ingested, %d were sent", got, p.total())
	}
	n, err := countQuery(ctx, c, p)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(p.total()) {
		t.Errorf("stats count(*) = %d, %d were sent", n, p.total())
	}
}

// BenchmarkPutLogEvents measures PutLogEvents in events/s with 8 writers,
// one stream each, in batches of 1,000 and 5,000 flow-log lines; b.N is the
// number of batches. "logsvc" is the baseline: the same batches given to
// logsvc.PutLogEvents in this process (the acceptance rules and the
// store's fsync'd write, without HTTP, SigV4 or JSON). "api" sends them
// through the SDK and the front on 127.0.0.1; "api+reads" does the same
// while FilterLogEvents and Insights queries run on the group. Both report
// the request latency (p50, p99) and their rate as a ratio of the baseline
// measured just before in the same run (x-logsvc). Every request must
// succeed. Run 200,000 events of each size as
//
//	go test -run '^$' -bench 'PutLogEvents/batch=5000' -benchtime 40x ./api
//	go test -run '^$' -bench 'PutLogEvents/batch=1000' -benchtime 200x ./api
//
// The machine's other load shows in the rates: compare the ratios.
func BenchmarkPutLogEvents(b *testing.B) {
	for _, batch := range []int{1000, 5000} {
		var baseline float64
		b.Run(fmt.Sprintf("batch=%d/logsvc", batch), func(b *testing.B) {
			baseline = benchLogsvc(b, batch)
		})
		for _, reads := range []bool{false, true} {
			name := "api"
			if reads {
				name = "api+reads"
			}
			b.Run(fmt.Sprintf("batch=%d/%s", batch, name), func(b *testing.B) {
				rate := benchAPI(b, batch, reads)
				if baseline > 0 {
					b.ReportMetric(rate/baseline, "x-logsvc")
				}
			})
		}
	}
}

const benchWriters = 8

// benchPlan gives each writer enough batches for b.N in all.
func benchPlan(n, batch int) loadPlan {
	return loadPlan{writers: benchWriters, batches: (n + benchWriters - 1) / benchWriters, batch: batch,
		base: time.Now().Add(-time.Hour).UnixMilli()}
}

func benchLogsvc(b *testing.B, batch int) float64 {
	svc, err := logsvc.Open(b.TempDir(), logsvc.Options{Identity: logsvc.Identity{Account: "123456789012", Region: "us-east-1"}})
	if err != nil {
		b.Fatal(err)
	}
	defer svc.Close()
	if err := svc.CreateLogGroup(loadGroup, logstore.GroupOptions{}); err != nil {
		b.Fatal(err)
	}
	for w := 0; w < benchWriters; w++ {
		if err := svc.CreateLogStream(loadGroup, streamName(w)); err != nil {
			b.Fatal(err)
		}
	}
	p := benchPlan(b.N, batch)
	batches := p.putBatches()
	var errs errCount
	b.ResetTimer()
	res := runWriters(context.Background(), p.shares(b.N), func(_ context.Context, w, i int) error {
		out, err := svc.PutLogEvents(loadGroup, streamName(w), batches[w][i])
		if err == nil && out.RejectedLogEventsInfo != nil {
			err = fmt.Errorf("%s: rejected events: %+v", streamName(w), *out.RejectedLogEventsInfo)
		}
		return err
	}, &errs)
	b.StopTimer()
	if err := errs.err(); err != nil {
		b.Fatal(err)
	}
	rate := float64(b.N*batch) / res.elapsed.Seconds()
	b.ReportMetric(rate, "events/s")
	b.ReportMetric(percentile(res.latency, 50), "p50-ms")
	b.ReportMetric(percentile(res.latency, 99), "p99-ms")
	return rate
}

func benchAPI(b *testing.B, batch int, reads bool) float64 {
	c, _ := startLogsFront(b)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := createLoadGroup(ctx, c, benchWriters); err != nil {
		b.Fatal(err)
	}
	p := benchPlan(b.N, batch)
	batches := p.sdkBatches()
	var errs, readErrs errCount
	stop := make(chan struct{})
	var wg *sync.WaitGroup
	var rd readers
	b.ResetTimer()
	if reads {
		wg = rd.run(ctx, c, p, stop, 10_000, &readErrs)
	}
	res := runWriters(ctx, p.shares(b.N), sdkSender(c, batches), &errs)
	b.StopTimer()
	close(stop)
	if wg != nil {
		wg.Wait()
	}
	if err := errors.Join(errs.err(), readErrs.err()); err != nil {
		b.Fatal(err)
	}
	rate := float64(b.N*batch) / res.elapsed.Seconds()
	b.ReportMetric(rate, "events/s")
	b.ReportMetric(percentile(res.latency, 50), "p50-ms")
	b.ReportMetric(percentile(res.latency, 99), "p99-ms")
	if reads {
		b.ReportMetric(float64(rd.filters.Load()), "filters")
		b.ReportMetric(float64(rd.queries.Load()), "queries")
	}
	return rate
}
