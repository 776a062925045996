package flow

import (
	"net/netip"
	"testing"
)

// TestFlowTableTags: after the index has doubled seven times, every flow
// inserted is found at its own entry, keys never inserted are not, and the
// slots carry tags (bits above the entry number) that tell most of the
// flows apart without reading them.
func TestFlowTableTags(t *testing.T) {
	const n = 100_000
	ft := newFlowTable()
	key := func(i int) Key {
		return Key{Src: [16]byte{10: 0xff, 11: 0xff, 12: 10, 13: byte(i >> 16), 14: byte(i >> 8), 15: byte(i)}, SrcPort: uint16(i), V4: true}
	}
	for i := range n {
		k := key(i)
		h := ft.hash(&k)
		f, slot := ft.find(&k, h)
		if f != nil {
			t.Fatalf("flow %d found before it was inserted", i)
		}
		ft.insert(slot, h, Flow{Key: k, Packets: uint64(i)})
	}
	if len(ft.index) != 1<<18 {
		t.Fatalf("index has %d slots, want %d (half full at most)", len(ft.index), 1<<18)
	}
	tags := map[uint32]int{}
	for i := range n {
		k := key(i)
		f, slot := ft.find(&k, ft.hash(&k))
		if f == nil || f.Packets != uint64(i) {
			t.Fatalf("flow %d: found %+v", i, f)
		}
		e := ft.index[slot]
		if int(e&ft.entryMask) != i+1 {
			t.Fatalf("flow %d: slot holds entry %d", i, e&ft.entryMask)
		}
		tags[e>>18]++
	}
	// 14 tag bits over 100 000 flows: nearly all 16 384 values in use.
	if len(tags) < 16000 {
		t.Errorf("%d distinct tags", len(tags))
	}
	for i := n; i < n+1000; i++ {
		k := key(i)
		if f, _ := ft.find(&k, ft.hash(&k)); f != nil {
			t.Fatalf("flow %d found, never inserted", i)
		}
	}
}

// TestAddAddresses: the key holds each address as netip's As16 gives it,
// IPv4 (written as words) as IPv4-mapped, whatever was in the batch slot
// before (a second window reuses the batches).
func TestAddAddresses(t *testing.T) {
	addrs := []string{"10.1.2.3", "203.0.113.255", "2001:db8::7", "::ffff:10.1.2.3", "::"}
	var o []Observation
	for w := int64(0); w < 2; w++ {
		for i, s := range addrs {
			for j, d := range addrs {
				p := pkt(1700000040+60*w, s, d, uint16(i), uint16(j), 40, 0, 1)
				o = append(o, p)
			}
		}
	}
	ws, _ := run(t, Configuration{Shards: 1, BatchSize: 4}, []int64{60}, o)
	if len(ws) != 2 {
		t.Fatalf("%d windows", len(ws))
	}
	for _, w := range ws {
		if w.Flows.Len() != len(addrs)*len(addrs) {
			t.Fatalf("%d flows", w.Flows.Len())
		}
		for i := range w.Flows.Len() {
			f := w.Flows.At(i)
			src, dst := netip.MustParseAddr(addrs[f.SrcPort]), netip.MustParseAddr(addrs[f.DstPort])
			if f.Src != src.As16() || f.Dst != dst.As16() || f.V4 != src.Is4() {
				t.Errorf("%s > %s: key %x %x v4=%v", src, dst, f.Src, f.Dst, f.V4)
			}
			// One flag for both: a packet's addresses share a family.
			if src.Is4() == dst.Is4() && (f.SrcAddr() != src || f.DstAddr() != dst) {
				t.Errorf("%s > %s: addresses %s > %s", src, dst, f.SrcAddr(), f.DstAddr())
			}
		}
	}
}
