package cwapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go/encoding/cbor"
)

// TestQueryDocuments: the XML of the Query protocol, byte for byte, as the
// API reference describes it (DescribeAlarmsResponse/DescribeAlarmsResult,
// lists of <member>, times 2026-12-07T17:00:00.000Z, ResponseMetadata),
// for a request built as awscli builds it (AlarmNames.member.1).
func TestQueryDocuments(t *testing.T) {
	g := newRig(t)
	status, body := g.form(t, "Action", "PutMetricAlarm", "AlarmName", "ssh-rejects", "Namespace", "VPCFlow", "MetricName", "SSHRejects",
		"Statistic", "Sum", "Period", "60", "EvaluationPeriods", "1", "Threshold", "2.5", "ComparisonOperator", "GreaterThanThreshold",
		"AlarmActions.member.1", topic, "Dimensions.member.1.Name", "Eni", "Dimensions.member.1.Value", "eni-0a1b2c3d4e5f60718")
	wantPut := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<PutMetricAlarmResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/">` +
		`<ResponseMetadata><RequestId>` + reqID + `</RequestId></ResponseMetadata></PutMetricAlarmResponse>`
	if status != http.StatusOK || body != wantPut {
		t.Fatalf("PutMetricAlarm: %d\n%s", status, body)
	}
	status, body = g.form(t, "Action", "DescribeAlarms", "AlarmNames.member.1", "ssh-rejects")
	want := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<DescribeAlarmsResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"><DescribeAlarmsResult>` +
		`<CompositeAlarms></CompositeAlarms><MetricAlarms><member>` +
		`<AlarmName>ssh-rejects</AlarmName><AlarmArn>arn:aws:cloudwatch:us-east-1:123456789012:alarm:ssh-rejects</AlarmArn>` +
		`<AlarmConfigurationUpdatedTimestamp>2026-12-07T17:00:00.000Z</AlarmConfigurationUpdatedTimestamp>` +
		`<ActionsEnabled>true</ActionsEnabled><OKActions></OKActions><AlarmActions><member>` + topic + `</member></AlarmActions>` +
		`<InsufficientDataActions></InsufficientDataActions><StateValue>INSUFFICIENT_DATA</StateValue>` +
		`<StateReason>Unchecked: Initial alarm creation</StateReason><StateUpdatedTimestamp>2026-12-07T17:00:00.000Z</StateUpdatedTimestamp>` +
		`<MetricName>SSHRejects</MetricName><Namespace>VPCFlow</Namespace><Statistic>Sum</Statistic>` +
		`<Dimensions><member><Name>Eni</Name><Value>eni-0a1b2c3d4e5f60718</Value></member></Dimensions>` +
		`<Period>60</Period><EvaluationPeriods>1</EvaluationPeriods><DatapointsToAlarm>1</DatapointsToAlarm><Threshold>2.5</Threshold>` +
		`<ComparisonOperator>GreaterThanThreshold</ComparisonOperator><TreatMissingData>missing</TreatMissingData>` +
		`<StateTransitionedTimestamp>2026-12-07T17:00:00.000Z</StateTransitionedTimestamp>` +
		`</member></MetricAlarms></DescribeAlarmsResult><ResponseMetadata><RequestId>` + reqID + `</RequestId></ResponseMetadata></DescribeAlarmsResponse>`
	if status != http.StatusOK || body != want {
		t.Errorf("DescribeAlarms:\n got %s\nwant %s", body, want)
	}
	// Timestamps in ISO 8601 as awscli sends them, lists of structures.
	g.put(t, record("198.51.100.1", 22, "REJECT", clockAt(0, 5)), record("198.51.100.2", 22, "REJECT", clockAt(1, 5)))
	status, body = g.form(t, "Action", "GetMetricStatistics", "Namespace", "VPCFlow", "MetricName", "SSHRejects",
		"StartTime", "2026-12-07T17:00:00Z", "EndTime", "2026-12-07T17:05:00.000Z", "Period", "300",
		"Statistics.member.1", "Sum", "Statistics.member.2", "Maximum")
	wantStats := `<GetMetricStatisticsResult><Label>SSHRejects</Label><Datapoints><member><Timestamp>2026-12-07T17:00:00.000Z</Timestamp>` +
		`<Sum>2.0</Sum><Maximum>1.0</Maximum><Unit>Count</Unit></member></Datapoints></GetMetricStatisticsResult>`
	if status != http.StatusOK || !strings.Contains(body, wantStats) {
		t.Errorf("GetMetricStatistics: %d %s", status, body)
	}
}

// cborPost sends an rpc-v2-cbor request by hand and returns the answer.
func (g *rig) cborPost(t *testing.T, op string, body []byte) (*http.Response, cbor.Map) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, g.srv.URL+"/service/GraniteServiceVersion20100801/operation/"+op, bytes.NewReader(body))
	req.Header.Set("Smithy-Protocol", "rpc-v2-cbor")
	req.Header.Set("Content-Type", "application/cbor")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	v, err := cbor.Decode(b)
	if err != nil {
		t.Fatalf("answer is not CBOR: %v (%x)", err, b)
	}
	m, _ := v.(cbor.Map)
	return resp, m
}

// TestCBORErrors: errors of the rpc-v2-cbor protocol carry the model's
// shape in __type and CloudWatch's Query code in X-Amzn-Query-Error
// ("Code;Sender"), which the SDKs report; what the SDK would never send
// goes by hand.
func TestCBORErrors(t *testing.T) {
	g := newRig(t)
	body := cbor.Encode(cbor.Map{"AlarmName": cbor.String("x"), "StateValue": cbor.Uint(3)})
	resp, m := g.cborPost(t, "SetAlarmState", body)
	if resp.StatusCode != 400 || resp.Header.Get("X-Amzn-Query-Error") != "InvalidParameterValue;Sender" ||
		m["__type"] != cbor.String("com.amazonaws.cloudwatch#InvalidParameterValueException") ||
		m["message"] != cbor.String("The value of parameter StateValue is not a valid string.") {
		t.Errorf("a number for a string: %d %v %v", resp.StatusCode, resp.Header, m)
	}
	resp, m = g.cborPost(t, "SetAlarmState", cbor.Encode(cbor.Map{"AlarmName": cbor.String("x")}))
	if resp.StatusCode != 400 || resp.Header.Get("X-Amzn-Query-Error") != "ValidationError;Sender" ||
		m["message"] != cbor.String("2 validation errors detected: Value null at 'stateValue' failed to satisfy constraint: Member must not be null; "+
			"Value null at 'stateReason' failed to satisfy constraint: Member must not be null") {
		t.Errorf("missing members: %d %v %v", resp.StatusCode, resp.Header, m)
	}
	resp, m = g.cborPost(t, "DeleteAlarms", cbor.Encode(cbor.Map{"AlarmNames": cbor.List{cbor.String("nope")}}))
	if resp.StatusCode != 404 || resp.Header.Get("X-Amzn-Query-Error") != "ResourceNotFound;Sender" || m["__type"] != cbor.String("com.amazonaws.cloudwatch#ResourceNotFound") {
		t.Errorf("unknown alarm: %d %v %v", resp.StatusCode, resp.Header, m)
	}
	resp, m = g.cborPost(t, "PutDashboard", nil)
	if resp.StatusCode != 400 || resp.Header.Get("X-Amzn-Query-Error") != "InvalidAction;Sender" ||
		m["message"] != cbor.String("Could not find operation PutDashboard for version 2010-08-01") {
		t.Errorf("unknown operation: %d %v %v", resp.StatusCode, resp.Header, m)
	}
	resp, m = g.cborPost(t, "DescribeAlarms", []byte{0xbf, 0x61}) // an unfinished map
	if resp.StatusCode != 400 || m["__type"] != cbor.String("com.amazonaws.cloudwatch#SerializationException") {
		t.Errorf("malformed CBOR: %d %v", resp.StatusCode, m)
	}
	resp, m = g.cborPost(t, "DescribeAlarms", cbor.Encode(cbor.List{}))
	if resp.StatusCode != 400 || m["message"] != cbor.String("The request body must be a CBOR map of the action's members.") {
		t.Errorf("not a map: %d %v", resp.StatusCode, m)
	}
	// An answer: the protocol header, a map, times as tag 1.
	g.c.PutMetricAlarm(ctx, alarm("a", 1))
	resp, m = g.cborPost(t, "DescribeAlarms", nil)
	alarms, _ := m["MetricAlarms"].(cbor.List)
	if resp.StatusCode != 200 || resp.Header.Get("Smithy-Protocol") != "rpc-v2-cbor" || resp.Header.Get("Content-Type") != "application/cbor" || len(alarms) != 1 {
		t.Fatalf("DescribeAlarms: %d %v %v", resp.StatusCode, resp.Header, m)
	}
	if ts, ok := alarms[0].(cbor.Map)["StateUpdatedTimestamp"].(*cbor.Tag); !ok || ts.ID != 1 || ts.Value != cbor.Uint(t0.Unix()) {
		t.Errorf("StateUpdatedTimestamp %#v, want tag 1 over %d", alarms[0].(cbor.Map)["StateUpdatedTimestamp"], t0.Unix())
	}
}

// TestCBORMilliseconds: a time with milliseconds reaches the SDK exactly
// (it reads tag 1 over float seconds as int64(seconds*1000)).
func TestCBORMilliseconds(t *testing.T) {
	g := newRig(t)
	g.c.PutMetricAlarm(ctx, alarm("a", 1))
	for _, ms := range []int{1, 7, 123, 333, 999} {
		at := g.clk.Now().Add(time.Second + time.Duration(ms)*time.Millisecond).Truncate(time.Millisecond)
		g.setClock(at)
		g.c.SetAlarmState(ctx, &cw.SetAlarmStateInput{AlarmName: aws.String("a"), StateValue: types.StateValueOk, StateReason: aws.String("x")})
		out, _ := g.c.DescribeAlarms(ctx, nil)
		if got := aws.ToTime(out.MetricAlarms[0].StateUpdatedTimestamp); !got.Equal(at) {
			t.Errorf("%v came back as %v", at, got.UTC())
		}
	}
}

// TestWebhookAction: a loopback URL as an alarm action receives the
// notification an SNS topic would, in a POST; its outcome is an Action
// history item. A URL off this machine is refused.
func TestWebhookAction(t *testing.T) {
	var mu sync.Mutex
	var bodies []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, r.Method+" "+r.URL.Path+" "+string(b))
		mu.Unlock()
		if r.URL.Path == "/broken" {
			w.WriteHeader(http.StatusBadGateway)
		}
	}))
	defer hook.Close()
	g := newRig(t)
	in := alarm("ssh-rejects", 3)
	in.AlarmDescription = aws.String("rejected ssh")
	in.AlarmActions = []string{hook.URL + "/alarm"}
	in.OKActions = []string{hook.URL + "/broken"}
	if _, err := g.c.PutMetricAlarm(ctx, in); err != nil {
		t.Fatal(err)
	}
	g.c.SetAlarmState(ctx, &cw.SetAlarmStateInput{AlarmName: aws.String("ssh-rejects"), StateValue: types.StateValueAlarm, StateReason: aws.String("drill")})
	g.c.SetAlarmState(ctx, &cw.SetAlarmStateInput{AlarmName: aws.String("ssh-rejects"), StateValue: types.StateValueOk, StateReason: aws.String("over")})
	var actions []string
	for deadline := time.Now().Add(10 * time.Second); len(actions) < 2 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		h, err := g.c.DescribeAlarmHistory(ctx, &cw.DescribeAlarmHistoryInput{HistoryItemType: types.HistoryItemTypeAction, ScanBy: types.ScanByTimestampAscending})
		if err != nil {
			t.Fatal(err)
		}
		actions = nil
		for _, it := range h.AlarmHistoryItems {
			actions = append(actions, aws.ToString(it.HistorySummary))
		}
	}
	want := []string{"Successfully executed action " + hook.URL + "/alarm",
		"Failed to execute action " + hook.URL + "/broken. Reason: the webhook answered HTTP 502"}
	if len(actions) != 2 || actions[0] != want[0] && actions[1] != want[0] || actions[0] != want[1] && actions[1] != want[1] {
		t.Fatalf("Action items %q, want %q", actions, want)
	}
	mu.Lock()
	defer mu.Unlock()
	var alarmBody string
	for _, b := range bodies {
		if s, ok := strings.CutPrefix(b, "POST /alarm "); ok {
			alarmBody = s
		}
	}
	var n map[string]any
	if err := json.Unmarshal([]byte(alarmBody), &n); err != nil {
		t.Fatalf("webhook body %q: %v", alarmBody, err)
	}
	trigger, _ := n["Trigger"].(map[string]any)
	for k, v := range map[string]any{"AlarmName": "ssh-rejects", "AlarmDescription": "rejected ssh", "AWSAccountId": account,
		"NewStateValue": "ALARM", "NewStateReason": "drill", "OldStateValue": "INSUFFICIENT_DATA",
		"StateChangeTime": "2026-12-07T17:00:00.000+0000", "Region": "US East (N. Virginia)",
		"AlarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:ssh-rejects"} {
		if n[k] != v {
			t.Errorf("notification %s = %v, want %v", k, n[k], v)
		}
	}
	for k, v := range map[string]any{"MetricName": "SSHRejects", "Namespace": "VPCFlow", "StatisticType": "Statistic", "Statistic": "SUM",
		"Period": 60.0, "EvaluationPeriods": 1.0, "Threshold": 3.0, "ComparisonOperator": "GreaterThanOrEqualToThreshold", "TreatMissingData": "missing"} {
		if trigger[k] != v {
			t.Errorf("notification Trigger.%s = %v, want %v", k, trigger[k], v)
		}
	}
	bad := alarm("elsewhere", 1)
	bad.AlarmActions = []string{"http://192.0.2.10/hook"}
	_, err := g.c.PutMetricAlarm(ctx, bad)
	apiErr(t, err, "ValidationError", `Invalid alarm action "http://192.0.2.10/hook": a webhook must be on this machine (127.0.0.1, localhost or [::1]): vpcflow sends nothing elsewhere.`)
}

// jsonPost sends an AWS JSON 1.0 request by hand, as botocore sends one.
func (g *rig) jsonPost(t *testing.T, op, body string) (*http.Response, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, g.srv.URL+"/", strings.NewReader(body))
	req.Header.Set("X-Amz-Target", "GraniteServiceVersion20100801."+op)
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatalf("%s: answer is not JSON: %v", op, err)
	}
	return resp, m
}

// TestJSONProtocol: the AWS JSON 1.0 protocol as botocore speaks it to
// CloudWatch: members by name, times as epoch seconds
// (2026-12-07T17:00:00Z is 1796662800), errors with __type and the Query
// code in X-Amzn-Query-Error.
func TestJSONProtocol(t *testing.T) {
	g := newRig(t)
	resp, m := g.jsonPost(t, "PutMetricAlarm", `{"AlarmName":"a","Namespace":"VPCFlow","MetricName":"SSHRejects","Statistic":"Sum",`+
		`"Period":60,"EvaluationPeriods":1,"Threshold":1.5,"ComparisonOperator":"GreaterThanThreshold","AlarmActions":["`+topic+`"]}`)
	if resp.StatusCode != 200 || len(m) != 0 || resp.Header.Get("Content-Type") != "application/x-amz-json-1.0" {
		t.Fatalf("PutMetricAlarm: %d %v %v", resp.StatusCode, resp.Header, m)
	}
	g.setClock(clockAt(0, 1).Add(250 * time.Millisecond))
	g.jsonPost(t, "SetAlarmState", `{"AlarmName":"a","StateValue":"ALARM","StateReason":"json"}`)
	_, m = g.jsonPost(t, "DescribeAlarms", `{"AlarmNames":["a"],"MaxRecords":10}`)
	alarms, _ := m["MetricAlarms"].([]any)
	if len(alarms) != 1 {
		t.Fatalf("DescribeAlarms: %v", m)
	}
	a := alarms[0].(map[string]any)
	for k, want := range map[string]any{"AlarmName": "a", "StateValue": "ALARM", "StateReason": "json", "Threshold": 1.5, "Period": 60.0,
		"AlarmConfigurationUpdatedTimestamp": 1796662800.0, "StateUpdatedTimestamp": 1796662801.25, "ActionsEnabled": true} {
		if a[k] != want {
			t.Errorf("%s = %v, want %v", k, a[k], want)
		}
	}
	if cs, ok := m["CompositeAlarms"].([]any); !ok || len(cs) != 0 {
		t.Errorf("CompositeAlarms %v", m["CompositeAlarms"])
	}
	_, m = g.jsonPost(t, "DescribeAlarmHistory", `{"AlarmName":"a","StartDate":1796662801,"EndDate":"2026-12-07T17:00:02Z"}`)
	if items, _ := m["AlarmHistoryItems"].([]any); len(items) != 2 {
		t.Errorf("history between 17:00:01 and 17:00:02: %v", m)
	}
	resp, m = g.jsonPost(t, "DeleteAlarms", `{"AlarmNames":["nope"]}`)
	if resp.StatusCode != 404 || resp.Header.Get("X-Amzn-Query-Error") != "ResourceNotFound;Sender" ||
		m["__type"] != "com.amazonaws.cloudwatch#ResourceNotFound" || m["message"] != "The following alarms were not found: [nope]" {
		t.Errorf("unknown alarm: %d %v %v", resp.StatusCode, resp.Header, m)
	}
	resp, m = g.jsonPost(t, "DescribeAlarms", `{"MaxRecords":"ten"}`)
	if resp.StatusCode != 400 || m["message"] != "The value of parameter MaxRecords is not a valid integer." {
		t.Errorf("a string for a number: %d %v", resp.StatusCode, m)
	}
	resp, m = g.jsonPost(t, "DescribeAlarms", `[1,2]`)
	if resp.StatusCode != 400 || m["__type"] != "com.amazonaws.cloudwatch#SerializationException" {
		t.Errorf("not an object: %d %v", resp.StatusCode, m)
	}
}
