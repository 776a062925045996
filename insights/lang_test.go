package insights

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
)

// eval computes one expression on one event whose message is msg and whose
// @timestamp is ts; "<null>" stands for a null result.
func eval(t *testing.T, expr, msg string, ts int64) string {
	t.Helper()
	res := runQuery(t, "display "+expr+" as v", []Event{{Timestamp: ts, Group: "g", Stream: "s", Message: []byte(msg)}}, Options{})
	if len(res.Rows) == 0 {
		return "<null>"
	}
	return res.Rows[0][0].Value
}

const jsonMsg = `{"n":"42","s":"Hello World","ip":"172.31.9.69","ip6":"2001:db8::1","pub":"8.8.8.8","sp":"  ","e":"","neg":"-3.5"}`

// TestFunctions checks the functions on hand-worked values; the first rows
// are the examples of AWS's Insights function reference.
func TestFunctions(t *testing.T) {
	const ts = 1432917094000 // 2015-05-29 16:31:34.000 UTC, a Friday
	tests := []struct{ expr, want string }{
		// Examples of AWS's function reference.
		{"2 ^ 3", "8"},
		{"10 % 3", "1"},
		{`trim("xyZxyfooxyxyZ", "xyZ")`, "foo"},
		{`substr("xyZfooxyZ", 3, 3)`, "foo"},
		{"1 / 0", "<null>"},
		{"10 % 0", "<null>"},
		// Arithmetic on discovered strings converts fully numeric ones.
		{"n + 1", "43"},
		{"n * 2 - 4", "80"},
		{"neg * 2", "-7"},
		{"s + 1", "<null>"},
		{"missing + 1", "<null>"},
		{"7 / 2", "3.5"},
		// numeric
		{"abs(neg)", "3.5"},
		{"ceil(1.2)", "2"},
		{"floor(-1.2)", "-2"},
		{"round(2.567, 2)", "2.57"},
		{"round(2.5)", "3"},
		{"sqrt(16)", "4"},
		{"log(1)", "0"},
		{"log(0)", "<null>"},
		{"greatest(1, n, 7)", "42"},
		{"least(5, n, 7)", "5"},
		{"toNumber(n)", "42"},
		{"toInt(neg)", "-3"},
		{"toLong(\"12.9\")", "12"},
		{"toDouble(\"1e3\")", "1000"},
		// general
		{"ispresent(n)", "true"},
		{"ispresent(missing)", "false"},
		{`coalesce(missing, s, "x")`, "Hello World"},
		{`if(n > 40, "big", "small")`, "big"},
		{`if(missing > 40, "big", "small")`, "small"},
		{`case(n < 10, "a", n < 50, "b", "c")`, "b"},
		{`case(n < 10, "a", "c")`, "c"},
		{`case(n < 10, "a")`, "<null>"},
		{"isNumeric(n)", "true"},
		{"isNumeric(s)", "false"},
		// string
		{"isempty(e)", "1"},
		{"isempty(missing)", "1"},
		{"isempty(s)", "0"},
		{"isblank(sp)", "1"},
		{"isblank(s)", "0"},
		{`concat(s, "!", n)`, "Hello World!42"},
		{`concat(s, missing)`, "<null>"},
		{`ltrim("  a  ")`, "a  "},
		{`rtrim("xxaxx", "x")`, "xxa"},
		{`strlen("héllo")`, "5"},
		{"toupper(s)", "HELLO WORLD"},
		{"tolower(s)", "hello world"},
		{`substr(s, 6)`, "World"},
		{`substr("héllo", 1, 2)`, "él"},
		{`replace("a-b-c", "-", "+")`, "a+b+c"},
		{`regexReplace(s, /o/, "0")`, "Hell0 W0rld"},
		{`regexReplace("a1b22", "[0-9]+", "#")`, "a#b#"},
		{`strcontains(s, "World")`, "1"},
		{`strcontains(s, "world")`, "0"},
		{`startsWith(s, "Hell")`, "1"},
		{`endsWith(s, "x")`, "0"},
		{`split("a,b", ",")`, `["a","b"]`},
		// datetime
		{"@timestamp", "2015-05-29 16:31:34.000"},
		{"toMillis(@timestamp)", "1432917094000"},
		{"fromMillis(0)", "1970-01-01 00:00:00.000"},
		{"bin(5m)", "2015-05-29 16:30:00.000"},
		{"bin(1h)", "2015-05-29 16:00:00.000"},
		{"bin(1d)", "2015-05-29 00:00:00.000"},
		{"bin(1mo)", "2015-05-01 00:00:00.000"},
		{"bin(1q)", "2015-04-01 00:00:00.000"},
		{"bin(1y)", "2015-01-01 00:00:00.000"},
		{"bin(100ms)", "2015-05-29 16:31:34.000"},
		{"datefloor(@timestamp, 1h)", "2015-05-29 16:00:00.000"},
		{"dateceil(@timestamp, 1h)", "2015-05-29 17:00:00.000"},
		{"dateceil(@timestamp, 1mo)", "2015-06-01 00:00:00.000"},
		{"dateceil(bin(1h), 1h)", "2015-05-29 16:00:00.000"},
		// IP
		{"isValidIp(ip)", "true"},
		{"isValidIp(s)", "false"},
		{"isValidIpV4(ip6)", "false"},
		{"isValidIpV6(ip6)", "true"},
		{`isIpInSubnet(ip, "172.31.0.0/16")`, "true"},
		{`isIpInSubnet(ip6, "2001:db8::/32")`, "true"},
		{`isIpv4InSubnet(ip, "172.31.8.0/22")`, "true"},
		{`isIpv4InSubnet(ip, "172.31.0.0/21")`, "false"},
		{`isIpv6InSubnet(ip, "172.31.0.0/16")`, "false"},
		{`isIpInSubnet(s, "172.31.0.0/16")`, "false"},
		{"isPrivateIP(ip)", "true"},
		{"isPrivateIP(pub)", "false"},
		{"isPublicIP(pub)", "true"},
		{"isPublicIP(s)", "false"},
		{`ipv4ToNumber("10.0.0.1")`, "167772161"},
		// names are case-insensitive
		{"TOUPPER(s)", "HELLO WORLD"},
	}
	for _, tc := range tests {
		if got := eval(t, tc.expr, jsonMsg, ts); got != tc.want {
			t.Errorf("%s = %q, want %q", tc.expr, got, tc.want)
		}
	}
}

// TestTimeBins covers time bins: unit caps and the week start (Monday, a
// [Choice], is checked in TestChoice).
func TestTimeBins(t *testing.T) {
	const ts = 1432917094000 // 2015-05-29 16:31:34 UTC
	tests := []struct{ expr, want string }{
		{"bin(300s)", "2015-05-29 16:31:00.000"}, // capped to 60s
		{"bin(60s)", "2015-05-29 16:31:00.000"},
		{"bin(90m)", "2015-05-29 16:00:00.000"}, // capped to 60m
		{"bin(48h)", "2015-05-29 00:00:00.000"}, // capped to 24h
		{"bin(2d)", "2015-05-29 00:00:00.000"},  // day 16584 since the epoch is even
		{"bin(1minute)", "2015-05-29 16:31:00.000"},
		{"bin(2hours)", "2015-05-29 16:00:00.000"},
		{"bin(2mo)", "2015-05-01 00:00:00.000"}, // month index 544 is even
		{"bin(5y)", "2015-01-01 00:00:00.000"},
	}
	for _, tc := range tests {
		if got := eval(t, tc.expr, "x", ts); got != tc.want {
			t.Errorf("%s = %q, want %q", tc.expr, got, tc.want)
		}
	}
}

// TestOperators covers filter semantics (docs/aws-behaviour.md, "Logs
// Insights").
func TestOperators(t *testing.T) {
	tests := []struct {
		cond string
		want bool
	}{
		{`n = 42`, true},
		{`n = "42"`, true},
		{`n > 5`, true},    // numeric: 42 > 5
		{`n > "5"`, true},  // both convert, so numeric
		{`s > "Z"`, false}, // textual: "H" < "Z"
		{`s = "hello world"`, false},
		{`missing = 1`, false},
		{`missing != 1`, false}, // a null operand makes any comparison false
		{`not missing = 1`, true},
		{`s like "World"`, true},
		{`s like "world"`, false},
		{`s like /W.rld/`, true},
		{`s like /(?i)world/`, true},
		{`s =~ /^Hello/`, true},
		{`s not like "World"`, false},
		{`missing not like "x"`, false},
		{`n in [1, 42]`, true},
		{`n in ["42"]`, true},
		{`s in ["Hello"]`, false}, // whole-value membership
		{`n not in [1, 2]`, true},
		{`n > 1 and s like "H" or missing = 1`, true},
		{`n > 100 or s like "H" and ip = "x"`, false},
		{`(n > 100 or s like "H") and ip like "172."`, true},
		{`isempty(e)`, true},
		{`isempty(s)`, false},
		{`ispresent(ip6) and not ispresent(missing)`, true},
		{`@message like '"n":"42"'`, true},
		{`@logStream = "s" and @log = "123456789012:g"`, true},
		{`@timestamp > 1000`, true},
	}
	for _, tc := range tests {
		res := runQuery(t, "filter "+tc.cond, []Event{{Timestamp: 5000, Group: "g", Stream: "s", Message: []byte(jsonMsg)}}, Options{})
		if got := len(res.Rows) == 1; got != tc.want {
			t.Errorf("filter %s: %v, want %v", tc.cond, got, tc.want)
		}
	}
}

func jsonEvents(t *testing.T, objs ...string) []Event {
	t.Helper()
	evs := make([]Event, len(objs))
	for i, o := range objs {
		if !json.Valid([]byte(o)) {
			t.Fatalf("bad test JSON %s", o)
		}
		evs[i] = Event{Timestamp: int64(1000 * (i + 1)), IngestionTime: int64(i), Group: "g", Stream: "s", Message: []byte(o)}
	}
	return evs
}

// TestAggregates checks the aggregates on values 1 2 3 4 10 (pct and stddev,
// [Choice], are in TestChoice).
func TestAggregates(t *testing.T) {
	evs := jsonEvents(t, `{"v":"3","k":"b"}`, `{"v":"1","k":"a"}`, `{"v":"10","k":"a10"}`, `{"v":"4","k":"a9"}`, `{"v":"2","k":"b"}`, `{"k":"c"}`, `{"v":"x"}`)
	tests := []struct{ agg, want string }{
		{"count(*)", "7"},
		{"count()", "7"},
		{"count(v)", "6"},
		{"count(k)", "6"},
		{"count_distinct(k)", "5"},
		{"sum(v)", "20"},
		{"avg(v)", "4"},
		{"min(v)", "1"},
		{"max(v)", "10"},
		{"earliest(v)", "3"}, // timestamps 1000.. in event order
		{"latest(v)", "x"},
		{"latest(k)", "c"},
		{"sortsFirst(k)", "a"},
		{"sortsLast(k)", "c"},
		{"sum(v) / count(v)", "3.3333333333333335"},
		{"min(missing)", "<null>"},
		{"count(missing)", "0"},
	}
	for _, tc := range tests {
		for _, w := range []int{1, 2} {
			res := runQuery(t, "stats "+tc.agg+" as r", evs, Options{Workers: w})
			got := "<null>"
			if len(res.Rows) == 1 {
				got = res.Rows[0][0].Value
			}
			if got != tc.want {
				t.Errorf("stats %s = %s, want %s (workers %d)", tc.agg, got, tc.want, w)
			}
		}
	}
	// Groups come out in ascending natural key order, null key last, and
	// unnamed (the key is simply omitted) [Choice].
	res := runQuery(t, "stats count(*) by k", evs, Options{})
	checkRows(t, "stats count(*) by k", res, []string{"k=a count(*)=1", "k=a9 count(*)=1", "k=a10 count(*)=1", "k=b count(*)=2", "k=c count(*)=1", "count(*)=1"})
}

// TestNaturalOrder sorts AWS's documented ascending sequence.
func TestNaturalOrder(t *testing.T) {
	want := []string{"!:", "#", "*%04", "0#", "5A", "111A", "2345_", "@", "@_", "A", "A9876fghj", "a12345hfh", "0"}
	shuffled := []int{7, 12, 0, 5, 3, 9, 1, 11, 4, 2, 10, 6, 8}
	var objs []string
	for _, i := range shuffled {
		b, _ := json.Marshal(map[string]string{"s": want[i]})
		objs = append(objs, string(b))
	}
	evs := jsonEvents(t, objs...)
	res := runQuery(t, "fields s | sort s asc", evs, Options{})
	var got []string
	for _, r := range res.Rows {
		got = append(got, r[0].Value)
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("sort s asc\n got %q\nwant %q", got, want)
	}
	// desc reverses the values, nulls stay last.
	evs = append(evs, Event{Timestamp: 99, Message: []byte(`{"t":1}`)})
	res = runQuery(t, "fields s, t | sort s desc", evs, Options{})
	if first, last := res.Rows[0][0].Value, res.Rows[len(res.Rows)-1][0]; first != "0" || last.Field != "t" {
		t.Errorf("sort s desc: first %q, last %v", first, last)
	}
}

// TestDiscovery covers discovered fields: flow-log fields, "-" as absent and flattened
// JSON (the 14-token rule is [Choice], in TestChoice).
func TestDiscovery(t *testing.T) {
	tests := []struct{ msg, field, want string }{
		{flowFixture[0], "srcPort", "20641"},
		{flowFixture[0], "logStatus", "OK"},
		{flowFixture[0], "startTime", "1418530010"},
		{flowFixture[2], "srcAddr", "<null>"},
		{flowFixture[2], "action", "<null>"},
		{flowFixture[2], "endTime", "1431280934"},
		{strings.ReplaceAll(flowFixture[0], " 22 ", "  22 "), "dstPort", "22"},   // a doubled space still separates
		{`{"a":{"b":[1,{"c":"x"}]},"@k":"v","t":true,"z":null}`, "a.b.0", "1"},   // arrays by index
		{`{"a":{"b":[1,{"c":"x"}]},"@k":"v","t":true,"z":null}`, "a.b.1.c", "x"}, //
		{`{"a":{"b":[1,{"c":"x"}]},"@k":"v","t":true,"z":null}`, "`@@k`", "v"},   // an @ key gets one more @
		{`{"a":{"b":[1,{"c":"x"}]},"@k":"v","t":true,"z":null}`, "t", "true"},    //
		{`{"a":{"b":[1,{"c":"x"}]},"@k":"v","t":true,"z":null}`, "z", "<null>"},  //
		{`{"srcAddr":"1.2.3.4"}`, "srcAddr", "1.2.3.4"},                          // not a flow log: JSON decides
		{`{"detail-type":"x"}`, "`detail-type`", "x"},                            // backquoted names
		{`not json {"a":1}`, "a", "<null>"},                                      //
	}
	for _, tc := range tests {
		if got := eval(t, tc.field, tc.msg, 1); got != tc.want {
			t.Errorf("%s in %q = %q, want %q", tc.field, tc.msg, got, tc.want)
		}
	}
}

// TestCommands covers parse (glob and regex), fields, display, dedup,
// limit and a second stats.
func TestCommands(t *testing.T) {
	evs := fixtureEvents()
	tests := []struct {
		q    string
		want []string
	}{
		// glob: literals in order, * non-greedy, trailing * takes the rest
		{`parse @message "eni-* * * *" as eni, src, dst, rest | filter eni like "1111" | display eni, src, rest`,
			[]string{"eni=11111111aaaaaaaaa src=- rest=- - - - - 1431280876 1431280934 - SKIPDATA"}},
		// no match leaves the aliases null and keeps the record
		{`parse "NOPE *" as x | stats count(*) as n, count(x) as nx`, []string{"n=7 nx=0"}},
		{`parse interfaceId /eni-(?<a>1111)(?<b>a+)?/ | filter ispresent(a) | display a, b`, []string{"a=1111"}}, // b does not take part
		{`parse interfaceId /eni-(?<a>1+)(?<b>a+)?/ | filter ispresent(b) | display a, b`, []string{"a=11111111 b=aaaaaaaaa"}},
		{`fields bytes * 2 as b2 | filter b2 > 8000 | display b2 | sort b2 asc`, []string{"b2=8498", "b2=8498", "b2=17710"}},
		{`fields srcAddr | fields dstAddr | filter srcAddr = "172.31.9.69"`, []string{"srcAddr=172.31.9.69 dstAddr=172.31.9.12"}},
		{`display srcAddr | display dstAddr | filter srcAddr = "172.31.9.69"`, []string{"dstAddr=172.31.9.12"}},
		{`fields srcAddr | limit 2`, []string{"srcAddr=" + strings.Fields(flowFixture[6])[3], "srcAddr=172.31.16.139"}},
		{`fields action | dedup action | limit 5`, []string{"action=ACCEPT", "action=REJECT", "", "", ""}[:2]},
		{`stats count(*) as n by action | sort n desc | limit 1`, []string{"action=ACCEPT n=3"}},
		{`stats sum(bytes) as b by interfaceId, action | stats count(*) as groups, sum(b) as total by interfaceId`,
			[]string{"interfaceId=eni-1235b8ca123456789 groups=3 total=18025", "interfaceId=eni-11111111aaaaaaaaa groups=1"}}, // ACCEPT 4249+336+8855, REJECT 4249+336, NODATA null
		{`stats count(*) by srcAddr | sort count(*) desc | limit 1`, []string{"srcAddr=172.31.16.139 count(*)=2"}},
		{`fields @timestamp, @logStream, @log | filter srcAddr = "172.31.9.69"`,
			[]string{"@timestamp=2014-12-14 04:06:50.000 @logStream=eni-1235b8ca123456789-all @log=123456789012:vpc-flow-logs"}},
		{`filter action = "REJECT" | unmask | limit any 1 | display srcAddr`, []string{"srcAddr=172.31.16.139"}},
		{`WHERE action = 'ACCEPT' | STATS COUNT(*) AS n`, []string{"n=3"}},
	}
	for _, tc := range tests {
		checkRows(t, tc.q, runQuery(t, tc.q, evs, Options{}), tc.want)
	}
	// The StartQuery limit caps rows; a smaller query limit wins.
	if res := runQuery(t, "fields srcAddr", evs, Options{Limit: 3}); len(res.Rows) != 3 {
		t.Errorf("Limit 3: %d rows", len(res.Rows))
	}
	if res := runQuery(t, "display @message | limit 2", evs, Options{Limit: 3}); len(res.Rows) != 2 {
		t.Errorf("limit 2 under Limit 3: %d rows", len(res.Rows))
	}
	// Functions of the query context.
	res := runQuery(t, "fields queryStartTime() as s, queryEndTime() as e | limit 1", evs, Options{StartMs: 1000, EndMs: 2999})
	checkRows(t, "context", res, []string{"s=1000 e=2999"})
}

// TestNewestKept: queries that only limit keep the newest records while
// scanning; the rows must be those a full sort would give.
func TestNewestKept(t *testing.T) {
	var evs []Event
	for i := range 5000 {
		// Shuffled times: event i has time (i*7919 mod 5000) seconds.
		ts := int64(i*7919%5000) * 1000
		evs = append(evs, Event{Timestamp: ts, Group: "g", Stream: "s", Message: []byte(`{"i":"` + strconv.Itoa(int(ts/1000)) + `"}`)})
	}
	for _, tc := range []struct {
		q     string
		limit int
		want  []string
	}{
		{"fields i | limit 3", 0, []string{"i=4999", "i=4998", "i=4997"}},
		{"fields i | sort @timestamp desc | limit 2", 0, []string{"i=4999", "i=4998"}},
		{"fields i", 2, []string{"i=4999", "i=4998"}},
		{"fields i | sort @timestamp asc | limit 2", 0, []string{"i=0", "i=1"}},
		{"fields i | sort i desc | limit 1", 0, []string{"i=4999"}},
	} {
		checkRows(t, tc.q, runQuery(t, tc.q, evs, Options{Limit: tc.limit}), tc.want)
	}
}

// TestTableStage covers commands that run on materialized rows: a sort or
// limit before the first stats, and filters and fields between stats.
func TestTableStage(t *testing.T) {
	evs := fixtureEvents()
	tests := []struct {
		q    string
		want []string
	}{
		// The 3 newest records are F7, F6, F5; two are ACCEPT.
		{"limit 3 | stats count(*) as n by action", []string{"action=ACCEPT n=2", "action=REJECT n=1"}},
		{"sort bytes asc | limit 2 | stats sum(bytes) as b, earliest(srcAddr) as e, latest(srcAddr) as l",
			[]string{"b=672 e=203.0.113.12 l=172.31.16.139"}}, // F5 (earlier) and F6, 336 each
		{"stats count(*) as n by bin(1d) as day, action | filter n > 1 | fields day", []string{"day=2015-05-10 00:00:00.000 n=2"}}, // F3+F4, action null
		{"stats count(*) as n by bin(1d) as day | filter day > 1431000000000 | fields n * 10 as n10 | display day, n10",
			[]string{"day=2015-05-10 00:00:00.000 n10=20", "day=2015-05-29 00:00:00.000 n10=20", "day=2016-10-31 00:00:00.000 n10=10"}},
		{"stats count(*) as n by bin(1d) as day | stats max(n) as most, count(*) as days", []string{"most=2 days=4"}},
		{"fields srcAddr | sort srcAddr asc | dedup srcAddr | limit 2", []string{"srcAddr=172.31.9.69", "srcAddr=172.31.16.139"}},
	}
	for _, tc := range tests {
		checkRows(t, tc.q, runQuery(t, tc.q, evs, Options{}), tc.want)
	}
}

// TestSourceError: a failing source fails the query with its error.
func TestSourceError(t *testing.T) {
	boom := errors.New("disk on fire")
	src := func(fn func(*Event) error) error {
		for i := range 3000 {
			if err := fn(&Event{Timestamp: int64(i), Message: []byte(flowFixture[0])}); err != nil {
				return err
			}
		}
		return boom
	}
	for _, q := range []string{"stats count(*)", "fields srcAddr"} {
		for _, w := range []int{1, 2} {
			pq, _ := Parse(q)
			if _, err := pq.Run(src, Options{AccountID: testAccount, Workers: w}); !errors.Is(err, boom) {
				t.Errorf("%s workers %d: %v", q, w, err)
			}
		}
	}
}
