package logsvc

import (
	"fmt"
	"math"
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

// PutMetricAlarm creates or updates an alarm (an update keeps the state,
// spec §3.4). A new alarm is evaluated at once up to the newest event time
// seen, so data already ingested counts. Errors are *metricfilter.Error
// with code ValidationError.
func (s *Service) PutMetricAlarm(a metricfilter.Alarm) error {
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
	if err := s.eng.PutAlarm(a); err != nil {
		for _, g := range marked {
			delete(s.pending.seen, g)
		}
		return err
	}
	if old == nil {
		s.nalarms++
	}
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
	return nil
}

// DeleteAlarms deletes alarms with their state and history. If any name is
// unknown nothing is deleted.
func (s *Service) DeleteAlarms(names ...string) error {
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
}

// DescribeAlarmsOutput is DescribeAlarms' answer.
type DescribeAlarmsOutput struct {
	CompositeAlarms []struct{}                 `json:"CompositeAlarms"` // always empty: vpcflow has metric alarms only
	MetricAlarms    []metricfilter.MetricAlarm `json:"MetricAlarms"`
}

// DescribeAlarms lists the selected alarms, sorted by name, in the shape
// CloudWatch's DescribeAlarms answers with. A bad StateValue is a
// ValidationError.
func (s *Service) DescribeAlarms(in DescribeAlarmsInput) (DescribeAlarmsOutput, error) {
	if in.StateValue != "" && !contains(alarmStates, in.StateValue) {
		return DescribeAlarmsOutput{}, validationError(in.StateValue, "stateValue", "satisfy enum value set: [INSUFFICIENT_DATA, ALARM, OK]")
	}
	evs := s.Alarms(AlarmFilter{Names: in.AlarmNames, NamePrefix: in.AlarmNamePrefix, State: in.StateValue})
	out := DescribeAlarmsOutput{CompositeAlarms: []struct{}{}, MetricAlarms: make([]metricfilter.MetricAlarm, len(evs))}
	for i := range evs {
		out.MetricAlarms[i] = evs[i].MetricAlarm(s.AlarmArn(evs[i].Alarm.AlarmName))
	}
	return out, nil
}

// DescribeAlarmHistoryInput is DescribeAlarmHistory's request.
type DescribeAlarmHistoryInput struct {
	AlarmName string // "" for every alarm
	// HistoryItemType selects a type of item; vpcflow records state
	// updates only (StateUpdate), so the other types give no items.
	HistoryItemType string
	// MaxRecords caps the items, newest first; 0 means all (the API's
	// default of 50 is the caller's to apply).
	MaxRecords int
}

// DescribeAlarmHistoryOutput is DescribeAlarmHistory's answer.
type DescribeAlarmHistoryOutput struct {
	AlarmHistoryItems []metricfilter.AlarmHistoryItem `json:"AlarmHistoryItems"`
}

// historyItemTypes is the HistoryItemType enum.
var historyItemTypes = []string{"ConfigurationUpdate", "StateUpdate", "Action", "AlarmContributorStateUpdate", "AlarmContributorAction"}

// DescribeAlarmHistory lists the alarms' state changes, newest first, in the
// shape CloudWatch answers with. An alarm's history goes with it when it is
// deleted; an unknown alarm name gives no items, as on AWS.
func (s *Service) DescribeAlarmHistory(in DescribeAlarmHistoryInput) (DescribeAlarmHistoryOutput, error) {
	if in.HistoryItemType != "" && !contains(historyItemTypes, in.HistoryItemType) {
		return DescribeAlarmHistoryOutput{}, validationError(in.HistoryItemType, "historyItemType",
			"satisfy enum value set: [ConfigurationUpdate, StateUpdate, Action, AlarmContributorStateUpdate, AlarmContributorAction]")
	}
	if in.MaxRecords < 0 {
		return DescribeAlarmHistoryOutput{}, validationError(strconv.Itoa(in.MaxRecords), "maxRecords", "have value greater than or equal to 1")
	}
	if in.HistoryItemType != "" && in.HistoryItemType != "StateUpdate" {
		return DescribeAlarmHistoryOutput{AlarmHistoryItems: []metricfilter.AlarmHistoryItem{}}, nil
	}
	var f AlarmFilter
	if in.AlarmName != "" {
		f.Names = []string{in.AlarmName}
	}
	return DescribeAlarmHistoryOutput{AlarmHistoryItems: metricfilter.AlarmHistory(s.Alarms(f), in.MaxRecords)}, nil
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
