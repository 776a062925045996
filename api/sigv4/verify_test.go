package sigv4

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

var signedAt = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// Requests signed by aws-sdk-go-v2's signer, of the shapes the SDKs and
// awscli send, verify and report who signed them for what.
func TestVerifyHeaderFormSDK(t *testing.T) {
	srv := newVerifyServer(t, fixedVerifier("us-east-1", signedAt.Add(30*time.Second)))
	form := []byte("Action=DescribeFlowLogs&Version=2016-11-15&Filter.1.Name=tag%3Anom&Filter.1.Value.1=caf%C3%A9%20cr%C3%A8me+%2B%2F%26%3D%25%7E%21%2A%27%28%29")
	json := []byte(`{"logGroupNamePrefix":"/vpc/café crème +/&="}`)
	cases := []struct {
		name    string
		service string
		method  string
		target  string
		body    []byte
		headers http.Header
		token   string
	}{
		{name: "GET with a query", service: "ec2", method: "GET", target: "/?Action=DescribeFlowLogs&Version=2016-11-15"},
		{name: "GET, non-ASCII, spaces and specials in path and query", service: "iam", method: "GET",
			target: "/caf%C3%A9/a%20b/x+y/%21%27%28%29%2A/~t/%25?name=caf%C3%A9&q=a%20b%2Bc%2F%26%3D&plus=a+b&empty=&k=v2&k=v1&%C3%A9=1"},
		{name: "POST form body", service: "ec2", method: "POST", target: "/", body: form,
			headers: http.Header{"Content-Type": {"application/x-www-form-urlencoded; charset=utf-8"}}},
		{name: "POST form body with X-Amz-Content-Sha256", service: "ec2", method: "POST", target: "/", body: form,
			headers: http.Header{"Content-Type": {"application/x-www-form-urlencoded; charset=utf-8"}, "X-Amz-Content-Sha256": {hashHex(form)}}},
		{name: "session token", service: "sts", method: "POST", target: "/", body: []byte("Action=GetCallerIdentity&Version=2011-06-15"),
			headers: http.Header{"Content-Type": {"application/x-www-form-urlencoded; charset=utf-8"}}, token: "FQoGZXIvYXdzEXAMPLE//token+with/slashes=="},
		{name: "JSON body", service: "logs", method: "POST", target: "/", body: json,
			headers: http.Header{"Content-Type": {"application/x-amz-json-1.1"}, "X-Amz-Target": {"Logs_20140328.DescribeLogGroups"}}},
		{name: "headers with inner spaces and repeated values", service: "iam", method: "GET", target: "/",
			headers: http.Header{"X-Amz-Meta-Note": {"  a   b  c "}, "X-Custom": {"one", "two"}}},
		{name: "S3 path, signed as sent", service: "s3", method: "PUT", target: "/bucket/caf%C3%A9%20cr%C3%A8me/a+b%21.txt", body: []byte("hello"),
			headers: http.Header{"X-Amz-Content-Sha256": {hashHex([]byte("hello"))}}},
		{name: "empty POST", service: "iam", method: "POST", target: "/", body: []byte{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := newRequest(t, c.method, srv.URL+c.target, c.body)
			for k, vs := range c.headers {
				req.Header[k] = vs
			}
			creds := testCreds()
			creds.SessionToken = c.token
			signWith(t, req, c.body, creds, c.service, "us-east-1", signedAt)
			o := srv.send(t, req)
			if o.err != nil {
				t.Fatalf("Verify: %v", o.err)
			}
			want := Result{AccessKeyID: testKey, Region: "us-east-1", Service: c.service, Time: signedAt}
			if *o.res != want {
				t.Fatalf("got %+v, want %+v", *o.res, want)
			}
		})
	}
}

// expected is an HTTP status and error code, per service, written out from
// the table in docs/api-auth.md.
type expected map[string]struct {
	status int
	code   string
}

var (
	wantSignature = expected{
		"ec2": {401, "AuthFailure"}, "iam": {403, "SignatureDoesNotMatch"},
		"logs": {400, "InvalidSignatureException"}, "s3": {403, "SignatureDoesNotMatch"},
	}
	wantUnknownKey = expected{
		"ec2": {401, "AuthFailure"}, "iam": {403, "InvalidClientTokenId"},
		"logs": {400, "UnrecognizedClientException"}, "s3": {403, "InvalidAccessKeyId"},
	}
	wantSkewed = expected{
		"ec2": {400, "RequestExpired"}, "iam": {403, "SignatureDoesNotMatch"},
		"logs": {400, "InvalidSignatureException"}, "s3": {403, "RequestTimeTooSkewed"},
	}
	wantScope = expected{
		"ec2": {401, "AuthFailure"}, "iam": {403, "SignatureDoesNotMatch"},
		"logs": {400, "InvalidSignatureException"}, "s3": {400, "AuthorizationHeaderMalformed"},
	}
	wantMalformed = expected{
		"ec2": {400, "IncompleteSignature"}, "iam": {400, "IncompleteSignature"},
		"logs": {400, "IncompleteSignatureException"}, "s3": {400, "AuthorizationHeaderMalformed"},
	}
	wantPayloadHash = expected{
		"ec2": {401, "AuthFailure"}, "iam": {403, "SignatureDoesNotMatch"},
		"logs": {400, "InvalidSignatureException"}, "s3": {400, "XAmzContentSHA256Mismatch"},
	}
	wantMissing = expected{
		"ec2": {401, "MissingAuthenticationToken"}, "iam": {403, "MissingAuthenticationToken"},
		"logs": {400, "MissingAuthenticationTokenException"}, "s3": {403, "AccessDenied"},
	}
)

// Every change to a signed request after signing, and every signing with
// the wrong key, region or clock, fails with the code of the scope's service.
func TestVerifyTampering(t *testing.T) {
	now := signedAt.Add(30 * time.Second)
	srv := newVerifyServer(t, fixedVerifier("us-east-1", now))
	bodyA := []byte("Action=DescribeFlowLogs&Version=2016-11-15&Filter.1.Value.1=a")
	bodyB := []byte("Action=DescribeFlowLogs&Version=2016-11-15&Filter.1.Value.1=b")

	type signing struct {
		key, secret, region, token string
		at                         time.Time
		contentHash                bool // send X-Amz-Content-Sha256
		extra                      http.Header
	}
	cases := []struct {
		name string
		// sign overrides the default signing; nil fields keep it.
		sign   func(*signing)
		mutate func(req *http.Request, body *[]byte)
		kind   Kind
		want   expected
		// s3Kind and s3Want replace kind and want for S3, whose requests
		// carry X-Amz-Content-Sha256.
		s3Kind Kind
		s3Want expected
	}{
		{name: "body changed", mutate: func(_ *http.Request, b *[]byte) { *b = bodyB },
			kind: KindSignature, want: wantSignature, s3Kind: KindPayloadHash, s3Want: wantPayloadHash},
		{name: "body changed under X-Amz-Content-Sha256", sign: func(s *signing) { s.contentHash = true },
			mutate: func(_ *http.Request, b *[]byte) { *b = bodyB }, kind: KindPayloadHash, want: wantPayloadHash},
		{name: "signed header changed", mutate: func(r *http.Request, _ *[]byte) { r.Header.Set("Content-Type", "text/plain") },
			kind: KindSignature, want: wantSignature},
		{name: "signed header removed", sign: func(s *signing) { s.extra = http.Header{"X-Custom": {"v"}} },
			mutate: func(r *http.Request, _ *[]byte) { r.Header.Del("X-Custom") }, kind: KindSignature, want: wantSignature},
		{name: "path changed", mutate: func(r *http.Request, _ *[]byte) { r.URL.Path += "x" },
			kind: KindSignature, want: wantSignature},
		{name: "query changed", mutate: func(r *http.Request, _ *[]byte) { r.URL.RawQuery = "a=2" },
			kind: KindSignature, want: wantSignature},
		{name: "query added", mutate: func(r *http.Request, _ *[]byte) { r.URL.RawQuery += "&b=1" },
			kind: KindSignature, want: wantSignature},
		{name: "host changed", mutate: func(r *http.Request, _ *[]byte) { r.Host = "other.example" },
			kind: KindSignature, want: wantSignature},
		{name: "wrong secret", sign: func(s *signing) { s.secret = testSecret + "x" },
			kind: KindSignature, want: wantSignature},
		{name: "unknown access key", sign: func(s *signing) { s.key = "AKIDUNKNOWN" },
			kind: KindUnknownKey, want: wantUnknownKey},
		{name: "wrong region", sign: func(s *signing) { s.region = "us-west-2" },
			kind: KindScope, want: wantScope},
		{name: "date changed within the day", mutate: func(r *http.Request, _ *[]byte) {
			r.Header.Set("X-Amz-Date", signedAt.Add(time.Second).Format("20060102T150405Z"))
		}, kind: KindSignature, want: wantSignature},
		{name: "date changed to another day", mutate: func(r *http.Request, _ *[]byte) {
			r.Header.Set("X-Amz-Date", signedAt.Add(-24*time.Hour).Format("20060102T150405Z"))
		}, kind: KindScope, want: wantScope},
		{name: "signed 16 minutes ago", sign: func(s *signing) { s.at = now.Add(-16 * time.Minute) },
			kind: KindSkewed, want: wantSkewed},
		{name: "signed 16 minutes ahead", sign: func(s *signing) { s.at = now.Add(16 * time.Minute) },
			kind: KindSkewed, want: wantSkewed},
		{name: "session token changed", sign: func(s *signing) { s.token = "token-one" },
			mutate: func(r *http.Request, _ *[]byte) { r.Header.Set("X-Amz-Security-Token", "token-two") },
			kind:   KindSignature, want: wantSignature},
		{name: "SignedHeaders missing", mutate: func(r *http.Request, _ *[]byte) {
			h := r.Header.Get("Authorization")
			i, j := strings.Index(h, " SignedHeaders="), strings.Index(h, " Signature=")
			r.Header.Set("Authorization", h[:i]+h[j:])
		}, kind: KindMalformed, want: wantMalformed},
		{name: "no authentication", mutate: func(r *http.Request, _ *[]byte) { r.Header.Del("Authorization") },
			kind: KindMissing, want: expected{"ec2": wantMissing["iam"], "iam": wantMissing["iam"], "logs": wantMissing["iam"], "s3": wantMissing["iam"]}},
	}
	for _, service := range []string{"ec2", "iam", "logs", "s3"} {
		for _, c := range cases {
			t.Run(service+"/"+c.name, func(t *testing.T) {
				s := signing{key: testKey, secret: testSecret, region: "us-east-1", at: signedAt, contentHash: service == "s3"}
				if c.sign != nil {
					c.sign(&s)
				}
				body := bodyA
				req := newRequest(t, "POST", srv.URL+"/?a=1", body)
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
				if s.contentHash {
					req.Header.Set("X-Amz-Content-Sha256", hashHex(body))
				}
				for k, vs := range s.extra {
					req.Header[k] = vs
				}
				signWith(t, req, body, aws.Credentials{AccessKeyID: s.key, SecretAccessKey: s.secret, SessionToken: s.token}, service, s.region, s.at)
				if c.mutate != nil {
					c.mutate(req, &body)
					req = withBody(t, req, body)
				}
				o := srv.send(t, req)
				kind, want := c.kind, c.want
				if service == "s3" && c.s3Kind != 0 {
					kind, want = c.s3Kind, c.s3Want
				}
				e := wantError(t, o.err, kind, want[service].status, want[service].code)
				if o.res != nil {
					t.Fatalf("a failed verification returned %+v", o.res)
				}
				wantService := service
				if kind == KindMissing {
					wantService = ""
				}
				if e.Service != wantService {
					t.Fatalf("Error.Service = %q, want %q", e.Service, wantService)
				}
			})
		}
	}
}

// withBody gives req body again (a mutation may have replaced it), keeping
// the signed Content-Length so that only the bytes differ.
func withBody(t testing.TB, req *http.Request, body []byte) *http.Request {
	t.Helper()
	n := newRequest(t, req.Method, req.URL.String(), body)
	n.Header = req.Header
	n.Host = req.Host
	if len(body) != int(req.ContentLength) {
		t.Fatalf("a mutated body must keep the signed length %d, has %d", req.ContentLength, len(body))
	}
	return n
}

// The messages of IAM/STS and S3 that tell what to fix, written out by hand.
func TestVerifyMessages(t *testing.T) {
	now := signedAt.Add(30 * time.Second) // 2026-03-04T05:06:37Z
	srv := newVerifyServer(t, fixedVerifier("us-east-1", now))
	send := func(service, region string, at time.Time, mutate func(*http.Request)) error {
		req := newRequest(t, "GET", srv.URL+"/", nil)
		signWith(t, req, nil, testCreds(), service, region, at)
		if mutate != nil {
			mutate(req)
		}
		return srv.send(t, req).err
	}
	cases := []struct {
		name string
		err  error
		msg  string
	}{
		{"past", send("sts", "us-east-1", now.Add(-16*time.Minute), nil),
			"Signature expired: 20260304T045037Z is now earlier than 20260304T045137Z (20260304T050637Z - 15 min.)"},
		{"future", send("sts", "us-east-1", now.Add(16*time.Minute), nil),
			"Signature not yet current: 20260304T052237Z is still later than 20260304T052137Z (20260304T050637Z + 15 min.)"},
		{"region", send("iam", "eu-west-1", signedAt, nil),
			"Credential should be scoped to a valid region, not 'eu-west-1'."},
		{"S3 region", send("s3", "eu-west-1", signedAt, nil),
			"The authorization header is malformed; the region 'eu-west-1' is wrong; expecting 'us-east-1'"},
		{"day", send("iam", "us-east-1", signedAt, func(r *http.Request) { r.Header.Set("X-Amz-Date", "20260305T000000Z") }),
			"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20260304' != '20260305', from '20260305T000000Z'."},
		{"bad date", send("iam", "us-east-1", signedAt, func(r *http.Request) { r.Header.Set("X-Amz-Date", "2026-03-04T05:06:07Z") }),
			"Invalid X-Amz-Date '2026-03-04T05:06:07Z': it must be in ISO 8601 basic format, yyyyMMdd'T'HHmmss'Z'."},
		{"absent header", send("iam", "us-east-1", signedAt, func(r *http.Request) {
			h := r.Header.Get("Authorization")
			r.Header.Set("Authorization", strings.Replace(h, "SignedHeaders=host;x-amz-date", "SignedHeaders=host;x-amz-date;x-custom", 1))
		}), "'x-custom' is named as a SignedHeader, but it does not exist in the HTTP request."},
		{"terminator", send("iam", "us-east-1", signedAt, func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/aws4_request", "/aws5_request", 1))
		}), "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'."},
		{"credential", send("iam", "us-east-1", signedAt, func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/us-east-1/", "/", 1))
		}), "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'AKIDEXAMPLE/20260304/iam/aws4_request'"},
		{"algorithm", send("iam", "us-east-1", signedAt, func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256", 1))
		}), "Unsupported AWS 'algorithm': 'AWS4-ECDSA-P256-SHA256'; only AWS4-HMAC-SHA256 is accepted."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, ok := c.err.(*Error)
			if !ok {
				t.Fatalf("got %v, want an *Error", c.err)
			}
			if e.Message != c.msg {
				t.Fatalf("message\n got %q\nwant %q", e.Message, c.msg)
			}
		})
	}
}

// 15 minutes of skew either way is still accepted, as AWS accepts it.
func TestVerifySkewLimit(t *testing.T) {
	now := signedAt
	srv := newVerifyServer(t, fixedVerifier("us-east-1", now))
	for _, d := range []time.Duration{-15 * time.Minute, -14 * time.Minute, 14 * time.Minute, 15 * time.Minute} {
		req := newRequest(t, "GET", srv.URL+"/", nil)
		signWith(t, req, nil, testCreds(), "ec2", "us-east-1", now.Add(d))
		if o := srv.send(t, req); o.err != nil {
			t.Errorf("signed %v from now: %v", d, o.err)
		}
	}
	srv.setVerifier(&Verifier{Creds: StaticCredentials{testKey: testSecret}, Region: "us-east-1", MaxSkew: time.Minute, Now: func() time.Time { return now }})
	req := newRequest(t, "GET", srv.URL+"/", nil)
	signWith(t, req, nil, testCreds(), "ec2", "us-east-1", now.Add(-61*time.Second))
	wantError(t, srv.send(t, req).err, KindSkewed, 400, "RequestExpired")
}

// presign makes a presigned URL with the SDK's PresignHTTP, the way S3's and
// STS's presigners do, valid for expires seconds.
func presign(t testing.TB, method, target string, header http.Header, expires string, creds aws.Credentials, service, region string, at time.Time) (string, http.Header) {
	t.Helper()
	req := newRequest(t, method, target, nil)
	for k, vs := range header {
		req.Header[k] = vs
	}
	if expires != "" {
		q := req.URL.Query()
		q.Set("X-Amz-Expires", expires)
		req.URL.RawQuery = q.Encode()
	}
	payload := hashHex(nil)
	if service == "s3" {
		payload = "UNSIGNED-PAYLOAD"
	}
	u, h, err := v4.NewSigner().PresignHTTP(context.Background(), creds, req, payload, service, region, at, func(o *v4.SignerOptions) {
		o.DisableURIPathEscaping = service == "s3"
	})
	if err != nil {
		t.Fatal(err)
	}
	return u, h
}

func sendPresigned(t testing.TB, srv *verifyServer, method, u string, h http.Header) outcome {
	t.Helper()
	req := newRequest(t, method, u, nil)
	for k, vs := range h {
		if k != "Host" {
			req.Header[k] = vs
		}
	}
	return srv.send(t, req)
}

func TestVerifyPresigned(t *testing.T) {
	srv := newVerifyServer(t, fixedVerifier("us-east-1", signedAt.Add(time.Minute)))
	sts := "/?Action=GetCallerIdentity&Version=2011-06-15"

	t.Run("STS", func(t *testing.T) {
		u, h := presign(t, "GET", srv.URL+sts, nil, "300", testCreds(), "sts", "us-east-1", signedAt)
		o := sendPresigned(t, srv, "GET", u, h)
		if o.err != nil {
			t.Fatal(o.err)
		}
		want := Result{AccessKeyID: testKey, Region: "us-east-1", Service: "sts", Time: signedAt, Presigned: true}
		if *o.res != want {
			t.Fatalf("got %+v, want %+v", *o.res, want)
		}
	})
	t.Run("session token and signed header", func(t *testing.T) {
		creds := testCreds()
		creds.SessionToken = "session/token+=="
		u, h := presign(t, "GET", srv.URL+sts+"&name=caf%C3%A9%20%2B", http.Header{"X-Custom": {"v  w"}}, "60", creds, "sts", "us-east-1", signedAt)
		if !strings.Contains(u, "X-Amz-Security-Token=") || !strings.Contains(u, "x-custom") {
			t.Fatalf("the presigned URL lacks the token or the signed header: %s", u)
		}
		if o := sendPresigned(t, srv, "GET", u, h); o.err != nil {
			t.Fatal(o.err)
		}
		delete(h, "X-Custom")
		e := wantError(t, sendPresigned(t, srv, "GET", u, h).err, KindSignature, 403, "SignatureDoesNotMatch")
		if !strings.Contains(e.Message, "'x-custom' is named as a SignedHeader") {
			t.Fatalf("message %q does not name the absent header", e.Message)
		}
	})
	t.Run("S3 object", func(t *testing.T) {
		u, h := presign(t, "GET", srv.URL+"/bucket/caf%C3%A9%20cr%C3%A8me/a+b.txt", nil, "604800", testCreds(), "s3", "us-east-1", signedAt)
		o := sendPresigned(t, srv, "GET", u, h)
		if o.err != nil {
			t.Fatal(o.err)
		}
		if !o.res.Presigned || o.res.Service != "s3" {
			t.Fatalf("got %+v", o.res)
		}
	})

	type tc struct {
		name    string
		service string
		expires string
		creds   aws.Credentials
		at      time.Time
		now     time.Time
		mutate  func(string) string
		kind    Kind
		status  int
		code    string
	}
	base := tc{service: "sts", expires: "300", creds: testCreds(), at: signedAt, now: signedAt.Add(time.Minute)}
	with := func(f func(*tc)) tc { c := base; f(&c); return c }
	cases := []tc{
		with(func(c *tc) { c.name = "valid to the second"; c.now = signedAt.Add(300 * time.Second) }),
		with(func(c *tc) {
			c.name, c.now, c.kind, c.status, c.code = "expired", signedAt.Add(301*time.Second), KindExpired, 400, "RequestExpired"
		}),
		with(func(c *tc) {
			c.name, c.service, c.now, c.kind, c.status, c.code = "S3 expired", "s3", signedAt.Add(301*time.Second), KindExpired, 403, "AccessDenied"
		}),
		with(func(c *tc) {
			c.name, c.service, c.now, c.kind, c.status, c.code = "EC2 expired", "ec2", signedAt.Add(301*time.Second), KindExpired, 400, "RequestExpired"
		}),
		with(func(c *tc) {
			c.name, c.now, c.kind, c.status, c.code = "dated 16 minutes ahead", signedAt.Add(-16*time.Minute), KindSkewed, 403, "SignatureDoesNotMatch"
		}),
		with(func(c *tc) {
			c.name, c.expires, c.now, c.kind, c.status, c.code = "a week is the longest", "604801", signedAt, KindMalformed, 400, "IncompleteSignature"
		}),
		with(func(c *tc) {
			c.name, c.service, c.expires, c.now, c.kind, c.status, c.code = "S3: a week is the longest", "s3", "604801", signedAt, KindMalformed, 400, "AuthorizationQueryParametersError"
		}),
		with(func(c *tc) {
			c.name, c.expires, c.kind, c.status, c.code = "no X-Amz-Expires", "", KindMalformed, 400, "IncompleteSignature"
		}),
		with(func(c *tc) {
			c.name, c.kind, c.status, c.code = "wrong secret", KindSignature, 403, "SignatureDoesNotMatch"
			c.creds.SecretAccessKey += "x"
		}),
		with(func(c *tc) {
			c.name, c.kind, c.status, c.code = "query changed", KindSignature, 403, "SignatureDoesNotMatch"
			c.mutate = func(u string) string { return strings.Replace(u, "Version=2011-06-15", "Version=2011-06-16", 1) }
		}),
		with(func(c *tc) {
			c.name, c.kind, c.status, c.code = "expiry lengthened", KindSignature, 403, "SignatureDoesNotMatch"
			c.mutate = func(u string) string { return strings.Replace(u, "X-Amz-Expires=300", "X-Amz-Expires=3000", 1) }
		}),
		with(func(c *tc) {
			c.name, c.kind, c.status, c.code = "path changed", KindSignature, 403, "SignatureDoesNotMatch"
			c.mutate = func(u string) string { return strings.Replace(u, "/?", "/x?", 1) }
		}),
		with(func(c *tc) {
			c.name, c.kind, c.status, c.code = "signature repeated", KindMalformed, 400, "IncompleteSignature"
			c.mutate = func(u string) string { return u + "&X-Amz-Signature=00" }
		}),
		with(func(c *tc) {
			c.name, c.kind, c.status, c.code = "other algorithm", KindMalformed, 400, "IncompleteSignature"
			c.mutate = func(u string) string {
				return strings.Replace(u, "X-Amz-Algorithm=AWS4-HMAC-SHA256", "X-Amz-Algorithm=AWS4-HMAC-SHA1", 1)
			}
		}),
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv.setVerifier(fixedVerifier("us-east-1", c.now))
			u, h := presign(t, "GET", srv.URL+sts, nil, c.expires, c.creds, c.service, "us-east-1", c.at)
			if c.mutate != nil {
				u = c.mutate(u)
			}
			o := sendPresigned(t, srv, "GET", u, h)
			if c.kind == 0 {
				if o.err != nil {
					t.Fatal(o.err)
				}
				return
			}
			wantError(t, o.err, c.kind, c.status, c.code)
		})
	}

	t.Run("Authorization header and presigned query together", func(t *testing.T) {
		srv.setVerifier(fixedVerifier("us-east-1", signedAt))
		u, _ := presign(t, "GET", srv.URL+sts, nil, "300", testCreds(), "sts", "us-east-1", signedAt)
		req := newRequest(t, "GET", u, nil)
		signWith(t, req, nil, testCreds(), "sts", "us-east-1", signedAt)
		wantError(t, srv.send(t, req).err, KindMalformed, 400, "IncompleteSignature")
	})
}

// handSignature derives the SigV4 signature of a canonical request written
// out by hand, step by step as the specification describes, without the SDK.
func handSignature(secret, amzDate, region, service, canonicalRequest string) string {
	mac := func(key []byte, s string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(s))
		return h.Sum(nil)
	}
	day := amzDate[:8]
	scope := day + "/" + region + "/" + service + "/aws4_request"
	creq := sha256.Sum256([]byte(canonicalRequest))
	stringToSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(creq[:])
	key := mac(mac(mac(mac([]byte("AWS4"+secret), day), region), service), "aws4_request")
	return hex.EncodeToString(mac(key, stringToSign))
}

// Requests whose canonical form is written by hand verify, including ones the
// SDK signer would not produce itself (a signed User-Agent), and AWS's
// published get-vanilla example has its published signature.
func TestVerifyHandSigned(t *testing.T) {
	emptyHash := "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	vanilla := "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" + emptyHash
	if got, want := handSignature(testSecret, "20150830T123600Z", "us-east-1", "service", vanilla),
		"5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"; got != want {
		t.Fatalf("the hand derivation gives %s for get-vanilla, AWS publishes %s", got, want)
	}
	at := time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)
	srv := newVerifyServer(t, fixedVerifier("us-east-1", at))

	cases := []struct {
		name          string
		service       string // "service" when empty
		fail          bool
		method, path  string
		query         string
		headers       [][2]string // in the order sent
		signedHeaders string
		canonical     string
	}{
		{name: "get-vanilla", method: "GET", path: "/", signedHeaders: "host;x-amz-date", canonical: vanilla},
		{name: "signed user-agent", method: "GET", path: "/", headers: [][2]string{{"User-Agent", "aws-cli/1.45 Python/3.11"}},
			signedHeaders: "host;user-agent;x-amz-date",
			canonical:     "GET\n/\n\nhost:example.amazonaws.com\nuser-agent:aws-cli/1.45 Python/3.11\nx-amz-date:20150830T123600Z\n\nhost;user-agent;x-amz-date\n" + emptyHash},
		{name: "repeated header and inner spaces", method: "GET", path: "/",
			headers:       [][2]string{{"X-Multi", "a   b"}, {"X-Multi", "c"}},
			signedHeaders: "host;x-amz-date;x-multi",
			canonical:     "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\nx-multi:a b,c\n\nhost;x-amz-date;x-multi\n" + emptyHash},
		{name: "escaped path and sorted query", method: "GET", path: "/caf%C3%A9/a%20b", query: "b=2&a=%C3%A9%20x&a=1",
			signedHeaders: "host;x-amz-date",
			canonical:     "GET\n/caf%25C3%25A9/a%2520b\na=%C3%A9%20x&a=1&b=2\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" + emptyHash},
		{name: "path normalised as botocore does", method: "GET", path: "//example/./a/../b//",
			signedHeaders: "host;x-amz-date",
			canonical:     "GET\n/example/b/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" + emptyHash},
		{name: "path as sent", method: "GET", path: "//example/./a/../b//",
			signedHeaders: "host;x-amz-date",
			canonical:     "GET\n//example/./a/../b//\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" + emptyHash},
		{name: "S3 signs the path as sent", service: "s3", method: "GET", path: "/bucket//a/./b%20c",
			headers:       [][2]string{{"X-Amz-Content-Sha256", emptyHash}},
			signedHeaders: "host;x-amz-content-sha256;x-amz-date",
			canonical:     "GET\n/bucket//a/./b%20c\n\nhost:example.amazonaws.com\nx-amz-content-sha256:" + emptyHash + "\nx-amz-date:20150830T123600Z\n\nhost;x-amz-content-sha256;x-amz-date\n" + emptyHash},
		{name: "S3 does not normalise", service: "s3", method: "GET", path: "/bucket//a/./b%20c", fail: true,
			headers:       [][2]string{{"X-Amz-Content-Sha256", emptyHash}},
			signedHeaders: "host;x-amz-content-sha256;x-amz-date",
			canonical:     "GET\n/bucket/a/b%20c\n\nhost:example.amazonaws.com\nx-amz-content-sha256:" + emptyHash + "\nx-amz-date:20150830T123600Z\n\nhost;x-amz-content-sha256;x-amz-date\n" + emptyHash},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			target := srv.URL + c.path
			if c.query != "" {
				target += "?" + c.query
			}
			req := newRequest(t, c.method, target, nil)
			req.Host = "example.amazonaws.com"
			req.Header.Set("X-Amz-Date", "20150830T123600Z")
			for _, h := range c.headers {
				req.Header.Add(h[0], h[1])
			}
			service := c.service
			if service == "" {
				service = "service"
			}
			sig := handSignature(testSecret, "20150830T123600Z", "us-east-1", service, c.canonical)
			req.Header.Set("Authorization", fmt.Sprintf("AWS4-HMAC-SHA256 Credential=%s/20150830/us-east-1/%s/aws4_request, SignedHeaders=%s, Signature=%s", testKey, service, c.signedHeaders, sig))
			o := srv.send(t, req)
			if c.fail {
				wantError(t, o.err, KindSignature, 403, "SignatureDoesNotMatch")
				return
			}
			if o.err != nil {
				t.Fatalf("Verify: %v", o.err)
			}
		})
	}
}

func TestServiceOf(t *testing.T) {
	req := newRequest(t, "POST", "http://127.0.0.1/", []byte("Action=X"))
	if got := ServiceOf(req); got != "" {
		t.Fatalf("unsigned: %q", got)
	}
	signWith(t, req, []byte("Action=X"), testCreds(), "logs", "us-east-1", signedAt)
	if got := ServiceOf(req); got != "logs" {
		t.Fatalf("header form: %q", got)
	}
	u, _ := presign(t, "GET", "http://127.0.0.1/?Action=GetCallerIdentity", nil, "60", testCreds(), "sts", "us-east-1", signedAt)
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	if got := ServiceOf(&http.Request{URL: pu, Header: http.Header{}}); got != "sts" {
		t.Fatalf("presigned: %q", got)
	}
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20260304/us-east-1/ec2/aws4_request")
	if got := ServiceOf(req); got != "ec2" {
		t.Fatalf("incomplete header: %q", got)
	}
}

// An error rendered for one service re-renders for another, as a front that
// knows the service by other means (its port, its path) does.
func TestErrorFor(t *testing.T) {
	srv := newVerifyServer(t, fixedVerifier("us-east-1", signedAt))
	o := srv.send(t, newRequest(t, "GET", srv.URL+"/", nil))
	e := wantError(t, o.err, KindMissing, 403, "MissingAuthenticationToken")
	for service, want := range wantMissing {
		got := e.For(service)
		if got.Status != want.status || got.Code != want.code || got.Service != service {
			t.Errorf("%s: got %d %s for %q", service, got.Status, got.Code, got.Service)
		}
	}
	if e.Service != "" || e.Code != "MissingAuthenticationToken" {
		t.Fatalf("For changed its receiver: %+v", e)
	}
	if s := e.For("ec2").Error(); s != "MissingAuthenticationToken: The request must contain either a valid (registered) AWS access key ID or X.509 certificate." {
		t.Fatalf("Error() = %q", s)
	}
}

// A secret that Credentials stops giving stops being accepted at once (the
// SDK signer caches derived keys by access key id and day, not by secret).
func TestVerifySecretRotation(t *testing.T) {
	creds := StaticCredentials{testKey: testSecret}
	srv := newVerifyServer(t, &Verifier{Creds: creds, Region: "us-east-1", Now: func() time.Time { return signedAt }})
	req := newRequest(t, "GET", srv.URL+"/", nil)
	signWith(t, req, nil, testCreds(), "ec2", "us-east-1", signedAt)
	if o := srv.send(t, req); o.err != nil {
		t.Fatal(o.err)
	}
	srv.setVerifier(&Verifier{Creds: StaticCredentials{testKey: "rotated"}, Region: "us-east-1", Now: func() time.Time { return signedAt }})
	req = newRequest(t, "GET", srv.URL+"/", nil)
	signWith(t, req, nil, testCreds(), "ec2", "us-east-1", signedAt)
	wantError(t, srv.send(t, req).err, KindSignature, 401, "AuthFailure")
}

func BenchmarkVerify(b *testing.B) {
	body := []byte("Action=DescribeFlowLogs&Version=2016-11-15&Filter.1.Name=resource-id&Filter.1.Value.1=vpc-0123456789abcdef0")
	req := newRequest(b, "POST", "http://127.0.0.1:4566/", body)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	req.Header.Set("User-Agent", "aws-cli/1.45.11 Python/3.11.7 Linux/6.18 botocore/1.43.11")
	signWith(b, req, body, testCreds(), "ec2", "us-east-1", signedAt)
	req.RequestURI = "/"
	v := fixedVerifier("us-east-1", signedAt)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := v.Verify(req, body); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}
