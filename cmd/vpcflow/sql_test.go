package main

import (
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vpcflow/vpcflow/internal/e2e"
)

// sqlPingObjects writes the ping example (docs/aws-behaviour.md) as flow-log
// objects: the echo request in (ACCEPT), the reply out (REJECT), each
// 20 + 8 + 56 = 84 bytes, plus an SSH SYN in (REJECT by the NACL),
// 20 + 20 = 40 bytes.
func sqlPingObjects(t *testing.T) string {
	t.Helper()
	pkts := []e2e.Packet{
		{Sec: 1700000301, SrcMAC: e2e.RouterMAC, DstMAC: e2e.PingENIMAC, Src: "198.51.100.7", Dst: "10.1.2.15", Proto: "icmp", ICMPType: 8, Payload: 56},
		{Sec: 1700000302, SrcMAC: e2e.PingENIMAC, DstMAC: e2e.RouterMAC, Src: "10.1.2.15", Dst: "198.51.100.7", Proto: "icmp", ICMPType: 0, Payload: 56},
		{Sec: 1700000310, SrcMAC: e2e.RouterMAC, DstMAC: e2e.PingENIMAC, Src: "198.51.100.9", Dst: "10.1.2.15", Proto: "tcp", SrcPort: 50000, DstPort: 22, SYN: true},
	}
	out := filepath.Join(t.TempDir(), "flowlogs")
	runPcapCLI(t, "--out", out, "--topology", "../../examples/ping.yaml", e2e.WritePcap(t, pkts))
	return out
}

func TestSQLQueryOutputs(t *testing.T) {
	dir := sqlPingObjects(t)
	q := `SELECT srcaddr, dstport, protocol, bytes, action, region, day, from_unixtime(start) AS first_seen
		FROM flowlogs ORDER BY start`
	out, errOut, code := runBinary(t, nil, "sql", "--dir", dir, q)
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	// 1700000301 is 2023-11-14T22:18:21Z.
	checkLines(t, out,
		"srcaddr       dstport  protocol  bytes  action  region     day         first_seen",
		"198.51.100.7  0        1         84     ACCEPT  eu-west-1  2023/11/14  2023-11-14 22:18:21.000",
		"10.1.2.15     0        1         84     REJECT  eu-west-1  2023/11/14  2023-11-14 22:18:22.000",
		"198.51.100.9  22       6         40     REJECT  eu-west-1  2023/11/14  2023-11-14 22:18:30.000")

	out, _, code = runBinary(t, nil, "sql", "--dir", dir, "-o", "json",
		`SELECT srcaddr, SUM(bytes) AS total, NULL::INTEGER AS nothing FROM flowlogs WHERE action = 'REJECT' GROUP BY srcaddr ORDER BY srcaddr`)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	checkLines(t, out, "[",
		`{"srcaddr":"10.1.2.15","total":84,"nothing":null},`,
		`{"srcaddr":"198.51.100.9","total":40,"nothing":null}`,
		"]")

	out, _, code = runBinary(t, nil, "sql", "--dir", dir, "--output", "csv", `SELECT 'a,b' AS s, NULL AS n, count(*) AS c FROM flowlogs`)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	checkLines(t, out, "s,n,c", `"a,b",,3`)
}

func TestSQLErrors(t *testing.T) {
	dir := sqlPingObjects(t)
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"sql", "--dir", dir}, 2, "want one SQL query"},
		{[]string{"sql", "--dir", dir, "SELECT 1", "SELECT 2"}, 2, "want one SQL query, got 2"},
		{[]string{"sql", "--dir", dir, "-o", "xml", "SELECT 1"}, 2, "--output"},
		{[]string{"sql", "--dir", filepath.Join(dir, "nope"), "SELECT 1"}, 2, "not a directory"},
		{[]string{"sql", "--dir", dir, "--format", "${nope}", "SELECT 1"}, 2, "--format"},
		{[]string{"sql", "--dir", dir, "SELEC * FROM flowlogs"}, 1, "syntax error"},
		{[]string{"sql", "--dir", dir, "SELECT nope FROM flowlogs"}, 1, "nope"},
	} {
		_, errOut, code := runBinary(t, nil, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.msg) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, errOut, tc.code, tc.msg)
		}
	}
}

// A bad object and a bad line next to good data: the good rows are queried,
// each problem is reported with its position, and the exit status is 1.
func TestSQLBadInput(t *testing.T) {
	dir := sqlPingObjects(t)
	var day string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".log.gz") {
			day = filepath.Dir(p)
		}
		return nil
	})
	bad := filepath.Join(day, "bad.log.gz")
	os.WriteFile(bad, []byte("not gzip"), 0o644)
	lines := filepath.Join(day, "lines.log.gz")
	f, _ := os.Create(lines)
	zw := gzip.NewWriter(f)
	zw.Write([]byte("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n" +
		"2 111122223333 eni-x 10.0.0.1 10.0.0.2 1 2 6 1 1000 1700000301 1700000301 ACCEPT OK\n" +
		"2 111122223333 eni-x 10.0.0.1 10.0.0.2 1 2 6 one 1000 1700000301 1700000301 ACCEPT OK\n"))
	zw.Close()
	f.Close()
	out, errOut, code := runBinary(t, nil, "sql", "--dir", dir, "SELECT count(*) AS n, sum(bytes) AS b FROM flowlogs")
	// 3 records of the ping objects (84 + 84 + 40) and 1 good line (1000).
	checkLines(t, out, "n  b", "4  1208")
	if code != 1 {
		t.Errorf("exit %d", code)
	}
	// "2 111122223333 eni-x 10.0.0.1 10.0.0.2 1 2 6 " is 45 bytes.
	for _, want := range []string{bad + ": not gzip", lines + ":3:46: column packets: ", "left out 1 objects and 1 lines"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
}

// TestSQLTruncatedObject: an object whose gzip stream breaks off inside a
// line is one error, its object's (it was followed by one error per column
// the partial line lacked), and a short line is one error.
func TestSQLTruncatedObject(t *testing.T) {
	dir := sqlPingObjects(t)
	var obj string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".log.gz") {
			obj = p
		}
		return nil
	})
	header := "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n"
	rec := "2 111122223333 eni-x 10.0.0.1 10.0.0.2 1 2 6 1 1000 1700000301 1700000301 ACCEPT OK\n"
	cut := filepath.Join(filepath.Dir(obj), "cut.log.gz")
	f, _ := os.Create(cut)
	zw := gzip.NewWriter(f)
	zw.Write([]byte(header + rec + "2 111122223333 eni-x 10.0.0.1\n" + rec + rec[:20]))
	zw.Flush() // the stream decodes to here, then breaks off
	f.Close()
	out, errOut, code := runBinary(t, nil, "sql", "--dir", dir, "SELECT count(*) AS n FROM flowlogs")
	// the 3 records of the ping objects and the 2 whole good lines
	checkLines(t, out, "n", "5")
	// "2 111122223333 eni-x 10.0.0.1" is 29 bytes: dstaddr is missing at 30
	want := "vpcflow: " + cut + ":5: damaged gzip stream after 4 complete lines (they are in the table): unexpected EOF\n" +
		"vpcflow: " + cut + ":3:30: column dstaddr: Expected Number of Columns: 14 Found: 4\n" +
		"vpcflow: left out 0 objects and 1 lines; 1 objects are damaged (their lines before the damage are in)\n"
	if code != 1 || errOut != want {
		t.Errorf("exit %d, stderr\n%s\nwant\n%s", code, errOut, want)
	}
}

func TestSQLDDL(t *testing.T) {
	out, _, code := runBinary(t, nil, "sql", "--ddl", "--table", "t1", "--location", "s3://b/AWSLogs/1/vpcflowlogs", "--regions", "eu-west-1,us-east-1",
		"--format", "${version} ${srcaddr} ${end} ${tcp-flags}")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	checkLines(t, out,
		"CREATE EXTERNAL TABLE IF NOT EXISTS t1 (",
		"  version int,",
		"  srcaddr string,",
		"  `end` bigint,",
		"  tcp_flags int",
		")",
		"PARTITIONED BY (region string, day string)",
		"ROW FORMAT DELIMITED FIELDS TERMINATED BY ' '",
		"LOCATION 's3://b/AWSLogs/1/vpcflowlogs/'",
		"TBLPROPERTIES (",
		"  'skip.header.line.count' = '1',",
		"  'projection.enabled' = 'true',",
		"  'projection.region.type' = 'enum',",
		"  'projection.region.values' = 'eu-west-1,us-east-1',",
		"  'projection.day.type' = 'date',",
		"  'projection.day.format' = 'yyyy/MM/dd',",
		"  'projection.day.range' = '2024/01/01,NOW',",
		"  'storage.location.template' = 's3://b/AWSLogs/1/vpcflowlogs/${region}/${day}'",
		");")
	if _, _, code := runBinary(t, nil, "sql", "--ddl", "SELECT 1"); code != 2 {
		t.Errorf("--ddl with a query: exit %d", code)
	}
	// Parquet objects, Hive prefixes; the default location ends in AWSLogs/.
	out, _, code = runBinary(t, nil, "sql", "--ddl", "--parquet", "--format", "${version} ${srcaddr}")
	if code != 0 || !strings.Contains(out, "ParquetHiveSerDe") || !strings.Contains(out, "LOCATION 's3://BUCKET/AWSLogs/';") ||
		!strings.Contains(out, "`aws-region` string") || strings.Contains(out, "projection") {
		t.Errorf("--ddl --parquet: exit %d\n%s", code, out)
	}
	for _, args := range [][]string{{"--parquet", "SELECT 1"}, {"--ddl", "--parquet", "--regions", "eu-west-1"}} {
		if _, stderr, code := runBinary(t, nil, append([]string{"sql"}, args...)...); code != 2 || stderr == "" {
			t.Errorf("%v: exit %d, %s", args, code, stderr)
		}
	}
}

func TestSQLHelp(t *testing.T) {
	out, _, code := runBinary(t, nil, "sql", "--help")
	if code != 0 || !strings.Contains(out, "Athena") || !strings.Contains(out, "Examples:") {
		t.Errorf("exit %d\n%s", code, out)
	}
}
