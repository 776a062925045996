// Package filterpattern implements the CloudWatch Logs filter-pattern language
// (docs/aws-behaviour.md, "Filter pattern syntax"): term lists, %regex%
// patterns, JSON { $.x … } patterns and space-delimited [ … ] patterns.
// FilterLogEvents, metric filters and TestMetricFilter all share it, so a
// pattern means the same thing in each.
//
// Compile once, then Match many times: matching a delimited pattern does not
// allocate, because it runs over every stored event of a log group.
package filterpattern

import (
	"fmt"
	"strings"
	"unsafe"
)

// MaxLength is the longest pattern AWS accepts, in characters.
const MaxLength = 1024

// MaxRegexes is how many %regex% values one JSON or delimited pattern may
// hold (docs/aws-behaviour.md, "Regular expressions").
const MaxRegexes = 2

// Code is the AWS error code of every pattern error.
const Code = "InvalidParameterException"

// AWS message texts; MsgInvalid is [Choice] (docs/aws-behaviour.md, "Pattern
// errors").
const (
	MsgInvalid      = "Invalid filter pattern"
	MsgJSONNotClose = "If a filter pattern starts with '{' it must end with '}'"
)

// Kind says which of the four pattern languages a pattern uses
// (docs/aws-behaviour.md, "Pattern kinds").
type Kind int

const (
	MatchAll  Kind = iota // empty, whitespace only, or ""
	Terms                 // words and "phrases" with ? and -
	Regex                 // %…% over the whole message
	JSON                  // { $.x = … }
	Delimited             // [a, b=…, …]
)

func (k Kind) String() string {
	switch k {
	case MatchAll:
		return "match-all"
	case Terms:
		return "terms"
	case Regex:
		return "regex"
	case JSON:
		return "json"
	case Delimited:
		return "delimited"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Error is a pattern that does not compile. Msg is the AWS message
// (InvalidParameterException); Pos and Detail tell a person where and why.
type Error struct {
	Pattern string // the pattern as given
	Pos     int    // 1-based byte column in Pattern (as given, untrimmed)
	Msg     string // AWS message, e.g. MsgInvalid
	Detail  string // what is wrong at Pos
}

func (e *Error) Error() string {
	if e.Detail == "" {
		return fmt.Sprintf("%s: %s (column %d)", Code, e.Msg, e.Pos)
	}
	return fmt.Sprintf("%s: %s: column %d: %s", Code, e.Msg, e.Pos, e.Detail)
}

// Pattern is a compiled filter pattern; it is safe for concurrent use.
type Pattern struct {
	src  string
	kind Kind

	terms *termList
	re    *regexMatcher
	json  *jsonExpr
	delim *delimPattern

	regexes int
}

// Compile parses a filter pattern. Errors are *Error.
func Compile(pattern string) (*Pattern, error) {
	p := &Pattern{src: pattern}
	if n := len([]rune(pattern)); n > MaxLength {
		return nil, &Error{Pattern: pattern, Pos: MaxLength + 1, Msg: MsgInvalid,
			Detail: fmt.Sprintf("pattern has %d characters, at most %d are allowed", n, MaxLength)}
	}
	lead := len(pattern) - len(strings.TrimLeft(pattern, wsChars))
	body := strings.Trim(pattern, wsChars)
	c := &compiler{src: pattern, off: lead}
	var err error
	switch {
	case body == "" || body == `""`:
		p.kind = MatchAll
	case body[0] == '{':
		p.kind = JSON
		p.json, err = c.compileJSON(body)
	case body[0] == '[':
		p.kind = Delimited
		p.delim, err = c.compileDelimited(body)
	case len(body) >= 2 && body[0] == '%' && body[len(body)-1] == '%':
		p.kind = Regex
		p.re, err = c.compileRegex(body[1:len(body)-1], 1)
	default:
		p.kind = Terms
		p.terms, err = c.compileTerms(body)
	}
	if err != nil {
		return nil, err
	}
	p.regexes = c.regexes
	return p, nil
}

// MustCompile is Compile for patterns known to be valid; it panics otherwise.
func MustCompile(pattern string) *Pattern {
	p, err := Compile(pattern)
	if err != nil {
		panic(err)
	}
	return p
}

// String returns the pattern exactly as given; AWS stores and echoes it so.
func (p *Pattern) String() string { return p.src }

// Kind reports which pattern language p uses.
func (p *Pattern) Kind() Kind { return p.kind }

// RegexCount is the number of %regex% parts in p; a log group may hold at
// most five metric filters with one.
func (p *Pattern) RegexCount() int { return p.regexes }

// Match reports whether msg matches. It does not retain msg.
func (p *Pattern) Match(msg []byte) bool {
	return p.MatchString(unsafe.String(unsafe.SliceData(msg), len(msg)))
}

// MatchString reports whether msg matches.
func (p *Pattern) MatchString(msg string) bool {
	switch p.kind {
	case MatchAll:
		return true
	case Terms:
		return p.terms.match(msg)
	case Regex:
		return p.re.match(msg)
	case JSON:
		return p.json.matchMessage(msg)
	case Delimited:
		return p.delim.match(msg, nil)
	}
	return false
}

// Extract matches msg and returns the extracted values TestMetricFilter
// reports (docs/aws-behaviour.md, "Space-delimited patterns"): "$name" for
// named slots, "$N" (1-based field position) for fields bound to empty
// slots or absorbed by "...". Only delimited patterns extract; the others
// return an empty, non-nil map on a match. values is nil when ok is false.
func (p *Pattern) Extract(msg string) (ok bool, values map[string]string) {
	ok, list := p.ExtractValues(msg)
	if !ok {
		return false, nil
	}
	values = make(map[string]string, len(list))
	for _, v := range list {
		values[v.Key] = v.Text
	}
	return true, values
}

// Value is one extracted value: Key is "$name" or "$N".
type Value struct {
	Key, Text string
}

// ExtractValues is Extract with the values in field order, for output that
// lists them as the message holds them. values is empty but non-nil on a
// match without values.
func (p *Pattern) ExtractValues(msg string) (ok bool, values []Value) {
	if p.kind != Delimited {
		if !p.MatchString(msg) {
			return false, nil
		}
		return true, []Value{}
	}
	x := &extraction{list: []Value{}}
	if !p.delim.match(msg, x) {
		return false, nil
	}
	return true, x.list
}

// SlotNames lists the named slots of a delimited pattern in order (nil for
// other kinds), so a metric filter can check that "$name" refers to one.
func (p *Pattern) SlotNames() []string {
	if p.delim == nil {
		return nil
	}
	var names []string
	for _, s := range p.delim.slots {
		if s.name != "" {
			names = append(names, s.name)
		}
	}
	return names
}

// Slots is the number of slots of a delimited pattern, "..." included (0 for other kinds).
func (p *Pattern) Slots() int {
	if p.delim == nil {
		return 0
	}
	return len(p.delim.slots)
}

// HasEllipsis reports whether a delimited pattern has a "..." slot.
func (p *Pattern) HasEllipsis() bool { return p.delim != nil && p.delim.ellipsis >= 0 }

const wsChars = " \t\r\n"

func isWS(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// compiler carries the pattern being compiled so errors can name a column of
// the original text.
type compiler struct {
	src     string
	off     int // byte offset of the trimmed body inside src
	regexes int
}

// errAt builds an *Error at byte offset i of the trimmed body.
func (c *compiler) errAt(i int, format string, args ...any) *Error {
	return &Error{Pattern: c.src, Pos: c.off + i + 1, Msg: MsgInvalid, Detail: fmt.Sprintf(format, args...)}
}
