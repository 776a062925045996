package logstore

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strconv"
)

// tokenTTL is how long a nextToken stays valid (docs/aws-behaviour.md,
// "CloudWatch Logs API").
const tokenTTL = 24 * 3_600_000

// pageToken is the content of an opaque nextToken: the operation, the key to
// resume after, a hash of the request's other parameters and the issue time.
type pageToken struct {
	Op     string `json:"o"`
	After  string `json:"a"`
	Hash   string `json:"h"`
	Issued int64  `json:"t"`
}

func paramHash(parts ...string) string {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return strconv.FormatUint(h.Sum64(), 36)
}

func encodeToken(op, after, hash string, now int64) string {
	b, _ := json.Marshal(pageToken{op, after, hash, now})
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeToken returns the resume key of a token issued for the same
// operation and parameters within the TTL, else ErrInvalidToken.
func decodeToken(tok, op, hash string, now int64) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return "", ErrInvalidToken
	}
	var t pageToken
	if json.Unmarshal(b, &t) != nil || t.Op != op || t.Hash != hash || now-t.Issued > tokenTTL || t.Issued-now > tokenTTL {
		return "", ErrInvalidToken
	}
	return t.After, nil
}

// EventID is the 56-digit eventId: 20-digit timestamp and 36-digit
// per-group sequence (docs/aws-behaviour.md, "Log groups, streams and
// events").
func EventID(ts int64, seq uint64) string { return fmt.Sprintf("%020d%036d", ts, seq) }

// parseEventKey reverses EventID into a 16-byte key.
func parseEventKey(s string) ([16]byte, bool) {
	var k [16]byte
	if len(s) != 56 {
		return k, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return k, false
		}
	}
	ts, err1 := strconv.ParseInt(s[:20], 10, 64)
	for i := 20; i < 36; i++ { // the sequence is a uint64: at most 20 significant digits
		if s[i] != '0' {
			return k, false
		}
	}
	seq, err2 := strconv.ParseUint(s[36:], 10, 64)
	if err1 != nil || err2 != nil || ts < 0 {
		return k, false
	}
	evKey(k[:], ts, seq)
	return k, true
}
