package filterpattern

import "strings"

// termList is a pattern of words and phrases (docs/aws-behaviour.md, "Term
// lists"): every plain term must occur, no "-" term may occur, and "?" terms
// count only when there is no plain or "-" term.
type termList struct {
	required, excluded, optional []string
}

func (t *termList) match(msg string) bool {
	if len(t.required) == 0 && len(t.excluded) == 0 {
		for _, s := range t.optional {
			if strings.Contains(msg, s) {
				return true
			}
		}
		return false
	}
	for _, s := range t.required {
		if !strings.Contains(msg, s) {
			return false
		}
	}
	for _, s := range t.excluded {
		if strings.Contains(msg, s) {
			return false
		}
	}
	return true
}

// readPhrase reads a "…" phrase starting at s[i] == '"'. It returns the
// unescaped text and the index just past the closing quote.
func (c *compiler) readPhrase(s string, i int) (string, int, error) {
	var b strings.Builder
	start := i
	i++
	for i < len(s) {
		switch s[i] {
		case '"':
			return b.String(), i + 1, nil
		case '\\':
			if i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\') {
				b.WriteByte(s[i+1])
				i += 2
				continue
			}
			return "", 0, c.errAt(i, `only \" and \\ may follow a backslash in a quoted phrase`)
		default:
			b.WriteByte(s[i])
			i++
		}
	}
	return "", 0, c.errAt(start, "unterminated quoted phrase")
}

func (c *compiler) compileTerms(body string) (*termList, error) {
	t := &termList{}
	i := 0
	for i < len(body) {
		for i < len(body) && isWS(body[i]) {
			i++
		}
		if i >= len(body) {
			break
		}
		termStart := i
		var dst *[]string = &t.required
		if body[i] == '?' || body[i] == '-' {
			if body[i] == '?' {
				dst = &t.optional
			} else {
				dst = &t.excluded
			}
			i++
			for i < len(body) && isWS(body[i]) {
				i++
			}
			if i >= len(body) {
				return nil, c.errAt(termStart, "%q must be followed by a term", body[termStart])
			}
		}
		var text string
		if body[i] == '"' {
			var err error
			text, i, err = c.readPhrase(body, i)
			if err != nil {
				return nil, err
			}
		} else {
			ws := i
			for i < len(body) && !isWS(body[i]) && body[i] != '"' {
				i++
			}
			text = body[ws:i]
			if k := strings.IndexByte(text, '*'); k >= 0 {
				return nil, &Error{Pattern: c.src, Pos: c.off + ws + k + 1,
					Msg:    "Invalid character(s) in term '" + text + "'",
					Detail: `"*" is not a wildcard in a term; quote the term to search for it literally`}
			}
		}
		if i < len(body) && !isWS(body[i]) {
			return nil, c.errAt(i, "terms must be separated by whitespace")
		}
		*dst = append(*dst, text)
	}
	return t, nil
}
