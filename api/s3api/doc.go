// Package s3api answers the S3 REST API over the directories that stand
// for the flow-log buckets (DATA_DIR/buckets/BUCKET/...), so that
// `aws s3 ls`, `aws s3 cp`, `aws s3 sync` and the SDKs download delivered
// flow logs from `vpcflow serve` as they do from AWS, and `aws s3 mb`,
// `aws s3 rm` and `aws s3 rb` make and empty the buckets flow logs
// deliver to.
//
// It exists because users fetch flow logs "after an appropriate period of
// time" with S3 tools, not from a local directory, and make a bucket
// before they point a flow log at it: keys, listing order, ETags, ranges,
// conditional requests and error codes must be the ones those tools
// expect.
//
// Served: ListBuckets, HeadBucket, GetBucketLocation, ListObjectsV2,
// ListObjects, GetObject and HeadObject; CreateBucket, DeleteBucket,
// DeleteObject and DeleteObjects; PutObject and multipart uploads
// (CreateMultipartUpload, UploadPart, CompleteMultipartUpload,
// AbortMultipartUpload, ListParts), so that `vpcflow serve` is itself an
// S3-compatible target other machines upload flow logs to; path style
// (/BUCKET/KEY) and virtual-hosted style (Host BUCKET.localhost,
// BUCKET.s3.REGION.amazonaws.com or BUCKET.HOST for a host in
// Handler.Hosts). A write lands atomically (a temporary file renamed over
// the key) after its Content-MD5 and x-amz-checksum-* digests are checked;
// aws-chunked bodies are decoded. A bucket's or object's configuration is
// refused with 403 AccessDenied, as under a bucket policy that denies it;
// CopyObject and other sub-resources answer 501 NotImplemented.
// docs/api-s3.md has the details.
//
// A key names a file when every "/"-separated element is a plain file
// name; the file is opened (or removed) element by element through
// os.Root, refusing symbolic links, so no key, bucket name or Host reaches
// outside a bucket directory. Temporary objects (".tmp-" files, being
// written by package deliver) are never listed, served or deleted, and a
// bucket is not deleted while one is being written (package bucketlock).
//
// The front (package api) reads the body, verifies SigV4 for service s3
// and calls Handler.Serve; WriteError gives it S3's error document for its
// own refusals.
package s3api
