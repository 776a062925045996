package logsvc

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vpcflow/vpcflow/logstore"
	"github.com/vpcflow/vpcflow/metricfilter"
)

// hook is a webhook receiver on 127.0.0.1 (httptest listens there).
type hook struct {
	srv    *httptest.Server
	mu     sync.Mutex
	bodies []string
	types  []string
	status int
	block  chan struct{} // when set, the handler waits for it
}

func newHook(t *testing.T, status int) *hook {
	h := &hook{status: status}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.block != nil {
			<-h.block
		}
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.bodies = append(h.bodies, string(b))
		h.types = append(h.types, r.Method+" "+r.Header.Get("Content-Type"))
		h.mu.Unlock()
		w.WriteHeader(h.status)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hook) received() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.bodies...)
}

// waitHistory polls the alarm's history until it has n items.
func waitHistory(t *testing.T, s *Service, name string, n int) []metricfilter.AlarmHistoryItem {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		out, err := s.DescribeAlarmHistory(DescribeAlarmHistoryInput{AlarmName: name})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.AlarmHistoryItems) >= n || time.Now().After(deadline) {
			return out.AlarmHistoryItems
		}
	}
}

var clock = time.Date(2026, 12, 7, 17, 0, 0, 0, time.UTC)

func openClocked(t *testing.T) *Service {
	t.Helper()
	s, err := Open(t.TempDir(), Options{Identity: testID, Store: logstore.Options{Now: func() time.Time { return clock }}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestAlarmActionsOnSetState: SetAlarmState to ALARM runs AlarmActions: the
// SNS topic is recorded as published at the change, the webhook receives
// the notification in a POST and its success is an Action item; the
// StateUpdate item lists both actions.
func TestAlarmActionsOnSetState(t *testing.T) {
	h := newHook(t, http.StatusOK)
	s := openClocked(t)
	defer s.Close()
	topic := "arn:aws:sns:us-east-1:123456789012:ops"
	a := sshAlarm()
	a.AlarmDescription = "ssh brute force"
	a.AlarmActions = []string{topic, h.srv.URL + "/hook"}
	if err := s.PutMetricAlarm(a); err != nil {
		t.Fatal(err)
	}
	if err := s.SetAlarmState("ssh-rejects", "ALARM", "testing", `{"by":"test"}`); err != nil {
		t.Fatal(err)
	}
	items := waitHistory(t, s, "ssh-rejects", 3)
	if len(items) != 3 {
		t.Fatalf("history: %+v", items)
	}
	// Same time for the StateUpdate and the SNS item (the change's); the
	// webhook's item comes when the POST ended, on the same fixed clock.
	// Newest first, later entries first within one time.
	want := []struct{ typ, summary string }{
		{"Action", "Successfully executed action " + h.srv.URL + "/hook"},
		{"Action", "Successfully executed action " + topic},
		{"StateUpdate", "Alarm updated from INSUFFICIENT_DATA to ALARM"},
	}
	for i, w := range want {
		if items[i].HistoryItemType != w.typ || items[i].HistorySummary != w.summary || items[i].Timestamp != "2026-12-07T17:00:00.000Z" {
			t.Errorf("item %d: %+v, want %s %q", i, items[i], w.typ, w.summary)
		}
	}
	var data metricfilter.ActionData
	if err := json.Unmarshal([]byte(items[1].HistoryData), &data); err != nil || data.ActionState != "Succeeded" ||
		data.NotificationResource != topic || data.StateUpdateTimestamp != clock.UnixMilli() {
		t.Errorf("SNS item data: %+v %v", data, err)
	}
	got := h.received()
	if len(got) != 1 || h.types[0] != "POST application/json" {
		t.Fatalf("webhook got %v %v", got, h.types)
	}
	var n metricfilter.Notification
	if err := json.Unmarshal([]byte(got[0]), &n); err != nil {
		t.Fatal(err)
	}
	// The notification, member by member, as the SNS message of a
	// CloudWatch alarm gives them (see metricfilter.Notification).
	if n.AlarmName != "ssh-rejects" || n.AlarmDescription == nil || *n.AlarmDescription != "ssh brute force" ||
		n.AWSAccountID != "123456789012" || n.NewStateValue != "ALARM" || n.NewStateReason != "testing" ||
		n.StateChangeTime != "2026-12-07T17:00:00.000+0000" || n.Region != "US East (N. Virginia)" ||
		n.AlarmArn != "arn:aws:cloudwatch:us-east-1:123456789012:alarm:ssh-rejects" || n.OldStateValue != "INSUFFICIENT_DATA" ||
		n.Trigger.MetricName != "SSHRejects" || n.Trigger.Namespace != "VPC" || n.Trigger.Statistic != "SUM" ||
		n.Trigger.Period != 3600 || n.Trigger.Threshold != 10 || n.Trigger.ComparisonOperator != "GreaterThanOrEqualToThreshold" {
		t.Errorf("notification: %s", got[0])
	}
	// The same notification is the SNS item's publishedMessage.
	if data.PublishedMessage != got[0] {
		t.Errorf("published message %q, webhook got %q", data.PublishedMessage, got[0])
	}
	// Only the Action items, oldest first.
	out, err := s.DescribeAlarmHistory(DescribeAlarmHistoryInput{HistoryItemType: "Action", ScanBy: "TimestampAscending"})
	if err != nil || len(out.AlarmHistoryItems) != 2 || out.AlarmHistoryItems[0].HistorySummary != want[1].summary {
		t.Errorf("Action items ascending: %+v %v", out, err)
	}
}

// TestAlarmActionsFailures: a webhook answering 500 and one nobody listens
// on give "Failed to execute action" items; disabled actions run nothing.
func TestAlarmActionsFailures(t *testing.T) {
	h := newHook(t, http.StatusInternalServerError)
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL + "/gone"
	dead.Close()
	s := openClocked(t)
	defer s.Close()
	a := sshAlarm()
	a.AlarmActions = []string{h.srv.URL + "/x"}
	a.OKActions = []string{deadURL}
	if err := s.PutMetricAlarm(a); err != nil {
		t.Fatal(err)
	}
	s.SetAlarmState("ssh-rejects", "ALARM", "a", "")
	s.SetAlarmState("ssh-rejects", "OK", "b", "")
	items := waitHistory(t, s, "ssh-rejects", 4)
	var fails []string
	for _, it := range items {
		if it.HistoryItemType == "Action" {
			fails = append(fails, it.HistorySummary)
		}
	}
	if len(fails) != 2 || !strings.Contains(strings.Join(fails, "\n"), "Failed to execute action "+h.srv.URL+"/x. Reason: the webhook answered HTTP 500") ||
		!strings.Contains(strings.Join(fails, "\n"), "Failed to execute action "+deadURL+". Reason: ") {
		t.Errorf("failures: %q", fails)
	}
	if err := s.SetAlarmActions([]string{"ssh-rejects", "no-such-alarm"}, false); err != nil {
		t.Fatal(err)
	}
	s.SetAlarmState("ssh-rejects", "ALARM", "c", "")
	time.Sleep(100 * time.Millisecond)
	if items := waitHistory(t, s, "ssh-rejects", 5); len(items) != 5 || len(h.received()) != 1 {
		t.Errorf("disabled actions: %d items, %d posts", len(items), len(h.received()))
	}
	if al, _ := s.DescribeAlarms(DescribeAlarmsInput{}); al.MetricAlarms[0].ActionsEnabled {
		t.Error("DescribeAlarms shows actions enabled")
	}
}

// TestAlarmActionValidation: what PutMetricAlarm refuses, with
// CloudWatch's code and, for another region's topic, its message.
func TestAlarmActionValidation(t *testing.T) {
	s := openClocked(t)
	defer s.Close()
	for _, tc := range []struct{ action, msg string }{
		{"arn:aws:sns:us-west-2:123456789012:ops", "Invalid region us-west-2 specified. Only us-east-1 is supported."},
		{"http://198.51.100.7/hook", "must be on this machine"},
		{"arn:aws:automate:us-east-1:ec2:stop", "vpcflow runs no automate actions"},
	} {
		a := sshAlarm()
		a.InsufficientDataActions = []string{tc.action}
		err := s.PutMetricAlarm(a)
		if e, ok := err.(*metricfilter.Error); !ok || e.Code != "ValidationError" || !strings.Contains(e.Message, tc.msg) {
			t.Errorf("%s: %v", tc.action, err)
		}
	}
	if al, _ := s.DescribeAlarms(DescribeAlarmsInput{}); len(al.MetricAlarms) != 0 {
		t.Errorf("a refused alarm was kept: %+v", al)
	}
}

// TestWebhookOffTheIngestPath: an ingestion that changes an alarm's state
// returns while the webhook is still busy; the outcome is recorded once it
// answers, and Close waits for it.
func TestWebhookOffTheIngestPath(t *testing.T) {
	h := newHook(t, http.StatusNoContent)
	h.block = make(chan struct{})
	dir := t.TempDir()
	s, err := Open(dir, Options{Identity: testID})
	if err != nil {
		t.Fatal(err)
	}
	s.CreateLogGroup("vpc", logstore.GroupOptions{})
	s.PutMetricFilter(sshFilter(nil))
	a := sshAlarm()
	a.Threshold = 1
	a.AlarmActions = []string{h.srv.URL}
	if err := s.PutMetricAlarm(a); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		mustIngest(t, s, "vpc", evs(hour, l1))
		mustIngest(t, s, "vpc", evs(hour+3600_000, l3)) // closes the hour: ALARM
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("ingestion waited for the webhook")
	}
	if st := s.Alarms(AlarmFilter{})[0].State; st != metricfilter.StateAlarm {
		t.Fatalf("state %s", st)
	}
	close(h.block)
	s.Close() // waits for the POST and records it
	s = open(t, dir)
	defer s.Close()
	items := waitHistory(t, s, "ssh-rejects", 2)
	if len(items) != 2 || items[0].HistorySummary != "Successfully executed action "+h.srv.URL || len(h.received()) != 1 {
		t.Errorf("after reopening: %+v, %d posts", items, len(h.received()))
	}
}
