package s3api

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// xmlns is the namespace of S3's response documents (not of its errors).
const xmlns = "http://s3.amazonaws.com/doc/2006-03-01/"

// Buckets is where the buckets are: Dir maps a bucket name to its
// directory and List gives the existing buckets; Create and Delete make
// and remove one, for CreateBucket and DeleteBucket.
type Buckets interface {
	Dir(bucket string) string
	List() []string
	// Create makes a bucket whose name S3 accepts for a new bucket:
	// ErrBucketExists when there is one.
	Create(bucket string) error
	// Delete removes a bucket: ErrNoSuchBucket when there is none,
	// ErrBucketNotEmpty while it holds an object or one is being
	// delivered into it.
	Delete(bucket string) error
}

// Handler answers S3 requests over bucket directories. It keeps no state
// but a cache of object digests, and is safe for concurrent use.
type Handler struct {
	b Buckets
	// mu lets one request at a time delete a bucket or prune its empty
	// directories (see prune).
	mu      sync.Mutex
	account string
	ownerID string
	region  string
	// Hosts are the endpoint host names (no port) under which a request
	// for "BUCKET.HOST" is virtual-hosted style, naming the bucket in the
	// Host header. Besides them, "localhost" and S3's own host names of the
	// region are recognised; a request to any other host, or to an IP
	// address, is path style (/BUCKET/KEY).
	Hosts []string

	etags   etagCache
	uploads uploadLocks
	m       *metrics
}

// New returns a handler serving the buckets of b for account owner (its
// 12-digit id) in region.
func New(b Buckets, owner string, region string) *Handler {
	return &Handler{b: b, account: owner, region: region, ownerID: canonicalID(owner), m: newMetrics()}
}

// canonicalID stands for the account's canonical user id, the 64 hex
// digits S3 names owners with (never the account id): a digest of the
// account id, so it is stable and looks like AWS's.
func canonicalID(account string) string {
	sum := sha256.Sum256([]byte("vpcflow canonical user " + account))
	return hex.EncodeToString(sum[:])
}

// request is one request being answered.
type request struct {
	w      http.ResponseWriter
	r      *http.Request
	id     string
	q      query
	bucket string
	key    string
	head   bool
	body   []byte
}

// Serve answers one authenticated S3 request (the front has read the body,
// verified SigV4 for service s3 and assigned requestID). Only CreateBucket
// and DeleteObjects read a body.
func (h *Handler) Serve(w http.ResponseWriter, r *http.Request, body []byte, requestID string) {
	hd := w.Header()
	hd.Set("x-amz-request-id", requestID)
	hd.Set("x-amz-id-2", hostID(requestID))
	hd.Set("Server", "AmazonS3")
	rq := &request{w: w, r: r, id: requestID, q: parseQuery(r.URL.RawQuery), head: r.Method == http.MethodHead, body: body}
	rq.bucket, rq.key = h.locate(r)
	switch {
	case rq.bucket == "":
		h.service(rq)
	case rq.key == "":
		h.bucketRequest(rq)
	default:
		h.objectRequest(rq)
	}
}

// locate finds the bucket and the key a request names: the bucket in the
// Host header (virtual-hosted style) or in the first path element (path
// style). The key is the rest of the path, decoded.
func (h *Handler) locate(r *http.Request) (bucket, key string) {
	path := r.URL.Path
	if b := h.virtualBucket(r.Host); b != "" {
		return b, strings.TrimPrefix(path, "/")
	}
	bucket, key, _ = strings.Cut(strings.TrimPrefix(path, "/"), "/")
	return bucket, key
}

// virtualBucket is the bucket named by a virtual-hosted-style Host
// header, or "".
func (h *Handler) virtualBucket(hostport string) string {
	host := strings.ToLower(hostport)
	if hh, _, err := net.SplitHostPort(host); err == nil {
		host = hh
	}
	host = strings.TrimSuffix(host, ".")
	if host == "" || net.ParseIP(strings.Trim(host, "[]")) != nil {
		return ""
	}
	bases := append(slices.Clone(h.Hosts), "localhost", "s3.amazonaws.com",
		"s3."+h.region+".amazonaws.com", "s3.dualstack."+h.region+".amazonaws.com", "s3-"+h.region+".amazonaws.com")
	// The longest base first, so a base inside another cannot cut a
	// bucket name short.
	slices.SortFunc(bases, func(a, b string) int { return len(b) - len(a) })
	for _, base := range bases {
		base = strings.ToLower(strings.TrimSuffix(base, "."))
		if base != "" && strings.HasSuffix(host, "."+base) {
			return strings.TrimSuffix(host, "."+base)
		}
	}
	return ""
}

// hostID is the x-amz-id-2 of a request: S3's extended request id, base64
// like AWS's, derived from the request id so the header and an error
// document agree.
func hostID(requestID string) string {
	sum := sha256.Sum256([]byte("vpcflow s3 host id " + requestID))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// query holds a query string's parameters in the order sent. S3 reads the
// first of a repeated parameter, and a parameter without "=" (?location)
// is present with an empty value.
type query map[string][]string

func parseQuery(raw string) query {
	q := query{}
	for raw != "" {
		var part string
		part, raw, _ = strings.Cut(raw, "&")
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		k, v = unescape(k), unescape(v)
		q[k] = append(q[k], v)
	}
	return q
}

// unescape decodes a query component; a malformed escape is kept as sent
// rather than failing the request.
func unescape(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

func (q query) get(name string) (string, bool) {
	v, ok := q[name]
	if !ok {
		return "", false
	}
	return v[0], true
}

func (q query) first(name string) string {
	v, _ := q.get(name)
	return v
}

// selected returns the sub-resource parameters among names that the query
// carries, sorted as S3 names them when refusing a combination.
func (q query) selected(names []string) []string {
	var out []string
	for _, n := range names {
		if _, ok := q[n]; ok {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// Sub-resource parameters that make a GET at a bucket's path, or at an
// object's, another operation than the listing or the object's content
// (botocore's S3 model gives each its own operation). Any other parameter
// is ignored, as S3 ignores x-id=GetObject from the SDKs.
var (
	bucketSubresources = []string{"accelerate", "acl", "analytics", "cors", "encryption", "intelligent-tiering",
		"inventory", "lifecycle", "location", "logging", "metadataConfiguration", "metadataTable", "metrics",
		"notification", "object-lock", "ownershipControls", "policy", "policyStatus", "publicAccessBlock",
		"replication", "requestPayment", "tagging", "uploads", "versioning", "versions", "website"}
	objectSubresources = []string{"acl", "attributes", "legal-hold", "retention", "tagging", "torrent", "uploadId"}
	// objectWrites select an object write through POST.
	objectWrites = []string{"restore", "select", "uploadId", "uploads"}
)

// apiError is an S3 error answer.
type apiError struct {
	status   int
	code     string
	message  string
	resource string
	// extra are the elements S3 adds for the error's kind (Key, BucketName,
	// ArgumentName, Condition...), in order.
	extra [][2]string
	// header holds headers the answer adds (Allow, Content-Range).
	header map[string]string
}

// S3's messages, from its error code list.
const (
	msgNoSuchBucket     = "The specified bucket does not exist"
	msgNoSuchKey        = "The specified key does not exist."
	msgAccessDenied     = "Access Denied"
	msgMethodNotAllowed = "The specified method is not allowed against this resource."
	msgInvalidRange     = "The requested range is not satisfiable"
	msgPrecondition     = "At least one of the pre-conditions you specified did not hold"
	msgNotImplemented   = "A header you provided implies functionality that is not implemented"
)

func noSuchBucket(bucket string) *apiError {
	return &apiError{status: http.StatusNotFound, code: "NoSuchBucket", message: msgNoSuchBucket,
		resource: "/" + bucket, extra: [][2]string{{"BucketName", bucket}}}
}

func noSuchKey(bucket, key string) *apiError {
	return &apiError{status: http.StatusNotFound, code: "NoSuchKey", message: msgNoSuchKey,
		resource: "/" + bucket + "/" + key, extra: [][2]string{{"Key", key}}}
}

func accessDenied(resource string) *apiError {
	return &apiError{status: http.StatusForbidden, code: "AccessDenied", message: msgAccessDenied, resource: resource}
}

// methodNotAllowed answers a method the resource does not take. S3 names
// the method and the kind of resource, and lists the methods it takes.
func methodNotAllowed(method, resourceType, allow string) *apiError {
	return &apiError{status: http.StatusMethodNotAllowed, code: "MethodNotAllowed", message: msgMethodNotAllowed,
		extra: [][2]string{{"Method", method}, {"ResourceType", resourceType}}, header: map[string]string{"Allow": allow}}
}

// invalidArgument is S3's InvalidArgument for one parameter; value is
// left out when S3 leaves it out.
func invalidArgument(message, resource, name string, value *string) *apiError {
	e := &apiError{status: http.StatusBadRequest, code: "InvalidArgument", message: message, resource: resource,
		extra: [][2]string{{"ArgumentName", name}}}
	if value != nil {
		e.extra = append(e.extra, [2]string{"ArgumentValue", *value})
	}
	return e
}

func notImplemented(resource string) *apiError {
	return &apiError{status: http.StatusNotImplemented, code: "NotImplemented", message: msgNotImplemented, resource: resource}
}

// fail answers with e: S3's error document, or for HEAD, whose answers
// have no body, the status and headers alone (the SDKs then name the error
// by its status: NotFound for 404).
func (rq *request) fail(e *apiError) {
	for k, v := range e.header {
		rq.w.Header().Set(k, v)
	}
	if rq.head {
		rq.w.Header().Set("Content-Type", "application/xml")
		rq.w.WriteHeader(e.status)
		return
	}
	writeError(rq.w, e, rq.id)
}

// WriteError writes S3's XML error (<Error><Code/><Message/><Resource/>
// <RequestId/></Error>) with the status.
func WriteError(w http.ResponseWriter, status int, code, message, resource, requestID string) {
	writeError(w, &apiError{status: status, code: code, message: message, resource: resource}, requestID)
}

func writeError(w http.ResponseWriter, e *apiError, requestID string) {
	var b xmlDoc
	b.open("Error", "")
	b.elem("Code", e.code)
	b.elem("Message", e.message)
	for _, x := range e.extra {
		b.elem(x[0], x[1])
	}
	if e.resource != "" {
		b.elem("Resource", e.resource)
	}
	b.elem("RequestId", requestID)
	b.elem("HostId", hostID(requestID))
	b.close("Error")
	b.send(w, e.status)
}

// xmlDoc builds an XML document with its elements in the order given (S3's
// documents are read by parsers that do not care, but people compare them
// with AWS's).
type xmlDoc struct{ bytes.Buffer }

func (b *xmlDoc) open(name, ns string) {
	if b.Len() == 0 {
		b.WriteString(xml.Header)
	}
	b.WriteString("<" + name)
	if ns != "" {
		b.WriteString(` xmlns="` + ns + `"`)
	}
	b.WriteString(">")
}

func (b *xmlDoc) close(name string) { b.WriteString("</" + name + ">") }

// elem writes <name>text</name>, escaping text, with a quote as &quot;
// as S3 writes it (an ETag reads <ETag>&quot;...&quot;</ETag> on the
// wire). Characters XML 1.0 cannot carry become U+FFFD; encoding-type=url
// is how S3 clients ask for keys that have them.
func (b *xmlDoc) elem(name, text string) {
	b.WriteString("<" + name + ">")
	var esc strings.Builder
	xml.EscapeText(&esc, []byte(text))
	b.WriteString(strings.ReplaceAll(esc.String(), "&#34;", "&quot;"))
	b.WriteString("</" + name + ">")
}

func (b *xmlDoc) send(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

// service answers the service endpoint (no bucket): ListBuckets.
func (h *Handler) service(rq *request) {
	switch rq.r.Method {
	case http.MethodGet:
		h.listBuckets(rq)
	case http.MethodOptions:
		rq.fail(cors(rq.r))
	default:
		rq.fail(methodNotAllowed(rq.r.Method, "SERVICE", "GET"))
	}
}

// cors answers a CORS preflight: the buckets have no CORS configuration.
func cors(r *http.Request) *apiError {
	if r.Header.Get("Origin") == "" {
		return &apiError{status: http.StatusBadRequest, code: "BadRequest", message: "Insufficient information. Origin request header needed."}
	}
	return &apiError{status: http.StatusForbidden, code: "AccessForbidden", message: "CORSResponse: CORS is not enabled for this bucket."}
}

// bucketDir returns the directory of an existing bucket, or "".
func (h *Handler) bucketDir(bucket string) string {
	if !validBucketName(bucket) {
		return ""
	}
	dir := h.b.Dir(bucket)
	if dir == "" {
		return ""
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return ""
	}
	return dir
}

// ownerMismatch checks x-amz-expected-bucket-owner: a request expecting
// another account's bucket is denied, as S3 denies it.
func (h *Handler) ownerMismatch(rq *request) bool {
	want := rq.r.Header.Get("x-amz-expected-bucket-owner")
	return want != "" && want != h.account
}

// bucketRequest answers a request at a bucket's path.
func (h *Handler) bucketRequest(rq *request) {
	resource := "/" + rq.bucket
	switch rq.r.Method {
	case http.MethodGet, http.MethodHead:
	case http.MethodPut:
		// A bare PUT is CreateBucket; with a sub-resource it changes a
		// bucket's configuration, which is refused.
		if len(rq.q.selected(bucketSubresources)) == 0 {
			h.createBucket(rq)
			return
		}
		h.refuseWrite(rq, resource)
		return
	case http.MethodDelete:
		if len(rq.q.selected(bucketSubresources)) == 0 {
			h.deleteBucket(rq)
			return
		}
		h.refuseWrite(rq, resource)
		return
	case http.MethodPost:
		if _, ok := rq.q["delete"]; ok {
			h.deleteObjects(rq)
			return
		}
		h.refuseWrite(rq, resource)
		return
	case http.MethodOptions:
		rq.fail(cors(rq.r))
		return
	default:
		rq.fail(methodNotAllowed(rq.r.Method, "BUCKET", "HEAD, DELETE, POST, GET, PUT"))
		return
	}
	sel := rq.q.selected(bucketSubresources)
	if rq.head {
		if len(sel) > 1 {
			rq.fail(&apiError{status: http.StatusBadRequest})
			return
		}
		if len(sel) == 1 {
			// No sub-resource has a HEAD form.
			rq.fail(&apiError{status: http.StatusMethodNotAllowed})
			return
		}
		h.headBucket(rq)
		return
	}
	if len(sel) > 1 {
		rq.fail(invalidArgument("Conflicting query string parameters: "+strings.Join(sel, ", "), resource, "ResourceType", &sel[0]))
		return
	}
	if len(sel) == 0 {
		h.listObjects(rq)
		return
	}
	dir := h.bucketDir(rq.bucket)
	if dir == "" {
		rq.fail(noSuchBucket(rq.bucket))
		return
	}
	if h.ownerMismatch(rq) {
		rq.fail(accessDenied(resource))
		return
	}
	if sel[0] == "location" {
		h.bucketLocation(rq)
		return
	}
	rq.fail(notImplemented(resource))
}

// refuseWrite answers a write to an existing bucket with AccessDenied:
// the objects and the buckets' configurations are the flow-log service's
// and the caller may not change them, as under a bucket policy that
// denies those writes. A bucket that does not exist is NoSuchBucket
// first, as S3 says.
func (h *Handler) refuseWrite(rq *request, resource string) {
	if h.bucketDir(rq.bucket) == "" {
		rq.fail(noSuchBucket(rq.bucket))
		return
	}
	rq.fail(accessDenied(resource))
}

// headBucket answers HeadBucket: 200 with the bucket's region, or 404.
func (h *Handler) headBucket(rq *request) {
	if h.bucketDir(rq.bucket) == "" {
		rq.fail(noSuchBucket(rq.bucket))
		return
	}
	if h.ownerMismatch(rq) {
		rq.fail(accessDenied("/" + rq.bucket))
		return
	}
	hd := rq.w.Header()
	hd.Set("x-amz-bucket-region", h.region)
	hd.Set("x-amz-access-point-alias", "false")
	hd.Set("Content-Type", "application/xml")
	rq.w.WriteHeader(http.StatusOK)
}

// bucketLocation answers GetBucketLocation: the region, or an empty
// constraint for us-east-1, as S3 answers for buckets created there.
func (h *Handler) bucketLocation(rq *request) {
	var b xmlDoc
	b.open("LocationConstraint", xmlns)
	if h.region != "us-east-1" {
		xml.EscapeText(&b, []byte(h.region))
	}
	b.close("LocationConstraint")
	b.send(rq.w, http.StatusOK)
}

// objectRequest answers a request at an object's path.
func (h *Handler) objectRequest(rq *request) {
	resource := "/" + rq.bucket + "/" + rq.key
	_, upload := rq.q.get("uploadId")
	others := slices.DeleteFunc(rq.q.selected(objectSubresources), func(s string) bool { return s == "uploadId" })
	switch rq.r.Method {
	case http.MethodGet:
		if upload && len(others) == 0 {
			h.listParts(rq)
			return
		}
		h.getObject(rq)
	case http.MethodHead:
		h.getObject(rq)
	case http.MethodPut:
		switch {
		case len(others) > 0:
			// A sub-resource (?tagging, ?acl...) is an object's
			// configuration, which is refused.
			h.refuseWrite(rq, resource)
		case rq.r.Header.Get("x-amz-copy-source") != "":
			// CopyObject and UploadPartCopy are not served.
			if h.bucketDir(rq.bucket) == "" {
				rq.fail(noSuchBucket(rq.bucket))
				return
			}
			rq.fail(notImplemented(resource))
		case upload:
			h.uploadPart(rq)
		default:
			h.putObject(rq)
		}
	case http.MethodDelete:
		switch {
		case len(others) > 0:
			// A sub-resource (?tagging...) deletes something else
			// than the object, which is refused.
			h.refuseWrite(rq, resource)
		case upload:
			h.abortUpload(rq)
		default:
			h.deleteObject(rq)
		}
	case http.MethodPost:
		_, create := rq.q.get("uploads")
		switch {
		case create && !upload:
			h.createUpload(rq)
		case upload && !create:
			h.completeUpload(rq)
		case len(rq.q.selected(objectWrites)) > 0:
			h.refuseWrite(rq, resource)
		default:
			rq.fail(methodNotAllowed(rq.r.Method, "OBJECT", "HEAD, DELETE, GET, PUT"))
		}
	case http.MethodOptions:
		rq.fail(cors(rq.r))
	default:
		rq.fail(methodNotAllowed(rq.r.Method, "OBJECT", "HEAD, DELETE, GET, PUT"))
	}
}
