package cwapi

import (
	"strconv"
	"time"

	"github.com/vpcflow/vpcflow/logsvc"
	"github.com/vpcflow/vpcflow/metricfilter"
)

// reader reads members and keeps the first type error, so an action reads
// everything it needs, then checks once.
type reader struct {
	in  input
	err error
}

func (r *reader) keep(err error) {
	if r.err == nil {
		r.err = err
	}
}

func (r *reader) str(name string) (string, bool) {
	s, ok, err := r.in.str(name)
	r.keep(err)
	return s, ok
}

func (r *reader) integer(name string) (int64, bool) {
	n, ok, err := r.in.integer(name)
	r.keep(err)
	return n, ok
}

func (r *reader) double(name string) (float64, bool) {
	x, ok, err := r.in.double(name)
	r.keep(err)
	return x, ok
}

func (r *reader) boolean(name string) (bool, bool) {
	b, ok, err := r.in.boolean(name)
	r.keep(err)
	return b, ok
}

func (r *reader) time(name string) (int64, bool) {
	t, ok, err := r.in.time(name)
	r.keep(err)
	return t, ok
}

func (r *reader) strs(name string) ([]string, bool) {
	l, ok, err := r.in.strs(name)
	r.keep(err)
	return l, ok
}

func (r *reader) structs(name string) []reader {
	l, _, err := r.in.structs(name)
	r.keep(err)
	out := make([]reader, len(l))
	for i, in := range l {
		out[i] = reader{in: in}
	}
	return out
}

func (r *reader) object(name string) (reader, bool) {
	o, ok, err := r.in.object(name)
	r.keep(err)
	if o == nil {
		o = formInput{}
	}
	return reader{in: o}, ok
}

// dimensions reads a Dimensions list (Name and Value required).
func (r *reader) dimensions(name, member string, v *violations) []metricfilter.Dimension {
	items := r.structs(name)
	v.maxItems(len(items), member, 30)
	var out []metricfilter.Dimension
	for i := range items {
		d := &items[i]
		n, nok := d.str("Name")
		val, vok := d.str("Value")
		r.keep(d.err)
		v.required(n, nok, member+".member.name", 1, 255)
		v.required(val, vok, member+".member.value", 1, 1024)
		out = append(out, metricfilter.Dimension{Name: n, Value: val})
	}
	return out
}

// do runs an action; the answer is the content of <ActionResult>, nil when
// the action has none.
func (h *Handler) do(action string, in input) (any, error) {
	r := &reader{in: in}
	switch action {
	case "PutMetricAlarm":
		return nil, h.putMetricAlarm(r)
	case "DescribeAlarms":
		return h.describeAlarms(r)
	case "DescribeAlarmsForMetric":
		return h.describeAlarmsForMetric(r)
	case "DescribeAlarmHistory":
		return h.describeAlarmHistory(r)
	case "DeleteAlarms":
		return nil, h.deleteAlarms(r)
	case "SetAlarmState":
		return nil, h.setAlarmState(r)
	case "EnableAlarmActions", "DisableAlarmActions":
		return nil, h.setAlarmActions(r, action == "EnableAlarmActions")
	case "ListMetrics":
		return h.listMetrics(r)
	case "GetMetricStatistics":
		return h.getMetricStatistics(r)
	case "GetMetricData":
		return h.getMetricData(r)
	}
	return nil, &apiError{code: codeInvalidAction, message: "Could not find operation " + action + " for version " + Version}
}

// unsupported is the answer to a member vpcflow does not implement:
// AWS's code for a bad value, with a message that says so.
func unsupported(member, why string) error {
	return &apiError{code: codeValidation, message: "vpcflow does not support " + member + ": " + why}
}

func (h *Handler) putMetricAlarm(r *reader) error {
	var v violations
	var a metricfilter.Alarm
	var ok bool
	a.AlarmName, ok = r.str("AlarmName")
	v.required(a.AlarmName, ok, "alarmName", 1, 255)
	a.AlarmDescription, ok = r.str("AlarmDescription")
	v.length(a.AlarmDescription, ok, "alarmDescription", 0, 1024)
	if b, ok := r.boolean("ActionsEnabled"); ok {
		a.ActionsEnabled = &b
	}
	a.OKActions, _ = r.strs("OKActions")
	a.AlarmActions, _ = r.strs("AlarmActions")
	a.InsufficientDataActions, _ = r.strs("InsufficientDataActions")
	v.maxItems(len(a.OKActions), "oKActions", metricfilter.MaxActions)
	v.maxItems(len(a.AlarmActions), "alarmActions", metricfilter.MaxActions)
	v.maxItems(len(a.InsufficientDataActions), "insufficientDataActions", metricfilter.MaxActions)
	a.MetricName, ok = r.str("MetricName")
	v.length(a.MetricName, ok, "metricName", 1, 255)
	a.Namespace, ok = r.str("Namespace")
	v.length(a.Namespace, ok, "namespace", 1, 255)
	if ok && len(a.Namespace) > 0 && a.Namespace[0] == ':' {
		v.add(a.Namespace, "namespace", "satisfy regular expression pattern: [^:].*")
	}
	a.Statistic, ok = r.str("Statistic")
	v.enum(a.Statistic, ok, "statistic", statistics...)
	_, hasExtended := r.str("ExtendedStatistic")
	a.Dimensions = r.dimensions("Dimensions", "dimensions", &v)
	period, hasPeriod := r.integer("Period")
	v.atLeast(period, hasPeriod, "period", 1)
	a.Unit, ok = r.str("Unit")
	v.enum(a.Unit, ok, "unit", units...)
	evals, hasEvals := r.integer("EvaluationPeriods")
	if !hasEvals {
		v.null("evaluationPeriods")
	}
	v.atLeast(evals, hasEvals, "evaluationPeriods", 1)
	dta, hasDTA := r.integer("DatapointsToAlarm")
	v.atLeast(dta, hasDTA, "datapointsToAlarm", 1)
	threshold, hasThreshold := r.double("Threshold")
	a.ComparisonOperator, ok = r.str("ComparisonOperator")
	if !ok {
		v.null("comparisonOperator")
	}
	v.enum(a.ComparisonOperator, ok, "comparisonOperator", comparisons...)
	a.TreatMissingData, ok = r.str("TreatMissingData")
	v.length(a.TreatMissingData, ok, "treatMissingData", 1, 255)
	lowSample, hasLowSample := r.str("EvaluateLowSampleCountPercentile")
	v.length(lowSample, hasLowSample, "evaluateLowSampleCountPercentile", 1, 255)
	metrics := r.structs("Metrics")
	thresholdMetric, hasThresholdMetric := r.str("ThresholdMetricId")
	for i, t := range r.structs("Tags") {
		k, kok := t.str("Key")
		val, vok := t.str("Value")
		r.keep(t.err)
		v.required(k, kok, "tags.member."+itoa(i+1)+".key", 1, 128)
		v.required(val, vok, "tags.member."+itoa(i+1)+".value", 0, 256)
	}
	if r.err != nil {
		return r.err
	}
	if err := v.err(); err != nil {
		return err
	}
	switch {
	case len(metrics) > 0:
		return unsupported("Metrics", "alarms on metric math expressions are not evaluated; give MetricName, Namespace and Statistic")
	case hasThresholdMetric && thresholdMetric != "":
		return unsupported("ThresholdMetricId", "anomaly detection bands are not computed")
	case hasExtended:
		return unsupported("ExtendedStatistic", "percentiles are not kept (vpcflow stores count, sum, minimum and maximum); use Statistic")
	case hasLowSample && lowSample != "evaluate" && lowSample != "ignore":
		return &apiError{code: codeValidation, message: "Option " + clip(lowSample) + " is not supported. Supported options for parameter EvaluateLowSampleCountPercentile are evaluate and ignore."}
	case a.Statistic == "":
		return &apiError{code: codeValidation, message: "Exactly one of Statistic or ExtendedStatistic must be specified for an alarm on a metric."}
	case !hasThreshold:
		return &apiError{code: codeValidation, message: "Threshold must be specified for an alarm that is not based on an anomaly detection model."}
	case a.ComparisonOperator != "" && !contains(comparisons[:4], a.ComparisonOperator):
		return unsupported("ComparisonOperator "+a.ComparisonOperator, "it compares with an anomaly detection band, which is not computed")
	}
	a.Period, a.EvaluationPeriods, a.DatapointsToAlarm, a.Threshold = clampInt(period), clampInt(evals), clampInt(dta), threshold
	// Tags are accepted and not kept: the tagging actions are not served.
	return h.svc.PutMetricAlarm(a)
}

func itoa(i int) string { return strconv.Itoa(i) }

// clampInt narrows a member the model declares as a 32-bit Integer.
func clampInt(n int64) int {
	const max = 1<<31 - 1
	switch {
	case n > max:
		return max
	case n < -max:
		return -max
	}
	return int(n)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// metricAlarm is a MetricAlarm of the API model, members in its order.
type metricAlarm struct {
	AlarmName                          string      `cw:"AlarmName"`
	AlarmArn                           string      `cw:"AlarmArn"`
	AlarmDescription                   string      `cw:"AlarmDescription,omitempty"`
	AlarmConfigurationUpdatedTimestamp *timestamp  `cw:"AlarmConfigurationUpdatedTimestamp"`
	ActionsEnabled                     bool        `cw:"ActionsEnabled"`
	OKActions                          []string    `cw:"OKActions"`
	AlarmActions                       []string    `cw:"AlarmActions"`
	InsufficientDataActions            []string    `cw:"InsufficientDataActions"`
	StateValue                         string      `cw:"StateValue"`
	StateReason                        string      `cw:"StateReason"`
	StateReasonData                    string      `cw:"StateReasonData,omitempty"`
	StateUpdatedTimestamp              *timestamp  `cw:"StateUpdatedTimestamp"`
	MetricName                         string      `cw:"MetricName"`
	Namespace                          string      `cw:"Namespace"`
	Statistic                          string      `cw:"Statistic"`
	Dimensions                         []dimension `cw:"Dimensions"`
	Period                             int         `cw:"Period"`
	Unit                               string      `cw:"Unit,omitempty"`
	EvaluationPeriods                  int         `cw:"EvaluationPeriods"`
	DatapointsToAlarm                  int         `cw:"DatapointsToAlarm"`
	Threshold                          float64     `cw:"Threshold"`
	ComparisonOperator                 string      `cw:"ComparisonOperator"`
	TreatMissingData                   string      `cw:"TreatMissingData"`
	StateTransitionedTimestamp         *timestamp  `cw:"StateTransitionedTimestamp"`
}

type dimension struct {
	Name  string `cw:"Name"`
	Value string `cw:"Value"`
}

func dimensionsOut(ds []metricfilter.Dimension) []dimension {
	out := make([]dimension, len(ds))
	for i, d := range ds {
		out[i] = dimension{Name: d.Name, Value: d.Value}
	}
	return out
}

// timeOf reads back a time metricfilter rendered with FormatTime; nil for
// none.
func timeOf(s string) *timestamp {
	if s == "" {
		return nil
	}
	t, err := time.Parse("2006-01-02T15:04:05.000Z", s)
	if err != nil {
		return nil
	}
	ts := timestamp(t.UnixMilli())
	return &ts
}

func alarmOut(m metricfilter.MetricAlarm) metricAlarm {
	return metricAlarm{AlarmName: m.AlarmName, AlarmArn: m.AlarmArn, AlarmDescription: m.AlarmDescription,
		AlarmConfigurationUpdatedTimestamp: timeOf(m.AlarmConfigurationUpdatedTimestamp), ActionsEnabled: m.ActionsEnabled,
		OKActions: m.OKActions, AlarmActions: m.AlarmActions, InsufficientDataActions: m.InsufficientDataActions,
		StateValue: m.StateValue, StateReason: m.StateReason, StateReasonData: m.StateReasonData,
		StateUpdatedTimestamp: timeOf(m.StateUpdatedTimestamp), MetricName: m.MetricName, Namespace: m.Namespace,
		Statistic: m.Statistic, Dimensions: dimensionsOut(m.Dimensions), Period: m.Period, Unit: m.Unit,
		EvaluationPeriods: m.EvaluationPeriods, DatapointsToAlarm: m.DatapointsToAlarm, Threshold: m.Threshold,
		ComparisonOperator: m.ComparisonOperator, TreatMissingData: m.TreatMissingData,
		StateTransitionedTimestamp: timeOf(m.StateTransitionedTimestamp)}
}

func alarmsOut(ms []metricfilter.MetricAlarm) []metricAlarm {
	out := make([]metricAlarm, len(ms))
	for i, m := range ms {
		out[i] = alarmOut(m)
	}
	return out
}

// maxRecords reads MaxRecords: 1 to 100, default 50.
func maxRecords(r *reader, v *violations) int {
	n, ok := r.integer("MaxRecords")
	v.between(n, ok, "maxRecords", 1, 100)
	if !ok {
		return 50
	}
	return int(n)
}

type describeAlarmsResult struct {
	CompositeAlarms []struct{}    `cw:"CompositeAlarms"`
	MetricAlarms    []metricAlarm `cw:"MetricAlarms"`
	NextToken       string        `cw:"NextToken,omitempty"`
}

func (h *Handler) describeAlarms(r *reader) (any, error) {
	var v violations
	var in logsvc.DescribeAlarmsInput
	var ok bool
	in.AlarmNames, _ = r.strs("AlarmNames")
	v.maxItems(len(in.AlarmNames), "alarmNames", 100)
	in.AlarmNamePrefix, ok = r.str("AlarmNamePrefix")
	v.length(in.AlarmNamePrefix, ok, "alarmNamePrefix", 1, 255)
	in.AlarmTypes, _ = r.strs("AlarmTypes")
	for _, t := range in.AlarmTypes {
		v.enum(t, true, "alarmTypes", alarmTypes...)
	}
	in.ChildrenOfAlarmName, ok = r.str("ChildrenOfAlarmName")
	v.length(in.ChildrenOfAlarmName, ok, "childrenOfAlarmName", 1, 255)
	in.ParentsOfAlarmName, ok = r.str("ParentsOfAlarmName")
	v.length(in.ParentsOfAlarmName, ok, "parentsOfAlarmName", 1, 255)
	in.StateValue, ok = r.str("StateValue")
	v.enum(in.StateValue, ok, "stateValue", stateValues...)
	in.ActionPrefix, ok = r.str("ActionPrefix")
	v.length(in.ActionPrefix, ok, "actionPrefix", 1, 1024)
	in.MaxRecords = maxRecords(r, &v)
	in.NextToken, _ = r.str("NextToken")
	if r.err != nil {
		return nil, r.err
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	out, err := h.svc.DescribeAlarms(in)
	if err != nil {
		return nil, err
	}
	return describeAlarmsResult{CompositeAlarms: []struct{}{}, MetricAlarms: alarmsOut(out.MetricAlarms), NextToken: out.NextToken}, nil
}

type metricAlarmsResult struct {
	MetricAlarms []metricAlarm `cw:"MetricAlarms"`
}

func (h *Handler) describeAlarmsForMetric(r *reader) (any, error) {
	var v violations
	var in logsvc.DescribeAlarmsForMetricInput
	var ok bool
	in.MetricName, ok = r.str("MetricName")
	v.required(in.MetricName, ok, "metricName", 1, 255)
	in.Namespace, ok = r.str("Namespace")
	v.required(in.Namespace, ok, "namespace", 1, 255)
	in.Statistic, ok = r.str("Statistic")
	v.enum(in.Statistic, ok, "statistic", statistics...)
	_, extended := r.str("ExtendedStatistic")
	in.Dimensions = r.dimensions("Dimensions", "dimensions", &v)
	period, ok := r.integer("Period")
	v.atLeast(period, ok, "period", 1)
	in.Period = clampInt(period)
	in.Unit, ok = r.str("Unit")
	v.enum(in.Unit, ok, "unit", units...)
	if r.err != nil {
		return nil, r.err
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	if extended {
		// No alarm uses a percentile.
		return metricAlarmsResult{MetricAlarms: []metricAlarm{}}, nil
	}
	return metricAlarmsResult{MetricAlarms: alarmsOut(h.svc.DescribeAlarmsForMetric(in))}, nil
}

type historyItem struct {
	AlarmName       string    `cw:"AlarmName"`
	AlarmType       string    `cw:"AlarmType"`
	Timestamp       timestamp `cw:"Timestamp"`
	HistoryItemType string    `cw:"HistoryItemType"`
	HistorySummary  string    `cw:"HistorySummary"`
	HistoryData     string    `cw:"HistoryData"`
}

type describeAlarmHistoryResult struct {
	AlarmHistoryItems []historyItem `cw:"AlarmHistoryItems"`
	NextToken         string        `cw:"NextToken,omitempty"`
}

func (h *Handler) describeAlarmHistory(r *reader) (any, error) {
	var v violations
	var in logsvc.DescribeAlarmHistoryInput
	var ok bool
	in.AlarmName, ok = r.str("AlarmName")
	v.length(in.AlarmName, ok, "alarmName", 1, 255)
	in.AlarmTypes, _ = r.strs("AlarmTypes")
	for _, t := range in.AlarmTypes {
		v.enum(t, true, "alarmTypes", alarmTypes...)
	}
	in.HistoryItemType, ok = r.str("HistoryItemType")
	v.enum(in.HistoryItemType, ok, "historyItemType", historyTypes...)
	if t, ok := r.time("StartDate"); ok {
		in.StartDate = &t
	}
	if t, ok := r.time("EndDate"); ok {
		in.EndDate = &t
	}
	in.MaxRecords = maxRecords(r, &v)
	in.NextToken, _ = r.str("NextToken")
	in.ScanBy, ok = r.str("ScanBy")
	v.enum(in.ScanBy, ok, "scanBy", scanBys...)
	if r.err != nil {
		return nil, r.err
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	out, err := h.svc.DescribeAlarmHistory(in)
	if err != nil {
		return nil, err
	}
	res := describeAlarmHistoryResult{AlarmHistoryItems: make([]historyItem, len(out.AlarmHistoryItems)), NextToken: out.NextToken}
	for i, it := range out.AlarmHistoryItems {
		ts := timeOf(it.Timestamp)
		res.AlarmHistoryItems[i] = historyItem{AlarmName: it.AlarmName, AlarmType: it.AlarmType, HistoryItemType: it.HistoryItemType,
			HistorySummary: it.HistorySummary, HistoryData: it.HistoryData}
		if ts != nil {
			res.AlarmHistoryItems[i].Timestamp = *ts
		}
	}
	return res, nil
}

// alarmNames reads the required AlarmNames list (at most 100).
func alarmNames(r *reader) ([]string, error) {
	var v violations
	names, ok := r.strs("AlarmNames")
	if !ok {
		v.null("alarmNames")
	}
	v.maxItems(len(names), "alarmNames", 100)
	if r.err != nil {
		return nil, r.err
	}
	return names, v.err()
}

func (h *Handler) deleteAlarms(r *reader) error {
	names, err := alarmNames(r)
	if err != nil || len(names) == 0 {
		return err
	}
	return h.svc.DeleteAlarms(names...)
}

func (h *Handler) setAlarmActions(r *reader, enabled bool) error {
	names, err := alarmNames(r)
	if err != nil {
		return err
	}
	return h.svc.SetAlarmActions(names, enabled)
}

func (h *Handler) setAlarmState(r *reader) error {
	var v violations
	name, ok := r.str("AlarmName")
	v.required(name, ok, "alarmName", 1, 255)
	state, ok := r.str("StateValue")
	if !ok {
		v.null("stateValue")
	}
	v.enum(state, ok, "stateValue", stateValues...)
	reason, ok := r.str("StateReason")
	v.required(reason, ok, "stateReason", 0, 1023)
	data, ok := r.str("StateReasonData")
	v.length(data, ok, "stateReasonData", 0, 4000)
	if r.err != nil {
		return r.err
	}
	if err := v.err(); err != nil {
		return err
	}
	return h.svc.SetAlarmState(name, state, reason, data)
}
