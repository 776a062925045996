package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/vpcflow/vpcflow/api/cwapi"
	"github.com/vpcflow/vpcflow/api/ec2"
	"github.com/vpcflow/vpcflow/api/gdapi"
	"github.com/vpcflow/vpcflow/api/iamapi"
	"github.com/vpcflow/vpcflow/api/logsapi"
	"github.com/vpcflow/vpcflow/api/s3api"
	"github.com/vpcflow/vpcflow/api/sigv4"
	"github.com/vpcflow/vpcflow/internal/reporter"
	"github.com/vpcflow/vpcflow/region"
	"github.com/vpcflow/vpcflow/web"
)

// Configuration of the HTTP front.
type Configuration struct {
	// Listen is the address to listen on (default 127.0.0.1:4566).
	Listen string
	// Listener, when set, is used instead of listening on Listen (see
	// Listen: a server binds first, so its data dir's lock can name the
	// address).
	Listener net.Listener
}

// DefaultConfiguration listens on loopback only, on the port AWS emulators
// conventionally use.
func DefaultConfiguration() Configuration { return Configuration{Listen: "127.0.0.1:4566"} }

// Dependencies of the HTTP front.
type Dependencies struct {
	Region   *region.Region
	Reporter *reporter.Reporter // its Gatherer is what /metrics serves
	// Credentials are the access keys requests may be signed with.
	Credentials sigv4.Credentials
	// Console, when set, answers the browser's requests: GET / and the
	// paths under /console/ that carry no AWS signature (web.Handles).
	Console http.Handler
}

// Component is the HTTP front.
type Component struct {
	cfg      Configuration
	deps     Dependencies
	ln       net.Listener
	srv      *http.Server
	done     chan error
	services map[string]service // by SigV4 signing name
	verifier *sigv4.Verifier
	metrics  *frontMetrics
}

// New checks the configuration; nothing listens before Start.
func New(cfg Configuration, deps Dependencies) (*Component, error) {
	if cfg.Listen == "" {
		cfg.Listen = DefaultConfiguration().Listen
	}
	if deps.Region == nil || deps.Reporter == nil || deps.Credentials == nil {
		return nil, errors.New("api: Region, Reporter and Credentials are required")
	}
	m, err := newFrontMetrics(deps.Reporter.Registerer())
	if err != nil {
		return nil, err
	}
	s3h := s3api.New(s3api.DirBuckets(deps.Region.BucketDir("")), deps.Region.Identity().Account, deps.Region.Identity().Region)
	if err := s3h.Register(deps.Reporter.Registerer()); err != nil {
		return nil, err
	}
	c := &Component{cfg: cfg, deps: deps, metrics: m,
		verifier: &sigv4.Verifier{Creds: deps.Credentials, Region: deps.Region.Identity().Region}}
	c.services = map[string]service{
		"ec2":        ec2Service{ec2.New(deps.Region)},
		"guardduty":  gdService{gdapi.New(deps.Region)},
		"iam":        iamService{iamapi.New(deps.Region.IAM())},
		"logs":       logsService{logsapi.New(deps.Region.Logs())},
		"monitoring": cwService{cwapi.New(deps.Region.Logs())},
		"s3":         s3Service{s3h},
	}
	return c, nil
}

// Listen binds addr, so a server learns of a port in use (and of the port
// chosen for ":0") before it opens anything else.
func Listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return ln, nil
}

// Addr is the address listened on (after Start).
func (c *Component) Addr() string { return c.ln.Addr().String() }

// Start serves requests until Stop.
func (c *Component) Start(ctx context.Context) error {
	c.ln = c.cfg.Listener
	if c.ln == nil {
		ln, err := Listen(c.cfg.Listen)
		if err != nil {
			return err
		}
		c.ln = ln
	}
	metrics := promhttp.HandlerFor(c.deps.Reporter.Gatherer(), promhttp.HandlerOpts{})
	// Not an http.ServeMux: it cleans paths ("//", ".."), which are
	// legitimate parts of S3 keys.
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/healthz":
			c.healthz(w, r)
		case r.Method == http.MethodGet && r.URL.Path == "/metrics":
			metrics.ServeHTTP(w, r)
		case c.deps.Console != nil && web.Handles(r):
			c.deps.Console.ServeHTTP(w, r)
		default:
			c.serveAWS(w, r)
		}
	})
	c.srv = &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second,
		BaseContext: func(net.Listener) context.Context { return ctx }}
	c.done = make(chan error, 1)
	go func() { c.done <- c.srv.Serve(c.ln) }()
	return nil
}

// Stop stops accepting requests and waits (up to 5 s) for those in flight.
func (c *Component) Stop() error {
	if c.srv == nil {
		if c.ln != nil {
			return c.ln.Close()
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := c.srv.Shutdown(ctx)
	if serr := <-c.done; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}

func (c *Component) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(c.deps.Region.Health())
}
