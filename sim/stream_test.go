package sim

import (
	"bytes"
	"io"
	"math"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/vpcflow/vpcflow/capture"
	"github.com/vpcflow/vpcflow/packet"
)

func newTestStream(t testing.TB, cfg StreamConfig) *Stream {
	t.Helper()
	s, err := NewStream(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustNext(t testing.TB, s *Stream) capture.Frame {
	t.Helper()
	f, err := s.Next()
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestStreamDeterministic(t *testing.T) {
	cfg := StreamConfig{Rate: 800, Seed: 7}
	a, b := newTestStream(t, cfg), newTestStream(t, cfg)
	other := cfg
	other.Seed = 8
	c := newTestStream(t, other)
	// Start only shifts the timestamps: nothing else depends on it.
	const shift = 36 * time.Hour
	later := cfg
	later.Start = DefaultStart.Add(shift)
	d := newTestStream(t, later)
	differ := false
	for i := range 50000 {
		fa, fb, fc, fd := mustNext(t, a), mustNext(t, b), mustNext(t, c), mustNext(t, d)
		if fa.TimestampNanos != fb.TimestampNanos || fa.WireLen != fb.WireLen || !bytes.Equal(fa.Data, fb.Data) {
			t.Fatalf("frame %d: same config, different frames", i)
		}
		if fd.TimestampNanos != fa.TimestampNanos+int64(shift) || !bytes.Equal(fa.Data, fd.Data) {
			t.Fatalf("frame %d: a later Start changes more than the timestamps", i)
		}
		if fc.TimestampNanos != fa.TimestampNanos || !bytes.Equal(fa.Data, fc.Data) {
			differ = true
		}
	}
	if !differ {
		t.Fatal("different seeds, same frames")
	}
}

// TestStreamFrames decodes 200 000 frames of the default configuration and
// checks each as TestCaptureContent does a Generate capture, then the mix.
func TestStreamFrames(t *testing.T) {
	const N, rate = 200000, 250
	s := newTestStream(t, StreamConfig{Rate: rate, Seed: 3})
	c := newFrameCheck(t, []Endpoint{DefaultEndpoint})
	// Every conversation under way at the start has shown its first packet
	// well before the 5-minute window and a minute have passed.
	c.synFrom = DefaultStart.Add(7 * time.Minute).UnixNano()
	var ntp, dns int
	for range N {
		c.frame(mustNext(t, s))
		p := &c.p
		switch {
		case p.Src == ntpV4 || p.Dst == ntpV4:
			ntp++
			if p.Proto != packet.ProtoUDP || p.SrcPort != 123 || p.DstPort != 123 {
				t.Fatalf("packet %d: time sync %v %d > %d", c.n, p.Proto, p.SrcPort, p.DstPort)
			}
		case p.Proto == packet.ProtoUDP && (p.SrcPort == 53 || p.DstPort == 53):
			dns++
			resolver := p.Dst
			if p.SrcPort == 53 {
				resolver = p.Src
			}
			if resolver != DefaultEndpoint.DNS && resolver != dnsV6 {
				t.Fatalf("packet %d: DNS with %v", c.n, resolver)
			}
		}
	}
	st := s.Stats()
	if st.Packets != N || st.IPBytes != c.ipBytes {
		t.Fatalf("%d packets of %d bytes reported, %d of %d read", st.Packets, st.IPBytes, c.n, c.ipBytes)
	}
	if st.First.UnixNano() != c.first || st.Last.UnixNano() != c.last {
		t.Fatalf("reported span %v to %v, read %v to %v", st.First, st.Last, time.Unix(0, c.first), time.Unix(0, c.last))
	}
	if c.first < DefaultStart.UnixNano() {
		t.Fatalf("first frame at %v, before the start", time.Unix(0, c.first))
	}
	// The mean rate says the frames span about N/rate = 800 s. Traffic is
	// heavy-tailed (a window's largest conversation carries a seventh of its
	// packets), so this is only a sanity check: the rate is tested below.
	if span := time.Duration(c.last - c.first); span < 400*time.Second || span > 1600*time.Second {
		t.Fatalf("%d frames at %v/s span %v", N, rate, span)
	}
	if c.last < c.synFrom {
		t.Fatal("no frames late enough to check that connections open with a SYN")
	}
	if c.midTCP == 0 {
		t.Fatal("no connection under way at the start")
	}
	if st.TCP+st.UDP+st.ICMP != st.Flows {
		t.Fatalf("kinds %d+%d+%d != %d", st.TCP, st.UDP, st.ICMP, st.Flows)
	}
	for _, proto := range []uint8{packet.ProtoTCP, packet.ProtoUDP, packet.ProtoICMP, packet.ProtoICMPv6} {
		if c.protos[proto] == 0 {
			t.Fatalf("no protocol %d packets", proto)
		}
	}
	if c.v6 == 0 || st.IPv6 == 0 || ntp == 0 || dns == 0 {
		t.Fatalf("%d IPv6 packets, %d time sync, %d DNS", c.v6, ntp, dns)
	}
	if st.Fragmented == 0 || c.reassembled < c.fragments/3 {
		t.Fatalf("%d fragmented conversations, %d fragments, %d datagrams reassembled", st.Fragmented, c.fragments, c.reassembled)
	}
	if largest, mean := c.largestFlow(), N/len(c.perFlow); largest < 50*mean {
		t.Fatalf("largest flow %d packets, mean %d: not skewed", largest, mean)
	}
	if st.Open == 0 || st.Open > st.MaxFlows || st.MaxFlows >= st.Flows/10 {
		t.Fatalf("%d conversations open, at most %d, of %d", st.Open, st.MaxFlows, st.Flows)
	}
}

// TestStreamLongRun runs an hour of stream time and checks the mean rate,
// the arrival rate and mix of conversations, and that the conversations
// open at once (all the stream's memory) do not grow.
func TestStreamLongRun(t *testing.T) {
	const (
		rate = 250.0
		mean = 20.0 // packets per conversation, the default
		span = time.Hour
	)
	// A 10-second window keeps conversations small (the largest of a window
	// has 540 packets instead of 11 500 with 5 minutes), so the count is
	// steady enough for a tight check. The frames of an hour are the sum over
	// 45 000 conversations of Zipf(1.1) sizes over 125 ranks: with
	// H = sum of 1/r^1.1 = 4.42 and sum of 1/r^2.2 = 1.49, the standard
	// deviation is sqrt(1.49×10 s/1 h)/H = 1.5% of the mean; 6% is 4σ.
	s := newTestStream(t, StreamConfig{Rate: rate, Seed: 11, Window: 10 * time.Second})
	start := DefaultStart.UnixNano()
	warmOpen := s.Stats().Open
	var (
		frames int64
		minute = int64(1)
		open   []int // each minute
		lastTS int64
	)
	for {
		f := mustNext(t, s)
		if f.TimestampNanos < lastTS {
			t.Fatalf("frame %d goes back in time", frames)
		}
		lastTS = f.TimestampNanos
		off := f.TimestampNanos - start
		if off >= int64(span) {
			break
		}
		frames++
		if off >= minute*int64(time.Minute) {
			open = append(open, s.Stats().Open)
			minute++
		}
	}
	want := rate * span.Seconds()
	if d := float64(frames)/want - 1; math.Abs(d) > 0.06 {
		t.Fatalf("%d frames in %v, want %.0f ± 6%%", frames, span, want)
	}

	// Conversations start as a Poisson process of rate/mean = 12.5 a
	// second: 45 000 ± 212 in an hour; 2% is 4σ.
	st := s.Stats()
	starts := float64(st.Flows - warmOpen)
	if wantStarts := rate / mean * span.Seconds(); math.Abs(starts/wantStarts-1) > 0.02 {
		t.Fatalf("%.0f conversations started, want %.0f", starts, wantStarts)
	}
	// Generate's mix, by hand: TCP 65%, DNS 15%, other UDP 6%, fragmented
	// UDP 2%, time sync 2%, ICMP 10%; IPv6 for a fifth of all but time sync.
	// With 45 000 conversations one point is over 4σ for each share.
	for _, k := range []struct {
		name string
		n    int
		want float64
	}{
		{"TCP", st.TCP, 0.65}, {"UDP", st.UDP, 0.25}, {"ICMP", st.ICMP, 0.10},
		{"fragmented", st.Fragmented, 0.02}, {"IPv6", st.IPv6, 0.98 / 5},
	} {
		if got := float64(k.n) / float64(st.Flows); math.Abs(got-k.want) > 0.01 {
			t.Errorf("%s: %.3f of the conversations, want %.3f", k.name, got, k.want)
		}
	}

	// Memory: the open conversations are a stationary count, so the last
	// quarter of the hour holds no more than the first does, give or take
	// chance, and the stream's own slices are bounded by the most at once
	// (append grows a slice of 64 pointers to 143).
	q := len(open) / 4
	peak := func(xs []int) int {
		m := 0
		for _, x := range xs {
			m = max(m, x)
		}
		return m
	}
	first, last := peak(open[:q]), peak(open[len(open)-q:])
	if first == 0 || last > 2*first {
		t.Fatalf("open conversations: at most %d in the first quarter hour, %d in the last", first, last)
	}
	if len(s.free) > st.MaxFlows || cap(s.active) > 3*st.MaxFlows+8 {
		t.Fatalf("%d conversations kept for reuse, room for %d open, at most %d open", len(s.free), cap(s.active), st.MaxFlows)
	}
	// The stream starts mid-traffic: as many conversations are open at the
	// start as later on (a Poisson count: within 5 standard deviations, and
	// not none, which has odds of 1e-5 with 11 on average).
	var sum int
	for _, x := range open {
		sum += x
	}
	avg := float64(sum) / float64(len(open))
	if warmOpen == 0 || math.Abs(float64(warmOpen)-avg) > 5*math.Sqrt(avg) {
		t.Fatalf("%d conversations open at the start, %.1f on average", warmOpen, avg)
	}
}

// TestStreamWarmStart checks that the rate holds from the start, instead of
// ramping up as the first conversations get going: over the first 10
// seconds of 20 streams, frames come at the configured rate.
func TestStreamWarmStart(t *testing.T) {
	const rate, seeds = 1000.0, 20
	// With a 10-second window (see TestStreamLongRun: 500 ranks, H = 5.21)
	// one stream's 10 seconds deviate by sqrt(1.49×10 s/10 s)/5.21 = 23% (standard
	// deviation), the mean of 20 streams by 5%; 20% is 4σ. Started empty,
	// these streams send 70% of the rate over those 10 s.
	var frames int64
	for seed := range uint64(seeds) {
		s := newTestStream(t, StreamConfig{Rate: rate, Seed: 100 + seed, Window: 10 * time.Second})
		end := DefaultStart.Add(10 * time.Second).UnixNano()
		for mustNext(t, s).TimestampNanos < end {
			frames++
		}
	}
	want := rate * 10 * seeds
	if d := float64(frames)/want - 1; math.Abs(d) > 0.2 {
		t.Fatalf("%d frames in the first 10 s of %d streams, want %.0f ± 20%%", frames, seeds, want)
	}
}

// TestStreamEndpoints runs traffic of three interfaces and checks that every
// frame is one of theirs, with their addresses.
func TestStreamEndpoints(t *testing.T) {
	eps := []Endpoint{
		{MAC: [6]byte{2, 0, 0, 0, 1, 1}, IPv4: netip.MustParseAddr("10.1.1.10"), IPv6: netip.MustParseAddr("2600:1f18::10"),
			VPC: netip.MustParsePrefix("10.1.0.0/16"), DNS: netip.MustParseAddr("10.1.0.2")},
		{MAC: [6]byte{2, 0, 0, 0, 1, 2}, IPv4: netip.MustParseAddr("10.1.2.20")}, // IPv4 only, default VPC and resolver
		{MAC: [6]byte{2, 0, 0, 0, 1, 3}, IPv4: netip.MustParseAddr("172.31.0.30"), IPv6: netip.MustParseAddr("2600:1f18::30"),
			VPC: netip.MustParsePrefix("172.31.0.0/20"), DNS: netip.MustParseAddr("172.31.0.2")},
	}
	given := append([]Endpoint(nil), eps...)
	s := newTestStream(t, StreamConfig{Rate: 500, Seed: 5, Endpoints: eps})
	if eps[1] != given[1] {
		t.Fatal("NewStream changed the caller's endpoints")
	}
	byMAC := map[[6]byte]Endpoint{}
	for _, e := range eps {
		byMAC[e.MAC] = e
	}
	c := newFrameCheck(t, eps)
	c.synFrom = DefaultStart.Add(7 * time.Minute).UnixNano()
	seen := map[[6]byte]int{}
	for range 100000 {
		c.frame(mustNext(t, s))
		p := &c.p
		for _, side := range []struct {
			mac [6]byte
			ip  netip.Addr
		}{{p.SrcMAC, p.Src}, {p.DstMAC, p.Dst}} {
			e, ok := byMAC[side.mac]
			if !ok {
				if side.mac != RouterMAC {
					t.Fatalf("packet %d: MAC %x is neither an endpoint's nor the router's", c.n, side.mac)
				}
				continue
			}
			seen[side.mac]++
			if side.ip != e.IPv4 && (!e.IPv6.IsValid() || side.ip != e.IPv6) {
				t.Fatalf("packet %d: %v behind the MAC of %v", c.n, side.ip, e.IPv4)
			}
		}
		if (p.Src == ntpV4 || p.Dst == ntpV4) && p.IPVersion != 4 {
			t.Fatalf("packet %d: time sync over IPv6", c.n)
		}
	}
	for _, e := range eps {
		if seen[e.MAC] == 0 {
			t.Errorf("no traffic for %v", e.IPv4)
		}
	}
	if c.eastWest == 0 {
		t.Error("no traffic between two endpoints")
	}
	if c.v6 == 0 {
		t.Error("no IPv6")
	}
}

// TestStreamSnapLen checks that a snap length cuts the frames and nothing
// else: the same seed gives the same frames, whole on the wire.
func TestStreamSnapLen(t *testing.T) {
	whole := newTestStream(t, StreamConfig{Rate: 300, Seed: 9})
	cut := newTestStream(t, StreamConfig{Rate: 300, Seed: 9, SnapLen: 128})
	long := 0
	for i := range 50000 {
		w, c := mustNext(t, whole), mustNext(t, cut)
		if c.TimestampNanos != w.TimestampNanos || c.WireLen != len(w.Data) || !bytes.Equal(c.Data, w.Data[:min(128, len(w.Data))]) {
			t.Fatalf("frame %d: %d of %d bytes, want the first %d of %d", i, len(c.Data), c.WireLen, min(128, len(w.Data)), len(w.Data))
		}
		if len(w.Data) > 128 {
			long++
		}
	}
	if long == 0 {
		t.Fatal("no frame longer than the snap length")
	}
}

func TestStreamClose(t *testing.T) {
	s := newTestStream(t, StreamConfig{Rate: 100, Seed: 1})
	for range 1000 {
		mustNext(t, s)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if f, err := s.Next(); err != io.EOF || f.Data != nil {
			t.Fatalf("Next after Close: %d bytes, %v", len(f.Data), err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if st := s.Stats(); st.Packets != 1000 || st.Open != 0 {
		t.Fatalf("after Close: %d packets, %d open", st.Packets, st.Open)
	}
}

func TestStreamConfigErrors(t *testing.T) {
	v4 := netip.MustParseAddr("10.0.1.10")
	for _, c := range []struct {
		cfg  StreamConfig
		want string
	}{
		{StreamConfig{}, "rate"},
		{StreamConfig{Rate: -5}, "rate"},
		{StreamConfig{Rate: math.NaN()}, "rate"},
		{StreamConfig{Rate: math.Inf(1)}, "rate"},
		{StreamConfig{Rate: 2e6}, "rate"},
		{StreamConfig{Rate: 10, MeanPackets: 0.5}, "mean packets"},
		{StreamConfig{Rate: 10, MeanPackets: math.NaN()}, "mean packets"},
		{StreamConfig{Rate: 10, Window: -time.Second}, "window"},
		{StreamConfig{Rate: 10, Window: time.Millisecond}, "window"},
		{StreamConfig{Rate: 10, Window: 2 * time.Hour}, "window"},
		{StreamConfig{Rate: 10, SnapLen: 10}, "snap length"},
		{StreamConfig{Rate: 10, SnapLen: -1}, "snap length"},
		{StreamConfig{Rate: 10, Endpoints: []Endpoint{{IPv4: netip.MustParseAddr("::1")}}}, "endpoint 0: needs an IPv4 address"},
		{StreamConfig{Rate: 10, Endpoints: []Endpoint{{IPv4: v4}, {}}}, "endpoint 1: needs an IPv4 address"},
		{StreamConfig{Rate: 10, Endpoints: []Endpoint{{IPv4: v4, VPC: netip.MustParsePrefix("10.0.0.0/30")}}}, "VPC"},
		{StreamConfig{Rate: 10, Endpoints: []Endpoint{{IPv4: v4, IPv6: v4}}}, "not an IPv6 address"},
		{StreamConfig{Rate: 1e6, MeanPackets: 1, Window: time.Hour}, "under way"},
		{StreamConfig{Rate: 10, Start: time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC)}, "start"},
		{StreamConfig{Rate: 10, Start: time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC)}, "start"},
	} {
		_, err := NewStream(c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want one about %q", c.cfg, err, c.want)
		}
	}
}

// BenchmarkStream makes frames of the mix of BenchmarkGenerate: 200 000
// packets in 10 000 conversations per 5 minutes.
func BenchmarkStream(b *testing.B) {
	benchStream(b, StreamConfig{Rate: 200000.0 / 300, MeanPackets: 20, Seed: 1})
}

// BenchmarkStreamFast has about 1 800 conversations open at once instead of
// about 30, so its heap is deeper.
func BenchmarkStreamFast(b *testing.B) {
	benchStream(b, StreamConfig{Rate: 1e5, Seed: 1})
}

func benchStream(b *testing.B, cfg StreamConfig) {
	s := newTestStream(b, cfg)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Next(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/1e6, "Mpkt/s")
}

// BenchmarkNewStream is the start-up cost at 100 000 packets a second: the
// conversations under way at the start are drawn and placed.
func BenchmarkNewStream(b *testing.B) {
	for b.Loop() {
		newTestStream(b, StreamConfig{Rate: 1e5, Seed: 1})
	}
}
