package main

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseDimensionList(t *testing.T) {
	tests := []struct {
		in   string
		want [][2]string
		err  string
	}{
		{"", nil, ""},
		{"  ", nil, ""},
		{"Eni=$eni", [][2]string{{"Eni", "$eni"}}, ""},
		{"Eni=$eni, Src = $.src.addr ,Port=$7", [][2]string{{"Eni", "$eni"}, {"Src", "$.src.addr"}, {"Port", "$7"}}, ""},
		{"Eni=eni-1=2", [][2]string{{"Eni", "eni-1=2"}}, ""}, // only the first '=' separates
		{"Eni", nil, `item 1 "Eni" at column 1: want NAME=VALUE`},
		{"A=1,,B=2", nil, `item 2 "" at column 5: want NAME=VALUE`},
		{"A=1,=x", nil, `item 2 "=x" at column 5: empty dimension name`},
		{"A=1,B=", nil, `item 2 "B=" at column 5: empty value for dimension B`},
		{"A=1,A=2", nil, `item 2 "A=2" at column 5: dimension A given twice`},
		{"é=1,x", nil, `item 2 "x" at column 5: want NAME=VALUE`}, // columns count characters
	}
	for _, tc := range tests {
		got, err := parseDimensionList(tc.in)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("%q: error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

// FuzzParseDimensionList: never panics; a result has unique, non-empty,
// trimmed names and values, and an error names an item and a column.
func FuzzParseDimensionList(f *testing.F) {
	for _, s := range []string{"", "Eni=$eni", "A=1,B=$.x.y", "A", "=", ",,", "A=1,A=2", "é=ü,\x00=\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseDimensionList(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "item ") || !strings.Contains(err.Error(), " at column ") {
				t.Fatalf("%q: unpositioned error %v", s, err)
			}
			return
		}
		seen := map[string]bool{}
		for _, p := range got {
			if p[0] == "" || p[1] == "" || seen[p[0]] || strings.TrimSpace(p[0]) != p[0] || strings.ContainsRune(p[0], ',') {
				t.Fatalf("%q: bad pair %q", s, p)
			}
			seen[p[0]] = true
		}
		if len(got) > 0 && len(got) != strings.Count(s, ",")+1 {
			t.Fatalf("%q: %d pairs from %d items", s, len(got), strings.Count(s, ",")+1)
		}
		_ = utf8.ValidString(s)
	})
}
