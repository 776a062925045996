package cwapi

import (
	"bytes"
	"encoding/xml"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/aws/smithy-go/encoding/cbor"
)

// An action's answer is a Go struct whose fields carry the model's member
// names in a `cw` tag ("Name" or "Name,omitempty"); the same value is
// written as Query XML or as CBOR, so the two protocols cannot drift apart.
// Supported field types: string, bool, int, float64, timestamp, pointers
// to them, slices and structs of them. A slice without omitempty is
// written even when empty (<MetricAlarms/> in XML, [] in CBOR), as
// CloudWatch answers.

// timestamp is epoch milliseconds, written as AWS writes CloudWatch times:
// 2026-12-07T17:00:00.000Z in XML, tag 1 over epoch seconds in CBOR.
type timestamp int64

type member struct {
	name      string
	omitempty bool
	v         reflect.Value
}

// members lists the tagged fields of a struct, in declaration order (the
// order of the API model, which awscli prints).
func members(v reflect.Value) []member {
	t := v.Type()
	var out []member
	for i := 0; i < t.NumField(); i++ {
		tag, ok := t.Field(i).Tag.Lookup("cw")
		if !ok {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		out = append(out, member{name: name, omitempty: opts == "omitempty", v: v.Field(i)})
	}
	return out
}

// empty reports whether a member with omitempty is left out: a nil
// pointer, an empty string or slice, false, zero.
func empty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		return v.IsNil()
	case reflect.String, reflect.Slice:
		return v.Len() == 0
	case reflect.Bool:
		return !v.Bool()
	case reflect.Int, reflect.Int64, reflect.Int32:
		return v.Int() == 0
	case reflect.Float64:
		return v.Float() == 0
	}
	return false
}

var timestampType = reflect.TypeOf(timestamp(0))

// formatTime renders epoch ms as CloudWatch's XML does.
func formatTime(ms int64) string {
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z")
}

// formatDouble writes a double as CloudWatch's XML does: 70.0, 0.5,
// 1000000.0, with an exponent only when very large or very small.
func formatDouble(f float64) string {
	if a := math.Abs(f); a >= 1e21 || a != 0 && a < 1e-6 {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// writeXML writes the members of struct v as XML elements.
func writeXML(b *bytes.Buffer, v reflect.Value) {
	for _, m := range members(v) {
		if m.omitempty && empty(m.v) {
			continue
		}
		writeXMLValue(b, m.name, m.v)
	}
}

func writeXMLValue(b *bytes.Buffer, name string, v reflect.Value) {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	b.WriteString("<" + name + ">")
	switch {
	case v.Type() == timestampType:
		b.WriteString(formatTime(v.Int()))
	case v.Kind() == reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			writeXMLValue(b, "member", v.Index(i))
		}
	case v.Kind() == reflect.Struct:
		writeXML(b, v)
	case v.Kind() == reflect.String:
		xml.EscapeText(b, []byte(v.String()))
	case v.Kind() == reflect.Bool:
		b.WriteString(strconv.FormatBool(v.Bool()))
	case v.Kind() == reflect.Int || v.Kind() == reflect.Int64 || v.Kind() == reflect.Int32:
		b.WriteString(strconv.FormatInt(v.Int(), 10))
	case v.Kind() == reflect.Float64:
		b.WriteString(formatDouble(v.Float()))
	}
	b.WriteString("</" + name + ">")
}

// toCBOR converts an answer to a CBOR value.
func toCBOR(v reflect.Value) cbor.Value {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return &cbor.Nil{}
		}
		v = v.Elem()
	}
	switch {
	case v.Type() == timestampType:
		return cborTime(v.Int())
	case v.Kind() == reflect.Slice:
		l := make(cbor.List, v.Len())
		for i := range l {
			l[i] = toCBOR(v.Index(i))
		}
		return l
	case v.Kind() == reflect.Struct:
		m := cbor.Map{}
		for _, f := range members(v) {
			if f.omitempty && empty(f.v) || f.v.Kind() == reflect.Pointer && f.v.IsNil() {
				continue
			}
			m[f.name] = toCBOR(f.v)
		}
		return m
	case v.Kind() == reflect.String:
		return cbor.String(v.String())
	case v.Kind() == reflect.Bool:
		return cbor.Bool(v.Bool())
	case v.Kind() == reflect.Int || v.Kind() == reflect.Int64 || v.Kind() == reflect.Int32:
		if n := v.Int(); n < 0 {
			return cbor.NegInt(uint64(-n))
		} else {
			return cbor.Uint(uint64(n))
		}
	case v.Kind() == reflect.Float64:
		return cbor.Float64(v.Float())
	}
	return &cbor.Nil{}
}

// cborTime is tag 1 over epoch seconds: an integer for whole seconds,
// else a double chosen so that a reader computing int64(seconds*1000), as
// aws-sdk-go-v2 does, gets the milliseconds back exactly.
func cborTime(ms int64) cbor.Value {
	if ms%1000 == 0 {
		s := ms / 1000
		if s < 0 {
			return &cbor.Tag{ID: 1, Value: cbor.NegInt(uint64(-s))}
		}
		return &cbor.Tag{ID: 1, Value: cbor.Uint(uint64(s))}
	}
	f := float64(ms) / 1000
	for i := 0; i < 4 && int64(f*1000) != ms; i++ {
		if int64(f*1000) < ms {
			f = math.Nextafter(f, math.Inf(1))
		} else {
			f = math.Nextafter(f, math.Inf(-1))
		}
	}
	return &cbor.Tag{ID: 1, Value: cbor.Float64(f)}
}
