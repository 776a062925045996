package packet_test

import (
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/vpcflow/vpcflow/capture"
	"github.com/vpcflow/vpcflow/internal/tsharktest"
	"github.com/vpcflow/vpcflow/packet"
	"github.com/vpcflow/vpcflow/sim"
)

// The agreement test compares Decode with tshark, an independent dissector:
// per outer 5-tuple, the number of packets and the sum of IP lengths must be
// equal (fragments left alone, outer headers only). Ports count
// for TCP, UDP and SCTP; a later fragment has none.

type tuple = tsharktest.Tuple

type tally = tsharktest.Tally

func tsharkTally(t *testing.T, path string) map[tuple]tally {
	t.Helper()
	res, err := tsharktest.Count(path)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func decoderTally(t *testing.T, path string) (map[tuple]tally, packet.Counters) {
	t.Helper()
	r, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	res := map[tuple]tally{}
	var c packet.Counters
	var p packet.Packet
	for {
		f, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		reason := packet.Decode(f.LinkType, f.Data, &p)
		c.Add(reason)
		if !reason.HasIP() {
			continue
		}
		k := tuple{Src: p.Src, Dst: p.Dst, Proto: p.Proto}
		if p.HasPorts {
			k.SrcPort, k.DstPort = p.SrcPort, p.DstPort
		}
		tl := res[k]
		tl.Packets++
		tl.Bytes += uint64(p.IPLen)
		res[k] = tl
	}
	return res, c
}

// agreementCaptures are every committed public capture (testdata/pcaps/README.md
// says what each exercises), the big-endian pcapng duplicates left out, and
// test901 too: its pcapng version 2.0 section is rejected by tshark and us.
func agreementCaptures(t *testing.T) []string {
	tcpdump, _ := filepath.Glob("../testdata/pcaps/tcpdump/*.pcap*")
	suite, _ := filepath.Glob("../testdata/pcaps/pcapng-suite/le/*.pcapng")
	var out []string
	for _, p := range append(tcpdump, suite...) {
		if !strings.Contains(p, "test901") {
			out = append(out, p)
		}
	}
	if len(out) < 50 {
		t.Fatalf("only %d public captures", len(out))
	}
	return out
}

func TestAgreesWithTshark(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed (apt-get install tshark)")
	}
	paths := agreementCaptures(t)
	// Our own captures cover what the public ones lack: SLL2, IPv6
	// fragments, and the synthetic traffic mix.
	paths = append(paths, writeHandBuilt(t)...)
	simPath := filepath.Join(t.TempDir(), "sim.pcap")
	writeSim(t, simPath)
	paths = append(paths, simPath)

	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			want := tsharkTally(t, path)
			got, counters := decoderTally(t, path)
			var diffs []string
			for k, w := range want {
				if g := got[k]; g != w {
					diffs = append(diffs, fmt.Sprintf("%v: decoder %d packets %d bytes, tshark %d packets %d bytes", k, g.Packets, g.Bytes, w.Packets, w.Bytes))
				}
			}
			for k, g := range got {
				if _, ok := want[k]; !ok {
					diffs = append(diffs, fmt.Sprintf("%v: decoder %d packets %d bytes, tshark none", k, g.Packets, g.Bytes))
				}
			}
			sort.Strings(diffs)
			if len(diffs) > 0 {
				t.Errorf("%d tuples differ (%s):\n%s", len(diffs), counters.String(), strings.Join(diffs[:min(len(diffs), 20)], "\n"))
			}
			t.Logf("%d tuples agree (%s)", len(want), counters.String())
		})
	}
}

// writeHandBuilt writes frames as our link types frame them, one capture per
// link type, for tshark to dissect.
func writeHandBuilt(t *testing.T) []string {
	dir := t.TempDir()
	v6frag := func(off uint16, more bool) []byte {
		f := hexBytes("60 00 00 00 00 18 2c 40" + strings.Repeat("20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01 ", 1) +
			"20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 02" + "11 00 00 00 de ad be ef" +
			"13 88 13 89 05 c8 00 00 00 00 00 00 00 00 00 00")
		fo := off &^ 7
		if more {
			fo |= 1
		}
		f[42], f[43] = byte(fo>>8), byte(fo)
		return f
	}
	v4 := hexBytes("45 00 00 1c 00 01 00 00 40 11 00 00 0a 00 01 0a c6 33 64 07 00 35 d4 31 00 08 00 00")
	sets := map[packet.LinkType][][]byte{
		packet.LinkLinuxSLL2: {
			append(hexBytes("08 00 00 00 00 00 00 02 00 01 04 06 02 00 00 00 00 01 00 00"), v4...),
			append(hexBytes("86 dd 00 00 00 00 00 02 00 01 00 06 02 00 00 00 00 01 00 00"), v6frag(0, true)...),
			hexBytes("08 06 00 00 00 00 00 02 00 01 00 06 02 00 00 00 00 01 00 00 00 01 08 00 06 04 00 01"),
		},
		packet.LinkIPv6: {v6frag(0, true), v6frag(1448, true), v6frag(2896, false)},
		packet.LinkLoop: {append(hexBytes("00 00 00 02"), v4...)},
		packet.LinkEthernet: {
			append(hexBytes("02 00 00 00 00 02 02 00 00 00 00 01 88 a8 00 64 81 00 00 c8 08 00"), v4...),
			append(hexBytes("02 00 00 00 00 02 02 00 00 00 00 01 81 00 00 64 86 dd"), v6frag(0, false)...),
		},
	}
	var paths []string
	for lt, frames := range sets {
		path := filepath.Join(dir, lt.String()+".pcap")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		w, _ := capture.NewWriter(f, lt)
		for i, fr := range frames {
			w.WritePacket(int64(1_700_000_000+i)*1e9, fr, len(fr))
		}
		w.Flush()
		f.Close()
		paths = append(paths, path)
	}
	sort.Strings(paths)
	return paths
}

func writeSim(t *testing.T, path string) {
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, _ := capture.NewWriter(f, packet.LinkEthernet)
	if _, err := sim.Generate(sim.Config{Packets: 20000, Flows: 1000, Seed: 11}, w, nil); err != nil {
		t.Fatal(err)
	}
}

func hexBytes(s string) []byte {
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		panic(err)
	}
	return b
}
