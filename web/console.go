package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vpcflow/vpcflow/api/sigv4"
	"github.com/vpcflow/vpcflow/internal/reporter"
	"github.com/vpcflow/vpcflow/region"
)

//go:embed static
var static embed.FS

// Prefix is the path under which the console is served; GET / redirects
// to it.
const Prefix = "/console/"

// apiPrefix is the path of the JSON endpoints.
const apiPrefix = Prefix + "api/"

// HeaderName is the header every endpoint request must carry (any value):
// browsers send custom headers cross-origin only after a CORS preflight,
// which this server never grants.
const HeaderName = "X-Vpcflow-Console"

// CookieName is the sign-in cookie.
const CookieName = "vpcflow_console"

// maxBody bounds an endpoint's JSON body; the largest legitimate one is a
// query text.
const maxBody = 256 << 10

// Configuration of the console.
type Configuration struct {
	// SignInTTL is how long a sign-in lasts (default 12 h).
	SignInTTL time.Duration
}

// DefaultConfiguration keeps a browser signed in for a working day.
func DefaultConfiguration() Configuration { return Configuration{SignInTTL: 12 * time.Hour} }

// Dependencies of the console.
type Dependencies struct {
	Region *region.Region
	// Credentials are the key pairs that may sign in: the API's.
	Credentials sigv4.Credentials
	Reporter    *reporter.Reporter
	// Now is the clock of sign-in expiry (default time.Now).
	Now func() time.Time
}

// Console serves the pages and their endpoints. It is an http.Handler for
// the paths under Prefix and for GET /.
type Console struct {
	cfg      Configuration
	deps     Dependencies
	files    fs.FS
	metrics  *consoleMetrics
	mu       sync.Mutex
	grants   map[string]grant // signed-in browsers, by cookie value
	sqlSlots chan struct{}    // SQL queries running

	ctx    context.Context
	cancel context.CancelFunc
}

// grant is a signed-in browser: the key it signed in with, until when.
type grant struct {
	keyID   string
	expires time.Time
}

type consoleMetrics struct {
	requests *prometheus.CounterVec
	signins  *prometheus.CounterVec
}

// New checks the dependencies and registers the console's metrics.
func New(cfg Configuration, deps Dependencies) (*Console, error) {
	if deps.Region == nil || deps.Credentials == nil || deps.Reporter == nil {
		return nil, errors.New("web: Region, Credentials and Reporter are required")
	}
	if cfg.SignInTTL <= 0 {
		cfg.SignInTTL = DefaultConfiguration().SignInTTL
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	files, err := fs.Sub(static, "static")
	if err != nil {
		return nil, err
	}
	m := &consoleMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vpcflow_console_requests_total", Help: "Console endpoint requests, by endpoint and HTTP status.",
		}, []string{"endpoint", "status"}),
		signins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vpcflow_console_signins_total", Help: "Console sign-in attempts, by result (ok, refused).",
		}, []string{"result"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.signins} {
		if err := deps.Reporter.Registerer().Register(c); err != nil {
			return nil, err
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Console{cfg: cfg, deps: deps, files: files, metrics: m, grants: map[string]grant{},
		sqlSlots: make(chan struct{}, sqlAtOnce), ctx: ctx, cancel: cancel}, nil
}

// Start does nothing: the console serves from the HTTP front's server.
// It is here so the console starts and stops like the other components.
func (c *Console) Start(context.Context) error { return nil }

// Stop cancels the queries endpoints are running and signs every browser out.
func (c *Console) Stop() error {
	c.cancel()
	c.mu.Lock()
	clear(c.grants)
	c.mu.Unlock()
	return nil
}

// Handles reports whether a request is the console's: GET / and the paths
// under Prefix, when the request is not signed for the AWS API (an S3
// client's path-style requests are signed; a browser's are not).
func Handles(r *http.Request) bool {
	if r.Header.Get("Authorization") != "" || r.URL.Query().Get("X-Amz-Signature") != "" {
		return false
	}
	return (r.URL.Path == "/" && (r.Method == http.MethodGet || r.Method == http.MethodHead)) ||
		strings.HasPrefix(r.URL.Path, Prefix) || r.URL.Path == strings.TrimSuffix(Prefix, "/")
}

// ServeHTTP serves the console.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Pages are never framed nor fed foreign scripts.
	h := w.Header()
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'")
	p := r.URL.Path
	switch {
	case p == "/" || p == strings.TrimSuffix(Prefix, "/"):
		http.Redirect(w, r, Prefix, http.StatusFound)
	case strings.HasPrefix(p, apiPrefix):
		c.serveAPI(w, r, strings.TrimPrefix(p, apiPrefix))
	default:
		c.serveFile(w, r, strings.TrimPrefix(p, Prefix))
	}
}

// serveFile serves an embedded file; every other path is the single page
// (its router reads the fragment).
func (c *Console) serveFile(w http.ResponseWriter, r *http.Request, name string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name = path.Clean("/" + name)[1:]
	if name == "" {
		name = "index.html"
	}
	data, err := fs.ReadFile(c.files, name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	ct := mime.TypeByExtension(path.Ext(name))
	if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	if r.Method == http.MethodHead {
		return
	}
	w.Write(data)
}

// apiError is an endpoint's refusal: the HTTP status, a code (the AWS
// error code where the service gave one) and a message for the page.
type apiError struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func badRequest(format string, args ...any) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: "BadRequest", Message: sprintf(format, args...)}
}

// endpoint answers one JSON request; in is the request body.
type endpoint func(ctx context.Context, in json.RawMessage) (any, error)

func (c *Console) serveAPI(w http.ResponseWriter, r *http.Request, name string) {
	status := http.StatusOK
	label := "unknown"
	defer func() { c.metrics.requests.WithLabelValues(label, strconv.Itoa(status)).Inc() }()
	w.Header().Set("Cache-Control", "no-store")
	fail := func(e *apiError) {
		status = e.Status
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(e.Status)
		json.NewEncoder(w).Encode(map[string]any{"error": e})
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		fail(&apiError{Status: http.StatusMethodNotAllowed, Code: "MethodNotAllowed", Message: "endpoints take POST with a JSON body"})
		return
	}
	if r.Header.Get(HeaderName) == "" {
		fail(&apiError{Status: http.StatusForbidden, Code: "MissingHeader", Message: "requests must carry the " + HeaderName + " header"})
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		fail(&apiError{Status: http.StatusUnsupportedMediaType, Code: "UnsupportedMediaType", Message: "the body must be application/json"})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		fail(&apiError{Status: http.StatusRequestEntityTooLarge, Code: "BodyTooLarge", Message: sprintf("the body must be at most %d bytes", maxBody)})
		return
	}
	if len(body) == 0 {
		body = []byte("{}")
	}
	switch name {
	case "signin":
		label = name
		c.signIn(w, body, fail)
		return
	case "signout":
		label = name
		c.signOut(w, r)
		return
	}
	ep, ok := c.endpoints()[name]
	if !ok {
		fail(&apiError{Status: http.StatusNotFound, Code: "UnknownEndpoint", Message: sprintf("no endpoint %q", name)})
		return
	}
	label = name
	if !c.signedIn(r) {
		fail(&apiError{Status: http.StatusUnauthorized, Code: "SignInRequired", Message: "sign in with the service's access key"})
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	stop := context.AfterFunc(c.ctx, cancel)
	defer stop()
	out, err := ep(ctx, body)
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			ae = serviceError(err)
		}
		fail(ae)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(out); err != nil {
		c.deps.Reporter.Debug("console: writing an answer", "endpoint", name, "err", err)
	}
}

// signIn checks a key pair against the API's credentials and gives the
// browser its cookie.
func (c *Console) signIn(w http.ResponseWriter, body []byte, fail func(*apiError)) {
	var in struct {
		AccessKeyID     string `json:"accessKeyId"`
		SecretAccessKey string `json:"secretAccessKey"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		fail(badRequest("the body is not a sign-in request: %v", err))
		return
	}
	secret, ok := c.deps.Credentials.Secret(strings.TrimSpace(in.AccessKeyID))
	if !ok || subtle.ConstantTimeCompare([]byte(secret), []byte(strings.TrimSpace(in.SecretAccessKey))) != 1 {
		c.metrics.signins.WithLabelValues("refused").Inc()
		fail(&apiError{Status: http.StatusUnauthorized, Code: "SignInRefused",
			Message: "the access key id and secret do not match the service's key (DATA_DIR/credentials, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY of serve's environment)"})
		return
	}
	var b [32]byte
	rand.Read(b[:])
	token := hex.EncodeToString(b[:])
	now := c.deps.Now()
	c.mu.Lock()
	for k, s := range c.grants {
		if now.After(s.expires) {
			delete(c.grants, k)
		}
	}
	c.grants[token] = grant{keyID: strings.TrimSpace(in.AccessKeyID), expires: now.Add(c.cfg.SignInTTL)}
	c.mu.Unlock()
	c.metrics.signins.WithLabelValues("ok").Inc()
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: token, Path: Prefix, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, MaxAge: int(c.cfg.SignInTTL / time.Second)})
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(c.identity())
}

func (c *Console) signOut(w http.ResponseWriter, r *http.Request) {
	if ck, err := r.Cookie(CookieName); err == nil {
		c.mu.Lock()
		delete(c.grants, ck.Value)
		c.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: Prefix, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, MaxAge: -1})
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, "{}\n")
}

// signedIn reports whether the request carries a live sign-in whose key
// is still one of the credentials.
func (c *Console) signedIn(r *http.Request) bool {
	ck, err := r.Cookie(CookieName)
	if err != nil {
		return false
	}
	c.mu.Lock()
	s, ok := c.grants[ck.Value]
	if ok && c.deps.Now().After(s.expires) {
		delete(c.grants, ck.Value)
		ok = false
	}
	c.mu.Unlock()
	if !ok {
		return false
	}
	_, ok = c.deps.Credentials.Secret(s.keyID)
	return ok
}

func (c *Console) identity() map[string]string {
	id := c.deps.Region.Identity()
	return map[string]string{"account": id.Account, "region": id.Region}
}
