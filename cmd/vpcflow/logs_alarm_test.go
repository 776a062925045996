package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vpcflow/vpcflow/metricfilter"
)

// alarmHour is 2019-07-14T12:00:00Z, an hour boundary just before the
// records L1-L4 (docs/aws-behaviour.md, "Reference records").
const alarmHour = int64(1563105600000)

// alarmEvents writes an NDJSON file for `logs put`: each (offset ms, message).
func alarmEvents(t *testing.T, dir, name string, evs ...any) string {
	t.Helper()
	var b strings.Builder
	for i := 0; i < len(evs); i += 2 {
		line, _ := json.Marshal(map[string]any{"timestamp": alarmHour + evs[i].(int64), "message": evs[i+1],
			"logStream": "eni-0d5d75b41f9befe9e-all"})
		b.Write(line)
		b.WriteByte('\n')
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// alarmTime is alarmHour+off in RFC 3339 UTC, the form canonicalAlarmTime
// gives: the tests check the instant, not the [Choice] rendering.
func alarmTime(off int64) string {
	return time.UnixMilli(alarmHour + off).UTC().Format(time.RFC3339Nano)
}

func canonicalAlarmTime(t *testing.T, s string) string {
	t.Helper()
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("timestamp %q: %v", s, err)
	}
	return tm.UTC().Format(time.RFC3339Nano)
}

func alarmRun(t *testing.T, wantCode int, args ...string) string {
	t.Helper()
	out, errOut, code := runBinary(t, nil, args...)
	if code != wantCode {
		t.Fatalf("%v: exit %d, want %d\nstdout: %s\nstderr: %s", args, code, wantCode, out, errOut)
	}
	return out
}

// TestLogsAlarmEndToEnd follows the AWS flow-log example with the real
// binary, one process per step (every step is a restart): the rejected-SSH
// metric filter and its alarm (Sum >= 10 over one hour) of
// docs/aws-behaviour.md, "Metric filters and alarms"; events imported with
// `logs put`. The expected datapoints and state changes are worked out by
// hand from the events.
func TestLogsAlarmEndToEnd(t *testing.T) {
	dir := t.TempDir()
	dd := []string{"--data-dir", filepath.Join(dir, "data")}
	cmd := func(args ...string) []string { return append(args, dd...) }
	const group = "/vpc/flow-logs"

	// The group must exist first; events before the filter do not count.
	_, errOut, code := runBinary(t, nil, cmd("logs", "metric-filter", "put", "--group", group, "--name", "ssh", "--pattern", mfSSH,
		"--metric-name", "SSHRejects", "--metric-namespace", "VPC")...)
	if code != 1 || !strings.Contains(errOut, "An error occurred (ResourceNotFoundException) when calling the PutMetricFilter operation: The specified log group does not exist.") {
		t.Fatalf("filter on a missing group: exit %d, %s", code, errOut)
	}
	alarmRun(t, 0, cmd("logs", "put", "--group", group, alarmEvents(t, dir, "before.ndjson", int64(-3600_000), mfL1))...)
	alarmRun(t, 0, cmd("logs", "metric-filter", "put", "--group", group, "--name", "ssh", "--pattern", mfSSH,
		"--metric-name", "SSHRejects", "--metric-namespace", "VPC", "--metric-value", "1", "--unit", "Count")...)
	alarmRun(t, 0, cmd("logs", "alarm", "put", "--alarm-name", "ssh-rejects", "--namespace", "VPC", "--metric-name", "SSHRejects",
		"--statistic", "Sum", "--period", "3600", "--evaluation-periods", "1", "--threshold", "10",
		"--comparison-operator", "GreaterThanOrEqualToThreshold", "--alarm-actions", "arn:aws:sns:us-east-1:123456789012:ops")...)

	// Hour 12: L1-L4 (two rejected SSH). Hour 13: ten rejected SSH.
	// 14:00: L3 (accepted), which closes hour 13.
	evs := []any{int64(1000), mfL1, int64(2000), mfL2, int64(3000), mfL3, int64(4000), mfL4}
	for i := 0; i < 10; i++ {
		evs = append(evs, int64(3600_000+i*1000), mfL1)
	}
	evs = append(evs, int64(7200_000), mfL3)
	out := alarmRun(t, 0, cmd("logs", "put", "--group", group, alarmEvents(t, dir, "day.ndjson", evs...))...)
	if !strings.Contains(out, "stored 15 events") {
		t.Errorf("put: %s", out)
	}

	var dps struct {
		Label      string
		Datapoints []metricfilter.StatisticsDatapoint
	}
	json.Unmarshal([]byte(alarmRun(t, 0, cmd("logs", "metric-filter", "datapoints", "--metric-namespace", "VPC",
		"--metric-name", "SSHRejects", "--period", "3600", "--output", "json")...)), &dps)
	wantDps := []metricfilter.StatisticsDatapoint{
		{Timestamp: alarmTime(0), SampleCount: 2, Average: 1, Sum: 2, Minimum: 1, Maximum: 1, Unit: "Count"},
		{Timestamp: alarmTime(3600_000), SampleCount: 10, Average: 1, Sum: 10, Minimum: 1, Maximum: 1, Unit: "Count"},
	}
	for i := range dps.Datapoints {
		dps.Datapoints[i].Timestamp = canonicalAlarmTime(t, dps.Datapoints[i].Timestamp)
	}
	if dps.Label != "SSHRejects" || !reflect.DeepEqual(dps.Datapoints, wantDps) {
		t.Fatalf("datapoints = %+v, want %+v", dps, wantDps)
	}

	history := func() []metricfilter.AlarmHistoryItem {
		var h struct {
			AlarmHistoryItems []metricfilter.AlarmHistoryItem
		}
		json.Unmarshal([]byte(alarmRun(t, 0, cmd("logs", "alarm", "history", "--alarm-name", "ssh-rejects", "--output", "json")...)), &h)
		return h.AlarmHistoryItems
	}
	h := history()
	if len(h) != 2 {
		t.Fatalf("history = %+v", h)
	}
	if canonicalAlarmTime(t, h[0].Timestamp) != alarmTime(7200_000) || h[0].HistorySummary != "Alarm updated from OK to ALARM" ||
		canonicalAlarmTime(t, h[1].Timestamp) != alarmTime(3600_000) || h[1].HistorySummary != "Alarm updated from INSUFFICIENT_DATA to OK" {
		t.Errorf("history = %+v", h)
	}
	var data struct {
		OldState, NewState metricfilter.HistoryState
		Actions            []string
	}
	if err := json.Unmarshal([]byte(h[0].HistoryData), &data); err != nil || data.NewState.StateReason !=
		"Threshold Crossed: 1 out of the last 1 datapoints [10 (14/07/19 13:00:00)] was greater than or equal to the threshold (10) (minimum 1 datapoints for ALARM)." ||
		!reflect.DeepEqual(data.Actions, []string{"arn:aws:sns:us-east-1:123456789012:ops"}) {
		t.Errorf("HistoryData = %+v, %v", data, err)
	}

	// More data in later processes: hour 14 has 12 rejected SSH (still
	// ALARM, no new item); hour 15 only L3, so when 17:00 arrives hour 15
	// had no datapoint: missing data -> INSUFFICIENT_DATA at 16:00.
	evs = nil
	for i := 0; i < 12; i++ {
		evs = append(evs, int64(7200_000+10_000+i*1000), mfL1)
	}
	evs = append(evs, int64(3*3600_000+5), mfL3)
	alarmRun(t, 0, cmd("logs", "put", "--group", group, alarmEvents(t, dir, "later.ndjson", evs...))...)
	if h := history(); len(h) != 2 {
		t.Fatalf("hour 14 must not change the state: %+v", h)
	}
	alarmRun(t, 0, cmd("logs", "put", "--group", group, alarmEvents(t, dir, "last.ndjson", int64(5*3600_000), mfL3))...)
	h = history()
	if len(h) != 3 || canonicalAlarmTime(t, h[0].Timestamp) != alarmTime(4*3600_000) || h[0].HistorySummary != "Alarm updated from ALARM to INSUFFICIENT_DATA" {
		t.Fatalf("history = %+v", h)
	}

	// The overview, describe-alarms and the group's filter count.
	out = alarmRun(t, 0, cmd("logs", "alarms")...)
	if !strings.Contains(out, "ssh-rejects  INSUFFICIENT_DATA  ") || !strings.Contains(out, "  Sum(VPC/SSHRejects) >= 10 for 1 of 1 x 3600s\n") ||
		!strings.Contains(out, "OK to ALARM") {
		t.Errorf("alarms:\n%s", out)
	}
	var da struct{ MetricAlarms []metricfilter.MetricAlarm }
	json.Unmarshal([]byte(alarmRun(t, 0, cmd("logs", "alarm", "list", "--output", "json")...)), &da)
	if len(da.MetricAlarms) != 1 || da.MetricAlarms[0].StateValue != "INSUFFICIENT_DATA" || da.MetricAlarms[0].Threshold != 10 ||
		da.MetricAlarms[0].DatapointsToAlarm != 1 || da.MetricAlarms[0].TreatMissingData != "missing" ||
		da.MetricAlarms[0].AlarmArn != "arn:aws:cloudwatch:us-east-1:123456789012:alarm:ssh-rejects" {
		t.Errorf("describe-alarms = %+v", da)
	}
	var gs struct {
		LogGroups []struct{ MetricFilterCount int } `json:"logGroups"`
	}
	json.Unmarshal([]byte(alarmRun(t, 0, cmd("logs", "groups", "--output", "json")...)), &gs)
	if len(gs.LogGroups) != 1 || gs.LogGroups[0].MetricFilterCount != 1 {
		t.Errorf("groups = %+v", gs)
	}

	// describe-metric-filters, then delete.
	var mf struct {
		MetricFilters []map[string]any `json:"metricFilters"`
	}
	json.Unmarshal([]byte(alarmRun(t, 0, cmd("logs", "metric-filter", "list", "--group", group, "--output", "json")...)), &mf)
	if len(mf.MetricFilters) != 1 || mf.MetricFilters[0]["filterName"] != "ssh" || mf.MetricFilters[0]["filterPattern"] != mfSSH ||
		mf.MetricFilters[0]["logGroupName"] != group || mf.MetricFilters[0]["applyOnTransformedLogs"] != false ||
		fmt.Sprint(mf.MetricFilters[0]["metricTransformations"]) != "[map[metricName:SSHRejects metricNamespace:VPC metricValue:1 unit:Count]]" {
		t.Errorf("metricFilters = %+v", mf)
	}
	alarmRun(t, 0, cmd("logs", "metric-filter", "delete", "--group", group, "--name", "ssh")...)
	_, errOut, code = runBinary(t, nil, cmd("logs", "metric-filter", "delete", "--group", group, "--name", "ssh")...)
	if code != 1 || !strings.Contains(errOut, "(ResourceNotFoundException) when calling the DeleteMetricFilter operation: The specified metric filter does not exist.") {
		t.Errorf("delete twice: exit %d, %s", code, errOut)
	}
	if out := alarmRun(t, 0, cmd("logs", "metric-filter", "list", "--output", "json")...); out != "{\n    \"metricFilters\": []\n}\n" {
		t.Errorf("list after delete: %q", out)
	}
	// Datapoints outlive the filter.
	if out := alarmRun(t, 0, cmd("logs", "metric-filter", "datapoints", "--metric-namespace", "VPC", "--metric-name", "SSHRejects", "--period", "3600")...); strings.Count(out, "\n") != 4 {
		t.Errorf("datapoints after delete:\n%s", out)
	}
	alarmRun(t, 0, cmd("logs", "alarm", "delete", "--alarm-names", "ssh-rejects")...)
	if out := alarmRun(t, 0, cmd("logs", "alarm", "list", "--output", "json")...); out != "{\n    \"CompositeAlarms\": [],\n    \"MetricAlarms\": []\n}\n" {
		t.Errorf("list after delete: %q", out)
	}
}

// TestLogsAlarmCLIErrors: bad input exits 2 naming the parameter (AWS
// member or flag) and, for patterns, the column; missing things exit 1.
func TestLogsAlarmCLIErrors(t *testing.T) {
	dir := t.TempDir()
	dd := []string{"--data-dir", filepath.Join(dir, "data")}
	alarmRun(t, 0, append([]string{"logs", "put", "--group", "g", alarmEvents(t, dir, "e.ndjson", int64(0), mfL1)}, dd...)...)
	mf := func(extra ...string) []string {
		args := []string{"logs", "metric-filter", "put", "--group", "g", "--name", "n", "--pattern", mfSSH, "--metric-name", "M", "--metric-namespace", "NS"}
		return append(append(args, extra...), dd...)
	}
	al := func(extra ...string) []string {
		args := []string{"logs", "alarm", "put", "--alarm-name", "a", "--namespace", "NS", "--metric-name", "M", "--statistic", "Sum",
			"--period", "60", "--evaluation-periods", "1", "--threshold", "1", "--comparison-operator", "GreaterThanThreshold"}
		return append(append(args, extra...), dd...)
	}
	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"bad metric name", mf("--metric-name", "a:b"), 2, []string{"(InvalidParameterException) when calling the PutMetricFilter operation: 1 validation error detected: Value 'a:b' at 'metricTransformations.1.member.metricName'"}},
		{"bad pattern", mf("--pattern", "[a, b"), 2, []string{"--pattern: An error occurred (InvalidParameterException) when calling the PutMetricFilter operation: Invalid filter pattern", "column 6"}},
		{"unknown field", mf("--metric-value", "$nope"), 2, []string{"Invalid metricValue '$nope': the filter pattern has no field named 'nope'."}},
		{"bad dimensions", mf("--dimensions", "Eni=$eni,Src"), 2, []string{`--dimensions: item 2 "Src" at column 10: want NAME=VALUE`}},
		{"bad unit", mf("--unit", "Furlongs"), 2, []string{"at 'metricTransformations.1.member.unit'"}},
		{"bad default", mf("--default-value", "x"), 2, []string{`--default-value "x": want a finite number`}},
		{"missing flag", []string{"logs", "metric-filter", "put", "--group", "g", "--name", "n", "--pattern", "x"}, 2, []string{"--metric-name is required"}},
		{"missing group", mf("--group", "nope"), 1, []string{"ResourceNotFoundException"}},
		{"bad period", al("--period", "45"), 2, []string{"(ValidationError) when calling the PutMetricAlarm operation: Period must be 10, 20, 30 or a multiple of 60 seconds, got 45"}},
		{"bad statistic", al("--statistic", "p99"), 2, []string{`Statistic must be one of SampleCount, Average, Sum, Minimum, Maximum, got "p99"`}},
		{"M > N", al("--datapoints-to-alarm", "3"), 2, []string{"DatapointsToAlarm must be between 1 and EvaluationPeriods (1), got 3"}},
		{"bad threshold", al("--threshold", "ten"), 2, []string{`--threshold "ten": want a finite number`}},
		{"bad treat", al("--treat-missing-data", "zero"), 2, []string{"TreatMissingData must be one of"}},
		// awscli's own refusals for cloudwatch put-metric-alarm --dimensions.
		{"our old dimension form", al("--dimensions", "Eni=eni-0a1b2c3d4e5f60718"), 2, []string{`Unknown parameter in Dimensions[0]: "Eni", must be one of: Name, Value (awscli's form of this dimension is Name=Eni,Value=eni-0a1b2c3d4e5f60718)`}},
		{"dimension without value", al("--dimensions", "Name=Eni"), 2, []string{`Missing required parameter in Dimensions[0]: "Value"`}},
		{"dimension JSON member", al("--dimensions", `[{"Name":"Eni","Value":"x"},{"Name":"A","Val":"y"}]`), 2, []string{`Unknown parameter in Dimensions[1]: "Val"`}},
		{"alarm without name", []string{"logs", "alarm", "put", "--namespace", "NS"}, 2, []string{"--alarm-name is required"}},
		{"unknown alarm history", append([]string{"logs", "alarm", "history", "--alarm-name", "nope"}, dd...), 1, []string{`no alarm named "nope"`}},
		{"unknown alarm delete", append([]string{"logs", "alarm", "delete", "--alarm-names", "nope"}, dd...), 1, []string{"(ResourceNotFound) when calling the DeleteAlarms operation: "}},
		{"bad state filter", append([]string{"logs", "alarm", "list", "--state-value", "BAD"}, dd...), 2, []string{`--state-value "BAD"`}},
		{"filter metric pair", append([]string{"logs", "metric-filter", "list", "--metric-name", "M"}, dd...), 2, []string{"--metric-name and --metric-namespace go together"}},
		{"datapoints period", append([]string{"logs", "metric-filter", "datapoints", "--metric-name", "M", "--metric-namespace", "N", "--period", "90"}, dd...), 2, []string{"--period 90"}},
		// One exit code (2) and one message shape for an invalid pattern everywhere.
		{"logs filter pattern", append([]string{"logs", "filter", "--group", "g", "--pattern", "[a, b"}, dd...), 2,
			[]string{"--pattern: An error occurred (InvalidParameterException) when calling the FilterLogEvents operation: Invalid filter pattern", "^ column 6"}},
		{"metric-filter test pattern", []string{"logs", "metric-filter", "test", "--pattern", "[a, b"}, 2,
			[]string{"An error occurred (InvalidParameterException) when calling the TestMetricFilter operation: Invalid filter pattern", "^ column 6"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := runBinary(t, nil, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr %s", code, tc.code, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr %q lacks %q", errOut, w)
				}
			}
		})
	}
}

func TestLogsAlarmHelp(t *testing.T) {
	for _, args := range [][]string{
		{"logs", "alarm", "put", "--help"}, {"logs", "alarm", "list", "--help"}, {"logs", "alarm", "delete", "--help"},
		{"logs", "alarm", "history", "--help"}, {"logs", "alarms", "--help"}, {"logs", "metric-filter", "put", "--help"},
		{"logs", "metric-filter", "list", "--help"}, {"logs", "metric-filter", "delete", "--help"}, {"logs", "metric-filter", "datapoints", "--help"},
	} {
		out, _, code := runBinary(t, nil, args...)
		if code != 0 || !strings.Contains(out, "Examples:") {
			t.Errorf("%v: exit %d\n%s", args, code, out)
		}
	}
}

// TestLogsAlarmChoice checks the texts and formats AWS leaves to us
// ([Choice], docs/metric-filters.md).
func TestLogsAlarmChoice(t *testing.T) {
	dir := t.TempDir()
	dd := []string{"--data-dir", filepath.Join(dir, "data")}
	_, errOut, code := runBinary(t, nil, append([]string{"logs", "alarm", "delete", "--alarm-names", "nope,other"}, dd...)...)
	if code != 1 || !strings.Contains(errOut, "The following alarms were not found: [nope, other]") {
		t.Errorf("delete unknown: exit %d, %s", code, errOut)
	}
	alarmRun(t, 0, append([]string{"logs", "put", "--group", "g", alarmEvents(t, dir, "e.ndjson", int64(0), mfL1, int64(3600_000), mfL1)}, dd...)...)
	alarmRun(t, 0, append([]string{"logs", "alarm", "put", "--name", "a", "--namespace", "N", "--metric-name", "M", "--statistic", "Sum",
		"--period", "60", "--evaluation-periods", "1", "--threshold", "1", "--comparison-operator", "GreaterThanThreshold"}, dd...)...)
	// No filter writes the alarm's metric: it stays INSUFFICIENT_DATA with
	// its creation reason, and its history is empty.
	out := alarmRun(t, 0, append([]string{"logs", "alarm", "history", "--alarm-name", "a", "--output", "json"}, dd...)...)
	if out != "{\n    \"AlarmHistoryItems\": []\n}\n" {
		t.Errorf("history = %q", out)
	}
	out = alarmRun(t, 0, append([]string{"logs", "alarm", "list", "--output", "json"}, dd...)...)
	for _, w := range []string{`"AlarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:a"`, `"StateReason": "Unchecked: Initial alarm creation"`} {
		if !strings.Contains(out, w) {
			t.Errorf("describe-alarms lacks %s:\n%s", w, out)
		}
	}
	if got := metricfilter.FormatTime(alarmHour + 7); got != "2019-07-14T12:00:00.007Z" {
		t.Errorf("FormatTime = %s", got)
	}
}

// TestAlarmDimensions: awscli's two forms of --dimensions give the same
// dimension set; Name=...,Value=... is one dimension, not two.
func TestAlarmDimensions(t *testing.T) {
	want := []metricfilter.Dimension{{Name: "Eni", Value: "eni-0a1b2c3d4e5f60718"}, {Name: "Action", Value: "REJECT"}}
	for _, in := range [][]string{
		{"Name=Eni,Value=eni-0a1b2c3d4e5f60718", "Name=Action,Value=REJECT"},
		{`[{"Name": "Eni", "Value": "eni-0a1b2c3d4e5f60718"}, {"Name": "Action", "Value": "REJECT"}]`},
		{`{"Name": "Eni", "Value": "eni-0a1b2c3d4e5f60718"}`, "Name=Action,Value=REJECT"},
	} {
		got, err := alarmDimensions(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%q: %v %v, want %v", in, got, err, want)
		}
	}
}
