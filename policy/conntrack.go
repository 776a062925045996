package policy

import (
	"encoding/binary"
	"math/bits"
	"sync"
)

// ctKey identifies a tracked connection on one ENI, oriented from the ENI:
// a request and its reply produce the same key, which is what lets replies
// through without a rule.
type ctKey struct {
	local, remote [16]byte
	eni           uint32
	lport, rport  uint16
	proto         uint8
	v6            bool
}

// hash is a 64-bit wyhash-style mix of the whole key, never 0 (0 marks an
// empty slot).
func (k *ctKey) hash() uint64 {
	const (
		s0 = 0xa0761d6478bd642f
		s1 = 0xe7037ed1a0b428db
		s2 = 0x8ebc6af09c88c6e3
		s3 = 0x589965cc75374cc3
	)
	mum := func(a, b uint64) uint64 {
		hi, lo := bits.Mul64(a, b)
		return hi ^ lo
	}
	w0 := binary.LittleEndian.Uint64(k.local[0:])
	w1 := binary.LittleEndian.Uint64(k.local[8:])
	w2 := binary.LittleEndian.Uint64(k.remote[0:])
	w3 := binary.LittleEndian.Uint64(k.remote[8:])
	v6 := uint64(0)
	if k.v6 {
		v6 = 1
	}
	w4 := uint64(k.lport) | uint64(k.rport)<<16 | uint64(k.eni)<<32
	w5 := uint64(k.proto) | v6<<8
	h := mum(w0^s0, w1^s1) ^ mum(w2^s2, w3^s3)
	return mum(h^w4^s1, w5^s0^bits.RotateLeft64(h, 17)) | 1
}

// Entry state bits.
const (
	stSeenReply uint8 = 1 << iota // traffic seen in the non-initiating direction
	stFinLocal                    // FIN sent by the ENI
	stFinRemote                   // FIN received by the ENI
	stClosed                      // RST seen or FIN both ways
	stEgress                      // the first packet was egress
)

// Timeout classes: which idle timeout of the ENI applies.
const (
	tcTCP uint8 = iota
	tcUDP
	tcUDPStream
	tcOther
	tcClosed
	numTC
)

// slot is one tracked connection, exactly one 64-byte cache line, stored
// directly in an open-addressing table so a lookup costs one memory access
// in the common case: this is what makes tracked verdicts cheap when the
// table is far larger than the CPU caches.
type slot struct {
	hash         uint64 // 0: empty
	last         int64  // ns of the last packet
	local        [16]byte
	remote       [16]byte
	eni          uint32
	lport, rport uint16
	rule         int32 // index into Engine.rules: the SG rule that allowed the first packet
	proto        uint8
	v6           bool
	state        uint8
	tc           uint8 // timeout class
}

func (s *slot) is(h uint64, k *ctKey) bool {
	return s.hash == h && s.local == k.local && s.remote == k.remote && s.eni == k.eni &&
		s.lport == k.lport && s.rport == k.rport && s.proto == k.proto && s.v6 == k.v6
}

func (s *slot) dir() Direction {
	if s.state&stEgress != 0 {
		return Egress
	}
	return Ingress
}

// ctShard is one lock's worth of the table: linear probing with
// backward-shift deletion (no tombstones), grown by doubling up to twice
// its capacity so probes stay short, and a sweeping hand that picks the
// entry to drop when full.
type ctShard struct {
	mu       sync.Mutex
	slots    []slot
	mask     uint64
	n        int // live entries
	capacity int
	maxSize  int
	hand     int
	tmo      [][numTC]int64 // per ENI index, shared with the Engine

	inserted, hits, nExpired, evicted, closedRejects uint64
	_                                                [64]byte // keep shards' locks on separate cache lines
}

const initialSlots = 64

func newShard(capacity int, tmo [][numTC]int64) *ctShard {
	max := initialSlots
	for max < 2*capacity {
		max <<= 1
	}
	size := min(initialSlots, max)
	return &ctShard{slots: make([]slot, size), mask: uint64(size - 1), capacity: capacity, maxSize: max, tmo: tmo}
}

func (s *ctShard) expired(x *slot, now int64) bool {
	return now-x.last > s.tmo[x.eni][x.tc]
}

// lookup returns the slot index of k, or -1.
func (s *ctShard) lookup(h uint64, k *ctKey) int {
	for i := h & s.mask; ; i = (i + 1) & s.mask {
		x := &s.slots[i]
		if x.hash == 0 {
			return -1
		}
		if x.is(h, k) {
			return int(i)
		}
	}
}

// remove empties slot i and shifts the following run back so lookups never
// stop early at the hole.
func (s *ctShard) remove(i int) {
	m := int(s.mask)
	for {
		s.slots[i] = slot{}
		j := i
		for {
			j = (j + 1) & m
			if s.slots[j].hash == 0 {
				s.n--
				return
			}
			home := int(s.slots[j].hash & s.mask)
			// Move j back into the hole unless its home lies cyclically in (i, j].
			if (i <= j && (home <= i || home > j)) || (i > j && home <= i && home > j) {
				s.slots[i] = s.slots[j]
				i = j
				break
			}
		}
	}
}

// place puts x in the first free slot of its probe sequence.
func (s *ctShard) place(x slot) {
	i := x.hash & s.mask
	for s.slots[i].hash != 0 {
		i = (i + 1) & s.mask
	}
	s.slots[i] = x
	s.n++
}

func (s *ctShard) grow() {
	old := s.slots
	s.slots = make([]slot, 2*len(old))
	s.mask = uint64(len(s.slots) - 1)
	s.n = 0
	s.hand = 0
	for i := range old {
		if old[i].hash != 0 {
			s.place(old[i])
		}
	}
}

// evictSample is how many live entries reclaim compares.
const evictSample = 4

// reclaim frees one entry: among the next evictSample live entries from the
// hand, the first expired one, else the one idle the longest (sampling, as
// Redis does, approximates "oldest idle goes first" without an LRU list to
// update on every packet; with few entries it is exact).
func (s *ctShard) reclaim(now int64) {
	best, seen := -1, 0
	for steps := 0; s.n > 0 && seen < evictSample && steps < len(s.slots); steps++ {
		i := s.hand
		s.hand = (s.hand + 1) & int(s.mask)
		x := &s.slots[i]
		if x.hash == 0 {
			continue
		}
		if s.expired(x, now) {
			s.remove(i)
			s.nExpired++
			s.hand = i // the shift may have moved an unvisited entry here
			return
		}
		if best < 0 || x.last < s.slots[best].last {
			best = i
		}
		seen++
	}
	if best >= 0 {
		s.remove(best)
		s.evicted++
	}
}

// insert adds x (not present), making room first when the shard is full.
func (s *ctShard) insert(x slot, now int64) {
	if s.n >= s.capacity {
		s.reclaim(now)
	}
	if 2*(s.n+1) > len(s.slots) && len(s.slots) < s.maxSize {
		s.grow()
	}
	s.place(x)
	s.inserted++
}
