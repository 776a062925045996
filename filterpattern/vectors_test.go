package filterpattern

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// Test vectors with results worked out by hand. G1-G16 are the examples of
// AWS's filter pattern guide
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html),
// G17-G20 add case, regex and repeat checks; j1, j2 and d1 are the guide's
// JSON and space-delimited example events; F1-F7 and L1-L4 are the flow-log
// lines of docs/aws-behaviour.md, "Reference records".

func TestGenericVectors(t *testing.T) {
	tests := []struct {
		id, pattern, msg string
		want             bool
	}{
		{"G1", `ERROR`, `[ERROR 400] BAD REQUEST`, true},
		{"G2", `ERROR ARGUMENTS`, `[ERROR 400] BAD REQUEST`, false},
		{"G3", `ERROR ARGUMENTS`, `[ERROR 419] MISSING ARGUMENTS`, true},
		{"G4", `?ERROR ?ARGUMENTS`, `[ERROR 401] UNAUTHORIZED REQUEST`, true},
		{"G5", `?ERROR ?ARGUMENTS REQUEST`, `[INFO] REQUEST FAILED`, true},
		{"G6", `"INTERNAL SERVER ERROR"`, `[ERROR 500] INTERNAL SERVER ERROR`, true},
		{"G7", `ERROR -ARGUMENTS`, `[ERROR 420] INVALID ARGUMENTS`, false},
		{"G8", `ERROR -ARGUMENTS`, `[ERROR 401] UNAUTHORIZED REQUEST`, true},
		{"G9", `ERROR`, `Exiting with ERRORCODE: -1`, true},
		{"G10", `"ERROR" - "Exiting"`, `Exiting with ERRORCODE: -1`, false},
		{"G11", `ERROR Exception`, `[ERROR] Caught IllegalArgumentException`, true},
		{"G12", `" "`, `abc`, false},
		{"G13", `%AUTHORIZED%`, `[ERROR 401] UNAUTHORIZED REQUEST`, true},
		{"G14", `%^starting|^initializing|^shutting down%`, `skipping initializing step`, false},
		{"G15", `%ab+c%`, `ac`, false},
		{"G17", `ERROR`, `rpc error`, false},
		{"G18", `%10.10.0.1%`, `id 10010,051`, true},
		{"G19", `%10\.10\.0\.1%`, `id 10010,051`, false},
		{"G20", `%a{,2}b%`, `xb`, true},
		// match-all forms
		{"empty", ``, `anything`, true},
		{"blank", " \t ", `anything`, true},
		{"quotes", `""`, `anything`, true},
	}
	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			p, err := Compile(tc.pattern)
			if err != nil {
				t.Fatalf("Compile(%q): %v", tc.pattern, err)
			}
			if got := p.MatchString(tc.msg); got != tc.want {
				t.Errorf("%q on %q = %v, want %v", tc.pattern, tc.msg, got, tc.want)
			}
			if got := p.Match([]byte(tc.msg)); got != tc.want {
				t.Errorf("Match([]byte) = %v, want %v", got, tc.want)
			}
		})
	}
}

const j1 = `{"eventType":"UpdateTrail","sourceIPAddress":"111.111.111.111","arrayKey":["value","another value"],"objectList":[{"name":"a","id":1},{"name":"b","id":2}],"SomeObject":null,"cluster.name":"c","ThisFlag":true}`

const j2 = `{"user":{"id":1,"email":"John.Stiles@example.com"},"users":[{"id":2,"email":"John.Doe@example.com"},{"id":3,"email":"Jane.Doe@example.com"}],"actions":["GET","PUT","DELETE"],"coordinates":[[0,1,2],[4,5,6],[7,8,9]]}`

const j3 = `{"latency": 50, "requestType": "GET"}`

func TestJSONVectors(t *testing.T) {
	tests := []struct {
		pattern, msg string
		want         bool
	}{
		{`{ $.eventType = "UpdateTrail" }`, j1, true},
		{`{ $.sourceIPAddress != 123.123.* }`, j1, true},
		{`{ $.arrayKey[0] = "value" }`, j1, true},
		{`{ $.eventType = %Trail% }`, j1, true},
		{`{ $.arrayKey[*] = %val.{2}% }`, j1, true},
		{`{ $.* = %111\.111\.111\.1[0-9]{1,2}% }`, j1, true},
		{`{ $.['cluster.name'] = "c" }`, j1, true},
		{`{ $.objectList[1].id = 2 }`, j1, true},
		{`{ $.SomeObject IS NULL }`, j1, true},
		{`{ $.SomeOtherObject NOT EXISTS }`, j1, true},
		{`{ $.ThisFlag IS TRUE }`, j1, true},
		{`{ $.eventType = "*" && $.sourceIPAddress != 123.123.* }`, j1, true},
		{`{ $.eventType = Update* }`, j1, true},
		{`{ $.objectList[0].id > 0 }`, j1, true},

		{`{ $.eventType = "updatetrail" }`, j1, false},
		{`{ $.arrayKey = "value" }`, j1, false},
		{`{ $.arrayKey != "value" }`, j1, false},
		{`{ $.objectList[5].id = 1 }`, j1, false},
		{`{ $.SomeObject NOT EXISTS }`, j1, false},
		{`{ $.SomeOtherObject IS NULL }`, j1, false},
		{`{ $.eventType = Up*Trail }`, j1, false},
		{`{ $.ThisFlag IS FALSE }`, j1, false},

		{`{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }`, j2, true},
		{`{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch" && $.actions[2] = "nonmatch" }`, j2, true},
		{`{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch") && $.actions[2] = "nonmatch" }`, j2, false},
		{`{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }`, j2, false},
		{`{ $.coordinates[1][2] >= 6 }`, j2, true},

		{`{ $.latency = * }`, j3, true},
		{`{ $.latency <= 50 }`, j3, true},
		{`{ $.latency > +10 }`, j3, true},
		{`{ $.latency = 5e1 }`, j3, true},
		{`{ $.latency < 50 }`, j3, false},
		{`{ $.requestType > 1 }`, j3, false},
	}
	for _, tc := range tests {
		p, err := Compile(tc.pattern)
		if err != nil {
			t.Errorf("Compile(%q): %v", tc.pattern, err)
			continue
		}
		if got := p.MatchString(tc.msg); got != tc.want {
			t.Errorf("%s on %.30s… = %v, want %v", tc.pattern, tc.msg, got, tc.want)
		}
		ok, vals := p.Extract(tc.msg)
		if ok != tc.want || (ok && len(vals) != 0) {
			t.Errorf("Extract(%s) = %v %v, want %v and no values", tc.pattern, ok, vals, tc.want)
		}
	}
}

// invalid lists patterns that must not compile, with the AWS message and the
// 1-based column the error must name (worked out by hand).
func TestInvalidVectors(t *testing.T) {
	tests := []struct {
		pattern string
		msg     string
		pos     int
	}{
		{`%something!%`, MsgInvalid, 11},                                                               // G16: '!' at column 11
		{`{ $.eventType = "UpdateTrail"`, MsgJSONNotClose, 30},                                         // one past the end
		{`{ $.eventType IS NOT NULL }`, MsgInvalid, 18},                                                // NOT
		{`{ $.eventType > "a" }`, MsgInvalid, 15},                                                      // the operator
		{`[ip, user, username, timestamp, request, status_code = 4* && bytes > 1000]`, MsgInvalid, 62}, // bytes
		{`ERROR*`, "Invalid character(s) in term 'ERROR*'", 6},
		{`*`, "Invalid character(s) in term '*'", 1},
		{`[a, ..., b, ..., c]`, MsgInvalid, 13},
		{`[a, b`, MsgInvalid, 6},
		{`"unterminated`, MsgInvalid, 1},
		{`{ ($.a = 1 }`, MsgInvalid, 3},
		{`{ $.a = 1 ) }`, MsgInvalid, 11},
		{`{ }`, MsgInvalid, 3},
		{`{ $.a EXISTS }`, MsgInvalid, 7},
		{`{ $.a == 1 }`, MsgInvalid, 8},
		{`[a=%(x)%]`, MsgInvalid, 5},
		{`%%`, MsgInvalid, 2},
		{`[a=%x%, b=%y%, c=%z%]`, MsgInvalid, 1},
		{`{ $.*.b[*] = 1 }`, MsgInvalid, 8},
		{`{ $.a.* = 1 || $.b.* = 1 || $.c.* = 1 || $.d.* = 1 }`, MsgInvalid, 1},
		{`[a<x]`, MsgInvalid, 3},
		{`[a = 1 & a = 2]`, MsgInvalid, 8},
		{`[a = ]`, MsgInvalid, 6},
		{`?`, MsgInvalid, 1},
		{`  [x, y`, MsgInvalid, 8},
		{strings.Repeat("a", 1025), MsgInvalid, 1025},
	}
	for _, tc := range tests {
		p, err := Compile(tc.pattern)
		if err == nil {
			t.Errorf("Compile(%q) = %v, want an error", tc.pattern, p.kind)
			continue
		}
		var pe *Error
		if !errors.As(err, &pe) {
			t.Errorf("Compile(%q) error %T, want *Error", tc.pattern, err)
			continue
		}
		if pe.Msg != tc.msg || pe.Pos != tc.pos {
			t.Errorf("Compile(%q) = %q at %d (%s), want %q at %d", tc.pattern, pe.Msg, pe.Pos, pe.Detail, tc.msg, tc.pos)
		}
		if !strings.HasPrefix(err.Error(), "InvalidParameterException: "+tc.msg) || !strings.Contains(err.Error(), fmt.Sprintf("column %d", tc.pos)) {
			t.Errorf("Error() = %q", err.Error())
		}
	}
}

const d1 = `127.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534`

func TestDelimitedVectors(t *testing.T) {
	full := map[string]string{"$ip": "127.0.0.1", "$user": "Prod", "$username": "frank", "$timestamp": "10/Oct/2000:13:25:15 -0700", "$request": "GET /index.html HTTP/1.0", "$status_code": "404", "$bytes": "1534"}
	tests := []struct {
		pattern string
		want    bool
		values  map[string]string
	}{
		{`[ip, user, username, timestamp, request =*.html*, status_code = 4*, bytes]`, true, full},
		{`[ip=%127\.0\.0\.[1-9]%, user, username, timestamp, request, status_code, bytes]`, true, full},
		{`[..., request=*.html*, status_code=4*,]`, true, map[string]string{"$1": "127.0.0.1", "$2": "Prod", "$3": "frank", "$4": "10/Oct/2000:13:25:15 -0700", "$request": "GET /index.html HTTP/1.0", "$status_code": "404", "$7": "1534"}},
		{`[ip, user, ..., status_code, bytes > 1000]`, true, map[string]string{"$ip": "127.0.0.1", "$user": "Prod", "$3": "frank", "$4": "10/Oct/2000:13:25:15 -0700", "$5": "GET /index.html HTTP/1.0", "$status_code": "404", "$bytes": "1534"}},
		{`[ip, user, ..., status_code, bytes > 2000]`, false, nil},
		{`[ip, user, username, timestamp, request, status_code = 403 || status_code = 404, bytes]`, true, full},
		{`[ip, user, username, timestamp, request, status_code]`, true, map[string]string{"$ip": "127.0.0.1", "$user": "Prod", "$username": "frank", "$timestamp": "10/Oct/2000:13:25:15 -0700", "$request": "GET /index.html HTTP/1.0", "$status_code": "404 1534"}},
	}
	for _, tc := range tests {
		p, err := Compile(tc.pattern)
		if err != nil {
			t.Errorf("Compile(%q): %v", tc.pattern, err)
			continue
		}
		if got := p.MatchString(d1); got != tc.want {
			t.Errorf("%s = %v, want %v", tc.pattern, got, tc.want)
		}
		ok, vals := p.Extract(d1)
		if ok != tc.want || !reflect.DeepEqual(vals, tc.values) {
			t.Errorf("Extract(%s) = %v %v, want %v %v", tc.pattern, ok, vals, tc.want, tc.values)
		}
	}
}

var flowRecords = []struct{ label, msg string }{
	{"F1", "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK"},
	{"F2", "2 123456789010 eni-1235b8ca123456789 172.31.9.69 172.31.9.12 49761 3389 6 20 4249 1418530010 1418530070 REJECT OK"},
	{"F3", "2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA"},
	{"F4", "2 123456789010 eni-11111111aaaaaaaaa - - - - - - - 1431280876 1431280934 - SKIPDATA"},
	{"F5", "2 123456789010 eni-1235b8ca123456789 203.0.113.12 172.31.16.139 0 0 1 4 336 1432917027 1432917142 ACCEPT OK"},
	{"F6", "2 123456789010 eni-1235b8ca123456789 172.31.16.139 203.0.113.12 0 0 1 4 336 1432917094 1432917142 REJECT OK"},
	{"F7", "2 123456789010 eni-1235b8ca123456789 2001:db8:1234:a100:8d6e:3477:df66:f105 2001:db8:1234:a102:3304:8879:34cf:4071 34892 22 6 54 8855 1477913708 1477913820 ACCEPT OK"},
	{"L1", "2 086112738802 eni-0d5d75b41f9befe9e 61.177.172.128 172.31.83.158 39611 22 6 1 40 1563108188 1563108227 REJECT OK"},
	{"L2", "2 086112738802 eni-0d5d75b41f9befe9e 182.68.238.8 172.31.83.158 42227 22 6 1 44 1563109030 1563109067 REJECT OK"},
	{"L3", "2 086112738802 eni-0d5d75b41f9befe9e 42.171.23.181 172.31.83.158 52417 22 6 24 4065 1563191069 1563191121 ACCEPT OK"},
	{"L4", "2 086112738802 eni-0d5d75b41f9befe9e 61.177.172.128 172.31.83.158 39611 80 6 1 40 1563108188 1563108227 REJECT OK"},
}

const sshPattern = `[version, account, eni, source, destination, srcport, destport="22", protocol="6", packets, bytes, windowstart, windowend, action="REJECT", flowlogstatus]`

func TestFlowLogVectors(t *testing.T) {
	tests := []struct{ id, pattern, want string }{
		{"V1", sshPattern, "L1 L2"},
		{"V2", `REJECT`, "F2 F6 L1 L2 L4"},
		{"V3", `?NODATA ?SKIPDATA`, "F3 F4"},
		{"V4", `REJECT -3389`, "F6 L1 L2 L4"},
		{"V5", `"172.31.16.139"`, "F1 F5 F6"},
		{"V6", `"eni-11111111aaaaaaaaa"`, "F4"},
		{"V7", `%REJECT OK$%`, "F2 F6 L1 L2 L4"},
		{"V8", `%\s22\s6\s%`, "F1 F7 L1 L2 L3"},
		{"V9", `[version, account, eni, source, destination, srcport, destport, protocol, packets, bytes>4000, windowstart, windowend, action, flowlogstatus]`, "F1 F2 F7 L3"},
		{"V10", `[version, account, eni, source, destination, srcport, destport, protocol=1, ...]`, "F5 F6"},
		{"V11", `[..., action="REJECT", status="OK"]`, "F2 F6 L1 L2 L4"},
		{"V12", `[..., status=NODATA || status=SKIPDATA]`, "F3 F4"},
		{"V13", `[version, account, eni="eni-1111*", ...]`, "F4"},
		{"V14", `[version, account, eni, source=%^172\.31\.%, ...]`, "F1 F2 F6"},
		{"V15", `[version, account, eni, source, destination, srcport, destport!=22, ...]`, "F2 F5 F6 L4"},
		{"V16", `[version, account, eni, source, destination, srcport, destport, protocol, packets, bytes, start>=1432917000 && start<1432918000, end, action, status]`, "F5 F6"},
		{"V17", `[version, account, eni, source, destination, srcport, destport, protocol, packets, bytes, start, end, action]`, "F1 F2 F3 F4 F5 F6 F7 L1 L2 L3 L4"},
		{"V18", `[version=2, ...]`, "F1 F2 F3 F4 F5 F6 F7 L1 L2 L3 L4"},
		{"V19", `[version, account="086112738802", ...]`, "L1 L2 L3 L4"},
		{"V20", `{ $.action = "REJECT" }`, ""},
		// space-delimited flow-log patterns in AWS's style
		{"FLa", `[version, account, eni, source, destination, srcport, destport, protocol, packets, bytes, windowstart, windowend, action, flowlogstatus]`, "F1 F2 F3 F4 F5 F6 F7 L1 L2 L3 L4"},
		{"FLb", `[version, account, eni, source = 172.31.16.*, destination, srcport, destport, protocol, packets, bytes, windowstart, windowend, action, flowlogstatus]`, "F1 F6"},
		{"FLc", `[version, account, eni, source, destination, srcport, destport = 80 || destport = 8080, protocol, packets, bytes >= 1000, windowstart, windowend, action = REJECT, flowlogstatus]`, ""},
		{"FLd", `[version, account, eni, source, destination, srcport, destport = 80 || destport = 3389, protocol, packets, bytes >= 40, windowstart, windowend, action = REJECT, flowlogstatus]`, "F2 L4"},
	}
	for _, tc := range tests {
		p, err := Compile(tc.pattern)
		if err != nil {
			t.Errorf("%s: Compile: %v", tc.id, err)
			continue
		}
		var got []string
		for _, r := range flowRecords {
			if p.MatchString(r.msg) {
				got = append(got, r.label)
			}
			if ok, _ := p.Extract(r.msg); ok != p.MatchString(r.msg) {
				t.Errorf("%s: Extract and Match disagree on %s", tc.id, r.label)
			}
		}
		if g := strings.Join(got, " "); g != tc.want {
			t.Errorf("%s: matched %q, want %q", tc.id, g, tc.want)
		}
	}
}

func TestExtractionVectors(t *testing.T) {
	p := MustCompile(sshPattern)
	ok, vals := p.Extract(flowRecords[7].msg) // L1
	want := map[string]string{"$version": "2", "$account": "086112738802", "$eni": "eni-0d5d75b41f9befe9e", "$source": "61.177.172.128", "$destination": "172.31.83.158", "$srcport": "39611", "$destport": "22", "$protocol": "6", "$packets": "1", "$bytes": "40", "$windowstart": "1563108188", "$windowend": "1563108227", "$action": "REJECT", "$flowlogstatus": "OK"}
	if !ok || !reflect.DeepEqual(vals, want) {
		t.Errorf("SSH on L1 = %v %v, want %v", ok, vals, want)
	}
	p = MustCompile(`[version, account, eni, ..., action, status]`)
	ok, vals = p.Extract(flowRecords[2].msg) // F3
	want = map[string]string{"$version": "2", "$account": "123456789010", "$eni": "eni-1235b8ca123456789",
		"$4": "-", "$5": "-", "$6": "-", "$7": "-", "$8": "-", "$9": "-", "$10": "-",
		"$11": "1431280876", "$12": "1431280934", "$action": "-", "$status": "NODATA"}
	if !ok || !reflect.DeepEqual(vals, want) {
		t.Errorf("on F3 = %v %v, want %v", ok, vals, want)
	}
}

func TestExtractValuesOrder(t *testing.T) {
	tests := []struct{ pattern, want string }{
		{`[ip, user, username, timestamp, request =*.html*, status_code = 4*, bytes]`, "$ip $user $username $timestamp $request $status_code $bytes"},
		{`[..., request=*.html*, status_code=4*,]`, "$1 $2 $3 $4 $request $status_code $7"},
		{`[ip, user, ..., status_code, bytes > 1000]`, "$ip $user $3 $4 $5 $status_code $bytes"},
		{`[ip, , ...]`, "$ip $2 $3 $4 $5 $6 $7"},
	}
	for _, tc := range tests {
		ok, vals := MustCompile(tc.pattern).ExtractValues(d1)
		var keys []string
		for _, v := range vals {
			keys = append(keys, v.Key)
		}
		if got := strings.Join(keys, " "); !ok || got != tc.want {
			t.Errorf("%s: %v %q, want %q", tc.pattern, ok, got, tc.want)
		}
	}
	if ok, vals := MustCompile(`ERROR`).ExtractValues("ERROR"); !ok || vals == nil || len(vals) != 0 {
		t.Errorf("terms: %v %v, want true and an empty list", ok, vals)
	}
}
