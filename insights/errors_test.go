package insights

import (
	"errors"
	"strings"
	"testing"
)

// TestParseErrors: queries a new user might write. Every error is an *Error
// naming line:column (positions counted by hand) and saying what is wrong.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		q       string
		line    int
		col     int
		message string
	}{
		{"", 1, 1, "expected a command"},
		{"stats count(*) by", 1, 18, "expected an expression"},
		{"filter x = ", 1, 12, "expected an expression"},
		{"fields a,", 1, 10, "expected an expression"},
		{"fields a b", 1, 10, `unexpected "b" after fields`},
		{"foo", 1, 1, `unknown command "foo"`},
		{"pattern @message", 1, 1, `command "pattern" is not supported`},
		{"fields a | unnest b", 1, 12, `command "unnest" is not supported`},
		{`parse @message "a*b*" as x`, 1, 23, "2 * but 1 field names"},
		{`parse @message "abc" as x`, 1, 16, "has no *"},
		{`parse @message /abc/`, 1, 16, "no named group"},
		{`parse @message /a(?<x>b/`, 1, 16, "invalid regular expression"},
		{`parse @message`, 1, 15, "expected a \"glob * pattern\""},
		{"limit 0", 1, 7, "limit needs a whole number"},
		{"limit abc", 1, 7, "limit needs a whole number"},
		{"limit 100001", 1, 7, "limit needs a whole number"},
		{"stats count(*) | stats count(*) | stats count(*)", 1, 35, "at most 2 stats"},
		{"stats count(*) as n by a | sort n | stats count(*)", 1, 28, "sort is not allowed before the second stats"},
		{"filter sum(bytes) > 1", 1, 8, "aggregate function sum can be used only in stats"},
		{"stats srcAddr", 1, 7, "must be inside an aggregate"},
		{"stats sum(count(*))", 1, 11, "cannot be nested"},
		{"stats 1 + 2", 1, 7, "stats needs an aggregate"},
		{"filter x like", 1, 14, "expected an expression"},
		{`filter x = "abc`, 1, 12, "unterminated string"},
		{"filter x =~ 'a'", 1, 13, "expected a /regular expression/"},
		{"filter x in 1", 1, 13, `expected "["`},
		{"filter x in [1, 2", 1, 18, "in list"},
		{"filter x not 1", 1, 14, `expected "like" or "in"`},
		{"fields bin(300)", 1, 12, "expected a period"},
		{"fields 5m", 1, 8, "a duration is allowed only"},
		{"fields 5parsecs", 1, 8, "invalid duration"},
		{"fields foo(1)", 1, 8, `unknown function "foo"`},
		{"fields abs(1, 2)", 1, 8, "abs takes 1 argument, got 2"},
		{"fields substr(1)", 1, 8, "substr takes 2 to 3 arguments, got 1"},
		{"stats count(*) by bin(5m) as t | stats count(*) by bin(1h)", 1, 52, "bin() is not allowed after stats"},
		{"stats count(*) as n by srcAddr | filter dstAddr = 'x'", 1, 41, `field "dstAddr" does not exist after stats`},
		{"dedup srcAddr | sort x", 1, 17, "only limit may follow dedup"},
		{"stats pct(bytes, 101)", 1, 18, "pct needs a percentile"},
		{"stats pct(bytes, p)", 1, 18, "pct needs a percentile"},
		{"stats count(*) by 5m", 1, 19, "needs bin()"},
		{"fields `", 1, 8, "unterminated backquoted"},
		{"fields a as", 1, 12, "expected a field name"},
		{"fields a as by", 1, 13, "expected a field name"},
		{"filter and", 1, 8, `unexpected keyword "and"`},
		{"fields (((1)", 1, 13, `expected ")"`},
		{"fields $x", 1, 8, `unexpected character "$"`},
		{"sum(bytes)", 1, 1, "unknown command"},
		// Line and column across lines and comments; column in characters.
		{"# top talkers\nstats sum(bytes) by srcAddr\n| sort ??", 3, 8, `unexpected character "?"`},
		{"filter s = 'é' | fields ?", 1, 25, `unexpected character "?"`},
		// [Choice] The AWS sample with an unquoted URL.
		{"filter referrer= http://34.250.27.141/", 1, 22, `unexpected character ":"`},
	}
	for _, tc := range tests {
		_, err := Parse(tc.q)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("Parse(%q) = %v, want a positioned error", tc.q, err)
			continue
		}
		if e.Line != tc.line || e.Col != tc.col || !strings.Contains(e.Msg, tc.message) {
			t.Errorf("Parse(%q) = %d:%d %q, want %d:%d containing %q", tc.q, e.Line, e.Col, e.Msg, tc.line, tc.col, tc.message)
		}
		if !strings.HasPrefix(e.Error(), "query:") {
			t.Errorf("Error() = %q", e.Error())
		}
	}
}

// TestErrorOffsets checks the MalformedQueryException location: character
// offsets, end exclusive.
func TestErrorOffsets(t *testing.T) {
	_, err := Parse("filter s = 'é' | sortt x")
	e := err.(*Error)
	// f-i-l-t-e-r-space-s-space-=-space-'-é-'-space-|-space = 17 characters before "sortt".
	if e.Start != 17 || e.End != 22 {
		t.Errorf("offsets %d-%d, want 17-22", e.Start, e.End)
	}
	long := strings.Repeat("fields a | ", 1000)
	if _, err := Parse(long); err == nil || !strings.Contains(err.Error(), "longer than 10000") {
		t.Errorf("long query: %v", err)
	}
}

// TestAccountRequired: the account @log names is configuration; the engine
// has no default to fall back on.
func TestAccountRequired(t *testing.T) {
	q, err := Parse("fields @log")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.Run(EventsSource(nil), Options{}); err == nil || err.Error() != "insights: Options.AccountID is required (it names @log)" {
		t.Errorf("without AccountID: %v", err)
	}
	res, err := q.Run(EventsSource([]Event{{Timestamp: 1, Group: "g", Stream: "s", Message: []byte("m")}}), Options{AccountID: "111122223333"})
	if err != nil || len(res.Rows) != 1 || res.Rows[0][0] != (Field{Field: "@log", Value: "111122223333:g"}) {
		t.Errorf("with AccountID: %v %v", res, err)
	}
}
