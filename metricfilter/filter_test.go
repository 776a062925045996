package metricfilter

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

const sshPattern = `[version, account, eni, source, destination, srcport, destport="22", protocol="6", packets, bytes, windowstart, windowend, action="REJECT", flowlogstatus]`

// Records L1-L4 and F3 (docs/aws-behaviour.md, "Reference records").
const (
	l1 = "2 086112738802 eni-0d5d75b41f9befe9e 61.177.172.128 172.31.83.158 39611 22 6 1 40 1563108188 1563108227 REJECT OK"
	l2 = "2 086112738802 eni-0d5d75b41f9befe9e 182.68.238.8 172.31.83.158 42227 22 6 1 44 1563109030 1563109067 REJECT OK"
	l3 = "2 086112738802 eni-0d5d75b41f9befe9e 42.171.23.181 172.31.83.158 52417 22 6 24 4065 1563191069 1563191121 ACCEPT OK"
	l4 = "2 086112738802 eni-0d5d75b41f9befe9e 61.177.172.128 172.31.83.158 39611 80 6 1 40 1563108188 1563108227 REJECT OK"
	f3 = "2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA"
)

func def(pattern, value string, mod ...func(*Transformation)) Definition {
	t := Transformation{MetricName: "SSHRejects", MetricNamespace: "VPC", MetricValue: value}
	for _, m := range mod {
		m(&t)
	}
	return Definition{FilterName: "ssh", FilterPattern: pattern, MetricTransformations: []Transformation{t}}
}

func ptr(f float64) *float64 { return &f }

func TestCompileValidation(t *testing.T) {
	tests := []struct {
		name string
		d    Definition
		code string
		msg  string // substring of the message; "" for success
	}{
		{"ok literal", def(sshPattern, "1"), "", ""},
		{"ok field", def(sshPattern, "$bytes"), "", ""},
		{"ok position", def(`[a, ..., b]`, "$3"), "", ""},
		{"ok json", def(`{ $.latency > 0 }`, "$.latency"), "", ""},
		{"ok terms default", def(`REJECT`, "1", func(t *Transformation) { t.DefaultValue = ptr(0) }), "", ""},
		{"ok dims", def(sshPattern, "1", func(t *Transformation) { t.Dimensions = map[string]string{"Source": "$source"}; t.Unit = "Count" }), "", ""},
		{"name with colon", Definition{FilterName: "a:b", FilterPattern: "x", MetricTransformations: def("x", "1").MetricTransformations},
			"InvalidParameterException", "1 validation error detected: Value 'a:b' at 'filterName' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:*]*"},
		{"empty name", Definition{FilterPattern: "x", MetricTransformations: def("x", "1").MetricTransformations},
			"InvalidParameterException", "Value '' at 'filterName' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"two transformations", Definition{FilterName: "f", FilterPattern: "x", MetricTransformations: append(def("x", "1").MetricTransformations, def("x", "1").MetricTransformations...)},
			"InvalidParameterException", "at 'metricTransformations' failed to satisfy constraint: Member must have length less than or equal to 1"},
		{"metric name with $", def("x", "1", func(t *Transformation) { t.MetricName = "a$" }),
			"InvalidParameterException", "at 'metricTransformations.1.member.metricName' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:*$]*"},
		{"bad unit", def("x", "1", func(t *Transformation) { t.Unit = "Furlongs" }), "InvalidParameterException", "Member must satisfy enum value set: [Seconds, "},
		{"two violations", Definition{FilterName: "a*", FilterPattern: "x", MetricTransformations: def("x", "1", func(t *Transformation) { t.MetricNamespace = "" }).MetricTransformations},
			"InvalidParameterException", "2 validation errors detected: "},
		{"bad pattern", def(`[a, b`, "1"), "InvalidParameterException", "Invalid filter pattern: column 6: "},
		{"json ref on delimited", def(sshPattern, "$.bytes"), "InvalidParameterException", "needs a JSON filter pattern"},
		{"field ref on json", def(`{ $.a = 1 }`, "$a"), "InvalidParameterException", "needs a space-delimited filter pattern"},
		{"field ref on terms", def(`REJECT`, "$bytes"), "InvalidParameterException", "needs a space-delimited filter pattern"},
		{"unknown slot", def(sshPattern, "$size"), "InvalidParameterException", "no field named 'size'"},
		{"position beyond slots", def(`[a, b]`, "$3"), "InvalidParameterException", "has no field 3"},
		{"not a number", def(`REJECT`, "one"), "InvalidParameterException", "want a number"},
		{"dims on terms", def(`REJECT`, "1", func(t *Transformation) { t.Dimensions = map[string]string{"A": "$a"} }), "InvalidParameterException", "Dimensions are only allowed"},
		{"dims with default", def(sshPattern, "1", func(t *Transformation) {
			t.Dimensions = map[string]string{"A": "$action"}
			t.DefaultValue = ptr(0)
		}), "InvalidParameterException", "cannot have a default value"},
		{"four dims", def(sshPattern, "1", func(t *Transformation) {
			t.Dimensions = map[string]string{"A": "$action", "B": "$eni", "C": "$source", "D": "$destination"}
		}), "InvalidParameterException", "at most 3 dimensions"},
		{"literal dim", def(sshPattern, "1", func(t *Transformation) { t.Dimensions = map[string]string{"A": "x"} }), "InvalidParameterException", "want $field or $.path"},
	}
	for _, tc := range tests {
		_, err := Compile(tc.d)
		if tc.code == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		e, ok := err.(*Error)
		if !ok || e.Code != tc.code || !strings.Contains(e.Message, tc.msg) {
			t.Errorf("%s: got %v, want %s containing %q", tc.name, err, tc.code, tc.msg)
		}
	}
}

func TestApply(t *testing.T) {
	ts := int64(1563108188000)
	tests := []struct {
		name             string
		d                Definition
		msg              string
		matched, emitted bool
		value            float64
		dims             []Dimension
	}{
		{"ssh literal", def(sshPattern, "1"), l1, true, true, 1, nil},
		{"ssh no match", def(sshPattern, "1"), l3, false, false, 0, nil},
		{"field value", def(`[version, account, eni, source, destination, srcport, destport, protocol, packets, bytes, ...]`, "$bytes"), l3, true, true, 4065, nil},
		{"dash value emits nothing", def(`[version, account, eni, source, destination, srcport, destport, protocol, packets, bytes, ...]`, "$bytes"), f3, true, false, 0, nil},
		{"positional value", def(`[..., start, end, action, status]`, "$10"), l2, true, true, 44, nil},
		{"json value", def(`{ $.latency > 0 }`, "$.latency"), `{"latency": 50.5, "requestType": "GET"}`, true, true, 50.5, nil},
		{"json string value", def(`{ $.latency = * }`, "$.latency"), `{"latency": "7"}`, true, true, 7, nil},
		{"json missing value", def(`{ $.requestType = GET }`, "$.latency"), `{"requestType": "GET"}`, true, false, 0, nil},
		{"negative literal", def(`REJECT`, "-3"), l1, true, true, -3, nil},
		{"dims", def(sshPattern, "$packets", func(t *Transformation) { t.Dimensions = map[string]string{"Src": "$source", "Eni": "$eni"} }), l1, true, true, 1,
			[]Dimension{{"Eni", "eni-0d5d75b41f9befe9e"}, {"Src", "61.177.172.128"}}},
		{"json dims", def(`{ $.a = * }`, "1", func(t *Transformation) { t.Dimensions = map[string]string{"B": "$.b"} }), `{"a":1,"b":"x"}`, true, true, 1, []Dimension{{"B", "x"}}},
		{"json dim missing", def(`{ $.a = * }`, "1", func(t *Transformation) { t.Dimensions = map[string]string{"B": "$.b"} }), `{"a":1}`, true, false, 0, nil},
	}
	for _, tc := range tests {
		f, err := Compile(tc.d)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		dp, matched, ok := f.Apply(ts, tc.msg)
		if matched != tc.matched || ok != tc.emitted {
			t.Errorf("%s: matched %v emitted %v, want %v %v", tc.name, matched, ok, tc.matched, tc.emitted)
			continue
		}
		if !ok {
			continue
		}
		want := Datapoint{Namespace: "VPC", MetricName: "SSHRejects", Unit: "None", Timestamp: ts, Value: tc.value, Dimensions: tc.dims}
		if !reflect.DeepEqual(dp, want) {
			t.Errorf("%s: %+v, want %+v", tc.name, dp, want)
		}
	}
}

// TestEmissionExample is the example of docs/aws-behaviour.md, "Reference
// records": the SSH filter with value 1 and default 0; L1-L4 in one minute
// give SampleCount 2, Sum 2; a minute with only L3 gets the default 0.
func TestEmissionExample(t *testing.T) {
	e := NewEngine()
	if _, err := e.PutFilter("vpc", def(sshPattern, "1", func(t *Transformation) { t.DefaultValue = ptr(0) })); err != nil {
		t.Fatal(err)
	}
	m := int64(1563108180000) // 12:43:00 UTC, a minute boundary
	e.Ingest("vpc", []Event{{m + 1000, l1}, {m + 2000, l2}, {m + 3000, l3}, {m + 59999, l4}})
	e.Ingest("vpc", []Event{{m + 60000 + 5, l3}})
	e.Ingest("other", []Event{{m + 120000, l1}}) // another group: no effect on this filter
	got := e.Store().Minutes(KeyOf("VPC", "SSHRejects", nil))
	want := []MinuteStat{
		{Minute: m, Stats: Stats{SampleCount: 2, Sum: 2, Minimum: 1, Maximum: 1}},
		{Minute: m + 60000, Stats: Stats{SampleCount: 1, Sum: 0, Minimum: 0, Maximum: 0}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("minutes = %+v, want %+v", got, want)
	}
	// A match arriving late in a defaulted minute replaces the default.
	e.Ingest("vpc", []Event{{m + 60000 + 7, l1}})
	got = e.Store().Minutes(KeyOf("VPC", "SSHRejects", nil))
	if want := (Stats{SampleCount: 1, Sum: 1, Minimum: 1, Maximum: 1}); len(got) != 2 || got[1].Stats != want {
		t.Errorf("after a late match: %+v, want minute 2 = %+v", got, want)
	}
}

func TestEngineFilters(t *testing.T) {
	e := NewEngine()
	for _, n := range []string{"b", "a"} {
		d := def(`REJECT`, "1")
		d.FilterName = n
		if _, err := e.PutFilter("g", d); err != nil {
			t.Fatal(err)
		}
	}
	d := def(`ACCEPT`, "2")
	d.FilterName = "a"
	if _, err := e.PutFilter("g", d); err != nil { // replaces
		t.Fatal(err)
	}
	got := e.Filters("g")
	if len(got) != 2 || got[0].FilterName != "a" || got[0].FilterPattern != "ACCEPT" || got[0].LogGroupName != "g" || got[1].FilterName != "b" {
		t.Errorf("Filters = %+v", got)
	}
	if err := e.DeleteFilter("g", "zz"); err == nil || err.Error() != "ResourceNotFoundException: The specified metric filter does not exist." {
		t.Errorf("DeleteFilter unknown = %v", err)
	}
	if err := e.DeleteFilter("g", "a"); err != nil || len(e.Filters("g")) != 1 {
		t.Errorf("DeleteFilter = %v, left %v", err, e.Filters("g"))
	}
}

func TestGroupLimits(t *testing.T) {
	e := NewEngine()
	for i := 0; i < MaxRegexFiltersPerGroup; i++ {
		d := def(`%REJ%`, "1")
		d.FilterName = "re" + string(rune('a'+i))
		if _, err := e.PutFilter("g", d); err != nil {
			t.Fatal(err)
		}
	}
	d := def(`[a=%x%, ...]`, "1")
	d.FilterName = "re-too-many"
	if _, err := e.PutFilter("g", d); err == nil || err.Error() != "LimitExceededException: Resource limit exceeded." {
		t.Errorf("6th regex filter: %v", err)
	}
	d.FilterName = "rea" // replacing one keeps the count
	if _, err := e.PutFilter("g", d); err != nil {
		t.Errorf("replace regex filter: %v", err)
	}
	for i := len(e.Filters("g")); i < MaxFiltersPerGroup; i++ {
		d := def(`x`, "1")
		d.FilterName = "f" + strings.Repeat("x", i)
		if _, err := e.PutFilter("g", d); err != nil {
			t.Fatalf("filter %d: %v", i+1, err)
		}
	}
	d = def(`x`, "1")
	d.FilterName = "one-too-many"
	if _, err := e.PutFilter("g", d); err == nil || err.Error() != "LimitExceededException: Resource limit exceeded." {
		t.Errorf("101st filter: %v", err)
	}
}

func TestDefinitionJSON(t *testing.T) {
	d := def(sshPattern, "$packets", func(t *Transformation) { t.Dimensions = map[string]string{"Src": "$source"}; t.Unit = "Count" })
	d.LogGroupName, d.CreationTime = "vpc", 1700000000000
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"filterName":"ssh","filterPattern":` + mustJSON(sshPattern) + `,"metricTransformations":[{"metricName":"SSHRejects","metricNamespace":"VPC","metricValue":"$packets","dimensions":{"Src":"$source"},"unit":"Count"}],"logGroupName":"vpc","creationTime":1700000000000,"applyOnTransformedLogs":false}`
	if string(b) != want {
		t.Errorf("JSON\n%s\nwant\n%s", b, want)
	}
	var back Definition
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, d) {
		t.Errorf("round trip = %+v, %v", back, err)
	}
	d.MetricTransformations[0].DefaultValue = ptr(0)
	d.MetricTransformations[0].Dimensions = nil
	b, _ = json.Marshal(d.MetricTransformations[0])
	if !strings.Contains(string(b), `"defaultValue":0`) {
		t.Errorf("a zero default value must be kept: %s", b)
	}
}

func mustJSON(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
