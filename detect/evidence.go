package detect

import (
	"cmp"
	"container/heap"
	"net/netip"
	"slices"

	"github.com/vpcflow/vpcflow/record"
)

// matcher is a finding's contribution test: the records of its windows
// that the detector counted for it. Each detector builds its finding's
// matcher from the same classifier the hot path uses, so evidence is what
// the detector saw, not an approximation of it.
type matcher struct {
	eni      string     // "": any interface
	src, dst netip.Addr // invalid: any
	proto    int16      // -1: any
	port     int32      // destination port of a request; -1: any
	tests    uint8
	kind     uint8 // for mAttempt: kindSSH or kindRDP
}

// Tests of a matcher; all of those set must hold.
const (
	mRequest   uint8 = 1 << iota // a request (classifier.request)
	mOpenProbe                   // an accepted probe
	mTalk                        // accepted, more than ShortPackets, ports certain
	mReject                      // REJECT
	mAttempt                     // a brute-force attempt (see pairAgg.ssh)
	mPublicSrc                   // from an internet address
)

func (e *Engine) matches(m *matcher, f *Flow) bool {
	if m.eni != "" && f.Interface != m.eni ||
		m.src.IsValid() && f.Src != m.src ||
		m.dst.IsValid() && f.Dst != m.dst ||
		m.proto >= 0 && f.Protocol != m.proto {
		return false
	}
	request := portsOf(f) && e.cls.request(f.SrcPort, f.DstPort)
	if m.port >= 0 && (!request || f.DstPort != m.port) {
		return false
	}
	switch {
	case m.tests&(mRequest|mAttempt) != 0 && !request,
		m.tests&mOpenProbe != 0 && !(e.cls.probe(f) && f.Action == record.ActionAccept),
		m.tests&mTalk != 0 && !(!e.cls.probe(f) && f.Action == record.ActionAccept && f.Packets > e.cls.short && e.cls.certain(f.SrcPort, f.DstPort)),
		m.tests&mReject != 0 && f.Action != record.ActionReject,
		m.tests&mPublicSrc != 0 && !public(f.Src):
		return false
	}
	if m.tests&mAttempt != 0 {
		return f.Protocol == protoTCP && e.portKind[f.DstPort]&m.kind != 0 &&
			(f.Packets < 0 || f.Packets <= e.cfg.BruteForce.MaxAttemptPackets)
	}
	return true
}

// Collector gathers the evidence of an Engine's findings from a second look
// at the records: per finding, the records of its windows that its matcher
// accepts. It keeps at most a cap of them per finding, the earliest by
// start (then by record text, source and line), so that the evidence does
// not depend on the order the records come in; the others are counted.
type Collector struct {
	e     *Engine
	cap   int
	byENI map[string][]*slot
	any   []*slot // findings not tied to one interface (inbound sweeps)
	hits  []*slot
	slots []*slot
}

type slot struct {
	f       *Finding
	kept    evidenceHeap
	matched int
}

// Collector returns a Collector for the Engine's findings as they are now,
// keeping at most perFinding records each.
func (e *Engine) Collector(perFinding int) *Collector {
	return e.CollectorFor(e.store.sorted(), perFinding)
}

// CollectorFor returns a Collector for the given findings of the Engine
// only: a stream collects, as each window is judged, the evidence of the
// findings that window reported.
func (e *Engine) CollectorFor(findings []*Finding, perFinding int) *Collector {
	c := &Collector{e: e, cap: max(perFinding, 0), byENI: make(map[string][]*slot)}
	for _, f := range findings {
		s := &slot{f: f}
		c.slots = append(c.slots, s)
		if f.match.eni == "" {
			c.any = append(c.any, s)
		} else {
			c.byENI[f.match.eni] = append(c.byENI[f.match.eni], s)
		}
	}
	return c
}

// Match reports whether f contributed to some finding; Add then records
// it for those findings.
func (c *Collector) Match(f *Flow) bool {
	c.hits = c.hits[:0]
	if f.Start < 0 {
		return false
	}
	wi := f.Start / c.e.win
	for _, list := range [][]*slot{c.byENI[f.Interface], c.any} {
		for _, s := range list {
			if _, ok := slices.BinarySearch(s.f.windows, wi); ok && c.e.matches(&s.f.match, f) {
				c.hits = append(c.hits, s)
			}
		}
	}
	return len(c.hits) > 0
}

// Add records ev (its Record filled by the caller) for the findings the
// last Match found; start is the record's start.
func (c *Collector) Add(start int64, ev Evidence) {
	for _, s := range c.hits {
		s.matched++
		it := evidenceItem{start, ev}
		switch {
		case len(s.kept) < c.cap:
			heap.Push(&s.kept, it)
		case c.cap > 0 && it.less(s.kept[0]):
			s.kept[0] = it
			heap.Fix(&s.kept, 0)
		}
	}
}

// Finish writes the evidence into the findings.
func (c *Collector) Finish() {
	for _, s := range c.slots {
		items := slices.Clone(s.kept)
		slices.SortFunc(items, func(a, b evidenceItem) int { return a.compare(b) })
		s.f.Evidence = make([]Evidence, len(items))
		for i, it := range items {
			s.f.Evidence[i] = it.ev
		}
		s.f.EvidenceOmitted = s.matched - len(items)
	}
}

type evidenceItem struct {
	start int64
	ev    Evidence
}

func (a evidenceItem) compare(b evidenceItem) int {
	return cmp.Or(cmp.Compare(a.start, b.start), cmp.Compare(a.ev.Record, b.ev.Record),
		cmp.Compare(a.ev.Source, b.ev.Source), cmp.Compare(a.ev.Line, b.ev.Line), cmp.Compare(a.ev.Timestamp, b.ev.Timestamp))
}

func (a evidenceItem) less(b evidenceItem) bool { return a.compare(b) < 0 }

// evidenceHeap is a max-heap: its root is the item to give up first.
type evidenceHeap []evidenceItem

func (h evidenceHeap) Len() int           { return len(h) }
func (h evidenceHeap) Less(i, j int) bool { return h[j].less(h[i]) }
func (h evidenceHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *evidenceHeap) Push(x any)        { *h = append(*h, x.(evidenceItem)) }
func (h *evidenceHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}
