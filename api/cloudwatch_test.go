package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"github.com/vpcflow/vpcflow/internal/sdktest"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// TestCloudWatchThroughFront: CloudWatch through the front in its three
// protocols. aws-sdk-go-v2's client speaks Smithy RPC v2 CBOR on
// /service/GraniteServiceVersion20100801/operation/<Action>, signed for
// "monitoring"; awscli 2.9's Query forms are told apart by their signing
// name or, unsigned, by Version=2010-08-01, and answered in CloudWatch's
// XML error format; current botocore's AWS JSON 1.0 by X-Amz-Target.
func TestCloudWatchThroughFront(t *testing.T) {
	addr := startPing(t)
	c := cloudwatch.New(cloudwatch.Options{Region: "eu-west-1", BaseEndpoint: aws.String("http://" + addr), RetryMaxAttempts: 1, HTTPClient: sdktest.HTTPClient(),
		Credentials: credentials.NewStaticCredentialsProvider(testKey, testSecret, "")})
	ctx := context.Background()
	if _, err := c.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("ssh-rejects"), Namespace: aws.String("VPCFlow"),
		MetricName: aws.String("SSHRejects"), Statistic: cwtypes.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1),
		Threshold: aws.Float64(1), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold,
		AlarmActions: []string{"arn:aws:sns:eu-west-1:111122223333:ops"}}); err != nil {
		t.Fatal(err)
	}
	out, err := c.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{})
	// The ping example's account and region.
	if err != nil || len(out.MetricAlarms) != 1 || aws.ToString(out.MetricAlarms[0].AlarmArn) != "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:ssh-rejects" {
		t.Fatalf("DescribeAlarms: %+v %v", out, err)
	}
	// A topic of another region is refused as CloudWatch refuses it.
	_, err = c.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("x"), Namespace: aws.String("VPCFlow"),
		MetricName: aws.String("SSHRejects"), Statistic: cwtypes.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1),
		Threshold: aws.Float64(1), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold,
		AlarmActions: []string{"arn:aws:sns:us-east-1:111122223333:ops"}})
	wantAPIError(t, err, "ValidationError")
	// Errors carry the request id and the model's status.
	_, err = c.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{"nope"}})
	wantAPIError(t, err, "ResourceNotFound")
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusNotFound || re.ServiceRequestID() == "" {
		t.Errorf("DeleteAlarms error: %v", err)
	}
	// A wrong secret: CloudWatch's Query code, reported by the CBOR client
	// from X-Amzn-Query-Error.
	bad := cloudwatch.New(cloudwatch.Options{Region: "eu-west-1", BaseEndpoint: aws.String("http://" + addr), RetryMaxAttempts: 1, HTTPClient: sdktest.HTTPClient(),
		Credentials: credentials.NewStaticCredentialsProvider(testKey, "not-the-secret", "")})
	_, err = bad.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{})
	wantAPIError(t, err, "SignatureDoesNotMatch")

	form := "Action=DescribeAlarms&Version=2010-08-01&AlarmNames.member.1=ssh-rejects"
	for _, tt := range []struct {
		name, form, service, secret string
		status                      int
		code                        string
	}{
		{"signed form", form, "monitoring", testSecret, 200, ""},
		{"unsigned form", form, "", "", 403, "MissingAuthenticationToken"},
		{"wrong secret", form, "monitoring", "not-the-secret", 403, "SignatureDoesNotMatch"},
		{"unknown action", "Action=PutDashboard&Version=2010-08-01", "monitoring", testSecret, 400, "InvalidAction"},
		{"missing member", "Action=SetAlarmState&Version=2010-08-01&AlarmName=ssh-rejects", "monitoring", testSecret, 400, "ValidationError"},
		{"unknown alarm", "Action=DeleteAlarms&Version=2010-08-01&AlarmNames.member.1=nope", "monitoring", testSecret, 404, "ResourceNotFound"},
	} {
		if status, code := send(t, addr, tt.form, tt.service, tt.secret, time.Now()); status != tt.status || code != tt.code {
			t.Errorf("%s: %d %s, want %d %s", tt.name, status, code, tt.status, tt.code)
		}
	}
	// An unsigned request names its service by Version: the error is
	// CloudWatch's document.
	resp, err := http.Post("http://"+addr+"/", "application/x-www-form-urlencoded", strings.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `<ErrorResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"><Error><Type>Sender</Type><Code>MissingAuthenticationToken</Code>`) {
		t.Errorf("unsigned: %s", b)
	}
	// A Smithy RPC v2 path that names no operation.
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/service/GraniteServiceVersion20100801/", nil)
	req.Header.Set("Smithy-Protocol", "rpc-v2-cbor")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Content-Type") != "application/cbor" || resp.Header.Get("X-Amzn-Query-Error") != "MissingAuthenticationToken;Sender" {
		t.Errorf("RPC path without operation: %d %v", resp.StatusCode, resp.Header)
	}
	// AWS JSON 1.0, as botocore speaks it to CloudWatch: X-Amz-Target
	// names the service when the signature does not.
	for _, tt := range []struct {
		name, secret, target, body string
		status                     int
		want                       string
	}{
		{"signed JSON", testSecret, "GraniteServiceVersion20100801.DescribeAlarms", `{"AlarmNames":["ssh-rejects"]}`, 200, `"AlarmName":"ssh-rejects"`},
		{"unsigned JSON", "", "GraniteServiceVersion20100801.DescribeAlarms", `{}`, 403, `"__type":"com.amazonaws.cloudwatch#MissingAuthenticationToken"`},
		{"JSON error", testSecret, "GraniteServiceVersion20100801.DeleteAlarms", `{"AlarmNames":["nope"]}`, 404, `"message":"The following alarms were not found: [nope]"`},
	} {
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/", strings.NewReader(tt.body))
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		req.Header.Set("X-Amz-Target", tt.target)
		if tt.secret != "" {
			sum := sha256.Sum256([]byte(tt.body))
			creds := aws.Credentials{AccessKeyID: testKey, SecretAccessKey: tt.secret}
			if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "monitoring", "eu-west-1", time.Now()); err != nil {
				t.Fatal(err)
			}
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status || resp.Header.Get("Content-Type") != "application/x-amz-json-1.0" || !strings.Contains(string(b), tt.want) {
			t.Errorf("%s: %d %s %s", tt.name, resp.StatusCode, resp.Header.Get("Content-Type"), b)
		}
	}
	// Counted in /metrics like the other services.
	resp, err = http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`vpcflow_api_requests_total{action="DescribeAlarms",service="monitoring",status="200"}`,
		`vpcflow_api_requests_total{action="DeleteAlarms",service="monitoring",status="404"}`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
