// Package sim generates deterministic synthetic captures of VPC-like traffic.
//
// It exists so benchmarks, documentation and demos have realistic, large and
// reproducible input without shipping big files: the same Config and seed
// give a byte-identical pcap on every machine. Traffic is a mix of TCP
// connections (handshake, data, FIN or RST), DNS and other UDP (some of it in
// IP fragments), NTP to the Amazon Time Sync address, and ICMP echo, over
// IPv4 and IPv6, with a skewed (Zipf-like) number of packets per
// conversation, spread over several flow-log capture windows. Endpoints may
// carry the filters of their security groups and network ACLs
// (EndpointsFromTopology sets them): every conversation then tells a story
// the network allows, a request the filters drop gets no reply and its
// client retries before giving up. Generation
// streams to the writer: memory grows with the number of conversations open
// at once, never with the number of packets.
//
// Generate writes a capture of a fixed size. Stream is the same traffic
// without an end, for a long-running service to read as a capture.Source:
// conversations keep arriving at random at a mean packet rate, and frames
// carry timestamps from a given start, computed rather than read from a
// clock, so a seed still gives the same frames.
//
// A scenario (NewScenario) is the opposite of the mix: a named script of
// conversations that tells one story (a three-tier request path, an SSH
// brute force, a port scan, an exfiltration...) over a topology. Its hosts
// are the topology's interfaces found by the names of their security
// groups, its outside hosts fixed documentation addresses; the topology's
// security groups and network ACLs decide which conversations get replies,
// and its route tables whether traffic to the internet crosses a NAT
// gateway. Conversations start on a fixed cadence, so the records a
// scenario gives can be counted by hand from its script
// (docs/scenarios.md does); the seed draws only what those counts do not
// depend on. Scenario.Generate writes the capture, Scenario.Source gives
// the same frames to a service.
package sim

import (
	"container/heap"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"math/rand/v2"
	"net/netip"
	"slices"
	"time"

	"github.com/vpcflow/vpcflow/capture"
	"github.com/vpcflow/vpcflow/packet"
	"github.com/vpcflow/vpcflow/policy"
)

// Endpoint is a monitored interface whose traffic is generated: one side of
// every conversation is an Endpoint.
type Endpoint struct {
	MAC  [6]byte
	IPv4 netip.Addr
	IPv6 netip.Addr // optional: without it the endpoint only speaks IPv4
	// VPC is where the endpoint's internal peers live (default 10.0.0.0/16)
	// and DNS its resolver (default 10.0.0.2).
	VPC netip.Prefix
	DNS netip.Addr
	// Filter, when set, is what the endpoint's security groups and network
	// ACLs let through: a conversation whose request it drops is refused,
	// one whose reply it drops goes unanswered (see Config).
	// EndpointsFromTopology sets it from the topology's rules.
	Filter Filter
}

// Filter decides whether a packet sent (Egress) or received (Ingress) by a
// monitored endpoint passes its filters. reply says p answers a connection
// that the reverse packet opened, which a security group passes as tracked.
type Filter interface {
	Pass(dir policy.Direction, p *policy.Packet, reply bool) bool
}

// The default address plan, used without a topology: one instance in a
// 10.0.0.0/16 VPC, behind the VPC router, talking to other VPC hosts
// (10.0.0.0/16), to the Amazon DNS resolver (10.0.0.2, fd00:ec2::253), to the
// Amazon Time Sync service (169.254.169.123, traffic AWS never logs) and to
// internet peers in the documentation ranges (192.0.2.0/24, 198.51.100.0/24,
// 203.0.113.0/24, 2001:db8::/32).
var (
	DefaultEndpoint = Endpoint{
		MAC:  [6]byte{0x02, 0, 0, 0, 0, 0x01},
		IPv4: netip.MustParseAddr("10.0.1.10"),
		IPv6: netip.MustParseAddr("2600:1f18:7a3:f401::10"),
		VPC:  netip.MustParsePrefix("10.0.0.0/16"),
		DNS:  netip.MustParseAddr("10.0.0.2"),
	}
	// RouterMAC is the source of every frame that reaches an endpoint from a
	// peer, and the destination of every frame an endpoint sends.
	RouterMAC = [6]byte{0x02, 0, 0, 0, 0, 0xfe}

	dnsV6  = netip.MustParseAddr("fd00:ec2::253")
	ntpV4  = netip.MustParseAddr("169.254.169.123")
	docV4s = [3][3]byte{{192, 0, 2}, {198, 51, 100}, {203, 0, 113}}
)

// DefaultStart is the capture start used when Config.Start is zero: a fixed
// instant, so output does not depend on the clock.
var DefaultStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Config describes a capture to generate.
type Config struct {
	// Packets is the total of frames, at least Flows. A client whose
	// request is refused gives up after a few tries: the packets its
	// conversation leaves unused go to the next open conversation of its
	// kind, so the total and the mix of kinds hold, unless no such
	// conversation follows.
	Packets   int64
	Flows     int           // conversations; a TCP connection is one, and gives two flow-log records per window
	Seed      uint64        // same seed, same bytes
	Start     time.Time     // first conversation start; zero means DefaultStart
	Duration  time.Duration // span of conversation starts; zero means 5 minutes
	Endpoints []Endpoint    // monitored interfaces; empty means DefaultEndpoint
	// SnapLen, when positive, cuts each frame to that many bytes in the file
	// (the wire length stays whole, as with tcpdump -s): flow logs need the
	// headers only, and a 5 M packet capture shrinks from 2.8 GB to 0.5 GB.
	SnapLen int
}

// Stats summarises a generated capture.
type Stats struct {
	Packets int64
	IPBytes int64 // sum of IP lengths, what flow logs count as bytes
	Flows   int
	TCP     int // conversations by kind
	UDP     int
	ICMP    int
	IPv6    int // conversations over IPv6
	// Fragmented counts the UDP conversations whose datagrams are sent as two
	// IP fragments each (IPv4 fragments, or IPv6 Fragment headers).
	Fragmented int
	// Refused counts the conversations whose requests the endpoints'
	// filters drop, Unanswered those whose requests pass but whose replies
	// are dropped: their clients retry, then give up.
	Refused, Unanswered int
	First               time.Time
	Last                time.Time
	MaxFlows            int // conversations open at once, at most
	Open                int // conversations open now: always 0 once Generate returns
}

func (c *Config) validate() error {
	if c.Flows < 1 {
		return errors.New("flows must be at least 1")
	}
	if c.Packets < int64(c.Flows) {
		return fmt.Errorf("packets (%d) must be at least flows (%d): every conversation has a packet", c.Packets, c.Flows)
	}
	if err := validateSnapLen(c.SnapLen); err != nil {
		return err
	}
	if c.Duration < 0 {
		return errors.New("duration must not be negative")
	}
	return validateEndpoints(c.Endpoints)
}

func validateSnapLen(n int) error {
	if n < 0 || (n > 0 && n < 64) {
		return errors.New("snap length must be 0 (whole frames) or at least 64")
	}
	return nil
}

// validateEndpoints checks eps and fills in their default VPC and resolver,
// in place: callers pass their own copy.
func validateEndpoints(eps []Endpoint) error {
	for i := range eps {
		e := &eps[i]
		if !e.IPv4.Is4() {
			return fmt.Errorf("endpoint %d: needs an IPv4 address", i)
		}
		if !e.VPC.IsValid() {
			e.VPC = DefaultEndpoint.VPC
		}
		if !e.VPC.Addr().Is4() || e.VPC.Bits() > 28 {
			return fmt.Errorf("endpoint %d: VPC %v is not an IPv4 prefix of /28 or larger", i, e.VPC)
		}
		if !e.DNS.IsValid() {
			e.DNS = DefaultEndpoint.DNS
		}
		if e.IPv6.IsValid() && !e.IPv6.Is6() {
			return fmt.Errorf("endpoint %d: %v is not an IPv6 address", i, e.IPv6)
		}
	}
	return nil
}

// conversation kinds
const (
	kindTCP uint8 = iota
	kindDNS
	kindUDP
	kindNTP
	kindICMP
	kindFrag // UDP datagrams larger than the MTU, each sent as two IP fragments
)

// conversation outcomes, decided by the filters of the endpoints at its ends
const (
	outOpen       uint8 = iota // requests and replies pass
	outRefused                 // the request is dropped on its way: no reply ever comes
	outUnanswered              // the request arrives, every reply is dropped
)

// A client that gets no reply ([Choice]) sends its request retryAttempts
// times in all, then gives up: the first retransmission retryFirst after the
// first attempt, each later one twice as long after the one before. That is
// TCP's SYN retransmission (an initial retransmission timeout of 1 s,
// doubled at each retry: RFC 6298, sections 2 and 5.5; Linux's
// TCP_TIMEOUT_INIT), cut short as by an application's connect timeout of a
// few seconds; request-reply UDP clients are given the same schedule.
const (
	retryAttempts = 3
	retryFirst    = int64(time.Second)
)

// maxRTT caps a conversation's round trip (a tenth of its mean gap): replies
// follow what they answer closely, well within the few seconds a security
// group tracks a closed TCP connection.
const maxRTT = int64(250 * time.Millisecond)

// conv is the state of one conversation between its first and last packet.
type conv struct {
	next     int64 // time of the next packet, ns since start
	gap      int64 // mean time between packets
	id       uint32
	idx, n   uint32 // packets sent, packets in total
	kind     uint8
	outcome  uint8
	v6       bool
	local    bool // the endpoint is the client
	rst      bool // TCP ends with a reset instead of FIN
	replies  bool // UDP: the server answers
	ep       int  // endpoint index
	peerEP   int  // the peer's endpoint index, or -1 for a peer outside
	peer     netip.Addr
	cport    uint16 // client port
	sport    uint16 // server port
	seqC     uint32
	seqS     uint32
	ipidC    uint16
	ipidS    uint16
	payloadC uint16 // client request size
}

// frameWriter receives the generator's frames: a pcap file's writer for
// Generate, a one-frame slot for Stream. data is only valid during the call.
type frameWriter interface {
	WritePacket(tsNanos int64, data []byte, wireLen int) error
}

// Generate writes cfg's capture to w (Ethernet frames) and flushes it.
// progress, when not nil, is called every 65536 packets with the count so far.
func Generate(cfg Config, w *capture.Writer, progress func(packets int64)) (Stats, error) {
	cfg.Endpoints = slices.Clone(cfg.Endpoints) // validate fills in defaults
	if err := cfg.validate(); err != nil {
		return Stats{}, err
	}
	if cfg.Start.IsZero() {
		cfg.Start = DefaultStart
	}
	if cfg.Duration == 0 {
		cfg.Duration = 5 * time.Minute
	}
	if len(cfg.Endpoints) == 0 {
		cfg.Endpoints = []Endpoint{DefaultEndpoint}
	}
	g := &generator{cfg: cfg, w: w, rng: newRand(cfg.Seed)}
	st, err := g.run(progress)
	if err != nil {
		return st, err
	}
	return st, w.Flush()
}

func newRand(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// generator builds frames of conversations. Generate uses all of cfg; Stream
// only Start, Endpoints and SnapLen.
type generator struct {
	cfg   Config
	w     frameWriter
	rng   *rand.Rand
	buf   [2048]byte
	stats Stats // First and Last are left zero: see snapshot
	start int64
	// timestamps of the first and latest frame, turned into times only
	// when asked for (time.Unix costs more than building a small frame)
	firstTS, lastTS int64
}

// snapshot returns the statistics so far.
func (g *generator) snapshot() Stats {
	st := g.stats
	if st.Packets > 0 {
		st.First = time.Unix(0, g.firstTS).UTC()
		st.Last = time.Unix(0, g.lastTS).UTC()
	}
	return st
}

// budgets splits the packets over the conversations with Zipf weights
// 1/rank^1.1, at least one packet each, the ranks shuffled so that big
// conversations start at random times.
func (g *generator) budgets() []uint32 {
	f := g.cfg.Flows
	extra := g.cfg.Packets - int64(f)
	weights := make([]float64, f)
	var total float64
	for i := range weights {
		weights[i] = 1 / math.Pow(float64(i+1), 1.1)
		total += weights[i]
	}
	out := make([]uint32, f)
	var given int64
	for i := range out {
		share := int64(float64(extra) * (weights[i] / total))
		out[i] = 1 + uint32(min(share, math.MaxUint32-1))
		given += int64(out[i]) - 1
	}
	// rounding leftovers go to the largest conversations, one each in turn
	for i := 0; given < extra; i = (i + 1) % f {
		if out[i] < math.MaxUint32 {
			out[i]++
			given++
		}
	}
	g.rng.Shuffle(f, func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

func (g *generator) run(progress func(int64)) (Stats, error) {
	cfg := g.cfg
	g.start = cfg.Start.UnixNano()
	span := int64(cfg.Duration)
	budgets := g.budgets()
	starts := make([]int64, cfg.Flows)
	for i := range starts {
		starts[i] = g.rng.Int64N(span)
	}
	slices.Sort(starts)

	var active convHeap
	next := 0
	// packets refused conversations did not send, by kind, for the next
	// open conversation of their kind
	var spare spareByKind
	// conversations may run a minute past the span of starts
	end := int64(cfg.Duration) + int64(time.Minute)
	for {
		// the next packet comes from a starting conversation or the
		// earliest active one
		var c *conv
		if next < len(starts) && (len(active) == 0 || starts[next] < active[0].next ||
			(starts[next] == active[0].next && uint32(next) < active[0].id)) {
			c = new(conv)
			g.newConv(c, uint32(next), starts[next], budgets[next], end, &spare)
			g.count(c)
			next++
			heap.Push(&active, c)
			g.stats.MaxFlows = max(g.stats.MaxFlows, len(active))
			if next == len(starts) {
				placeSpare(active, &spare)
			}
		} else if len(active) > 0 {
			c = active[0]
		} else {
			break
		}
		if err := g.emit(c); err != nil {
			return g.snapshot(), err
		}
		c.idx++
		if c.idx == c.n {
			heap.Pop(&active)
		} else {
			c.next += g.nextGap(c)
			heap.Fix(&active, 0)
		}
		if progress != nil && g.stats.Packets%65536 == 0 {
			progress(g.stats.Packets)
		}
	}
	return g.snapshot(), nil
}

// spareByKind holds, by conversation kind, the packets that refused
// conversations did not send.
type spareByKind [kindFrag + 1]uint32

// placeSpare gives the packets that no later conversation of their kind
// took, once the last conversation has started, to open conversations under
// way whose script can grow: of their kind first, else of any kind. What
// none can take is not sent (Stats.Packets says so).
func placeSpare(active convHeap, spare *spareByKind) {
	for k := range spare {
		for pass := 0; pass < 2 && spare[k] > 0; pass++ {
			for _, c := range active {
				if c.outcome != outOpen || !c.canGrow() || pass == 0 && c.kind != uint8(k) {
					continue
				}
				add := min(spare[k], math.MaxUint32-c.n)
				c.n += add
				spare[k] -= add
				if spare[k] == 0 {
					break
				}
			}
		}
	}
}

// canGrow reports whether c may send more packets than planned without
// changing what it sent or is about to send: a TCP connection before its
// close (its FIN or RST comes at the end of the script), any other
// conversation with packets left.
func (c *conv) canGrow() bool {
	if c.kind == kindTCP {
		return c.n >= 7 && c.idx+4 <= c.n
	}
	return c.idx < c.n
}

// newConv draws the kind, addresses, ports and pacing of conversation id
// into c: n packets from start, paced to end by end (both ns since the
// generator's start). It counts nothing: see count. With spare (Generate),
// a refused conversation leaves there the packets it does not send (see
// judge), and an open one takes those of its kind: the total and the mix
// of kinds hold.
func (g *generator) newConv(c *conv, id uint32, start int64, n uint32, end int64, spare *spareByKind) {
	unused := g.describe(c, id, start, n)
	if spare != nil {
		s := &spare[c.kind]
		switch {
		case unused > 0:
			*s += min(unused, math.MaxUint32-*s)
		case c.outcome == outOpen && *s > 0:
			add := min(*s, math.MaxUint32-c.n)
			c.n += add
			*s -= add
		}
	}
	c.gap = g.pace(start, c.n, end)
}

// describe draws the kind, addresses and ports of conversation id into c
// and judges it; it returns the packets of n the conversation does not send.
func (g *generator) describe(c *conv, id uint32, start int64, n uint32) (unused uint32) {
	r := g.rng
	*c = conv{id: id, next: start, n: n, ep: r.IntN(len(g.cfg.Endpoints)), peerEP: -1}
	ep := &g.cfg.Endpoints[c.ep]
	c.v6 = ep.IPv6.IsValid() && r.IntN(5) == 0
	switch x := r.IntN(100); {
	case x < 65:
		c.kind = kindTCP
	case x < 80:
		c.kind = kindDNS
	case x < 86:
		c.kind = kindUDP
	case x < 88:
		c.kind = kindFrag
	case x < 90:
		c.kind = kindNTP
		c.v6 = false
	default:
		c.kind = kindICMP
	}
	c.cport = uint16(32768 + r.IntN(28232)) // Linux ephemeral range 32768-60999
	c.local = true
	switch c.kind {
	case kindTCP:
		c.local = r.IntN(2) == 0
		if c.local {
			c.sport = []uint16{443, 443, 443, 80, 5432, 3306, 6379, 22}[r.IntN(8)]
		} else {
			c.sport = []uint16{443, 443, 80, 22, 8080}[r.IntN(5)]
		}
		c.rst = r.IntN(10) == 0
		c.seqC, c.seqS = r.Uint32(), r.Uint32()
		c.payloadC = uint16(80 + r.IntN(600))
	case kindDNS:
		c.sport = 53
		c.peer = ep.DNS
		if c.v6 {
			c.peer = dnsV6
		}
		c.replies = true
	case kindNTP:
		c.sport, c.cport, c.peer, c.replies = 123, 123, ntpV4, true
	case kindUDP:
		c.sport = []uint16{8125, 9000, 5001, 7777}[r.IntN(4)] // ports without a tshark dissector: payloads are random
		c.replies = r.IntN(3) == 0
		c.local = r.IntN(4) != 0
		c.payloadC = uint16(40 + r.IntN(1100))
	case kindFrag:
		c.sport = 9000
		c.payloadC = uint16(1600 + r.IntN(1200)) // two fragments over IPv4 and IPv6
	case kindICMP:
		c.cport = uint16(r.IntN(65536)) // echo identifier; who pings is decided below
	}
	if !c.peer.IsValid() && len(g.cfg.Endpoints) > 1 && r.IntN(4) == 0 {
		// east-west: another monitored interface
		c.peerEP = r.IntN(len(g.cfg.Endpoints) - 1)
		if c.peerEP >= c.ep {
			c.peerEP++
		}
		pe := &g.cfg.Endpoints[c.peerEP]
		c.v6 = c.v6 && pe.IPv6.IsValid()
		c.peer = pe.IPv4
		if c.v6 {
			c.peer = pe.IPv6
		}
	}
	if !c.peer.IsValid() {
		c.peer = g.peerAddr(c.v6, ep)
	}
	if c.kind == kindICMP {
		local := ep.IPv4
		if c.v6 {
			local = ep.IPv6
		}
		c.local = pinger(local, c.peer) == local
	}
	return g.judge(c)
}

// pinger says which of two hosts pings the other: the same one for every
// ping between them, so pings between two hosts never run both ways. ICMP
// records carry no ports to tell two pings apart, and a security group
// tracks a ping by its pair of addresses, so a ping one way would let the
// other's requests through.
func pinger(a, b netip.Addr) netip.Addr {
	x, y := a.As16(), b.As16()
	var parity byte
	for i := range x {
		parity ^= x[i] ^ y[i]
	}
	lo, hi := a, b
	if hi.Less(lo) {
		lo, hi = hi, lo
	}
	if bits.OnesCount8(parity)%2 == 0 {
		return lo
	}
	return hi
}

// judge decides c's outcome from the filters of its monitored ends, and
// cuts the packets of a conversation that never gets going to its client's
// tries (retryAttempts), returning the packets cut. One-way traffic and
// pings keep their packets: their senders do not wait for replies.
func (g *generator) judge(c *conv) (unused uint32) {
	if c.kind == kindDNS || c.kind == kindNTP {
		// AWS's filters leave the Amazon DNS resolver and the time service alone
		return 0
	}
	client, server := g.ends(c)
	pass := func(e *Endpoint, dir policy.Direction, p *policy.Packet, reply bool) bool {
		return e == nil || e.Filter == nil || e.Filter.Pass(dir, p, reply)
	}
	req := g.request(c)
	switch {
	case !pass(client, policy.Egress, &req, false) || !pass(server, policy.Ingress, &req, false):
		c.outcome = outRefused
	case !c.twoWay():
		return 0
	default:
		rep := reply(c, req)
		if pass(server, policy.Egress, &rep, true) && pass(client, policy.Ingress, &rep, true) {
			return 0
		}
		c.outcome = outUnanswered
	}
	if !c.retries() {
		return 0
	}
	limit := uint32(retryAttempts)
	if c.outcome == outUnanswered {
		limit *= 2 // each try and its dropped reply
	}
	if c.n > limit {
		unused, c.n = c.n-limit, limit
	}
	return unused
}

// ends returns c's client and server endpoints; nil is a peer outside.
func (g *generator) ends(c *conv) (client, server *Endpoint) {
	local := &g.cfg.Endpoints[c.ep]
	var peer *Endpoint
	if c.peerEP >= 0 {
		peer = &g.cfg.Endpoints[c.peerEP]
	}
	if c.local {
		return local, peer
	}
	return peer, local
}

// request is c's first packet as the filters see it.
func (g *generator) request(c *conv) policy.Packet {
	ep := &g.cfg.Endpoints[c.ep]
	local := ep.IPv4
	if c.v6 {
		local = ep.IPv6
	}
	p := policy.Packet{Src: c.peer, Dst: local, SrcPort: c.cport, DstPort: c.sport}
	if c.local {
		p.Src, p.Dst = local, c.peer
	}
	switch c.kind {
	case kindTCP:
		p.Proto, p.TCPFlags = packet.ProtoTCP, policy.FlagSYN
	case kindICMP:
		p.SrcPort, p.DstPort = 0, 0
		p.Proto, p.ICMPType = packet.ProtoICMP, 8 // echo request
		if c.v6 {
			p.Proto, p.ICMPType = packet.ProtoICMPv6, 128
		}
	default:
		p.Proto = packet.ProtoUDP
	}
	return p
}

// reply is the answer to c's request req.
func reply(c *conv, req policy.Packet) policy.Packet {
	p := req
	p.Src, p.Dst = req.Dst, req.Src
	p.SrcPort, p.DstPort = req.DstPort, req.SrcPort
	switch c.kind {
	case kindTCP:
		p.TCPFlags = policy.FlagSYN | policy.FlagACK
	case kindICMP:
		p.ICMPType = 0 // echo reply
		if c.v6 {
			p.ICMPType = 129
		}
	}
	return p
}

// twoWay reports whether c's server answers: TCP, ping and request-reply UDP.
func (c *conv) twoWay() bool {
	return c.kind == kindTCP || c.kind == kindICMP || c.kind == kindUDP && c.replies
}

// retries reports whether c's client waits for a reply and tries again
// without one (TCP and request-reply UDP).
func (c *conv) retries() bool {
	return c.kind == kindTCP || c.kind == kindUDP && c.replies
}

// rtt is c's round trip: a tenth of its mean gap, at most maxRTT.
func (c *conv) rtt() int64 {
	return max(1000, min(c.gap/10, maxRTT))
}

// answers reports whether c's packet idx answers the one before it, and so
// follows it by a round trip: the handshake's SYN-ACK and ACK, the server's
// reset of a refused connection, the ACKs of the FINs of a close, the
// replies of UDP and ICMP exchanges.
func (c *conv) answers() bool {
	i := c.idx
	switch c.kind {
	case kindTCP:
		return i == 1 || i == 2 || !c.rst && c.n >= 7 && (i == c.n-3 || i == c.n-1)
	case kindDNS, kindNTP, kindICMP:
		return i%2 == 1
	case kindUDP:
		return c.replies && i%2 == 1
	}
	return false
}

// pace draws the mean gap between the packets of a conversation of n
// packets from start: log-normal (median 20 ms), capped so the whole
// conversation ends by end (Generate: a minute after the configured span);
// big conversations therefore run across several capture windows.
func (g *generator) pace(start int64, n uint32, end int64) int64 {
	gap := int64(math.Exp(math.Log(20e6) + float64(1.5*g.rng.NormFloat64()))) // float64(): no fused multiply-add, same result on every CPU
	limit := (end - start) / int64(n)
	return max(1000, min(gap, limit))
}

// count adds a conversation that appears in the output to the statistics.
func (g *generator) count(c *conv) {
	s := &g.stats
	s.Flows++
	switch c.kind {
	case kindTCP:
		s.TCP++
	case kindICMP:
		s.ICMP++
	case kindFrag:
		s.UDP++
		s.Fragmented++
	default:
		s.UDP++
	}
	if c.v6 {
		s.IPv6++
	}
	switch c.outcome {
	case outRefused:
		s.Refused++
	case outUnanswered:
		s.Unanswered++
	}
}

// peerAddr picks the other side: another VPC host (40%) or an internet peer.
func (g *generator) peerAddr(v6 bool, ep *Endpoint) netip.Addr {
	r := g.rng
	if v6 {
		var a [16]byte
		if r.IntN(5) < 2 {
			a = ep.IPv6.As16() // same /64
		} else {
			a = [16]byte{0x20, 0x01, 0x0d, 0xb8}
			for i := 4; i < 8; i++ {
				a[i] = byte(r.Uint32())
			}
		}
		for i := 8; i < 16; i++ {
			a[i] = byte(r.Uint32())
		}
		return netip.AddrFrom16(a)
	}
	for {
		var a [4]byte
		if r.IntN(5) < 2 {
			// a host of the VPC, clear of the network and resolver addresses
			base := ep.VPC.Masked().Addr().As4()
			host := uint32(4 + r.IntN(max(1, 1<<(32-ep.VPC.Bits())-5)))
			v := (uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 | uint32(base[3])) + host
			a = [4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
		} else {
			p := docV4s[r.IntN(3)]
			a = [4]byte{p[0], p[1], p[2], byte(1 + r.IntN(254))}
		}
		if addr := netip.AddrFrom4(a); addr != ep.IPv4 {
			return addr
		}
	}
}

// nextGap is the time from c's packet idx-1 to its packet idx: a round
// trip for an answer, the retransmission backoff before a client's next
// try, otherwise the mean gap jittered by ±50%.
func (g *generator) nextGap(c *conv) int64 {
	if c.outcome != outOpen && c.retries() {
		return retryGap(c)
	}
	if c.outcome != outRefused && c.answers() {
		return c.rtt()
	}
	return max(1000, c.gap/2+g.rng.Int64N(c.gap+1))
}

// retryGap is nextGap for a conversation that never gets going: try k
// starts retryFirst×(2^k-1) after the first, and a reply comes a round trip
// after the try it answers.
func retryGap(c *conv) int64 {
	if c.outcome == outUnanswered {
		if c.idx%2 == 1 {
			return c.rtt()
		}
		return retryFirst<<(c.idx/2-1) - c.rtt()
	}
	return retryFirst << (c.idx - 1)
}

type convHeap []*conv

func (h convHeap) Len() int { return len(h) }
func (h convHeap) Less(i, j int) bool {
	if h[i].next != h[j].next {
		return h[i].next < h[j].next
	}
	return h[i].id < h[j].id
}
func (h convHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *convHeap) Push(x any)   { *h = append(*h, x.(*conv)) }
func (h *convHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return c
}

// NewWriter returns a pcap writer for the frames the simulator makes
// (Ethernet), for Generate.
func NewWriter(w io.Writer) (*capture.Writer, error) {
	return capture.NewWriter(w, packet.LinkEthernet)
}
