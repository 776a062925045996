package sim

import (
	"math"
	"net/netip"
	"testing"

	"github.com/vpcflow/vpcflow/capture"
	"github.com/vpcflow/vpcflow/packet"
)

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

// frameCheck decodes whole (unsnapped) frames one at a time with package
// packet and checks what the generator promises of each: valid Ethernet and
// IP, an endpoint's MAC on one side, good checksums (of whole datagrams for
// fragments, once both are in), time order, and a SYN first on every TCP
// connection. It tallies what the tests then look at.
type frameCheck struct {
	t   testing.TB
	eps map[[6]byte]bool // the endpoints' MACs
	// synFrom: a TCP connection first seen at or after this time must open
	// with a SYN; before it, it may be one under way (counted in midTCP)
	synFrom int64

	p           packet.Packet
	n           int64
	ipBytes     int64
	first, last int64
	perFlow     map[flowKey]int
	firstTCP    map[flowKey]uint8
	protos      map[uint8]int
	v6          int
	datagrams   map[fragKey]fragParts // fragmented datagrams in reassembly
	fragments   int
	reassembled int
	midTCP      int // connections first seen without their SYN
	eastWest    int // frames between two endpoints
}

func newFrameCheck(t testing.TB, eps []Endpoint) *frameCheck {
	c := &frameCheck{
		t: t, eps: map[[6]byte]bool{}, synFrom: math.MinInt64, first: -1,
		perFlow: map[flowKey]int{}, firstTCP: map[flowKey]uint8{}, protos: map[uint8]int{},
		datagrams: map[fragKey]fragParts{},
	}
	for _, e := range eps {
		c.eps[e.MAC] = true
	}
	return c
}

func (c *frameCheck) frame(f capture.Frame) {
	t, p, n := c.t, &c.p, c.n
	t.Helper()
	if f.LinkType != packet.LinkEthernet {
		t.Fatalf("packet %d: link type %v", n, f.LinkType)
	}
	if f.WireLen != len(f.Data) {
		t.Fatalf("packet %d: %d bytes of %d on the wire: frameCheck needs whole frames", n, len(f.Data), f.WireLen)
	}
	if reason := packet.Decode(f.LinkType, f.Data, p); reason != packet.OK {
		t.Fatalf("packet %d: %v", n, reason)
	}
	if f.TimestampNanos < c.last {
		t.Fatalf("packet %d goes back in time", n)
	}
	if c.first < 0 {
		c.first = f.TimestampNanos
	}
	c.last = f.TimestampNanos
	c.n++
	c.ipBytes += int64(p.IPLen)
	if int(p.IPLen)+14 != len(f.Data) {
		t.Fatalf("packet %d: IP length %d in a %d-byte frame", n, p.IPLen, len(f.Data))
	}
	if !c.eps[p.SrcMAC] && !c.eps[p.DstMAC] {
		t.Fatalf("packet %d: neither MAC (%x, %x) is an endpoint's", n, p.SrcMAC, p.DstMAC)
	}
	if c.eps[p.SrcMAC] && c.eps[p.DstMAC] {
		c.eastWest++
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
		c.v6++
		l4 = ip[40:]
		pseudo = append(append([]byte{}, ip[8:40]...), 0, 0, byte(len(l4)>>8), byte(len(l4)), 0, 0, 0, p.Proto)
	}
	if p.Proto == packet.ProtoICMP {
		pseudo = nil
	}
	if p.Fragment {
		// checked once both fragments of the datagram are in
		c.fragments++
		if p.IPVersion == 6 {
			l4 = l4[8:] // the Fragment header
		}
		k := fragKey{p.Src, p.Dst, p.FragID}
		d := c.datagrams[k]
		if p.FragOffset == 0 {
			d.first = append([]byte(nil), l4...)
		} else {
			d.rest = append([]byte(nil), l4...)
			d.offset = int(p.FragOffset)
		}
		c.datagrams[k] = d
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
			c.reassembled++
			delete(c.datagrams, k)
		}
	} else if checksum(pseudo, l4) != 0xffff {
		t.Fatalf("packet %d: bad %d checksum", n, p.Proto)
	}
	k := flowKey{p.Src, p.Dst, p.Proto, p.SrcPort, p.DstPort}
	c.perFlow[k]++
	c.protos[p.Proto]++
	if p.Proto == packet.ProtoTCP {
		// the first packet seen of a connection is the client's SYN
		if p.TCPFlags&packet.TCPSyn != 0 && p.TCPFlags&packet.TCPAck == 0 {
			if _, seen := c.firstTCP[k]; !seen {
				c.firstTCP[k] = p.TCPFlags
			}
		} else if _, seen := c.firstTCP[k]; !seen {
			rev := flowKey{p.Dst, p.Src, p.Proto, p.DstPort, p.SrcPort}
			if _, seen := c.firstTCP[rev]; !seen {
				if f.TimestampNanos >= c.synFrom {
					t.Fatalf("packet %d: TCP %+v before its SYN", n, k)
				}
				c.midTCP++
			}
			c.firstTCP[k] = p.TCPFlags
		}
	}
}

// largestFlow is the packet count of the largest unidirectional flow.
func (c *frameCheck) largestFlow() int {
	largest := 0
	for _, n := range c.perFlow {
		largest = max(largest, n)
	}
	return largest
}
