package filterpattern

import (
	"strconv"
	"strings"
)

// delimPattern is a space-delimited [a, b=…, …, z] pattern
// (docs/aws-behaviour.md, "Space-delimited patterns"): one slot per
// whitespace-separated field, each optionally with conditions.
type delimPattern struct {
	slots    []slot
	ellipsis int // index of the "..." slot, -1 without one
}

// slot is one comma-separated part of a delimited pattern. conds is an OR of
// AND groups ("&&" binds tighter); an unconditioned slot has none.
type slot struct {
	name  string
	key   string // "$name", the extracted-value key
	conds [][]cond
}

type cond struct {
	op op
	v  value
}

func (s *slot) test(field string) bool {
	if len(s.conds) == 0 {
		return true
	}
	for _, and := range s.conds {
		ok := true
		for i := range and {
			if !and[i].v.compareText(and[i].op, field) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func isNameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

func (c *compiler) compileDelimited(body string) (*delimPattern, error) {
	if len(body) < 2 || body[len(body)-1] != ']' {
		return nil, c.errAt(len(body), "a pattern that starts with '[' must end with ']'")
	}
	d := &delimPattern{ellipsis: -1}
	end := len(body) - 1
	i := 1
	skip := func() {
		for i < end && isWS(body[i]) {
			i++
		}
	}
	for {
		skip()
		var s slot
		slotStart := i
		switch {
		case i >= end || body[i] == ',':
			// empty slot
		case strings.HasPrefix(body[i:end], "..."):
			if d.ellipsis >= 0 {
				return nil, c.errAt(i, `only one "..." is allowed in a pattern`)
			}
			d.ellipsis = len(d.slots)
			i += 3
		default:
			name, err := c.slotName(body, &i, end)
			if err != nil {
				return nil, err
			}
			s.name, s.key = name, "$"+name
			skip()
			if i < end && body[i] != ',' {
				s.conds, err = c.slotConds(body, &i, end, name)
				if err != nil {
					return nil, err
				}
			}
		}
		skip()
		d.slots = append(d.slots, s)
		if i >= end {
			break
		}
		if body[i] != ',' {
			if body[i] == ']' {
				return nil, c.errAt(i, "unexpected ']' before the end of the pattern")
			}
			return nil, c.errAt(i, "unexpected %q in slot starting at column %d: want ',' or ']'", body[i], c.off+slotStart+1)
		}
		i++ // ','
	}
	if c.regexes > MaxRegexes {
		return nil, c.errAt(0, "a pattern may contain at most %d regular expressions, this one has %d", MaxRegexes, c.regexes)
	}
	return d, nil
}

func (c *compiler) slotName(body string, i *int, end int) (string, error) {
	start := *i
	for *i < end && isNameChar(body[*i]) {
		*i++
	}
	if *i == start {
		if body[start] == '"' || body[start] == '%' {
			return "", c.errAt(start, "a condition needs a field name before the value, e.g. [status = %s…]", body[start:start+1])
		}
		return "", c.errAt(start, "unexpected %q: a slot is a field name (letters, digits, _ and -), a condition, \"...\" or empty", body[start])
	}
	return body[start:*i], nil
}

// slotConds parses "op value { (&&|||) name op value }" for the slot named name.
func (c *compiler) slotConds(body string, i *int, end int, name string) ([][]cond, error) {
	var groups [][]cond
	var cur []cond
	for {
		for *i < end && isWS(body[*i]) {
			*i++
		}
		o, n := scanOp(body[*i:end])
		if n == 0 {
			return nil, c.errAt(*i, "unexpected %q after field %q: want a comparison operator (= != < <= > >=), ',' or ']'", body[*i], name)
		}
		opPos := *i
		*i += n
		v, err := c.value(body, i, end, false)
		if err != nil {
			return nil, err
		}
		if o != opEQ && o != opNE && v.kind != valNumber {
			return nil, c.errAt(opPos, "operator %s needs a numeric value", o)
		}
		cur = append(cur, cond{op: o, v: v})
		for *i < end && isWS(body[*i]) {
			*i++
		}
		rest := body[*i:end]
		switch {
		case strings.HasPrefix(rest, "&&"):
		case strings.HasPrefix(rest, "||"):
			groups = append(groups, cur)
			cur = nil
		default:
			if rest != "" && (rest[0] == '&' || rest[0] == '|') {
				return nil, c.errAt(*i, "unknown operator %q: use && or ||", rest[0])
			}
			return append(groups, cur), nil
		}
		*i += 2
		for *i < end && isWS(body[*i]) {
			*i++
		}
		at := *i
		other, err := c.slotName(body, i, end)
		if err != nil {
			return nil, err
		}
		if other != name {
			return nil, c.errAt(at, "condition on %q inside the slot of %q: each slot's conditions must name that slot (separate slots with ',')", other, name)
		}
	}
}

// value parses a condition's right-hand side: a phrase, a %regex%, or a
// bare word (a number when it fully matches the number rule). json selects
// the JSON pattern's bare-word stop characters.
func (c *compiler) value(body string, i *int, end int, json bool) (value, error) {
	for *i < end && isWS(body[*i]) {
		*i++
	}
	if *i >= end {
		return value{}, c.errAt(*i, "missing value after the operator")
	}
	switch body[*i] {
	case '"':
		text, next, err := c.readPhrase(body[:end], *i)
		if err != nil {
			return value{}, err
		}
		*i = next
		return newStringValue(text), nil
	case '%':
		close := strings.IndexByte(body[*i+1:end], '%')
		if close < 0 {
			return value{}, c.errAt(*i, "unterminated regular expression: missing closing %%")
		}
		re, err := c.compileRegex(body[*i+1:*i+1+close], *i+1)
		if err != nil {
			return value{}, err
		}
		*i += close + 2
		return value{kind: valRegex, text: re.source, re: re}, nil
	case '=', '<', '>', '!':
		return value{}, c.errAt(*i, "unknown operator: unexpected %q after a comparison operator", body[*i])
	}
	start := *i
	stops := " \t\r\n\",]&|"
	if json {
		stops = " \t\r\n\"()&|}"
	}
	for *i < end && strings.IndexByte(stops, body[*i]) < 0 {
		*i++
	}
	text := body[start:*i]
	if text == "" {
		return value{}, c.errAt(start, "missing value after the operator")
	}
	if isNumber(text) {
		return newNumberValue(text), nil
	}
	return newStringValue(text), nil
}

// span is one field of a message: its value msg[vs:ve] (delimiters dropped)
// and where its raw text starts.
type span struct{ vs, ve, rs int }

// nextField finds the field at or after i (the "Fields" rules of
// space-delimited patterns); next is where the following scan starts. ok is false when only whitespace is left.
func nextField(msg string, i int) (f span, next int, ok bool) {
	for i < len(msg) && isWS(msg[i]) {
		i++
	}
	if i >= len(msg) {
		return span{}, i, false
	}
	f.rs = i
	if c := msg[i]; c == '"' || c == '[' {
		closer := byte('"')
		if c == '[' {
			closer = ']'
		}
		if j := strings.IndexByte(msg[i+1:], closer); j >= 0 {
			f.vs, f.ve = i+1, i+1+j
			return f, f.ve + 1, true
		}
	}
	f.vs = i
	for i < len(msg) && !isWS(msg[i]) {
		i++
	}
	f.ve = i
	return f, i, true
}

func posKey(pos int) string { return "$" + strconv.Itoa(pos) }

// match binds msg's fields to the slots and tests every condition. When
// values is not nil it also receives the extracted values.
func (d *delimPattern) match(msg string, values *extraction) bool {
	n := len(d.slots)
	k := d.ellipsis
	if k < 0 {
		return d.matchPrefix(msg, n-1, values, true)
	}
	if k == n-1 {
		return d.matchPrefix(msg, k, values, false)
	}
	var buf [64]span
	fields := buf[:0]
	for i := 0; ; {
		f, next, ok := nextField(msg, i)
		if !ok {
			break
		}
		fields = append(fields, f)
		i = next
	}
	tail := n - k - 1
	if len(fields) < n-1 {
		return false
	}
	for j := 0; j < k; j++ {
		if !d.bind(j, j, msg, fields[j], values) {
			return false
		}
	}
	off := len(fields) - tail
	for j := 0; j < tail; j++ {
		if !d.bind(k+1+j, off+j, msg, fields[off+j], nil) {
			return false
		}
	}
	if values != nil {
		// Recorded after the tests so the values come in field order.
		for j := k; j < off; j++ {
			values.set(posKey(j+1), msg[fields[j].vs:fields[j].ve])
		}
		for j := 0; j < tail; j++ {
			d.bind(k+1+j, off+j, msg, fields[off+j], values)
		}
	}
	return true
}

// bind tests slot s against field number pos (0-based) and records it.
func (d *delimPattern) bind(s, pos int, msg string, f span, values *extraction) bool {
	text := msg[f.vs:f.ve]
	sl := &d.slots[s]
	if !sl.test(text) {
		return false
	}
	if values != nil {
		if sl.key != "" {
			values.set(sl.key, text)
		} else {
			values.set(posKey(pos+1), text)
		}
	}
	return true
}

// matchPrefix binds the first m slots to the first m fields. With
// lastTakesRest, slot m then takes the rest of the message; otherwise slot m
// is "..." and absorbs what is left.
func (d *delimPattern) matchPrefix(msg string, m int, values *extraction, lastTakesRest bool) bool {
	i := 0
	for j := 0; j < m; j++ {
		f, next, ok := nextField(msg, i)
		if !ok || !d.bind(j, j, msg, f, values) {
			return false
		}
		i = next
	}
	if lastTakesRest {
		f, next, ok := nextField(msg, i)
		if !ok {
			return false
		}
		for next < len(msg) && isWS(msg[next]) {
			next++
		}
		if next < len(msg) {
			// More fields follow: the last slot takes the rest verbatim.
			f.vs, f.ve = f.rs, len(strings.TrimRight(msg, wsChars))
		}
		return d.bind(m, m, msg, f, values)
	}
	if values != nil {
		for pos := m; ; pos++ {
			f, next, ok := nextField(msg, i)
			if !ok {
				break
			}
			values.set(posKey(pos+1), msg[f.vs:f.ve])
			i = next
		}
	}
	return true
}

// extraction collects extracted values in field order; a repeated key keeps
// its first place and takes the last value (the last binding wins).
type extraction struct{ list []Value }

func (x *extraction) set(k, v string) {
	for i := range x.list {
		if x.list[i].Key == k {
			x.list[i].Text = v
			return
		}
	}
	x.list = append(x.list, Value{Key: k, Text: v})
}
