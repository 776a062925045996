package s3api

import (
	"encoding/xml"
	"errors"
	"net/http"
	"strings"
)

// The writes served are those that create, empty and remove buckets:
// CreateBucket, DeleteBucket, DeleteObject and DeleteObjects, so that
// `aws s3 mb`, `aws s3 rm` and `aws s3 rb` work and a flow log can be
// given a bucket to deliver to. No request writes an object: the objects
// are the flow-log service's.

// S3's messages for the writes, from its error code list and the
// operations' references.
const (
	msgInvalidBucketName   = "The specified bucket is not valid."
	msgAlreadyOwnedByYou   = "Your previous request to create the named bucket succeeded and you already own it."
	msgBucketNotEmpty      = "The bucket you tried to delete is not empty"
	msgMalformedXML        = "The XML you provided was not well-formed or did not validate against our published schema"
	msgInvalidLocation     = "The specified location-constraint is not valid"
	msgInternalError       = "We encountered an internal error. Please try again."
	msgKeyTooLong          = "Your key is too long"
	msgInvalidVersionID    = "Invalid version id specified"
	locationIncompatibleTo = " location constraint is incompatible for the region specific endpoint this request was sent to."
)

func internalError(resource string) *apiError {
	return &apiError{status: http.StatusInternalServerError, code: "InternalError", message: msgInternalError, resource: resource}
}

func malformedXML(resource string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "MalformedXML", message: msgMalformedXML, resource: resource}
}

// creatableBucketName applies S3's rules for naming a new general purpose
// bucket: 3 to 63 characters, lowercase letters, digits, '.' and '-',
// starting and ending with a letter or digit, no "..", not shaped as an
// IPv4 address, none of the prefixes and suffixes S3 reserves.
// (validBucketName, looser, is what an existing directory may be named.)
func creatableBucketName(name string) bool {
	if len(name) < 3 || len(name) > 63 || strings.Contains(name, "..") {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case (c == '.' || c == '-') && i > 0 && i < len(name)-1:
		default:
			return false
		}
	}
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(name, p) {
			return false
		}
	}
	for _, s := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"} {
		if strings.HasSuffix(name, s) {
			return false
		}
	}
	return !ipv4Shaped(name)
}

// ipv4Shaped reports whether name is four dot-separated runs of digits,
// the form S3 refuses for a bucket name (192.168.5.4).
func ipv4Shaped(name string) bool {
	parts := strings.Split(name, ".")
	if len(parts) != 4 {
		return false
	}
	for _, p := range parts {
		if p == "" || strings.Trim(p, "0123456789") != "" {
			return false
		}
	}
	return true
}

// createBucketConfiguration is CreateBucket's optional body.
type createBucketConfiguration struct {
	XMLName            xml.Name `xml:"CreateBucketConfiguration"`
	LocationConstraint *string  `xml:"LocationConstraint"`
}

// createBucket answers CreateBucket. The bucket is made in the server's
// region, so a LocationConstraint naming another one is refused as a
// regional S3 endpoint refuses it; in us-east-1 the constraint is left
// out (naming us-east-1 is invalid there, as S3 says). Creating a bucket
// that exists is BucketAlreadyOwnedByYou, except in us-east-1, where S3
// answers 200 for legacy compatibility.
func (h *Handler) createBucket(rq *request) {
	resource := "/" + rq.bucket
	if !creatableBucketName(rq.bucket) {
		rq.fail(&apiError{status: http.StatusBadRequest, code: "InvalidBucketName", message: msgInvalidBucketName,
			resource: resource, extra: [][2]string{{"BucketName", rq.bucket}}})
		return
	}
	if _, e := verifyDigests(rq.r, rq.body, resource); e != nil {
		rq.fail(e)
		return
	}
	constraint := ""
	if len(strings.TrimSpace(string(rq.body))) > 0 {
		var cfg createBucketConfiguration
		if err := xml.Unmarshal(rq.body, &cfg); err != nil {
			rq.fail(malformedXML(resource))
			return
		}
		if cfg.LocationConstraint != nil {
			constraint = *cfg.LocationConstraint
		}
	}
	switch {
	case h.region == "us-east-1" && constraint == "us-east-1":
		rq.fail(&apiError{status: http.StatusBadRequest, code: "InvalidLocationConstraint", message: msgInvalidLocation,
			resource: resource, extra: [][2]string{{"LocationConstraint", constraint}}})
		return
	case constraint == "" && h.region != "us-east-1", constraint != "" && constraint != h.region:
		name := constraint
		if name == "" {
			name = "unspecified"
		}
		rq.fail(&apiError{status: http.StatusBadRequest, code: "IllegalLocationConstraintException",
			message: "The " + name + locationIncompatibleTo, resource: resource})
		return
	}
	err := h.b.Create(rq.bucket)
	switch {
	case errors.Is(err, ErrBucketExists) && h.region != "us-east-1":
		rq.fail(&apiError{status: http.StatusConflict, code: "BucketAlreadyOwnedByYou", message: msgAlreadyOwnedByYou,
			resource: resource, extra: [][2]string{{"BucketName", rq.bucket}}})
		return
	case err != nil && !errors.Is(err, ErrBucketExists):
		rq.fail(internalError(resource))
		return
	}
	rq.w.Header().Set("Location", "/"+rq.bucket)
	rq.w.Header().Set("Content-Length", "0")
	rq.w.WriteHeader(http.StatusOK)
}

// deleteBucket answers DeleteBucket: 204, or BucketNotEmpty while the
// bucket holds an object or one is being delivered into it.
func (h *Handler) deleteBucket(rq *request) {
	resource := "/" + rq.bucket
	if h.bucketDir(rq.bucket) == "" {
		rq.fail(noSuchBucket(rq.bucket))
		return
	}
	if h.ownerMismatch(rq) {
		rq.fail(accessDenied(resource))
		return
	}
	h.mu.Lock()
	err := h.b.Delete(rq.bucket)
	h.mu.Unlock()
	switch {
	case errors.Is(err, ErrNoSuchBucket):
		rq.fail(noSuchBucket(rq.bucket))
	case errors.Is(err, ErrBucketNotEmpty):
		rq.fail(&apiError{status: http.StatusConflict, code: "BucketNotEmpty", message: msgBucketNotEmpty,
			resource: resource, extra: [][2]string{{"BucketName", rq.bucket}}})
	case err != nil:
		rq.fail(internalError(resource))
	default:
		rq.w.WriteHeader(http.StatusNoContent)
	}
}

// deleteObject answers DeleteObject: 204 whether or not the key named an
// object, as S3 answers for an unversioned bucket.
func (h *Handler) deleteObject(rq *request) {
	resource := "/" + rq.bucket + "/" + rq.key
	dir := h.bucketDir(rq.bucket)
	if dir == "" {
		rq.fail(noSuchBucket(rq.bucket))
		return
	}
	if h.ownerMismatch(rq) {
		rq.fail(accessDenied(resource))
		return
	}
	if v, ok := rq.q.get("versionId"); ok && v != "null" {
		rq.fail(invalidArgument(msgInvalidVersionID, resource, "versionId", &v))
		return
	}
	if err := removeObject(dir, rq.key); err != nil {
		rq.fail(internalError(resource))
		return
	}
	h.prune(dir, []string{rq.key})
	rq.w.WriteHeader(http.StatusNoContent)
}

// prune removes the directories left empty by deleted keys. Prunings and
// bucket deletions take the bucket's exclusive lock one at a time, so
// that the lock being taken means an object is being written.
func (h *Handler) prune(dir string, keys []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	pruneDirs(dir, keys)
}

// maxDeleteKeys is the most keys one DeleteObjects request may name.
const maxDeleteKeys = 1000

// deleteRequest is DeleteObjects' body, as the API reference gives it.
// Elements it does not name (the conditions of directory buckets) are
// ignored.
type deleteRequest struct {
	XMLName xml.Name `xml:"Delete"`
	Objects []struct {
		Key       *string `xml:"Key"`
		VersionID *string `xml:"VersionId"`
	} `xml:"Object"`
	Quiet *string `xml:"Quiet"`
}

// deleteItem is one object to delete.
type deleteItem struct {
	key, version string
	hasVersion   bool
}

// parseDelete decodes DeleteObjects' body: one to 1000 objects, each
// with a non-empty Key, and Quiet an XML boolean when present; anything
// else is MalformedXML, as S3 answers.
func parseDelete(body []byte) (items []deleteItem, quiet bool, ok bool) {
	var d deleteRequest
	if err := xml.Unmarshal(body, &d); err != nil {
		return nil, false, false
	}
	if len(d.Objects) == 0 || len(d.Objects) > maxDeleteKeys {
		return nil, false, false
	}
	if d.Quiet != nil {
		switch strings.TrimSpace(*d.Quiet) {
		case "true", "1":
			quiet = true
		case "false", "0":
		default:
			return nil, false, false
		}
	}
	items = make([]deleteItem, 0, len(d.Objects))
	for _, o := range d.Objects {
		if o.Key == nil || *o.Key == "" {
			return nil, false, false
		}
		it := deleteItem{key: *o.Key}
		if o.VersionID != nil {
			it.version, it.hasVersion = *o.VersionID, true
		}
		items = append(items, it)
	}
	return items, quiet, true
}

// deleteObjects answers DeleteObjects (POST /BUCKET?delete): every key is
// deleted or gets its own error, in the order sent; Quiet leaves the
// deleted keys out of the answer. The body must carry an integrity digest
// (Content-MD5 or an x-amz-checksum-* header), as S3 requires.
func (h *Handler) deleteObjects(rq *request) {
	resource := "/" + rq.bucket
	dir := h.bucketDir(rq.bucket)
	if dir == "" {
		rq.fail(noSuchBucket(rq.bucket))
		return
	}
	if h.ownerMismatch(rq) {
		rq.fail(accessDenied(resource))
		return
	}
	present, e := verifyDigests(rq.r, rq.body, resource)
	if e == nil && !present {
		e = &apiError{status: http.StatusBadRequest, code: "InvalidRequest",
			message: "Missing required header for this request: Content-MD5", resource: resource}
	}
	if e != nil {
		rq.fail(e)
		return
	}
	items, quiet, ok := parseDelete(rq.body)
	if !ok {
		rq.fail(malformedXML(resource))
		return
	}
	var b xmlDoc
	b.open("DeleteResult", xmlns)
	var deleted []string
	for _, it := range items {
		code, msg := "", ""
		switch {
		case len(it.key) > maxKeyBytes:
			code, msg = "KeyTooLongError", msgKeyTooLong
		case it.hasVersion && it.version != "null":
			code, msg = "InvalidArgument", msgInvalidVersionID
		default:
			if err := removeObject(dir, it.key); err != nil {
				code, msg = "InternalError", msgInternalError
			}
		}
		if code != "" {
			b.open("Error", "")
			b.elem("Key", it.key)
			if it.hasVersion {
				b.elem("VersionId", it.version)
			}
			b.elem("Code", code)
			b.elem("Message", msg)
			b.close("Error")
			continue
		}
		deleted = append(deleted, it.key)
		if quiet {
			continue
		}
		b.open("Deleted", "")
		b.elem("Key", it.key)
		if it.hasVersion {
			b.elem("VersionId", it.version)
		}
		b.close("Deleted")
	}
	b.close("DeleteResult")
	h.prune(dir, deleted)
	b.send(rq.w, http.StatusOK)
}
