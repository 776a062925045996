package detect

import (
	"fmt"
	"net/netip"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/vpcflow/vpcflow/detect/internal/gen"
	"github.com/vpcflow/vpcflow/record"
)

// naive is the obvious way to write the hot path, kept as the benchmarks'
// baseline: a map per window keyed by a string built from the record, a
// map of ports per pair, a map of counters per interface name. Windows are
// judged by the Engine's own code, so both give the same findings
// (TestNaiveAgrees) and the benchmark compares the per-record work only.
type naive struct {
	e       *Engine
	windows map[int64]*naiveWindow
	enis    map[string]int32
	wm      int64
	started bool
}

type naiveWindow struct {
	pairs map[string]*naivePair
	enis  map[string]*eniWindow
}

type naivePair struct {
	agg   pairAgg
	ports map[int]uint8
}

func newNaive(t testing.TB) *naive {
	e, err := New(DefaultConfiguration())
	if err != nil {
		t.Fatal(err)
	}
	return &naive{e: e, windows: map[int64]*naiveWindow{}, enis: map[string]int32{}}
}

func (n *naive) observe(f *Flow) {
	e := n.e
	if f.Status == record.StatusNoData || f.Status == record.StatusSkipData || f.Interface == "" ||
		!f.Src.IsValid() || !f.Dst.IsValid() || f.Start < 0 {
		return
	}
	if !n.started || f.Start > n.wm {
		n.started, n.wm = true, f.Start
		n.close(floorDiv(n.wm-e.late, e.win))
	}
	wi := f.Start / e.win
	if wi < floorDiv(n.wm-e.late, e.win) {
		return
	}
	x, ok := n.enis[f.Interface]
	if !ok {
		x = int32(len(e.eni))
		e.eni = append(e.eni, eniState{name: f.Interface, first: f.Start})
		n.enis[f.Interface] = x
	}
	s := &e.eni[x]
	s.first = min(s.first, f.Start)
	s.fill(f)
	w := n.windows[wi]
	if w == nil {
		w = &naiveWindow{pairs: map[string]*naivePair{}, enis: map[string]*eniWindow{}}
		n.windows[wi] = w
	}
	pe := w.enis[f.Interface]
	if pe == nil {
		pe = &eniWindow{}
		w.enis[f.Interface] = pe
	}
	pe.records++
	key := f.Interface + "|" + strconv.Itoa(int(f.Protocol)) + "|" + f.Src.String() + "|" + f.Dst.String()
	p := w.pairs[key]
	if p == nil {
		p = &naivePair{agg: pairAgg{key: makeKey(x, f.Protocol, f.Src, f.Dst), first: f.Start, last: f.End}, ports: map[int]uint8{}}
		w.pairs[key] = p
	}
	a := &p.agg
	a.records++
	if f.Action == record.ActionReject {
		pe.rejects++
		a.rejects++
	}
	switch f.Direction {
	case record.Ingress:
		a.ingress++
	case record.Egress:
		a.egress++
	}
	if f.Bytes > 0 {
		a.bytes += uint64(f.Bytes)
	}
	a.first, a.last = min(a.first, f.Start), max(a.last, f.End, f.Start)
	if !portsOf(f) || !e.cls.request(f.SrcPort, f.DstPort) {
		return
	}
	a.requests++
	if f.Action == record.ActionReject {
		a.reqRejects++
	}
	var flags uint8
	if e.cls.probe(f) {
		a.reqProbes++
		flags |= portProbe
		if f.Action == record.ActionAccept {
			flags |= portOpenProbe
		}
	} else if f.Action == record.ActionAccept && f.Packets > e.cls.short && e.cls.certain(f.SrcPort, f.DstPort) {
		flags |= portTalk
	}
	p.ports[int(f.DstPort)] |= flags
	if f.Protocol == protoTCP && (f.Packets < 0 || f.Packets <= e.cfg.BruteForce.MaxAttemptPackets) {
		for _, ssh := range e.cfg.BruteForce.SSHPorts {
			if int(f.DstPort) == ssh {
				a.ssh++
				if f.Action == record.ActionReject {
					a.sshRejected++
				}
			}
		}
		for _, rdp := range e.cfg.BruteForce.RDPPorts {
			if int(f.DstPort) == rdp {
				a.rdp++
				if f.Action == record.ActionReject {
					a.rdpRejected++
				}
			}
		}
	}
}

// close judges the windows before index before, in order.
func (n *naive) close(before int64) {
	for {
		first := int64(-1)
		for wi := range n.windows {
			if wi < before && (first < 0 || wi < first) {
				first = wi
			}
		}
		if first < 0 {
			return
		}
		n.judge(first)
	}
}

func (n *naive) judge(wi int64) {
	nw := n.windows[wi]
	delete(n.windows, wi)
	w := &window{index: wi, pairs: map[pairKey]int32{}, perENI: make([]eniWindow, len(n.e.eni))}
	for name, pe := range nw.enis {
		w.perENI[n.enis[name]] = *pe
	}
	for _, p := range nw.pairs {
		for port, flags := range p.ports {
			p.agg.ports.add(uint16(port), flags, n.e.cfg.Limits.PortsPerPair)
		}
		w.aggs = append(w.aggs, p.agg)
	}
	n.e.judge(w)
}

func (n *naive) flush() { n.close(1 << 62) }

// TestNaiveAgrees: the baseline finds what the Engine finds.
func TestNaiveAgrees(t *testing.T) {
	flows := genFlows(t, gen.Config{Seed: 3, Duration: 3 * time.Hour, Attacks: 1})
	e := run(t, DefaultConfiguration(), flows)
	n := newNaive(t)
	for i := range flows {
		n.observe(&flows[i])
	}
	n.flush()
	if got, want := findingsJSON(t, n.e), findingsJSON(t, e); got != want || len(e.Findings()) == 0 {
		t.Fatalf("naive:\n%s\nengine:\n%s", got, want)
	}
}

// genFlows returns the records of cfg as Flows (default format fields).
func genFlows(t testing.TB, cfg gen.Config) []Flow {
	var (
		flows []Flow
		conv  Converter
		r     record.Record
		line  []byte
	)
	dec := record.NewDecoder()
	_, err := gen.Generate(cfg, func(rec *record.Record) error {
		line = record.AppendText(line[:0], record.DefaultFormat, rec)
		if err := dec.Decode(record.DefaultFormat, line, &r); err != nil {
			return err
		}
		var f Flow
		conv.Flow(record.DefaultFormat, &r, &f)
		flows = append(flows, f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return flows
}

var benchData = sync.OnceValue(func() []Flow {
	return genFlows(&testing.B{}, gen.Config{Seed: 11, Duration: 4 * time.Hour, Attacks: 1, Load: 2})
})

// BenchmarkDetect runs the Engine and the naive baseline over the same
// records: a busy VPC's 4 hours (with attacks) replayed back to back, each
// replay shifted in time, to at least 10 M records. Run it on one core:
//
//	go test ./detect -run '^$' -bench Detect -benchtime 1x -cpu 1
func BenchmarkDetect(b *testing.B) {
	flows := benchData()
	span := int64(4 * 3600)
	replays := (10_000_000 + len(flows) - 1) / len(flows)
	total := replays * len(flows)
	shift := func(by int64) {
		for i := range flows {
			flows[i].Start += by
			flows[i].End += by
		}
	}
	var engineTime, naiveTime time.Duration
	var engineAlloc, naiveAlloc uint64
	var findings int
	for b.Loop() {
		var ms runtime.MemStats
		measure := func(observe func(*Flow), flush func()) (time.Duration, uint64) {
			runtime.GC()
			runtime.ReadMemStats(&ms)
			alloc := ms.TotalAlloc
			var d time.Duration
			for r := range replays {
				start := time.Now()
				for i := range flows {
					observe(&flows[i])
				}
				d += time.Since(start)
				if r < replays-1 {
					shift(span)
				}
			}
			start := time.Now()
			flush()
			d += time.Since(start)
			shift(-span * int64(replays-1))
			runtime.ReadMemStats(&ms)
			return d, ms.TotalAlloc - alloc
		}
		e, err := New(DefaultConfiguration())
		if err != nil {
			b.Fatal(err)
		}
		engineTime, engineAlloc = measure(e.Observe, e.Flush)
		findings = len(e.Findings())
		n := newNaive(b)
		naiveTime, naiveAlloc = measure(n.observe, n.flush)
		if len(n.e.Findings()) != findings {
			b.Fatalf("naive %d findings, engine %d", len(n.e.Findings()), findings)
		}
	}
	b.ReportMetric(float64(total)/engineTime.Seconds(), "records/s")
	b.ReportMetric(float64(total)/naiveTime.Seconds(), "naive-records/s")
	b.ReportMetric(naiveTime.Seconds()/engineTime.Seconds(), "speedup")
	b.ReportMetric(float64(engineAlloc)/float64(total), "B/record")
	b.ReportMetric(float64(naiveAlloc)/float64(total), "naive-B/record")
	b.Logf("%d records (%d replays of %d), %d findings; engine %s, naive %s",
		total, replays, len(flows), findings, engineTime.Round(time.Millisecond), naiveTime.Round(time.Millisecond))
}

// TestFloodIsBounded: a flood of records from unique sources fills one
// window's table up to its bound and no further; what the bound turned
// away is counted, and still counted as REJECTs.
func TestFloodIsBounded(t *testing.T) {
	cfg := DefaultConfiguration()
	cfg.Limits.PairsPerWindow = 50_000
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	const n = 1_000_000
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f := rec("eni-a", "10.0.0.5", "10.0.0.5", 40000, 443, 1, 44, 100, reject)
	for i := range n {
		f.Src = netip.AddrFrom4([4]byte{byte(1 + i>>24), byte(i >> 16), byte(i >> 8), byte(i)})
		f.Start = 100 + int64(i%400)
		e.Observe(&f)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	st := e.Stats()
	if st.Judged != n || st.PairsDropped != n-50_000 || len(e.open) != 1 || len(e.open[0].aggs) != 50_000 {
		t.Errorf("stats %+v, pairs %d", st, len(e.open[0].aggs))
	}
	// 50,000 pairs of 136 bytes, their map entries (44 bytes and
	// overhead): a few MB, whatever the flood's size.
	grew := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	if grew > 32<<20 {
		t.Errorf("heap grew by %d MB for 50,000 pairs", grew>>20)
	}
	t.Logf("%d records from unique sources: %d pairs kept, %d turned away; heap grew by %.1f MB", n, len(e.open[0].aggs), st.PairsDropped, float64(grew)/(1<<20))
	if e.open[0].perENI[0].rejects != n {
		t.Errorf("rejects %d, want %d", e.open[0].perENI[0].rejects, n)
	}
	e.Flush()
}

func TestOtherBounds(t *testing.T) {
	cfg := DefaultConfiguration()
	cfg.Limits.Interfaces, cfg.Limits.PortsPerPair, cfg.Limits.Findings = 100, 4096, 3
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// 1,000 interfaces: 900 turned away.
	for i := range 1000 {
		f := rec(fmt.Sprintf("eni-%d", i), "10.0.0.5", "10.0.0.9", 50000, 443, 10, 1000, 0, accept)
		e.Observe(&f)
	}
	// A scan of every port of eni-0: 4,096 remembered, 61,439 not.
	for p := 1; p <= 65535; p++ {
		f := rec("eni-0", "198.51.100.7", "10.0.0.5", 40000, int32(p), 1, 44, 1, reject)
		f.SrcPort = 65535
		e.Observe(&f)
	}
	// Four inbound brute forces: 3 findings kept, 1 turned away.
	for a := range 4 {
		for i := range 20 {
			f := rec("eni-1", fmt.Sprintf("203.0.113.%d", a+1), "10.0.0.5", int32(50000+i), 22, 12, 2000, 2, accept)
			e.Observe(&f)
		}
	}
	e.Flush()
	st := e.Stats()
	if st.InterfacesDropped != 900 || len(e.eni) != 100 || st.PortsDropped != 65535-4096 || st.FindingsDropped != 2 || len(e.Findings()) != 3 {
		t.Errorf("stats %+v, %d interfaces, %d findings", st, len(e.eni), len(e.Findings()))
	}
}
