package sim

import (
	"container/heap"
	"fmt"
	"io"
	"math"
	"slices"
	"time"

	"github.com/vpcflow/vpcflow/capture"
	"github.com/vpcflow/vpcflow/packet"
)

// StreamConfig describes an endless stream of simulated traffic.
type StreamConfig struct {
	// Rate is the mean number of packets per second, at most MaxStreamRate.
	Rate float64
	Seed uint64 // same seed and Start, same frames
	// Start is the timestamp of the stream's beginning (a service passes its
	// clock's now); zero means DefaultStart. Frames carry Start plus
	// generated offsets: the stream never reads a clock.
	Start     time.Time
	Endpoints []Endpoint // monitored interfaces; empty means DefaultEndpoint
	SnapLen   int        // as Config.SnapLen
	// MeanPackets is the mean number of packets of a conversation, at least
	// 1; zero means 20, the ratio of gen pcap's default packets and flows.
	MeanPackets float64
	// Window is the span of the Generate capture the stream imitates, from
	// 1 second to 1 hour; zero means 5 minutes, Generate's default. Each
	// window of the stream carries, on average, what a Generate capture of
	// Rate×Window packets does: the same Zipf split over as many
	// conversations, each ending at most a minute or so after the window.
	Window time.Duration
}

// MaxStreamRate is the highest StreamConfig.Rate. Bounding it bounds the
// work of NewStream, which places the conversations already under way at the
// start (about 2 s at this rate with the default window), and the memory of
// the conversations open at once (about 15 000 at this rate).
const MaxStreamRate = 1e6

// maxWarmStarts bounds the conversation starts NewStream draws to find those
// under way at the stream's start: about 100 ns each.
const maxWarmStarts = 2e7

// Stream is an endless capture.Source of simulated VPC traffic: the mix of
// Generate, with conversations arriving at random (a Poisson process) instead
// of within a fixed span. It does not pace: Next returns frames as fast as it
// is called, and their timestamps say when they happen, for the caller to
// pace against its clock. Memory is bounded by the conversations open at
// once, which does not grow with time. A Stream is not safe for concurrent
// use: call Stats and Close from the goroutine that calls Next.
type Stream struct {
	g      generator
	slot   frameSlot
	active convHeap
	free   []*conv // ended conversations, reused so Next does not allocate
	closed bool

	arrival  int64   // start of the next conversation, ns since Start
	interval float64 // mean ns between conversation starts
	window   int64
	// nextID wraps after 2^32 conversations: ids only break ties between
	// packets at the same instant and seed DNS names and IPv6 fragment
	// identifications, none of which needs them unique forever
	nextID uint32
	// conversation sizes: Generate's split of extra packets beyond one each
	// over ranks with weights 1/rank^1.1 summing to zipfSum
	ranks   int64
	extra   float64
	zipfSum float64
}

// frameSlot keeps the generator's latest frame: Stream hands it out without
// a copy, valid until the next frame is built in the same buffer.
type frameSlot struct {
	ts   int64
	data []byte
	wire int
}

func (f *frameSlot) WritePacket(ts int64, data []byte, wireLen int) error {
	f.ts, f.data, f.wire = ts, data, wireLen
	return nil
}

// NewStream validates cfg and starts a stream in the middle of its traffic:
// the conversations that would have begun during the lifetime of the longest
// one before Start are placed at their first packet at or after Start, so
// the rate holds from the first second instead of ramping up over minutes as
// a Generate capture does. Those conversations are caught mid-way, as by a
// capture started during them: a TCP connection may show no handshake. How
// far they got is estimated from their mean packet gap, and their TCP
// sequence numbers and IP identifications are random.
func NewStream(cfg StreamConfig) (*Stream, error) {
	if !(cfg.Rate > 0 && cfg.Rate <= MaxStreamRate) { // also catches NaN
		return nil, fmt.Errorf("stream rate %v packets/s: want more than 0 and at most %v", cfg.Rate, MaxStreamRate)
	}
	if cfg.MeanPackets == 0 {
		cfg.MeanPackets = 20
	}
	if !(cfg.MeanPackets >= 1 && cfg.MeanPackets <= 1e6) {
		return nil, fmt.Errorf("stream mean packets per conversation %v: want 1 to 1e6", cfg.MeanPackets)
	}
	if cfg.Window == 0 {
		cfg.Window = 5 * time.Minute
	}
	if cfg.Window < time.Second || cfg.Window > time.Hour {
		return nil, fmt.Errorf("stream window %v: want 1s to 1h", cfg.Window)
	}
	if err := validateSnapLen(cfg.SnapLen); err != nil {
		return nil, err
	}
	eps := slices.Clone(cfg.Endpoints) // validation fills in defaults
	if err := validateEndpoints(eps); err != nil {
		return nil, err
	}
	if len(eps) == 0 {
		eps = []Endpoint{DefaultEndpoint}
	}
	if cfg.Start.IsZero() {
		cfg.Start = DefaultStart
	}
	// timestamps are int64 nanoseconds since 1970, which end in 2262
	if cfg.Start.Year() < 1970 || cfg.Start.Year() >= 2200 {
		return nil, fmt.Errorf("stream start %v: want a time from 1970 to 2199", cfg.Start)
	}

	convRate := cfg.Rate / cfg.MeanPackets // conversations per second
	s := &Stream{
		interval: 1e9 / convRate,
		window:   int64(cfg.Window),
		ranks:    max(1, int64(math.Round(convRate*cfg.Window.Seconds()))),
	}
	s.extra = float64(s.ranks) * (cfg.MeanPackets - 1)
	s.zipfSum = zipfSum(s.ranks)
	// A conversation lasts about its packets times its mean gap, which is
	// capped so it ends within a minute after the window, or 1 µs per packet
	// for the largest ones at high rates.
	largest := 2 + s.extra/s.zipfSum
	horizon := s.window + int64(time.Minute) + int64(largest)*1000
	if warm := convRate * float64(horizon) / 1e9; warm > maxWarmStarts {
		return nil, fmt.Errorf("stream of %.3g conversations/s lasting up to %v: finding those under way at the start takes %.3g draws, more than %.0g; lower the rate or the window, or raise the mean packets", convRate, time.Duration(horizon), warm, float64(maxWarmStarts))
	}
	s.g = generator{
		cfg:   Config{Start: cfg.Start, Endpoints: eps, SnapLen: cfg.SnapLen},
		w:     &s.slot,
		rng:   newRand(cfg.Seed),
		start: cfg.Start.UnixNano(),
	}

	// Most conversations started before 0 have ended by then, so what
	// decides it is drawn first, cheapest first: a conversation lasts less
	// than the time to its end-by (the cap on its mean gap), or 1 µs per
	// packet when that is longer; then less than its packets times its gap.
	floorLife := int64(largest) * 1000
	t := -horizon
	for {
		t += s.gapToNextConv()
		if t >= 0 {
			break
		}
		end := s.end(t)
		if end < 0 && t+floorLife < 0 {
			continue
		}
		n := s.size()
		gap := s.g.pace(t, n, end)
		if t+int64(n-1)*max(1000, gap) < 0 { // as fastForward counts
			continue
		}
		c := s.alloc()
		s.g.describe(c, s.nextID, t, n)
		s.nextID++
		c.gap = gap
		if s.g.fastForward(c) {
			s.push(c)
		} else {
			s.free = append(s.free, c)
		}
	}
	s.arrival = t
	return s, nil
}

// zipfSum is the sum of 1/r^1.1 for r from 1 to n: exact for the first 2^16
// terms, then the integral of x^-1.1 over the remaining terms' unit
// intervals (centred on them), which errs by less than 1e-11.
func zipfSum(n int64) float64 {
	const exact = 1 << 16
	var s float64
	for r := int64(1); r <= min(n, exact); r++ {
		s += 1 / math.Pow(float64(r), 1.1)
	}
	if n > exact {
		s += (math.Pow(exact+0.5, -0.1) - math.Pow(float64(n)+0.5, -0.1)) / 0.1
	}
	return s
}

// gapToNextConv draws the time to the next conversation start: exponential,
// so starts form a Poisson process.
func (s *Stream) gapToNextConv() int64 {
	return int64(float64(s.g.rng.ExpFloat64()*s.interval) + 0.5) // float64(): no fused multiply-add
}

// size draws a conversation's packet count as Generate gives one to a
// conversation of random rank: 1 + extra×weight(rank)/zipfSum, rounded up or
// down at random in proportion, so the mean is exactly MeanPackets.
func (s *Stream) size() uint32 {
	r := s.g.rng
	rank := 1 + r.Int64N(s.ranks)
	x := float64(s.extra*math.Pow(float64(rank), -1.1)) / s.zipfSum
	n := 1 + math.Floor(float64(x)+r.Float64())
	return uint32(min(n, math.MaxUint32))
}

// end draws when a conversation starting at start must end by: like in
// Generate, where starts are spread uniformly over the window and all end
// within a minute after it, a minute plus a uniform part of the window.
func (s *Stream) end(start int64) int64 {
	return start + int64(time.Minute) + s.g.rng.Int64N(s.window)
}

func (s *Stream) alloc() *conv {
	if n := len(s.free); n > 0 {
		c := s.free[n-1]
		s.free = s.free[:n-1]
		return c
	}
	return new(conv)
}

// newConv draws a conversation starting at start, ns since Start.
func (s *Stream) newConv(start int64) *conv {
	c := s.alloc()
	n := s.size()
	s.g.newConv(c, s.nextID, start, n, s.end(start), nil)
	s.nextID++
	return c
}

func (s *Stream) push(c *conv) {
	s.g.count(c)
	heap.Push(&s.active, c)
	s.g.stats.MaxFlows = max(s.g.stats.MaxFlows, len(s.active))
}

// fastForward moves c, which started before the stream (c.next < 0), to its
// first packet at or after 0, with every gap at its mean; it reports false
// when c ended before 0. What an observer could tell from packets before 0
// (TCP sequence numbers, IP identifications) is drawn at random instead.
func (g *generator) fastForward(c *conv) bool {
	t, i := c.next, int64(0)
	if c.outcome != outOpen && c.retries() {
		// a few tries on a fixed schedule
		for ; t < 0 && i+1 < int64(c.n); i++ {
			c.idx = uint32(i + 1)
			t += retryGap(c)
		}
		if t < 0 {
			return false
		}
	}
	if c.kind == kindTCP {
		// packets 1 and 2 of the handshake come a round trip apart
		for ; i < 2 && t < 0; i++ {
			t += c.rtt()
		}
	}
	if t < 0 {
		step := max(1000, c.gap)
		k := (-t + step - 1) / step
		i += k
		t += k * step
	}
	if i >= int64(c.n) {
		return false
	}
	c.idx, c.next = uint32(i), t
	c.ipidC, c.ipidS = uint16(g.rng.Uint32()), uint16(g.rng.Uint32())
	return true
}

// Next returns the next frame, at or after the previous one; Data is valid
// until the following call. It never returns io.EOF before Close.
func (s *Stream) Next() (capture.Frame, error) {
	if s.closed {
		return capture.Frame{}, io.EOF
	}
	// Start the conversations due by the earliest packet: a new one's first
	// packet is at its start, so it may be the next frame.
	for len(s.active) == 0 || s.arrival <= s.active[0].next {
		s.push(s.newConv(s.arrival))
		s.arrival += s.gapToNextConv()
	}
	c := s.active[0]
	_ = s.g.emit(c) // the slot never fails
	c.idx++
	if c.idx == c.n {
		heap.Pop(&s.active)
		s.free = append(s.free, c)
	} else {
		c.next += s.g.nextGap(c)
		heap.Fix(&s.active, 0)
	}
	return capture.Frame{
		TimestampNanos: s.slot.ts,
		Data:           s.slot.data,
		WireLen:        s.slot.wire,
		LinkType:       packet.LinkEthernet,
	}, nil
}

// Close ends the stream and frees its conversations; Next then returns
// io.EOF. Closing twice is harmless.
func (s *Stream) Close() error {
	s.closed = true
	s.active, s.free = nil, nil
	return nil
}

// Stats returns the frames and conversations so far: Flows and the counts by
// kind include the conversations under way at the start, Open those open
// now, MaxFlows the most open at once.
func (s *Stream) Stats() Stats {
	st := s.g.snapshot()
	st.Open = len(s.active)
	return st
}

var _ capture.Source = (*Stream)(nil)
