package sigv4

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// The example key pair of AWS's documentation.
const (
	testKey    = "AKIDEXAMPLE"
	testSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
)

// outcome is what the server's Verify call returned for one request.
type outcome struct {
	res  *Result
	err  error
	body []byte
}

// verifyServer is a real HTTP server that runs Verify on every request, so
// the requests under test have been through Go's client and server (Host
// moved to r.Host, RequestURI as sent) the way a front's requests are.
type verifyServer struct {
	*httptest.Server
	mu       sync.Mutex
	verifier *Verifier
	respond  func(w http.ResponseWriter, r *http.Request, res *Result, err error)
	out      chan outcome
}

func newVerifyServer(t testing.TB, v *Verifier) *verifyServer {
	s := &verifyServer{verifier: v, out: make(chan outcome, 64)}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		v, respond := s.verifier, s.respond
		s.mu.Unlock()
		res, verr := v.Verify(r, body)
		s.out <- outcome{res: res, err: verr, body: body}
		if respond != nil {
			respond(w, r, res, verr)
			return
		}
		var e *Error
		if errors.As(verr, &e) {
			http.Error(w, e.Error(), e.Status)
			return
		}
		io.WriteString(w, "ok")
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *verifyServer) setRespond(f func(w http.ResponseWriter, r *http.Request, res *Result, err error)) {
	s.mu.Lock()
	s.respond = f
	s.mu.Unlock()
}

func (s *verifyServer) setVerifier(v *Verifier) {
	s.mu.Lock()
	s.verifier = v
	s.mu.Unlock()
}

// send sends req and returns what Verify made of it.
func (s *verifyServer) send(t testing.TB, req *http.Request) outcome {
	t.Helper()
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatalf("sending %s %s: %v", req.Method, req.URL, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	select {
	case o := <-s.out:
		return o
	case <-time.After(10 * time.Second):
		t.Fatal("the server saw no request")
		return outcome{}
	}
}

func hashHex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// newRequest makes a client request with body (nil for none).
func newRequest(t testing.TB, method, url string, body []byte) *http.Request {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// signWith signs req in the header form with aws-sdk-go-v2's signer, as the
// SDK's clients do (S3 without the second path escaping).
func signWith(t testing.TB, req *http.Request, body []byte, creds aws.Credentials, service, region string, at time.Time) {
	t.Helper()
	err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hashHex(body), service, region, at, func(o *v4.SignerOptions) {
		o.DisableURIPathEscaping = service == "s3"
	})
	if err != nil {
		t.Fatal(err)
	}
}

func testCreds() aws.Credentials {
	return aws.Credentials{AccessKeyID: testKey, SecretAccessKey: testSecret}
}

func fixedVerifier(region string, now time.Time) *Verifier {
	return &Verifier{
		Creds:  StaticCredentials{testKey: testSecret},
		Region: region,
		Now:    func() time.Time { return now },
	}
}

// wantError checks err is an *Error of the given kind, status and code.
func wantError(t testing.TB, err error, kind Kind, status int, code string) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("got error %v (%T), want an *Error %s %d %s", err, err, kind, status, code)
	}
	if e.Kind != kind || e.Status != status || e.Code != code {
		t.Fatalf("got %s %d %s (%q), want %s %d %s", e.Kind, e.Status, e.Code, e.Message, kind, status, code)
	}
	return e
}
