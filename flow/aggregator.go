package flow

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
)

// maxEmptyWindows bounds the empty windows emitted for one jump in packet
// time, so one corrupt timestamp cannot make the aggregator emit millions of
// windows; the rest are counted in Stats.GapWindowsSkipped.
const maxEmptyWindows = 100_000

// Stats are the aggregator's counters.
type Stats struct {
	Observations uint64 // observations added
	Late         uint64 // observations older than their open window, joined to it
	// DroppedPackets counts the packets left out of every flow because
	// their flow was new when a bound (Configuration.MemoryBudget,
	// MaxFlowsPerWindow, MaxFlows) was reached; each window that lost some
	// gives its capture points SKIPDATA records (Window.Skipped).
	// DroppedFlows is the same number, under the name it had before the
	// count was documented as packets.
	DroppedPackets, DroppedFlows uint64
	// DroppedByBudget is the part of DroppedPackets dropped because the
	// memory budget was reached (the rest: a flow-count bound).
	DroppedByBudget uint64
	// MemoryBudget is Configuration.MemoryBudget; PeakTableBytes the most
	// memory the flow tables held at once, as charged against it.
	MemoryBudget, PeakTableBytes int64
	Windows                      uint64 // windows delivered
	Flows                        uint64 // flows delivered
	PeakFlows                    int64  // most live flow entries at once
	GapWindowsSkipped            uint64 // empty windows not emitted (see maxEmptyWindows)
	// Gaps are the capture gaps (Configuration.CaptureGap): the first
	// maxGapsListed of them, and their number.
	Gaps     []Gap
	GapCount uint64
	// LostPackets counts the packets reported lost before observation
	// (MarkLost: a full capture ring); LostUnmarked the reports that came
	// after every window they concern had closed, so no record says so.
	LostPackets, LostUnmarked uint64
}

// Gap is a silence between two observations longer than
// Configuration.CaptureGap (Unix seconds of the two observations).
type Gap struct{ From, To int64 }

// maxGapsListed bounds Stats.Gaps: a capture of many gaps is summarised by
// its count.
const maxGapsListed = 10

// Aggregator turns observations into windows of flows. Add is called from one
// goroutine (the producer) in packet-time order; sink is called from another
// goroutine, one window at a time.
type Aggregator struct {
	cfg       Configuration
	sink      func(*Window)
	intervals []int64 // distinct intervals in use
	captureIv []uint8 // capture point → index into intervals
	// captureShard is capture point → shard: the capture id modulo the
	// shards, a division Add makes once per capture point, not per packet.
	captureShard []int
	shards       []*shard   // aggregation goroutines
	pending      [][]obs    // per shard, the batch being filled
	cur          []int64    // per interval, start of the open window; -1 before the first packet
	curSlot      []uint8    // per interval, slotOf(cur)
	openUntil    int64      // no window closes before this second (see advanceFor)
	free         chan []obs // batches the shards are done with
	nextUsed     []bool     // per interval, the window after cur holds observations (HoldNext)
	lost         map[lostKey]map[uint32]uint64
	pc           producerCounts
	results      chan shardResult
	done         chan struct{}
	wg           sync.WaitGroup
	started      bool
	syncs        uint64 // markers sent by Sync
	lastObs      int64  // second of the latest observation, when seen
	seen         bool
	live         atomic.Int64 // live flow entries, all shards
	peak         atomic.Int64
	mem          atomic.Int64 // table bytes held (Configuration.MemoryBudget)
	peakMem      atomic.Int64
	stats        Stats
	statsMu      sync.Mutex // guards the collector's counters in stats
}

// New returns an aggregator that delivers closed windows to sink.
func New(cfg Configuration, sink func(*Window)) (*Aggregator, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if sink == nil {
		return nil, fmt.Errorf("flow: nil sink")
	}
	return &Aggregator{cfg: cfg, sink: sink}, nil
}

// AddCapture registers a capture point with its aggregation interval (60 or
// 600 s, or any positive number of seconds) and returns its id for
// Observation.Capture. After Start it is called from the producer goroutine
// (the one calling Add), so a flow log created while packets flow gets its
// capture points between two packets.
func (a *Aggregator) AddCapture(interval int64) (uint32, error) {
	if interval <= 0 {
		return 0, fmt.Errorf("flow: interval: want a positive number of seconds, got %d", interval)
	}
	i := -1
	for k, iv := range a.intervals {
		if iv == interval {
			i = k
		}
	}
	if i < 0 {
		if len(a.intervals) == 255 {
			return 0, fmt.Errorf("flow: too many distinct intervals")
		}
		a.intervals = append(a.intervals, interval)
		i = len(a.intervals) - 1
		if a.started {
			a.cur = append(a.cur, -1)
			a.nextUsed = append(a.nextUsed, false)
			a.curSlot = append(a.curSlot, 0)
			a.openUntil = math.MinInt64
		}
	}
	a.captureIv = append(a.captureIv, uint8(i))
	id := uint32(len(a.captureIv) - 1)
	a.captureShard = append(a.captureShard, int(id)%a.cfg.Shards)
	return id, nil
}

// Start launches the shard and collector goroutines.
func (a *Aggregator) Start() {
	a.started = true
	n := a.cfg.Shards
	a.results = make(chan shardResult, 4*n)
	a.done = make(chan struct{})
	a.cur = make([]int64, len(a.intervals))
	a.nextUsed = make([]bool, len(a.intervals))
	a.curSlot = make([]uint8, len(a.intervals))
	a.openUntil = math.MinInt64
	a.free = make(chan []obs, 4*n)
	for i := range a.cur {
		a.cur[i] = -1
	}
	for i := 0; i < n; i++ {
		s := newShard(a)
		a.shards = append(a.shards, s)
		a.pending = append(a.pending, make([]obs, 0, a.cfg.BatchSize))
		a.wg.Add(1)
		go s.run(&a.wg)
	}
	go a.collect()
}

// Add records one observation. Observations should come in packet-time order;
// one older than the open window of its interval joins that window (counted
// as late), so windows never reopen. With HoldNext, one in the window after
// the open one goes to that window, which stays open too.
func (a *Aggregator) Add(o *Observation) {
	sec := o.Time / 1e9
	if o.Time < 0 && o.Time%1e9 != 0 {
		sec-- // floor for times before 1970
	}
	if g := a.cfg.CaptureGap; g > 0 && a.seen && sec-a.lastObs > g {
		a.gap(a.lastObs, sec)
	}
	if !a.seen || sec > a.lastObs {
		a.lastObs, a.seen = sec, true
	}
	iv := a.captureIv[o.Capture]
	if sec >= a.openUntil || a.cfg.HoldNext {
		a.advanceFor(iv, sec)
	}
	start := a.cur[iv]
	slot := a.curSlot[iv]
	if sec < start {
		sec = start
		a.pc.late++
	} else if sec >= start+a.intervals[iv] {
		a.nextUsed[iv] = true
		slot ^= 1
	}
	a.pc.observations++
	sh := a.captureShard[o.Capture]
	// The pending batch always has room (it is handed over when full).
	// The observation is written in place, field by field: built whole
	// and copied in, it went through the stack twice.
	b := a.pending[sh]
	b = b[:len(b)+1]
	p := &b[len(b)-1]
	k := &p.key
	if o.Src.Is4() && o.Dst.Is4() {
		putV4(&k.Src, o.Src.As4())
		putV4(&k.Dst, o.Dst.As4())
	} else {
		k.Src, k.Dst = o.Src.As16(), o.Dst.As16()
	}
	k.Capture, k.SrcPort, k.DstPort = o.Capture, o.SrcPort, o.DstPort
	k.Proto, k.Dir, k.Action, k.V4 = o.Proto, o.Dir, o.Action, o.Src.Is4()
	k.TrafficPath, k.pad, k.Rule = o.TrafficPath, 0, o.Rule
	p.sec, p.bytes, p.flags, p.iv, p.slot = sec, o.Bytes, o.TCPFlags, iv, slot
	if len(b) == cap(b) {
		a.shards[sh].in <- shardMsg{batch: b}
		b = a.newBatch()
		a.publishCounts()
	}
	a.pending[sh] = b
}

// putV4 writes an IPv4 address as As16 gives it (IPv4-mapped), in word
// stores: As16's array, stored in 8-byte halves and copied in 16-byte
// moves, made the CPU wait for each store to land before it could read it
// back (a stall per packet).
func putV4(dst *[16]byte, v4 [4]byte) {
	binary.LittleEndian.PutUint64(dst[:8], 0)
	binary.LittleEndian.PutUint32(dst[8:12], 0xffff0000) // bytes 0, 0, 0xff, 0xff
	*(*[4]byte)(dst[12:]) = v4
}

// newBatch returns an empty batch: one a shard has finished with, or a new
// one, so a steady stream allocates nothing.
func (a *Aggregator) newBatch() []obs {
	select {
	case b := <-a.free:
		return b[:0]
	default:
		return make([]obs, 0, a.cfg.BatchSize)
	}
}

// advanceFor closes the windows an observation at sec closes (all
// intervals' on packet time; with HoldNext its own interval's, and only
// beyond the next window), then notes until when no observation needs
// this again (openUntil): until the earliest end of an open window, every
// window is open, so Add skips the divisions.
func (a *Aggregator) advanceFor(iv uint8, sec int64) {
	if a.cfg.HoldNext && a.cur[iv] >= 0 {
		// Packet time closes a window only when an observation lies
		// beyond the next one: the clock (Advance) closes them otherwise.
		a.advanceInterval(int(iv), sec-a.intervals[iv])
	} else if a.cfg.HoldNext {
		a.advanceInterval(int(iv), sec)
	} else {
		a.advance(sec)
	}
	a.noteOpen()
}

// noteOpen recomputes openUntil and each interval's slot after the open
// windows changed.
func (a *Aggregator) noteOpen() {
	until, all := int64(math.MaxInt64), true
	for i, iv := range a.intervals {
		if a.cur[i] < 0 {
			all = false // a window still to open: every observation looks
			continue
		}
		until = min(until, a.cur[i]+iv)
		a.curSlot[i] = slotOf(a.cur[i], iv)
	}
	a.openUntil = math.MinInt64
	if all {
		a.openUntil = until
	}
}

// producerCounts are the counters only the producer goroutine writes; they
// reach Stats, for other goroutines, at every batch handed to a shard and
// whenever pending batches are flushed, never per observation.
type producerCounts struct {
	observations, late, lostPackets, lostUnmarked uint64
}

func (a *Aggregator) publishCounts() {
	a.statsMu.Lock()
	a.stats.Observations, a.stats.Late = a.pc.observations, a.pc.late
	a.stats.LostPackets, a.stats.LostUnmarked = a.pc.lostPackets, a.pc.lostUnmarked
	a.statsMu.Unlock()
}

// slotOf tells apart the two windows of an interval that can be open at
// once (HoldNext): consecutive windows have different slots.
func slotOf(sec, interval int64) uint8 { return uint8(floorDiv(sec, interval) & 1) }

// Advance closes every window that ends at or before sec (Unix seconds), as a
// packet at that time would. Continuous sources call it on the clock, so an
// idle capture point's window is delivered on time. Producer goroutine only.
func (a *Aggregator) Advance(sec int64) {
	if a.started {
		a.advance(sec)
		a.openUntil = math.MinInt64
	}
}

// Sync calls fn on the sink's goroutine once every window closed before
// the call has been handed to the sink, and before any window closed after
// it: a change that must apply from a point in the stream (a flow log
// deleted now gets the windows that closed before) goes through it.
// Producer goroutine only; before Start, fn runs at once.
func (a *Aggregator) Sync(fn func()) {
	if !a.started {
		fn()
		return
	}
	a.flushPending()
	a.syncs++
	for _, s := range a.shards {
		s.in <- shardMsg{sync: fn, syncID: a.syncs}
	}
}

// NextClose returns the earliest end of an open window (Unix seconds), when
// a window is open: the time a clock-driven producer must call Advance next.
// Producer goroutine only.
func (a *Aggregator) NextClose() (int64, bool) {
	next, ok := int64(0), false
	for i, iv := range a.intervals {
		if i < len(a.cur) && a.cur[i] >= 0 && (!ok || a.cur[i]+iv < next) {
			next, ok = a.cur[i]+iv, true
		}
	}
	return next, ok
}

// gap handles a capture gap from `from` to `to`: every open window is
// closed as it is (it holds what was seen before the gap), and the windows
// inside the gap are skipped, so the next observation opens its own
// window with nothing emitted in between.
func (a *Aggregator) gap(from, to int64) {
	a.flushPending()
	for i, iv := range a.intervals {
		if a.cur[i] < 0 {
			continue
		}
		if start := floorDiv(to, iv) * iv; start > a.cur[i] {
			a.closeWindow(i, a.cur[i])
			a.cur[i] = start
		}
	}
	a.openUntil = math.MinInt64
	a.statsMu.Lock()
	if len(a.stats.Gaps) < maxGapsListed {
		a.stats.Gaps = append(a.stats.Gaps, Gap{From: from, To: to})
	}
	a.stats.GapCount++
	a.statsMu.Unlock()
}

// advance closes every window that ends at or before sec.
func (a *Aggregator) advance(sec int64) {
	for i := range a.intervals {
		a.advanceInterval(i, sec)
	}
}

// advanceInterval closes the windows of interval i that end at or before
// sec.
func (a *Aggregator) advanceInterval(i int, sec int64) {
	iv := a.intervals[i]
	start := floorDiv(sec, iv) * iv
	if a.cur[i] < 0 {
		a.cur[i] = start
		return
	}
	if start <= a.cur[i] {
		return
	}
	a.flushPending()
	emitted := 0
	for w := a.cur[i]; w < start; w += iv {
		if emitted == maxEmptyWindows && w > a.cur[i] {
			skipped := (start - w) / iv
			a.statsMu.Lock()
			a.stats.GapWindowsSkipped += uint64(skipped)
			a.statsMu.Unlock()
			break
		}
		a.closeWindow(i, w)
		emitted++
	}
	a.nextUsed[i] = false // the new next window has had no observation yet
	a.cur[i] = start
	a.dropLostBefore(i, start)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func (a *Aggregator) flushPending() {
	a.publishCounts()
	for i, b := range a.pending {
		if len(b) > 0 {
			a.shards[i].in <- shardMsg{batch: b}
			a.pending[i] = a.newBatch()
		}
	}
}

func (a *Aggregator) closeWindow(iv int, start int64) { a.closeWindowEarly(iv, start, false) }

// closeWindowEarly closes a window; early marks one closed by Close before
// its end. The capture points marked lost in it travel with the first
// shard's part.
func (a *Aggregator) closeWindowEarly(iv int, start int64, early bool) {
	k := lostKey{uint8(iv), start}
	lost := a.lost[k]
	delete(a.lost, k)
	for i, s := range a.shards {
		m := shardMsg{flush: true, interval: uint8(iv), seconds: a.intervals[iv], start: start, early: early}
		if i == 0 {
			m.lost = lost
		}
		s.in <- m
	}
}

type lostKey struct {
	iv    uint8
	start int64
}

// MarkLost records that packets of capture point c were lost before they
// could be observed (a full capture ring) between from and to (Unix
// seconds, inclusive): every window of c's interval overlapping that time
// gets a SKIPDATA record for c (Window.Lost), whether it is open now or
// opens later. Windows already closed cannot say it any more; such reports
// are counted in Stats.LostUnmarked. Producer goroutine only.
func (a *Aggregator) MarkLost(c uint32, from, to int64, packets uint64) {
	a.pc.lostPackets += packets
	defer a.publishCounts()
	if !a.started || int(c) >= len(a.captureIv) || to < from {
		a.pc.lostUnmarked++
		return
	}
	i := int(a.captureIv[c])
	iv := a.intervals[i]
	first, last := floorDiv(from, iv)*iv, floorDiv(to, iv)*iv
	if cur := a.cur[i]; cur >= 0 && first < cur {
		if last < cur {
			a.pc.lostUnmarked++
			return
		}
		first = cur
	}
	// A report spans about a second; the bound only guards against a
	// clock that jumped.
	if n := (last - first) / iv; n > maxEmptyWindows {
		first = last - maxEmptyWindows*iv
	}
	if a.lost == nil {
		a.lost = map[lostKey]map[uint32]uint64{}
	}
	for w := first; w <= last; w += iv {
		k := lostKey{uint8(i), w}
		if a.lost[k] == nil {
			a.lost[k] = map[uint32]uint64{}
		}
		a.lost[k][c] += packets
	}
}

// dropLostBefore forgets the marks of interval i's windows that start
// before start and were never closed (marked before the first window of
// the interval opened).
func (a *Aggregator) dropLostBefore(i int, start int64) {
	for k := range a.lost {
		if int(k.iv) == i && k.start < start {
			delete(a.lost, k)
			a.pc.lostUnmarked++
		}
	}
}

// Close flushes every open window, waits until the sink has seen them all,
// and stops the goroutines.
func (a *Aggregator) Close() Stats {
	if !a.started {
		return a.stats
	}
	a.flushPending()
	for i, iv := range a.intervals {
		if a.cur[i] >= 0 {
			a.closeWindowEarly(i, a.cur[i], true)
			if a.nextUsed[i] {
				a.closeWindowEarly(i, a.cur[i]+iv, true)
			}
		}
	}
	for _, s := range a.shards {
		close(s.in)
	}
	a.wg.Wait()
	close(a.results)
	<-a.done
	return a.Stats()
}

// Stats returns a snapshot of the counters. The producer-side counters
// (Observations, Late, LostPackets, LostUnmarked) are as of the last batch
// handed to a shard (exact after Close).
func (a *Aggregator) Stats() Stats {
	a.statsMu.Lock()
	defer a.statsMu.Unlock()
	st := a.stats
	st.Gaps = append([]Gap(nil), a.stats.Gaps...)
	st.PeakFlows = a.peak.Load()
	st.PeakTableBytes = a.peakMem.Load()
	st.MemoryBudget = a.cfg.MemoryBudget
	return st
}

// TableBytes is the memory the flow tables hold right now, as charged
// against Configuration.MemoryBudget.
func (a *Aggregator) TableBytes() int64 { return a.mem.Load() }

// reserve charges n bytes of table memory if the budget has room for them.
// Shards reserve concurrently: the charge is taken first and given back
// when it overshoots, so the budget is never exceeded.
func (a *Aggregator) reserve(n int64) bool {
	if n == 0 {
		return true
	}
	v := a.mem.Add(n)
	if b := a.cfg.MemoryBudget; b > 0 && v > b {
		a.mem.Add(-n)
		return false
	}
	notePeak(&a.peakMem, v)
	return true
}

// charge takes n bytes of table memory whatever the budget (a table's
// first index, 4 KiB), or gives them back when negative.
func (a *Aggregator) charge(n int64) { notePeak(&a.peakMem, a.mem.Add(n)) }

// LiveFlows is the number of flow entries held right now.
func (a *Aggregator) LiveFlows() int64 { return a.live.Load() }

func (a *Aggregator) notePeak(live int64) { notePeak(&a.peak, live) }

func notePeak(peak *atomic.Int64, v int64) {
	for {
		p := peak.Load()
		if v <= p || peak.CompareAndSwap(p, v) {
			return
		}
	}
}

// collect merges the shards' parts of each window and hands complete windows
// to the sink in order.
func (a *Aggregator) collect() {
	defer close(a.done)
	type wkey struct {
		iv    uint8
		start int64
	}
	partial := map[wkey]*Window{}
	parts := map[wkey][][][]Flow{} // each shard's sorted chunks, merged once complete
	got := map[wkey]int{}
	held := map[wkey]int64{} // table memory of each window's chunks
	budget := map[wkey]uint64{}
	n := len(a.shards)
	syncs := map[uint64]int{}
	for r := range a.results {
		if r.sync != nil {
			// Shards answer in order: when all have passed a marker, every
			// window closed before it is complete and delivered, and so is
			// every earlier marker.
			if syncs[r.syncID]++; syncs[r.syncID] == n {
				delete(syncs, r.syncID)
				r.sync()
			}
			continue
		}
		k := wkey{r.interval, r.start}
		w := partial[k]
		if w == nil {
			w = &Window{Interval: r.seconds, Start: r.start, Early: r.early}
			partial[k] = w
		}
		parts[k] = append(parts[k], r.flows)
		held[k] += int64(len(r.flows)) * chunkBytes
		for c, v := range r.skipped {
			if w.Skipped == nil {
				w.Skipped = map[uint32]uint64{}
			}
			w.Skipped[c] += v
		}
		for c, v := range r.lost {
			if w.Lost == nil {
				w.Lost = map[uint32]uint64{}
			}
			w.Lost[c] += v
		}
		budget[k] += r.budget
		got[k]++
		if got[k] < n {
			continue
		}
		// Each shard sorted its part; merging them gives the window a
		// deterministic order whatever the shards' interleaving.
		var extra int
		w.Flows, extra = mergeRuns(parts[k])
		a.charge(int64(extra) * chunkBytes)
		release := held[k] + int64(extra)*chunkBytes
		delete(partial, k)
		delete(parts, k)
		delete(got, k)
		delete(held, k)
		byBudget := budget[k]
		delete(budget, k)
		a.statsMu.Lock()
		a.stats.Windows++
		a.stats.Flows += uint64(w.Flows.Len())
		for _, v := range w.Skipped {
			a.stats.DroppedPackets += v
		}
		a.stats.DroppedFlows = a.stats.DroppedPackets
		a.stats.DroppedByBudget += byBudget
		a.statsMu.Unlock()
		a.sink(w)
		// The sink is done with the window: its chunks are garbage.
		a.charge(-release)
	}
}

// cmpFlow is the order of a window's flows: capture point, start, end,
// then the key's fields. It is total on the flows of a window (their keys
// differ), so the order the sink sees never depends on the shards'
// interleaving.
func cmpFlow(x, y *Flow) int {
	if c := cmp.Compare(x.Capture, y.Capture); c != 0 {
		return c
	}
	if c := cmp.Compare(x.Start, y.Start); c != 0 {
		return c
	}
	if c := cmp.Compare(x.End, y.End); c != 0 {
		return c
	}
	kx, ky := &x.Key, &y.Key
	if c := cmp.Compare(kx.Dir, ky.Dir); c != 0 {
		return c
	}
	if c := bytes.Compare(kx.Src[:], ky.Src[:]); c != 0 {
		return c
	}
	if c := bytes.Compare(kx.Dst[:], ky.Dst[:]); c != 0 {
		return c
	}
	if c := cmp.Compare(kx.SrcPort, ky.SrcPort); c != 0 {
		return c
	}
	if c := cmp.Compare(kx.DstPort, ky.DstPort); c != 0 {
		return c
	}
	if c := cmp.Compare(kx.Proto, ky.Proto); c != 0 {
		return c
	}
	if c := cmp.Compare(kx.Action, ky.Action); c != 0 {
		return c
	}
	if c := cmp.Compare(kx.TrafficPath, ky.TrafficPath); c != 0 {
		return c
	}
	if c := cmp.Compare(kx.Rule, ky.Rule); c != 0 {
		return c
	}
	// An IPv4 address and its IPv4-mapped IPv6 form share Src and Dst.
	return cmp.Compare(b2i(kx.V4), b2i(ky.V4))
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func lessFlow(x, y *Flow) bool { return cmpFlow(x, y) < 0 }
