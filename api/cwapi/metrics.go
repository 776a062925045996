package cwapi

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vpcflow/vpcflow/logsvc"
)

// The metric actions read what metric filters wrote: ListMetrics lists the
// metrics, GetMetricStatistics and GetMetricData fold their statistics into
// periods. Limits and texts are those of the API reference
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricStatistics.html,
// API_GetMetricData.html).

const (
	// maxStatisticsDatapoints is GetMetricStatistics' limit per call.
	maxStatisticsDatapoints = 1440
	// maxMetricDataPoints is GetMetricData's default (and largest)
	// MaxDatapoints.
	maxMetricDataPoints = 100_800
	// maxMetricDataQueries is how many queries one GetMetricData holds.
	maxMetricDataQueries = 500
)

type metricOut struct {
	Namespace  string      `cw:"Namespace"`
	MetricName string      `cw:"MetricName"`
	Dimensions []dimension `cw:"Dimensions"`
}

type listMetricsResult struct {
	Metrics        []metricOut `cw:"Metrics"`
	NextToken      string      `cw:"NextToken,omitempty"`
	OwningAccounts []string    `cw:"OwningAccounts,omitempty"`
}

func (h *Handler) listMetrics(r *reader) (any, error) {
	var v violations
	var in logsvc.ListMetricsInput
	var ok bool
	in.Namespace, ok = r.str("Namespace")
	v.length(in.Namespace, ok, "namespace", 1, 255)
	in.MetricName, ok = r.str("MetricName")
	v.length(in.MetricName, ok, "metricName", 1, 255)
	dims := r.structs("Dimensions")
	v.maxItems(len(dims), "dimensions", 10)
	for i := range dims {
		d := &dims[i]
		name, nok := d.str("Name")
		value, vok := d.str("Value")
		r.keep(d.err)
		v.required(name, nok, "dimensions.member.name", 1, 255)
		v.length(value, vok, "dimensions.member.value", 1, 1024)
		in.Dimensions = append(in.Dimensions, logsvc.DimensionFilter{Name: name, Value: value, HasValue: vok})
	}
	in.NextToken, _ = r.str("NextToken")
	in.RecentlyActive, ok = r.str("RecentlyActive")
	v.enum(in.RecentlyActive, ok, "recentlyActive", "PT3H")
	linked, _ := r.boolean("IncludeLinkedAccounts")
	owner, hasOwner := r.str("OwningAccount")
	v.length(owner, hasOwner, "owningAccount", 1, 255)
	if r.err != nil {
		return nil, r.err
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	out, err := h.svc.ListMetrics(in)
	if err != nil {
		return nil, err
	}
	res := listMetricsResult{Metrics: make([]metricOut, 0, len(out.Metrics)), NextToken: out.NextToken}
	account := h.svc.Identity().Account
	if hasOwner && owner != account {
		// There are no linked accounts: another account owns no metric here.
		return listMetricsResult{Metrics: []metricOut{}}, nil
	}
	for _, m := range out.Metrics {
		res.Metrics = append(res.Metrics, metricOut{Namespace: m.Namespace, MetricName: m.MetricName, Dimensions: dimensionsOut(m.Dimensions)})
		if linked {
			res.OwningAccounts = append(res.OwningAccounts, account)
		}
	}
	return res, nil
}

// validPeriod reports whether a period (seconds) can be answered: 10, 20,
// 30 or a multiple of 60. CloudWatch also takes 1 and 5 for high-resolution
// metrics; vpcflow keeps 10-second buckets, so it cannot split them.
func validPeriod(p int64) bool {
	return p == 10 || p == 20 || p == 30 || p > 0 && p%60 == 0
}

// roundStart rounds a StartTime down as CloudWatch does by its age at the
// time of the request: to the minute when less than 15 days old, to 5
// minutes up to 63 days, to the hour beyond.
func roundStart(start int64, now time.Time) int64 {
	age := now.UnixMilli() - start
	unit := int64(60_000)
	switch {
	case age > 63*86_400_000:
		unit = 3_600_000
	case age > 15*86_400_000:
		unit = 300_000
	}
	r := start % unit
	if r < 0 {
		r += unit
	}
	return start - r
}

// groupThousands writes 1441 as "1,441", as CloudWatch's limit message does.
func groupThousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func invalidValue(format string, args ...any) error {
	return &apiError{code: codeInvalidParameterValue, message: fmt.Sprintf(format, args...)}
}

type datapoint struct {
	Timestamp   timestamp `cw:"Timestamp"`
	SampleCount *float64  `cw:"SampleCount"`
	Average     *float64  `cw:"Average"`
	Sum         *float64  `cw:"Sum"`
	Minimum     *float64  `cw:"Minimum"`
	Maximum     *float64  `cw:"Maximum"`
	Unit        string    `cw:"Unit"`
}

type getMetricStatisticsResult struct {
	Label      string      `cw:"Label"`
	Datapoints []datapoint `cw:"Datapoints"`
}

func (h *Handler) getMetricStatistics(r *reader) (any, error) {
	var v violations
	ns, hasNS := r.str("Namespace")
	name, hasName := r.str("MetricName")
	dims := r.dimensions("Dimensions", "dimensions", &v)
	start, hasStart := r.time("StartTime")
	end, hasEnd := r.time("EndTime")
	period, hasPeriod := r.integer("Period")
	stats, hasStats := r.strs("Statistics")
	_, hasExtended := r.strs("ExtendedStatistics")
	unit, hasUnit := r.str("Unit")
	v.enum(unit, hasUnit, "unit", units...)
	v.length(ns, hasNS, "namespace", 1, 255)
	v.length(name, hasName, "metricName", 1, 255)
	if r.err != nil {
		return nil, r.err
	}
	// Missing members are MissingParameter here, the error this action's
	// reference lists (MissingRequiredParameterException).
	for _, m := range []struct {
		name  string
		given bool
	}{{"Namespace", hasNS}, {"MetricName", hasName}, {"StartTime", hasStart}, {"EndTime", hasEnd}, {"Period", hasPeriod}} {
		if !m.given {
			return nil, &apiError{code: codeMissingParameter, message: "The parameter " + m.name + " is required."}
		}
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	switch {
	case hasStats == hasExtended || hasStats && len(stats) == 0:
		return nil, &apiError{code: codeInvalidParameterCombination, message: "Must specify either Statistics or ExtendedStatistics, but not both."}
	case hasExtended:
		return nil, unsupported("ExtendedStatistics", "percentiles are not kept (vpcflow stores count, sum, minimum and maximum); use Statistics")
	case len(stats) > 5:
		return nil, invalidValue("The collection Statistics must not have more than 5 members.")
	case period < 1:
		return nil, invalidValue("The parameter Period must be greater than 0.")
	case !validPeriod(period):
		return nil, invalidValue("The parameter Period must be 10, 20, 30 or a multiple of 60 (vpcflow keeps 10-second buckets), got %d.", period)
	case start >= end:
		return nil, invalidValue("The parameter StartTime must be less than the parameter EndTime.")
	}
	for i, s := range stats {
		if !contains(statistics, s) {
			return nil, invalidValue("The value %s for parameter Statistics.member.%d is not valid: it must be one of %s.", clip(s), i+1, strings.Join(statistics, ", "))
		}
	}
	start = roundStart(start, h.svc.Now())
	p := period * 1000
	if n := (end - start + p - 1) / p; n > maxStatisticsDatapoints {
		return nil, &apiError{code: codeInvalidParameterCombination, message: fmt.Sprintf(
			"You have requested up to %s datapoints, which exceeds the limit of %s. You may reduce the datapoints requested by increasing Period, or decreasing the time range.",
			groupThousands(n), groupThousands(maxStatisticsDatapoints))}
	}
	periods, metricUnit := h.svc.MetricPeriods(logsvc.MetricQuery{Namespace: ns, MetricName: name, Dimensions: dims, Unit: unit,
		Start: start, End: end, Period: int(period)})
	res := getMetricStatisticsResult{Label: name, Datapoints: make([]datapoint, 0, len(periods))}
	for _, ps := range periods {
		d := datapoint{Timestamp: timestamp(ps.Minute), Unit: metricUnit}
		for _, s := range stats {
			x := ps.Statistic(s)
			switch s {
			case "SampleCount":
				d.SampleCount = &x
			case "Average":
				d.Average = &x
			case "Sum":
				d.Sum = &x
			case "Minimum":
				d.Minimum = &x
			case "Maximum":
				d.Maximum = &x
			}
		}
		res.Datapoints = append(res.Datapoints, d)
	}
	return res, nil
}

// metricID is a MetricDataQuery Id: a lower-case letter first, then
// letters, digits and underscores.
var metricID = regexp.MustCompile(`^[a-z][a-zA-Z0-9_]*$`)

// dataQuery is one MetricDataQuery with a MetricStat, decoded.
type dataQuery struct {
	id, label  string
	returnData bool
	q          logsvc.MetricQuery
	stat       string
	// filled when run:
	times  []int64
	values []float64
}

type messageData struct {
	Code  string `cw:"Code"`
	Value string `cw:"Value"`
}

type metricDataResult struct {
	ID         string        `cw:"Id"`
	Label      string        `cw:"Label"`
	Timestamps []timestamp   `cw:"Timestamps"`
	Values     []float64     `cw:"Values"`
	StatusCode string        `cw:"StatusCode"`
	Messages   []messageData `cw:"Messages"`
}

type getMetricDataResult struct {
	MetricDataResults []metricDataResult `cw:"MetricDataResults"`
	NextToken         string             `cw:"NextToken,omitempty"`
	Messages          []messageData      `cw:"Messages"`
}

// readDataQueries decodes MetricDataQueries, refusing what vpcflow cannot
// answer (expressions, percentiles) with a ValidationError that says so.
func readDataQueries(r *reader) ([]dataQuery, error) {
	items := r.structs("MetricDataQueries")
	if r.err != nil {
		return nil, r.err
	}
	var v violations
	v.maxItems(len(items), "metricDataQueries", maxMetricDataQueries)
	if err := v.err(); err != nil {
		return nil, err
	}
	var out []dataQuery
	seen := map[string]bool{}
	for i := range items {
		it := &items[i]
		p := "MetricDataQueries.member." + strconv.Itoa(i+1)
		id, hasID := it.str("Id")
		label, _ := it.str("Label")
		ret, hasRet := it.boolean("ReturnData")
		_, hasExpr := it.str("Expression")
		stat, hasStat := it.object("MetricStat")
		it.integer("Period")
		it.str("AccountId")
		if it.err != nil {
			return nil, it.err
		}
		switch {
		case !hasID || id == "":
			return nil, &apiError{code: codeValidation, message: "The parameter " + p + ".Id is required."}
		case !metricID.MatchString(id) || len(id) > 255:
			return nil, &apiError{code: codeValidation, message: "The value " + clip(id) + " for parameter " + p +
				".Id is not valid: it must start with a lower-case letter and hold only letters, digits and underscores."}
		case seen[id]:
			return nil, &apiError{code: codeValidation, message: "The value " + id + " for parameter " + p + ".Id is not unique."}
		case hasExpr && hasStat:
			return nil, &apiError{code: codeValidation, message: "The parameters " + p + ".MetricStat and " + p + ".Expression are mutually exclusive and you have specified both."}
		case hasExpr:
			return nil, unsupported(p+".Expression", "metric math expressions are not evaluated; query metrics with MetricStat")
		case !hasStat:
			return nil, &apiError{code: codeValidation, message: "The parameter " + p + ".MetricStat is required."}
		}
		seen[id] = true
		q := dataQuery{id: id, label: label, returnData: !hasRet || ret}
		metric, hasMetric := stat.object("Metric")
		q.q.Namespace, _ = metric.str("Namespace")
		q.q.MetricName, _ = metric.str("MetricName")
		var dv violations
		q.q.Dimensions = metric.dimensions("Dimensions", "metricDataQueries.member.metricStat.metric.dimensions", &dv)
		period, hasPeriod := stat.integer("Period")
		q.stat, _ = stat.str("Stat")
		unit, hasUnit := stat.str("Unit")
		dv.enum(unit, hasUnit, "metricDataQueries.member.metricStat.unit", units...)
		for _, e := range []error{metric.err, stat.err} {
			if e != nil {
				return nil, e
			}
		}
		if err := dv.err(); err != nil {
			return nil, err
		}
		switch {
		case !hasMetric || q.q.Namespace == "" || q.q.MetricName == "":
			return nil, &apiError{code: codeValidation, message: "The parameter " + p + ".MetricStat.Metric needs a Namespace and a MetricName."}
		case !hasPeriod:
			return nil, &apiError{code: codeValidation, message: "The parameter " + p + ".MetricStat.Period is required."}
		case !validPeriod(period):
			return nil, &apiError{code: codeValidation, message: fmt.Sprintf("The value %d for parameter %s.MetricStat.Period is not valid: it must be 10, 20, 30 or a multiple of 60 (vpcflow keeps 10-second buckets).", period, p)}
		case q.stat == "":
			return nil, &apiError{code: codeValidation, message: "The parameter " + p + ".MetricStat.Stat is required."}
		case !contains(statistics, q.stat):
			return nil, unsupported("the statistic "+clip(q.stat)+" in "+p+".MetricStat.Stat", "vpcflow computes "+strings.Join(statistics, ", "))
		}
		q.q.Period, q.q.Unit = int(period), unit
		if q.label == "" {
			q.label = q.q.MetricName
		}
		out = append(out, q)
	}
	if len(out) == 0 {
		return nil, &apiError{code: codeValidation, message: "The parameter MetricDataQueries must hold at least one query."}
	}
	return out, nil
}

func (h *Handler) getMetricData(r *reader) (any, error) {
	start, hasStart := r.time("StartTime")
	end, hasEnd := r.time("EndTime")
	token, hasToken := r.str("NextToken")
	scanBy, hasScanBy := r.str("ScanBy")
	maxPoints, hasMax := r.integer("MaxDatapoints")
	if lo, ok := r.object("LabelOptions"); ok {
		lo.str("Timezone")
		r.keep(lo.err)
	}
	if r.err != nil {
		return nil, r.err
	}
	var v violations
	if !hasQueries(r) {
		v.null("metricDataQueries")
	}
	if !hasStart {
		v.null("startTime")
	}
	if !hasEnd {
		v.null("endTime")
	}
	v.enum(scanBy, hasScanBy, "scanBy", scanBys...)
	if err := v.err(); err != nil {
		return nil, err
	}
	queries, err := readDataQueries(r)
	if err != nil {
		return nil, err
	}
	switch {
	case start > end:
		return nil, &apiError{code: codeValidation, message: "The parameter EndTime must be greater than StartTime."}
	case start == end:
		return nil, &apiError{code: codeValidation, message: "The parameter StartTime must not equal parameter EndTime."}
	case hasMax && maxPoints < 1:
		return nil, &apiError{code: codeValidation, message: "The parameter MaxDatapoints must be greater than 0."}
	}
	if !hasMax || maxPoints > maxMetricDataPoints {
		maxPoints = maxMetricDataPoints
	}
	offset := int64(0)
	if hasToken {
		if offset, err = decodeDataToken(token); err != nil {
			return nil, err
		}
	}
	start = roundStart(start, h.svc.Now())
	ascending := scanBy == "TimestampAscending"
	var total int64
	for i := range queries {
		q := &queries[i]
		q.q.Start, q.q.End = start, end
		periods, _ := h.svc.MetricPeriods(q.q)
		for _, ps := range periods {
			q.times = append(q.times, ps.Minute)
			q.values = append(q.values, ps.Statistic(q.stat))
		}
		if !ascending {
			slices.Reverse(q.times)
			slices.Reverse(q.values)
		}
		if q.returnData {
			total += int64(len(q.times))
		}
	}
	if offset > total {
		return nil, &apiError{code: codeInvalidNextToken, message: "The specified NextToken is not valid."}
	}
	// One page holds maxPoints datapoints, taken query after query.
	res := getMetricDataResult{MetricDataResults: []metricDataResult{}, Messages: []messageData{}}
	skip, room := offset, maxPoints
	for _, q := range queries {
		if !q.returnData {
			continue
		}
		n := int64(len(q.times))
		from := min(skip, n)
		skip -= from
		to := from + min(room, n-from)
		room -= to - from
		out := metricDataResult{ID: q.id, Label: q.label, Timestamps: make([]timestamp, 0, to-from), Values: q.values[from:to],
			StatusCode: "Complete", Messages: []messageData{}}
		for _, t := range q.times[from:to] {
			out.Timestamps = append(out.Timestamps, timestamp(t))
		}
		if to < n {
			out.StatusCode = "PartialData"
		}
		res.MetricDataResults = append(res.MetricDataResults, out)
	}
	if next := offset + maxPoints; next < total {
		res.NextToken = encodeDataToken(next)
	}
	return res, nil
}

// hasQueries reports whether MetricDataQueries was given at all.
func hasQueries(r *reader) bool {
	_, ok, _ := r.in.structs("MetricDataQueries")
	return ok
}

// GetMetricData's token is the number of datapoints already returned.
func encodeDataToken(n int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("gmd\x00" + strconv.FormatInt(n, 10)))
}

func decodeDataToken(s string) (int64, error) {
	bad := &apiError{code: codeInvalidNextToken, message: "The specified NextToken is not valid."}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return 0, bad
	}
	rest, ok := strings.CutPrefix(string(b), "gmd\x00")
	if !ok {
		return 0, bad
	}
	n, err := strconv.ParseInt(rest, 10, 64)
	if err != nil || n < 0 {
		return 0, bad
	}
	return n, nil
}
