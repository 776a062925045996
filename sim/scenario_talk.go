package sim

import (
	"container/heap"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/vpcflow/vpcflow/packet"
	"github.com/vpcflow/vpcflow/policy"
	"github.com/vpcflow/vpcflow/topology"
)

// Timing of scenario conversations ([Choice]): fixed, so a conversation's
// length is known when it is made and the docs can say in which capture
// window each of its packets falls.
const (
	rttInternet = int64(30 * time.Millisecond)
	rttVPC      = int64(500 * time.Microsecond)
	rttResolver = int64(300 * time.Microsecond)
	segGap      = int64(100 * time.Microsecond) // between segments of one burst
	natDelay    = int64(50 * time.Microsecond)  // a NAT gateway forwarding a packet
	scenarioMSS = 1460                          // payload of a full segment: 1500-byte IP packets
)

// outNobody: no host answers at the server's address (an unused address of
// the VPC): the requests go out, nothing comes back.
const outNobody = outUnanswered + 1

// host is one end of a conversation, or the NAT gateway between them.
type host struct {
	mac    [6]byte // RouterMAC for a host that is no monitored interface
	ip     netip.Addr
	eni    *topology.ENI // nil for a host outside the topology's interfaces
	filter Filter        // the interface's security groups and network ACL
	absent bool          // nobody answers at ip
	// unfiltered: traffic with this host passes every filter (the Amazon
	// DNS resolver, which security groups and network ACLs leave alone)
	unfiltered bool
}

// roles are the interfaces of a topology that scenarios use, by the names of
// their security groups.
type roles struct {
	topo   *topology.Topology
	eng    *policy.Engine
	byName map[string]*host
}

// findRoles maps every security-group name to the first interface (by id)
// that carries the group and has a MAC and a private IPv4 address.
func findRoles(t *topology.Topology) (*roles, error) {
	eng, err := policy.New(t, policy.Config{MaxTracked: 1, Shards: 1})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t.Name, err)
	}
	r := &roles{topo: t, eng: eng, byName: map[string]*host{}}
	for _, e := range t.ENIs() {
		if !e.HasMAC || !e.PrimaryIPv4.Is4() {
			continue
		}
		for _, g := range e.SecurityGroups {
			if _, ok := r.byName[g.Name]; !ok && g.Name != "" {
				r.byName[g.Name] = r.hostOf(e)
			}
		}
	}
	return r, nil
}

func (r *roles) hostOf(e *topology.ENI) *host {
	return &host{mac: e.MAC, ip: e.PrimaryIPv4, eni: e, filter: eniFilter{r.eng, e}}
}

// host returns the interface of a role; nil when none.
func (r *roles) host(role string) *host { return r.byName[role] }

// outside is a host that is none of the monitored interfaces: frames to and
// from it pass the VPC router.
func outside(ip netip.Addr) host { return host{mac: RouterMAC, ip: ip} }

// resolver is the Amazon DNS resolver of h's VPC (its base address + 2).
func (r *roles) resolver(h *host) host {
	d := outside(h.eni.VPC.DNSAddr())
	d.unfiltered = true
	return d
}

// at is whoever has ip in h's VPC: an interface, else nobody.
func (r *roles) at(h *host, ip netip.Addr) host {
	if e := r.topo.ENIByIP(h.eni.VPCID, ip); e != nil && e.HasMAC && e.PrimaryIPv4 == ip {
		return *r.hostOf(e)
	}
	x := outside(ip)
	x.absent = true
	return x
}

// natFor returns the NAT gateway interface h's packets to dst go through,
// by the route table of h's subnet; nil when they go another way (an
// internet gateway) or the gateway has no interface with a MAC.
func (r *roles) natFor(h *host, dst netip.Addr) *host {
	if h.eni == nil || h.eni.Subnet == nil {
		return nil
	}
	rt, ok := r.topo.Route(h.eni.Subnet, dst)
	if !ok || rt.Kind != topology.TargetNAT {
		return nil
	}
	for _, n := range r.topo.NATGateways {
		if n.ID != rt.Target {
			continue
		}
		for _, id := range n.ENIs {
			if e := r.topo.ENIByID(id); e != nil && e.HasMAC && e.PrimaryIPv4.Is4() {
				return r.hostOf(e)
			}
		}
	}
	return nil
}

// scripts of scenario conversations
const (
	scSession uint8 = iota // TCP: handshake, request, response, close
	scSSH                  // TCP: an SSH connection whose password logins fail
	scProbe                // TCP: a scanner's SYN; SYN-ACK and the scanner's RST when the port is open
	scUpload               // TCP: handshake, a long upload acknowledged every second segment, close
	scQuery                // UDP: a DNS query and its answer
)

// talk is one scenario conversation between its first and last frame.
type talk struct {
	next    int64 // time of the next frame, ns since the start
	first   int64 // time of the current packet's first frame
	id      uint32
	idx, n  uint32 // packets sent, packets in all (a packet is one frame, or two through a NAT gateway)
	leg     uint8  // frames of the current packet sent
	script  uint8
	outcome uint8
	retries bool // the client tries again without a reply (a scanner does not)
	// frames a dropped request (refused) or reply (unanswered) is sent
	// in: through a NAT gateway, the leg where it is dropped is the last
	reqLegs, repLegs uint8
	c, s             host
	nat              *host
	cport, sport     uint16
	seqC, seqS       uint32
	ipidC, ipidS     uint16
	rtt              int64
	// scSession: q request segments of reqLen bytes, think, p response
	// segments of respLen bytes
	q, p            uint16
	reqLen, respLen uint16
	think           int64
	// scUpload: segs full segments (even), one every iv
	segs uint32
	iv   int64
	cur  sstep // the packet being sent
}

// sstep is one packet of a conversation's script.
type sstep struct {
	fromClient bool
	flags      uint8
	payload    int
	// again: the packet repeats its side's previous one (a retransmitted
	// SYN or SYN-ACK carries the sequence number of the first)
	again bool
	gap   int64 // from this packet's first frame to the next packet's
}

// sshScript is an SSH connection whose three password attempts fail (the
// server disconnects after the third), seen from the server: sizes of
// OpenSSH's messages, a 600 ms failure delay before each answer.
var sshScript = func() []sstep {
	const rtt = -1 // replaced by the conversation's round trip
	s := []sstep{
		{true, syn, 0, false, rtt},
		{false, syn | ack, 0, false, rtt},
		{true, ack, 0, false, int64(2 * time.Millisecond)},
		{false, psh | ack, 41, false, rtt},                        // server identification
		{true, psh | ack, 1432, false, rtt},                       // client identification and KEXINIT
		{false, psh | ack, 1080, false, rtt},                      // server KEXINIT
		{true, psh | ack, 48, false, int64(5 * time.Millisecond)}, // ECDH init
		{false, psh | ack, 564, false, rtt},                       // ECDH reply, NEWKEYS
		{true, psh | ack, 64, false, int64(time.Millisecond)},     // NEWKEYS, service request
		{false, psh | ack, 52, false, rtt},                        // service accept
	}
	for i := range 3 {
		s = append(s, sstep{true, psh | ack, 132, false, int64(600 * time.Millisecond)}) // password
		if i < 2 {
			s = append(s, sstep{false, psh | ack, 52, false, rtt}) // failure
		}
	}
	return append(s,
		sstep{false, psh | ack, 84, false, int64(time.Millisecond)}, // too many authentication failures
		sstep{false, fin | ack, 0, false, rtt},
		sstep{true, fin | ack, 0, false, rtt},
		sstep{false, ack, 0, false, 0},
	)
}()

// planner is what a scenario's tracks are built with: its hosts and a
// random source for what they draw once (scan orders, ports).
type planner struct {
	scenario int
	roles    *roles
	rng      *rand.Rand
	span     int64
	rate     float64
}

// trackCtx is what a track makes a conversation with: its start (at), the
// track's random source, and the run to add it to.
type trackCtx struct {
	run      *runner
	scenario int
	rng      *rand.Rand
	at       int64
}

// clientPort gives the next ephemeral port of client ip in the scenario:
// ports go up by one from a start drawn from the address, in the
// scenario's own block of Linux's range 32768-60999, so no two
// conversations of a run share one until a client wraps its block.
func (r *runner) clientPort(scenario int, ip netip.Addr) uint16 {
	block := r.portBlock
	lo := 32768 + scenario*block
	k := portKey{scenario, ip.As4()}
	p, ok := r.ports[k]
	if !ok {
		h := fnv.New64a()
		a := ip.As4()
		h.Write(a[:])
		h.Write([]byte{byte(scenario)})
		var seed [8]byte
		be.PutUint64(seed[:], r.sc.cfg.Seed)
		h.Write(seed[:])
		p = uint16(lo + int(h.Sum64()%uint64(block)))
	}
	next := p + 1
	if int(next) >= lo+block {
		next = uint16(lo)
	}
	r.ports[k] = next
	return p
}

// newTalk makes a conversation of script from c's port cport (0: the
// client's next ephemeral port) to s's port sport at at; the caller sets
// the script's parameters, then calls add.
func (x *trackCtx) newTalk(at int64, script uint8, c, s host, cport, sport uint16) *talk {
	r := x.run
	var t *talk
	if n := len(r.free); n > 0 {
		t = r.free[n-1]
		r.free = r.free[:n-1]
	} else {
		t = new(talk)
	}
	*t = talk{next: at, script: script, c: c, s: s, sport: sport, retries: script != scProbe}
	t.cport = cport
	if cport == 0 {
		t.cport = r.clientPort(x.scenario, c.ip)
	}
	t.seqC, t.seqS = x.rng.Uint32(), x.rng.Uint32()
	switch {
	case s.unfiltered:
		t.rtt = rttResolver
	case c.eni == nil || s.eni == nil && !s.absent && !s.ip.IsPrivate():
		t.rtt = rttInternet
	default:
		t.rtt = rttVPC
	}
	if c.eni != nil && s.eni == nil && !s.absent && !s.unfiltered {
		t.nat = r.sc.roles.natFor(&c, s.ip)
	}
	return t
}

// add judges t, counts it and starts it.
func (x *trackCtx) add(t *talk) *talk {
	r := x.run
	t.id = r.nextID
	r.nextID++
	r.judge(t)
	s := &r.stats
	s.Flows++
	if t.script == scQuery {
		s.UDP++
	} else {
		s.TCP++
	}
	switch t.outcome {
	case outRefused:
		s.Refused++
	case outUnanswered:
		s.Unanswered++
	}
	heap.Push(&r.active, t)
	s.MaxFlows = max(s.MaxFlows, len(r.active))
	return t
}

// session adds a TCP request and response: q request segments of reqLen
// bytes, think, p response segments of respLen bytes.
func (x *trackCtx) session(at int64, c, s host, sport uint16, q, p, reqLen, respLen int, think time.Duration) *talk {
	t := x.newTalk(at, scSession, c, s, 0, sport)
	t.q, t.p, t.reqLen, t.respLen, t.think = uint16(q), uint16(p), uint16(reqLen), uint16(respLen), int64(think)
	return x.add(t)
}

// sessionRequestAt is the time from a session's SYN to its last request
// segment; sessionLength to its last packet.
func sessionRequestAt(rtt int64, q int) int64 { return 2*rtt + int64(q)*segGap }
func sessionLength(rtt int64, q, p int, think time.Duration) int64 {
	return 5*rtt + int64(q+p-1)*segGap + int64(think)
}

// ssh adds an SSH connection whose logins fail.
func (x *trackCtx) ssh(at int64, c, s host) *talk { return x.add(x.newTalk(at, scSSH, c, s, 0, 22)) }

// probe adds a scanner's SYN from port cport: scanners send every probe
// from one port, and try once.
func (x *trackCtx) probe(at int64, c, s host, cport, sport uint16) *talk {
	return x.add(x.newTalk(at, scProbe, c, s, cport, sport))
}

// upload adds a TCP connection that sends segs full segments (rounded up to
// an even number), one every iv.
func (x *trackCtx) upload(at int64, c, s host, sport uint16, segs int, iv int64) *talk {
	t := x.newTalk(at, scUpload, c, s, 0, sport)
	t.segs, t.iv = uint32(segs+segs%2), max(iv, 2000)
	return x.add(t)
}

// query adds a DNS query over UDP and its answer.
func (x *trackCtx) query(at int64, c, s host) *talk {
	return x.add(x.newTalk(at, scQuery, c, s, 0, 53))
}

// judge decides t's outcome from the filters on its path and sets its
// packet count: a client whose request gets no reply tries retryAttempts
// times (retryFirst, then twice as long), a scanner once.
func (r *runner) judge(t *talk) {
	req := t.request()
	rep := req
	rep.Src, rep.Dst, rep.SrcPort, rep.DstPort = req.Dst, req.Src, req.DstPort, req.SrcPort
	if req.Proto == packet.ProtoTCP {
		rep.TCPFlags = policy.FlagSYN | policy.FlagACK
	}
	twoLegs := uint8(1)
	if t.nat != nil {
		twoLegs = 2
	}
	t.reqLegs, t.repLegs = twoLegs, twoLegs
	if legs, ok := t.passes(req, true); !ok {
		t.outcome, t.reqLegs = outRefused, legs
	} else if t.s.absent {
		t.outcome = outNobody
	} else if legs, ok := t.passes(rep, false); !ok {
		t.outcome, t.repLegs = outUnanswered, legs
	}
	switch {
	case t.outcome == outOpen:
		t.n = t.openPackets()
	case !t.retries && t.outcome == outUnanswered:
		t.n = 2
	case !t.retries:
		t.n = 1
	case t.outcome == outUnanswered:
		t.n = 2 * retryAttempts // each try and its dropped reply
	default:
		t.n = retryAttempts
	}
}

// openPackets is the length of t's script when nothing is dropped.
func (t *talk) openPackets() uint32 {
	switch t.script {
	case scSession:
		return uint32(t.q) + uint32(t.p) + 6
	case scSSH:
		return uint32(len(sshScript))
	case scProbe:
		return 3
	case scUpload:
		return 3 + t.segs/2*3 + 3
	default:
		return 2
	}
}

// request is t's first packet as the filters see it.
func (t *talk) request() policy.Packet {
	p := policy.Packet{Src: t.c.ip, Dst: t.s.ip, SrcPort: t.cport, DstPort: t.sport, Proto: packet.ProtoTCP, TCPFlags: policy.FlagSYN}
	if t.script == scQuery {
		p.Proto, p.TCPFlags = packet.ProtoUDP, 0
	}
	return p
}

// passes follows packet p (from the client when fromClient, else the
// server's reply) along t's path, through every filter it meets: the
// sender's outbound, the NAT gateway's network ACL both ways, the
// receiver's inbound. It reports whether p gets through and, when it does
// not, in how many frames it was sent (the NAT gateway forwards only what
// its network ACL lets in).
func (t *talk) passes(p policy.Packet, fromClient bool) (uint8, bool) {
	if t.s.unfiltered {
		return 1, true
	}
	check := func(h *host, dir policy.Direction, p policy.Packet) bool {
		return h == nil || h.filter == nil || h.filter.Pass(dir, &p, !fromClient)
	}
	from, to := &t.c, &t.s
	if !fromClient {
		from, to = to, from
	}
	if !check(from, policy.Egress, p) {
		return 1, false
	}
	if t.nat == nil {
		return 1, check(to, policy.Ingress, p)
	}
	// through the NAT gateway: the internet side carries its address
	in, out := p, p
	if fromClient {
		out.Src = t.nat.ip
	} else {
		in.Dst = t.nat.ip
	}
	if !check(t.nat, policy.Ingress, in) {
		return 1, false
	}
	if !check(t.nat, policy.Egress, out) {
		return 2, false
	}
	return 2, check(to, policy.Ingress, out)
}

// step is t's packet idx.
func (t *talk) step() sstep {
	if t.outcome != outOpen {
		return t.failStep()
	}
	i := t.idx
	switch t.script {
	case scSession:
		q, p := uint32(t.q), uint32(t.p)
		switch {
		case i == 0:
			return sstep{fromClient: true, flags: syn, gap: t.rtt}
		case i == 1:
			return sstep{flags: syn | ack, gap: t.rtt}
		case i == 2:
			return sstep{fromClient: true, flags: ack, gap: segGap}
		case i < 3+q:
			gap := segGap
			if i == 2+q {
				gap = t.think
			}
			return sstep{fromClient: true, flags: psh | ack, payload: int(t.reqLen), gap: gap}
		case i < 3+q+p:
			gap := segGap
			if i == 2+q+p {
				gap = t.rtt
			}
			return sstep{flags: psh | ack, payload: int(t.respLen), gap: gap}
		case i == 3+q+p:
			return sstep{fromClient: true, flags: fin | ack, gap: t.rtt}
		case i == 4+q+p:
			return sstep{flags: fin | ack, gap: t.rtt}
		default:
			return sstep{fromClient: true, flags: ack}
		}
	case scSSH:
		st := sshScript[i]
		if st.gap < 0 {
			st.gap = t.rtt
		}
		return st
	case scProbe:
		switch i {
		case 0:
			return sstep{fromClient: true, flags: syn, gap: t.rtt}
		case 1:
			return sstep{flags: syn | ack, gap: t.rtt}
		default:
			return sstep{fromClient: true, flags: rst}
		}
	case scUpload:
		return t.uploadStep()
	default:
		return sstep{fromClient: i == 0, gap: t.rtt}
	}
}

// uploadStep scripts an upload: handshake, then pairs of full segments one
// iv apart, each pair acknowledged shortly after its second segment, then
// FIN both ways.
func (t *talk) uploadStep() sstep {
	i, data := t.idx, t.segs/2*3
	ackAfter := min(t.rtt, t.iv/2)
	switch {
	case i == 0:
		return sstep{fromClient: true, flags: syn, gap: t.rtt}
	case i == 1:
		return sstep{flags: syn | ack, gap: t.rtt}
	case i == 2:
		return sstep{fromClient: true, flags: ack, gap: t.iv}
	case i < 3+data:
		switch (i - 3) % 3 {
		case 0:
			return sstep{fromClient: true, flags: ack, payload: scenarioMSS, gap: t.iv}
		case 1:
			return sstep{fromClient: true, flags: psh | ack, payload: scenarioMSS, gap: ackAfter}
		default:
			gap := t.iv - ackAfter
			if i == 2+data {
				gap = t.rtt
			}
			return sstep{flags: ack, gap: gap}
		}
	case i == 3+data:
		return sstep{fromClient: true, flags: fin | ack, gap: t.rtt}
	case i == 4+data:
		return sstep{flags: fin | ack, gap: t.rtt}
	default:
		return sstep{fromClient: true, flags: ack}
	}
}

// failStep scripts a conversation that never gets going: the client's
// request again and again (a scanner's once) and, when the network lets
// the request through but drops the replies, the server's reply to each.
func (t *talk) failStep() sstep {
	attempt, reply := t.idx, false
	if t.outcome == outUnanswered {
		attempt, reply = t.idx/2, t.idx%2 == 1
	}
	st := sstep{fromClient: !reply, again: attempt > 0 && t.script != scQuery}
	if t.script != scQuery {
		st.flags = syn
		if reply {
			st.flags = syn | ack
		}
	}
	switch {
	case !t.retries:
		st.gap = t.rtt
	case t.outcome != outUnanswered:
		st.gap = retryFirst << attempt
	case reply:
		st.gap = retryFirst<<attempt - t.rtt
	default:
		st.gap = t.rtt
	}
	return st
}

// legs is the number of frames packet st is sent in.
func (t *talk) legs(st *sstep) uint8 {
	switch {
	case t.nat == nil:
		return 1
	case st.fromClient:
		return t.reqLegs
	default:
		return t.repLegs
	}
}

// emit sends t's next frame: the next leg of its current packet, or the
// first of its next packet.
func (r *runner) emit(t *talk) error {
	if t.leg == 0 {
		t.cur = t.step()
		t.first = t.next
		if t.cur.fromClient {
			t.ipidC++
		} else {
			t.ipidS++
		}
	}
	st := &t.cur
	n := r.build(t, st)
	if err := r.write(t.next, r.buf[:n]); err != nil {
		return err
	}
	t.leg++
	if t.leg < t.legs(st) {
		t.next += natDelay
		return nil
	}
	if !st.again {
		seq := &t.seqC
		if !st.fromClient {
			seq = &t.seqS
		}
		*seq += uint32(st.payload)
		if st.flags&(syn|fin) != 0 {
			*seq++
		}
	}
	t.leg = 0
	t.idx++
	t.next = max(t.first+st.gap, t.next)
	return nil
}

func (r *runner) write(at int64, frame []byte) error {
	ts := r.sc.start + at
	wire := len(frame)
	captured := wire
	if r.sc.cfg.SnapLen > 0 {
		captured = min(wire, r.sc.cfg.SnapLen)
	}
	if err := r.w.WritePacket(ts, frame[:captured], wire); err != nil {
		return err
	}
	s := &r.stats
	if s.Packets == 0 {
		r.firstTS = ts
	}
	r.lastTS = ts
	s.Packets++
	s.IPBytes += int64(wire - 14)
	return nil
}

// build writes the frame of t's current packet and leg into r.buf and
// returns its length.
func (r *runner) build(t *talk, st *sstep) int {
	b := r.buf[:]
	// who sends the frame to whom, at the link and IP layers
	var smac, dmac [6]byte
	var src, dst netip.Addr
	ttl := uint8(64)
	sender := &t.c
	if !st.fromClient {
		sender = &t.s
	}
	if sender.eni == nil {
		ttl = 52
	}
	switch {
	case t.nat == nil && st.fromClient:
		smac, dmac, src, dst = t.c.mac, t.s.mac, t.c.ip, t.s.ip
	case t.nat == nil:
		smac, dmac, src, dst = t.s.mac, t.c.mac, t.s.ip, t.c.ip
	case st.fromClient && t.leg == 0:
		smac, dmac, src, dst = t.c.mac, t.nat.mac, t.c.ip, t.s.ip
	case st.fromClient:
		smac, dmac, src, dst = t.nat.mac, RouterMAC, t.nat.ip, t.s.ip
		ttl--
	case t.leg == 0:
		smac, dmac, src, dst = RouterMAC, t.nat.mac, t.s.ip, t.nat.ip
	default:
		smac, dmac, src, dst = t.nat.mac, t.c.mac, t.s.ip, t.c.ip
		ttl--
	}
	copy(b[0:6], dmac[:])
	copy(b[6:12], smac[:])
	be.PutUint16(b[12:14], 0x0800)
	ip := b[14:34]
	l4 := b[34:]
	sport, dport := t.cport, t.sport
	if !st.fromClient {
		sport, dport = dport, sport
	}
	var proto uint8
	var l4Len int
	var sum uint32
	if t.script == scQuery {
		proto = packet.ProtoUDP
		be.PutUint16(l4[0:2], sport)
		be.PutUint16(l4[2:4], dport)
		be.PutUint16(l4[6:8], 0)
		n := dnsMessage(l4[8:], &conv{id: t.id}, !st.fromClient) // retries repeat the query
		l4Len = 8 + n
		be.PutUint16(l4[4:6], uint16(l4Len))
		sum = sum16(sum16(0, l4[8:8+n]), l4[:8])
	} else {
		proto = packet.ProtoTCP
		hlen := 20
		if st.flags&syn != 0 {
			hlen = 24 // MSS option
		}
		seq, ackn := t.seqC, t.seqS
		if !st.fromClient {
			seq, ackn = t.seqS, t.seqC
		}
		if st.again {
			seq-- // the SYN (or SYN-ACK) it repeats took one
		}
		be.PutUint16(l4[0:2], sport)
		be.PutUint16(l4[2:4], dport)
		be.PutUint32(l4[4:8], seq)
		if st.flags&ack == 0 {
			ackn = 0
		}
		be.PutUint32(l4[8:12], ackn)
		l4[12] = byte(hlen/4) << 4
		l4[13] = st.flags
		be.PutUint16(l4[14:16], 64240)
		be.PutUint32(l4[16:20], 0) // checksum, urgent pointer
		if hlen == 24 {
			l4[20], l4[21] = 2, 4
			be.PutUint16(l4[22:24], scenarioMSS)
		}
		copy(l4[hlen:], pattern[:st.payload])
		l4Len = hlen + st.payload
		sum = sum16(0, l4[:hlen]) + patternSum[st.payload]
	}
	ip[0], ip[1] = 0x45, 0
	be.PutUint16(ip[2:4], uint16(20+l4Len))
	id := t.ipidC
	if !st.fromClient {
		id = t.ipidS
	}
	be.PutUint16(ip[4:6], id)
	if proto == packet.ProtoTCP {
		be.PutUint16(ip[6:8], 0x4000) // DF
	} else {
		be.PutUint16(ip[6:8], 0)
	}
	ip[8], ip[9] = ttl, proto
	be.PutUint16(ip[10:12], 0)
	s4, d4 := src.As4(), dst.As4()
	copy(ip[12:16], s4[:])
	copy(ip[16:20], d4[:])
	be.PutUint16(ip[10:12], fold(sum16(0, ip)))
	sum = sum16(sum, ip[12:20]) + uint32(l4Len) + uint32(proto)
	if proto == packet.ProtoTCP {
		be.PutUint16(l4[16:18], fold(sum))
	} else {
		be.PutUint16(l4[6:8], udpChecksum(sum))
	}
	return 34 + l4Len
}
