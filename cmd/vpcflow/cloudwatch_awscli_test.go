package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestAWSCLICloudWatch drives `aws cloudwatch` (Debian's awscli 2.9, which
// speaks the Query protocol) against the real binary: the flow log metric
// filter of the user guide counts rejected SSH from records put with
// `aws logs put-log-events`, an alarm on it goes to ALARM, publishes to
// its SNS topic and posts to a webhook on this machine; then the metric
// actions read the same minute back. Expected values are counted by hand
// from the records.
func TestAWSCLICloudWatch(t *testing.T) {
	if _, err := os.Stat(awsCLI); err != nil {
		t.Skip("awscli is not installed at /usr/bin/aws (.ci/run installs it)")
	}
	t.Parallel()
	var mu sync.Mutex
	var posts []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		posts = append(posts, string(b))
		mu.Unlock()
	}))
	defer hook.Close()
	p := startServeEnv(t, []string{"AWS_ACCESS_KEY_ID=" + testKeyID, "AWS_SECRET_ACCESS_KEY=" + testSecret},
		"--data-dir", filepath.Join(t.TempDir(), "data"), "--account", "111122223333", "--region", "eu-west-1")

	awsOK(t, p, nil, "logs", "create-log-group", "--log-group-name", "/vpc/flows")
	awsOK(t, p, nil, "logs", "create-log-stream", "--log-group-name", "/vpc/flows", "--log-stream-name", "eni-1-all")
	awsOK(t, p, nil, "logs", "put-metric-filter", "--log-group-name", "/vpc/flows", "--filter-name", "ssh-rejects",
		"--filter-pattern", sshRejectPattern, "--metric-transformations", "metricName=SSHRejects,metricNamespace=VPCFlow,metricValue=1,unit=Count")
	awsOK(t, p, nil, "cloudwatch", "put-metric-alarm", "--alarm-name", "ssh-rejects", "--alarm-description", "rejected SSH",
		"--namespace", "VPCFlow", "--metric-name", "SSHRejects", "--statistic", "Sum", "--period", "60", "--evaluation-periods", "1",
		"--threshold", "3", "--comparison-operator", "GreaterThanOrEqualToThreshold", "--treat-missing-data", "notBreaching",
		"--alarm-actions", "arn:aws:sns:eu-west-1:111122223333:ops", hook.URL+"/alarm")

	// Minute m (five minutes ago): three rejected SSH, one accepted, one
	// rejected on port 80; a rejected SSH in minute m+1 closes minute m.
	m := time.Now().Truncate(time.Minute).Add(-5 * time.Minute)
	rec := func(src string, port int, action string, at time.Time) string {
		return fmt.Sprintf(`{"timestamp":%d,"message":"2 111122223333 eni-1 %s 10.1.2.15 40001 %d 6 1 60 %d %d %s OK"}`,
			at.UnixMilli(), src, port, at.Unix(), at.Unix()+30, action)
	}
	events := "[" + strings.Join([]string{rec("198.51.100.1", 22, "REJECT", m.Add(5*time.Second)), rec("198.51.100.2", 22, "REJECT", m.Add(10*time.Second)),
		rec("198.51.100.3", 22, "REJECT", m.Add(15*time.Second)), rec("198.51.100.4", 22, "ACCEPT", m.Add(20*time.Second)),
		rec("198.51.100.5", 80, "REJECT", m.Add(25*time.Second)), rec("198.51.100.6", 22, "REJECT", m.Add(65*time.Second))}, ",") + "]"
	awsOK(t, p, nil, "logs", "put-log-events", "--log-group-name", "/vpc/flows", "--log-stream-name", "eni-1-all", "--log-events", events)

	var al struct {
		MetricAlarms []struct {
			AlarmName, AlarmArn, AlarmDescription, StateValue, StateReason, StateUpdatedTimestamp string
			ActionsEnabled                                                                        bool
			AlarmActions                                                                          []string
			Threshold                                                                             float64
		}
	}
	awsOK(t, p, &al, "cloudwatch", "describe-alarms", "--alarm-names", "ssh-rejects")
	wantReason := fmt.Sprintf("Threshold Crossed: 1 out of the last 1 datapoints [3 (%s)] was greater than or equal to the threshold (3) (minimum 1 datapoints for ALARM).",
		m.UTC().Format("02/01/06 15:04:05"))
	if len(al.MetricAlarms) != 1 {
		t.Fatalf("describe-alarms: %+v", al)
	}
	if a := al.MetricAlarms[0]; a.StateValue != "ALARM" || a.StateReason != wantReason || a.AlarmArn != "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:ssh-rejects" ||
		a.AlarmDescription != "rejected SSH" || !a.ActionsEnabled || a.Threshold != 3 || len(a.AlarmActions) != 2 {
		t.Errorf("describe-alarms: %+v\nwant reason %q", a, wantReason)
	}
	var h struct {
		AlarmHistoryItems []struct{ AlarmName, HistoryItemType, HistorySummary, HistoryData string }
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		awsOK(t, p, &h, "cloudwatch", "describe-alarm-history", "--alarm-name", "ssh-rejects")
		if len(h.AlarmHistoryItems) >= 3 || time.Now().After(deadline) {
			break
		}
	}
	summaries := map[string]string{}
	for _, it := range h.AlarmHistoryItems {
		summaries[it.HistorySummary] = it.HistoryItemType
	}
	for summary, typ := range map[string]string{"Alarm updated from INSUFFICIENT_DATA to ALARM": "StateUpdate",
		"Successfully executed action arn:aws:sns:eu-west-1:111122223333:ops": "Action",
		"Successfully executed action " + hook.URL + "/alarm":                 "Action"} {
		if summaries[summary] != typ {
			t.Errorf("describe-alarm-history lacks %s %q: %+v", typ, summary, h.AlarmHistoryItems)
		}
	}
	mu.Lock()
	if len(posts) != 1 || !strings.Contains(posts[0], `"NewStateValue":"ALARM"`) || !strings.Contains(posts[0], `"Region":"EU (Ireland)"`) {
		t.Errorf("webhook posts: %q", posts)
	}
	mu.Unlock()

	// The minute read back: Sum 3 at m, 1 at m+1.
	var st struct {
		Label      string
		Datapoints []struct {
			Timestamp   string
			Sum         float64
			SampleCount float64
			Unit        string
		}
	}
	awsOK(t, p, &st, "cloudwatch", "get-metric-statistics", "--namespace", "VPCFlow", "--metric-name", "SSHRejects",
		"--start-time", m.UTC().Format(time.RFC3339), "--end-time", m.Add(2*time.Minute).UTC().Format(time.RFC3339),
		"--period", "60", "--statistics", "Sum", "SampleCount")
	if st.Label != "SSHRejects" || len(st.Datapoints) != 2 || st.Datapoints[0].Sum != 3 || st.Datapoints[0].SampleCount != 3 ||
		st.Datapoints[0].Unit != "Count" || st.Datapoints[1].Sum != 1 {
		t.Errorf("get-metric-statistics: %+v", st)
	}
	var md struct {
		MetricDataResults []struct {
			Id, Label, StatusCode string
			Values                []float64
		}
	}
	awsOK(t, p, &md, "cloudwatch", "get-metric-data", "--start-time", m.UTC().Format(time.RFC3339), "--end-time", m.Add(2*time.Minute).UTC().Format(time.RFC3339),
		"--metric-data-queries", `[{"Id":"ssh","MetricStat":{"Metric":{"Namespace":"VPCFlow","MetricName":"SSHRejects"},"Period":60,"Stat":"Sum"}}]`)
	if len(md.MetricDataResults) != 1 || md.MetricDataResults[0].StatusCode != "Complete" || fmt.Sprint(md.MetricDataResults[0].Values) != "[1 3]" {
		t.Errorf("get-metric-data: %+v", md)
	}
	var lm struct {
		Metrics []struct{ Namespace, MetricName string }
	}
	awsOK(t, p, &lm, "cloudwatch", "list-metrics", "--namespace", "VPCFlow")
	if len(lm.Metrics) != 1 || lm.Metrics[0].MetricName != "SSHRejects" {
		t.Errorf("list-metrics: %+v", lm)
	}

	// set-alarm-state, disable-alarm-actions; awscli pages describe-alarms
	// itself with NextToken.
	awsOK(t, p, nil, "cloudwatch", "set-alarm-state", "--alarm-name", "ssh-rejects", "--state-value", "OK", "--state-reason", "drill over")
	awsOK(t, p, nil, "cloudwatch", "disable-alarm-actions", "--alarm-names", "ssh-rejects")
	for _, n := range []string{"b", "c", "d"} {
		awsOK(t, p, nil, "cloudwatch", "put-metric-alarm", "--alarm-name", n, "--namespace", "VPCFlow", "--metric-name", "SSHRejects",
			"--statistic", "Sum", "--period", "60", "--evaluation-periods", "1", "--threshold", "3", "--comparison-operator", "GreaterThanThreshold")
	}
	// A new alarm is evaluated at once over the minutes already closed:
	// minute m (Sum 3) is not greater than 3, so b, c and d are OK.
	var all struct {
		MetricAlarms []struct {
			AlarmName, StateValue string
			ActionsEnabled        bool
		}
	}
	awsOK(t, p, &all, "cloudwatch", "describe-alarms", "--page-size", "1")
	if got := fmt.Sprint(all.MetricAlarms); got != "[{b OK true} {c OK true} {d OK true} {ssh-rejects OK false}]" {
		t.Errorf("describe-alarms in pages of 1: %s", got)
	}
	var forMetric struct{ MetricAlarms []json.RawMessage }
	awsOK(t, p, &forMetric, "cloudwatch", "describe-alarms-for-metric", "--namespace", "VPCFlow", "--metric-name", "SSHRejects", "--statistic", "Sum", "--period", "60")
	if len(forMetric.MetricAlarms) != 4 {
		t.Errorf("describe-alarms-for-metric: %d alarms", len(forMetric.MetricAlarms))
	}

	// awscli's errors, as it prints them.
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"cloudwatch", "delete-alarms", "--alarm-names", "nope"},
			"An error occurred (ResourceNotFound) when calling the DeleteAlarms operation: The following alarms were not found: [nope]"},
		{[]string{"cloudwatch", "set-alarm-state", "--alarm-name", "b", "--state-value", "MAYBE", "--state-reason", "x"},
			"An error occurred (ValidationError) when calling the SetAlarmState operation: 1 validation error detected: Value 'MAYBE' at 'stateValue' failed to satisfy constraint: Member must satisfy enum value set: [INSUFFICIENT_DATA, ALARM, OK]"},
		{[]string{"cloudwatch", "get-metric-statistics", "--namespace", "VPCFlow", "--metric-name", "SSHRejects", "--start-time", m.UTC().Format(time.RFC3339),
			"--end-time", m.Add(time.Hour).UTC().Format(time.RFC3339), "--period", "90", "--statistics", "Sum"},
			"An error occurred (InvalidParameterValue) when calling the GetMetricStatistics operation: The parameter Period must be 10, 20, 30 or a multiple of 60 (vpcflow keeps 10-second buckets), got 90."},
		{[]string{"cloudwatch", "put-metric-alarm", "--alarm-name", "far", "--namespace", "VPCFlow", "--metric-name", "SSHRejects", "--statistic", "Sum",
			"--period", "60", "--evaluation-periods", "1", "--threshold", "1", "--comparison-operator", "GreaterThanThreshold", "--ok-actions", "http://198.51.100.9/hook"},
			`An error occurred (ValidationError) when calling the PutMetricAlarm operation: Invalid alarm action "http://198.51.100.9/hook": a webhook must be on this machine`},
	} {
		_, errOut, code := aws(t, p, tc.args...)
		if code != 254 || !strings.Contains(errOut, tc.msg) {
			t.Errorf("aws %s: exit %d, %s\nwant %s", strings.Join(tc.args[:2], " "), code, errOut, tc.msg)
		}
	}
}
