package filterpattern

import (
	"strconv"
	"strings"
)

// op is a comparison operator of a JSON or slot condition.
type op uint8

const (
	opEQ op = iota
	opNE
	opLT
	opLE
	opGT
	opGE
)

var opNames = [...]string{"=", "!=", "<", "<=", ">", ">="}

func (o op) String() string { return opNames[o] }

// scanOp reads a comparison operator at s[0:], returning it and its length
// (0 when s does not start with one).
func scanOp(s string) (op, int) {
	if s == "" {
		return 0, 0
	}
	two := len(s) >= 2 && s[1] == '='
	switch s[0] {
	case '=':
		return opEQ, 1
	case '!':
		if two {
			return opNE, 2
		}
	case '<':
		if two {
			return opLE, 2
		}
		return opLT, 1
	case '>':
		if two {
			return opGE, 2
		}
		return opGT, 1
	}
	return 0, 0
}

type valueKind uint8

const (
	valString valueKind = iota
	valNumber
	valRegex
)

// value is the right-hand side of a condition (docs/aws-behaviour.md,
// "Comparing values").
type value struct {
	kind valueKind
	text string // literal text: the string (quotes removed) or the number as written
	// string values: wildcard form of text
	any            bool // "*" alone, or "**"
	prefix, suffix bool // a leading / trailing '*'
	core           string
	num            float64
	re             *regexMatcher
}

func newStringValue(text string) value {
	v := value{kind: valString, text: text, core: text}
	if text == "*" || text == "**" {
		v.any = true
		return v
	}
	if strings.HasPrefix(v.core, "*") {
		v.suffix = true // "*abc" tests the end of the target
		v.core = v.core[1:]
	}
	if strings.HasSuffix(v.core, "*") {
		v.prefix = true
		v.core = v.core[:len(v.core)-1]
	}
	return v
}

func newNumberValue(text string) value {
	n, _ := parseNumber(text)
	return value{kind: valNumber, text: text, num: n}
}

// matchString applies a string value's = test to target (wildcards only as
// first and/or last character).
func (v *value) matchString(t string) bool {
	switch {
	case v.any:
		return true
	case v.prefix && v.suffix:
		return strings.Contains(t, v.core)
	case v.prefix:
		return strings.HasPrefix(t, v.core)
	case v.suffix:
		return strings.HasSuffix(t, v.core)
	}
	return t == v.core
}

// compareText evaluates "target o v" where target is plain text (a
// delimited field, a JSON string or a JSON number's source text).
func (v *value) compareText(o op, t string) bool {
	switch v.kind {
	case valNumber:
		n, ok := parseNumber(t)
		if !ok {
			return false // [Choice] not numeric: false for every operator
		}
		return compareNum(o, n, v.num)
	case valRegex:
		m := v.re.match(t)
		if o == opNE {
			return !m
		}
		return m
	}
	m := v.matchString(t)
	if o == opNE {
		return !m
	}
	return m
}

func compareNum(o op, a, b float64) bool {
	switch o {
	case opEQ:
		return a == b
	case opNE:
		return a != b
	case opLT:
		return a < b
	case opLE:
		return a <= b
	case opGT:
		return a > b
	}
	return a >= b
}

// isNumber reports whether s fully matches the number rule of filter
// patterns: [+-] digits [. digits] [(e|E) [+-] digits].
func isNumber(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	d := i
	if i = skipDigits(s, i); i == d {
		return false
	}
	if i < len(s) && s[i] == '.' {
		d = i + 1
		if i = skipDigits(s, d); i == d {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		d = i
		if i = skipDigits(s, i); i == d {
			return false
		}
	}
	return i == len(s)
}

// skipDigits returns the index after the run of ASCII digits at s[i:].
func skipDigits(s string, i int) int {
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

// parseNumber converts s when it is a number per that rule. Short
// unsigned integers, the bulk of flow-log fields, skip strconv.
func parseNumber(s string) (float64, bool) {
	if n := len(s); n > 0 && n <= 15 {
		var v uint64
		i := 0
		for ; i < n; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				break
			}
			v = v*10 + uint64(c-'0')
		}
		if i == n {
			return float64(v), true
		}
	}
	if !isNumber(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		// Only a range error can get here: ±Inf compares sensibly.
		return f, true
	}
	return f, true
}

// ParseNumber converts s when it fully matches the number rule of filter
// patterns ([+-] digits [. digits] [e [+-] digits]), the test every numeric
// condition and metric value applies; "-", "1.", "0x1" and "NaN" are not numbers.
func ParseNumber(s string) (float64, bool) { return parseNumber(s) }
