package filterpattern

import (
	"errors"
	"testing"
)

var fuzzPatterns = []string{
	``, `ERROR`, `?a ?b`, `a -b "c d"`, `"x\"y"`, `%a{,2}b%`, `%\x3A[^a-z]+$%`,
	sshPattern, `[..., action="REJECT", status="OK"]`, `[a, ..., b>1 && b<5 || b=9]`, `[]`, `[,]`,
	`[ip, user, username, timestamp, request =*.html*, status_code = 4*, bytes]`,
	`{ $.a = 1 }`, `{ $.* = %x% || ($.b[*].c IS NULL && $.d NOT EXISTS) }`, `{ $.['k.e'] != "v*" }`,
	`{ $.a = "x`, `[a=%b`, `{ $.a IS NOT NULL }`, `{ ( $.a = 1 }`,
}

var fuzzMessages = []string{
	d1, j1, j2, j3, flowRecords[0].msg, flowRecords[2].msg, ``, ` `, `"`, `[`, `a "b c" [d e] f`,
	"\t\ra\n", `{"a":1e400}`, `[1,[2,{"c":null}]]`, `{"a":"1"} x`,
}

// FuzzCompile checks that any pattern either compiles or yields an *Error
// pointing inside the pattern (or just past its end), and that a compiled
// pattern matches without panicking.
func FuzzCompile(f *testing.F) {
	for _, p := range fuzzPatterns {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, pattern string) {
		p, err := Compile(pattern)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %T %v is not *Error", err, err)
			}
			if pe.Pos < 1 || pe.Pos > len(pattern)+1 {
				t.Fatalf("Compile(%q): position %d outside 1..%d: %v", pattern, pe.Pos, len(pattern)+1, err)
			}
			if pe.Msg == "" || pe.Detail == "" {
				t.Fatalf("Compile(%q): empty message or detail: %#v", pattern, pe)
			}
			return
		}
		if p.String() != pattern {
			t.Fatalf("String() = %q, want %q", p.String(), pattern)
		}
		for _, m := range fuzzMessages {
			checkMatch(t, p, m)
		}
		checkMatch(t, p, pattern)
	})
}

// FuzzMatch runs fixed patterns over arbitrary messages.
func FuzzMatch(f *testing.F) {
	for _, m := range fuzzMessages {
		f.Add(m)
	}
	var ps []*Pattern
	for _, s := range fuzzPatterns {
		if p, err := Compile(s); err == nil {
			ps = append(ps, p)
		}
	}
	f.Fuzz(func(t *testing.T, msg string) {
		for _, p := range ps {
			checkMatch(t, p, msg)
		}
	})
}

func checkMatch(t *testing.T, p *Pattern, msg string) {
	m := p.MatchString(msg)
	if mb := p.Match([]byte(msg)); mb != m {
		t.Fatalf("%q on %q: Match %v, MatchString %v", p.src, msg, mb, m)
	}
	ok, vals := p.Extract(msg)
	if ok != m {
		t.Fatalf("%q on %q: Extract %v, MatchString %v", p.src, msg, ok, m)
	}
	if ok && vals == nil || !ok && vals != nil {
		t.Fatalf("%q on %q: Extract values %v with ok %v", p.src, msg, vals, ok)
	}
}

// FuzzParseSelector checks the metric-filter selector parser: no panics,
// positioned errors, and lookups that never panic.
func FuzzParseSelector(f *testing.F) {
	for _, s := range []string{`$.a`, `$.a[0].b`, `$.['k.e'].*`, `$[*]`, `$.`, `$.a[`, `x`, `$.a['`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		s, err := ParseSelector(path)
		if err != nil {
			pe, ok := err.(*Error)
			if !ok || pe.Pos < 1 || pe.Pos > len(path)+1 {
				t.Fatalf("ParseSelector(%q): %v", path, err)
			}
			return
		}
		for _, m := range fuzzMessages {
			s.Lookup(m)
		}
	})
}
