package insights

import (
	"cmp"
	"encoding/base64"
	"errors"
	"hash/maphash"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options are the StartQuery parameters that are not the query itself.
type Options struct {
	AccountID string    // account of @log (<account>:<group>); required: the caller's configuration, never guessed here
	StartMs   int64     // queryStartTime()
	EndMs     int64     // queryEndTime()
	Now       time.Time // now(); default time.Now()
	Limit     int       // StartQuery limit: the row cap; default 10000, at most 100000
	Workers   int       // goroutines aggregating a stats query; default GOMAXPROCS
	// Events is an upper bound on the events the source gives, when known
	// (0 if not): a first stats then sizes its group index once instead of
	// growing it, which costs more than the lookups with millions of groups.
	Events int64
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
	rows    []*tableRow
	matched int64

	// When keep > 0, only the first keep records in the order of srt (or,
	// without srt, the default newest-first order) can reach the output:
	// rows is then a max-heap of them whose root is the last, sortKeys
	// their srt keys, and a record that would come after the root is never
	// materialized.
	keep     int
	srt      *cop
	sortKeys [][]natKey
	desc     []bool
	cand     []natKey
	keyBuf   []byte
	// With a dedup before the limit, a record with every dedup field set
	// can only be output if it is the first of its dedup key: firsts holds
	// that record per key (records with a null dedup field go to rows).
	dedup  *cop
	firsts map[string]*firstRow
	dkey   []byte

	// A first stats (see route.go):
	st    *cstats
	id    int         // the worker's partition
	table *groupTable // the groups of partition id
	seed  maphash.Seed
	key   keyer
	out   []*outbox // records bound for each partition
	rt    *router
	sink  uint64 // keeps the cache-warming loads of apply

	scanned, scannedBytes int64     // when the worker scans parts itself
	scanning              bool      // inside a part's scan: send holds rather than waits
	held                  []heldBox // outboxes held until the part ends, in order
	heldFor               []int     // how many of them go to each worker
	_                     cacheLinePad
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

// pass loads ev into the worker's record and runs the per-record commands
// over it; false means one of them dropped it.
func (w *worker) pass(ev *Event) bool {
	r := w.r
	r.reset(ev)
	r.ts, r.ing = ev.Timestamp, ev.IngestionTime
	for _, op := range w.stream {
		if !op.apply(r) {
			return false
		}
	}
	w.matched++
	return true
}

func (w *worker) process(ev *Event, ord int64) {
	if !w.pass(ev) {
		return
	}
	r := w.r
	var first *firstRow // the kept first of the record's dedup key
	keyed := false
	if w.keep > 0 {
		if w.srt != nil {
			w.keyBuf, w.cand = w.keyBuf[:0], w.cand[:0]
			for _, k := range w.srt.keys {
				w.cand = append(w.cand, natKeyIn(&w.keyBuf, k.n.eval(r)))
			}
		}
		if w.dedup != nil {
			w.dkey, keyed = w.dkey[:0], true
			for _, n := range w.dedup.dedup {
				v := n.eval(r)
				if v.K == Null {
					keyed = false // a null dedup field always keeps the record
					break
				}
				w.dkey = appendKey(w.dkey, v)
			}
			if keyed {
				first = w.firsts[string(w.dkey)]
				if first != nil && cmpOrder(w.desc, w.cand, ev.Timestamp, ev.IngestionTime, ord, first.keys, first.row) >= 0 {
					return // not the first of its key
				}
			}
		}
		if !keyed && len(w.rows) == w.keep && w.cmpKept(w.cand, ev.Timestamp, ev.IngestionTime, ord, 0) >= 0 {
			return // after every kept record
		}
	}
	row := &tableRow{vals: make([]Value, len(r.vals)), ts: ev.Timestamp, ing: ev.IngestionTime, ord: ord, group: ev.Group, stream: ev.Stream}
	for i := range row.vals {
		row.vals[i] = r.get(i).clone()
	}
	if w.keep == 0 {
		w.rows = append(w.rows, row)
		return
	}
	keys := own(w.cand)
	if keyed {
		if first == nil {
			w.firsts[string(w.dkey)] = &firstRow{row, keys}
		} else {
			first.row, first.keys = row, keys
		}
		return
	}
	if len(w.rows) < w.keep {
		w.rows, w.sortKeys = append(w.rows, row), append(w.sortKeys, keys)
		for i := len(w.rows) - 1; i > 0; {
			p := (i - 1) / 2
			if w.cmpRows(p, i) >= 0 {
				break
			}
			w.swapRows(p, i)
			i = p
		}
		return
	}
	w.rows[0], w.sortKeys[0] = row, keys
	for i := 0; ; {
		big, l := i, 2*i+1
		if l < len(w.rows) && w.cmpRows(l, big) > 0 {
			big = l
		}
		if l+1 < len(w.rows) && w.cmpRows(l+1, big) > 0 {
			big = l + 1
		}
		if big == i {
			break
		}
		w.swapRows(i, big)
		i = big
	}
}

type firstRow struct {
	row  *tableRow
	keys []natKey
}

// keptRows is what a bounded worker kept, in no order.
func (w *worker) keptRows() []*tableRow {
	rows := w.rows
	for _, f := range w.firsts {
		rows = append(rows, f.row)
	}
	return rows
}

// cmpKept compares a record (srt keys, time, ingestion, scan position) with
// kept row i in output order.
func (w *worker) cmpKept(keys []natKey, ts, ing, ord int64, i int) int {
	return cmpOrder(w.desc, keys, ts, ing, ord, w.sortKeys[i], w.rows[i])
}

// cmpOrder compares a record with a row in output order: the sort keys,
// then newest first ([Choice]).
func cmpOrder(desc []bool, keys []natKey, ts, ing, ord int64, rowKeys []natKey, row *tableRow) int {
	if c := cmpKeys(keys, rowKeys, desc); c != 0 {
		return c
	}
	if c := cmp.Compare(row.ts, ts); c != 0 {
		return c
	}
	if c := cmp.Compare(row.ing, ing); c != 0 {
		return c
	}
	return cmp.Compare(row.ord, ord)
}

func (w *worker) cmpRows(i, j int) int {
	r := w.rows[i]
	return w.cmpKept(w.sortKeys[i], r.ts, r.ing, r.ord, j)
}

func (w *worker) swapRows(i, j int) {
	w.rows[i], w.rows[j] = w.rows[j], w.rows[i]
	w.sortKeys[i], w.sortKeys[j] = w.sortKeys[j], w.sortKeys[i]
}

// sortNewestFirst is the order records enter the table stage: @timestamp
// descending, later ingestion first, then later in the scan first
// ([Choice]; docs/aws-behaviour.md, "Logs Insights").
func sortNewestFirst(rows []*tableRow) {
	slices.SortFunc(rows, func(a, b *tableRow) int {
		if c := cmp.Compare(b.ts, a.ts); c != 0 {
			return c
		}
		if c := cmp.Compare(b.ing, a.ing); c != 0 {
			return c
		}
		return cmp.Compare(b.ord, a.ord)
	})
}

// bounded says how many records can reach the output, and in which order,
// when the rest of the query only sorts first, dedups, then limits,
// computes columns or re-sorts or dedups what the limit kept: the first
// keep records in the order of srt (nil: the default order), among the
// first of each key of dedup; keep 0 means every record may matter.
func bounded(rest []*cop, cap int) (keep int, srt, dedup *cop) {
	keep = cap
	limited := false
	for i, op := range rest {
		switch op.kind {
		case "fields", "display", "parse", "unmask": // one row out for each row in
		case "limit":
			keep, limited = min(keep, op.limit), true
		case "sort":
			switch {
			case i == 0:
				srt = op
			case !limited: // a second sort before any limit decides the order
				return 0, nil, nil
			}
		case "dedup":
			switch {
			case limited: // dedups what the limit kept
			case dedup == nil && (i == 0 || i == 1 && srt != nil):
				dedup = op
			default:
				return 0, nil, nil
			}
		default:
			return 0, nil, nil
		}
	}
	return keep, srt, dedup
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
	return q.RunParts([]Source{src}, opt)
}

// RunParts executes the query over the events of parts, in that order, as
// if they were one source. A stats query has its workers scan parts
// concurrently, each its own, so that no goroutine spends its core copying
// events to the others: parts must be safe to run at the same time. A
// part may hold, while it calls fn, what another part needs to begin (a
// store's read transaction that a waiting writer makes newer ones wait
// behind): a worker never waits for another inside a part.
func (q *Query) RunParts(parts []Source, opt Options) (*Result, error) {
	if len(parts) == 0 {
		parts = []Source{EventsSource(nil)}
	}
	if opt.AccountID == "" {
		return nil, errors.New("insights: Options.AccountID is required (it names @log)")
	}
	x := runCtx{account: opt.AccountID, now: opt.Now, startMs: opt.StartMs, endMs: opt.EndMs}
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
		if len(q.phases) == 1 {
			w0.keep, w0.srt, w0.dedup = bounded(q.compile(&x)[0][len(w0.stream):], limit)
			w0.firsts = map[string]*firstRow{}
		}
		if w0.srt != nil {
			for _, k := range w0.srt.keys {
				w0.desc = append(w0.desc, k.desc)
			}
		}
	}
	var err error
	ws := []*worker{w0}
	if w0.st != nil {
		ws, err = q.runParallel(parts, w0, workers, opt.Events, &x, &stats)
	} else {
		// The scan position orders records that tie on everything else:
		// part number, then position in the part. With keep, the parts run
		// newest first, so that for the most common query (sort @timestamp
		// desc | limit N) the heap fills from the last part and the records
		// of the others are older than all it keeps: none is materialized.
		for n := range parts {
			p := n
			if w0.keep > 0 {
				p = len(parts) - 1 - n
			}
			ord := int64(p) << 40
			err = parts[p](func(ev *Event) error {
				stats.RecordsScanned++
				stats.BytesScanned += float64(len(ev.Message))
				w0.process(ev, ord)
				ord++
				return nil
			})
			if err != nil {
				break
			}
		}
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
		rows = w0.keptRows()
		sortNewestFirst(rows)
		tr = newRecord(&x, q.phases[ph].s)
		tr.ev = nil
	}
	for i := 0; i < len(rest); i++ {
		switch op := rest[i]; op.kind {
		case "stats":
			groups := newGroupTable(op.st, maphash.MakeSeed(), int64(len(rows)))
			k := &keyer{}
			args := make([]Value, len(op.st.aggs))
			for _, row := range rows {
				tr.vals, tr.ts, tr.ing = row.vals, row.ts, row.ing
				k.build(op.st.by, tr)
				for i := range op.st.aggs {
					args[i] = Value{}
					if a := op.st.aggs[i].arg; a != nil {
						args[i] = a.eval(tr)
					}
				}
				groups.updateVals(k.find(groups, k.hash(groups.seed)), args, row.ts, row.ing)
			}
			ph++
			tr = newRecord(&x, q.phases[ph].s)
			tr.ev = nil
			srt, n := foldSort(rest[i+1:], limit)
			if len(op.st.by) == 0 && groups.n == 0 {
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

// runParallel runs the first stats of the query on n workers, which share
// the groups out by hash partition (route.go). With one part, the calling
// goroutine scans it and hands the events in batches to the workers (even
// one worker runs beside the scan, in its own goroutine); with several, the
// workers take parts in turn and scan them themselves.
func (q *Query) runParallel(parts []Source, w0 *worker, n int, events int64, x *runCtx, stats *Statistics) ([]*worker, error) {
	ws := []*worker{w0}
	for i := 1; i < n; i++ {
		xi := *x
		ws = append(ws, q.newWorker(&xi))
	}
	seed := maphash.MakeSeed()
	rt := &router{inbox: make([]chan *outbox, n)}
	for i, w := range ws {
		rt.inbox[i] = make(chan *outbox, 4)
		w.id, w.rt, w.seed = i, rt, seed
		w.table = newGroupTable(w.st, seed, events/int64(n)+1)
		for range n {
			w.out = append(w.out, &outbox{})
		}
	}
	rt.senders.Add(n)
	go func() {
		rt.senders.Wait()
		for _, c := range rt.inbox {
			close(c)
		}
	}()
	var wg sync.WaitGroup
	var err error
	if len(parts) > 1 {
		var next atomic.Int64
		errs := make([]error, n)
		for i, w := range ws {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = w.scanParts(parts, &next)
			}()
		}
		wg.Wait()
		for _, w := range ws {
			stats.RecordsScanned += float64(w.scanned)
			stats.BytesScanned += float64(w.scannedBytes)
		}
		err = errors.Join(errs...)
	} else {
		err = feedBatches(parts[0], ws, &wg, stats)
	}
	for _, w := range ws[1:] {
		w0.matched += w.matched
	}
	return ws, err
}

// feedBatches scans src on the calling goroutine and hands the events to
// the workers in batches of copies.
func feedBatches(src Source, ws []*worker, wg *sync.WaitGroup, stats *Statistics) error {
	n := len(ws)
	work := make(chan *batch, 2*n)
	free := make(chan *batch, 3*n)
	done := func(b *batch) {
		select {
		case free <- b:
		default: // enough spare batches already
		}
	}
	for _, w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.run(work, done)
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
	return err
}

// finishFirstStats turns the workers' groups into rows, one goroutine per
// worker since each holds one partition of the groups. foldSort says the
// sort right after the stats is applied here, keeping its first n rows
// when n > 0.
func (q *Query) finishFirstStats(ws []*worker, x *runCtx, foldSort bool, n int) []*tableRow {
	w0 := ws[0]
	total := 0
	for _, w := range ws {
		total += w.table.n
	}
	if len(w0.st.by) == 0 && total == 0 {
		k := &keyer{}
		k.find(w0.table, k.hash(w0.table.seed)) // stats without by always has its one group
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
	out := make([][]statsRow, len(ws))
	var wg sync.WaitGroup
	for p, w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[p] = finisher().collect(w.table, n)
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
			continue // [Choice] an all-null stats row is dropped
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
