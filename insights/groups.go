package insights

import (
	"encoding/binary"
	"hash/maphash"
	"math"
	"slices"
	"unsafe"
)

// This file holds the groups of a stats command. A flow-log query grouped by
// address pair can have millions of them, and at that size the garbage
// collector tracing an object graph per group, and cache misses chasing it,
// cost more than the aggregation itself. So a table of groups has no
// pointers per group: encoded keys sit in one byte slice, aggregate states
// in one float64 slice (flat aggregates, see agg.go), and the index is an
// open-addressing table of integers. A key is hashed once per event, for
// both lookup and insert; the hash is kept so that growing the index and
// merging the tables of workers never hash a key again. Groups stay in
// creation order, so finishing them reads memory sequentially.

type group struct {
	h     uint64 // maphash of the encoded key under the run's seed
	id    uint64 // offset of the encoded key (appendKey) in keys
	idLen uint32
}

// groupTable is the groups one worker saw in one hash partition of the keys.
// Every table of a run hashes with the same seed.
type groupTable struct {
	st     *cstats
	seed   maphash.Seed
	slots  []uint64 // tag (hash>>32) << 32 | group index+1; 0 is empty. At most 3/4 full
	groups []group
	keys   []byte
	flat   []int     // offset of each aggregate's state in a group's floats, if all are flat
	width  int       // floats per group
	nums   []float64 // states when flat
	objs   []aggState
}

func newGroupTable(st *cstats, seed maphash.Seed) *groupTable {
	t := &groupTable{st: st, seed: seed, slots: make([]uint64, 256)}
	for i := range st.aggs {
		w := st.aggs[i].flatWidth()
		if w == 0 {
			t.flat, t.width = nil, 0
			break
		}
		t.flat = append(t.flat, t.width)
		t.width += w
	}
	return t
}

func (t *groupTable) idOf(gi int) string {
	g := &t.groups[gi]
	b := t.keys[g.id : g.id+uint64(g.idLen)]
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// find returns the index of the group of encoded key id (hash h), or -1 and
// the slot where it belongs.
func (t *groupTable) find(h uint64, id string) (gi, slot int) {
	mask := len(t.slots) - 1
	tag := h >> 32
	for i := int(h) & mask; ; i = (i + 1) & mask {
		s := t.slots[i]
		if s == 0 {
			return -1, i
		}
		if s>>32 == tag {
			gi := int(uint32(s)) - 1
			if t.groups[gi].h == h && t.idOf(gi) == id {
				return gi, i
			}
		}
	}
}

// add creates the group of encoded key id (hash h) in the slot find gave,
// with an empty state, and returns its index.
func (t *groupTable) add(h uint64, slot int, id string) int {
	gi := len(t.groups)
	t.groups = append(t.groups, group{h: h, id: uint64(len(t.keys)), idLen: uint32(len(id))})
	t.keys = append(t.keys, id...)
	if t.flat != nil {
		for range t.width {
			t.nums = append(t.nums, 0)
		}
	} else {
		for k := range t.st.aggs {
			t.objs = append(t.objs, t.st.aggs[k].newState())
		}
	}
	t.slots[slot] = h>>32<<32 | uint64(gi+1)
	if 4*len(t.groups) > 3*len(t.slots) {
		t.rehash(2 * len(t.slots))
	}
	return gi
}

func (t *groupTable) rehash(size int) {
	old := t.slots
	t.slots = make([]uint64, size)
	mask := size - 1
	for _, s := range old {
		if s == 0 {
			continue
		}
		j := int(t.groups[uint32(s)-1].h) & mask
		for t.slots[j] != 0 {
			j = (j + 1) & mask
		}
		t.slots[j] = s
	}
}

// reserve makes room for the groups of o, so that merging o grows t once.
func (t *groupTable) reserve(o *groupTable) {
	n := len(o.groups)
	t.groups = slices.Grow(t.groups, n)
	t.keys = slices.Grow(t.keys, len(o.keys))
	t.nums = slices.Grow(t.nums, len(o.nums))
	size := len(t.slots)
	for 4*(len(t.groups)+n) > 3*size {
		size *= 2
	}
	if size != len(t.slots) {
		t.rehash(size)
	}
}

// touch reads the group the slot of hash h points to, and its key and
// state, so that a lookup soon after finds them in cache; the result only
// keeps the loads from being optimized away.
func (t *groupTable) touch(h uint64) uint64 {
	s := t.slots[int(h)&(len(t.slots)-1)]
	if s == 0 || s>>32 != h>>32 {
		return 0
	}
	gi := int(uint32(s)) - 1
	g := &t.groups[gi]
	x := g.h
	if g.idLen > 0 {
		x += uint64(t.keys[g.id])
	}
	if t.flat != nil && t.width > 0 {
		x += uint64(t.nums[gi*t.width])
	}
	return x
}

// updateVals adds the aggregate arguments args of one record (timestamp
// ts, ingestion time ing) to group gi.
func (t *groupTable) updateVals(gi int, args []Value, ts, ing int64) {
	aggs := t.st.aggs
	if t.flat != nil {
		f := t.nums[gi*t.width : (gi+1)*t.width]
		for k := range aggs {
			aggs[k].flatAdd(f[t.flat[k]:], args[k])
		}
		return
	}
	o := t.objs[gi*len(aggs) : (gi+1)*len(aggs)]
	for k := range aggs {
		o[k].add(args[k], ts, ing)
	}
}

// update adds record r to the aggregates of group gi.
func (t *groupTable) update(gi int, r *record) {
	aggs := t.st.aggs
	if t.flat != nil {
		f := t.nums[gi*t.width : (gi+1)*t.width]
		for k := range aggs {
			a := &aggs[k]
			var v Value
			if a.arg != nil {
				v = a.arg.eval(r)
			}
			a.flatAdd(f[t.flat[k]:], v)
		}
		return
	}
	o := t.objs[gi*len(aggs) : (gi+1)*len(aggs)]
	for k := range aggs {
		a := &aggs[k]
		var v Value
		if a.arg != nil {
			v = a.arg.eval(r)
		}
		o[k].add(v, r.ts, r.ing)
	}
}

// mergeFrom folds the groups of o (same stats command, same partition, same
// seed) into t.
func (t *groupTable) mergeFrom(o *groupTable) {
	aggs := t.st.aggs
	for oi := range o.groups {
		h, id := o.groups[oi].h, o.idOf(oi)
		gi, slot := t.find(h, id)
		if gi < 0 {
			gi = t.add(h, slot, id)
		}
		if t.flat != nil {
			f := t.nums[gi*t.width : (gi+1)*t.width]
			of := o.nums[oi*t.width : (oi+1)*t.width]
			for k := range aggs {
				aggs[k].flatMerge(f[t.flat[k]:], of[t.flat[k]:])
			}
			continue
		}
		for k := range aggs {
			t.objs[gi*len(aggs)+k].merge(o.objs[oi*len(aggs)+k])
		}
	}
}

// results appends the aggregate values of group gi to dst.
func (t *groupTable) results(dst []Value, gi int) []Value {
	aggs := t.st.aggs
	if t.flat != nil {
		f := t.nums[gi*t.width : (gi+1)*t.width]
		for k := range aggs {
			dst = append(dst, aggs[k].flatResult(f[t.flat[k]:]))
		}
		return dst
	}
	for _, s := range t.objs[gi*len(aggs) : (gi+1)*len(aggs)] {
		dst = append(dst, s.result())
	}
	return dst
}

// appendKey encodes a group-key value unambiguously (kind, then length or
// fixed width), so keys can be compared and stored as bytes without
// allocating per event.
func appendKey(b []byte, v Value) []byte {
	b = append(b, byte(v.K))
	switch v.K {
	case String:
		b = binary.AppendUvarint(b, uint64(len(v.S)))
		b = append(b, v.S...)
	case Number, Time, Bool:
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v.N))
	}
	return b
}

// decodeKeys is the inverse of appendKey over a whole encoded key; string
// values alias id.
func decodeKeys(dst []Value, id string) []Value {
	for len(id) > 0 {
		k := Kind(id[0])
		id = id[1:]
		switch k {
		case String:
			var n uint64
			for shift := 0; ; shift += 7 {
				c := id[0]
				id = id[1:]
				n |= uint64(c&0x7f) << shift
				if c < 0x80 {
					break
				}
			}
			dst = append(dst, Value{K: String, S: id[:n]})
			id = id[n:]
		case Number, Time, Bool:
			var bits uint64
			for i := 7; i >= 0; i-- {
				bits = bits<<8 | uint64(id[i])
			}
			dst = append(dst, Value{K: k, N: math.Float64frombits(bits)})
			id = id[8:]
		default:
			dst = append(dst, Value{})
		}
	}
	return dst
}

// keyer builds the encoded key of one record's group.
type keyer struct{ buf []byte }

func (k *keyer) build(by []node, r *record) {
	b := k.buf[:0]
	for _, n := range by {
		b = appendKey(b, n.eval(r))
	}
	k.buf = b
}

// hash is the hash of the key just built.
func (k *keyer) hash(seed maphash.Seed) uint64 { return maphash.Bytes(seed, k.buf) }

// find returns the index of the group of the key just built (hash h) in t,
// creating the group if new.
func (k *keyer) find(t *groupTable, h uint64) int {
	id := unsafe.String(unsafe.SliceData(k.buf), len(k.buf)) // not kept: add copies it
	gi, slot := t.find(h, id)
	if gi < 0 {
		gi = t.add(h, slot, id)
	}
	return gi
}
