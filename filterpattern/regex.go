package filterpattern

import (
	"regexp"
	"strings"
)

// regexMatcher is a validated %…% regular expression (docs/aws-behaviour.md,
// "Regular expressions"). AWS accepts a small subset of syntax; it is checked
// here character by character so the error can point at the offending one,
// then handed to RE2, whose meaning is the same for that subset.
type regexMatcher struct {
	re *regexp.Regexp
	// lit is set when the regex is a plain literal: a substring test is
	// then much faster than the regexp engine.
	lit    string
	isLit  bool
	source string
}

func (r *regexMatcher) match(s string) bool {
	if r.isLit {
		return strings.Contains(s, r.lit)
	}
	return r.re.MatchString(s)
}

func isRegexLiteral(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte(" :_#=@/;,-", c) >= 0
}

func isRegexOperator(c byte) bool { return strings.IndexByte(`^$.*+?|[]{}\`, c) >= 0 }

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// compileRegex validates body (the text between the % signs, which starts
// at byte start of the trimmed pattern) and compiles it.
func (c *compiler) compileRegex(body string, start int) (*regexMatcher, error) {
	c.regexes++
	if body == "" {
		return nil, c.errAt(start, "empty regular expression %%%%")
	}
	var out strings.Builder
	inClass := false
	classStart := 0
	literal := true
	var lit strings.Builder
	for i := 0; i < len(body); i++ {
		ch := body[i]
		pos := start + i
		switch {
		case ch == '\\':
			if i+1 >= len(body) {
				return nil, c.errAt(pos, "regular expression ends with a lone backslash")
			}
			e := body[i+1]
			switch {
			case e == 's':
				if inClass {
					out.WriteString(`\t\n `)
				} else {
					out.WriteString(`[\t\n ]`)
				}
				literal = false
				i++
			case strings.IndexByte("dDSwW", e) >= 0:
				out.WriteByte('\\')
				out.WriteByte(e)
				literal = false
				i++
			case e == 'x':
				if i+3 >= len(body) || !isHex(body[i+2]) || !isHex(body[i+3]) {
					return nil, c.errAt(pos, `\x must be followed by two hex digits`)
				}
				h := body[i : i+4]
				out.WriteString(h)
				lit.WriteByte(unhex(body[i+2])<<4 | unhex(body[i+3]))
				i += 3
			case isRegexOperator(e):
				out.WriteByte('\\')
				out.WriteByte(e)
				lit.WriteByte(e)
				i++
			default:
				return nil, c.errAt(pos, `unsupported escape \%c in regular expression`, e)
			}
		case ch == '{' && !inClass:
			end := strings.IndexByte(body[i:], '}')
			if end < 0 {
				return nil, c.errAt(pos, "unterminated repeat {m,n}")
			}
			rep := body[i+1 : i+end]
			if !validRepeat(rep) {
				return nil, c.errAt(pos, "invalid repeat {%s}: want {m}, {m,}, {,n} or {m,n}", rep)
			}
			if strings.HasPrefix(rep, ",") {
				rep = "0" + rep
			}
			out.WriteString("{" + rep + "}")
			literal = false
			i += end
		case ch == '[' && !inClass:
			inClass = true
			classStart = pos
			out.WriteByte('[')
			literal = false
			if i+1 < len(body) && body[i+1] == '^' {
				out.WriteByte('^')
				i++
			}
		case ch == ']' && inClass:
			inClass = false
			out.WriteByte(']')
		case inClass && (ch == '^' || ch == '.' || ch == '*' || ch == '+' || ch == '?' || ch == '|' || ch == '$' || ch == '{' || ch == '}' || ch == '['):
			// Operator characters stand for themselves inside a class; RE2
			// agrees except for '[' (POSIX classes), which is escaped.
			out.WriteByte('\\')
			out.WriteByte(ch)
		case isRegexOperator(ch):
			out.WriteByte(ch)
			literal = false
		case isRegexLiteral(ch):
			out.WriteByte(ch)
			lit.WriteByte(ch)
		case ch == '(' || ch == ')':
			return nil, c.errAt(pos, "groups ( ) are not allowed in a regular expression; write \\x28 or \\x29 for a literal parenthesis")
		case ch >= 0x80:
			return nil, c.errAt(pos, "non-ASCII character in regular expression")
		default:
			return nil, c.errAt(pos, "character %q is not allowed in a regular expression; write it as \\x%02X", ch, ch)
		}
	}
	if inClass {
		return nil, c.errAt(classStart, "unterminated character class [")
	}
	r := &regexMatcher{source: body}
	if literal {
		r.isLit, r.lit = true, lit.String()
	}
	re, err := regexp.Compile(out.String())
	if err != nil {
		return nil, c.errAt(start, "invalid regular expression: %v", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
	}
	r.re = re
	return r, nil
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// validRepeat accepts the bounded-repeat bodies m, m, ,n and m,n.
func validRepeat(s string) bool {
	comma := strings.IndexByte(s, ',')
	if comma < 0 {
		return isDigits(s)
	}
	a, b := s[:comma], s[comma+1:]
	if a == "" && b == "" {
		return false
	}
	return (a == "" || isDigits(a)) && (b == "" || isDigits(b))
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
