package pipeline

import (
	"container/heap"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/vpcflow/vpcflow/capture"
)

// tagSource yields frames whose Interface field tags them (input*1000 +
// position), at the given times.
type tagSource struct {
	tag int
	ts  []int64
	i   int
}

func (s *tagSource) Next() (capture.Frame, error) {
	if s.i == len(s.ts) {
		return capture.Frame{}, io.EOF
	}
	s.i++
	return capture.Frame{TimestampNanos: s.ts[s.i-1], Interface: s.tag*1000 + s.i - 1}, nil
}

func (s *tagSource) Close() error { return nil }

// merged runs the inputs' merge as runUnpaced does and returns the tags in
// the order the frames came out.
func merged(t *testing.T, times [][]int64) []string {
	t.Helper()
	var specs []Input
	for i, ts := range times {
		specs = append(specs, Input{Name: fmt.Sprint(i), Open: func() (capture.Source, error) { return &tagSource{tag: i, ts: ts}, nil }})
	}
	in, err := openInputs(specs, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer in.close()
	var out []string
	for {
		fr, ok := in.top()
		if !ok {
			return out
		}
		out = append(out, fmt.Sprintf("%d.%d@%d", fr.Interface/1000, fr.Interface%1000, fr.TimestampNanos))
		in.advance()
	}
}

// TestMergeOrder: frames of several inputs come out by time, each input's
// in its own order; the times are chosen so the expectation is plain.
func TestMergeOrder(t *testing.T) {
	got := merged(t, [][]int64{{1, 2, 3, 10, 11}, {4, 5, 12}, {6, 7, 8, 9}})
	want := []string{"0.0@1", "0.1@2", "0.2@3", "1.0@4", "1.1@5", "2.0@6", "2.1@7", "2.2@8", "2.3@9", "0.3@10", "0.4@11", "1.2@12"}
	if !slices.Equal(got, want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
	if got := merged(t, [][]int64{{5, 6, 7}}); !slices.Equal(got, []string{"0.0@5", "0.1@6", "0.2@7"}) {
		t.Errorf("one input: %v", got)
	}
}

// refItem and refHeap are the merge as it was written first: every frame
// goes through heap.Fix. advance skips the heap while its input stays
// first; the order must stay the same, ties included.
type refItem struct {
	tag, i int
	ts     []int64
}

type refHeap []*refItem

func (h refHeap) Len() int           { return len(h) }
func (h refHeap) Less(i, j int) bool { return h[i].ts[h[i].i] < h[j].ts[h[j].i] }
func (h refHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *refHeap) Push(x any)        { *h = append(*h, x.(*refItem)) }
func (h *refHeap) Pop() any {
	x := (*h)[len(*h)-1]
	*h = (*h)[:len(*h)-1]
	return x
}

func refMerge(times [][]int64) []string {
	var h refHeap
	for i, ts := range times {
		if len(ts) > 0 {
			heap.Push(&h, &refItem{tag: i, ts: ts})
		}
	}
	var out []string
	for len(h) > 0 {
		x := h[0]
		out = append(out, fmt.Sprintf("%d.%d@%d", x.tag, x.i, x.ts[x.i]))
		if x.i++; x.i == len(x.ts) {
			heap.Pop(&h)
		} else {
			heap.Fix(&h, 0)
		}
	}
	return out
}

// TestMergeTiesAsBefore: with many equal times across inputs, the merge
// gives the same order as one that fixes the heap after every frame.
func TestMergeTiesAsBefore(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		times := make([][]int64, 1+r.IntN(6))
		for i := range times {
			var ts int64
			for range r.IntN(40) {
				ts += int64(r.IntN(3)) // runs and ties
				times[i] = append(times[i], ts)
			}
		}
		if got, want := merged(t, times), refMerge(times); !slices.Equal(got, want) {
			t.Fatalf("round %d, times %v:\ngot  %v\nwant %v", round, times, got, want)
		}
	}
}
