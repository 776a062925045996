package metricfilter

import (
	"encoding/json"
	"math"
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

// TestAlarmWaitsForLateData: one minute's events come from two capture
// windows, a 60 s one delivered at the minute's end and a 600 s one
// delivered ten minutes later. Judged on event time alone, the minute was
// judged from the first window only: the default value 0 (an event, no
// match), "[0 (...)]", while the minute's datapoints end at 7 once the
// 600 s window arrives. Held back by Complete, the minute is judged when
// both are in, from the datapoints `metric-filter datapoints` lists.
func TestAlarmWaitsForLateData(t *testing.T) {
	e := NewEngine()
	if _, err := e.PutFilter("vpc", def("REJECT", "1", func(t *Transformation) { t.MetricName = "Rejects"; t.DefaultValue = ptr(0) })); err != nil {
		t.Fatal(err)
	}
	a := Alarm{AlarmName: "rejects", Namespace: "VPC", MetricName: "Rejects", Statistic: "Sum", Period: 60,
		EvaluationPeriods: 1, Threshold: 5, ComparisonOperator: "GreaterThanOrEqualToThreshold"}
	if _, err := e.PutAlarm(a, 0); err != nil {
		t.Fatal(err)
	}
	m0 := int64(1767225600000) // 2026-01-01 00:00:00 UTC
	m1 := m0 + 60_000
	accept := func(ts int64) Event {
		return Event{ts, "2 111122223333 eni-a 10.0.0.1 10.0.0.2 1 2 6 1 40 0 0 ACCEPT OK"}
	}
	reject := func(ts int64) Event {
		return Event{ts, "2 111122223333 eni-b 10.0.0.3 10.0.0.2 1 22 6 1 40 0 0 REJECT OK"}
	}

	// The 600 s window [m0, m0+600 s) is open: nothing from m0 on is complete.
	if ch := e.Complete(m0); len(ch) != 0 {
		t.Fatalf("changes %+v", ch)
	}
	// The 60 s windows of minutes m0 and m1, one ACCEPT each: on event time
	// alone the second one judged minute m0 with its default value 0.
	for _, ts := range []int64{m0 + 10_000, m1 + 10_000} {
		if _, ch := e.Ingest("vpc", []Event{accept(ts)}); len(ch) != 0 {
			t.Fatalf("judged before the 600 s window came: %+v", ch)
		}
	}
	if ch := e.Advance(m0 + 300_000); len(ch) != 0 {
		t.Fatalf("the clock judged before the 600 s window came: %+v", ch)
	}
	// The 600 s window: seven REJECTs in minute m0 and an ACCEPT in m1.
	var evs []Event
	for i := int64(0); i < 7; i++ {
		evs = append(evs, reject(m0+20_000+i*1000))
	}
	evs = append(evs, accept(m1+20_000))
	if _, ch := e.Ingest("vpc", evs); len(ch) != 0 {
		t.Fatalf("judged before Complete: %+v", ch)
	}
	// Minute m0 holds 7 matches (so no default): Sum 7, SampleCount 7.
	if st, ok := e.Store().Stats(KeyOf("VPC", "Rejects", nil), m0, m1); !ok || st.Sum != 7 || st.SampleCount != 7 {
		t.Fatalf("minute m0: %+v %v", st, ok)
	}
	// Every window up to m0+600 s is delivered; the newest event is at
	// m1+20 s, so minute m0 is judged, minute m1 is not yet.
	ch := e.Complete(m0 + 600_000)
	want := "Threshold Crossed: 1 out of the last 1 datapoints [7 (01/01/26 00:00:00)] was greater than or equal to the threshold (5) (minimum 1 datapoints for ALARM)."
	if len(ch) != 1 || ch[0].NewState != StateAlarm || ch[0].Timestamp != m1 || ch[0].Reason != want {
		t.Fatalf("changes %+v, want INSUFFICIENT_DATA -> ALARM at %d: %s", ch, m1, want)
	}
	// Minute m1: its default 0 (two ACCEPTs, no match), judged once an
	// event after it arrives.
	e.Ingest("vpc", []Event{accept(m1 + 60_000)})
	got := e.Alarms()[0]
	if got.State != StateOK || !strings.Contains(got.StateReason, "[0 (01/01/26 00:01:00)]") {
		t.Fatalf("after minute m1: %s %s", got.State, got.StateReason)
	}
	// Complete(math.MaxInt64) holds nothing back: the clock judges again.
	e.Complete(math.MaxInt64)
	if ch := e.Advance(m1 + 5*60_000); len(ch) != 1 || ch[0].NewState != StateInsufficientData {
		t.Fatalf("clock after the hold: %+v", ch)
	}
}
