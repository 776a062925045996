package logsvc

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vpcflow/vpcflow/metricfilter"
	bolt "go.etcd.io/bbolt"
)

// Buckets of metrics.db.
var (
	bFilters = []byte("filters") // uvarint-prefixed group, name → Definition JSON
	bAlarms  = []byte("alarms")  // alarm name → Evaluator JSON (definition, state, history)
	bPoints  = []byte("points")  // batch sequence (u64) → encodePoints of a batch's datapoints (written before bucket statistics; read and folded into bStats at open)
	bBuckets = []byte("buckets") // bucketKey → the bucket's statistics (4 float64s)
	bMarks   = []byte("marks")   // markKey → default value (float64 bits)
	bState   = []byte("state")   // "watermark" → u64 ms
	kWater   = []byte("watermark")
	kHold    = []byte("hold") // in bState: a delivery's Complete, while it runs (hold.go)
)

// Marker kinds: a minute in which a filter with a defaultValue matched an
// event of its group, or saw one it did not match: the minutes that get a
// defaultValue datapoint (docs/aws-behaviour.md, "Metric filters and alarms").
const (
	markMatched = 'm'
	markSeen    = 's'
)

// mark is a default-value minute marker of one plain (dimensionless) metric.
type mark struct {
	namespace, name string
	kind            byte
	minute          int64
	value           float64 // the defaultValue, for markSeen
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func readString(b []byte) (string, []byte, bool) {
	n, k := binary.Uvarint(b)
	if k <= 0 || uint64(len(b)-k) < n {
		return "", nil, false
	}
	return string(b[k : k+int(n)]), b[k+int(n):], true
}

func filterKey(group, name string) []byte {
	return appendString(appendString(nil, group), name)
}

func (m mark) key() []byte {
	b := appendString(appendString(nil, m.namespace), m.name)
	b = append(b, m.kind)
	return binary.BigEndian.AppendUint64(b, uint64(m.minute))
}

func parseMark(k, v []byte) (mark, bool) {
	var m mark
	var ok bool
	if m.namespace, k, ok = readString(k); !ok {
		return m, false
	}
	if m.name, k, ok = readString(k); !ok || len(k) != 9 {
		return m, false
	}
	m.kind, m.minute = k[0], int64(binary.BigEndian.Uint64(k[1:]))
	if len(v) == 8 {
		m.value = math.Float64frombits(binary.BigEndian.Uint64(v))
	}
	return m, m.kind == markMatched || m.kind == markSeen
}

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

// openMeta opens metrics.db and makes sure its buckets exist.
// With readOnly it opens the file with bbolt's ReadOnly (a shared lock) and
// creates nothing: a missing file or bucket reads as empty.
func openMeta(path string, readOnly bool) (*bolt.DB, error) {
	if readOnly {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		db, err := bolt.Open(path, 0o644, &bolt.Options{Timeout: time.Second, ReadOnly: true})
		if err != nil {
			return nil, fmt.Errorf("logsvc: open %s read-only: %w", path, err)
		}
		return db, nil
	}
	db, err := bolt.Open(path, 0o644, &bolt.Options{Timeout: 0})
	if err != nil {
		return nil, fmt.Errorf("logsvc: open %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bFilters, bAlarms, bPoints, bBuckets, bMarks, bState, bSeen} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("logsvc: %s: %w", path, err)
	}
	return db, nil
}

// restoreGroup is where restore puts its stand-in filters. The ':' makes it
// a name no log group can have, so it never meets real events.
const restoreGroup = "logsvc:restore"

// restore loads metrics.db into the engine: filters, bucket statistics
// (as the engine had summed them, so sums come out bit for bit the same;
// datapoints an older vpcflow saved one by one are replayed in their
// original order, then folded into bucket statistics), default-value
// markers, the watermark, then the alarms. Filters whose definition no
// longer compiles are skipped and reported in Warnings.
func (s *Service) restore() error {
	var marks []mark
	var alarms []*metricfilter.Evaluator
	var legacy []bucketRef // buckets of datapoints saved one by one
	water, haveWater := int64(0), false
	hold, haveHold := int64(0), false
	seenVer := false
	view := s.db.View
	if s.db == nil {
		// Read-only, no metrics.db: nothing was ever saved.
		view = func(func(*bolt.Tx) error) error { return nil }
	}
	err := view(func(tx *bolt.Tx) error {
		if err := forEach(tx, bFilters, func(k, v []byte) error {
			var d metricfilter.Definition
			if err := json.Unmarshal(v, &d); err != nil {
				s.warnings = append(s.warnings, fmt.Sprintf("metric filter %q: %v", k, err))
				return nil
			}
			if err := s.putFilterMem(d); err != nil {
				s.warnings = append(s.warnings, fmt.Sprintf("metric filter %s in %s no longer compiles, skipped: %v", d.FilterName, d.LogGroupName, err))
			}
			return nil
		}); err != nil {
			return err
		}
		ms := s.eng.Store()
		if err := forEach(tx, bPoints, func(k, v []byte) error {
			dps, err := decodePoints(v)
			if err != nil {
				return fmt.Errorf("datapoints %x: %w", k, err)
			}
			for i := range dps {
				ms.Add(dps[i])
				mk, b := metricfilter.BucketOf(&dps[i])
				legacy = append(legacy, bucketRef{mk, b})
			}
			return nil
		}); err != nil {
			return err
		}
		// Bucket statistics come after the points: a bucket saved by both
		// holds the points' sum already.
		if err := forEach(tx, bBuckets, func(k, v []byte) error {
			mk, b, ok := parseBucketKey(k)
			if !ok || len(v) != 32 {
				return fmt.Errorf("bucket statistics %x: corrupt", k)
			}
			ms.SetBucket(mk, b, decodeStats(v))
			return nil
		}); err != nil {
			return err
		}
		if err := forEach(tx, bMarks, func(k, v []byte) error {
			if m, ok := parseMark(k, v); ok {
				marks = append(marks, m)
			}
			return nil
		}); err != nil {
			return err
		}
		if st := tx.Bucket(bState); st != nil {
			if v := st.Get(kWater); len(v) == 8 {
				water, haveWater = int64(binary.BigEndian.Uint64(v)), true
			}
			seenVer = st.Get(kSeenVer) != nil
			if v := st.Get(kHold); len(v) == 8 {
				hold, haveHold = int64(binary.BigEndian.Uint64(v)), true
			}
		}
		if err := forEach(tx, bSeen, func(k, v []byte) error {
			if len(v) == 16 {
				s.hw[string(k)] = seenMark{binary.BigEndian.Uint64(v), binary.BigEndian.Uint64(v[8:])}
			}
			return nil
		}); err != nil {
			return err
		}
		return forEach(tx, bAlarms, func(k, v []byte) error {
			ev := &metricfilter.Evaluator{}
			if err := json.Unmarshal(v, ev); err != nil {
				s.warnings = append(s.warnings, fmt.Sprintf("alarm %q: %v", k, err))
				return nil
			}
			alarms = append(alarms, ev)
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("logsvc: read metrics.db: %w", err)
	}
	if len(legacy) > 0 && !s.readOnly {
		// Read-only: the points are in the engine already; a writer
		// folds them.
		if err := s.foldPoints(legacy); err != nil {
			return fmt.Errorf("logsvc: fold datapoints into bucket statistics: %w", err)
		}
	}
	if err := s.replayMarks(marks); err != nil {
		return err
	}
	if haveWater {
		// No alarm is loaded yet, so this only sets the engine's watermark.
		s.eng.Ingest(restoreGroup, []metricfilter.Event{{Timestamp: water, Message: "-"}})
		s.water, s.seen = water, true
	}
	if haveHold {
		s.restoreHold(hold)
	}
	for _, ev := range alarms {
		if err := s.eng.RestoreAlarm(ev); err != nil {
			s.warnings = append(s.warnings, fmt.Sprintf("alarm %s no longer valid, skipped: %v", ev.Alarm.AlarmName, err))
			continue
		}
		s.nalarms++
	}
	// A read-only open catches up too, in memory (flush saves nothing for
	// it): a reader after a crash sees the datapoints and alarm states the
	// stored events give, as the next writer's open will save them.
	return s.catchUp(seenVer)
}

// forEach is the bucket's ForEach; a missing bucket (metrics.db opened
// read-only, never given it) has nothing.
func forEach(tx *bolt.Tx, name []byte, fn func(k, v []byte) error) error {
	b := tx.Bucket(name)
	if b == nil {
		return nil
	}
	return b.ForEach(fn)
}

// replayMarks puts the default-value markers back into the engine's metric
// store. The engine sets them only from events, so each metric gets a
// stand-in filter `[a="m"]` with value `$a` and its default: the message
// "m" matches without giving a number (a matched minute; a non-numeric
// value emits no datapoint), and "-" does not match (a seen minute that gets the default).
func (s *Service) replayMarks(marks []mark) error {
	type metric struct{ ns, name string }
	byMetric := map[metric][]mark{}
	var order []metric
	for _, m := range marks {
		k := metric{m.namespace, m.name}
		if byMetric[k] == nil {
			order = append(order, k)
		}
		byMetric[k] = append(byMetric[k], m)
	}
	sort.Slice(order, func(i, j int) bool {
		if order[i].ns != order[j].ns {
			return order[i].ns < order[j].ns
		}
		return order[i].name < order[j].name
	})
	for _, k := range order {
		ms := byMetric[k]
		// A minute keeps the first default it was given; group the seen
		// markers by value so each stand-in carries one default.
		byValue := map[float64][]metricfilter.Event{}
		var matched []metricfilter.Event
		for _, m := range ms {
			if m.kind == markMatched {
				matched = append(matched, metricfilter.Event{Timestamp: m.minute, Message: "m"})
			} else {
				byValue[m.value] = append(byValue[m.value], metricfilter.Event{Timestamp: m.minute, Message: "-"})
			}
		}
		if len(byValue) == 0 {
			byValue[0] = nil
		}
		first := true
		for v, evs := range byValue {
			def := v
			d := metricfilter.Definition{FilterName: "restore", FilterPattern: `[a="m"]`,
				MetricTransformations: []metricfilter.Transformation{{MetricName: k.name, MetricNamespace: k.ns, MetricValue: "$a", DefaultValue: &def}}}
			if _, err := s.eng.PutFilter(restoreGroup, d); err != nil {
				return fmt.Errorf("logsvc: restore markers of %s/%s: %w", k.ns, k.name, err)
			}
			if first {
				evs = append(evs, matched...)
				first = false
			}
			s.eng.Ingest(restoreGroup, evs)
			s.eng.DeleteGroup(restoreGroup)
		}
	}
	return nil
}

// bucketRef names one metric bucket.
type bucketRef struct {
	key   metricfilter.MetricKey
	start int64
}

// putBuckets saves the current statistics of the buckets refs name, once
// each: what the engine holds after applying the datapoints is what a
// restart must find, so metrics.db grows with metric buckets (BucketMs),
// not with datapoints (it used to keep every datapoint and replay them all
// at each open: 16 MB and 0.15 s per million matched events).
func (s *Service) putBuckets(tx *bolt.Tx, refs []bucketRef) error {
	bb := tx.Bucket(bBuckets)
	ms := s.eng.Store()
	done := map[bucketRef]bool{}
	for _, r := range refs {
		if done[r] {
			continue
		}
		done[r] = true
		st, ok := ms.Bucket(r.key, r.start)
		if !ok {
			continue
		}
		if err := bb.Put(bucketKey(r.key, r.start), encodeStats(st)); err != nil {
			return err
		}
	}
	return nil
}

// foldPoints turns datapoints saved one by one (by an older vpcflow) into
// bucket statistics, in one transaction, so the next open reads those.
func (s *Service) foldPoints(refs []bucketRef) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if err := s.putBuckets(tx, refs); err != nil {
			return err
		}
		if err := tx.DeleteBucket(bPoints); err != nil {
			return err
		}
		_, err := tx.CreateBucket(bPoints)
		return err
	})
}

func bucketKey(k metricfilter.MetricKey, start int64) []byte {
	b := appendString(appendString(appendString(nil, k.Namespace), k.Name), k.Dimensions)
	return binary.BigEndian.AppendUint64(b, uint64(start))
}

func parseBucketKey(b []byte) (metricfilter.MetricKey, int64, bool) {
	var k metricfilter.MetricKey
	var ok bool
	if k.Namespace, b, ok = readString(b); !ok {
		return k, 0, false
	}
	if k.Name, b, ok = readString(b); !ok {
		return k, 0, false
	}
	if k.Dimensions, b, ok = readString(b); !ok || len(b) != 8 {
		return k, 0, false
	}
	return k, int64(binary.BigEndian.Uint64(b)), true
}

func encodeStats(st metricfilter.Stats) []byte {
	b := make([]byte, 0, 32)
	for _, f := range []float64{st.SampleCount, st.Sum, st.Minimum, st.Maximum} {
		b = binary.BigEndian.AppendUint64(b, math.Float64bits(f))
	}
	return b
}

func decodeStats(b []byte) metricfilter.Stats {
	f := func(i int) float64 { return math.Float64frombits(binary.BigEndian.Uint64(b[8*i:])) }
	return metricfilter.Stats{SampleCount: f(0), Sum: f(1), Minimum: f(2), Maximum: f(3)}
}

func putAlarms(tx *bolt.Tx, alarms []metricfilter.Evaluator) error {
	ab := tx.Bucket(bAlarms)
	for i := range alarms {
		v, err := json.Marshal(&alarms[i])
		if err != nil {
			return err
		}
		if err := ab.Put([]byte(alarms[i].Alarm.AlarmName), v); err != nil {
			return err
		}
	}
	return nil
}

// pointsVersion prefixes an encoded batch of datapoints.
const pointsVersion = 1

// encodePoints packs one batch's datapoints: a table of the distinct
// metrics (namespace, name, unit, dimensions), then per datapoint the table
// index, the timestamp and the value's bits. One value per batch keeps the
// write cheap (JSON per datapoint cost more than the filters themselves).
func encodePoints(dps []metricfilter.Datapoint) []byte {
	type key struct{ ns, name, unit, dims string }
	idx := map[key]int{}
	var table []int // index into dps of each metric's first datapoint
	ids := make([]int, len(dps))
	for i := range dps {
		d := &dps[i]
		k := key{d.Namespace, d.MetricName, d.Unit, dimsString(d.Dimensions)}
		id, ok := idx[k]
		if !ok {
			id = len(table)
			idx[k] = id
			table = append(table, i)
		}
		ids[i] = id
	}
	b := []byte{pointsVersion}
	b = binary.AppendUvarint(b, uint64(len(table)))
	for _, i := range table {
		d := &dps[i]
		b = appendString(appendString(appendString(b, d.Namespace), d.MetricName), d.Unit)
		b = binary.AppendUvarint(b, uint64(len(d.Dimensions)))
		for _, dim := range d.Dimensions {
			b = appendString(appendString(b, dim.Name), dim.Value)
		}
	}
	b = binary.AppendUvarint(b, uint64(len(dps)))
	for i := range dps {
		b = binary.AppendUvarint(b, uint64(ids[i]))
		b = binary.AppendVarint(b, dps[i].Timestamp)
		b = binary.BigEndian.AppendUint64(b, math.Float64bits(dps[i].Value))
	}
	return b
}

func dimsString(ds []metricfilter.Dimension) string {
	var sb strings.Builder
	for _, d := range ds {
		sb.WriteString(strconv.Itoa(len(d.Name)))
		sb.WriteByte(':')
		sb.WriteString(d.Name)
		sb.WriteString(strconv.Itoa(len(d.Value)))
		sb.WriteByte(':')
		sb.WriteString(d.Value)
	}
	return sb.String()
}

// decodePoints reads encodePoints' format; any damage is an error, never a
// panic.
func decodePoints(b []byte) ([]metricfilter.Datapoint, error) {
	bad := func(what string) error { return fmt.Errorf("corrupt datapoint batch: %s", what) }
	if len(b) == 0 || b[0] != pointsVersion {
		return nil, bad("unknown version")
	}
	b = b[1:]
	uv := func() (uint64, bool) {
		v, k := binary.Uvarint(b)
		if k <= 0 {
			return 0, false
		}
		b = b[k:]
		return v, true
	}
	str := func() (string, bool) {
		s, rest, ok := readString(b)
		if ok {
			b = rest
		}
		return s, ok
	}
	n, ok := uv()
	if !ok || n > uint64(len(b)) {
		return nil, bad("metric count")
	}
	table := make([]metricfilter.Datapoint, n)
	for i := range table {
		t := &table[i]
		var ok1, ok2, ok3 bool
		t.Namespace, ok1 = str()
		t.MetricName, ok2 = str()
		t.Unit, ok3 = str()
		nd, ok4 := uv()
		if !ok1 || !ok2 || !ok3 || !ok4 || nd > uint64(len(b)) {
			return nil, bad("metric table")
		}
		for j := uint64(0); j < nd; j++ {
			name, ok1 := str()
			value, ok2 := str()
			if !ok1 || !ok2 {
				return nil, bad("dimension")
			}
			t.Dimensions = append(t.Dimensions, metricfilter.Dimension{Name: name, Value: value})
		}
	}
	np, ok := uv()
	if !ok || np > uint64(len(b)) {
		return nil, bad("datapoint count")
	}
	out := make([]metricfilter.Datapoint, 0, np)
	for i := uint64(0); i < np; i++ {
		id, ok := uv()
		if !ok || id >= uint64(len(table)) {
			return nil, bad("metric index")
		}
		ts, k := binary.Varint(b)
		if k <= 0 || len(b)-k < 8 {
			return nil, bad("datapoint")
		}
		dp := table[id]
		dp.Timestamp = ts
		dp.Value = math.Float64frombits(binary.BigEndian.Uint64(b[k:]))
		b = b[k+8:]
		out = append(out, dp)
	}
	if len(b) != 0 {
		return nil, bad("trailing bytes")
	}
	return out, nil
}
