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

// TestConcurrentDecide runs requests and replies from several goroutines
// on a small table (run with -race): every reply of a connection whose
// request was accepted and not evicted passes, and the counters add up.
func TestConcurrentDecide(t *testing.T) {
	top := load(t, "testdata/cases.yaml")
	e := engine(t, top, Config{MaxTracked: 4096, Shards: 4})
	eni := top.ENIByID("eni-b2")
	done := make(chan [2]int)
	for g := 0; g < 4; g++ {
		go func(g int) {
			acc, rej := 0, 0
			for i := 0; i < 2000; i++ {
				port := uint16(1024 + g*2000 + i)
				req := pkt(t, "udp 10.0.2.40:5000 198.51.100.53:53")
				req.SrcPort = port
				rep := pkt(t, "udp 198.51.100.53:53 10.0.2.40:5000")
				rep.DstPort = port
				e.Decide(eni, Egress, req, int64(i))
				if e.Decide(eni, Ingress, rep, int64(i)).Accept {
					acc++
				} else {
					rej++
				}
			}
			done <- [2]int{acc, rej}
		}(g)
	}
	acc := 0
	for g := 0; g < 4; g++ {
		r := <-done
		acc += r[0]
	}
	st := e.Stats()
	if st.Inserted != 8000 || st.Hits != uint64(acc) || st.Tracked > 4096 || uint64(st.Tracked) != st.Inserted-st.Evicted-st.Expired {
		t.Errorf("accepted %d, stats %+v", acc, st)
	}
	if acc < 8000-4096 {
		t.Errorf("only %d of 8000 replies passed", acc)
	}
}
