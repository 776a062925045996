package kafkasink

import (
	"encoding/json"
	"fmt"
	"strings"
)

// JSONValue turns a flow-log record's text line into a JSON object keyed
// by its format's field names (as the header line names them:
// "interface-id", "srcaddr"...), for consumers that want named fields.
// Values stay strings, as the text has them, except "-" (the field does
// not apply, or NODATA/SKIPDATA), which is null. The object's keys come in
// the format's order. A line whose field count is not the format's is an
// error naming both counts.
func JSONValue(fields []string, line string) ([]byte, error) {
	vals := strings.Fields(line)
	if len(vals) != len(fields) {
		return nil, fmt.Errorf("record %q: %d fields, the format has %d", truncate(line, 60), len(vals), len(fields))
	}
	b := make([]byte, 0, 2*len(line)+16*len(fields))
	b = append(b, '{')
	for i, f := range fields {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, f)
		b = append(b, ':')
		if vals[i] == "-" {
			b = append(b, "null"...)
			continue
		}
		b = appendJSONString(b, vals[i])
	}
	return append(b, '}'), nil
}

// appendJSONString appends s as encoding/json writes it. Record fields
// are printable ASCII that needs no escape, written as they are; anything
// else goes through encoding/json (which also escapes <, > and &).
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
