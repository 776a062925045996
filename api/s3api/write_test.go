package s3api_test

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/vpcflow/vpcflow/api/s3api"
	"github.com/vpcflow/vpcflow/internal/bucketlock"
)

// The expected codes, statuses and messages of these tests are those of
// the S3 API reference (CreateBucket, DeleteBucket, DeleteObject,
// DeleteObjects and its list of error codes) and of the general purpose
// bucket naming rules; the digests' check values are the published ones
// of each algorithm for "123456789".

// apiMessage checks an error's code, status and message.
func apiMessage(t *testing.T, err error, code string, status int, message string) {
	t.Helper()
	apiErr(t, err, code, status)
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorMessage() != message {
		t.Errorf("%s: message %q, want %q", code, ae.ErrorMessage(), message)
	}
}

func (g *rig) bucketPath(name string) string { return filepath.Join(string(g.fix.Buckets), name) }

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

func bucketNames(t *testing.T, c *s3.Client) []string {
	t.Helper()
	out, err := c.ListBuckets(ctx, &s3.ListBucketsInput{})
	ok(t, err)
	var names []string
	for _, b := range out.Buckets {
		names = append(names, aws.ToString(b.Name))
	}
	return names
}

func TestCreateBucketUSEast1(t *testing.T) {
	g := newRig(t, "us-east-1")
	out, err := g.c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("new-bucket")})
	ok(t, err)
	if aws.ToString(out.Location) != "/new-bucket" {
		t.Errorf("Location %q, want /new-bucket", aws.ToString(out.Location))
	}
	if fi, err := os.Stat(g.bucketPath("new-bucket")); err != nil || !fi.IsDir() {
		t.Fatalf("the bucket's directory: %v", err)
	}
	_, err = g.c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("new-bucket")})
	ok(t, err)
	if got, want := bucketNames(t, g.c), []string{"archive.example-bucket", "flowlogs-bucket", "new-bucket"}; !slices.Equal(got, want) {
		t.Errorf("buckets %v, want %v", got, want)
	}
	list, err := g.c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("new-bucket")})
	ok(t, err)
	if len(list.Contents) != 0 || aws.ToInt32(list.KeyCount) != 0 {
		t.Errorf("a new bucket lists %+v", list.Contents)
	}
	// In us-east-1, creating a bucket one owns again succeeds (S3's legacy
	// behaviour there), and the objects stay.
	_, err = g.c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(s3api.FixBucket)})
	ok(t, err)
	list, err = g.c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(s3api.FixBucket)})
	ok(t, err)
	if got := keysOf(list.Contents); !slices.Equal(got, s3api.FixKeys) {
		t.Errorf("after creating it again: %v", got)
	}
	// us-east-1 takes no location constraint, and no other region's.
	_, err = g.c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("east-bucket"),
		CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: "us-east-1"}})
	apiMessage(t, err, "InvalidLocationConstraint", 400, "The specified location-constraint is not valid")
	_, err = g.c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("west-bucket"),
		CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: "eu-west-1"}})
	apiMessage(t, err, "IllegalLocationConstraintException", 400,
		"The eu-west-1 location constraint is incompatible for the region specific endpoint this request was sent to.")
	for _, name := range []string{"east-bucket", "west-bucket"} {
		if exists(g.bucketPath(name)) {
			t.Errorf("refused bucket %s was made", name)
		}
	}
}

func TestCreateBucketOtherRegion(t *testing.T) {
	g := newRig(t, "eu-west-1")
	_, err := g.c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("eu-bucket")})
	apiMessage(t, err, "IllegalLocationConstraintException", 400,
		"The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.")
	_, err = g.c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("eu-bucket"),
		CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: "eu-central-1"}})
	apiMessage(t, err, "IllegalLocationConstraintException", 400,
		"The eu-central-1 location constraint is incompatible for the region specific endpoint this request was sent to.")
	if exists(g.bucketPath("eu-bucket")) {
		t.Fatal("a refused bucket was made")
	}
	_, err = g.c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("eu-bucket"),
		CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: "eu-west-1"}})
	ok(t, err)
	loc, err := g.c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("eu-bucket")})
	ok(t, err)
	if loc.LocationConstraint != "eu-west-1" {
		t.Errorf("location %q", loc.LocationConstraint)
	}
	// Outside us-east-1, a bucket one owns is BucketAlreadyOwnedByYou.
	_, err = g.c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("eu-bucket"),
		CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: "eu-west-1"}})
	apiMessage(t, err, "BucketAlreadyOwnedByYou", 409, "Your previous request to create the named bucket succeeded and you already own it.")
	var owned *types.BucketAlreadyOwnedByYou
	if !errors.As(err, &owned) {
		t.Errorf("the SDK does not see BucketAlreadyOwnedByYou: %T", err)
	}
}

// TestBucketNames: S3's naming rules for general purpose buckets, each
// broken once, and names at their limits.
func TestBucketNames(t *testing.T) {
	g := newRig(t, "us-east-1")
	for _, name := range []string{
		"ab",                    // fewer than 3 characters
		strings.Repeat("a", 64), // more than 63
		"Upper-case",            // uppercase
		"under_score",           // underscore
		"-starts-with-hyphen",   // must begin with a letter or digit
		"ends-with-hyphen-",     // must end with one
		"ends.with.period.",     //
		"two..periods",          // adjacent periods
		"192.168.5.4",           // formatted as an IP address
		"xn--punycode",          // reserved prefixes
		"sthree-configurator",   //
		"amzn-s3-demo-bucket",   //
		"alias-s3alias",         // reserved suffixes
		"lambda--ol-s3",         //
		"global.mrap",           //
		"tables--table-s3",      //
		"space in-name",         // other characters
	} {
		_, err := g.c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)})
		apiMessage(t, err, "InvalidBucketName", 400, "The specified bucket is not valid.")
		if exists(g.bucketPath(name)) {
			t.Errorf("%q: a directory was made", name)
		}
	}
	// The SDK takes a name ending in --x-s3 for a directory bucket and
	// asks for a session first: that one goes raw.
	if rec, doc := serve(g.h, "PUT", "/express--x-s3", nil); rec.Code != 400 || doc.Code != "InvalidBucketName" {
		t.Errorf("express--x-s3: %d %+v", rec.Code, doc)
	}
	for _, name := range []string{"abc", strings.Repeat("a", 63), "flow.logs-2024", "192.168.5", "1.2.3.4.5", "0-0"} {
		_, err := g.c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)})
		if err != nil {
			t.Errorf("%q: %v", name, err)
		}
	}
}

func TestDeleteBucket(t *testing.T) {
	g := newRig(t, "us-east-1")
	_, err := g.c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(s3api.FixBucket)})
	apiMessage(t, err, "BucketNotEmpty", 409, "The bucket you tried to delete is not empty")
	_, err = g.c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("no-such-bucket")})
	apiMessage(t, err, "NoSuchBucket", 404, "The specified bucket does not exist")
	_, err = g.c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(s3api.FixDotted), ExpectedBucketOwner: aws.String("999988887777")})
	apiErr(t, err, "AccessDenied", 403)

	// A bucket that holds what is no object: empty directories, a
	// temporary file of a killed writer, a link out of the bucket. They go
	// with it; what the link pointed to stays.
	_, err = g.c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("to-delete")})
	ok(t, err)
	dir := g.bucketPath("to-delete")
	ok(t, os.MkdirAll(filepath.Join(dir, "AWSLogs", "111122223333", "empty"), 0o755))
	ok(t, os.WriteFile(filepath.Join(dir, "AWSLogs", ".tmp-999999999-1"), []byte("partial"), 0o644))
	ok(t, os.Symlink(filepath.Dir(g.fix.Secret), filepath.Join(dir, "outside")))
	_, err = g.c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("to-delete")})
	ok(t, err)
	if exists(dir) {
		t.Error("the bucket's directory is still there")
	}
	if b, err := os.ReadFile(g.fix.Secret); err != nil || string(b) != s3api.FixSecret {
		t.Errorf("the file outside the bucket: %q %v", b, err)
	}
	_, err = g.c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("to-delete")})
	apiErr(t, err, "NotFound", 404)
	if got, want := bucketNames(t, g.c), []string{"archive.example-bucket", "flowlogs-bucket"}; !slices.Equal(got, want) {
		t.Errorf("buckets %v, want %v", got, want)
	}
	// Nothing is left beside the buckets but the fixture's own entries.
	entries, err := os.ReadDir(string(g.fix.Buckets))
	ok(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{".tmp-bucket", "archive.example-bucket", "flowlogs-bucket"}; !slices.Equal(names, want) {
		t.Errorf("buckets directory holds %v, want %v", names, want)
	}
	_, err = g.c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("to-delete")})
	apiErr(t, err, "NoSuchBucket", 404)
}

// TestDeleteBucketWhileDelivering: while the delivery writes an object
// into a bucket (it holds the bucket's lock until the object is renamed
// into place), the bucket is not empty; once the object is finished, it
// is an object, and the bucket can go only after it.
func TestDeleteBucketWhileDelivering(t *testing.T) {
	g := newRig(t, "us-east-1")
	_, err := g.c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("delivering")})
	ok(t, err)
	dir := g.bucketPath("delivering")
	lock, err := bucketlock.Shared(dir)
	ok(t, err)
	ok(t, os.MkdirAll(filepath.Join(dir, "AWSLogs"), 0o755))
	tmp := filepath.Join(dir, "AWSLogs", ".tmp-1-1")
	ok(t, os.WriteFile(tmp, []byte("records"), 0o644))
	_, err = g.c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("delivering")})
	apiErr(t, err, "BucketNotEmpty", 409)
	ok(t, os.Rename(tmp, filepath.Join(dir, "AWSLogs", "object.log.gz")))
	ok(t, lock.Unlock())
	_, err = g.c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("delivering")})
	apiErr(t, err, "BucketNotEmpty", 409)
	_, err = g.c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("delivering"), Key: aws.String("AWSLogs/object.log.gz")})
	ok(t, err)
	_, err = g.c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("delivering")})
	ok(t, err)
}

func TestDeleteObject(t *testing.T) {
	g := newRig(t, "us-east-1")
	bucket := aws.String(s3api.FixBucket)
	del := func(key string, version *string) error {
		_, err := g.c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: bucket, Key: aws.String(key), VersionId: version})
		return err
	}
	ok(t, del(s3api.FixKey1, nil))
	_, err := g.c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String(s3api.FixKey1)})
	apiErr(t, err, "NoSuchKey", 404)
	// The only version of an object in an unversioned bucket is "null".
	ok(t, del(s3api.FixKey3, aws.String("null")))
	err = del(s3api.FixKey2, aws.String("3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY"))
	apiMessage(t, err, "InvalidArgument", 400, "Invalid version id specified")
	// A key that names no object is deleted with success, and nothing
	// changes: missing, a folder, a temporary file, a link.
	for _, key := range []string{"AWSLogs/nope.log.gz", "AWSLogs/", "AWSLogs", s3api.FixDay + "01/.tmp-4242-1234567", "alias.txt", "linked/secret.txt", "up/outside/secret.txt"} {
		if err := del(key, nil); err != nil {
			t.Errorf("delete %q: %v", key, err)
		}
	}
	err = del("x", nil)
	ok(t, err)
	_, err = g.c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("no-such-bucket"), Key: aws.String("x")})
	apiMessage(t, err, "NoSuchBucket", 404, "The specified bucket does not exist")
	_, err = g.c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: bucket, Key: aws.String(s3api.FixIndex), ExpectedBucketOwner: aws.String("999988887777")})
	apiErr(t, err, "AccessDenied", 403)

	list, err := g.c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket})
	ok(t, err)
	if got, want := keysOf(list.Contents), []string{s3api.FixIndex, s3api.FixKey2, s3api.FixKeyProd, s3api.FixSpecial}; !slices.Equal(got, want) {
		t.Errorf("after the deletes: %v, want %v", got, want)
	}
	bdir := g.bucketPath(s3api.FixBucket)
	for _, p := range []string{s3api.FixDay + "01/.tmp-4242-1234567", "alias.txt", "linked", "up"} {
		if !exists(filepath.Join(bdir, filepath.FromSlash(p))) {
			t.Errorf("%s, no object, was removed", p)
		}
	}
	if b, err := os.ReadFile(g.fix.Secret); err != nil || string(b) != s3api.FixSecret {
		t.Errorf("the file outside the bucket: %q %v", b, err)
	}
	// The day folder of the last object deleted went with it; the others
	// hold files still.
	if exists(filepath.Join(bdir, filepath.FromSlash(s3api.FixDay), "02")) {
		t.Error("the emptied folder 02 is still there")
	}
	if !exists(filepath.Join(bdir, filepath.FromSlash(s3api.FixDay), "01")) {
		t.Error("folder 01, which holds an object, was removed")
	}
}

// TestDeleteObjectKeepsFoldersWhileDelivering: a folder emptied while an
// object is being written into the bucket stays (the delivery may be
// about to write into it); the object is deleted all the same.
func TestDeleteObjectKeepsFoldersWhileDelivering(t *testing.T) {
	g := newRig(t, "us-east-1")
	bdir := g.bucketPath(s3api.FixBucket)
	lock, err := bucketlock.Shared(bdir)
	ok(t, err)
	_, err = g.c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s3api.FixBucket), Key: aws.String(s3api.FixKey3)})
	ok(t, err)
	ok(t, lock.Unlock())
	day := filepath.Join(bdir, filepath.FromSlash(s3api.FixDay), "02")
	if _, err := os.Lstat(filepath.Join(day, filepath.Base(s3api.FixKey3))); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the object: %v", err)
	}
	if !exists(day) {
		t.Error("the folder was removed under the delivery")
	}
}

func TestDeleteObjects(t *testing.T) {
	g := newRig(t, "us-east-1")
	bucket := aws.String(s3api.FixBucket)
	long := strings.Repeat("k", 1025)
	out, err := g.c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: bucket, Delete: &types.Delete{Objects: []types.ObjectIdentifier{
		{Key: aws.String(s3api.FixKey1)},
		{Key: aws.String("AWSLogs/missing.log.gz")},
		{Key: aws.String(s3api.FixIndex), VersionId: aws.String("null")},
		{Key: aws.String(s3api.FixSpecial), VersionId: aws.String("abc")},
		{Key: aws.String(long)},
		{Key: aws.String(s3api.FixKey2)},
	}}})
	ok(t, err)
	type del struct{ key, version string }
	var deleted []del
	for _, d := range out.Deleted {
		deleted = append(deleted, del{aws.ToString(d.Key), aws.ToString(d.VersionId)})
	}
	if want := []del{{s3api.FixKey1, ""}, {"AWSLogs/missing.log.gz", ""}, {s3api.FixIndex, "null"}, {s3api.FixKey2, ""}}; !slices.Equal(deleted, want) {
		t.Errorf("Deleted %v, want %v", deleted, want)
	}
	type fail struct{ key, version, code, message string }
	var errs []fail
	for _, e := range out.Errors {
		errs = append(errs, fail{aws.ToString(e.Key), aws.ToString(e.VersionId), aws.ToString(e.Code), aws.ToString(e.Message)})
	}
	if want := []fail{
		{s3api.FixSpecial, "abc", "InvalidArgument", "Invalid version id specified"},
		{long, "", "KeyTooLongError", "Your key is too long"},
	}; !slices.Equal(errs, want) {
		t.Errorf("Errors %v, want %v", errs, want)
	}
	list, err := g.c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket})
	ok(t, err)
	if got, want := keysOf(list.Contents), []string{s3api.FixKey3, s3api.FixKeyProd, s3api.FixSpecial}; !slices.Equal(got, want) {
		t.Errorf("after DeleteObjects: %v, want %v", got, want)
	}

	// Quiet: only the errors.
	out, err = g.c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: bucket, Delete: &types.Delete{Quiet: aws.Bool(true), Objects: []types.ObjectIdentifier{
		{Key: aws.String(s3api.FixKey3)}, {Key: aws.String(long)},
	}}})
	ok(t, err)
	if len(out.Deleted) != 0 || len(out.Errors) != 1 || aws.ToString(out.Errors[0].Code) != "KeyTooLongError" {
		t.Errorf("quiet: Deleted %v, Errors %v", out.Deleted, out.Errors)
	}
	if _, err := g.c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: aws.String(s3api.FixKey3)}); err == nil {
		t.Error("quiet: the object was not deleted")
	}
	_, err = g.c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("no-such-bucket"),
		Delete: &types.Delete{Objects: []types.ObjectIdentifier{{Key: aws.String("x")}}}})
	apiMessage(t, err, "NoSuchBucket", 404, "The specified bucket does not exist")
}

// rawDelete posts a DeleteObjects body with the headers given.
func rawDelete(h *s3api.Handler, body string, header map[string]string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "http://127.0.0.1:4566/flowlogs-bucket?delete", strings.NewReader(body))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	h.Serve(rec, req, []byte(body), "req-d")
	return rec
}

// b64 is the base64 of the bytes a hex string spells.
func b64(t *testing.T, hexDigits string) string {
	t.Helper()
	b, err := hex.DecodeString(hexDigits)
	ok(t, err)
	return base64.StdEncoding.EncodeToString(b)
}

// TestDeleteObjectsDigests: DeleteObjects needs Content-MD5 or a
// checksum header, and each is checked against the body. The body
// "123456789" is no Delete document: with a digest that matches it, the
// request gets as far as the XML (MalformedXML); with one that does not,
// it stops at BadDigest.
func TestDeleteObjectsDigests(t *testing.T) {
	fix := s3api.BuildFixture(t)
	h := s3api.New(fix.Buckets, s3api.FixAccount, "us-east-1")
	const check = "123456789"
	for _, tc := range []struct {
		header, good, wrongName string
	}{
		{"Content-MD5", b64(t, "25f9e794323b453885f5181f1b624d0b"), "Content-MD5"},
		{"x-amz-checksum-crc32", b64(t, "cbf43926"), "CRC32"},
		{"x-amz-checksum-crc32c", b64(t, "e3069283"), "CRC32C"},
		{"x-amz-checksum-crc64nvme", b64(t, "ae8b14860a799888"), "CRC64NVME"},
		{"x-amz-checksum-sha1", b64(t, "f7c3bc1d808e04732adf679965ccc34ca7ae3441"), "SHA1"},
		{"x-amz-checksum-sha256", b64(t, "15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225"), "SHA256"},
	} {
		rec := rawDelete(h, check, map[string]string{tc.header: tc.good})
		if doc := errorOf(t, rec); rec.Code != 400 || doc.Code != "MalformedXML" ||
			doc.Message != "The XML you provided was not well-formed or did not validate against our published schema" {
			t.Errorf("%s matching: %d %+v, want MalformedXML", tc.header, rec.Code, doc)
		}
		// The same digest for another body.
		rec = rawDelete(h, check+"0", map[string]string{tc.header: tc.good})
		want := "The " + tc.wrongName + " you specified did not match the calculated checksum."
		if tc.header == "Content-MD5" {
			want = "The Content-MD5 you specified did not match what we received."
		}
		if doc := errorOf(t, rec); rec.Code != 400 || doc.Code != "BadDigest" || doc.Message != want {
			t.Errorf("%s differing: %d %+v, want BadDigest %q", tc.header, rec.Code, doc, want)
		}
	}
	rec := rawDelete(h, check, nil)
	if doc := errorOf(t, rec); rec.Code != 400 || doc.Code != "InvalidRequest" || doc.Message != "Missing required header for this request: Content-MD5" {
		t.Errorf("no digest: %d %+v", rec.Code, doc)
	}
	rec = rawDelete(h, check, map[string]string{"Content-MD5": "not-an-md5"})
	if doc := errorOf(t, rec); rec.Code != 400 || doc.Code != "InvalidDigest" || doc.Message != "The Content-MD5 you specified was invalid." {
		t.Errorf("bad Content-MD5: %d %+v", rec.Code, doc)
	}
	rec = rawDelete(h, check, map[string]string{"x-amz-checksum-crc32": "AAAA"})
	if doc := errorOf(t, rec); rec.Code != 400 || doc.Code != "InvalidRequest" || doc.Message != "Value for x-amz-checksum-crc32 header is invalid." {
		t.Errorf("bad crc32: %d %+v", rec.Code, doc)
	}
}

func errorOf(t *testing.T, rec *httptest.ResponseRecorder) errorDoc {
	t.Helper()
	var doc errorDoc
	if err := xml.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Errorf("error document %q: %v", rec.Body.String(), err)
	}
	return doc
}

// TestDeleteObjectsBodies: the bodies S3 refuses as MalformedXML, and the
// answer's document for one it takes, byte for byte.
func TestDeleteObjectsBodies(t *testing.T) {
	fix := s3api.BuildFixture(t)
	h := s3api.New(fix.Buckets, s3api.FixAccount, "us-east-1")
	md5Header := func(body string) map[string]string {
		return map[string]string{"Content-MD5": base64.StdEncoding.EncodeToString(md5Bytes(body))}
	}
	var thousandOne strings.Builder
	thousandOne.WriteString("<Delete>")
	for range 1001 {
		thousandOne.WriteString("<Object><Key>k</Key></Object>")
	}
	thousandOne.WriteString("</Delete>")
	for _, body := range []string{
		"",
		"<Delete>",
		"<Delete></Delete>", // no object
		"<Remove><Object><Key>k</Key></Object></Remove>", // another document
		"<Delete><Object></Object></Delete>",             // no key
		"<Delete><Object><Key></Key></Object></Delete>",
		"<Delete><Object><Key>k</Key></Object><Quiet>yes</Quiet></Delete>",
		thousandOne.String(),
	} {
		rec := rawDelete(h, body, md5Header(body))
		if doc := errorOf(t, rec); rec.Code != 400 || doc.Code != "MalformedXML" {
			t.Errorf("%.60q: %d %+v, want MalformedXML", body, rec.Code, doc)
		}
	}
	body := `<?xml version="1.0" encoding="UTF-8"?>` +
		`<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Object><Key>AWSLogs-index.txt</Key></Object>` +
		`<Object><Key>a&amp;b</Key><VersionId>v1</VersionId></Object><Quiet>false</Quiet></Delete>`
	rec := rawDelete(h, body, md5Header(body))
	want := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` +
		`<Deleted><Key>AWSLogs-index.txt</Key></Deleted>` +
		`<Error><Key>a&amp;b</Key><VersionId>v1</VersionId><Code>InvalidArgument</Code><Message>Invalid version id specified</Message></Error>` +
		`</DeleteResult>`
	if rec.Code != 200 || rec.Body.String() != want || rec.Header().Get("Content-Type") != "application/xml" {
		t.Errorf("answer %d %s\n%s\nwant\n%s", rec.Code, rec.Header().Get("Content-Type"), rec.Body.String(), want)
	}
	if exists(filepath.Join(string(fix.Buckets), s3api.FixBucket, s3api.FixIndex)) {
		t.Error("AWSLogs-index.txt was not deleted")
	}
}

// TestPagesAfterDeletes: a listing continued after objects were deleted,
// including the last one its page returned and the next one, goes on with
// the keys that remain, none twice, none missed.
func TestPagesAfterDeletes(t *testing.T) {
	g := newRig(t, "us-east-1")
	bucket := aws.String(s3api.FixBucket)
	p1, err := g.c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket, MaxKeys: aws.Int32(2)})
	ok(t, err)
	if got := keysOf(p1.Contents); !slices.Equal(got, []string{s3api.FixIndex, s3api.FixKey1}) || p1.NextContinuationToken == nil {
		t.Fatalf("first page %v", got)
	}
	for _, k := range []string{s3api.FixKey1, s3api.FixKey2} {
		_, err := g.c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: bucket, Key: aws.String(k)})
		ok(t, err)
	}
	p2, err := g.c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket, MaxKeys: aws.Int32(2), ContinuationToken: p1.NextContinuationToken})
	ok(t, err)
	if got := keysOf(p2.Contents); !slices.Equal(got, []string{s3api.FixKey3, s3api.FixKeyProd}) || p2.NextContinuationToken == nil {
		t.Fatalf("second page %v", got)
	}
	_, err = g.c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: bucket, Delete: &types.Delete{Objects: []types.ObjectIdentifier{
		{Key: aws.String(s3api.FixKeyProd)}, {Key: aws.String(s3api.FixSpecial)},
	}}})
	ok(t, err)
	p3, err := g.c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket, MaxKeys: aws.Int32(2), ContinuationToken: p2.NextContinuationToken})
	ok(t, err)
	if len(p3.Contents) != 0 || aws.ToBool(p3.IsTruncated) {
		t.Errorf("third page %v, truncated %v: every later key was deleted", keysOf(p3.Contents), aws.ToBool(p3.IsTruncated))
	}
	// With a delimiter: the prefix whose objects all went is no longer one.
	top, err := g.c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket, Delimiter: aws.String("/")})
	ok(t, err)
	if got := prefixesOf(top.CommonPrefixes); !slices.Equal(got, []string{"AWSLogs/"}) {
		t.Errorf("prefixes after the deletes %v, want [AWSLogs/]", got)
	}
}

// TestWritesVirtualHosted: the bucket in the Host header for the writes
// too (PUT / and POST /?delete at BUCKET.localhost).
func TestWritesVirtualHosted(t *testing.T) {
	g := newRig(t, "us-east-1")
	_, port, _ := net.SplitHostPort(g.srv.Listener.Addr().String())
	var mu sync.Mutex
	var hosts []string
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		mu.Lock()
		hosts = append(hosts, addr)
		mu.Unlock()
		return (&net.Dialer{}).DialContext(ctx, network, g.srv.Listener.Addr().String())
	}}}
	c := newClient("http://localhost:"+port, "us-east-1", false, hc)
	_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("virtual-bucket")})
	ok(t, err)
	if !exists(g.bucketPath("virtual-bucket")) {
		t.Error("CreateBucket made no directory")
	}
	out, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(s3api.FixBucket), Delete: &types.Delete{Objects: []types.ObjectIdentifier{
		{Key: aws.String(s3api.FixIndex)},
	}}})
	ok(t, err)
	if len(out.Deleted) != 1 || aws.ToString(out.Deleted[0].Key) != s3api.FixIndex {
		t.Errorf("DeleteObjects %+v", out)
	}
	_, err = c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("virtual-bucket")})
	ok(t, err)
	mu.Lock()
	defer mu.Unlock()
	want := []string{"virtual-bucket.localhost", s3api.FixBucket + ".localhost", "virtual-bucket.localhost"}
	if len(hosts) == 0 {
		t.Fatal("no connection")
	}
	for _, h := range hosts {
		name, _, _ := net.SplitHostPort(h)
		if !slices.Contains(want, name) {
			t.Errorf("the client dialed %s, not a bucket's host", h)
		}
	}
}

func md5Bytes(s string) []byte {
	sum := md5.Sum([]byte(s))
	return sum[:]
}
