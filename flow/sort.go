package flow

import (
	"encoding/binary"
	"math/bits"
	"slices"
	"unsafe"
)

// A window's flows reach the sink sorted (cmpFlow). The shard sorts its own
// table at the close, so shards sort in parallel, and the collector only
// merges their sorted runs. Sorting 88-byte flows through sort.Interface
// costs n log n comparisons that each fetch two flows from memory, and as
// many swaps; here each flow is instead reduced to one 64-bit sort key (the
// leading fields of the order, packed into as few bits as the window's
// values need, above the flow's position), the keys are sorted, the rare
// flows whose keys tie are ordered by cmpFlow, and the flows are moved to
// their places once, following the cycles of the permutation.

// Sort key digits, in the order cmpFlow compares the fields.
const (
	dCapture = iota
	dStart
	dEnd
	dDir
	dSrcHi
	dSrcLo
	dDstHi
	dDstLo
	dSrcPort
	dDstPort
	dProto
	dAction
	dTrafficPath
	dRule
	dV4
	nDigits
)

// digitsOf returns the fields of f cmpFlow compares, in its order, each as
// an unsigned number that orders as the field does (addresses as two
// big-endian words, signed times offset by 2^63).
func digitsOf(f *Flow, d *[nDigits]uint64) {
	const signBit = 1 << 63
	d[dCapture] = uint64(f.Capture)
	d[dStart] = uint64(f.Start) ^ signBit
	// For equal starts, the end orders as the duration does, which
	// takes fewer bits: most flows are short.
	d[dEnd] = uint64(f.End-f.Start) ^ signBit
	d[dDir] = uint64(f.Dir)
	d[dSrcHi] = binary.BigEndian.Uint64(f.Src[:8])
	d[dSrcLo] = binary.BigEndian.Uint64(f.Src[8:])
	d[dDstHi] = binary.BigEndian.Uint64(f.Dst[:8])
	d[dDstLo] = binary.BigEndian.Uint64(f.Dst[8:])
	d[dSrcPort] = uint64(f.SrcPort)
	d[dDstPort] = uint64(f.DstPort)
	d[dProto] = uint64(f.Proto)
	d[dAction] = uint64(f.Action)
	d[dTrafficPath] = uint64(f.TrafficPath)
	d[dRule] = uint64(f.Rule)
	var v4 uint64
	if f.V4 {
		v4 = 1
	}
	d[dV4] = v4
}

// keyLayout says how a flow's digits become its sort key: digit i, less
// its minimum over the window and shifted right by drop[i], goes at bit
// pos[i]; digits after the last one placed are left out (used[i] false).
type keyLayout struct {
	min   [nDigits]uint64
	pos   [nDigits]uint8
	drop  [nDigits]uint8
	used  [nDigits]bool
	exact bool // every digit placed whole: distinct flows have distinct keys
	nbits uint // bits below the digits: the flow's position
}

// layoutFor packs the digits of flows whose digits range over [lo, hi]
// into the bits of a key above nbits bits of position, most significant
// first, each in as many bits as its range needs; a digit that does not fit
// whole is cut to its top bits and ends the key.
func layoutFor(lo, hi *[nDigits]uint64, nbits uint) keyLayout {
	l := keyLayout{min: *lo, nbits: nbits, exact: true}
	pos := uint(64)
	for i := range nDigits {
		w := uint(bits.Len64(hi[i] - lo[i]))
		if w == 0 {
			continue // the same in every flow: it orders nothing
		}
		room := pos - nbits
		if room == 0 {
			l.exact = false
			break
		}
		l.used[i] = true
		if w > room {
			l.drop[i] = uint8(w - room)
			l.pos[i] = uint8(nbits)
			l.exact = false
			break
		}
		pos -= w
		l.pos[i] = uint8(pos)
	}
	return l
}

func (l *keyLayout) key(f *Flow, i int) uint64 {
	var d [nDigits]uint64
	digitsOf(f, &d)
	k := uint64(i)
	for j := range nDigits {
		if l.used[j] {
			k |= (d[j] - l.min[j]) >> l.drop[j] << l.pos[j]
		}
	}
	return k
}

// low is the lowest bit of the key the digits take: keys equal from it up
// tie.
func (l *keyLayout) low() uint {
	low := uint(64)
	for i := range nDigits {
		if l.used[i] {
			low = min(low, uint(l.pos[i]))
		}
	}
	return max(low, l.nbits)
}

// radixSort sorts keys by their bits from low up (most significant
// byte first, in place: the key array is all the memory a shard can spare),
// leaving keys equal in those bits in any order.
func radixSort(keys []uint64, low uint) {
	if low >= 64 {
		return
	}
	msdSort(keys, 56, low)
}

func msdSort(keys []uint64, shift, low uint) {
	for {
		if len(keys) <= 16 {
			insertionSort(keys, low)
			return
		}
		if len(keys) <= 512 {
			// Too few for a pass over 256 buckets to pay; ordering
			// by the whole key orders by its bits from low up too.
			slices.Sort(keys)
			return
		}
		var count [256]int
		for _, k := range keys {
			count[byte(k>>shift)]++
		}
		// A byte all keys share: go on to the next, without moving any.
		if count[byte(keys[0]>>shift)] == len(keys) {
			if shift <= low || shift < 8 {
				return
			}
			shift -= 8
			continue
		}
		var start, end [256]int
		sum := 0
		for b, c := range count {
			start[b], end[b] = sum, sum+c
			sum += c
		}
		// American flag sort: each bucket's next free place takes the
		// key found there if it belongs, else swaps it to its bucket.
		next := start
		for b := range 256 {
			for next[b] < end[b] {
				k := keys[next[b]]
				d := int(byte(k >> shift))
				for d != b {
					keys[next[d]], k = k, keys[next[d]]
					next[d]++
					d = int(byte(k >> shift))
				}
				keys[next[b]] = k
				next[b]++
			}
		}
		if shift <= low || shift < 8 {
			return
		}
		for b := range 256 {
			if end[b]-start[b] > 1 {
				msdSort(keys[start[b]:end[b]], shift-8, low)
			}
		}
		return
	}
}

func insertionSort(keys []uint64, low uint) {
	for i := 1; i < len(keys); i++ {
		k := keys[i]
		j := i
		for ; j > 0 && keys[j-1]>>low > k>>low; j-- {
			keys[j] = keys[j-1]
		}
		keys[j] = k
	}
}

// sortFlows sorts the n flows in chunks (all full but the last) in cmpFlow
// order, in place. scratch must hold n uint64; its contents are left
// undefined.
func sortFlows(chunks [][]Flow, n int, scratch []uint64) {
	if n < 2 {
		return
	}
	at := func(i int) *Flow { return &chunks[i>>chunkBits][i&(chunkSize-1)] }
	var lo, hi [nDigits]uint64
	digitsOf(at(0), &lo)
	hi = lo
	for _, c := range chunks {
		for i := range c {
			var d [nDigits]uint64
			digitsOf(&c[i], &d)
			for j := range nDigits {
				lo[j] = min(lo[j], d[j])
				hi[j] = max(hi[j], d[j])
			}
		}
	}
	nbits := uint(bits.Len(uint(n - 1)))
	l := layoutFor(&lo, &hi, nbits)
	keys := scratch[:n]
	for ci, c := range chunks {
		for i := range c {
			p := ci<<chunkBits + i
			keys[p] = l.key(&c[i], p)
		}
	}
	radixSort(keys, l.low())
	posMask := uint64(1)<<nbits - 1
	if !l.exact {
		// Keys that tie above the position bits: the fields left out
		// decide, compared whole.
		for i := 0; i < n; {
			j := i + 1
			for j < n && keys[j]>>nbits == keys[i]>>nbits {
				j++
			}
			if j-i > 1 {
				slices.SortFunc(keys[i:j], func(a, b uint64) int {
					return cmpFlow(at(int(a&posMask)), at(int(b&posMask)))
				})
			}
			i = j
		}
	}
	// keys[i]'s position bits say which flow goes to place i: follow each
	// cycle once, marking a place done by making it point at itself.
	for i := 0; i < n; i++ {
		from := int(keys[i] & posMask)
		if from == i {
			continue
		}
		tmp := *at(i)
		j := i
		for {
			k := int(keys[j] & posMask)
			keys[j] = uint64(j)
			if k == i {
				*at(j) = tmp
				break
			}
			*at(j) = *at(k)
			j = k
		}
	}
}

// sortTable sorts the flows of t, using its index (at least 2 slots of 4
// bytes per flow, and idle until the table's next window) as the scratch.
func (t *flowTable) sort() {
	if t.n < 2 {
		return
	}
	var scratch []uint64
	if len(t.index) >= 2*t.n {
		scratch = unsafe.Slice((*uint64)(unsafe.Pointer(&t.index[0])), len(t.index)/2)
	} else {
		scratch = make([]uint64, t.n)
	}
	sortFlows(t.chunks, t.n, scratch)
}

// mergeRuns merges runs of sorted flows (each a list of chunks, all full
// but the last) into one sorted Flows of full chunks. A run's chunk, once
// merged out, holds the output that follows, so the merge allocates only
// the few chunks needed before the first is free: it returns how many.
func mergeRuns(runs [][][]Flow) (Flows, int) {
	type run struct {
		chunks [][]Flow
		c, i   int // next flow: chunks[c][i]
	}
	var rs []*run
	total := 0
	for _, r := range runs {
		n := 0
		for _, c := range r {
			n += len(c)
		}
		if n > 0 {
			rs = append(rs, &run{chunks: r})
			total += n
		}
	}
	switch len(rs) {
	case 0:
		return Flows{}, 0
	case 1:
		return Flows{chunks: rs[0].chunks, n: total}, 0
	}
	var out Flows
	out.n = total
	var free [][]Flow
	allocated := 0
	var cur []Flow // the output chunk being filled
	head := func(r *run) *Flow { return &r.chunks[r.c][r.i] }
	for len(rs) > 0 {
		// The run with the least head, and the least head of the others.
		m := 0
		for k := 1; k < len(rs); k++ {
			if cmpFlow(head(rs[k]), head(rs[m])) < 0 {
				m = k
			}
		}
		var bound *Flow
		for k, r := range rs {
			if k != m && (bound == nil || cmpFlow(head(r), bound) < 0) {
				bound = head(r)
			}
		}
		r := rs[m]
		// Copy from r while it stays below bound, a span at a time.
		for {
			src := r.chunks[r.c][r.i:]
			k := 0
			if bound == nil {
				k = len(src)
			} else {
				for k < len(src) && cmpFlow(&src[k], bound) < 0 {
					k++
				}
			}
			for rest := src[:k]; len(rest) > 0; {
				if cur == nil || len(cur) == chunkSize {
					if cur != nil {
						out.chunks = append(out.chunks, cur)
					}
					if len(free) > 0 {
						cur, free = free[len(free)-1][:0], free[:len(free)-1]
					} else {
						cur = make([]Flow, 0, chunkSize)
						allocated++
					}
				}
				w := min(len(rest), chunkSize-len(cur))
				cur = append(cur, rest[:w]...)
				rest = rest[w:]
			}
			r.i += k
			if r.i < len(r.chunks[r.c]) {
				break // bound is next
			}
			// The chunk is merged out: it can take output.
			if cap(r.chunks[r.c]) == chunkSize {
				free = append(free, r.chunks[r.c])
			}
			r.chunks[r.c] = nil
			r.c, r.i = r.c+1, 0
			if r.c == len(r.chunks) {
				rs = slices.Delete(rs, m, m+1)
				break
			}
			if bound != nil && cmpFlow(head(r), bound) >= 0 {
				break
			}
		}
	}
	if len(cur) > 0 {
		out.chunks = append(out.chunks, cur)
	}
	return out, allocated
}
