package insights

import (
	"cmp"
	"math"
	"sort"
)

// aggState accumulates one aggregate for one group. One worker owns each
// group (route.go), so states never merge.
type aggState interface {
	add(v Value, ts, ing int64)
	result() Value
}

type aggSpec struct {
	fn  string
	arg node // nil for count(*)
	pct float64
}

func (s *aggSpec) newState() aggState {
	switch s.fn {
	case "count", "sum", "avg", "min", "max":
		return &flatState{s: s}
	case "count_distinct":
		return &distinctAgg{set: map[string]struct{}{}}
	case "pct":
		return &pctAgg{p: s.pct}
	case "stddev":
		return &stddevAgg{}
	case "earliest":
		return &timeAgg{sign: -1}
	case "latest":
		return &timeAgg{sign: 1}
	case "sortsfirst":
		return &naturalAgg{sign: -1}
	case "sortslast":
		return &naturalAgg{sign: 1}
	}
	panic("insights: unknown aggregate " + s.fn)
}

// The common aggregates (count, sum, avg, min, max) keep their state in at
// most two float64s, all zero when empty. A stats whose aggregates are all
// of these keeps every group's state in one float64 slice (see groupTable):
// no object per group, nothing for the garbage collector to trace.

// flatWidth is how many float64s hold the state of s, or 0 when s needs an
// aggState object.
func (s *aggSpec) flatWidth() int {
	switch s.fn {
	case "count":
		return 1
	case "sum", "avg", "min", "max": // sum and count, or set and value
		return 2
	}
	return 0
}

// numeric says whether the aggregate reads its argument only as a number,
// ignoring what is not one, as a null.
func (s *aggSpec) numeric() bool {
	switch s.fn {
	case "sum", "avg", "min", "max", "pct", "stddev":
		return true
	}
	return false
}

func (s *aggSpec) flatAdd(f []float64, v Value) {
	switch s.fn {
	case "count":
		if s.arg == nil || v.K != Null {
			f[0]++
		}
	case "sum", "avg":
		if x, ok := v.num(); ok {
			f[0] += x
			f[1]++
		}
	case "min", "max":
		if x, ok := v.num(); ok {
			s.flatPut(f, x)
		}
	}
}

func (s *aggSpec) flatPut(f []float64, x float64) {
	sign := 1
	if s.fn == "min" {
		sign = -1
	}
	if f[0] == 0 || cmpFloat(x, f[1]) == sign {
		f[0], f[1] = 1, x
	}
}

func (s *aggSpec) flatResult(f []float64) Value {
	switch s.fn {
	case "count":
		return numVal(f[0])
	case "sum", "avg":
		if f[1] == 0 {
			return Value{}
		}
		if s.fn == "avg" {
			return numVal(f[0] / f[1])
		}
		return numVal(f[0])
	case "min", "max":
		if f[0] == 0 {
			return Value{}
		}
		return numVal(f[1])
	}
	return Value{}
}

// flatState is a flat aggregate as an object, for stats that also have
// aggregates of other kinds.
type flatState struct {
	s *aggSpec
	f [2]float64
}

func (a *flatState) add(v Value, _, _ int64) { a.s.flatAdd(a.f[:], v) }
func (a *flatState) result() Value           { return a.s.flatResult(a.f[:]) }

type distinctAgg struct{ set map[string]struct{} }

func (a *distinctAgg) add(v Value, _, _ int64) {
	if v.K == Null {
		return
	}
	k := keyOf(v)
	if _, ok := a.set[k]; !ok {
		a.set[string([]byte(k))] = struct{}{}
	}
}
func (a *distinctAgg) result() Value { return numVal(float64(len(a.set))) }

// keyOf names a value for count_distinct: numbers by value, so "80" and 80
// count once.
func keyOf(v Value) string {
	if f, ok := v.num(); ok && v.K != Bool {
		return "n" + formatNum(f)
	}
	return "s" + v.str()
}

// pctAgg is nearest rank ([Choice]): the ⌈p/100·n⌉-th smallest value, the
// minimum when p is 0.
type pctAgg struct {
	p  float64
	vs []float64
}

func (a *pctAgg) add(v Value, _, _ int64) {
	if f, ok := v.num(); ok {
		a.vs = append(a.vs, f)
	}
}
func (a *pctAgg) result() Value {
	if len(a.vs) == 0 {
		return Value{}
	}
	sort.Float64s(a.vs)
	k := int(math.Ceil(a.p / 100 * float64(len(a.vs))))
	k = max(1, min(k, len(a.vs)))
	return numVal(a.vs[k-1])
}

// stddevAgg is the sample standard deviation ([Choice]), kept as count, mean and
// sum of squared deviations (Welford), which stays accurate where summing
// squares would cancel.
type stddevAgg struct{ n, mean, m2 float64 }

func (a *stddevAgg) add(v Value, _, _ int64) {
	f, ok := v.num()
	if !ok {
		return
	}
	a.n++
	d := f - a.mean
	a.mean += d / a.n
	a.m2 += d * (f - a.mean)
}
func (a *stddevAgg) result() Value {
	if a.n < 2 {
		return Value{}
	}
	return numVal(math.Sqrt(a.m2 / (a.n - 1)))
}

// timeAgg keeps the value of the record with the lowest (earliest) or
// highest (latest) @timestamp, ingestion time breaking ties.
type timeAgg struct {
	sign    int
	set     bool
	ts, ing int64
	v       Value
}

func (a *timeAgg) add(v Value, ts, ing int64) {
	if v.K == Null {
		return
	}
	if !a.set || a.better(ts, ing) {
		a.set, a.ts, a.ing, a.v = true, ts, ing, v.clone()
	}
}
func (a *timeAgg) better(ts, ing int64) bool {
	c := cmp.Compare(ts, a.ts)
	if c == 0 {
		c = cmp.Compare(ing, a.ing)
	}
	return c == a.sign
}
func (a *timeAgg) result() Value { return a.v }

type naturalAgg struct {
	sign int
	v    Value
}

func (a *naturalAgg) add(v Value, _, _ int64) {
	if v.K != Null && (a.v.K == Null || naturalCompare(v, a.v) == a.sign) {
		a.v = v.clone()
	}
}
func (a *naturalAgg) result() Value { return a.v }
