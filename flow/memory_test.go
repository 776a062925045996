package flow

import (
	"net/netip"
	"runtime"
	"testing"
	"unsafe"
)

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"2GiB": 2 << 30, "512MiB": 512 << 20, "1.5G": 3 << 29, "100MB": 100_000_000, "4096": 4096,
		"64 KiB": 64 << 10, "1TiB": 1 << 40, "0": 0, "7B": 7,
	} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "GiB", "2 parsecs", "-1GiB", "1.2.3M", "2gib"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q): no error", in)
		}
	}
	for n, want := range map[int64]string{2 << 30: "2GiB", 3 << 29: "1.5GiB", 512 << 20: "512MiB", 100: "100B"} {
		if got := FormatSize(n); got != want {
			t.Errorf("FormatSize(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestDefaultMemoryBudget: a quarter of the smaller of the machine's memory
// and the cgroup's limit, read here independently of memoryLimit's parser.
func TestDefaultMemoryBudget(t *testing.T) {
	b := DefaultMemoryBudget()
	lim := memoryLimit()
	if lim <= 0 {
		t.Skip("no /proc/meminfo")
	}
	if b != lim/4 {
		t.Errorf("DefaultMemoryBudget() = %d, want a quarter of %d", b, lim)
	}
	if lim < 64<<20 || lim > 1<<50 {
		t.Errorf("memory limit %d is implausible", lim)
	}
}

// TestMemoryBudgetGivesSkipData: a budget with room for exactly one chunk
// of flows keeps the first 4096 flows of the window and drops every packet
// of the others.
//
// By hand: a Flow is 88 bytes (Key 48: two 16-byte addresses, capture 4,
// ports 2+2, five 1-byte fields, padding 1, rule 2; then packets, bytes,
// start, end 8 each, flags 1 padded to 8). A chunk of 4096 flows is
// 360 448 B. A table's index starts at 1024 uint32 slots (4 KiB) and doubles
// when more than half full: at the 513th, 1025th and 2049th flow, to 8192
// slots (32 KiB) for 4096 flows. One interval has two tables (the open
// window and the next, 4 KiB of index each). Room for 4096 flows:
// 360 448 + 32 768 + 4 096 = 397 312 B. The 4097th flow needs a second
// chunk (360 448 B more), which 430 000 B do not give. The next window fills
// the other table, whose index grows to 8192 slots too while the first
// keeps its own: 360 448 + 2 × 32 768 = 425 984 B, within 430 000.
func TestMemoryBudgetGivesSkipData(t *testing.T) {
	if flowBytes != 88 {
		t.Fatalf("a Flow is %d bytes; the arithmetic above assumes 88", flowBytes)
	}
	const flows, rounds = 5000, 3
	var o []Observation
	for r := 0; r < rounds; r++ {
		for i := 0; i < flows; i++ {
			src := netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)})
			o = append(o, pkt(1700000000+int64(r), src.String(), server, 1000, 80, 40, 0, 1))
		}
	}
	ws, st := run(t, Configuration{Shards: 1, MemoryBudget: 430_000, BatchSize: 64}, []int64{60}, o)
	if len(ws) != 1 {
		t.Fatalf("%d windows", len(ws))
	}
	if n := ws[0].Flows.Len(); n != 4096 {
		t.Errorf("flows %d, want 4096", n)
	}
	if got, want := ws[0].Skipped[0], uint64((flows-4096)*rounds); got != want || st.DroppedPackets != want || st.DroppedByBudget != want {
		t.Errorf("skipped %d, stats %d; want %d packets", got, st.DroppedPackets, want)
	}
	for i := 0; i < ws[0].Flows.Len(); i++ {
		if f := ws[0].Flows.At(i); f.Packets != rounds {
			t.Fatalf("flow %d has %d packets, want %d", i, f.Packets, rounds)
		}
	}
	if st.PeakTableBytes != 397_312 || st.MemoryBudget != 430_000 {
		t.Errorf("peak table bytes %d (want 397312), budget %d", st.PeakTableBytes, st.MemoryBudget)
	}
	// A window's chunks are given back once the sink is done with them:
	// the next window again has room for 4096 flows. (The sink runs
	// before the next window's packets only when the producer waits, so
	// this runs window by window.)
	var c collector
	a, _ := New(Configuration{Shards: 1, MemoryBudget: 430_000, BatchSize: 64}, c.sink)
	a.AddCapture(60)
	a.Start()
	for w := int64(0); w < 3; w++ {
		for i := range o {
			p := o[i]
			p.Time += w * 60e9
			a.Add(&p)
		}
		if w == 2 {
			break // Close closes the last
		}
		done := make(chan struct{})
		a.Advance(1700000040 + w*60) // the end of the window just filled
		a.Sync(func() { close(done) })
		<-done
	}
	st = a.Close()
	if len(c.windows) != 3 {
		t.Fatalf("%d windows", len(c.windows))
	}
	for i, w := range c.windows {
		if w.Flows.Len() != 4096 || w.Skipped[0] != (flows-4096)*rounds {
			t.Errorf("window %d: %d flows, %d packets skipped", i, w.Flows.Len(), w.Skipped[0])
		}
	}
	// Every chunk is given back; both tables keep their index, grown to
	// 8192 slots for the window with 4096 flows.
	if got := a.TableBytes(); got != 2*32768 {
		t.Errorf("table bytes after close: %d, want %d", got, 2*32768)
	}
}

// TestMemoryAccounting: the bytes charged against the budget are the heap
// the tables really take, as the runtime counts it (within 5%).
func TestMemoryAccounting(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates ~30 MB")
	}
	const flows = 300_000
	obs := benchObs(flows, flows)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	a, _ := New(Configuration{Shards: 2, BatchSize: 512}, func(*Window) {})
	a.AddCapture(60)
	a.Start()
	for k := range obs {
		a.Add(&obs[k])
	}
	a.flushPending()
	for a.LiveFlows() < flows {
		runtime.Gosched()
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	heap := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	charged := a.TableBytes()
	runtime.KeepAlive(obs)
	a.Close()
	if d := float64(heap-charged) / float64(charged); d < -0.05 || d > 0.05 {
		t.Errorf("charged %d B (%.1f B/flow), heap grew %d B (%.1f B/flow)", charged, float64(charged)/flows, heap, float64(heap)/flows)
	}
	t.Logf("charged %.1f B/flow, heap %.1f B/flow", float64(charged)/flows, float64(heap)/flows)
}

// TestKeyLayout: sameKey reads a Key as six words, which holds only while
// the key is 48 bytes with every byte a field's; and it agrees with ==.
func TestKeyLayout(t *testing.T) {
	var k Key
	if s := unsafe.Sizeof(k); s != 48 {
		t.Fatalf("Key is %d bytes, want 48", s)
	}
	fields := unsafe.Sizeof(k.Src) + unsafe.Sizeof(k.Dst) + unsafe.Sizeof(k.Capture) + unsafe.Sizeof(k.SrcPort) + unsafe.Sizeof(k.DstPort) +
		unsafe.Sizeof(k.Proto) + unsafe.Sizeof(k.Dir) + unsafe.Sizeof(k.Action) + unsafe.Sizeof(k.V4) + unsafe.Sizeof(k.TrafficPath) +
		unsafe.Sizeof(k.pad) + unsafe.Sizeof(k.Rule)
	if fields != 48 {
		t.Fatalf("Key's fields take %d bytes of 48: it has padding", fields)
	}
	a := Key{Src: [16]byte{1}, Dst: [16]byte{15: 2}, Capture: 3, SrcPort: 4, DstPort: 5, Proto: 6, Dir: 1, Action: 2, V4: true, TrafficPath: 7, Rule: 8}
	mut := []func(*Key){
		func(k *Key) { k.Src[15]++ }, func(k *Key) { k.Dst[0]++ }, func(k *Key) { k.Capture++ }, func(k *Key) { k.SrcPort++ },
		func(k *Key) { k.DstPort++ }, func(k *Key) { k.Proto++ }, func(k *Key) { k.Dir++ }, func(k *Key) { k.Action++ },
		func(k *Key) { k.V4 = false }, func(k *Key) { k.TrafficPath++ }, func(k *Key) { k.Rule++ },
	}
	b := a
	if !sameKey(&a, &b) {
		t.Error("equal keys differ")
	}
	for i, m := range mut {
		b := a
		m(&b)
		if sameKey(&a, &b) || a == b {
			t.Errorf("change %d: keys still equal", i)
		}
	}
}
