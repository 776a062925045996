package flow

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
)

// chunked copies fs into chunks of chunkSize with the last partly filled,
// as a table holds its flows.
func chunked(fs []Flow) [][]Flow {
	var cs [][]Flow
	for len(fs) > 0 {
		k := min(len(fs), chunkSize)
		c := make([]Flow, k, chunkSize)
		copy(c, fs)
		cs = append(cs, c)
		fs = fs[k:]
	}
	return cs
}

func flatten(cs [][]Flow) []Flow {
	var out []Flow
	for _, c := range cs {
		out = append(out, c...)
	}
	return out
}

// randomFlows draws n distinct flows whose fields take few values, so that
// many share the leading fields of the order and the sort key cannot tell
// them apart, or take values over their whole range (wide), so that the
// key cannot hold them all (and, from dictFlows flows, their IPv4
// addresses have more /16 prefixes than a prefixDict ranks).
func randomFlows(rng *rand.Rand, n int, wide bool) []Flow {
	seen := map[Key]bool{}
	var fs []Flow
	pick := func(narrow, full int) int {
		if wide {
			return rng.IntN(full)
		}
		return rng.IntN(narrow)
	}
	for len(fs) < n {
		var k Key
		if rng.IntN(4) == 0 {
			// An IPv4 address and its IPv4-mapped IPv6 form have the
			// same bytes: only V4 tells the keys apart.
			k.Src = netip.AddrFrom4([4]byte{byte(10 + pick(3, 256)), byte(pick(2, 256)), byte(pick(2, 256)), byte(pick(3, 256))}).As16()
			k.V4 = rng.IntN(2) == 0
		} else {
			for i := range k.Src {
				k.Src[i] = byte(pick(2, 256))
			}
		}
		k.Dst[15] = byte(pick(2, 256))
		k.Dst[0] = byte(pick(2, 256))
		k.Capture = uint32(pick(3, 1<<20))
		k.SrcPort, k.DstPort = uint16(pick(3, 65536)), uint16(pick(2, 65536))
		k.Proto, k.Dir, k.Action = uint8(pick(2, 256)), uint8(pick(2, 3)), uint8(pick(2, 3))
		k.TrafficPath, k.Rule = uint8(pick(2, 8)), uint16(pick(2, 65536))
		if seen[k] {
			continue
		}
		seen[k] = true
		start := int64(pick(4, 1<<40)) - 3
		if wide && rng.IntN(2) == 0 {
			start = -start * 1000 // before 1970
		}
		fs = append(fs, Flow{Key: k, Packets: uint64(len(fs)), Start: start, End: start + int64(pick(3, 1<<30))})
	}
	return fs
}

// TestSortFlows: the key sort puts flows in the order slices.SortFunc with
// cmpFlow gives, for windows whose keys tie and windows whose fields
// overflow the key, across chunk boundaries, sorted by one goroutine or
// (from parallelSort flows) several.
func TestSortFlows(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for _, n := range []int{0, 1, 2, 3, 17, 600, chunkSize, chunkSize + 1, 3*chunkSize + 123, parallelSort + 3*chunkSize/2} {
		for _, wide := range []bool{false, true} {
			fs := randomFlows(rng, n, wide)
			want := slices.Clone(fs)
			slices.SortFunc(want, func(x, y Flow) int { return cmpFlow(&x, &y) })
			cs := chunked(fs)
			sortFlows(cs, n, make([]uint64, n))
			if got := flatten(cs); !slices.Equal(got, want) {
				t.Fatalf("n=%d wide=%v: order differs", n, wide)
			}
		}
	}
}

// TestSortFlowsByHand: flows whose order is written out: capture point,
// start, end, direction, then source address.
func TestSortFlowsByHand(t *testing.T) {
	a := netip.MustParseAddr("10.0.0.1").As16()
	b := netip.MustParseAddr("10.0.0.2").As16()
	want := []Flow{
		{Key: Key{Capture: 0, Src: b, V4: true}, Start: 100, End: 500},
		{Key: Key{Capture: 0, Src: a, V4: true}, Start: 101, End: 101},
		{Key: Key{Capture: 0, Src: b, V4: true}, Start: 101, End: 101},
		{Key: Key{Capture: 0, Src: a, V4: true, Dir: 1}, Start: 101, End: 101},
		{Key: Key{Capture: 0, Src: a, V4: true}, Start: 101, End: 102},
		{Key: Key{Capture: 1, Src: a, V4: true}, Start: 50, End: 60},
	}
	fs := []Flow{want[3], want[5], want[1], want[4], want[0], want[2]}
	cs := chunked(fs)
	sortFlows(cs, len(fs), make([]uint64, len(fs)))
	if got := flatten(cs); !slices.Equal(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

// TestMergeRuns: sorted runs dealt from one sorted window merge back into
// it, in full chunks, allocating at most one chunk more than there are
// runs, whatever the runs' sizes.
func TestMergeRuns(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	for _, tc := range []struct {
		n, runs int
		blocks  bool // runs hold whole capture points, as shards do
	}{
		{0, 2, false}, {5, 1, false}, {5, 3, false}, {3*chunkSize + 7, 2, true},
		{3*chunkSize + 7, 2, false}, {5*chunkSize - 1, 4, false}, {2 * chunkSize, 3, true},
	} {
		want := randomFlows(rng, tc.n, false)
		slices.SortFunc(want, func(x, y Flow) int { return cmpFlow(&x, &y) })
		parts := make([][]Flow, tc.runs)
		for _, f := range want {
			r := rng.IntN(tc.runs)
			if tc.blocks {
				r = int(f.Capture) % tc.runs
			}
			parts[r] = append(parts[r], f)
		}
		runs := make([][][]Flow, tc.runs)
		for i, p := range parts {
			runs[i] = chunked(p)
		}
		got, allocated := mergeRuns(runs)
		if got.Len() != tc.n {
			t.Fatalf("%+v: %d flows", tc, got.Len())
		}
		for i, c := range got.chunks {
			if i < len(got.chunks)-1 && len(c) != chunkSize {
				t.Fatalf("%+v: chunk %d of %d holds %d flows", tc, i, len(got.chunks), len(c))
			}
		}
		if !slices.Equal(got.Slice(), want) {
			t.Fatalf("%+v: order differs", tc)
		}
		if allocated > tc.runs+1 {
			t.Errorf("%+v: allocated %d chunks", tc, allocated)
		}
	}
}
