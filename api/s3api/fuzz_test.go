package s3api

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// keyPath never gives a path outside the bucket directory: whatever the
// key, a path it accepts joins to a file strictly under the directory, and
// spells the key.
func FuzzKeyPath(f *testing.F) {
	for _, k := range []string{FixKey1, "a", "../x", "a/../../x", "/etc/passwd", "a//b", ".", "..", "./a", "a/.",
		"a\x00b", ".tmp-1-2", "a/.tmp-x/b", "a\\..\\b", "\xff", strings.Repeat("a/", 600)} {
		f.Add(k)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, key string) {
		elems, ok := keyPath(key)
		if !ok {
			return
		}
		if strings.Join(elems, "/") != key {
			t.Fatalf("%q split into %q", key, elems)
		}
		p := filepath.Join(append([]string{dir}, elems...)...)
		rel, err := filepath.Rel(dir, p)
		if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
			t.Fatalf("%q leads to %s (%q from the bucket)", key, p, rel)
		}
		if filepath.ToSlash(rel) != key || strings.ContainsRune(key, 0) {
			t.Fatalf("%q maps to %q", key, rel)
		}
	})
}

// Whatever the bucket, key and Host, a request never panics and never
// answers with anything but an object of the bucket it names: never the
// secret beside the buckets, a temporary file or a link's target.
func FuzzServe(f *testing.F) {
	for _, s := range [][3]string{
		{FixBucket, FixKey1, ""}, {FixBucket, FixIndex, "localhost"}, {"", FixIndex, "flowlogs-bucket.localhost:4566"},
		{FixBucket, "../outside/secret.txt", ""}, {"..", "outside/secret.txt", ""}, {".", "buckets/" + FixBucket + "/" + FixIndex, ""},
		{FixBucket, "linked/secret.txt", ""}, {FixBucket, FixDay + "01/leak.log.gz", ""}, {FixBucket, "up/outside/secret.txt", ""},
		{FixBucket, FixDay + "01/.tmp-4242-1234567", ""}, {"", "outside/secret.txt", "...localhost"}, {"", "secret.txt", "outside.localhost"},
		{FixBucket, "alias.txt", ""}, {FixDotted, "README", ""}, {"", "", "..localhost"}, {FixBucket, "a\x00b", ""},
	} {
		f.Add(s[0], s[1], s[2], "")
		f.Add(s[0], s[1], s[2], "bytes=1-3")
	}
	fix := BuildFixture(f)
	h := New(fix.Buckets, FixAccount, "us-east-1")
	f.Fuzz(func(t *testing.T, bucket, key, host, rng string) {
		req := &http.Request{Method: "GET", URL: &url.URL{Path: "/" + bucket + "/" + key}, Host: host, Header: http.Header{}}
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		rec := httptest.NewRecorder()
		h.Serve(rec, req, nil, "req-fuzz")
		body := rec.Body.Bytes()
		if bytes.Contains(body, []byte("secret outside")) || bytes.Contains(body, []byte("partial")) {
			t.Fatalf("/%s/%s (Host %q) served %q", bucket, key, host, body)
		}
		if rec.Code != http.StatusOK && rec.Code != http.StatusPartialContent {
			return
		}
		if rec.Header().Get("Content-Type") == "application/xml" {
			return // a listing or a location
		}
		for _, c := range fix.Content {
			if bytes.Contains(c, body) {
				return
			}
		}
		if bytes.Contains([]byte("archive\n"), body) {
			return
		}
		t.Fatalf("/%s/%s (Host %q) served %q, no object's content", bucket, key, host, body)
	})
}

// listed is a page of a listing, from its document.
type listed struct {
	Keys        []string `xml:"Contents>Key"`
	Prefixes    []string `xml:"CommonPrefixes>Prefix"`
	KeyCount    int
	IsTruncated bool
	Next        string `xml:"NextContinuationToken"`
}

// oracle lists the fixture's keys by S3's definition, by brute force:
// every key under the prefix, or the common prefix it rolls up into, once,
// in order; the entries after `after` (a key rolled up into a common
// prefix at or before it is passed over with its prefix); at most limit.
// It sorts and dedupes the whole list, where the walk must get the order
// from the directories.
func oracle(prefix, delim, after string, limit int) (keys, prefixes []string, truncated bool) {
	type ent struct {
		s  string
		cp bool
	}
	var all []ent
	for _, k := range FixKeys {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		if i := strings.Index(k[len(prefix):], delim); delim != "" && i >= 0 {
			cp := k[:len(prefix)+i+len(delim)]
			if len(all) == 0 || all[len(all)-1].s != cp {
				all = append(all, ent{cp, true})
			}
			continue
		}
		all = append(all, ent{k, false})
	}
	slices.SortFunc(all, func(a, b ent) int { return strings.Compare(a.s, b.s) })
	all = slices.CompactFunc(all, func(a, b ent) bool { return a.s == b.s })
	var page []ent
	for _, e := range all {
		if e.s > after {
			page = append(page, e)
		}
	}
	if len(page) > limit {
		// A page of max-keys 0 is empty and not truncated, as S3 answers it.
		page, truncated = page[:limit], limit > 0
	}
	for _, e := range page {
		if e.cp {
			prefixes = append(prefixes, e.s)
		} else {
			keys = append(keys, e.s)
		}
	}
	return keys, prefixes, truncated
}

// The listing's walk, which prunes whole directories, agrees with the
// brute-force definition for any prefix, delimiter, start and page size,
// and paging through with the continuation tokens gives every entry once.
func FuzzList(f *testing.F) {
	for _, s := range []struct {
		prefix, delim, after string
		max                  uint16
	}{
		{"", "", "", 1000}, {"", "/", "", 1}, {"AWSLogs", "/", "", 2}, {"AWSLogs/", "/", "", 1000},
		{FixDay, "/", FixDay + "01/", 1000}, {"", "_", "", 3}, {"", "/", "AWSLogs/", 1}, {"", "/", "AWSLogs/x", 1},
		{"", "1", "", 2}, {"AWSLogs/111122223333/vpcflowlogs/us-east-1/2024/05/0", "_", "", 1}, {"", "", FixKey2, 0},
		{"sp", " ", "", 1}, {"", "Logs", "", 4}, {"", "/2024/05/", "", 5}, {"", "05/0", "", 5},
	} {
		f.Add(s.prefix, s.delim, s.after, s.max)
	}
	fix := BuildFixture(f)
	h := New(fix.Buckets, FixAccount, "us-east-1")
	list := func(t *testing.T, prefix, delim, after string, max int, token string) listed {
		q := url.Values{"list-type": {"2"}, "prefix": {prefix}, "delimiter": {delim}, "max-keys": {strconv.Itoa(max)}}
		if token != "" {
			q.Set("continuation-token", token)
		} else {
			q.Set("start-after", after)
		}
		req := &http.Request{Method: "GET", URL: &url.URL{Path: "/" + FixBucket, RawQuery: q.Encode()}, Header: http.Header{}}
		rec := httptest.NewRecorder()
		h.Serve(rec, req, nil, "req-fuzz")
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", req.URL, rec.Code, rec.Body.String())
		}
		var page listed
		if err := xml.Unmarshal(rec.Body.Bytes(), &page); err != nil {
			t.Fatalf("%s: %v", req.URL, err)
		}
		return page
	}
	valid := func(s string) bool {
		return !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0xFFFD })
	}
	f.Fuzz(func(t *testing.T, prefix, delim, after string, max uint16) {
		if !valid(prefix) || !valid(delim) || !valid(after) {
			return // XML cannot carry them back without encoding-type=url
		}
		limit := int(max % 9)
		page := list(t, prefix, delim, after, limit, "")
		keys, prefixes, truncated := oracle(prefix, delim, after, limit)
		if !slices.Equal(page.Keys, keys) || !slices.Equal(page.Prefixes, prefixes) || page.IsTruncated != truncated ||
			page.KeyCount != len(keys)+len(prefixes) {
			t.Fatalf("prefix %q delimiter %q after %q max %d:\n got %q %q %v\nwant %q %q %v",
				prefix, delim, after, limit, page.Keys, page.Prefixes, page.IsTruncated, keys, prefixes, truncated)
		}
		if limit == 0 {
			return
		}
		// Page through from the start with the tokens.
		wantKeys, wantPrefixes, _ := oracle(prefix, delim, "", len(FixKeys))
		var gotKeys, gotPrefixes []string
		token := ""
		for i := 0; ; i++ {
			p := list(t, prefix, delim, "", limit, token)
			gotKeys, gotPrefixes = append(gotKeys, p.Keys...), append(gotPrefixes, p.Prefixes...)
			if !p.IsTruncated {
				break
			}
			if i > len(FixKeys) || p.Next == "" {
				t.Fatalf("prefix %q delimiter %q max %d: paging does not end", prefix, delim, limit)
			}
			token = p.Next
		}
		if !slices.Equal(gotKeys, wantKeys) || !slices.Equal(gotPrefixes, wantPrefixes) {
			t.Fatalf("prefix %q delimiter %q max %d: pages gave %q %q, want %q %q", prefix, delim, limit, gotKeys, gotPrefixes, wantKeys, wantPrefixes)
		}
	})
}

func TestParseRange(t *testing.T) {
	for _, tc := range []struct {
		header               string
		size, start, end     int64
		partial, unsatisfied bool
	}{
		{"bytes=0-9", 100, 0, 9, true, false},
		{"bytes=90-", 100, 90, 99, true, false},
		{"bytes=-10", 100, 90, 99, true, false},
		{"bytes=-1000", 100, 0, 99, true, false},
		{"bytes=50-1000", 100, 50, 99, true, false},
		{"bytes=99-99", 100, 99, 99, true, false},
		{"BYTES=1-2", 100, 1, 2, true, false},
		{"bytes=100-", 100, 0, 0, false, true},
		{"bytes=100-200", 100, 0, 0, false, true},
		{"bytes=-0", 100, 0, 0, false, true},
		{"bytes=0-", 0, 0, 0, false, true},
		{"bytes=99999999999999999999-", 100, 0, 0, false, true},
		{"bytes=0-99999999999999999999", 100, 0, 99, true, false},
		{"bytes=-5", 0, 0, 0, false, false},
		{"bytes=5-1", 100, 0, 0, false, false},
		{"bytes=0-1,5-6", 100, 0, 0, false, false},
		{"bytes=a-b", 100, 0, 0, false, false},
		{"bytes=+1-2", 100, 0, 0, false, false},
		{"bytes=-", 100, 0, 0, false, false},
		{"bytes=1", 100, 0, 0, false, false},
		{"items=0-1", 100, 0, 0, false, false},
		{"", 100, 0, 0, false, false},
	} {
		s, e, p, u := parseRange(tc.header, tc.size)
		if p != tc.partial || u != tc.unsatisfied || (p && (s != tc.start || e != tc.end)) {
			t.Errorf("%q of %d: %d-%d partial %v unsatisfiable %v", tc.header, tc.size, s, e, p, u)
		}
	}
}

func TestURLEncode(t *testing.T) {
	// S3's own example: test_file(3).png comes back as test_file%283%29.png.
	for in, want := range map[string]string{
		"test_file(3).png":     "test_file%283%29.png",
		"AWSLogs/1/a-b_c.*.gz": "AWSLogs/1/a-b_c.*.gz",
		"a b+c":                "a+b%2Bc",
		"~!'%é":                "%7E%21%27%25%C3%A9",
		"\x01\n":               "%01%0A",
	} {
		if got := urlEncode(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
		if back, err := url.QueryUnescape(urlEncode(in)); err != nil || back != in {
			t.Errorf("%q does not come back: %q %v", in, back, err)
		}
	}
}

func TestBucketNames(t *testing.T) {
	for name, want := range map[string]bool{
		"flowlogs-bucket": true, "archive.example-bucket": true, "a": true, "Legacy_Bucket": true,
		"": false, ".": false, "..": false, "a..b": false, ".tmp-x": false, "-a": false, "a/b": false, "a\x00": false,
		"a\\b": false, strings.Repeat("a", 256): false,
	} {
		if validBucketName(name) != want {
			t.Errorf("%q: %v", name, !want)
		}
	}
	if d := DirBuckets("/data/buckets"); d.Dir("..") != "" || d.Dir("flowlogs-bucket") != "/data/buckets/flowlogs-bucket" {
		t.Errorf("DirBuckets: %q %q", d.Dir(".."), d.Dir("flowlogs-bucket"))
	}
}

// DeleteObjects' body decoder never panics; what it accepts is 1 to 1000
// objects with non-empty keys, which an independent encoding of the same
// objects decodes to again. Served with its digest, no body deletes
// anything but an object of the bucket: never the secret beside the
// buckets, a temporary file, a link or what a link points to.
func FuzzDeleteBody(f *testing.F) {
	for _, s := range []string{
		`<Delete><Object><Key>AWSLogs-index.txt</Key></Object></Delete>`,
		`<?xml version="1.0" encoding="UTF-8"?><Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Object><Key>a&amp;b</Key><VersionId>null</VersionId></Object><Quiet>true</Quiet></Delete>`,
		`<Delete><Object><Key>../outside/secret.txt</Key></Object><Object><Key>up/outside/secret.txt</Key></Object><Object><Key>linked/secret.txt</Key></Object></Delete>`,
		`<Delete><Object><Key>` + FixDay + `01/.tmp-4242-1234567</Key></Object><Object><Key>alias.txt</Key></Object><Object><Key>` + FixDay + `01/leak.log.gz</Key></Object></Delete>`,
		`<Delete><Object><Key>` + FixKey1 + `</Key></Object><Quiet>1</Quiet><Quiet>0</Quiet></Delete>`,
		`<Delete><Object><Key>x</Key><Key>y</Key></Object><Object><Key>&#13;&#x10FFFF;</Key></Object></Delete>`,
		`<Delete><Object/></Delete>`, `<Delete></Delete>`, `<Delete>`, ``, `<a:Delete xmlns:a="x"><a:Object><a:Key>k</a:Key></a:Object></a:Delete>`,
	} {
		f.Add([]byte(s))
	}
	fix := BuildFixture(f)
	h := New(fix.Buckets, FixAccount, "us-east-1")
	bucket := filepath.Join(string(fix.Buckets), FixBucket)
	keep := []string{fix.Secret, filepath.Join(bucket, FixDay, "01", ".tmp-4242-1234567"),
		filepath.Join(bucket, "alias.txt"), filepath.Join(bucket, "linked"), filepath.Join(bucket, "up"),
		filepath.Join(bucket, FixDay, "01", "leak.log.gz")}
	f.Fuzz(func(t *testing.T, body []byte) {
		items, quiet, ok := parseDelete(body)
		if ok {
			if len(items) == 0 || len(items) > maxDeleteKeys {
				t.Fatalf("%d objects accepted", len(items))
			}
			type object struct {
				Key       string  `xml:"Key"`
				VersionID *string `xml:"VersionId"`
			}
			doc := struct {
				XMLName xml.Name `xml:"Delete"`
				Objects []object `xml:"Object"`
				Quiet   bool     `xml:"Quiet"`
			}{Quiet: quiet}
			for _, it := range items {
				if it.key == "" {
					t.Fatal("an empty key accepted")
				}
				o := object{Key: it.key}
				if it.hasVersion {
					o.VersionID = &it.version
				}
				doc.Objects = append(doc.Objects, o)
			}
			again, err := xml.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			items2, quiet2, ok2 := parseDelete(again)
			if !ok2 || quiet2 != quiet || !slices.Equal(items2, items) {
				t.Fatalf("%q decoded to %+v quiet %v, its encoding %q to %+v quiet %v", body, items, quiet, again, items2, quiet2)
			}
		}
		sum := md5.Sum(body)
		req := httptest.NewRequest("POST", "/"+FixBucket+"?delete", bytes.NewReader(body))
		req.Header.Set("Content-MD5", base64.StdEncoding.EncodeToString(sum[:]))
		rec := httptest.NewRecorder()
		h.Serve(rec, req, body, "req-fuzz")
		if ok != (rec.Code == http.StatusOK) {
			t.Fatalf("decoded %v, answered %d %s", ok, rec.Code, rec.Body.Bytes())
		}
		for _, p := range keep {
			if _, err := os.Lstat(p); err != nil {
				t.Fatalf("%q removed %s: %v", body, p, err)
			}
		}
	})
}
