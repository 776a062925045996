//go:build linux

package live

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gopacket/gopacket/afpacket"

	"github.com/vpcflow/vpcflow/capture"
	"github.com/vpcflow/vpcflow/internal/e2e"
	"github.com/vpcflow/vpcflow/internal/netnstest"
	"github.com/vpcflow/vpcflow/packet"
)

// floodFrames are 60-byte UDP frames from side 1 to side 0 of the pair,
// over 1024 source ports.
func floodFrames(t testing.TB) [][]byte {
	var out [][]byte
	for i := range 1024 {
		out = append(out, e2e.Frame(t, e2e.Packet{SrcMAC: macs[1], DstMAC: macs[0], Src: ips[1], Dst: ips[0],
			Proto: "udp", SrcPort: uint16(20000 + i), DstPort: 5000, Payload: 18}))
	}
	return out
}

// BenchmarkHandoff measures how fast frames leave a ring that a flood
// filled while nobody read (so the sender's speed does not count), each
// frame decoded: "copy" is the Source (reader goroutines copy frames into
// batches, the consumer takes them with Next), "inplace" the consumer
// reading the ring itself (afpacket's zero-copy read, no goroutine, no
// copy). Reported: frames/s of the drain, and the frames the kernel
// dropped during the flood (the ring holds 64 MiB: none expected).
func BenchmarkHandoff(b *testing.B) {
	const n = 200_000
	frames := floodFrames(b)
	cfg := DefaultConfiguration()
	cfg.Blocks = 64
	for _, mode := range []string{"copy", "inplace"} {
		b.Run(mode, func(b *testing.B) {
			p := netnstest.NewPair(b, macs, ips, 24)
			p.ListenUDP(b, 0, 5000)
			cfg.Interface = p.End[0].Veth
			var read, drops uint64
			var busy time.Duration
			for range b.N {
				var got uint64
				var d time.Duration
				var dr uint64
				if mode == "copy" {
					got, dr, d = drainCopy(b, p, cfg, frames, n)
				} else {
					got, dr, d = drainInPlace(b, p, cfg, frames, n)
				}
				read, drops, busy = read+got, drops+dr, busy+d
			}
			b.ReportMetric(float64(read)/busy.Seconds(), "frames/s")
			b.ReportMetric(float64(drops)/float64(b.N), "drops/op")
			b.ReportMetric(float64(read)/float64(b.N), "frames/op")
		})
	}
}

func drainCopy(b *testing.B, p *netnstest.Pair, cfg Configuration, frames [][]byte, n int) (uint64, uint64, time.Duration) {
	var s *Source
	if err := p.Do(0, func() (err error) { s, err = New(cfg, Dependencies{}); return err }); err != nil {
		b.Fatal(err)
	}
	defer s.Stop()
	p.Flood(b, 1, frames, n)
	time.Sleep(2 * cfg.BlockTimeout) // every block handed over
	want := s.Stats().KernelPackets - s.Stats().KernelDrops
	var pkt packet.Packet
	start := time.Now()
	if err := s.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	var got uint64
	for got < want {
		f, err := s.Next()
		if errors.Is(err, capture.ErrNotReady) {
			continue
		}
		if err != nil {
			b.Fatal(err)
		}
		packet.Decode(f.LinkType, f.Data, &pkt)
		got++
	}
	d := time.Since(start)
	return got, s.Stats().KernelDrops, d
}

func drainInPlace(b *testing.B, p *netnstest.Pair, cfg Configuration, frames [][]byte, n int) (uint64, uint64, time.Duration) {
	var tp *afpacket.TPacket
	prog, _ := program(nil, cfg.SnapLen)
	err := p.Do(0, func() (err error) {
		tp, err = afpacket.NewTPacket(afpacket.OptInterface(cfg.Interface), afpacket.TPacketVersion3,
			afpacket.OptBlockSize(cfg.BlockSize), afpacket.OptNumBlocks(cfg.Blocks), afpacket.OptFrameSize(4096),
			afpacket.OptBlockTimeout(cfg.BlockTimeout), afpacket.OptPollTimeout(pollTimeout))
		if err == nil {
			err = tp.SetBPF(prog)
		}
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	defer tp.Close()
	p.Flood(b, 1, frames, n)
	time.Sleep(2 * cfg.BlockTimeout)
	_, st, _ := tp.SocketStats()
	want := uint64(st.Packets() - st.Drops())
	var pkt packet.Packet
	start := time.Now()
	var got uint64
	for got < want {
		data, _, err := tp.ZeroCopyReadPacketData()
		if errors.Is(err, afpacket.ErrTimeout) {
			continue
		}
		if err != nil {
			b.Fatal(err)
		}
		packet.Decode(packet.LinkEthernet, data, &pkt)
		got++
	}
	d := time.Since(start)
	_, st, _ = tp.SocketStats()
	return got, uint64(st.Drops()), d
}
