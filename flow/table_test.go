package flow

import "testing"

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
