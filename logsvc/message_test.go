package logsvc

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestDecodeMessage(t *testing.T) {
	for _, c := range []struct {
		raw      string
		msg      string
		replaced bool
	}{
		{`"plain"`, "plain", false},
		{`"caf\u00e9 ok"`, "café ok", false},
		{"\"caf\xc3\xa9\"", "café", false},
		{"\"bad \xff byte\"", "bad \uFFFD byte", true},
		{"\"two \xe2\x82 bytes\"", "two \uFFFD\uFFFD bytes", true}, // a cut-off sequence: one U+FFFD per byte
		{`"lone \ud800 surrogate"`, "lone \uFFFD surrogate", true},
		{`"pair \ud83d\ude00"`, "pair 😀", false},
		{`"written \ufffd"`, "written \uFFFD", false},
		{`"written \uFFFD"`, "written \uFFFD", false},
		{"\"literal \xef\xbf\xbd\"", "literal \uFFFD", false},
		{"\"literal \xef\xbf\xbd and \xff\"", "literal \uFFFD and \uFFFD", true},
		{`"escaped \\ufffd"`, `escaped \ufffd`, false},
	} {
		msg, replaced, err := DecodeMessage([]byte(c.raw))
		if err != nil || msg != c.msg || replaced != c.replaced {
			t.Errorf("DecodeMessage(%q) = %q, %v, %v; want %q, %v", c.raw, msg, replaced, err, c.msg, c.replaced)
		}
	}
	if _, _, err := DecodeMessage([]byte(`42`)); err == nil {
		t.Error("a number decoded as a message")
	}
}

// FuzzDecodeMessage: DecodeMessage gives encoding/json's string and says
// it changed exactly when the input had invalid UTF-8 or a lone surrogate
// escape (worked out here another way: the input re-encoded).
func FuzzDecodeMessage(f *testing.F) {
	for _, s := range []string{`"a"`, "\"\xff\"", `"\ud800"`, `"\ufffd"`, `"\\ufffd"`, "\"\xef\xbf\xbd\"", `"\ud83d\ude00"`, `"\udc00\ud800"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		msg, replaced, err := DecodeMessage(raw)
		var want string
		if jerr := json.Unmarshal(raw, &want); (jerr != nil) != (err != nil) {
			t.Fatalf("error %v, encoding/json says %v", err, jerr)
		}
		if err != nil {
			return
		}
		if msg != want {
			t.Fatalf("%q, encoding/json gives %q", msg, want)
		}
		changed := !utf8.Valid(raw) || hasLoneSurrogate(raw)
		if replaced != changed {
			t.Fatalf("DecodeMessage(%q) replaced = %v, want %v", raw, replaced, changed)
		}
	})
}

// hasLoneSurrogate reports an escaped UTF-16 surrogate that is not half of
// a pair, in a JSON string that decodes.
func hasLoneSurrogate(raw []byte) bool {
	s := string(raw)
	hex := func(i int) (int, bool) {
		if i+6 > len(s) || s[i] != '\\' || s[i+1] != 'u' {
			return 0, false
		}
		v := 0
		for _, c := range strings.ToLower(s[i+2 : i+6]) {
			switch {
			case c >= '0' && c <= '9':
				v = v*16 + int(c-'0')
			case c >= 'a' && c <= 'f':
				v = v*16 + int(c-'a'+10)
			default:
				return 0, false
			}
		}
		return v, true
	}
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			continue
		}
		v, ok := hex(i)
		if !ok {
			i++
			continue
		}
		switch {
		case v >= 0xd800 && v < 0xdc00:
			if w, ok := hex(i + 6); ok && w >= 0xdc00 && w < 0xe000 {
				i += 11
				continue
			}
			return true
		case v >= 0xdc00 && v < 0xe000:
			return true
		}
		i += 5
	}
	return false
}
