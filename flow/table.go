package flow

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"unsafe"
)

// chunkBits sizes the blocks flows are stored in: 4096 flows (320 KiB).
// Blocks never move, so the table grows without copying its entries or
// leaving garbage behind, and a closed window hands them over whole.
const (
	chunkBits = 12
	chunkSize = 1 << chunkBits
)

// flowTable is an open-addressing hash table of the flows of one window:
// entries live in fixed-size chunks, and a power-of-two index of uint32
// kept at most half full finds them by linear probing. It costs about 88-96
// bytes per flow, against ~250 for a Go map plus a slice, and holds no
// pointers for the garbage collector to scan.
//
// An index slot holds the entry number + 1 (0 = empty) in its low
// log2(len(index)) bits (entryMask, the same bits as mask), enough for the
// entries the index can take (half its slots), and in the bits above them a
// tag: the same bits of the flow's hash (whose bits below them chose the
// slot). A probe reads the flow, a
// cache miss in a large table, only when the tag matches, so looking up a
// new flow mostly reads no flow at all, and a known one about one.
type flowTable struct {
	chunks    [][]Flow
	n         int
	index     []uint32
	mask      uint64
	entryMask uint32 // the low log2(len(index)) bits of a slot: its entry number + 1
	seed      uint64
}

// initialSlots is the index size of a new table.
const initialSlots = 1024

func newFlowTable() *flowTable {
	t := &flowTable{seed: rand.Uint64() | 1}
	t.setIndex(make([]uint32, initialSlots))
	return t
}

func (t *flowTable) setIndex(index []uint32) {
	t.index = index
	t.mask = uint64(len(index) - 1)
	t.entryMask = uint32(t.mask) // len(index) is a power of two of at most 2^32 slots
}

// tag is the part of a slot that h fills: the bits of its low half above
// those that pick the slot (none when the index has 2^32 slots).
func (t *flowTable) tag(h uint64) uint32 { return uint32(h) &^ t.entryMask }

// need is the memory the next insert allocates: a new chunk when the last
// is full, a doubled index when it would be more than half full.
func (t *flowTable) need() int64 {
	var b int64
	if t.n&(chunkSize-1) == 0 && t.n>>chunkBits == len(t.chunks) {
		b += chunkBytes
	}
	if 2*(t.n+1) > len(t.index) {
		b += int64(len(t.index)) * slotBytes // the index doubles; the old one is garbage
	}
	return b
}

func (t *flowTable) at(i int) *Flow { return &t.chunks[i>>chunkBits][i&(chunkSize-1)] }

// hash mixes the key's fields word by word; the per-table random seed keeps
// crafted traffic from aiming at one probe chain.
func (t *flowTable) hash(k *Key) uint64 {
	h := t.seed
	mix := func(w uint64) {
		h ^= w * 0x9e3779b97f4a7c15
		h = bits.RotateLeft64(h, 31) * 0xbf58476d1ce4e5b9
	}
	mix(binary.LittleEndian.Uint64(k.Src[:8]))
	mix(binary.LittleEndian.Uint64(k.Src[8:]))
	mix(binary.LittleEndian.Uint64(k.Dst[:8]))
	mix(binary.LittleEndian.Uint64(k.Dst[8:]))
	mix(uint64(k.Capture) | uint64(k.SrcPort)<<32 | uint64(k.DstPort)<<48)
	v4 := uint64(0)
	if k.V4 {
		v4 = 1
	}
	mix(uint64(k.Proto) | uint64(k.Dir)<<8 | uint64(k.Action)<<16 | v4<<24 | uint64(k.TrafficPath)<<32 | uint64(k.Rule)<<40)
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	return h
}

// find returns the flow with key k, whose hash is h, or nil and the index
// slot where it would go.
func (t *flowTable) find(k *Key, h uint64) (*Flow, uint64) {
	tag := t.tag(h)
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		e := t.index[i]
		if e == 0 {
			return nil, i
		}
		if e&^t.entryMask != tag {
			continue
		}
		if f := t.at(int(e&t.entryMask - 1)); sameKey(&f.Key, k) {
			return f, i
		}
	}
}

// sameKey is a == b as six 8-byte compares (Key is 48 bytes without
// padding, TestKeyLayout) instead of the compiler's field-by-field ones.
func sameKey(a, b *Key) bool {
	x := (*[6]uint64)(unsafe.Pointer(a))
	y := (*[6]uint64)(unsafe.Pointer(b))
	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3] && x[4] == y[4] && x[5] == y[5]
}

// insert adds a flow, whose hash is h, at the slot find returned and
// returns it.
func (t *flowTable) insert(slot, h uint64, f Flow) *Flow {
	if t.n&(chunkSize-1) == 0 && t.n>>chunkBits == len(t.chunks) {
		t.chunks = append(t.chunks, make([]Flow, 0, chunkSize))
	}
	c := &t.chunks[t.n>>chunkBits]
	f.hash = uint32(h)
	*c = append(*c, f)
	t.n++
	t.index[slot] = t.tag(h) | uint32(t.n)
	if 2*t.n > len(t.index) {
		t.grow()
	}
	return t.at(t.n - 1)
}

func (t *flowTable) grow() {
	t.setIndex(make([]uint32, 2*len(t.index)))
	e := uint32(0)
	for _, c := range t.chunks {
		for k := range c {
			h := uint64(c[k].hash) // the slot needs only the low half
			i := h & t.mask
			for t.index[i] != 0 {
				i = (i + 1) & t.mask
			}
			e++
			t.index[i] = t.tag(h) | e
		}
	}
}

// take hands over the flows of the window and empties the table for the
// next one, keeping the index (cleared) so a steady load does not regrow it.
func (t *flowTable) take() [][]Flow {
	chunks := t.chunks
	t.chunks, t.n = nil, 0
	clear(t.index)
	return chunks
}
