package sigv4

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Whatever the Authorization header, the query and X-Amz-Date, Verify and
// ServiceOf do not panic, and a failure is always an *Error that renders
// for every service with a status and a code.
func FuzzVerify(f *testing.F) {
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

	// Seeds: a valid header-form request, a valid presigned query, and
	// broken variants of both.
	req := httptest.NewRequest("GET", "http://example.com/?a=1", nil)
	signWith(f, req, nil, testCreds(), "ec2", "us-east-1", at)
	f.Add(req.Header.Get("Authorization"), "a=1", req.Header.Get("X-Amz-Date"))
	u, _ := presign(f, "GET", "http://example.com/?Action=GetCallerIdentity", nil, "300", testCreds(), "sts", "us-east-1", at)
	pq := u[strings.IndexByte(u, '?')+1:]
	f.Add("", pq, "")
	f.Add("AWS4-HMAC-SHA256", "", "")
	f.Add("AWS4-HMAC-SHA256 Credential=/////, SignedHeaders=;;, Signature=", "", "20260304T050607Z")
	f.Add("AWS4-HMAC-SHA256 Credential=a/b/c/d/e,SignedHeaders=host,Signature=x,Signature=y", "", "x")
	f.Add("AWS4-HMAC-SHA256 ,,,=,==", "X-Amz-Algorithm=AWS4-HMAC-SHA256", "")
	f.Add("", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=%2F%2F%2F%2F&X-Amz-Expires=-1", "")
	f.Add("", strings.Replace(pq, "X-Amz-Expires=300", "X-Amz-Expires=99999999999999999999", 1), "")
	f.Add("", pq+";x=1&%zz", "")

	v := fixedVerifier("us-east-1", at.Add(time.Minute))
	build := func(authorization, rawQuery, amzDate string) *http.Request {
		r := &http.Request{
			Method:     "GET",
			URL:        &url.URL{Path: "/", RawQuery: rawQuery},
			Host:       "example.com",
			RequestURI: "/?" + rawQuery,
			Header:     http.Header{},
		}
		if authorization != "" {
			r.Header.Set("Authorization", authorization)
		}
		if amzDate != "" {
			r.Header.Set("X-Amz-Date", amzDate)
		}
		return r
	}
	// The valid seeds must verify, or the fuzzer never explores past the
	// signature check.
	if _, err := v.Verify(build(req.Header.Get("Authorization"), "a=1", req.Header.Get("X-Amz-Date")), nil); err != nil {
		f.Fatalf("header-form seed: %v", err)
	}
	if _, err := v.Verify(build("", pq, ""), nil); err != nil {
		f.Fatalf("presigned seed: %v", err)
	}
	services := []string{"", "ec2", "iam", "sts", "logs", "firehose", "s3", "other"}
	f.Fuzz(func(t *testing.T, authorization, rawQuery, amzDate string) {
		r := build(authorization, rawQuery, amzDate)
		_ = ServiceOf(r)
		res, err := v.Verify(r, nil)
		if err == nil {
			if res == nil || res.AccessKeyID != testKey {
				t.Fatalf("verified without a result: %+v", res)
			}
			return
		}
		if res != nil {
			t.Fatalf("a result with an error: %+v, %v", res, err)
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("error %v is a %T, not an *Error", err, err)
		}
		for _, s := range services {
			g := e.For(s)
			if g.Status < 400 || g.Status > 499 || g.Code == "" || g.Message == "" {
				t.Fatalf("%s renders as %d %q %q", s, g.Status, g.Code, g.Message)
			}
		}
	})
}
