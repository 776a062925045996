package objsink_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vpcflow/vpcflow/api"
	"github.com/vpcflow/vpcflow/api/sigv4"
	"github.com/vpcflow/vpcflow/internal/reporter"
	"github.com/vpcflow/vpcflow/internal/sdktest"
	"github.com/vpcflow/vpcflow/objsink"
	"github.com/vpcflow/vpcflow/region"
)

var ctx = context.Background()

const (
	testKey    = "AKIATESTSINK"
	testSecret = "sink-secret"
	bucket     = "flowlogs-sink"
)

// server is `vpcflow serve`'s region and front (the ping example, in
// eu-west-1) on a temporary data dir; the front can be stopped and
// started again on the same address, the region staying.
type server struct {
	t    testing.TB
	r    *region.Region
	c    *api.Component
	addr string
	data string
}

func startServer(t testing.TB) *server {
	t.Helper()
	cfg := region.DefaultConfiguration()
	cfg.DataDir, cfg.TopologyFile = t.TempDir(), "../examples/ping.yaml"
	r, err := region.New(cfg, region.Dependencies{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Stop() })
	s := &server{t: t, r: r, addr: "127.0.0.1:0", data: cfg.DataDir}
	s.start()
	t.Cleanup(func() { s.stop() })
	if err := os.MkdirAll(r.BucketDir(bucket), 0o755); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *server) start() {
	s.t.Helper()
	ln, err := api.Listen(s.addr)
	if err != nil {
		s.t.Fatal(err)
	}
	c, err := api.New(api.Configuration{Listener: ln}, api.Dependencies{Region: s.r, Reporter: reporter.New(nil),
		Credentials: sigv4.StaticCredentials{testKey: testSecret}})
	if err != nil {
		s.t.Fatal(err)
	}
	if err := c.Start(ctx); err != nil {
		s.t.Fatal(err)
	}
	s.c, s.addr = c, c.Addr()
}

func (s *server) stop() {
	if s.c != nil {
		s.c.Stop()
		s.c = nil
	}
}

// stored is an object as `vpcflow serve` keeps it.
func (s *server) stored(key string) ([]byte, error) {
	return os.ReadFile(filepath.Join(s.r.BucketDir(bucket), filepath.FromSlash(key)))
}

// credentialsFromEnv puts the test's key where the AWS chain finds it
// first, and no config file that could add another.
func credentialsFromEnv(t testing.TB) {
	home := t.TempDir()
	t.Setenv("AWS_ACCESS_KEY_ID", testKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", testSecret)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(home, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(home, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

// hookClient is the tests' SDK HTTP client with a hook after each
// answer.
type hookClient struct {
	c     sdktest.Client
	after func(*http.Request, *http.Response)
}

func (h hookClient) Do(r *http.Request) (*http.Response, error) {
	resp, err := h.c.Do(r)
	if err == nil && h.after != nil {
		h.after(r, resp)
	}
	return resp, err
}

// object is a test object: a key and deterministic bytes.
type object struct {
	key  string
	data []byte
}

func objects(sizes ...int) []object {
	var out []object
	for i, n := range sizes {
		b := make([]byte, n)
		for j := range b {
			b[j] = byte(i*31 + j*7 + j/509)
		}
		key := fmt.Sprintf("AWSLogs/111122223333/vpcflowlogs/eu-west-1/2024/05/01/111122223333_vpcflowlogs_eu-west-1_fl-0a1b2c3d4e5f6000%d_20240501T1200Z_%08x.log.gz", i, i)
		out = append(out, object{key, b})
	}
	return out
}

func newS3Sink(t testing.TB, s *server, prefix string, after func(*http.Request, *http.Response)) *objsink.S3 {
	t.Helper()
	d, err := objsink.Parse("s3://" + bucket + "/" + prefix)
	if err != nil {
		t.Fatal(err)
	}
	sink, err := objsink.NewS3(ctx, d, objsink.S3Options{Endpoint: "http://" + s.addr, PathStyle: true, PartSize: 5 << 20,
		HTTPClient: hookClient{sdktest.HTTPClient(), after}})
	if err != nil {
		t.Fatal(err)
	}
	return sink
}

func newWriter(t *testing.T, sink objsink.Sink, spool string) *objsink.Writer {
	t.Helper()
	cfg := objsink.DefaultConfiguration()
	cfg.SpoolDir, cfg.Attempts, cfg.Backoff, cfg.ReplayEvery = spool, 2, 10*time.Millisecond, -1
	w, err := objsink.New(cfg, objsink.Dependencies{Sink: sink, Registerer: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// The same objects through the local sink and through the S3 sink into
// `vpcflow serve`: byte-identical files, read back identical through the
// S3 API, the large one uploaded in parts (its ETag says 3).
func TestS3SinkMatchesDir(t *testing.T) {
	credentialsFromEnv(t)
	s := startServer(t)
	objs := objects(0, 1, 300, 64<<10, 12<<20)
	dir := objsink.Dir(filepath.Join(t.TempDir(), "bucket"))
	sink := newS3Sink(t, s, "site-a", nil)
	w := newWriter(t, sink, t.TempDir())
	for _, o := range objs {
		if err := dir.Put(ctx, "site-a/"+o.key, bytes.NewReader(o.data), int64(len(o.data))); err != nil {
			t.Fatal(err)
		}
		if err := w.Put(ctx, o.key, bytes.NewReader(o.data), int64(len(o.data))); err != nil {
			t.Fatal(err)
		}
	}
	if st := w.Stats(); st.Put != int64(len(objs)) || st.Spooled != 0 || st.Failed != 0 || st.Retries != 0 {
		t.Errorf("stats %+v", st)
	}
	for _, o := range objs {
		local, err := os.ReadFile(filepath.Join(string(dir), "site-a", filepath.FromSlash(o.key)))
		if err != nil || !bytes.Equal(local, o.data) {
			t.Errorf("local %s: %d bytes, %v", o.key, len(local), err)
		}
		remote, err := s.stored("site-a/" + o.key)
		if err != nil || !bytes.Equal(remote, local) {
			t.Errorf("served %s: %d bytes, %v; local %d", o.key, len(remote), err, len(local))
		}
		out, err := sink.Client().GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("site-a/" + o.key)})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(out.Body)
		out.Body.Close()
		if !bytes.Equal(got, o.data) {
			t.Errorf("GetObject %s: %d bytes", o.key, len(got))
		}
		if len(o.data) > 5<<20 && !strings.HasSuffix(aws.ToString(out.ETag), `-3"`) {
			t.Errorf("%s of %d bytes: ETag %s, want a 3-part upload's", o.key, len(o.data), aws.ToString(out.ETag))
		}
		if len(o.data) <= 5<<20 && aws.ToString(out.ETag) != fmt.Sprintf(`"%x"`, md5.Sum(o.data)) {
			t.Errorf("%s: ETag %s", o.key, aws.ToString(out.ETag))
		}
	}
	if tmp := leftovers(t, string(dir)); len(tmp) != 0 {
		t.Errorf("the local sink left %v", tmp)
	}
}

func leftovers(t *testing.T, root string) []string {
	var out []string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if d != nil && strings.HasPrefix(d.Name(), ".tmp-") {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// The server is stopped while a multipart upload is under way (after its
// first part): the object and those that follow are spooled, none
// returned as an error. After the server and the writer restart, the
// replay puts every object in place, byte for byte, and empties the
// spool; the upload the stop cut is never an object.
func TestServerKilledMidUpload(t *testing.T) {
	credentialsFromEnv(t)
	s := startServer(t)
	spool := t.TempDir()
	var parts atomic.Int32
	var once sync.Once
	sink := newS3Sink(t, s, "", func(r *http.Request, resp *http.Response) {
		if r.Method == http.MethodPut && r.URL.Query().Has("uploadId") && resp.StatusCode == 200 {
			parts.Add(1)
			once.Do(s.stop)
		}
	})
	w := newWriter(t, sink, spool)
	objs := objects(11<<20, 10, 2000, 7<<20)
	for _, o := range objs {
		if err := w.Put(ctx, o.key, bytes.NewReader(o.data), int64(len(o.data))); err != nil {
			t.Fatalf("Put %s: %v (an object the sink refused must be spooled)", o.key, err)
		}
	}
	if parts.Load() != 1 {
		t.Fatalf("%d parts went through before the stop, want 1", parts.Load())
	}
	if st := w.Stats(); st.Spooled != 4 || st.Put != 0 || st.Failed != 0 || st.Pending != 4 || st.Retries != 4 {
		t.Errorf("stats while the server is down %+v", st)
	}
	for _, o := range objs {
		if _, err := s.stored(o.key); err == nil {
			t.Errorf("%s is in the bucket though the server stopped", o.key)
		}
	}
	// Still down: a replay leaves everything spooled.
	if n, err := w.Replay(ctx); n != 0 || err == nil {
		t.Errorf("replay with the server down: %d, %v", n, err)
	}

	// Restart both: the new writer replays the spool at Start.
	s.start()
	w2 := newWriter(t, newS3Sink(t, s, "", nil), spool)
	if err := w2.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer w2.Stop()
	if st := w2.Stats(); st.Replayed != 4 || st.Pending != 0 || st.ReplayErrors != 0 {
		t.Errorf("stats after the replay %+v", st)
	}
	for _, o := range objs {
		got, err := s.stored(o.key)
		if err != nil || !bytes.Equal(got, o.data) {
			t.Errorf("after the replay %s: %d bytes, %v; want %d", o.key, len(got), err, len(o.data))
		}
	}
	if ents, _ := os.ReadDir(spool); len(ents) != 0 {
		t.Errorf("the spool still holds %d files", len(ents))
	}
	out, err := newS3Sink(t, s, "", nil).Client().ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Contents) != len(objs) {
		t.Errorf("the bucket lists %d objects, want %d", len(out.Contents), len(objs))
	}
}

// Without a spool a failure is the caller's, counted as Failed.
func TestNoSpoolFails(t *testing.T) {
	w := newWriter(t, objsink.Dir(filepath.Join(t.TempDir(), "b")), "")
	err := w.Put(ctx, "../escape", bytes.NewReader(nil), 0)
	if err == nil || !strings.Contains(err.Error(), `element ".."`) {
		t.Errorf("Put ../escape: %v", err)
	}
	if st := w.Stats(); st.Failed != 1 || st.Retries != 1 {
		t.Errorf("stats %+v", st)
	}
}

// Puts from many goroutines at once, half into a store that refuses them
// (spooled) and half taken: each object once, in the sink or the spool,
// and the counts add up.
func TestConcurrentPuts(t *testing.T) {
	dir := objsink.Dir(filepath.Join(t.TempDir(), "bucket"))
	spool := t.TempDir()
	w := newWriter(t, flaky{dir}, spool)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 25 {
				key := fmt.Sprintf("g%d/%d", g, i)
				if i%2 == 1 {
					key = "refused/" + key
				}
				if err := w.Put(ctx, key, strings.NewReader(key), int64(len(key))); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	st := w.Stats()
	if st.Put != 8*13 || st.Spooled != 8*12 || st.Pending != 8*12 || st.Failed != 0 {
		t.Errorf("stats %+v", st)
	}
	if ents, _ := os.ReadDir(spool); len(ents) != 8*12 {
		t.Errorf("%d files in the spool", len(ents))
	}
	for g := range 8 {
		for i := 0; i < 25; i += 2 {
			key := fmt.Sprintf("g%d/%d", g, i)
			if b, err := os.ReadFile(filepath.Join(string(dir), key)); err != nil || string(b) != key {
				t.Errorf("%s: %q %v", key, b, err)
			}
		}
	}
}

// flaky refuses the keys under refused/.
type flaky struct{ objsink.Dir }

func (f flaky) Put(ctx context.Context, key string, body io.ReaderAt, size int64) error {
	if strings.HasPrefix(key, "refused/") {
		return fmt.Errorf("refused %s", key)
	}
	return f.Dir.Put(ctx, key, body, size)
}
