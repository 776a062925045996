package filterpattern

import (
	"reflect"
	"testing"
)

// TestChoice covers the [Choice] and [Observed] entries of docs/aws-behaviour.md,
// "Filter pattern syntax" (listed in "Choices where AWS is silent"), and the
// decisions this package takes where AWS is silent.
func TestChoice(t *testing.T) {
	tests := []struct {
		id, pattern, msg string
		want             bool
	}{
		{"not JSON, NOT EXISTS", `{ $.a NOT EXISTS }`, `a=1`, false},
		{"JSON scalar top level", `{ $.a NOT EXISTS }`, `42`, false},
		{"JSON with trailing data", `{ $.a = 1 }`, `{"a":1} x`, false},
		{"string value vs JSON number", `{ $.n = "1.0" }`, `{"n":1.0}`, true},
		{"string value vs JSON number text", `{ $.n = "1" }`, `{"n":1.0}`, false},
		{"number vs JSON string equal", `{ $.n = 1 }`, `{"n":"1"}`, true},
		{"number vs JSON string text", `{ $.n = 1 }`, `{"n":"1.0"}`, false},
		{"!= number vs JSON string", `{ $.n != 1 }`, `{"n":"10"}`, true},
		{"ordering vs JSON string", `{ $.n > 0 }`, `{"n":"5"}`, false},
		{"numeric vs JSON number", `{ $.n = 1 }`, `{"n":1.0}`, true},
		{"!= on dash", `[a, b != 5]`, `x -`, false},
		{"= on dash", `[a, b = 5]`, `x -`, false},
		{"string != on dash", `[a, b != "5"]`, `x -`, true},
		{"lower-case is null", `{ $.a is null }`, `{"a":null}`, true},
		{"mixed-case not exists", `{ $.b Not Exists }`, `{"a":null}`, true},
		{"punctuation literal", `a.b`, `xa.by`, true},
		{"punctuation literal no match", `a.b`, `axb`, false},
		{"? ignored beside -", `?x -y`, `x`, true},
		{"[*] NOT EXISTS empty", `{ $.l[*] NOT EXISTS }`, `{"l":[]}`, true},
		{"[*] NOT EXISTS some", `{ $.l[*] NOT EXISTS }`, `{"l":[1]}`, false},
		{".* some member", `{ $.o.* = 2 }`, `{"o":{"a":1,"b":2}}`, true},
		{"runs of blanks", `[a, b=x, c]`, "1 \t x   3", true},
		{"object != is false", `{ $.o != "x" }`, `{"o":{}}`, false},
		{"boolean = string is false", `{ $.b = "true" }`, `{"b":true}`, false},
		{"regex != ", `[a, b != %^1%]`, `x 21`, true},
		{"interior star literal", `[a = Ev*ent]`, `Ev*ent`, true},
		{"double star", `[a = **]`, `anything`, true},
		{"quoted wildcard", `[a = "Acc*"]`, `AccessDenied`, true},
		{"regex class keeps dot literal", `%a[.]b%`, `axb`, false},
		{"\\s is tab newline space", `%a\sb%`, "a\tb", true},
		{"\\s excludes CR", `%a\sb%`, "a\rb", false},
		{"\\x escape", `%\x3A\x28%`, `a:(b`, true},
		{"phrase escapes", `"say \"hi\" \\o/"`, `I say "hi" \o/`, true},
		{"JSON bare value stops at )", `{ ($.a = x) }`, `{"a":"x"}`, true},
		{"delimited value with =", `[a = x=y]`, `x=y`, true},
	}
	for _, tc := range tests {
		p, err := Compile(tc.pattern)
		if err != nil {
			t.Errorf("%s: Compile(%q): %v", tc.id, tc.pattern, err)
			continue
		}
		if got := p.MatchString(tc.msg); got != tc.want {
			t.Errorf("%s: %q on %q = %v, want %v", tc.id, tc.pattern, tc.msg, got, tc.want)
		}
	}
}

// TestChoiceExtraction pins how fields are cut where AWS leaves room
// (docs/aws-behaviour.md, "Space-delimited patterns").
func TestChoiceExtraction(t *testing.T) {
	tests := []struct {
		id, pattern, msg string
		want             map[string]string
	}{
		// [Observed] An unterminated quote is ordinary text.
		{"unterminated quote", `[a, b, c]`, `ERROR "unterminated words`, map[string]string{"$a": "ERROR", "$b": `"unterminated`, "$c": "words"}},
		// The last slot alone on a grouped field drops its delimiters; with
		// more fields after it, the rest is taken verbatim.
		{"last grouped field", `[a, b]`, `x "y z"`, map[string]string{"$a": "x", "$b": "y z"}},
		{"last slot verbatim", `[a, b]`, `x "y z"  w  `, map[string]string{"$a": "x", "$b": `"y z"  w`}},
		{"bracket group", `[a, b, c]`, `eni-a[1] [p q] r`, map[string]string{"$a": "eni-a[1]", "$b": "p q", "$c": "r"}},
		{"repeated name last wins", `[a, a, ...]`, `1 2 3`, map[string]string{"$a": "2", "$3": "3"}},
		{"empty slot", `[]`, `  one two  `, map[string]string{"$1": "one two"}},
		{"ellipsis absorbs none", `[a, ..., b]`, `1 2`, map[string]string{"$a": "1", "$b": "2"}},
	}
	for _, tc := range tests {
		p := MustCompile(tc.pattern)
		ok, vals := p.Extract(tc.msg)
		if !ok || !reflect.DeepEqual(vals, tc.want) {
			t.Errorf("%s: %s on %q = %v %v, want %v", tc.id, tc.pattern, tc.msg, ok, vals, tc.want)
		}
	}
	for _, tc := range []struct{ pattern, msg string }{
		{`[a, b, c]`, `1 2`},      // too few fields
		{`[a, ..., b, c]`, `1 2`}, // needs n-1 = 3
		{`[a]`, "  \t "},          // no field at all
	} {
		if MustCompile(tc.pattern).MatchString(tc.msg) {
			t.Errorf("%s on %q matched, want no match", tc.pattern, tc.msg)
		}
	}
}

// TestNewUserPatterns tries what someone new to the language might write.
func TestNewUserPatterns(t *testing.T) {
	ok := []string{
		`{$.a=1}`, `[a,b,c]`, `[srcaddr = 10.0.0.0/8, ...]`, `{ $.a >= 10 && $.b < 5 }`, `ERROR OR WARN`,
		`{ $.a = 'x' }`, `[action=REJECT,]`, `[,,,]`, `{ $.a[0][1].b = -1.5e-3 }`, `%^2 \d+ eni-%`, `[a=(1)]`,
	}
	for _, s := range ok {
		if _, err := Compile(s); err != nil {
			t.Errorf("Compile(%q): %v", s, err)
		}
	}
	bad := []struct {
		pattern string
		pos     int
	}{
		{`[a == 1]`, 5},
		{`{ $.a = 1 AND $.b = 2 }`, 11},
		{`[a = 1 and b = 2]`, 8},
		{`{ a = 1 }`, 3},
		{`{ $.a ~ 1 }`, 7},
		{`%(a|b)%`, 2},
		{`%a\%`, 3},
		{`%é%`, 2},
		{`"a\b"`, 3},
		{`a"b"`, 2},
		{`[a=%x]`, 4},
		{`[a="x]`, 4},
		{`[a, "b"=1]`, 5},
		{`{ $. = 1 }`, 4},
		{`{ $.a[x] = 1 }`, 6},
		{`{ $.a = }`, 9},
		{`[a=1&&]`, 7},
		{`%a{2,x}%`, 3},
		{`%[a-z%`, 2},
	}
	for _, tc := range bad {
		_, err := Compile(tc.pattern)
		pe, isPE := err.(*Error)
		if !isPE || pe.Pos != tc.pos {
			t.Errorf("Compile(%q) = %v, want an error at column %d", tc.pattern, err, tc.pos)
		}
	}
}
