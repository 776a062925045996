package flow

import "sync"

type shardMsg struct {
	batch    []obs
	flush    bool
	interval uint8
	start    int64
}

type shardResult struct {
	interval uint8
	start    int64
	flows    [][]Flow // chunks of a flowTable
	skipped  map[uint32]uint64
}

// table holds the open window of one interval in one shard.
type table struct {
	flows   *flowTable
	perCap  []int32  // flows per capture point in this window, by capture id
	touched []uint32 // capture ids with perCap != 0, to reset them cheaply
	skipped map[uint32]uint64
}

type shard struct {
	agg    *Aggregator
	in     chan shardMsg
	tables []*table
}

func newShard(a *Aggregator) *shard {
	s := &shard{agg: a, in: make(chan shardMsg, 8)}
	for range a.intervals {
		s.tables = append(s.tables, &table{flows: newFlowTable(), perCap: make([]int32, len(a.captureIv))})
	}
	return s
}

func (s *shard) run(wg *sync.WaitGroup) {
	defer wg.Done()
	for m := range s.in {
		if m.flush {
			s.flush(m.interval, m.start)
			continue
		}
		for i := range m.batch {
			s.add(&m.batch[i])
		}
	}
}

func (s *shard) add(o *obs) {
	t := s.tables[s.agg.captureIv[o.key.Capture]]
	f, slot := t.flows.find(&o.key)
	if f != nil {
		f.Packets++
		f.Bytes += uint64(o.bytes)
		f.TCPFlags |= o.flags
		f.End = max(f.End, o.sec)
		f.Start = min(f.Start, o.sec)
		return
	}
	// A new flow: check both bounds before it takes memory.
	c := o.key.Capture
	if t.perCap[c] >= int32(s.agg.cfg.MaxFlowsPerWindow) || s.agg.live.Load() >= int64(s.agg.cfg.MaxFlows) {
		if t.skipped == nil {
			t.skipped = map[uint32]uint64{}
		}
		t.skipped[c]++
		return
	}
	if t.perCap[c] == 0 {
		t.touched = append(t.touched, c)
	}
	t.perCap[c]++
	t.flows.insert(slot, Flow{Key: o.key, Packets: 1, Bytes: uint64(o.bytes), Start: o.sec, End: o.sec, TCPFlags: o.flags})
	s.agg.notePeak(s.agg.live.Add(1))
}

func (s *shard) flush(iv uint8, start int64) {
	t := s.tables[iv]
	s.agg.live.Add(-int64(t.flows.n))
	flows := t.flows.take()
	s.agg.results <- shardResult{interval: iv, start: start, flows: flows, skipped: t.skipped}
	for _, c := range t.touched {
		t.perCap[c] = 0
	}
	t.touched = t.touched[:0]
	t.skipped = nil
}
