package sim

import (
	"bytes"
	"crypto/sha256"
	"io"
	"net/netip"
	"testing"
	"time"

	"github.com/vpcflow/vpcflow/capture"
	"github.com/vpcflow/vpcflow/packet"
)

func generate(t testing.TB, cfg Config) ([]byte, Stats) {
	t.Helper()
	var b bytes.Buffer
	w, err := capture.NewWriter(&b, packet.LinkEthernet)
	if err != nil {
		t.Fatal(err)
	}
	st, err := Generate(cfg, w, nil)
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), st
}

func TestDeterministic(t *testing.T) {
	cfg := Config{Packets: 20000, Flows: 1000, Seed: 7}
	a, _ := generate(t, cfg)
	b, _ := generate(t, cfg)
	if !bytes.Equal(a, b) {
		t.Fatal("same seed, different bytes")
	}
	cfg.Seed = 8
	c, _ := generate(t, cfg)
	if bytes.Equal(a, c) {
		t.Fatal("different seeds, same bytes")
	}
}

// TestGoldenDigest pins the output of one configuration, so a change to the
// generator that changes its files is a deliberate one (update the digest
// and say so: documentation and benchmarks quote these files).
func TestGoldenDigest(t *testing.T) {
	data, _ := generate(t, Config{Packets: 5000, Flows: 200, Seed: 1})
	got := sha256.Sum256(data)
	const want = "25ba6dd2afe8724df04f135db205f56f02781d0447a880ace271fed89dcdc160"
	if h := hexString(got[:]); h != want {
		t.Fatalf("digest %s, want %s", h, want)
	}
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

// checksum is RFC 1071 written independently of the generator's.
func checksum(parts ...[]byte) uint16 {
	var s uint64
	for _, p := range parts {
		for i := 0; i < len(p); i += 2 {
			w := uint64(p[i]) << 8
			if i+1 < len(p) {
				w |= uint64(p[i+1])
			}
			s += w
		}
	}
	for s > 0xffff {
		s = s&0xffff + s>>16
	}
	return uint16(s)
}

type fragKey struct {
	src, dst netip.Addr
	id       uint32
}

type fragParts struct {
	first, rest []byte
	offset      int
}

type flowKey struct {
	src, dst     netip.Addr
	proto        uint8
	sport, dport uint16
}

// TestCaptureContent decodes a generated capture and checks what the
// generator promises: exactly N packets, all valid IP with good checksums,
// time-ordered, spanning several 60 s windows, every TCP conversation opened
// by a SYN, both families, all kinds, a skewed distribution.
func TestCaptureContent(t *testing.T) {
	const N, F = 50000, 2000
	data, st := generate(t, Config{Packets: N, Flows: F, Seed: 3})
	r, err := capture.NewReader(bytes.NewReader(data), "sim")
	if err != nil {
		t.Fatal(err)
	}
	var (
		p        packet.Packet
		n        int64
		ipBytes  int64
		last     int64
		first    int64 = -1
		perFlow        = map[flowKey]int{}
		firstTCP       = map[flowKey]uint8{}
		protos         = map[uint8]int{}
		v6       int
		// fragmented datagrams, by source, destination and identification
		datagrams   = map[fragKey]fragParts{}
		fragments   int
		reassembled int
	)
	for {
		f, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if reason := packet.Decode(f.LinkType, f.Data, &p); reason != packet.OK {
			t.Fatalf("packet %d: %v", n, reason)
		}
		if f.TimestampNanos < last {
			t.Fatalf("packet %d goes back in time", n)
		}
		if first < 0 {
			first = f.TimestampNanos
		}
		last = f.TimestampNanos
		n++
		ipBytes += int64(p.IPLen)
		if int(p.IPLen)+14 != len(f.Data) {
			t.Fatalf("packet %d: IP length %d in a %d-byte frame", n, p.IPLen, len(f.Data))
		}
		if p.SrcMAC != DefaultEndpoint.MAC && p.DstMAC != DefaultEndpoint.MAC {
			t.Fatalf("packet %d: neither MAC is the endpoint's", n)
		}
		ip := f.Data[14:]
		l4 := ip[20:]
		var pseudo []byte
		if p.IPVersion == 4 {
			if checksum(ip[:20]) != 0xffff {
				t.Fatalf("packet %d: bad IPv4 header checksum", n)
			}
			pseudo = append(append([]byte{}, ip[12:20]...), 0, p.Proto, byte(len(l4)>>8), byte(len(l4)))
		} else {
			v6++
			l4 = ip[40:]
			pseudo = append(append([]byte{}, ip[8:40]...), 0, 0, byte(len(l4)>>8), byte(len(l4)), 0, 0, 0, p.Proto)
		}
		if p.Proto == packet.ProtoICMP {
			pseudo = nil
		}
		if p.Fragment {
			// checked once both fragments of the datagram are in
			fragments++
			if p.IPVersion == 6 {
				l4 = l4[8:] // the Fragment header
			}
			k := fragKey{p.Src, p.Dst, p.FragID}
			d := datagrams[k]
			if p.FragOffset == 0 {
				d.first = append([]byte(nil), l4...)
			} else {
				d.rest = append([]byte(nil), l4...)
				d.offset = int(p.FragOffset)
			}
			datagrams[k] = d
			if d.first != nil && d.rest != nil {
				if len(d.first) != d.offset {
					t.Fatalf("packet %d: first fragment of %d bytes, second at offset %d", n, len(d.first), d.offset)
				}
				whole := append(append([]byte(nil), d.first...), d.rest...)
				if int(whole[4])<<8|int(whole[5]) != len(whole) {
					t.Fatalf("packet %d: UDP length %d, reassembled %d", n, int(whole[4])<<8|int(whole[5]), len(whole))
				}
				l := len(whole)
				if p.IPVersion == 4 {
					pseudo = append(append([]byte{}, ip[12:20]...), 0, packet.ProtoUDP, byte(l>>8), byte(l))
				} else {
					pseudo = append(append([]byte{}, ip[8:40]...), 0, 0, byte(l>>8), byte(l), 0, 0, 0, packet.ProtoUDP)
				}
				if checksum(pseudo, whole) != 0xffff {
					t.Fatalf("packet %d: bad checksum of a reassembled datagram", n)
				}
				reassembled++
			}
		} else if checksum(pseudo, l4) != 0xffff {
			t.Fatalf("packet %d: bad %d checksum", n, p.Proto)
		}
		k := flowKey{p.Src, p.Dst, p.Proto, p.SrcPort, p.DstPort}
		perFlow[k]++
		protos[p.Proto]++
		if p.Proto == packet.ProtoTCP {
			// the first packet seen of a connection is the client's SYN
			ck := k
			if p.TCPFlags&packet.TCPSyn != 0 && p.TCPFlags&packet.TCPAck == 0 {
				if _, seen := firstTCP[ck]; !seen {
					firstTCP[ck] = p.TCPFlags
				}
			} else if _, seen := firstTCP[ck]; !seen {
				rev := flowKey{p.Dst, p.Src, p.Proto, p.DstPort, p.SrcPort}
				if _, seen := firstTCP[rev]; !seen {
					t.Fatalf("packet %d: TCP %+v before its SYN", n, k)
				}
				firstTCP[ck] = p.TCPFlags
			}
		}
	}
	if n != N || st.Packets != N || ipBytes != st.IPBytes || st.Flows != F {
		t.Fatalf("%d packets (%d reported), %d bytes (%d reported), %d flows", n, st.Packets, ipBytes, st.IPBytes, st.Flows)
	}
	if st.TCP+st.UDP+st.ICMP != F {
		t.Fatalf("kinds %d+%d+%d != %d", st.TCP, st.UDP, st.ICMP, F)
	}
	if span := time.Duration(last - first); span < 4*time.Minute {
		t.Fatalf("capture spans only %v", span)
	}
	for _, proto := range []uint8{packet.ProtoTCP, packet.ProtoUDP, packet.ProtoICMP, packet.ProtoICMPv6} {
		if protos[proto] == 0 {
			t.Fatalf("no protocol %d packets", proto)
		}
	}
	if v6 == 0 || st.IPv6 == 0 {
		t.Fatal("no IPv6")
	}
	if st.Fragmented == 0 || reassembled < fragments/3 {
		t.Fatalf("%d fragmented conversations, %d fragments, %d datagrams reassembled", st.Fragmented, fragments, reassembled)
	}
	// Skew: the largest unidirectional flow carries far more than the mean.
	largest := 0
	for _, c := range perFlow {
		largest = max(largest, c)
	}
	if mean := N / len(perFlow); largest < 50*mean {
		t.Fatalf("largest flow %d packets, mean %d: not skewed", largest, mean)
	}
	if st.MaxFlows >= F {
		t.Fatalf("all %d conversations open at once", st.MaxFlows)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []Config{
		{Packets: 10, Flows: 0},
		{Packets: 5, Flows: 10},
		{Packets: 10, Flows: 1, Duration: -1},
		{Packets: 10, Flows: 1, Endpoints: []Endpoint{{IPv4: netip.MustParseAddr("::1")}}},
	} {
		if _, err := Generate(cfg, nil, nil); err == nil {
			t.Fatalf("%+v accepted", cfg)
		}
	}
}

// TestTCPScript checks the packet scripts of short connections by hand.
func TestTCPScript(t *testing.T) {
	flagsOf := func(n uint32, rstEnd bool) []uint8 {
		c := &conv{n: n, rst: rstEnd}
		var out []uint8
		for c.idx = 0; c.idx < n; c.idx++ {
			s := tcpStep(c, 1448)
			f := s.flags
			if !s.fromClient {
				f |= 0x80 // mark server packets for the comparison
			}
			out = append(out, f)
		}
		return out
	}
	const S = 0x80
	cases := []struct {
		n    uint32
		rst  bool
		want []uint8
	}{
		{1, false, []uint8{syn}},
		{2, false, []uint8{syn, S | rst | ack}},
		{3, false, []uint8{syn, S | syn | ack, ack}},
		{4, true, []uint8{syn, S | syn | ack, ack, rst | ack}},
		{8, false, []uint8{syn, S | syn | ack, ack, psh | ack, fin | ack, S | ack, S | fin | ack, ack}},
		{9, false, []uint8{syn, S | syn | ack, ack, psh | ack, S | psh | ack, fin | ack, S | ack, S | fin | ack, ack}},
	}
	for _, c := range cases {
		got := flagsOf(c.n, c.rst)
		if !bytes.Equal(got, c.want) {
			t.Errorf("n=%d rst=%v: % x, want % x", c.n, c.rst, got, c.want)
		}
	}
}

func BenchmarkGenerate(b *testing.B) {
	for b.Loop() {
		w, _ := capture.NewWriter(io.Discard, packet.LinkEthernet)
		if _, err := Generate(Config{Packets: 200000, Flows: 10000, Seed: 1}, w, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(200000*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mpkt/s")
}
