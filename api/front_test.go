package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logstypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"

	"github.com/vpcflow/vpcflow/api/sigv4"
	"github.com/vpcflow/vpcflow/internal/reporter"
	"github.com/vpcflow/vpcflow/region"
)

const (
	testKey    = "AKIATESTFRONT"
	testSecret = "front-secret"
)

// startPing runs a region of the ping example (eu-west-1) behind a front
// and returns its address.
func startPing(t *testing.T) string {
	t.Helper()
	cfg := region.DefaultConfiguration()
	cfg.DataDir, cfg.TopologyFile = t.TempDir(), "../examples/ping.yaml"
	r, err := region.New(cfg, region.Dependencies{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Stop() })
	ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Configuration{Listener: ln}, Dependencies{Region: r, Reporter: reporter.New(nil),
		Credentials: sigv4.StaticCredentials{testKey: testSecret}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Stop() })
	return c.Addr()
}

// TestIAMThroughSDK drives every IAM action through aws-sdk-go-v2's IAM
// client, which signs for us-east-1 as IAM is global, against a service
// in eu-west-1.
func TestIAMThroughSDK(t *testing.T) {
	addr := startPing(t)
	c := iam.New(iam.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://" + addr),
		Credentials: credentials.NewStaticCredentialsProvider(testKey, testSecret, "")})
	ctx := context.Background()
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"vpc-flow-logs.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	out, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("flowlogs"), AssumeRolePolicyDocument: aws.String(trust),
		Description: aws.String("for flow logs"), Tags: []iamtypes.Tag{{Key: aws.String("team"), Value: aws.String("net")}}})
	if err != nil {
		t.Fatal(err)
	}
	// The ping example's account; the SDK decodes the document IAM sends URL-encoded.
	if r := out.Role; aws.ToString(r.Arn) != "arn:aws:iam::111122223333:role/flowlogs" || aws.ToString(r.Path) != "/" ||
		aws.ToString(r.Description) != "for flow logs" || !strings.HasPrefix(aws.ToString(r.RoleId), "AROA") {
		t.Errorf("CreateRole: %+v", r)
	}
	got, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("flowlogs")})
	if err != nil {
		t.Fatal(err)
	}
	if doc, _ := url.QueryUnescape(aws.ToString(got.Role.AssumeRolePolicyDocument)); doc != trust {
		t.Errorf("GetRole trust policy %q, want %q", doc, trust)
	}
	list, err := c.ListRoles(ctx, &iam.ListRolesInput{})
	if err != nil || len(list.Roles) != 1 || list.IsTruncated {
		t.Errorf("ListRoles: %+v %v", list, err)
	}
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"logs:PutLogEvents","Resource":"*"}]}`
	if _, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("flowlogs"), PolicyName: aws.String("logs"), PolicyDocument: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}
	gp, err := c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("flowlogs"), PolicyName: aws.String("logs")})
	if err != nil {
		t.Fatal(err)
	}
	if doc, _ := url.QueryUnescape(aws.ToString(gp.PolicyDocument)); doc != policy {
		t.Errorf("GetRolePolicy %q", doc)
	}
	lp, err := c.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String("flowlogs")})
	if err != nil || len(lp.PolicyNames) != 1 || lp.PolicyNames[0] != "logs" {
		t.Errorf("ListRolePolicies: %+v %v", lp, err)
	}
	// Deleting a role with a policy left: DeleteConflict (409).
	_, err = c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("flowlogs")})
	wantAPIError(t, err, "DeleteConflict")
	if _, err := c.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("flowlogs"), PolicyName: aws.String("logs")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("flowlogs")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("flowlogs")})
	wantAPIError(t, err, "NoSuchEntity")
	_, err = c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("x"), AssumeRolePolicyDocument: aws.String("{not json")})
	wantAPIError(t, err, "MalformedPolicyDocument")
}

func wantAPIError(t *testing.T, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Errorf("got %v, want %s", err, code)
	}
}

// send posts a form, signed (unless secret is "") at the given time, and
// returns the status and the error code of the answer ("" when none).
func send(t *testing.T, addr, form, service, secret string, at time.Time) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/", strings.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	if secret != "" {
		sum := sha256.Sum256([]byte(form))
		creds := aws.Credentials{AccessKeyID: testKey, SecretAccessKey: secret}
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), service, "eu-west-1", at); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var doc struct {
		Code  string `xml:"Errors>Error>Code"`
		Code2 string `xml:"Error>Code"`
	}
	xml.Unmarshal(body, &doc)
	return resp.StatusCode, doc.Code + doc.Code2
}

// TestBadRequests: what a new user gets wrong is answered with AWS's code
// and status, and the server goes on serving.
func TestBadRequests(t *testing.T) {
	addr := startPing(t)
	now := time.Now()
	vpcs := "Action=DescribeVpcs&Version=2016-11-15"
	tests := []struct {
		name, form, service, secret string
		at                          time.Time
		status                      int
		code                        string
	}{
		{"unsigned", vpcs, "ec2", "", now, 401, "MissingAuthenticationToken"},
		{"wrong secret", vpcs, "ec2", "not-the-secret", now, 401, "AuthFailure"},
		{"clock 16 min behind", vpcs, "ec2", testSecret, now.Add(-16 * time.Minute), 400, "RequestExpired"},
		{"unknown action", "Action=DescribeEverything&Version=2016-11-15", "ec2", testSecret, now, 400, "InvalidAction"},
		{"missing parameter", "Action=DeleteFlowLogs&Version=2016-11-15", "ec2", testSecret, now, 400, "MissingParameter"},
		{"bad enum", "Action=CreateFlowLogs&Version=2016-11-15&ResourceType=VPC&ResourceId.1=vpc-0a1b2c3d4e5f60001&TrafficType=ANY&LogDestinationType=s3&LogDestination=arn:aws:s3:::b", "ec2", testSecret, now, 400, "InvalidParameterValue"},
		{"malformed form", vpcs + "&Filter.1.Name=%zz", "ec2", testSecret, now, 400, "MalformedQueryString"},
		{"repeated parameter", vpcs + "&Action=DescribeVpcs", "ec2", testSecret, now, 400, "MalformedQueryString"},
		{"unknown VPC", vpcs + "&VpcId.1=vpc-0000000000000000f", "ec2", testSecret, now, 400, "InvalidVpcID.NotFound"},
		{"oversized body", vpcs + "&Padding=" + strings.Repeat("a", MaxBodyBytes), "ec2", testSecret, now, 413, "RequestEntityTooLarge"},
		{"IAM wrong secret", "Action=ListRoles&Version=2010-05-08", "iam", "not-the-secret", now, 403, "SignatureDoesNotMatch"},
		{"IAM missing role name", "Action=GetRole&Version=2010-05-08", "iam", testSecret, now, 400, "ValidationError"},
	}
	for _, tt := range tests {
		status, code := send(t, addr, tt.form, tt.service, tt.secret, tt.at)
		if status != tt.status || code != tt.code {
			t.Errorf("%s: %d %s, want %d %s", tt.name, status, code, tt.status, tt.code)
		}
	}
	// The same flow log twice, then more than AWS's quota of 50 flow logs
	// on one VPC.
	create := func(bucket string) (int, string) {
		return send(t, addr, "Action=CreateFlowLogs&Version=2016-11-15&ResourceType=VPC&ResourceId.1=vpc-0a1b2c3d4e5f60001&TrafficType=ALL&LogDestinationType=s3&LogDestination=arn:aws:s3:::"+bucket, "ec2", testSecret, time.Now())
	}
	if status, code := create("b0"); status != 200 || code != "" {
		t.Fatalf("create: %d %s", status, code)
	}
	if status, code := create("b0"); status != 400 || code != "FlowLogAlreadyExists" {
		t.Errorf("duplicate flow log: %d %s", status, code)
	}
	for i := 1; i < 50; i++ {
		if status, code := create(fmt.Sprintf("b%d", i)); status != 200 {
			t.Fatalf("create %d: %d %s", i, status, code)
		}
	}
	if status, code := create("b50"); status != 400 || code != "FlowLogsLimitExceeded" {
		t.Errorf("the 51st flow log of a VPC: %d %s", status, code)
	}
	if status, code := send(t, addr, vpcs, "ec2", testSecret, time.Now()); status != 200 || code != "" {
		t.Errorf("a good request after the bad ones: %d %s", status, code)
	}
}

// TestLogsThroughFront: the CloudWatch Logs JSON protocol through the
// front, signed for "logs" by aws-sdk-go-v2's client.
func TestLogsThroughFront(t *testing.T) {
	addr := startPing(t)
	c := cloudwatchlogs.New(cloudwatchlogs.Options{Region: "eu-west-1", BaseEndpoint: aws.String("http://" + addr),
		Credentials: credentials.NewStaticCredentialsProvider(testKey, testSecret, "")})
	ctx := context.Background()
	if _, err := c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("/vpc/flows")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("/vpc/flows"), LogStreamName: aws.String("eni-1-all")}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UnixMilli()
	if _, err := c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("/vpc/flows"), LogStreamName: aws.String("eni-1-all"),
		LogEvents: []logstypes.InputLogEvent{{Timestamp: aws.Int64(now), Message: aws.String("2 111122223333 eni-1 10.0.0.1 10.0.0.2 1 22 6 1 40 1 2 REJECT OK")}}}); err != nil {
		t.Fatal(err)
	}
	out, err := c.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/vpc/flows"), FilterPattern: aws.String("REJECT")})
	if err != nil || len(out.Events) != 1 || aws.ToInt64(out.Events[0].Timestamp) != now {
		t.Fatalf("FilterLogEvents: %+v %v", out, err)
	}
	_, err = c.DescribeLogStreams(ctx, &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String("/vpc/none")})
	wantAPIError(t, err, "ResourceNotFoundException")
	// The ping example's region: the group's ARN says eu-west-1 and the account.
	groups, err := c.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{})
	if err != nil || len(groups.LogGroups) != 1 || aws.ToString(groups.LogGroups[0].Arn) != "arn:aws:logs:eu-west-1:111122223333:log-group:/vpc/flows:*" {
		t.Errorf("DescribeLogGroups: %+v %v", groups, err)
	}
}
