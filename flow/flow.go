package flow

import (
	"net/netip"
)

// TCP flag bits as AWS reports them in tcp-flags (docs/aws-behaviour.md,
// "TCP flags").
const (
	FlagFIN    = 1
	FlagSYN    = 2
	FlagRST    = 4
	FlagSYNACK = 16 // ACK, only reported as part of SYN-ACK
)

// AWSFlags reduces raw TCP header flags to the bits AWS reports: FIN, SYN,
// RST, and ACK only together with SYN.
func AWSFlags(raw uint8) uint8 {
	const fin, syn, rst, ack = 0x01, 0x02, 0x04, 0x10
	v := raw & (fin | syn | rst)
	if raw&syn != 0 && raw&ack != 0 {
		v |= FlagSYNACK
	}
	return v
}

// Key identifies a flow within a capture window: every field that does not
// aggregate (docs/aws-behaviour.md, "Aggregation and capture windows").
// Addresses are the packet's own (pkt-srcaddr,
// pkt-dstaddr); the interface-centric srcaddr/dstaddr are derived from them
// when records are written. The key holds no pointers, so large tables cost
// the garbage collector nothing to scan.
type Key struct {
	Src, Dst    [16]byte
	Capture     uint32 // capture point (ENI at one interval), see Aggregator.AddCapture
	SrcPort     uint16
	DstPort     uint16
	Proto       uint8
	Dir         uint8 // record.Direction
	Action      uint8 // record.ActionValue
	V4          bool
	TrafficPath uint8 // 0 = none
	pad         uint8 // always 0: the key has no padding, so sameKey compares words
	Rule        uint16
}

// SrcAddr returns the packet source address.
func (k *Key) SrcAddr() netip.Addr { return addrOf(k.Src, k.V4) }

// DstAddr returns the packet destination address.
func (k *Key) DstAddr() netip.Addr { return addrOf(k.Dst, k.V4) }

func addrOf(b [16]byte, v4 bool) netip.Addr {
	a := netip.AddrFrom16(b)
	if v4 {
		return a.Unmap()
	}
	return a
}

// Flow is one aggregated flow of a closed window.
type Flow struct {
	Key
	Packets  uint64
	Bytes    uint64
	Start    int64 // Unix seconds of the first packet
	End      int64 // Unix seconds of the last packet
	TCPFlags uint8 // AWS bits, OR-ed
	// hash is the low half of the flow's hash in its table (in the
	// padding after TCPFlags: the flow stays 88 bytes), so the index
	// grows without hashing every key again; zero once the window closes.
	hash uint32
}

// Observation is one packet seen at one capture point in one direction, with
// its verdict. The producer fills it from a decoded packet; it is copied into
// a batch, so the caller may reuse it.
type Observation struct {
	Time        int64 // Unix nanoseconds
	Src, Dst    netip.Addr
	Capture     uint32
	SrcPort     uint16
	DstPort     uint16
	Proto       uint8
	Dir         uint8
	Action      uint8
	TCPFlags    uint8 // AWS bits (see AWSFlags)
	TrafficPath uint8
	Rule        uint16
	Bytes       uint32 // IP-layer length
}

// obs is the compact batch form of an Observation.
type obs struct {
	key   Key
	sec   int64
	bytes uint32
	flags uint8
	iv    uint8 // interval index of key.Capture
	slot  uint8 // which of the interval's two open windows (slotOf)
}

// Window is the outcome of one closed capture window of one interval: every
// flow of every capture point with that interval, and the capture points that
// lost flows (SKIPDATA). Windows of one interval are delivered in time order,
// including windows without traffic, from the first packet's window to the
// last packet's.
type Window struct {
	Interval int64 // seconds
	Start    int64 // Unix seconds, a multiple of Interval
	// Flows are sorted by capture point, start, end, then key.
	Flows Flows
	// Skipped counts, per capture point, the new flows dropped because a
	// bound was reached; each such capture point gets a SKIPDATA record.
	Skipped map[uint32]uint64
	// Lost counts, per capture point, the packets lost before observation
	// (Aggregator.MarkLost) reported while this window was open; a loss
	// reported over a span that crosses a window boundary is counted in
	// both windows. Each such capture point gets a SKIPDATA record.
	Lost map[uint32]uint64
	// Early marks a window closed by Aggregator.Close before its end (the
	// end of the input, or a stop).
	Early bool
}

// End returns the end of the window (exclusive).
func (w *Window) End() int64 { return w.Start + w.Interval }

// Flows are the flows of a closed window, left in the fixed-size chunks the
// shards' tables filled, sorted there and merged in chunks as they empty:
// the window is never copied into one slice, which at the close of a large
// window held every flow twice (88 B each, a third of the resident memory
// per flow).
type Flows struct {
	chunks [][]Flow // every chunk but the last holds chunkSize flows
	n      int
}

// FlowsOf returns fs as Flows (it aliases fs), for windows built by hand.
func FlowsOf(fs []Flow) Flows {
	f := Flows{n: len(fs)}
	for len(fs) > 0 {
		k := min(len(fs), chunkSize)
		f.chunks = append(f.chunks, fs[:k:k])
		fs = fs[k:]
	}
	return f
}

// Len is the number of flows.
func (f *Flows) Len() int { return f.n }

// At returns flow i, 0 <= i < Len().
func (f *Flows) At(i int) *Flow { return &f.chunks[i>>chunkBits][i&(chunkSize-1)] }

// Slice returns a copy of the flows in one slice.
func (f *Flows) Slice() []Flow {
	out := make([]Flow, 0, f.n)
	for _, c := range f.chunks {
		out = append(out, c...)
	}
	return out
}

// Less, Swap: sort.Interface, for sorting in place.
func (f *Flows) Less(i, j int) bool { return lessFlow(f.At(i), f.At(j)) }
func (f *Flows) Swap(i, j int) {
	a, b := f.At(i), f.At(j)
	*a, *b = *b, *a
}
