package policy

import (
	"encoding/binary"
	"sync"
)

// ctKey identifies a tracked connection on one ENI, oriented from the ENI:
// a request and its reply produce the same key, which is what lets replies
// through without a rule. Flat and comparable so a map lookup does not
// allocate.
type ctKey struct {
	local, remote [16]byte
	eni           uint32
	lport, rport  uint16
	proto         uint8
	v6            bool
}

func (k *ctKey) hash() uint64 {
	h := binary.LittleEndian.Uint64(k.local[8:]) ^ binary.LittleEndian.Uint64(k.remote[8:])*0x9e3779b97f4a7c15
	h ^= uint64(k.lport) | uint64(k.rport)<<16 | uint64(k.eni)<<32 | uint64(k.proto)<<56
	h ^= h >> 31
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 29
	return h
}

// Entry state bits.
const (
	stSeenReply uint8 = 1 << iota // traffic seen in the non-initiating direction
	stFinLocal                    // FIN sent by the ENI
	stFinRemote                   // FIN received by the ENI
	stClosed                      // RST seen or FIN both ways
)

type ctEntry struct {
	key        ctKey
	last       int64 // ns of the last packet
	timeout    int64 // idle timeout in ns for the current state
	rule       int32 // index into Engine.rules: the SG rule that allowed the first packet
	prev, next int32 // LRU list; -1 terminates
	dir        Direction
	state      uint8
}

// ctShard is one lock's worth of the table: a map to slots plus an
// intrusive LRU list, so lookups, refreshes and evictions are all O(1)
// and allocation-free once the slots exist.
type ctShard struct {
	mu         sync.Mutex
	idx        map[ctKey]int32
	entries    []ctEntry
	free       []int32
	head, tail int32 // head = most recently used
	capacity   int

	inserted, hits, expired, evicted, closed uint64
	_                                        [40]byte // keep shards on separate cache lines
}

func newShard(capacity int) *ctShard {
	return &ctShard{idx: make(map[ctKey]int32), head: -1, tail: -1, capacity: capacity}
}

func (s *ctShard) unlink(i int32) {
	e := &s.entries[i]
	if e.prev >= 0 {
		s.entries[e.prev].next = e.next
	} else {
		s.head = e.next
	}
	if e.next >= 0 {
		s.entries[e.next].prev = e.prev
	} else {
		s.tail = e.prev
	}
	e.prev, e.next = -1, -1
}

func (s *ctShard) pushFront(i int32) {
	e := &s.entries[i]
	e.prev, e.next = -1, s.head
	if s.head >= 0 {
		s.entries[s.head].prev = i
	}
	s.head = i
	if s.tail < 0 {
		s.tail = i
	}
}

func (s *ctShard) remove(i int32) {
	s.unlink(i)
	delete(s.idx, s.entries[i].key)
	s.free = append(s.free, i)
}

// insert adds an entry, first dropping expired entries from the cold end
// and, when still full, the least recently used one.
func (s *ctShard) insert(e ctEntry, now int64) {
	for n := 0; n < 4 && s.tail >= 0; n++ {
		t := &s.entries[s.tail]
		if now-t.last <= t.timeout {
			break
		}
		s.remove(s.tail)
		s.expired++
	}
	if len(s.idx) >= s.capacity && s.tail >= 0 {
		s.remove(s.tail)
		s.evicted++
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
	s.idx[e.key] = i
	s.pushFront(i)
	s.inserted++
}
