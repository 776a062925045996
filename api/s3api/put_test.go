package s3api_test

import (
	"bytes"
	"crypto/md5"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vpcflow/vpcflow/api/s3api"
	"github.com/vpcflow/vpcflow/internal/sdktest"
)

// Digests of "hello", by hand (md5sum, and the CRC32/CRC32C/SHA-256 of
// printf hello, in the base64 the headers carry).
const (
	helloMD5    = "5d41402abc4b2a76b9719d911017c592"
	helloCRC32  = "NhCmhg=="
	helloCRC32C = "mnG7TA=="
	helloSHA256 = "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ="
)

func sdkClient(endpoint string, calc aws.RequestChecksumCalculation, hc sdktest.Client) *s3.Client {
	return s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint), UsePathStyle: true, HTTPClient: hc,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""), RequestChecksumCalculation: calc})
}

func (g *rig) object(t *testing.T, key string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(g.bucketPath(s3api.FixBucket), filepath.FromSlash(key)))
	if err != nil {
		t.Fatalf("object %s: %v", key, err)
	}
	return b
}

// tempFiles lists what writes may leave behind in a bucket: temporary
// files beside objects (uploads in progress are listed apart).
func tempFiles(t *testing.T, dir string) []string {
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if d != nil && d.IsDir() && d.Name() == ".tmp-uploads" {
			return fs.SkipDir
		}
		if d != nil && strings.HasPrefix(d.Name(), ".tmp-s3-") {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// PutObject through the SDK, with each checksum it sends over HTTP (as a
// header): the object is stored whole, answered with the MD5 as ETag,
// replaced by a second put, and the checksums are echoed.
func TestPutObject(t *testing.T) {
	g := newRig(t, "us-east-1")
	bucket := aws.String(s3api.FixBucket)
	c := sdkClient(g.srv.URL, aws.RequestChecksumCalculationWhenSupported, sdktest.HTTPClient())
	out, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String("new/dir/hello.txt"), Body: strings.NewReader("hello")})
	ok(t, err)
	if aws.ToString(out.ETag) != `"`+helloMD5+`"` || aws.ToString(out.ChecksumCRC32) != helloCRC32 {
		t.Errorf("PutObject: ETag %s CRC32 %s", aws.ToString(out.ETag), aws.ToString(out.ChecksumCRC32))
	}
	if got := g.object(t, "new/dir/hello.txt"); string(got) != "hello" {
		t.Errorf("stored %q", got)
	}
	for _, alg := range []types.ChecksumAlgorithm{types.ChecksumAlgorithmCrc32c, types.ChecksumAlgorithmSha256} {
		out, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String("hello-" + string(alg)), Body: strings.NewReader("hello"), ChecksumAlgorithm: alg})
		ok(t, err)
		want := map[types.ChecksumAlgorithm]string{types.ChecksumAlgorithmCrc32c: helloCRC32C, types.ChecksumAlgorithmSha256: helloSHA256}[alg]
		if got := aws.ToString(out.ChecksumCRC32C) + aws.ToString(out.ChecksumSHA256); got != want {
			t.Errorf("%s: checksum echoed %q, want %q", alg, got, want)
		}
	}
	// Replaced, and read back through the API with the new ETag.
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String("new/dir/hello.txt"), Body: strings.NewReader("hello, again")})
	ok(t, err)
	get, err := g.c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String("new/dir/hello.txt")})
	ok(t, err)
	body, _ := io.ReadAll(get.Body)
	sum := md5.Sum([]byte("hello, again"))
	if string(body) != "hello, again" || aws.ToString(get.ETag) != `"`+hex.EncodeToString(sum[:])+`"` {
		t.Errorf("GetObject after the second put: %q %s", body, aws.ToString(get.ETag))
	}
	// An empty object.
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String("nothing"), Body: strings.NewReader("")})
	ok(t, err)
	if got := g.object(t, "nothing"); len(got) != 0 {
		t.Errorf("empty object holds %q", got)
	}
	if tmp := tempFiles(t, g.bucketPath(s3api.FixBucket)); len(tmp) != 0 {
		t.Errorf("temporary files left: %v", tmp)
	}
}

// rawPut sends a PUT straight to the handler.
func rawPut(h *s3api.Handler, path string, body []byte, header map[string]string) (*httptest.ResponseRecorder, errorDoc) {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("PUT", "http://127.0.0.1:4566/", bytes.NewReader(body))
	p, q, _ := strings.Cut(path, "?")
	req.URL.Path, req.URL.RawQuery = p, q
	for k, v := range header {
		req.Header.Set(k, v)
	}
	h.Serve(rec, req, body, "req-9")
	var doc errorDoc
	xml.Unmarshal(rec.Body.Bytes(), &doc)
	return rec, doc
}

// Digests that do not match the body, keys a file cannot hold, and
// aws-chunked bodies that are not: refused with S3's codes, nothing
// stored.
func TestPutObjectRefused(t *testing.T) {
	fix := s3api.BuildFixture(t)
	h := s3api.New(fix.Buckets, s3api.FixAccount, "us-east-1")
	reg := prometheus.NewRegistry()
	ok(t, h.Register(reg))
	b := "/" + s3api.FixBucket + "/"
	long := strings.Repeat("k", 1025)
	chunkedHdr := map[string]string{"X-Amz-Content-Sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "Content-Encoding": "aws-chunked",
		"X-Amz-Trailer": "x-amz-checksum-crc32", "X-Amz-Decoded-Content-Length": "5"}
	for _, tc := range []struct {
		name, path, body string
		header           map[string]string
		status           int
		code             string
	}{
		{"md5 of another body", b + "x", "hellO", map[string]string{"Content-MD5": b64hex(helloMD5)}, 400, "BadDigest"},
		{"md5 not an md5", b + "x", "hello", map[string]string{"Content-MD5": "aGVsbG8="}, 400, "InvalidDigest"},
		{"crc32 of another body", b + "x", "hellO", map[string]string{"x-amz-checksum-crc32": helloCRC32}, 400, "BadDigest"},
		{"crc32c not a crc", b + "x", "hello", map[string]string{"x-amz-checksum-crc32c": "AAAA"}, 400, "InvalidRequest"},
		{"sha256 of another body", b + "x", "hellO", map[string]string{"x-amz-checksum-sha256": helloSHA256}, 400, "BadDigest"},
		{"empty element", b + "a//x", "hello", nil, 400, "InvalidArgument"},
		{"dot-dot", b + "../outside/x", "hello", nil, 400, "InvalidArgument"},
		{"temporary name", b + "a/.tmp-1", "hello", nil, 400, "InvalidArgument"},
		{"too long", b + long, "hello", nil, 400, "KeyTooLongError"},
		{"a folder of other keys", b + "AWSLogs", "hello", nil, 409, "InvalidRequest"},
		{"under an object", b + s3api.FixIndex + "/x", "hello", nil, 409, "InvalidRequest"},
		{"through a link", b + "linked/x", "hello", nil, 409, "InvalidRequest"},
		{"no bucket", "/no-such-bucket/x", "hello", nil, 404, "NoSuchBucket"},
		{"chunked trailer of another body", b + "x", "5\r\nhellO\r\n0\r\nx-amz-checksum-crc32:" + helloCRC32 + "\r\n\r\n", chunkedHdr, 400, "BadDigest"},
		{"chunked short", b + "x", "9\r\nhello\r\n0\r\n\r\n", chunkedHdr, 400, "InvalidRequest"},
		{"chunked size not hex", b + "x", "zz\r\nhello\r\n0\r\n\r\n", chunkedHdr, 400, "InvalidRequest"},
		{"chunked trailer missing", b + "x", "5\r\nhello\r\n0\r\n\r\n", chunkedHdr, 400, "InvalidRequest"},
		{"chunked decoded length", b + "x", "4\r\nhell\r\n0\r\nx-amz-checksum-crc32:" + helloCRC32 + "\r\n\r\n", chunkedHdr, 400, "IncompleteBody"},
	} {
		rec, doc := rawPut(h, tc.path, []byte(tc.body), tc.header)
		if rec.Code != tc.status || doc.Code != tc.code {
			t.Errorf("%s: %d %s (%s), want %d %s", tc.name, rec.Code, doc.Code, doc.Message, tc.status, tc.code)
		}
	}
	for _, p := range []string{"x", "a", "AWSLogs-index.txt/x"} {
		if _, err := os.Lstat(filepath.Join(string(fix.Buckets), s3api.FixBucket, p)); err == nil {
			t.Errorf("a refused put made %s", p)
		}
	}
	if got, _ := os.ReadFile(fix.Secret); string(got) != s3api.FixSecret {
		t.Errorf("the secret beside the buckets is now %q", got)
	}
	if _, err := os.Lstat(filepath.Join(filepath.Dir(fix.Secret), "x")); err == nil {
		t.Error("a put through a link wrote outside the bucket")
	}
	// A well-formed aws-chunked body is stored decoded.
	rec, doc := rawPut(h, b+"chunked", []byte("3\r\nhel\r\n2\r\nlo\r\n0\r\nx-amz-checksum-crc32:"+helloCRC32+"\r\n\r\n"), chunkedHdr)
	if rec.Code != 200 || rec.Header().Get("ETag") != `"`+helloMD5+`"` {
		t.Errorf("aws-chunked put: %d %+v %v", rec.Code, doc, rec.Header())
	}
	got, _ := os.ReadFile(filepath.Join(string(fix.Buckets), s3api.FixBucket, "chunked"))
	if string(got) != "hello" {
		t.Errorf("aws-chunked put stored %q", got)
	}
	// Counted: 18 refusals, one object of 5 bytes.
	want := map[string]float64{"vpcflow_s3_writes_refused_total": 18, "vpcflow_s3_objects_written_total": 1, "vpcflow_s3_received_bytes_total": 5}
	mfs, err := reg.Gather()
	ok(t, err)
	for _, mf := range mfs {
		total := 0.0
		for _, m := range mf.GetMetric() {
			total += m.GetCounter().GetValue()
		}
		if w, ok := want[mf.GetName()]; ok && total != w {
			t.Errorf("%s = %v, want %v", mf.GetName(), total, w)
		}
		delete(want, mf.GetName())
	}
	if len(want) != 0 {
		t.Errorf("metrics missing: %v", want)
	}
}

func b64hex(h string) string {
	b, _ := hex.DecodeString(h)
	return base64.StdEncoding.EncodeToString(b)
}

// Over HTTPS the SDK sends aws-chunked bodies with the checksum in a
// trailer (STREAMING-UNSIGNED-PAYLOAD-TRAILER): stored decoded, checked.
func TestPutObjectAWSChunked(t *testing.T) {
	fix := s3api.BuildFixture(t)
	h := s3api.New(fix.Buckets, s3api.FixAccount, "us-east-1")
	var seen []string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		seen = append(seen, r.Header.Get("X-Amz-Content-Sha256"))
		h.Serve(w, r, body, "req-tls")
	}))
	defer srv.Close()
	hc := sdktest.HTTPClient()
	hc.C.Transport.(*http.Transport).TLSClientConfig = &tls.Config{RootCAs: srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}
	c := sdkClient(srv.URL, aws.RequestChecksumCalculationWhenSupported, hc)
	data := bytes.Repeat([]byte("flow log line\n"), 10000)
	out, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(s3api.FixBucket), Key: aws.String("tls/object"),
		Body: bytes.NewReader(data), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c})
	ok(t, err)
	sum := md5.Sum(data)
	if aws.ToString(out.ETag) != `"`+hex.EncodeToString(sum[:])+`"` {
		t.Errorf("ETag %s", aws.ToString(out.ETag))
	}
	got, err := os.ReadFile(filepath.Join(string(fix.Buckets), s3api.FixBucket, "tls", "object"))
	ok(t, err)
	if !bytes.Equal(got, data) {
		t.Errorf("stored %d bytes, want %d", len(got), len(data))
	}
	if !slices.Equal(seen, []string{"STREAMING-UNSIGNED-PAYLOAD-TRAILER"}) {
		t.Errorf("the SDK sent %v, not an aws-chunked body", seen)
	}
}

// partData is a part's content: n bytes of a pattern seeded by seed.
func partData(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i*7+i/251)
	}
	return b
}

// etagOfParts is S3's ETag of a multipart object, computed here from its
// definition: the MD5 of the concatenated binary MD5s of the parts, "-",
// the number of parts.
func etagOfParts(parts ...[]byte) string {
	var cat []byte
	for _, p := range parts {
		s := md5.Sum(p)
		cat = append(cat, s[:]...)
	}
	s := md5.Sum(cat)
	return fmt.Sprintf(`"%x-%d"`, s, len(parts))
}

// A multipart upload through the SDK: parts listed, completion refused
// for a wrong ETag, an order that is not ascending and a small part,
// then the object in place with S3's multipart ETag, the upload gone.
func TestMultipartUpload(t *testing.T) {
	g := newRig(t, "us-east-1")
	bucket, key := aws.String(s3api.FixBucket), aws.String("big/object.bin")
	c := sdkClient(g.srv.URL, aws.RequestChecksumCalculationWhenSupported, sdktest.HTTPClient())
	p1, p2, p3 := partData(5<<20, 1), partData(5<<20, 2), []byte("the last part may be small")
	up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: bucket, Key: key})
	ok(t, err)
	id := up.UploadId
	var etags []string
	for i, p := range [][]byte{p1, p2, p3} {
		out, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: bucket, Key: key, UploadId: id, PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(p)})
		ok(t, err)
		etags = append(etags, aws.ToString(out.ETag))
	}
	// A part uploaded again replaces the first one.
	out, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: bucket, Key: key, UploadId: id, PartNumber: aws.Int32(2), Body: bytes.NewReader(p2)})
	ok(t, err)
	if aws.ToString(out.ETag) != etags[1] {
		t.Errorf("the same part twice: %s, %s", etags[1], aws.ToString(out.ETag))
	}
	// Not an object yet.
	list, err := g.c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket, Prefix: aws.String("big")})
	ok(t, err)
	if len(list.Contents) != 0 {
		t.Errorf("an upload in progress is listed: %v", keysOf(list.Contents))
	}
	parts, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: bucket, Key: key, UploadId: id, MaxParts: aws.Int32(2)})
	ok(t, err)
	if len(parts.Parts) != 2 || !aws.ToBool(parts.IsTruncated) || aws.ToString(parts.NextPartNumberMarker) != "2" ||
		aws.ToInt64(parts.Parts[0].Size) != 5<<20 || aws.ToString(parts.Parts[1].ETag) != etags[1] {
		t.Errorf("ListParts page 1: %+v", parts)
	}
	parts, err = c.ListParts(ctx, &s3.ListPartsInput{Bucket: bucket, Key: key, UploadId: id, PartNumberMarker: aws.String("2")})
	ok(t, err)
	if len(parts.Parts) != 1 || aws.ToBool(parts.IsTruncated) || aws.ToInt32(parts.Parts[0].PartNumber) != 3 || aws.ToInt64(parts.Parts[0].Size) != int64(len(p3)) {
		t.Errorf("ListParts page 2: %+v", parts)
	}
	complete := func(ps ...types.CompletedPart) error {
		_, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: bucket, Key: key, UploadId: id,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: ps}})
		return err
	}
	cp := func(n int32, etag string) types.CompletedPart {
		return types.CompletedPart{PartNumber: aws.Int32(n), ETag: aws.String(etag)}
	}
	apiErr(t, complete(cp(1, etags[0]), cp(2, etags[0])), "InvalidPart", 400)
	apiErr(t, complete(cp(2, etags[1]), cp(1, etags[0])), "InvalidPartOrder", 400)
	apiErr(t, complete(cp(1, etags[0]), cp(3, etags[2]), cp(4, etags[2])), "InvalidPart", 400)
	apiErr(t, complete(cp(3, etags[2]), cp(4, etags[2])), "InvalidPart", 400)
	// Parts 1 and 3 only: 3 is last, so it may be small.
	ok(t, complete(cp(1, etags[0]), cp(2, etags[1]), cp(3, etags[2])))
	want := slices.Concat(p1, p2, p3)
	if got := g.object(t, "big/object.bin"); !bytes.Equal(got, want) {
		t.Errorf("completed object: %d bytes, want %d", len(got), len(want))
	}
	head, err := g.c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: key})
	ok(t, err)
	if aws.ToString(head.ETag) != etagOfParts(p1, p2, p3) {
		t.Errorf("HeadObject ETag %s, want %s", aws.ToString(head.ETag), etagOfParts(p1, p2, p3))
	}
	list, err = g.c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket, Prefix: aws.String("big")})
	ok(t, err)
	if len(list.Contents) != 1 || aws.ToString(list.Contents[0].ETag) != etagOfParts(p1, p2, p3) {
		t.Errorf("listed after completion: %+v", list.Contents)
	}
	_, err = c.ListParts(ctx, &s3.ListPartsInput{Bucket: bucket, Key: key, UploadId: id})
	apiErr(t, err, "NoSuchUpload", 404)
	if ents, _ := os.ReadDir(filepath.Join(g.bucketPath(s3api.FixBucket), ".tmp-uploads")); len(ents) != 0 {
		t.Errorf("the upload's folder stayed: %v", ents)
	}

	// A part smaller than 5 MiB that is not the last is refused.
	up2, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: bucket, Key: aws.String("small")})
	ok(t, err)
	var small []string
	for i := range 2 {
		out, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: bucket, Key: aws.String("small"), UploadId: up2.UploadId,
			PartNumber: aws.Int32(int32(i + 1)), Body: strings.NewReader("tiny")})
		ok(t, err)
		small = append(small, aws.ToString(out.ETag))
	}
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: bucket, Key: aws.String("small"), UploadId: up2.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{cp(1, small[0]), cp(2, small[1])}}})
	apiErr(t, err, "EntityTooSmall", 400)
	// Another key's upload id is no upload of this key.
	_, err = c.UploadPart(ctx, &s3.UploadPartInput{Bucket: bucket, Key: aws.String("other"), UploadId: up2.UploadId, PartNumber: aws.Int32(1), Body: strings.NewReader("x")})
	apiErr(t, err, "NoSuchUpload", 404)
	_, err = c.UploadPart(ctx, &s3.UploadPartInput{Bucket: bucket, Key: aws.String("small"), UploadId: up2.UploadId, PartNumber: aws.Int32(10001), Body: strings.NewReader("x")})
	apiErr(t, err, "InvalidArgument", 400)
	// Aborted: gone with its parts.
	_, err = c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: bucket, Key: aws.String("small"), UploadId: up2.UploadId})
	ok(t, err)
	_, err = c.UploadPart(ctx, &s3.UploadPartInput{Bucket: bucket, Key: aws.String("small"), UploadId: up2.UploadId, PartNumber: aws.Int32(3), Body: strings.NewReader("x")})
	apiErr(t, err, "NoSuchUpload", 404)
	if _, err := os.Stat(filepath.Join(g.bucketPath(s3api.FixBucket), "small")); err == nil {
		t.Error("an aborted upload made an object")
	}
	if ents, _ := os.ReadDir(filepath.Join(g.bucketPath(s3api.FixBucket), ".tmp-uploads")); len(ents) != 0 {
		t.Errorf("the aborted upload's folder stayed: %v", ents)
	}
	if tmp := tempFiles(t, g.bucketPath(s3api.FixBucket)); len(tmp) != 0 {
		t.Errorf("temporary files left: %v", tmp)
	}
}

// What awscli uploads with: `aws s3 cp` of 20 MiB goes in three parts of
// 8, 8 and 4 MiB (its multipart threshold and chunk size are 8 MiB);
// `aws s3api put-object` in one PUT.
func TestAwscliUploads(t *testing.T) {
	g := newRig(t, "us-east-1")
	dir := t.TempDir()
	big := partData(20<<20, 3)
	ok(t, os.WriteFile(filepath.Join(dir, "big.bin"), big, 0o644))
	ok(t, os.WriteFile(filepath.Join(dir, "small.txt"), []byte("hello"), 0o644))
	cp := g.start(t, "s3", "cp", filepath.Join(dir, "big.bin"), "s3://flowlogs-bucket/uploaded/big.bin")
	put := g.start(t, "s3api", "put-object", "--bucket", "flowlogs-bucket", "--key", "uploaded/small.txt", "--body", filepath.Join(dir, "small.txt"))
	cp.ok(t)
	out := put.ok(t)
	if !bytes.Contains(out, []byte(`"ETag": "\"`+helloMD5+`\""`)) {
		t.Errorf("put-object answered %s", out)
	}
	if got := g.object(t, "uploaded/big.bin"); !bytes.Equal(got, big) {
		t.Errorf("aws s3 cp stored %d bytes, want %d", len(got), len(big))
	}
	if got := g.object(t, "uploaded/small.txt"); string(got) != "hello" {
		t.Errorf("put-object stored %q", got)
	}
	head, err := g.c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s3api.FixBucket), Key: aws.String("uploaded/big.bin")})
	ok(t, err)
	if want := etagOfParts(big[:8<<20], big[8<<20:16<<20], big[16<<20:]); aws.ToString(head.ETag) != want {
		t.Errorf("ETag of the copied file %s, want %s (three parts)", aws.ToString(head.ETag), want)
	}
}
