package logstore

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestNormalizeMessage(t *testing.T) {
	for _, c := range []struct{ in, out string }{
		{"ok", "ok"},
		{"café", "café"},
		{"a\xffb", "a\uFFFDb"},
		{"\xe2\x82", "\uFFFD\uFFFD"},           // a cut-off sequence: one per byte, as Go and CloudWatch's clients count
		{"\xed\xa0\x80", "\uFFFD\uFFFD\uFFFD"}, // an encoded surrogate
		{"\xef\xbf\xbd", "\uFFFD"},
	} {
		got, replaced := NormalizeMessage([]byte(c.in))
		if string(got) != c.out || replaced != (c.in != c.out) || !utf8.Valid(got) {
			t.Errorf("NormalizeMessage(%q) = %q, %v; want %q", c.in, got, replaced, c.out)
		}
		if s, r := NormalizeString(c.in); s != c.out || r != replaced {
			t.Errorf("NormalizeString(%q) = %q, %v", c.in, s, r)
		}
	}
}

// TestInvalidUTF8 checks what happens to messages with invalid UTF-8: they
// are stored with U+FFFD in place of each bad byte (as CloudWatch Logs
// stores them), counted in the result and the counters, and the size limits
// apply to the stored form on both paths.
func TestInvalidUTF8(t *testing.T) {
	c := &clock{time.UnixMilli(t0)}
	s := openTest(t, t.TempDir(), c)
	defer s.Close()
	// Ingest: one replaced, one fine, one that grows past the limit.
	big := bytes.Repeat([]byte{0xff}, MaxMessageBytes/2)
	res, err := s.Ingest("/g", []InputEvent{ev("a", t0, "bad \xff here"), ev("a", t0+1, "fine"), {Stream: "a", Timestamp: t0 + 2, Message: big}})
	if err != nil || res.Stored != 2 || res.Replaced != 1 || res.Invalid != 1 {
		t.Fatalf("Ingest = %+v, %v", res, err)
	}
	if got := scanAll(t, s, "/g", 0, 1<<62); got[0] != "1767225600000 a bad \uFFFD here" {
		t.Fatalf("stored %q", got)
	}
	if n := s.Counters().ReplacedUTF8; n != 1 {
		t.Fatalf("Counters().ReplacedUTF8 = %d", n)
	}

	// PutLogEvents: stored normalized; the batch size is the stored size.
	if err := s.CreateLogStream("/g", "p"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutLogEvents("/g", "p", []PutEvent{{Timestamp: t0, Message: "x\xc3"}}); err != nil {
		t.Fatal(err)
	}
	out, err := s.GetLogEvents(GetInput{Group: "/g", Stream: "p", StartFromHead: true})
	if err != nil || len(out.Events) != 1 || out.Events[0].Message != "x\uFFFD" {
		t.Fatalf("GetLogEvents = %+v, %v", out, err)
	}
	// 400,000 invalid bytes fit as sent, not as stored (1,200,000 bytes).
	_, err = s.PutLogEvents("/g", "p", []PutEvent{{Timestamp: t0, Message: strings.Repeat("\xff", 400_000)}})
	var ae *APIError
	if !errors.As(err, &ae) || !strings.Contains(ae.Message, "Upload too large: 1200026 bytes") {
		t.Fatalf("PutLogEvents of a message that grows: %v", err)
	}
	if n := s.Counters().ReplacedUTF8; n != 2 {
		t.Fatalf("Counters().ReplacedUTF8 = %d, want 2", n)
	}
}
