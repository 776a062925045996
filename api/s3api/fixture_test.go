package s3api

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The fixture lays out a data dir's buckets/ as package deliver does:
// flow-log objects under AWSLogs/ACCOUNT/vpcflowlogs/REGION/YYYY/MM/DD/
// (and under a prefix), temporary files of objects still being written,
// plus what a bucket directory must never show: symbolic links (out of the
// bucket and within it), an empty directory, a day folder holding only a
// temporary file. A secret file beside the buckets stands for the rest of
// the machine.

// Fixture accounts, times and keys. Exported for the external tests.
const (
	FixAccount = "111122223333"
	FixBucket  = "flowlogs-bucket"
	FixDotted  = "archive.example-bucket"
	FixDay     = "AWSLogs/111122223333/vpcflowlogs/us-east-1/2024/05/"
	FixKey1    = FixDay + "01/111122223333_vpcflowlogs_us-east-1_fl-0a1b2c3d4e5f60001_20240501T1200Z_0f1e2d3c.log.gz"
	FixKey2    = FixDay + "01/111122223333_vpcflowlogs_us-east-1_fl-0a1b2c3d4e5f60001_20240501T1205Z_4b5a6978.log.gz"
	FixKey3    = FixDay + "02/111122223333_vpcflowlogs_us-east-1_fl-0a1b2c3d4e5f60001_20240502T0000Z_8899aabb.log.gz"
	FixKeyProd = "prod/AWSLogs/111122223333/vpcflowlogs/us-east-1/2024/05/01/111122223333_vpcflowlogs_us-east-1_fl-0a1b2c3d4e5f60002_20240501T1200Z_cafebabe.log.gz"
	FixIndex   = "AWSLogs-index.txt"
	FixSpecial = "special/a b+c(1).txt"
	// FixIndexETag is the MD5 of "hello\n" (md5sum of `echo hello`).
	FixIndexETag = `"b1946ac92492d2347c6235b4d2611184"`
	FixSecret    = "the secret outside every bucket\n"
)

// FixTime is the objects' modification time; FixTime2 the last day's.
var (
	FixTime  = time.Date(2024, 5, 1, 12, 10, 7, 0, time.UTC)
	FixTime2 = time.Date(2024, 5, 2, 0, 5, 31, 0, time.UTC)
)

// FixKeys are the fixture's objects in the order S3 lists them (UTF-8
// binary: '-' before '/', 'A' before 'p' before 's').
var FixKeys = []string{FixIndex, FixKey1, FixKey2, FixKey3, FixKeyProd, FixSpecial}

// Fixture is a laid-out data dir.
type Fixture struct {
	Root    string            // the data dir
	Buckets DirBuckets        // Root/buckets
	Content map[string][]byte // object key -> content, in FixBucket
	Secret  string            // path of the secret file
}

// gzipText compresses text as the flow-log service does (a gzip stream
// without name or time, so the bytes are the same every run).
func gzipText(tb testing.TB, text string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(text)); err != nil {
		tb.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

const header = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n"

// BuildFixture lays the fixture out in a new temporary directory.
func BuildFixture(tb testing.TB) *Fixture {
	tb.Helper()
	root := tb.TempDir()
	f := &Fixture{Root: root, Buckets: DirBuckets(filepath.Join(root, "buckets")), Content: map[string][]byte{}}
	bucket := filepath.Join(root, "buckets", FixBucket)
	write := func(path string, data []byte, mod time.Time) {
		tb.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			tb.Fatal(err)
		}
		if err := os.Chtimes(path, mod, mod); err != nil {
			tb.Fatal(err)
		}
	}
	object := func(key string, data []byte, mod time.Time) {
		f.Content[key] = data
		write(filepath.Join(bucket, filepath.FromSlash(key)), data, mod)
	}
	object(FixIndex, []byte("hello\n"), FixTime)
	object(FixKey1, gzipText(tb, header+
		"2 111122223333 eni-0a00000000000000a 10.0.1.10 198.51.100.7 443 49152 6 10 8400 1714564800 1714564860 ACCEPT OK\n"+
		"2 111122223333 eni-0a00000000000000a 198.51.100.7 10.0.1.10 49152 443 6 12 1600 1714564800 1714564860 ACCEPT OK\n"), FixTime)
	object(FixKey2, gzipText(tb, header+
		"2 111122223333 eni-0a00000000000000a 203.0.113.12 10.0.1.10 51000 22 6 1 60 1714565100 1714565160 REJECT OK\n"), FixTime)
	object(FixKey3, gzipText(tb, header+
		"2 111122223333 eni-0d00000000000000d - - - - - - - 1714608000 1714608060 - NODATA\n"), FixTime2)
	object(FixKeyProd, gzipText(tb, header+
		"2 111122223333 eni-0e00000000000000e 10.0.3.20 10.0.2.15 5432 40000 6 5 900 1714564800 1714564860 ACCEPT OK\n"), FixTime)
	object(FixSpecial, []byte("x"), FixTime)

	// Objects being written: never listed, never served.
	write(filepath.Join(bucket, filepath.FromSlash(FixDay), "01", ".tmp-4242-1234567"), []byte("partial"), FixTime)
	write(filepath.Join(bucket, filepath.FromSlash(FixDay), "03", ".tmp-4242-7654321"), []byte("partial"), FixTime)
	// An empty directory is no common prefix.
	if err := os.MkdirAll(filepath.Join(bucket, "empty", "deeper"), 0o755); err != nil {
		tb.Fatal(err)
	}
	// What lies outside the buckets, and links to it.
	f.Secret = filepath.Join(root, "outside", "secret.txt")
	write(f.Secret, []byte(FixSecret), FixTime)
	links := map[string]string{
		filepath.Join(bucket, filepath.FromSlash(FixDay), "01", "leak.log.gz"): f.Secret,
		filepath.Join(bucket, "linked"):                                        filepath.Join(root, "outside"),
		filepath.Join(bucket, "alias.txt"):                                     filepath.Join(bucket, FixIndex),
		filepath.Join(bucket, "up"):                                            "..",
	}
	for link, target := range links {
		if err := os.Symlink(target, link); err != nil {
			tb.Fatal(err)
		}
	}
	// A second bucket, with dots in its name, and a name that is no bucket.
	write(filepath.Join(root, "buckets", FixDotted, "README"), []byte("archive\n"), FixTime)
	if err := os.MkdirAll(filepath.Join(root, "buckets", ".tmp-bucket"), 0o755); err != nil {
		tb.Fatal(err)
	}
	return f
}
