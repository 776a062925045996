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
	const want = "96a6bcb7ac3b481df3e91e688b22036a7ca2df72971851336e51c613661c6770"
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
	c := newFrameCheck(t, []Endpoint{DefaultEndpoint})
	for {
		f, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		c.frame(f)
	}
	n := c.n
	if n != N || st.Packets != N || c.ipBytes != st.IPBytes || st.Flows != F {
		t.Fatalf("%d packets (%d reported), %d bytes (%d reported), %d flows", n, st.Packets, c.ipBytes, st.IPBytes, st.Flows)
	}
	if st.TCP+st.UDP+st.ICMP != F {
		t.Fatalf("kinds %d+%d+%d != %d", st.TCP, st.UDP, st.ICMP, F)
	}
	if span := time.Duration(c.last - c.first); span < 4*time.Minute {
		t.Fatalf("capture spans only %v", span)
	}
	if st.First.UnixNano() != c.first || st.Last.UnixNano() != c.last {
		t.Fatalf("reported span %v to %v, read %v to %v", st.First, st.Last, time.Unix(0, c.first), time.Unix(0, c.last))
	}
	for _, proto := range []uint8{packet.ProtoTCP, packet.ProtoUDP, packet.ProtoICMP, packet.ProtoICMPv6} {
		if c.protos[proto] == 0 {
			t.Fatalf("no protocol %d packets", proto)
		}
	}
	if c.v6 == 0 || st.IPv6 == 0 {
		t.Fatal("no IPv6")
	}
	if st.Fragmented == 0 || c.reassembled < c.fragments/3 {
		t.Fatalf("%d fragmented conversations, %d fragments, %d datagrams reassembled", st.Fragmented, c.fragments, c.reassembled)
	}
	// Skew: the largest unidirectional flow carries far more than the mean.
	if largest, mean := c.largestFlow(), N/len(c.perFlow); largest < 50*mean {
		t.Fatalf("largest flow %d packets, mean %d: not skewed", largest, mean)
	}
	if st.MaxFlows >= F {
		t.Fatalf("all %d conversations open at once", st.MaxFlows)
	}
	if st.Open != 0 {
		t.Fatalf("%d conversations open at the end", st.Open)
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
