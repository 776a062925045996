package insights

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// MarshalJSON writes the result exactly as `aws logs get-query-results`
// prints it: results as lists of {field, value}, statistics as doubles (so
// 7 prints as 7.0), then status.
func (r *Result) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{"results":`)
	rows := r.Rows
	if rows == nil {
		rows = [][]Field{}
	}
	// The AWS CLI does not escape <, > and & as \u003c...; neither do we.
	var enc bytes.Buffer
	e := json.NewEncoder(&enc)
	e.SetEscapeHTML(false)
	if err := e.Encode(rows); err != nil {
		return nil, err
	}
	b.Write(bytes.TrimSuffix(enc.Bytes(), []byte("\n")))
	b.WriteString(`,"statistics":{"recordsMatched":`)
	b.WriteString(double(r.Statistics.RecordsMatched))
	b.WriteString(`,"recordsScanned":`)
	b.WriteString(double(r.Statistics.RecordsScanned))
	b.WriteString(`,"bytesScanned":`)
	b.WriteString(double(r.Statistics.BytesScanned))
	b.WriteString(`},"status":`)
	st, _ := json.Marshal(r.Status)
	b.Write(st)
	b.WriteString("}")
	return b.Bytes(), nil
}

// double renders a statistic the way the service's doubles print.
func double(f float64) string {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if f == float64(int64(f)) {
		s += ".0"
	}
	return s
}

// JSON is the indented get-query-results document the AWS CLI prints
// (four-space indent, final newline).
func (r *Result) JSON() []byte {
	raw, _ := r.MarshalJSON()
	var b bytes.Buffer
	_ = json.Indent(&b, raw, "", "    ")
	b.WriteByte('\n')
	return b.Bytes()
}
