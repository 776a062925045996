package insights

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestNatKeyOrder checks the precomputed sort keys against the documented
// ascending sequence of natural ordering [AWS] (docs/aws-behaviour.md, "Logs
// Insights"), as strings and, for the numeric one, as a number too.
func TestNatKeyOrder(t *testing.T) {
	seq := []string{"!:", "#", "*%04", "0#", "5A", "111A", "2345_", "@", "@_", "A", "A9876fghj", "a12345hfh", "0"}
	for i := range seq {
		for j := range seq {
			a, b := natKeyOf(strVal(seq[i])), natKeyOf(strVal(seq[j]))
			if got, want := a.cmp(&b, false), cmp.Compare(i, j); got != want {
				t.Errorf("cmp(%q, %q) = %d, want %d", seq[i], seq[j], got, want)
			}
			if got, want := a.cmp(&b, true), -cmp.Compare(i, j); got != want {
				t.Errorf("desc cmp(%q, %q) = %d, want %d", seq[i], seq[j], got, want)
			}
		}
	}
	// Numbers by value whatever their kind or spelling; nulls last both ways.
	nine, ten, tenS, null := natKeyOf(numVal(9)), natKeyOf(strVal("10")), natKeyOf(strVal("1e1")), natKeyOf(Value{})
	for _, tc := range []struct {
		a, b natKey
		desc bool
		want int
	}{
		{nine, ten, false, -1}, {nine, ten, true, 1}, {ten, tenS, false, 0},
		{null, nine, false, 1}, {null, nine, true, 1}, {nine, null, true, -1}, {null, null, true, 0},
	} {
		if got := tc.a.cmp(&tc.b, tc.desc); got != tc.want {
			t.Errorf("cmp(%+v, %+v, desc=%v) = %d, want %d", tc.a, tc.b, tc.desc, got, tc.want)
		}
	}
}

func flowEvent(i int, src, dst, dstPort, bytes string) Event {
	m := fmt.Sprintf("2 123456789012 eni-0a1b2c3d4e5f60718 %s %s 40000 %s 6 1 %s 1700000000 1700000060 ACCEPT OK", src, dst, dstPort, bytes)
	return Event{Timestamp: 1700000000000 + int64(i), IngestionTime: 1700000090000, Group: "g", Stream: "s", Message: []byte(m)}
}

// TestOrderChoice is the order of stats rows under a following sort, which
// rests on a [Choice]: the sort is stable over the groups' default order
// (keys ascending in natural order, nulls last), so ties keep that order
// whether the engine sorts every group or picks the top N with a heap.
func TestOrderChoice(t *testing.T) {
	// sum(bytes) by srcAddr: 10.0.0.1, 10.0.0.2 and 10.0.0.10 (two events)
	// have 100; the null key has 100; host-b 50; z only "-" (sum null).
	evs := []Event{
		flowEvent(0, "10.0.0.2", "10.9.0.1", "443", "100"),
		flowEvent(1, "10.0.0.10", "10.9.0.1", "443", "60"),
		flowEvent(2, "10.0.0.1", "10.9.0.1", "443", "100"),
		flowEvent(3, "host-b", "10.9.0.1", "443", "50"),
		flowEvent(4, "-", "10.9.0.1", "443", "100"),
		flowEvent(5, "10.0.0.10", "10.9.0.1", "443", "40"),
		flowEvent(6, "z", "10.9.0.1", "443", "-"),
	}
	// Default order: text before numbers, digit runs by length then value
	// (10.0.0.1 < 10.0.0.2 < 10.0.0.10 < host-b < z), null key last.
	wantDesc := []string{"srcAddr=10.0.0.1 s=100", "srcAddr=10.0.0.2 s=100", "srcAddr=10.0.0.10 s=100", "s=100", "srcAddr=host-b s=50", "srcAddr=z"}
	wantAsc := []string{"srcAddr=host-b s=50", "srcAddr=10.0.0.1 s=100", "srcAddr=10.0.0.2 s=100", "srcAddr=10.0.0.10 s=100", "s=100", "srcAddr=z"}
	for _, dir := range []struct {
		name string
		want []string
	}{{"desc", wantDesc}, {"asc", wantAsc}} {
		for n := 1; n <= 7; n++ { // 1-5 take the heap, 6-7 the full sort
			q := fmt.Sprintf("stats sum(bytes) as s by srcAddr | sort s %s | limit %d", dir.name, n)
			for _, w := range []int{1, 2} {
				checkRows(t, q, runQuery(t, q, evs, Options{Workers: w}), dir.want[:min(n, len(dir.want))])
			}
		}
		q := "stats sum(bytes) as s by srcAddr | sort s " + dir.name
		checkRows(t, q, runQuery(t, q, evs, Options{}), dir.want)
		q = "stats sum(bytes) as s by srcAddr | filter 1 = 1 | sort s " + dir.name + " | limit 3"
		checkRows(t, q, runQuery(t, q, evs, Options{}), dir.want[:3])
	}

	t.Run("keys that compare equal keep one order", func(t *testing.T) {
		// dstPort "80" and "080" are the same number: equal in natural order,
		// yet two groups. The shorter encoded key goes first, on every run.
		evs := []Event{flowEvent(0, "a", "b", "080", "10"), flowEvent(1, "a", "b", "80", "10"), flowEvent(2, "a", "b", "443", "1")}
		for _, q := range []string{
			"stats sum(bytes) as s by dstPort | sort s desc | limit 1",
			"stats sum(bytes) as s by dstPort | sort s desc | limit 2",
			"stats sum(bytes) as s by dstPort",
		} {
			var first []string
			for run := range 20 {
				got := rowsOf(runQuery(t, q, evs, Options{Workers: 1 + run%3}))
				if first == nil {
					first = got
				} else if !slices.Equal(got, first) {
					t.Fatalf("%s: run %d gave %q, run 0 %q", q, run, got, first)
				}
			}
		}
		checkRows(t, "limit 2", runQuery(t, "stats sum(bytes) as s by dstPort | sort s desc | limit 2", evs, Options{}),
			[]string{"dstPort=80 s=10", "dstPort=080 s=10"})
		checkRows(t, "group order", runQuery(t, "stats sum(bytes) as s by dstPort", evs, Options{}),
			[]string{"dstPort=80 s=10", "dstPort=080 s=10", "dstPort=443 s=1"})
	})

	t.Run("top N equals the full sort on random data with many ties", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(7, 8))
		pick := func(vals ...string) string { return vals[rng.IntN(len(vals))] }
		var evs []Event
		for i := range 5000 {
			src := fmt.Sprintf("10.0.%d.%d", rng.IntN(4), rng.IntN(40))
			if rng.IntN(20) == 0 {
				src = pick("-", "host", "007", "7", "x9")
			}
			bytes := fmt.Sprint(rng.IntN(5))
			if rng.IntN(30) == 0 {
				bytes = "-"
			}
			evs = append(evs, flowEvent(i, src, pick("10.9.0.1", "10.9.0.10", "-", "10.9.0.2"), pick("22", "80", "080", "443", "-"), bytes))
		}
		queries := []string{
			"stats sum(bytes) as s by srcAddr, dstAddr | sort s desc",
			"stats sum(bytes) as s by srcAddr, dstAddr | sort s asc",
			"stats count(*) as c, min(bytes) as lo by dstPort, srcAddr | sort lo desc, c asc",
			"stats count(*) as c by srcAddr | sort srcAddr desc",
			"stats count(*) as c by srcAddr, dstPort | stats sum(c) as s, count(*) as k by srcAddr | sort k desc",
			"stats avg(bytes) as a by srcAddr | fields a * 2 as twice | sort a",
		}
		for _, q := range queries {
			full := runQuery(t, q, evs, Options{Workers: 1})
			checkSorted(t, q, full)
			// The same sort not right after the stats: rows in default
			// order, then the stable sort command.
			parts := strings.SplitN(q, "| sort", 2)
			unfolded := runQuery(t, parts[0]+"| filter 1 = 1 | sort"+parts[1], evs, Options{Workers: 1})
			if !slices.Equal(rowsOf(unfolded), rowsOf(full)) {
				t.Fatalf("%s: folded and unfolded sorts differ", q)
			}
			all := rowsOf(full)
			if len(all) < 20 {
				t.Fatalf("%s: only %d rows", q, len(all))
			}
			for _, n := range []int{1, 2, 3, 10, len(all) / 2, len(all) - 1, len(all), len(all) + 1} {
				for _, w := range []int{1, 2, 3} {
					got := rowsOf(runQuery(t, fmt.Sprintf("%s | limit %d", q, n), evs, Options{Workers: w}))
					if want := all[:min(n, len(all))]; !slices.Equal(got, want) {
						t.Fatalf("%s | limit %d (workers %d):\n got %q\nwant %q", q, n, w, got, want)
					}
				}
			}
		}
	})
}

// TestDefaultOrderTopN: a stats without a sort gives its rows in the
// default order ([Choice]); with a limit or the row cap after it the
// engine keeps only the first rows with a heap instead of finishing every
// group, and must give the same rows as the full result cut.
func TestDefaultOrderTopN(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	var evs []Event
	for i := range 4000 {
		src := fmt.Sprintf("10.0.%d.%d", rng.IntN(5), rng.IntN(60))
		if rng.IntN(25) == 0 {
			src = []string{"-", "host", "007", "7"}[rng.IntN(4)]
		}
		evs = append(evs, flowEvent(i, src, fmt.Sprintf("10.9.0.%d", rng.IntN(3)), []string{"22", "80", "080", "-"}[rng.IntN(4)], fmt.Sprint(rng.IntN(9))))
	}
	for _, tc := range []struct{ q, by string }{
		{"stats sum(bytes) as s by srcAddr, dstAddr", "srcAddr,dstAddr"},
		{"stats count(*) as c by dstPort, srcAddr | fields c * 2 as d", "dstPort,srcAddr"},
		{"stats count(*) as c by srcAddr, dstPort | stats sum(c) as s by dstPort, srcAddr", "dstPort,srcAddr"},
	} {
		full := runQuery(t, tc.q, evs, Options{Workers: 1})
		all := rowsOf(full)
		if len(all) < 100 {
			t.Fatalf("%s: only %d rows", tc.q, len(all))
		}
		by := strings.Split(tc.by, ",")
		for i := 1; i < len(full.Rows); i++ {
			c := 0
			for _, col := range by {
				if c = sortCompare(fieldVal(full.Rows[i-1], col), fieldVal(full.Rows[i], col), false); c != 0 {
					break
				}
			}
			if c > 0 {
				t.Fatalf("%s: row %d %v before row %d %v", tc.q, i-1, full.Rows[i-1], i, full.Rows[i])
			}
		}
		for _, n := range []int{1, 7, len(all) / 3, len(all) - 1, len(all) + 1} {
			want := all[:min(n, len(all))]
			for _, w := range []int{1, 2, 3} {
				if got := rowsOf(runQuery(t, fmt.Sprintf("%s | limit %d", tc.q, n), evs, Options{Workers: w})); !slices.Equal(got, want) {
					t.Fatalf("%s | limit %d (workers %d):\n got %.200q\nwant %.200q", tc.q, n, w, got, want)
				}
				if got := rowsOf(runQuery(t, tc.q, evs, Options{Workers: w, Limit: n})); !slices.Equal(got, want) {
					t.Fatalf("%s with row cap %d (workers %d):\n got %.200q\nwant %.200q", tc.q, n, w, got, want)
				}
			}
		}
	}
}

func fieldVal(row []Field, col string) Value {
	for _, f := range row {
		if f.Field == col {
			return strVal(f.Value)
		}
	}
	return Value{}
}

// checkSorted verifies, with the Value comparator of the sort command (not
// the precomputed keys), that rows are in the order of the query's sort,
// then of its group keys.
func checkSorted(t *testing.T, q string, res *Result) {
	t.Helper()
	var sortCols []string
	var desc []bool
	for k := range strings.SplitSeq(strings.SplitN(q, "| sort ", 2)[1], ",") {
		f := strings.Fields(k)
		sortCols = append(sortCols, f[0])
		desc = append(desc, len(f) == 1 || f[1] == "desc")
	}
	var byCols []string
	last := q[strings.LastIndex(q, "stats "):]
	if i := strings.Index(last, " by "); i >= 0 {
		for k := range strings.SplitSeq(strings.SplitN(last[i+4:], "|", 2)[0], ",") {
			byCols = append(byCols, strings.TrimSpace(k))
		}
	}
	val := func(row []Field, col string) Value {
		for _, f := range row {
			if f.Field == col {
				return strVal(f.Value)
			}
		}
		return Value{}
	}
	for i := 1; i < len(res.Rows); i++ {
		a, b := res.Rows[i-1], res.Rows[i]
		c := 0
		for k, col := range sortCols {
			if c = sortCompare(val(a, col), val(b, col), desc[k]); c != 0 {
				break
			}
		}
		for _, col := range byCols {
			if c != 0 {
				break
			}
			c = sortCompare(val(a, col), val(b, col), false)
		}
		if c > 0 {
			t.Fatalf("%s: row %d %v before row %d %v", q, i-1, a, i, b)
		}
	}
}

// TestFlatAggregates checks count, sum, avg, min and max kept in a table's
// float slice (every aggregate flat) against hand-computed values, and
// against the same aggregates kept as objects (a count_distinct beside them
// forces that), across worker counts so that records cross partitions.
func TestFlatAggregates(t *testing.T) {
	// A: bytes 10, x (text: counted by count(bytes), not a number), - (null), 5.
	// B: only - : every aggregate but the counts is null.
	evs := []Event{
		flowEvent(0, "A", "z", "1", "10"), flowEvent(1, "A", "z", "1", "x"), flowEvent(2, "A", "z", "1", "-"),
		flowEvent(3, "A", "z", "1", "5"), flowEvent(4, "B", "z", "1", "-"),
	}
	flat := "stats count(*) as c, count(bytes) as cb, sum(bytes) as s, avg(bytes) as a, min(bytes) as lo, max(bytes) as hi by srcAddr"
	for _, w := range []int{1, 2, 3} {
		checkRows(t, flat, runQuery(t, flat, evs, Options{Workers: w}), []string{
			"srcAddr=A c=4 cb=3 s=15 a=7.5 lo=5 hi=10", "srcAddr=B c=1 cb=0"})
		objs := strings.Replace(flat, " by ", ", count_distinct(bytes) as d by ", 1)
		checkRows(t, objs, runQuery(t, objs, evs, Options{Workers: w}), []string{
			"srcAddr=A c=4 cb=3 s=15 a=7.5 lo=5 hi=10 d=3", "srcAddr=B c=1 cb=0 d=0"})
	}
	// Many groups over several workers: both layouts agree row for row.
	many := manyGroupsData()[:50000]
	q := "stats count(*) as c, sum(bytes) as s, avg(packets) as a, min(srcPort) as lo, max(srcPort) as hi by srcAddr, dstAddr | sort s desc | limit 50"
	want := rowsOf(runQuery(t, q, many, Options{Workers: 1}))
	for _, w := range []int{2, 3} {
		if got := rowsOf(runQuery(t, q, many, Options{Workers: w})); !slices.Equal(got, want) {
			t.Errorf("workers %d:\n got %q\nwant %q", w, got, want)
		}
	}
	objs := rowsOf(runQuery(t, strings.Replace(q, " by ", ", count_distinct(action) as d by ", 1), many, Options{Workers: 2}))
	for i := range objs {
		objs[i] = strings.TrimSuffix(objs[i], " d=1")
	}
	if !slices.Equal(objs, want) {
		t.Errorf("object states:\n got %q\nwant %q", objs, want)
	}
}

// FuzzNatKey: the precomputed sort key orders any two values exactly as
// the value comparator of the sort command does.
func FuzzNatKey(f *testing.F) {
	for _, s := range [][2]string{{"10.0.0.2", "10.0.0.10"}, {"a1", "a01"}, {"1e3", "1000"}, {"", "-"}, {"ab1", "ab!"}, {"é1", "e1"}, {"\xff", "9"}, {"007", "7"}} {
		f.Add(s[0], s[1], 1.5, false)
	}
	f.Fuzz(func(t *testing.T, a, b string, n float64, desc bool) {
		vals := []Value{strVal(a), strVal(b), numVal(n), {}, boolVal(n > 0), timeVal(int64(n))}
		for _, x := range vals {
			for _, y := range vals {
				kx, ky := natKeyOf(x), natKeyOf(y)
				if got, want := kx.cmp(&ky, desc), sortCompare(x, y, desc); got != want {
					t.Fatalf("cmp(%#v, %#v, desc=%v) = %d, sortCompare = %d", x, y, desc, got, want)
				}
			}
		}
	})
}

// FuzzGroupKey: decodeKeys gives back exactly the values appendKey encoded.
func FuzzGroupKey(f *testing.F) {
	f.Add("10.0.0.1", "", 443.0, uint8(0x1b))
	f.Add(strings.Repeat("x", 200), "\x80\x00", -0.0, uint8(0xff))
	f.Fuzz(func(t *testing.T, a, b string, n float64, kinds uint8) {
		pick := func(k uint8) Value {
			switch k % 5 {
			case 0:
				return strVal(a)
			case 1:
				return strVal(b)
			case 2:
				return Value{K: Number, N: n}
			case 3:
				return Value{K: Time, N: n}
			}
			return Value{}
		}
		vals := []Value{pick(kinds), pick(kinds >> 2), pick(kinds >> 4), pick(kinds >> 6)}
		var id []byte
		for _, v := range vals {
			id = appendKey(id, v)
		}
		got := decodeKeys(nil, string(id))
		if len(got) != len(vals) {
			t.Fatalf("%d values back, want %d", len(got), len(vals))
		}
		for i := range vals {
			if got[i].K != vals[i].K || got[i].S != vals[i].S || math.Float64bits(got[i].N) != math.Float64bits(vals[i].N) {
				t.Fatalf("value %d: got %#v, want %#v", i, got[i], vals[i])
			}
		}
	})
}

// TestWorkersAgree: workers sharing the groups out by partition give the
// rows one worker gives, for every aggregate whose result does not depend
// on the order records arrive in (earliest and latest break timestamp ties
// by arrival, and stddev may round differently in another order).
func TestWorkersAgree(t *testing.T) {
	evs := manyGroupsData()[:30000]
	for _, q := range []string{
		"stats count(*) as c, count_distinct(dstPort) as d, sum(bytes) as s, avg(bytes) as a, min(bytes) as lo, max(bytes) as hi by srcAddr",
		"stats pct(bytes, 90) as p, sortsFirst(dstAddr) as f, sortsLast(dstAddr) as l by srcAddr | sort p desc | limit 40",
		"filter bytes > 100000 | stats count(*) as c by srcAddr, dstAddr | sort c desc, srcAddr asc | limit 25",
		"stats count(*) as c by bin(1h) as h, interfaceId",
		"stats sum(bytes) as s",
	} {
		want := rowsOf(runQuery(t, q, evs, Options{Workers: 1}))
		if len(want) == 0 {
			t.Fatalf("%s: no rows", q)
		}
		for _, w := range []int{2, 3, 4} {
			if got := rowsOf(runQuery(t, q, evs, Options{Workers: w})); !slices.Equal(got, want) {
				t.Errorf("%s: workers %d differ from 1:\n got %.300q\nwant %.300q", q, w, got, want)
			}
		}
	}
}

// TestBoundedRecords: a query that only sorts, dedups, then limits (or
// meets the row cap) keeps a bounded heap of records (and the first record
// of each dedup key) instead of materializing every one; it must give
// exactly the rows of the same query made unbounded (its sort written
// twice, which sorts the same, stably, but is not bounded), in one source
// or in parts scanned newest part first, with ties on the sort keys.
func TestBoundedRecords(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	var evs []Event
	for i := range 3000 {
		ev := flowEvent(i, fmt.Sprintf("10.0.%d.%d", rng.IntN(3), rng.IntN(20)), "10.9.0.1", []string{"22", "80", "443", "-"}[rng.IntN(4)], fmt.Sprint(rng.IntN(40)))
		ev.Timestamp = 1700000000000 + int64(rng.IntN(500))*1000 // many equal timestamps
		ev.IngestionTime = ev.Timestamp + int64(rng.IntN(3))
		evs = append(evs, ev)
	}
	parts := func(k int) []Source {
		var ps []Source
		for i := range k {
			ps = append(ps, EventsSource(evs[i*len(evs)/k:(i+1)*len(evs)/k]))
		}
		return ps
	}
	run := func(q string, p []Source, opt Options) []string {
		pq, err := Parse(q)
		if err != nil {
			t.Fatal(err)
		}
		opt.AccountID = testAccount
		res, err := pq.RunParts(p, opt)
		if err != nil {
			t.Fatal(err)
		}
		return rowsOf(res)
	}
	for _, c := range []struct{ stream, sort, rest string }{
		{"fields srcAddr, bytes", "sort bytes desc", "limit %d"},
		{"fields srcAddr, bytes, dstPort", "sort srcAddr asc, bytes desc", "limit %d | fields srcAddr, bytes, dstPort"},
		{"fields @timestamp, srcAddr", "sort @timestamp desc", "limit %d"},
		{"fields @timestamp, srcAddr", "sort @timestamp asc", "limit %d"},
		{"filter bytes > 10", "sort dstPort", "limit %d | fields srcAddr, dstPort"},
		{"fields srcAddr, bytes", "", "limit %d | sort bytes asc"},
		{"fields @timestamp, bytes * 2 as b2", "sort b2 desc", "display b2 | limit %d"},
		// dedup keeps the first record of each key; a null dedup field (dstPort "-") keeps every one.
		{"fields srcAddr, dstPort", "", "dedup srcAddr | limit %d"},
		{"fields bytes, dstPort", "sort bytes desc", "dedup dstPort | limit %d"},
		{"fields srcAddr, dstPort, bytes", "sort bytes asc", "dedup srcAddr, dstPort | limit %d"},
		{"fields srcAddr", "", "limit %d | dedup srcAddr"},
	} {
		sort := c.sort
		if sort == "" {
			sort = "sort @timestamp desc" // the default order, for the reference
		}
		join := func(parts ...string) string {
			var q []string
			for _, p := range parts {
				if p != "" {
					q = append(q, p)
				}
			}
			return strings.Join(q, " | ")
		}
		for _, n := range []int{1, 7, 100, 2999, 5000} {
			rest := fmt.Sprintf(c.rest, n)
			q := join(c.stream, c.sort, rest)
			want := run(join(c.stream, sort, sort, rest), parts(1), Options{})
			if len(want) == 0 {
				t.Fatalf("%s: no rows", q)
			}
			for _, k := range []int{1, 4} {
				if got := run(q, parts(k), Options{}); !slices.Equal(got, want) {
					t.Fatalf("%s over %d parts:\n got %.300q\nwant %.300q", q, k, got, want)
				}
			}
		}
		// The row cap bounds the same way as a limit.
		rest := strings.ReplaceAll(strings.ReplaceAll(c.rest, "limit %d | ", ""), " | limit %d", "")
		rest = strings.ReplaceAll(rest, "limit %d", "")
		want := run(join(c.stream, sort, sort, rest), parts(1), Options{Limit: 9})
		if got := run(join(c.stream, c.sort, rest), parts(3), Options{Limit: 9}); !slices.Equal(got, want) {
			t.Fatalf("%s with row cap 9:\n got %q\nwant %q", join(c.stream, c.sort, rest), got, want)
		}
	}
}
