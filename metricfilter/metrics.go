package metricfilter

import (
	"math"
	"sort"
	"strings"
)

// BucketMs is the resolution of the metric store. Every allowed alarm period
// (10, 20, 30 s or a multiple of 60 s) is a whole number of buckets.
const BucketMs = 10_000

const minuteMs = 60_000

// MetricKey names one metric time series: namespace, name and the
// dimensions in canonical form (sorted "name=value" joined by ",").
type MetricKey struct {
	Namespace  string
	Name       string
	Dimensions string
}

func canonicalDims(dims []Dimension) string {
	if len(dims) == 0 {
		return ""
	}
	parts := make([]string, len(dims))
	for i, d := range dims {
		parts[i] = d.Name + "=" + d.Value
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// KeyOf returns the key of a metric with the given dimensions.
func KeyOf(namespace, name string, dims []Dimension) MetricKey {
	return MetricKey{Namespace: namespace, Name: name, Dimensions: canonicalDims(dims)}
}

// Stats is the aggregate of the datapoints in a bucket, a minute or a period.
type Stats struct {
	SampleCount float64 `json:"SampleCount"`
	Sum         float64 `json:"Sum"`
	Minimum     float64 `json:"Minimum"`
	Maximum     float64 `json:"Maximum"`
}

func (s *Stats) add(v float64) { s.merge(Stats{SampleCount: 1, Sum: v, Minimum: v, Maximum: v}) }

func (s *Stats) merge(o Stats) {
	if o.SampleCount == 0 {
		return
	}
	if s.SampleCount == 0 {
		*s = o
		return
	}
	s.SampleCount += o.SampleCount
	s.Sum += o.Sum
	s.Minimum = math.Min(s.Minimum, o.Minimum)
	s.Maximum = math.Max(s.Maximum, o.Maximum)
}

// Statistic returns the named statistic (SampleCount, Average, Sum, Minimum, Maximum).
func (s Stats) Statistic(name string) float64 {
	switch name {
	case "SampleCount":
		return s.SampleCount
	case "Average":
		return s.Sum / s.SampleCount
	case "Sum":
		return s.Sum
	case "Minimum":
		return s.Minimum
	}
	return s.Maximum
}

// series is one metric's data: real datapoints per bucket, and the minutes
// that get a filter's defaultValue because the group received events in them
// but the filter matched none (docs/aws-behaviour.md, "Metric filters and
// alarms").
type series struct {
	buckets  map[int64]*Stats
	times    []int64 // sorted starts of buckets holding data or a default
	matched  map[int64]bool
	defaults map[int64]float64
}

// Store is the in-memory metric store alarms read. It is not safe for
// concurrent use; Engine serialises access.
type Store struct {
	series map[MetricKey]*series
}

// NewStore returns an empty metric store.
func NewStore() *Store { return &Store{series: map[MetricKey]*series{}} }

func floorTo(t, unit int64) int64 {
	r := t % unit
	if r < 0 {
		r += unit
	}
	return t - r
}

func (s *Store) get(k MetricKey) *series {
	ser := s.series[k]
	if ser == nil {
		ser = &series{buckets: map[int64]*Stats{}, matched: map[int64]bool{}, defaults: map[int64]float64{}}
		s.series[k] = ser
	}
	return ser
}

func (ser *series) mark(b int64) {
	i := sort.Search(len(ser.times), func(i int) bool { return ser.times[i] >= b })
	if i < len(ser.times) && ser.times[i] == b {
		return
	}
	ser.times = append(ser.times, 0)
	copy(ser.times[i+1:], ser.times[i:])
	ser.times[i] = b
}

// Add records one datapoint.
func (s *Store) Add(dp Datapoint) {
	k := KeyOf(dp.Namespace, dp.MetricName, dp.Dimensions)
	ser := s.get(k)
	b := floorTo(dp.Timestamp, BucketMs)
	st := ser.buckets[b]
	if st == nil {
		st = &Stats{}
		ser.buckets[b] = st
		ser.mark(b)
	}
	st.add(dp.Value)
}

// BucketOf returns the metric and the bucket start a datapoint adds to.
func BucketOf(dp *Datapoint) (MetricKey, int64) {
	return KeyOf(dp.Namespace, dp.MetricName, dp.Dimensions), floorTo(dp.Timestamp, BucketMs)
}

// Bucket returns the statistics of metric k's bucket starting at b.
func (s *Store) Bucket(k MetricKey, b int64) (Stats, bool) {
	if ser := s.series[k]; ser != nil {
		if st := ser.buckets[b]; st != nil {
			return *st, true
		}
	}
	return Stats{}, false
}

// SetBucket sets the statistics of metric k's bucket starting at b, as
// Bucket gave them before a restart: a store persisted that way comes back
// bit for bit, sums included.
func (s *Store) SetBucket(k MetricKey, b int64, st Stats) {
	ser := s.get(k)
	if ser.buckets[b] == nil {
		ser.mark(b)
	}
	ser.buckets[b] = &st
}

// matchedIn records that a filter writing k matched an event at time t, so
// that minute gets no default value.
func (s *Store) matchedIn(k MetricKey, t int64) {
	ser := s.get(k)
	ser.matched[floorTo(t, minuteMs)] = true
}

// seenIn records that the group received an event at time t that the filter
// writing k did not match; the minute gets defaultValue unless a match comes.
func (s *Store) seenIn(k MetricKey, t int64, def float64) {
	ser := s.get(k)
	m := floorTo(t, minuteMs)
	if _, ok := ser.defaults[m]; !ok {
		ser.defaults[m] = def
		ser.mark(m)
	}
}

// Stats aggregates the datapoints of k with start <= time < end. ok is
// false when there are none: the period is missing.
func (s *Store) Stats(k MetricKey, start, end int64) (st Stats, ok bool) {
	ser := s.series[k]
	if ser == nil {
		return st, false
	}
	i := sort.Search(len(ser.times), func(i int) bool { return ser.times[i] >= start })
	for ; i < len(ser.times) && ser.times[i] < end; i++ {
		t := ser.times[i]
		if b := ser.buckets[t]; b != nil {
			st.merge(*b)
		}
		if v, ok := ser.defaults[t]; ok && !ser.matched[t] {
			st.add(v)
		}
	}
	return st, st.SampleCount > 0
}

// next returns the first time >= t at which k has data or a default.
func (s *Store) next(k MetricKey, t int64) (int64, bool) {
	ser := s.series[k]
	if ser == nil {
		return 0, false
	}
	i := sort.Search(len(ser.times), func(i int) bool { return ser.times[i] >= t })
	if i == len(ser.times) {
		return 0, false
	}
	return ser.times[i], true
}

// MinuteStat is the aggregate of one metric over one UTC minute.
type MinuteStat struct {
	Minute int64 `json:"minute"` // ms
	Stats
}

// Minutes lists the per-minute aggregates of k in time order.
func (s *Store) Minutes(k MetricKey) []MinuteStat {
	ser := s.series[k]
	if ser == nil {
		return nil
	}
	var out []MinuteStat
	for _, t := range ser.times {
		m := floorTo(t, minuteMs)
		if len(out) > 0 && out[len(out)-1].Minute == m {
			continue
		}
		st, ok := s.Stats(k, m, m+minuteMs)
		if ok {
			out = append(out, MinuteStat{Minute: m, Stats: st})
		}
	}
	return out
}

// Keys lists the metrics in the store, sorted.
func (s *Store) Keys() []MetricKey {
	keys := make([]MetricKey, 0, len(s.series))
	for k := range s.series {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Dimensions < b.Dimensions
	})
	return keys
}

// Next returns the first time >= t at which k has data or a default
// value, so a reader can skip the periods that hold nothing.
func (s *Store) Next(k MetricKey, t int64) (int64, bool) { return s.next(k, t) }

// Last returns the start of the last bucket of k that holds data or a
// default value.
func (s *Store) Last(k MetricKey) (int64, bool) {
	ser := s.series[k]
	if ser == nil || len(ser.times) == 0 {
		return 0, false
	}
	return ser.times[len(ser.times)-1], true
}

// ParseDimensions reads the canonical dimensions of a MetricKey back.
// The canonical form joins "name=value" with ',' and does not escape them,
// so a name holding '=' or a value holding ',' reads back split
// differently; metric filter dimensions taken from flow log fields never
// hold either.
func ParseDimensions(canonical string) []Dimension {
	if canonical == "" {
		return nil
	}
	var out []Dimension
	for _, part := range strings.Split(canonical, ",") {
		name, value, _ := strings.Cut(part, "=")
		out = append(out, Dimension{Name: name, Value: value})
	}
	return out
}
