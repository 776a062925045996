package sigv4

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Credentials gives the secret of an access key id. It is asked once per
// request, so an implementation may change its answers while the server runs.
type Credentials interface {
	Secret(accessKeyID string) (secret string, ok bool)
}

// StaticCredentials maps access key ids to their secrets.
type StaticCredentials map[string]string

// Secret implements Credentials.
func (c StaticCredentials) Secret(accessKeyID string) (string, bool) {
	s, ok := c[accessKeyID]
	return s, ok
}

// Result is what a verified request is: who signed it, and for which
// region, service and time.
type Result struct {
	AccessKeyID string
	Region      string
	Service     string
	// Time is the request's X-Amz-Date.
	Time time.Time
	// Presigned is true for the query-string form.
	Presigned bool
}

// Verifier checks AWS Signature Version 4 on incoming requests.
type Verifier struct {
	Creds Credentials
	// Region is the service's region: the credential scope must name it
	// exactly (so an empty Region accepts nothing).
	Region string
	// MaxSkew is how far X-Amz-Date may be from Now; 15 minutes when zero,
	// as AWS allows.
	MaxSkew time.Duration
	// Now is the server's clock; time.Now when nil.
	Now func() time.Time
}

const (
	algorithm    = "AWS4-HMAC-SHA256"
	terminator   = "aws4_request"
	amzDateForm  = "20060102T150405Z"
	scopeDayForm = "20060102"
	// maxExpires is the longest X-Amz-Expires AWS accepts: a week.
	maxExpires = 604800
	// DefaultMaxSkew is the clock skew AWS tolerates.
	DefaultMaxSkew = 15 * time.Minute
)

// Query parameters of the presigned form.
const (
	qAlgorithm     = "X-Amz-Algorithm"
	qCredential    = "X-Amz-Credential"
	qDate          = "X-Amz-Date"
	qExpires       = "X-Amz-Expires"
	qSignedHeaders = "X-Amz-SignedHeaders"
	qSignature     = "X-Amz-Signature"
)

// auth is a request's signature material, parsed but not yet checked.
type auth struct {
	presigned bool
	// The credential scope; service is set as soon as the credential
	// parses, so that errors found later speak the service's language.
	accessKeyID, day, region, service, term string
	signedHeaders                           []string
	signature                               string
	amzDate                                 string
	expires                                 string
}

// ServiceOf returns the signing service named in the credential scope of r
// (Authorization header or X-Amz-Credential), without verifying anything, so
// a front can route and format errors before Verify; "" when r names none.
func ServiceOf(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		a, _ := parseAuthorization(h)
		return a.service
	}
	if r.URL == nil {
		return ""
	}
	var a auth
	if cred := r.URL.Query().Get(qCredential); cred != "" {
		parseCredential(&a, cred)
	}
	return a.service
}

// Verify checks r's SigV4 signature, in the Authorization-header form or in
// the presigned query form, against body, the request body the caller has
// already read (Verify never reads r.Body). A failure is an *Error with the
// code and status of the service the credential scope names.
//
// The signature is recomputed with aws-sdk-go-v2's signer over exactly the
// headers the client signed, so the canonical request is built the way the
// SDKs and awscli build it. The checks come in this order, and the first
// failure is the one reported: form, credential scope, access key, clock
// (and presigned expiry), payload hash, signature.
func (v *Verifier) Verify(r *http.Request, body []byte) (*Result, error) {
	a, e := parseRequest(r)
	if e != nil {
		return nil, e
	}
	fail := func(kind Kind, detail string) *Error {
		e := &Error{Kind: kind, presigned: a.presigned, detail: detail}
		e.render(a.service)
		return e
	}

	if a.term != terminator {
		return nil, fail(KindScope, fmt.Sprintf("Credential should be scoped with a valid terminator: '%s', not '%s'.", terminator, a.term))
	}
	if a.service == "" {
		return nil, fail(KindMalformed, "Credential should be scoped to a service, not ''.")
	}
	t, err := time.Parse(amzDateForm, a.amzDate)
	if err != nil || t.Format(amzDateForm) != a.amzDate {
		return nil, fail(KindMalformed, fmt.Sprintf("Invalid X-Amz-Date '%s': it must be in ISO 8601 basic format, yyyyMMdd'T'HHmmss'Z'.", a.amzDate))
	}
	if day := t.Format(scopeDayForm); a.day != day {
		return nil, fail(KindScope, fmt.Sprintf("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.", a.day, day, a.amzDate))
	}
	if v.Region == "" || a.region != v.Region {
		e := &Error{Kind: KindScope, presigned: a.presigned, region: a.region, want: v.Region,
			detail: fmt.Sprintf("Credential should be scoped to a valid region, not '%s'.", a.region)}
		e.render(a.service)
		return nil, e
	}
	var expires time.Duration
	if a.presigned {
		n, err := strconv.ParseInt(a.expires, 10, 64)
		switch {
		case err != nil:
			return nil, fail(KindMalformed, "X-Amz-Expires should be a number")
		case n < 0:
			return nil, fail(KindMalformed, "X-Amz-Expires must be non-negative")
		case n > maxExpires:
			return nil, fail(KindMalformed, fmt.Sprintf("X-Amz-Expires must be less than a week (in seconds) that is %d", maxExpires))
		}
		expires = time.Duration(n) * time.Second
	}

	var secret string
	ok := false
	if v.Creds != nil {
		secret, ok = v.Creds.Secret(a.accessKeyID)
	}
	if !ok {
		return nil, fail(KindUnknownKey, "")
	}

	now := time.Now()
	if v.Now != nil {
		now = v.Now()
	}
	skew := v.MaxSkew
	if skew <= 0 {
		skew = DefaultMaxSkew
	}
	// A presigned URL is meant to be used later, up to X-Amz-Expires; only
	// a date in the future shows a clock that is off.
	if t.Sub(now) > skew || (!a.presigned && now.Sub(t) > skew) {
		e := &Error{Kind: KindSkewed, presigned: a.presigned, at: t, now: now, skew: skew}
		e.render(a.service)
		return nil, e
	}
	if a.presigned && now.Sub(t) > expires {
		return nil, fail(KindExpired, "")
	}

	hash, e := payloadHash(r, body, a)
	if e != nil {
		return nil, e
	}

	path := requestPath(r)
	want, detail := sign(r, a, path, t, secret, hash)
	if detail != "" {
		return nil, fail(KindSignature, detail)
	}
	match := subtle.ConstantTimeCompare([]byte(want), []byte(a.signature)) == 1
	if !match && a.service != "s3" {
		// aws-sdk-go-v2 signs the path as sent; botocore (awscli) and the
		// other SDKs first remove dot segments and repeated slashes,
		// except for S3. Only a path that normalises differently needs the
		// second try.
		if np := normalizePath(path); np != path {
			want, detail = sign(r, a, np, t, secret, hash)
			match = detail == "" && subtle.ConstantTimeCompare([]byte(want), []byte(a.signature)) == 1
		}
	}
	if !match {
		return nil, fail(KindSignature, "")
	}
	return &Result{AccessKeyID: a.accessKeyID, Region: a.region, Service: a.service, Time: t, Presigned: a.presigned}, nil
}

// parseRequest finds which form r is signed in and parses it.
func parseRequest(r *http.Request) (auth, *Error) {
	headers := r.Header.Values("Authorization")
	var query url.Values
	if r.URL != nil && r.URL.RawQuery != "" {
		// ParseQuery's error is for pairs it skips; the signer skips them
		// too (it reads URL.Query), so they are no part of what was signed.
		query, _ = url.ParseQuery(r.URL.RawQuery)
	}
	_, presigned := query[qAlgorithm]
	malformed := func(a auth, detail string) (auth, *Error) {
		e := &Error{Kind: KindMalformed, presigned: a.presigned, detail: detail}
		e.render(a.service)
		return a, e
	}
	switch {
	case len(headers) == 0 && !presigned:
		e := &Error{Kind: KindMissing}
		e.render("")
		return auth{}, e
	case len(headers) > 0 && presigned:
		a, _ := parseAuthorization(headers[0])
		return malformed(a, "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified.")
	case len(headers) > 1:
		a, _ := parseAuthorization(headers[0])
		return malformed(a, "Only one Authorization header is allowed.")
	case presigned:
		a, detail := parsePresigned(query)
		if detail != "" {
			return malformed(a, detail)
		}
		return a, nil
	}
	a, detail := parseAuthorization(headers[0])
	if detail != "" {
		return malformed(a, detail)
	}
	dates := r.Header.Values(qDate)
	switch len(dates) {
	case 0:
		// AWS also takes the Date header; the SDK signer always signs
		// X-Amz-Date, so it cannot verify such a request.
		return malformed(a, "Authorization header requires existence of a 'X-Amz-Date' header.")
	case 1:
		a.amzDate = dates[0]
	default:
		return malformed(a, "Only one X-Amz-Date header is allowed.")
	}
	return a, nil
}

// parseAuthorization parses
//
//	AWS4-HMAC-SHA256 Credential=AKID/20260102/us-east-1/ec2/aws4_request, SignedHeaders=host;x-amz-date, Signature=hex
//
// It returns what it could read, with the reason the header is malformed
// ("" when it is not).
func parseAuthorization(h string) (auth, string) {
	var a auth
	alg, rest, _ := strings.Cut(strings.TrimLeft(h, " "), " ")
	var cred, signed, sig string
	var haveCred, haveSigned, haveSig bool
	var problem string
	for _, part := range strings.Split(rest, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, val, ok := strings.Cut(part, "=")
		if !ok {
			if problem == "" {
				problem = fmt.Sprintf("'%s' not a valid key=value pair (missing equal-sign) in Authorization header: '%s'.", part, h)
			}
			continue
		}
		var have *bool
		switch k {
		case "Credential":
			cred, have = val, &haveCred
		case "SignedHeaders":
			signed, have = val, &haveSigned
		case "Signature":
			sig, have = val, &haveSig
		default:
			if problem == "" {
				problem = fmt.Sprintf("'%s' is not a parameter of the Authorization header: '%s'.", k, h)
			}
			continue
		}
		if *have && problem == "" {
			problem = fmt.Sprintf("'%s' appears twice in the Authorization header: '%s'.", k, h)
		}
		*have = true
	}
	if haveCred {
		if msg := parseCredential(&a, cred); msg != "" && problem == "" {
			problem = msg
		}
	}
	if alg != algorithm {
		return a, fmt.Sprintf("Unsupported AWS 'algorithm': '%s'; only %s is accepted.", alg, algorithm)
	}
	if problem != "" {
		return a, problem
	}
	var missing []string
	if !haveCred {
		missing = append(missing, "Authorization header requires 'Credential' parameter.")
	}
	if !haveSig {
		missing = append(missing, "Authorization header requires 'Signature' parameter.")
	}
	if !haveSigned {
		missing = append(missing, "Authorization header requires 'SignedHeaders' parameter.")
	}
	if missing != nil {
		return a, strings.Join(missing, " ") + " Authorization=" + h
	}
	a.signature = sig
	var msg string
	a.signedHeaders, msg = parseSignedHeaders(signed)
	return a, msg
}

// parsePresigned parses the X-Amz-* query parameters of a presigned URL.
func parsePresigned(q url.Values) (auth, string) {
	a := auth{presigned: true}
	get := func(key string) (string, string) {
		switch vs := q[key]; len(vs) {
		case 0:
			return "", "AWS query-string parameters must include 'X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-Date', 'X-Amz-SignedHeaders', and 'X-Amz-Expires'. Re-examine the query-string parameters."
		case 1:
			return vs[0], ""
		default:
			return "", fmt.Sprintf("The query-string parameter '%s' appears more than once.", key)
		}
	}
	// The credential first, so that whatever else is wrong is told in the
	// service's words.
	cred, problem := get(qCredential)
	if problem == "" {
		problem = parseCredential(&a, cred)
	}
	alg, msg := get(qAlgorithm)
	if msg != "" {
		return a, msg
	}
	if alg != algorithm {
		return a, fmt.Sprintf("X-Amz-Algorithm only supports \"%s\"", algorithm)
	}
	if problem != "" {
		return a, problem
	}
	var signed string
	for _, p := range []struct {
		key string
		dst *string
	}{{qDate, &a.amzDate}, {qExpires, &a.expires}, {qSignedHeaders, &signed}, {qSignature, &a.signature}} {
		if *p.dst, msg = get(p.key); msg != "" {
			return a, msg
		}
	}
	a.signedHeaders, msg = parseSignedHeaders(signed)
	return a, msg
}

// parseCredential splits AKID/day/region/service/aws4_request into a.
func parseCredential(a *auth, cred string) string {
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[0] == "" {
		return fmt.Sprintf("Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '%s'", cred)
	}
	a.accessKeyID, a.day, a.region, a.service, a.term = parts[0], parts[1], parts[2], parts[3], parts[4]
	return ""
}

// parseSignedHeaders checks the list is what SigV4 requires (lowercase
// names, sorted, no duplicates, host among them): what a conforming client
// sends, and what the SDK signer reproduces.
func parseSignedHeaders(s string) ([]string, string) {
	names := strings.Split(s, ";")
	host := false
	for i, n := range names {
		if n == "" || n != strings.ToLower(n) || strings.ContainsAny(n, " \t:") {
			return nil, fmt.Sprintf("SignedHeaders '%s' must be a ';'-separated list of lowercase header names.", s)
		}
		if i > 0 && names[i-1] >= n {
			return nil, fmt.Sprintf("SignedHeaders '%s' must be sorted, without duplicates.", s)
		}
		host = host || n == "host"
	}
	if !host {
		return nil, fmt.Sprintf("SignedHeaders '%s' must include the host header.", s)
	}
	return names, ""
}

const (
	unsignedPayload          = "UNSIGNED-PAYLOAD"
	streamingUnsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
)

// payloadHash is the hash the canonical request ends with. Outside S3 it is
// always the SHA-256 of body: X-Amz-Content-Sha256, when sent, must say the
// same, or a request could be replayed with another body under a header
// that still matches its signature. S3 also takes UNSIGNED-PAYLOAD (and
// presigned S3 URLs default to it).
func payloadHash(r *http.Request, body []byte, a auth) (string, *Error) {
	sum := sha256.Sum256(body)
	actual := hex.EncodeToString(sum[:])
	s3 := a.service == "s3"
	vs := r.Header.Values("X-Amz-Content-Sha256")
	fail := func(kind Kind, detail string) (string, *Error) {
		e := &Error{Kind: kind, presigned: a.presigned, detail: detail}
		e.render(a.service)
		return "", e
	}
	switch {
	case len(vs) == 0:
		if a.presigned && s3 {
			return unsignedPayload, nil
		}
		return actual, nil
	case len(vs) > 1:
		return fail(KindMalformed, "Only one X-Amz-Content-Sha256 header is allowed.")
	case s3 && (vs[0] == unsignedPayload || vs[0] == streamingUnsignedTrailer):
		// The canonical request ends with the literal; an aws-chunked
		// body's chunks are unsigned and its trailing checksum is
		// checked by the S3 handler.
		return vs[0], nil
	case s3 && strings.HasPrefix(vs[0], "STREAMING-"):
		return fail(KindMalformed, "Chunks signed one by one (STREAMING-AWS4-HMAC-SHA256-PAYLOAD...) are not supported; send the whole body with its SHA-256, UNSIGNED-PAYLOAD or STREAMING-UNSIGNED-PAYLOAD-TRAILER.")
	case vs[0] != actual:
		return fail(KindPayloadHash, "The provided 'x-amz-content-sha256' header does not match what was computed.")
	}
	return actual, nil
}

// requestPath is r's path as the client sent it, still escaped: r.URL.Path
// is decoded, and EscapedPath re-encodes it Go's way, not necessarily the
// client's.
func requestPath(r *http.Request) string {
	if u := r.RequestURI; strings.HasPrefix(u, "/") {
		path, _, _ := strings.Cut(u, "?")
		return path
	}
	if r.URL != nil && r.URL.EscapedPath() != "" {
		return r.URL.EscapedPath()
	}
	return "/"
}

// normalizePath removes "." and ".." segments and empty segments (repeated
// slashes) from an absolute path, keeping a trailing slash, as botocore does
// before signing.
func normalizePath(p string) string {
	var out []string
	for _, seg := range strings.Split(p, "/") {
		switch seg {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, seg)
		}
	}
	n := "/" + strings.Join(out, "/")
	if strings.HasSuffix(p, "/") && len(out) > 0 {
		n += "/"
	}
	return n
}

// sign recomputes the signature of r, taking path as its path, as the client
// computed it. It returns the hex signature, or why r cannot carry a valid
// one (a signed header is missing).
//
// It builds a new request holding only what the client signed and hands it
// to the SDK signer: the signer signs every header it is given (bar a few it
// always skips), so the request must hold exactly the signed ones.
func sign(r *http.Request, a auth, path string, t time.Time, secret, payloadHash string) (string, string) {
	query := ""
	if r.URL != nil {
		query = r.URL.RawQuery
	}
	if a.presigned {
		// The signer adds X-Amz-Algorithm, -Credential, -Date and
		// -SignedHeaders itself, and the signature is what we compute.
		q, _ := url.ParseQuery(query)
		delete(q, qSignature)
		query = q.Encode()
	}
	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	fresh := &http.Request{
		Method: method,
		// GetURIPath takes the path from Opaque as given when it starts
		// with "//", instead of re-escaping URL.Path.
		URL:    &url.URL{Opaque: "//" + path, RawQuery: query},
		Host:   r.Host,
		Header: make(http.Header, len(a.signedHeaders)+2),
	}
	for _, name := range a.signedHeaders {
		switch name {
		case "host":
			// Go moves Host out of Header into r.Host; the signer reads
			// it from there.
			if r.Host == "" {
				return "", absent(name)
			}
			continue
		case "content-length":
			// The signer signs the length it is given, never a header.
			if r.ContentLength <= 0 && len(r.Header.Values("Content-Length")) == 0 {
				return "", absent(name)
			}
			fresh.ContentLength = r.ContentLength
			continue
		case "x-amz-date":
			if !a.presigned {
				// The signer writes it from the signing time, which is
				// X-Amz-Date (checked to format back to the same text).
				continue
			}
		}
		vs, ok := r.Header[textproto.CanonicalMIMEHeaderKey(name)]
		if !ok {
			return "", absent(name)
		}
		// Keyed by the lowercase name, not the canonical one: the signer's
		// list of headers never to sign (User-Agent, Expect, ...) is keyed
		// canonically, and a client that did sign one must be verified as
		// it signed. The signer lowercases names itself.
		fresh.Header[name] = vs
	}

	// A new signer each time: the SDK's derived-key cache matches on access
	// key id and day but not on the secret, so a shared one would go on
	// accepting a secret that Credentials no longer gives.
	signer := v4.NewSigner()
	creds := aws.Credentials{AccessKeyID: a.accessKeyID, SecretAccessKey: secret}
	opts := func(o *v4.SignerOptions) {
		// S3 signs the path as sent; every other service escapes it again.
		o.DisableURIPathEscaping = a.service == "s3"
		// The request holds only signed headers: none is to move into
		// the query.
		o.DisableHeaderHoisting = true
		// A session token, if signed, is among the copied headers (or
		// stays in the query) as the client sent it.
		o.DisableSessionToken = true
	}
	const sigKey = "Signature="
	if a.presigned {
		signed, _, err := signer.PresignHTTP(context.Background(), creds, fresh, payloadHash, a.service, a.region, t, opts)
		if err != nil {
			return "", err.Error()
		}
		i := strings.LastIndex(signed, "X-Amz-"+sigKey)
		if i < 0 {
			return "", "the signer produced no signature"
		}
		return signed[i+len("X-Amz-"+sigKey):], ""
	}
	if err := signer.SignHTTP(context.Background(), creds, fresh, payloadHash, a.service, a.region, t, opts); err != nil {
		return "", err.Error()
	}
	h := fresh.Header.Get("Authorization")
	i := strings.LastIndex(h, sigKey)
	if i < 0 {
		return "", "the signer produced no signature"
	}
	return h[i+len(sigKey):], ""
}

func absent(name string) string {
	return fmt.Sprintf("'%s' is named as a SignedHeader, but it does not exist in the HTTP request.", name)
}
