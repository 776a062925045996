package policy

import (
	"math/rand/v2"
	"testing"
)

// TestShardInvariants drives one shard through random inserts and
// evictions (tiny capacity, so the probe runs wrap and deletions shift)
// and checks after every step that each live entry is found by lookup and
// the live count is right: what backward-shift deletion must preserve.
func TestShardInvariants(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	tmo := [][numTC]int64{{1e18, 1e18, 1e18, 1e18, 1e18}}
	for _, capacity := range []int{1, 3, 17, 100} {
		s := newShard(capacity, tmo)
		live := map[ctKey]bool{}
		for step := 0; step < 3000; step++ {
			var k ctKey
			k.local[15] = byte(rng.IntN(4))
			k.remote[15] = byte(rng.IntN(64))
			k.lport = uint16(rng.IntN(8))
			k.proto = 6
			h := k.hash()
			if s.lookup(h, &k) < 0 {
				s.insert(slot{hash: h, last: int64(step), local: k.local, remote: k.remote, lport: k.lport, proto: 6}, int64(step))
				live[k] = true
			}
			n := 0
			for i := range s.slots {
				x := &s.slots[i]
				if x.hash == 0 {
					continue
				}
				n++
				key := ctKey{local: x.local, remote: x.remote, eni: x.eni, lport: x.lport, rport: x.rport, proto: x.proto, v6: x.v6}
				if s.lookup(x.hash, &key) != i {
					t.Fatalf("cap %d step %d: slot %d not found by lookup", capacity, step, i)
				}
			}
			if n != s.n || n > capacity {
				t.Fatalf("cap %d step %d: %d live slots, n=%d", capacity, step, n, s.n)
			}
			if s.lookup(h, &k) < 0 {
				t.Fatalf("cap %d step %d: just inserted key missing", capacity, step)
			}
		}
		if s.inserted-s.evicted != uint64(s.n) {
			t.Errorf("cap %d: inserted %d - evicted %d != live %d", capacity, s.inserted, s.evicted, s.n)
		}
		_ = live
	}
}
