package sigv4

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"
)

// Minimal answers of each protocol, enough for the SDKs and awscli to parse
// a success or an error: the codes they print come from these bodies.
func respondAWS(w http.ResponseWriter, r *http.Request, res *Result, err error) {
	esc := func(s string) string {
		var b strings.Builder
		xml.EscapeText(&b, []byte(s))
		return b.String()
	}
	service := ServiceOf(r)
	var e *Error
	if errors.As(err, &e) {
		w.WriteHeader(e.Status)
		switch service {
		case "ec2":
			fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors><RequestID>req-1</RequestID></Response>`, e.Code, esc(e.Message))
		case "logs":
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			fmt.Fprintf(w, `{"__type":%q,"message":%q}`, e.Code, e.Message)
		default:
			fmt.Fprintf(w, `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>req-1</RequestId></ErrorResponse>`, e.Code, esc(e.Message))
		}
		return
	}
	switch res.Service {
	case "ec2":
		w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><DescribeFlowLogsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>req-1</requestId><flowLogSet/></DescribeFlowLogsResponse>`)
	case "iam":
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprint(w, `<ListUsersResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ListUsersResult><IsTruncated>false</IsTruncated><Users/></ListUsersResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></ListUsersResponse>`)
	case "logs":
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		fmt.Fprint(w, `{"logGroups":[]}`)
	default:
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, "ok")
	}
}

// aws-sdk-go-v2's own EC2 and IAM clients, with the real clock, are accepted,
// and a wrong secret comes back to them as the code AWS would send.
func TestSDKClients(t *testing.T) {
	srv := newVerifyServer(t, &Verifier{Creds: StaticCredentials{testKey: testSecret}, Region: "us-east-1"})
	srv.setRespond(respondAWS)
	ctx := context.Background()
	for _, c := range []struct {
		name   string
		secret string
		token  string
		fail   bool
	}{
		{name: "valid", secret: testSecret},
		{name: "valid with a session token", secret: testSecret, token: "IQoJb3JpZ2luX2VjEXAMPLE/+="},
		{name: "wrong secret", secret: "not-the-secret", fail: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			creds := credentials.NewStaticCredentialsProvider(testKey, c.secret, c.token)
			ec2c := ec2.New(ec2.Options{Region: "us-east-1", Credentials: creds, BaseEndpoint: aws.String(srv.URL), Retryer: aws.NopRetryer{}})
			_, err := ec2c.DescribeFlowLogs(ctx, &ec2.DescribeFlowLogsInput{Filter: []ec2types.Filter{
				{Name: aws.String("log-group-name"), Values: []string{"/vpc/café crème +/&=%"}},
			}})
			o := <-srv.out
			checkClient(t, "ec2", c.fail, err, o, "AuthFailure")

			iamc := iam.New(iam.Options{Region: "us-east-1", Credentials: creds, BaseEndpoint: aws.String(srv.URL), Retryer: aws.NopRetryer{}})
			_, err = iamc.ListUsers(ctx, &iam.ListUsersInput{PathPrefix: aws.String("/división/ a+b/")})
			o = <-srv.out
			checkClient(t, "iam", c.fail, err, o, "SignatureDoesNotMatch")
			if n := len(srv.out); n != 0 {
				t.Fatalf("the clients sent %d more requests (retries?)", n)
			}
		})
	}
}

func checkClient(t *testing.T, service string, wantFail bool, err error, o outcome, code string) {
	t.Helper()
	if !wantFail {
		if err != nil || o.err != nil {
			t.Fatalf("%s: client error %v, Verify error %v", service, err, o.err)
		}
		if o.res.Service != service || o.res.AccessKeyID != testKey {
			t.Fatalf("%s: got %+v", service, o.res)
		}
		return
	}
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != code {
		t.Fatalf("%s: client got %v, want API error %s", service, err, code)
	}
}

// awscliPath is Debian's awscli; the tests that run it skip without it.
const awscliPath = "/usr/bin/aws"

func needAwscli(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(awscliPath); err != nil {
		t.Skipf("awscli is not installed at %s (apt-get install awscli): %v", awscliPath, err)
	}
}

// awscli runs the real awscli with only the environment given (plus PATH and
// a HOME of its own, so no user configuration leaks in).
func awscli(t *testing.T, env []string, args ...string) (string, string, error) {
	t.Helper()
	home := t.TempDir()
	cmd := exec.Command(awscliPath, args...)
	cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"AWS_CONFIG_FILE=" + filepath.Join(home, "no-config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "no-credentials"),
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_PAGER=",
		"AWS_MAX_ATTEMPTS=1",
		"AWS_RETRY_MODE=standard",
	}, env...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return stdout.String(), stderr.String(), err
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		t.Fatalf("aws %v did not finish", args)
		return "", "", nil
	}
}

// The real awscli's requests (EC2 Query form bodies, IAM, CloudWatch Logs
// JSON) verify; signed with a wrong secret they fail, and awscli prints the
// code of that service.
func TestAwscli(t *testing.T) {
	needAwscli(t)
	srv := newVerifyServer(t, &Verifier{Creds: StaticCredentials{testKey: testSecret}, Region: "us-east-1"})
	srv.setRespond(respondAWS)
	commands := []struct {
		service string
		args    []string
		code    string
	}{
		{"ec2", []string{"ec2", "describe-flow-logs", "--filter", "Name=log-group-name,Values=/vpc/café crème +&%"}, "AuthFailure"},
		{"iam", []string{"iam", "list-users", "--path-prefix", "/división/ a+b/"}, "SignatureDoesNotMatch"},
		{"logs", []string{"logs", "describe-log-groups", "--log-group-name-prefix", "/vpc/café crème +/&="}, "InvalidSignatureException"},
	}
	for _, c := range commands {
		t.Run(c.service, func(t *testing.T) {
			args := append([]string{"--endpoint-url", srv.URL, "--region", "us-east-1", "--output", "json"}, c.args...)
			env := []string{"AWS_ACCESS_KEY_ID=" + testKey, "AWS_SECRET_ACCESS_KEY=" + testSecret}
			stdout, stderr, err := awscli(t, env, args...)
			o := <-srv.out
			if err != nil || o.err != nil {
				t.Fatalf("aws %s: %v; Verify: %v\nstdout: %s\nstderr: %s", strings.Join(c.args, " "), err, o.err, stdout, stderr)
			}
			if o.res.Service != c.service || o.res.AccessKeyID != testKey || o.res.Region != "us-east-1" || o.res.Presigned {
				t.Fatalf("got %+v", o.res)
			}

			env = []string{"AWS_ACCESS_KEY_ID=" + testKey, "AWS_SECRET_ACCESS_KEY=wrong-secret"}
			_, stderr, err = awscli(t, env, args...)
			o = <-srv.out
			if err == nil {
				t.Fatal("awscli succeeded with a wrong secret")
			}
			if o.err == nil {
				t.Fatal("Verify accepted a wrong secret")
			}
			if want := "An error occurred (" + c.code + ")"; !strings.Contains(stderr, want) {
				t.Fatalf("awscli printed %q, want it to contain %q", stderr, want)
			}
			if n := len(srv.out); n != 0 {
				t.Fatalf("awscli sent %d more requests (retries?)", n)
			}
		})
	}

	t.Run("s3 presign", func(t *testing.T) {
		env := []string{"AWS_ACCESS_KEY_ID=" + testKey, "AWS_SECRET_ACCESS_KEY=" + testSecret}
		stdout, stderr, err := awscli(t, env, "--endpoint-url", srv.URL, "--region", "us-east-1",
			"s3", "presign", "s3://bucket/caf\u00e9 cr\u00e8me/a+b.txt", "--expires-in", "600")
		if err != nil {
			t.Fatalf("aws s3 presign: %v\n%s", err, stderr)
		}
		u := strings.TrimSpace(stdout)
		if !strings.Contains(u, "X-Amz-Signature=") {
			t.Skipf("awscli presigned with another signature version: %s", u)
		}
		resp, err := srv.Client().Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		o := <-srv.out
		if o.err != nil {
			t.Fatalf("Verify of %s: %v", u, o.err)
		}
		if !o.res.Presigned || o.res.Service != "s3" {
			t.Fatalf("got %+v", o.res)
		}
	})
}
