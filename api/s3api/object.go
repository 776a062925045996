package s3api

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// responseOverrides are GetObject's and HeadObject's query parameters
// that set a header of the answer (S3 takes them on signed requests only,
// and every request here is signed).
var responseOverrides = [][2]string{
	{"response-cache-control", "Cache-Control"},
	{"response-content-disposition", "Content-Disposition"},
	{"response-content-encoding", "Content-Encoding"},
	{"response-content-language", "Content-Language"},
	{"response-content-type", "Content-Type"},
	{"response-expires", "Expires"},
}

// contentType is the type an object is served with: the flow-log service
// delivers gzip text objects, and anything else is bytes.
func contentType(key string) string {
	if strings.HasSuffix(key, ".gz") {
		return "application/gzip"
	}
	return "application/octet-stream"
}

// getObject answers GetObject and HeadObject.
func (h *Handler) getObject(rq *request) {
	resource := "/" + rq.bucket + "/" + rq.key
	sel := rq.q.selected(objectSubresources)
	if rq.head && len(sel) > 0 {
		// No sub-resource has a HEAD form.
		status := http.StatusMethodNotAllowed
		if len(sel) > 1 {
			status = http.StatusBadRequest
		}
		rq.fail(&apiError{status: status})
		return
	}
	if len(sel) > 1 {
		rq.fail(invalidArgument("Conflicting query string parameters: "+strings.Join(sel, ", "), resource, "ResourceType", &sel[0]))
		return
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
	// The buckets are unversioned: every object's only version is "null".
	if v, ok := rq.q.get("versionId"); ok && v != "null" {
		rq.fail(invalidArgument("Invalid version id specified", resource, "versionId", &v))
		return
	}
	rangeHeader := rq.r.Header.Get("Range")
	part := 0
	if v, ok := rq.q.get("partNumber"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 {
			rq.fail(invalidArgument("Part number must be an integer between 1 and 10000, inclusive", resource, "partNumber", &v))
			return
		}
		if rangeHeader != "" {
			rq.fail(&apiError{status: http.StatusBadRequest, code: "InvalidRequest",
				message: "Cannot specify both Range header and partNumber query parameter", resource: resource})
			return
		}
		part = n
	}
	f, fi, err := openObject(dir, rq.key)
	if err != nil {
		rq.fail(noSuchKey(rq.bucket, rq.key))
		return
	}
	defer f.Close()
	if len(sel) == 1 {
		rq.fail(notImplemented(resource))
		return
	}
	etag, err := h.etags.etag(f, fi)
	if err != nil {
		rq.fail(noSuchKey(rq.bucket, rq.key))
		return
	}
	mod := lastModified(fi)
	hd := rq.w.Header()
	hd.Set("ETag", etag)
	hd.Set("Last-Modified", mod.Format(http.TimeFormat))
	switch status, condition := preconditions(rq.r, etag, mod); status {
	case http.StatusNotModified:
		rq.w.WriteHeader(http.StatusNotModified)
		return
	case http.StatusPreconditionFailed:
		rq.fail(&apiError{status: status, code: "PreconditionFailed", message: msgPrecondition,
			resource: resource, extra: [][2]string{{"Condition", condition}}})
		return
	}

	size := fi.Size()
	start, end, status := int64(0), size-1, http.StatusOK
	switch {
	case part > 1:
		// An object written in one piece has a single part.
		rq.fail(&apiError{status: http.StatusRequestedRangeNotSatisfiable, code: "InvalidPartNumber",
			message: "The requested partnumber is not satisfiable", resource: resource})
		return
	case part == 1 && size > 0:
		status = http.StatusPartialContent
	case rangeHeader != "":
		s, e, partial, unsatisfiable := parseRange(rangeHeader, size)
		if unsatisfiable {
			sz := strconv.FormatInt(size, 10)
			rq.fail(&apiError{status: http.StatusRequestedRangeNotSatisfiable, code: "InvalidRange", message: msgInvalidRange,
				resource: resource, extra: [][2]string{{"RangeRequested", rangeHeader}, {"ActualObjectSize", sz}},
				header: map[string]string{"Content-Range": "bytes */" + sz}})
			return
		}
		if partial {
			start, end, status = s, e, http.StatusPartialContent
		}
	}
	hd.Set("Accept-Ranges", "bytes")
	hd.Set("Content-Type", contentType(rq.key))
	// Every S3 object is encrypted at rest (SSE-S3) since 2023, and S3
	// says so on every read.
	hd.Set("x-amz-server-side-encryption", "AES256")
	for _, o := range responseOverrides {
		if v, ok := rq.q.get(o[0]); ok {
			hd.Set(o[1], v)
		}
	}
	if status == http.StatusPartialContent {
		hd.Set("Content-Range", "bytes "+strconv.FormatInt(start, 10)+"-"+strconv.FormatInt(end, 10)+"/"+strconv.FormatInt(size, 10))
	}
	length := end - start + 1
	hd.Set("Content-Length", strconv.FormatInt(length, 10))
	rq.w.WriteHeader(status)
	if !rq.head && length > 0 {
		io.Copy(rq.w, io.NewSectionReader(f, start, length))
	}
}

// preconditions evaluates the conditional headers as S3 documents them for
// GetObject and HeadObject: If-Match, or else If-Unmodified-Since, fails
// with 412 (If-Match true and If-Unmodified-Since false is 200); then
// If-None-Match, or else If-Modified-Since, answers 304 (If-None-Match
// false and If-Modified-Since true is 304). A date that does not parse is
// ignored.
func preconditions(r *http.Request, etag string, mod time.Time) (int, string) {
	if im := r.Header.Get("If-Match"); im != "" {
		if !etagMatches(im, etag) {
			return http.StatusPreconditionFailed, "If-Match"
		}
	} else if t, err := http.ParseTime(r.Header.Get("If-Unmodified-Since")); err == nil && mod.After(t) {
		return http.StatusPreconditionFailed, "If-Unmodified-Since"
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		if etagMatches(inm, etag) {
			return http.StatusNotModified, ""
		}
	} else if t, err := http.ParseTime(r.Header.Get("If-Modified-Since")); err == nil && !mod.After(t) {
		return http.StatusNotModified, ""
	}
	return 0, ""
}

// etagMatches reports whether a list of entity tags (quoted or not, as S3
// takes both, or "*") names etag.
func etagMatches(list, etag string) bool {
	want := strings.Trim(etag, `"`)
	for _, t := range strings.Split(list, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || strings.Trim(t, `"`) == want {
			return true
		}
	}
	return false
}

// parseRange reads a Range header for an object of size bytes. S3 serves
// one range (first-last, first- or -suffix); a header it cannot read, a
// unit other than bytes or several ranges get the whole object, as S3
// answers them (partial false). A range starting past the end, or an empty
// suffix, is unsatisfiable (416 InvalidRange); a range ending past the end
// is cut at it.
func parseRange(header string, size int64) (start, end int64, partial, unsatisfiable bool) {
	const unit = "bytes="
	if len(header) < len(unit) || !strings.EqualFold(header[:len(unit)], unit) {
		return 0, 0, false, false
	}
	spec := strings.TrimSpace(header[len(unit):])
	if strings.Contains(spec, ",") {
		return 0, 0, false, false
	}
	first, last, ok := strings.Cut(spec, "-")
	if !ok {
		return 0, 0, false, false
	}
	first, last = strings.TrimSpace(first), strings.TrimSpace(last)
	if first == "" {
		n, ok := digits(last)
		if !ok {
			return 0, 0, false, false
		}
		if n == 0 {
			return 0, 0, false, true
		}
		if size == 0 {
			return 0, 0, false, false
		}
		return max(0, size-n), size - 1, true, false
	}
	s, ok := digits(first)
	if !ok {
		return 0, 0, false, false
	}
	e := size - 1
	if last != "" {
		if e, ok = digits(last); !ok || e < s {
			return 0, 0, false, false
		}
	}
	if s >= size {
		return 0, 0, false, true
	}
	return s, min(e, size-1), true, false
}

// digits parses a non-negative decimal number (no sign, no spaces); one
// too large for int64 stands for "past any end".
func digits(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 1<<63 - 1, true
	}
	return n, true
}
