package detect

import "net/netip"

// A window holds the aggregates of the records that started in one
// event-time window, until the window is judged. Its table is the only
// per-record state of the Engine: one entry per interface, protocol and
// (source, destination) address pair, in both directions.
type window struct {
	index  int64 // start / window length
	pairs  map[pairKey]int32
	aggs   []pairAgg
	perENI []eniWindow // indexed by interface
}

// eniWindow counts what an interface saw in a window outside the pair table,
// so that a full table loses no REJECT for the storm detector.
type eniWindow struct {
	records, rejects uint32
}

// pairKey is the key of the pair table: addresses as 16 bytes plus their
// family, so that an IPv4 address and its IPv4-mapped IPv6 form stay apart
// and the key holds no pointer (netip.Addr does), which keeps hashing cheap.
type pairKey struct {
	src, dst [16]byte
	eni      uint32
	proto    uint8 // 255: absent
	fam      uint8 // bit 0: src is IPv4, bit 1: dst is IPv4
}

func makeKey(eni int32, proto int16, src, dst netip.Addr) pairKey {
	k := pairKey{src: src.As16(), dst: dst.As16(), eni: uint32(eni), proto: 255}
	if proto >= 0 {
		k.proto = uint8(proto)
	}
	if src.Is4() {
		k.fam |= 1
	}
	if dst.Is4() {
		k.fam |= 2
	}
	return k
}

func (k *pairKey) srcAddr() netip.Addr { return addrOf(k.src, k.fam&1 != 0) }
func (k *pairKey) dstAddr() netip.Addr { return addrOf(k.dst, k.fam&2 != 0) }

func addrOf(b [16]byte, v4 bool) netip.Addr {
	a := netip.AddrFrom16(b)
	if v4 {
		return a.Unmap()
	}
	return a
}

// pairAgg is what the records of one pair in one window add up to.
type pairAgg struct {
	key              pairKey
	records, rejects uint32
	// requests counts the records that go from a client port to a service
	// port (classifier.request); reqProbes those of them that are probes.
	requests, reqProbes, reqRejects uint32
	// ingress and egress count records whose flow-direction says so.
	ingress, egress uint32
	// Brute-force attempts: requests to an SSH or RDP port of at most
	// MaxAttemptPackets packets, and how many of them were rejected.
	ssh, rdp, sshRejected, rdpRejected uint32
	bytes                              uint64
	first, last                        int64 // least start, greatest end
	ports                              portSet
}

// Flags of a service port of a pair: what the requests to it looked like.
const (
	portProbe     uint8 = 1 << iota // a probe (rejected or short) went to it
	portTalk                        // an accepted request of more than ShortPackets went to it, its ports certain (classifier.certain)
	portOpenProbe                   // an accepted short request went to it: a probe of an open port
)

// portSet holds the distinct service ports of a pair with their flags. Most
// pairs use one or two ports, so the first few are kept inline; a scan's
// hundreds go to a map, up to Limits.PortsPerPair.
type portSet struct {
	inline [3]portEntry
	n      uint8
	more   map[uint16]uint8
}

type portEntry struct {
	port  uint16
	flags uint8
}

// add records port p with flags; it returns false when the set is full and
// p is new, so the caller counts what was turned away.
func (s *portSet) add(p uint16, flags uint8, limit int) bool {
	for i := range s.n {
		if s.inline[i].port == p {
			s.inline[i].flags |= flags
			return true
		}
	}
	if s.more == nil {
		if int(s.n) < len(s.inline) && int(s.n) < limit {
			s.inline[s.n] = portEntry{p, flags}
			s.n++
			return true
		}
		if int(s.n) >= limit {
			return false
		}
		s.more = make(map[uint16]uint8, 8)
	}
	if f, ok := s.more[p]; ok {
		s.more[p] = f | flags
		return true
	}
	if s.len() >= limit {
		return false
	}
	s.more[p] = flags
	return true
}

func (s *portSet) len() int { return int(s.n) + len(s.more) }

// each calls fn for every port, in no particular order.
func (s *portSet) each(fn func(port uint16, flags uint8)) {
	for i := range s.n {
		fn(s.inline[i].port, s.inline[i].flags)
	}
	for p, f := range s.more {
		fn(p, f)
	}
}

// has returns the flags of port p and whether p is in the set.
func (s *portSet) has(p uint16) (uint8, bool) {
	for i := range s.n {
		if s.inline[i].port == p {
			return s.inline[i].flags, true
		}
	}
	f, ok := s.more[p]
	return f, ok
}

// reset empties w for reuse as window index, keeping its allocations.
func (w *window) reset(index int64) {
	w.index = index
	clear(w.pairs)
	w.aggs = w.aggs[:0]
	clear(w.perENI)
	w.perENI = w.perENI[:0]
}
