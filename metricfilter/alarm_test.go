package metricfilter

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func sshAlarm() Alarm {
	return Alarm{AlarmName: "ssh-rejects", Namespace: "VPC", MetricName: "SSHRejects", Statistic: "Sum",
		Period: 3600, EvaluationPeriods: 1, Threshold: 10, ComparisonOperator: "GreaterThanOrEqualToThreshold",
		AlarmActions: []string{"arn:aws:sns:us-east-1:123456789012:ops"}}
}

// TestAlarmExample is the AWS flow-log alarm example (docs/aws-behaviour.md,
// "Metric filters and alarms"): ten or more rejected SSH attempts in an hour
// raise the alarm; L1-L4 alone (Sum 2) give OK.
func TestAlarmExample(t *testing.T) {
	e := NewEngine()
	if _, err := e.PutFilter("vpc", def(sshPattern, "1")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.PutAlarm(sshAlarm(), 0); err != nil {
		t.Fatal(err)
	}
	h := int64(1563105600000) // 2019-07-14 12:00:00 UTC, an hour boundary
	_, ch := e.Ingest("vpc", []Event{{h + 1, l1}, {h + 2, l2}, {h + 3, l3}, {h + 4, l4}})
	if len(ch) != 0 {
		t.Fatalf("the hour is still open, got changes %+v", ch)
	}
	// The next event closes the hour: Sum 2 < 10 -> OK.
	_, ch = e.Ingest("vpc", []Event{{h + 3600000, l3}})
	if len(ch) != 1 || ch[0].OldState != StateInsufficientData || ch[0].NewState != StateOK || ch[0].Timestamp != h+3600000 || ch[0].Actions != nil {
		t.Fatalf("changes = %+v, want INSUFFICIENT_DATA -> OK at the hour end", ch)
	}
	if !strings.HasPrefix(ch[0].Reason, "Threshold Crossed: 0 out of the last 1 datapoints [2 (14/07/19 12:00:00)] was not greater than or equal to the threshold (10)") {
		t.Errorf("reason = %q", ch[0].Reason)
	}
	// Ten rejected SSH attempts in the second hour.
	var evs []Event
	for i := 0; i < 10; i++ {
		evs = append(evs, Event{h + 3600000 + int64(i)*1000, l1})
	}
	e.Ingest("vpc", evs)
	ch = e.Advance(h + 7200000)
	if len(ch) != 1 || ch[0].NewState != StateAlarm || !reflect.DeepEqual(ch[0].Actions, sshAlarm().AlarmActions) {
		t.Fatalf("changes = %+v, want OK -> ALARM with the alarm action", ch)
	}
	// The third hour has no data: treat-missing-data "missing" gives INSUFFICIENT_DATA.
	ch = e.Advance(h + 3*3600000)
	if len(ch) != 1 || ch[0].NewState != StateInsufficientData {
		t.Fatalf("changes = %+v, want ALARM -> INSUFFICIENT_DATA", ch)
	}
	a := e.Alarms()
	if len(a) != 1 || a[0].State != StateInsufficientData || len(a[0].History) != 3 {
		t.Fatalf("alarms = %+v", a)
	}
	// Many idle periods later: no further changes and no per-period work.
	if ch = e.Advance(h + 1000*3600000); len(ch) != 0 {
		t.Errorf("idle changes = %+v", ch)
	}
}

// TestEvaluate checks M-out-of-N with each TreatMissingData value over three
// one-minute periods; the expected states are worked out from the alarm
// rules (docs/aws-behaviour.md, "Metric filters and alarms").
func TestEvaluate(t *testing.T) {
	const p = 60000
	t0 := int64(1700000040000) // a minute boundary
	type period struct {
		v       float64
		present bool
	}
	tests := []struct {
		periods []period
		treat   string
		prior   string
		want    string
	}{
		// [10, -, 10]: two breaching present, M = 2.
		{[]period{{10, true}, {}, {10, true}}, "missing", StateOK, StateAlarm},
		{[]period{{10, true}, {}, {10, true}}, "notBreaching", StateOK, StateAlarm},
		// [10, -, 1]: one breaching present.
		{[]period{{10, true}, {}, {1, true}}, "missing", StateAlarm, StateOK},
		{[]period{{10, true}, {}, {1, true}}, "ignore", StateAlarm, StateOK},
		{[]period{{10, true}, {}, {1, true}}, "notBreaching", StateAlarm, StateOK},
		{[]period{{10, true}, {}, {1, true}}, "breaching", StateOK, StateAlarm},
		// all missing
		{[]period{{}, {}, {}}, "missing", StateAlarm, StateInsufficientData},
		{[]period{{}, {}, {}}, "", StateAlarm, StateInsufficientData},
		{[]period{{}, {}, {}}, "ignore", StateAlarm, StateAlarm},
		{[]period{{}, {}, {}}, "breaching", StateOK, StateAlarm},
		{[]period{{}, {}, {}}, "notBreaching", StateAlarm, StateOK},
		// [1, 1, 1]: nothing breaches.
		{[]period{{1, true}, {1, true}, {1, true}}, "breaching", StateAlarm, StateOK},
		// threshold is 5 and the operator is GreaterThan: 5 does not breach.
		{[]period{{5, true}, {6, true}, {}}, "missing", StateAlarm, StateOK},
	}
	for i, tc := range tests {
		s := NewStore()
		for j, pv := range tc.periods {
			if pv.present {
				s.Add(Datapoint{Namespace: "N", MetricName: "M", Timestamp: t0 + int64(j)*p + 30000, Value: pv.v})
			}
		}
		ev, err := NewEvaluator(Alarm{AlarmName: "a", Namespace: "N", MetricName: "M", Statistic: "Maximum", Period: 60,
			EvaluationPeriods: 3, DatapointsToAlarm: 2, Threshold: 5, ComparisonOperator: "GreaterThanThreshold", TreatMissingData: tc.treat})
		if err != nil {
			t.Fatal(err)
		}
		ev.State = tc.prior
		ev.Next = t0 + 3*p
		ev.Advance(s, t0+3*p)
		if ev.State != tc.want {
			t.Errorf("case %d %v %q from %s: %s, want %s", i, tc.periods, tc.treat, tc.prior, ev.State, tc.want)
		}
	}
}

func TestStatistics(t *testing.T) {
	s := NewStore()
	for _, v := range []float64{4, 1, 7} {
		s.Add(Datapoint{Namespace: "N", MetricName: "M", Timestamp: 20_000, Value: v})
	}
	st, ok := s.Stats(KeyOf("N", "M", nil), 0, 60_000)
	want := map[string]float64{"SampleCount": 3, "Sum": 12, "Average": 4, "Minimum": 1, "Maximum": 7}
	for name, v := range want {
		if got := st.Statistic(name); !ok || got != v {
			t.Errorf("%s = %v, want %v", name, got, v)
		}
	}
	if _, ok := s.Stats(KeyOf("N", "M", nil), 30_000, 60_000); ok {
		t.Error("an empty range must be missing")
	}
	if _, ok := s.Stats(KeyOf("N", "M", []Dimension{{"a", "b"}}), 0, 60_000); ok {
		t.Error("another dimension set is another metric")
	}
	// Sub-minute periods use the 10 s buckets.
	if st, _ := s.Stats(KeyOf("N", "M", nil), 20_000, 30_000); st.SampleCount != 3 {
		t.Errorf("10 s bucket = %+v", st)
	}
}

func TestAlarmValidation(t *testing.T) {
	mod := func(f func(*Alarm)) Alarm { a := sshAlarm(); f(&a); return a }
	bad := map[string]Alarm{
		"period 45":          mod(func(a *Alarm) { a.Period = 45 }),
		"period 0":           mod(func(a *Alarm) { a.Period = 0 }),
		"M > N":              mod(func(a *Alarm) { a.DatapointsToAlarm = 2 }),
		"N = 0":              mod(func(a *Alarm) { a.EvaluationPeriods = 0 }),
		"range > 1 day":      mod(func(a *Alarm) { a.Period = 60; a.EvaluationPeriods = 1441 }),
		"range > 7 days":     mod(func(a *Alarm) { a.Period = 3600; a.EvaluationPeriods = 169 }),
		"statistic p99":      mod(func(a *Alarm) { a.Statistic = "p99" }),
		"operator":           mod(func(a *Alarm) { a.ComparisonOperator = "GreaterThan" }),
		"treat missing data": mod(func(a *Alarm) { a.TreatMissingData = "zero" }),
		"no name":            mod(func(a *Alarm) { a.AlarmName = "" }),
	}
	for name, a := range bad {
		if err := a.Validate(); err == nil || err.(*Error).Code != "ValidationError" {
			t.Errorf("%s: %v, want a ValidationError", name, err)
		}
	}
	good := []Alarm{
		sshAlarm(),
		mod(func(a *Alarm) { a.Period = 10 }),
		mod(func(a *Alarm) { a.Period = 60; a.EvaluationPeriods = 1440; a.DatapointsToAlarm = 3 }),
		mod(func(a *Alarm) { a.Period = 3600; a.EvaluationPeriods = 168; a.TreatMissingData = "notBreaching" }),
	}
	for _, a := range good {
		if err := a.Validate(); err != nil {
			t.Errorf("%+v: %v", a, err)
		}
	}
}

// TestAlarmUpdateKeepsState and JSON persistence of the evaluator.
func TestAlarmUpdateAndJSON(t *testing.T) {
	e := NewEngine()
	e.PutFilter("vpc", def(sshPattern, "1"))
	e.PutAlarm(sshAlarm(), 0)
	e.Ingest("vpc", []Event{{0, l1}})
	e.Advance(3600000)
	a := sshAlarm()
	a.Threshold = 1
	if _, err := e.PutAlarm(a, 0); err != nil {
		t.Fatal(err)
	}
	got := e.Alarms()[0]
	if got.State != StateOK || got.Alarm.Threshold != 1 {
		t.Fatalf("after update: %+v", got)
	}
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	var back Evaluator
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, got) {
		t.Fatalf("round trip %+v, %v", back, err)
	}
	e2 := NewEngine()
	if err := e2.RestoreAlarm(&back); err != nil || e2.Alarms()[0].State != StateOK {
		t.Fatalf("restore: %v", err)
	}
	if !e.DeleteAlarm("ssh-rejects") || e.DeleteAlarm("ssh-rejects") {
		t.Error("DeleteAlarm should report existence")
	}
}
