package detect

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/vpcflow/vpcflow/record"
)

// FuzzEngine feeds records of arbitrary values (as a hand-built Flow may
// hold: ports and protocols out of range, times backwards, absent fields)
// to an Engine with small bounds, then judges and collects evidence: no
// panic, and every record is accounted for in Stats.
func FuzzEngine(f *testing.F) {
	f.Add([]byte("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x20"))
	f.Add(make([]byte, 64))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg := DefaultConfiguration()
		cfg.Limits = Limits{Interfaces: 3, PairsPerWindow: 8, PortsPerPair: 4, OwnAddresses: 1, LearnedPorts: 2,
			Findings: 4, ProbeDetails: 2, Windows: 2}
		cfg.Portscan.MinTargets, cfg.Sweep.MinTargets, cfg.MassScan.MinTargets, cfg.BruteForce.MinAttempts = 2, 2, 2, 2
		cfg.Volume.Learn, cfg.RejectStorm.Learn, cfg.PortUnusual.Learn = 0, 0, 0
		cfg.Volume.Min, cfg.RejectStorm.Min = 1, 1
		e, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		var flows []Flow
		for len(data) >= 16 {
			b := data[:16]
			data = data[16:]
			u := func(i int) int64 { return int64(int16(binary.LittleEndian.Uint16(b[i:]))) }
			fl := Flow{
				Interface: []string{"", "eni-a", "eni-b", "eni-c", "eni-d"}[b[0]%5],
				Src:       netip.AddrFrom4([4]byte{b[1] % 4, 0, 0, b[2] % 4}),
				Dst:       netip.AddrFrom4([4]byte{10, 0, 0, b[3] % 4}),
				SrcPort:   int32(u(4)) * 3, DstPort: int32(u(6)) * 3, Protocol: int16(b[8]) - 8,
				Packets: u(9), Bytes: u(10) * 1000, Start: u(12) * 30, End: u(14) * 30,
				Action: record.ActionValue(b[11] % 3), Direction: record.Direction(b[13] % 3), Status: record.Status(b[15] % 4),
				Have: Fields(b[1]) << 8 >> 5,
			}
			if b[1]&0x80 != 0 {
				fl.Src = netip.AddrFrom16([16]byte{0x20, 1, 0xd, 0xb8, 15: b[2]})
			}
			flows = append(flows, fl)
			e.Observe(&fl)
		}
		e.Flush()
		st := e.Stats()
		if st.Records != uint64(len(flows)) || st.Judged+st.Status+st.Incomplete+st.Late+st.InterfacesDropped != st.Records {
			t.Fatalf("stats %+v for %d records", st, len(flows))
		}
		c := e.Collector(2)
		for i := range flows {
			if c.Match(&flows[i]) {
				c.Add(flows[i].Start, Evidence{Source: "f", Line: int64(i + 1), Record: "r"})
			}
		}
		c.Finish()
		if len(e.Findings()) > cfg.Limits.Findings {
			t.Fatalf("%d findings", len(e.Findings()))
		}
	})
}
