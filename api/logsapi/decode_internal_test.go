package logsapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// putBody is a PutLogEvents request of n flow-log lines as the SDKs send
// it.
func putBody(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"logGroupName":"/vpc/flows","logStreamName":"eni-0a1b2c3d4e5f60001-all","logEvents":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"timestamp":%d,"message":"2 123456789012 eni-0a1b2c3d4e5f60001 10.0.%d.%d 203.0.113.%d %d 443 6 %d %d 1714564800 1714564860 ACCEPT OK"}`,
			1714564800000+int64(i), i%200, i%250, i%100, 30000+i%30000, 1+i%20, 40+i%9000)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

// BenchmarkDecodePutLogEvents decodes a PutLogEvents request of 5,000
// events (about 600 KB) with the package's decoder, against
// encoding/json.Unmarshal of the same body into the same struct in the
// same run: the standard library's decoder matches names without regard
// to case and gives Go's errors, so it is only the baseline.
func BenchmarkDecodePutLogEvents(b *testing.B) {
	body := putBody(5000)
	b.Run("decode", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			var in putLogEventsIn
			if err := decode(body, &in); err != nil || len(in.LogEvents) != 5000 {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(5000*b.N)/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("baseline-encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			var in putLogEventsIn
			if err := json.Unmarshal(body, &in); err != nil || len(in.LogEvents) != 5000 {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(5000*b.N)/b.Elapsed().Seconds(), "events/s")
	})
}

// reference is the decoder this package had before decode walked the body
// once: each level read into json.RawMessage values by encoding/json. It
// is slow but simple, and FuzzDecode holds decode to it.
func reference(body []byte, dst any) error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil
	}
	if !json.Valid(body) {
		var v any
		err := json.Unmarshal(body, &v)
		return serializationError("The request body is not valid JSON: %v", err)
	}
	if body[0] != '{' {
		return serializationError("The request body must be a JSON object, got %s.", kindOf(body))
	}
	return referenceValue(body, reflect.ValueOf(dst).Elem(), "")
}

// decodeValue decodes raw (valid JSON) into v; path names the member for
// errors.
func referenceValue(raw json.RawMessage, v reflect.Value, path string) error {
	raw = bytes.TrimSpace(raw)
	if string(raw) == "null" {
		v.SetZero()
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		if err := referenceValue(raw, p.Elem(), path); err != nil {
			return err
		}
		v.Set(p)
		return nil
	case reflect.Struct:
		if raw[0] != '{' {
			return refTypeError(path, "a structure", raw)
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
				if err := referenceValue(r, v.Field(i), refJoin(path, name)); err != nil {
					return err
				}
			}
		}
		return nil
	case reflect.Slice:
		if raw[0] != '[' {
			return refTypeError(path, "a list", raw)
		}
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return serializationError("%v", err)
		}
		s := reflect.MakeSlice(v.Type(), len(items), len(items))
		for i, r := range items {
			if err := referenceValue(r, s.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	case reflect.Map:
		if raw[0] != '{' {
			return refTypeError(path, "a map", raw)
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			return serializationError("%v", err)
		}
		out := reflect.MakeMapWithSize(v.Type(), len(m))
		for k, r := range m {
			e := reflect.New(v.Type().Elem()).Elem()
			if err := referenceValue(r, e, refJoin(path, k)); err != nil {
				return err
			}
			out.SetMapIndex(reflect.ValueOf(k).Convert(v.Type().Key()), e)
		}
		v.Set(out)
		return nil
	case reflect.String:
		if raw[0] != '"' {
			return refTypeError(path, "a string", raw)
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
			return refTypeError(path, "a boolean", raw)
		}
		return nil
	case reflect.Int64:
		if !isNumber(raw) {
			return refTypeError(path, "a number", raw)
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
			return refTypeError(path, "a number", raw)
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

func refJoin(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func refTypeError(path, want string, raw []byte) error {
	return serializationError("Member '%s' must be %s, got %s.", path, want, kindOf(raw))
}

// requestTypes are the request structs the fuzzer decodes into.
var requestTypes = []func() any{
	func() any { return new(putLogEventsIn) }, func() any { return new(getLogEventsIn) },
	func() any { return new(filterLogEventsIn) }, func() any { return new(putMetricFilterIn) },
	func() any { return new(describeMetricFiltersIn) }, func() any { return new(testMetricFilterIn) },
	func() any { return new(createLogGroupIn) }, func() any { return new(describeLogGroupsIn) },
	func() any { return new(describeLogStreamsIn) }, func() any { return new(retentionIn) },
	func() any { return new(startQueryIn) }, func() any { return new(getQueryResultsIn) },
	func() any { return new(describeQueriesIn) }, func() any { return new(tagResourceIn) },
	func() any { return new(untagResourceIn) }, func() any { return new(tagLogGroupIn) },
	func() any { return new(untagLogGroupIn) },
}

// FuzzDecode: decode fills every request struct as the reference decoder
// does and fails with the same error, for any body. A map with several
// values of the wrong type is the exception: the reference, walking a Go
// map, named any one of them; decode names the first.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		``, `{}`, `null`, `[]`, `"x"`, ` { } `, `{"logGroupName":`, `{"logGroupName":"g"}`, `{"logGroupName":5}`,
		`{"logGroupName":"g","logGroupName":"h"}`, `{"LOGGROUPNAME":"g"}`, `{"logGroupName":null}`,
		`{"logGroupName":"a\"b\\\\","logStreamName":"\u00e9\ud83d\ude00\ud800"}`, "{\"logGroupName\":\"\xff\xfe\"}",
		`{"logEvents":[{"timestamp":1,"message":"m"},null,{"timestamp":"1"}]}`, `{"logEvents":{}}`, `{"logEvents":[[]]}`,
		`{"limit":1e3}`, `{"limit":-1}`, `{"limit":1e400}`, `{"limit":1.5}`, `{"limit":true}`, `{"startFromHead":"true"}`,
		`{"tags":{"a":"b","c":5}}`, `{"tags":[]}`, `{"tags":["a",null]}`, `{"tagKeys":["a","b"]}`,
		`{"metricTransformations":[{"metricName":"m","defaultValue":0.5,"dimensions":{"a":"$b"}}]}`,
		`{"a":{"b":{"c":[[[[[]]]]]}},"logGroupName":"x"}`, "{\"logGroupName\"\t:\n\"g\"\r}",
	} {
		for i := range requestTypes {
			f.Add(uint8(i), []byte(s))
		}
	}
	f.Add(uint8(0), putBody(3))
	f.Fuzz(func(t *testing.T, k uint8, body []byte) {
		mk := requestTypes[int(k)%len(requestTypes)]
		got, want := mk(), mk()
		gerr, werr := decode(body, got), reference(body, want)
		if (gerr == nil) != (werr == nil) {
			t.Fatalf("%T %q: decode: %v; reference: %v", got, body, gerr, werr)
		}
		if gerr != nil {
			typeErr := func(err error) bool { return strings.Contains(err.Error(), "' must be ") }
			if gerr.Error() != werr.Error() && !(typeErr(gerr) && typeErr(werr)) {
				t.Fatalf("%T %q:\n decode: %v\n reference: %v", got, body, gerr, werr)
			}
			return
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%T %q:\n decode: %+v\n reference: %+v", got, body, got, want)
		}
	})
}
