package insights

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user+system CPU time: on a shared machine it
// says what a run costs even when wall time is inflated by other load.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// report adds per-event figures and the 10 M extrapolation.
func report(b *testing.B, events int, cpu time.Duration) {
	n := float64(b.N) * float64(events)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/event")
	b.ReportMetric(float64(cpu.Nanoseconds())/n, "cpu-ns/event")
	b.ReportMetric(b.Elapsed().Seconds()/n*1e7, "s/10M-events")
}

const benchEvents = 1 << 20

var (
	benchOnce sync.Once
	benchEvs  []Event
)

// benchData is a million default-format records over 4096 address pairs,
// with a NODATA record every 1000, like a busy VPC's log group.
func benchData() []Event {
	benchOnce.Do(func() {
		rng := rand.New(rand.NewPCG(1, 2))
		benchEvs = make([]Event, benchEvents)
		for i := range benchEvs {
			start := int64(1700000000 + i/100)
			var m string
			if i%1000 == 999 {
				m = fmt.Sprintf("2 123456789012 eni-0a1b2c3d4e5f60718 - - - - - - - %d %d - NODATA", start, start+60)
			} else {
				p := rng.IntN(4096)
				m = fmt.Sprintf("2 123456789012 eni-0a1b2c3d4e5f60718 10.1.%d.%d 172.16.%d.%d %d 443 6 %d %d %d %d ACCEPT OK",
					p/64, p%64, p%16, p/16, 1024+rng.IntN(60000), 1+rng.IntN(100), 40+rng.IntN(150000), start, start+60)
			}
			benchEvs[i] = Event{Timestamp: start * 1000, IngestionTime: start*1000 + 90000, Group: "vpc-flow-logs",
				Stream: "eni-0a1b2c3d4e5f60718-all", Message: []byte(m)}
		}
	})
	return benchEvs
}

const benchQuery = "stats sum(bytes) as bytesTransferred by srcAddr, dstAddr | sort bytesTransferred desc | limit 10"

func benchInsights(b *testing.B, workers int) {
	evs := benchData()
	q, err := Parse(benchQuery)
	if err != nil {
		b.Fatal(err)
	}
	var res *Result
	c0 := cpuTime()
	for b.Loop() {
		res, err = q.Run(EventsSource(evs), Options{AccountID: testAccount, Workers: workers})
		if err != nil || len(res.Rows) != 10 {
			b.Fatal(err, len(res.Rows))
		}
	}
	report(b, len(evs), cpuTime()-c0)
}

// BenchmarkStatsSumBy is the yardstick query (stats sum(bytes) by srcAddr,
// dstAddr) over in-memory events.
func BenchmarkStatsSumBy(b *testing.B) {
	b.Run("insights-1worker", func(b *testing.B) { benchInsights(b, 1) })
	b.Run("insights-2workers", func(b *testing.B) { benchInsights(b, 2) })
	b.Run("baseline-handwritten", func(b *testing.B) {
		evs := benchData()
		c0 := cpuTime()
		for b.Loop() {
			if top := baselineTop10(evs); len(top) != 10 {
				b.Fatal(len(top))
			}
		}
		report(b, len(evs), cpuTime()-c0)
	})
}

// baselineTop10 is what a Go programmer would write by hand for this one
// query: split each line, sum bytes per (src, dst) in a map, sort, top 10.
func baselineTop10(evs []Event) []string {
	type key struct{ src, dst string }
	sums := map[key]int64{}
	var fields [14][]byte
	for i := range evs {
		m := evs[i].Message
		n := 0
		for len(m) > 0 && n < 14 {
			j := bytes.IndexByte(m, ' ')
			if j < 0 {
				j = len(m)
			}
			fields[n] = m[:j]
			n++
			if j == len(m) {
				m = nil
			} else {
				m = m[j+1:]
			}
		}
		if n != 14 || len(m) > 0 || string(fields[0]) != "2" {
			continue
		}
		v, err := strconv.ParseInt(string(fields[9]), 10, 64)
		if err != nil {
			continue
		}
		k := key{string(fields[3]), string(fields[4])}
		sums[k] += v
	}
	type kv struct {
		k key
		v int64
	}
	list := make([]kv, 0, len(sums))
	for k, v := range sums {
		list = append(list, kv{k, v})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].v > list[j].v })
	var out []string
	for _, e := range list[:min(10, len(list))] {
		out = append(out, e.k.src+" "+e.k.dst+" "+strconv.FormatInt(e.v, 10))
	}
	return out
}

// TestBaselineAgrees keeps the benchmark honest: the engine and the
// hand-written loop give the same top 10.
func TestBaselineAgrees(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a million events")
	}
	evs := benchData()[:100000]
	base := baselineTop10(evs)
	res := runQuery(t, benchQuery, evs, Options{Workers: 2})
	var got []string
	for _, row := range res.Rows {
		got = append(got, row[0].Value+" "+row[1].Value+" "+row[2].Value)
	}
	if fmt.Sprint(got) != fmt.Sprint(base) {
		t.Errorf("engine %v\nbaseline %v", got, base)
	}
}

const manyEvents = 1 << 20

var (
	manyOnce sync.Once
	manyEvs  []Event
)

// manyGroupsData is a million records shaped like `vpcflow bench insights`
// builds them (a few hosts send most, 5 000 x 5 000 possible pairs, skewed
// byte counts), which gives about 900 000 distinct (srcAddr, dstAddr)
// groups: the case where ordering and merging groups dominate.
func manyGroupsData() []Event {
	manyOnce.Do(func() {
		rng := rand.New(rand.NewPCG(1, 2))
		manyEvs = make([]Event, manyEvents)
		for i := range manyEvs {
			src := 1 + int(math.Pow(rng.Float64(), 3)*5000)
			dst := 1 + rng.IntN(5000)
			t := int64(1767225600 + i/2000)
			bytes := 40 + int(math.Pow(rng.Float64(), 4)*1e6)
			m := fmt.Sprintf("2 123456789012 eni-%017x 10.%d.%d.%d 10.%d.%d.%d %d 443 6 %d %d %d %d ACCEPT OK",
				i%16, src>>16, (src>>8)&255, src&255, 1+dst>>16, (dst>>8)&255, dst&255, 1024+rng.IntN(60000), 1+bytes/1000, bytes, t, t+59)
			manyEvs[i] = Event{Timestamp: t * 1000, IngestionTime: t*1000 + 90000, Group: "vpc-flow-logs",
				Stream: fmt.Sprintf("eni-%017x-all", i%16), Message: []byte(m)}
		}
	})
	return manyEvs
}

// BenchmarkStatsSumByManyGroups is the goal query where nearly every event
// opens a group, against the hand-written loop in the same run: the
// workers fed by one scanning goroutine, or scanning parts themselves (as
// over the store), with the table sized from the event count.
func BenchmarkStatsSumByManyGroups(b *testing.B) {
	run := func(b *testing.B, workers, parts int) {
		evs := manyGroupsData()
		q, err := Parse(benchQuery)
		if err != nil {
			b.Fatal(err)
		}
		var srcs []Source
		for i := range parts {
			srcs = append(srcs, EventsSource(evs[i*len(evs)/parts:(i+1)*len(evs)/parts]))
		}
		c0 := cpuTime()
		for b.Loop() {
			res, err := q.RunParts(srcs, Options{AccountID: testAccount, Workers: workers, Events: int64(len(evs))})
			if err != nil || len(res.Rows) != 10 {
				b.Fatal(err, len(res.Rows))
			}
		}
		report(b, len(evs), cpuTime()-c0)
	}
	b.Run("insights-1worker", func(b *testing.B) { run(b, 1, 1) })
	b.Run("insights-2workers", func(b *testing.B) { run(b, 2, 1) })
	b.Run("insights-2workers-8parts", func(b *testing.B) { run(b, 2, 8) })
	b.Run("baseline-handwritten", func(b *testing.B) {
		evs := manyGroupsData()
		c0 := cpuTime()
		for b.Loop() {
			if top := baselineTop10(evs); len(top) != 10 {
				b.Fatal(len(top))
			}
		}
		report(b, len(evs), cpuTime()-c0)
	})
}

// TestManyGroupsCount keeps the benchmark's promise of at least 100 000
// distinct keys, and checks the engine's top 10 against the hand-written
// loop on it.
func TestManyGroupsCount(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a million events")
	}
	evs := manyGroupsData()
	res := runQuery(t, "stats count(*) as n by srcAddr, dstAddr | stats count(*) as groups", evs, Options{})
	n, _ := strconv.Atoi(res.Rows[0][0].Value)
	if n < 100000 {
		t.Fatalf("%d groups, want at least 100000", n)
	}
	t.Logf("%d distinct (srcAddr, dstAddr) groups", n)
	base := baselineTop10(evs)
	res = runQuery(t, benchQuery, evs, Options{Workers: 2})
	var got []string
	for _, row := range res.Rows {
		got = append(got, row[0].Value+" "+row[1].Value+" "+row[2].Value)
	}
	if fmt.Sprint(got) != fmt.Sprint(base) {
		t.Errorf("engine %v\nbaseline %v", got, base)
	}
}
