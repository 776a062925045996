package s3api

import (
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sys/unix"

	"github.com/vpcflow/vpcflow/internal/bucketlock"
)

// metrics count what the write operations took in, so that a user of
// `vpcflow serve` as an upload target sees its traffic in /metrics.
type metrics struct {
	bytes   *prometheus.CounterVec
	objects *prometheus.CounterVec
	refused *prometheus.CounterVec
}

func newMetrics() *metrics {
	return &metrics{
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vpcflow_s3_received_bytes_total",
			Help: "Payload bytes S3 writes stored (PutObject, UploadPart), by operation.",
		}, []string{"operation"}),
		objects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vpcflow_s3_objects_written_total",
			Help: "Objects S3 writes put in place (PutObject, CompleteMultipartUpload), by operation.",
		}, []string{"operation"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vpcflow_s3_writes_refused_total",
			Help: "S3 writes answered with an error, nothing stored, by operation and error code.",
		}, []string{"operation", "code"}),
	}
}

// Register adds the write counters to reg.
func (h *Handler) Register(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{h.m.bytes, h.m.objects, h.m.refused} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// refuse answers a write with e and counts it.
func (h *Handler) refuse(rq *request, op string, e *apiError) {
	h.m.refused.WithLabelValues(op, e.code).Inc()
	rq.fail(e)
}

// etagXattr holds an object's ETag when it is not the MD5 of its content
// (an object completed from parts): S3 gives such an object the MD5 of
// its parts' MD5s and "-N", which the bytes alone cannot tell.
const etagXattr = "user.vpcflow.s3.etag"

// errKeyConflict says a key cannot be a file because a folder of other
// keys stands where its file would (or a file where its folder would).
var errKeyConflict = errors.New("key conflicts with another key's file or folder")

// unwritableKey answers a key that a file cannot hold. S3 takes any key
// up to 1024 bytes; a directory of files cannot hold "a//b", "./a", ".."
// or names of temporary files, and listing could never give them back.
func unwritableKey(rq *request, resource string) *apiError {
	if len(rq.key) > maxKeyBytes {
		return &apiError{status: http.StatusBadRequest, code: "KeyTooLongError", message: "Your key is too long", resource: resource}
	}
	return &apiError{status: http.StatusBadRequest, code: "InvalidArgument", resource: resource,
		message: "vpcflow keeps each object as a file: every '/'-separated part of the key must be a file name " +
			"(not empty, '.', '..', or starting with " + tempPrefix + "; no NUL or backslash; UTF-8)",
		extra: [][2]string{{"ArgumentName", "key"}, {"ArgumentValue", rq.key}}}
}

func keyConflict(resource string) *apiError {
	return &apiError{status: http.StatusConflict, code: "InvalidRequest", resource: resource,
		message: "vpcflow keeps each object as a file: the key names a folder of other objects, or one of its folders is an object"}
}

// randomName is a temporary file or upload name no other writer picks.
func randomName(prefix string) string {
	var b [uploadIDLen / 2]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// writeObject puts an object in place atomically: its content goes to a
// temporary file beside the key's file (never listed or served), is
// synced, then renamed over the key, so a reader sees the old object or
// the new one, never a part. The bucket's shared lock is held meanwhile,
// as the delivery holds it, so DeleteBucket and the pruning of empty
// folders do not remove the folders under the write. fill writes the
// content; etag, when not "", is kept with the file as its ETag.
func writeObject(dir, key string, etag string, fill func(f *os.File) error) error {
	elems, ok := keyPath(key)
	if !ok {
		return errNoObject
	}
	lock, err := bucketlock.Shared(dir)
	if err != nil {
		return err
	}
	defer lock.Unlock()
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	for _, e := range elems[:len(elems)-1] {
		fi, err := root.Lstat(e)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if err := root.Mkdir(e, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
				root.Close()
				return err
			}
		case err != nil:
			root.Close()
			return err
		case !fi.IsDir():
			// A file (an object) or a link: no folder can be made
			// there, and a link is never followed.
			root.Close()
			return errKeyConflict
		}
		sub, err := root.OpenRoot(e)
		root.Close()
		if err != nil {
			return err
		}
		root = sub
	}
	defer root.Close()
	name := elems[len(elems)-1]
	if fi, err := root.Lstat(name); err == nil && fi.IsDir() {
		return errKeyConflict
	}
	tmp := randomName(tempPrefix + "s3-")
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	done := false
	defer func() {
		if !done {
			f.Close()
			root.Remove(tmp)
		}
	}()
	if err := fill(f); err != nil {
		return err
	}
	if etag != "" {
		if err := unix.Fsetxattr(int(f.Fd()), etagXattr, []byte(etag), 0); err != nil {
			return fmt.Errorf("keep the ETag of a multipart object: %w", err)
		}
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := root.Rename(tmp, name); err != nil {
		return err
	}
	done = true
	// The rename is durable once the folder is synced.
	if d, err := root.Open("."); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// writeFailure maps writeObject's error to S3's answer.
func writeFailure(rq *request, resource string, err error) *apiError {
	switch {
	case errors.Is(err, errNoObject):
		return unwritableKey(rq, resource)
	case errors.Is(err, errKeyConflict):
		return keyConflict(resource)
	case errors.Is(err, bucketlock.ErrNoBucket):
		return noSuchBucket(rq.bucket)
	}
	return internalError(resource)
}

// putObject answers PutObject: the body (an aws-chunked one decoded) is
// checked against Content-MD5 and the x-amz-checksum-* headers or trailer,
// then written in place atomically.
func (h *Handler) putObject(rq *request) {
	const op = "PutObject"
	resource := "/" + rq.bucket + "/" + rq.key
	dir := h.bucketDir(rq.bucket)
	if dir == "" {
		h.refuse(rq, op, noSuchBucket(rq.bucket))
		return
	}
	if h.ownerMismatch(rq) {
		h.refuse(rq, op, accessDenied(resource))
		return
	}
	if _, ok := keyPath(rq.key); !ok {
		h.refuse(rq, op, unwritableKey(rq, resource))
		return
	}
	data, hd, e := payloadOf(rq.r, rq.body, resource)
	if e == nil {
		_, e = verifyDigestHeaders(hd, data, resource)
	}
	if e != nil {
		h.refuse(rq, op, e)
		return
	}
	sum := md5.Sum(data)
	etag := `"` + hex.EncodeToString(sum[:]) + `"`
	err := writeObject(dir, rq.key, "", func(f *os.File) error { _, err := f.Write(data); return err })
	if err != nil {
		h.refuse(rq, op, writeFailure(rq, resource, err))
		return
	}
	h.m.bytes.WithLabelValues(op).Add(float64(len(data)))
	h.m.objects.WithLabelValues(op).Inc()
	w := rq.w.Header()
	w.Set("ETag", etag)
	w.Set("x-amz-server-side-encryption", "AES256")
	echoChecksums(w, hd)
	rq.w.WriteHeader(http.StatusOK)
}

// echoChecksums repeats the checksums a write carried, as S3 answers
// them once verified.
func echoChecksums(w, hd http.Header) {
	for _, c := range checksums {
		if v := hd.Get("x-amz-checksum-" + c.header); v != "" {
			w.Set("x-amz-checksum-"+c.header, strings.TrimSpace(v))
		}
	}
}
