package sql

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vpcflow/vpcflow/internal/e2e"
)

// TestTrinoFunctions checks the Trino functions Athena queries use against
// the examples of Trino's documentation
// (https://trino.io/docs/current/functions/datetime.html,
// https://trino.io/docs/current/functions/regexp.html) and values worked
// out by hand: 1700000000 is 2023-11-14T22:13:20Z, a Tuesday; 2024-03-09
// is a Saturday.
func TestTrinoFunctions(t *testing.T) {
	tb, err := Open(context.Background(), t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tb.Close()
	for _, c := range []struct{ expr, want string }{
		{"from_unixtime(1700000000)", "2023-11-14 22:13:20"},
		{"from_unixtime(1700000000.25)", "2023-11-14 22:13:20.25"},
		{"to_unixtime(from_unixtime(1700000000))", "1700000000.0"},
		{"to_iso8601(from_unixtime(1700000000))", "2023-11-14T22:13:20.000Z"},
		{"day_of_week(from_unixtime(1700000000))", "2"},
		{"day_of_week(DATE '2024-03-09')", "6"},
		{"day_of_week(DATE '2024-03-10')", "7"},
		{"dow(DATE '2024-03-11')", "1"},
		{"from_iso8601_timestamp('2024-03-09')", "2024-03-09 00:00:00+00"},
		{"from_iso8601_timestamp('2020-05-11T11:15:05.123+02:00')", "2020-05-11 09:15:05.123+00"},
		{"day_of_week(from_iso8601_timestamp('2024-03-09'))", "6"},
		{"from_iso8601_date('2020-05-11')", "2020-05-11"},
		// Trino's examples: date_format(timestamp '2022-10-20 05:10:00',
		// '%m-%d-%Y %H') is '10-20-2022 05'; date_parse('2022/10/20/05',
		// '%Y/%m/%d/%H') is 2022-10-20 05:00:00.
		{"date_format(TIMESTAMP '2022-10-20 05:10:00', '%m-%d-%Y %H')", "10-20-2022 05"},
		{"date_parse('2022/10/20/05', '%Y/%m/%d/%H')", "2022-10-20 05:00:00"},
		// MySQL specifiers: %i minutes, %s seconds, %M month name, %T time.
		{"date_format(from_unixtime(1700000000), '%Y-%m-%d %H:%i:%s')", "2023-11-14 22:13:20"},
		{"date_format(from_unixtime(1700000000), '%M %e, %Y %T')", "November 14, 2023 22:13:20"},
		{"date_parse('2023-11-14 22:13:20', '%Y-%m-%d %H:%i:%s')", "2023-11-14 22:13:20"},
		{"date_trunc('hour', from_unixtime(1700000000))", "2023-11-14 22:00:00"},
		{"date_trunc('day', from_unixtime(1700000000))", "2023-11-14 00:00:00"},
		{"try_cast('x' AS integer)", "NULL"},
		{"try_cast('42' AS integer)", "42"},
		// Trino: regexp_like('1a 2b 14m', '\d+b') is true (a search, not a
		// whole-string match).
		{`regexp_like('1a 2b 14m', '\d+b')`, "true"},
		{`regexp_like('1a 2b 14m', '^\d+b')`, "false"},
		{"(SELECT approx_distinct(x % 7) FROM range(100) AS t(x))", "7"},
	} {
		r, err := tb.Query(context.Background(), "SELECT CAST("+c.expr+" AS VARCHAR)")
		if err != nil {
			t.Errorf("%s: %v", c.expr, err)
			continue
		}
		got := fmt.Sprint(r.Rows[0][0])
		if r.Rows[0][0] == nil {
			got = "NULL"
		}
		if got != c.want {
			t.Errorf("%s = %s, want %s", c.expr, got, c.want)
		}
	}
}

// TestAthenaGuideQueries runs the example queries of AWS's Athena guide for
// VPC flow logs
// (https://docs.aws.amazon.com/athena/latest/ug/vpc-flow-logs-create-table-statement.html)
// unchanged, through `vpcflow sql`, over records of yesterday (the queries
// look at the last seven days), and compares with the rows worked out by
// hand from the packets.
func TestAthenaGuideQueries(t *testing.T) {
	day := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -1)
	base := day.Add(time.Hour).Unix()
	// The ping topology: its network ACL allows only ICMP in, so both TCP
	// SYNs are REJECT; the echo request is ACCEPT.
	pkts := []e2e.Packet{
		{Sec: base, SrcMAC: e2e.RouterMAC, DstMAC: e2e.PingENIMAC, Src: "198.51.100.7", Dst: "10.1.2.15", Proto: "icmp", ICMPType: 8, Payload: 56},
		{Sec: base + 10, SrcMAC: e2e.RouterMAC, DstMAC: e2e.PingENIMAC, Src: "198.51.100.9", Dst: "10.1.2.15", Proto: "tcp", SrcPort: 50000, DstPort: 443, SYN: true},
		{Sec: base + 11, SrcMAC: e2e.RouterMAC, DstMAC: e2e.PingENIMAC, Src: "198.51.100.9", Dst: "10.1.2.15", Proto: "tcp", SrcPort: 50000, DstPort: 443, SYN: true},
		{Sec: base + 20, SrcMAC: e2e.RouterMAC, DstMAC: e2e.PingENIMAC, Src: "198.51.100.8", Dst: "10.1.2.15", Proto: "tcp", SrcPort: 50001, DstPort: 22, SYN: true},
	}
	out := t.TempDir()
	runVpcflow(t, "pcap", "--quiet", "--out", out, "--topology", "../examples/ping.yaml", "--interval", "60", e2e.WritePcap(t, pkts))
	iso := func(sec int64) string { return time.Unix(sec, 0).UTC().Format("2006-01-02T15:04:05.000Z") }
	date := day.Format("2006-01-02")
	dow := int(day.Weekday())
	if dow == 0 {
		dow = 7
	}
	for _, c := range []struct{ query, want string }{
		{`SELECT day_of_week(date) AS day,
  date,
  interface_id,
  srcaddr,
  action,
  protocol
FROM vpc_flow_logs
WHERE action = 'REJECT' AND protocol = 6
LIMIT 100;`, fmt.Sprintf("day,date,interface_id,srcaddr,action,protocol\n"+
			"%[1]d,%[2]s,eni-0a1b2c3d4e5f60718,198.51.100.8,REJECT,6\n"+
			"%[1]d,%[2]s,eni-0a1b2c3d4e5f60718,198.51.100.9,REJECT,6\n", dow, date)},
		{`SELECT interface_id,
  srcaddr,
  action,
  protocol,
  to_iso8601(from_unixtime(start)) AS start_time,
  to_iso8601(from_unixtime("end")) AS end_time
FROM vpc_flow_logs
WHERE dstport = 443 AND date > current_date - interval '7' day
LIMIT 100;`, "interface_id,srcaddr,action,protocol,start_time,end_time\n" +
			"eni-0a1b2c3d4e5f60718,198.51.100.9,REJECT,6," + iso(base+10) + "," + iso(base+11) + "\n"},
		{`SELECT SUM(packets) AS
  packetcount,
  dstaddr
FROM vpc_flow_logs
WHERE dstport = 443 AND date > current_date - interval '7' day
GROUP BY dstaddr
ORDER BY packetcount DESC
LIMIT 10;`, "packetcount,dstaddr\n2,10.1.2.15\n"},
	} {
		got := runVpcflow(t, "sql", "--dir", out, "--output", "csv", c.query)
		// Row order without ORDER BY is not defined: compare sorted rows.
		if sortLines(got) != sortLines(c.want) {
			t.Errorf("%s\n got: %s\nwant: %s", c.query, got, c.want)
		}
	}
}

func sortLines(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > 1 {
		slices.Sort(lines[1:])
	}
	return strings.Join(lines, "\n")
}
