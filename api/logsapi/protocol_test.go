package logsapi_test

import (
	"net/http/httptest"
	"testing"

	"github.com/vpcflow/vpcflow/api/logsapi"
)

// The wire format of JSON 1.1 (API reference, "Making API requests" and
// "Common errors"): requests the SDK would not send are sent by hand.

func TestProtocolAnswers(t *testing.T) {
	t.Parallel()
	g := newRig(t, rigOpts{})
	r := g.post(t, "Logs_20140328.CreateLogGroup", `{"logGroupName":"app","unknownMember":{"a":[1,2]}}`)
	if r.status != 200 || r.text != "{}" || r.header.Get("Content-Type") != "application/x-amz-json-1.1" || r.header.Get("x-amzn-RequestId") != reqID {
		t.Fatalf("%d %q %v", r.status, r.text, r.header)
	}
	// An empty body is {}; null is an absent member.
	r = g.post(t, "Logs_20140328.DescribeLogGroups", "")
	if r.status != 200 || len(r.body["logGroups"].([]any)) != 1 || r.body["nextToken"] != nil {
		t.Fatalf("%d %s", r.status, r.text)
	}
	r = g.post(t, "Logs_20140328.DescribeLogGroups", `{"logGroupNamePrefix":null,"limit":5.0}`)
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.text)
	}
	// Timestamps are numbers of milliseconds.
	if ct, ok := r.body["logGroups"].([]any)[0].(map[string]any)["creationTime"].(float64); !ok || int64(ct) != t0.UnixMilli() {
		t.Fatalf("creationTime %v", r.body["logGroups"])
	}
	r = g.post(t, "Logs_20140328.DescribeLogStreams", `{"logGroupName":"app"}`)
	if r.status != 200 || r.text != `{"logStreams":[]}` {
		t.Fatalf("%d %s", r.status, r.text)
	}
}

func TestProtocolErrors(t *testing.T) {
	t.Parallel()
	g := newRig(t, rigOpts{})
	g.mkGroup(t, "app", "s")
	for _, c := range []struct {
		target, body string
		status       int
		code, msg    string
	}{
		{"Logs_20140328.DescribeDestinations", `{}`, 400, "UnknownOperationException", ""},
		{"Logs_20140328.", `{}`, 400, "UnknownOperationException", ""},
		{"", `{}`, 400, "UnknownOperationException", ""},
		{"Logs_20140328.CreateLogGroup", `{"logGroupName":`, 400, "SerializationException", ""},
		{"Logs_20140328.CreateLogGroup", `[]`, 400, "SerializationException", ""},
		{"Logs_20140328.CreateLogGroup", `{"logGroupName":5}`, 400, "SerializationException", ""},
		{"Logs_20140328.DescribeLogGroups", `{"limit":1.5}`, 400, "SerializationException", ""},
		{"Logs_20140328.DescribeLogGroups", `{"limit":"5"}`, 400, "SerializationException", ""},
		{"Logs_20140328.GetLogEvents", `{"logGroupName":"app","logStreamName":"s","startFromHead":"yes"}`, 400, "SerializationException", ""},
		// Member names are case-sensitive.
		{"Logs_20140328.CreateLogGroup", `{"LogGroupName":"x"}`, 400, "InvalidParameterException",
			"1 validation error detected: Value null at 'logGroupName' failed to satisfy constraint: Member must not be null"},
		{"Logs_20140328.PutLogEvents", `{}`, 400, "InvalidParameterException",
			"3 validation errors detected: Value null at 'logGroupName' failed to satisfy constraint: Member must not be null; " +
				"Value null at 'logStreamName' failed to satisfy constraint: Member must not be null; " +
				"Value null at 'logEvents' failed to satisfy constraint: Member must not be null"},
		{"Logs_20140328.PutLogEvents", `{"logGroupName":"app","logStreamName":"s","logEvents":[{"message":"m"}]}`, 400, "InvalidParameterException",
			"1 validation error detected: Value null at 'logEvents.1.member.timestamp' failed to satisfy constraint: Member must not be null"},
		{"Logs_20140328.PutLogEvents", `{"logGroupName":"app","logStreamName":"s","logEvents":[{"timestamp":1714564800000,"message":""}]}`, 400, "InvalidParameterException",
			"1 validation error detected: Value '' at 'logEvents.1.member.message' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"Logs_20140328.PutRetentionPolicy", `{"logGroupName":"app"}`, 400, "InvalidParameterException",
			"1 validation error detected: Value null at 'retentionInDays' failed to satisfy constraint: Member must not be null"},
		{"Logs_20140328.GetLogEvents", `{"logStreamName":"s"}`, 400, "InvalidParameterException", "Should provide either logGroupName or logGroupIdentifier."},
		{"Logs_20140328.GetLogEvents", `{"logGroupName":"app","logStreamName":"s","limit":0}`, 400, "InvalidParameterException",
			"1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"Logs_20140328.StartQuery", `{"logGroupName":"app"}`, 400, "InvalidParameterException",
			"3 validation errors detected: Value null at 'startTime' failed to satisfy constraint: Member must not be null; " +
				"Value null at 'endTime' failed to satisfy constraint: Member must not be null; " +
				"Value null at 'queryString' failed to satisfy constraint: Member must not be null"},
		{"Logs_20140328.TagResource", `{"resourceArn":"arn:aws:logs:us-east-1:123456789012:log-group:app","tags":{}}`, 400, "InvalidParameterException",
			"1 validation error detected: Value '{}' at 'tags' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"Logs_20140328.CreateLogGroup", `{"logGroupName":"aws/x"}`, 400, "InvalidParameterException", ""},
	} {
		r := g.post(t, c.target, c.body)
		r.wantError(t, c.status, c.code, c.msg)
		if r.header.Get("Content-Type") != "application/x-amz-json-1.1" || r.header.Get("x-amzn-RequestId") != reqID {
			t.Fatalf("%s: headers %v", c.target, r.header)
		}
		if m, ok := r.body["message"].(string); !ok || m == "" {
			t.Fatalf("%s %s: no message: %s", c.target, c.body, r.text)
		}
	}
	// The server goes on serving.
	if r := g.post(t, "Logs_20140328.DescribeLogGroups", `{}`); r.status != 200 {
		t.Fatal(r.text)
	}
}

func TestWriteError(t *testing.T) {
	t.Parallel()
	w := httptest.NewRecorder()
	logsapi.WriteError(w, 500, "ServiceUnavailableException", `disk "full" <now>`, "id-1")
	if w.Code != 500 || w.Body.String() != `{"__type":"ServiceUnavailableException","message":"disk \"full\" <now>"}` ||
		w.Header().Get("X-Amzn-ErrorType") != "ServiceUnavailableException" || w.Header().Get("x-amzn-RequestId") != "id-1" ||
		w.Header().Get("Content-Type") != "application/x-amz-json-1.1" {
		t.Fatalf("%d %s %v", w.Code, w.Body, w.Header())
	}
}
