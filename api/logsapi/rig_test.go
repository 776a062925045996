package logsapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"github.com/vpcflow/vpcflow/internal/sdktest"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/smithy-go"

	"github.com/vpcflow/vpcflow/api/logsapi"
	"github.com/vpcflow/vpcflow/internal/clock"
	"github.com/vpcflow/vpcflow/logstore"
	"github.com/vpcflow/vpcflow/logsvc"
)

// The expected values in these tests are written by hand from the
// CloudWatch Logs API reference (request and response members, error
// codes), the CloudWatch Logs user guide (filter pattern examples) and the
// service model's constraints, never taken from the code under test.

const (
	account = "123456789012"
	region  = "us-east-1"
	reqID   = "5d8a4a43-1b8e-4a1c-9a2d-0123456789ab"
)

// t0 is the service's clock at the start of each test: PutLogEvents' age
// limits are measured from it.
var t0 = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// ms is t0 plus d in epoch milliseconds.
func ms(d time.Duration) int64 { return t0.Add(d).UnixMilli() }

type rig struct {
	dir string
	o   rigOpts
	svc *logsvc.Service
	clk *clock.Fake
	srv *httptest.Server
	c   *cwl.Client

	mu   sync.Mutex
	last http.Header // request headers of the last request
}

type rigOpts struct {
	maxRunning int // logsvc.Options.MaxRunningQueries
	workers    int // logsvc.Options.QueryWorkers
}

// newRig opens a real log service on a temporary data dir behind an HTTP
// server that does what the front does once a request is authenticated:
// read the body, take the action from X-Amz-Target, call Serve.
func newRig(t testing.TB, o rigOpts) *rig {
	t.Helper()
	g := &rig{dir: t.TempDir(), o: o, clk: clock.NewFake(t0)}
	g.open(t)
	return g
}

// open opens the service on the rig's data dir and serves it.
func (g *rig) open(t testing.TB) {
	t.Helper()
	svc, err := logsvc.Open(g.dir, logsvc.Options{
		Identity:          logsvc.Identity{Account: account, Region: region},
		Store:             logstore.Options{Now: g.clk.Now},
		MaxRunningQueries: g.o.maxRunning, QueryWorkers: g.o.workers,
	})
	if err != nil {
		t.Fatal(err)
	}
	g.svc = svc
	t.Cleanup(func() { svc.Close() })
	h := logsapi.New(svc)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		g.last = r.Header.Clone()
		g.mu.Unlock()
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Error(err)
			return
		}
		action, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), logsapi.TargetPrefix)
		if !ok {
			action = ""
		}
		h.Serve(w, action, body, reqID)
	}))
	g.srv = srv
	t.Cleanup(srv.Close)
	g.c = cwl.New(cwl.Options{
		Region:           region,
		BaseEndpoint:     aws.String(g.srv.URL),
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		HTTPClient:       sdktest.HTTPClient(),
		RetryMaxAttempts: 1, // an error is the answer under test, not a reason to retry
	})
}

// restart stops serving, closes the data dir as `vpcflow serve` does when
// it stops, and opens and serves it again: what a client sees afterwards
// is what the data dir kept.
func (g *rig) restart(t testing.TB) {
	t.Helper()
	g.srv.Close()
	if err := g.svc.Close(); err != nil {
		t.Fatal(err)
	}
	g.open(t)
}

var ctx = context.Background()

// apiErr checks that err is the service error code with the message.
func apiErr(t *testing.T, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want %s %q, got %v", code, msg, err)
	}
	if ae.ErrorCode() != code || ae.ErrorMessage() != msg {
		t.Fatalf("want %s %q,\n got %s %q", code, msg, ae.ErrorCode(), ae.ErrorMessage())
	}
}

// apiCode checks only the code, for errors whose text is not AWS's to give.
func apiCode(t *testing.T, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("want %s, got %v", code, err)
	}
}

// raw is one request sent by hand, for what the SDK would refuse to send.
type raw struct {
	status int
	header http.Header
	body   map[string]any
	text   string
}

func (g *rig) post(t *testing.T, target, body string) raw {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, g.srv.URL+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := raw{status: resp.StatusCode, header: resp.Header, text: string(b)}
	if err := json.Unmarshal(b, &out.body); err != nil {
		t.Fatalf("%s: answer is not a JSON object: %v: %q", target, err, b)
	}
	return out
}

// wantError checks a hand-sent request's error document.
func (r raw) wantError(t *testing.T, status int, code, msg string) {
	t.Helper()
	if r.status != status || r.body["__type"] != code || r.header.Get("X-Amzn-ErrorType") != code {
		t.Fatalf("want %d %s, got %d %v (X-Amzn-ErrorType %q)", status, code, r.status, r.text, r.header.Get("X-Amzn-ErrorType"))
	}
	if msg != "" && r.body["message"] != msg {
		t.Fatalf("want message %q,\n got %q", msg, r.body["message"])
	}
}

// mkGroup creates a group and its streams.
func (g *rig) mkGroup(t *testing.T, group string, streams ...string) {
	t.Helper()
	if _, err := g.c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String(group)}); err != nil {
		t.Fatal(err)
	}
	for _, s := range streams {
		if _, err := g.c.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String(s)}); err != nil {
			t.Fatal(err)
		}
	}
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }
