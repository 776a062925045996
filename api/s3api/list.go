package s3api

import (
	"encoding/base64"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// maxListKeys is the most keys and common prefixes one listing page
// holds, and its default.
const maxListKeys = 1000

// maxInt32 bounds S3's integer parameters.
const maxInt32 = 1<<31 - 1

// s3Time formats a time as S3's documents do.
func s3Time(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// Continuation tokens are opaque to clients (S3's are base64 too). They
// carry the last entry a page returned, tagged with the listing they
// belong to so one kind cannot pass for the other.
const (
	tokenObjects = "o1:"
	tokenBuckets = "b1:"
)

func encodeToken(kind, last string) string {
	return base64.StdEncoding.EncodeToString([]byte(kind + last))
}

func decodeToken(kind, token string) (string, bool) {
	raw, err := base64.StdEncoding.DecodeString(token)
	if err != nil || !utf8.Valid(raw) {
		return "", false
	}
	return strings.CutPrefix(string(raw), kind)
}

// intParam parses S3's integer query parameters as S3 does: absent or
// empty is the default; a decimal with an optional '-' that fits an int32
// is its value (leading zeros allowed); anything else is refused with
// "Provided NAME not an integer or within integer range".
func intParam(q query, name string, def int, resource string) (int, *apiError) {
	raw, ok := q.get(name)
	if !ok || raw == "" {
		return def, nil
	}
	s := strings.TrimPrefix(raw, "-")
	neg := len(s) < len(raw)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || s == "" || s[0] == '+' || (!neg && n > maxInt32) || (neg && n > maxInt32+1) {
		// strconv would take "+5"; S3 does not.
		return 0, invalidArgument("Provided "+name+" not an integer or within integer range", resource, name, &raw)
	}
	if neg {
		n = -n
	}
	return int(n), nil
}

// listBuckets answers ListBuckets: the buckets in name order, each with
// its creation time and region, a page at a time when asked
// (max-buckets, continuation-token, prefix, bucket-region).
func (h *Handler) listBuckets(rq *request) {
	const maxBuckets = 10000
	limit, aerr := intParam(rq.q, "max-buckets", maxBuckets, "/")
	if aerr == nil && (limit < 1 || limit > maxBuckets) {
		v := strconv.Itoa(limit)
		aerr = invalidArgument("Argument max-buckets must be an integer between 1 and 10000", "/", "max-buckets", &v)
	}
	if aerr != nil {
		rq.fail(aerr)
		return
	}
	after := ""
	if token, ok := rq.q.get("continuation-token"); ok {
		if after, ok = decodeToken(tokenBuckets, token); !ok {
			rq.fail(invalidArgument("The continuation token provided is incorrect", "/", "continuation-token", nil))
			return
		}
	}
	prefix, hasPrefix := rq.q.get("prefix")
	region, hasRegion := rq.q.get("bucket-region")

	names := slices.Clone(h.b.List()) // sorted here, never the caller's slice
	slices.Sort(names)
	names = slices.Compact(names)
	var b xmlDoc
	b.open("ListAllMyBucketsResult", xmlns)
	b.open("Buckets", "")
	n, next, lastName := 0, "", ""
	if !hasRegion || region == h.region {
		for _, name := range names {
			if name <= after || !strings.HasPrefix(name, prefix) {
				continue
			}
			dir := h.bucketDir(name)
			if dir == "" {
				continue
			}
			fi, err := os.Stat(dir)
			if err != nil {
				continue
			}
			if n == limit {
				next = encodeToken(tokenBuckets, lastName)
				break
			}
			b.open("Bucket", "")
			b.elem("Name", name)
			b.elem("CreationDate", s3Time(createdAt(dir, fi).Truncate(time.Second)))
			b.elem("BucketRegion", h.region)
			b.close("Bucket")
			n, lastName = n+1, name
		}
	}
	b.close("Buckets")
	b.open("Owner", "")
	b.elem("ID", h.ownerID)
	b.close("Owner")
	if next != "" {
		b.elem("ContinuationToken", next)
	}
	if hasPrefix {
		b.elem("Prefix", prefix)
	}
	b.close("ListAllMyBucketsResult")
	b.send(rq.w, http.StatusOK)
}

// listing is one page of a bucket listing being collected.
type listing struct {
	h      *Handler
	prefix string
	delim  string
	// after: the page holds the entries (keys and common prefixes) that
	// sort after it. A key rolled up into a common prefix that sorts at or
	// before it is skipped with its prefix, so that a page ending on a
	// common prefix is followed by the entries after that whole group
	// rather than by the same prefix again.
	after string
	limit int

	entries   []entry
	lastCP    string
	truncated bool
	done      bool // no later key can be on the page
}

// entry is a key (with its file's details) or a common prefix.
type entry struct {
	key    string
	prefix bool
	size   int64
	mod    time.Time
	etag   string
}

// add appends an entry, or marks the page truncated when it is full.
func (l *listing) add(e entry) {
	if len(l.entries) == l.limit {
		l.truncated, l.done = true, true
		return
	}
	l.entries = append(l.entries, e)
	if e.prefix {
		l.lastCP = e.key
	}
}

// rollup is the common prefix a key (or a directory's key prefix) rolls
// up into: the prefix, then up to the first delimiter after it. ok is
// false for a key listed on its own.
func (l *listing) rollup(key string) (string, bool) {
	if l.delim == "" || !strings.HasPrefix(key, l.prefix) {
		return "", false
	}
	i := strings.Index(key[len(l.prefix):], l.delim)
	if i < 0 {
		return "", false
	}
	return key[:len(l.prefix)+i+len(l.delim)], true
}

// walk collects the entries under the directory root, whose keys all
// start with base, depth first in key order; it prunes every subtree
// whose keys cannot be on the page, so a page costs about its own size
// even in a large bucket.
func (l *listing) walk(root *os.Root, base string) {
	kids, err := children(root)
	if err != nil {
		return
	}
	for _, k := range kids {
		if l.done {
			return
		}
		key := base + k.order
		// Keys under the prefix are contiguous in key order: once past
		// them, nothing later can match.
		if !strings.HasPrefix(key, l.prefix) && !(k.dir && strings.HasPrefix(l.prefix, key)) {
			if key > l.prefix {
				l.done = true
				return
			}
			continue
		}
		if !k.dir {
			l.file(root, k.name, key)
			continue
		}
		// Every key of the subtree starts with key: skip it when all of
		// them sort at or before after, or fall in the last common prefix.
		if l.after >= key && !strings.HasPrefix(l.after, key) {
			continue
		}
		if l.lastCP != "" && strings.HasPrefix(key, l.lastCP) {
			continue
		}
		fi, err := root.Lstat(k.name)
		if err != nil || !fi.IsDir() {
			continue
		}
		sub, err := root.OpenRoot(k.name)
		if err != nil {
			continue
		}
		if cp, ok := l.rollup(key); ok {
			// Every key of the subtree holds the delimiter within key, so
			// the whole subtree rolls up into one common prefix, listed
			// once if it holds any object.
			if cp > l.after && cp != l.lastCP && hasObject(sub) {
				l.add(entry{key: cp, prefix: true})
			}
		} else {
			l.walk(sub, key)
		}
		sub.Close()
	}
}

// file considers the file name of root, whose key is key.
func (l *listing) file(root *os.Root, name, key string) {
	if key <= l.after {
		return
	}
	if cp, ok := l.rollup(key); ok {
		if cp > l.after && cp != l.lastCP {
			l.add(entry{key: cp, prefix: true})
		}
		return
	}
	fi, err := root.Lstat(name)
	if err != nil || !fi.Mode().IsRegular() {
		return
	}
	e := entry{key: key, size: fi.Size(), mod: lastModified(fi)}
	f, err := root.Open(name)
	if err != nil {
		return
	}
	ofi, err := f.Stat()
	if err == nil && os.SameFile(fi, ofi) {
		e.etag, err = l.h.etags.etag(f, ofi)
	}
	f.Close()
	if err != nil || e.etag == "" {
		return
	}
	l.add(e)
}

// urlEncode encodes a key-like value for encoding-type=url as S3 does:
// Java's URLEncoder with '/' kept (letters, digits, "-_.*/" unchanged, a
// space as '+', every other byte of the UTF-8 as %XX). botocore decodes
// with unquote_plus, which reverses exactly this.
func urlEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			c == '-', c == '_', c == '.', c == '*', c == '/':
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('+')
		default:
			const hexDigits = "0123456789ABCDEF"
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
	return b.String()
}

// listObjects answers ListObjectsV2 (list-type=2) and ListObjects. The
// checks come in S3's order: max-keys must parse and each version's own
// parameters are refused on the other, before the bucket is looked up;
// then encoding-type, the continuation token, and a negative max-keys.
func (h *Handler) listObjects(rq *request) {
	q, resource := rq.q, "/"+rq.bucket
	v2 := q.first("list-type") == "2"
	maxKeys, aerr := intParam(q, "max-keys", maxListKeys, resource)
	if aerr != nil {
		rq.fail(aerr)
		return
	}
	if v2 {
		if _, ok := q.get("marker"); ok {
			rq.fail(invalidArgument("Marker unsupported with REST.GET.BUCKET in list-type=2", resource, "marker", nil))
			return
		}
	} else {
		if _, ok := q.get("continuation-token"); ok {
			rq.fail(invalidArgument("continuation-token only supported in REST.GET.BUCKET with list-type=2", resource, "continuation-token", nil))
			return
		}
		if _, ok := q.get("start-after"); ok {
			rq.fail(invalidArgument("startAfter only supported in REST.GET.BUCKET with list-type=2", resource, "start-after", nil))
			return
		}
	}
	dir := h.bucketDir(rq.bucket)
	if dir == "" {
		rq.fail(noSuchBucket(rq.bucket))
		return
	}
	if h.ownerMismatch(rq) {
		rq.fail(accessDenied(resource))
		return
	}
	encodingType, encode := q.get("encoding-type")
	if encode && !strings.EqualFold(encodingType, "url") {
		rq.fail(invalidArgument("Invalid Encoding Method specified in Request", resource, "encoding-type", &encodingType))
		return
	}
	token, hasToken := "", false
	var after string
	if v2 {
		if token, hasToken = q.get("continuation-token"); hasToken {
			var ok bool
			if after, ok = decodeToken(tokenObjects, token); !ok {
				rq.fail(invalidArgument("The continuation token provided is incorrect", resource, "continuation-token", nil))
				return
			}
		}
	}
	if maxKeys < 0 {
		v := strconv.Itoa(maxKeys)
		rq.fail(invalidArgument("Argument maxKeys must be an integer between 0 and 2147483647", resource, "maxKeys", &v))
		return
	}
	startAfter, hasStartAfter := q.get("start-after")
	marker := q.first("marker")
	switch {
	case hasToken: // the token wins over start-after, which seeds the first page only
	case v2:
		after = startAfter
	default:
		after = marker
	}
	fetchOwner := v2 && strings.EqualFold(q.first("fetch-owner"), "true")

	l := &listing{h: h, prefix: q.first("prefix"), delim: q.first("delimiter"), after: after, limit: min(maxKeys, maxListKeys)}
	if l.limit > 0 {
		if root, err := os.OpenRoot(dir); err == nil {
			l.walk(root, "")
			root.Close()
		}
	}

	enc := func(s string) string { return s }
	if encode {
		enc = urlEncode
	}
	var b xmlDoc
	b.open("ListBucketResult", xmlns)
	b.elem("Name", rq.bucket)
	b.elem("Prefix", enc(l.prefix))
	var last string
	if n := len(l.entries); n > 0 {
		last = l.entries[n-1].key
	}
	if v2 {
		if hasToken {
			b.elem("ContinuationToken", token)
		} else if hasStartAfter {
			b.elem("StartAfter", enc(startAfter))
		}
		if l.truncated {
			b.elem("NextContinuationToken", encodeToken(tokenObjects, last))
		}
		b.elem("KeyCount", strconv.Itoa(len(l.entries)))
	} else {
		b.elem("Marker", enc(marker))
		// Without a delimiter S3 leaves NextMarker out: the last key is the
		// next marker, as clients know.
		if l.truncated && l.delim != "" {
			b.elem("NextMarker", enc(last))
		}
	}
	b.elem("MaxKeys", strconv.Itoa(maxKeys))
	if l.delim != "" {
		b.elem("Delimiter", enc(l.delim))
	}
	if encode {
		b.elem("EncodingType", encodingType)
	}
	b.elem("IsTruncated", strconv.FormatBool(l.truncated))
	// S3 writes every Contents, then every CommonPrefixes.
	for _, e := range l.entries {
		if e.prefix {
			continue
		}
		b.open("Contents", "")
		b.elem("Key", enc(e.key))
		b.elem("LastModified", s3Time(e.mod))
		b.elem("ETag", e.etag)
		b.elem("Size", strconv.FormatInt(e.size, 10))
		if !v2 || fetchOwner {
			b.open("Owner", "")
			b.elem("ID", h.ownerID)
			b.close("Owner")
		}
		b.elem("StorageClass", "STANDARD")
		b.close("Contents")
	}
	for _, e := range l.entries {
		if e.prefix {
			b.open("CommonPrefixes", "")
			b.elem("Prefix", enc(e.key))
			b.close("CommonPrefixes")
		}
	}
	b.close("ListBucketResult")
	b.send(rq.w, http.StatusOK)
}
