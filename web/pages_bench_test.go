package web

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vpcflow/vpcflow/logstore"
)

// BenchmarkConsolePages measures what each console page asks the server
// for on its first render, over a log store of 10,000 events (the
// baseline) and one of $VPCFLOW_CONSOLE_BENCH_EVENTS events (default
// 50,000, so that `-bench . -benchtime 1x` stays quick; the figures in
// docs/console.md are for 10,000,000), built once per run. Each page's
// calls go through the console's handler with a signed-in cookie, as the
// browser sends them; p50-ms and p95-ms are the page's server time over
// the iterations. Compare the two sizes' figures of one run.
func BenchmarkConsolePages(b *testing.B) {
	large := 50_000
	if v := os.Getenv("VPCFLOW_CONSOLE_BENCH_EVENTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 10_000 {
			b.Fatalf("VPCFLOW_CONSOLE_BENCH_EVENTS=%q: want a number of events, at least 10000", v)
		}
		large = n
	}
	for _, n := range []int{10_000, large} {
		h := newPagesBench(b, n)
		b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
			for _, p := range h.pages() {
				b.Run(p.name, func(b *testing.B) {
					var took []time.Duration
					for b.Loop() {
						t0 := time.Now()
						p.run(b)
						took = append(took, time.Since(t0))
					}
					slices.Sort(took)
					b.ReportMetric(ms(took[len(took)/2]), "p50-ms")
					b.ReportMetric(ms(took[(len(took)*95+99)/100-1]), "p95-ms")
				})
			}
		})
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// pagesBench is a console over a store shaped like a VPC's flow logs:
// three log groups (90%, 9% and 1% of the events) with 40, 12 and 4
// interfaces' streams, over the last 24 hours.
type pagesBench struct {
	c      *Console
	cookie *http.Cookie
	now    time.Time
	stream string // the big group's most recent stream
}

var benchGroups = []struct {
	name  string
	enis  int
	share int // per thousand
}{{"/vpcflow/prod", 40, 900}, {"/vpcflow/staging", 12, 90}, {"/vpcflow/dev", 4, 10}}

func newPagesBench(b *testing.B, events int) *pagesBench {
	b.Helper()
	srv, r := newConsole(b)
	c := srv.Config.Handler.(*Console)
	logs := r.Logs()
	now := time.Now()
	from := now.Add(-24 * time.Hour).UnixMilli()
	rng := rand.New(rand.NewPCG(1, uint64(events)))
	t0 := time.Now()
	for gi, g := range benchGroups {
		n := events * g.share / 1000
		const batch = 20_000
		buf := make([]logstore.InputEvent, 0, batch)
		for i := 0; i < n; i++ {
			// In time order, as delivery stores them.
			ts := from + int64(i)*(now.UnixMilli()-from)/int64(n)
			eni := rng.IntN(g.enis)
			buf = append(buf, logstore.InputEvent{Stream: fmt.Sprintf("eni-%02d%015x", gi, eni), Timestamp: ts,
				Message: flowLine(rng, gi, eni, ts/1000)})
			if len(buf) == batch || i == n-1 {
				if _, err := logs.Ingest(g.name, buf); err != nil {
					b.Fatal(err)
				}
				buf = buf[:0]
			}
		}
	}
	b.Logf("stored %d events in %v", events, time.Since(t0).Round(time.Millisecond))
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/console/api/signin", strings.NewReader(`{"accessKeyId":"`+keyID+`","secretAccessKey":"`+secret+`"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderName, "1")
	c.ServeHTTP(rec, req)
	st, _, err := logs.DescribeLogStreams(logstore.DescribeStreamsInput{Group: benchGroups[0].name, OrderBy: "LastEventTime", Descending: true, Limit: 1})
	if err != nil || len(st) == 0 {
		b.Fatalf("streams: %v", err)
	}
	return &pagesBench{c: c, cookie: rec.Result().Cookies()[0], now: now, stream: st[0].LogStreamName}
}

// flowLine is a default-format record: mostly HTTPS accepted, one in 20
// rejected, one in 500 to port 22.
func flowLine(rng *rand.Rand, group, eni int, sec int64) []byte {
	b := make([]byte, 0, 128)
	b = append(b, "2 123456789012 eni-"...)
	b = fmt.Appendf(b, "%02d%015x ", group, eni)
	b = fmt.Appendf(b, "10.%d.%d.%d 10.%d.%d.%d ", group, eni, rng.IntN(250)+1, group, rng.IntN(40), rng.IntN(250)+1)
	port, action := 443, "ACCEPT"
	switch x := rng.IntN(1000); {
	case x < 2:
		port = 22
		action = "REJECT"
	case x < 50:
		action = "REJECT"
	}
	b = fmt.Appendf(b, "%d %d 6 %d %d %d %d %s OK", 32768+rng.IntN(28000), port, 1+rng.IntN(20), 60+rng.IntN(20000), sec-60, sec, action)
	return b
}

// call posts one endpoint request and decodes the answer into out (when
// not nil); any status but 200 fails the benchmark.
func (h *pagesBench) call(b *testing.B, name string, in any, out any) {
	body, _ := json.Marshal(in)
	req := httptest.NewRequest(http.MethodPost, "/console/api/"+name, strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderName, "1")
	req.AddCookie(h.cookie)
	w := httptest.NewRecorder()
	h.c.ServeHTTP(w, req)
	if w.Code != 200 {
		b.Fatalf("%s: %d %s", name, w.Code, w.Body)
	}
	if out != nil {
		if err := json.Unmarshal(w.Body.Bytes(), out); err != nil {
			b.Fatalf("%s: %v", name, err)
		}
	}
}

// try posts a request whose answer does not matter.
func (h *pagesBench) try(name string, in any) {
	body, _ := json.Marshal(in)
	req := httptest.NewRequest(http.MethodPost, "/console/api/"+name, strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderName, "1")
	req.AddCookie(h.cookie)
	h.c.ServeHTTP(httptest.NewRecorder(), req)
}

type benchPage struct {
	name string
	run  func(b *testing.B)
}

// pages are the calls of each page's first render, as app.js makes them.
func (h *pagesBench) pages() []benchPage {
	const big = "/vpcflow/prod"
	events := func(in map[string]any, wantSome bool) func(b *testing.B) {
		return func(b *testing.B) {
			if in["group"] == nil {
				in["group"] = big
			}
			var out struct {
				Events []logstore.FilteredEvent `json:"events"`
			}
			h.call(b, "events", in, &out)
			if wantSome && len(out.Events) == 0 {
				b.Fatalf("events %v: none", in)
			}
		}
	}
	// insights starts a query and asks for its first results, as the
	// page does before it draws its "running" state; the query is then
	// stopped so the next iteration does not share the cores with it.
	insights := func(b *testing.B, query string, times map[string]any) {
		in := map[string]any{"groups": []string{big}, "query": query}
		for k, v := range times {
			in[k] = v
		}
		var started struct{ QueryID string }
		h.call(b, "startQuery", in, &started)
		var res struct{ Status string }
		h.call(b, "queryResults", map[string]string{"queryId": started.QueryID}, &res)
		if res.Status == "Running" || res.Status == "Scheduled" {
			// It may end in between: then StopQuery refuses, which is fine.
			h.try("stopQuery", map[string]string{"queryId": started.QueryID})
		}
	}
	hour := map[string]any{"startTime": h.now.Add(-time.Hour).Unix(), "endTime": h.now.Unix()}
	return []benchPage{
		{"overview", func(b *testing.B) { h.call(b, "overview", nil, nil); h.call(b, "flowlogs", nil, nil) }},
		{"network", func(b *testing.B) { h.call(b, "network", nil, nil) }},
		{"flowlogs", func(b *testing.B) { h.call(b, "flowlogs", nil, nil) }},
		{"loggroups", func(b *testing.B) { h.call(b, "logGroups", nil, nil) }},
		{"streams", func(b *testing.B) {
			var out struct {
				LogStreams []logstore.LogStream `json:"logStreams"`
			}
			h.call(b, "logStreams", map[string]string{"group": big}, &out)
			if len(out.LogStreams) == 0 {
				b.Fatal("no streams")
			}
		}},
		{"events-stream", events(map[string]any{"streams": []string{h.stream}, "descending": true, "limit": 100}, true)},
		{"events-group", events(map[string]any{"descending": true, "limit": 100}, true)},
		{"events-pattern-common", events(map[string]any{"pattern": "REJECT", "descending": true, "limit": 100}, true)},
		{"events-pattern-none", events(map[string]any{"pattern": `"198.51.100.77"`, "descending": true, "limit": 100}, false)},
		{"tail-poll", events(map[string]any{"startTime": h.now.Add(-5 * time.Minute).UnixMilli(), "limit": 500}, true)},
		{"insights-1h", func(b *testing.B) {
			insights(b, "stats sum(bytes) as bytesTransferred by srcAddr, dstAddr | sort bytesTransferred desc | limit 10", hour)
		}},
		{"insights-all", func(b *testing.B) {
			insights(b, "stats sum(bytes) as bytesTransferred by srcAddr, dstAddr | sort bytesTransferred desc | limit 10", nil)
		}},
		{"dashboards", func(b *testing.B) {
			h.call(b, "logGroups", nil, nil)
			insights(b, "stats sum(bytes) as bytes by srcAddr, dstAddr | sort bytes desc | limit 10", hour)
			insights(b, `filter action = "REJECT" | stats count(*) as rejects by bin(1m)`, hour)
			insights(b, "stats sum(bytes) as bytes by bin(1m), interfaceId", hour)
		}},
		{"alarms", func(b *testing.B) { h.call(b, "alarms", nil, nil); h.call(b, "metricFilters", nil, nil) }},
		{"findings", func(b *testing.B) { h.call(b, "findings", map[string]bool{"archived": false}, nil) }},
	}
}
