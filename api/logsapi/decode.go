package logsapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// decode fills dst, a pointer to a request struct, from a JSON 1.1 body.
//
// encoding/json is not used directly because it matches member names
// without regard to case ("LOGGROUPNAME" would fill logGroupName) and
// gives errors in Go's words; AWS's decoder matches names exactly, ignores
// members it does not know and answers a value of the wrong type with a
// SerializationException. Members are read into pointers, slices and maps
// so that an absent (or null) member stays nil and the shape checks can
// tell it from a zero value.
//
// The body is checked once by json.Valid; the walk that fills dst then
// relies on it being valid JSON and only finds where each value ends. It
// used to read each level into json.RawMessage values with
// json.Unmarshal, which checked every byte again at every level: a
// PutLogEvents body of 5,000 events took 40 ms, a third of the server's
// time under load (BenchmarkDecodePutLogEvents).
func decode(body []byte, dst any) error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil // an empty body is {}
	}
	if !json.Valid(body) {
		var v any
		err := json.Unmarshal(body, &v)
		return serializationError("The request body is not valid JSON: %v", err)
	}
	if body[0] != '{' {
		return serializationError("The request body must be a JSON object, got %s.", kindOf(body))
	}
	return decodeValue(body, reflect.ValueOf(dst).Elem(), nil)
}

// path names a member for errors without building the name unless an
// error needs it: a member of a structure or map (name), or an element of
// a list (index, name empty).
type path struct {
	up    *path
	name  string
	index int
}

func (p *path) String() string {
	if p == nil {
		return ""
	}
	if p.name == "" {
		return fmt.Sprintf("%s[%d]", p.up, p.index)
	}
	if p.up == nil {
		return p.name
	}
	return p.up.String() + "." + p.name
}

// fieldsByName caches, per request struct type, its fields' JSON member
// names and the index of each field by name.
var fieldsByName sync.Map // reflect.Type → *fieldNames

type fieldNames struct {
	names []string // by field index; "" for a field without one
	index map[string]int
}

func fieldsOf(t reflect.Type) *fieldNames {
	if f, ok := fieldsByName.Load(t); ok {
		return f.(*fieldNames)
	}
	f := &fieldNames{names: make([]string, t.NumField()), index: map[string]int{}}
	for i := range f.names {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			f.names[i], f.index[name] = name, i
		}
	}
	fieldsByName.Store(t, f)
	return f
}

// decodeValue decodes raw, one valid JSON value without surrounding space,
// into v; at names the member for errors.
func decodeValue(raw []byte, v reflect.Value, at *path) error {
	if raw[0] == 'n' { // null: the only valid value starting with n
		v.SetZero()
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		if err := decodeValue(raw, p.Elem(), at); err != nil {
			return err
		}
		v.Set(p)
		return nil
	case reflect.Struct:
		if raw[0] != '{' {
			return typeError(at, "a structure", raw)
		}
		// Members are decoded in the order of the fields, the last of
		// duplicate members winning, so the member a type error names does
		// not depend on the order the client wrote them in.
		fields := fieldsOf(v.Type())
		var buf [16][]byte
		vals := buf[:0]
		if n := v.NumField(); n > len(buf) {
			vals = make([][]byte, n)
		} else {
			vals = buf[:n]
		}
		for it := (members{b: raw, i: 1}); ; {
			key, val, ok := it.next()
			if !ok {
				break
			}
			if i, known := fields.index[unquote(key)]; known {
				vals[i] = val
			}
		}
		for i, val := range vals {
			if val != nil {
				if err := decodeValue(val, v.Field(i), &path{up: at, name: fields.names[i]}); err != nil {
					return err
				}
			}
		}
		return nil
	case reflect.Slice:
		if raw[0] != '[' {
			return typeError(at, "a list", raw)
		}
		var spans [][]byte
		for it := (elements{b: raw, i: 1}); ; {
			val := it.next()
			if val == nil {
				break
			}
			spans = append(spans, val)
		}
		s := reflect.MakeSlice(v.Type(), len(spans), len(spans))
		for k, val := range spans {
			if err := decodeValue(val, s.Index(k), &path{up: at, index: k}); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	case reflect.Map:
		if raw[0] != '{' {
			return typeError(at, "a map", raw)
		}
		out := reflect.MakeMap(v.Type())
		for it := (members{b: raw, i: 1}); ; {
			key, val, ok := it.next()
			if !ok {
				break
			}
			k := unquote(key)
			e := reflect.New(v.Type().Elem()).Elem()
			if err := decodeValue(val, e, &path{up: at, name: k}); err != nil {
				return err
			}
			out.SetMapIndex(reflect.ValueOf(k).Convert(v.Type().Key()), e)
		}
		v.Set(out)
		return nil
	case reflect.String:
		if raw[0] != '"' {
			return typeError(at, "a string", raw)
		}
		v.SetString(unquote(raw))
		return nil
	case reflect.Bool:
		switch string(raw) {
		case "true":
			v.SetBool(true)
		case "false":
			v.SetBool(false)
		default:
			return typeError(at, "a boolean", raw)
		}
		return nil
	case reflect.Int64:
		if !isNumber(raw) {
			return typeError(at, "a number", raw)
		}
		n, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil {
			// 1e3 or 5.0 name an integer too; 1.5 and 1e30 do not.
			f, ferr := strconv.ParseFloat(string(raw), 64)
			if ferr != nil || f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
				return serializationError("The value %s of member '%s' is not an integer in the range of a 64-bit number.", raw, at)
			}
			n = int64(f)
		}
		v.SetInt(n)
		return nil
	case reflect.Float64:
		if !isNumber(raw) {
			return typeError(at, "a number", raw)
		}
		f, err := strconv.ParseFloat(string(raw), 64)
		if err != nil {
			return serializationError("The value %s of member '%s' is not a number in the range of a double.", raw, at)
		}
		v.SetFloat(f)
		return nil
	}
	return fmt.Errorf("logsapi: cannot decode into %s", v.Type()) // a request type this file does not support
}

// The walk below reads JSON that json.Valid has accepted, so it only
// looks for where values end and never checks a byte twice.

// members walks the members of an object; i starts after its '{'.
type members struct {
	b []byte
	i int
}

// next returns the next member's key (quoted, as written) and value.
func (m *members) next() (key, val []byte, ok bool) {
	b := m.b
	i := skipSpace(b, m.i)
	if b[i] == ',' {
		i = skipSpace(b, i+1)
	}
	if b[i] == '}' {
		return nil, nil, false
	}
	end := skipString(b, i)
	key = b[i:end]
	i = skipSpace(b, end) + 1 // the ':'
	i = skipSpace(b, i)
	end = skipValue(b, i)
	m.i = end
	return key, b[i:end], true
}

// elements walks the elements of an array; i starts after its '['.
type elements struct {
	b []byte
	i int
}

// next returns the next element, nil after the last.
func (e *elements) next() []byte {
	b := e.b
	i := skipSpace(b, e.i)
	if b[i] == ',' {
		i = skipSpace(b, i+1)
	}
	if b[i] == ']' {
		return nil
	}
	end := skipValue(b, i)
	e.i = end
	return b[i:end]
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the end of the string that starts at b[i] == '"': the
// first quote after it not escaped by an odd number of backslashes.
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		q := bytes.IndexByte(b[i:], '"')
		if q < 0 {
			return len(b)
		}
		i += q
		n := 0
		for j := i - 1; b[j] == '\\'; j-- {
			n++
		}
		if n%2 == 0 {
			return i + 1
		}
	}
	return len(b)
}

// skipValue returns the end of the value that starts at b[i].
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = skipString(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return len(b)
	}
	for i < len(b) { // a number, true, false or null
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
		i++
	}
	return i
}

// unquote is the text of a quoted JSON string. Without escapes and with
// valid UTF-8 that is its bytes; otherwise encoding/json reads it, which
// decodes the escapes (surrogate pairs included) and replaces invalid
// UTF-8 and lone surrogates with U+FFFD.
func unquote(q []byte) string {
	s := q[1 : len(q)-1]
	if bytes.IndexByte(s, '\\') < 0 && utf8.Valid(s) {
		return string(s)
	}
	var out string
	_ = json.Unmarshal(q, &out) // valid: json.Valid accepted the body
	return out
}

func isNumber(raw []byte) bool { return raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9' }

// kindOf names the JSON kind of raw for errors.
func kindOf(raw []byte) string {
	switch raw[0] {
	case '{':
		return "a structure"
	case '[':
		return "a list"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

func typeError(at *path, want string, raw []byte) error {
	return serializationError("Member '%s' must be %s, got %s.", at, want, kindOf(raw))
}

func serializationError(format string, args ...any) error {
	return &apiError{status: 400, code: codeSerialization, message: fmt.Sprintf(format, args...)}
}
