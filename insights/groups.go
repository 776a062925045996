package insights

import (
	"encoding/binary"
	"hash/maphash"
	"math"
	"unsafe"
)

// This file holds the groups of a stats command. A flow-log query grouped by
// address pair can have millions of them, and at that size the garbage
// collector tracing an object graph per group, and cache misses chasing it,
// cost more than the aggregation itself. So a table of groups has no
// pointers per group: encoded keys sit in chunks of bytes, aggregate states
// in chunks of float64s (flat aggregates, see agg.go), and the index is an
// open-addressing table of integers. A key is hashed once per event, for
// both lookup and insert, and growing the index never hashes it again. Groups stay in
// creation order, so finishing them reads memory sequentially. Storage
// comes in fixed-size chunks rather than slices that double: copying
// hundreds of megabytes on every doubling cost more than the lookups.
// Stats with other aggregates keep one aggState object per aggregate and
// group instead of the floats.

type group struct {
	h     uint64 // maphash of the encoded key (appendKey) under the run's seed
	id    uint64 // where the encoded key is: keys chunk << 32 | offset in it
	idLen uint32
}

const (
	chunkBits = 14 // groups per chunk of groups and nums: 1 << chunkBits
	chunkMask = 1<<chunkBits - 1
	keyChunk  = 1 << 20 // bytes per chunk of keys, unless a key is longer
)

// groupTable is the groups of one hash partition of the keys, which one
// worker owns. Every table of a run hashes with the same seed.
type groupTable struct {
	st     *cstats
	seed   maphash.Seed
	slots  []uint64 // low 32 bits of the hash << 32 | group index+1; 0 is empty. At most 3/4 full
	n      int      // groups
	groups [][]group
	keys   [][]byte
	flat   []int       // offset of each aggregate's state in a group's floats, if all are flat
	width  int         // floats per group
	nums   [][]float64 // states when flat, chunked like groups
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

// The first chunk of groups, nums and keys grows like a slice, so that small
// tables stay small; the next ones are allocated whole.

func (t *groupTable) group(gi int) *group { return &t.groups[gi>>chunkBits][gi&chunkMask] }

func (t *groupTable) state(gi int) []float64 {
	o := (gi & chunkMask) * t.width
	return t.nums[gi>>chunkBits][o : o+t.width]
}

func (t *groupTable) idOf(gi int) string {
	g := t.group(gi)
	c, off := g.id>>32, uint32(g.id)
	b := t.keys[c][off : off+g.idLen]
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// find returns the index of the group of encoded key id (hash h), or -1 and
// the slot where it belongs.
func (t *groupTable) find(h uint64, id string) (gi, slot int) {
	mask := len(t.slots) - 1
	tag := h & (1<<32 - 1)
	for i := int(h) & mask; ; i = (i + 1) & mask {
		s := t.slots[i]
		if s == 0 {
			return -1, i
		}
		if s>>32 == tag {
			gi := int(uint32(s)) - 1
			if t.group(gi).h == h && t.idOf(gi) == id {
				return gi, i
			}
		}
	}
}

// add creates the group of encoded key id (hash h) in the slot find gave,
// with an empty state, and returns its index.
func (t *groupTable) add(h uint64, slot int, id string) int {
	gi := t.n
	t.n++
	c := gi >> chunkBits
	if c == len(t.groups) {
		size := 0
		if c > 0 {
			size = 1 << chunkBits
		}
		t.groups = append(t.groups, make([]group, 0, size))
		if t.flat != nil {
			t.nums = append(t.nums, make([]float64, 0, size*t.width))
		}
	}
	k := len(t.keys) - 1
	if k < 0 || len(t.keys[k]) > 0 && len(t.keys[k])+len(id) > keyChunk {
		size := 0
		if k >= 0 {
			size = max(keyChunk, len(id))
		}
		t.keys = append(t.keys, make([]byte, 0, size))
		k++
	}
	t.groups[c] = append(t.groups[c], group{h: h, id: uint64(k)<<32 | uint64(len(t.keys[k])), idLen: uint32(len(id))})
	t.keys[k] = append(t.keys[k], id...)
	if t.flat != nil {
		for range t.width {
			t.nums[c] = append(t.nums[c], 0)
		}
	} else {
		for k := range t.st.aggs {
			t.objs = append(t.objs, t.st.aggs[k].newState())
		}
	}
	t.slots[slot] = h<<32 | uint64(gi+1)
	if 4*t.n > 3*len(t.slots) {
		t.rehash(2 * len(t.slots))
	}
	return gi
}

// rehash moves the index to size slots. The slot's tag is the low half of
// the hash, which holds the slot number, so no group is read (up to 1<<32
// slots; beyond that the group's hash gives the rest).
func (t *groupTable) rehash(size int) {
	old := t.slots
	t.slots = make([]uint64, size)
	adviseHuge(t.slots)
	mask := size - 1
	for _, s := range old {
		if s == 0 {
			continue
		}
		h := s >> 32
		if uint64(size) > 1<<32 {
			h = t.group(int(uint32(s)) - 1).h
		}
		j := int(h) & mask
		for t.slots[j] != 0 {
			j = (j + 1) & mask
		}
		t.slots[j] = s
	}
}

// touch reads the group the slot of hash h points to, and its key and
// state, so that a lookup soon after finds them in cache; the result only
// keeps the loads from being optimized away.
func (t *groupTable) touch(h uint64) uint64 {
	s := t.slots[int(h)&(len(t.slots)-1)]
	if s == 0 || s>>32 != h&(1<<32-1) {
		return 0
	}
	gi := int(uint32(s)) - 1
	g := t.group(gi)
	x := g.h
	if g.idLen > 0 {
		x += uint64(t.keys[g.id>>32][uint32(g.id)])
	}
	if t.flat != nil && t.width > 0 {
		x += uint64(t.state(gi)[0])
	}
	return x
}

// updateVals adds the aggregate arguments args of one record (timestamp
// ts, ingestion time ing) to group gi.
func (t *groupTable) updateVals(gi int, args []Value, ts, ing int64) {
	aggs := t.st.aggs
	if t.flat != nil {
		f := t.state(gi)
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

// results appends the aggregate values of group gi to dst.
func (t *groupTable) results(dst []Value, gi int) []Value {
	aggs := t.st.aggs
	if t.flat != nil {
		f := t.state(gi)
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
