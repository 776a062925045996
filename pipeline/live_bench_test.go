//go:build linux

package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vpcflow/vpcflow/capture"
	"github.com/vpcflow/vpcflow/capture/live"
	"github.com/vpcflow/vpcflow/flowlog"
	"github.com/vpcflow/vpcflow/internal/clock"
	"github.com/vpcflow/vpcflow/internal/e2e"
	"github.com/vpcflow/vpcflow/internal/netnstest"
	"github.com/vpcflow/vpcflow/packet"
	"github.com/vpcflow/vpcflow/record"
	"github.com/vpcflow/vpcflow/topology"
)

// nullDest discards records.
type nullDest struct{}

func (nullDest) Write(*flowlog.FlowLog, *record.Record) error { return nil }
func (nullDest) Flush(*flowlog.FlowLog, int64) error          { return nil }
func (nullDest) Close() error                                 { return nil }

// BenchmarkLive measures frames/s through the whole pipeline (decode,
// attribution, security groups, aggregation; records discarded) over
// testdata/live.yaml, for the same 60-byte UDP frames (1024 flows from b to
// a, each giving an egress and an ingress observation):
//
//   - pcap: the frames from a pcap file, the baseline;
//   - drain/copy, drain/inplace: a flood between two namespaces filled
//     the ring while the pipeline's clock held the frames back (their
//     kernel timestamps lay ahead of it); then the clock moves and the
//     pipeline takes them as fast as it can, frames copied out by reader
//     goroutines (the default) or read in place (live.Configuration.InPlace).
//     x-pcap is the ratio to the baseline;
//     copy-2readers: two sockets in a PACKET_FANOUT group;
//   - flood/copy, flood/inplace, flood/copy-2readers: the pipeline on the wall clock while the
//     flood runs: frames/s is what it processed while the sender sent at
//     sent/s (one goroutine, raw socket), drops/op what the kernel dropped.
func BenchmarkLive(b *testing.B) {
	const n = 200_000
	topo, err := topology.Load("testdata/live.yaml")
	if err != nil {
		b.Fatal(err)
	}
	var frames [][]byte
	for i := range 1024 {
		frames = append(frames, e2e.Frame(b, e2e.Packet{SrcMAC: liveMACs[1], DstMAC: liveMACs[0], Src: liveIPs[1], Dst: liveIPs[0],
			Proto: "udp", SrcPort: uint16(20000 + i), DstPort: 5000, Payload: 18}))
	}
	config := func(b *testing.B, in ...Input) Config {
		cfg := DefaultConfig()
		cfg.Topology, cfg.FlowLogs, cfg.Inputs = topo, []*flowlog.FlowLog{liveFlowLog(&testing.T{}, 60)}, in
		return cfg
	}
	var pcapRate float64
	b.Run("pcap", func(b *testing.B) {
		path := filepath.Join(b.TempDir(), "flood.pcap")
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		w, err := capture.NewWriter(f, packet.LinkEthernet)
		if err != nil {
			b.Fatal(err)
		}
		base := time.Now().Unix() / 600 * 600 * 1e9
		for k := range n {
			if err := w.WritePacket(base+int64(k)*1000, frames[k%len(frames)], len(frames[k%len(frames)])); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
		f.Close()
		var total time.Duration
		for range b.N {
			// Timed as the live runs are: until the producer has taken
			// every frame (Snapshot), from Start.
			p, err := New(config(b, FileInput(path, 0, false)), Dependencies{Destination: func(*flowlog.FlowLog) flowlog.Destination { return nullDest{} }})
			if err != nil {
				b.Fatal(err)
			}
			start := time.Now()
			if err := p.Start(context.Background()); err != nil {
				b.Fatal(err)
			}
			_, last := untilQuiet(p, nil)
			total += last.Sub(start)
			if sum, err := p.Wait(); err != nil || sum.Packets != n {
				b.Fatalf("%v, %+v", err, sum)
			}
		}
		pcapRate = float64(n*b.N) / total.Seconds()
		b.ReportMetric(pcapRate, "frames/s")
	})
	for _, mode := range []string{"copy", "inplace", "copy-2readers"} {
		lcfg := live.DefaultConfiguration()
		lcfg.Blocks = 64 // 64 MiB: the whole flood fits
		lcfg.InPlace = mode == "inplace"
		if mode == "copy-2readers" {
			lcfg.Readers = 2 // a PACKET_FANOUT group of two sockets
		}
		b.Run("drain/"+mode, func(b *testing.B) {
			pair := netnstest.NewPair(b, liveMACs, liveIPs, 24)
			pair.ListenUDP(b, 0, 5000)
			lcfg.Interface = pair.End[0].Veth
			var frames64, drops uint64
			var total time.Duration
			for range b.N {
				clk := clock.NewFake(time.Now().Add(-2 * time.Second))
				p, err := New(config(b, LiveInput(lcfg, "")), Dependencies{Clock: clk, Destination: func(*flowlog.FlowLog) flowlog.Destination { return nullDest{} }})
				if err != nil {
					b.Fatal(err)
				}
				if err := pair.Do(0, func() error { return p.Start(context.Background()) }); err != nil {
					b.Fatal(err)
				}
				pair.Flood(b, 1, frames, n)
				time.Sleep(2 * lcfg.BlockTimeout) // every block handed over
				start := time.Now()
				clk.Advance(time.Minute)
				got, last := untilQuiet(p, nil)
				total += last.Sub(start)
				sum, err := p.Stop()
				if err != nil {
					b.Fatal(err)
				}
				frames64 += got
				drops += sum.Capture[0].KernelDrops
			}
			rate := float64(frames64) / total.Seconds()
			b.ReportMetric(rate, "frames/s")
			b.ReportMetric(float64(drops)/float64(b.N), "drops/op")
			if pcapRate > 0 {
				b.ReportMetric(rate/pcapRate, "x-pcap")
			}
		})
		b.Run("flood/"+mode, func(b *testing.B) {
			pair := netnstest.NewPair(b, liveMACs, liveIPs, 24)
			pair.ListenUDP(b, 0, 5000)
			lcfg.Interface = pair.End[0].Veth
			var processed, drops uint64
			var busy, sending time.Duration
			for range b.N {
				p, err := New(config(b, LiveInput(lcfg, "")), Dependencies{Destination: func(*flowlog.FlowLog) flowlog.Destination { return nullDest{} }})
				if err != nil {
					b.Fatal(err)
				}
				if err := pair.Do(0, func() error { return p.Start(context.Background()) }); err != nil {
					b.Fatal(err)
				}
				start := time.Now()
				done := make(chan time.Duration, 1)
				go func() { done <- pair.Flood(b, 1, frames, n) }()
				seen, last := untilQuiet(p, done)
				sent := <-done
				sum, err := p.Stop()
				if err != nil {
					b.Fatal(err)
				}
				processed += seen
				busy += last.Sub(start)
				sending += sent
				drops += sum.Capture[0].KernelDrops
			}
			b.ReportMetric(float64(processed)/busy.Seconds(), "frames/s")
			b.ReportMetric(float64(n*b.N)/sending.Seconds(), "sent/s")
			b.ReportMetric(float64(drops)/float64(b.N), "drops/op")
		})
	}
}

// untilQuiet polls the pipeline's frame count until it has not moved for
// 300 ms (and done, when given, has a value, which it leaves there), and
// returns the count and when it last moved.
func untilQuiet(p *Pipeline, done chan time.Duration) (uint64, time.Time) {
	last := time.Now()
	var seen uint64
	finished := done == nil
	for !finished || time.Since(last) < 300*time.Millisecond {
		if !finished && len(done) > 0 {
			finished = true
		}
		if got := p.Snapshot().Packets; got != seen {
			seen, last = got, time.Now()
		}
		time.Sleep(100 * time.Microsecond)
	}
	return seen, last
}
