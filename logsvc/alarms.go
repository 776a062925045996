package logsvc

import (
	"fmt"
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
	existed := false
	for _, ev := range s.eng.Alarms() {
		if ev.Alarm.AlarmName == a.AlarmName {
			existed = true
		}
	}
	if err := s.eng.PutAlarm(a); err != nil {
		return err
	}
	if !existed {
		s.nalarms++
	}
	return s.saveAlarms()
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
	err := s.db.Update(func(tx *bolt.Tx) error {
		for _, n := range names {
			if err := tx.Bucket(bAlarms).Delete([]byte(n)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("logsvc: delete alarms: %w", err)
	}
	for _, n := range names {
		if s.eng.DeleteAlarm(n) {
			s.nalarms--
		}
	}
	return nil
}

// AlarmFilter selects alarms as DescribeAlarms does; empty members select all.
type AlarmFilter struct {
	Names      []string
	NamePrefix string
	State      string // OK, ALARM or INSUFFICIENT_DATA
}

// DescribeAlarms returns copies of the selected alarms with state and
// history, sorted by name.
func (s *Service) DescribeAlarms(f AlarmFilter) []metricfilter.Evaluator {
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
