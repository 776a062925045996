package cwapi

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/smithy-go/encoding/cbor"

	"github.com/vpcflow/vpcflow/api/query"
)

// input is one request's members, whichever protocol carried them: a
// Query form (package query) or a CBOR map. The actions read members
// through it, so each action is decoded once for both protocols.
//
// A member that is absent, or null in CBOR, reads as not given. A member
// of the wrong type is an error naming it as the Query protocol spells it
// ("MetricDataQueries.member.2.MetricStat.Period"), which is how
// CloudWatch's messages name members whatever the protocol.
type input interface {
	str(name string) (string, bool, error)
	integer(name string) (int64, bool, error)
	double(name string) (float64, bool, error)
	boolean(name string) (bool, bool, error)
	// time reads a timestamp as epoch milliseconds.
	time(name string) (int64, bool, error)
	strs(name string) ([]string, bool, error)
	structs(name string) ([]input, bool, error)
	object(name string) (input, bool, error)
	// path is the full Query name of a member of this input.
	path(name string) string
}

// typeError is the answer to a member of the wrong type.
func typeError(path, want string) error {
	return &apiError{code: codeInvalidParameterValue, message: fmt.Sprintf("The value of parameter %s is not a valid %s.", path, want)}
}

// formInput reads a Query form.
type formInput struct{ p query.Params }

func (f formInput) path(name string) string { return f.p.Name(name) }

func (f formInput) str(name string) (string, bool, error) {
	v, ok := f.p.Lookup(name)
	return v, ok, nil
}

func (f formInput) integer(name string) (int64, bool, error) {
	v, ok := f.p.Lookup(name)
	if !ok {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return 0, true, typeError(f.path(name), "integer")
	}
	return n, true, nil
}

func (f formInput) double(name string) (float64, bool, error) {
	v, ok := f.p.Lookup(name)
	if !ok {
		return 0, false, nil
	}
	x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
		return 0, true, typeError(f.path(name), "number")
	}
	return x, true, nil
}

func (f formInput) boolean(name string) (bool, bool, error) {
	v, ok := f.p.Lookup(name)
	if !ok {
		return false, false, nil
	}
	switch strings.ToLower(v) {
	case "true":
		return true, true, nil
	case "false":
		return false, true, nil
	}
	return false, true, typeError(f.path(name), "boolean")
}

func (f formInput) time(name string) (int64, bool, error) {
	v, ok := f.p.Lookup(name)
	if !ok {
		return 0, false, nil
	}
	ms, err := parseTime(v)
	if err != nil {
		return 0, true, typeError(f.path(name), "timestamp (ISO 8601, e.g. 2026-12-07T17:00:00Z)")
	}
	return ms, true, nil
}

// parseTime reads a Query timestamp: ISO 8601 as the SDKs send it
// (2026-12-07T17:00:00Z, with fractional seconds or an offset), or epoch
// seconds, which CloudWatch also accepts.
func parseTime(v string) (int64, error) {
	v = strings.TrimSpace(v)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04:05.999999999", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UnixMilli(), nil
		}
	}
	if x, err := strconv.ParseFloat(v, 64); err == nil && !math.IsNaN(x) && math.Abs(x) < 1e13 {
		return int64(math.Round(x * 1000)), nil
	}
	return 0, fmt.Errorf("not a timestamp")
}

// strs reads Name.member.N. An empty "Name=" is a given, empty list, as
// the SDKs send one.
func (f formInput) strs(name string) ([]string, bool, error) {
	if l := f.p.Members(name); l != nil {
		return l, true, nil
	}
	if v, ok := f.p.Lookup(name); ok && v == "" {
		return []string{}, true, nil
	}
	return nil, false, nil
}

func (f formInput) structs(name string) ([]input, bool, error) {
	l := f.p.Structs(name + ".member")
	if l == nil {
		if v, ok := f.p.Lookup(name); ok && v == "" {
			return []input{}, true, nil
		}
		return nil, false, nil
	}
	out := make([]input, len(l))
	for i, p := range l {
		out[i] = formInput{p}
	}
	return out, true, nil
}

func (f formInput) object(name string) (input, bool, error) {
	s, ok := f.p.Struct(name)
	return formInput{s}, ok, nil
}

// cborInput reads a CBOR map (the rpc-v2-cbor protocol): members by name,
// lists as arrays, timestamps as tag 1 over epoch seconds.
type cborInput struct {
	m      cbor.Map
	prefix string // Query name of this map: "" or "MetricDataQueries.member.1."
}

// decodeCBOR reads a request body: an empty body is an empty request, as
// the SDKs send one for an action without members.
func decodeCBOR(body []byte) (cborInput, error) {
	if len(body) == 0 {
		return cborInput{m: cbor.Map{}}, nil
	}
	v, err := cbor.Decode(body)
	if err != nil {
		return cborInput{}, &apiError{code: codeSerialization, message: "The request body is not valid CBOR: " + err.Error()}
	}
	m, ok := v.(cbor.Map)
	if !ok {
		return cborInput{}, &apiError{code: codeSerialization, message: "The request body must be a CBOR map of the action's members."}
	}
	return cborInput{m: m}, nil
}

func (c cborInput) path(name string) string { return c.prefix + name }

func (c cborInput) get(name string) (cbor.Value, bool) {
	v, ok := c.m[name]
	if !ok {
		return nil, false
	}
	switch v.(type) {
	case *cbor.Nil, *cbor.Undefined:
		return nil, false
	}
	return v, true
}

func (c cborInput) str(name string) (string, bool, error) {
	v, ok := c.get(name)
	if !ok {
		return "", false, nil
	}
	s, ok := v.(cbor.String)
	if !ok || !utf8.ValidString(string(s)) {
		return "", true, typeError(c.path(name), "string")
	}
	return string(s), true, nil
}

func (c cborInput) integer(name string) (int64, bool, error) {
	v, ok := c.get(name)
	if !ok {
		return 0, false, nil
	}
	n, err := cbor.AsInt64(v)
	if err != nil {
		return 0, true, typeError(c.path(name), "integer")
	}
	return n, true, nil
}

func (c cborInput) double(name string) (float64, bool, error) {
	v, ok := c.get(name)
	if !ok {
		return 0, false, nil
	}
	x, err := number(v)
	if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
		return 0, true, typeError(c.path(name), "number")
	}
	return x, true, nil
}

// number reads any CBOR number.
func number(v cbor.Value) (float64, error) {
	switch n := v.(type) {
	case cbor.Uint:
		return float64(n), nil
	case cbor.NegInt:
		if n == 0 {
			return -math.Pow(2, 64), nil
		}
		return -float64(n), nil
	case cbor.Float32:
		return float64(n), nil
	case cbor.Float64:
		return float64(n), nil
	}
	return 0, fmt.Errorf("not a number")
}

func (c cborInput) boolean(name string) (bool, bool, error) {
	v, ok := c.get(name)
	if !ok {
		return false, false, nil
	}
	b, ok := v.(cbor.Bool)
	if !ok {
		return false, true, typeError(c.path(name), "boolean")
	}
	return bool(b), true, nil
}

func (c cborInput) time(name string) (int64, bool, error) {
	v, ok := c.get(name)
	if !ok {
		return 0, false, nil
	}
	t, ok := v.(*cbor.Tag)
	if !ok || t.ID != 1 {
		return 0, true, typeError(c.path(name), "timestamp (CBOR tag 1)")
	}
	x, err := number(t.Value)
	if err != nil || math.IsNaN(x) || math.Abs(x) >= 1e13 {
		return 0, true, typeError(c.path(name), "timestamp (CBOR tag 1)")
	}
	return int64(math.Round(x * 1000)), true, nil
}

func (c cborInput) list(name string) (cbor.List, bool, error) {
	v, ok := c.get(name)
	if !ok {
		return nil, false, nil
	}
	l, ok := v.(cbor.List)
	if !ok {
		return nil, true, typeError(c.path(name), "list")
	}
	return l, true, nil
}

func (c cborInput) strs(name string) ([]string, bool, error) {
	l, ok, err := c.list(name)
	if !ok || err != nil {
		return nil, ok, err
	}
	out := make([]string, 0, len(l))
	for i, v := range l {
		s, ok := v.(cbor.String)
		if !ok || !utf8.ValidString(string(s)) {
			return nil, true, typeError(c.path(name)+".member."+strconv.Itoa(i+1), "string")
		}
		out = append(out, string(s))
	}
	return out, true, nil
}

func (c cborInput) structs(name string) ([]input, bool, error) {
	l, ok, err := c.list(name)
	if !ok || err != nil {
		return nil, ok, err
	}
	out := make([]input, 0, len(l))
	for i, v := range l {
		p := c.path(name) + ".member." + strconv.Itoa(i+1)
		m, ok := v.(cbor.Map)
		if !ok {
			return nil, true, typeError(p, "structure")
		}
		out = append(out, cborInput{m: m, prefix: p + "."})
	}
	return out, true, nil
}

func (c cborInput) object(name string) (input, bool, error) {
	v, ok := c.get(name)
	if !ok {
		return cborInput{m: cbor.Map{}, prefix: c.path(name) + "."}, false, nil
	}
	m, ok := v.(cbor.Map)
	if !ok {
		return nil, true, typeError(c.path(name), "structure")
	}
	return cborInput{m: m, prefix: c.path(name) + "."}, true, nil
}
