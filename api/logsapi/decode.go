package logsapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
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
	return decodeValue(body, reflect.ValueOf(dst).Elem(), "")
}

// decodeValue decodes raw (valid JSON) into v; path names the member for
// errors.
func decodeValue(raw json.RawMessage, v reflect.Value, path string) error {
	raw = bytes.TrimSpace(raw)
	if string(raw) == "null" {
		v.SetZero()
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		if err := decodeValue(raw, p.Elem(), path); err != nil {
			return err
		}
		v.Set(p)
		return nil
	case reflect.Struct:
		if raw[0] != '{' {
			return typeError(path, "a structure", raw)
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			return serializationError("%v", err)
		}
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
			if name == "" || name == "-" {
				continue
			}
			if r, ok := m[name]; ok {
				if err := decodeValue(r, v.Field(i), join(path, name)); err != nil {
					return err
				}
			}
		}
		return nil
	case reflect.Slice:
		if raw[0] != '[' {
			return typeError(path, "a list", raw)
		}
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return serializationError("%v", err)
		}
		s := reflect.MakeSlice(v.Type(), len(items), len(items))
		for i, r := range items {
			if err := decodeValue(r, s.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	case reflect.Map:
		if raw[0] != '{' {
			return typeError(path, "a map", raw)
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			return serializationError("%v", err)
		}
		out := reflect.MakeMapWithSize(v.Type(), len(m))
		for k, r := range m {
			e := reflect.New(v.Type().Elem()).Elem()
			if err := decodeValue(r, e, join(path, k)); err != nil {
				return err
			}
			out.SetMapIndex(reflect.ValueOf(k).Convert(v.Type().Key()), e)
		}
		v.Set(out)
		return nil
	case reflect.String:
		if raw[0] != '"' {
			return typeError(path, "a string", raw)
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return serializationError("%v", err)
		}
		v.SetString(s)
		return nil
	case reflect.Bool:
		switch string(raw) {
		case "true":
			v.SetBool(true)
		case "false":
			v.SetBool(false)
		default:
			return typeError(path, "a boolean", raw)
		}
		return nil
	case reflect.Int64:
		if !isNumber(raw) {
			return typeError(path, "a number", raw)
		}
		n, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil {
			// 1e3 or 5.0 name an integer too; 1.5 and 1e30 do not.
			f, ferr := strconv.ParseFloat(string(raw), 64)
			if ferr != nil || f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
				return serializationError("The value %s of member '%s' is not an integer in the range of a 64-bit number.", raw, path)
			}
			n = int64(f)
		}
		v.SetInt(n)
		return nil
	case reflect.Float64:
		if !isNumber(raw) {
			return typeError(path, "a number", raw)
		}
		f, err := strconv.ParseFloat(string(raw), 64)
		if err != nil {
			return serializationError("The value %s of member '%s' is not a number in the range of a double.", raw, path)
		}
		v.SetFloat(f)
		return nil
	}
	return fmt.Errorf("logsapi: cannot decode into %s", v.Type()) // a request type this file does not support
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
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

func typeError(path, want string, raw []byte) error {
	return serializationError("Member '%s' must be %s, got %s.", path, want, kindOf(raw))
}

func serializationError(format string, args ...any) error {
	return &apiError{status: 400, code: codeSerialization, message: fmt.Sprintf(format, args...)}
}
