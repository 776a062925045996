package api

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vpcflow/vpcflow/api/cwapi"
	"github.com/vpcflow/vpcflow/api/gdapi"
	"github.com/vpcflow/vpcflow/api/query"
	"github.com/vpcflow/vpcflow/api/s3api"
	"github.com/vpcflow/vpcflow/api/sigv4"
)

// MaxBodyBytes bounds a request body of the Query and JSON protocols: the
// largest legitimate ones (an IAM policy of 10 KB, a PutLogEvents batch of
// 1 MB) fit with room to spare.
const MaxBodyBytes = 2 << 20

// MaxS3PutBytes bounds the body of an S3 PUT (PutObject, UploadPart),
// which is held in memory until its digests are checked and it is written.
// S3 takes up to 5 GB in one PUT; clients upload larger objects in parts
// (awscli in parts of 8 MiB, the SDKs' upload managers of 5 MiB), so this
// bound only refuses single PUTs no client needs to make this large.
const MaxS3PutBytes = 64 << 20

// service is one AWS protocol the front serves.
type service interface {
	// serve answers an authenticated request.
	serve(w http.ResponseWriter, c *call, requestID string)
	// writeError answers with the service's own error document.
	writeError(w http.ResponseWriter, status int, code, message, requestID string)
}

// Query-protocol API versions, which tell the services apart when a request
// does not say which service it signed for.
const (
	ec2Version = "2016-11-15"
	iamVersion = "2010-05-08"
)

// queryVersions names the service of a Query API version.
var queryVersions = map[string]string{ec2Version: "ec2", iamVersion: "iam", cwapi.Version: "monitoring"}

// frontMetrics count every request by service, action and status.
type frontMetrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newFrontMetrics(reg prometheus.Registerer) (*frontMetrics, error) {
	m := &frontMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vpcflow_api_requests_total", Help: "AWS API requests answered, by service, action and HTTP status.",
		}, []string{"service", "action", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "vpcflow_api_request_seconds", Help: "Time to answer an AWS API request, by service.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}, []string{"service"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.latency} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// statusWriter remembers the status a handler wrote, for the metrics.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// newRequestID returns a random id in the form AWS uses
// (8-4-4-4-12 hex digits).
func newRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// serveAWS is the entry of every AWS protocol request: it reads the body
// (bounded), finds the service, verifies the signature, then hands the
// request to the service; every answer is logged and counted.
func (c *Component) serveAWS(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := newRequestID()
	sw := &statusWriter{ResponseWriter: w}
	w = sw
	name, action := "unknown", "unknown"
	defer func() {
		status := strconv.Itoa(max(sw.status, http.StatusOK))
		c.metrics.requests.WithLabelValues(name, action, status).Inc()
		c.metrics.latency.WithLabelValues(name).Observe(time.Since(start).Seconds())
		c.deps.Reporter.Debug("api request", "service", name, "action", action, "status", status,
			"request_id", id, "remote", r.RemoteAddr, "seconds", time.Since(start).Seconds())
	}()
	w.Header().Set("x-amzn-RequestId", id)

	// Only S3 takes PUT requests.
	limit, s3Put := int64(MaxBodyBytes), r.Method == http.MethodPut
	if s3Put {
		limit = MaxS3PutBytes
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		if s3Put {
			s3api.WriteError(w, http.StatusBadRequest, "EntityTooLarge",
				fmt.Sprintf("Your proposed upload exceeds the maximum allowed size (%d bytes here; upload larger objects in parts)", limit), r.URL.Path, id)
			return
		}
		c.fallback(r).writeError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge",
			fmt.Sprintf("Request body must be at most %d bytes", MaxBodyBytes), id)
		return
	}
	if err != nil {
		c.fallback(r).writeError(w, http.StatusBadRequest, "MalformedQueryString", "The request body could not be read: "+err.Error(), id)
		return
	}
	// The protocol: JSON names its action in X-Amz-Target, Smithy RPC v2
	// in the path /service/<Service>/operation/<Action> with a
	// Smithy-Protocol header, S3 is REST on any path, the Query protocols
	// post forms to "/".
	svcName := sigv4.ServiceOf(r)
	var req *query.Request
	var qerr error
	target := r.Header.Get("X-Amz-Target")
	rpc := r.Header.Get("Smithy-Protocol") != ""
	switch {
	case rpc:
		rpcSvc, op, ok := rpcOperation(r.URL.Path)
		if svcName == "" {
			svcName = rpcServices[rpcSvc]
		}
		if ok {
			action = op
		}
	case target != "":
		prefix, op, _ := strings.Cut(target, ".")
		if svcName == "" {
			svcName = jsonTargets[prefix]
		}
		action = op
	case svcName == gdapi.SigningName:
		// REST-JSON on its own paths: only the signature tells it from
		// S3.
		action = gdapi.Operation(r.Method, r.URL.EscapedPath())
	case svcName == "s3" || r.URL.Path != "/":
		svcName, action = "s3", r.Method
	default:
		req, qerr = query.Parse(r, body)
		if svcName == "" && req != nil {
			svcName = queryVersions[req.Version]
		}
		if req != nil && req.Action != "" {
			action = req.Action
		}
	}
	svc, ok := c.services[svcName]
	if ps, multi := svc.(multiProtocolService); ok && multi {
		// The service answers in the protocol asked for, errors included.
		switch {
		case rpc:
			svc = ps.forProtocol(protoCBOR)
		case target != "":
			svc = ps.forProtocol(protoJSON)
		}
	} else if ok && rpc {
		svc, ok = c.fallback(r), false
	}
	if !ok {
		svc = c.fallback(r)
		if svcName != "" {
			name = svcName
			svc.writeError(w, http.StatusBadRequest, "UnknownService", fmt.Sprintf("vpcflow does not serve the %q API", svcName), id)
			return
		}
	}
	name = svcName
	if err := c.verify(svcName, r, body); err != nil {
		var ae *sigv4.Error
		if errors.As(err, &ae) {
			if ae.Service != svcName && svcName != "" {
				ae = ae.For(svcName) // the service told by the protocol
			}
			svc.writeError(w, ae.Status, ae.Code, ae.Message, id)
		} else {
			svc.writeError(w, http.StatusForbidden, "AuthFailure", err.Error(), id)
		}
		return
	}
	if qerr != nil {
		var qe *query.Error
		if errors.As(qerr, &qe) {
			svc.writeError(w, qe.Status, qe.Code, qe.Message, id)
		} else {
			svc.writeError(w, http.StatusBadRequest, "MalformedQueryString", qerr.Error(), id)
		}
		return
	}
	svc.serve(w, &call{r: r, body: body, query: req, action: action}, id)
}

// jsonTargets names the service of an X-Amz-Target prefix, for requests
// whose signature does not.
var jsonTargets = map[string]string{"Logs_20140328": "logs", cwapi.TargetPrefix: "monitoring"}

// rpcServices names the service of a Smithy RPC v2 path's service id.
var rpcServices = map[string]string{cwapi.ServiceID: "monitoring"}

// protocol is a wire protocol a service may speak besides its own.
type protocol int

const (
	protoCBOR protocol = iota + 1 // Smithy RPC v2 CBOR
	protoJSON                     // AWS JSON 1.0 (X-Amz-Target)
)

// multiProtocolService is a service that speaks several protocols (as
// CloudWatch speaks Query, JSON 1.0 and CBOR): forProtocol is the same
// service answering in the given one.
type multiProtocolService interface {
	service
	forProtocol(protocol) service
}

// rpcOperation reads /service/<Service>/operation/<Action>; ok is false
// when the path names no operation (svc is then whatever it names).
func rpcOperation(path string) (svc, op string, ok bool) {
	rest, _ := strings.CutPrefix(path, "/service/")
	svc, rest, _ = strings.Cut(rest, "/")
	op, ok = strings.CutPrefix(rest, "operation/")
	if !ok || op == "" || strings.Contains(op, "/") {
		return svc, "", false
	}
	return svc, op, true
}

// call is one request as the services see it: the raw request and body,
// the decoded form (Query protocols) and the action.
type call struct {
	r      *http.Request
	body   []byte
	query  *query.Request
	action string
}

// verify checks the signature. IAM is a global service whose requests
// AWS's SDKs sign for us-east-1 whatever the caller's region, so they are
// accepted with either scope.
func (c *Component) verify(svcName string, r *http.Request, body []byte) error {
	_, err := c.verifier.Verify(r, body)
	var ae *sigv4.Error
	if svcName == "iam" && errors.As(err, &ae) && ae.Kind == sigv4.KindScope {
		global := *c.verifier
		global.Region = "us-east-1"
		_, err = global.Verify(r, body)
	}
	return err
}

// fallback is the service whose error format answers a request that names
// none: EC2's, the protocol most clients of this server speak.
func (c *Component) fallback(*http.Request) service { return c.services["ec2"] }
