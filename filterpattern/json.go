package filterpattern

import (
	"encoding/json"
	"strconv"
	"strings"
)

// MaxWildcardSelectors is how many selectors with .* or [*] a JSON pattern
// may hold (docs/aws-behaviour.md, "JSON patterns").
const MaxWildcardSelectors = 3

type nodeKind uint8

const (
	nodeOr nodeKind = iota
	nodeAnd
	nodeCond
)

type testKind uint8

const (
	testCmp testKind = iota
	testNull
	testTrue
	testFalse
	testNotExists
)

// jsonExpr is a { … } pattern: a tree of && / || over conditions on
// selected members of the message parsed as JSON (docs/aws-behaviour.md,
// "JSON patterns").
type jsonExpr struct {
	kind nodeKind
	kids []*jsonExpr
	sel  selector
	test testKind
	op   op
	v    value
}

type stepKind uint8

const (
	stepMember stepKind = iota
	stepIndex
	stepAllMembers
	stepAllElements
)

type step struct {
	kind stepKind
	name string
	idx  int
}

// selector is a parsed $.a[0]['b.c'] path.
type selector struct {
	steps    []step
	wildcard bool
}

func (c *compiler) compileJSON(body string) (*jsonExpr, error) {
	if body[len(body)-1] != '}' || len(body) < 2 {
		return nil, &Error{Pattern: c.src, Pos: c.off + len(body) + 1, Msg: MsgJSONNotClose,
			Detail: "the pattern does not end with '}'"}
	}
	p := &jsonParser{c: c, s: body, i: 1, end: len(body) - 1}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	p.ws()
	if p.i < p.end {
		if p.s[p.i] == ')' {
			return nil, c.errAt(p.i, "unbalanced ')'")
		}
		if w := strings.ToUpper(p.word()); w == "AND" || w == "OR" {
			return nil, c.errAt(p.i-len(w), "unexpected %s: write && for AND, || for OR", w)
		}
		return nil, c.errAt(p.i, "unexpected %q: want &&, || or the closing '}'", p.s[p.i])
	}
	if c.regexes > MaxRegexes {
		return nil, c.errAt(0, "a pattern may contain at most %d regular expressions, this one has %d", MaxRegexes, c.regexes)
	}
	if p.wildcards > MaxWildcardSelectors {
		return nil, c.errAt(0, "a JSON pattern may contain at most %d selectors with a wildcard, this one has %d", MaxWildcardSelectors, p.wildcards)
	}
	return e, nil
}

type jsonParser struct {
	c         *compiler
	s         string
	i, end    int
	wildcards int
}

func (p *jsonParser) ws() {
	for p.i < p.end && isWS(p.s[p.i]) {
		p.i++
	}
}

func (p *jsonParser) or() (*jsonExpr, error) {
	first, err := p.and()
	if err != nil {
		return nil, err
	}
	kids := []*jsonExpr{first}
	for {
		p.ws()
		if !strings.HasPrefix(p.s[p.i:p.end], "||") {
			break
		}
		p.i += 2
		k, err := p.and()
		if err != nil {
			return nil, err
		}
		kids = append(kids, k)
	}
	if len(kids) == 1 {
		return first, nil
	}
	return &jsonExpr{kind: nodeOr, kids: kids}, nil
}

func (p *jsonParser) and() (*jsonExpr, error) {
	first, err := p.primary()
	if err != nil {
		return nil, err
	}
	kids := []*jsonExpr{first}
	for {
		p.ws()
		if !strings.HasPrefix(p.s[p.i:p.end], "&&") {
			break
		}
		p.i += 2
		k, err := p.primary()
		if err != nil {
			return nil, err
		}
		kids = append(kids, k)
	}
	if len(kids) == 1 {
		return first, nil
	}
	return &jsonExpr{kind: nodeAnd, kids: kids}, nil
}

func (p *jsonParser) primary() (*jsonExpr, error) {
	p.ws()
	if p.i >= p.end {
		return nil, p.c.errAt(p.i, "missing condition")
	}
	switch p.s[p.i] {
	case '(':
		open := p.i
		p.i++
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		p.ws()
		if p.i >= p.end || p.s[p.i] != ')' {
			return nil, p.c.errAt(open, "unbalanced '(': no matching ')'")
		}
		p.i++
		return e, nil
	case '$':
		return p.condition()
	}
	return nil, p.c.errAt(p.i, "unexpected %q: a condition starts with a selector such as $.field", p.s[p.i])
}

func (p *jsonParser) condition() (*jsonExpr, error) {
	sel, err := p.selector()
	if err != nil {
		return nil, err
	}
	e := &jsonExpr{kind: nodeCond, sel: sel}
	p.ws()
	if o, n := scanOp(p.s[p.i:p.end]); n > 0 {
		opPos := p.i
		p.i += n
		v, err := p.c.value(p.s, &p.i, p.end, true)
		if err != nil {
			return nil, err
		}
		if o != opEQ && o != opNE && v.kind != valNumber {
			return nil, p.c.errAt(opPos, "operator %s needs a numeric value", o)
		}
		e.test, e.op, e.v = testCmp, o, v
		return e, nil
	}
	kwPos := p.i
	switch kw := strings.ToUpper(p.word()); kw {
	case "IS":
		p.ws()
		at := p.i
		switch w := strings.ToUpper(p.word()); w {
		case "NULL":
			e.test = testNull
		case "TRUE":
			e.test = testTrue
		case "FALSE":
			e.test = testFalse
		case "NOT":
			return nil, p.c.errAt(at, "IS NOT is not supported: use NOT EXISTS, or != with a value")
		default:
			return nil, p.c.errAt(at, "IS must be followed by NULL, TRUE or FALSE")
		}
	case "NOT":
		p.ws()
		at := p.i
		if strings.ToUpper(p.word()) != "EXISTS" {
			return nil, p.c.errAt(at, "NOT must be followed by EXISTS")
		}
		e.test = testNotExists
	case "EXISTS":
		return nil, p.c.errAt(kwPos, "EXISTS alone is not supported: use NOT EXISTS, or = * for a present value")
	case "":
		if p.i >= p.end {
			return nil, p.c.errAt(p.i, "incomplete condition: want an operator (= != < <= > >=), IS or NOT EXISTS")
		}
		return nil, p.c.errAt(p.i, "unknown operator %q after the selector", p.s[p.i])
	default:
		return nil, p.c.errAt(kwPos, "unknown keyword %q after the selector: want an operator, IS or NOT EXISTS", kw)
	}
	return e, nil
}

func (p *jsonParser) word() string {
	start := p.i
	for p.i < p.end && (p.s[p.i] >= 'a' && p.s[p.i] <= 'z' || p.s[p.i] >= 'A' && p.s[p.i] <= 'Z') {
		p.i++
	}
	return p.s[start:p.i]
}

func (p *jsonParser) selector() (selector, error) {
	sel, n, err := parseSelector(p.s[:p.end], p.i)
	if err != nil {
		return selector{}, p.c.errAt(err.pos, "%s", err.msg)
	}
	p.i = n
	if sel.wildcard {
		p.wildcards++
	}
	return sel, nil
}

type selErr struct {
	pos int
	msg string
}

// parseSelector reads a selector starting at s[i] == '$' and returns it with
// the index just past it.
func parseSelector(s string, i int) (selector, int, *selErr) {
	var sel selector
	i++ // '$'
	wild := func(at int) *selErr {
		if sel.wildcard {
			return &selErr{at, "only one wildcard (.* or [*]) is allowed per selector"}
		}
		sel.wildcard = true
		return nil
	}
	for i < len(s) {
		switch s[i] {
		case '.':
			if i+1 < len(s) && s[i+1] == '*' {
				if e := wild(i); e != nil {
					return sel, 0, e
				}
				sel.steps = append(sel.steps, step{kind: stepAllMembers})
				i += 2
				continue
			}
			if i+1 < len(s) && s[i+1] == '[' {
				i++
				continue // ".['key']" is the same as "['key']"
			}
			start := i + 1
			j := start
			for j < len(s) && isNameChar(s[j]) {
				j++
			}
			if j == start {
				return sel, 0, &selErr{i, "'.' must be followed by a member name, * or ['key']"}
			}
			sel.steps = append(sel.steps, step{kind: stepMember, name: s[start:j]})
			i = j
		case '[':
			switch {
			case strings.HasPrefix(s[i:], "[*]"):
				if e := wild(i); e != nil {
					return sel, 0, e
				}
				sel.steps = append(sel.steps, step{kind: stepAllElements})
				i += 3
			case strings.HasPrefix(s[i:], "['"):
				close := strings.Index(s[i+2:], "']")
				if close <= 0 {
					return sel, 0, &selErr{i, "unterminated ['key']: want a non-empty key and ']'"}
				}
				sel.steps = append(sel.steps, step{kind: stepMember, name: s[i+2 : i+2+close]})
				i += close + 4
			default:
				j := i + 1
				for j < len(s) && s[j] >= '0' && s[j] <= '9' {
					j++
				}
				if j == i+1 || j >= len(s) || s[j] != ']' {
					return sel, 0, &selErr{i, "'[' must be followed by an index, * or 'key', then ']'"}
				}
				n, err := strconv.Atoi(s[i+1 : j])
				if err != nil {
					return sel, 0, &selErr{i + 1, "array index out of range"}
				}
				sel.steps = append(sel.steps, step{kind: stepIndex, idx: n})
				i = j + 1
			}
		default:
			return sel, i, nil
		}
	}
	return sel, i, nil
}

// matchMessage parses msg as JSON and evaluates the pattern ([Choice]: a
// message that is not a JSON object or array never matches).
func (e *jsonExpr) matchMessage(msg string) bool {
	root, ok := parseJSON(msg)
	if !ok {
		return false
	}
	return e.eval(root)
}

func parseJSON(msg string) (any, bool) {
	t := strings.TrimLeft(msg, wsChars)
	if t == "" || (t[0] != '{' && t[0] != '[') {
		return nil, false
	}
	dec := json.NewDecoder(strings.NewReader(t))
	dec.UseNumber()
	var root any
	if err := dec.Decode(&root); err != nil {
		return nil, false
	}
	if strings.TrimLeft(t[dec.InputOffset():], wsChars) != "" {
		return nil, false // trailing data: not one JSON document
	}
	return root, true
}

func (e *jsonExpr) eval(root any) bool {
	switch e.kind {
	case nodeOr:
		for _, k := range e.kids {
			if k.eval(root) {
				return true
			}
		}
		return false
	case nodeAnd:
		for _, k := range e.kids {
			if !k.eval(root) {
				return false
			}
		}
		return true
	}
	if e.test == testNotExists {
		found := false
		e.sel.walk(root, 0, func(any) bool { found = true; return true })
		return !found
	}
	return e.sel.walk(root, 0, e.holds)
}

// walk calls f for every value the selector resolves to, from step i on,
// and stops at the first f that returns true.
func (s *selector) walk(v any, i int, f func(any) bool) bool {
	if i == len(s.steps) {
		return f(v)
	}
	st := s.steps[i]
	switch st.kind {
	case stepMember:
		if m, ok := v.(map[string]any); ok {
			if c, ok := m[st.name]; ok {
				return s.walk(c, i+1, f)
			}
		}
	case stepIndex:
		if a, ok := v.([]any); ok && st.idx < len(a) {
			return s.walk(a[st.idx], i+1, f)
		}
	case stepAllMembers:
		if m, ok := v.(map[string]any); ok {
			for _, c := range m {
				if s.walk(c, i+1, f) {
					return true
				}
			}
		}
	case stepAllElements:
		if a, ok := v.([]any); ok {
			for _, c := range a {
				if s.walk(c, i+1, f) {
					return true
				}
			}
		}
	}
	return false
}

// holds evaluates the condition on one resolved value (the rules of
// docs/aws-behaviour.md, "JSON patterns").
func (e *jsonExpr) holds(v any) bool {
	switch e.test {
	case testNull:
		return v == nil
	case testTrue:
		b, ok := v.(bool)
		return ok && b
	case testFalse:
		b, ok := v.(bool)
		return ok && !b
	}
	switch t := v.(type) {
	case json.Number:
		if e.v.kind == valNumber {
			n, ok := parseNumber(string(t))
			return ok && compareNum(e.op, n, e.v.num)
		}
		return e.v.compareText(e.op, string(t))
	case string:
		if e.v.kind == valNumber {
			switch e.op {
			case opEQ:
				return t == e.v.text
			case opNE:
				return t != e.v.text
			}
			return false
		}
		return e.v.compareText(e.op, t)
	}
	return false
}

// Selector is a compiled JSON selector such as $.user.id, used by metric
// filters to read metricValue and dimensions from JSON events.
type Selector struct {
	src string
	sel selector
}

// ParseSelector compiles a $.path selector: .name, [n], ['key'], .* and [*].
func ParseSelector(path string) (*Selector, error) {
	if !strings.HasPrefix(path, "$") {
		return nil, &Error{Pattern: path, Pos: 1, Msg: MsgInvalid, Detail: "a JSON selector starts with $"}
	}
	sel, n, err := parseSelector(path, 0)
	if err != nil {
		return nil, &Error{Pattern: path, Pos: err.pos + 1, Msg: MsgInvalid, Detail: err.msg}
	}
	if n != len(path) {
		return nil, &Error{Pattern: path, Pos: n + 1, Msg: MsgInvalid, Detail: "unexpected text after the selector"}
	}
	return &Selector{src: path, sel: sel}, nil
}

func (s *Selector) String() string { return s.src }

// Lookup returns the text of the first scalar the selector resolves to in
// the JSON message msg: a string's value, a number's source text, or
// true/false. ok is false for a missing member, null, an object or an
// array, and for messages that are not JSON.
func (s *Selector) Lookup(msg string) (text string, ok bool) {
	root, ok := parseJSON(msg)
	if !ok {
		return "", false
	}
	return s.LookupValue(root)
}

// LookupValue is Lookup on an already parsed document (see ParseJSON).
func (s *Selector) LookupValue(root any) (text string, ok bool) {
	s.sel.walk(root, 0, func(v any) bool {
		switch t := v.(type) {
		case string:
			text, ok = t, true
		case json.Number:
			text, ok = string(t), true
		case bool:
			text, ok = strconv.FormatBool(t), true
		}
		return ok
	})
	return text, ok
}

// ParseJSON parses a message the way JSON patterns see it (numbers keep
// their source text); ok is false when it is not a JSON object or array.
func ParseJSON(msg string) (doc any, ok bool) { return parseJSON(msg) }
