package cwapi

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"reflect"
	"strconv"
	"unicode/utf8"
)

// The AWS JSON 1.0 protocol, which botocore of 2025 on chooses for
// CloudWatch (its model lists smithy-rpc-v2-cbor, json and query):
// POST / with X-Amz-Target: GraniteServiceVersion20100801.<Action>,
// Content-Type application/x-amz-json-1.0 and a JSON object of the
// members; times are epoch seconds; errors are {"__type", "message"} with
// the Query code in X-Amzn-Query-Error, as for CBOR
// (https://smithy.io/2.0/aws/protocols/aws-json-1_0-protocol.html).

// TargetPrefix is the X-Amz-Target prefix of CloudWatch's JSON protocol.
const TargetPrefix = "GraniteServiceVersion20100801"

// jsonInput reads a JSON object of members (numbers kept as json.Number).
type jsonInput struct {
	m      map[string]any
	prefix string
}

func decodeJSON(body []byte) (jsonInput, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return jsonInput{m: map[string]any{}}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return jsonInput{}, &apiError{code: codeSerialization, message: "The request body is not valid JSON: " + err.Error()}
	}
	m, ok := v.(map[string]any)
	if !ok {
		return jsonInput{}, &apiError{code: codeSerialization, message: "The request body must be a JSON object of the action's members."}
	}
	return jsonInput{m: m}, nil
}

func (j jsonInput) path(name string) string { return j.prefix + name }

func (j jsonInput) get(name string) (any, bool) {
	v, ok := j.m[name]
	return v, ok && v != nil
}

func (j jsonInput) str(name string) (string, bool, error) {
	v, ok := j.get(name)
	if !ok {
		return "", false, nil
	}
	s, ok := v.(string)
	if !ok || !utf8.ValidString(s) {
		return "", true, typeError(j.path(name), "string")
	}
	return s, true, nil
}

func (j jsonInput) integer(name string) (int64, bool, error) {
	v, ok := j.get(name)
	if !ok {
		return 0, false, nil
	}
	n, ok := v.(json.Number)
	if !ok {
		return 0, true, typeError(j.path(name), "integer")
	}
	i, err := n.Int64()
	if err != nil {
		return 0, true, typeError(j.path(name), "integer")
	}
	return i, true, nil
}

func (j jsonInput) double(name string) (float64, bool, error) {
	v, ok := j.get(name)
	if !ok {
		return 0, false, nil
	}
	n, ok := v.(json.Number)
	if !ok {
		return 0, true, typeError(j.path(name), "number")
	}
	x, err := n.Float64()
	if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
		return 0, true, typeError(j.path(name), "number")
	}
	return x, true, nil
}

func (j jsonInput) boolean(name string) (bool, bool, error) {
	v, ok := j.get(name)
	if !ok {
		return false, false, nil
	}
	b, ok := v.(bool)
	if !ok {
		return false, true, typeError(j.path(name), "boolean")
	}
	return b, true, nil
}

// time reads epoch seconds (the protocol's form) or an ISO 8601 string.
func (j jsonInput) time(name string) (int64, bool, error) {
	v, ok := j.get(name)
	if !ok {
		return 0, false, nil
	}
	var s string
	switch t := v.(type) {
	case json.Number:
		s = string(t)
	case string:
		s = t
	default:
		return 0, true, typeError(j.path(name), "timestamp (epoch seconds)")
	}
	ms, err := parseTime(s)
	if err != nil {
		return 0, true, typeError(j.path(name), "timestamp (epoch seconds)")
	}
	return ms, true, nil
}

func (j jsonInput) list(name string) ([]any, bool, error) {
	v, ok := j.get(name)
	if !ok {
		return nil, false, nil
	}
	l, ok := v.([]any)
	if !ok {
		return nil, true, typeError(j.path(name), "list")
	}
	return l, true, nil
}

func (j jsonInput) strs(name string) ([]string, bool, error) {
	l, ok, err := j.list(name)
	if !ok || err != nil {
		return nil, ok, err
	}
	out := make([]string, 0, len(l))
	for i, v := range l {
		s, ok := v.(string)
		if !ok || !utf8.ValidString(s) {
			return nil, true, typeError(j.path(name)+".member."+strconv.Itoa(i+1), "string")
		}
		out = append(out, s)
	}
	return out, true, nil
}

func (j jsonInput) structs(name string) ([]input, bool, error) {
	l, ok, err := j.list(name)
	if !ok || err != nil {
		return nil, ok, err
	}
	out := make([]input, 0, len(l))
	for i, v := range l {
		p := j.path(name) + ".member." + strconv.Itoa(i+1)
		m, ok := v.(map[string]any)
		if !ok {
			return nil, true, typeError(p, "structure")
		}
		out = append(out, jsonInput{m: m, prefix: p + "."})
	}
	return out, true, nil
}

func (j jsonInput) object(name string) (input, bool, error) {
	v, ok := j.get(name)
	if !ok {
		return jsonInput{m: map[string]any{}, prefix: j.path(name) + "."}, false, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, true, typeError(j.path(name), "structure")
	}
	return jsonInput{m: m, prefix: j.path(name) + "."}, true, nil
}

// toJSON converts an answer to JSON values: times as epoch seconds with
// their milliseconds.
func toJSON(v reflect.Value) any {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	switch {
	case v.Type() == timestampType:
		ms := v.Int()
		s := strconv.FormatInt(ms/1000, 10)
		if r := ms % 1000; r != 0 {
			if r < 0 {
				r = -r
			}
			s += "." + strconv.FormatInt(1000+r, 10)[1:]
		}
		return json.Number(s)
	case v.Kind() == reflect.Slice:
		l := make([]any, v.Len())
		for i := range l {
			l[i] = toJSON(v.Index(i))
		}
		return l
	case v.Kind() == reflect.Struct:
		m := map[string]any{}
		for _, f := range members(v) {
			if f.omitempty && empty(f.v) || f.v.Kind() == reflect.Pointer && f.v.IsNil() {
				continue
			}
			m[f.name] = toJSON(f.v)
		}
		return m
	case v.Kind() == reflect.Float64:
		// JSON has no infinities: Smithy's JSON protocols write the
		// non-numeric doubles as strings.
		switch f := v.Float(); {
		case math.IsNaN(f):
			return "NaN"
		case math.IsInf(f, 1):
			return "Infinity"
		case math.IsInf(f, -1):
			return "-Infinity"
		default:
			return json.Number(formatDouble(f)) // 1.0, as CloudWatch writes doubles
		}
	}
	return v.Interface()
}

// ServeJSON answers one authenticated AWS JSON 1.0 request: action is the
// part of X-Amz-Target after "GraniteServiceVersion20100801.", body a JSON
// object of its members. The answer is a JSON object ({} for an action
// without output).
func (h *Handler) ServeJSON(w http.ResponseWriter, action string, body []byte, id string) {
	in, err := decodeJSON(body)
	var out any
	if err == nil {
		out, err = h.do(action, in)
	}
	if err != nil {
		status, code, msg := errorOf(err)
		WriteJSONError(w, status, code, msg, id)
		return
	}
	v := any(map[string]any{})
	if out != nil {
		v = toJSON(reflect.ValueOf(out))
	}
	writeJSON(w, http.StatusOK, v)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(v) // strings, numbers, lists and maps: cannot fail
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

// WriteJSONError writes an AWS JSON 1.0 error: {"__type": shape,
// "message": text}, the Query code and fault in X-Amzn-Query-Error.
func WriteJSONError(w http.ResponseWriter, status int, code, message, id string) {
	typ := code
	if s, ok := errorShapes[code]; ok {
		typ = s.shape
	}
	w.Header().Set("X-Amzn-Query-Error", code+";"+faultOf(status))
	writeJSON(w, status, map[string]any{"__type": "com.amazonaws.cloudwatch#" + typ, "message": message})
}
