package insights

import (
	"cmp"
	"encoding/binary"
	"slices"
	"strings"
	"unsafe"
)

// This file orders result rows. A stats over flow logs can have millions of
// groups (one per address pair), so the natural order is computed once per
// row (natKey) instead of once per comparison, and a sort followed by a
// limit keeps only the rows that can reach the output.

// natKey is a value's place in the natural sort order (docs/aws-behaviour.md,
// "Logs Insights"), so that comparisons need not re-parse numbers nor split
// strings into runs.
type natKey struct {
	class uint8 // natText, natNumber or natNull
	f     float64
	s     string // natText: appendNatText of the value
}

const (
	natText   uint8 = iota // non-numeric values come first
	natNumber              // then numbers, by value
	natNull                // nulls last, in both directions
)

func natKeyOf(v Value) natKey { return natKeyIn(nil, v) }

// natKeyIn is natKeyOf with a text key's bytes appended to *buf (when buf
// is not nil) instead of allocated: the key aliases them until *buf is
// reused, so a candidate that is compared and dropped costs nothing.
func natKeyIn(buf *[]byte, v Value) natKey {
	if v.K == Null {
		return natKey{class: natNull}
	}
	if f, ok := v.num(); ok {
		return natKey{class: natNumber, f: f}
	}
	if buf == nil {
		return natKey{class: natText, s: string(appendNatText(nil, v.str()))}
	}
	start := len(*buf)
	*buf = appendNatText(*buf, v.str())
	b := (*buf)[start:]
	return natKey{class: natText, s: unsafe.String(unsafe.SliceData(b), len(b))}
}

// own copies the text of aliased keys (natKeyIn) out of their buffer.
func own(keys []natKey) []natKey {
	keys = slices.Clone(keys)
	for i := range keys {
		keys[i].s = strings.Clone(keys[i].s)
	}
	return keys
}

// appendNatText appends the encoding of s so that comparing encodings bytewise is comparing
// the strings with naturalString. Text runs are copied with 0x00 escaped as
// 00 FF and end with 00 01, so that a run sorts before its extensions as
// in naturalString's run comparison. A digit run is '0', its length (one
// byte, or FF and eight bytes), then its digits: longer runs sort later,
// and against a text run the first bytes decide, as the first code points
// do in naturalString (a digit byte is below or above any other byte the
// same way '0' is).
func appendNatText(b []byte, s string) []byte {
	for len(s) > 0 {
		n := runLen(s)
		if isDigit(s[0]) {
			b = append(b, '0')
			if n < 0xff {
				b = append(b, byte(n))
			} else {
				b = append(b, 0xff)
				b = binary.BigEndian.AppendUint64(b, uint64(n))
			}
			b = append(b, s[:n]...)
		} else {
			for i := range n {
				if s[i] == 0 {
					b = append(b, 0, 0xff)
				} else {
					b = append(b, s[i])
				}
			}
			b = append(b, 0, 1)
		}
		s = s[n:]
	}
	return b
}

// cmp is sortCompare over keys: desc reverses only the non-null part.
func (a *natKey) cmp(b *natKey, desc bool) int {
	if a.class == natNull || b.class == natNull {
		return cmp.Compare(int(a.class/natNull), int(b.class/natNull))
	}
	var c int
	switch {
	case a.class != b.class:
		c = cmp.Compare(int(a.class), int(b.class))
	case a.class == natNumber:
		c = cmpFloat(a.f, b.f)
	default:
		c = strings.Compare(a.s, b.s)
	}
	if desc {
		c = -c
	}
	return c
}

// cmpKeys compares two key lists of the same length; desc[i] (if any)
// reverses key i.
func cmpKeys(a, b []natKey, desc []bool) int {
	for i := range a {
		if c := a[i].cmp(&b[i], desc != nil && desc[i]); c != 0 {
			return c
		}
	}
	return 0
}

// statsRow is a finished stats row with what places it: the keys of a sort
// folded into the stats, then the group's by-keys (the default order,
// [Choice]), then the group's encoded key. That last one only separates
// groups whose keys compare equal (the string "80" and the number 80, "1" and
// "1.0"), so that even they come out in the same order on every run.
type statsRow struct {
	row  *tableRow
	sort []natKey
	grp  []natKey
	id   string
}

func cmpStatsRows(a, b *statsRow, desc []bool) int {
	if c := cmpKeys(a.sort, b.sort, desc); c != 0 {
		return c
	}
	if c := cmpKeys(a.grp, b.grp, nil); c != 0 {
		return c
	}
	return strings.Compare(a.id, b.id)
}

// foldSort says whether the commands after a stats start with a sort that
// the stats can apply itself, and how many of the stats' rows, in that
// order or else the default one, can matter: the first limit, or the
// result's row cap, as long as nothing before it drops or reorders rows;
// 0 means all.
func foldSort(after []*cop, rowCap int) (*cop, int) {
	var srt *cop
	if len(after) > 0 && after[0].kind == "sort" {
		srt, after = after[0], after[1:]
	}
	for _, op := range after {
		switch op.kind {
		case "fields", "display", "parse": // one row out for each row in
		case "limit":
			return srt, min(op.limit, rowCap)
		default:
			return srt, 0
		}
	}
	return srt, rowCap
}

// sortKeysOf evaluates the keys of sort command srt on a row's values.
func sortKeysOf(dst []natKey, buf *[]byte, srt *cop, tr *record, vals []Value) []natKey {
	tr.vals, tr.ts, tr.ing = vals, 0, 0
	for _, k := range srt.keys {
		dst = append(dst, natKeyIn(buf, k.n.eval(tr)))
	}
	return dst
}

func natKeysOf(dst []natKey, buf *[]byte, vals []Value) []natKey {
	for _, v := range vals {
		dst = append(dst, natKeyIn(buf, v))
	}
	return dst
}

// statsFinisher turns groups of one stats command into rows. Expression
// nodes keep scratch space, so each goroutine finishing groups has its own.
type statsFinisher struct {
	st  *cstats
	srt *cop    // the sort right after the stats, if folded into it
	tr  *record // evaluates srt's keys on a row
	x   *runCtx
}

func (f *statsFinisher) desc() []bool {
	if f.srt == nil {
		return nil
	}
	d := make([]bool, len(f.srt.keys))
	for i, k := range f.srt.keys {
		d[i] = k.desc
	}
	return d
}

// collect finishes the groups of t, dropping rows with nothing but nulls
// ([Choice]), and returns them unordered with their keys. When n > 0, only the
// rows that can be among the first n (in the folded sort's order, else in
// the default one) are kept,
// picked with a bounded heap so that millions of groups are never sorted
// and only the kept rows are allocated.
func (f *statsFinisher) collect(t *groupTable, n int) []statsRow {
	st := f.st
	r := &record{x: f.x}
	width := len(st.next.names)
	var keys []Value // of the group last filled
	fill := func(gi int, vals []Value) bool {
		nonNull := false
		keys = decodeKeys(keys[:0], t.idOf(gi))
		for i, k := range keys {
			vals[st.byOut[i]] = k
			nonNull = nonNull || k.K != Null
		}
		r.aggs = t.results(r.aggs[:0], gi)
		for i, nd := range st.items {
			v := nd.eval(r)
			vals[st.itemOut[i]] = v
			nonNull = nonNull || v.K != Null
		}
		return nonNull
	}
	desc := f.desc()
	cmp := func(a, b *statsRow) int { return cmpStatsRows(a, b, desc) }
	nby := len(st.by)
	if n > 0 && n < t.n {
		return f.top(t, n, width, func(gi int, vals []Value) ([]Value, bool) { ok := fill(gi, vals); return keys, ok }, desc, cmp)
	}

	// Rows alias the table's key bytes: they are every group anyway.
	list := make([]statsRow, 0, t.n)
	grp := make([]natKey, 0, t.n*nby)
	var sk []natKey
	if f.srt != nil {
		sk = make([]natKey, 0, t.n*len(f.srt.keys))
	}
	for gi := range t.n {
		vals := make([]Value, width)
		if !fill(gi, vals) {
			continue
		}
		o := statsRow{row: &tableRow{vals: vals}, id: t.idOf(gi)}
		grp = natKeysOf(grp, nil, keys)
		o.grp = grp[len(grp)-nby:]
		if f.srt != nil {
			sk = sortKeysOf(sk, nil, f.srt, f.tr, vals)
			o.sort = sk[len(sk)-len(f.srt.keys):]
		}
		list = append(list, o)
	}
	return list
}

// top keeps the n first rows in a max-heap whose root is the last of them,
// so each further group costs one comparison with the root. The rows kept
// are copied out of the table, so a small result does not hold on to it.
func (f *statsFinisher) top(t *groupTable, n, width int, fill func(gi int, vals []Value) ([]Value, bool),
	desc []bool, cmp func(a, b *statsRow) int) []statsRow {
	h := make([]statsRow, 0, n)
	scratch := make([]Value, width)
	var cand statsRow
	var buf []byte // text of cand's keys
	for gi := range t.n {
		clear(scratch)
		buf = buf[:0]
		keys, ok := fill(gi, scratch)
		if !ok {
			continue
		}
		if f.srt != nil {
			cand.sort = sortKeysOf(cand.sort[:0], &buf, f.srt, f.tr, scratch)
		}
		cand.grp = cand.grp[:0]
		cand.id = t.idOf(gi)
		full := len(h) == n
		if full {
			c := cmpKeys(cand.sort, h[0].sort, desc)
			if c > 0 {
				continue
			}
			if c == 0 {
				// Tie on the sort keys: the default order decides.
				cand.grp = natKeysOf(cand.grp, &buf, keys)
				if cmp(&cand, &h[0]) >= 0 {
					continue
				}
			}
		}
		if len(cand.grp) == 0 {
			cand.grp = natKeysOf(cand.grp, &buf, keys)
		}
		vals := make([]Value, width)
		for i, v := range scratch {
			vals[i] = v.clone()
		}
		e := statsRow{row: &tableRow{vals: vals}, sort: own(cand.sort), grp: own(cand.grp), id: strings.Clone(cand.id)}
		if full {
			h[0] = e
			siftDown(h, 0, cmp)
		} else {
			h = append(h, e)
			siftUp(h, len(h)-1, cmp)
		}
	}
	return h
}

// combine orders the rows collected from every partition (default order,
// or the folded sort's with default order on ties) and keeps the first n
// when n > 0.
func (f *statsFinisher) combine(parts [][]statsRow, n int) []*tableRow {
	var all []statsRow
	if len(parts) == 1 {
		all = parts[0]
	} else {
		for _, p := range parts {
			all = append(all, p...)
		}
	}
	desc := f.desc()
	slices.SortFunc(all, func(a, b statsRow) int { return cmpStatsRows(&a, &b, desc) })
	if n > 0 && len(all) > n {
		all = all[:n]
	}
	rows := make([]*tableRow, len(all))
	for i := range all {
		rows[i] = all[i].row
	}
	return rows
}

// siftUp and siftDown keep h a max-heap under cmp.
func siftUp(h []statsRow, i int, cmp func(a, b *statsRow) int) {
	for i > 0 {
		p := (i - 1) / 2
		if cmp(&h[p], &h[i]) >= 0 {
			return
		}
		h[p], h[i] = h[i], h[p]
		i = p
	}
}

func siftDown(h []statsRow, i int, cmp func(a, b *statsRow) int) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		big := l
		if r := l + 1; r < len(h) && cmp(&h[r], &h[l]) > 0 {
			big = r
		}
		if cmp(&h[i], &h[big]) >= 0 {
			return
		}
		h[i], h[big] = h[big], h[i]
		i = big
	}
}

// sortRows is the sort command over materialized rows: a stable sort on
// keys computed once per row.
func sortRows(rows []*tableRow, op *cop, tr *record) []*tableRow {
	nk := len(op.keys)
	desc := make([]bool, nk)
	for k, key := range op.keys {
		desc[k] = key.desc
	}
	keys := make([]natKey, 0, len(rows)*nk)
	idx := make([]int, len(rows))
	for i, row := range rows {
		tr.vals, tr.ts, tr.ing = row.vals, row.ts, row.ing
		for _, key := range op.keys {
			keys = append(keys, natKeyOf(key.n.eval(tr)))
		}
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		return cmpKeys(keys[a*nk:(a+1)*nk], keys[b*nk:(b+1)*nk], desc)
	})
	sorted := make([]*tableRow, len(rows))
	for i, j := range idx {
		sorted[i] = rows[j]
	}
	return sorted
}
