package logsvc

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/vpcflow/vpcflow/logstore"
	"github.com/vpcflow/vpcflow/metricfilter"
)

// alarmedService runs the rejected-SSH example in a data dir of account
// 111122223333 in eu-west-1: hour 12 has L1-L4 (2 rejected SSH), hour 13
// ten L1, and an L3 at 14:00 closes hour 13, so the alarm (Sum >= 10 over
// an hour) went OK at 13:00 and ALARM at 14:00.
func alarmedService(t *testing.T) *Service {
	t.Helper()
	s, err := Open(t.TempDir(), Options{Identity: Identity{Account: "111122223333", Region: "eu-west-1"},
		Store: logstore.Options{Now: func() time.Time { return alarmPutTime }}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateLogGroup("vpc", logstore.GroupOptions{}); err != nil {
		t.Fatal(err)
	}
	f := sshFilter(nil)
	f.MetricTransformations[0].Unit = "Count"
	if err := s.PutMetricFilter(f); err != nil {
		t.Fatal(err)
	}
	if err := s.PutMetricAlarm(sshAlarm()); err != nil {
		t.Fatal(err)
	}
	mustIngest(t, s, "vpc", evs(hour, l1, l2, l3, l4))
	var ten []string
	for i := 0; i < 10; i++ {
		ten = append(ten, l1)
	}
	mustIngest(t, s, "vpc", evs(hour+3600_000, ten...))
	mustIngest(t, s, "vpc", evs(hour+7200_000, l3))
	return s
}

// alarmPutTime is the clock of alarmedService: when the alarm was put.
var alarmPutTime = time.Date(2019, 7, 14, 11, 30, 0, 0, time.UTC)

func TestDescribeAlarms(t *testing.T) {
	s := alarmedService(t)
	defer s.Close()
	out, err := s.DescribeAlarms(DescribeAlarmsInput{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(out)
	want := `{"CompositeAlarms":[],"MetricAlarms":[{"AlarmName":"ssh-rejects",` +
		`"AlarmArn":"arn:aws:cloudwatch:eu-west-1:111122223333:alarm:ssh-rejects",` +
		`"AlarmConfigurationUpdatedTimestamp":"2019-07-14T11:30:00.000Z","ActionsEnabled":true,"OKActions":[],"AlarmActions":[],"InsufficientDataActions":[],"StateValue":"ALARM",` +
		`"StateReason":"Threshold Crossed: 1 out of the last 1 datapoints [10 (14/07/19 13:00:00)] was greater than or equal to the threshold (10) (minimum 1 datapoints for ALARM).",` +
		`"StateUpdatedTimestamp":"2019-07-14T14:00:00.000Z","MetricName":"SSHRejects","Namespace":"VPC","Statistic":"Sum","Dimensions":[],` +
		`"Period":3600,"EvaluationPeriods":1,"DatapointsToAlarm":1,"Threshold":10,"ComparisonOperator":"GreaterThanOrEqualToThreshold",` +
		`"TreatMissingData":"missing","StateTransitionedTimestamp":"2019-07-14T14:00:00.000Z"}]}`
	if string(b) != want {
		t.Errorf("DescribeAlarms:\n got %s\nwant %s", b, want)
	}
	for _, in := range []DescribeAlarmsInput{{StateValue: "OK"}, {AlarmNames: []string{"other"}}, {AlarmNamePrefix: "x"}} {
		if out, err := s.DescribeAlarms(in); err != nil || len(out.MetricAlarms) != 0 {
			t.Errorf("%+v: %+v %v", in, out, err)
		}
	}
	if _, err := s.DescribeAlarms(DescribeAlarmsInput{StateValue: "BAD"}); code(err) != "ValidationError" {
		t.Errorf("bad state: %v", err)
	}
}

func TestDescribeAlarmHistory(t *testing.T) {
	s := alarmedService(t)
	defer s.Close()
	out, err := s.DescribeAlarmHistory(DescribeAlarmHistoryInput{AlarmName: "ssh-rejects"})
	if err != nil {
		t.Fatal(err)
	}
	var summaries []string
	for _, it := range out.AlarmHistoryItems {
		summaries = append(summaries, it.Timestamp+" "+it.HistorySummary)
	}
	want := []string{"2019-07-14T14:00:00.000Z Alarm updated from OK to ALARM", "2019-07-14T13:00:00.000Z Alarm updated from INSUFFICIENT_DATA to OK"}
	if !sameStrings(summaries, want) {
		t.Errorf("history %q, want %q", summaries, want)
	}
	var d metricfilter.HistoryData
	if err := json.Unmarshal([]byte(out.AlarmHistoryItems[0].HistoryData), &d); err != nil || d.OldState.StateValue != "OK" ||
		d.OldState.StateReason != "Threshold Crossed: 0 out of the last 1 datapoints [2 (14/07/19 12:00:00)] was not greater than or equal to the threshold (10) (minimum 1 datapoints for ALARM)." {
		t.Errorf("HistoryData %+v %v", d, err)
	}
	for _, tc := range []struct {
		in   DescribeAlarmHistoryInput
		want int
	}{
		{DescribeAlarmHistoryInput{MaxRecords: 1}, 1},
		{DescribeAlarmHistoryInput{HistoryItemType: "StateUpdate"}, 2},
		{DescribeAlarmHistoryInput{HistoryItemType: "ConfigurationUpdate"}, 0},
		{DescribeAlarmHistoryInput{AlarmName: "other"}, 0},
	} {
		out, err := s.DescribeAlarmHistory(tc.in)
		if err != nil || len(out.AlarmHistoryItems) != tc.want || out.AlarmHistoryItems == nil {
			t.Errorf("%+v: %d items, %v; want %d", tc.in, len(out.AlarmHistoryItems), err, tc.want)
		}
	}
	if _, err := s.DescribeAlarmHistory(DescribeAlarmHistoryInput{HistoryItemType: "Nope"}); code(err) != "ValidationError" {
		t.Errorf("bad type: %v", err)
	}
}

func TestGetMetricStatistics(t *testing.T) {
	s := alarmedService(t)
	defer s.Close()
	out, err := s.GetMetricStatistics(GetMetricStatisticsInput{Namespace: "VPC", MetricName: "SSHRejects", Period: 3600})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(out)
	want := `{"Label":"SSHRejects","Datapoints":[` +
		`{"Timestamp":"2019-07-14T12:00:00.000Z","SampleCount":2,"Average":1,"Sum":2,"Minimum":1,"Maximum":1,"Unit":"Count"},` +
		`{"Timestamp":"2019-07-14T13:00:00.000Z","SampleCount":10,"Average":1,"Sum":10,"Minimum":1,"Maximum":1,"Unit":"Count"}]}`
	if string(b) != want {
		t.Errorf("GetMetricStatistics:\n got %s\nwant %s", b, want)
	}
	// Periods whose start lies in [StartTime, EndTime].
	out, err = s.GetMetricStatistics(GetMetricStatisticsInput{Namespace: "VPC", MetricName: "SSHRejects", Period: 60, StartTime: i64(hour + 1)})
	if err != nil || len(out.Datapoints) != 1 || out.Datapoints[0].Timestamp != "2019-07-14T13:00:00.000Z" || out.Datapoints[0].Sum != 10 {
		t.Errorf("from hour+1: %+v %v", out, err)
	}
	out, err = s.GetMetricStatistics(GetMetricStatisticsInput{Namespace: "VPC", MetricName: "Nope", Period: 60})
	if err != nil || out.Datapoints == nil || len(out.Datapoints) != 0 {
		t.Errorf("unknown metric: %+v %v", out, err)
	}
	for _, in := range []GetMetricStatisticsInput{{Namespace: "VPC", MetricName: "SSHRejects", Period: 90}, {MetricName: "SSHRejects", Period: 60}} {
		if _, err := s.GetMetricStatistics(in); err == nil {
			t.Errorf("%+v accepted", in)
		}
	}
	if mf, err := s.DescribeMetricFilters(DescribeFiltersInput{}); err != nil || len(mf) != 1 || mf[0].FilterName != "ssh" || mf[0].LogGroupName != "vpc" {
		t.Errorf("DescribeMetricFilters: %+v %v", mf, err)
	}
}
