package s3api

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// streamingUnsignedTrailer is the X-Amz-Content-Sha256 of an aws-chunked
// body whose chunks are not signed and whose checksum comes in a trailer:
// what aws-sdk-go-v2 sends over HTTPS for PutObject and UploadPart.
const streamingUnsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"

// maxTrailers bounds the trailer lines of an aws-chunked body (the SDKs
// send one, the checksum).
const maxTrailers = 16

// decodeChunked reads an aws-chunked body, as S3 documents it
// (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html):
// chunks "HEXSIZE[;extensions]\r\nDATA\r\n" up to a chunk of size 0, then
// trailer lines "name:value\r\n" and an empty line. It returns the payload
// and the trailers (names lower-cased); the error names the byte offset and
// what was expected there.
func decodeChunked(body []byte) (payload []byte, trailers map[string]string, err error) {
	off := 0
	line := func() (string, error) {
		i := bytes.Index(body[off:], []byte("\r\n"))
		if i < 0 {
			return "", fmt.Errorf("aws-chunked body: no CRLF after offset %d", off)
		}
		s := string(body[off : off+i])
		off += i + 2
		return s, nil
	}
	for {
		at := off
		l, err := line()
		if err != nil {
			return nil, nil, err
		}
		sizeText, _, _ := strings.Cut(l, ";")
		size, perr := strconv.ParseUint(sizeText, 16, 63)
		if perr != nil || sizeText == "" || len(sizeText) > 16 {
			return nil, nil, fmt.Errorf("aws-chunked body: offset %d: want a hexadecimal chunk size, got %q", at, truncate(sizeText, 20))
		}
		if size == 0 {
			break
		}
		if size > uint64(len(body)-off) {
			return nil, nil, fmt.Errorf("aws-chunked body: offset %d: chunk of %d bytes, only %d left", at, size, len(body)-off)
		}
		payload = append(payload, body[off:off+int(size)]...)
		off += int(size)
		if !bytes.HasPrefix(body[off:], []byte("\r\n")) {
			return nil, nil, fmt.Errorf("aws-chunked body: offset %d: want CRLF after a chunk's data", off)
		}
		off += 2
	}
	trailers = map[string]string{}
	for {
		at := off
		l, err := line()
		if err != nil {
			return nil, nil, err
		}
		if l == "" {
			break
		}
		name, value, ok := strings.Cut(l, ":")
		if !ok || name == "" || len(trailers) >= maxTrailers {
			return nil, nil, fmt.Errorf("aws-chunked body: offset %d: want a trailer \"name:value\", got %q", at, truncate(l, 40))
		}
		trailers[strings.ToLower(strings.TrimSpace(name))] = strings.TrimSpace(value)
	}
	if off != len(body) {
		return nil, nil, fmt.Errorf("aws-chunked body: %d bytes after the final empty line at offset %d", len(body)-off, off)
	}
	if payload == nil {
		payload = []byte{}
	}
	return payload, trailers, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// payload is an object write's data as the client meant it: the body, or
// an aws-chunked body decoded, with its trailing checksum moved into the
// headers the digests are checked against. The headers returned are a
// copy when changed.
func payloadOf(r *http.Request, body []byte, resource string) ([]byte, http.Header, *apiError) {
	chunked := r.Header.Get("X-Amz-Content-Sha256") == streamingUnsignedTrailer
	for _, enc := range strings.Split(r.Header.Get("Content-Encoding"), ",") {
		chunked = chunked || strings.TrimSpace(enc) == "aws-chunked"
	}
	if !chunked {
		return body, r.Header, nil
	}
	bad := func(msg string) *apiError {
		return &apiError{status: http.StatusBadRequest, code: "InvalidRequest", message: msg, resource: resource}
	}
	data, trailers, err := decodeChunked(body)
	if err != nil {
		return nil, nil, bad(err.Error())
	}
	if v := r.Header.Get("X-Amz-Decoded-Content-Length"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n != int64(len(data)) {
			return nil, nil, &apiError{status: http.StatusBadRequest, code: "IncompleteBody",
				message: "You did not provide the number of bytes specified by the Content-Length HTTP header", resource: resource}
		}
	}
	h := r.Header.Clone()
	announced := map[string]bool{}
	for _, t := range strings.Split(r.Header.Get("X-Amz-Trailer"), ",") {
		if t = strings.ToLower(strings.TrimSpace(t)); t != "" {
			announced[t] = true
		}
	}
	for name := range announced {
		v, ok := trailers[name]
		if !ok {
			return nil, nil, bad("The trailer " + name + " announced in x-amz-trailer is missing from the aws-chunked body.")
		}
		if h.Get(name) != "" {
			return nil, nil, bad("The checksum " + name + " is both a header and a trailer.")
		}
		h.Set(name, v)
	}
	for name := range trailers {
		if !announced[name] {
			return nil, nil, bad("The trailer " + name + " was not announced in x-amz-trailer.")
		}
	}
	return data, h, nil
}
