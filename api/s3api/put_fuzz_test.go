package s3api

import (
	"bytes"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// encodeChunked is an independent aws-chunked encoder: the payload cut
// into chunks of size at most n, then the trailers.
func encodeChunked(payload []byte, n int, trailers [][2]string) []byte {
	var b bytes.Buffer
	for len(payload) > 0 {
		k := min(n, len(payload))
		fmt.Fprintf(&b, "%x\r\n", k)
		b.Write(payload[:k])
		b.WriteString("\r\n")
		payload = payload[k:]
	}
	b.WriteString("0\r\n")
	for _, t := range trailers {
		b.WriteString(t[0] + ":" + t[1] + "\r\n")
	}
	b.WriteString("\r\n")
	return b.Bytes()
}

// decodeChunked gives back what the encoder chunked, whatever the chunk
// size; any other body never panics and never yields more payload than it
// holds.
func FuzzChunked(f *testing.F) {
	f.Add([]byte("hello"), 3, "x-amz-checksum-crc32", "NhCmhg==", []byte("5\r\nhello\r\n0\r\n\r\n"))
	f.Add([]byte(""), 1, "", "", []byte("0\r\n\r\n"))
	f.Add([]byte("a\r\nb"), 1, "X-Amz-Checksum-Sha256", "x", []byte("ffffffffffffffff\r\n"))
	f.Add([]byte("x"), 1, "a", "b", []byte("1;chunk-signature=00\r\nx\r\n0\r\na:b\r\n\r\n"))
	f.Fuzz(func(t *testing.T, payload []byte, n int, tname, tvalue string, raw []byte) {
		if n < 1 {
			n = 1 + (-n)%1000
		}
		var trailers [][2]string
		clean := func(s string) string { return strings.NewReplacer("\r", "", "\n", "", ":", "").Replace(s) }
		tname, tvalue = strings.TrimSpace(clean(tname)), strings.TrimSpace(clean(tvalue))
		if tname != "" {
			trailers = append(trailers, [2]string{tname, tvalue})
		}
		got, tr, err := decodeChunked(encodeChunked(payload, n, trailers))
		if err != nil || !bytes.Equal(got, payload) {
			t.Fatalf("%q in chunks of %d: %q, %v", payload, n, got, err)
		}
		if tname != "" && tr[strings.ToLower(tname)] != tvalue {
			t.Fatalf("trailer %q: %v", tname, tr)
		}
		got, _, err = decodeChunked(raw)
		if err == nil && len(got) > len(raw) {
			t.Fatalf("%q decoded to %d bytes", raw, len(got))
		}
	})
}

// parseComplete never panics and gives 1 to 10000 parts, each as the
// document named it.
func FuzzCompleteBody(f *testing.F) {
	f.Add([]byte(`<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"abc"</ETag></Part></CompleteMultipartUpload>`))
	f.Add([]byte(`<CompleteMultipartUpload><Part><PartNumber>x</PartNumber></Part></CompleteMultipartUpload>`))
	f.Add([]byte(`<CompleteMultipartUpload/>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		parts, ok := parseComplete(body)
		if !ok {
			return
		}
		if len(parts) < 1 || len(parts) > maxParts {
			t.Fatalf("%d parts", len(parts))
		}
		for _, p := range parts {
			if !bytes.Contains(body, []byte(strconv.Itoa(p.number))) {
				t.Fatalf("part number %d is not in %q", p.number, body)
			}
		}
	})
}

// Whatever the bucket, key, Host and upload id, a write never panics and
// never creates or changes a file outside the bucket it names: the
// secret beside the buckets and the links' targets stay as they are, and
// every new file is the key's file (or an upload's) in its bucket.
func FuzzPutKey(f *testing.F) {
	for _, s := range [][2]string{{FixBucket, "new.txt"}, {FixBucket, "../outside/x"}, {"..", "outside/secret.txt"},
		{FixBucket, "linked/x"}, {FixBucket, "up/outside/x"}, {FixBucket, "a/.tmp-uploads/x"}, {FixBucket, ".tmp-uploads/x/key"},
		{FixBucket, "alias.txt"}, {"outside", "secret.txt"}} {
		f.Add(s[0], s[1], "", "")
		f.Add(s[0], s[1], "", "uploadId=../../x&partNumber=1")
		f.Add(s[0], s[1], "", "uploads")
	}
	fix := BuildFixture(f)
	h := New(fix.Buckets, FixAccount, "us-east-1")
	before := snapshot(f, fix.Root)
	f.Fuzz(func(t *testing.T, bucket, key, host, query string) {
		for _, method := range []string{"PUT", "POST"} {
			req := &http.Request{Method: method, URL: &url.URL{Path: "/" + bucket + "/" + key, RawQuery: query}, Host: host,
				Header: http.Header{}, Body: http.NoBody}
			rec := httptest.NewRecorder()
			h.Serve(rec, req, []byte("fuzz"), "req-fuzz")
		}
		after := snapshot(t, fix.Root)
		buckets := string(fix.Buckets) + string(filepath.Separator)
		// The key's own file in the bucket named (path or Host), or an
		// upload's files, may be new or replaced (a link there is
		// replaced, never followed); nothing else.
		allowed := func(p string) bool {
			rel, ok := strings.CutPrefix(p, buckets)
			if !ok {
				return false
			}
			b, k, _ := strings.Cut(filepath.ToSlash(rel), "/")
			if strings.HasPrefix(k, uploadsDir+"/") {
				return true
			}
			return (b == bucket || strings.HasPrefix(host, b+".")) && strings.HasSuffix(key, k)
		}
		for p, c := range before {
			if after[p] == c {
				continue
			}
			if !allowed(p) || strings.HasPrefix(c, "link:") && after[p] != "" && strings.HasPrefix(after[p], "link:") {
				t.Fatalf("/%s/%s?%s (Host %q) changed %s", bucket, key, query, host, p)
			}
			os.Remove(p)
			if target, ok := strings.CutPrefix(c, "link:"); ok {
				os.Symlink(target, p)
			} else {
				os.WriteFile(p, []byte(c), 0o644)
			}
		}
		for p := range after {
			if _, ok := before[p]; ok {
				continue
			}
			if !allowed(p) {
				t.Fatalf("/%s/%s?%s (Host %q) made %s", bucket, key, query, host, p)
			}
			os.Remove(p)
		}
	})
}

// snapshot maps every regular file and link under root to its content
// (a link: its target).
func snapshot(tb testing.TB, root string) map[string]string {
	out := map[string]string{}
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			t, _ := os.Readlink(p)
			out[p] = "link:" + t
			return nil
		}
		b, _ := os.ReadFile(p)
		out[p] = string(b)
		return nil
	})
	return out
}
