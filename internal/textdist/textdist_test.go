package textdist

import "testing"

func TestLevenshtein(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"srcaddr", "srcaddr", 0}, {"srcadr", "srcaddr", 1}, {"dstaddrr", "dstaddr", 1},
		{"kitten", "sitting", 3}, {"", "abc", 3}, {"VpcID", "VpcId", 1},
	} {
		if got := Levenshtein(tt.a, tt.b); got != tt.want {
			t.Errorf("Levenshtein(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
