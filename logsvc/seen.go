package logsvc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/vpcflow/vpcflow/logstore"
	"github.com/vpcflow/vpcflow/metricfilter"
	bolt "go.etcd.io/bbolt"
)

// Events and the metric data they produce live in different files (the
// store's day files, metrics.db), so no transaction holds both: a crash
// between the store's commit and metrics.db's leaves stored events that the
// filters and alarms never saw. Rather than pay a third fsync per batch (an
// intent record before the store write), metrics.db keeps a high-water mark
// per watched group, written in the same transaction as the metric data:
// the store's sequence number of the last event the filters have seen.
// Open replays the events stored beyond it (logstore.EventsAfter), batch
// by batch as they were ingested, so after any crash the datapoints, the
// markers, the watermark and the alarms are exactly what the stored events
// give.
//
// The mark of a group is set to the group's current sequence when the
// group starts to be watched (its first metric filter; every group when
// the first alarm is created), in the transaction that records that
// change: events stored while nothing watched them are never replayed
// (filters are not retroactive). A watched group without a mark was
// created while watched, so none of its events has been seen. A data dir
// written before marks existed gets them at its first open (bSeen's
// version key): what crashed before then is not recovered.

var (
	bSeen    = []byte("seen")  // group name → group id (u64), sequence (u64)
	kSeenVer = []byte("seen1") // in bState: marks are maintained
)

// seenMark is the high-water mark of one group. id tells a group from a
// later one of the same name.
type seenMark struct{ id, seq uint64 }

func (m seenMark) encode() []byte {
	return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, m.id), m.seq)
}

// pendingSave is metric data the engine holds that metrics.db does not yet:
// what the last failed saves left. The next transaction that succeeds
// writes it, so no bucket's statistics are left behind while a later mark
// says their events were seen.
type pendingSave struct {
	refs  []bucketRef
	marks []mark
	seen  map[string]seenMark
}

// markCurrent records that group starts to be watched at its current
// sequence. The caller holds mu and flushes.
func (s *Service) markCurrent(group string) {
	id, seq, ok := s.store.GroupSeq(group)
	if !ok {
		return
	}
	if s.pending.seen == nil {
		s.pending.seen = map[string]seenMark{}
	}
	s.pending.seen[group] = seenMark{id, seq}
}

// flush writes the pending metric data, the watermark and (when alarms
// exist) the alarms, plus what extra writes, in one fsync'd transaction;
// on success nothing is pending any more. The caller holds mu.
func (s *Service) flush(extra func(tx *bolt.Tx) error) error {
	if s.readOnly {
		// Only Open's catching up gets here (writes are refused before):
		// what it computed stays in memory, for this reader to show.
		return nil
	}
	var alarms []metricfilter.Evaluator
	if s.nalarms > 0 {
		alarms = s.eng.Alarms()
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		if s.fault != nil {
			if err := s.fault("save metric data"); err != nil {
				return err
			}
		}
		if err := s.putBuckets(tx, s.pending.refs); err != nil {
			return err
		}
		mb := tx.Bucket(bMarks)
		for _, m := range s.pending.marks {
			k := m.key()
			if mb.Get(k) != nil {
				continue // a minute keeps its first default, as in the engine
			}
			if err := mb.Put(k, u64(math.Float64bits(m.value))); err != nil {
				return err
			}
		}
		sb := tx.Bucket(bSeen)
		for g, m := range s.pending.seen {
			if err := sb.Put([]byte(g), m.encode()); err != nil {
				return err
			}
		}
		if s.seen {
			if err := tx.Bucket(bState).Put(kWater, u64(uint64(s.water))); err != nil {
				return err
			}
		}
		if err := putAlarms(tx, alarms); err != nil {
			return err
		}
		if err := s.putHold(tx); err != nil {
			return err
		}
		if extra != nil {
			return extra(tx)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for g, m := range s.pending.seen {
		s.hw[g] = m
	}
	s.pending = pendingSave{}
	s.holdSet = s.holding
	return nil
}

// catchUp runs the filters over the events each watched group stored
// beyond its mark (see the top of this file), one ingestion batch at a
// time, and saves what they give. Called by Open once filters, metric data
// and alarms are restored.
func (s *Service) catchUp(ver bool) error {
	if !ver {
		// First open with marks: every watched group starts here.
		for _, g := range s.store.GroupNames() {
			if s.watching(g) {
				s.markCurrent(g)
			}
		}
		if err := s.flush(func(tx *bolt.Tx) error { return tx.Bucket(bState).Put(kSeenVer, []byte{1}) }); err != nil {
			return fmt.Errorf("logsvc: save metric filter marks: %w", err)
		}
		return nil
	}
	for _, g := range s.store.GroupNames() {
		if !s.watching(g) {
			continue
		}
		n, err := s.catchUpGroup(g)
		if err != nil {
			var se *MetricSaveError
			if !errors.As(err, &se) {
				return err
			}
			// The engine holds the data; it is saved with the next write.
			s.warnings = append(s.warnings, fmt.Sprintf("the metric data of %d events of %s stored before a crash could not be saved: %v", n, g, se.Err))
		}
	}
	return nil
}

// seenThrough is the group's mark as the engine has it: pending, or as
// metrics.db has it.
func (s *Service) seenThrough(group string) (seenMark, bool) {
	if m, ok := s.pending.seen[group]; ok {
		return m, true
	}
	m, ok := s.hw[group]
	return m, ok
}

// catchUpGroup gives the filters the events of a watched group stored
// beyond its mark and returns how many. The caller holds mu (or is Open).
func (s *Service) catchUpGroup(g string) (int, error) {
	id, seq, ok := s.store.GroupSeq(g)
	if !ok {
		return 0, nil
	}
	after := uint64(0)
	if m, have := s.seenThrough(g); have && m.id == id {
		after = m.seq
		if m.seq > seq {
			// Retention removed the file with the highest numbers.
			s.store.AdvanceSeq(g, m.seq)
		}
	}
	if seq <= after {
		return 0, nil
	}
	return s.replay(g, after)
}

// replay gives the filters the events of group stored beyond after, one
// ingestion batch (one ingestion time) at a time, and returns how many.
// An error saving their metric data is a *MetricSaveError; the engine
// keeps the data either way.
func (s *Service) replay(group string, after uint64) (int, error) {
	var batch []metricfilter.Event
	var ingest int64
	var last uint64
	n := 0
	var saveErr error
	apply := func() {
		if len(batch) == 0 {
			return
		}
		if err := s.apply(group, batch, last); err != nil && saveErr == nil {
			saveErr = err
		}
		n += len(batch)
		batch = batch[:0]
	}
	err := s.store.EventsAfter(group, after, func(ev logstore.Event, seq uint64) error {
		if len(batch) > 0 && ev.IngestionTime != ingest {
			apply()
		}
		ingest, last = ev.IngestionTime, seq
		batch = append(batch, metricfilter.Event{Timestamp: ev.Timestamp, Message: string(ev.Message)})
		return nil
	})
	if err != nil {
		return n, fmt.Errorf("logsvc: read the events of %s stored after its metric data: %w", group, err)
	}
	apply()
	s.replayed += n
	if se, ok := saveErr.(*MetricSaveError); ok {
		se.Events = n
	}
	return n, saveErr
}
