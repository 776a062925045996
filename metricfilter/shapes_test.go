package metricfilter

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// sameJSON compares a marshalled value with hand-written JSON, member order
// included (the AWS CLI prints members in the order of the answer).
func sameJSON(t *testing.T, what string, got any, want string) {
	t.Helper()
	g, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	var w bytes.Buffer
	if err := json.Compact(&w, []byte(want)); err != nil {
		t.Fatalf("%s: the expected JSON is malformed: %v", what, err)
	}
	if !bytes.Equal(g, w.Bytes()) {
		t.Errorf("%s:\n got %s\nwant %s", what, g, w.Bytes())
	}
}

// The alarm of the describe-alarms and describe-alarm-history examples in
// the AWS CLI reference ("myalarm", CPU over 70% for 2 periods of 300 s),
// with the state changes those examples show. The expected documents below
// are those examples, member for member, except what vpcflow does not keep
// (AlarmDescription, AlarmConfigurationUpdatedTimestamp, StateReasonData,
// stateReasonData in HistoryData) and the members newer API versions added
// (DatapointsToAlarm, TreatMissingData, StateTransitionedTimestamp,
// AlarmType, actions in HistoryData).
var (
	myAlarmChange1 = time.Date(2014, 4, 9, 18, 59, 5, 805e6, time.UTC).UnixMilli()
	myAlarmChange2 = time.Date(2014, 4, 9, 18, 59, 6, 442e6, time.UTC).UnixMilli()
	myAlarmReason  = "Threshold Crossed: 2 datapoints were not greater than the threshold (70.0). The most recent datapoints: [38.958, 40.292]."
)

func myAlarm() Evaluator {
	return Evaluator{
		Alarm: Alarm{AlarmName: "myalarm", Namespace: "AWS/EC2", MetricName: "CPUUtilization",
			Dimensions: []Dimension{{Name: "InstanceId", Value: "i-0c986c72"}}, Statistic: "Average", Period: 300,
			EvaluationPeriods: 2, Threshold: 70, ComparisonOperator: "GreaterThanThreshold",
			AlarmActions: []string{"arn:aws:sns:us-east-1:123456789012:myHighCpuAlarm"}},
		State: StateOK, StateReason: myAlarmReason, Updated: myAlarmChange2,
		History: []StateChange{
			{AlarmName: "myalarm", Timestamp: myAlarmChange1, OldState: StateInsufficientData, NewState: StateAlarm, Reason: "testing purposes",
				Actions: []string{"arn:aws:sns:us-east-1:123456789012:myHighCpuAlarm"}},
			{AlarmName: "myalarm", Timestamp: myAlarmChange2, OldState: StateAlarm, NewState: StateOK, Reason: myAlarmReason},
		},
	}
}

func TestMetricAlarmShape(t *testing.T) {
	ev := myAlarm()
	sameJSON(t, "MetricAlarm", ev.MetricAlarm("arn:aws:cloudwatch:us-east-1:123456789012:alarm:myalarm"), `{
		"AlarmName": "myalarm",
		"AlarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:myalarm",
		"ActionsEnabled": true,
		"OKActions": [],
		"AlarmActions": ["arn:aws:sns:us-east-1:123456789012:myHighCpuAlarm"],
		"InsufficientDataActions": [],
		"StateValue": "OK",
		"StateReason": "Threshold Crossed: 2 datapoints were not greater than the threshold (70.0). The most recent datapoints: [38.958, 40.292].",
		"StateUpdatedTimestamp": "2014-04-09T18:59:06.442Z",
		"MetricName": "CPUUtilization",
		"Namespace": "AWS/EC2",
		"Statistic": "Average",
		"Dimensions": [{"Name": "InstanceId", "Value": "i-0c986c72"}],
		"Period": 300,
		"EvaluationPeriods": 2,
		"DatapointsToAlarm": 2,
		"Threshold": 70,
		"ComparisonOperator": "GreaterThanThreshold",
		"TreatMissingData": "missing",
		"StateTransitionedTimestamp": "2014-04-09T18:59:06.442Z"
	}`)

	// A new alarm: no state change yet, no dimensions, no actions.
	fresh, err := NewEvaluator(Alarm{AlarmName: "a", Namespace: "VPC", MetricName: "M", Statistic: "Sum", Period: 60,
		EvaluationPeriods: 3, DatapointsToAlarm: 2, Threshold: 1.5, ComparisonOperator: "LessThanThreshold", TreatMissingData: "notBreaching"})
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, "new MetricAlarm", fresh.MetricAlarm("arn:aws:cloudwatch:eu-west-1:111122223333:alarm:a"), `{
		"AlarmName": "a",
		"AlarmArn": "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:a",
		"ActionsEnabled": true,
		"OKActions": [],
		"AlarmActions": [],
		"InsufficientDataActions": [],
		"StateValue": "INSUFFICIENT_DATA",
		"StateReason": "Unchecked: Initial alarm creation",
		"MetricName": "M",
		"Namespace": "VPC",
		"Statistic": "Sum",
		"Dimensions": [],
		"Period": 60,
		"EvaluationPeriods": 3,
		"DatapointsToAlarm": 2,
		"Threshold": 1.5,
		"ComparisonOperator": "LessThanThreshold",
		"TreatMissingData": "notBreaching"
	}`)
}

func TestAlarmHistoryShape(t *testing.T) {
	items := AlarmHistory([]Evaluator{myAlarm()}, 0)
	sameJSON(t, "AlarmHistoryItems", items, `[
		{
			"AlarmName": "myalarm",
			"AlarmType": "MetricAlarm",
			"Timestamp": "2014-04-09T18:59:06.442Z",
			"HistoryItemType": "StateUpdate",
			"HistorySummary": "Alarm updated from ALARM to OK",
			"HistoryData": "{\"version\":\"1.0\",\"oldState\":{\"stateValue\":\"ALARM\",\"stateReason\":\"testing purposes\"},\"newState\":{\"stateValue\":\"OK\",\"stateReason\":\"Threshold Crossed: 2 datapoints were not greater than the threshold (70.0). The most recent datapoints: [38.958, 40.292].\"},\"actions\":[]}"
		},
		{
			"AlarmName": "myalarm",
			"AlarmType": "MetricAlarm",
			"Timestamp": "2014-04-09T18:59:05.805Z",
			"HistoryItemType": "StateUpdate",
			"HistorySummary": "Alarm updated from INSUFFICIENT_DATA to ALARM",
			"HistoryData": "{\"version\":\"1.0\",\"oldState\":{\"stateValue\":\"INSUFFICIENT_DATA\",\"stateReason\":\"Unchecked: Initial alarm creation\"},\"newState\":{\"stateValue\":\"ALARM\",\"stateReason\":\"testing purposes\"},\"actions\":[\"arn:aws:sns:us-east-1:123456789012:myHighCpuAlarm\"]}"
		}
	]`)
	if got := AlarmHistory([]Evaluator{myAlarm()}, 1); len(got) != 1 || got[0].Timestamp != "2014-04-09T18:59:06.442Z" {
		t.Errorf("limit 1: %+v", got)
	}

	// Several alarms merge newest first; at one time, by alarm name.
	a, b := myAlarm(), myAlarm()
	b.Alarm.AlarmName = "another"
	for i := range b.History {
		b.History[i].AlarmName = "another"
	}
	b.History[0].Timestamp = myAlarmChange2
	b.History = b.History[:1]
	var order []string
	for _, it := range AlarmHistory([]Evaluator{a, b}, 0) {
		order = append(order, it.AlarmName+" "+it.Timestamp)
	}
	want := []string{"another 2014-04-09T18:59:06.442Z", "myalarm 2014-04-09T18:59:06.442Z", "myalarm 2014-04-09T18:59:05.805Z"}
	if len(order) != 3 || order[0] != want[0] || order[1] != want[1] || order[2] != want[2] {
		t.Errorf("order %q, want %q", order, want)
	}
	if got := AlarmHistory(nil, 0); got == nil || len(got) != 0 {
		t.Errorf("no alarms: %#v, want an empty list", got)
	}
}

// TestMetricFilterShape: the describe-metric-filters example of the AWS CLI
// reference, plus applyOnTransformedLogs, which current answers carry.
func TestMetricFilterShape(t *testing.T) {
	d := Definition{FilterName: "DemoFilter", FilterPattern: "ERROR", LogGroupName: "demo-log-group", CreationTime: 1713432753126,
		MetricTransformations: []Transformation{{MetricName: "Demo_Error", MetricNamespace: "DemoNamespace", MetricValue: "1"}}}
	sameJSON(t, "MetricFilter", d.MetricFilter(), `{
		"filterName": "DemoFilter",
		"filterPattern": "ERROR",
		"metricTransformations": [
			{"metricName": "Demo_Error", "metricNamespace": "DemoNamespace", "metricValue": "1"}
		],
		"creationTime": 1713432753126,
		"logGroupName": "demo-log-group",
		"applyOnTransformedLogs": false
	}`)
}

// TestStatisticsDatapointShape: a GetMetricStatistics datapoint with every
// statistic, members in the API's order.
func TestStatisticsDatapointShape(t *testing.T) {
	m := MinuteStat{Minute: time.Date(2014, 2, 19, 0, 18, 0, 0, time.UTC).UnixMilli(),
		Stats: Stats{SampleCount: 4, Sum: 10, Minimum: 1, Maximum: 4}}
	sameJSON(t, "Datapoint", m.StatisticsDatapoint("Percent"), `{
		"Timestamp": "2014-02-19T00:18:00.000Z",
		"SampleCount": 4,
		"Average": 2.5,
		"Sum": 10,
		"Minimum": 1,
		"Maximum": 4,
		"Unit": "Percent"
	}`)
	if got := FormatTime(7); got != "1970-01-01T00:00:00.007Z" {
		t.Errorf("FormatTime(7) = %s", got)
	}
}

// TestNotificationShape: the message of a state change, member for member
// as in the SNS alarm notification captured in aws-lambda-go
// (events/testdata/cloudwatch-alarm-sns-payload-single-metric.json), plus
// the members newer notifications carry (the three action lists,
// DatapointsToAlarm). The fixture's region is the placeholder "EXAMPLE";
// us-east-1's display name is the General Reference's.
func TestNotificationShape(t *testing.T) {
	ev := Evaluator{Alarm: Alarm{AlarmName: "EXAMPLE", AlarmDescription: "EXAMPLE", Namespace: "AWS/EC2", MetricName: "NetworkOut",
		Dimensions: []Dimension{{Name: "InstanceId", Value: "TestInstance"}}, Statistic: "Average", Unit: "Bytes", Period: 60,
		EvaluationPeriods: 1, Threshold: 0, ComparisonOperator: "GreaterThanThreshold"}}
	c := StateChange{AlarmName: "EXAMPLE", Timestamp: time.Date(2015, 6, 3, 17, 43, 27, 123e6, time.UTC).UnixMilli(),
		OldState: StateInsufficientData, NewState: StateAlarm,
		Reason: "Threshold Crossed: 1 out of the last 1 datapoints [1234.0 (06/03/15 17:43:27)] was greater than the threshold (0.0) (minimum 1 datapoint for OK -> ALARM transition)."}
	got := ev.Notification(c, "123456789012", "us-east-1", "arn:aws:cloudwatch:us-east-1:123456789012:alarm:EXAMPLE").JSON()
	var want bytes.Buffer
	json.Compact(&want, []byte(`{
		"AlarmName": "EXAMPLE",
		"AlarmDescription": "EXAMPLE",
		"AWSAccountId": "123456789012",
		"NewStateValue": "ALARM",
		"NewStateReason": "Threshold Crossed: 1 out of the last 1 datapoints [1234.0 (06/03/15 17:43:27)] was greater than the threshold (0.0) (minimum 1 datapoint for OK -> ALARM transition).",
		"StateChangeTime": "2015-06-03T17:43:27.123+0000",
		"Region": "US East (N. Virginia)",
		"AlarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:EXAMPLE",
		"OldStateValue": "INSUFFICIENT_DATA",
		"OKActions": [],
		"AlarmActions": [],
		"InsufficientDataActions": [],
		"Trigger": {
			"MetricName": "NetworkOut",
			"Namespace": "AWS/EC2",
			"StatisticType": "Statistic",
			"Statistic": "AVERAGE",
			"Unit": "Bytes",
			"Dimensions": [{"value": "TestInstance", "name": "InstanceId"}],
			"Period": 60,
			"EvaluationPeriods": 1,
			"DatapointsToAlarm": 1,
			"ComparisonOperator": "GreaterThanThreshold",
			"Threshold": 0,
			"TreatMissingData": "missing",
			"EvaluateLowSampleCountPercentile": ""
		}
	}`))
	if got != want.String() {
		t.Errorf("Notification:\n got %s\nwant %s", got, want.String())
	}
	// No description, no unit: null, as CloudWatch sends them.
	ev.Alarm.AlarmDescription, ev.Alarm.Unit = "", ""
	n := ev.Notification(c, "123456789012", "xx-new-1", "arn")
	if n.AlarmDescription != nil || n.Trigger.Unit != nil || n.Region != "xx-new-1" || !strings.Contains(n.JSON(), `"AlarmDescription":null`) {
		t.Errorf("without description and unit: %s", n.JSON())
	}
}
