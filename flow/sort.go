package flow

import (
	"encoding/binary"
	"math/bits"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"
)

// A window's flows reach the sink sorted (cmpFlow). The shard sorts its own
// table at the close, so shards sort in parallel, and the collector only
// merges their sorted runs. Sorting 88-byte flows through sort.Interface
// costs n log n comparisons that each fetch two flows from memory, and as
// many swaps; here each flow is instead reduced to one 64-bit sort key (the
// leading fields of the order, packed into as few bits as the window's
// values need, above the flow's position), the keys are radix-sorted, the
// flows whose keys tie are sorted again by keys of the fields they do not
// share (the last few by comparing those fields), and the flows are moved
// to their places once, following the cycles of the permutation.

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

// nClasses: a flow's class is its direction (up to 3) and address family.
// Keys give each class its own layout of the digits from the source
// address on. Mixed together, the IPv6 addresses' high words span 60-odd
// bits, and the IPv4 flows, which all share a high word of zero, would
// spend the key's room on them and tie; and a direction's flows share one
// of the addresses (the interface's own), which the other direction's
// flows spread out.
const nClasses = 8

// classOf is the class of a flow's digits: its family is 0 for IPv4
// (IPv4-mapped) sources, whose high word is zero, 1 for the others.
func classOf(d *[nDigits]uint64) int {
	c := 2 * int(min(d[dDir], 3))
	if d[dSrcHi] != 0 {
		c++
	}
	return c
}

// ranges are the least and greatest digits of a set of flows, by class,
// and, when dicts is set, the prefixes of their addresses' low words.
type ranges struct {
	lo, hi [nClasses][nDigits]uint64
	has    [nClasses]bool
	dicts  *[2]prefixDict // of dSrcLo, dDstLo
}

// Addresses cluster: the peers of an interface come from a few networks
// (its VPC, a resolver, a handful of services), and an IPv4 address spread
// over the key by its range takes 32 bits, which the key has not left
// after the times, so a window's flows would tie in groups of hundreds.
// A prefixDict ranks the distinct upper 48 bits of an address's low word
// (for IPv4, 0xffff and the first two bytes): an address then takes as many
// bits as its rank needs and 16, 18 in all for four /16s, in the same
// order.
type prefixDict struct {
	slot [dictSlots]uint64 // prefix+1; 0 = empty
	rank [dictSlots]uint16
	n    int
	over bool // more than dictMax prefixes: not used
}

const (
	dictSlots = 1 << 12
	dictMax   = dictSlots / 2
)

func (d *prefixDict) find(prefix uint64) int {
	i := int((prefix + 1) * 0x9e3779b97f4a7c15 >> 52)
	for d.slot[i] != 0 && d.slot[i] != prefix+1 {
		i = (i + 1) & (dictSlots - 1)
	}
	return i
}

func (d *prefixDict) add(prefix uint64) {
	if d.over {
		return
	}
	if i := d.find(prefix); d.slot[i] == 0 {
		if d.n == dictMax {
			d.over = true
			return
		}
		d.slot[i] = prefix + 1
		d.n++
	}
}

func (d *prefixDict) merge(o *prefixDict) {
	if o.over {
		d.over = true
	}
	for _, v := range o.slot {
		if v != 0 {
			d.add(v - 1)
		}
	}
}

// finish ranks the prefixes in their order.
func (d *prefixDict) finish() {
	if d.over {
		return
	}
	ps := make([]uint64, 0, d.n)
	for _, v := range d.slot {
		if v != 0 {
			ps = append(ps, v-1)
		}
	}
	slices.Sort(ps)
	for r, p := range ps {
		d.rank[d.find(p)] = uint16(r)
	}
}

// of maps a low word to its rank's: one of the words added, in their order.
func (d *prefixDict) of(w uint64) uint64 {
	return uint64(d.rank[d.find(w>>16)])<<16 | w&0xffff
}

// dictDigits are the digits prefixDicts rank, in the order of ranges.dicts.
var dictDigits = [2]int{dSrcLo, dDstLo}

// add takes in f, whose digits before from are known to be those of
// every flow added.
func (r *ranges) add(f *Flow, from int) {
	var d [nDigits]uint64
	digitsOf(f, &d)
	c := classOf(&d)
	if r.dicts != nil && c&1 == 0 {
		r.dicts[0].add(d[dSrcLo] >> 16)
		r.dicts[1].add(d[dDstLo] >> 16)
	}
	if !r.has[c] {
		r.has[c] = true
		r.lo[c], r.hi[c] = d, d
		return
	}
	lo, hi := &r.lo[c], &r.hi[c]
	for j := from; j < nDigits; j++ {
		lo[j] = min(lo[j], d[j])
		hi[j] = max(hi[j], d[j])
	}
}

// merge takes in the flows of o.
func (r *ranges) merge(o *ranges) {
	if r.dicts != nil {
		for i := range r.dicts {
			r.dicts[i].merge(&o.dicts[i])
		}
	}
	for c := range nClasses {
		switch {
		case !o.has[c]:
		case !r.has[c]:
			r.has[c], r.lo[c], r.hi[c] = true, o.lo[c], o.hi[c]
		default:
			for j := range nDigits {
				r.lo[c][j] = min(r.lo[c][j], o.lo[c][j])
				r.hi[c][j] = max(r.hi[c][j], o.hi[c][j])
			}
		}
	}
}

// digitLayout says how a flow's digits become its sort key: digit j, less
// its least value and shifted right by drop[j], goes at bit pos[j], for
// the digits in list.
type digitLayout struct {
	min  [nDigits]uint64
	pos  [nDigits]uint8
	drop [nDigits]uint8
	list [nDigits]uint8
	n    int // digits in list
}

// pack places digits from..to-1, ranging over [lo, hi], below bit pos and
// above bit nbits, most significant first, each in as many bits as its
// range needs; a digit that does not fit whole is cut to its top bits and
// ends the key. It returns the lowest bit taken and the first digit not
// placed whole (to when none).
func (p *digitLayout) pack(lo, hi *[nDigits]uint64, from, to int, pos, nbits uint) (uint, int) {
	for j := from; j < to; j++ {
		w := uint(bits.Len64(hi[j] - lo[j]))
		if w == 0 {
			continue // the same in every flow: it orders nothing
		}
		room := pos - nbits
		if room == 0 {
			return pos, j
		}
		p.min[j] = lo[j]
		p.list[p.n] = uint8(j)
		p.n++
		if w > room {
			p.drop[j] = uint8(w - room)
			p.pos[j] = uint8(nbits)
			return nbits, j
		}
		pos -= w
		p.pos[j] = uint8(pos)
	}
	return pos, to
}

// keyLayout makes a flow's 64-bit sort key: its position in the table in
// the low nbits bits, and above them the digits that vary, packed
// (digitLayout): the ones before the source address alike for all flows,
// then a bit for the family, then the rest by each class's own layout.
type keyLayout struct {
	class    [nClasses]digitLayout
	split    bool  // a bit at familyAt tells the families apart
	familyAt uint8 //
	exact    bool  // every varying digit placed whole: distinct flows have distinct keys
	rest     int   // when not exact, flows whose keys tie share the digits before this one
	nbits    uint
	low      uint // the lowest bit the digits take: keys equal from it up tie
	// dict[i], when set, ranks digit dictDigits[i] (prefixDict) of
	// family 0's flows.
	dict [2]*prefixDict
}

func layoutFor(r *ranges, nbits uint) keyLayout {
	l := keyLayout{nbits: nbits}
	var lo, hi [nDigits]uint64
	var fams [2]bool
	first := true
	for c := range nClasses {
		if !r.has[c] {
			continue
		}
		fams[c&1] = true
		if first {
			lo, hi, first = r.lo[c], r.hi[c], false
			continue
		}
		for j := range nDigits {
			lo[j] = min(lo[j], r.lo[c][j])
			hi[j] = max(hi[j], r.hi[c][j])
		}
	}
	// Digits before the source address: the same for every class.
	shared := &l.class[0]
	pos, rest := shared.pack(&lo, &hi, 0, dSrcHi, 64, nbits)
	low := pos
	if rest == dSrcHi && pos > nbits {
		if fams[0] && fams[1] {
			l.split = true
			pos--
			l.familyAt = uint8(pos)
			low = pos
		}
		rest = nDigits
		if r.dicts != nil {
			for i := range r.dicts {
				if d := &r.dicts[i]; !d.over {
					d.finish()
					l.dict[i] = d
				}
			}
		}
		for c := nClasses - 1; c >= 0; c-- {
			l.class[c] = *shared
			if !r.has[c] {
				continue
			}
			lo, hi := r.lo[c], r.hi[c]
			for i, d := range l.dict {
				// Family 0's ranked digits range over their ranks' words.
				if j := dictDigits[i]; d != nil && c&1 == 0 {
					lo[j], hi[j] = d.of(lo[j]), d.of(hi[j])
				}
			}
			p, r := l.class[c].pack(&lo, &hi, dSrcHi, nDigits, pos, nbits)
			low = min(low, p)
			rest = min(rest, r)
		}
	} else {
		if rest == dSrcHi {
			low, rest = shared.pack(&lo, &hi, dSrcHi, nDigits, pos, nbits)
		}
		for c := 1; c < nClasses; c++ {
			l.class[c] = *shared
		}
	}
	l.exact = rest == nDigits
	l.rest = rest
	l.low = max(low, nbits)
	return l
}

func (l *keyLayout) key(f *Flow, i int) uint64 {
	var d [nDigits]uint64
	digitsOf(f, &d)
	k := uint64(i)
	c := classOf(&d)
	if c&1 == 0 {
		for i, dict := range l.dict {
			if dict != nil {
				d[dictDigits[i]] = dict.of(d[dictDigits[i]])
			}
		}
	}
	if l.split {
		k |= uint64(c&1) << l.familyAt
	}
	p := &l.class[c]
	for _, j := range p.list[:p.n] {
		k |= (d[j] - p.min[j]) >> p.drop[j] << p.pos[j]
	}
	return k
}

// radixSort sorts keys by their bits from low up (most significant
// byte first, in place: the key array is all the memory a shard can spare),
// leaving keys equal in those bits in any order.
func radixSort(keys []uint64, low uint) {
	if low >= 64 || len(keys) < 2 {
		return
	}
	if len(keys) <= 64 {
		insertionSort(keys, low)
		return
	}
	var start, end [256]int
	if !radixPass(keys, low, &start, &end) {
		return
	}
	for b := range 256 {
		if end[b]-start[b] > 1 {
			radixSort(keys[start[b]:end[b]], low)
		}
	}
}

// radixPass puts keys in order of one byte: the highest that differs among
// them above bit low (addresses and ports cluster, and a byte all keys
// share would cost a pass). keys[start[b]:end[b]] are the keys of byte
// value b (all keys in bucket 0 when none differ); more says whether bits
// below the byte are left to sort by.
func radixPass(keys []uint64, low uint, start, end *[256]int) (more bool) {
	var diff uint64
	for _, k := range keys {
		diff |= k ^ keys[0]
	}
	diff = diff >> low << low
	if diff == 0 {
		*start, *end = [256]int{}, [256]int{0: len(keys)}
		return false
	}
	shift := uint(max(bits.Len64(diff)-8, int(low)))
	var count [256]int
	for _, k := range keys {
		count[byte(k>>shift)]++
	}
	sum := 0
	for b, c := range count {
		start[b], end[b] = sum, sum+c
		sum += c
	}
	// American flag sort: each bucket's next free place takes the key
	// found there if it belongs, else swaps it to its bucket.
	next := *start
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
	return shift > low
}

// insertionSort sorts a few keys by their bits from low up.
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
	s := sorter{chunks: chunks, nbits: uint(bits.Len(uint(n - 1)))}
	s.mask = uint64(1)<<s.nbits - 1
	w := 1
	if n >= parallelSort {
		w = min(runtime.GOMAXPROCS(0), maxSortWorkers)
	}
	// Each worker reads and keys a share of the chunks.
	share := func(k int) [][]Flow { return chunks[k*len(chunks)/w : (k+1)*len(chunks)/w] }
	rs := make([]ranges, w)
	if n >= dictFlows {
		for k := range rs {
			rs[k].dicts = new([2]prefixDict)
		}
	}
	parallel(w, func(k int) {
		for _, c := range share(k) {
			for i := range c {
				rs[k].add(&c[i], 0)
			}
		}
	})
	for k := 1; k < w; k++ {
		rs[0].merge(&rs[k])
	}
	l := layoutFor(&rs[0], s.nbits)
	keys := scratch[:n]
	parallel(w, func(k int) {
		first := k * len(chunks) / w
		for ci, c := range share(k) {
			ci += first
			for i := range c {
				p := ci<<chunkBits + i
				keys[p] = l.key(&c[i], p)
				c[i].hash = 0 // the table's business, not the window's
			}
		}
	})
	if w == 1 {
		radixSort(keys, l.low)
		if !l.exact {
			s.ties(keys, 0, l.rest)
		}
	} else {
		// One pass over all keys; the buckets it leaves are sorted,
		// and their ties resolved, by whichever worker is free.
		var start, end [256]int
		more := radixPass(keys, l.low, &start, &end)
		var next atomic.Int32
		parallel(w, func(int) {
			for b := int(next.Add(1) - 1); b < 256; b = int(next.Add(1) - 1) {
				bucket := keys[start[b]:end[b]]
				if more {
					radixSort(bucket, l.low)
				}
				if !l.exact {
					s.ties(bucket, 0, l.rest)
				}
			}
		})
	}
	// keys[i]'s position bits say which flow goes to place i: follow each
	// cycle once, marking a place done by making it point at itself.
	for i := 0; i < n; i++ {
		from := int(keys[i] & s.mask)
		if from == i {
			continue
		}
		tmp := *s.at(i)
		j := i
		for {
			k := int(keys[j] & s.mask)
			keys[j] = uint64(j)
			if k == i {
				*s.at(j) = tmp
				break
			}
			*s.at(j) = *s.at(k)
			j = k
		}
	}
}

// parallelSort is the fewest flows sortFlows spreads over goroutines, at
// most maxSortWorkers: a window that large closes seldom, and its sort is
// what stands between the end of a capture and its last records.
const (
	parallelSort   = 1 << 16
	maxSortWorkers = 4
)

// dictFlows is the fewest flows whose sort ranks their addresses'
// prefixes (prefixDict, 80 KiB a worker).
const dictFlows = 1 << 14

// parallel runs f(0) ... f(w-1) at once and waits for them.
func parallel(w int, f func(k int)) {
	if w == 1 {
		f(0)
		return
	}
	var wg sync.WaitGroup
	for k := 1; k < w; k++ {
		wg.Go(func() { f(k) })
	}
	f(0)
	wg.Wait()
}

type sorter struct {
	chunks [][]Flow
	nbits  uint   // position bits of a key
	mask   uint64 // the position bits
}

func (s *sorter) at(i int) *Flow { return &s.chunks[i>>chunkBits][i&(chunkSize-1)] }

// maxKeyDepth bounds the rounds of keys for flows that keep tying; the
// last ones are ordered by cmpFlow.
const maxKeyDepth = 8

// ties orders the runs of keys, sorted, that tie above the position bits
// (their flows share the digits before rest): each run again by keys, made
// of the digits its flows do not share, until none tie.
func (s *sorter) ties(keys []uint64, depth, rest int) {
	for i := 0; i < len(keys); {
		j := i + 1
		for j < len(keys) && keys[j]>>s.nbits == keys[i]>>s.nbits {
			j++
		}
		if j-i > 1 {
			s.sortRun(keys[i:j], depth+1, rest)
		}
		i = j
	}
}

// smallRun is the most flows of a run sortSmall sorts.
const smallRun = 24

// sortRun sorts keys whose flows share the digits before rest.
func (s *sorter) sortRun(keys []uint64, depth, rest int) {
	if len(keys) <= smallRun {
		s.sortSmall(keys, rest)
		return
	}
	if depth > maxKeyDepth {
		slices.SortFunc(keys, func(a, b uint64) int {
			return cmpFlow(s.at(int(a&s.mask)), s.at(int(b&s.mask)))
		})
		return
	}
	var r ranges
	for _, k := range keys {
		r.add(s.at(int(k&s.mask)), rest)
	}
	l := layoutFor(&r, s.nbits)
	for i, k := range keys {
		p := int(k & s.mask)
		keys[i] = l.key(s.at(p), p)
	}
	radixSort(keys, l.low)
	if !l.exact {
		s.ties(keys, depth, l.rest)
	}
}

// sortSmall sorts a few keys whose flows share the digits before rest by
// the others, compared in turn: an insertion sort of their digits.
func (s *sorter) sortSmall(keys []uint64, rest int) {
	var d [smallRun][nDigits]uint64
	var order [smallRun]uint8
	for i, k := range keys {
		digitsOf(s.at(int(k&s.mask)), &d[i])
		order[i] = uint8(i)
	}
	less := func(a, b uint8) bool {
		x, y := &d[a], &d[b]
		for j := rest; j < nDigits; j++ {
			if x[j] != y[j] {
				return x[j] < y[j]
			}
		}
		return false
	}
	for i := 1; i < len(keys); i++ {
		o := order[i]
		j := i
		for ; j > 0 && less(o, order[j-1]); j-- {
			order[j] = order[j-1]
		}
		order[j] = o
	}
	var sorted [smallRun]uint64
	for i := range keys {
		sorted[i] = keys[order[i]]
	}
	copy(keys, sorted[:len(keys)])
}

// sortTable sorts the flows of t, using its index (at least 2 slots of 4
// bytes per flow, and idle until the table's next window) as the scratch.
func (t *flowTable) sort() {
	if t.n < 2 {
		if t.n == 1 {
			t.chunks[0][0].hash = 0
		}
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
