package logsapi_test

import (
	"encoding/json"
	"net/http/httptest"
	"sort"
	"testing"
	"unicode/utf8"

	"github.com/vpcflow/vpcflow/api/logsapi"
)

// FuzzServe sends any body to any action: the answer is always a JSON
// object, 200 or a 400 error document with its code and a message, and
// the handler never panics. A 500 would be a request that reached a
// failure the decoding should have stopped.
func FuzzServe(f *testing.F) {
	g := newRig(f, rigOpts{})
	h := logsapi.New(g.svc)
	names := logsapi.Actions()
	sort.Strings(names)
	names = append(names, "Nope", "")
	seeds := []string{
		``, `{}`, `null`, `[]`, `"x"`, `{"logGroupName":`, `{"logGroupName":"g"}`, `{"logGroupName":5}`,
		`{"logGroupName":"g","logStreamName":"s"}`,
		`{"logGroupName":"g","logStreamName":"s","logEvents":[{"timestamp":1714564800000,"message":"m"}]}`,
		`{"logGroupName":"g","logStreamName":"s","logEvents":[{"timestamp":null,"message":null},null]}`,
		`{"logGroupName":"g","retentionInDays":7}`, `{"limit":1e3}`, `{"limit":-1}`, `{"limit":1e400}`,
		`{"logGroupIdentifier":"arn:aws:logs:us-east-1:123456789012:log-group:g","logStreamName":"s","nextToken":"f/1"}`,
		`{"logGroupName":"g","filterPattern":"[a, b=\"x\"]","logStreamNames":["s"],"startTime":0,"endTime":1}`,
		`{"filterPattern":"{ $.a = 1 }","logEventMessages":["{\"a\":1}","x"]}`,
		`{"logGroupName":"g","filterName":"f","filterPattern":"ERROR","metricTransformations":[{"metricName":"m","metricNamespace":"n","metricValue":"1","defaultValue":0}]}`,
		`{"logGroupNames":["g"],"startTime":0,"endTime":2000000000,"queryString":"stats count(*) by @logStream"}`,
		`{"queryId":"x","maxItems":1,"nextToken":"eyJxIjoieCIsIm8iOjF9"}`,
		`{"resourceArn":"arn:aws:logs:us-east-1:123456789012:log-group:g","tags":{"a":"b"},"tagKeys":["a"]}`,
		`{"logGroupName":"g","tags":{"aws:a":"b"}}`, `{"logGroupName":"g","tags":["a","AWS:b"]}`,
		`{"logGroupNamePrefix":"","logGroupNamePattern":"a","logGroupIdentifiers":[],"logGroupClass":"X"}`,
		`{"a":{"b":{"c":[[[[[]]]]]}}}`, "{\"logGroupName\":\"\xff\"}",
	}
	for i := range names {
		for _, s := range seeds {
			f.Add(uint8(i), []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, a uint8, body []byte) {
		action := names[int(a)%len(names)]
		w := httptest.NewRecorder()
		h.Serve(w, action, body, "fuzz")
		var doc map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil || !utf8.Valid(w.Body.Bytes()) {
			t.Fatalf("%s %q: answer is not a JSON object: %v: %q", action, body, err, w.Body)
		}
		switch w.Code {
		case 200:
		case 400:
			code, _ := doc["__type"].(string)
			if code == "" || w.Header().Get("X-Amzn-ErrorType") != code {
				t.Fatalf("%s %q: error without a code: %s", action, body, w.Body)
			}
			if _, ok := doc["message"].(string); !ok {
				t.Fatalf("%s %q: error without a message: %s", action, body, w.Body)
			}
		default:
			t.Fatalf("%s %q: status %d: %s", action, body, w.Code, w.Body)
		}
	})
}
