package logstore

import (
	"encoding/binary"
	"sort"

	bolt "go.etcd.io/bbolt"
)

// Every event gets a per-group sequence number when it is stored, in the
// order of storing: the batches of a group are consecutive runs of them.
// A reader that keeps derived data elsewhere (the metric filters of
// package logsvc keep theirs in metrics.db, a file no transaction of the
// store can include) records the sequence it has processed up to, and
// after a crash asks for the events stored beyond it (EventsAfter).
//
// To find those events without reading a whole day file, each write
// transaction of a day file also stores one batch record in bucket bBatches:
// key the batch's first sequence number in that day, value its last one and
// the lowest and highest timestamp it wrote there. That is one small put
// per transaction, next to one event and one index put per event.

var bBatches = []byte("bt")

func batchRecord(first, last uint64, minTs, maxTs int64) (k, v []byte) {
	k = u64(first)
	v = make([]byte, 24)
	binary.BigEndian.PutUint64(v, last)
	binary.BigEndian.PutUint64(v[8:], uint64(minTs))
	binary.BigEndian.PutUint64(v[16:], uint64(maxTs))
	return k, v
}

// GroupSeq returns the group's id (a new group of the same name gets a new
// one) and the highest sequence number any of its events has had.
func (s *Store) GroupSeq(name string) (id, seq uint64, ok bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	g := s.groups[name]
	if g == nil {
		return 0, 0, false
	}
	return g.meta.ID, g.seq, true
}

// AdvanceSeq makes the group's next sequence number higher than seq. The
// counter is rebuilt at Open from the day files, so when retention has
// removed the file that held the highest numbers it comes back lower; a
// reader that has processed up to seq calls AdvanceSeq so that new events
// still number after it. Nothing is written: the next write records its
// numbers in its day file.
func (s *Store) AdvanceSeq(name string, seq uint64) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if g := s.groups[name]; g != nil && g.seq < seq {
		g.seq = seq
	}
}

// EventsAfter calls fn, in sequence order (the order they were stored),
// for the retained events of group whose sequence number is above after.
// Event.Message is valid only during the call. A missing group gives
// ErrGroupNotFound.
func (s *Store) EventsAfter(group string, after uint64, fn func(ev Event, seq uint64) error) error {
	g := s.lookup(group)
	if g == nil {
		return ErrGroupNotFound
	}
	type item struct {
		ev  Event
		seq uint64
	}
	var items []item
	s.mu.RLock()
	cut := g.cutoff(s.now())
	var days []int64
	for _, d := range g.days() {
		if g.slices[d].maxSeq > after {
			days = append(days, d)
		}
	}
	s.mu.RUnlock()
	for _, day := range days {
		err := s.sliceAfter(g, day, after, cut, func(ev Event, seq uint64) {
			ev.Message = append([]byte(nil), ev.Message...)
			items = append(items, item{ev, seq})
		})
		if err != nil {
			return err
		}
	}
	sort.Slice(items, func(i, j int) bool { return items[i].seq < items[j].seq })
	for _, it := range items {
		if err := fn(it.ev, it.seq); err != nil {
			return err
		}
	}
	return nil
}

// sliceAfter visits the events of one day with a sequence number above
// after and a timestamp at or above cut: the timestamp ranges of the batch
// records that reach above after, or the whole file when it has no batch
// records (written before they existed).
func (s *Store) sliceAfter(g *group, day int64, after uint64, cut int64, visit func(Event, uint64)) error {
	sl, err := s.acquire(g, day, false)
	if err != nil || sl == nil {
		return err
	}
	defer s.release(sl)
	names := s.streamNames(g)
	return sl.db.View(func(tx *bolt.Tx) error {
		ev := tx.Bucket(bEvents)
		if ev == nil {
			return nil
		}
		var ranges [][2]int64
		if bt := tx.Bucket(bBatches); bt != nil {
			// A day holds one record per write transaction: few enough to
			// read them all.
			c := bt.Cursor()
			k, v := c.First()
			for ; k != nil; k, v = c.Next() {
				if len(v) != 24 || binary.BigEndian.Uint64(v) <= after {
					continue
				}
				ranges = append(ranges, [2]int64{int64(binary.BigEndian.Uint64(v[8:])), int64(binary.BigEndian.Uint64(v[16:]))})
			}
		} else {
			ranges = [][2]int64{{0, 1<<63 - 1}}
		}
		sort.Slice(ranges, func(i, j int) bool { return ranges[i][0] < ranges[j][0] })
		var kb [16]byte
		from := int64(-1) // everything at or below from is visited already
		for _, r := range ranges {
			lo := max(r[0], cut, from+1)
			if lo > r[1] {
				continue
			}
			c := ev.Cursor()
			for k, v := c.Seek(evKey(kb[:], lo, 0)); k != nil && keyTs(k) <= r[1]; k, v = c.Next() {
				if seq := keySeq(k); seq > after && len(v) >= 12 {
					visit(Event{Timestamp: keyTs(k), IngestionTime: int64(binary.BigEndian.Uint64(v[4:])),
						Stream: names(binary.BigEndian.Uint32(v)), Message: v[12:]}, seq)
				}
			}
			from = max(from, r[1])
		}
		return nil
	})
}
