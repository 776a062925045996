package logstore

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
)

// fill stores n events in stream s: timestamps t0 + i*step, messages "m<i>".
func fill(t *testing.T, st *Store, g, s string, n int, step int64) {
	t.Helper()
	evs := make([]InputEvent, n)
	for i := range evs {
		evs[i] = ev(s, t0+int64(i)*step, fmt.Sprintf("m%d", i))
	}
	if _, err := st.Ingest(g, evs); err != nil {
		t.Fatal(err)
	}
}

func msgs(evs []OutputEvent) string {
	var b strings.Builder
	for _, e := range evs {
		b.WriteString(e.Message + " ")
	}
	return strings.TrimSpace(b.String())
}

func ptr(v int64) *int64 { return &v }

func TestGetLogEvents(t *testing.T) {
	c := &clock{time.UnixMilli(t0 + 10*dayMs)}
	s := openTest(t, t.TempDir(), c)
	defer s.Close()
	// 10 events 6 h apart: they span three days, so pages cross slices.
	fill(t, s, "g", "s", 10, 6*3_600_000)
	fill(t, s, "g", "other", 3, 1)

	// Without a token: newest page by default, oldest with StartFromHead.
	out, err := s.GetLogEvents(GetInput{Group: "g", Stream: "s", Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	if msgs(out.Events) != "m7 m8 m9" {
		t.Fatalf("tail page: %s", msgs(out.Events))
	}
	// Walk backwards to the start; then the sent token comes back.
	var pages []string
	tok := out.NextBackwardToken
	for i := 0; i < 10; i++ {
		p, err := s.GetLogEvents(GetInput{Group: "g", Stream: "s", Limit: 3, NextToken: tok})
		if err != nil {
			t.Fatal(err)
		}
		if p.NextBackwardToken == tok {
			if len(p.Events) != 0 {
				t.Fatalf("end page has events")
			}
			break
		}
		pages = append(pages, msgs(p.Events))
		tok = p.NextBackwardToken
	}
	if got := strings.Join(pages, "|"); got != "m4 m5 m6|m1 m2 m3|m0" {
		t.Fatalf("backward pages %s", got)
	}
	// Forward from the head.
	pages = nil
	out, _ = s.GetLogEvents(GetInput{Group: "g", Stream: "s", Limit: 4, StartFromHead: true})
	pages = append(pages, msgs(out.Events))
	tok = out.NextForwardToken
	for i := 0; i < 10; i++ {
		p, err := s.GetLogEvents(GetInput{Group: "g", Stream: "s", Limit: 4, NextToken: tok})
		if err != nil {
			t.Fatal(err)
		}
		if p.NextForwardToken == tok {
			break
		}
		pages = append(pages, msgs(p.Events))
		tok = p.NextForwardToken
	}
	if got := strings.Join(pages, "|"); got != "m0 m1 m2 m3|m4 m5 m6 m7|m8 m9" {
		t.Fatalf("forward pages %s", got)
	}
	// A forward token sees events added later.
	if _, err := s.Ingest("g", []InputEvent{ev("s", t0+100*3_600_000, "late")}); err != nil {
		t.Fatal(err)
	}
	p, _ := s.GetLogEvents(GetInput{Group: "g", Stream: "s", NextToken: tok})
	if msgs(p.Events) != "late" {
		t.Fatalf("after new event: %s", msgs(p.Events))
	}
	// Window: start inclusive, end exclusive.
	h6 := int64(6 * 3_600_000)
	p, _ = s.GetLogEvents(GetInput{Group: "g", Stream: "s", StartTime: ptr(t0 + 2*h6), EndTime: ptr(t0 + 5*h6), StartFromHead: true})
	if msgs(p.Events) != "m2 m3 m4" {
		t.Fatalf("window: %s", msgs(p.Events))
	}
	for _, bad := range []string{"x", "f/123", "c/" + strings.Repeat("0", 56), "f/" + strings.Repeat("9", 56)} {
		if _, err := s.GetLogEvents(GetInput{Group: "g", Stream: "s", NextToken: bad}); err != ErrInvalidToken {
			t.Errorf("token %q: %v", bad, err)
		}
	}
	if _, err := s.GetLogEvents(GetInput{Group: "g", Stream: "nope"}); err != ErrStreamNotFound {
		t.Errorf("missing stream: %v", err)
	}
	if _, err := s.GetLogEvents(GetInput{Group: "g", Stream: "s", Limit: 10001}); err == nil ||
		err.Error() != "InvalidParameterException: 1 validation error detected: Value '10001' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 10000" {
		t.Errorf("limit: %v", err)
	}
}

func TestGetLogEventsPageBytes(t *testing.T) {
	c := &clock{time.UnixMilli(t0)}
	s := openTest(t, t.TempDir(), c)
	defer s.Close()
	// Three events of 400,000 bytes: two fit in 1 MB with overhead, three don't.
	big := bytes.Repeat([]byte("x"), 400_000)
	s.Ingest("g", []InputEvent{{"s", t0, big}, {"s", t0 + 1, big}, {"s", t0 + 2, big}})
	p, _ := s.GetLogEvents(GetInput{Group: "g", Stream: "s", StartFromHead: true})
	if len(p.Events) != 2 {
		t.Fatalf("page of %d events", len(p.Events))
	}
	f, _ := s.FilterLogEvents(FilterInput{Group: "g"})
	if len(f.Events) != 2 || f.NextToken == "" {
		t.Fatalf("filter page of %d events, token %q", len(f.Events), f.NextToken)
	}
}

func TestFilterLogEvents(t *testing.T) {
	c := &clock{time.UnixMilli(t0 + 10*dayMs)}
	s := openTest(t, t.TempDir(), c)
	defer s.Close()
	s.Ingest("g", []InputEvent{
		ev("eni-1-all", t0+1, "ACCEPT 1"), ev("eni-2-all", t0+2, "REJECT 2"),
		ev("eni-1-all", t0+dayMs, "REJECT 3"), ev("x", t0+dayMs+1, "REJECT 4"),
		ev("eni-2-all", t0+2*dayMs, "ACCEPT 5"),
	})
	reject := func(m []byte) bool { return bytes.Contains(m, []byte("REJECT")) }
	fm := func(evs []FilteredEvent) string {
		var b []string
		for _, e := range evs {
			b = append(b, e.LogStreamName+":"+e.Message)
		}
		return strings.Join(b, ",")
	}
	cases := []struct {
		name string
		in   FilterInput
		want string
	}{
		{"all", FilterInput{}, "eni-1-all:ACCEPT 1,eni-2-all:REJECT 2,eni-1-all:REJECT 3,x:REJECT 4,eni-2-all:ACCEPT 5"},
		{"match", FilterInput{Match: reject}, "eni-2-all:REJECT 2,eni-1-all:REJECT 3,x:REJECT 4"},
		{"prefix", FilterInput{StreamPrefix: "eni-", Match: reject}, "eni-2-all:REJECT 2,eni-1-all:REJECT 3"},
		{"names, unknown skipped", FilterInput{StreamNames: []string{"x", "nope"}}, "x:REJECT 4"},
		{"window inclusive", FilterInput{StartTime: ptr(t0 + 2), EndTime: ptr(t0 + dayMs + 1)}, "eni-2-all:REJECT 2,eni-1-all:REJECT 3,x:REJECT 4"},
		{"descending", FilterInput{Descending: true, Match: reject}, "x:REJECT 4,eni-1-all:REJECT 3,eni-2-all:REJECT 2"},
	}
	for _, tc := range cases {
		tc.in.Group = "g"
		out, err := s.FilterLogEvents(tc.in)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := fm(out.Events); got != tc.want || out.NextToken != "" {
			t.Errorf("%s: got %s (token %q), want %s", tc.name, got, out.NextToken, tc.want)
		}
	}
	// Paging with limit 2, both directions, gives the same events.
	for _, desc := range []bool{false, true} {
		var all []string
		tok := ""
		for i := 0; i < 10; i++ {
			out, err := s.FilterLogEvents(FilterInput{Group: "g", Limit: 2, NextToken: tok, Descending: desc})
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, fm(out.Events))
			if tok = out.NextToken; tok == "" {
				break
			}
		}
		want := "eni-1-all:ACCEPT 1,eni-2-all:REJECT 2|eni-1-all:REJECT 3,x:REJECT 4|eni-2-all:ACCEPT 5"
		if desc {
			want = "eni-2-all:ACCEPT 5,x:REJECT 4|eni-1-all:REJECT 3,eni-2-all:REJECT 2|eni-1-all:ACCEPT 1"
		}
		if got := strings.Join(all, "|"); got != want {
			t.Errorf("desc=%v pages %s", desc, got)
		}
	}
	out, _ := s.FilterLogEvents(FilterInput{Group: "g", Limit: 1})
	if id := out.Events[0].EventID; id != fmt.Sprintf("%020d%036d", t0+1, 1) {
		t.Errorf("eventId %s", id)
	}
	// A token is tied to its parameters.
	if _, err := s.FilterLogEvents(FilterInput{Group: "g", Limit: 1, Pattern: "other", NextToken: out.NextToken}); err != ErrInvalidToken {
		t.Errorf("foreign token: %v", err)
	}
	c.t = c.t.Add(25 * time.Hour)
	if _, err := s.FilterLogEvents(FilterInput{Group: "g", Limit: 1, NextToken: out.NextToken}); err != ErrInvalidToken {
		t.Errorf("expired token: %v", err)
	}
	if _, err := s.FilterLogEvents(FilterInput{Group: "g", StreamNames: []string{"x"}, StreamPrefix: "e"}); err != ErrNamesAndPrefix {
		t.Errorf("names and prefix: %v", err)
	}
}

func TestDescribePaging(t *testing.T) {
	c := &clock{time.UnixMilli(t0)}
	s := openTest(t, t.TempDir(), c)
	defer s.Close()
	for _, g := range []string{"b/2", "a", "b/1", "c", "B"} {
		s.Ingest(g, []InputEvent{ev("s", t0, "x")})
	}
	var got []string
	tok := ""
	for {
		gs, next, err := s.DescribeLogGroups(DescribeGroupsInput{Limit: 2, NextToken: tok})
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range gs {
			got = append(got, g.LogGroupName)
		}
		if tok = next; tok == "" {
			break
		}
	}
	if strings.Join(got, " ") != "B a b/1 b/2 c" { // byte order: upper case first
		t.Fatalf("groups %q", got)
	}
	gs, _, _ := s.DescribeLogGroups(DescribeGroupsInput{Prefix: "b/"})
	if len(gs) != 2 {
		t.Fatalf("prefix: %d", len(gs))
	}
	gs, _, _ = s.DescribeLogGroups(DescribeGroupsInput{Pattern: "/1"})
	if len(gs) != 1 || gs[0].LogGroupName != "b/1" {
		t.Fatalf("pattern: %+v", gs)
	}
	if _, _, err := s.DescribeLogGroups(DescribeGroupsInput{Prefix: "a", Pattern: "b"}); err != ErrPrefixAndPattern {
		t.Fatal(err)
	}
	s.Ingest("a", []InputEvent{ev("late", t0+50, "x"), ev("early", t0+10, "x"), ev("s2", t0+30, "x")})
	s.CreateLogStream("a", "empty")
	ls, _, err := s.DescribeLogStreams(DescribeStreamsInput{Group: "a", OrderBy: "LastEventTime", Descending: true})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range ls {
		names = append(names, l.LogStreamName)
	}
	// An empty stream sorts as time 0; s has t0.
	if strings.Join(names, " ") != "late s2 early s empty" {
		t.Fatalf("by last event: %q", names)
	}
	if _, _, err := s.DescribeLogStreams(DescribeStreamsInput{Group: "a", OrderBy: "LastEventTime", Prefix: "x"}); err != ErrOrderByWithPrefix {
		t.Fatal(err)
	}
	ls, _, _ = s.DescribeLogStreams(DescribeStreamsInput{Group: "a", Prefix: "e"})
	if len(ls) != 2 || ls[0].LogStreamName != "early" || ls[1].FirstEventTimestamp != nil {
		t.Fatalf("prefix streams %+v", ls)
	}
}

func TestRetention(t *testing.T) {
	dir := t.TempDir()
	c := &clock{time.UnixMilli(t0 + 10*dayMs + 12*3_600_000)}
	s := openTest(t, dir, c)
	for d := int64(0); d <= 10; d++ {
		s.Ingest("g", []InputEvent{ev("s", t0+d*dayMs, fmt.Sprintf("day%d", d))})
	}
	// 3 days: cutoff is t0+7.5 days, so days 0-6 are deleted (files too),
	// day 7's only event (t0+7d) is hidden, days 8-10 stay.
	if err := s.PutRetentionPolicy("g", 3); err != nil {
		t.Fatal(err)
	}
	got := scanAll(t, s, "g", 0, 1<<62)
	if len(got) != 3 || !strings.HasSuffix(got[0], "day8") {
		t.Fatalf("after retention: %q", got)
	}
	s.mu.RLock()
	nslices := len(s.groups["g"].slices)
	s.mu.RUnlock()
	if nslices != 4 {
		t.Fatalf("%d day files kept, want 4", nslices)
	}
	r, _ := s.Ingest("g", []InputEvent{ev("s", t0, "too old for the group")})
	if r.Expired != 1 || r.Stored != 0 {
		t.Fatalf("%+v", r)
	}
	s.Close()
	// Time passes while closed: Open purges.
	c.t = c.t.Add(2 * 24 * time.Hour)
	s = openTest(t, dir, c)
	defer s.Close()
	got = scanAll(t, s, "g", 0, 1<<62)
	if len(got) != 1 || !strings.HasSuffix(got[0], "day10") {
		t.Fatalf("after reopen: %q", got)
	}
	gi, _ := s.GroupInfo("g")
	if gi.RetentionInDays != 3 || gi.StoredBytes != 5 {
		t.Fatalf("%+v", gi)
	}
	// An hour later, with the store open, Ingest purges day 10 too.
	c.t = c.t.Add(2*24*time.Hour + time.Hour)
	if _, err := s.Ingest("other", []InputEvent{ev("s", t0, "x")}); err != nil {
		t.Fatal(err)
	}
	s.mu.RLock()
	nslices = len(s.groups["g"].slices)
	s.mu.RUnlock()
	if nslices != 0 {
		t.Fatalf("after Ingest's purge: %d day files", nslices)
	}
}
