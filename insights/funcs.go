package insights

import (
	"encoding/json"
	"math"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"
)

// scalarFunc computes a function of already-evaluated arguments.
type scalarFunc struct {
	min, max int  // arity; max -1 = any
	nullsIn  bool // receives null arguments instead of returning null
	fn       func(a []Value) Value
}

func num1(f func(float64) float64) scalarFunc {
	return scalarFunc{min: 1, max: 1, fn: func(a []Value) Value {
		x, ok := a[0].num()
		if !ok {
			return Value{}
		}
		return numVal(f(x))
	}}
}

func str1(f func(string) Value) scalarFunc {
	return scalarFunc{min: 1, max: 1, fn: func(a []Value) Value { return f(a[0].str()) }}
}

func oneZero(b bool) Value {
	if b {
		return numVal(1)
	}
	return numVal(0)
}

func parseIP(v Value) (netip.Addr, bool) {
	if v.K != String {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(v.S)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a, true
}

func inSubnet(want int) scalarFunc {
	return scalarFunc{min: 2, max: 2, nullsIn: true, fn: func(a []Value) Value {
		ip, ok := parseIP(a[0])
		if !ok || a[1].K != String {
			return boolVal(false)
		}
		p, err := netip.ParsePrefix(a[1].S)
		if err != nil {
			return boolVal(false)
		}
		if want == 4 && !ip.Is4() || want == 6 && !ip.Is6() {
			return boolVal(false)
		}
		return boolVal(p.Contains(ip))
	}}
}

var private4 = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("172.16.0.0/12"), netip.MustParsePrefix("192.168.0.0/16")}

func isPrivate(ip netip.Addr) bool {
	for _, p := range private4 {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

func trimFunc(mode int) scalarFunc {
	return scalarFunc{min: 1, max: 2, fn: func(a []Value) Value {
		s := a[0].str()
		if len(a) == 1 {
			switch mode {
			case 0:
				return strVal(strings.TrimSpace(s))
			case 1:
				return strVal(strings.TrimLeftFunc(s, unicode.IsSpace))
			}
			return strVal(strings.TrimRightFunc(s, unicode.IsSpace))
		}
		cut := a[1].str()
		switch mode {
		case 0:
			return strVal(strings.Trim(s, cut))
		case 1:
			return strVal(strings.TrimLeft(s, cut))
		}
		return strVal(strings.TrimRight(s, cut))
	}}
}

// pickNatural returns the argument that sorts first (sign -1) or last (+1).
func pickNatural(sign int) scalarFunc {
	return scalarFunc{min: 1, max: -1, nullsIn: true, fn: func(a []Value) Value {
		var best Value
		for _, v := range a {
			if v.K == Null {
				continue
			}
			if best.K == Null || naturalCompare(v, best)*sign > 0 {
				best = v
			}
		}
		return best
	}}
}

func toInt(x float64) float64 { return math.Trunc(x) }

// scalars are the non-aggregate functions of Logs Insights that need nothing
// but their arguments; bin, datefloor, dateceil, now and the regex functions
// are compiled specially.
var scalars = map[string]scalarFunc{
	"abs":   num1(math.Abs),
	"ceil":  num1(math.Ceil),
	"floor": num1(math.Floor),
	"log":   num1(math.Log),
	"sqrt":  num1(math.Sqrt),
	"round": {min: 1, max: 2, fn: func(a []Value) Value {
		x, ok := a[0].num()
		if !ok {
			return Value{}
		}
		d := 0.0
		if len(a) == 2 {
			if d, ok = a[1].num(); !ok {
				return Value{}
			}
		}
		p := math.Pow(10, math.Trunc(d))
		return numVal(math.Round(x*p) / p)
	}},
	"greatest":  pickNatural(1),
	"least":     pickNatural(-1),
	"tonumber":  num1(func(x float64) float64 { return x }),
	"todouble":  num1(func(x float64) float64 { return x }),
	"toint":     num1(toInt),
	"tolong":    num1(toInt),
	"ispresent": {min: 1, max: 1, nullsIn: true, fn: func(a []Value) Value { return boolVal(a[0].K != Null) }},
	"coalesce": {min: 1, max: -1, nullsIn: true, fn: func(a []Value) Value {
		for _, v := range a {
			if v.K != Null {
				return v
			}
		}
		return Value{}
	}},
	"isnumeric": {min: 1, max: 1, nullsIn: true, fn: func(a []Value) Value {
		_, ok := a[0].num()
		return boolVal(ok && a[0].K != Bool)
	}},
	"isempty": {min: 1, max: 1, nullsIn: true, fn: func(a []Value) Value { return oneZero(a[0].K == Null || a[0].str() == "") }},
	"isblank": {min: 1, max: 1, nullsIn: true, fn: func(a []Value) Value {
		return oneZero(a[0].K == Null || strings.TrimSpace(a[0].str()) == "")
	}},
	"concat": {min: 1, max: -1, fn: func(a []Value) Value {
		var b strings.Builder
		for _, v := range a {
			b.WriteString(v.str())
		}
		return strVal(b.String())
	}},
	"trim":    trimFunc(0),
	"ltrim":   trimFunc(1),
	"rtrim":   trimFunc(2),
	"strlen":  str1(func(s string) Value { return numVal(float64(utf8.RuneCountInString(s))) }),
	"toupper": str1(func(s string) Value { return strVal(strings.ToUpper(s)) }),
	"tolower": str1(func(s string) Value { return strVal(strings.ToLower(s)) }),
	"substr": {min: 2, max: 3, fn: func(a []Value) Value {
		r := []rune(a[0].str())
		st, ok := a[1].num()
		if !ok {
			return Value{}
		}
		start := int(math.Max(0, math.Min(float64(len(r)), st)))
		end := len(r)
		if len(a) == 3 {
			n, ok := a[2].num()
			if !ok {
				return Value{}
			}
			end = int(math.Max(float64(start), math.Min(float64(len(r)), float64(start)+n)))
		}
		return strVal(string(r[start:end]))
	}},
	"replace": {min: 3, max: 3, fn: func(a []Value) Value {
		return strVal(strings.ReplaceAll(a[0].str(), a[1].str(), a[2].str()))
	}},
	"strcontains": {min: 2, max: 2, fn: func(a []Value) Value { return oneZero(strings.Contains(a[0].str(), a[1].str())) }},
	"startswith":  {min: 2, max: 2, fn: func(a []Value) Value { return oneZero(strings.HasPrefix(a[0].str(), a[1].str())) }},
	"endswith":    {min: 2, max: 2, fn: func(a []Value) Value { return oneZero(strings.HasSuffix(a[0].str(), a[1].str())) }},
	"split": {min: 2, max: 2, fn: func(a []Value) Value {
		// Values are scalars here, so the list renders as a JSON array.
		b, _ := json.Marshal(strings.Split(a[0].str(), a[1].str()))
		return strVal(string(b))
	}},
	"frommillis": {min: 1, max: 1, fn: func(a []Value) Value {
		x, ok := a[0].num()
		if !ok || math.Abs(x) > 1e17 {
			return Value{}
		}
		return timeVal(int64(x))
	}},
	"tomillis": {min: 1, max: 1, fn: func(a []Value) Value {
		x, ok := a[0].num()
		if !ok {
			return Value{}
		}
		return numVal(x)
	}},
	"isvalidip":      {min: 1, max: 1, nullsIn: true, fn: func(a []Value) Value { _, ok := parseIP(a[0]); return boolVal(ok) }},
	"isvalidipv4":    {min: 1, max: 1, nullsIn: true, fn: func(a []Value) Value { ip, ok := parseIP(a[0]); return boolVal(ok && ip.Is4()) }},
	"isvalidipv6":    {min: 1, max: 1, nullsIn: true, fn: func(a []Value) Value { ip, ok := parseIP(a[0]); return boolVal(ok && ip.Is6()) }},
	"isipinsubnet":   inSubnet(0),
	"isipv4insubnet": inSubnet(4),
	"isipv6insubnet": inSubnet(6),
	"isprivateip": {min: 1, max: 1, nullsIn: true, fn: func(a []Value) Value {
		ip, ok := parseIP(a[0])
		return boolVal(ok && ip.Is4() && isPrivate(ip))
	}},
	"ispublicip": {min: 1, max: 1, nullsIn: true, fn: func(a []Value) Value {
		ip, ok := parseIP(a[0])
		return boolVal(ok && ip.Is4() && !isPrivate(ip))
	}},
	"ipv4tonumber": {min: 1, max: 1, fn: func(a []Value) Value {
		ip, ok := parseIP(a[0])
		if !ok || !ip.Is4() {
			return Value{}
		}
		b := ip.As4()
		return numVal(float64(uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])))
	}},
}

// aggregates are the stats-only functions with their arity.
var aggregates = map[string][2]int{
	"count": {0, 1}, "count_distinct": {1, 1}, "sum": {1, 1}, "avg": {1, 1}, "min": {1, 1}, "max": {1, 1},
	"pct": {2, 2}, "stddev": {1, 1}, "earliest": {1, 1}, "latest": {1, 1}, "sortsfirst": {1, 1}, "sortslast": {1, 1},
}
