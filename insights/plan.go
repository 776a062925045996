package insights

import (
	"regexp"
	"slices"
)

// schema maps the field names of one phase (the records before the first
// stats, or the rows after a stats) to slots of a row.
type schema struct {
	names    []string
	index    map[string]int
	loaders  []loader
	assigned map[string]int // names given values by fields, display, parse or stats
	order    []string       // assigned names in order of appearance
	statsOut map[string]int // columns made by the stats that starts the phase
}

func newSchema() *schema {
	return &schema{index: map[string]int{}, assigned: map[string]int{}, statsOut: map[string]int{}}
}

func nullLoader(*record) Value { return Value{} }

func (s *schema) add(name string, l loader) int {
	if i, ok := s.index[name]; ok {
		return i
	}
	s.index[name] = len(s.names)
	s.names = append(s.names, name)
	s.loaders = append(s.loaders, l)
	return len(s.names) - 1
}

func (s *schema) assign(name string, l loader) int {
	i := s.add(name, l)
	if _, ok := s.assigned[name]; !ok {
		s.assigned[name] = i
		s.order = append(s.order, name)
	}
	return i
}

func (s *schema) assignedList() []string { return s.order }

// phase is a run of commands over one schema; all but the last end with the
// stats command that produces the next phase's rows.
type phase struct {
	s    *schema
	cmds []*command
	cols []string // output columns if this phase is the last
}

// Query is a compiled Logs Insights query, safe for concurrent Runs.
type Query struct {
	src    string
	phases []*phase
}

// String returns the query text.
func (q *Query) String() string { return q.src }

// Columns are the output columns of the query, in order (without @ptr).
func (q *Query) Columns() []string { return q.phases[len(q.phases)-1].cols }

func walkIdents(e expr, fn func(*identExpr)) {
	switch e := e.(type) {
	case *identExpr:
		fn(e)
	case *unaryExpr:
		walkIdents(e.x, fn)
	case *binExpr:
		walkIdents(e.l, fn)
		walkIdents(e.r, fn)
	case *listExpr:
		for _, x := range e.items {
			walkIdents(x, fn)
		}
	case *callExpr:
		for _, x := range e.args {
			walkIdents(x, fn)
		}
	}
}

func plan(src string, cmds []*command) (*Query, error) {
	fail := func(c *command, format string, args ...any) {
		panic(newError(src, c.start, c.start+len(c.kind), format, args...))
	}
	nstats := 0
	for _, c := range cmds {
		if c.kind == "stats" {
			nstats++
		}
	}
	if nstats > 2 {
		var third *command
		n := 0
		for _, c := range cmds {
			if c.kind == "stats" {
				if n++; n == 3 {
					third = c
				}
			}
		}
		fail(third, "a query can have at most 2 stats commands")
	}
	seenStats := 0
	var dedup *command
	for _, c := range cmds {
		switch c.kind {
		case "stats":
			seenStats++
		case "sort", "limit", "dedup":
			if nstats == 2 && seenStats < 2 {
				fail(c, "%s is not allowed before the second stats", c.kind)
			}
		}
		if dedup != nil && c.kind != "limit" {
			fail(c, "only limit may follow dedup")
		}
		if c.kind == "dedup" {
			dedup = c
		}
	}

	q := &Query{src: src}
	ph := &phase{s: newSchema()}
	ph.s.add("@timestamp", loaderFor("@timestamp"))
	ph.s.add("@message", loaderFor("@message"))
	q.phases = append(q.phases, ph)
	first := true
	var statsCols []string
	for _, c := range cmds {
		ph.cmds = append(ph.cmds, c)
		if first {
			add := func(e expr) { walkIdents(e, func(id *identExpr) { ph.s.add(id.name, loaderFor(id.name)) }) }
			for _, it := range c.items {
				add(it.e)
			}
			for _, it := range c.by {
				add(it.e)
			}
			for _, k := range c.keys {
				add(k.e)
			}
			for _, e := range c.dedup {
				add(e)
			}
			if c.cond != nil {
				add(c.cond)
			}
			if c.field != nil {
				add(c.field)
			}
		}
		switch c.kind {
		case "fields", "display":
			for _, it := range c.items {
				ph.s.assign(it.name, nullLoader)
			}
		case "parse":
			for _, a := range c.aliases {
				ph.s.assign(a, nullLoader)
			}
		case "stats":
			first = false
			ph = &phase{s: newSchema()}
			statsCols = statsCols[:0]
			for _, it := range append(append([]item(nil), c.by...), c.items...) {
				ph.s.statsOut[it.name] = ph.s.assign(it.name, nullLoader)
				statsCols = append(statsCols, it.name)
			}
			q.phases = append(q.phases, ph)
		}
	}
	// Output columns of the last phase: display, else the stats columns,
	// fields and parse aliases, else @timestamp and @message ([Choice]).
	last := q.phases[len(q.phases)-1]
	var cols, display []string
	if len(q.phases) > 1 {
		cols = append(cols, statsCols...)
	}
	for _, c := range last.cmds {
		switch c.kind {
		case "fields":
			for _, it := range c.items {
				cols = appendNew(cols, it.name)
			}
		case "parse":
			for _, a := range c.aliases {
				cols = appendNew(cols, a)
			}
		case "display":
			display = display[:0]
			for _, it := range c.items {
				display = appendNew(display, it.name)
			}
		}
	}
	if display != nil {
		cols = display
	}
	if len(cols) == 0 {
		cols = []string{"@timestamp", "@message"} // [Choice]
	}
	last.cols = cols
	// Compile once now so that every compile error surfaces from Parse.
	q.compile(&runCtx{})
	return q, nil
}

func appendNew(l []string, s string) []string {
	if slices.Contains(l, s) {
		return l
	}
	return append(l, s)
}

// cop is a compiled command.
type cop struct {
	kind   string
	cond   node
	assign []assignment
	src    node
	glob   []string
	re     *regexp.Regexp
	out    []int // parse output slots
	reIdx  []int // regex group of each output
	keys   []ckey
	limit  int
	dedup  []node
	st     *cstats
}

type assignment struct {
	slot int
	n    node
}

type ckey struct {
	n    node
	desc bool
}

type cstats struct {
	by      []node
	aggs    []aggSpec
	items   []node
	next    *schema
	byOut   []int
	itemOut []int
}

// compile builds the evaluators of every phase for one worker.
func (q *Query) compile(x *runCtx) [][]*cop {
	out := make([][]*cop, len(q.phases))
	for pi, ph := range q.phases {
		c := &compiler{src: q.src, s: ph.s, afterStats: pi > 0}
		for _, cmd := range ph.cmds {
			op := &cop{kind: cmd.kind, limit: cmd.limit}
			switch cmd.kind {
			case "filter":
				op.cond = c.compile(cmd.cond)
			case "fields", "display":
				for _, it := range cmd.items {
					op.assign = append(op.assign, assignment{ph.s.assigned[it.name], c.compile(it.e)})
				}
			case "parse":
				op.src = c.compile(cmd.field)
				op.glob, op.re = cmd.glob, cmd.re
				for _, a := range cmd.aliases {
					op.out = append(op.out, ph.s.assigned[a])
				}
				if op.re != nil {
					for i, n := range op.re.SubexpNames() {
						if i > 0 && n != "" {
							op.reIdx = append(op.reIdx, i)
						}
					}
				}
			case "sort":
				for _, k := range cmd.keys {
					op.keys = append(op.keys, ckey{c.compile(k.e), k.desc})
				}
			case "dedup":
				for _, e := range cmd.dedup {
					op.dedup = append(op.dedup, c.compile(e))
				}
			case "stats":
				next := q.phases[pi+1].s
				st := &cstats{next: next}
				for _, it := range cmd.by {
					if _, ok := it.e.(*durExpr); ok {
						c.fail(it.e, "group by a period needs bin(), e.g. bin(%s)", q.src[it.e.(*durExpr).start:it.e.(*durExpr).end])
					}
					st.by = append(st.by, c.compile(it.e))
					st.byOut = append(st.byOut, next.assigned[it.name])
				}
				c.mode, c.aggs = modeStatsItem, nil
				for _, it := range cmd.items {
					n := c.compile(it.e)
					if len(c.aggs) == 0 {
						c.fail(it.e, "stats needs an aggregate function such as count(*), sum(f) or avg(f)")
					}
					st.items = append(st.items, n)
					st.itemOut = append(st.itemOut, next.assigned[it.name])
				}
				st.aggs = c.aggs
				c.mode, c.aggs = modeRow, nil
				op.st = st
			}
			out[pi] = append(out[pi], op)
		}
	}
	return out
}
