package s3api

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Multipart uploads live in the bucket's hidden folder uploadsDir, one
// folder per upload named by its id, holding the key ("key") and the
// parts, each a file "NNNNN-MD5HEX" (its number and its MD5, which is
// the part's ETag). The folder's name starts as temporary files do, so
// no listing, key or delete reaches it, and it goes with the bucket.
const uploadsDir = tempPrefix + "uploads"

// S3's limits for multipart uploads
// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html).
const (
	maxParts    = 10000
	minPartSize = 5 << 20
)

// uploadIDLen is the length of an upload id: 48 hex digits, checked on
// every request so that no id names another path.
const uploadIDLen = 48

func validUploadID(id string) bool {
	if len(id) != uploadIDLen {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil && strings.ToLower(id) == id
}

// uploadLocks serialises the changes of one upload (a part replaced, the
// upload completed or aborted), so that completing never reads a part
// being replaced.
type uploadLocks struct {
	mu sync.Mutex
	m  map[string]*sync.Mutex
}

func (u *uploadLocks) lock(id string) func() {
	u.mu.Lock()
	if u.m == nil {
		u.m = map[string]*sync.Mutex{}
	}
	l := u.m[id]
	if l == nil {
		l = &sync.Mutex{}
		u.m[id] = l
	}
	u.mu.Unlock()
	l.Lock()
	return l.Unlock
}

func (u *uploadLocks) forget(id string) {
	u.mu.Lock()
	delete(u.m, id)
	u.mu.Unlock()
}

func noSuchUpload(resource, id string) *apiError {
	return &apiError{status: http.StatusNotFound, code: "NoSuchUpload", resource: resource,
		message: "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
		extra:   [][2]string{{"UploadId", id}}}
}

// uploadDir is the folder of upload id of key in the bucket directory
// dir, or an error to answer: NoSuchUpload when there is none for that
// key.
func (h *Handler) uploadDir(rq *request, dir, resource string) (string, string, *apiError) {
	id, _ := rq.q.get("uploadId")
	if !validUploadID(id) {
		return "", id, noSuchUpload(resource, id)
	}
	up := filepath.Join(dir, uploadsDir, id)
	if fi, err := os.Lstat(up); err != nil || !fi.IsDir() {
		return "", id, noSuchUpload(resource, id)
	}
	key, err := os.ReadFile(filepath.Join(up, "key"))
	if err != nil || string(key) != rq.key {
		return "", id, noSuchUpload(resource, id)
	}
	return up, id, nil
}

// writeCheck is the start every multipart operation shares: the bucket,
// the owner, and a key a file can hold.
func (h *Handler) writeCheck(rq *request, op, resource string) (string, bool) {
	dir := h.bucketDir(rq.bucket)
	if dir == "" {
		h.refuse(rq, op, noSuchBucket(rq.bucket))
		return "", false
	}
	if h.ownerMismatch(rq) {
		h.refuse(rq, op, accessDenied(resource))
		return "", false
	}
	if _, ok := keyPath(rq.key); !ok {
		h.refuse(rq, op, unwritableKey(rq, resource))
		return "", false
	}
	return dir, true
}

// openUpload is the start of the operations on an existing upload that
// take nothing else to check first: writeCheck, then the upload's folder
// and id, the refusal sent when either fails. dir is the bucket's folder.
func (h *Handler) openUpload(rq *request, op, resource string) (dir, up, id string, ok bool) {
	dir, ok = h.writeCheck(rq, op, resource)
	if !ok {
		return "", "", "", false
	}
	up, id, e := h.uploadDir(rq, dir, resource)
	if e != nil {
		h.refuse(rq, op, e)
		return "", "", "", false
	}
	return dir, up, id, true
}

// createUpload answers CreateMultipartUpload with a new upload id.
func (h *Handler) createUpload(rq *request) {
	const op = "CreateMultipartUpload"
	resource := "/" + rq.bucket + "/" + rq.key
	dir, ok := h.writeCheck(rq, op, resource)
	if !ok {
		return
	}
	id := randomName("")
	up := filepath.Join(dir, uploadsDir, id)
	if err := os.MkdirAll(up, 0o755); err != nil {
		h.refuse(rq, op, internalError(resource))
		return
	}
	if err := os.WriteFile(filepath.Join(up, "key"), []byte(rq.key), 0o644); err != nil {
		os.RemoveAll(up)
		h.refuse(rq, op, internalError(resource))
		return
	}
	if v := rq.r.Header.Get("x-amz-checksum-algorithm"); v != "" {
		rq.w.Header().Set("x-amz-checksum-algorithm", v)
	}
	var b xmlDoc
	b.open("InitiateMultipartUploadResult", xmlns)
	b.elem("Bucket", rq.bucket)
	b.elem("Key", rq.key)
	b.elem("UploadId", id)
	b.close("InitiateMultipartUploadResult")
	b.send(rq.w, http.StatusOK)
}

// part is an uploaded part as its file name gives it.
type part struct {
	number int
	md5    string // hex
	file   string
	size   int64
	mod    time.Time
}

// parts lists an upload's parts in number order.
func listUploadParts(up string) ([]part, error) {
	ents, err := os.ReadDir(up)
	if err != nil {
		return nil, err
	}
	var out []part
	for _, e := range ents {
		num, sum, ok := strings.Cut(e.Name(), "-")
		n, err := strconv.Atoi(num)
		if !ok || err != nil || len(num) != 5 || len(sum) != 32 || !e.Type().IsRegular() {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue
		}
		out = append(out, part{number: n, md5: sum, file: filepath.Join(up, e.Name()), size: fi.Size(), mod: fi.ModTime()})
	}
	slices.SortFunc(out, func(a, b part) int { return a.number - b.number })
	return out, nil
}

// partNumber reads UploadPart's partNumber: 1 to 10000.
func partNumber(rq *request, resource string) (int, *apiError) {
	v, _ := rq.q.get("partNumber")
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxParts {
		return 0, invalidArgument("Part number must be an integer between 1 and 10000, inclusive", resource, "partNumber", &v)
	}
	return n, nil
}

// uploadPart answers UploadPart: the part, checked against its digests,
// replaces any earlier part of the same number.
func (h *Handler) uploadPart(rq *request) {
	const op = "UploadPart"
	resource := "/" + rq.bucket + "/" + rq.key
	dir, ok := h.writeCheck(rq, op, resource)
	if !ok {
		return
	}
	n, e := partNumber(rq, resource)
	if e != nil {
		h.refuse(rq, op, e)
		return
	}
	up, id, e := h.uploadDir(rq, dir, resource)
	if e != nil {
		h.refuse(rq, op, e)
		return
	}
	data, hd, e := payloadOf(rq.r, rq.body, resource)
	if e == nil {
		_, e = verifyDigestHeaders(hd, data, resource)
	}
	if e != nil {
		h.refuse(rq, op, e)
		return
	}
	sum := md5.Sum(data)
	sumHex := hex.EncodeToString(sum[:])
	name := filepath.Join(up, strconv.Itoa(100000 + n)[1:]+"-"+sumHex)
	tmp := filepath.Join(up, randomName(tempPrefix))
	if err := writeSynced(tmp, data); err != nil {
		os.Remove(tmp)
		h.refuse(rq, op, internalError(resource))
		return
	}
	unlock := h.uploads.lock(id)
	earlier, _ := listUploadParts(up)
	err := os.Rename(tmp, name)
	if err == nil {
		for _, p := range earlier {
			if p.number == n && p.file != name {
				os.Remove(p.file)
			}
		}
	}
	unlock()
	if err != nil {
		// The upload was completed or aborted meanwhile.
		os.Remove(tmp)
		h.refuse(rq, op, noSuchUpload(resource, id))
		return
	}
	h.m.bytes.WithLabelValues(op).Add(float64(len(data)))
	w := rq.w.Header()
	w.Set("ETag", `"`+sumHex+`"`)
	w.Set("x-amz-server-side-encryption", "AES256")
	echoChecksums(w, hd)
	rq.w.WriteHeader(http.StatusOK)
}

func writeSynced(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// completeRequest is CompleteMultipartUpload's body.
type completeRequest struct {
	XMLName xml.Name `xml:"CompleteMultipartUpload"`
	Parts   []struct {
		// A string, not an int: encoding/xml reads an empty element as 0,
		// and a part number must be written out.
		PartNumber *string `xml:"PartNumber"`
		ETag       *string `xml:"ETag"`
	} `xml:"Part"`
}

// completePart is one part CompleteMultipartUpload names.
type completePart struct {
	number int
	etag   string // unquoted
}

// parseComplete decodes CompleteMultipartUpload's body: 1 to 10000 parts,
// each with a PartNumber and an ETag; anything else is not the document.
func parseComplete(body []byte) ([]completePart, bool) {
	var c completeRequest
	if err := xml.Unmarshal(body, &c); err != nil || len(c.Parts) == 0 || len(c.Parts) > maxParts {
		return nil, false
	}
	out := make([]completePart, 0, len(c.Parts))
	for _, p := range c.Parts {
		if p.PartNumber == nil || p.ETag == nil {
			return nil, false
		}
		n, err := strconv.Atoi(strings.TrimSpace(*p.PartNumber))
		if err != nil {
			return nil, false
		}
		out = append(out, completePart{number: n, etag: strings.Trim(strings.TrimSpace(*p.ETag), `"`)})
	}
	return out, true
}

// multipartETag is the ETag S3 gives an object completed from parts: the
// MD5 of the parts' binary MD5s, then "-" and the number of parts.
func multipartETag(md5s []string) string {
	h := md5.New()
	for _, s := range md5s {
		b, _ := hex.DecodeString(s)
		h.Write(b)
	}
	return `"` + hex.EncodeToString(h.Sum(nil)) + "-" + strconv.Itoa(len(md5s)) + `"`
}

// completeUpload answers CompleteMultipartUpload: the parts named, in
// ascending order and with their ETags, are joined into the object, put in
// place atomically as PutObject's are; the upload is then gone.
func (h *Handler) completeUpload(rq *request) {
	const op = "CompleteMultipartUpload"
	resource := "/" + rq.bucket + "/" + rq.key
	dir, up, id, ok := h.openUpload(rq, op, resource)
	if !ok {
		return
	}
	want, ok := parseComplete(rq.body)
	if !ok {
		h.refuse(rq, op, malformedXML(resource))
		return
	}
	unlock := h.uploads.lock(id)
	defer unlock()
	have, err := listUploadParts(up)
	if err != nil {
		h.refuse(rq, op, noSuchUpload(resource, id))
		return
	}
	byNumber := map[int]part{}
	for _, p := range have {
		byNumber[p.number] = p
	}
	var chosen []part
	for i, w := range want {
		if i > 0 && w.number <= want[i-1].number {
			h.refuse(rq, op, &apiError{status: http.StatusBadRequest, code: "InvalidPartOrder", resource: resource,
				message: "The list of parts was not in ascending order. Parts must be ordered by part number."})
			return
		}
		p, ok := byNumber[w.number]
		if !ok || p.md5 != strings.ToLower(w.etag) {
			h.refuse(rq, op, &apiError{status: http.StatusBadRequest, code: "InvalidPart", resource: resource,
				message: "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not have matched the part's entity tag.",
				extra:   [][2]string{{"UploadId", id}, {"PartNumber", strconv.Itoa(w.number)}, {"ETag", w.etag}}})
			return
		}
		chosen = append(chosen, p)
	}
	for _, p := range chosen[:len(chosen)-1] {
		if p.size < minPartSize {
			h.refuse(rq, op, &apiError{status: http.StatusBadRequest, code: "EntityTooSmall", resource: resource,
				message: "Your proposed upload is smaller than the minimum allowed object size.",
				extra: [][2]string{{"ProposedSize", strconv.FormatInt(p.size, 10)}, {"MinSizeAllowed", strconv.Itoa(minPartSize)},
					{"PartNumber", strconv.Itoa(p.number)}, {"ETag", p.md5}}})
			return
		}
	}
	md5s := make([]string, len(chosen))
	for i, p := range chosen {
		md5s[i] = p.md5
	}
	etag := multipartETag(md5s)
	err = writeObject(dir, rq.key, etag, func(f *os.File) error {
		for _, p := range chosen {
			src, err := os.Open(p.file)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, src)
			src.Close()
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		h.refuse(rq, op, writeFailure(rq, resource, err))
		return
	}
	os.RemoveAll(up)
	h.uploads.forget(id)
	h.m.objects.WithLabelValues(op).Inc()
	scheme := "http"
	if rq.r.TLS != nil {
		scheme = "https"
	}
	loc := url.URL{Scheme: scheme, Host: rq.r.Host, Path: "/" + rq.bucket + "/" + rq.key}
	var b xmlDoc
	b.open("CompleteMultipartUploadResult", xmlns)
	b.elem("Location", loc.String())
	b.elem("Bucket", rq.bucket)
	b.elem("Key", rq.key)
	b.elem("ETag", etag)
	b.close("CompleteMultipartUploadResult")
	rq.w.Header().Set("x-amz-server-side-encryption", "AES256")
	b.send(rq.w, http.StatusOK)
}

// abortUpload answers AbortMultipartUpload: the upload and its parts are
// removed (204).
func (h *Handler) abortUpload(rq *request) {
	const op = "AbortMultipartUpload"
	resource := "/" + rq.bucket + "/" + rq.key
	_, up, id, ok := h.openUpload(rq, op, resource)
	if !ok {
		return
	}
	unlock := h.uploads.lock(id)
	err := os.RemoveAll(up)
	unlock()
	h.uploads.forget(id)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		h.refuse(rq, op, internalError(resource))
		return
	}
	rq.w.WriteHeader(http.StatusNoContent)
}

// listParts answers ListParts: the upload's parts after
// part-number-marker, max-parts (default and cap 1000) at a time.
func (h *Handler) listParts(rq *request) {
	const op = "ListParts"
	resource := "/" + rq.bucket + "/" + rq.key
	dir, ok := h.writeCheck(rq, op, resource)
	if !ok {
		return
	}
	maxP := 1000
	if v, ok := rq.q.get("max-parts"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			h.refuse(rq, op, invalidArgument("Provided max-parts not an integer or within integer range", resource, "max-parts", &v))
			return
		}
		maxP = min(n, 1000)
	}
	marker := 0
	if v, ok := rq.q.get("part-number-marker"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			h.refuse(rq, op, invalidArgument("Provided part-number-marker not an integer or within integer range", resource, "part-number-marker", &v))
			return
		}
		marker = n
	}
	up, id, e := h.uploadDir(rq, dir, resource)
	if e != nil {
		h.refuse(rq, op, e)
		return
	}
	all, err := listUploadParts(up)
	if err != nil {
		h.refuse(rq, op, noSuchUpload(resource, id))
		return
	}
	var page []part
	truncated := false
	for _, p := range all {
		if p.number <= marker {
			continue
		}
		if len(page) == maxP {
			truncated = true
			break
		}
		page = append(page, p)
	}
	var b xmlDoc
	b.open("ListPartsResult", xmlns)
	b.elem("Bucket", rq.bucket)
	b.elem("Key", rq.key)
	b.elem("UploadId", id)
	b.open("Initiator", "")
	b.elem("ID", h.ownerID)
	b.close("Initiator")
	b.open("Owner", "")
	b.elem("ID", h.ownerID)
	b.close("Owner")
	b.elem("StorageClass", "STANDARD")
	b.elem("PartNumberMarker", strconv.Itoa(marker))
	next := marker
	if len(page) > 0 {
		next = page[len(page)-1].number
	}
	b.elem("NextPartNumberMarker", strconv.Itoa(next))
	b.elem("MaxParts", strconv.Itoa(maxP))
	b.elem("IsTruncated", strconv.FormatBool(truncated))
	for _, p := range page {
		b.open("Part", "")
		b.elem("PartNumber", strconv.Itoa(p.number))
		b.elem("LastModified", p.mod.UTC().Truncate(time.Millisecond).Format("2006-01-02T15:04:05.000Z"))
		b.elem("ETag", `"`+p.md5+`"`)
		b.elem("Size", strconv.FormatInt(p.size, 10))
		b.close("Part")
	}
	b.close("ListPartsResult")
	b.send(rq.w, http.StatusOK)
}
