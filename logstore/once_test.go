package logstore

import (
	"fmt"
	"reflect"
	"testing"
	"time"
)

// onceBatch is one delivery: two streams, two minutes of day 0, one event
// of day 1, and one line twice in a minute (two flows can print the same
// line in a format without the fields that tell them apart).
func onceBatch() []InputEvent {
	return []InputEvent{
		ev("eni-a-all", t0+1000, "a 1"),         // 0
		ev("eni-a-all", t0+1000, "a 1"),         // 1: the same line again
		ev("eni-a-all", t0+61_000, "a 2"),       // 2: next minute
		ev("eni-b-all", t0+1000, "b 1"),         // 3
		ev("eni-b-all", t0+dayMs+5000, "b day"), // 4: next day
	}
}

func TestIngestOnceSkipsDelivered(t *testing.T) {
	dir := t.TempDir()
	c := &clock{time.UnixMilli(t0 + 2*dayMs)}
	s := openTest(t, dir, c)
	res, err := s.IngestOnce("/vpc/flow", "fl-1", onceBatch())
	if err != nil || res.Stored != 5 || res.Duplicates != nil {
		t.Fatalf("first delivery: %+v %v", res, err)
	}
	want := scanAll(t, s, "/vpc/flow", 0, 1<<62)
	if len(want) != 5 {
		t.Fatalf("stored %v", want)
	}
	// The same delivery again, in this process and after a reopen: nothing
	// is stored, every event is listed as delivered before.
	for round := 0; round < 2; round++ {
		res, err = s.IngestOnce("/vpc/flow", "fl-1", onceBatch())
		if err != nil || res.Stored != 0 || !reflect.DeepEqual(res.Duplicates, []int{0, 1, 2, 3, 4}) {
			t.Fatalf("round %d: again: %+v %v", round, res, err)
		}
		if got := scanAll(t, s, "/vpc/flow", 0, 1<<62); !reflect.DeepEqual(got, want) {
			t.Fatalf("round %d: events %v, want %v", round, got, want)
		}
		s = reopen(t, s, dir, c)
	}
	defer s.Close()
	if n := s.Counters().Duplicates; n != 0 {
		t.Errorf("counters after reopen: %d duplicates, want 0 (since Open)", n)
	}
	if _, err := s.IngestOnce("/vpc/flow", "fl-1", onceBatch()[:2]); err != nil {
		t.Fatal(err)
	}
	if n := s.Counters().Duplicates; n != 2 {
		t.Errorf("counters: %d duplicates, want 2", n)
	}
	// The group's attributes are those of five events.
	if g, _ := s.GroupInfo("/vpc/flow"); g.StoredBytes != int64(len("a 1a 1a 2b 1b day")) {
		t.Errorf("group stored bytes %d", g.StoredBytes)
	}
}

// TestIngestOnceOtherRecords [Choice]: the same source, streams and
// minutes delivered again with other records (another capture of the same
// time) store the events that source has not delivered yet, per
// occurrence, and skip the others.
func TestIngestOnceOtherRecords(t *testing.T) {
	dir := t.TempDir()
	c := &clock{time.UnixMilli(t0 + 2*dayMs)}
	s := openTest(t, dir, c)
	defer s.Close()
	if _, err := s.IngestOnce("/vpc/flow", "fl-1", onceBatch()); err != nil {
		t.Fatal(err)
	}
	second := []InputEvent{
		ev("eni-a-all", t0+1000, "a 1"),         // 0: delivered (twice)
		ev("eni-a-all", t0+1000, "a 1"),         // 1: delivered
		ev("eni-a-all", t0+1000, "a 1"),         // 2: a third copy: new
		ev("eni-a-all", t0+2000, "a 1"),         // 3: another timestamp: new
		ev("eni-b-all", t0+1000, "a 1"),         // 4: another stream: new
		ev("eni-b-all", t0+1000, "b 1 longer"),  // 5: another message: new
		ev("eni-b-all", t0+dayMs+5000, "b day"), // 6: delivered
	}
	res, err := s.IngestOnce("/vpc/flow", "fl-1", second)
	if err != nil || res.Stored != 4 || !reflect.DeepEqual(res.Duplicates, []int{0, 1, 6}) {
		t.Fatalf("second delivery: %+v %v", res, err)
	}
	// Each delivery again: the markers merged the second's events with the
	// first's (kept sorted), and every event is found.
	for _, again := range [][]InputEvent{second, onceBatch()} {
		res, err = s.IngestOnce("/vpc/flow", "fl-1", again)
		if err != nil || res.Stored != 0 || len(res.Duplicates) != len(again) {
			t.Fatalf("again: %+v %v", res, err)
		}
	}
	got := scanAll(t, s, "/vpc/flow", 0, 1<<62)
	want := []string{
		fmt.Sprintf("%d eni-a-all a 1", t0+1000),
		fmt.Sprintf("%d eni-a-all a 1", t0+1000),
		fmt.Sprintf("%d eni-b-all b 1", t0+1000),
		fmt.Sprintf("%d eni-a-all a 1", t0+1000),
		fmt.Sprintf("%d eni-b-all a 1", t0+1000),
		fmt.Sprintf("%d eni-b-all b 1 longer", t0+1000),
		fmt.Sprintf("%d eni-a-all a 1", t0+2000),
		fmt.Sprintf("%d eni-a-all a 2", t0+61_000),
		fmt.Sprintf("%d eni-b-all b day", t0+dayMs+5000),
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("events\n%v\nwant\n%v", got, want)
	}
}

// TestIngestOnceBySource: two flow logs into one group and stream each
// deliver their records (AWS delivers both); Ingest, which names no
// source, stores what it is given.
func TestIngestOnceBySource(t *testing.T) {
	c := &clock{time.UnixMilli(t0 + 2*dayMs)}
	s := openTest(t, t.TempDir(), c)
	defer s.Close()
	for _, src := range []string{"fl-1", "fl-2", "fl-1", "fl-2"} {
		if _, err := s.IngestOnce("/vpc/flow", src, onceBatch()); err != nil {
			t.Fatal(err)
		}
	}
	if res, err := s.Ingest("/vpc/flow", onceBatch()); err != nil || res.Stored != 5 || res.Duplicates != nil {
		t.Fatalf("Ingest: %+v %v", res, err)
	}
	if n := len(scanAll(t, s, "/vpc/flow", 0, 1<<62)); n != 15 {
		t.Errorf("%d events, want 15 (two sources and Ingest, five each)", n)
	}
	if _, err := s.IngestOnce("/vpc/flow", "", onceBatch()); err == nil {
		t.Error("IngestOnce without a source succeeded")
	}
}

// TestIngestOnceMarkerWithEvents: a day's events and its delivery marker
// are one transaction. A batch over two days whose second day fails
// stores the first day only; delivered again, it stores exactly the
// second day.
func TestIngestOnceMarkerWithEvents(t *testing.T) {
	dir := t.TempDir()
	c := &clock{time.UnixMilli(t0 + 2*dayMs)}
	f := &faults{fail: map[string]int{"write day file": 1}, skip: map[string]int{"write day file": 1}}
	s := openFaulty(t, dir, c, f)
	defer s.Close()
	res, err := s.IngestOnce("/vpc/flow", "fl-1", onceBatch())
	if err == nil || res.Stored != 4 {
		t.Fatalf("failing delivery: %+v %v", res, err)
	}
	res, err = s.IngestOnce("/vpc/flow", "fl-1", onceBatch())
	if err != nil || res.Stored != 1 || !reflect.DeepEqual(res.Duplicates, []int{0, 1, 2, 3}) {
		t.Fatalf("delivered again: %+v %v", res, err)
	}
	if n := len(scanAll(t, s, "/vpc/flow", 0, 1<<62)); n != 5 {
		t.Errorf("%d events, want 5", n)
	}
}

// TestIngestOnceForgetsDeletedEvents: events removed by DeleteLogStream
// or by retention are new when delivered again.
func TestIngestOnceForgetsDeletedEvents(t *testing.T) {
	dir := t.TempDir()
	c := &clock{time.UnixMilli(t0 + 2*dayMs)}
	s := openTest(t, dir, c)
	defer s.Close()
	if _, err := s.IngestOnce("/vpc/flow", "fl-1", onceBatch()); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteLogStream("/vpc/flow", "eni-a-all"); err != nil {
		t.Fatal(err)
	}
	res, err := s.IngestOnce("/vpc/flow", "fl-1", onceBatch())
	if err != nil || res.Stored != 3 || !reflect.DeepEqual(res.Duplicates, []int{3, 4}) {
		t.Fatalf("after DeleteLogStream: %+v %v", res, err)
	}

	// Retention of one day at t0+1d+60.5s expires what is older than
	// t0+60.5s: the minute t0 (events at t0+1s) goes with its markers; the
	// minute t0+60s keeps its event (t0+61s) and its marker.
	c.t = time.UnixMilli(t0 + dayMs + 60_500)
	if err := s.PutRetentionPolicy("/vpc/flow", 1); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRetentionPolicy("/vpc/flow"); err != nil {
		t.Fatal(err)
	}
	res, err = s.IngestOnce("/vpc/flow", "fl-1", onceBatch())
	// 0, 1, 3 were purged and are new; 2 (t0+61s, kept) and 4 were kept.
	if err != nil || res.Stored != 3 || !reflect.DeepEqual(res.Duplicates, []int{2, 4}) {
		t.Fatalf("after retention: %+v %v", res, err)
	}
}
