package s3api

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
	"hash/crc64"
	"net/http"
	"strings"
)

// checksum is one of S3's x-amz-checksum-* algorithms: the header's
// suffix, the name S3's messages use, and the digest of a body.
type checksum struct {
	header, name string
	sum          func([]byte) []byte
}

// crc64NVMETable is CRC-64/NVME (polynomial 0xAD93D23594C935A9, reflected),
// given to package crc64 in its reversed form.
var crc64NVMETable = crc64.MakeTable(0x9a6c9329ac4bc9b5)

var crc32cTable = crc32.MakeTable(crc32.Castagnoli)

// checksums are the algorithms S3 accepts, with the digests as the
// headers carry them (base64 of the big-endian CRC, or of the hash).
var checksums = []checksum{
	{"crc32", "CRC32", func(b []byte) []byte { return binary.BigEndian.AppendUint32(nil, crc32.ChecksumIEEE(b)) }},
	{"crc32c", "CRC32C", func(b []byte) []byte { return binary.BigEndian.AppendUint32(nil, crc32.Checksum(b, crc32cTable)) }},
	{"crc64nvme", "CRC64NVME", func(b []byte) []byte { return binary.BigEndian.AppendUint64(nil, crc64.Checksum(b, crc64NVMETable)) }},
	{"sha1", "SHA1", func(b []byte) []byte { s := sha1.Sum(b); return s[:] }},
	{"sha256", "SHA256", func(b []byte) []byte { s := sha256.Sum256(b); return s[:] }},
}

// verifyDigests checks the integrity headers a request carries against
// its body: Content-MD5 (InvalidDigest when it is no MD5, BadDigest when
// it differs) and each x-amz-checksum-* header (InvalidRequest when it
// cannot be one, BadDigest when it differs), with S3's messages. present
// says whether any was there, for the operations that require one.
func verifyDigests(r *http.Request, body []byte, resource string) (present bool, e *apiError) {
	return verifyDigestHeaders(r.Header, body, resource)
}

// verifyDigestHeaders is verifyDigests over headers that may not be the
// request's own (an aws-chunked body's trailer joins them).
func verifyDigestHeaders(hd http.Header, body []byte, resource string) (present bool, e *apiError) {
	if v := hd.Get("Content-MD5"); v != "" {
		present = true
		want, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v))
		if err != nil || len(want) != md5.Size {
			return true, &apiError{status: http.StatusBadRequest, code: "InvalidDigest",
				message: "The Content-MD5 you specified was invalid.", resource: resource, extra: [][2]string{{"Content-MD5", v}}}
		}
		if got := md5.Sum(body); !bytes.Equal(got[:], want) {
			return true, &apiError{status: http.StatusBadRequest, code: "BadDigest",
				message: "The Content-MD5 you specified did not match what we received.", resource: resource}
		}
	}
	for _, c := range checksums {
		v := hd.Get("x-amz-checksum-" + c.header)
		if v == "" {
			continue
		}
		present = true
		got := c.sum(body)
		want, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v))
		if err != nil || len(want) != len(got) {
			return true, &apiError{status: http.StatusBadRequest, code: "InvalidRequest",
				message: "Value for x-amz-checksum-" + c.header + " header is invalid.", resource: resource}
		}
		if !bytes.Equal(got, want) {
			return true, &apiError{status: http.StatusBadRequest, code: "BadDigest",
				message: "The " + c.name + " you specified did not match the calculated checksum.", resource: resource}
		}
	}
	return present, nil
}
