package metricfilter

import (
	"strings"
	"testing"
)

// TestParseAction: the forms PutMetricAlarm accepts. SNS topic ARNs are
// arn:aws:sns:region:account:name with a 12-digit account and a name of
// letters, digits, '-' and '_' (SNS CreateTopic); webhooks are http(s) to
// the loopback only.
func TestParseAction(t *testing.T) {
	for _, tc := range []struct {
		in, kind, region, bad string
	}{
		{in: "arn:aws:sns:us-east-1:123456789012:myHighCpuAlarm", kind: ActionSNS, region: "us-east-1"},
		{in: "arn:aws:sns:eu-west-1:111122223333:ops.fifo", kind: ActionSNS, region: "eu-west-1"},
		{in: "http://127.0.0.1:8080/hook", kind: ActionWebhook},
		{in: "https://127.0.0.1/hook?x=1", kind: ActionWebhook},
		{in: "http://localhost:9000/", kind: ActionWebhook},
		{in: "http://[::1]:9000/alarm", kind: ActionWebhook},
		{in: "", bad: "1 to 1024 characters"},
		{in: strings.Repeat("a", 1025), bad: "1 to 1024 characters"},
		{in: "arn:aws:automate:us-east-1:ec2:stop", bad: "vpcflow runs no automate actions"},
		{in: "arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:x", bad: "vpcflow runs no autoscaling actions"},
		{in: "arn:aws:sns:us-east-1:1234:topic", bad: "arn:aws:sns:region:account-id:topic-name"},
		{in: "arn:aws:sns:us-east-1:123456789012:bad/name", bad: "arn:aws:sns:region:account-id:topic-name"},
		{in: "arn:aws:sns", bad: "it is not an ARN"},
		{in: "http://example.com/hook", bad: "must be on this machine"},
		{in: "http://10.0.0.1/hook", bad: "must be on this machine"},
		{in: "http://127.0.0.2/hook", bad: "must be on this machine"},
		{in: "http://localhost.example.com/", bad: "must be on this machine"},
		{in: "http://x@127.0.0.1/", bad: "user information"},
		{in: "ftp://127.0.0.1/", bad: "http or https"},
		{in: "mailto:ops@example.com", bad: "http or https"},
		{in: "ops-topic", bad: "neither an ARN nor an http(s) URL"},
	} {
		a, err := ParseAction(tc.in)
		if tc.bad != "" {
			e, ok := err.(*Error)
			if !ok || e.Code != "ValidationError" || !strings.Contains(e.Message, tc.bad) {
				t.Errorf("ParseAction(%.40q) = %+v, %v; want ValidationError with %q", tc.in, a, err, tc.bad)
			}
			continue
		}
		if err != nil || a.Kind != tc.kind || a.Region != tc.region {
			t.Errorf("ParseAction(%q) = %+v, %v; want %s %s", tc.in, a, err, tc.kind, tc.region)
		}
	}
}

// TestAlarmValidatesActions: at most 5 actions per list (ResourceList in
// the API model), each parsed.
func TestAlarmValidatesActions(t *testing.T) {
	a := sshAlarm()
	a.OKActions = []string{"http://example.com/"}
	if err := a.Validate(); err == nil || !strings.Contains(err.Error(), "must be on this machine") {
		t.Errorf("off-machine webhook: %v", err)
	}
	a = sshAlarm()
	for i := 0; i < 6; i++ {
		a.AlarmActions = append(a.AlarmActions, "arn:aws:sns:us-east-1:123456789012:t")
	}
	if err := a.Validate(); err == nil || !strings.Contains(err.Error(), "AlarmActions must have at most 5 members, got 7") {
		t.Errorf("7 actions: %v", err)
	}
}

// TestSetStateAndActions: SetAlarmState's change fires the new state's
// actions when the value changes, not when it stays; disabled actions
// fire nothing; the next evaluation puts back the state the data gives.
func TestSetStateAndActions(t *testing.T) {
	e := NewEngine()
	e.PutFilter("vpc", def(sshPattern, "1"))
	a := sshAlarm()
	a.OKActions = []string{"http://127.0.0.1:1/ok"}
	if _, err := e.PutAlarm(a, 1000); err != nil {
		t.Fatal(err)
	}
	if _, err := e.SetAlarmState("nope", StateAlarm, "r", "", 5); err == nil || err.(*Error).Code != "ResourceNotFound" {
		t.Errorf("unknown alarm: %v", err)
	}
	c, err := e.SetAlarmState("ssh-rejects", StateAlarm, "testing", `{"a":1}`, 2000)
	if err != nil || c.OldState != StateInsufficientData || c.NewState != StateAlarm || c.Timestamp != 2000 ||
		len(c.Actions) != 1 || c.Actions[0] != "arn:aws:sns:us-east-1:123456789012:ops" {
		t.Fatalf("SetAlarmState: %+v %v", c, err)
	}
	if c, _ := e.SetAlarmState("ssh-rejects", StateAlarm, "again", "", 3000); c.Actions != nil {
		t.Errorf("same state fired %v", c.Actions)
	}
	ev, _ := e.Alarm("ssh-rejects")
	if ev.State != StateAlarm || ev.StateReason != "again" || ev.Updated != 3000 || ev.ConfigUpdated != 1000 || len(ev.History) != 2 {
		t.Errorf("after SetAlarmState: %+v", ev)
	}
	// One event in hour 0, then one at the hour's end closes it: Sum 1 < 10 gives OK.
	e.Ingest("vpc", []Event{{1, l1}})
	ch := e.Advance(3600000)
	if len(ch) != 1 || ch[0].OldState != StateAlarm || ch[0].NewState != StateOK || len(ch[0].Actions) != 1 || ch[0].Actions[0] != "http://127.0.0.1:1/ok" {
		t.Fatalf("next evaluation: %+v", ch)
	}
	if e.SetActionsEnabled([]string{"ssh-rejects", "unknown"}, false) != true || e.SetActionsEnabled([]string{"ssh-rejects"}, false) {
		t.Error("SetActionsEnabled should report a change once")
	}
	if c, _ := e.SetAlarmState("ssh-rejects", StateAlarm, "muted", "", 3_700_000); c.Actions != nil {
		t.Errorf("disabled actions fired %v", c.Actions)
	}
	if !e.AddHistory("ssh-rejects", StateChange{Type: HistoryAction, Timestamp: 3_700_001, Summary: "s", Data: "{}"}) || e.AddHistory("gone", StateChange{}) {
		t.Error("AddHistory should report whether the alarm exists")
	}
	ev, _ = e.Alarm("ssh-rejects")
	if ev.MetricAlarm("arn").ActionsEnabled {
		t.Error("MetricAlarm shows actions enabled")
	}
	items := HistoryEntries([]Evaluator{ev})
	if len(items) != 5 || items[0].Item.HistoryItemType != "Action" || items[0].Item.HistorySummary != "s" || items[0].Item.AlarmName != "ssh-rejects" {
		t.Errorf("history: %+v", items)
	}
	// The first change carries SetAlarmState's document.
	last := items[len(items)-1].Item
	if last.HistoryData != `{"version":"1.0","oldState":{"stateValue":"INSUFFICIENT_DATA","stateReason":"Unchecked: Initial alarm creation"},"newState":{"stateValue":"ALARM","stateReason":"testing","stateReasonData":{"a":1}},"actions":["arn:aws:sns:us-east-1:123456789012:ops"]}` {
		t.Errorf("first item data %s", last.HistoryData)
	}
}

// TestAlarmUnit: an alarm with a Unit reads only a metric written with that
// unit; the filter here declares none, which CloudWatch stores as None.
func TestAlarmUnit(t *testing.T) {
	e := NewEngine()
	e.PutFilter("vpc", def(sshPattern, "1"))
	for _, unit := range []string{"Count", "None"} {
		a := sshAlarm()
		a.AlarmName, a.Unit, a.Threshold = unit, unit, 1
		if _, err := e.PutAlarm(a, 0); err != nil {
			t.Fatal(err)
		}
	}
	e.Ingest("vpc", []Event{{1, l1}, {3600000, l2}})
	for _, ev := range e.Alarms() {
		want := map[string]string{"Count": StateInsufficientData, "None": StateAlarm}[ev.Alarm.AlarmName]
		if ev.State != want {
			t.Errorf("alarm with Unit %s: %s, want %s", ev.Alarm.AlarmName, ev.State, want)
		}
	}
}
