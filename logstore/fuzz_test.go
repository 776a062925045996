package logstore

import (
	"strings"
	"testing"
	"time"
)

// FuzzTokens feeds arbitrary nextTokens to GetLogEvents and FilterLogEvents
// over a real store: a bad token must give ErrInvalidToken, never a panic.
func FuzzTokens(f *testing.F) {
	s, err := Open(f.TempDir(), Options{Account: testAccount, Region: testRegion, Now: func() time.Time { return time.UnixMilli(t0) }})
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	s.Ingest("g", []InputEvent{ev("s", t0, "a"), ev("s", t0+dayMs, "b"), ev("t", t0+1, "c")})
	out, _ := s.FilterLogEvents(FilterInput{Group: "g", Limit: 1})
	f.Add(out.NextToken)
	f.Add("f/" + EventID(t0, 1))
	f.Add("b/" + EventID(t0+dayMs, 2))
	f.Add("f/" + strings.Repeat("9", 56))
	f.Add("")
	f.Fuzz(func(t *testing.T, tok string) {
		if _, err := s.GetLogEvents(GetInput{Group: "g", Stream: "s", NextToken: tok, Limit: 2}); err != nil && err != ErrInvalidToken {
			t.Fatalf("get %q: %v", tok, err)
		}
		if _, err := s.FilterLogEvents(FilterInput{Group: "g", NextToken: tok, Limit: 1}); err != nil && err != ErrInvalidToken {
			t.Fatalf("filter %q: %v", tok, err)
		}
		if _, _, err := s.DescribeLogGroups(DescribeGroupsInput{NextToken: tok}); err != nil && err != ErrInvalidToken {
			t.Fatalf("describe %q: %v", tok, err)
		}
	})
}

// FuzzNames checks that name validation never panics and agrees with AWS's
// character rules (docs/aws-behaviour.md, "Log groups, streams and events").
func FuzzNames(f *testing.F) {
	for _, s := range []string{"/vpc/flow-logs", "eni-0a1b2c3d4e5f60718-all", "a:b", "*", "", "é", strings.Repeat("a", 513)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if ValidateGroupName(name) == nil && strings.ContainsAny(name, ": *") {
			t.Fatalf("group %q accepted", name)
		}
		if ValidateStreamName(name) == nil && (name == "" || strings.ContainsAny(name, ":*")) {
			t.Fatalf("stream %q accepted", name)
		}
	})
}

func TestNames(t *testing.T) {
	long := strings.Repeat("é", 512) // 512 code points, 1024 bytes: allowed
	for _, tc := range []struct {
		name        string
		group, strm bool // valid as group, as stream
	}{
		{"/vpc/flow-logs", true, true},
		{"a.b-c_d/e#f", true, true},
		{"eni-0a1b2c3d4e5f60718-all", true, true},
		{"with space", false, true},
		{"a:b", false, false},
		{"a*b", false, false},
		{"", false, false},
		{long, false, true},
		{strings.Repeat("a", 512), true, true},
		{strings.Repeat("a", 513), false, false},
	} {
		if got := ValidateGroupName(tc.name) == nil; got != tc.group {
			t.Errorf("group %.20q: valid=%v", tc.name, got)
		}
		if got := ValidateStreamName(tc.name) == nil; got != tc.strm {
			t.Errorf("stream %.20q: valid=%v", tc.name, got)
		}
	}
	if err := ValidateGroupName(strings.Repeat("a", 513)); err != ErrNameTooLong {
		t.Errorf("513: %v", err)
	}
	if err := ValidateGroupName("a b"); err.Error() != `InvalidParameterException: 1 validation error detected: Value 'a b' at 'logGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\.\-_/#A-Za-z0-9]+` {
		t.Errorf("a b: %v", err)
	}
	for _, d := range []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653} {
		if !ValidRetention(d) {
			t.Errorf("retention %d refused", d)
		}
	}
	for _, d := range []int{0, 2, 4, 366, 3654, -1} {
		if ValidRetention(d) {
			t.Errorf("retention %d accepted", d)
		}
	}
}
