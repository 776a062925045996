package logstore

import (
	"encoding/binary"

	bolt "go.etcd.io/bbolt"
)

// Scan calls fn for every retained event of group with
// startMs <= Timestamp <= endMs (both inclusive, as FilterLogEvents and
// StartQuery), in ascending (timestamp, ingestion sequence) order, and stops
// at the first error fn returns, which Scan returns. A missing group gives
// ErrGroupNotFound. Events written while Scan runs may or may not be seen.
func (s *Store) Scan(group string, startMs, endMs int64, fn func(ev Event) error) error {
	g := s.lookup(group)
	if g == nil {
		return ErrGroupNotFound
	}
	s.mu.RLock()
	if c := g.cutoff(s.now()); startMs < c {
		startMs = c
	}
	days := g.days()
	s.mu.RUnlock()
	if startMs < 0 {
		startMs = 0
	}
	if endMs < startMs {
		return nil
	}
	for _, day := range days {
		if day < dayOf(startMs) || day > dayOf(endMs) {
			continue
		}
		if err := s.scanSlice(g, day, startMs, endMs, fn); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) scanSlice(g *group, day, startMs, endMs int64, fn func(ev Event) error) error {
	sl, err := s.acquire(g, day, false)
	if err != nil || sl == nil {
		return err
	}
	defer s.release(sl)
	names := s.streamNames(g)
	var kb [16]byte
	return sl.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bEvents)
		if b == nil {
			return nil
		}
		adviseScan(tx)
		c := b.Cursor()
		var lastSID uint32
		var lastName string
		have := false
		for k, v := c.Seek(evKey(kb[:], startMs, 0)); k != nil; k, v = c.Next() {
			ts := keyTs(k)
			if ts > endMs {
				break
			}
			if len(v) < 12 {
				continue
			}
			sid := binary.BigEndian.Uint32(v)
			if !have || sid != lastSID {
				lastSID, have = sid, true
				lastName = names(sid)
			}
			if err := fn(Event{Timestamp: ts, IngestionTime: int64(binary.BigEndian.Uint64(v[4:])), Stream: lastName, Message: v[12:]}); err != nil {
				return err
			}
		}
		return nil
	})
}

// streamNames returns a lookup from stream id to name over a snapshot taken
// now, falling back to the live map for streams created since. Stream ids are
// dense, so the snapshot is a slice: the lookup runs once per scanned event.
func (s *Store) streamNames(g *group) func(uint32) string {
	s.mu.RLock()
	snap := make([]string, g.nextSID)
	for id, st := range g.byID {
		if int(id) < len(snap) {
			snap[id] = st.name
		}
	}
	s.mu.RUnlock()
	return func(id uint32) string {
		if int(id) < len(snap) && snap[id] != "" {
			return snap[id]
		}
		s.mu.RLock()
		defer s.mu.RUnlock()
		if st := g.byID[id]; st != nil {
			return st.name
		}
		return ""
	}
}

// CountEvents is an upper bound on the events Scan(group, startMs, endMs)
// gives, from the statistics each slice keeps per stream, without reading
// an event: a query can size its tables once instead of growing them. A
// missing group gives 0.
func (s *Store) CountEvents(group string, startMs, endMs int64) int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	g := s.groups[group]
	if g == nil {
		return 0
	}
	var n int64
	for _, sl := range g.slices {
		for _, st := range sl.stats {
			if st.count > 0 && st.maxTs >= startMs && st.minTs <= endMs {
				n += st.count
			}
		}
	}
	return n
}

// SplitRange cuts [startMs, endMs] into at most n contiguous, disjoint
// ranges that hold about as many of group's events each, judged from the
// per-slice stream statistics as if each stream's events were spread evenly
// between its first and last timestamp. Scanning the ranges in order gives
// what one Scan of the whole range gives; scanning them concurrently lets
// a query use every core without one goroutine feeding the others.
func (s *Store) SplitRange(group string, startMs, endMs int64, n int) [][2]int64 {
	type span struct {
		lo, hi int64
		count  float64
	}
	var spans []span
	var total float64
	s.mu.RLock()
	if g := s.groups[group]; g != nil {
		for _, sl := range g.slices {
			for _, st := range sl.stats {
				lo, hi := max(st.minTs, startMs), min(st.maxTs, endMs)
				if st.count == 0 || lo > hi {
					continue
				}
				c := float64(st.count) * float64(hi-lo+1) / float64(st.maxTs-st.minTs+1)
				spans = append(spans, span{lo, hi, c})
				total += c
			}
		}
	}
	s.mu.RUnlock()
	if n <= 1 || total == 0 || endMs <= startMs {
		return [][2]int64{{startMs, endMs}}
	}
	// below is how many events fall at or before t.
	below := func(t int64) float64 {
		var c float64
		for _, sp := range spans {
			if t >= sp.hi {
				c += sp.count
			} else if t >= sp.lo {
				c += sp.count * float64(t-sp.lo+1) / float64(sp.hi-sp.lo+1)
			}
		}
		return c
	}
	var out [][2]int64
	from := startMs
	for k := 1; k < n && from < endMs; k++ {
		want := total * float64(k) / float64(n)
		lo, hi := from, endMs // the first t in [lo, hi] with below(t) >= want
		for lo < hi {
			mid := lo + (hi-lo)/2
			if below(mid) >= want {
				hi = mid
			} else {
				lo = mid + 1
			}
		}
		if lo >= endMs {
			break
		}
		out = append(out, [2]int64{from, lo})
		from = lo + 1
	}
	return append(out, [2]int64{from, endMs})
}
