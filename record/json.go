package record

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// AppendJSON appends r as one compact JSON object in format f: keys are the
// AWS field names in format order (a field listed twice appears once),
// integers are numbers, absent values null, everything else strings.
func AppendJSON(dst []byte, f *Format, r *Record) []byte {
	dst = append(dst, '{')
	var seen [numFields]bool
	first := true
	for _, fd := range f.fields {
		if seen[fd] {
			continue
		}
		seen[fd] = true
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = append(dst, '"')
		dst = append(dst, infos[fd].Name...)
		dst = append(dst, '"', ':')
		switch {
		case IsAbsent(fd, r):
			dst = append(dst, "null"...)
		case infos[fd].Kind.Integer():
			dst = strconv.AppendInt(dst, *access[fd].num(r), 10)
		case infos[fd].Kind == KindString:
			dst = appendJSONString(dst, *access[fd].str(r))
		default: // addresses and enum words never need escaping
			dst = append(dst, '"')
			dst = AppendValue(dst, fd, r)
			dst = append(dst, '"')
		}
	}
	return append(dst, '}')
}

// appendJSONString writes s as a JSON string, escaping like encoding/json
// (control characters as \u00XX, invalid UTF-8 as U+FFFD) but without HTML
// escaping, so the output stays readable.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c < 0x20:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, `\ufffd`...)
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}

// DecodeJSON reads one JSON object into r in format f: each field of f is
// taken from the key of its name; a missing key or null is absent ("-"),
// keys not in f are ignored. Integer fields accept numbers (or strings of
// digits); other fields accept strings (or numbers, kept as written). Values
// must not be empty or contain white space, since they become one token of a
// text line.
func (d *Decoder) DecodeJSON(f *Format, data []byte, r *Record) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		return fmt.Errorf("want a JSON object: %v", jsonMsg(err))
	}
	r.Reset()
	for _, fd := range f.fields {
		raw, ok := obj[infos[fd].Name]
		if !ok {
			continue
		}
		raw = bytes.TrimSpace(raw)
		var tok []byte
		switch {
		case string(raw) == "null":
			continue
		case len(raw) > 0 && raw[0] == '"':
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return &FieldError{Field: fd, Want: "a JSON string", Got: string(raw)}
			}
			if s == "" || bytes.ContainsAny([]byte(s), " \t\r\n") {
				return &FieldError{Field: fd, Want: "a non-empty value without white space, or null", Got: s}
			}
			tok = []byte(s)
		case len(raw) > 0 && (raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9'):
			tok = raw
		default:
			return &FieldError{Field: fd, Want: "a string, a number or null", Got: string(raw)}
		}
		if err := d.decodeField(fd, tok, r); err != nil {
			return err
		}
	}
	return nil
}

// jsonMsg shortens encoding/json's errors to what a user can act on.
func jsonMsg(err error) string {
	if se, ok := err.(*json.SyntaxError); ok {
		return fmt.Sprintf("%v (at byte %d)", se, se.Offset)
	}
	return err.Error()
}
