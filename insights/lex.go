package insights

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Error is a query compile error with its position, as MalformedQueryException
// reports it (queryCompileError.location) plus a line and column for people.
type Error struct {
	Start, End int // character (code point) offsets into the query, End exclusive
	Line, Col  int // 1-based, Col in characters
	Msg        string
}

func (e *Error) Error() string {
	return fmt.Sprintf("query:%d:%d: %s", e.Line, e.Col, e.Msg)
}

// newError positions msg at the byte range [start, end) of src.
func newError(src string, start, end int, format string, args ...any) *Error {
	if start > len(src) {
		start = len(src)
	}
	if end < start {
		end = start
	}
	if end > len(src) {
		end = len(src)
	}
	e := &Error{Msg: fmt.Sprintf(format, args...)}
	e.Start = utf8.RuneCountInString(src[:start])
	e.End = e.Start + utf8.RuneCountInString(src[start:end])
	e.Line = 1 + strings.Count(src[:start], "\n")
	lineStart := strings.LastIndexByte(src[:start], '\n') + 1
	e.Col = 1 + utf8.RuneCountInString(src[lineStart:start])
	return e
}

type tokKind uint8

const (
	tEOF tokKind = iota
	tIdent
	tQuoted   // `name`
	tString   // '...' or "..."
	tNumber   // 12, 1.5
	tDuration // 5m
	tRegex    // /.../
	tOp       // punctuation and operators
)

type token struct {
	kind       tokKind
	start, end int    // byte offsets
	text       string // identifier, decoded string, regex body, operator, number text
}

func (t token) is(op string) bool { return t.kind == tOp && t.text == op }

// isKw tells whether t is the keyword kw (keywords are case-insensitive).
func (t token) isKw(kw string) bool { return t.kind == tIdent && strings.EqualFold(t.text, kw) }

func isIdentStart(c byte) bool {
	return c == '_' || c == '@' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}
func isIdentPart(c byte) bool { return isIdentStart(c) || isDigit(c) || c == '.' }

// skipSpace skips blanks and # comments.
func skipSpace(src string, p int) int {
	for p < len(src) {
		c := src[p]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			p++
		case c == '#':
			for p < len(src) && src[p] != '\n' {
				p++
			}
		default:
			return p
		}
	}
	return p
}

// lex reads the token at byte p. A '/' starts a regex only where the parser
// expects an operand (regexOK); elsewhere it is division.
func lex(src string, p int, regexOK bool) (token, *Error) {
	p = skipSpace(src, p)
	if p >= len(src) {
		return token{kind: tEOF, start: p, end: p}, nil
	}
	c := src[p]
	switch {
	case isIdentStart(c):
		q := p + 1
		for q < len(src) && isIdentPart(src[q]) {
			q++
		}
		return token{kind: tIdent, start: p, end: q, text: src[p:q]}, nil
	case isDigit(c) || (c == '.' && p+1 < len(src) && isDigit(src[p+1])):
		q := p
		for q < len(src) && isDigit(src[q]) {
			q++
		}
		if q < len(src) && src[q] == '.' {
			q++
			for q < len(src) && isDigit(src[q]) {
				q++
			}
		}
		if q < len(src) && (src[q] == 'e' || src[q] == 'E') {
			r := q + 1
			if r < len(src) && (src[r] == '+' || src[r] == '-') {
				r++
			}
			if r < len(src) && isDigit(src[r]) {
				for r < len(src) && isDigit(src[r]) {
					r++
				}
				q = r
			}
		}
		if q < len(src) && isIdentStart(src[q]) && src[q] != '@' {
			// A number glued to letters is a duration such as 5m or 1hour.
			r := q
			for r < len(src) && ((src[r] >= 'a' && src[r] <= 'z') || (src[r] >= 'A' && src[r] <= 'Z')) {
				r++
			}
			if r < len(src) && (isIdentPart(src[r])) {
				return token{}, newError(src, p, r+1, "invalid number or duration %q", src[p:r+1])
			}
			return token{kind: tDuration, start: p, end: r, text: src[p:r]}, nil
		}
		return token{kind: tNumber, start: p, end: q, text: src[p:q]}, nil
	case c == '\'' || c == '"':
		var b strings.Builder
		q := p + 1
		for q < len(src) {
			d := src[q]
			if d == c {
				return token{kind: tString, start: p, end: q + 1, text: b.String()}, nil
			}
			if d == '\\' && q+1 < len(src) {
				q++
				switch e := src[q]; e {
				case 'n':
					b.WriteByte('\n')
				case 't':
					b.WriteByte('\t')
				case 'r':
					b.WriteByte('\r')
				default:
					b.WriteByte(e)
				}
				q++
				continue
			}
			b.WriteByte(d)
			q++
		}
		return token{}, newError(src, p, len(src), "unterminated string")
	case c == '`':
		q := strings.IndexByte(src[p+1:], '`')
		if q < 0 {
			return token{}, newError(src, p, len(src), "unterminated backquoted field name")
		}
		if q == 0 {
			return token{}, newError(src, p, p+2, "empty field name")
		}
		return token{kind: tQuoted, start: p, end: p + q + 2, text: src[p+1 : p+1+q]}, nil
	case c == '/' && regexOK:
		var b strings.Builder
		q := p + 1
		for q < len(src) {
			d := src[q]
			if d == '/' {
				return token{kind: tRegex, start: p, end: q + 1, text: b.String()}, nil
			}
			if d == '\\' && q+1 < len(src) && src[q+1] == '/' {
				b.WriteByte('/')
				q += 2
				continue
			}
			if d == '\\' && q+1 < len(src) {
				b.WriteString(src[q : q+2])
				q += 2
				continue
			}
			b.WriteByte(d)
			q++
		}
		return token{}, newError(src, p, len(src), "unterminated regular expression")
	}
	for _, op := range [...]string{"!=", "<=", ">=", "=~", "==", "|", ",", "(", ")", "[", "]", "=", "<", ">", "+", "-", "*", "/", "%", "^"} {
		if strings.HasPrefix(src[p:], op) {
			return token{kind: tOp, start: p, end: p + len(op), text: op}, nil
		}
	}
	_, size := utf8.DecodeRuneInString(src[p:])
	return token{}, newError(src, p, p+size, "unexpected character %q", src[p:p+size])
}
