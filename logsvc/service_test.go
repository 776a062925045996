package logsvc

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vpcflow/vpcflow/logstore"
	"github.com/vpcflow/vpcflow/metricfilter"
)

// Records L1-L4 (docs/aws-behaviour.md, "Reference records") and the
// rejected-SSH pattern ("Space-delimited patterns" there). L1 and L2 are rejected SSH, L3 accepted SSH, L4
// rejected port 80.
const (
	l1     = "2 086112738802 eni-0d5d75b41f9befe9e 61.177.172.128 172.31.83.158 39611 22 6 1 40 1563108188 1563108227 REJECT OK"
	l2     = "2 086112738802 eni-0d5d75b41f9befe9e 182.68.238.8 172.31.83.158 42227 22 6 1 44 1563109030 1563109067 REJECT OK"
	l3     = "2 086112738802 eni-0d5d75b41f9befe9e 42.171.23.181 172.31.83.158 52417 22 6 24 4065 1563191069 1563191121 ACCEPT OK"
	l4     = "2 086112738802 eni-0d5d75b41f9befe9e 61.177.172.128 172.31.83.158 39611 80 6 1 40 1563108188 1563108227 REJECT OK"
	sshPat = `[version, account, eni, source, destination, srcport, destport="22", protocol="6", packets, bytes, windowstart, windowend, action="REJECT", flowlogstatus]`
	stream = "eni-0d5d75b41f9befe9e-all"
	hour   = int64(1563105600000) // 2019-07-14T12:00:00Z, an hour boundary
)

// testID is the identity of the tests' data dirs.
var testID = Identity{Account: "123456789012", Region: "us-east-1"}

func ptr(v float64) *float64 { return &v }

func sshFilter(def *float64) metricfilter.Definition {
	return metricfilter.Definition{LogGroupName: "vpc", FilterName: "ssh", FilterPattern: sshPat,
		MetricTransformations: []metricfilter.Transformation{{MetricName: "SSHRejects", MetricNamespace: "VPC", MetricValue: "1", DefaultValue: def}}}
}

// sshAlarm is AWS's flow-log alarm example: Sum >= 10 over one hour
// (docs/aws-behaviour.md, "Metric filters and alarms").
func sshAlarm() metricfilter.Alarm {
	return metricfilter.Alarm{AlarmName: "ssh-rejects", Namespace: "VPC", MetricName: "SSHRejects", Statistic: "Sum",
		Period: 3600, EvaluationPeriods: 1, Threshold: 10, ComparisonOperator: "GreaterThanOrEqualToThreshold"}
}

func open(t *testing.T, dir string) *Service {
	t.Helper()
	s, err := Open(dir, Options{Identity: testID})
	if err != nil {
		t.Fatal(err)
	}
	if w := s.Warnings(); len(w) > 0 {
		t.Fatalf("warnings: %v", w)
	}
	return s
}

func evs(ts int64, msgs ...string) []logstore.InputEvent {
	out := make([]logstore.InputEvent, len(msgs))
	for i, m := range msgs {
		out[i] = logstore.InputEvent{Stream: stream, Timestamp: ts + int64(i), Message: []byte(m)}
	}
	return out
}

func mustIngest(t *testing.T, s *Service, group string, e []logstore.InputEvent) {
	t.Helper()
	if _, err := s.Ingest(group, e); err != nil {
		t.Fatal(err)
	}
}

// TestAlarmExampleAcrossRestarts runs the rejected-SSH alarm example
// through the service and reopens the data dir between every step: hour 1
// has L1-L4 (Sum 2 of rejected SSH), hour 2 has ten rejected SSH records.
// The expected states and sums are worked out by hand from the emission and
// alarm rules (docs/aws-behaviour.md, "Metric filters and alarms").
func TestAlarmExampleAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	if err := s.Store().CreateLogGroup("vpc", logstore.GroupOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutMetricFilter(sshFilter(nil)); err != nil {
		t.Fatal(err)
	}
	if err := s.PutMetricAlarm(sshAlarm()); err != nil {
		t.Fatal(err)
	}
	mustIngest(t, s, "vpc", evs(hour, l1, l2, l3, l4))
	s.Close()

	s = open(t, dir)
	got := s.MetricStats("VPC", "SSHRejects", nil)
	want := []metricfilter.MinuteStat{{Minute: hour, Stats: metricfilter.Stats{SampleCount: 2, Sum: 2, Minimum: 1, Maximum: 1}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("after restart 1: %+v, want %+v", got, want)
	}
	// The hour is still open: no state change yet.
	if a := s.Alarms(AlarmFilter{}); len(a) != 1 || a[0].State != metricfilter.StateInsufficientData || len(a[0].History) != 0 {
		t.Fatalf("alarms = %+v", a)
	}
	var ten []string
	for i := 0; i < 10; i++ {
		ten = append(ten, l1)
	}
	mustIngest(t, s, "vpc", evs(hour+3600_000, ten...)) // closes hour 1: OK
	s.Close()

	s = open(t, dir)
	mustIngest(t, s, "vpc", evs(hour+7200_000, l3)) // closes hour 2: ALARM
	s.Close()

	s = open(t, dir)
	defer s.Close()
	a := s.Alarms(AlarmFilter{Names: []string{"ssh-rejects"}})
	if len(a) != 1 || a[0].State != metricfilter.StateAlarm {
		t.Fatalf("alarm = %+v", a)
	}
	h := a[0].History
	if len(h) != 2 || h[0].NewState != metricfilter.StateOK || h[0].Timestamp != hour+3600_000 ||
		h[1].OldState != metricfilter.StateOK || h[1].NewState != metricfilter.StateAlarm || h[1].Timestamp != hour+7200_000 {
		t.Fatalf("history = %+v", h)
	}
	if !strings.HasPrefix(h[1].Reason, "Threshold Crossed: 1 out of the last 1 datapoints [10 (14/07/19 13:00:00)] was greater than or equal to the threshold (10)") {
		t.Errorf("reason = %q", h[1].Reason)
	}
	got = s.MetricStats("VPC", "SSHRejects", nil)
	if len(got) != 2 || got[1].Minute != hour+3600_000 || got[1].Sum != 10 || got[1].SampleCount != 10 {
		t.Errorf("minutes = %+v", got)
	}
}

// TestDefaultValueSurvivesRestart checks the default-value example of
// docs/aws-behaviour.md, "Reference records" (value 1, default 0): L1-L4 in minute M give SampleCount 2, Sum 2; a minute with only L3
// gets one datapoint 0; and the markers behind that come back after a
// restart, including "a late match replaces the default".
func TestDefaultValueSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	s.Store().CreateLogGroup("vpc", logstore.GroupOptions{})
	if err := s.PutMetricFilter(sshFilter(ptr(0))); err != nil {
		t.Fatal(err)
	}
	m := int64(1563108180000) // 12:43:00Z, a minute boundary
	mustIngest(t, s, "vpc", evs(m+1000, l1, l2, l3, l4))
	mustIngest(t, s, "vpc", evs(m+60_000+5, l3))
	mustIngest(t, s, "vpc", evs(m+120_000, l4))
	// A second filter, value $bytes, default 0: in minute m+3 a NODATA record
	// matches without a number (no datapoint) and "hello" does not
	// match; the match still suppresses the default, so the minute has no
	// data at all. Minute m+4 has only "hello": the default 0.
	bytes := sshFilter(ptr(0))
	bytes.FilterName = "bytes"
	bytes.FilterPattern = `[version, account, eni, source, destination, srcport, destport, protocol, packets, bytes, windowstart, windowend, action, flowlogstatus]`
	bytes.MetricTransformations[0].MetricName, bytes.MetricTransformations[0].MetricValue = "Bytes", "$bytes"
	if err := s.PutMetricFilter(bytes); err != nil {
		t.Fatal(err)
	}
	nodata := "2 086112738802 eni-0d5d75b41f9befe9e - - - - - - - 1563108180 1563108240 - NODATA"
	mustIngest(t, s, "vpc", evs(m+180_000, nodata, "hello"))
	mustIngest(t, s, "vpc", evs(m+240_000, "hello"))
	wantBytes := []metricfilter.MinuteStat{{Minute: m + 240_000, Stats: metricfilter.Stats{SampleCount: 1}}}
	if got := s.MetricStats("VPC", "Bytes", nil); !reflect.DeepEqual(got, wantBytes) {
		t.Fatalf("Bytes before restart: %+v, want %+v", got, wantBytes)
	}
	before := s.MetricStats("VPC", "SSHRejects", nil)
	want := []metricfilter.MinuteStat{
		{Minute: m, Stats: metricfilter.Stats{SampleCount: 2, Sum: 2, Minimum: 1, Maximum: 1}},
		{Minute: m + 60_000, Stats: metricfilter.Stats{SampleCount: 1}},
		{Minute: m + 120_000, Stats: metricfilter.Stats{SampleCount: 1}},
		{Minute: m + 180_000, Stats: metricfilter.Stats{SampleCount: 1}},
		{Minute: m + 240_000, Stats: metricfilter.Stats{SampleCount: 1}},
	}
	if !reflect.DeepEqual(before, want) {
		t.Fatalf("before restart: %+v, want %+v", before, want)
	}
	s.Close()
	s = open(t, dir)
	defer s.Close()
	if after := s.MetricStats("VPC", "SSHRejects", nil); !reflect.DeepEqual(after, want) {
		t.Fatalf("after restart: %+v, want %+v", after, want)
	}
	if got := s.MetricStats("VPC", "Bytes", nil); !reflect.DeepEqual(got, wantBytes) {
		t.Fatalf("Bytes after restart: %+v, want %+v", got, wantBytes)
	}
	// A rejected SSH record arriving late in the second minute replaces its
	// default: SampleCount 1, Sum 1.
	mustIngest(t, s, "vpc", evs(m+60_000+7, l1))
	got := s.MetricStats("VPC", "SSHRejects", nil)
	if st := (metricfilter.Stats{SampleCount: 1, Sum: 1, Minimum: 1, Maximum: 1}); len(got) != 5 || got[1].Stats != st {
		t.Errorf("after a late match: %+v, want minute 2 = %+v", got, st)
	}
}

// TestOnlyStoredEventsCount: events the store refuses (bad, expired, too
// old for the API) produce no datapoints.
func TestOnlyStoredEventsCount(t *testing.T) {
	now := time.UnixMilli(hour + 20*86_400_000)
	s, err := Open(t.TempDir(), Options{Identity: testID, Store: logstore.Options{Now: func() time.Time { return now }}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Store().CreateLogGroup("vpc", logstore.GroupOptions{})
	s.Store().CreateLogStream("vpc", stream)
	if err := s.PutMetricFilter(sshFilter(nil)); err != nil {
		t.Fatal(err)
	}
	// Internal path: an empty message and a bad stream name are skipped.
	batch := evs(hour, l1, "", l2)
	batch = append(batch, logstore.InputEvent{Stream: "bad:name", Timestamp: hour + 9, Message: []byte(l1)})
	res, err := s.Ingest("vpc", batch)
	if err != nil || res.Stored != 2 || res.Invalid != 2 {
		t.Fatalf("Ingest = %+v, %v", res, err)
	}
	// API path: now is 20 days after hour, so the first event is too old
	// (> 14 days) and the last too new (> 2 h ahead); only the middle one
	// is stored.
	nowMs := now.UnixMilli()
	pr, err := s.PutLogEvents("vpc", stream, []logstore.PutEvent{{Timestamp: hour + 1000, Message: l1},
		{Timestamp: nowMs - 1000, Message: l1}, {Timestamp: nowMs + 3*3600_000, Message: l1}})
	if err != nil || pr.RejectedLogEventsInfo == nil {
		t.Fatalf("PutLogEvents = %+v, %v", pr, err)
	}
	var total float64
	for _, m := range s.MetricStats("VPC", "SSHRejects", nil) {
		total += m.SampleCount
	}
	if total != 3 {
		t.Errorf("datapoints = %v, want 3 (L1 and L2 by Ingest, one by PutLogEvents)", total)
	}
	// Retention: with 1 day, an event 20 days old is expired and skipped.
	if err := s.Store().PutRetentionPolicy("vpc", 1); err != nil {
		t.Fatal(err)
	}
	res, _ = s.Ingest("vpc", evs(hour, l1))
	if res.Expired != 1 || res.Stored != 0 {
		t.Fatalf("expired Ingest = %+v", res)
	}
	res, _ = s.Ingest("vpc", append(evs(hour, l1), evs(nowMs-1000, l1)...))
	if res.Expired != 1 || res.Stored != 1 {
		t.Fatalf("mixed Ingest = %+v", res)
	}
	total = 0
	for _, m := range s.MetricStats("VPC", "SSHRejects", nil) {
		total += m.SampleCount
	}
	if total != 4 {
		t.Errorf("datapoints = %v, want 4", total)
	}
}

func code(err error) string {
	var ae *logstore.APIError
	var me *metricfilter.Error
	switch {
	case errors.As(err, &ae):
		return ae.Code
	case errors.As(err, &me):
		return me.Code
	}
	return ""
}

func TestFilterAndAlarmAPI(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	if err := s.PutMetricFilter(sshFilter(nil)); code(err) != "ResourceNotFoundException" {
		t.Errorf("filter on a missing group: %v", err)
	}
	s.Store().CreateLogGroup("vpc", logstore.GroupOptions{})
	s.Store().CreateLogGroup("web", logstore.GroupOptions{})
	bad := sshFilter(nil)
	bad.MetricTransformations[0].MetricName = "a:b"
	if err := s.PutMetricFilter(bad); code(err) != "InvalidParameterException" || !strings.Contains(err.Error(), "metricTransformations.1.member.metricName") {
		t.Errorf("bad metric name: %v", err)
	}
	if err := s.PutMetricFilter(sshFilter(nil)); err != nil {
		t.Fatal(err)
	}
	first := s.filters["vpc"]["ssh"].Def.CreationTime
	d := sshFilter(nil)
	d.FilterName = "all-rejects"
	d.FilterPattern = "REJECT"
	if err := s.PutMetricFilter(d); err != nil {
		t.Fatal(err)
	}
	d2 := sshFilter(ptr(0)) // replace: keeps the creation time
	if err := s.PutMetricFilter(d2); err != nil {
		t.Fatal(err)
	}
	w := sshFilter(nil)
	w.LogGroupName, w.FilterName = "web", "errors"
	w.MetricTransformations[0].MetricName = "Errors"
	if err := s.PutMetricFilter(w); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s = open(t, dir)
	defer s.Close()
	all, err := s.DescribeMetricFilters(DescribeFiltersInput{})
	if err != nil || len(all) != 3 || all[0].FilterName != "all-rejects" || all[1].FilterName != "ssh" || all[2].LogGroupName != "web" {
		t.Fatalf("all filters = %+v, %v", all, err)
	}
	if all[1].CreationTime != first || all[1].MetricTransformations[0].DefaultValue == nil {
		t.Errorf("replaced filter = %+v (creation %d)", all[1], first)
	}
	if got, _ := s.DescribeMetricFilters(DescribeFiltersInput{LogGroupName: "vpc", FilterNamePrefix: "ss"}); len(got) != 1 || got[0].FilterName != "ssh" {
		t.Errorf("prefix = %+v", got)
	}
	if got, _ := s.DescribeMetricFilters(DescribeFiltersInput{FilterNamePrefix: "ss"}); len(got) != 3 {
		t.Errorf("prefix without group must be ignored: %+v", got)
	}
	if got, _ := s.DescribeMetricFilters(DescribeFiltersInput{MetricName: "Errors", MetricNamespace: "VPC"}); len(got) != 1 || got[0].LogGroupName != "web" {
		t.Errorf("by metric = %+v", got)
	}
	if _, err := s.DescribeMetricFilters(DescribeFiltersInput{MetricName: "Errors"}); err != ErrMetricPair {
		t.Errorf("metric name alone: %v", err)
	}
	if _, err := s.DescribeMetricFilters(DescribeFiltersInput{LogGroupName: "nope"}); code(err) != "ResourceNotFoundException" {
		t.Errorf("missing group: %v", err)
	}
	gs, _, err := s.DescribeLogGroups(logstore.DescribeGroupsInput{})
	if err != nil || len(gs) != 2 || gs[0].MetricFilterCount != 2 || gs[1].MetricFilterCount != 1 {
		t.Errorf("groups = %+v, %v", gs, err)
	}
	if err := s.DeleteMetricFilter("vpc", "zz"); err == nil || err.Error() != "ResourceNotFoundException: The specified metric filter does not exist." {
		t.Errorf("delete unknown: %v", err)
	}
	if err := s.DeleteMetricFilter("vpc", "all-rejects"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteLogGroup("web"); err != nil {
		t.Fatal(err)
	}
	// Alarms.
	a := sshAlarm()
	a.Period = 45
	if err := s.PutMetricAlarm(a); code(err) != "ValidationError" || !strings.Contains(err.Error(), "Period") {
		t.Errorf("bad period: %v", err)
	}
	if err := s.PutMetricAlarm(sshAlarm()); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAlarms("ssh-rejects", "nope"); code(err) != "ResourceNotFound" {
		t.Errorf("delete unknown alarm: %v", err)
	}
	s.Close()

	s = open(t, dir)
	if got, _ := s.DescribeMetricFilters(DescribeFiltersInput{}); len(got) != 1 || got[0].FilterName != "ssh" {
		t.Errorf("after deletes and restart: %+v", got)
	}
	if got := s.Alarms(AlarmFilter{State: metricfilter.StateInsufficientData}); len(got) != 1 {
		t.Errorf("alarms by state = %+v", got)
	}
	if got := s.Alarms(AlarmFilter{State: metricfilter.StateOK}); len(got) != 0 {
		t.Errorf("alarms in OK = %+v", got)
	}
	if err := s.DeleteAlarms("ssh-rejects"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = open(t, dir)
	if got := s.Alarms(AlarmFilter{}); len(got) != 0 {
		t.Errorf("deleted alarm is back: %+v", got)
	}
	s.Close()
}

// TestNewAlarmSeesOldData: an alarm put after a restart is evaluated up to
// the persisted watermark at once.
func TestNewAlarmSeesOldData(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	s.Store().CreateLogGroup("vpc", logstore.GroupOptions{})
	s.PutMetricFilter(sshFilter(nil))
	mustIngest(t, s, "vpc", evs(hour, l1, l2))
	mustIngest(t, s, "vpc", evs(hour+3600_000, l3))
	s.Close()
	s = open(t, dir)
	defer s.Close()
	if err := s.PutMetricAlarm(sshAlarm()); err != nil {
		t.Fatal(err)
	}
	a := s.Alarms(AlarmFilter{})
	if len(a) != 1 || a[0].State != metricfilter.StateOK || len(a[0].History) != 1 || a[0].History[0].Timestamp != hour+3600_000 {
		t.Errorf("alarm = %+v", a)
	}
	// Live mode: the wall clock closes the next hour, which has no data.
	ch, err := s.Advance(hour + 2*3600_000)
	if err != nil || len(ch) != 1 || ch[0].NewState != metricfilter.StateInsufficientData {
		t.Errorf("Advance = %+v, %v", ch, err)
	}
}

// TestChoiceTexts checks the messages AWS does not document, chosen by
// vpcflow (docs/aws-behaviour.md, "Choices where AWS is silent";
// docs/metric-filters.md).
func TestChoiceTexts(t *testing.T) {
	s := open(t, t.TempDir())
	defer s.Close()
	if _, err := s.DescribeMetricFilters(DescribeFiltersInput{MetricNamespace: "VPC"}); err == nil ||
		err.Error() != "InvalidParameterException: metricName and metricNamespace must be specified together." {
		t.Errorf("metric pair: %v", err)
	}
	if err := s.DeleteAlarms("a", "b"); err == nil || err.Error() != "ResourceNotFound: The following alarms were not found: [a, b]" {
		t.Errorf("delete unknown alarms: %v", err)
	}
}
