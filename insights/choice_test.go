package insights

import (
	"strings"
	"testing"
)

// TestChoice holds the [Choice] behaviour of docs/aws-behaviour.md, "Logs
// Insights" (listed in "Choices where AWS is silent"), apart from the [AWS]
// tests so that a change of decision touches only this group.
func TestChoice(t *testing.T) {
	t.Run("precedence", func(t *testing.T) {
		for _, tc := range []struct{ expr, want string }{
			{"2 + 3 * 4", "14"},
			{"-2 ^ 2", "4"},      // unary minus binds tighter than ^
			{"2 ^ 3 ^ 2", "512"}, // ^ is right-associative: 2^9
			{"10 - 4 - 3", "3"},
			{"7 % 4 * 2", "6"},
			{"(2 + 3) * 4", "20"},
			{"1 + 2 = 3 and not 1 > 2 or 1 = 0", "true"},
		} {
			if got := eval(t, tc.expr, "x", 1); got != tc.want {
				t.Errorf("%s = %s, want %s", tc.expr, got, tc.want)
			}
		}
	})
	t.Run("flow-log discovery needs 14 tokens and version 2", func(t *testing.T) {
		for _, msg := range []string{
			"3 " + flowFixture[0][2:],                 // version 3 with the same layout
			strings.TrimSuffix(flowFixture[0], " OK"), // 13 tokens
			flowFixture[0] + " extra",                 // 15 tokens
		} {
			if got := eval(t, "srcAddr", msg, 1); got != "<null>" {
				t.Errorf("srcAddr of %q = %s, want null", msg, got)
			}
		}
	})
	t.Run("sort defaults to desc", func(t *testing.T) {
		q := "stats count(*) as n by action | sort n"
		checkRows(t, q, runQuery(t, q, fixtureEvents(), Options{}), []string{"action=ACCEPT n=3", "action=REJECT n=2", "n=2"})
	})
	t.Run("records newest first, later ingestion first on ties", func(t *testing.T) {
		q := "fields srcAddr | filter protocol = 6"
		checkRows(t, q, runQuery(t, q, fixtureEvents(), Options{}), []string{
			"srcAddr=2001:db8:1234:a100:8d6e:3477:df66:f105", "srcAddr=172.31.9.69", "srcAddr=172.31.16.139"})
	})
	t.Run("numbers render shortest, integers bare", func(t *testing.T) {
		for _, tc := range []struct{ expr, want string }{{"1.50 + 0", "1.5"}, {"1e3", "1000"}, {"0.1 + 0.2", "0.30000000000000004"}, {"2 ^ 70", "1180591620717411300000"} /* shortest digits 1.1805916207174113e21 */} {
			if got := eval(t, tc.expr, "x", 1); got != tc.want {
				t.Errorf("%s = %s, want %s", tc.expr, got, tc.want)
			}
		}
	})
	t.Run("default and unaliased columns", func(t *testing.T) {
		q, _ := Parse("filter 1 = 1")
		if got := strings.Join(q.Columns(), ","); got != "@timestamp,@message" {
			t.Errorf("columns %s", got)
		}
		q, _ = Parse("stats count(*), avg( bytes ) by bin(1h), srcAddr")
		if got := strings.Join(q.Columns(), ","); got != "bin(1h),srcAddr,count(*),avg( bytes )" {
			t.Errorf("columns %s", got)
		}
		q, _ = Parse(`fields a | parse @message "* *" as b, c | fields a, d`)
		if got := strings.Join(q.Columns(), ","); got != "a,b,c,d" {
			t.Errorf("columns %s", got)
		}
	})
	t.Run("all-null stats rows are dropped", func(t *testing.T) {
		q := "stats sum(bytes) as b by srcAddr | sort b asc"
		// 172.31.9.69 4249, 172.31.16.139 4249+336, 203.0.113.12 336, v6 8855; F3/F4 group all null.
		checkRows(t, q, runQuery(t, q, fixtureEvents(), Options{}), []string{
			"srcAddr=203.0.113.12 b=336", "srcAddr=172.31.9.69 b=4249", "srcAddr=172.31.16.139 b=4585",
			"srcAddr=2001:db8:1234:a100:8d6e:3477:df66:f105 b=8855"})
	})
	t.Run("pct nearest rank, stddev sample", func(t *testing.T) {
		// values 1 2 3 4 10: mean 4, squared deviations 9+4+1+0+36 = 50, 50/4 = 12.5, sqrt = 3.5355339059327378
		evs := jsonEvents(t, `{"v":"3"}`, `{"v":"1"}`, `{"v":"10"}`, `{"v":"4"}`, `{"v":"2"}`)
		for _, tc := range []struct{ agg, want string }{
			{"pct(v, 50)", "3"}, {"pct(v, 90)", "10"}, {"pct(v, 0)", "1"}, {"pct(v, 20)", "1"}, {"pct(v, 21)", "2"},
			{"stddev(v)", "3.5355339059327378"},
		} {
			for _, w := range []int{1, 2} {
				res := runQuery(t, "stats "+tc.agg, evs, Options{Workers: w})
				if got := res.Rows[0][0].Value; got != tc.want {
					t.Errorf("%s = %s, want %s", tc.agg, got, tc.want)
				}
			}
		}
	})
	t.Run("weeks start on Monday", func(t *testing.T) {
		// 2015-05-29 was a Friday; the Monday before is 2015-05-25.
		if got := eval(t, "bin(1w)", "x", 1432917094000); got != "2015-05-25 00:00:00.000" {
			t.Errorf("bin(1w) = %s", got)
		}
		if got := eval(t, "dateceil(@timestamp, 1w)", "x", 1432917094000); got != "2015-06-01 00:00:00.000" {
			t.Errorf("dateceil 1w = %s", got)
		}
	})
	t.Run("logStream without @ is an unknown field", func(t *testing.T) {
		q := "filter logStream = 'vpc-flow-logs'"
		if res := runQuery(t, q, fixtureEvents(), Options{}); len(res.Rows) != 0 {
			t.Errorf("%d rows", len(res.Rows))
		}
	})
	t.Run("stats without by over nothing gives count 0", func(t *testing.T) {
		res := runQuery(t, "filter action = 'none' | stats count(*) as n, sum(bytes) as b", fixtureEvents(), Options{})
		checkRows(t, "empty stats", res, []string{"n=0"})
	})
}
