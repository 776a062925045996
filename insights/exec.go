package insights

import (
	"encoding/base64"
	"encoding/binary"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
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

type group struct {
	keys   []Value
	states []aggState
}

// worker runs the per-record commands of the first phase and either
// aggregates (first stats) or materializes rows.
type worker struct {
	x       *runCtx
	r       *record
	stream  []*cop
	st      *cstats
	groups  map[string]*group
	keybuf  []byte
	keyvals []Value
	rows    []*tableRow
	keep    int // when > 0, only the keep newest rows can reach the output
	matched int64
}

func (q *Query) newWorker(x *runCtx) *worker {
	ops := q.compile(x)[0]
	w := &worker{x: x, r: newRecord(x, q.phases[0].s)}
	for _, op := range ops {
		if op.kind == "stats" {
			w.st = op.st
			w.groups = map[string]*group{}
			w.keyvals = make([]Value, len(op.st.by))
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
	if w.st != nil {
		w.aggregate(r)
		return
	}
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

// appendKey encodes a group-key value unambiguously (kind, then length or
// fixed width), so keys can be map keys without allocating per event.
func appendKey(b []byte, v Value) []byte {
	b = append(b, byte(v.K))
	switch v.K {
	case String:
		b = binary.AppendUvarint(b, uint64(len(v.S)))
		b = append(b, v.S...)
	case Number, Time, Bool:
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v.N))
	}
	return b
}

func (w *worker) aggregate(r *record) {
	st := w.st
	b := w.keybuf[:0]
	for i, n := range st.by {
		v := n.eval(r)
		w.keyvals[i] = v
		b = appendKey(b, v)
	}
	w.keybuf = b
	g := w.groups[string(b)]
	if g == nil {
		g = newGroup(st, w.keyvals)
		w.groups[string(b)] = g
	}
	for i := range st.aggs {
		a := &st.aggs[i]
		var v Value
		if a.arg != nil {
			v = a.arg.eval(r)
		}
		g.states[i].add(v, r.ts, r.ing)
	}
}

func newGroup(st *cstats, keys []Value) *group {
	g := &group{keys: make([]Value, len(keys)), states: make([]aggState, len(st.aggs))}
	for i, k := range keys {
		g.keys[i] = k.clone()
	}
	for i := range st.aggs {
		g.states[i] = st.aggs[i].newState()
	}
	return g
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
	if w0.st != nil && workers > 1 {
		err = q.runParallel(src, w0, workers, &x, &stats)
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
	if w0.st != nil {
		rows = finishStats(w0.st, w0.groups, &x)
		ph, rest = 1, rest[1:]
	} else {
		rows = w0.rows
		sortNewestFirst(rows)
	}
	tr := newRecord(&x, q.phases[ph].s)
	tr.ev = nil
	for _, op := range rest {
		switch op.kind {
		case "stats":
			groups := map[string]*group{}
			var kb []byte
			keys := make([]Value, len(op.st.by))
			for _, row := range rows {
				tr.vals, tr.ts, tr.ing = row.vals, row.ts, row.ing
				kb = kb[:0]
				for i, n := range op.st.by {
					keys[i] = n.eval(tr)
					kb = appendKey(kb, keys[i])
				}
				g := groups[string(kb)]
				if g == nil {
					g = newGroup(op.st, keys)
					groups[string(kb)] = g
				}
				for i := range op.st.aggs {
					var v Value
					if a := op.st.aggs[i].arg; a != nil {
						v = a.eval(tr)
					}
					g.states[i].add(v, row.ts, row.ing)
				}
			}
			rows = finishStats(op.st, groups, &x)
			ph++
			tr = newRecord(&x, q.phases[ph].s)
			tr.ev = nil
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
			keys := make([][]Value, len(rows))
			idx := make([]int, len(rows))
			for i, row := range rows {
				tr.vals, tr.ts, tr.ing = row.vals, row.ts, row.ing
				keys[i] = make([]Value, len(op.keys))
				for k, key := range op.keys {
					keys[i][k] = key.n.eval(tr)
				}
				idx[i] = i
			}
			slices.SortStableFunc(idx, func(a, b int) int {
				for k, key := range op.keys {
					if c := sortCompare(keys[a][k], keys[b][k], key.desc); c != 0 {
						return c
					}
				}
				return 0
			})
			sorted := make([]*tableRow, len(rows))
			for i, j := range idx {
				sorted[i] = rows[j]
			}
			rows = sorted
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
func (q *Query) runParallel(src Source, w0 *worker, n int, x *runCtx, stats *Statistics) error {
	ws := []*worker{w0}
	for i := 1; i < n; i++ {
		xi := *x
		ws = append(ws, q.newWorker(&xi))
	}
	work := make(chan *batch, 2*n)
	free := make(chan *batch, 3*n)
	var wg sync.WaitGroup
	for _, w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range work {
				for i := range b.evs {
					w.process(&b.evs[i], 0)
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
		for k, g := range w.groups {
			g0 := w0.groups[k]
			if g0 == nil {
				w0.groups[k] = g
				continue
			}
			for i, s := range g.states {
				g0.states[i].merge(s)
			}
		}
	}
	return err
}

// finishStats turns groups into rows, in ascending natural order of their
// keys with nulls last (A22), dropping rows with nothing but nulls (A27).
func finishStats(st *cstats, groups map[string]*group, x *runCtx) []*tableRow {
	if len(st.by) == 0 && len(groups) == 0 {
		groups[""] = newGroup(st, nil) // stats without by always has its one group
	}
	list := make([]*group, 0, len(groups))
	for _, g := range groups {
		list = append(list, g)
	}
	slices.SortFunc(list, func(a, b *group) int {
		for i := range a.keys {
			if c := sortCompare(a.keys[i], b.keys[i], false); c != 0 {
				return c
			}
		}
		return 0
	})
	r := &record{x: x}
	rows := make([]*tableRow, 0, len(list))
	for _, g := range list {
		row := &tableRow{vals: make([]Value, len(st.next.names))}
		nonNull := false
		for i, k := range g.keys {
			row.vals[st.byOut[i]] = k
			nonNull = nonNull || k.K != Null
		}
		r.aggs = r.aggs[:0]
		for _, s := range g.states {
			r.aggs = append(r.aggs, s.result())
		}
		for i, n := range st.items {
			v := n.eval(r)
			row.vals[st.itemOut[i]] = v
			nonNull = nonNull || v.K != Null
		}
		if nonNull {
			rows = append(rows, row)
		}
	}
	return rows
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
