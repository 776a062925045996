package logsvc

import "github.com/vpcflow/vpcflow/metricfilter"

// The metrics side of CloudWatch as metric filters feed it: listing the
// metrics and reading their statistics per period, for ListMetrics,
// GetMetricStatistics and GetMetricData.

// listMetricsPage is how many metrics one ListMetrics page holds, as on
// CloudWatch ("up to 500 results are returned for any one call",
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_ListMetrics.html).
const listMetricsPage = 500

// recentlyActive is ListMetrics' RecentlyActive window (PT3H).
const recentlyActive = 3 * 3600_000

// DimensionFilter is one of ListMetrics' Dimensions: a metric must have a
// dimension of that name, with that value when Value is set.
type DimensionFilter struct {
	Name     string
	Value    string
	HasValue bool
}

// ListMetricsInput is ListMetrics' request; empty members select all.
type ListMetricsInput struct {
	Namespace, MetricName string
	Dimensions            []DimensionFilter
	// RecentlyActive "PT3H" keeps the metrics with data in the past three
	// hours of the wall clock.
	RecentlyActive string
	NextToken      string
}

// Metric names one metric: namespace, name and dimensions.
type Metric struct {
	Namespace  string
	MetricName string
	Dimensions []metricfilter.Dimension
}

// ListMetricsOutput is ListMetrics' answer.
type ListMetricsOutput struct {
	Metrics   []Metric
	NextToken string
}

// ListMetrics lists the metrics that metric filters wrote, sorted by
// namespace, name and dimensions, 500 a page. Unlike CloudWatch, which
// lists the metrics of the past two weeks, every metric that holds data is
// listed: replayed flow logs may be older.
func (s *Service) ListMetrics(in ListMetricsInput) (ListMetricsOutput, error) {
	if in.RecentlyActive != "" && in.RecentlyActive != "PT3H" {
		return ListMetricsOutput{}, validationError(in.RecentlyActive, "recentlyActive", "satisfy enum value set: [PT3H]")
	}
	after := ""
	if in.NextToken != "" {
		var err error
		if after, err = decodeToken("metrics", in.NextToken); err != nil {
			return ListMetricsOutput{}, err
		}
	}
	since := s.now().UnixMilli() - recentlyActive
	s.mu.Lock()
	defer s.mu.Unlock()
	store := s.eng.Store()
	out := ListMetricsOutput{Metrics: []Metric{}}
	var lastKey string
	for _, k := range store.Keys() {
		key := metricKeyString(k)
		if in.NextToken != "" && key <= after ||
			in.Namespace != "" && k.Namespace != in.Namespace || in.MetricName != "" && k.Name != in.MetricName {
			continue
		}
		dims := metricfilter.ParseDimensions(k.Dimensions)
		if !matchDimensions(dims, in.Dimensions) {
			continue
		}
		if in.RecentlyActive != "" {
			if last, ok := store.Last(k); !ok || last+metricfilter.BucketMs <= since {
				continue
			}
		}
		if len(out.Metrics) == listMetricsPage {
			out.NextToken = encodeToken("metrics", lastKey)
			break
		}
		out.Metrics = append(out.Metrics, Metric{Namespace: k.Namespace, MetricName: k.Name, Dimensions: dims})
		lastKey = key
	}
	return out, nil
}

// metricKeyString orders metrics as Store.Keys does, for paging tokens.
func metricKeyString(k metricfilter.MetricKey) string {
	return k.Namespace + "\x00" + k.Name + "\x00" + k.Dimensions
}

func matchDimensions(dims []metricfilter.Dimension, filters []DimensionFilter) bool {
	for _, f := range filters {
		found := false
		for _, d := range dims {
			if d.Name == f.Name && (!f.HasValue || d.Value == f.Value) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// MetricQuery asks for the statistics of one metric per period.
type MetricQuery struct {
	Namespace, MetricName string
	Dimensions            []metricfilter.Dimension // the metric's dimension set; none: the metric without dimensions
	// Unit, when set, must be the metric's unit, or there is no data (a
	// CloudWatch metric holds no datapoints of another unit).
	Unit string
	// Start and End (ms) bound the periods: the first starts at Start,
	// each lasts Period seconds, and those starting before End count.
	Start, End int64
	Period     int
}

// MetricPeriods returns the statistics of the periods of q that hold data,
// in time order (MinuteStat.Minute is the period's start), and the unit
// the metric filters give the metric ("None" when they give none). Empty
// periods are skipped without being visited, so a long range costs what
// its data costs.
func (s *Service) MetricPeriods(q MetricQuery) ([]metricfilter.MinuteStat, string) {
	unit := s.MetricUnit(q.Namespace, q.MetricName)
	if q.Unit != "" && q.Unit != unit || q.Period <= 0 || q.End <= q.Start {
		return nil, unit
	}
	p := int64(q.Period) * 1000
	k := metricfilter.KeyOf(q.Namespace, q.MetricName, q.Dimensions)
	s.mu.Lock()
	defer s.mu.Unlock()
	store := s.eng.Store()
	var out []metricfilter.MinuteStat
	for t := q.Start; t < q.End; {
		next, ok := store.Next(k, t)
		if !ok || next >= q.End {
			break
		}
		start := q.Start + (next-q.Start)/p*p
		if st, ok := store.Stats(k, start, start+p); ok {
			out = append(out, metricfilter.MinuteStat{Minute: start, Stats: st})
		}
		t = start + p
	}
	return out, unit
}
