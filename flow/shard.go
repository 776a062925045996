package flow

import "sync"

type shardMsg struct {
	batch    []obs
	flush    bool
	interval uint8
	seconds  int64 // the interval's length
	start    int64
	early    bool // closed by Close before its end
	sync     func()
	syncID   uint64
	lost     map[uint32]uint64 // capture points marked lost in the window (MarkLost)
}

type shardResult struct {
	sync     func() // a marker of Aggregator.Sync
	syncID   uint64
	interval uint8
	early    bool
	seconds  int64
	start    int64
	flows    [][]Flow // chunks of a flowTable
	skipped  map[uint32]uint64
	budget   uint64 // the part of skipped dropped at the memory budget
	lost     map[uint32]uint64
}

// table holds one open window of one interval in one shard; an interval
// has two, for the open window and the next (see slotOf).
type table struct {
	flows   *flowTable
	perCap  []int32  // flows per capture point in this window, by capture id
	touched []uint32 // capture ids with perCap != 0, to reset them cheaply
	skipped map[uint32]uint64
	// budgetSkips is the part of skipped dropped at the memory budget.
	budgetSkips uint64
}

type shard struct {
	agg     *Aggregator
	in      chan shardMsg
	tables  []*table
	touched uint32 // a sum of what addBatch read ahead, so the reads stay
}

func newShard(a *Aggregator) *shard {
	s := &shard{agg: a, in: make(chan shardMsg, 8)}
	if n := len(a.intervals); n > 0 {
		s.table(uint8(n-1), 1)
	}
	return s
}

// table returns the table of interval iv in a slot, making the tables of
// intervals registered after Start on first use: the shard learns of them
// only from the observations and flushes the producer sends it.
func (s *shard) table(iv, slot uint8) *table {
	i := 2*int(iv) + int(slot)
	for i >= len(s.tables) {
		s.tables = append(s.tables, &table{flows: newFlowTable()})
		s.agg.charge(initialSlots * slotBytes)
	}
	return s.tables[i]
}

func (s *shard) run(wg *sync.WaitGroup) {
	defer wg.Done()
	for m := range s.in {
		if m.sync != nil {
			s.agg.results <- shardResult{sync: m.sync, syncID: m.syncID}
			continue
		}
		if m.flush {
			s.flush(m)
			continue
		}
		s.addBatch(m.batch)
		select {
		case s.agg.free <- m.batch:
		default: // the producer has enough
		}
	}
}

// prefetchGroup is how many observations addBatch looks up together.
const prefetchGroup = 16

// addBatch adds a batch of observations a group at a time: first it
// hashes every observation of the group and reads its index slot, and only
// then adds them. In a large table nearly every slot read misses the
// caches; issued one after another without depending on each other, the
// misses overlap, where add alone waits for each in turn. (Reading ahead
// the flows the slots name too measured slower: most packets find a flow
// seen recently, still cached.)
func (s *shard) addBatch(batch []obs) {
	var hs [prefetchGroup]uint64
	var ts [prefetchGroup]*table
	touched := s.touched
	for len(batch) > 0 {
		g := batch[:min(len(batch), prefetchGroup)]
		batch = batch[len(g):]
		for i := range g {
			o := &g[i]
			t := s.table(o.iv, o.slot)
			h := t.flows.hash(&o.key)
			ts[i], hs[i] = t, h
			touched += t.flows.index[h&t.flows.mask]
		}
		for i := range g {
			s.addHashed(&g[i], ts[i], hs[i])
		}
	}
	s.touched = touched // keeps the reads
}

func (s *shard) addHashed(o *obs, t *table, h uint64) {
	f, slot := t.flows.find(&o.key, h)
	if f != nil {
		f.Packets++
		f.Bytes += uint64(o.bytes)
		f.TCPFlags |= o.flags
		f.End = max(f.End, o.sec)
		f.Start = min(f.Start, o.sec)
		return
	}
	// A new flow: check the bounds before it takes memory.
	c := o.key.Capture
	if int(c) >= len(t.perCap) {
		t.perCap = append(t.perCap, make([]int32, int(c)+1-len(t.perCap))...)
	}
	cfg := &s.agg.cfg
	full := (cfg.MaxFlowsPerWindow > 0 && t.perCap[c] >= int32(cfg.MaxFlowsPerWindow)) ||
		(cfg.MaxFlows > 0 && s.agg.live.Load() >= int64(cfg.MaxFlows))
	if !full && !s.agg.reserve(t.flows.need()) {
		full = true
		t.budgetSkips++
	}
	if full {
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
	t.flows.insert(slot, h, Flow{Key: o.key, Packets: 1, Bytes: uint64(o.bytes), Start: o.sec, End: o.sec, TCPFlags: o.flags})
	s.agg.notePeak(s.agg.live.Add(1))
}

func (s *shard) flush(m shardMsg) {
	iv := m.interval
	t := s.table(iv, slotOf(m.start, m.seconds))
	s.agg.live.Add(-int64(t.flows.n))
	t.flows.sort()
	flows := t.flows.take()
	s.agg.results <- shardResult{interval: iv, seconds: m.seconds, start: m.start, early: m.early, flows: flows, skipped: t.skipped, budget: t.budgetSkips, lost: m.lost}
	for _, c := range t.touched {
		t.perCap[c] = 0
	}
	t.touched = t.touched[:0]
	t.skipped, t.budgetSkips = nil, 0
}
