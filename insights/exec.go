package insights

import (
	"encoding/base64"
	"hash/maphash"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"
)

// Options are the StartQuery parameters that are not the query itself.
type Options struct {
	AccountID string    // account of @log (<account>:<group>); default 123456789012
	StartMs   int64     // queryStartTime()
	EndMs     int64     // queryEndTime()
	Now       time.Time // now(); default time.Now()
	Limit     int       // StartQuery limit: the row cap; default 10000, at most 100000
	Workers   int       // goroutines aggregating a stats query; default GOMAXPROCS
}

const (
	defaultRows = 10000
	maxRows     = 100000
)

// runCtx is what expressions may read besides the record; each worker has
// its own copy because of the @log cache.
type runCtx struct {
	account        string
	now            time.Time
	startMs, endMs int64
	lastGroup      string
	lastLog        string
}

func (x *runCtx) logName(group string) string {
	if group != x.lastGroup || x.lastLog == "" {
		x.lastGroup, x.lastLog = group, x.account+":"+group
	}
	return x.lastLog
}

// Field is one column of a result row.
type Field struct {
	Field string `json:"field"`
	Value string `json:"value"`
}

// Statistics are the counters of get-query-results (doubles on the wire).
type Statistics struct {
	RecordsMatched float64
	RecordsScanned float64
	BytesScanned   float64
}

// Result is the outcome of a query: rows of non-null fields in column order.
type Result struct {
	Columns    []string
	Rows       [][]Field
	Statistics Statistics
	Status     string // Complete
}

// tableRow is a materialized record or a stats output row.
type tableRow struct {
	vals          []Value
	ts, ing, ord  int64
	group, stream string
}

// worker runs the per-record commands of the first phase and either
// aggregates (first stats) or materializes rows.
type worker struct {
	x       *runCtx
	r       *record
	stream  []*cop
	st      *cstats
	parts   []*groupTable // hash partitions of the groups, one per worker
	seed    maphash.Seed
	pend    pending // records of the batch being aggregated
	rows    []*tableRow
	keep    int // when > 0, only the keep newest rows can reach the output
	matched int64
	sink    uint64 // keeps the cache-warming loads of aggregateBatch
}

func (q *Query) newWorker(x *runCtx) *worker {
	ops := q.compile(x)[0]
	w := &worker{x: x, r: newRecord(x, q.phases[0].s)}
	for _, op := range ops {
		if op.kind == "stats" {
			w.st = op.st
			break
		}
		if op.kind == "sort" || op.kind == "limit" || op.kind == "dedup" {
			break
		}
		w.stream = append(w.stream, op)
	}
	return w
}

func (w *worker) process(ev *Event, ord int64) {
	r := w.r
	r.reset(ev)
	r.ts, r.ing = ev.Timestamp, ev.IngestionTime
	for _, op := range w.stream {
		if !op.apply(r) {
			return
		}
	}
	w.matched++
	row := &tableRow{vals: make([]Value, len(r.vals)), ts: ev.Timestamp, ing: ev.IngestionTime, ord: ord, group: ev.Group, stream: ev.Stream}
	for i := range row.vals {
		row.vals[i] = r.get(i).clone()
	}
	w.rows = append(w.rows, row)
	if w.keep > 0 && len(w.rows) >= 2*w.keep+1024 {
		sortNewestFirst(w.rows)
		clear(w.rows[w.keep:])
		w.rows = w.rows[:w.keep]
	}
}

// sortNewestFirst is the order records enter the table stage: @timestamp
// descending, later ingestion first, then later in the scan first (A22).
func sortNewestFirst(rows []*tableRow) {
	slices.SortFunc(rows, func(a, b *tableRow) int {
		if c := cmpInt64(b.ts, a.ts); c != 0 {
			return c
		}
		if c := cmpInt64(b.ing, a.ing); c != 0 {
			return c
		}
		return cmpInt64(b.ord, a.ord)
	})
}

// keepNewest says how many of the newest records can reach the output when
// the rest of the query only limits, computes columns or re-sorts by
// @timestamp desc; 0 means every record may matter.
func (q *Query) keepNewest(rest []*cop, cap int) int {
	keep := cap
	for _, op := range rest {
		switch op.kind {
		case "fields", "display", "parse", "unmask":
		case "limit":
			keep = min(keep, op.limit)
		case "sort":
			f, ok := op.keys[0].n.(*fieldNode)
			_, reassigned := q.phases[0].s.assigned["@timestamp"]
			if len(op.keys) != 1 || !op.keys[0].desc || !ok || q.phases[0].s.names[f.i] != "@timestamp" || reassigned {
				return 0
			}
		default:
			return 0
		}
	}
	return keep
}

// pending holds the group keys and aggregate arguments of a batch of
// records, so that the table lookups of many records can overlap (see
// aggregateBatch).
type pending struct {
	keys    []byte
	ends    []int
	hashes  []uint64
	tables  []*groupTable
	args    []Value
	ts, ing []int64
}

// stageSize bounds the records whose table lines are fetched together, so
// that they stay in the core's cache until used.
const stageSize = 256

// aggregateBatch is aggregate for many events. With millions of groups
// every table lookup misses the cache three times (index slot, group, key
// bytes), and one at a time the core waits for each. So it first computes
// all keys and hashes, then touches the slots of the whole stage, then the
// groups they point to, then their keys and states: loads that do not
// depend on each other, which the core overlaps. Only then does it look up
// and update, finding the lines in cache.
func (w *worker) aggregateBatch(evs []Event) {
	st, r, p := w.st, w.r, &w.pend
	na := len(st.aggs)
	for len(evs) > 0 {
		stage := evs[:min(len(evs), stageSize)]
		evs = evs[len(stage):]
		p.keys, p.ends, p.hashes, p.tables = p.keys[:0], p.ends[:0], p.hashes[:0], p.tables[:0]
		p.args, p.ts, p.ing = p.args[:0], p.ts[:0], p.ing[:0]
	events:
		for i := range stage {
			ev := &stage[i]
			r.reset(ev)
			r.ts, r.ing = ev.Timestamp, ev.IngestionTime
			for _, op := range w.stream {
				if !op.apply(r) {
					continue events
				}
			}
			w.matched++
			start := len(p.keys)
			for _, n := range st.by {
				p.keys = appendKey(p.keys, n.eval(r))
			}
			p.ends = append(p.ends, len(p.keys))
			h := maphash.Bytes(w.seed, p.keys[start:])
			p.hashes = append(p.hashes, h)
			t := w.parts[0]
			if len(w.parts) > 1 {
				// High bits pick the partition; the table uses the low ones.
				t = w.parts[(h>>32)%uint64(len(w.parts))]
			}
			p.tables = append(p.tables, t)
			for k := range st.aggs {
				var v Value
				if a := st.aggs[k].arg; a != nil {
					v = a.eval(r) // may alias the message, which outlives the batch
				}
				p.args = append(p.args, v)
			}
			p.ts = append(p.ts, ev.Timestamp)
			p.ing = append(p.ing, ev.IngestionTime)
		}
		var sink uint64
		for i, h := range p.hashes {
			t := p.tables[i]
			sink += t.slots[int(h)&(len(t.slots)-1)]
		}
		for i, h := range p.hashes {
			sink += p.tables[i].touch(h)
		}
		w.sink += sink
		start := 0
		for i, h := range p.hashes {
			t := p.tables[i]
			key := p.keys[start:p.ends[i]]
			start = p.ends[i]
			id := unsafe.String(unsafe.SliceData(key), len(key)) // not kept: add copies it
			gi, slot := t.find(h, id)
			if gi < 0 {
				gi = t.add(h, slot, id)
			}
			t.updateVals(gi, p.args[i*na:(i+1)*na], p.ts[i], p.ing[i])
		}
	}
}

// partition makes the worker's group tables: n hash partitions chosen
// with seed, which every worker of a run shares so that a key lands in the
// same partition everywhere.
func (w *worker) partition(n int, seed maphash.Seed) {
	w.seed = seed
	w.parts = make([]*groupTable, n)
	for i := range w.parts {
		w.parts[i] = newGroupTable(w.st, seed)
	}
}

// apply runs a per-record command; false drops the record.
func (op *cop) apply(r *record) bool {
	switch op.kind {
	case "filter":
		return op.cond.eval(r).truthy()
	case "fields", "display":
		for _, a := range op.assign {
			r.set(a.slot, a.n.eval(r))
		}
	case "parse":
		op.parse(r)
	}
	return true
}

func (op *cop) parse(r *record) {
	v := op.src.eval(r)
	for _, o := range op.out {
		r.set(o, Value{})
	}
	if v.K == Null {
		return
	}
	s := v.str()
	if op.re != nil {
		m := op.re.FindStringSubmatchIndex(s)
		if m == nil {
			return
		}
		for i, o := range op.out {
			g := op.reIdx[i]
			if m[2*g] >= 0 {
				r.set(o, strVal(s[m[2*g]:m[2*g+1]]))
			}
		}
		return
	}
	// Glob: literals in order, each * non-greedy up to the next literal, a
	// trailing * takes the rest.
	lits := op.glob
	i := strings.Index(s, lits[0])
	if i < 0 {
		return
	}
	p := i + len(lits[0])
	vals := make([]Value, len(op.out))
	for k := range op.out {
		next := lits[k+1]
		if next == "" {
			if k == len(op.out)-1 {
				vals[k] = strVal(s[p:])
				p = len(s)
			} else {
				vals[k] = strVal("")
			}
			continue
		}
		j := strings.Index(s[p:], next)
		if j < 0 {
			return
		}
		vals[k] = strVal(s[p : p+j])
		p += j + len(next)
	}
	for k, o := range op.out {
		r.set(o, vals[k])
	}
}

type batch struct {
	evs   []Event
	offs  []int
	arena []byte
}

const batchSize = 1024

// Run executes the query over the events of src.
func (q *Query) Run(src Source, opt Options) (*Result, error) {
	x := runCtx{account: opt.AccountID, now: opt.Now, startMs: opt.StartMs, endMs: opt.EndMs}
	if x.account == "" {
		x.account = "123456789012"
	}
	if x.now.IsZero() {
		x.now = time.Now()
	}
	limit := opt.Limit
	if limit <= 0 {
		limit = defaultRows
	}
	limit = min(limit, maxRows)
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}

	var stats Statistics
	w0 := q.newWorker(&x)
	if w0.st == nil {
		w0.keep = q.keepNewest(q.compile(&x)[0][len(w0.stream):], limit)
		if len(q.phases) > 1 {
			w0.keep = 0
		}
	}
	var err error
	ws := []*worker{w0}
	if w0.st != nil {
		// Even one worker runs beside the scan, in its own goroutine.
		ws, err = q.runParallel(src, w0, workers, &x, &stats)
	} else {
		var ord int64
		err = src(func(ev *Event) error {
			stats.RecordsScanned++
			stats.BytesScanned += float64(len(ev.Message))
			w0.process(ev, ord)
			ord++
			return nil
		})
	}
	if err != nil {
		return nil, err
	}
	stats.RecordsMatched = float64(w0.matched)

	// Table stage: everything after the streamed prefix.
	ph := 0
	var rows []*tableRow
	ops := q.compile(&x)
	var rest []*cop
	rest = append(rest, ops[0][len(w0.stream):]...)
	for _, o := range ops[1:] {
		rest = append(rest, o...)
	}
	var tr *record
	if w0.st != nil {
		ph = 1
		tr = newRecord(&x, q.phases[ph].s)
		tr.ev = nil
		srt, n := foldSort(rest[1:], limit)
		rows = q.finishFirstStats(ws, &x, srt != nil, n)
		rest = rest[1:]
		if srt != nil {
			rest = rest[1:]
		}
	} else {
		rows = w0.rows
		sortNewestFirst(rows)
		tr = newRecord(&x, q.phases[ph].s)
		tr.ev = nil
	}
	for i := 0; i < len(rest); i++ {
		switch op := rest[i]; op.kind {
		case "stats":
			groups := newGroupTable(op.st, maphash.MakeSeed())
			k := &keyer{}
			for _, row := range rows {
				tr.vals, tr.ts, tr.ing = row.vals, row.ts, row.ing
				k.build(op.st.by, tr)
				groups.update(k.find(groups, k.hash(groups.seed)), tr)
			}
			ph++
			tr = newRecord(&x, q.phases[ph].s)
			tr.ev = nil
			srt, n := foldSort(rest[i+1:], limit)
			if len(op.st.by) == 0 && len(groups.groups) == 0 {
				k.find(groups, k.hash(groups.seed)) // stats without by always has its one group
			}
			f := &statsFinisher{st: op.st, srt: srt, tr: tr, x: &x}
			rows = f.combine([][]statsRow{f.collect(groups, n)}, n)
			if srt != nil {
				i++
			}
		case "filter", "fields", "display", "parse":
			kept := rows[:0]
			for _, row := range rows {
				tr.vals, tr.ts, tr.ing = row.vals, row.ts, row.ing
				if op.apply(tr) {
					kept = append(kept, row)
				}
			}
			rows = kept
		case "sort":
			rows = sortRows(rows, op, tr)
		case "limit":
			if len(rows) > op.limit {
				rows = rows[:op.limit]
			}
		case "dedup":
			seen := map[string]bool{}
			kept := rows[:0]
			var kb []byte
		rowLoop:
			for _, row := range rows {
				tr.vals, tr.ts, tr.ing = row.vals, row.ts, row.ing
				kb = kb[:0]
				for _, n := range op.dedup {
					v := n.eval(tr)
					if v.K == Null {
						kept = append(kept, row) // a null dedup field always keeps the row
						continue rowLoop
					}
					kb = appendKey(kb, v)
				}
				if !seen[string(kb)] {
					seen[string(kb)] = true
					kept = append(kept, row)
				}
			}
			rows = kept
		}
	}
	return q.result(rows, ph, limit, stats), nil
}

// runParallel spreads the events over workers in batches; each aggregates
// its share, and the partial groups merge at the end.
func (q *Query) runParallel(src Source, w0 *worker, n int, x *runCtx, stats *Statistics) ([]*worker, error) {
	ws := []*worker{w0}
	for i := 1; i < n; i++ {
		xi := *x
		ws = append(ws, q.newWorker(&xi))
	}
	seed := maphash.MakeSeed()
	for _, w := range ws {
		w.partition(n, seed)
	}
	work := make(chan *batch, 2*n)
	free := make(chan *batch, 3*n)
	var wg sync.WaitGroup
	for _, w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range work {
				if w.st != nil {
					w.aggregateBatch(b.evs)
				} else {
					for i := range b.evs {
						w.process(&b.evs[i], 0)
					}
				}
				select {
				case free <- b:
				default: // enough spare batches already
				}
			}
		}()
	}
	newBatch := func() *batch {
		select {
		case b := <-free:
			b.evs, b.offs, b.arena = b.evs[:0], b.offs[:0], b.arena[:0]
			return b
		default:
			return &batch{evs: make([]Event, 0, batchSize), offs: make([]int, 0, batchSize+1), arena: make([]byte, 0, 128*batchSize)}
		}
	}
	send := func(b *batch) {
		b.offs = append(b.offs, len(b.arena))
		for i := range b.evs {
			b.evs[i].Message = b.arena[b.offs[i]:b.offs[i+1]:b.offs[i+1]]
		}
		work <- b
	}
	cur := newBatch()
	err := src(func(ev *Event) error {
		stats.RecordsScanned++
		stats.BytesScanned += float64(len(ev.Message))
		cur.offs = append(cur.offs, len(cur.arena))
		cur.arena = append(cur.arena, ev.Message...)
		cur.evs = append(cur.evs, Event{Timestamp: ev.Timestamp, IngestionTime: ev.IngestionTime, Group: ev.Group, Stream: ev.Stream})
		if len(cur.evs) == batchSize {
			send(cur)
			cur = newBatch()
		}
		return nil
	})
	if len(cur.evs) > 0 {
		send(cur)
	}
	close(work)
	wg.Wait()
	for _, w := range ws[1:] {
		w0.matched += w.matched
	}
	return ws, err
}

// finishFirstStats merges the workers' groups and turns them into rows,
// one goroutine per hash partition: a partition's groups are in the same
// partition of every worker, so partitions merge and finish apart.
// foldSort says the sort right after the stats is applied here, keeping
// its first n rows when n > 0.
func (q *Query) finishFirstStats(ws []*worker, x *runCtx, foldSort bool, n int) []*tableRow {
	w0 := ws[0]
	total := 0
	for _, w := range ws {
		for _, t := range w.parts {
			total += len(t.groups)
		}
	}
	if len(w0.st.by) == 0 && total == 0 {
		k := &keyer{}
		k.find(w0.parts[0], k.hash(w0.parts[0].seed)) // stats without by always has its one group
	}
	statsAt := len(w0.stream)
	finisher := func() *statsFinisher {
		xi := *x
		ops := q.compile(&xi)
		f := &statsFinisher{st: ops[0][statsAt].st, x: &xi}
		if foldSort {
			f.srt = ops[1][0]
			f.tr = newRecord(&xi, q.phases[1].s)
			f.tr.ev = nil
		}
		return f
	}
	out := make([][]statsRow, len(w0.parts))
	var wg sync.WaitGroup
	for p := range w0.parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, w := range ws[1:] {
				w0.parts[p].reserve(w.parts[p])
				w0.parts[p].mergeFrom(w.parts[p])
			}
			out[p] = finisher().collect(w0.parts[p], n)
		}()
	}
	wg.Wait()
	return finisher().combine(out, n)
}

func (q *Query) result(rows []*tableRow, ph, limit int, stats Statistics) *Result {
	last := q.phases[len(q.phases)-1]
	res := &Result{Columns: last.cols, Statistics: stats, Status: "Complete", Rows: [][]Field{}}
	slots := make([]int, len(last.cols))
	for i, c := range last.cols {
		slots[i] = last.s.index[c]
	}
	// The row cap counts rows before all-null ones are dropped, as limit does.
	if len(rows) > limit {
		rows = rows[:limit]
	}
	for _, row := range rows {
		var out []Field
		for i, c := range last.cols {
			if v := row.vals[slots[i]]; v.K != Null {
				out = append(out, Field{c, v.str()})
			}
		}
		if len(out) == 0 {
			continue // A27
		}
		if ph == 0 {
			out = append(out, Field{"@ptr", ptr(row)})
		}
		res.Rows = append(res.Rows, out)
	}
	return res
}

// ptr is the opaque @ptr of a record: where it came from, so a client can
// tell records apart and find them again.
func ptr(r *tableRow) string {
	b := make([]byte, 0, 64)
	b = append(b, r.group...)
	b = append(b, 0)
	b = append(b, r.stream...)
	b = append(b, 0)
	b = strconv.AppendInt(b, r.ts, 10)
	b = append(b, 0)
	b = strconv.AppendInt(b, r.ing, 10)
	b = append(b, 0)
	b = strconv.AppendInt(b, r.ord, 10)
	return base64.RawURLEncoding.EncodeToString(b)
}
