package objsink

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
)

// Destination is where objects go: an S3 bucket (with a key prefix) or
// a local directory standing for a bucket.
type Destination struct {
	// Bucket is set for an S3 destination; Dir for a local one.
	Bucket string
	// Prefix is prepended to every key of an S3 destination ("" or
	// ending in "/").
	Prefix string
	Dir    string
}

// String is the destination as Parse reads it.
func (d Destination) String() string {
	if d.Bucket != "" {
		return "s3://" + d.Bucket + "/" + d.Prefix
	}
	return d.Dir
}

// IsS3 says whether the destination is an object store.
func (d Destination) IsS3() bool { return d.Bucket != "" }

// Parse reads "s3://BUCKET[/PREFIX]" (the form awscli takes; PREFIX
// becomes the start of every key, as a flow log's S3 prefix does) or a
// directory path. The bucket must follow S3's naming rules for a general
// purpose bucket
// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html)
// and the prefix must be a key prefix (no empty, "." or ".." element).
func Parse(s string) (Destination, error) {
	rest, ok := strings.CutPrefix(s, "s3://")
	if !ok {
		if strings.Contains(s, "://") {
			return Destination{}, fmt.Errorf("destination %q: want s3://BUCKET[/PREFIX] or a directory, not another scheme", s)
		}
		if s == "" {
			return Destination{}, fmt.Errorf("destination: empty; want s3://BUCKET[/PREFIX] or a directory")
		}
		return Destination{Dir: filepath.Clean(s)}, nil
	}
	bucket, prefix, _ := strings.Cut(rest, "/")
	if err := checkBucket(bucket); err != nil {
		return Destination{}, fmt.Errorf("destination %q: %w", s, err)
	}
	prefix = strings.TrimSuffix(prefix, "/")
	if prefix != "" {
		for _, e := range strings.Split(prefix, "/") {
			if e == "" || e == "." || e == ".." || strings.ContainsAny(e, "\x00\\") {
				return Destination{}, fmt.Errorf("destination %q: prefix element %q: want a name (not empty, '.' or '..', no NUL or backslash)", s, e)
			}
		}
		prefix += "/"
	}
	if len(prefix) > 512 {
		return Destination{}, fmt.Errorf("destination %q: prefix of %d bytes; at most 512 leave room for the keys", s, len(prefix))
	}
	return Destination{Bucket: bucket, Prefix: prefix}, nil
}

// checkBucket applies S3's rules for a new bucket's name: 3 to 63
// characters, lowercase letters, digits, '.' and '-', a letter or digit
// first and last, no "..".
func checkBucket(b string) error {
	if len(b) < 3 || len(b) > 63 {
		return fmt.Errorf("bucket %q: want 3 to 63 characters", b)
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case (c == '.' || c == '-') && i > 0 && i < len(b)-1:
		default:
			return fmt.Errorf("bucket %q: character %d (%q): want lowercase letters, digits, and '.' or '-' inside", b, i+1, c)
		}
	}
	if strings.Contains(b, "..") {
		return fmt.Errorf("bucket %q: want no \"..\"", b)
	}
	return nil
}

// Open is the sink of a destination as a command's flags give it: a
// directory (created as needed), or an S3 bucket reached with o (o is
// ignored for a directory).
func Open(ctx context.Context, dest string, o S3Options) (Sink, error) {
	d, err := Parse(dest)
	if err != nil {
		return nil, err
	}
	if !d.IsS3() {
		return Dir(d.Dir), nil
	}
	return NewS3(ctx, d, o)
}
