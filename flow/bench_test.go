package flow

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"sort"
	"testing"
)

// benchObs builds n observations over `flows` distinct flows of one capture
// point, within one 60 s window.
func benchObs(n, flows int) []Observation {
	obs := make([]Observation, n)
	server := netip.MustParseAddr("10.0.1.10")
	for i := range obs {
		f := i % flows
		obs[i] = Observation{
			Time: 1700000040e9 + int64(i%59)*1e9, Src: netip.AddrFrom4([4]byte{198, 51, byte(f >> 16), byte(f >> 8)}), Dst: server,
			SrcPort: uint16(f), DstPort: 443, Proto: 6, Dir: 1, Action: 1, TCPFlags: FlagSYN, Bytes: 100,
		}
	}
	return obs
}

// BenchmarkAggregate measures observations/s through the sharded
// aggregator (producer + shards + collector).
func BenchmarkAggregate(b *testing.B) {
	obs := benchObs(1_000_000, 200_000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		a, _ := New(DefaultConfiguration(), func(*Window) {})
		for c := 0; c < 4; c++ {
			a.AddCapture(60)
		}
		a.Start()
		for k := range obs {
			obs[k].Capture = uint32(k & 3)
			a.Add(&obs[k])
		}
		a.Close()
	}
	b.ReportMetric(float64(len(obs)*b.N)/b.Elapsed().Seconds(), "obs/s")
}

// BenchmarkAggregateBaselineMap is the straightforward alternative: one Go
// map from a struct key to a pointer, in one goroutine.
func BenchmarkAggregateBaselineMap(b *testing.B) {
	obs := benchObs(1_000_000, 200_000)
	type key struct {
		src, dst     netip.Addr
		sport, dport uint16
		proto        uint8
		capture      uint32
	}
	type val struct {
		packets, bytes uint64
		start, end     int64
		flags          uint8
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m := map[key]*val{}
		for k := range obs {
			o := &obs[k]
			kk := key{o.Src, o.Dst, o.SrcPort, o.DstPort, o.Proto, uint32(k & 3)}
			v := m[kk]
			if v == nil {
				v = &val{start: o.Time / 1e9}
				m[kk] = v
			}
			v.packets++
			v.bytes += uint64(o.Bytes)
			v.end = o.Time / 1e9
			v.flags |= o.TCPFlags
		}
	}
	b.ReportMetric(float64(len(obs)*b.N)/b.Elapsed().Seconds(), "obs/s")
}

// BenchmarkMemoryPerFlow reports the heap held per live flow entry (map
// slot and flow slice entry) with 200 000 flows open: the goal is ≤ 256 B.
func BenchmarkMemoryPerFlow(b *testing.B) {
	const flows = 200_000
	obs := benchObs(flows, flows)
	for i := 0; i < b.N; i++ {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		a, _ := New(Configuration{Shards: 2, MaxFlowsPerWindow: flows, MaxFlows: flows, BatchSize: 512}, func(*Window) {})
		a.AddCapture(60)
		a.Start()
		for k := range obs {
			a.Add(&obs[k])
		}
		a.flushPending()
		for a.LiveFlows() < flows { // wait for the shards to take the last batch
			runtime.Gosched()
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/flows, "B/flow")
		a.Close()
	}
}

// BenchmarkAggregateMillion: 4 M observations over a million flows of one
// capture point in one window, the shape of a large capture; it reports
// observations/s and the peak heap per flow (tables, batches and the
// sorted window together, read at Close by the sink).
func BenchmarkAggregateMillion(b *testing.B) {
	const flows = 1_000_000
	obs := make([]Observation, 4*flows)
	server := netip.MustParseAddr("10.0.1.10")
	for i := range obs {
		f := (i * 7919) % flows // every flow touched 4 times, spread out
		obs[i] = Observation{
			Time: 1700000400e9 + int64(i)*100e3, Src: netip.AddrFrom4([4]byte{198, byte(f >> 16), byte(f >> 8), byte(f)}), Dst: server,
			SrcPort: uint16(f), DstPort: 443, Proto: 6, Dir: 1, Action: 1, TCPFlags: FlagSYN, Bytes: 100,
		}
	}
	var perFlow float64
	for b.Loop() {
		var before runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		var peak uint64
		cfg := DefaultConfiguration()
		a, _ := New(cfg, func(w *Window) {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			peak = ms.HeapAlloc
			if w.Flows.Len() != flows {
				b.Fatalf("%d flows", w.Flows.Len())
			}
		})
		a.AddCapture(600)
		a.Start()
		for k := range obs {
			a.Add(&obs[k])
		}
		a.Close()
		perFlow = float64(peak-before.HeapAlloc) / flows
	}
	b.ReportMetric(float64(len(obs))*float64(b.N)/b.Elapsed().Seconds(), "obs/s")
	b.ReportMetric(perFlow, "heapB/flow")
}

// windowFlows builds n flows of one capture point as a capture leaves them
// in a table: in order of first packet, over a 600 s window, with many
// flows sharing a start second.
func windowFlows(n int) []Flow {
	fs := make([]Flow, n)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range fs {
		start := 1700000400 + int64(i)*600/int64(n)
		k := Key{Src: netip.AddrFrom4([4]byte{198, 51, byte(rng.IntN(256)), byte(rng.IntN(256))}).As16(), Dst: netip.MustParseAddr("10.0.1.10").As16(),
			SrcPort: uint16(rng.IntN(65536)), DstPort: 443, Proto: 6, Dir: uint8(rng.IntN(2)), Action: 1, V4: true}
		if rng.IntN(10) == 0 { // IPv6 peers: the address words span far more
			k.V4 = false
			binary.LittleEndian.PutUint64(k.Src[8:], rng.Uint64())
			binary.LittleEndian.PutUint32(k.Src[4:], rng.Uint32())
			copy(k.Src[:4], []byte{0x20, 0x01, 0x0d, 0xb8})
			k.Dst = netip.MustParseAddr("2600:1f18:7a3:f401::10").As16()
		}
		fs[i] = Flow{Key: k, Packets: 1, Start: start, End: start + int64(rng.IntN(3)), Bytes: 100}
	}
	return fs
}

// BenchmarkSortWindow sorts a window of a million flows in window order:
// sortFlows as a shard does, against sort.Sort through Flows (the ratio of
// the two is the gain).
func BenchmarkSortWindow(b *testing.B) {
	const n = 1_000_000
	orig := windowFlows(n)
	fs := make([]Flow, n)
	scratch := make([]uint64, n)
	b.Run("keys", func(b *testing.B) {
		for b.Loop() {
			copy(fs, orig)
			f := FlowsOf(fs)
			sortFlows(f.chunks, n, scratch)
		}
	})
	b.Run("sort.Sort", func(b *testing.B) {
		for b.Loop() {
			copy(fs, orig)
			f := FlowsOf(fs)
			sort.Sort(&f)
		}
	})
}
