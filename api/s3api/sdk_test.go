package s3api_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/vpcflow/vpcflow/api/s3api"
)

// The expected values here are written by hand from the S3 API reference
// (shapes, codes, messages, headers) and from the fixture's files, never
// from the code under test. An object's ETag is the MD5 of the bytes the
// fixture wrote.

var ctx = context.Background()

// rig is the handler behind an HTTP server that does what the front does
// for S3: read the body and call Serve with a request id (no signature
// check here: the front does that).
type rig struct {
	fix *s3api.Fixture
	h   *s3api.Handler
	srv *httptest.Server
	c   *s3.Client
	ids atomic.Int64
}

func newRig(t *testing.T, region string) *rig {
	t.Helper()
	g := &rig{fix: s3api.BuildFixture(t)}
	g.h = s3api.New(g.fix.Buckets, s3api.FixAccount, region)
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Error(err)
			return
		}
		g.h.Serve(w, r, body, fmt.Sprintf("req-%d", g.ids.Add(1)))
	}))
	t.Cleanup(g.srv.Close)
	g.c = newClient(g.srv.URL, region, true, nil)
	return g
}

func newClient(endpoint, region string, pathStyle bool, hc *http.Client) *s3.Client {
	o := s3.Options{
		Region:       region,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		UsePathStyle: pathStyle,
	}
	if hc != nil {
		o.HTTPClient = hc
	}
	return s3.New(o)
}

func ok(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// apiErr checks that err is the S3 error code with the HTTP status.
func apiErr(t *testing.T, err error, code string, status int) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("got %v, want %s", err, code)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != status {
		t.Fatalf("got %v, want HTTP %d", err, status)
	}
}

func etagOf(b []byte) string {
	sum := md5.Sum(b)
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

func keysOf(objs []types.Object) []string {
	var out []string
	for _, o := range objs {
		out = append(out, aws.ToString(o.Key))
	}
	return out
}

func prefixesOf(cps []types.CommonPrefix) []string {
	var out []string
	for _, p := range cps {
		out = append(out, aws.ToString(p.Prefix))
	}
	return out
}

func TestListBuckets(t *testing.T) {
	g := newRig(t, "us-east-1")
	before := time.Now().Add(-time.Minute)
	out, err := g.c.ListBuckets(ctx, &s3.ListBucketsInput{})
	ok(t, err)
	var names []string
	for _, b := range out.Buckets {
		names = append(names, aws.ToString(b.Name))
		created := aws.ToTime(b.CreationDate)
		if created.Before(before) || created.After(time.Now().Add(time.Minute)) {
			t.Errorf("bucket %s created %v: the fixture made it just now", aws.ToString(b.Name), created)
		}
		if aws.ToString(b.BucketRegion) != "us-east-1" {
			t.Errorf("bucket %s in %q", aws.ToString(b.Name), aws.ToString(b.BucketRegion))
		}
	}
	// Name order; the hidden .tmp-bucket directory is no bucket.
	if want := []string{"archive.example-bucket", "flowlogs-bucket"}; !slices.Equal(names, want) {
		t.Errorf("buckets %v, want %v", names, want)
	}
	// A canonical user id: 64 hex digits, not the account id.
	if id := aws.ToString(out.Owner.ID); !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(id) {
		t.Errorf("owner id %q", id)
	}
	if out.ContinuationToken != nil {
		t.Errorf("a full list has a continuation token %q", aws.ToString(out.ContinuationToken))
	}

	// A page at a time.
	p1, err := g.c.ListBuckets(ctx, &s3.ListBucketsInput{MaxBuckets: aws.Int32(1)})
	ok(t, err)
	if len(p1.Buckets) != 1 || aws.ToString(p1.Buckets[0].Name) != "archive.example-bucket" || p1.ContinuationToken == nil {
		t.Fatalf("first page %+v", p1)
	}
	p2, err := g.c.ListBuckets(ctx, &s3.ListBucketsInput{MaxBuckets: aws.Int32(1), ContinuationToken: p1.ContinuationToken})
	ok(t, err)
	if len(p2.Buckets) != 1 || aws.ToString(p2.Buckets[0].Name) != "flowlogs-bucket" || p2.ContinuationToken != nil {
		t.Fatalf("second page %+v", p2)
	}
	pre, err := g.c.ListBuckets(ctx, &s3.ListBucketsInput{Prefix: aws.String("flow")})
	ok(t, err)
	if len(pre.Buckets) != 1 || aws.ToString(pre.Buckets[0].Name) != "flowlogs-bucket" || aws.ToString(pre.Prefix) != "flow" {
		t.Errorf("prefix flow: %+v", pre)
	}
	other, err := g.c.ListBuckets(ctx, &s3.ListBucketsInput{BucketRegion: aws.String("eu-west-1")})
	ok(t, err)
	if len(other.Buckets) != 0 {
		t.Errorf("buckets in eu-west-1: %+v", other.Buckets)
	}
	_, err = g.c.ListBuckets(ctx, &s3.ListBucketsInput{MaxBuckets: aws.Int32(0)})
	apiErr(t, err, "InvalidArgument", 400)
}

func TestHeadBucketAndLocation(t *testing.T) {
	g := newRig(t, "us-east-1")
	out, err := g.c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(s3api.FixBucket)})
	ok(t, err)
	if aws.ToString(out.BucketRegion) != "us-east-1" || aws.ToBool(out.AccessPointAlias) {
		t.Errorf("HeadBucket %+v", out)
	}
	_, err = g.c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("no-such-bucket")})
	var nf *types.NotFound
	if !errors.As(err, &nf) {
		t.Errorf("HeadBucket of a missing bucket: %v, want NotFound", err)
	}
	apiErr(t, err, "NotFound", 404)
	_, err = g.c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(s3api.FixBucket), ExpectedBucketOwner: aws.String("999988887777")})
	apiErr(t, err, "Forbidden", 403)

	// us-east-1 is the empty constraint.
	loc, err := g.c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String(s3api.FixBucket)})
	ok(t, err)
	if loc.LocationConstraint != "" {
		t.Errorf("location %q in us-east-1", loc.LocationConstraint)
	}
	_, err = g.c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("no-such-bucket")})
	apiErr(t, err, "NoSuchBucket", 404)

	eu := newRig(t, "eu-west-1")
	loc, err = eu.c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String(s3api.FixBucket)})
	ok(t, err)
	if loc.LocationConstraint != "eu-west-1" {
		t.Errorf("location %q, want eu-west-1", loc.LocationConstraint)
	}
}

func TestListObjectsV2(t *testing.T) {
	g := newRig(t, "us-east-1")
	bucket := aws.String(s3api.FixBucket)
	out, err := g.c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket})
	ok(t, err)
	// Every object in UTF-8 binary order: no temporary file, no link, no
	// directory.
	want := []string{
		"AWSLogs-index.txt",
		"AWSLogs/111122223333/vpcflowlogs/us-east-1/2024/05/01/111122223333_vpcflowlogs_us-east-1_fl-0a1b2c3d4e5f60001_20240501T1200Z_0f1e2d3c.log.gz",
		"AWSLogs/111122223333/vpcflowlogs/us-east-1/2024/05/01/111122223333_vpcflowlogs_us-east-1_fl-0a1b2c3d4e5f60001_20240501T1205Z_4b5a6978.log.gz",
		"AWSLogs/111122223333/vpcflowlogs/us-east-1/2024/05/02/111122223333_vpcflowlogs_us-east-1_fl-0a1b2c3d4e5f60001_20240502T0000Z_8899aabb.log.gz",
		"prod/AWSLogs/111122223333/vpcflowlogs/us-east-1/2024/05/01/111122223333_vpcflowlogs_us-east-1_fl-0a1b2c3d4e5f60002_20240501T1200Z_cafebabe.log.gz",
		"special/a b+c(1).txt",
	}
	if got := keysOf(out.Contents); !slices.Equal(got, want) {
		t.Fatalf("keys\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if aws.ToInt32(out.KeyCount) != 6 || aws.ToInt32(out.MaxKeys) != 1000 || aws.ToBool(out.IsTruncated) ||
		aws.ToString(out.Name) != s3api.FixBucket || aws.ToString(out.Prefix) != "" || out.NextContinuationToken != nil {
		t.Errorf("page %+v", out)
	}
	idx := out.Contents[0]
	if aws.ToString(idx.ETag) != s3api.FixIndexETag || aws.ToInt64(idx.Size) != 6 ||
		!aws.ToTime(idx.LastModified).Equal(time.Date(2024, 5, 1, 12, 10, 7, 0, time.UTC)) ||
		idx.StorageClass != types.ObjectStorageClassStandard || idx.Owner != nil {
		t.Errorf("index object %+v", idx)
	}
	for _, o := range out.Contents[1:] {
		data := g.fix.Content[aws.ToString(o.Key)]
		if aws.ToString(o.ETag) != etagOf(data) || aws.ToInt64(o.Size) != int64(len(data)) {
			t.Errorf("%s: etag %s size %d, want %s %d", aws.ToString(o.Key), aws.ToString(o.ETag), aws.ToInt64(o.Size), etagOf(data), len(data))
		}
	}
	if got := aws.ToTime(out.Contents[3].LastModified); !got.Equal(time.Date(2024, 5, 2, 0, 5, 31, 0, time.UTC)) {
		t.Errorf("last day modified %v", got)
	}

	// The top level by "/": the lone object, then the folders holding an
	// object (not empty/, not the link linked/).
	top, err := g.c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket, Delimiter: aws.String("/")})
	ok(t, err)
	if got := keysOf(top.Contents); !slices.Equal(got, []string{"AWSLogs-index.txt"}) {
		t.Errorf("top-level keys %v", got)
	}
	if got := prefixesOf(top.CommonPrefixes); !slices.Equal(got, []string{"AWSLogs/", "prod/", "special/"}) {
		t.Errorf("top-level prefixes %v", got)
	}
	if aws.ToInt32(top.KeyCount) != 4 || aws.ToString(top.Delimiter) != "/" {
		t.Errorf("top-level page %+v", top)
	}

	// Days: 03/ holds only a temporary file, so it is no prefix.
	days, err := g.c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket, Delimiter: aws.String("/"),
		Prefix: aws.String("AWSLogs/111122223333/vpcflowlogs/us-east-1/2024/05/")})
	ok(t, err)
	if got := prefixesOf(days.CommonPrefixes); !slices.Equal(got, []string{
		"AWSLogs/111122223333/vpcflowlogs/us-east-1/2024/05/01/", "AWSLogs/111122223333/vpcflowlogs/us-east-1/2024/05/02/"}) || len(days.Contents) != 0 {
		t.Errorf("days %v %v", got, keysOf(days.Contents))
	}
	// A prefix that is not a folder boundary.
	part, err := g.c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket, Prefix: aws.String("AWSLogs")})
	ok(t, err)
	if got := keysOf(part.Contents); !slices.Equal(got, want[:4]) {
		t.Errorf("prefix AWSLogs: %v", got)
	}
	part, err = g.c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket, Prefix: aws.String("AWSLogs"), Delimiter: aws.String("/")})
	ok(t, err)
	if !slices.Equal(keysOf(part.Contents), []string{"AWSLogs-index.txt"}) || !slices.Equal(prefixesOf(part.CommonPrefixes), []string{"AWSLogs/"}) {
		t.Errorf("prefix AWSLogs by /: %v %v", keysOf(part.Contents), prefixesOf(part.CommonPrefixes))
	}
	// Another delimiter: "_" rolls the file names up at their first "_".
	us, err := g.c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket, Delimiter: aws.String("_"),
		Prefix: aws.String("AWSLogs/111122223333/vpcflowlogs/us-east-1/2024/05/0")})
	ok(t, err)
	if got := prefixesOf(us.CommonPrefixes); !slices.Equal(got, []string{
		"AWSLogs/111122223333/vpcflowlogs/us-east-1/2024/05/01/111122223333_",
		"AWSLogs/111122223333/vpcflowlogs/us-east-1/2024/05/02/111122223333_"}) {
		t.Errorf("by _: %v", got)
	}
	none, err := g.c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket, Prefix: aws.String("zzz")})
	ok(t, err)
	if len(none.Contents) != 0 || aws.ToInt32(none.KeyCount) != 0 || aws.ToBool(none.IsTruncated) {
		t.Errorf("prefix zzz: %+v", none)
	}

	// Start after the first flow-log object.
	sa, err := g.c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket, StartAfter: aws.String(want[1])})
	ok(t, err)
	if got := keysOf(sa.Contents); !slices.Equal(got, want[2:]) || aws.ToString(sa.StartAfter) != want[1] {
		t.Errorf("start-after: %v (echo %q)", got, aws.ToString(sa.StartAfter))
	}

	// fetch-owner adds the owner.
	fo, err := g.c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket, FetchOwner: aws.Bool(true), MaxKeys: aws.Int32(1)})
	ok(t, err)
	if len(fo.Contents) != 1 || fo.Contents[0].Owner == nil || len(aws.ToString(fo.Contents[0].Owner.ID)) != 64 {
		t.Errorf("fetch-owner: %+v", fo.Contents)
	}

	// max-keys 0: an empty page that is not truncated; above 1000: 1000.
	zero, err := g.c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket, MaxKeys: aws.Int32(0)})
	ok(t, err)
	if len(zero.Contents) != 0 || aws.ToBool(zero.IsTruncated) || aws.ToInt32(zero.MaxKeys) != 0 {
		t.Errorf("max-keys 0: %+v", zero)
	}
	big, err := g.c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket, MaxKeys: aws.Int32(5000)})
	ok(t, err)
	if len(big.Contents) != 6 || aws.ToInt32(big.MaxKeys) != 5000 {
		t.Errorf("max-keys 5000: %d keys, MaxKeys %d", len(big.Contents), aws.ToInt32(big.MaxKeys))
	}

	// encoding-type=url: keys come back as S3 encodes them (the SDK does
	// not decode).
	enc, err := g.c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket, Prefix: aws.String("special/"), EncodingType: types.EncodingTypeUrl})
	ok(t, err)
	if got := keysOf(enc.Contents); !slices.Equal(got, []string{"special/a+b%2Bc%281%29.txt"}) || enc.EncodingType != types.EncodingTypeUrl {
		t.Errorf("url-encoded: %v %q", got, enc.EncodingType)
	}

	// Errors.
	_, err = g.c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("no-such-bucket")})
	apiErr(t, err, "NoSuchBucket", 404)
	_, err = g.c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket, ContinuationToken: aws.String("not-a-token")})
	apiErr(t, err, "InvalidArgument", 400)
	_, err = g.c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket, MaxKeys: aws.Int32(-1)})
	apiErr(t, err, "InvalidArgument", 400)
	_, err = g.c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket, EncodingType: "base64"})
	apiErr(t, err, "InvalidArgument", 400)
}

// Paging one entry at a time returns every entry once, a common prefix
// included, in order.
func TestListObjectsV2Pages(t *testing.T) {
	g := newRig(t, "us-east-1")
	for _, tc := range []struct {
		delimiter string
		want      []string
	}{
		{"", s3api.FixKeys},
		{"/", []string{"AWSLogs-index.txt", "AWSLogs/", "prod/", "special/"}},
	} {
		var got []string
		var pages int
		p := s3.NewListObjectsV2Paginator(g.c, &s3.ListObjectsV2Input{Bucket: aws.String(s3api.FixBucket), MaxKeys: aws.Int32(1),
			Delimiter: aws.String(tc.delimiter)})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			ok(t, err)
			pages++
			if aws.ToInt32(out.KeyCount) != 1 {
				t.Errorf("page %d holds %d", pages, aws.ToInt32(out.KeyCount))
			}
			got = append(got, keysOf(out.Contents)...)
			got = append(got, prefixesOf(out.CommonPrefixes)...)
			if pages > 20 {
				t.Fatal("paging does not end")
			}
		}
		if !slices.Equal(got, tc.want) || pages != len(tc.want) {
			t.Errorf("delimiter %q: %d pages %v, want %v", tc.delimiter, pages, got, tc.want)
		}
	}
}

func TestListObjectsV1(t *testing.T) {
	g := newRig(t, "us-east-1")
	bucket := aws.String(s3api.FixBucket)
	p1, err := g.c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: bucket, Delimiter: aws.String("/"), MaxKeys: aws.Int32(2)})
	ok(t, err)
	if !slices.Equal(keysOf(p1.Contents), []string{"AWSLogs-index.txt"}) || !slices.Equal(prefixesOf(p1.CommonPrefixes), []string{"AWSLogs/"}) ||
		!aws.ToBool(p1.IsTruncated) || aws.ToString(p1.NextMarker) != "AWSLogs/" || aws.ToString(p1.Marker) != "" {
		t.Fatalf("first page %+v", p1)
	}
	// ListObjects names the owner of every object.
	if o := p1.Contents[0].Owner; o == nil || len(aws.ToString(o.ID)) != 64 || aws.ToString(p1.Contents[0].ETag) != s3api.FixIndexETag {
		t.Errorf("object %+v", p1.Contents[0])
	}
	p2, err := g.c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: bucket, Delimiter: aws.String("/"), MaxKeys: aws.Int32(2), Marker: p1.NextMarker})
	ok(t, err)
	if len(p2.Contents) != 0 || !slices.Equal(prefixesOf(p2.CommonPrefixes), []string{"prod/", "special/"}) ||
		aws.ToBool(p2.IsTruncated) || p2.NextMarker != nil || aws.ToString(p2.Marker) != "AWSLogs/" {
		t.Errorf("second page %+v", p2)
	}
	// Without a delimiter there is no NextMarker: the last key is the
	// marker.
	p3, err := g.c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: bucket, MaxKeys: aws.Int32(3)})
	ok(t, err)
	if !slices.Equal(keysOf(p3.Contents), s3api.FixKeys[:3]) || !aws.ToBool(p3.IsTruncated) || p3.NextMarker != nil {
		t.Errorf("page without delimiter %+v", p3)
	}
	p4, err := g.c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: bucket, Marker: aws.String(s3api.FixKeys[2])})
	ok(t, err)
	if !slices.Equal(keysOf(p4.Contents), s3api.FixKeys[3:]) || aws.ToBool(p4.IsTruncated) {
		t.Errorf("after the marker %v", keysOf(p4.Contents))
	}
}

func TestGetObject(t *testing.T) {
	g := newRig(t, "us-east-1")
	bucket := aws.String(s3api.FixBucket)
	data := g.fix.Content[s3api.FixKey1]
	n := int64(len(data))
	modified := time.Date(2024, 5, 1, 12, 10, 7, 0, time.UTC)
	get := func(in *s3.GetObjectInput) (*s3.GetObjectOutput, []byte, error) {
		t.Helper()
		in.Bucket = bucket
		if in.Key == nil {
			in.Key = aws.String(s3api.FixKey1)
		}
		out, err := g.c.GetObject(ctx, in)
		if err != nil {
			return nil, nil, err
		}
		defer out.Body.Close()
		body, err := io.ReadAll(out.Body)
		ok(t, err)
		return out, body, nil
	}

	out, body, err := get(&s3.GetObjectInput{})
	ok(t, err)
	if !bytes.Equal(body, data) || aws.ToString(out.ContentType) != "application/gzip" || aws.ToInt64(out.ContentLength) != n ||
		aws.ToString(out.ETag) != etagOf(data) || !aws.ToTime(out.LastModified).Equal(modified) ||
		aws.ToString(out.AcceptRanges) != "bytes" || out.ContentRange != nil || out.ServerSideEncryption != types.ServerSideEncryptionAes256 {
		t.Errorf("GetObject %+v (%d bytes)", out, len(body))
	}
	out, body, err = get(&s3.GetObjectInput{Key: aws.String(s3api.FixIndex)})
	ok(t, err)
	if string(body) != "hello\n" || aws.ToString(out.ContentType) != "application/octet-stream" || aws.ToString(out.ETag) != s3api.FixIndexETag {
		t.Errorf("index: %q %+v", body, out)
	}
	out, body, err = get(&s3.GetObjectInput{Key: aws.String(s3api.FixSpecial)})
	ok(t, err)
	if string(body) != "x" {
		t.Errorf("special key: %q", body)
	}

	// Ranges.
	for _, tc := range []struct {
		rng        string
		start, end int64
	}{
		{"bytes=0-9", 0, 9},
		{"bytes=10-", 10, n - 1},
		{"bytes=-5", n - 5, n - 1},
		{"bytes=3-3", 3, 3},
		{"bytes=5-99999", 5, n - 1},
		{"bytes=-99999", 0, n - 1},
	} {
		out, body, err := get(&s3.GetObjectInput{Range: aws.String(tc.rng)})
		ok(t, err)
		want := fmt.Sprintf("bytes %d-%d/%d", tc.start, tc.end, n)
		if !bytes.Equal(body, data[tc.start:tc.end+1]) || aws.ToString(out.ContentRange) != want || aws.ToInt64(out.ContentLength) != tc.end-tc.start+1 {
			t.Errorf("%s: %d bytes, Content-Range %q, want %q", tc.rng, len(body), aws.ToString(out.ContentRange), want)
		}
	}
	// Several ranges, or one S3 cannot read, get the whole object.
	for _, rng := range []string{"bytes=0-1,4-5", "bytes=abc", "items=0-1", "bytes=9-3"} {
		out, body, err := get(&s3.GetObjectInput{Range: aws.String(rng)})
		ok(t, err)
		if !bytes.Equal(body, data) || out.ContentRange != nil {
			t.Errorf("%s: %d bytes, Content-Range %q", rng, len(body), aws.ToString(out.ContentRange))
		}
	}
	for _, rng := range []string{fmt.Sprintf("bytes=%d-", n), fmt.Sprintf("bytes=%d-%d", n+10, n+20), "bytes=-0"} {
		_, _, err := get(&s3.GetObjectInput{Range: aws.String(rng)})
		apiErr(t, err, "InvalidRange", 416)
	}

	// Conditions.
	etag := etagOf(data)
	_, _, err = get(&s3.GetObjectInput{IfNoneMatch: aws.String(etag)})
	apiErr(t, err, "NotModified", 304)
	_, _, err = get(&s3.GetObjectInput{IfModifiedSince: aws.Time(modified)})
	apiErr(t, err, "NotModified", 304)
	_, body, err = get(&s3.GetObjectInput{IfModifiedSince: aws.Time(modified.Add(-time.Second))})
	ok(t, err)
	if !bytes.Equal(body, data) {
		t.Error("If-Modified-Since before the change did not get the object")
	}
	// If-None-Match decides over If-Modified-Since.
	_, _, err = get(&s3.GetObjectInput{IfNoneMatch: aws.String(`"0123"`), IfModifiedSince: aws.Time(modified.Add(time.Hour))})
	ok(t, err)
	_, _, err = get(&s3.GetObjectInput{IfMatch: aws.String(`"deadbeef"`)})
	apiErr(t, err, "PreconditionFailed", 412)
	_, _, err = get(&s3.GetObjectInput{IfUnmodifiedSince: aws.Time(modified.Add(-time.Hour))})
	apiErr(t, err, "PreconditionFailed", 412)
	// If-Match true and If-Unmodified-Since false is 200.
	_, _, err = get(&s3.GetObjectInput{IfMatch: aws.String(etag), IfUnmodifiedSince: aws.Time(modified.Add(-time.Hour))})
	ok(t, err)
	_, _, err = get(&s3.GetObjectInput{IfMatch: aws.String(strings.Trim(etag, `"`))})
	ok(t, err)

	// Parts: an object written in one piece is its only part.
	out, body, err = get(&s3.GetObjectInput{PartNumber: aws.Int32(1)})
	ok(t, err)
	if !bytes.Equal(body, data) || aws.ToString(out.ContentRange) != fmt.Sprintf("bytes 0-%d/%d", n-1, n) {
		t.Errorf("part 1: %d bytes, %q", len(body), aws.ToString(out.ContentRange))
	}
	_, _, err = get(&s3.GetObjectInput{PartNumber: aws.Int32(2)})
	apiErr(t, err, "InvalidPartNumber", 416)
	_, _, err = get(&s3.GetObjectInput{VersionId: aws.String("null")})
	ok(t, err)
	_, _, err = get(&s3.GetObjectInput{VersionId: aws.String("3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY")})
	apiErr(t, err, "InvalidArgument", 400)
	out, _, err = get(&s3.GetObjectInput{ResponseContentType: aws.String("text/plain"), ResponseContentDisposition: aws.String("attachment")})
	ok(t, err)
	if aws.ToString(out.ContentType) != "text/plain" || aws.ToString(out.ContentDisposition) != "attachment" {
		t.Errorf("overrides: %q %q", aws.ToString(out.ContentType), aws.ToString(out.ContentDisposition))
	}

	// What is no object.
	for _, key := range []string{
		"nope",
		s3api.FixDay + "01/",                      // a folder
		s3api.FixDay + "01",                       // a directory
		s3api.FixDay + "01/.tmp-4242-1234567",     // being written
		s3api.FixDay + "01/leak.log.gz",           // a link out of the bucket
		"linked/secret.txt",                       // through a linked directory
		"alias.txt",                               // a link within the bucket
		"up/outside/secret.txt",                   // a link to the parent
		"../outside/secret.txt",                   // up the tree
		"AWSLogs/../../outside/secret.txt",        // up the tree, later
		"./AWSLogs-index.txt",                     // not a key any listing gives
		"AWSLogs//111122223333",                   // empty element
		"/AWSLogs-index.txt",                      // leading slash
		"AWSLogs-index.txt\x00",                   // NUL
		"../../buckets/flowlogs-bucket/alias.txt", // into a bucket by the back door
	} {
		_, _, err := get(&s3.GetObjectInput{Key: aws.String(key)})
		apiErr(t, err, "NoSuchKey", 404)
	}
	_, err = g.c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("no-such-bucket"), Key: aws.String("x")})
	apiErr(t, err, "NoSuchBucket", 404)
}

func TestHeadObject(t *testing.T) {
	g := newRig(t, "us-east-1")
	data := g.fix.Content[s3api.FixKey3]
	out, err := g.c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s3api.FixBucket), Key: aws.String(s3api.FixKey3)})
	ok(t, err)
	if aws.ToInt64(out.ContentLength) != int64(len(data)) || aws.ToString(out.ETag) != etagOf(data) ||
		aws.ToString(out.ContentType) != "application/gzip" || aws.ToString(out.AcceptRanges) != "bytes" ||
		!aws.ToTime(out.LastModified).Equal(time.Date(2024, 5, 2, 0, 5, 31, 0, time.UTC)) {
		t.Errorf("HeadObject %+v", out)
	}
	rng, err := g.c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s3api.FixBucket), Key: aws.String(s3api.FixKey3), Range: aws.String("bytes=0-9")})
	ok(t, err)
	if aws.ToInt64(rng.ContentLength) != 10 || aws.ToString(rng.ContentRange) != fmt.Sprintf("bytes 0-9/%d", len(data)) {
		t.Errorf("HeadObject of a range %+v", rng)
	}
	_, err = g.c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s3api.FixBucket), Key: aws.String("nope")})
	var nf *types.NotFound
	if !errors.As(err, &nf) {
		t.Errorf("HeadObject of a missing key: %v", err)
	}
	_, err = g.c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s3api.FixBucket), Key: aws.String(s3api.FixKey3), IfNoneMatch: aws.String(etagOf(data))})
	apiErr(t, err, "NotModified", 304)
	_, err = g.c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("no-such-bucket"), Key: aws.String("x")})
	apiErr(t, err, "NotFound", 404)
}

// The buckets' and objects' configurations are read-only: those writes
// are denied as a bucket policy that denies them would (403 AccessDenied),
// after the bucket is found. Copies are not served (501).
func TestWritesDenied(t *testing.T) {
	g := newRig(t, "us-east-1")
	bucket := aws.String(s3api.FixBucket)
	_, err := g.c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("no-such-bucket"), Key: aws.String("new.txt"), Body: strings.NewReader("new")})
	apiErr(t, err, "NoSuchBucket", 404)
	_, err = g.c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: bucket, Key: aws.String("copy.txt"), CopySource: aws.String(s3api.FixBucket + "/" + s3api.FixIndex)})
	apiErr(t, err, "NotImplemented", 501)
	_, err = g.c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: bucket, Key: aws.String(s3api.FixIndex), Tagging: &types.Tagging{TagSet: []types.Tag{}}})
	apiErr(t, err, "AccessDenied", 403)
	_, err = g.c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: bucket, Policy: aws.String("{}")})
	apiErr(t, err, "AccessDenied", 403)
	// Deleting a sub-resource of an object or a bucket is no delete of
	// the object or the bucket.
	_, err = g.c.DeleteObjectTagging(ctx, &s3.DeleteObjectTaggingInput{Bucket: bucket, Key: aws.String(s3api.FixIndex)})
	apiErr(t, err, "AccessDenied", 403)
	_, err = g.c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: bucket, Key: aws.String(s3api.FixIndex), UploadId: aws.String("u1")})
	apiErr(t, err, "NoSuchUpload", 404)
	_, err = g.c.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: bucket})
	apiErr(t, err, "AccessDenied", 403)
	_, err = g.c.DeleteBucketTagging(ctx, &s3.DeleteBucketTaggingInput{Bucket: bucket})
	apiErr(t, err, "AccessDenied", 403)
	// Nothing changed.
	out, err := g.c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket})
	ok(t, err)
	if got := keysOf(out.Contents); !slices.Equal(got, s3api.FixKeys) {
		t.Errorf("after the writes: %v", got)
	}
	// A sub-resource that is not served.
	_, err = g.c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: bucket})
	apiErr(t, err, "NotImplemented", 501)
	_, err = g.c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: bucket, Key: aws.String(s3api.FixIndex)})
	apiErr(t, err, "NotImplemented", 501)
	_, err = g.c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: bucket, Key: aws.String("nope")})
	apiErr(t, err, "NoSuchKey", 404)
}

// Virtual-hosted style: the bucket in the Host header. The client
// resolves BUCKET.localhost to the test server.
func TestVirtualHosted(t *testing.T) {
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
	out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(s3api.FixBucket), Delimiter: aws.String("/")})
	ok(t, err)
	if got := prefixesOf(out.CommonPrefixes); !slices.Equal(got, []string{"AWSLogs/", "prod/", "special/"}) {
		t.Errorf("prefixes %v", got)
	}
	obj, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s3api.FixBucket), Key: aws.String(s3api.FixIndex)})
	ok(t, err)
	body, _ := io.ReadAll(obj.Body)
	obj.Body.Close()
	if string(body) != "hello\n" {
		t.Errorf("body %q", body)
	}
	mu.Lock()
	if len(hosts) == 0 || !strings.HasPrefix(hosts[0], s3api.FixBucket+".localhost:") {
		t.Errorf("the client dialed %v, not the bucket's host", hosts)
	}
	mu.Unlock()

	// Raw requests: a dotted bucket, a configured host name, an IP address
	// (always path style).
	h := s3api.New(g.fix.Buckets, s3api.FixAccount, "us-east-1")
	h.Hosts = []string{"s3.vpcflow.test"}
	for _, tc := range []struct{ host, path, want string }{
		{"archive.example-bucket.localhost:4566", "/README", "archive\n"},
		{"flowlogs-bucket.s3.vpcflow.test", "/AWSLogs-index.txt", "hello\n"},
		{"flowlogs-bucket.s3.us-east-1.amazonaws.com", "/AWSLogs-index.txt", "hello\n"},
		{"127.0.0.1:4566", "/flowlogs-bucket/AWSLogs-index.txt", "hello\n"},
		{"localhost:4566", "/flowlogs-bucket/AWSLogs-index.txt", "hello\n"},
	} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", tc.path, nil)
		req.Host = tc.host
		h.Serve(rec, req, nil, "req-v")
		if rec.Code != 200 || rec.Body.String() != tc.want {
			t.Errorf("%s%s: %d %q", tc.host, tc.path, rec.Code, rec.Body.String())
		}
	}
}

// errorDoc is S3's error document.
type errorDoc struct {
	XMLName                     xml.Name `xml:"Error"`
	Code, Message, Resource     string
	RequestID                   string `xml:"RequestId"`
	HostID                      string `xml:"HostId"`
	Key, BucketName             string
	Method, ResourceType        string
	ArgumentName                string
	ArgumentValue               string
	RangeRequested              string
	ActualObjectSize, Condition string
}

func serve(h *s3api.Handler, method, path string, header map[string]string) (*httptest.ResponseRecorder, errorDoc) {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(method, "http://127.0.0.1:4566/", nil)
	req.URL.RawPath = ""
	p, q, _ := strings.Cut(path, "?")
	req.URL.Path, req.URL.RawQuery = p, q
	for k, v := range header {
		req.Header.Set(k, v)
	}
	h.Serve(rec, req, nil, "req-7")
	var doc errorDoc
	xml.Unmarshal(rec.Body.Bytes(), &doc)
	return rec, doc
}

// Error documents as S3 writes them, request after request.
func TestErrorDocuments(t *testing.T) {
	fix := s3api.BuildFixture(t)
	h := s3api.New(fix.Buckets, s3api.FixAccount, "us-east-1")
	for _, tc := range []struct {
		method, path string
		header       map[string]string
		status       int
		want         errorDoc
		allow        string
	}{
		{"GET", "/flowlogs-bucket/nope", nil, 404, errorDoc{Code: "NoSuchKey", Message: "The specified key does not exist.",
			Resource: "/flowlogs-bucket/nope", Key: "nope"}, ""},
		{"GET", "/no-such-bucket", nil, 404, errorDoc{Code: "NoSuchBucket", Message: "The specified bucket does not exist",
			Resource: "/no-such-bucket", BucketName: "no-such-bucket"}, ""},
		{"GET", "/flowlogs-bucket/AWSLogs-index.txt", map[string]string{"Range": "bytes=6-"}, 416, errorDoc{Code: "InvalidRange",
			Message: "The requested range is not satisfiable", Resource: "/flowlogs-bucket/AWSLogs-index.txt",
			RangeRequested: "bytes=6-", ActualObjectSize: "6"}, ""},
		{"GET", "/flowlogs-bucket/AWSLogs-index.txt", map[string]string{"If-Match": `"abc"`}, 412, errorDoc{Code: "PreconditionFailed",
			Message: "At least one of the pre-conditions you specified did not hold", Resource: "/flowlogs-bucket/AWSLogs-index.txt",
			Condition: "If-Match"}, ""},
		{"PUT", "/flowlogs-bucket/new?tagging", nil, 403, errorDoc{Code: "AccessDenied", Message: "Access Denied", Resource: "/flowlogs-bucket/new"}, ""},
		{"PATCH", "/flowlogs-bucket/AWSLogs-index.txt", nil, 405, errorDoc{Code: "MethodNotAllowed",
			Message: "The specified method is not allowed against this resource.", Method: "PATCH", ResourceType: "OBJECT"}, "HEAD, DELETE, GET, PUT"},
		{"POST", "/flowlogs-bucket/AWSLogs-index.txt", nil, 405, errorDoc{Code: "MethodNotAllowed",
			Message: "The specified method is not allowed against this resource.", Method: "POST", ResourceType: "OBJECT"}, "HEAD, DELETE, GET, PUT"},
		{"DELETE", "/", nil, 405, errorDoc{Code: "MethodNotAllowed",
			Message: "The specified method is not allowed against this resource.", Method: "DELETE", ResourceType: "SERVICE"}, "GET"},
		{"GET", "/flowlogs-bucket?list-type=2&max-keys=abc", nil, 400, errorDoc{Code: "InvalidArgument",
			Message: "Provided max-keys not an integer or within integer range", Resource: "/flowlogs-bucket",
			ArgumentName: "max-keys", ArgumentValue: "abc"}, ""},
		{"GET", "/flowlogs-bucket?list-type=2&max-keys=-1", nil, 400, errorDoc{Code: "InvalidArgument",
			Message: "Argument maxKeys must be an integer between 0 and 2147483647", Resource: "/flowlogs-bucket",
			ArgumentName: "maxKeys", ArgumentValue: "-1"}, ""},
		{"GET", "/flowlogs-bucket?list-type=2&continuation-token=", nil, 400, errorDoc{Code: "InvalidArgument",
			Message: "The continuation token provided is incorrect", Resource: "/flowlogs-bucket", ArgumentName: "continuation-token"}, ""},
		{"GET", "/flowlogs-bucket?encoding-type=xml", nil, 400, errorDoc{Code: "InvalidArgument",
			Message: "Invalid Encoding Method specified in Request", Resource: "/flowlogs-bucket",
			ArgumentName: "encoding-type", ArgumentValue: "xml"}, ""},
		{"GET", "/flowlogs-bucket?marker=a&list-type=2", nil, 400, errorDoc{Code: "InvalidArgument",
			Message: "Marker unsupported with REST.GET.BUCKET in list-type=2", Resource: "/flowlogs-bucket", ArgumentName: "marker"}, ""},
		{"GET", "/flowlogs-bucket?versioning&acl", nil, 400, errorDoc{Code: "InvalidArgument",
			Message: "Conflicting query string parameters: acl, versioning", Resource: "/flowlogs-bucket",
			ArgumentName: "ResourceType", ArgumentValue: "acl"}, ""},
		{"GET", "/flowlogs-bucket/AWSLogs-index.txt?partNumber=0", nil, 400, errorDoc{Code: "InvalidArgument",
			Message: "Part number must be an integer between 1 and 10000, inclusive", Resource: "/flowlogs-bucket/AWSLogs-index.txt",
			ArgumentName: "partNumber", ArgumentValue: "0"}, ""},
		{"GET", "/flowlogs-bucket/AWSLogs-index.txt", map[string]string{"x-amz-expected-bucket-owner": "999988887777"}, 403,
			errorDoc{Code: "AccessDenied", Message: "Access Denied", Resource: "/flowlogs-bucket/AWSLogs-index.txt"}, ""},
	} {
		rec, doc := serve(h, tc.method, tc.path, tc.header)
		tc.want.XMLName = doc.XMLName
		tc.want.RequestID, tc.want.HostID = "req-7", rec.Header().Get("x-amz-id-2")
		if rec.Code != tc.status || doc != tc.want || rec.Header().Get("Content-Type") != "application/xml" ||
			rec.Header().Get("x-amz-request-id") != "req-7" || rec.Header().Get("Allow") != tc.allow || tc.want.HostID == "" {
			t.Errorf("%s %s: %d %+v\nwant %d %+v (Allow %q)", tc.method, tc.path, rec.Code, doc, tc.status, tc.want, rec.Header().Get("Allow"))
		}
	}
	// HEAD answers carry no body.
	rec, _ := serve(h, "HEAD", "/flowlogs-bucket/nope", nil)
	if rec.Code != 404 || rec.Body.Len() != 0 {
		t.Errorf("HEAD of a missing key: %d %q", rec.Code, rec.Body.String())
	}
	// A 304 carries the validators, no content.
	rec, _ = serve(h, "GET", "/flowlogs-bucket/AWSLogs-index.txt", map[string]string{"If-None-Match": s3api.FixIndexETag})
	if rec.Code != 304 || rec.Body.Len() != 0 || rec.Header().Get("ETag") != s3api.FixIndexETag ||
		rec.Header().Get("Last-Modified") != "Wed, 01 May 2024 12:10:07 GMT" {
		t.Errorf("304: %d %v", rec.Code, rec.Header())
	}
	// A 416 says the size.
	rec, _ = serve(h, "GET", "/flowlogs-bucket/AWSLogs-index.txt", map[string]string{"Range": "bytes=10-20"})
	if rec.Code != 416 || rec.Header().Get("Content-Range") != "bytes */6" {
		t.Errorf("416: %d %v", rec.Code, rec.Header())
	}

	// WriteError, for the front's own errors.
	w := httptest.NewRecorder()
	s3api.WriteError(w, 403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.", "/flowlogs-bucket", "req-9")
	var doc errorDoc
	ok(t, xml.Unmarshal(w.Body.Bytes(), &doc))
	if w.Code != 403 || doc.Code != "SignatureDoesNotMatch" || doc.Resource != "/flowlogs-bucket" || doc.RequestID != "req-9" ||
		!strings.HasPrefix(w.Body.String(), `<?xml version="1.0" encoding="UTF-8"?>`+"\n<Error><Code>SignatureDoesNotMatch</Code>") {
		t.Errorf("WriteError: %d %s", w.Code, w.Body.String())
	}
}

// The raw documents: namespace, element names and the url encoding of
// every key-like element.
func TestListDocument(t *testing.T) {
	fix := s3api.BuildFixture(t)
	h := s3api.New(fix.Buckets, s3api.FixAccount, "us-east-1")
	rec, _ := serve(h, "GET", "/flowlogs-bucket?list-type=2&prefix=special%2F&delimiter=%20&start-after=special%2Fa&encoding-type=url", nil)
	want := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>flowlogs-bucket</Name><Prefix>special/</Prefix>` +
		`<StartAfter>special/a</StartAfter><KeyCount>1</KeyCount><MaxKeys>1000</MaxKeys><Delimiter>+</Delimiter>` +
		`<EncodingType>url</EncodingType><IsTruncated>false</IsTruncated>` +
		`<CommonPrefixes><Prefix>special/a+</Prefix></CommonPrefixes></ListBucketResult>`
	if rec.Code != 200 || rec.Body.String() != want {
		t.Errorf("got\n%s\nwant\n%s", rec.Body.String(), want)
	}
	// ListObjects (v1), whose objects name their owner: a canonical id.
	rec, _ = serve(h, "GET", "/flowlogs-bucket?prefix=AWSLogs-&marker=A", nil)
	owner := regexp.MustCompile(`<ID>[0-9a-f]{64}</ID>`).FindString(rec.Body.String())
	want = `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>flowlogs-bucket</Name><Prefix>AWSLogs-</Prefix>` +
		`<Marker>A</Marker><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>` +
		`<Contents><Key>AWSLogs-index.txt</Key><LastModified>2024-05-01T12:10:07.000Z</LastModified>` +
		`<ETag>&quot;b1946ac92492d2347c6235b4d2611184&quot;</ETag><Size>6</Size><Owner>` + owner +
		`</Owner><StorageClass>STANDARD</StorageClass></Contents></ListBucketResult>`
	if rec.Code != 200 || owner == "" || rec.Body.String() != want {
		t.Errorf("got\n%s\nwant\n%s", rec.Body.String(), want)
	}
	rec, _ = serve(h, "GET", "/flowlogs-bucket?location", nil)
	if want := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></LocationConstraint>`; rec.Body.String() != want {
		t.Errorf("location %s", rec.Body.String())
	}
}
