package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/vpcflow/vpcflow/internal/sdktest"
	"github.com/vpcflow/vpcflow/objsink"
)

// uploadData is n deterministic bytes.
func uploadData(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i*13+i/257)
	}
	return b
}

// partsETag is S3's ETag of an object uploaded in parts of size part,
// computed here from its definition (MD5 of the parts' MD5s, "-N").
func partsETag(data []byte, part int) string {
	var cat []byte
	n := 0
	for off := 0; off < len(data); off += part {
		s := md5.Sum(data[off:min(off+part, len(data))])
		cat = append(cat, s[:]...)
		n++
	}
	return fmt.Sprintf(`"%x-%d"`, md5.Sum(cat), n)
}

// metricValue reads one sample of serve's /metrics.
func metricValue(t *testing.T, p *serveProc, name, labels string) float64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name+"{"+labels+"}") + ` (\S+)$`).FindStringSubmatch(p.get(t, "/metrics"))
	if m == nil {
		return 0
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

type killHook struct {
	c     sdktest.Client
	after func(*http.Request, *http.Response)
}

func (h killHook) Do(r *http.Request) (*http.Response, error) {
	resp, err := h.c.Do(r)
	if err == nil && h.after != nil {
		h.after(r, resp)
	}
	return resp, err
}

// serve as an upload target, end to end: awscli's `s3 cp` of 20 MiB
// (three parts) and `s3api put-object`, then the S3 sink, land byte for
// byte in the bucket's directory, with S3's ETags, counted in /metrics.
// Then serve is killed (SIGKILL) during the sink's multipart upload: the
// object is spooled, and after serve starts again on the same data dir
// and port, the sink's replay puts it in place; the cut upload is never
// an object.
func TestServeS3Uploads(t *testing.T) {
	if _, err := os.Stat(awsCLI); err != nil {
		t.Skip("awscli is not installed at /usr/bin/aws (.ci/run installs it)")
	}
	// Not parallel: the sink finds its credentials in the environment.
	dir, data := t.TempDir(), filepath.Join(t.TempDir(), "data")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	env := []string{"AWS_ACCESS_KEY_ID=" + testKeyID, "AWS_SECRET_ACCESS_KEY=" + testSecret}
	args := []string{"--data-dir", data, "--topology", "../../examples/ping.yaml", "--listen", addr}
	p := startServeEnv(t, env, args...)
	bucketDir := filepath.Join(data, "buckets", "uploads")

	awsOK(t, p, nil, "s3", "mb", "s3://uploads")
	big, small := uploadData(20<<20, 1), []byte("2 111122223333 eni-0a1b2c3d4e5f60718 - - - - - - - 1714564800 1714564860 - NODATA\n")
	os.WriteFile(filepath.Join(dir, "big.bin"), big, 0o644)
	os.WriteFile(filepath.Join(dir, "small.log"), small, 0o644)
	awsOK(t, p, nil, "s3", "cp", filepath.Join(dir, "big.bin"), "s3://uploads/site-a/big.bin")
	var put struct{ ETag string }
	awsOK(t, p, &put, "s3api", "put-object", "--bucket", "uploads", "--key", "site-a/small.log", "--body", filepath.Join(dir, "small.log"))
	if put.ETag != fmt.Sprintf(`"%x"`, md5.Sum(small)) {
		t.Errorf("put-object ETag %s", put.ETag)
	}
	var head struct{ ETag string }
	awsOK(t, p, &head, "s3api", "head-object", "--bucket", "uploads", "--key", "site-a/big.bin")
	if want := partsETag(big, 8<<20); head.ETag != want {
		t.Errorf("head-object ETag %s, want %s", head.ETag, want)
	}

	// The S3 sink, credentials from the environment as the AWS chain
	// finds them.
	home := t.TempDir()
	t.Setenv("AWS_ACCESS_KEY_ID", testKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", testSecret)
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(home, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(home, "credentials"))
	dest, err := objsink.Parse("s3://uploads/site-b")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var after func(*http.Request, *http.Response)
	sink, err := objsink.NewS3(context.Background(), dest, objsink.S3Options{Endpoint: "http://" + addr, PathStyle: true,
		PartSize: 5 << 20, HTTPClient: killHook{sdktest.HTTPClient(), func(r *http.Request, resp *http.Response) {
			mu.Lock()
			defer mu.Unlock()
			if after != nil {
				after(r, resp)
			}
		}}})
	if err != nil {
		t.Fatal(err)
	}
	spool := filepath.Join(dir, "spool")
	cfg := objsink.DefaultConfiguration()
	cfg.SpoolDir, cfg.Attempts, cfg.ReplayEvery = spool, 2, -1
	w, err := objsink.New(cfg, objsink.Dependencies{Sink: sink})
	if err != nil {
		t.Fatal(err)
	}
	obj := uploadData(12<<20, 2)
	if err := w.Put(context.Background(), "obj-1.bin", bytes.NewReader(obj), int64(len(obj))); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string][]byte{"site-a/big.bin": big, "site-a/small.log": small, "site-b/obj-1.bin": obj} {
		got, err := os.ReadFile(filepath.Join(bucketDir, filepath.FromSlash(key)))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: %d bytes stored, %v; want %d", key, len(got), err, len(want))
		}
	}
	wantParts := float64(len(big) + len(obj))
	if got := metricValue(t, p, "vpcflow_s3_received_bytes_total", `operation="UploadPart"`); got != wantParts {
		t.Errorf("UploadPart bytes in /metrics: %v, want %v", got, wantParts)
	}
	if got := metricValue(t, p, "vpcflow_s3_objects_written_total", `operation="CompleteMultipartUpload"`); got != 2 {
		t.Errorf("completed uploads in /metrics: %v, want 2", got)
	}

	// Killed after the first part of the next upload.
	killed := false
	mu.Lock()
	after = func(r *http.Request, resp *http.Response) {
		if !killed && r.Method == http.MethodPut && r.URL.Query().Has("uploadId") {
			killed = true
			p.cmd.Process.Kill()
			<-p.exited
		}
	}
	mu.Unlock()
	obj2 := uploadData(11<<20, 3)
	if err := w.Put(context.Background(), "obj-2.bin", bytes.NewReader(obj2), int64(len(obj2))); err != nil {
		t.Fatal(err)
	}
	if st := w.Stats(); !killed || st.Spooled != 1 || st.Failed != 0 {
		t.Fatalf("killed %v, stats %+v: want the object spooled", killed, st)
	}
	if _, err := os.Stat(filepath.Join(bucketDir, "site-b", "obj-2.bin")); err == nil {
		t.Fatal("the cut upload is an object")
	}
	p = startServeEnv(t, env, args...)
	if n, err := w.Replay(context.Background()); n != 1 || err != nil {
		t.Fatalf("replay: %d, %v", n, err)
	}
	got, err := os.ReadFile(filepath.Join(bucketDir, "site-b", "obj-2.bin"))
	if err != nil || !bytes.Equal(got, obj2) {
		t.Errorf("after the replay: %d bytes, %v", len(got), err)
	}
	var list struct{ Contents []struct{ Key string } }
	awsOK(t, p, &list, "s3api", "list-objects-v2", "--bucket", "uploads")
	var keys []string
	for _, c := range list.Contents {
		keys = append(keys, c.Key)
	}
	if strings.Join(keys, " ") != "site-a/big.bin site-a/small.log site-b/obj-1.bin site-b/obj-2.bin" {
		t.Errorf("listed %v", keys)
	}
	// What the kill left: the cut upload's folder, hidden; no temporary
	// object file.
	filepath.WalkDir(bucketDir, func(path string, d fs.DirEntry, err error) error {
		if d != nil && strings.HasPrefix(d.Name(), ".tmp-s3-") {
			t.Errorf("left over: %s", path)
		}
		return nil
	})
	p.stop(t)
}
