package logstore

import (
	"sync"
	"testing"
	"time"
)

// TestConcurrentReadWrite runs writers, scanners and describers together;
// under -race it checks the locking, and every scan sees a consistent prefix.
func TestConcurrentReadWrite(t *testing.T) {
	c := &clock{time.UnixMilli(t0)}
	s := openTest(t, t.TempDir(), c)
	defer s.Close()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for b := 0; b < 40; b++ {
			evs := make([]InputEvent, 100)
			for i := range evs {
				evs[i] = ev([]string{"a", "b", "c"}[i%3], t0+int64(b)*3_600_000*6+int64(i), "x")
			}
			if _, err := s.Ingest("g", evs); err != nil {
				t.Error(err)
				return
			}
		}
		close(stop)
	}()
	for r := 0; r < 3; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				last := int64(-1)
				s.Scan("g", 0, 1<<62, func(e Event) error {
					if e.Timestamp < last {
						t.Errorf("scan out of order")
					}
					last = e.Timestamp
					return nil
				})
				s.DescribeLogStreams(DescribeStreamsInput{Group: "g"})
				s.FilterLogEvents(FilterInput{Group: "g", Limit: 5})
				s.GetLogEvents(GetInput{Group: "g", Stream: "a", Limit: 5})
			}
		}()
	}
	wg.Wait()
	n := 0
	s.Scan("g", 0, 1<<62, func(Event) error { n++; return nil })
	if n != 4000 {
		t.Fatalf("%d events", n)
	}
}

// TestOpenSliceLimit keeps at most MaxOpenSlices day files open while data
// spans many days.
func TestOpenSliceLimit(t *testing.T) {
	c := &clock{time.UnixMilli(t0)}
	s, err := Open(t.TempDir(), Options{Account: testAccount, Region: testRegion, Now: c.now, MaxOpenSlices: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var evs []InputEvent
	for d := int64(0); d < 10; d++ {
		evs = append(evs, ev("s", t0+d*dayMs, "x"))
	}
	if _, err := s.Ingest("g", evs); err != nil {
		t.Fatal(err)
	}
	if got := scanAll(t, s, "g", 0, 1<<62); len(got) != 10 {
		t.Fatalf("%d", len(got))
	}
	p, _ := s.GetLogEvents(GetInput{Group: "g", Stream: "s", StartFromHead: true})
	if len(p.Events) != 10 {
		t.Fatalf("%d", len(p.Events))
	}
	s.mu.RLock()
	open := s.open
	s.mu.RUnlock()
	if open > 2 {
		t.Fatalf("%d day files open", open)
	}
}
