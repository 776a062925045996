package sql

import (
	"testing"
	"time"
)

// FuzzMySQLTime: date_parse and date_format never panic; what date_parse
// reads with a format of numeric fields only, date_format writes back and
// date_parse reads again to the same time.
func FuzzMySQLTime(f *testing.F) {
	for _, s := range [][2]string{
		{"2022/10/20/05", "%Y/%m/%d/%H"},
		{"2023-11-14 22:13:20", "%Y-%m-%d %H:%i:%s"},
		{"November 14, 2023 10:13:20 PM", "%M %e, %Y %r"},
		{"14/Nov/23 22:13:20.123", "%d/%b/%y %T.%f"},
		{"%", "%%"},
		{"", "%"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, s, format string) {
		tm, err := mysqlParse(s, format)
		if _, ferr := mysqlFormat(time.Unix(1700000000, 0).UTC(), format); ferr != nil && err == nil && numericOnly(format) {
			t.Fatalf("format %q parses but does not format: %v", format, ferr)
		}
		if err != nil || !numericOnly(format) {
			return
		}
		out, err := mysqlFormat(tm, format)
		if err != nil {
			t.Fatalf("date_format(%v, %q): %v", tm, format, err)
		}
		back, err := mysqlParse(out, format)
		if err != nil || !back.Equal(tm) {
			t.Fatalf("%q read with %q is %v, written %q, read again %v (%v)", s, format, tm, out, back, err)
		}
	})
}

// numericOnly reports whether format uses only zero-padded numeric
// specifiers that write back what they read.
func numericOnly(format string) bool {
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		if i+1 == len(format) {
			return false
		}
		i++
		switch format[i] {
		case 'Y', 'm', 'd', 'H', 'i', 's', 'S', 'T', '%':
		default:
			return false
		}
	}
	return true
}
