package objsink

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// S3Options say how to reach an S3-compatible store.
type S3Options struct {
	// Region signs the requests; "" takes the AWS chain's (AWS_REGION,
	// the config file), else us-east-1.
	Region string
	// Endpoint overrides AWS's ("http://127.0.0.1:4566" for `vpcflow
	// serve`, a MinIO URL...).
	Endpoint string
	// PathStyle addresses buckets as ENDPOINT/BUCKET/KEY instead of
	// BUCKET.ENDPOINT/KEY, as most stores other than AWS need.
	PathStyle bool
	// PartSize is the size of a multipart upload's parts, and objects
	// larger than it are uploaded in parts (default 8 MiB, awscli's; at
	// least S3's minimum of 5 MiB).
	PartSize int64
	// HTTPClient replaces the SDK's (tests).
	HTTPClient aws.HTTPClient
}

// DefaultPartSize is the part size of multipart uploads.
const DefaultPartSize = 8 << 20

// minPartSize is S3's smallest part but the last
// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html).
const minPartSize = 5 << 20

// S3 stores objects in a bucket of an S3-compatible store, keys under a
// prefix. Credentials come from the AWS chain (environment, shared
// config and credentials files, SSO, instance roles), as awscli finds
// them.
type S3 struct {
	client   *s3.Client
	bucket   string
	prefix   string
	partSize int64
}

// NewS3 makes the sink of an S3 destination.
func NewS3(ctx context.Context, d Destination, o S3Options) (*S3, error) {
	if !d.IsS3() {
		return nil, fmt.Errorf("%s is no s3:// destination", d)
	}
	var opts []func(*config.LoadOptions) error
	if o.Region != "" {
		opts = append(opts, config.WithRegion(o.Region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("AWS configuration for %s: %w", d, err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	part := o.PartSize
	if part == 0 {
		part = DefaultPartSize
	}
	if part < minPartSize {
		return nil, fmt.Errorf("part size %d: S3 takes parts of at least %d bytes", part, minPartSize)
	}
	c := s3.NewFromConfig(cfg, func(so *s3.Options) {
		if o.Endpoint != "" {
			so.BaseEndpoint = aws.String(o.Endpoint)
		}
		so.UsePathStyle = o.PathStyle
		if o.HTTPClient != nil {
			so.HTTPClient = o.HTTPClient
		}
		// The Writer retries, with its backoff, and counts the retries.
		so.RetryMaxAttempts = 1
	})
	return &S3{client: c, bucket: d.Bucket, prefix: d.Prefix, partSize: part}, nil
}

func (s *S3) String() string { return "s3://" + s.bucket + "/" + s.prefix }

// Client is the SDK client the sink uses (to read back, in tests).
func (s *S3) Client() *s3.Client { return s.client }

// contentMD5 is the base64 MD5 S3 checks a body against.
func contentMD5(r io.ReaderAt, off, n int64) (string, error) {
	h := md5.New()
	if _, err := io.Copy(h, io.NewSectionReader(r, off, n)); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(h.Sum(nil)), nil
}

// Put uploads the object: one PutObject up to the part size, else a
// multipart upload, aborted when a part fails so that the store keeps no
// parts.
func (s *S3) Put(ctx context.Context, key string, body io.ReaderAt, size int64) error {
	if _, err := keyElems(key); err != nil {
		return err
	}
	full := s.prefix + key
	if size <= s.partSize {
		sum, err := contentMD5(body, 0, size)
		if err != nil {
			return err
		}
		_, err = s.client.PutObject(ctx, &s3.PutObjectInput{Bucket: &s.bucket, Key: &full, ContentLength: aws.Int64(size),
			Body: io.NewSectionReader(body, 0, size), ContentMD5: &sum})
		if err != nil {
			return fmt.Errorf("put s3://%s/%s: %w", s.bucket, full, err)
		}
		return nil
	}
	up, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &s.bucket, Key: &full})
	if err != nil {
		return fmt.Errorf("start upload of s3://%s/%s: %w", s.bucket, full, err)
	}
	var parts []types.CompletedPart
	err = func() error {
		for n, off := int32(1), int64(0); off < size; n, off = n+1, off+s.partSize {
			l := min(s.partSize, size-off)
			sum, err := contentMD5(body, off, l)
			if err != nil {
				return err
			}
			out, err := s.client.UploadPart(ctx, &s3.UploadPartInput{Bucket: &s.bucket, Key: &full, UploadId: up.UploadId,
				PartNumber: aws.Int32(n), ContentLength: aws.Int64(l), Body: io.NewSectionReader(body, off, l), ContentMD5: &sum})
			if err != nil {
				return fmt.Errorf("part %d: %w", n, err)
			}
			parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(n), ETag: out.ETag})
		}
		_, err := s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &s.bucket, Key: &full,
			UploadId: up.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
		return err
	}()
	if err != nil {
		// Best effort: a store that is down keeps the parts until its
		// own expiry of abandoned uploads.
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		s.client.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{Bucket: &s.bucket, Key: &full, UploadId: up.UploadId})
		cancel()
		return fmt.Errorf("upload s3://%s/%s: %w", s.bucket, full, err)
	}
	return nil
}
