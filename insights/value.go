package insights

import (
	"cmp"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Kind is the type of a Value.
type Kind uint8

// The kinds of values a query handles. Discovered fields are strings; they
// turn into numbers only where a number is needed (docs/aws-behaviour.md,
// "Logs Insights").
const (
	Null Kind = iota
	String
	Number
	Bool
	Time // N holds epoch milliseconds
)

// Value is one field value. It is a small comparable struct so that rows and
// aggregation states hold values without pointers to chase.
type Value struct {
	K Kind
	N float64 // Number, Time (ms) and Bool (0/1)
	S string  // String
}

func strVal(s string) Value { return Value{K: String, S: s} }
func numVal(f float64) Value {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return Value{}
	}
	return Value{K: Number, N: f}
}
func boolVal(b bool) Value {
	if b {
		return Value{K: Bool, N: 1}
	}
	return Value{K: Bool}
}
func timeVal(ms int64) Value { return Value{K: Time, N: float64(ms)} }

// clone detaches a string value from the message bytes it may alias.
func (v Value) clone() Value {
	if v.K == String {
		v.S = strings.Clone(v.S)
	}
	return v
}

// num converts v to a number when it is one or a fully numeric string.
func (v Value) num() (float64, bool) {
	switch v.K {
	case Number, Time, Bool:
		return v.N, true
	case String:
		return parseNum(v.S)
	}
	return 0, false
}

// parseNum accepts decimal numbers only (sign, digits, fraction, exponent):
// ParseFloat alone would also take "inf", "NaN" and hex forms, which no log
// writer means as numbers. Plain integers, the common case in flow logs, skip
// ParseFloat.
func parseNum(s string) (float64, bool) {
	if len(s) == 0 || len(s) > 64 {
		return 0, false
	}
	i := 0
	neg := false
	if s[0] == '-' || s[0] == '+' {
		neg = s[0] == '-'
		i = 1
	}
	if i == len(s) {
		return 0, false
	}
	var n uint64
	j := i
	for ; j < len(s) && s[j] >= '0' && s[j] <= '9'; j++ {
		if j-i < 18 {
			n = n*10 + uint64(s[j]-'0')
		}
	}
	if j == len(s) && j-i <= 18 {
		f := float64(n)
		if neg {
			f = -f
		}
		return f, true
	}
	// General shape check, then ParseFloat for the digits.
	digits := j - i
	if j < len(s) && s[j] == '.' {
		j++
		for ; j < len(s) && s[j] >= '0' && s[j] <= '9'; j++ {
			digits++
		}
	}
	if digits == 0 {
		return 0, false
	}
	if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
		j++
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		k := j
		for ; j < len(s) && s[j] >= '0' && s[j] <= '9'; j++ {
		}
		if k == j {
			return 0, false
		}
	}
	if j != len(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// str is the text form of v, as rendered in results.
func (v Value) str() string {
	switch v.K {
	case String:
		return v.S
	case Number:
		return formatNum(v.N)
	case Bool:
		if v.N != 0 {
			return "true"
		}
		return "false"
	case Time:
		return formatTime(int64(v.N))
	}
	return ""
}

// formatNum is the number rendering of results ([Choice]): shortest round
// trip, integers without a decimal point.
func formatNum(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// String renders v as GetQueryResults does; null renders as "".
func (v Value) String() string { return v.str() }

// timeLayout is the rendering of datetimes in results (AWS's).
const timeLayout = "2006-01-02 15:04:05.000"

func formatTime(ms int64) string { return time.UnixMilli(ms).UTC().Format(timeLayout) }

// truthy decides filters: booleans as such, the 1/0 functions as numbers.
func (v Value) truthy() bool {
	switch v.K {
	case Bool, Number:
		return v.N != 0
	case String:
		return v.S == "true"
	}
	return false
}

// compareValues orders two non-null values for the comparison operators:
// numerically when both convert, otherwise as text.
func compareValues(a, b Value) int {
	if x, ok := a.num(); ok {
		if y, ok := b.num(); ok {
			return cmpFloat(x, y)
		}
	}
	return strings.Compare(a.str(), b.str())
}

func equalValues(a, b Value) bool {
	if a.K == Bool || b.K == Bool {
		return a.str() == b.str()
	}
	return compareValues(a, b) == 0
}

func cmpFloat(x, y float64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// naturalCompare is the AWS sort order (docs/aws-behaviour.md, "Logs
// Insights"): nulls are handled by the caller; non-numeric values come
// before numeric ones, numbers compare by value, and strings compare run by
// run, digit runs by length then value.
func naturalCompare(a, b Value) int {
	x, aNum := a.num()
	y, bNum := b.num()
	switch {
	case aNum && bNum:
		return cmpFloat(x, y)
	case aNum:
		return 1
	case bNum:
		return -1
	}
	return naturalString(a.str(), b.str())
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func naturalString(a, b string) int {
	for len(a) > 0 && len(b) > 0 {
		ra, rb := runLen(a), runLen(b)
		da, db := isDigit(a[0]), isDigit(b[0])
		if da != db {
			// A digit run against a text run: the first code points decide.
			ca, _ := utf8.DecodeRuneInString(a)
			cb, _ := utf8.DecodeRuneInString(b)
			return cmp.Compare(int(ca), int(cb))
		}
		if da {
			if ra != rb {
				return cmp.Compare(ra, rb)
			}
			if c := strings.Compare(a[:ra], b[:rb]); c != 0 {
				return c
			}
		} else if c := strings.Compare(a[:ra], b[:rb]); c != 0 {
			// UTF-8 byte order is code point order.
			return c
		}
		a, b = a[ra:], b[rb:]
	}
	return cmp.Compare(len(a), len(b))
}

func runLen(s string) int {
	d := isDigit(s[0])
	i := 1
	for i < len(s) && isDigit(s[i]) == d {
		i++
	}
	return i
}

// sortCompare orders for `sort` and stats groups: natural order, nulls last
// in both directions (desc reverses only the non-null part).
func sortCompare(a, b Value, desc bool) int {
	switch {
	case a.K == Null && b.K == Null:
		return 0
	case a.K == Null:
		return 1
	case b.K == Null:
		return -1
	}
	c := naturalCompare(a, b)
	if desc {
		c = -c
	}
	return c
}
