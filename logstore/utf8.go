package logstore

import "unicode/utf8"

// CloudWatch Logs takes event messages as UTF-8 strings and normalizes
// byte sequences that are not valid UTF-8 to U+FFFD, the replacement
// character, one per invalid byte as Go's decoder reads them; the size
// limits apply to the normalized message, which can be up to three times
// longer (docs/logstore.md names the public sources). The store does the
// same on both ingestion paths and counts the messages it changed.

// NormalizeMessage returns msg with every byte that does not begin a valid
// UTF-8 sequence replaced by U+FFFD, and whether anything was replaced.
// Valid input is returned as is, without copying.
func NormalizeMessage(msg []byte) ([]byte, bool) {
	if utf8.Valid(msg) {
		return msg, false
	}
	out := make([]byte, 0, len(msg)+16)
	for i := 0; i < len(msg); {
		r, n := utf8.DecodeRune(msg[i:])
		if r == utf8.RuneError && n == 1 {
			out = utf8.AppendRune(out, utf8.RuneError)
		} else {
			out = append(out, msg[i:i+n]...)
		}
		i += n
	}
	return out, true
}

// NormalizeString is NormalizeMessage for a string.
func NormalizeString(msg string) (string, bool) {
	if utf8.ValidString(msg) {
		return msg, false
	}
	b, _ := NormalizeMessage([]byte(msg))
	return string(b), true
}
