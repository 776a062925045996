package insights

import (
	"regexp"
	"strconv"
	"strings"
)

// expression tree, as parsed (compile.go turns it into evaluators).
type expr interface{ span() (int, int) }

type pos struct{ start, end int }

func (p pos) span() (int, int) { return p.start, p.end }

type (
	identExpr struct {
		pos
		name string
	}
	litExpr struct {
		pos
		v Value
	}
	regexExpr struct {
		pos
		re *regexp.Regexp
	}
	durExpr struct {
		pos
		d duration
	}
	listExpr struct {
		pos
		items []expr
	}
	starExpr struct{ pos } // the * of count(*)
	callExpr struct {
		pos
		name string // lower case
		args []expr
	}
	unaryExpr struct {
		pos
		op string // "-" or "not"
		x  expr
	}
	binExpr struct {
		pos
		op   string // + - * / % ^ = != < <= > >= like notlike =~ in notin and or
		l, r expr
	}
)

// item is one `expr [as alias]` of fields, display, stats and by.
type item struct {
	e    expr
	name string // alias, else the source text ([Choice])
}

type sortKey struct {
	e    expr
	desc bool
}

// command is one stage of the pipeline.
type command struct {
	pos
	kind    string // fields display filter parse stats sort limit dedup unmask
	items   []item // fields, display, stats aggregates
	by      []item // stats
	cond    expr   // filter
	field   expr   // parse source
	glob    []string
	re      *regexp.Regexp
	aliases []string // parse outputs
	keys    []sortKey
	limit   int
	dedup   []expr
}

type parser struct {
	src   string
	pos   int
	depth int
}

// Parse compiles a query. Errors are *Error values naming the position.
func Parse(query string) (q *Query, err error) {
	if len(query) > maxQueryLen {
		return nil, newError(query, maxQueryLen, len(query), "query is longer than %d characters", maxQueryLen)
	}
	p := &parser{src: query}
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(*Error)
			if !ok {
				panic(r)
			}
			q, err = nil, e
		}
	}()
	var cmds []*command
	for {
		cmds = append(cmds, p.command())
		t := p.peek(false)
		if t.kind == tEOF {
			break
		}
		if !t.is("|") {
			p.failTok(t, "unexpected %s, expected | or the end of the query", describe(t))
		}
		p.pos = t.end
	}
	return plan(query, cmds)
}

const maxQueryLen = 10000

func (p *parser) fail(start, end int, format string, args ...any) {
	panic(newError(p.src, start, end, format, args...))
}

func (p *parser) failTok(t token, format string, args ...any) {
	end := t.end
	if end == t.start && t.kind == tEOF {
		end = len(p.src)
	}
	p.fail(t.start, end, format, args...)
}

func (p *parser) peek(regexOK bool) token {
	t, err := lex(p.src, p.pos, regexOK)
	if err != nil {
		panic(err)
	}
	return t
}

func (p *parser) next(regexOK bool) token {
	t := p.peek(regexOK)
	p.pos = t.end
	return t
}

func describe(t token) string {
	switch t.kind {
	case tEOF:
		return "end of query"
	case tString:
		return "string " + strconv.Quote(t.text)
	case tRegex:
		return "regular expression"
	}
	return strconv.Quote(t.text)
}

func (p *parser) expectOp(op string) token {
	t := p.next(false)
	if !t.is(op) {
		p.failTok(t, "unexpected %s, expected %q", describe(t), op)
	}
	return t
}

// atCommandEnd tells whether the current command has no more tokens.
func (p *parser) atCommandEnd() bool {
	t := p.peek(false)
	return t.kind == tEOF || t.is("|")
}

var unsupportedCommands = map[string]bool{
	"pattern": true, "diff": true, "anomaly": true, "unnest": true,
	"filterindex": true, "lookup": true, "source": true,
}

func (p *parser) command() *command {
	t := p.next(false)
	if t.kind != tIdent {
		p.failTok(t, "unexpected %s, expected a command (fields, filter, stats, sort, limit, parse, display, dedup)", describe(t))
	}
	c := &command{pos: pos{t.start, t.end}, kind: strings.ToLower(t.text)}
	switch c.kind {
	case "fields", "display":
		c.items = p.items()
	case "filter", "where":
		c.kind = "filter"
		c.cond = p.expr()
	case "parse":
		p.parseCmd(c)
	case "stats":
		p.statsCmd(c)
	case "sort":
		if p.peek(false).isKw("by") {
			p.next(false)
		}
		for {
			k := sortKey{e: p.expr(), desc: true}
			if nt := p.peek(false); nt.isKw("asc") || nt.isKw("desc") {
				p.next(false)
				k.desc = nt.isKw("desc")
			}
			c.keys = append(c.keys, k)
			if !p.peek(false).is(",") {
				break
			}
			p.next(false)
		}
	case "limit":
		if p.peek(false).isKw("any") {
			p.next(false)
		}
		n := p.next(false)
		v, err := strconv.Atoi(n.text)
		if n.kind != tNumber || err != nil || v < 1 || v > maxRows {
			p.failTok(n, "limit needs a whole number from 1 to %d, got %s", maxRows, describe(n))
		}
		c.limit = v
	case "dedup":
		for {
			c.dedup = append(c.dedup, p.expr())
			if !p.peek(false).is(",") {
				break
			}
			p.next(false)
		}
	case "unmask":
		// Nothing is masked, so there is nothing to unmask.
	default:
		if unsupportedCommands[c.kind] {
			p.failTok(t, "command %q is not supported", t.text)
		}
		p.failTok(t, "unknown command %q (expected fields, filter, stats, sort, limit, parse, display, dedup)", t.text)
	}
	c.end = p.pos
	if !p.atCommandEnd() {
		nt := p.peek(false)
		p.failTok(nt, "unexpected %s after %s", describe(nt), c.kind)
	}
	return c
}

func (p *parser) items() []item {
	var out []item
	for {
		out = append(out, p.item())
		if !p.peek(false).is(",") {
			return out
		}
		p.next(false)
	}
}

func (p *parser) item() item {
	e := p.expr()
	s, end := e.span()
	it := item{e: e, name: strings.TrimSpace(p.src[s:end])}
	if p.peek(false).isKw("as") {
		p.next(false)
		it.name = p.alias()
	}
	return it
}

func (p *parser) alias() string {
	t := p.next(false)
	if (t.kind != tIdent || isKeyword(t.text)) && t.kind != tQuoted {
		p.failTok(t, "unexpected %s, expected a field name after \"as\"", describe(t))
	}
	return t.text
}

func (p *parser) parseCmd(c *command) {
	t := p.peek(true)
	if t.kind == tIdent || t.kind == tQuoted {
		if t.kind == tIdent && isKeyword(t.text) {
			p.failTok(t, "unexpected keyword %q, expected a field or a pattern", t.text)
		}
		p.next(true)
		c.field = &identExpr{pos{t.start, t.end}, t.text}
		t = p.peek(true)
	} else {
		c.field = &identExpr{pos{t.start, t.start}, "@message"}
	}
	p.next(true)
	switch t.kind {
	case tString:
		c.glob = strings.Split(t.text, "*")
		stars := len(c.glob) - 1
		if stars == 0 {
			p.failTok(t, "parse pattern %q has no * to extract", t.text)
		}
		as := p.next(false)
		if !as.isKw("as") {
			p.failTok(as, "unexpected %s, expected \"as\" and %d field names", describe(as), stars)
		}
		for {
			c.aliases = append(c.aliases, p.alias())
			if !p.peek(false).is(",") {
				break
			}
			p.next(false)
		}
		if len(c.aliases) != stars {
			p.fail(as.start, p.pos, "parse pattern has %d * but %d field names follow \"as\"", stars, len(c.aliases))
		}
	case tRegex:
		c.re = p.compileRegex(t)
		for i, n := range c.re.SubexpNames() {
			if i > 0 && n != "" {
				c.aliases = append(c.aliases, n)
			}
		}
		if len(c.aliases) == 0 {
			p.failTok(t, "parse regular expression has no named group (?<name>...)")
		}
	default:
		p.failTok(t, "unexpected %s, expected a \"glob * pattern\" or a /regular expression/", describe(t))
	}
}

func (p *parser) compileRegex(t token) *regexp.Regexp {
	re, err := regexp.Compile(t.text)
	if err != nil {
		p.failTok(t, "invalid regular expression: %v", err)
	}
	return re
}

func (p *parser) statsCmd(c *command) {
	for {
		c.items = append(c.items, p.item())
		nt := p.peek(false)
		if nt.isKw("by") {
			p.next(false)
			c.by = p.items()
			return
		}
		if !nt.is(",") {
			return
		}
		p.next(false)
	}
}

var keywords = map[string]bool{"and": true, "or": true, "not": true, "like": true, "in": true, "as": true, "by": true, "asc": true, "desc": true}

func isKeyword(s string) bool { return keywords[strings.ToLower(s)] }

func (p *parser) expr() expr { return p.or() }

func (p *parser) bin(op string, l, r expr) expr {
	s, _ := l.span()
	_, e := r.span()
	return &binExpr{pos{s, e}, op, l, r}
}

func (p *parser) or() expr {
	l := p.and()
	for p.peek(false).isKw("or") {
		p.next(false)
		l = p.bin("or", l, p.and())
	}
	return l
}

func (p *parser) and() expr {
	l := p.not()
	for p.peek(false).isKw("and") {
		p.next(false)
		l = p.bin("and", l, p.not())
	}
	return l
}

func (p *parser) not() expr {
	t := p.peek(false)
	if t.isKw("not") {
		p.next(false)
		x := p.not()
		_, e := x.span()
		return &unaryExpr{pos{t.start, e}, "not", x}
	}
	return p.cmp()
}

func (p *parser) cmp() expr {
	l := p.add()
	t := p.peek(false)
	switch {
	case t.kind == tOp && (t.text == "=" || t.text == "==" || t.text == "!=" || t.text == "<" || t.text == "<=" || t.text == ">" || t.text == ">="):
		p.next(false)
		op := t.text
		if op == "==" {
			op = "="
		}
		return p.bin(op, l, p.add())
	case t.is("=~"):
		p.next(false)
		r := p.next(true)
		if r.kind != tRegex {
			p.failTok(r, "unexpected %s, expected a /regular expression/ after =~", describe(r))
		}
		return p.bin("=~", l, &regexExpr{pos{r.start, r.end}, p.compileRegex(r)})
	case t.isKw("like"):
		p.next(false)
		return p.bin("like", l, p.likeOperand())
	case t.isKw("in"):
		p.next(false)
		return p.bin("in", l, p.list())
	case t.isKw("not"):
		p.next(false)
		t2 := p.next(false)
		switch {
		case t2.isKw("like"):
			return p.bin("notlike", l, p.likeOperand())
		case t2.isKw("in"):
			return p.bin("notin", l, p.list())
		}
		p.failTok(t2, "unexpected %s, expected \"like\" or \"in\" after \"not\"", describe(t2))
	}
	return l
}

func (p *parser) likeOperand() expr {
	t := p.peek(true)
	if t.kind == tRegex {
		p.next(true)
		return &regexExpr{pos{t.start, t.end}, p.compileRegex(t)}
	}
	return p.add()
}

func (p *parser) list() expr {
	open := p.expectOp("[")
	l := &listExpr{pos: pos{open.start, open.end}}
	if p.peek(false).is("]") {
		l.end = p.next(false).end
		return l
	}
	for {
		l.items = append(l.items, p.add())
		t := p.next(false)
		if t.is("]") {
			l.end = t.end
			return l
		}
		if !t.is(",") {
			p.failTok(t, "unexpected %s in list, expected , or ]", describe(t))
		}
	}
}

func (p *parser) add() expr {
	l := p.mul()
	for {
		t := p.peek(false)
		if !t.is("+") && !t.is("-") {
			return l
		}
		p.next(false)
		l = p.bin(t.text, l, p.mul())
	}
}

func (p *parser) mul() expr {
	l := p.pow()
	for {
		t := p.peek(false)
		if !t.is("*") && !t.is("/") && !t.is("%") {
			return l
		}
		p.next(false)
		l = p.bin(t.text, l, p.pow())
	}
}

func (p *parser) pow() expr {
	l := p.unary()
	if p.peek(false).is("^") {
		p.next(false)
		return p.bin("^", l, p.pow())
	}
	return l
}

func (p *parser) unary() expr {
	t := p.peek(true)
	if t.is("-") {
		p.next(true)
		x := p.unary()
		_, e := x.span()
		if l, ok := x.(*litExpr); ok && l.v.K == Number {
			return &litExpr{pos{t.start, e}, numVal(-l.v.N)}
		}
		return &unaryExpr{pos{t.start, e}, "-", x}
	}
	return p.primary()
}

func (p *parser) primary() expr {
	t := p.next(true)
	ps := pos{t.start, t.end}
	switch t.kind {
	case tNumber:
		f, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			p.failTok(t, "invalid number %q", t.text)
		}
		return &litExpr{ps, numVal(f)}
	case tString:
		return &litExpr{ps, strVal(t.text)}
	case tRegex:
		return &regexExpr{ps, p.compileRegex(t)}
	case tDuration:
		d, ok := parseDuration(t.text)
		if !ok {
			p.failTok(t, "invalid duration %q (units: ms s m h d w mo q y)", t.text)
		}
		return &durExpr{ps, d}
	case tQuoted:
		return &identExpr{ps, t.text}
	case tIdent:
		if isKeyword(t.text) {
			p.failTok(t, "unexpected keyword %q, expected an expression", t.text)
		}
		if p.peek(false).is("(") {
			return p.call(t)
		}
		switch strings.ToLower(t.text) {
		case "true":
			return &litExpr{ps, boolVal(true)}
		case "false":
			return &litExpr{ps, boolVal(false)}
		}
		return &identExpr{ps, t.text}
	case tOp:
		switch t.text {
		case "(":
			if p.depth++; p.depth > maxDepth {
				p.failTok(t, "expression nested too deeply")
			}
			x := p.expr()
			p.depth--
			p.expectOp(")")
			return x
		case "[":
			p.pos = t.start
			return p.list()
		}
	}
	p.failTok(t, "unexpected %s, expected an expression", describe(t))
	return nil
}

// maxDepth guards the stack against pathological nesting.
const maxDepth = 100

func (p *parser) call(name token) expr {
	p.next(false) // (
	c := &callExpr{pos: pos{name.start, name.end}, name: strings.ToLower(name.text)}
	if p.depth++; p.depth > maxDepth {
		p.failTok(name, "expression nested too deeply")
	}
	defer func() { p.depth-- }()
	if t := p.peek(true); t.is(")") {
		c.end = p.next(false).end
		return c
	}
	for {
		if t := p.peek(true); t.is("*") {
			p.next(true)
			c.args = append(c.args, &starExpr{pos{t.start, t.end}})
		} else {
			c.args = append(c.args, p.expr())
		}
		t := p.next(false)
		if t.is(")") {
			c.end = t.end
			return c
		}
		if !t.is(",") {
			p.failTok(t, "unexpected %s in the arguments of %s, expected , or )", describe(t), name.text)
		}
	}
}
