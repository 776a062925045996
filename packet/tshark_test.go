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

func decoderTallyWith(t *testing.T, path string, d packet.Decoder) (map[tuple]tally, packet.Counters) {
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
		reason := d.Decode(f.LinkType, f.Data, &p)
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
			agree(t, path, tsharktest.Options{}, packet.Decoder{})
		})
	}
	// A real VXLAN capture (ICMP and ARP between two tunnel endpoints),
	// with VXLAN opened: the IP layer after tshark's "vxlan".
	t.Run("vxlan.pcap decap vxlan", func(t *testing.T) {
		agree(t, "../testdata/pcaps/tcpdump/vxlan.pcap", tsharktest.Options{After: "vxlan"}, packet.Decoder{Decap: packet.DecapVXLAN})
	})
}

// agree compares, per 5-tuple, the packets and IP bytes the decoder finds in
// a capture with those tshark finds.
func agree(t *testing.T, path string, o tsharktest.Options, d packet.Decoder) {
	t.Helper()
	want, err := tsharktest.CountWith(path, o)
	if err != nil {
		t.Fatal(err)
	}
	got, counters := decoderTallyWith(t, path, d)
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

// pwLabel is the bottom label of the pseudowire frames of the encapsulation
// tables. An MPLS payload carries no type, and tshark guesses a
// pseudowire's control word from the vendor part of the MAC addresses after
// the stack; naming the label's payload ("Decode As") makes it decode the
// control word and the frame after it, as the decoder does for a payload
// whose first nibble is 0.
var pwArgs = []string{"-d", "mpls.label==101,pwethcw"}

// TestEncapAgreesWithTshark: every frame of the encapsulation tables
// (PPPoE, MPLS, pseudowires, PPP links, VXLAN; good and bad), one capture
// per link type, is decoded by tshark and the decoder, which must find the
// same IP layer (5-tuple and IP length) or none: the outer packet as it is,
// then with VXLAN opened against the IP layer tshark finds after "vxlan".
func TestEncapAgreesWithTshark(t *testing.T) {
	if !tsharktest.Available() {
		t.Skip("tshark not installed (apt-get install tshark)")
	}
	// Frames where tshark differs on purpose when VXLAN is opened.
	differ := map[string]string{
		"vxlan without the I flag": "tshark opens VXLAN without the valid-VNI flag, which Linux drops",
	}
	byLink := map[packet.LinkType][]packet.EncapFrame{}
	for _, f := range packet.EncapFrames() {
		byLink[f.LT] = append(byLink[f.LT], f)
	}
	dir := t.TempDir()
	n := 0
	for lt, frames := range byLink {
		var data [][]byte
		for _, f := range frames {
			data = append(data, f.Data)
		}
		path := writeFrames(t, filepath.Join(dir, lt.String()+".pcap"), lt, data)
		for _, decap := range []bool{false, true} {
			o, d := tsharktest.Options{Args: pwArgs}, packet.Decoder{}
			if decap {
				o.After, d.Decap = "vxlan", packet.DecapVXLAN
			}
			want, err := tsharktest.Frames(path, o)
			if err != nil {
				t.Fatal(err)
			}
			if len(want) != len(frames) {
				t.Fatalf("%v: tshark read %d frames of %d", lt, len(want), len(frames))
			}
			for i, f := range frames {
				if why, ok := differ[f.Name]; ok && decap {
					t.Logf("%s: not compared: %s", f.Name, why)
					continue
				}
				var p packet.Packet
				r := d.Decode(lt, f.Data, &p)
				var got tsharktest.Frame
				if r.HasIP() {
					got = tsharktest.Frame{Tuple: tuple{Src: p.Src, Dst: p.Dst, Proto: p.Proto}, Bytes: uint64(p.IPLen), IP: true}
					if p.HasPorts {
						got.SrcPort, got.DstPort = p.SrcPort, p.DstPort
					}
				}
				if got != want[i] {
					t.Errorf("%s (decap %v): decoder %v %+v, tshark %+v", f.Name, decap, r, got, want[i])
				}
				n++
			}
		}
	}
	t.Logf("%d frames compared", n)
}

func writeFrames(t *testing.T, path string, lt packet.LinkType, frames [][]byte) string {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, _ := capture.NewWriter(f, lt)
	for i, fr := range frames {
		w.WritePacket(int64(1_700_000_000+i)*1e9, fr, len(fr))
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return path
}
