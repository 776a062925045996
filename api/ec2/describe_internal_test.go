package ec2

import (
	"strings"
	"testing"
)

func TestWildcard(t *testing.T) {
	for _, tc := range []struct {
		pattern, s string
		want       bool
	}{
		{"10.0.1.0/24", "10.0.1.0/24", true},
		{"10.0.1.0/24", "10.0.1.0/2", false},
		{"10.0.*", "10.0.1.0/24", true},
		{"*", "", true},
		{"*", "anything", true},
		{"?", "", false},
		{"?", "a", true},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxbyy", false},
		{"*server", "web server", true},
		{"*server", "web servers", false},
		{"web?server", "web server", true},
		{`a\*`, "a*", true},
		{`a\*`, "ab", false},
		{`a\?`, "a?", true},
		{`a\?`, "ab", false},
		{`trailing\`, `trailing\`, true},
		{"ünï*", "ünïcode", true},
		{"?nïcode", "ünïcode", true},
	} {
		if got := wildcard(tc.pattern, tc.s); got != tc.want {
			t.Errorf("wildcard(%q, %q) = %v, want %v", tc.pattern, tc.s, got, tc.want)
		}
	}
	// Patterns built to make naive backtracking exponential stay fast.
	p := strings.Repeat("*a", 30) + "b"
	if wildcard(p, strings.Repeat("a", 5000)) {
		t.Error("no b, yet a match")
	}
}

func TestTokens(t *testing.T) {
	tok := encodeToken("vpcs", "vpc-0a")
	if got, err := decodeToken("vpcs", tok); err != nil || got != "vpc-0a" {
		t.Errorf("round trip: %q %v", got, err)
	}
	for _, bad := range []string{"x", tok + "!", encodeToken("subnets", "subnet-1"), encodeToken("vpcs", "")} {
		if _, err := decodeToken("vpcs", bad); err == nil {
			t.Errorf("token %q accepted", bad)
		}
	}
	items := []string{"a", "b", "c", "d", "e"}
	id := func(s string) string { return s }
	pg, next := page(items, id, "k", "", 2)
	if strings.Join(pg, "") != "ab" || next == "" {
		t.Fatalf("first page %q %q", pg, next)
	}
	after, _ := decodeToken("k", next)
	// The item after the token's is gone: the page starts at the next one.
	pg, next = page([]string{"a", "c", "d", "e"}, id, "k", after, 2)
	if strings.Join(pg, "") != "cd" || next == "" {
		t.Fatalf("second page %q %q", pg, next)
	}
	after, _ = decodeToken("k", next)
	pg, next = page(items, id, "k", after, 2)
	if strings.Join(pg, "") != "e" || next != "" {
		t.Fatalf("last page %q %q", pg, next)
	}
	if pg, next = page(items, id, "k", "", 0); len(pg) != 5 || next != "" {
		t.Fatalf("no MaxResults: %q %q", pg, next)
	}
}
