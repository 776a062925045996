package web

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vpcflow/vpcflow/logstore"
	"github.com/vpcflow/vpcflow/logsvc"
)

// BenchmarkEventsPage measures what the console adds to a page of events
// (the newest 100 of a 10,000-event stream, filtered by a term): the
// endpoint over HTTP handling and JSON against FilterLogEvents called
// directly, the baseline, in the same run. Report the ratio of the two
// ns/op.
func BenchmarkEventsPage(b *testing.B) {
	srv, r := newConsole(b)
	logs := r.Logs()
	if err := logs.CreateLogGroup("/g", logstore.GroupOptions{}); err != nil {
		b.Fatal(err)
	}
	if err := logs.CreateLogStream("/g", "s"); err != nil {
		b.Fatal(err)
	}
	base := time.Now().Add(-time.Hour).UnixMilli()
	for batch := range 10 {
		var evs []logstore.PutEvent
		for i := range 1000 {
			n := batch*1000 + i
			action := "ACCEPT"
			if n%3 == 0 {
				action = "REJECT"
			}
			evs = append(evs, logstore.PutEvent{Timestamp: base + int64(n)*100,
				Message: fmt.Sprintf("2 111122223333 eni-1 198.51.100.%d 10.0.0.5 %d 443 6 3 180 1 2 %s OK", n%250, 40000+n%20000, action)})
		}
		if _, err := logs.PutLogEvents("/g", "s", evs); err != nil {
			b.Fatal(err)
		}
	}
	c := srv.Config.Handler.(*Console)
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/console/api/signin", strings.NewReader(`{"accessKeyId":"`+keyID+`","secretAccessKey":"`+secret+`"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderName, "1")
	c.ServeHTTP(rec, req)
	cookie := rec.Result().Cookies()[0]
	body := `{"group":"/g","streams":["s"],"pattern":"REJECT","descending":true,"limit":100}`
	b.Run("direct", func(b *testing.B) {
		for b.Loop() {
			out, err := logs.FilterLogEvents(logsvc.FilterLogEventsInput{LogGroupName: "/g", LogStreamNames: []string{"s"},
				FilterPattern: "REJECT", Limit: 100, Descending: true})
			if err != nil || len(out.Events) != 100 {
				b.Fatalf("%d events, %v", len(out.Events), err)
			}
		}
	})
	b.Run("console", func(b *testing.B) {
		for b.Loop() {
			req := httptest.NewRequest(http.MethodPost, "/console/api/events", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set(HeaderName, "1")
			req.AddCookie(cookie)
			w := httptest.NewRecorder()
			c.ServeHTTP(w, req)
			if w.Code != 200 {
				b.Fatalf("%d %s", w.Code, w.Body)
			}
		}
	})
}
