package kafkasink

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

var v2Fields = strings.Fields("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status")

func TestJSONValue(t *testing.T) {
	got, err := JSONValue(v2Fields, "2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA")
	want := `{"version":"2","account-id":"123456789010","interface-id":"eni-1235b8ca123456789","srcaddr":null,"dstaddr":null,` +
		`"srcport":null,"dstport":null,"protocol":null,"packets":null,"bytes":null,"start":"1431280876","end":"1431280934","action":null,"log-status":"NODATA"}`
	if err != nil || string(got) != want {
		t.Errorf("JSONValue = %s, %v\nwant %s", got, err, want)
	}
	if _, err := JSONValue(v2Fields, "2 123456789010 eni-1"); err == nil || !strings.Contains(err.Error(), "3 fields, the format has 14") {
		t.Errorf("a short line: %v", err)
	}
}

// Whatever the line, the JSON is valid and gives back each field's text
// ("-" as null), or the line is refused for its field count.
func FuzzJSONValue(f *testing.F) {
	f.Add("2 123456789010 eni-1 10.0.0.1 10.0.0.2 443 49152 6 10 840 1 2 ACCEPT OK")
	f.Add(`2 "x" \u0000 - - - - - - - 1 2 - NODATA`)
	f.Fuzz(func(t *testing.T, line string) {
		b, err := JSONValue(v2Fields, line)
		if err != nil {
			return
		}
		var m map[string]*string
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%q gave invalid JSON %s: %v", line, b, err)
		}
		for i, v := range strings.Fields(line) {
			got := m[v2Fields[i]]
			if !utf8.ValidString(v) {
				continue // JSON strings carry UTF-8; records are ASCII
			}
			if v == "-" && got != nil || v != "-" && (got == nil || *got != v) {
				t.Fatalf("%q: field %s = %v, want %q", line, v2Fields[i], got, v)
			}
		}
	})
}

// appendJSONString writes what encoding/json writes, escapes included.
func TestAppendJSONString(t *testing.T) {
	for _, s := range []string{"", "eni-1235b8ca123456789", "10.0.0.1", `a"b`, `a\b`, "a<b>&", "tab\there", "é", "\x7f", "\xff"} {
		want, _ := json.Marshal(s)
		if got := appendJSONString(nil, s); string(got) != string(want) {
			t.Errorf("%q: %s, want %s", s, got, want)
		}
	}
}

func BenchmarkJSONValue(b *testing.B) {
	line := "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK"
	for i := 0; i < b.N; i++ {
		JSONValue(v2Fields, line)
	}
}
