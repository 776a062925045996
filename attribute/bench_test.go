package attribute

import (
	"bytes"
	"io"
	"net/netip"
	"sync"
	"testing"

	"github.com/vpcflow/vpcflow/capture"
	"github.com/vpcflow/vpcflow/flow"
	"github.com/vpcflow/vpcflow/packet"
	"github.com/vpcflow/vpcflow/sim"
	"github.com/vpcflow/vpcflow/topology"
)

// benchPackets decodes a synthetic capture (package sim) into memory, so
// the benchmarks measure attribution alone; eps nil is the single-interface
// address plan, otherwise the example topology's interfaces.
func benchPackets(b *testing.B, eps []sim.Endpoint) []packet.Packet {
	var buf bytes.Buffer
	w, err := capture.NewWriter(&buf, packet.LinkEthernet)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := sim.Generate(sim.Config{Packets: 100_000, Flows: 10_000, Seed: 1, SnapLen: 128, Endpoints: eps}, w, nil); err != nil {
		b.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	r, err := capture.NewReader(&buf, "bench")
	if err != nil {
		b.Fatal(err)
	}
	var dec packet.Decoder
	var out []packet.Packet
	// 4096 packets (640 KiB) stay in the cache, as the pipeline's one
	// decoded packet does: the benchmark times attribution, not memory.
	for len(out) < 4096 {
		fr, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		var p packet.Packet
		if dec.Decode(fr.LinkType, fr.Data, &p).HasIP() {
			out = append(out, p)
		}
	}
	return out
}

var (
	singlePackets sync.Once
	singleSet     []packet.Packet
	topoPackets   sync.Once
	topoSet       []packet.Packet
	benchTopo     *topology.Topology
)

func runAttribute(b *testing.B, a *Attributor, ps []packet.Packet) {
	var n uint64
	emit := func(o *flow.Observation) { n += uint64(o.Bytes) }
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := range ps {
			a.Packet(&ps[j], int64(j), emit)
		}
	}
	b.ReportMetric(float64(len(ps))*float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
	if n == 0 {
		b.Fatal("no observation")
	}
}

// BenchmarkPacketSingle: attribution without a topology (local prefixes
// decide the direction), the `pcap --local-cidr` case.
func BenchmarkPacketSingle(b *testing.B) {
	singlePackets.Do(func() { singleSet = benchPackets(b, nil) })
	a := New(Config{Captures: [][]uint32{{0}}, LocalPrefixes: []netip.Prefix{
		netip.MustParsePrefix("10.0.1.10/32"), netip.MustParsePrefix("2600:1f18:7a3:f401::10/128")}})
	runAttribute(b, a, singleSet)
}

// BenchmarkPacketTopology: attribution by MAC and address over the example
// topology's interfaces, without a policy engine (its cost is policy's).
func BenchmarkPacketTopology(b *testing.B) {
	topoPackets.Do(func() {
		t, err := topology.Load("../examples/topology.yaml")
		if err != nil {
			b.Fatal(err)
		}
		eps, err := sim.EndpointsFromTopology(t)
		if err != nil {
			b.Fatal(err)
		}
		benchTopo, topoSet = t, benchPackets(b, eps)
	})
	var caps [][]uint32
	for _, e := range benchTopo.ENIs() {
		for len(caps) <= e.Index {
			caps = append(caps, []uint32{uint32(len(caps))})
		}
	}
	a := New(Config{Topology: benchTopo, Captures: caps})
	runAttribute(b, a, topoSet)
}
