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

// hash is a 64-bit wyhash-style mix of the whole key. The table is indexed
// by it (a uint64 map key is several times cheaper than the 44-byte struct)
// and the stored key is compared to rule out the rare collision.
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
	return mum(h^w4^s1, w5^s0^bits.RotateLeft64(h, 17))
}

// Entry state bits.
const (
	stSeenReply uint8 = 1 << iota // traffic seen in the non-initiating direction
	stFinLocal                    // FIN sent by the ENI
	stFinRemote                   // FIN received by the ENI
	stClosed                      // RST seen or FIN both ways
)

type ctEntry struct {
	key     ctKey
	last    int64 // ns of the last packet
	enq     int64 // value of last when the entry was (re)queued for eviction
	timeout int64 // idle timeout in ns for the current state
	rule    int32 // index into Engine.rules: the SG rule that allowed the first packet
	dir     Direction
	state   uint8
}

func (e *ctEntry) expired(now int64) bool { return now-e.last > e.timeout }

// ctShard is one lock's worth of the table. Lookups touch only the map and
// the entry; eviction uses a FIFO ring with a second chance for entries
// used since they were queued (CLOCK), which approximates "least recently
// used goes first" without maintaining a list on every packet. Expired
// entries are reclaimed when the ring reaches them or when their key is
// used again.
type ctShard struct {
	mu       sync.Mutex
	idx      map[uint64]int32
	entries  []ctEntry
	free     []int32
	ring     []int32 // slots in queue order; every live slot exactly once
	head, n  int
	capacity int

	inserted, hits, expired, evicted uint64
	_                                [64]byte // keep shards' locks on separate cache lines
}

func newShard(capacity int) *ctShard {
	return &ctShard{idx: make(map[uint64]int32), capacity: capacity, ring: make([]int32, capacity)}
}

// lookup returns the slot of k, or -1.
func (s *ctShard) lookup(h uint64, k *ctKey) int32 {
	i, ok := s.idx[h]
	if !ok || s.entries[i].key != *k {
		return -1
	}
	return i
}

func (s *ctShard) pop() int32 {
	i := s.ring[s.head]
	s.head++
	if s.head == len(s.ring) {
		s.head = 0
	}
	s.n--
	return i
}

func (s *ctShard) push(i int32) {
	j := s.head + s.n
	if j >= len(s.ring) {
		j -= len(s.ring)
	}
	s.ring[j] = i
	s.n++
}

func (s *ctShard) drop(i int32) {
	h := s.entries[i].key.hash()
	if j, ok := s.idx[h]; ok && j == i {
		delete(s.idx, h)
	}
	s.free = append(s.free, i)
}

// reclaim frees one slot from the cold end of the ring: an expired entry,
// else the first entry not used since it was queued.
func (s *ctShard) reclaim(now int64) {
	for s.n > 0 {
		i := s.pop()
		e := &s.entries[i]
		switch {
		case e.expired(now):
			s.drop(i)
			s.expired++
			return
		case e.last > e.enq:
			e.enq = e.last // second chance
			s.push(i)
		default:
			s.drop(i)
			s.evicted++
			return
		}
	}
}

// insert adds an entry for key hash h, first dropping expired entries from
// the cold end and, when still full, the least recently used one.
func (s *ctShard) insert(h uint64, e ctEntry, now int64) {
	e.enq = e.last
	if i, ok := s.idx[h]; ok {
		// Same key whose entry expired, or (rarely) a hash collision with
		// another connection: reuse the slot, which keeps its ring place.
		old := &s.entries[i]
		if old.key == e.key {
			if old.expired(now) {
				s.expired++
			}
		} else {
			s.evicted++
		}
		e.enq = old.enq
		*old = e
		s.inserted++
		return
	}
	for n := 0; n < 4 && s.n > 0; n++ {
		if !s.entries[s.ring[s.head]].expired(now) {
			break
		}
		s.drop(s.pop())
		s.expired++
	}
	if s.n >= s.capacity {
		s.reclaim(now)
	}
	var i int32
	if n := len(s.free); n > 0 {
		i = s.free[n-1]
		s.free = s.free[:n-1]
		s.entries[i] = e
	} else {
		i = int32(len(s.entries))
		s.entries = append(s.entries, e)
	}
	s.idx[h] = i
	s.push(i)
	s.inserted++
}
