package logsvc

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// DecodeMessage decodes raw, the JSON string of a log event's message (as
// an NDJSON line of `vpcflow logs put` holds it), and reports whether the
// text changed on the way: a byte that is not valid UTF-8, or an escaped
// UTF-16 surrogate without its pair (\ud800), becomes U+FFFD. That is what
// encoding/json does, and what CloudWatch Logs does with invalid UTF-8 in
// PutLogEvents (logstore.NormalizeMessage); the caller counts the changed
// messages so that none changes silently. raw that is not a JSON string is
// an error.
func DecodeMessage(raw []byte) (string, bool, error) {
	var msg string
	if err := json.Unmarshal(raw, &msg); err != nil {
		return "", false, err
	}
	if !strings.ContainsRune(msg, utf8.RuneError) {
		return msg, false, nil
	}
	// U+FFFD can also be in the input, written out or escaped: the message
	// changed when the output has more of them.
	return msg, strings.Count(msg, "\uFFFD") > replacementsIn(raw), nil
}

// replacementsIn counts the U+FFFD characters raw (a JSON string) spells:
// as UTF-8 bytes or as the escape \ufffd.
func replacementsIn(raw []byte) int {
	n := bytes.Count(raw, []byte("\uFFFD"))
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' || i+1 >= len(raw) {
			continue
		}
		if raw[i+1] == 'u' && i+6 <= len(raw) && strings.EqualFold(string(raw[i+2:i+6]), "fffd") {
			n++
		}
		i++ // skip the escaped character: \\ufffd is a backslash and text
	}
	return n
}
