package insights

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse: any text either compiles or gives a positioned *Error inside
// the query; whatever compiles runs over the fixture without panicking.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"stats sum(packets) as packetsTransferred by srcAddr, dstAddr | sort packetsTransferred desc | limit 15",
		`filter action="REJECT" | stats count(*) as numRejections by srcAddr | sort numRejections desc | limit 20`,
		`filter logStatus="SKIPDATA" | stats count(*) by bin(1h) as t | sort t`,
		`filter isIpv4InSubnet(srcAddr, "172.31.0.0/16") | stats sum(bytes) as bytesTransferred by dstAddr`,
		"fields @timestamp, srcAddr | filter interfaceId = 'eni-1235b8ca123456789' | sort @timestamp desc | dedup srcAddr | limit 20",
		"parse @message /(?<NetworkInterface>eni-.*?) / | display NetworkInterface, @message",
		`parse @message "* * *" as a, b, c | stats count_distinct(a), pct(b, 50), stddev(c), earliest(a), sortsLast(b) by c`,
		"fields 2 ^ -3 % 4 / (1 - 1), concat(`x-y`, \"\\\"\"), substr(@message, 3) # comment\n| filter a not like /x\\/y/ and b not in [1, 'a']",
		"stats count(*) as n by action | stats avg(n), max(n) | limit any 3",
		"fields datefloor(@timestamp, 1w), dateceil(@timestamp, 2mo), case(1 > 2, 'a', 'b'), if(x, y, z)",
	} {
		f.Add(s)
	}
	evs := fixtureEvents()
	f.Fuzz(func(t *testing.T, s string) {
		q, err := Parse(s)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%q): error %T %v is not positioned", s, err, err)
			}
			n := utf8.RuneCountInString(s)
			if e.Start < 0 || e.End < e.Start || e.End > n || e.Line < 1 || e.Col < 1 {
				t.Fatalf("Parse(%q): bad position %+v (query has %d characters)", s, e, n)
			}
			return
		}
		for _, w := range []int{1, 2} {
			if _, err := q.Run(EventsSource(evs), Options{AccountID: testAccount, Workers: w}); err != nil {
				t.Fatalf("Run(%q): %v", s, err)
			}
		}
		third := len(evs) / 3
		parts := []Source{scribbleSource(evs[:third]), scribbleSource(evs[third : 2*third]), scribbleSource(evs[2*third:])}
		if _, err := q.RunParts(parts, Options{AccountID: testAccount, Workers: 2, Events: int64(len(evs))}); err != nil {
			t.Fatalf("RunParts(%q): %v", s, err)
		}
	})
}

// FuzzFlowTokens checks the word-at-a-time tokenizer against a plain split
// on spaces: same tokens, and discovery exactly for 14 tokens starting "2".
func FuzzFlowTokens(f *testing.F) {
	for _, m := range flowFixture {
		f.Add(m)
	}
	f.Add("  2 a b c d e f g h i j k l m  ")
	f.Add("2 a\tb c d e f g h i j k l m n")
	f.Fuzz(func(t *testing.T, m string) {
		want := strings.FieldsFunc(m, func(r rune) bool { return r == ' ' })
		r := &record{}
		r.reset(&Event{Message: []byte(m)})
		flow := len(want) == 14 && want[0] == "2"
		if got := r.isFlow(); got != flow {
			t.Fatalf("isFlow(%q) = %v, want %v", m, got, flow)
		}
		if flow {
			for i, w := range want {
				if got := m[r.tok[i][0]:r.tok[i][1]]; got != w {
					t.Fatalf("token %d of %q = %q, want %q", i, m, got, w)
				}
			}
		}
	})
}
