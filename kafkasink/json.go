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
	var b strings.Builder
	b.WriteByte('{')
	for i, f := range fields {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(f)
		b.Write(k)
		b.WriteByte(':')
		if vals[i] == "-" {
			b.WriteString("null")
			continue
		}
		v, _ := json.Marshal(vals[i])
		b.Write(v)
	}
	b.WriteByte('}')
	return []byte(b.String()), nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
