package record

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func TestFormatVersion(t *testing.T) {
	// The version is the highest version among the format's fields
	// (docs/aws-behaviour.md, "Record fields and formats").
	tests := []struct {
		format string
		want   int
	}{
		{DefaultFormat.String(), 2},
		{"${version} ${vpc-id} ${region}", 4},                // 2, 3 and 4 → 4
		{"${version} ${flow-direction} ${reject-reason}", 8}, // 5 and 8 → 8
		{"${srcaddr} ${ecs-task-id}", 7},                     // one ECS field → 7
		{"${tcp-flags}", 3},
		{"${traffic-path} ${srcaddr}", 5},
		{"${tgw-id}", 6},
		{"${srcaddr} ${x-rule}", 2}, // extensions do not raise the version
		{DefaultTGWFormat.String(), 6},
	}
	for _, tt := range tests {
		f, err := ParseFormat(tt.format)
		if err != nil {
			t.Fatalf("%q: %v", tt.format, err)
		}
		if f.Version() != tt.want {
			t.Errorf("%q: version %d, want %d", tt.format, f.Version(), tt.want)
		}
	}
}

func TestDefaultFormats(t *testing.T) {
	// The default formats and the default header line of text objects.
	if got := DefaultFormat.Header(); got != "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status" {
		t.Errorf("default header %q", got)
	}
	if got := DefaultFormat.String(); got != "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}" {
		t.Errorf("default format %q", got)
	}
	if DefaultTGWFormat.Len() != 36 {
		t.Errorf("TGW default format has %d fields, want 36", DefaultTGWFormat.Len())
	}
	for _, f := range DefaultTGWFormat.Fields() {
		if f.Info().Scope&ScopeTGW == 0 {
			t.Errorf("TGW default format holds non-TGW field %s", f)
		}
	}
}

func TestParseFormat(t *testing.T) {
	tests := []struct {
		in      string
		want    string // header form, or error substring
		wantErr bool
	}{
		{"${srcaddr} ${dstaddr}", "srcaddr dstaddr", false},
		{"srcaddr dstaddr", "srcaddr dstaddr", false},
		{"  srcaddr \t ${dstaddr}  ", "srcaddr dstaddr", false},
		{"${srcaddr} ${srcaddr}", "srcaddr srcaddr", false}, // duplicates allowed (AWS)
		{"${srcadr}", `unknown field (did you mean srcaddr?): "srcadr" at offset 0`, true},
		{"${srcaddr} ${nope} ${nada}", `unknown fields "nope", "nada"; first "nope" at offset 11`, true},
		{"${srcaddr", `malformed field, want ${name}: "${srcaddr" at offset 0`, true},
		{"$srcaddr", `malformed field`, true},
		{"", "empty format", true},
		{"   ", "empty format", true},
	}
	for _, tt := range tests {
		f, err := ParseFormat(tt.in)
		if tt.wantErr {
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseFormat(%q) error %v, want %q", tt.in, err, tt.want)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseFormat(%q): %v", tt.in, err)
			continue
		}
		if f.Header() != tt.want {
			t.Errorf("ParseFormat(%q) = %q, want %q", tt.in, f.Header(), tt.want)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	f := MustFormat("${version} ${srcaddr} ${srcport} ${protocol} ${packets} ${action} ${log-status} ${flow-direction} ${type} ${tcp-flags}")
	good := []string{"2", "10.0.0.1", "443", "6", "10", "ACCEPT", "OK", "ingress", "IPv4", "2"}
	tests := []struct {
		field int
		value string
		want  string
	}{
		{1, "10.0.0", `field "srcaddr": want IPv4 or IPv6 address or -, got "10.0.0"`},
		{1, "10.0.0.256", `field "srcaddr": want IPv4 or IPv6 address or -, got "10.0.0.256"`},
		{1, "010.0.0.1", `field "srcaddr": want IPv4 or IPv6 address or -, got "010.0.0.1"`},
		{1, "fe80::1%eth0", `field "srcaddr": want IPv4 or IPv6 address or -, got "fe80::1%eth0"`},
		{1, "host", `field "srcaddr": want IPv4 or IPv6 address or -, got "host"`},
		{2, "65536", `field "srcport": want integer 0-65535 or -, got "65536"`},
		{2, "-1", `field "srcport": want integer 0-65535 or -, got "-1"`},
		{2, "+1", `field "srcport": want integer 0-65535 or -, got "+1"`},
		{3, "256", `field "protocol": want integer 0-255 or -, got "256"`},
		{4, "1e3", `field "packets": want non-negative integer or -, got "1e3"`},
		{4, "99999999999999999999", `field "packets": want non-negative integer or -, got "99999999999999999999"`},
		{4, "9223372036854775808", `field "packets": want non-negative integer or -, got "9223372036854775808"`},
		{5, "accept", `field "action": want ACCEPT, REJECT or -, got "accept"`},
		{6, "FAIL", `field "log-status": want OK, NODATA, SKIPDATA or -, got "FAIL"`},
		{7, "in", `field "flow-direction": want ingress, egress or -, got "in"`},
		{8, "ipv4", `field "type": want IPv4, IPv6, EFA or -, got "ipv4"`},
		{9, "0x12", `field "tcp-flags": want integer 0-255 or -, got "0x12"`},
	}
	dec := NewDecoder()
	var r Record
	if err := dec.Decode(f, []byte(strings.Join(good, " ")), &r); err != nil {
		t.Fatalf("good line: %v", err)
	}
	// Invalid UTF-8 in a string field (found by FuzzReader: NDJSON cannot
	// carry it, so the round trip would change it).
	if err := dec.Decode(MustFormat("${account-id}"), []byte("\xff"), &r); err == nil || err.Error() != `field "account-id": want UTF-8 text, got "\xff"` {
		t.Errorf("invalid UTF-8: %v", err)
	}
	// A carriage return inside a line (found by FuzzReader: the JSON form
	// refuses white space in a value, so the text form must too).
	if err := dec.Decode(MustFormat("${version} ${subnet-id} ${vpc-id}"), []byte("2 \r vpc-1"), &r); err == nil || err.Error() != `field "subnet-id": want a value without white space, got "\r"` {
		t.Errorf("carriage return inside a line: %v", err)
	}
	for _, tt := range tests {
		vals := append([]string(nil), good...)
		vals[tt.field] = tt.value
		err := dec.Decode(f, []byte(strings.Join(vals, " ")), &r)
		var fe *FieldError
		if !errors.As(err, &fe) || err.Error() != tt.want {
			t.Errorf("value %q: error %v, want %s", tt.value, err, tt.want)
		}
	}
	// Largest int64 is accepted.
	vals := append([]string(nil), good...)
	vals[4] = "9223372036854775807"
	if err := dec.Decode(f, []byte(strings.Join(vals, " ")), &r); err != nil || r.Packets != 1<<63-1 {
		t.Errorf("max int64: %v %d", err, r.Packets)
	}
	// Field count.
	err := dec.Decode(f, []byte("2 10.0.0.1"), &r)
	if err == nil || err.Error() != "want 10 fields, got 2" {
		t.Errorf("count error %v", err)
	}
}

func TestEncodeAbsentAndIPv6(t *testing.T) {
	var r Record
	r.Reset()
	r.Version, r.AccountID, r.InterfaceID = 2, "111122223333", "eni-0a1b2c3d4e5f60718"
	r.SrcAddr, r.DstAddr = ip("2001:DB8:aaaa:1:0:0:0:10"), ip("2001:db8:bbbb:2::20")
	r.SrcPort, r.DstPort, r.Protocol, r.Packets, r.Bytes = 49152, 443, 6, 30, 9120
	r.Start, r.End, r.Action, r.LogStatus = 1700003000, 1700003055, ActionAccept, StatusOK
	// IPv6 in RFC 5952 text form.
	want := "2 111122223333 eni-0a1b2c3d4e5f60718 2001:db8:aaaa:1::10 2001:db8:bbbb:2::20 49152 443 6 30 9120 1700003000 1700003055 ACCEPT OK"
	if got := Text(DefaultFormat, &r); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	// A status record (docs/aws-behaviour.md, "NODATA and SKIPDATA").
	r.Reset()
	r.Version, r.AccountID, r.InterfaceID = 2, "111122223333", "eni-0a1b2c3d4e5f60718"
	r.Start, r.End, r.LogStatus = 1700000400, 1700000460, StatusNoData
	want = "2 111122223333 eni-0a1b2c3d4e5f60718 - - - - - - - 1700000400 1700000460 - NODATA"
	if got := Text(DefaultFormat, &r); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestJSONShape(t *testing.T) {
	f := MustFormat("${version} ${srcaddr} ${srcaddr} ${action} ${instance-id} ${tcp-flags} ${traffic-path} ${account-id}")
	var r Record
	r.Reset()
	r.Version, r.SrcAddr, r.Action, r.TCPFlags, r.AccountID = 5, ip("10.1.2.15"), ActionReject, 19, "0123"
	got := string(AppendJSON(nil, f, &r))
	want := `{"version":5,"srcaddr":"10.1.2.15","action":"REJECT","instance-id":null,"tcp-flags":19,"traffic-path":null,"account-id":"0123"}`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	// Escaping of odd bytes in string fields.
	r.InstanceID = "a\"b\\c\x01\xff"
	got = string(AppendJSON(nil, MustFormat("${instance-id}"), &r))
	if want := `{"instance-id":"a\"b\\c\u0001\ufffd"}`; got != want {
		t.Errorf("got %s want %s", got, want)
	}
}

func TestDecodeJSON(t *testing.T) {
	f := MustFormat("${version} ${srcaddr} ${srcport} ${action} ${instance-id}")
	dec := NewDecoder()
	tests := []struct {
		in, want, err string
	}{
		{`{"version":2,"srcaddr":"10.0.0.1","srcport":443,"action":"ACCEPT","instance-id":"i-1"}`, "2 10.0.0.1 443 ACCEPT i-1", ""},
		{`{"version":2}`, "2 - - - -", ""},                        // missing keys are absent
		{`{"version":null,"other":1}`, "- - - - -", ""},           // null and unknown keys
		{`{"srcport":"443","account-id":"x"}`, "- - 443 - -", ""}, // digits in a string
		{`{"instance-id":123}`, "- - - - 123", ""},                // number into a string field
		{`{"srcport":"x"}`, "", `field "srcport": want integer 0-65535 or -, got "x"`},
		{`{"srcport":-3}`, "", `field "srcport": want integer 0-65535 or -, got "-3"`},
		{`{"srcport":1.5}`, "", `field "srcport": want integer 0-65535 or -, got "1.5"`},
		{`{"instance-id":"a b"}`, "", `field "instance-id": want a non-empty value without white space, or null, got "a b"`},
		{`{"instance-id":""}`, "", `want a non-empty value`},
		{`{"action":true}`, "", `field "action": want a string, a number or null, got "true"`},
		{`[1,2]`, "", "want a JSON object"},
		{`{"version":2`, "", "want a JSON object"},
	}
	for _, tt := range tests {
		var r Record
		err := dec.DecodeJSON(f, []byte(tt.in), &r)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.in, err)
			continue
		}
		if got := Text(f, &r); got != tt.want {
			t.Errorf("%s: got %q want %q", tt.in, got, tt.want)
		}
	}
}

type readResult struct {
	records []string // default-text of good records, in the format in force
	errs    []string
}

func readString(in string, format *Format) (readResult, *Reader) {
	rd := NewReader(strings.NewReader(in), "f.log", format)
	var res readResult
	for {
		var r Record
		err := rd.Next(&r)
		if err == io.EOF {
			return res, rd
		}
		if err != nil {
			res.errs = append(res.errs, err.Error())
			continue
		}
		res.records = append(res.records, Text(rd.Format(), &r))
	}
}

func TestReader(t *testing.T) {
	const line = "2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 6 3 180 100 160 ACCEPT OK"
	tests := []struct {
		name   string
		in     string
		format *Format
		want   []string
		errs   []string
	}{
		{"no header, default format", line + "\n", nil, []string{line}, nil},
		{"no final newline", line, nil, []string{line}, nil},
		{"CRLF", line + "\r\n" + line + "\r\n", nil, []string{line, line}, nil},
		{"tabs and runs of spaces", strings.ReplaceAll(line, " ", " \t  ") + "\n", nil, []string{line}, nil},
		{"blank lines skipped", "\n" + line + "\n   \n\n", nil, []string{line}, nil},
		{"header sets format", "srcaddr dstaddr\n10.0.0.1 10.0.0.2\n", nil, []string{"10.0.0.1 10.0.0.2"}, nil},
		{"repeated header (concatenated files)",
			"srcaddr dstaddr\n10.0.0.1 10.0.0.2\nversion srcport\n2 80\n", nil,
			[]string{"10.0.0.1 10.0.0.2", "2 80"}, nil},
		{"header overrides --format",
			"1.1.1.1\nsrcport\n80\n", MustFormat("${srcaddr}"), []string{"1.1.1.1", "80"}, nil},
		{"junk lines between good ones",
			line + "\nhello world\n" + line + "\n<html>\n", nil, []string{line, line},
			[]string{"f.log:2: want 14 fields, got 2 (no header line seen, so the default format applies)",
				"f.log:4: want 14 fields, got 1 (no header line seen, so the default format applies)"}},
		{"no hint once a header was seen", "srcaddr\n1.1.1.1 2\n", nil, nil, []string{"f.log:2: want 1 fields, got 2"}},
		{"bad value", strings.Replace(line, "ACCEPT", "ALLOW", 1) + "\n" + line, nil, []string{line},
			[]string{`f.log:1: field "action": want ACCEPT, REJECT or -, got "ALLOW"`}},
		{"bad header poisons until the next header",
			"srcaddr dstaddrr\n10.0.0.1 10.0.0.2\nsrcaddr dstaddr\n10.0.0.1 10.0.0.2\n", nil,
			[]string{"10.0.0.1 10.0.0.2"},
			[]string{`f.log:1: header names unknown field(s) "dstaddrr" (did you mean dstaddr?)`,
				"f.log:2: no usable format: the header at line 1 names unknown fields"}},
		{"NODATA and SKIPDATA",
			"2 1 eni-1 - - - - - - - 10 20 - NODATA\n2 1 eni-1 - - - - - - - 10 20 - SKIPDATA\n", nil,
			[]string{"2 1 eni-1 - - - - - - - 10 20 - NODATA", "2 1 eni-1 - - - - - - - 10 20 - SKIPDATA"}, nil},
		{"IPv6", "srcaddr dstaddr\n2001:db8::1 ::ffff:10.0.0.1\n", nil, []string{"2001:db8::1 ::ffff:10.0.0.1"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, _ := readString(tt.in, tt.format)
			if strings.Join(res.records, "|") != strings.Join(tt.want, "|") {
				t.Errorf("records\n got %q\nwant %q", res.records, tt.want)
			}
			if strings.Join(res.errs, "|") != strings.Join(tt.errs, "|") {
				t.Errorf("errors\n got %q\nwant %q", res.errs, tt.errs)
			}
		})
	}
}

func TestReaderLongLine(t *testing.T) {
	const line = "srcaddr\n10.0.0.1\n"
	in := line + strings.Repeat("x", MaxLineLen+10) + "\n10.0.0.2\n"
	res, rd := readString(in, nil)
	if strings.Join(res.records, ",") != "10.0.0.1,10.0.0.2" {
		t.Errorf("records %q", res.records)
	}
	if len(res.errs) != 1 || res.errs[0] != "f.log:3: line longer than 1 MiB" {
		t.Errorf("errs %q", res.errs)
	}
	if rd.Bad != 1 || rd.Records != 2 || rd.Headers != 1 {
		t.Errorf("counters bad=%d records=%d headers=%d", rd.Bad, rd.Records, rd.Headers)
	}
}

// Choice: behaviour where AWS is silent (docs/aws-behaviour.md, "Choices
// where AWS is silent"), grouped so it can be revised on its own.
func TestChoice(t *testing.T) {
	t.Run("version field accepted whatever the format implies", func(t *testing.T) {
		res, _ := readString("version srcaddr\n9 10.0.0.1\n", nil)
		if len(res.errs) > 0 || res.records[0] != "9 10.0.0.1" {
			t.Errorf("%+v", res)
		}
	})
	t.Run("extension x-rule is a string field of custom formats", func(t *testing.T) {
		f := MustFormat("${action} ${x-rule}")
		if len(f.Extensions()) != 1 || DefaultFormat.Extensions() != nil {
			t.Error("extensions")
		}
		res, _ := readString("action x-rule\nREJECT acl-0def/egress/*\n", nil)
		if len(res.errs) > 0 || res.records[0] != "REJECT acl-0def/egress/*" {
			t.Errorf("%+v", res)
		}
		_ = f
	})
	t.Run("a data line of lowercase IDs is not a header", func(t *testing.T) {
		res, _ := readString("interface-id vpc-id\neni-1 vpc-2\n", nil)
		if len(res.errs) > 0 || res.records[0] != "eni-1 vpc-2" {
			t.Errorf("%+v", res)
		}
	})
	t.Run("unconfirmed fields parse as strings", func(t *testing.T) {
		res, _ := readString("resource-id encryption-status\nrnat-1 encrypted\n", nil)
		if len(res.errs) > 0 || res.records[0] != "rnat-1 encrypted" {
			t.Errorf("%+v", res)
		}
	})
}

func TestRegistryConsistent(t *testing.T) {
	for _, f := range All() {
		in, acc := f.Info(), access[f]
		n := 0
		for _, set := range []bool{acc.str != nil, acc.num != nil, acc.addr != nil, acc.enum != nil} {
			if set {
				n++
			}
		}
		ok := n == 1 && map[Kind]bool{
			KindString: acc.str != nil, KindInt32: acc.num != nil, KindInt64: acc.num != nil,
			KindAddr: acc.addr != nil, KindEnum: acc.enum != nil,
		}[in.Kind]
		if !ok {
			t.Errorf("field %s: accessor does not match kind %s", f, in.Kind)
		}
		if g, ok := Lookup(in.Name); !ok || g != f {
			t.Errorf("lookup %s", in.Name)
		}
		if in.Meaning == "" {
			t.Errorf("field %s has no meaning", f)
		}
	}
	if len(All()) != 61 {
		t.Errorf("%d fields", len(All()))
	}
}
