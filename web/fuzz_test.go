package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzEndpoints sends arbitrary bodies to the endpoints that decode one:
// every answer is JSON with a status below 500 (a bad request is the
// caller's fault, never the service's), and nothing panics.
func FuzzEndpoints(f *testing.F) {
	names := []string{"createFlowLog", "deleteFlowLogs", "logGroups", "logStreams", "events", "startQuery",
		"queryResults", "stopQuery", "findings", "archiveFindings", "signin"}
	for i, body := range []string{
		`{"resourceType":"VPC","resourceIds":["vpc-0f1e2d3c4b5a69788"],"trafficType":"ALL","logDestinationType":"s3","logDestination":"arn:aws:s3:::b"}`,
		`{"ids":["fl-0123456789abcdef0"]}`, `{"prefix":"/"}`, `{"group":"/g"}`,
		`{"group":"/g","pattern":"[a, b=1]","startTime":-1,"limit":100000}`,
		`{"groups":["/g"],"query":"stats count(*) by bin(1m)","startTime":0,"endTime":1}`,
		`{"queryId":"x"}`, `{"queryId":""}`, `{"archived":true}`, `{"ids":[],"archived":false}`,
		`{"accessKeyId":"a","secretAccessKey":"b"}`,
	} {
		f.Add(uint8(i), []byte(body))
	}
	f.Add(uint8(0), []byte(`{"resourceType":"Subnet","resourceIds":[""],"maxAggregationInterval":-5,"logFormat":"${"}`))
	f.Add(uint8(4), []byte(`{"group":"","nextToken":"zzz"}`))
	f.Add(uint8(0), []byte(`null`))
	srv, _ := newConsole(f)
	c := srv.Config.Handler.(*Console)
	rec := httptest.NewRecorder()
	signReq := httptest.NewRequest(http.MethodPost, "/console/api/signin", strings.NewReader(`{"accessKeyId":"`+keyID+`","secretAccessKey":"`+secret+`"}`))
	signReq.Header.Set("Content-Type", "application/json")
	signReq.Header.Set(HeaderName, "1")
	c.ServeHTTP(rec, signReq)
	cookie := rec.Result().Cookies()[0]
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		name := names[int(which)%len(names)]
		req := httptest.NewRequest(http.MethodPost, "/console/api/"+name, strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(HeaderName, "1")
		req.AddCookie(cookie)
		w := httptest.NewRecorder()
		c.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Errorf("%s %q: %d %s", name, body, w.Code, w.Body)
		}
		if ct := w.Header().Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s %q: Content-Type %q", name, body, ct)
		}
	})
}
