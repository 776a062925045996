package insights

import (
	"math"
	"regexp"
	"strings"
)

// node is a compiled expression. Nodes may keep scratch space, so each worker
// compiles its own.
type node interface{ eval(r *record) Value }

type (
	fieldNode  struct{ i int }
	constNode  struct{ v Value }
	aggRefNode struct{ i int }
	negNode    struct{ x node }
	notNode    struct{ x node }
	andNode    struct{ l, r node }
	orNode     struct{ l, r node }
	arithNode  struct {
		op   byte
		l, r node
	}
	cmpNode struct {
		op   string
		l, r node
	}
	likeNode struct {
		l, sub node
		re     *regexp.Regexp
		neg    bool
	}
	inNode struct {
		l     node
		items []node
		neg   bool
	}
	callNode struct {
		f    scalarFunc
		args []node
		buf  []Value
	}
	floorNode struct {
		t    node
		d    duration
		ceil bool
	}
	ifNode   struct{ c, t, f node }
	caseNode struct {
		conds, vals []node
		def         node
	}
	regexReplaceNode struct {
		s, repl node
		re      *regexp.Regexp
		pat     node
	}
	ctxNode struct{ f func(x *runCtx) Value }
)

func (n *fieldNode) eval(r *record) Value  { return r.get(n.i) }
func (n *constNode) eval(*record) Value    { return n.v }
func (n *aggRefNode) eval(r *record) Value { return r.aggs[n.i] }
func (n *ctxNode) eval(r *record) Value    { return n.f(r.x) }
func (n *negNode) eval(r *record) Value {
	if f, ok := n.x.eval(r).num(); ok {
		return numVal(-f)
	}
	return Value{}
}
func (n *notNode) eval(r *record) Value { return boolVal(!n.x.eval(r).truthy()) }
func (n *andNode) eval(r *record) Value {
	return boolVal(n.l.eval(r).truthy() && n.r.eval(r).truthy())
}
func (n *orNode) eval(r *record) Value {
	return boolVal(n.l.eval(r).truthy() || n.r.eval(r).truthy())
}

func (n *arithNode) eval(r *record) Value {
	a, ok1 := n.l.eval(r).num()
	b, ok2 := n.r.eval(r).num()
	if !ok1 || !ok2 {
		return Value{}
	}
	switch n.op {
	case '+':
		return numVal(a + b)
	case '-':
		return numVal(a - b)
	case '*':
		return numVal(a * b)
	case '/':
		if b == 0 {
			return Value{}
		}
		return numVal(a / b)
	case '%':
		if b == 0 {
			return Value{}
		}
		return numVal(math.Mod(a, b))
	}
	return numVal(math.Pow(a, b))
}

func (n *cmpNode) eval(r *record) Value {
	a, b := n.l.eval(r), n.r.eval(r)
	if a.K == Null || b.K == Null {
		return boolVal(false) // even for != (docs/aws-behaviour.md, "Logs Insights")
	}
	switch n.op {
	case "=":
		return boolVal(equalValues(a, b))
	case "!=":
		return boolVal(!equalValues(a, b))
	}
	c := compareValues(a, b)
	switch n.op {
	case "<":
		return boolVal(c < 0)
	case "<=":
		return boolVal(c <= 0)
	case ">":
		return boolVal(c > 0)
	}
	return boolVal(c >= 0)
}

func (n *likeNode) eval(r *record) Value {
	a := n.l.eval(r)
	if a.K == Null {
		return boolVal(false)
	}
	var m bool
	if n.re != nil {
		m = n.re.MatchString(a.str())
	} else {
		b := n.sub.eval(r)
		if b.K == Null {
			return boolVal(false)
		}
		m = strings.Contains(a.str(), b.str())
	}
	return boolVal(m != n.neg)
}

func (n *inNode) eval(r *record) Value {
	a := n.l.eval(r)
	if a.K == Null {
		return boolVal(false)
	}
	for _, it := range n.items {
		if b := it.eval(r); b.K != Null && equalValues(a, b) {
			return boolVal(!n.neg)
		}
	}
	return boolVal(n.neg)
}

func (n *callNode) eval(r *record) Value {
	for i, a := range n.args {
		v := a.eval(r)
		if v.K == Null && !n.f.nullsIn {
			return Value{}
		}
		n.buf[i] = v
	}
	return n.f.fn(n.buf)
}

func (n *floorNode) eval(r *record) Value {
	t, ok := n.t.eval(r).num()
	if !ok || math.Abs(t) > 1e17 {
		return Value{}
	}
	if n.ceil {
		return timeVal(n.d.ceil(int64(t)))
	}
	return timeVal(n.d.floor(int64(t)))
}

func (n *ifNode) eval(r *record) Value {
	if n.c.eval(r).truthy() {
		return n.t.eval(r)
	}
	return n.f.eval(r)
}

func (n *caseNode) eval(r *record) Value {
	for i, c := range n.conds {
		if c.eval(r).truthy() {
			return n.vals[i].eval(r)
		}
	}
	if n.def != nil {
		return n.def.eval(r)
	}
	return Value{}
}

func (n *regexReplaceNode) eval(r *record) Value {
	s, repl := n.s.eval(r), n.repl.eval(r)
	if s.K == Null || repl.K == Null {
		return Value{}
	}
	re := n.re
	if re == nil {
		p := n.pat.eval(r)
		var err error
		if re, err = regexp.Compile(p.str()); p.K == Null || err != nil {
			return Value{}
		}
	}
	return strVal(re.ReplaceAllString(s.str(), repl.str()))
}

// exprMode says where an expression sits, which decides what it may use.
type exprMode uint8

const (
	modeRow       exprMode = iota // per record or row
	modeStatsItem                 // a stats aggregate item: aggregates allowed, fields only inside them
)

type compiler struct {
	src        string
	s          *schema
	afterStats bool // bin() is invalid after the first stats
	mode       exprMode
	aggs       []aggSpec
	inAgg      bool
}

func (c *compiler) fail(e expr, format string, args ...any) {
	s, end := e.span()
	panic(newError(c.src, s, end, format, args...))
}

func (c *compiler) field(e expr, name string) node {
	i, ok := c.s.index[name]
	if !ok {
		c.fail(e, "field %q does not exist after stats (fields here: %s)", name, strings.Join(c.s.assignedList(), ", "))
	}
	return &fieldNode{i}
}

func (c *compiler) compile(e expr) node {
	switch e := e.(type) {
	case *identExpr:
		if c.mode == modeStatsItem && !c.inAgg {
			c.fail(e, "field %q must be inside an aggregate function such as count(), sum() or latest()", e.name)
		}
		return c.field(e, e.name)
	case *litExpr:
		return &constNode{e.v}
	case *regexExpr:
		c.fail(e, "a regular expression is allowed only after like, =~ or in parse and regexReplace")
	case *durExpr:
		c.fail(e, "a duration is allowed only as the period of bin, datefloor or dateceil")
	case *listExpr:
		c.fail(e, "a list is allowed only after in")
	case *starExpr:
		c.fail(e, "* is allowed only in count(*)")
	case *unaryExpr:
		x := c.compile(e.x)
		if e.op == "-" {
			return &negNode{x}
		}
		return &notNode{x}
	case *binExpr:
		return c.binary(e)
	case *callExpr:
		return c.call(e)
	}
	panic("insights: unknown expression")
}

func (c *compiler) binary(e *binExpr) node {
	switch e.op {
	case "and":
		return &andNode{c.compile(e.l), c.compile(e.r)}
	case "or":
		return &orNode{c.compile(e.l), c.compile(e.r)}
	case "+", "-", "*", "/", "%", "^":
		return &arithNode{e.op[0], c.compile(e.l), c.compile(e.r)}
	case "like", "notlike", "=~":
		n := &likeNode{l: c.compile(e.l), neg: e.op == "notlike"}
		if re, ok := e.r.(*regexExpr); ok {
			n.re = re.re
		} else if e.op == "=~" {
			c.fail(e.r, "=~ needs a /regular expression/")
		} else {
			n.sub = c.compile(e.r)
		}
		return n
	case "in", "notin":
		l := e.r.(*listExpr)
		n := &inNode{l: c.compile(e.l), neg: e.op == "notin"}
		for _, it := range l.items {
			n.items = append(n.items, c.compile(it))
		}
		return n
	}
	return &cmpNode{e.op, c.compile(e.l), c.compile(e.r)}
}

func (c *compiler) args(e *callExpr, min, max int) {
	if len(e.args) >= min && (max < 0 || len(e.args) <= max) {
		return
	}
	switch {
	case min == max && min == 1:
		c.fail(e, "%s takes 1 argument, got %d", e.name, len(e.args))
	case min == max:
		c.fail(e, "%s takes %d arguments, got %d", e.name, min, len(e.args))
	case max < 0:
		c.fail(e, "%s takes at least %d argument(s), got %d", e.name, min, len(e.args))
	}
	c.fail(e, "%s takes %d to %d arguments, got %d", e.name, min, max, len(e.args))
}

func (c *compiler) duration(e expr) duration {
	d, ok := e.(*durExpr)
	if !ok {
		c.fail(e, "expected a period such as 5m, 1h or 1d")
	}
	return d.d
}

func (c *compiler) call(e *callExpr) node {
	// A column named by its source text, e.g. `count(*)` after stats.
	s, end := e.span()
	if i, ok := c.s.statsOut[strings.TrimSpace(c.src[s:end])]; ok && c.mode == modeRow {
		return &fieldNode{i}
	}
	if ar, ok := aggregates[e.name]; ok {
		return c.aggregate(e, ar)
	}
	switch e.name {
	case "bin":
		c.args(e, 1, 1)
		if c.afterStats {
			c.fail(e, "bin() is not allowed after stats; use dateceil or datefloor on a carried timestamp")
		}
		return &floorNode{t: c.field(e, "@timestamp"), d: c.duration(e.args[0])}
	case "datefloor", "dateceil":
		c.args(e, 2, 2)
		return &floorNode{t: c.compile(e.args[0]), d: c.duration(e.args[1]), ceil: e.name == "dateceil"}
	case "if":
		c.args(e, 3, 3)
		return &ifNode{c.compile(e.args[0]), c.compile(e.args[1]), c.compile(e.args[2])}
	case "case":
		c.args(e, 2, 21)
		n := &caseNode{}
		for i := 0; i+1 < len(e.args); i += 2 {
			n.conds = append(n.conds, c.compile(e.args[i]))
			n.vals = append(n.vals, c.compile(e.args[i+1]))
		}
		if len(e.args)%2 == 1 {
			n.def = c.compile(e.args[len(e.args)-1])
		}
		return n
	case "regexreplace":
		c.args(e, 3, 3)
		n := &regexReplaceNode{s: c.compile(e.args[0]), repl: c.compile(e.args[2])}
		if re, ok := e.args[1].(*regexExpr); ok {
			n.re = re.re
		} else {
			n.pat = c.compile(e.args[1])
		}
		return n
	case "now":
		c.args(e, 0, 0)
		return &ctxNode{func(x *runCtx) Value { return numVal(float64(x.now.Unix())) }}
	case "querystarttime":
		c.args(e, 0, 0)
		return &ctxNode{func(x *runCtx) Value { return numVal(float64(x.startMs)) }}
	case "queryendtime":
		c.args(e, 0, 0)
		return &ctxNode{func(x *runCtx) Value { return numVal(float64(x.endMs)) }}
	}
	f, ok := scalars[e.name]
	if !ok {
		c.fail(e, "unknown function %q", c.src[e.start:e.start+len(e.name)])
	}
	c.args(e, f.min, f.max)
	n := &callNode{f: f, buf: make([]Value, len(e.args))}
	for _, a := range e.args {
		n.args = append(n.args, c.compile(a))
	}
	return n
}

func (c *compiler) aggregate(e *callExpr, ar [2]int) node {
	if c.mode != modeStatsItem {
		c.fail(e, "aggregate function %s can be used only in stats", e.name)
	}
	if c.inAgg {
		c.fail(e, "aggregate function %s cannot be nested in another aggregate", e.name)
	}
	c.args(e, ar[0], ar[1])
	spec := aggSpec{fn: e.name}
	c.inAgg = true
	defer func() { c.inAgg = false }()
	if len(e.args) > 0 {
		if _, star := e.args[0].(*starExpr); star {
			if e.name != "count" {
				c.fail(e.args[0], "* is allowed only in count(*)")
			}
		} else {
			spec.arg = c.compile(e.args[0])
		}
	}
	if e.name == "pct" {
		l, ok := e.args[1].(*litExpr)
		if !ok || l.v.K != Number || l.v.N < 0 || l.v.N > 100 {
			c.fail(e.args[1], "pct needs a percentile from 0 to 100")
		}
		spec.pct = l.v.N
	}
	c.aggs = append(c.aggs, spec)
	return &aggRefNode{len(c.aggs) - 1}
}
