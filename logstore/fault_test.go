package logstore

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

// faults fails the steps it names; a count limits how many times (0:
// always), after skipping the first skip calls of that step.
type faults struct {
	fail map[string]int
	skip map[string]int
	seen map[string]int
}

var errDiskFull = errors.New("no space left on device")

func (f *faults) hook(step string) error {
	if f == nil {
		return nil
	}
	if f.seen == nil {
		f.seen = map[string]int{}
	}
	f.seen[step]++
	n, ok := f.fail[step]
	if !ok || f.seen[step] <= f.skip[step] {
		return nil
	}
	if n > 0 {
		if f.seen[step]-f.skip[step] > n {
			return nil
		}
	}
	return errDiskFull
}

func openFaulty(t *testing.T, dir string, c *clock, f *faults) *Store {
	t.Helper()
	s, err := Open(dir, Options{Account: testAccount, Region: testRegion, Now: c.now, Fault: f.hook})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// files lists the files under dir/g (day files and group dirs).
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(filepath.Join(dir, "g"), func(p string, d os.DirEntry, err error) error {
		if err == nil && p != filepath.Join(dir, "g") {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	sort.Strings(out)
	return out
}

// TestFailedIngestLeavesNoTrace: `logs put` on a full disk used to create
// the log group (and its streams) and then fail to store the events,
// leaving an empty group behind. Whichever step fails, Ingest into a new
// group now leaves nothing: no group, no stream, no file, before and after
// a reopen; the error says that nothing was stored.
func TestFailedIngestLeavesNoTrace(t *testing.T) {
	for _, step := range []string{"create group", "create streams", "open day file", "write day file"} {
		t.Run(step, func(t *testing.T) {
			dir := t.TempDir()
			c := &clock{time.UnixMilli(t0)}
			f := &faults{fail: map[string]int{step: 0}}
			s := openFaulty(t, dir, c, f)
			res, err := s.Ingest("/new", []InputEvent{ev("a", t0, "x"), ev("b", t0+1, "y")})
			var ie *IngestError
			if !errors.As(err, &ie) || !errors.Is(err, errDiskFull) || ie.Stored != 0 || len(ie.Left) != 0 || res.Stored != 0 {
				t.Fatalf("Ingest = %+v, %v", res, err)
			}
			if !strings.Contains(err.Error(), "nothing was stored") {
				t.Errorf("error does not say what it left: %v", err)
			}
			check := func(s *Store, when string) {
				if _, err := s.GroupInfo("/new"); !errors.Is(err, ErrGroupNotFound) {
					t.Errorf("%s: the group is there: %v", when, err)
				}
				if fs := files(t, dir); len(fs) != 0 {
					t.Errorf("%s: files left: %v", when, fs)
				}
			}
			check(s, "before reopen")
			s.Close()
			s = openTest(t, dir, c)
			defer s.Close()
			check(s, "after reopen")
			// The name is free: an Ingest that works creates the group.
			if res, err := s.Ingest("/new", []InputEvent{ev("a", t0, "x")}); err != nil || res.Stored != 1 {
				t.Fatalf("Ingest after the failure = %+v, %v", res, err)
			}
		})
	}
}

// TestFailedIngestKeepsOldGroup: into an existing group, a failed Ingest
// removes only the streams it created and the day file it opened; the
// group and its events stay.
func TestFailedIngestKeepsOldGroup(t *testing.T) {
	dir := t.TempDir()
	c := &clock{time.UnixMilli(t0)}
	f := &faults{}
	s := openFaulty(t, dir, c, f)
	defer s.Close()
	if _, err := s.Ingest("/g", []InputEvent{ev("a", t0, "old")}); err != nil {
		t.Fatal(err)
	}
	before := files(t, dir)
	f.fail = map[string]int{"write day file": 0}
	// A new stream, and a new day (a new file).
	_, err := s.Ingest("/g", []InputEvent{ev("b", t0+dayMs, "new"), ev("a", t0+dayMs+1, "new")})
	if !errors.Is(err, errDiskFull) || !strings.Contains(err.Error(), "nothing was stored") {
		t.Fatalf("err = %v", err)
	}
	if got := files(t, dir); !reflect.DeepEqual(got, before) {
		t.Errorf("files %v, before the failed Ingest %v", got, before)
	}
	streams, _, err := s.DescribeLogStreams(DescribeStreamsInput{Group: "/g"})
	if err != nil || len(streams) != 1 || streams[0].LogStreamName != "a" {
		t.Errorf("streams = %+v, %v", streams, err)
	}
	if got := scanAll(t, s, "/g", 0, 1<<62); len(got) != 1 {
		t.Errorf("events = %v", got)
	}
}

// TestFailedIngestSaysWhatItLeft: when the undo fails too, the error names
// the group it left; when a batch over several days fails after its first
// day, the error and the result count the events stored, and exactly those
// are there.
func TestFailedIngestSaysWhatItLeft(t *testing.T) {
	t.Run("undo fails", func(t *testing.T) {
		dir := t.TempDir()
		c := &clock{time.UnixMilli(t0)}
		s := openFaulty(t, dir, c, &faults{fail: map[string]int{"write day file": 0, "undo": 0}})
		defer s.Close()
		_, err := s.Ingest("/left", []InputEvent{ev("a", t0, "x")})
		var ie *IngestError
		if !errors.As(err, &ie) || !reflect.DeepEqual(ie.Left, []string{"log group /left"}) {
			t.Fatalf("err = %v", err)
		}
		if _, err := s.GroupInfo("/left"); err != nil {
			t.Errorf("the group the error names is not there: %v", err)
		}
	})
	t.Run("second day fails", func(t *testing.T) {
		dir := t.TempDir()
		c := &clock{time.UnixMilli(t0)}
		s := openFaulty(t, dir, c, &faults{fail: map[string]int{"write day file": 1}, skip: map[string]int{"write day file": 1}})
		defer s.Close()
		res, err := s.Ingest("/multi", []InputEvent{ev("a", t0+dayMs, "day2"), ev("a", t0, "day1"), ev("a", t0+1, "day1")})
		var ie *IngestError
		if !errors.As(err, &ie) || ie.Stored != 2 || res.Stored != 2 || !strings.Contains(err.Error(), "2 events of the batch") {
			t.Fatalf("Ingest = %+v, %v", res, err)
		}
		if got := scanAll(t, s, "/multi", 0, 1<<62); len(got) != 2 || !strings.HasSuffix(got[0], "day1") || !strings.HasSuffix(got[1], "day1") {
			t.Errorf("events = %v", got)
		}
		if n := s.Counters().Ingested; n != 2 {
			t.Errorf("Counters().Ingested = %d, want 2", n)
		}
	})
}

// TestEventsAfter: the events beyond a sequence number, in the order they
// were stored, found through the batch records (and without them).
func TestEventsAfter(t *testing.T) {
	dir := t.TempDir()
	c := &clock{time.UnixMilli(t0)}
	s := openTest(t, dir, c)
	defer s.Close()
	// Out of time order, over two days.
	if _, err := s.Ingest("/g", []InputEvent{ev("a", t0+dayMs+5, "1"), ev("a", t0+5, "2")}); err != nil {
		t.Fatal(err)
	}
	_, mark, _ := s.GroupSeq("/g")
	if _, err := s.Ingest("/g", []InputEvent{ev("b", t0+dayMs+1, "3"), ev("a", t0+1, "4"), ev("a", t0+9, "5")}); err != nil {
		t.Fatal(err)
	}
	var got []string
	var seqs []uint64
	err := s.EventsAfter("/g", mark, func(e Event, seq uint64) error {
		got = append(got, string(e.Message)+e.Stream)
		seqs = append(seqs, seq)
		return nil
	})
	// Stored day by day: day one's events first, in request order.
	if err != nil || !reflect.DeepEqual(got, []string{"4a", "5a", "3b"}) || seqs[0] <= mark || !sort.SliceIsSorted(seqs, func(i, j int) bool { return seqs[i] < seqs[j] }) {
		t.Fatalf("EventsAfter(%d) = %v %v, %v", mark, got, seqs, err)
	}
	got = nil
	s.EventsAfter("/g", 0, func(e Event, _ uint64) error { got = append(got, string(e.Message)); return nil })
	if len(got) != 5 {
		t.Fatalf("EventsAfter(0) = %v", got)
	}
	if err := s.EventsAfter("/none", 0, func(Event, uint64) error { return nil }); !errors.Is(err, ErrGroupNotFound) {
		t.Fatalf("missing group: %v", err)
	}
}
