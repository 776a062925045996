package insights

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// scribbleSource serves evs through one reused message buffer that it
// overwrites after each callback, as a store whose memory is only valid
// during the callback would: a record that kept a reference to a message
// would read garbage.
func scribbleSource(evs []Event) Source {
	return func(fn func(*Event) error) error {
		var buf []byte
		for i := range evs {
			ev := evs[i]
			buf = append(buf[:0], ev.Message...)
			ev.Message = buf
			if err := fn(&ev); err != nil {
				return err
			}
			for j := range buf {
				buf[j] = 'X'
			}
		}
		return nil
	}
}

// TestPartsAgree: a query over parts scanned by the workers themselves
// gives the rows and statistics of one source, for stats (every aggregate
// whose result does not depend on arrival order) and for record queries,
// whose order is the parts' order.
func TestPartsAgree(t *testing.T) {
	evs := manyGroupsData()[:30000]
	split := func(k int) []Source {
		var parts []Source
		for i := range k {
			parts = append(parts, scribbleSource(evs[i*len(evs)/k:(i+1)*len(evs)/k]))
		}
		return parts
	}
	for _, q := range []string{
		"stats count(*) as c, count_distinct(dstPort) as d, sum(bytes) as s, avg(bytes) as a, min(bytes) as lo, max(bytes) as hi by srcAddr",
		"stats pct(bytes, 90) as p, sortsFirst(dstAddr) as f, sortsLast(dstAddr) as l by srcAddr | sort p desc | limit 40",
		"filter bytes > 100000 | stats count(*) as c by srcAddr, dstAddr | sort c desc, srcAddr asc | limit 25",
		"stats sum(bytes) as s by srcAddr, dstAddr | limit 30",
		"stats count(*) as c by bin(1h) as h, interfaceId",
		"stats sum(bytes) as s",
		"fields srcAddr, bytes | filter bytes > 900000 | limit 30",
		"fields @timestamp, srcAddr | sort @timestamp desc | limit 7",
	} {
		pq, err := Parse(q)
		if err != nil {
			t.Fatal(err)
		}
		want, err := pq.Run(EventsSource(evs), Options{AccountID: testAccount, Workers: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(want.Rows) == 0 {
			t.Fatalf("%s: no rows", q)
		}
		for _, k := range []int{2, 5} {
			for _, w := range []int{1, 2, 3} {
				got, err := pq.RunParts(split(k), Options{AccountID: testAccount, Workers: w})
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(rowsOf(got), rowsOf(want)) {
					t.Errorf("%s: %d parts, %d workers:\n got %.300q\nwant %.300q", q, k, w, rowsOf(got), rowsOf(want))
				}
				if got.Statistics != want.Statistics {
					t.Errorf("%s: %d parts, %d workers: statistics %+v, want %+v", q, k, w, got.Statistics, want.Statistics)
				}
			}
		}
	}
}

// TestPartsError: a part's error ends the query with it.
func TestPartsError(t *testing.T) {
	evs := manyGroupsData()[:5000]
	boom := errors.New("slice unreadable")
	parts := []Source{EventsSource(evs[:2500]), func(fn func(*Event) error) error { return boom }, EventsSource(evs[2500:])}
	for _, q := range []string{"stats count(*) by srcAddr", "fields srcAddr"} {
		pq, err := Parse(q)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pq.RunParts(parts, Options{AccountID: testAccount, Workers: 2}); err == nil || !strings.Contains(err.Error(), boom.Error()) {
			t.Errorf("%s: error %v, want %v", q, err, boom)
		}
	}
}

// TestNoParts: no parts is no events, not a crash.
func TestNoParts(t *testing.T) {
	for _, q := range []string{"stats count(*) as n", "fields @message"} {
		pq, err := Parse(q)
		if err != nil {
			t.Fatal(err)
		}
		res, err := pq.RunParts(nil, Options{AccountID: testAccount})
		if err != nil || res.Statistics.RecordsScanned != 0 {
			t.Fatalf("%s: %v, %+v", q, err, res)
		}
		if q == "stats count(*) as n" && (len(res.Rows) != 1 || res.Rows[0][0].Value != "0") {
			t.Errorf("%s: rows %v", q, res.Rows)
		}
	}
}

// TestPartsNeverWaitInsideAPart: a part may only begin once another has
// ended, as a store's read transaction waits behind a writer that waits
// for an older read transaction (bbolt's remap). The worker scanning the
// first part must then never wait for the worker stuck at the start of the
// second: it used to, once that worker's inbox was full, and neither ever
// ended (nor, in the store, the writer). The query ends and gives the rows
// of one source.
func TestPartsNeverWaitInsideAPart(t *testing.T) {
	evs := manyGroupsData()[:40000]
	firstDone := make(chan struct{})
	parts := []Source{
		func(fn func(*Event) error) error {
			defer close(firstDone)
			return EventsSource(evs[:30000])(fn)
		},
		func(fn func(*Event) error) error {
			<-firstDone
			return EventsSource(evs[30000:])(fn)
		},
	}
	pq, err := Parse("stats count(*) as c, sum(bytes) as s by srcAddr, dstAddr")
	if err != nil {
		t.Fatal(err)
	}
	want, err := pq.Run(EventsSource(evs), Options{AccountID: testAccount, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	type answer struct {
		res *Result
		err error
	}
	done := make(chan answer, 1)
	go func() {
		res, err := pq.RunParts(parts, Options{AccountID: testAccount, Workers: 2})
		done <- answer{res, err}
	}()
	select {
	case a := <-done:
		if a.err != nil {
			t.Fatal(a.err)
		}
		if !slices.Equal(rowsOf(a.res), rowsOf(want)) {
			t.Errorf("rows differ from one source's:\n got %.300q\nwant %.300q", rowsOf(a.res), rowsOf(want))
		}
	case <-time.After(time.Minute):
		// Not a timing assertion: the query does a second's work at most,
		// so a minute means the workers wait for each other for ever.
		t.Fatal("the query never ended: a worker waits for one that cannot begin its part")
	}
}
