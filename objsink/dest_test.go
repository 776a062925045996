package objsink

import (
	"context"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Destination
		err  string
	}{
		{"s3://flowlogs-bucket", Destination{Bucket: "flowlogs-bucket"}, ""},
		{"s3://flowlogs-bucket/", Destination{Bucket: "flowlogs-bucket"}, ""},
		{"s3://flowlogs-bucket/site-a", Destination{Bucket: "flowlogs-bucket", Prefix: "site-a/"}, ""},
		{"s3://my.bucket-1/a/b/", Destination{Bucket: "my.bucket-1", Prefix: "a/b/"}, ""},
		{"/var/lib/vpcflow/out/", Destination{Dir: "/var/lib/vpcflow/out"}, ""},
		{"out", Destination{Dir: "out"}, ""},
		{"", Destination{}, "empty"},
		{"kafka://broker:9092", Destination{}, "another scheme"},
		{"s3://", Destination{}, "want 3 to 63 characters"},
		{"s3://ab", Destination{}, "want 3 to 63 characters"},
		{"s3://Flowlogs", Destination{}, `character 1 ('F')`},
		{"s3://-bucket", Destination{}, `character 1 ('-')`},
		{"s3://a..b", Destination{}, `want no ".."`},
		{"s3://bucket/a//b", Destination{}, `prefix element ""`},
		{"s3://bucket/../x", Destination{}, `prefix element ".."`},
		{"s3://bucket/" + strings.Repeat("p", 600), Destination{}, "at most 512"},
	} {
		got, err := Parse(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Parse(%q) = %+v, %v; want an error saying %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

// Parse never panics; an S3 destination it accepts has a bucket of S3's
// characters and a prefix of key elements, and reads back the same from
// its String.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"s3://flowlogs-bucket/site-a", "s3://a.b-c/x/y/", "dir", "s3://x", "s3://bucket//", "s3://b\x00b/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Parse(s)
		if err != nil {
			if !strings.Contains(err.Error(), "destination") {
				t.Fatalf("Parse(%q): %v does not name the destination", s, err)
			}
			return
		}
		if !d.IsS3() {
			if d.Dir == "" {
				t.Fatalf("Parse(%q) = %+v", s, d)
			}
			return
		}
		if strings.Trim(d.Bucket, "abcdefghijklmnopqrstuvwxyz0123456789.-") != "" || len(d.Bucket) < 3 || len(d.Bucket) > 63 {
			t.Fatalf("Parse(%q): bucket %q", s, d.Bucket)
		}
		if d.Prefix != "" && (!strings.HasSuffix(d.Prefix, "/") || strings.Contains(d.Prefix, "//") || strings.HasPrefix(d.Prefix, "/")) {
			t.Fatalf("Parse(%q): prefix %q", s, d.Prefix)
		}
		again, err := Parse(d.String())
		if err != nil || again != d {
			t.Fatalf("Parse(%q) = %+v; its String %q parses to %+v, %v", s, d, d.String(), again, err)
		}
	})
}

func TestOpen(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAOPEN")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	dir := t.TempDir() + "/out"
	s, err := Open(context.Background(), dir+"/", S3Options{})
	if d, ok := s.(Dir); err != nil || !ok || string(d) != dir {
		t.Errorf("Open(%q) = %#v, %v", dir+"/", s, err)
	}
	s, err = Open(context.Background(), "s3://flowlogs-bucket/site-a", S3Options{Endpoint: "http://127.0.0.1:1", PathStyle: true})
	if err != nil || s.String() != "s3://flowlogs-bucket/site-a/" {
		t.Errorf("Open(s3://flowlogs-bucket/site-a) = %v, %v", s, err)
	}
	if _, err := Open(context.Background(), "s3://Bad_Bucket", S3Options{}); err == nil || !strings.Contains(err.Error(), "Bad_Bucket") {
		t.Errorf("Open(s3://Bad_Bucket): %v", err)
	}
	if _, err := Open(context.Background(), "s3://bucket-x", S3Options{PartSize: 1 << 20}); err == nil || !strings.Contains(err.Error(), "at least 5242880") {
		t.Errorf("a 1 MiB part size: %v", err)
	}
}
