package logstore

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestFilterScanLimit: a search bounded to a number of events read stops
// there with a token, pages that read past no match are empty, and
// following the tokens finds every match once, in order, in both
// directions.
func TestFilterScanLimit(t *testing.T) {
	c := &clock{time.UnixMilli(t0 + 10*dayMs)}
	s := openTest(t, t.TempDir(), c)
	defer s.Close()
	// 30 events 3 h apart (four days), m0..m29; the pattern "m2" matches
	// m2 and m20..m29: 11 events.
	fill(t, s, "g", "s", 30, 3*3_600_000)
	match := func(m []byte) bool { return bytes.HasPrefix(m, []byte("m2")) }
	for _, desc := range []bool{false, true} {
		var got []string
		var scanned int64
		tok, pages, empty := "", 0, 0
		for {
			out, err := s.FilterLogEvents(FilterInput{Group: "g", Match: match, Pattern: "m2", Limit: 4, ScanLimit: 5, Descending: desc, NextToken: tok})
			if err != nil {
				t.Fatal(err)
			}
			if out.Scanned > 5 {
				t.Fatalf("page %d read %d events, limit 5", pages, out.Scanned)
			}
			pages++
			if len(out.Events) == 0 {
				empty++
			}
			scanned += out.Scanned
			for _, e := range out.Events {
				got = append(got, e.Message)
			}
			if tok = out.NextToken; tok == "" || pages > 40 {
				break
			}
		}
		want := "m2 m20 m21 m22 m23 m24 m25 m26 m27 m28 m29"
		if desc {
			want = "m29 m28 m27 m26 m25 m24 m23 m22 m21 m20 m2"
		}
		if g := strings.Join(got, " "); g != want {
			t.Errorf("descending=%v: %s, want %s", desc, g, want)
		}
		// Every event is read once over the pages (30), none twice.
		if scanned != 30 {
			t.Errorf("descending=%v: %d events read over the pages, want 30", desc, scanned)
		}
		if empty == 0 {
			t.Errorf("descending=%v: no empty page, though 5 events in a row (m3..m7) do not match", desc)
		}
	}
	// Without ScanLimit nothing changes: one page of 4 with a token.
	out, err := s.FilterLogEvents(FilterInput{Group: "g", Match: match, Pattern: "m2", Limit: 4})
	if err != nil || len(out.Events) != 4 || out.NextToken == "" || out.Events[0].Message != "m2" || out.Events[3].Message != "m22" {
		t.Fatalf("unbounded: %+v %v", out, err)
	}
}
