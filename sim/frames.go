package sim

import "encoding/binary"

var be = binary.BigEndian

// pattern is the payload of data packets: fixed pseudo-random bytes whose
// checksum prefix sums are precomputed, so building a 1500-byte packet costs
// a header's worth of arithmetic, not a pass over the payload.
var (
	pattern    [3000]byte
	patternSum [len(pattern) + 1]uint32
)

func init() {
	x := uint32(2463534242)
	for i := range pattern {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		pattern[i] = byte(x)
	}
	var s uint32
	for n := 1; n <= len(pattern); n++ {
		if n%2 == 1 {
			s += uint32(pattern[n-1]) << 8
		} else {
			s += uint32(pattern[n-1])
		}
		patternSum[n] = s
	}
}

// sum16 adds b as big-endian 16-bit words (a final odd byte is the high half).
func sum16(s uint32, b []byte) uint32 {
	for len(b) >= 2 {
		s += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint32(b[0]) << 8
	}
	return s
}

func fold(s uint32) uint16 {
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return ^uint16(s)
}

// TCP flags
const (
	fin = 0x01
	syn = 0x02
	rst = 0x04
	psh = 0x08
	ack = 0x10
)

// step is what the next packet of a conversation is.
type step struct {
	fromClient bool
	flags      uint8
	payload    int
	dns        bool // payload is a DNS query (client) or answer (server)
	// again: the packet repeats its side's previous one (a retransmitted
	// SYN or SYN-ACK carries the sequence number of the first)
	again bool
}

// tcpStep scripts a connection of n packets: handshake, a request, server
// data with client ACKs every third packet, then FIN/ACK both ways (or a
// reset). Too short for all of it, the script is cut: 1 packet is an
// unanswered SYN, 2 a refused one.
func tcpStep(c *conv, mss int) step {
	i, n := c.idx, c.n
	switch {
	case n == 1:
		return step{fromClient: true, flags: syn}
	case n == 2:
		if i == 0 {
			return step{fromClient: true, flags: syn}
		}
		return step{flags: rst | ack}
	case i == 0:
		return step{fromClient: true, flags: syn}
	case i == 1:
		return step{flags: syn | ack}
	case i == 2:
		return step{fromClient: true, flags: ack}
	}
	if c.rst && n >= 4 && i == n-1 {
		return step{fromClient: true, flags: rst | ack}
	}
	if !c.rst && n >= 7 && i >= n-4 {
		switch n - i {
		case 4:
			return step{fromClient: true, flags: fin | ack}
		case 3:
			return step{flags: ack}
		case 2:
			return step{flags: fin | ack}
		default:
			return step{fromClient: true, flags: ack}
		}
	}
	m := i - 3
	switch {
	case m == 0:
		return step{fromClient: true, flags: psh | ack, payload: int(c.payloadC)}
	case m%3 == 0:
		return step{fromClient: true, flags: ack}
	default:
		return step{flags: psh | ack, payload: mss}
	}
}

// retryStep scripts a conversation that never gets going (see retryAttempts):
// the client's request (a SYN, or a UDP datagram) again and again and, when
// the network lets the request through but drops the replies, the server's
// reply to each.
func retryStep(c *conv) step {
	attempt, reply := c.idx, false
	if c.outcome == outUnanswered {
		attempt, reply = c.idx/2, c.idx%2 == 1
	}
	again := attempt > 0
	switch {
	case c.kind == kindTCP && reply:
		return step{flags: syn | ack, again: again}
	case c.kind == kindTCP:
		return step{fromClient: true, flags: syn, again: again}
	case reply:
		return step{payload: int(c.payloadC) / 2}
	default:
		return step{fromClient: true, payload: int(c.payloadC)}
	}
}

func (g *generator) step(c *conv) step {
	if c.outcome != outOpen && c.retries() {
		return retryStep(c)
	}
	switch c.kind {
	case kindTCP:
		mss := 1448
		if c.v6 {
			mss = 1428
		}
		return tcpStep(c, mss)
	case kindDNS:
		return step{fromClient: c.idx%2 == 0, dns: true}
	case kindNTP:
		return step{fromClient: c.idx%2 == 0, payload: 48}
	case kindICMP:
		// a ping whose requests are dropped keeps sending them
		return step{fromClient: c.idx%2 == 0 || c.outcome == outRefused, payload: 56}
	default:
		if c.replies && c.idx%2 == 1 {
			return step{fromClient: false, payload: int(c.payloadC) / 2}
		}
		return step{fromClient: true, payload: int(c.payloadC)}
	}
}

// emit builds the conversation's next frame and writes it.
func (g *generator) emit(c *conv) error {
	if c.kind == kindFrag {
		return g.emitFragment(c)
	}
	st := g.step(c)
	ep := &g.cfg.Endpoints[c.ep]
	b := g.buf[:]
	// Ethernet: frames from the endpoint go to the router, and back.
	fromLocal := st.fromClient == c.local
	localIP := ep.IPv4
	if c.v6 {
		localIP = ep.IPv6
	}
	peerMAC := RouterMAC
	if c.peerEP >= 0 {
		peerMAC = g.cfg.Endpoints[c.peerEP].MAC
	}
	if fromLocal {
		copy(b[0:6], peerMAC[:])
		copy(b[6:12], ep.MAC[:])
	} else {
		copy(b[0:6], ep.MAC[:])
		copy(b[6:12], peerMAC[:])
	}
	src, dst := c.peer, localIP
	if fromLocal {
		src, dst = localIP, c.peer
	}
	sport, dport := c.sport, c.cport
	if st.fromClient {
		sport, dport = c.cport, c.sport
	}
	ipOff := 14
	l4Off := ipOff + 20
	if c.v6 {
		be.PutUint16(b[12:14], 0x86DD)
		l4Off = ipOff + 40
	} else {
		be.PutUint16(b[12:14], 0x0800)
	}
	l4 := b[l4Off:]

	var proto uint8
	var l4Len int
	var sum uint32
	switch c.kind {
	case kindTCP:
		proto = 6
		hlen := 20
		if st.flags&syn != 0 {
			hlen = 24 // MSS option
		}
		be.PutUint16(l4[0:2], sport)
		be.PutUint16(l4[2:4], dport)
		seq, ackn := &c.seqC, c.seqS
		if !st.fromClient {
			seq, ackn = &c.seqS, c.seqC
		}
		if st.again {
			*seq-- // the SYN (or SYN-ACK) it repeats took one
		}
		be.PutUint32(l4[4:8], *seq)
		if st.flags&ack != 0 {
			be.PutUint32(l4[8:12], ackn)
		} else {
			be.PutUint32(l4[8:12], 0)
		}
		l4[12] = byte(hlen/4) << 4
		l4[13] = st.flags
		be.PutUint16(l4[14:16], 64240)
		be.PutUint32(l4[16:20], 0) // checksum, urgent pointer
		if hlen == 24 {
			mss := uint16(1460)
			if c.v6 {
				mss = 1440
			}
			l4[20], l4[21] = 2, 4
			be.PutUint16(l4[22:24], mss)
		}
		*seq += uint32(st.payload)
		if st.flags&(syn|fin) != 0 {
			*seq++
		}
		copy(l4[hlen:], pattern[:st.payload])
		l4Len = hlen + st.payload
		sum = sum16(0, l4[:hlen]) + patternSum[st.payload]
	case kindICMP:
		typ := uint8(8)
		if c.v6 {
			proto, typ = 58, 128
		} else {
			proto = 1
		}
		if !st.fromClient {
			typ = 0
			if c.v6 {
				typ = 129
			}
		}
		l4[0], l4[1] = typ, 0
		be.PutUint16(l4[2:4], 0)
		be.PutUint16(l4[4:6], c.cport)
		seqNo := c.idx/2 + 1
		if c.outcome == outRefused {
			seqNo = c.idx + 1 // requests only
		}
		be.PutUint16(l4[6:8], uint16(seqNo))
		copy(l4[8:], pattern[:st.payload])
		l4Len = 8 + st.payload
		sum = sum16(0, l4[:8]) + patternSum[st.payload]
	default:
		proto = 17
		be.PutUint16(l4[0:2], sport)
		be.PutUint16(l4[2:4], dport)
		be.PutUint16(l4[6:8], 0)
		n := st.payload
		if st.dns {
			n = dnsMessage(l4[8:], c, !st.fromClient)
			sum = sum16(0, l4[8:8+n])
		} else {
			copy(l4[8:], pattern[:n])
			sum = patternSum[n]
		}
		l4Len = 8 + n
		be.PutUint16(l4[4:6], uint16(l4Len))
		sum = sum16(sum, l4[:8])
	}

	ip := b[ipOff:l4Off]
	ttl := uint8(64)
	if !fromLocal {
		ttl = 52
	}
	if c.v6 {
		ip[0], ip[1], ip[2], ip[3] = 0x60, 0, 0, 0
		be.PutUint16(ip[4:6], uint16(l4Len))
		ip[6], ip[7] = proto, ttl
		s16, d16 := src.As16(), dst.As16()
		copy(ip[8:24], s16[:])
		copy(ip[24:40], d16[:])
		// pseudo-header: addresses, upper-layer length, next header
		sum = sum16(sum, ip[8:40]) + uint32(l4Len) + uint32(proto)
	} else {
		ip[0], ip[1] = 0x45, 0
		be.PutUint16(ip[2:4], uint16(20+l4Len))
		id := &c.ipidC
		if !st.fromClient {
			id = &c.ipidS
		}
		*id++
		be.PutUint16(ip[4:6], *id)
		if proto == 6 {
			be.PutUint16(ip[6:8], 0x4000) // DF
		} else {
			be.PutUint16(ip[6:8], 0)
		}
		ip[8], ip[9] = ttl, proto
		be.PutUint16(ip[10:12], 0)
		s4, d4 := src.As4(), dst.As4()
		copy(ip[12:16], s4[:])
		copy(ip[16:20], d4[:])
		be.PutUint16(ip[10:12], fold(sum16(0, ip[:20])))
		if proto != 1 { // ICMPv4 has no pseudo-header
			sum = sum16(sum, ip[12:20]) + uint32(l4Len) + uint32(proto)
		}
	}
	ck := fold(sum)
	switch proto {
	case 6:
		be.PutUint16(l4[16:18], ck)
	case 17:
		if ck == 0 {
			ck = 0xffff // zero means "no checksum" in UDP
		}
		be.PutUint16(l4[6:8], ck)
	default:
		be.PutUint16(l4[2:4], ck)
	}

	return g.write(c, b[:l4Off+l4Len])
}

// write records one frame at the conversation's current time.
func (g *generator) write(c *conv, frame []byte) error {
	n := len(frame)
	ts := g.start + c.next
	captured := n
	if g.cfg.SnapLen > 0 {
		captured = min(n, g.cfg.SnapLen)
	}
	if err := g.w.WritePacket(ts, frame[:captured], n); err != nil {
		return err
	}
	s := &g.stats
	if s.Packets == 0 {
		g.firstTS = ts
	}
	g.lastTS = ts
	s.Packets++
	s.IPBytes += int64(n - 14)
	return nil
}

// emitFragment sends one fragment of a client-to-server UDP datagram of
// 8+payloadC bytes: even packets are first fragments (UDP header, More
// Fragments), odd ones the rest. A conversation with an odd packet count
// ends with a datagram whose last fragment was lost.
func (g *generator) emitFragment(c *conv) error {
	ep := &g.cfg.Endpoints[c.ep]
	b := g.buf[:]
	peerMAC := RouterMAC
	if c.peerEP >= 0 {
		peerMAC = g.cfg.Endpoints[c.peerEP].MAC
	}
	copy(b[0:6], peerMAC[:])
	copy(b[6:12], ep.MAC[:])
	if c.v6 {
		be.PutUint16(b[12:14], 0x86DD)
	} else {
		be.PutUint16(b[12:14], 0x0800)
	}
	dgram := 8 + int(c.payloadC)
	first := c.idx%2 == 0
	if first {
		c.ipidC++
	}
	// fragment payload sizes: multiples of 8 that fit a 1500-byte MTU
	fragData := 1480
	hdr := 20
	if c.v6 {
		fragData, hdr = 1448, 48 // 40 + 8-byte Fragment header
	}
	ip := b[14:]
	data := ip[hdr:]
	var n, offset int
	if first {
		be.PutUint16(data[0:2], c.cport)
		be.PutUint16(data[2:4], c.sport)
		be.PutUint16(data[4:6], uint16(dgram))
		be.PutUint16(data[6:8], 0)
		copy(data[8:fragData], pattern[:fragData-8])
		n = fragData
	} else {
		offset = fragData
		n = copy(data, pattern[fragData-8:dgram-8])
	}
	var src, dst [16]byte
	if c.v6 {
		src, dst = ep.IPv6.As16(), c.peer.As16()
		ip[0], ip[1], ip[2], ip[3] = 0x60, 0, 0, 0
		be.PutUint16(ip[4:6], uint16(8+n))
		ip[6], ip[7] = 44, 64
		copy(ip[8:24], src[:])
		copy(ip[24:40], dst[:])
		fh := ip[40:48]
		fh[0], fh[1] = 17, 0
		mf := uint16(0)
		if first {
			mf = 1
		}
		be.PutUint16(fh[2:4], uint16(offset)|mf)
		be.PutUint32(fh[4:8], c.id<<16|uint32(c.ipidC))
		if first {
			// the checksum covers the whole datagram, with the pseudo-header
			sum := sum16(0, ip[8:40]) + uint32(dgram) + 17 + sum16(0, data[:8]) + patternSum[dgram-8]
			be.PutUint16(data[6:8], udpChecksum(sum))
		}
	} else {
		s4, d4 := ep.IPv4.As4(), c.peer.As4()
		ip[0], ip[1] = 0x45, 0
		be.PutUint16(ip[2:4], uint16(20+n))
		be.PutUint16(ip[4:6], c.ipidC)
		ff := uint16(offset / 8)
		if first {
			ff |= 0x2000
		}
		be.PutUint16(ip[6:8], ff)
		ip[8], ip[9] = 64, 17
		be.PutUint16(ip[10:12], 0)
		copy(ip[12:16], s4[:])
		copy(ip[16:20], d4[:])
		be.PutUint16(ip[10:12], fold(sum16(0, ip[:20])))
		if first {
			sum := sum16(0, ip[12:20]) + uint32(dgram) + 17 + sum16(0, data[:8]) + patternSum[dgram-8]
			be.PutUint16(data[6:8], udpChecksum(sum))
		}
	}
	return g.write(c, b[:14+hdr+n])
}

func udpChecksum(sum uint32) uint16 {
	if ck := fold(sum); ck != 0 {
		return ck
	}
	return 0xffff // zero means "no checksum" in UDP
}

// dnsMessage writes a query for an A (or AAAA) record of a host name derived
// from the conversation, or its answer, and returns its length.
func dnsMessage(b []byte, c *conv, answer bool) int {
	be.PutUint16(b[0:2], uint16(c.id)^uint16(c.idx/2))
	if answer {
		be.PutUint16(b[2:4], 0x8180)
		be.PutUint16(b[6:8], 1)
	} else {
		be.PutUint16(b[2:4], 0x0100)
		be.PutUint16(b[6:8], 0)
	}
	be.PutUint16(b[4:6], 1)
	be.PutUint32(b[8:12], 0)
	// QNAME: "hNNNNNNNN.example.com"
	n := 12
	const hex = "0123456789abcdef"
	b[n] = 9
	b[n+1] = 'h'
	for i := range 8 {
		b[n+2+i] = hex[(c.id>>(28-4*i))&0xf]
	}
	n += 10
	n += copy(b[n:], "\x07example\x03com\x00")
	qtype := uint16(1)
	if c.v6 {
		qtype = 28
	}
	be.PutUint16(b[n:], qtype)
	be.PutUint16(b[n+2:], 1)
	n += 4
	if !answer {
		return n
	}
	be.PutUint16(b[n:], 0xc00c) // pointer to the question's name
	be.PutUint16(b[n+2:], qtype)
	be.PutUint16(b[n+4:], 1)
	be.PutUint32(b[n+6:], 60)
	n += 10
	if qtype == 1 {
		be.PutUint16(b[n:], 4)
		b[n+2], b[n+3], b[n+4], b[n+5] = 203, 0, 113, byte(c.id)
		return n + 6
	}
	be.PutUint16(b[n:], 16)
	addr := [16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, byte(c.id >> 8), byte(c.id)}
	copy(b[n+2:], addr[:])
	return n + 18
}
