package cwapi_test

import (
	"context"
	"errors"
	"fmt"
	"github.com/vpcflow/vpcflow/internal/sdktest"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/smithy-go"

	"github.com/vpcflow/vpcflow/api/cwapi"
	"github.com/vpcflow/vpcflow/api/query"
	"github.com/vpcflow/vpcflow/internal/clock"
	"github.com/vpcflow/vpcflow/logstore"
	"github.com/vpcflow/vpcflow/logsvc"
	"github.com/vpcflow/vpcflow/metricfilter"
)

// The expected values in these tests are written by hand from the
// CloudWatch API reference (members, limits, error codes), the CloudWatch
// user guide and the VPC flow log record format, never taken from the code
// under test.

const (
	account = "123456789012"
	region  = "us-east-1"
	reqID   = "7f4e1c2a-9b3d-4e5f-8a6b-0123456789ab"
	group   = "/vpc/flows"
	stream  = "eni-0a1b2c3d4e5f60718-all"
)

// t0 is the service's clock when a test starts: 2026-12-07T17:00:00Z.
var t0 = time.Date(2026, 12, 7, 17, 0, 0, 0, time.UTC)

var ctx = context.Background()

type rig struct {
	svc *logsvc.Service
	clk *clock.Fake
	srv *httptest.Server
	c   *cw.Client
}

// newRig opens a log service on a temporary data dir, with a log group and
// the rejected-SSH metric filter, behind an HTTP server that does what the
// front does once a request is authenticated: a Smithy-Protocol request
// goes to ServeCBOR with the operation of its path, a form to Serve.
func newRig(t testing.TB) *rig {
	t.Helper()
	g := &rig{clk: clock.NewFake(t0)}
	svc, err := logsvc.Open(t.TempDir(), logsvc.Options{Identity: logsvc.Identity{Account: account, Region: region},
		Store: logstore.Options{Now: g.clk.Now}})
	if err != nil {
		t.Fatal(err)
	}
	g.svc = svc
	t.Cleanup(func() { svc.Close() })
	if err := svc.CreateLogGroup(group, logstore.GroupOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := svc.CreateLogStream(group, stream); err != nil {
		t.Fatal(err)
	}
	if err := svc.PutMetricFilter(sshFilter()); err != nil {
		t.Fatal(err)
	}
	h := cwapi.New(svc)
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Error(err)
			return
		}
		if target := r.Header.Get("X-Amz-Target"); target != "" {
			h.ServeJSON(w, strings.TrimPrefix(target, cwapi.TargetPrefix+"."), body, reqID)
			return
		}
		if r.Header.Get("Smithy-Protocol") != "" {
			op, _ := strings.CutPrefix(r.URL.Path, "/service/"+cwapi.ServiceID+"/operation/")
			h.ServeCBOR(w, op, body, reqID)
			return
		}
		req, err := query.Parse(r, body)
		if err != nil {
			var qe *query.Error
			errors.As(err, &qe)
			cwapi.WriteError(w, qe.Status, qe.Code, qe.Message, reqID)
			return
		}
		h.Serve(w, req, reqID)
	}))
	t.Cleanup(g.srv.Close)
	g.c = cw.New(cw.Options{Region: region, BaseEndpoint: aws.String(g.srv.URL),
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		HTTPClient:       sdktest.HTTPClient(),
		RetryMaxAttempts: 1}) // an error is the answer under test, not a reason to retry
	return g
}

// sshPattern is the user guide's filter for rejected SSH in default-format
// flow log records.
const sshPattern = `[version, account, eni, source, destination, srcport, destport="22", protocol="6", packets, bytes, windowstart, windowend, action="REJECT", flowlogstatus]`

func sshFilter() metricfilter.Definition {
	return metricfilter.Definition{LogGroupName: group, FilterName: "ssh-rejects", FilterPattern: sshPattern,
		MetricTransformations: []metricfilter.Transformation{{MetricName: "SSHRejects", MetricNamespace: "VPCFlow", MetricValue: "1", Unit: "Count"}}}
}

// record is a default-format (version 2) flow log record for traffic from
// src to 10.1.2.15 on dport over TCP, starting at start.
func record(src string, dport int, action string, start time.Time) string {
	return fmt.Sprintf("2 %s eni-0a1b2c3d4e5f60718 %s 10.1.2.15 40001 %d 6 1 60 %d %d %s OK",
		account, src, dport, start.Unix(), start.Unix()+30, action)
}

// put stores flow log records through PutLogEvents, one event per record,
// each at the record's window start.
func (g *rig) put(t *testing.T, recs ...string) {
	t.Helper()
	var evs []logstore.PutEvent
	for _, r := range recs {
		var start int64
		fmt.Sscanf(strings.Fields(r)[10], "%d", &start)
		evs = append(evs, logstore.PutEvent{Timestamp: start * 1000, Message: r})
	}
	if _, err := g.svc.PutLogEvents(group, stream, evs); err != nil {
		t.Fatal(err)
	}
}

// apiErr checks err's code and message as the SDK reports them.
func apiErr(t *testing.T, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want %s %q, got %v", code, msg, err)
	}
	if ae.ErrorCode() != code || msg != "" && ae.ErrorMessage() != msg {
		t.Fatalf("want %s %q,\n got %s %q", code, msg, ae.ErrorCode(), ae.ErrorMessage())
	}
}

// form posts a Query request and returns the status and body.
func (g *rig) form(t *testing.T, params ...string) (int, string) {
	t.Helper()
	v := url.Values{"Version": {"2010-08-01"}}
	for i := 0; i+1 < len(params); i += 2 {
		v.Set(params[i], params[i+1])
	}
	resp, err := http.Post(g.srv.URL+"/", "application/x-www-form-urlencoded; charset=utf-8", strings.NewReader(v.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// alarm is a PutMetricAlarm on the SSH metric: Sum >= threshold over one
// period of 60 s.
func alarm(name string, threshold float64) *cw.PutMetricAlarmInput {
	return &cw.PutMetricAlarmInput{AlarmName: aws.String(name), Namespace: aws.String("VPCFlow"), MetricName: aws.String("SSHRejects"),
		Statistic: "Sum", Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(threshold),
		ComparisonOperator: "GreaterThanOrEqualToThreshold"}
}

// setClock moves the service's clock forward to t.
func (g *rig) setClock(t time.Time) { g.clk.Advance(t.Sub(g.clk.Now())) }
