package insights

import (
	"fmt"
	"hash/maphash"
	"strings"
	"testing"
)

// TestGroupTable checks the group table against a Go map: keys short
// enough to sit in the record and longer ones, growth from a small index
// and from a presized one, sums kept per group, creation order, and the
// same group found again after every rehash.
func TestGroupTable(t *testing.T) {
	for _, tc := range []struct {
		name   string
		aggs   []aggSpec
		hint   int64
		keyLen func(i int) int
	}{
		{"short keys, sum", []aggSpec{{fn: "sum"}}, 0, func(i int) int { return 5 + i%20 }},
		{"long keys, count+max", []aggSpec{{fn: "count"}, {fn: "max"}}, 0, func(i int) int { return 30 + i%90 }},
		{"mixed, presized", []aggSpec{{fn: "sum"}}, 1 << 20, func(i int) int { return 1 + i%70 }},
		{"objects", []aggSpec{{fn: "count_distinct"}}, 100, func(i int) int { return 10 + i%50 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seed := maphash.MakeSeed()
			tab := newGroupTable(&cstats{aggs: tc.aggs}, seed, tc.hint)
			const groups = 150_000 // several record chunks and rehashes
			key := func(i int) string {
				k := fmt.Sprintf("k%d-", i)
				return k + strings.Repeat("x", max(0, tc.keyLen(i)-len(k)))
			}
			want := map[string]float64{}
			args := make([]Value, len(tc.aggs))
			for round := range 3 {
				for i := range groups {
					if round == 2 && i%3 != 0 {
						continue
					}
					id := key(i)
					h := maphash.String(seed, id)
					gi, slot := tab.find(h, id)
					if round == 0 && gi >= 0 {
						t.Fatalf("%q found before it was added", id)
					}
					if round > 0 && gi != i {
						t.Fatalf("round %d: %q is group %d, want %d", round, id, gi, i)
					}
					if gi < 0 {
						gi = tab.add(h, slot, id)
					}
					for k := range args {
						args[k] = numVal(float64(i % 7))
					}
					tab.updateVals(gi, args, 0, 0)
					want[id] += float64(i % 7)
				}
			}
			if tab.n != groups || len(want) != groups {
				t.Fatalf("%d groups, want %d", tab.n, groups)
			}
			for gi := range tab.n {
				id := tab.idOf(gi)
				if id != key(gi) {
					t.Fatalf("group %d has key %q, want %q", gi, id, key(gi))
				}
				res := tab.results(nil, gi)
				if tc.aggs[0].fn == "sum" && res[0].N != want[id] {
					t.Fatalf("group %q: sum %v, want %v", id, res[0].N, want[id])
				}
				if tc.aggs[0].fn == "count" {
					n := 2.0
					if gi%3 == 0 {
						n = 3
					}
					if res[0].N != n || res[1].N != float64(gi%7) {
						t.Fatalf("group %q: count %v max %v, want %v %v", id, res[0].N, res[1].N, n, gi%7)
					}
				}
				if tc.aggs[0].fn == "count_distinct" && res[0].N != 1 {
					t.Fatalf("group %q: count_distinct %v, want 1", id, res[0].N)
				}
			}
		})
	}
}
