package logsvc

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/vpcflow/vpcflow/metricfilter"
	bolt "go.etcd.io/bbolt"
)

// errAlarmNotFound is DeleteAlarms' answer for an unknown alarm. CloudWatch's
// code is ResourceNotFound (no "Exception"); the text is [Choice].
func errAlarmNotFound(names []string) error {
	return &metricfilter.Error{Code: "ResourceNotFound", Message: fmt.Sprintf("The following alarms were not found: [%s]", strings.Join(names, ", "))}
}

// PutMetricAlarm creates or updates an alarm (an update keeps the state;
// docs/aws-behaviour.md, "Metric filters and alarms"). A new alarm is evaluated at once up to the newest event time
// seen, so data already ingested counts. Errors are *metricfilter.Error
// with code ValidationError; an SNS topic of another region is refused as
// CloudWatch refuses it, since an alarm only publishes in its own region.
func (s *Service) PutMetricAlarm(a metricfilter.Alarm) error {
	if err := s.refuseWrite("put metric alarm"); err != nil {
		return err
	}
	if err := s.checkActionRegions(a); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var old *metricfilter.Evaluator
	for _, ev := range s.eng.Alarms() {
		if ev.Alarm.AlarmName == a.AlarmName {
			old = &ev
		}
	}
	var marked []string
	if s.nalarms == 0 && old == nil {
		// Every group is watched from now on (its events move the
		// watermark); the events stored so far are behind each mark.
		for _, g := range s.store.GroupNames() {
			if !s.watching(g) {
				s.markCurrent(g)
				marked = append(marked, g)
			}
		}
	}
	changes, err := s.eng.PutAlarm(a, s.now().UnixMilli())
	if err != nil {
		for _, g := range marked {
			delete(s.pending.seen, g)
		}
		return err
	}
	if old == nil {
		s.nalarms++
	}
	deliveries := s.runActions(changes)
	if err := s.saveAlarms(); err != nil {
		// Leave no trace: the alarm as it was, or none.
		if old != nil {
			s.eng.RestoreAlarm(old)
		} else {
			s.eng.DeleteAlarm(a.AlarmName)
			s.nalarms--
		}
		for _, g := range marked {
			delete(s.pending.seen, g)
		}
		return err
	}
	s.enqueueDeliveries(deliveries)
	return nil
}

// checkActionRegions refuses SNS topics outside the data dir's region with
// CloudWatch's message ("Invalid region us-west-2 specified. Only
// us-east-1 is supported."). The shape of every action is the alarm's own
// Validate.
func (s *Service) checkActionRegions(a metricfilter.Alarm) error {
	for _, list := range [][]string{a.OKActions, a.AlarmActions, a.InsufficientDataActions} {
		for _, act := range list {
			p, err := metricfilter.ParseAction(act)
			if err == nil && p.Kind == metricfilter.ActionSNS && p.Region != s.id.Region {
				return &metricfilter.Error{Code: "ValidationError",
					Message: fmt.Sprintf("Invalid region %s specified. Only %s is supported.", p.Region, s.id.Region)}
			}
		}
	}
	return nil
}

// DeleteAlarms deletes alarms with their state and history. If any name is
// unknown nothing is deleted.
func (s *Service) DeleteAlarms(names ...string) error {
	if err := s.refuseWrite("delete alarms"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	have := map[string]bool{}
	for _, ev := range s.eng.Alarms() {
		have[ev.Alarm.AlarmName] = true
	}
	var missing []string
	for _, n := range names {
		if !have[n] {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return errAlarmNotFound(missing)
	}
	// The deleted alarms go from memory first so that flush does not
	// write them back; they return if the transaction fails.
	var gone []metricfilter.Evaluator
	for _, ev := range s.eng.Alarms() {
		if contains(names, ev.Alarm.AlarmName) {
			gone = append(gone, ev)
		}
	}
	for _, ev := range gone {
		if s.eng.DeleteAlarm(ev.Alarm.AlarmName) {
			s.nalarms--
		}
	}
	err := s.flush(func(tx *bolt.Tx) error {
		for _, n := range names {
			if err := tx.Bucket(bAlarms).Delete([]byte(n)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		for i := range gone {
			if s.eng.RestoreAlarm(&gone[i]) == nil {
				s.nalarms++
			}
		}
		return fmt.Errorf("logsvc: delete alarms: %w", err)
	}
	return nil
}

// AlarmFilter selects alarms as DescribeAlarms does; empty members select all.
type AlarmFilter struct {
	Names      []string
	NamePrefix string
	State      string // OK, ALARM or INSUFFICIENT_DATA
}

// Alarms returns copies of the selected alarms with state and history,
// sorted by name.
func (s *Service) Alarms(f AlarmFilter) []metricfilter.Evaluator {
	s.mu.Lock()
	defer s.mu.Unlock()
	want := map[string]bool{}
	for _, n := range f.Names {
		want[n] = true
	}
	out := []metricfilter.Evaluator{}
	for _, ev := range s.eng.Alarms() {
		if len(want) > 0 && !want[ev.Alarm.AlarmName] || !strings.HasPrefix(ev.Alarm.AlarmName, f.NamePrefix) ||
			f.State != "" && ev.State != f.State {
			continue
		}
		out = append(out, ev)
	}
	return out
}

// AlarmArn is the ARN of the named alarm in the data dir's account and
// region.
func (s *Service) AlarmArn(name string) string {
	return "arn:aws:cloudwatch:" + s.id.Region + ":" + s.id.Account + ":alarm:" + name
}

// alarmStates is the StateValue enum.
var alarmStates = []string{metricfilter.StateInsufficientData, metricfilter.StateAlarm, metricfilter.StateOK}

// validationError is CloudWatch's answer to a bad parameter.
func validationError(value, member, rule string) error {
	return &metricfilter.Error{Code: "ValidationError",
		Message: fmt.Sprintf("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must %s", value, member, rule)}
}

// DescribeAlarmsInput is DescribeAlarms' request; empty members select all.
type DescribeAlarmsInput struct {
	AlarmNames      []string
	AlarmNamePrefix string
	StateValue      string // OK, ALARM or INSUFFICIENT_DATA
	// ActionPrefix keeps the alarms with an action (in any of the three
	// lists) that starts with it.
	ActionPrefix string
	// AlarmTypes selects MetricAlarm and/or CompositeAlarm; none means
	// MetricAlarm, as on CloudWatch. vpcflow has no composite alarms.
	AlarmTypes []string
	// ChildrenOfAlarmName and ParentsOfAlarmName ask about composite
	// alarms, which vpcflow does not have: the answer is empty.
	ChildrenOfAlarmName, ParentsOfAlarmName string
	// MaxRecords caps the alarms of one page; 0 means all (the API's
	// default of 50 is the caller's to apply). NextToken continues a
	// previous page.
	MaxRecords int
	NextToken  string
}

// DescribeAlarmsOutput is DescribeAlarms' answer.
type DescribeAlarmsOutput struct {
	CompositeAlarms []struct{}                 `json:"CompositeAlarms"` // always empty: vpcflow has metric alarms only
	MetricAlarms    []metricfilter.MetricAlarm `json:"MetricAlarms"`
	NextToken       string                     `json:"NextToken,omitempty"`
}

// alarmTypes is the AlarmType enum.
var alarmTypes = []string{"CompositeAlarm", "MetricAlarm"}

// errInvalidToken is the answer to a NextToken this service did not issue.
var errInvalidToken = &metricfilter.Error{Code: "InvalidNextToken", Message: "The specified NextToken is not valid."}

// Paging tokens name where the previous page stopped (an alarm name, a
// history position, a metric), so a page is stable while alarms come and
// go. They are opaque to clients: a prefix per kind, base64url-encoded.
func encodeToken(kind, key string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + "\x00" + key))
}

func decodeToken(kind, token string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return "", errInvalidToken
	}
	k, key, ok := strings.Cut(string(b), "\x00")
	if !ok || k != kind {
		return "", errInvalidToken
	}
	return key, nil
}

// DescribeAlarms lists the selected alarms, sorted by name, in the shape
// CloudWatch's DescribeAlarms answers with. A bad StateValue or AlarmTypes
// member is a ValidationError, a token this service did not issue
// InvalidNextToken.
func (s *Service) DescribeAlarms(in DescribeAlarmsInput) (DescribeAlarmsOutput, error) {
	if in.StateValue != "" && !contains(alarmStates, in.StateValue) {
		return DescribeAlarmsOutput{}, validationError(in.StateValue, "stateValue", "satisfy enum value set: [INSUFFICIENT_DATA, ALARM, OK]")
	}
	metric := len(in.AlarmTypes) == 0
	for _, t := range in.AlarmTypes {
		if !contains(alarmTypes, t) {
			return DescribeAlarmsOutput{}, validationError(t, "alarmTypes", "satisfy enum value set: [CompositeAlarm, MetricAlarm]")
		}
		metric = metric || t == "MetricAlarm"
	}
	after := ""
	if in.NextToken != "" {
		var err error
		if after, err = decodeToken("alarms", in.NextToken); err != nil {
			return DescribeAlarmsOutput{}, err
		}
	}
	out := DescribeAlarmsOutput{CompositeAlarms: []struct{}{}, MetricAlarms: []metricfilter.MetricAlarm{}}
	if !metric || in.ChildrenOfAlarmName != "" || in.ParentsOfAlarmName != "" {
		return out, nil
	}
	for _, ev := range s.Alarms(AlarmFilter{Names: in.AlarmNames, NamePrefix: in.AlarmNamePrefix, State: in.StateValue}) {
		if in.NextToken != "" && ev.Alarm.AlarmName <= after || in.ActionPrefix != "" && !hasActionPrefix(ev.Alarm, in.ActionPrefix) {
			continue
		}
		if in.MaxRecords > 0 && len(out.MetricAlarms) == in.MaxRecords {
			out.NextToken = encodeToken("alarms", out.MetricAlarms[len(out.MetricAlarms)-1].AlarmName)
			break
		}
		out.MetricAlarms = append(out.MetricAlarms, ev.MetricAlarm(s.AlarmArn(ev.Alarm.AlarmName)))
	}
	return out, nil
}

func hasActionPrefix(a metricfilter.Alarm, prefix string) bool {
	for _, list := range [][]string{a.OKActions, a.AlarmActions, a.InsufficientDataActions} {
		for _, act := range list {
			if strings.HasPrefix(act, prefix) {
				return true
			}
		}
	}
	return false
}

// DescribeAlarmsForMetricInput is DescribeAlarmsForMetric's request: the
// metric, and optionally the statistic, period and unit the alarms use.
type DescribeAlarmsForMetricInput struct {
	Namespace, MetricName string
	Dimensions            []metricfilter.Dimension
	Statistic             string
	Period                int
	Unit                  string
}

// DescribeAlarmsForMetric lists the alarms on one metric (the same
// dimension set, in any order), sorted by name.
func (s *Service) DescribeAlarmsForMetric(in DescribeAlarmsForMetricInput) []metricfilter.MetricAlarm {
	want := metricfilter.KeyOf(in.Namespace, in.MetricName, in.Dimensions)
	out := []metricfilter.MetricAlarm{}
	for _, ev := range s.Alarms(AlarmFilter{}) {
		a := ev.Alarm
		if metricfilter.KeyOf(a.Namespace, a.MetricName, a.Dimensions) != want || in.Statistic != "" && a.Statistic != in.Statistic ||
			in.Period != 0 && a.Period != in.Period || in.Unit != "" && a.Unit != in.Unit {
			continue
		}
		out = append(out, ev.MetricAlarm(s.AlarmArn(a.AlarmName)))
	}
	return out
}

// SetAlarmState sets an alarm's state by hand, as SetAlarmState does: the
// change is in the history, runs the new state's actions when the value
// changes, and lasts until the alarm's next evaluation. reasonData, when
// given, must be a JSON document (else InvalidFormat); an unknown alarm is
// ResourceNotFound.
func (s *Service) SetAlarmState(name, state, reason, reasonData string) error {
	if err := s.refuseWrite("set alarm state"); err != nil {
		return err
	}
	if !contains(alarmStates, state) {
		return validationError(state, "stateValue", "satisfy enum value set: [INSUFFICIENT_DATA, ALARM, OK]")
	}
	if reasonData != "" && !json.Valid([]byte(reasonData)) {
		return &metricfilter.Error{Code: "InvalidFormat", Message: "StateReasonData must be a JSON document."}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.eng.Alarm(name)
	if !ok {
		return &metricfilter.Error{Code: "ResourceNotFound", Message: "Alarm " + name + " not found"}
	}
	c, err := s.eng.SetAlarmState(name, state, reason, reasonData, s.now().UnixMilli())
	if err != nil {
		return err
	}
	deliveries := s.runActions([]metricfilter.StateChange{c})
	if err := s.saveAlarms(); err != nil {
		s.eng.RestoreAlarm(&old)
		return err
	}
	s.enqueueDeliveries(deliveries)
	return nil
}

// SetAlarmActions enables or disables the actions of the named alarms, as
// EnableAlarmActions and DisableAlarmActions do. Names of alarms that do
// not exist are ignored, as CloudWatch ignores them.
func (s *Service) SetAlarmActions(names []string, enabled bool) error {
	if err := s.refuseWrite("set alarm actions"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.eng.SetActionsEnabled(names, enabled) {
		return nil
	}
	if err := s.saveAlarms(); err != nil {
		s.eng.SetActionsEnabled(names, !enabled)
		return err
	}
	return nil
}

// DescribeAlarmHistoryInput is DescribeAlarmHistory's request.
type DescribeAlarmHistoryInput struct {
	AlarmName string // "" for every alarm
	// AlarmTypes selects MetricAlarm and/or CompositeAlarm items; none
	// means MetricAlarm, as on CloudWatch.
	AlarmTypes []string
	// HistoryItemType selects a type of item; vpcflow records state
	// updates (StateUpdate) and action outcomes (Action), so
	// ConfigurationUpdate gives no items.
	HistoryItemType string
	// StartDate and EndDate (ms) keep the items between them, inclusive;
	// nil leaves that side open.
	StartDate, EndDate *int64
	// ScanBy is TimestampDescending (the default: newest first) or
	// TimestampAscending.
	ScanBy string
	// MaxRecords caps the items of one page; 0 means all (the API's
	// default of 50 is the caller's to apply). NextToken continues a
	// previous page.
	MaxRecords int
	NextToken  string
}

// DescribeAlarmHistoryOutput is DescribeAlarmHistory's answer.
type DescribeAlarmHistoryOutput struct {
	AlarmHistoryItems []metricfilter.AlarmHistoryItem `json:"AlarmHistoryItems"`
	NextToken         string                          `json:"NextToken,omitempty"`
}

// historyItemTypes is the HistoryItemType enum.
var historyItemTypes = []string{"ConfigurationUpdate", "StateUpdate", "Action", "AlarmContributorStateUpdate", "AlarmContributorAction"}

// DescribeAlarmHistory lists the alarms' state changes and action
// outcomes, newest first unless ScanBy says otherwise, in the shape
// CloudWatch answers with. An alarm's history goes with it when it is
// deleted; an unknown alarm name gives no items, as on AWS.
func (s *Service) DescribeAlarmHistory(in DescribeAlarmHistoryInput) (DescribeAlarmHistoryOutput, error) {
	empty := DescribeAlarmHistoryOutput{AlarmHistoryItems: []metricfilter.AlarmHistoryItem{}}
	if in.HistoryItemType != "" && !contains(historyItemTypes, in.HistoryItemType) {
		return empty, validationError(in.HistoryItemType, "historyItemType",
			"satisfy enum value set: [ConfigurationUpdate, StateUpdate, Action, AlarmContributorStateUpdate, AlarmContributorAction]")
	}
	if in.MaxRecords < 0 {
		return empty, validationError(strconv.Itoa(in.MaxRecords), "maxRecords", "have value greater than or equal to 1")
	}
	if in.ScanBy != "" && in.ScanBy != "TimestampDescending" && in.ScanBy != "TimestampAscending" {
		return empty, validationError(in.ScanBy, "scanBy", "satisfy enum value set: [TimestampDescending, TimestampAscending]")
	}
	metric := len(in.AlarmTypes) == 0
	for _, t := range in.AlarmTypes {
		if !contains(alarmTypes, t) {
			return empty, validationError(t, "alarmTypes", "satisfy enum value set: [CompositeAlarm, MetricAlarm]")
		}
		metric = metric || t == "MetricAlarm"
	}
	var after *metricfilter.HistoryEntry
	if in.NextToken != "" {
		key, err := decodeToken("history", in.NextToken)
		if err != nil {
			return empty, err
		}
		e, ok := parseHistoryKey(key)
		if !ok {
			return empty, errInvalidToken
		}
		after = &e
	}
	if !metric {
		return empty, nil
	}
	var f AlarmFilter
	if in.AlarmName != "" {
		f.Names = []string{in.AlarmName}
	}
	entries := metricfilter.HistoryEntries(s.Alarms(f))
	ascending := in.ScanBy == "TimestampAscending"
	if ascending {
		slices.Reverse(entries)
	}
	out := empty
	var last metricfilter.HistoryEntry
	for _, e := range entries {
		if in.HistoryItemType != "" && e.Item.HistoryItemType != in.HistoryItemType ||
			in.StartDate != nil && e.Time < *in.StartDate || in.EndDate != nil && e.Time > *in.EndDate {
			continue
		}
		if after != nil {
			c := metricfilter.CompareHistory(e, *after)
			if ascending {
				c = -c
			}
			if c <= 0 {
				continue
			}
		}
		if in.MaxRecords > 0 && len(out.AlarmHistoryItems) == in.MaxRecords {
			out.NextToken = encodeToken("history", historyKey(last))
			break
		}
		out.AlarmHistoryItems = append(out.AlarmHistoryItems, e.Item)
		last = e
	}
	return out, nil
}

// historyKey names a history entry's place in the order: time, index and
// alarm name (last, as it may hold any character).
func historyKey(e metricfilter.HistoryEntry) string {
	return strconv.FormatInt(e.Time, 10) + "/" + strconv.Itoa(e.Index) + "/" + e.Item.AlarmName
}

func parseHistoryKey(k string) (metricfilter.HistoryEntry, bool) {
	ts, rest, ok1 := strings.Cut(k, "/")
	idx, name, ok2 := strings.Cut(rest, "/")
	t, err1 := strconv.ParseInt(ts, 10, 64)
	i, err2 := strconv.Atoi(idx)
	if !ok1 || !ok2 || err1 != nil || err2 != nil || i < 0 {
		return metricfilter.HistoryEntry{}, false
	}
	return metricfilter.HistoryEntry{Time: t, Index: i, Item: metricfilter.AlarmHistoryItem{AlarmName: name}}, true
}

// GetMetricStatisticsInput is GetMetricStatistics' request.
type GetMetricStatisticsInput struct {
	Namespace, MetricName string
	Dimensions            []metricfilter.Dimension // the metric's dimension set; none: the metric without dimensions
	// StartTime and EndTime (ms) keep the periods whose start lies
	// between them, inclusive; nil leaves that side open.
	StartTime, EndTime *int64
	Period             int // seconds, a multiple of 60
}

// GetMetricStatisticsOutput is GetMetricStatistics' answer, with every
// statistic of each period that holds data, in time order.
type GetMetricStatisticsOutput struct {
	Label      string                             `json:"Label"`
	Datapoints []metricfilter.StatisticsDatapoint `json:"Datapoints"`
}

// GetMetricStatistics folds the statistics metric filters recorded into
// periods aligned on the epoch. The unit is the one the filters writing the
// metric declare. Errors are *metricfilter.Error with CloudWatch's codes.
func (s *Service) GetMetricStatistics(in GetMetricStatisticsInput) (GetMetricStatisticsOutput, error) {
	if in.Namespace == "" || in.MetricName == "" {
		return GetMetricStatisticsOutput{}, &metricfilter.Error{Code: "MissingParameter", Message: "The parameters Namespace and MetricName are required."}
	}
	if in.Period < 60 || in.Period%60 != 0 {
		return GetMetricStatisticsOutput{}, &metricfilter.Error{Code: "InvalidParameterValue",
			Message: fmt.Sprintf("The parameter Period must be a multiple of 60, got %d.", in.Period)}
	}
	unit := s.MetricUnit(in.Namespace, in.MetricName)
	pts := aggregateMinutes(s.MetricStats(in.Namespace, in.MetricName, in.Dimensions), int64(in.Period)*1000, in.StartTime, in.EndTime)
	out := GetMetricStatisticsOutput{Label: in.MetricName, Datapoints: make([]metricfilter.StatisticsDatapoint, len(pts))}
	for i, p := range pts {
		out.Datapoints[i] = p.StatisticsDatapoint(unit)
	}
	return out, nil
}

// aggregateMinutes folds per-minute statistics into periods of p ms (a
// multiple of a minute) aligned on the epoch, keeping those whose start is
// in [start, end].
func aggregateMinutes(ms []metricfilter.MinuteStat, p int64, start, end *int64) []metricfilter.MinuteStat {
	var out []metricfilter.MinuteStat
	for _, m := range ms {
		ps := m.Minute - ((m.Minute%p)+p)%p
		if start != nil && ps < *start || end != nil && ps > *end {
			continue
		}
		if n := len(out); n > 0 && out[n-1].Minute == ps {
			o := &out[n-1]
			o.SampleCount += m.SampleCount
			o.Sum += m.Sum
			o.Minimum = math.Min(o.Minimum, m.Minimum)
			o.Maximum = math.Max(o.Maximum, m.Maximum)
			continue
		}
		out = append(out, metricfilter.MinuteStat{Minute: ps, Stats: m.Stats})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Minute < out[j].Minute })
	return out
}

// MetricStats returns the per-minute statistics of one metric, in time
// order (what an alarm on that metric reads).
func (s *Service) MetricStats(namespace, name string, dims []metricfilter.Dimension) []metricfilter.MinuteStat {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.eng.Store().Minutes(metricfilter.KeyOf(namespace, name, dims))
}

// Metrics lists the metrics that hold data, sorted.
func (s *Service) Metrics() []metricfilter.MetricKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.eng.Store().Keys()
}

// MetricUnit is the unit the filters writing a metric declare ("None" when
// none does), for reports.
func (s *Service) MetricUnit(namespace, name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.filters {
		for _, f := range m {
			t := f.Def.MetricTransformations[0]
			if t.MetricNamespace == namespace && t.MetricName == name && t.Unit != "" {
				return t.Unit
			}
		}
	}
	return "None"
}
