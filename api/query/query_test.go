package query

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

func mustParse(t *testing.T, form string) *Request {
	t.Helper()
	r, err := ParseForm(form)
	if err != nil {
		t.Fatalf("ParseForm(%q): %v", form, err)
	}
	return r
}

func wantError(t *testing.T, err error, status int, code, msgPart string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T), want *Error %s", err, err, code)
	}
	if e.Status != status || e.Code != code || !strings.Contains(e.Message, msgPart) {
		t.Fatalf("error %d %s %q, want %d %s containing %q", e.Status, e.Code, e.Message, status, code, msgPart)
	}
}

// The request the AWS SDKs send for CreateFlowLogs, written by hand from the
// protocol's flattening rules (list members .N from 1, structures with dots).
const createForm = "Action=CreateFlowLogs&Version=2016-11-15" +
	"&ResourceType=VPC&ResourceId.1=vpc-0f1e2d3c4b5a69788&ResourceId.2=vpc-0badbadbadbadbad0" +
	"&TrafficType=ALL&MaxAggregationInterval=60" +
	"&LogDestinationType=s3&LogDestination=arn%3Aaws%3As3%3A%3A%3Amy-flow-bucket%2Fprod%2F" +
	"&LogFormat=%24%7Bversion%7D%20%24%7Binterface-id%7D+%24%7Baction%7D" +
	"&DestinationOptions.FileFormat=parquet&DestinationOptions.PerHourPartition=true" +
	"&TagSpecification.1.ResourceType=vpc-flow-log&TagSpecification.1.Tag.1.Key=team&TagSpecification.1.Tag.1.Value=net" +
	"&TagSpecification.1.Tag.2.Key=empty" +
	"&ClientToken=7d9e6c1a-req-01&DryRun=false"

func TestParseCreateFlowLogs(t *testing.T) {
	r := mustParse(t, createForm)
	if r.Action != "CreateFlowLogs" || r.Version != "2016-11-15" {
		t.Fatalf("action %q version %q", r.Action, r.Version)
	}
	if _, ok := r.Values["Action"]; ok {
		t.Error("Action is in Values")
	}
	p := r.Params()
	if got := p.List("ResourceId"); !reflect.DeepEqual(got, []string{"vpc-0f1e2d3c4b5a69788", "vpc-0badbadbadbadbad0"}) {
		t.Errorf("ResourceId: %q", got)
	}
	if got := p.String("LogDestination"); got != "arn:aws:s3:::my-flow-bucket/prod/" {
		t.Errorf("LogDestination %q", got)
	}
	// %20 and + are both a space in a form.
	if got := p.String("LogFormat"); got != "${version} ${interface-id} ${action}" {
		t.Errorf("LogFormat %q", got)
	}
	if n, ok, err := p.Int("MaxAggregationInterval"); n != 60 || !ok || err != nil {
		t.Errorf("MaxAggregationInterval %d %v %v", n, ok, err)
	}
	if v, ok, err := p.Bool("DryRun"); v || !ok || err != nil {
		t.Errorf("DryRun %v %v %v", v, ok, err)
	}
	if _, ok, err := p.Bool("Absent"); ok || err != nil {
		t.Errorf("absent bool: %v %v", ok, err)
	}
	opts, ok := p.Struct("DestinationOptions")
	if !ok || opts.String("FileFormat") != "parquet" || opts.Name("FileFormat") != "DestinationOptions.FileFormat" {
		t.Errorf("DestinationOptions %v %q", ok, opts.String("FileFormat"))
	}
	if v, ok, err := opts.Bool("PerHourPartition"); !v || !ok || err != nil {
		t.Errorf("PerHourPartition %v %v %v", v, ok, err)
	}
	if _, ok := p.Struct("Nothing"); ok {
		t.Error("absent structure reported present")
	}
	ts, err := p.TagSpecifications("TagSpecification")
	want := []TagSpecification{{ResourceType: "vpc-flow-log", Tags: []Tag{{"team", "net"}, {"empty", ""}}}}
	if err != nil || !reflect.DeepEqual(ts, want) {
		t.Errorf("TagSpecifications %+v %v", ts, err)
	}
	if !p.Has("DestinationOptions") || !p.Has("ClientToken") || p.Has("Destination") {
		t.Error("Has")
	}
}

func TestListsAndFilters(t *testing.T) {
	// Indexes are ordered as numbers, not as text; gaps keep the order.
	r := mustParse(t, "Action=DescribeVpcs&VpcId.10=j&VpcId.2=b&VpcId.1=a&VpcId.x=ignored&VpcId.3.Sub=ignored"+
		"&Filter.2.Name=tag%3ATeam&Filter.2.Value.1=net&Filter.2.Value.2=ops"+
		"&Filter.1.Name=vpc-id&Filter.1.Value.1=vpc-1"+
		"&Filter.10.Name=state"+
		"&Policy.member.2=second&Policy.member.1=first")
	p := r.Params()
	if got := p.List("VpcId"); !reflect.DeepEqual(got, []string{"a", "b", "j"}) {
		t.Errorf("VpcId %q", got)
	}
	if got := p.List("Missing"); got != nil {
		t.Errorf("absent list %q", got)
	}
	fs, err := p.Filters("Filter")
	want := []Filter{{"vpc-id", []string{"vpc-1"}}, {"tag:Team", []string{"net", "ops"}}, {"state", nil}}
	if err != nil || !reflect.DeepEqual(fs, want) {
		t.Errorf("filters %+v %v", fs, err)
	}
	if got := p.Members("Policy"); !reflect.DeepEqual(got, []string{"first", "second"}) {
		t.Errorf("members %q", got)
	}
	_, err = mustParse(t, "Filter.1.Value.1=x").Params().Filters("Filter")
	wantError(t, err, 400, "MissingParameter", "The request must contain the parameter Filter.1.Name")
	_, err = mustParse(t, "Tag.1.Value=x").Params().Tags("Tag")
	wantError(t, err, 400, "MissingParameter", "Tag.1.Key")
}

func TestTypedErrors(t *testing.T) {
	p := mustParse(t, "MaxResults=abc&Big=99999999999&Small=1&Flag=yes&Empty=&Upper=TRUE").Params()
	_, _, err := p.Int("MaxResults")
	wantError(t, err, 400, "InvalidParameterValue", "Value ( abc ) for parameter MaxResults is invalid. Expecting an integer.")
	_, _, err = p.Int("Big")
	wantError(t, err, 400, "InvalidParameterValue", "Big")
	_, _, err = p.IntRange("Small", 5, 1000)
	wantError(t, err, 400, "InvalidParameterValue", "Value ( 1 ) for parameter Small is invalid. Expecting a value between 5 and 1000.")
	_, _, err = p.Bool("Flag")
	wantError(t, err, 400, "InvalidParameterValue", "Value ( yes ) for parameter Flag is invalid.")
	if v, _, err := p.Bool("Upper"); !v || err != nil {
		t.Errorf("TRUE: %v %v", v, err)
	}
	_, err = p.Required("Empty")
	wantError(t, err, 400, "MissingParameter", "The request must contain the parameter Empty")
	_, err = p.Required("Absent")
	wantError(t, err, 400, "MissingParameter", "Absent")
}

func TestMalformed(t *testing.T) {
	for _, tc := range []struct {
		form, code, msg string
	}{
		{"Action=A&Action=B", "MalformedQueryString", "The parameter Action is given more than once"},
		{"Action=A&X=1&X=1", "MalformedQueryString", "X is given more than once"},
		{"Action=A&X=%zz", "MalformedQueryString", "The value of parameter X is not validly percent-encoded"},
		{"Action=A&%zz=1", "MalformedQueryString", "not validly percent-encoded"},
		{"Action=A&X=%ff", "MalformedQueryString", "not valid UTF-8"},
		{"Action=A&=1", "MalformedQueryString", "empty name"},
		{"Action=A&Name.99999999999=1", "InvalidParameterValue", "The list index 99999999999 in parameter Name.99999999999 is invalid"},
		{"Action=A&Name.100001=1", "InvalidParameterValue", "100001"},
		{"Action=A&Name.0=1", "InvalidParameterValue", "Name.0"},
		{"Action=A&Filter.01.Name=1", "InvalidParameterValue", "Filter.01.Name"},
		{"Action=A&" + strings.Repeat("X", 500) + ".0=1", "InvalidParameterValue", "..."},
	} {
		_, err := ParseForm(tc.form)
		if err == nil {
			t.Errorf("%.60q: no error", tc.form)
			continue
		}
		t.Run("", func(t *testing.T) { wantError(t, err, 400, tc.code, tc.msg) })
	}
	if _, err := ParseForm(strings.Repeat("a=1&", 1) + strings.Repeat("&", 10) + "b=2"); err != nil {
		t.Errorf("empty pairs: %v", err)
	}
	var many strings.Builder
	for i := 0; i <= MaxParams; i++ {
		many.WriteString("P")
		many.WriteString(strings.Repeat("x", i%7))
		many.WriteString(string(rune('a' + i%26)))
		many.WriteString("=1&")
	}
	if _, err := ParseForm(many.String()); err == nil {
		// Names repeat long before MaxParams; either error is clean.
		t.Error("no error for too many parameters")
	}
}

func TestParseHTTP(t *testing.T) {
	post := httptest.NewRequest(http.MethodPost, "/", nil)
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	r, err := Parse(post, []byte("Action=DescribeVpcs&Version=2016-11-15&VpcId.1=vpc-a"))
	if err != nil || r.Action != "DescribeVpcs" || r.Params().String("VpcId.1") != "vpc-a" {
		t.Fatalf("POST: %+v %v", r, err)
	}
	get := httptest.NewRequest(http.MethodGet, "/?Action=DescribeVpcs&Version=2016-11-15&VpcId.1=vpc-b", nil)
	r, err = Parse(get, []byte("ignored=1"))
	if err != nil || r.Version != "2016-11-15" || r.Params().String("VpcId.1") != "vpc-b" || r.Params().Has("ignored") {
		t.Fatalf("GET: %+v %v", r, err)
	}
	// A parameter both in the URL and in the body is given twice.
	both := httptest.NewRequest(http.MethodPost, "/?Action=DescribeVpcs", nil)
	_, err = Parse(both, []byte("Action=DescribeSubnets"))
	wantError(t, err, 400, "MalformedQueryString", "Action is given more than once")
	jsonBody := httptest.NewRequest(http.MethodPost, "/", nil)
	jsonBody.Header.Set("Content-Type", "application/x-amz-json-1.1")
	_, err = Parse(jsonBody, []byte(`{"a":1}`))
	wantError(t, err, 400, "MalformedQueryString", "application/x-amz-json-1.1")
}

func FuzzParseForm(f *testing.F) {
	f.Add(createForm)
	f.Add("Action=DescribeFlowLogs&Filter.1.Name=tag%3Ateam&Filter.1.Value.1=net&FlowLogId.3=fl-1&MaxResults=5")
	f.Add("Name.99999999999=1&X=%zz&=&&&a.b..c=%")
	f.Add("Policy.member.1=a&TagSpecification.1.Tag.1.Key=k&DestinationOptions.FileFormat=parquet")
	f.Fuzz(func(t *testing.T, form string) {
		r, err := ParseForm(form)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Status != 400 || e.Code == "" || e.Message == "" {
				t.Fatalf("error %v is not a complete *Error", err)
			}
			return
		}
		// Every accessor on every name and prefix of the request: never a
		// panic, and lists no longer than the request.
		names := []string{"Action", "Filter", "TagSpecification", "Tag", "ResourceId", "Name", "Policy", "DestinationOptions"}
		for k := range r.Values {
			names = append(names, k)
			if i := strings.IndexByte(k, '.'); i > 0 {
				names = append(names, k[:i])
			}
		}
		p := r.Params()
		for _, n := range names {
			p.String(n)
			p.Required(n)
			p.Int(n)
			p.IntRange(n, 1, 1000)
			p.Bool(n)
			p.Has(n)
			if l := p.List(n); len(l) > len(r.Values) {
				t.Fatalf("List(%q) has %d items from %d parameters", n, len(l), len(r.Values))
			}
			p.Members(n)
			s, _ := p.Struct(n)
			s.String("FileFormat")
			for _, it := range p.Structs(n) {
				it.List("Value")
			}
			p.Filters(n)
			p.Tags(n)
			p.TagSpecifications(n)
		}
	})
}
