package ec2_test

import (
	"context"
	"encoding/xml"
	"errors"
	"github.com/vpcflow/vpcflow/internal/sdktest"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	ec2sdk "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go"

	"github.com/vpcflow/vpcflow/api/ec2"
	"github.com/vpcflow/vpcflow/api/query"
	"github.com/vpcflow/vpcflow/iam"
	"github.com/vpcflow/vpcflow/internal/clock"
	"github.com/vpcflow/vpcflow/region"
)

// The handler must serve a real region.
var _ ec2.Backend = (*region.Region)(nil)

// The expected values in these tests are written by hand from the EC2 API
// reference (shapes, codes, messages), the VPC user guide (the default
// record format, ARN forms) and the example topology, never from the code
// under test.

// t0 has milliseconds, to see CreationTime keep them.
var t0 = time.Date(2024, 5, 1, 12, 0, 0, 123456789, time.UTC)

// Ids of examples/topology.yaml.
const (
	account   = "111122223333"
	vpcID     = "vpc-0f1e2d3c4b5a69788"
	pubSubnet = "subnet-0a1b2c3d4e5f00001"
	appSubnet = "subnet-0a1b2c3d4e5f00002"
	dbSubnet  = "subnet-0a1b2c3d4e5f00003"
	webENI    = "eni-0a00000000000000a"
	bastENI   = "eni-0b00000000000000b"
	natENI    = "eni-0c00000000000000c"
	appENI    = "eni-0d00000000000000d"
	dbENI     = "eni-0e00000000000000e"
	webSG     = "sg-0aaaaaaaaaaaaaaa1"
	appSG     = "sg-0aaaaaaaaaaaaaaa2"
	dbSG      = "sg-0aaaaaaaaaaaaaaa3"
	bastSG    = "sg-0aaaaaaaaaaaaaaa4"
	defACL    = "acl-0d1e2f3a4b5c60001"
	dbACL     = "acl-0d1e2f3a4b5c60002"
	pubRT     = "rtb-0a1b2c3d4e5f60001"
	mainRT    = "rtb-0a1b2c3d4e5f60002"
	// AWS's default flow log format (VPC user guide, "Flow log records").
	defaultFormat = "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}"
)

type rig struct {
	r   *region.Region
	clk *clock.Fake
	srv *httptest.Server
	c   *ec2sdk.Client
	// wrap, when set, stands between the handler and the region.
	wrap func(ec2.Backend) ec2.Backend
}

// newRig runs a region over a topology file (no traffic source) behind an
// HTTP server that does what the front does: read the body, decode it with
// package query, call Serve.
func newRig(t *testing.T, topoPath string, wrap func(ec2.Backend) ec2.Backend) *rig {
	t.Helper()
	return newRigIn(t, t.TempDir(), topoPath, wrap)
}

// newRigIn is newRig over the data dir dir: a second rig on the dir of a
// stopped one is the service restarted.
func newRigIn(t *testing.T, dir, topoPath string, wrap func(ec2.Backend) ec2.Backend) *rig {
	t.Helper()
	g := &rig{clk: clock.NewFake(t0), wrap: wrap}
	cfg := region.DefaultConfiguration()
	cfg.DataDir, cfg.TopologyFile = dir, topoPath
	r, err := region.New(cfg, region.Dependencies{Clock: g.clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Stop() })
	g.r = r
	createFlowLogsRole(t, r)
	var b ec2.Backend = r
	if wrap != nil {
		b = wrap(r)
	}
	h := ec2.New(b)
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			t.Error(err)
			return
		}
		q, err := query.Parse(req, body)
		if err != nil {
			var e *query.Error
			errors.As(err, &e)
			ec2.WriteError(w, e.Status, e.Code, e.Message, "req-test")
			return
		}
		h.Serve(w, q, "req-test")
	}))
	t.Cleanup(g.srv.Close)
	g.c = ec2sdk.New(ec2sdk.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(g.srv.URL),
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		HTTPClient:       sdktest.HTTPClient(),
		RetryMaxAttempts: 1,
	})
	return g
}

// flowLogsRole is the role the CloudWatch Logs flow logs of the tests name.
const flowLogsRole = "arn:aws:iam::111122223333:role/flow-logs"

// createFlowLogsRole creates flowLogsRole, trusted by the flow-logs service
// as the VPC user guide's example role is: a region that keeps IAM roles
// refuses a CloudWatch Logs flow log whose role the service cannot assume.
func createFlowLogsRole(t *testing.T, r *region.Region) {
	t.Helper()
	withIAM, ok := any(r).(interface{ IAM() *iam.Store })
	if !ok {
		return
	}
	if _, err := withIAM.IAM().GetRole("flow-logs"); err == nil {
		return // a restarted service keeps its roles
	}
	const trust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"vpc-flow-logs.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	if _, err := withIAM.IAM().CreateRole(iam.CreateRoleInput{RoleName: "flow-logs", AssumeRolePolicyDocument: trust}); err != nil {
		t.Fatal(err)
	}
}

// writeTopology writes a topology file for a test.
func writeTopology(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "topology.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

var ctx = context.Background()

// raw posts a form and returns the status and body.
func (g *rig) raw(t *testing.T, form string) (int, string) {
	t.Helper()
	resp, err := http.Post(g.srv.URL, "application/x-www-form-urlencoded; charset=utf-8", strings.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func form(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v.Encode()
}

// wantAPIError checks an error the SDK parsed from EC2's error document.
func wantAPIError(t *testing.T, err error, status int, code, msgPart string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v, want API error %s", err, code)
	}
	if ae.ErrorCode() != code || !strings.Contains(ae.ErrorMessage(), msgPart) {
		t.Fatalf("error %s %q, want %s containing %q", ae.ErrorCode(), ae.ErrorMessage(), code, msgPart)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != status {
		t.Fatalf("error %v: HTTP status, want %d", err, status)
	}
	if re.ServiceRequestID() != "req-test" {
		t.Errorf("request id %q", re.ServiceRequestID())
	}
}

// wantErrorDoc checks a raw error document.
func wantErrorDoc(t *testing.T, status int, body string, wantStatus int, code, msg string) {
	t.Helper()
	var esc strings.Builder
	xml.EscapeText(&esc, []byte(msg))
	want := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<Response><Errors><Error><Code>` + code + `</Code><Message>` + esc.String() + `</Message></Error></Errors><RequestID>req-test</RequestID></Response>`
	if status != wantStatus || body != want {
		t.Fatalf("got %d\n%s\nwant %d\n%s", status, body, wantStatus, want)
	}
}
