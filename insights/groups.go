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
// pointers per group: each group is one record of 64-byte-aligned words
// holding its encoded key (when short, as address pairs are) and its
// aggregate states (flat aggregates, see agg.go), so that a lookup misses
// the cache twice, on the index slot and on the record, and the index is an
// open-addressing table of integers. A key is hashed once per event, for
// both lookup and insert, and growing the index never hashes it again.
// Groups stay in creation order, so finishing them reads memory
// sequentially. Storage comes in fixed-size chunks, backed by memory in one
// call each (prefault), rather than slices that double: copying hundreds of
// megabytes on every doubling cost more than the lookups. (Transparent huge
// pages were tried and dropped: the kernel's compaction for them stalled
// single queries for 25-30 s on this VM.) Stats with other aggregates keep
// one aggState object per aggregate and group instead of the floats.

const (
	chunkBits = 16 // records per chunk: 1 << chunkBits (4 MB at 8 words)
	chunkMask = 1<<chunkBits - 1
	keyChunk  = 4 << 20 // bytes per chunk of long keys, unless a key is longer
	lineWords = 8       // words per cache line
)

// groupTable is the groups of one hash partition of the keys, which one
// worker owns. Every table of a run hashes with the same seed.
//
// A record is stride words: the key length, then inline words of key bytes
// (or, for a longer key, where it is in long: chunk << 32 | offset), then
// width words of float64 states.
type groupTable struct {
	st    *cstats
	seed  maphash.Seed
	slots []uint64 // low 32 bits of the hash << 32 | group index+1; 0 is empty. At most 3/4 full
	// faulted says slots is backed by memory (prefault).
	faulted bool
	n       int // groups
	recs    [][]uint64
	stride  int
	inline  int // words of key bytes in a record
	long    [][]byte
	flat    []int // offset of each aggregate's state in a group's floats, if all are flat
	width   int   // floats per group
	objs    []aggState
	_       cacheLinePad
}

// maxPresize bounds the index a table starts with (64 MB): a hint of
// events is an upper bound on groups, often far above their number.
const maxPresize = 1 << 23

// newGroupTable makes the table of a stats with at most about groups
// groups (a hint: it grows past it).
func newGroupTable(st *cstats, seed maphash.Seed, groups int64) *groupTable {
	size := 256
	for size < maxPresize && int64(3*size) < 4*groups {
		size *= 2
	}
	t := &groupTable{st: st, seed: seed, slots: make([]uint64, size)}
	for i := range st.aggs {
		w := st.aggs[i].flatWidth()
		if w == 0 {
			t.flat, t.width = nil, 0
			break
		}
		t.flat = append(t.flat, t.width)
		t.width += w
	}
	// At least two words of key, then whatever fills the record to whole
	// cache lines: next to a sum, 40 bytes, which an IPv4 address pair (26
	// bytes encoded) fits.
	t.stride = (1 + 2 + t.width + lineWords - 1) / lineWords * lineWords
	t.inline = t.stride - 1 - t.width
	return t
}

// rec is the record of group gi.
func (t *groupTable) rec(gi int) []uint64 {
	o := (gi & chunkMask) * t.stride
	return t.recs[gi>>chunkBits][o : o+t.stride : o+t.stride]
}

func (t *groupTable) state(gi int) []float64 {
	r := t.rec(gi)[1+t.inline:]
	return unsafe.Slice((*float64)(unsafe.Pointer(unsafe.SliceData(r))), t.width)
}

func (t *groupTable) idOf(gi int) string { return t.keyOf(t.rec(gi)) }

// keyOf is the encoded key of record r; it aliases the table.
func (t *groupTable) keyOf(r []uint64) string {
	n := int(r[0])
	if n <= 8*t.inline {
		return unsafe.String((*byte)(unsafe.Pointer(&r[1])), n)
	}
	b := t.long[r[1]>>32][uint32(r[1]):]
	return unsafe.String(unsafe.SliceData(b), n)
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
			if r := t.rec(gi); int(r[0]) == len(id) && t.keyOf(r) == id {
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
	if c == len(t.recs) {
		words := t.stride // the first chunk grows like a slice, so small tables stay small
		if c > 0 {
			words = t.stride << chunkBits
		}
		t.recs = append(t.recs, make([]uint64, 0, words))
		prefault(t.recs[c])
	}
	t.recs[c] = append(t.recs[c], make([]uint64, t.stride)...)
	r := t.rec(gi)
	r[0] = uint64(len(id))
	if len(id) <= 8*t.inline {
		copy(unsafe.Slice((*byte)(unsafe.Pointer(&r[1])), 8*t.inline), id)
	} else {
		k := len(t.long) - 1
		if k < 0 || len(t.long[k])+len(id) > cap(t.long[k]) {
			t.long = append(t.long, make([]byte, 0, max(keyChunk, len(id))))
			k++
		}
		r[1] = uint64(k)<<32 | uint64(len(t.long[k]))
		t.long[k] = append(t.long[k], id...)
	}
	if t.flat == nil {
		for k := range t.st.aggs {
			t.objs = append(t.objs, t.st.aggs[k].newState())
		}
	}
	t.slots[slot] = h<<32 | uint64(gi+1)
	if !t.faulted && t.n >= len(t.slots)>>11 {
		// A presized index is only worth backing whole once groups fill
		// it: at one group per four pages, most of them soon will be.
		prefault(t.slots)
		t.faulted = true
	}
	if 4*t.n > 3*len(t.slots) {
		t.rehash(2 * len(t.slots))
	}
	return gi
}

// rehash moves the index to size slots. The slot's tag is the low half of
// the hash, which holds the slot number, so no group is read (up to 1<<32
// slots; beyond that the key is hashed again).
func (t *groupTable) rehash(size int) {
	old := t.slots
	t.slots = make([]uint64, size)
	prefault(t.slots)
	t.faulted = true
	mask := size - 1
	for _, s := range old {
		if s == 0 {
			continue
		}
		h := s >> 32
		if uint64(size) > 1<<32 {
			h = maphash.String(t.seed, t.idOf(int(uint32(s))-1))
		}
		j := int(h) & mask
		for t.slots[j] != 0 {
			j = (j + 1) & mask
		}
		t.slots[j] = s
	}
}

// touch reads the record the slot of hash h points to, so that a lookup
// soon after finds it in cache; the result only keeps the load from being
// optimized away.
func (t *groupTable) touch(h uint64) uint64 {
	s := t.slots[int(h)&(len(t.slots)-1)]
	if s == 0 || s>>32 != h&(1<<32-1) {
		return 0
	}
	return t.rec(int(uint32(s)) - 1)[0]
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
