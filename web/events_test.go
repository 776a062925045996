package web

import (
	"fmt"
	"testing"
	"time"

	"github.com/vpcflow/vpcflow/logstore"
)

// TestEventsSearchBounded: a pattern that only the oldest of 1,000 events
// matches gives, with a budget spent at once and 300-event chunks, a
// first page that is empty, partial, searched 300 of 1,000 and carries a
// token; following the tokens reads on 300 at a time and finds the event,
// and no page reads past it twice (300+300+300+100 events). An
// unfiltered page is full at once, not partial.
func TestEventsSearchBounded(t *testing.T) {
	budget, chunk := eventsBudget, eventsChunk
	eventsBudget, eventsChunk = 0, 300
	defer func() { eventsBudget, eventsChunk = budget, chunk }()
	srv, r := newConsole(t)
	cookie := signIn(t, srv)
	base := time.Now().Add(-time.Hour).UnixMilli()
	var evs []logstore.InputEvent
	for i := range 1000 {
		port := 443
		if i == 0 {
			port = 22
		}
		evs = append(evs, logstore.InputEvent{Stream: "eni-1", Timestamp: base + int64(i),
			Message: fmt.Appendf(nil, "2 123456789012 eni-1 10.0.0.1 10.0.0.2 40000 %d 6 1 60 1 2 ACCEPT OK", port)})
	}
	if _, err := r.Logs().Ingest("/g", evs); err != nil {
		t.Fatal(err)
	}
	type page struct {
		Events    []logstore.FilteredEvent
		NextToken string
		Scanned   int64
		Total     int64
		Partial   bool
	}
	pattern := "[version, account, eni, src, dst, srcport, dstport=22, ...]"
	var got []page
	tok := ""
	for len(got) < 10 {
		var p page
		if code := call(t, srv, cookie, "events", map[string]any{"group": "/g", "pattern": pattern, "descending": true,
			"limit": 100, "nextToken": tok}, &p); code != 200 {
			t.Fatalf("page %d: status %d", len(got), code)
		}
		got = append(got, p)
		if tok = p.NextToken; tok == "" {
			break
		}
	}
	if len(got) != 4 {
		t.Fatalf("%d pages, want 4: %+v", len(got), got)
	}
	for i, want := range []int64{300, 300, 300, 100} {
		p := got[i]
		if p.Scanned != want || p.Total != 1000 {
			t.Errorf("page %d: searched %d of %d, want %d of 1000", i, p.Scanned, p.Total, want)
		}
		if last := i == 3; p.Partial == last || len(p.Events) != map[bool]int{false: 0, true: 1}[last] {
			t.Errorf("page %d: partial=%v, %d events", i, p.Partial, len(p.Events))
		}
	}
	if e := got[3].Events; len(e) == 1 && e[0].Timestamp != base {
		t.Errorf("found the event at %d, want %d", e[0].Timestamp, base)
	}
	var all page
	call(t, srv, cookie, "events", map[string]any{"group": "/g", "descending": true, "limit": 100}, &all)
	if len(all.Events) != 100 || all.Partial || all.NextToken == "" || all.Events[0].Timestamp != base+999 {
		t.Errorf("unfiltered: %d events, partial=%v, token %q", len(all.Events), all.Partial, all.NextToken)
	}
}
