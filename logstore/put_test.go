package logstore

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestPutLogEvents checks the acceptance algorithm of PutLogEvents [AWS];
// expected texts are those of docs/aws-behaviour.md, "PutLogEvents".
func TestPutLogEvents(t *testing.T) {
	now := t0 + 100*dayMs
	const h, d = int64(3_600_000), int64(dayMs)
	c := &clock{time.UnixMilli(now)}
	s := openTest(t, t.TempDir(), c)
	defer s.Close()
	if err := s.CreateLogGroup("g", GroupOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateLogStream("g", "s"); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateLogGroup("short", GroupOptions{RetentionInDays: 1}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateLogStream("short", "s"); err != nil {
		t.Fatal(err)
	}
	evs := func(ts ...int64) []PutEvent {
		out := make([]PutEvent, len(ts))
		for i, x := range ts {
			out[i] = PutEvent{Timestamp: x, Message: "m"}
		}
		return out
	}
	cases := []struct {
		name          string
		group, stream string
		events        []PutEvent
		err           string // full error text, or ""
		rejected      string // rejectedLogEventsInfo JSON, or "" for absent
		stored        int
	}{
		{name: "too old, two kept, too new", group: "g", stream: "s", events: evs(now-15*d, now-h, now, now+3*h),
			rejected: `{"tooOldLogEventEndIndex":1,"tooNewLogEventStartIndex":3}`, stored: 2},
		{name: "14 days old is not too old", group: "g", stream: "s", events: evs(now - 14*d), stored: 1},
		{name: "2 h ahead is not too new", group: "g", stream: "s", events: evs(now + 2*h), stored: 1},
		{name: "all too new is still a success", group: "g", stream: "s", events: evs(now + 2*h + 1),
			rejected: `{"tooNewLogEventStartIndex":0}`},
		{name: "expired by retention", group: "short", stream: "s", events: evs(now-2*d, now-h),
			rejected: `{"expiredLogEventEndIndex":1}`, stored: 1},
		{name: "too old and expired", group: "short", stream: "s", events: evs(now-15*d, now-2*d, now),
			rejected: `{"tooOldLogEventEndIndex":1,"expiredLogEventEndIndex":2}`, stored: 1},
		{name: "missing group", group: "nope", stream: "s", events: evs(now),
			err: "ResourceNotFoundException: The specified log group does not exist."},
		{name: "missing stream", group: "g", stream: "nope", events: evs(now),
			err: "ResourceNotFoundException: The specified log stream does not exist."},
		{name: "not chronological", group: "g", stream: "s", events: evs(now, now-1),
			err: "InvalidParameterException: Log events in a single PutLogEvents request must be in chronological order."},
		{name: "span over 24 h", group: "g", stream: "s", events: evs(now-d-1, now),
			err: "InvalidParameterException: The batch of log events in a single PutLogEvents request cannot span more than 24 hours."},
		{name: "span of exactly 24 h", group: "g", stream: "s", events: evs(now-d, now), stored: 2},
		{name: "span counts kept events only", group: "g", stream: "s", events: evs(now-20*d, now-h, now), stored: 2,
			rejected: `{"tooOldLogEventEndIndex":1}`},
		{name: "batch of 1048577 bytes", group: "g", stream: "s",
			events: []PutEvent{{Timestamp: now, Message: strings.Repeat("x", 1_048_551)}},
			err:    "InvalidParameterException: Upload too large: 1048577 bytes exceeds limit of 1048576"},
		{name: "batch of 1048576 bytes", group: "g", stream: "s",
			events: []PutEvent{{Timestamp: now, Message: strings.Repeat("x", 1_048_550)}}, stored: 1},
		{name: "empty batch", group: "g", stream: "s", events: nil,
			err: "InvalidParameterException: 1 validation error detected: Value '[]' at 'logEvents' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{name: "empty message and negative timestamp", group: "g", stream: "s", events: []PutEvent{{Timestamp: -1, Message: ""}},
			err: "InvalidParameterException: 2 validation errors detected: Value '' at 'logEvents.1.member.message' failed to satisfy constraint: Member must have length greater than or equal to 1; " +
				"Value '-1' at 'logEvents.1.member.timestamp' failed to satisfy constraint: Member must have value greater than or equal to 0"},
		{name: "10001 events", group: "g", stream: "s", events: evs(make([]int64, 10_001)...),
			err: "InvalidParameterException: 1 validation error detected: Value '[10001 events]' at 'logEvents' failed to satisfy constraint: Member must have length less than or equal to 10000"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := s.Counters().Ingested
			res, err := s.PutLogEvents(tc.group, tc.stream, tc.events)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("err %.300v, want %s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if res.RejectedLogEventsInfo != nil {
				b, _ := json.Marshal(res.RejectedLogEventsInfo)
				got = string(b)
			}
			if got != tc.rejected {
				t.Errorf("rejected %s, want %s", got, tc.rejected)
			}
			if n := int(s.Counters().Ingested - before); n != tc.stored {
				t.Errorf("stored %d, want %d", n, tc.stored)
			}
			if len(res.NextSequenceToken) != 56 {
				t.Errorf("token %q", res.NextSequenceToken)
			}
		})
	}
	c2 := s.Counters()
	// too old: "too old, two kept, too new" 1, "too old and expired" 1,
	// "span counts" 1;
	// too new: 2; expired: 2.
	if c2.RejectedTooOld != 3 || c2.RejectedTooNew != 2 || c2.RejectedExpired != 2 {
		t.Errorf("counters %+v", c2)
	}
}

func TestPutLogEventsSequenceTokenChanges(t *testing.T) {
	c := &clock{time.UnixMilli(t0)}
	s := openTest(t, t.TempDir(), c)
	defer s.Close()
	s.CreateLogGroup("g", GroupOptions{})
	s.CreateLogStream("g", "s")
	r1, err := s.PutLogEvents("g", "s", []PutEvent{{t0, "a"}})
	if err != nil {
		t.Fatal(err)
	}
	r2, _ := s.PutLogEvents("g", "s", []PutEvent{{t0, "b"}})
	if r1.NextSequenceToken == r2.NextSequenceToken {
		t.Fatal("token did not change")
	}
	ls, _, _ := s.DescribeLogStreams(DescribeStreamsInput{Group: "g"})
	if ls[0].UploadSequenceToken != r2.NextSequenceToken || *ls[0].LastIngestionTime != t0 {
		t.Fatalf("%+v", ls[0])
	}
}
