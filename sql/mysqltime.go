package sql

import (
	"context"
	dbsql "database/sql"
	"database/sql/driver"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"
)

// date_format and date_parse take MySQL-style format specifiers in Trino
// (https://trino.io/docs/current/functions/datetime.html#mysql-date-functions).
// DuckDB's strftime/strptime use C specifiers and want a constant format,
// so the two functions are Go functions registered with DuckDB instead of
// macros.

var (
	shortDays   = [...]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}
	shortMonths = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
)

// mysqlFormat renders t with Trino's date_format specifiers. Specifiers
// Trino refuses (%U %u %V %w %X) are errors here too.
func mysqlFormat(t time.Time, format string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' || i+1 == len(format) {
			b.WriteByte(c)
			continue
		}
		i++
		h12 := t.Hour() % 12
		if h12 == 0 {
			h12 = 12
		}
		switch format[i] {
		case 'a':
			b.WriteString(shortDays[t.Weekday()])
		case 'b':
			b.WriteString(shortMonths[t.Month()-1])
		case 'c':
			b.WriteString(strconv.Itoa(int(t.Month())))
		case 'D':
			b.WriteString(strconv.Itoa(t.Day()) + ordinal(t.Day()))
		case 'd':
			fmt.Fprintf(&b, "%02d", t.Day())
		case 'e':
			b.WriteString(strconv.Itoa(t.Day()))
		case 'f':
			fmt.Fprintf(&b, "%06d", t.Nanosecond()/1000)
		case 'H':
			fmt.Fprintf(&b, "%02d", t.Hour())
		case 'h', 'I':
			fmt.Fprintf(&b, "%02d", h12)
		case 'i':
			fmt.Fprintf(&b, "%02d", t.Minute())
		case 'j':
			fmt.Fprintf(&b, "%03d", t.YearDay())
		case 'k':
			b.WriteString(strconv.Itoa(t.Hour()))
		case 'l':
			b.WriteString(strconv.Itoa(h12))
		case 'M':
			b.WriteString(t.Month().String())
		case 'm':
			fmt.Fprintf(&b, "%02d", int(t.Month()))
		case 'p':
			b.WriteString(t.Format("PM"))
		case 'r':
			fmt.Fprintf(&b, "%02d:%02d:%02d %s", h12, t.Minute(), t.Second(), t.Format("PM"))
		case 'S', 's':
			fmt.Fprintf(&b, "%02d", t.Second())
		case 'T':
			fmt.Fprintf(&b, "%02d:%02d:%02d", t.Hour(), t.Minute(), t.Second())
		case 'v':
			_, w := t.ISOWeek()
			fmt.Fprintf(&b, "%02d", w)
		case 'x':
			y, _ := t.ISOWeek()
			fmt.Fprintf(&b, "%04d", y)
		case 'W':
			b.WriteString(t.Weekday().String())
		case 'Y':
			fmt.Fprintf(&b, "%04d", t.Year())
		case 'y':
			fmt.Fprintf(&b, "%02d", t.Year()%100)
		case '%':
			b.WriteByte('%')
		case 'U', 'u', 'V', 'w', 'X':
			return "", fmt.Errorf("date_format: %%%c is not supported (as in Trino)", format[i])
		default:
			b.WriteByte(format[i]) // MySQL prints an unknown specifier's letter
		}
	}
	return b.String(), nil
}

func ordinal(d int) string {
	switch {
	case d%100 >= 11 && d%100 <= 13:
		return "th"
	case d%10 == 1:
		return "st"
	case d%10 == 2:
		return "nd"
	case d%10 == 3:
		return "rd"
	}
	return "th"
}

// mysqlParse reads s with Trino's date_parse specifiers into a UTC time;
// fields the format lacks take their value in 1970-01-01 00:00:00.
func mysqlParse(s, format string) (time.Time, error) {
	year, month, day, hour, min, sec, nsec := 1970, 1, 1, 0, 0, 0, 0
	pm, h12 := false, false
	pos := 0
	bad := func(what string) error {
		return fmt.Errorf("date_parse: invalid format %q for %q: %s at character %d", format, s, what, pos+1)
	}
	num := func(minDigits, maxDigits int) (int, bool) {
		n := 0
		for n < maxDigits && pos+n < len(s) && s[pos+n] >= '0' && s[pos+n] <= '9' {
			n++
		}
		if n < minDigits {
			return 0, false
		}
		v, _ := strconv.Atoi(s[pos : pos+n])
		pos += n
		return v, true
	}
	name := func(names []string) (int, bool) {
		for i, n := range names {
			if len(s)-pos >= len(n) && strings.EqualFold(s[pos:pos+len(n)], n) {
				pos += len(n)
				return i, true
			}
		}
		return 0, false
	}
	var longMonths, longDays [12]string
	for i := range longMonths {
		longMonths[i] = time.Month(i + 1).String()
	}
	for i := range 7 {
		longDays[i] = time.Weekday(i).String()
	}
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' || i+1 == len(format) {
			if pos >= len(s) || s[pos] != c {
				return time.Time{}, bad(fmt.Sprintf("want %q", c))
			}
			pos++
			continue
		}
		i++
		var ok bool
		switch format[i] {
		case 'Y':
			year, ok = num(4, 4)
		case 'y':
			if year, ok = num(2, 2); ok {
				year += 2000
				if year >= 2070 {
					year -= 100
				}
			}
		case 'm', 'c':
			month, ok = num(1, 2)
		case 'd', 'e':
			day, ok = num(1, 2)
		case 'H', 'k':
			hour, ok = num(1, 2)
		case 'h', 'I', 'l':
			hour, ok = num(1, 2)
			h12 = true
		case 'i':
			min, ok = num(1, 2)
		case 'S', 's':
			sec, ok = num(1, 2)
		case 'f':
			start := pos
			var frac int
			if frac, ok = num(1, 9); ok {
				nsec = frac
				for d := pos - start; d < 9; d++ {
					nsec *= 10
				}
			}
		case 'p':
			var v int
			if v, ok = name([]string{"AM", "PM"}); ok {
				pm = v == 1
			}
		case 'b':
			var v int
			if v, ok = name(shortMonths[:]); ok {
				month = v + 1
			}
		case 'M':
			var v int
			if v, ok = name(longMonths[:]); ok {
				month = v + 1
			}
		case 'a':
			_, ok = name(shortDays[:])
		case 'W':
			_, ok = name(longDays[:7])
		case 'T':
			if hour, ok = num(1, 2); ok && pos < len(s) && s[pos] == ':' {
				pos++
				if min, ok = num(1, 2); ok && pos < len(s) && s[pos] == ':' {
					pos++
					sec, ok = num(1, 2)
				} else {
					ok = false
				}
			} else {
				ok = false
			}
		case '%':
			ok = pos < len(s) && s[pos] == '%'
			pos++
		default:
			return time.Time{}, fmt.Errorf("date_parse: %%%c is not supported", format[i])
		}
		if !ok {
			return time.Time{}, bad("want %" + string(format[i]))
		}
	}
	if pos != len(s) {
		return time.Time{}, bad("unexpected text")
	}
	if h12 {
		if hour < 1 || hour > 12 {
			return time.Time{}, bad("hour out of range")
		}
		hour %= 12
		if pm {
			hour += 12
		}
	}
	t := time.Date(year, time.Month(month), day, hour, min, sec, nsec, time.UTC)
	if t.Month() != time.Month(month) || t.Day() != day || hour > 23 || min > 59 || sec > 59 {
		return time.Time{}, bad("value out of range")
	}
	return t, nil
}

// rowFunc is a DuckDB scalar function over one Go function.
type rowFunc struct {
	in  []duckdb.Type
	out duckdb.Type
	fn  func([]driver.Value) (any, error)
}

func (f *rowFunc) Config() duckdb.ScalarFuncConfig {
	var c duckdb.ScalarFuncConfig
	for _, t := range f.in {
		ti, _ := duckdb.NewTypeInfo(t)
		c.InputTypeInfos = append(c.InputTypeInfos, ti)
	}
	c.ResultTypeInfo, _ = duckdb.NewTypeInfo(f.out)
	return c
}

func (f *rowFunc) Executor() duckdb.ScalarFuncExecutor {
	return duckdb.ScalarFuncExecutor{RowExecutor: f.fn}
}

// registerMySQLTime adds date_format and date_parse to db: a function
// registered on one connection is in the catalog every connection reads.
func registerMySQLTime(ctx context.Context, db *dbsql.DB) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := duckdb.RegisterScalarUDF(conn, "date_format", &rowFunc{
		in: []duckdb.Type{duckdb.TYPE_TIMESTAMP, duckdb.TYPE_VARCHAR}, out: duckdb.TYPE_VARCHAR,
		fn: func(v []driver.Value) (any, error) { return mysqlFormat(v[0].(time.Time).UTC(), v[1].(string)) },
	}); err != nil {
		return fmt.Errorf("register date_format: %w", err)
	}
	if err := duckdb.RegisterScalarUDF(conn, "date_parse", &rowFunc{
		in: []duckdb.Type{duckdb.TYPE_VARCHAR, duckdb.TYPE_VARCHAR}, out: duckdb.TYPE_TIMESTAMP,
		fn: func(v []driver.Value) (any, error) { return mysqlParse(v[0].(string), v[1].(string)) },
	}); err != nil {
		return fmt.Errorf("register date_parse: %w", err)
	}
	return nil
}
