package web

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vpcflow/vpcflow/api/sigv4"
	"github.com/vpcflow/vpcflow/internal/reporter"
	"github.com/vpcflow/vpcflow/logstore"
	"github.com/vpcflow/vpcflow/region"
)

const (
	keyID  = "AKIAVPCFLOWCONSOLE01"
	secret = "consoleTestSecret000000000000000000000001"
	// From examples/scenarios.yaml.
	scenarioVPC = "vpc-0f1e2d3c4b5a69788"
)

// newConsole opens a region (not started: no packet flows) over the
// scenarios' network and serves its console.
func newConsole(t testing.TB) (*httptest.Server, *region.Region) {
	t.Helper()
	cfg := region.DefaultConfiguration()
	cfg.DataDir, cfg.TopologyFile = t.TempDir(), "../examples/scenarios.yaml"
	r, err := region.New(cfg, region.Dependencies{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Stop() })
	rep := reporter.New(slog.New(slog.NewTextHandler(io.Discard, nil)))
	c, err := New(DefaultConfiguration(), Dependencies{Region: r, Credentials: sigv4.StaticCredentials{keyID: secret}, Reporter: rep})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	return srv, r
}

// call posts to an endpoint as the page does (header, JSON) with the
// cookie when given, and decodes the answer into out.
func call(t *testing.T, srv *httptest.Server, cookie *http.Cookie, name string, in any, out any) int {
	t.Helper()
	b, _ := json.Marshal(in)
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/console/api/"+name, strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderName, "1")
	if cookie != nil {
		req.AddCookie(cookie)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatalf("%s: %v in %s", name, err, body)
		}
	}
	return resp.StatusCode
}

func signIn(t *testing.T, srv *httptest.Server) *http.Cookie {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"accessKeyId": keyID, "secretAccessKey": secret})
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/console/api/signin", strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderName, "1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("sign-in: %d", resp.StatusCode)
	}
	for _, c := range resp.Cookies() {
		if c.Name == CookieName {
			if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != Prefix {
				t.Errorf("sign-in cookie %+v: want HttpOnly, SameSite=Strict, Path=%s", c, Prefix)
			}
			return c
		}
	}
	t.Fatal("sign-in set no cookie")
	return nil
}

func TestHandles(t *testing.T) {
	for _, c := range []struct {
		method, target string
		auth           bool
		want           bool
	}{
		{"GET", "/", false, true},
		{"HEAD", "/", false, true},
		{"GET", "/console/", false, true},
		{"POST", "/console/api/signin", false, true},
		{"GET", "/console", false, true},
		{"GET", "/", true, false},                                // S3 ListBuckets, signed
		{"GET", "/console/key", true, false},                     // an object of a bucket named console
		{"GET", "/console/key?X-Amz-Signature=ab", false, false}, // a presigned URL
		{"POST", "/", false, false},                              // a Query-protocol request
		{"GET", "/bucket/key", false, false},
	} {
		r := httptest.NewRequest(c.method, c.target, nil)
		if c.auth {
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=...")
		}
		if got := Handles(r); got != c.want {
			t.Errorf("%s %s (signed %v): Handles = %v, want %v", c.method, c.target, c.auth, got, c.want)
		}
	}
}

func TestSignInAndCSRF(t *testing.T) {
	srv, _ := newConsole(t)
	var e struct{ Error apiError }
	if got := call(t, srv, nil, "flowlogs", struct{}{}, &e); got != 401 || e.Error.Code != "SignInRequired" {
		t.Errorf("not signed in: %d %+v, want 401 SignInRequired", got, e.Error)
	}
	if got := call(t, srv, nil, "signin", map[string]string{"accessKeyId": keyID, "secretAccessKey": secret + "x"}, &e); got != 401 || e.Error.Code != "SignInRefused" {
		t.Errorf("a wrong secret: %d %+v, want 401 SignInRefused", got, e.Error)
	}
	if got := call(t, srv, &http.Cookie{Name: CookieName, Value: "forged"}, "flowlogs", struct{}{}, &e); got != 401 {
		t.Errorf("a forged cookie: %d, want 401", got)
	}
	ck := signIn(t, srv)
	var id map[string]string
	if got := call(t, srv, ck, "whoami", struct{}{}, &id); got != 200 || id["account"] != "111122223333" || id["region"] != "us-east-1" {
		t.Errorf("whoami: %d %v, want the scenarios' account 111122223333 in us-east-1", got, id)
	}

	// What a cross-site form can send: no custom header, a form body.
	for _, c := range []struct {
		name   string
		header bool
		ctype  string
		method string
		want   int
	}{
		{"no header", false, "application/json", "POST", 403},
		{"form body", true, "application/x-www-form-urlencoded", "POST", 415},
		{"GET", true, "application/json", "GET", 405},
	} {
		req, _ := http.NewRequest(c.method, srv.URL+"/console/api/deleteFlowLogs", strings.NewReader(`{"ids":["fl-0123456789abcdef0"]}`))
		req.Header.Set("Content-Type", c.ctype)
		if c.header {
			req.Header.Set(HeaderName, "1")
		}
		req.AddCookie(ck)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("%s: %d, want %d", c.name, resp.StatusCode, c.want)
		}
	}

	if got := call(t, srv, ck, "signout", struct{}{}, nil); got != 200 {
		t.Errorf("signout: %d", got)
	}
	if got := call(t, srv, ck, "flowlogs", struct{}{}, &e); got != 401 {
		t.Errorf("after sign-out: %d, want 401", got)
	}
}

func TestPagesAreServed(t *testing.T) {
	srv, _ := newConsole(t)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != Prefix {
		t.Errorf("GET /: %d to %q, want 302 to %s", resp.StatusCode, resp.Header.Get("Location"), Prefix)
	}
	for path, want := range map[string]string{"/console/": "text/html", "/console/app.js": "text/javascript", "/console/chart.js": "text/javascript", "/console/style.css": "text/css"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), want) {
			t.Errorf("GET %s: %d %q, want 200 %s", path, resp.StatusCode, resp.Header.Get("Content-Type"), want)
		}
		if !strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self'") {
			t.Errorf("GET %s: no script-src 'self' policy", path)
		}
	}
	resp, err = http.Get(srv.URL + "/console/../../etc/passwd")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("a path out of the files: %d, want 404", resp.StatusCode)
	}
}

func TestEndpoints(t *testing.T) {
	srv, r := newConsole(t)
	ck := signIn(t, srv)

	var net struct {
		Vpcs              []struct{ VpcId string }
		NetworkInterfaces []struct{ NetworkInterfaceId string }
		SecurityGroups    []struct{ GroupName string }
	}
	call(t, srv, ck, "network", struct{}{}, &net)
	if len(net.Vpcs) != 1 || net.Vpcs[0].VpcId != scenarioVPC || len(net.NetworkInterfaces) != 6 || len(net.SecurityGroups) < 5 {
		t.Errorf("network: %+v, want the scenarios' VPC with 6 interfaces and its 5 groups", net)
	}

	var fields struct {
		Fields []fieldInfo
	}
	call(t, srv, ck, "fields", struct{}{}, &fields)
	names := map[string]bool{}
	defaults := 0
	for _, f := range fields.Fields {
		names[f.Name] = true
		if f.Default {
			defaults++
		}
	}
	// The default format has the 14 version-2 fields; tgw-id is a transit
	// gateway field a VPC flow log may not name.
	if fields.Fields[0].Name != "version" || defaults != 14 || !names["tcp-flags"] || !names["reject-reason"] || names["tgw-id"] {
		t.Errorf("fields: first %q, %d default, tcp-flags %v, reject-reason %v, tgw-id %v", fields.Fields[0].Name, defaults, names["tcp-flags"], names["reject-reason"], names["tgw-id"])
	}

	var e struct{ Error apiError }
	if got := call(t, srv, ck, "createFlowLog", map[string]any{"resourceType": "VPC", "resourceIds": []string{scenarioVPC},
		"trafficType": "ALL", "logDestinationType": "cloud-watch-logs", "logGroupName": "/x"}, &e); got != 400 ||
		e.Error.Code != "InvalidParameter" || !strings.Contains(e.Error.Message, "DeliverLogsPermissionArn is required") {
		t.Errorf("a CloudWatch Logs flow log without a role: %d %+v", got, e.Error)
	}
	if got := call(t, srv, ck, "createFlowLog", map[string]any{"resourceType": "VPC", "resourceIds": []string{scenarioVPC},
		"trafficTyp": "ALL"}, &e); got != 400 || !strings.Contains(e.Error.Message, `unknown field "trafficTyp"`) {
		t.Errorf("a misspelt member: %d %+v", got, e.Error)
	}
	if err := os.MkdirAll(filepath.Join(r.BucketDir("wizard")), 0o755); err != nil {
		t.Fatal(err)
	}
	var created struct {
		FlowLogIds   []string
		Unsuccessful []any
	}
	if got := call(t, srv, ck, "createFlowLog", map[string]any{"resourceType": "Subnet", "resourceIds": []string{"subnet-0a1b2c3d4e5f00003"},
		"trafficType": "REJECT", "maxAggregationInterval": 60, "logDestinationType": "s3", "logDestination": "arn:aws:s3:::wizard/x",
		"fileFormat": "parquet", "hiveCompatiblePartitions": true, "perHourPartition": true,
		"logFormat": "${srcaddr} ${dstaddr} ${action}"}, &created); got != 200 || len(created.FlowLogIds) != 1 || len(created.Unsuccessful) != 0 {
		t.Fatalf("createFlowLog: %d %+v", got, created)
	}
	var list struct{ FlowLogs []flowLogView }
	call(t, srv, ck, "flowlogs", struct{}{}, &list)
	var got *flowLogView
	for i := range list.FlowLogs {
		if list.FlowLogs[i].ID == created.FlowLogIds[0] {
			got = &list.FlowLogs[i]
		}
	}
	want := flowLogView{ID: created.FlowLogIds[0], ResourceID: "subnet-0a1b2c3d4e5f00003", TrafficType: "REJECT", DestinationType: "s3",
		Destination: "arn:aws:s3:::wizard/x", LogFormat: "${srcaddr} ${dstaddr} ${action}", MaxAggregationInterval: 60,
		FileFormat: "parquet", Status: "ACTIVE", DeliverStatus: "SUCCESS"}
	if got == nil {
		t.Fatalf("flowlogs: %s not listed in %+v", created.FlowLogIds[0], list)
	}
	got.CreationTime = ""
	if *got != want {
		t.Errorf("flowlogs: %+v\nwant %+v", *got, want)
	}
	if len(list.FlowLogs) != 2 {
		t.Errorf("flowlogs: %d, want the topology's and the new one", len(list.FlowLogs))
	}

	var buckets struct{ Buckets []string }
	call(t, srv, ck, "buckets", struct{}{}, &buckets)
	if len(buckets.Buckets) != 1 || buckets.Buckets[0] != "wizard" {
		t.Errorf("buckets: %v, want [wizard]", buckets.Buckets)
	}
	var sq struct {
		Columns []string
		Rows    [][]*string
		Objects int
	}
	if got := call(t, srv, ck, "sql", map[string]string{"bucket": "wizard", "query": "SELECT count(*) AS n FROM vpc_flow_logs"}, &sq); got != 200 ||
		sq.Objects != 0 || len(sq.Rows) != 1 || *sq.Rows[0][0] != "0" {
		t.Errorf("sql over an empty bucket: %d %+v", got, sq)
	}
	// The query reads the bucket and nothing else.
	out := filepath.Join(t.TempDir(), "out.csv")
	for _, q := range []string{"COPY (SELECT 1) TO '" + out + "'", "SELECT * FROM read_text('/etc/passwd')",
		"SET enable_external_access = true", "ATTACH '" + out + ".db' AS x"} {
		if got := call(t, srv, ck, "sql", map[string]string{"bucket": "wizard", "query": q}, &e); got != 400 ||
			!strings.Contains(e.Error.Message, "disabled by configuration") && !strings.Contains(e.Error.Message, "configuration has been locked") {
			t.Errorf("%s: %d %+v, want refused", q, got, e.Error)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("COPY TO wrote %s", out)
	}
	if got := call(t, srv, ck, "sql", map[string]string{"bucket": "../x", "query": "SELECT 1"}, &e); got != 400 {
		t.Errorf("sql on a bad bucket name: %d %+v", got, e.Error)
	}
	if got := call(t, srv, ck, "sql", map[string]string{"bucket": "wizard", "prefix": "../../", "query": "SELECT 1"}, &e); got != 400 {
		t.Errorf("sql on a prefix out of the bucket: %d %+v", got, e.Error)
	}

	if got := call(t, srv, ck, "startQuery", map[string]any{"groups": []string{"/nope"}, "query": "fields @message"}, &e); got != 400 ||
		e.Error.Code != "ResourceNotFoundException" {
		t.Errorf("a query of a missing group: %d %+v", got, e.Error)
	}
	if got := call(t, srv, ck, "deleteFlowLogs", map[string]any{"ids": created.FlowLogIds}, nil); got != 200 {
		t.Errorf("deleteFlowLogs: %d", got)
	}
	call(t, srv, ck, "flowlogs", struct{}{}, &list)
	if len(list.FlowLogs) != 1 {
		t.Errorf("after delete: %d flow logs, want 1", len(list.FlowLogs))
	}
	var f struct {
		Enabled  bool
		Findings []any
	}
	// Detection is on by default; no packet has flowed, so nothing is found.
	if call(t, srv, ck, "findings", struct{}{}, &f); !f.Enabled || len(f.Findings) != 0 {
		t.Errorf("findings: %+v, want enabled and none", f)
	}
	if got := call(t, srv, ck, "archiveFindings", map[string]any{"ids": []string{"0123abcd"}, "archived": true}, &e); got != 400 ||
		!strings.Contains(e.Error.Message, "no finding [0123abcd]") {
		t.Errorf("archiving an unknown finding: %d %+v", got, e.Error)
	}
}

// TestEventsAndQueries reads events put in a group through the endpoints:
// newest first, paged, filtered by a pattern, tailed from a time, and
// counted by an Insights query whose columns come in the query's order.
func TestEventsAndQueries(t *testing.T) {
	srv, r := newConsole(t)
	ck := signIn(t, srv)
	logs := r.Logs()
	if err := logs.CreateLogGroup("/g", logstore.GroupOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := logs.CreateLogStream("/g", "eni-1-all"); err != nil {
		t.Fatal(err)
	}
	base := time.Now().Add(-time.Minute).UnixMilli() / 1000 * 1000
	var evs []logstore.PutEvent
	for i := range 5 {
		action := "ACCEPT"
		if i%2 == 1 {
			action = "REJECT"
		}
		sec := base/1000 + int64(i)
		evs = append(evs, logstore.PutEvent{Timestamp: base + int64(i)*1000,
			Message: fmt.Sprintf("2 111122223333 eni-1 198.51.100.%d 10.0.0.5 4000%d 22 6 1 40 %d %d %s OK", i, i, sec, sec, action)})
	}
	if _, err := logs.PutLogEvents("/g", "eni-1-all", evs); err != nil {
		t.Fatal(err)
	}
	type page struct {
		Events []struct {
			Timestamp int64
			Message   string
		}
		NextToken string
	}
	var p page
	call(t, srv, ck, "events", map[string]any{"group": "/g", "streams": []string{"eni-1-all"}, "descending": true, "limit": 2}, &p)
	if len(p.Events) != 2 || p.Events[0].Timestamp != base+4000 || p.Events[1].Timestamp != base+3000 || p.NextToken == "" {
		t.Fatalf("first page: %+v, want the events at +4 s and +3 s and a token", p)
	}
	var older page
	call(t, srv, ck, "events", map[string]any{"group": "/g", "streams": []string{"eni-1-all"}, "descending": true, "limit": 2, "nextToken": p.NextToken}, &older)
	if len(older.Events) != 2 || older.Events[0].Timestamp != base+2000 {
		t.Errorf("second page: %+v, want +2 s and +1 s", older)
	}
	var rejects page
	call(t, srv, ck, "events", map[string]any{"group": "/g", "pattern": "REJECT", "descending": true}, &rejects)
	if len(rejects.Events) != 2 || !strings.HasSuffix(rejects.Events[0].Message, "REJECT OK") || rejects.Events[0].Timestamp != base+3000 {
		t.Errorf("REJECT: %+v, want the events at +3 s and +1 s", rejects)
	}
	var tail page
	start := base + 3000
	call(t, srv, ck, "events", map[string]any{"group": "/g", "startTime": start}, &tail)
	if len(tail.Events) != 2 || tail.Events[0].Timestamp != base+3000 || tail.Events[1].Timestamp != base+4000 {
		t.Errorf("tail from +3 s: %+v, want +3 s and +4 s in ascending order", tail)
	}

	var q struct{ QueryID string }
	if got := call(t, srv, ck, "startQuery", map[string]any{"groups": []string{"/g"},
		"query": "stats count(*) as records, sum(bytes) as bytes by action | sort action asc"}, &q); got != 200 || q.QueryID == "" {
		t.Fatalf("startQuery: %d %+v", got, q)
	}
	var res struct {
		Status  string
		Columns []string
		Rows    [][]struct{ Field, Value string }
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		call(t, srv, ck, "queryResults", map[string]string{"queryId": q.QueryID}, &res)
		if res.Status != "Running" && res.Status != "Scheduled" || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	// 3 ACCEPT records of 40 bytes, 2 REJECT.
	want := "action=ACCEPT records=3 bytes=120 | action=REJECT records=2 bytes=80"
	var rows []string
	for _, row := range res.Rows {
		var f []string
		for _, x := range row {
			f = append(f, x.Field+"="+x.Value)
		}
		rows = append(rows, strings.Join(f, " "))
	}
	if res.Status != "Complete" || strings.Join(res.Columns, ",") != "action,records,bytes" || strings.Join(rows, " | ") != want {
		t.Errorf("query: %s %v %q, want Complete [action records bytes] %q", res.Status, res.Columns, strings.Join(rows, " | "), want)
	}
	var e struct{ Error apiError }
	if got := call(t, srv, ck, "startQuery", map[string]any{"groups": []string{"/g"}, "query": "stats count(*) by"}, &e); got != 400 || e.Error.Code != "MalformedQueryException" {
		t.Errorf("a bad query: %d %+v", got, e.Error)
	}
}
