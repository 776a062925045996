package insights

import (
	"strconv"
	"strings"
	"time"
)

type unit uint8

const (
	uMs unit = iota
	uSec
	uMin
	uHour
	uDay
	uWeek
	uMonth
	uQuarter
	uYear
)

// duration is a period argument such as 5m; months and longer align to the
// calendar, the rest to multiples from the Unix epoch.
type duration struct {
	n int64
	u unit
}

var units = map[string]unit{
	"ms": uMs, "msec": uMs, "millisecond": uMs, "milliseconds": uMs,
	"s": uSec, "sec": uSec, "second": uSec, "seconds": uSec,
	"m": uMin, "min": uMin, "minute": uMin, "minutes": uMin,
	"h": uHour, "hr": uHour, "hour": uHour, "hours": uHour,
	"d": uDay, "day": uDay, "days": uDay,
	"w": uWeek, "week": uWeek, "weeks": uWeek,
	"mo": uMonth, "mon": uMonth, "month": uMonth, "months": uMonth,
	"q": uQuarter, "qtr": uQuarter, "quarter": uQuarter, "quarters": uQuarter,
	"y": uYear, "yr": uYear, "year": uYear, "years": uYear,
}

// caps: values above a unit's cap fall back to the cap [AWS], so bin(300s)
// acts as bin(60s).
var caps = map[unit]int64{uMs: 1000, uSec: 60, uMin: 60, uHour: 24}

var unitMs = map[unit]int64{uMs: 1, uSec: 1000, uMin: 60000, uHour: 3600000, uDay: 86400000, uWeek: 7 * 86400000}

func parseDuration(s string) (duration, bool) {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	u, ok := units[strings.ToLower(s[i:])]
	if err != nil || !ok || n <= 0 || n > 1_000_000 {
		return duration{}, false
	}
	if c, ok := caps[u]; ok && n > c {
		n = c
	}
	return duration{n, u}, true
}

// mondayMs is 1969-12-29 00:00 UTC, a Monday: weeks count from it ([Choice]).
const mondayMs = -3 * 86400000

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// months is the length of a month, quarter or year duration in months.
func (d duration) months() int64 {
	switch d.u {
	case uQuarter:
		return 3 * d.n
	case uYear:
		return 12 * d.n
	}
	return d.n
}

// floor rounds ms down to a multiple of d.
func (d duration) floor(ms int64) int64 {
	switch d.u {
	case uMonth, uQuarter, uYear:
		months := d.months()
		t := time.UnixMilli(ms).UTC()
		idx := int64(t.Year()-1970)*12 + int64(t.Month()-1)
		idx = floorDiv(idx, months) * months
		y := 1970 + floorDiv(idx, 12)
		m := idx - floorDiv(idx, 12)*12
		return time.Date(int(y), time.Month(m+1), 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	case uWeek:
		step := d.n * unitMs[uWeek]
		return floorDiv(ms-mondayMs, step)*step + mondayMs
	}
	step := d.n * unitMs[d.u]
	return floorDiv(ms, step) * step
}

// ceil rounds ms up to a multiple of d.
func (d duration) ceil(ms int64) int64 {
	f := d.floor(ms)
	if f == ms {
		return ms
	}
	switch d.u {
	case uMonth, uQuarter, uYear:
		return time.UnixMilli(f).UTC().AddDate(0, int(d.months()), 0).UnixMilli()
	}
	if d.u == uWeek {
		return f + d.n*unitMs[uWeek]
	}
	return f + d.n*unitMs[d.u]
}
