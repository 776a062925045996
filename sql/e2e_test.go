package sql

import (
	"context"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vpcflow/vpcflow/internal/e2e"
)

// These tests run the real pipeline (the vpcflow binary) on captures the
// tests write, then load the delivered objects, unchanged, with DuckDB's
// read_csv under the Athena names and types. Every expected value is worked
// out by hand in the comments from the packets and the rules of
// docs/aws-behaviour.md.

func openDir(t *testing.T, dir string) *Table {
	t.Helper()
	tb, err := Open(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tb.Close() })
	return tb
}

func query(t *testing.T, tb *Table, q string) [][]any {
	t.Helper()
	r, err := tb.Query(context.Background(), q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	// HUGEINT sums come back as *big.Int; compare them as int64.
	for _, row := range r.Rows {
		for i, v := range row {
			if b, ok := v.(*big.Int); ok {
				row[i] = b.Int64()
			}
		}
	}
	return r.Rows
}

func checkRows(t *testing.T, tb *Table, q string, want ...[]any) {
	t.Helper()
	got := query(t, tb, q)
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s\n got: %#v\nwant: %#v", q, got, want)
	}
}

type describe struct{ name, typ string }

func checkDescribe(t *testing.T, tb *Table, want []describe) {
	t.Helper()
	var got []describe
	for _, row := range query(t, tb, "DESCRIBE flowlogs") {
		got = append(got, describe{row[0].(string), row[1].(string)})
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("DESCRIBE flowlogs\n got: %v\nwant: %v", got, want)
	}
}

// TestDefaultFormatObjects: the default format, no topology, 60 s windows.
// Seven records (the scenario of cmd/vpcflow's TestPcapWindowsNoDataSkipData):
// a UDP flow split by the window boundary at 1700001180 (two OK records), a
// NODATA record for the silent window [1700001240, 1700001300), three of five
// new flows at 1700001300 under a bound of 3 flows per window, and SKIPDATA.
func TestDefaultFormatObjects(t *testing.T) {
	p := func(sec int64, sport uint16) e2e.Packet {
		return e2e.Packet{Sec: sec, SrcMAC: e2e.RouterMAC, DstMAC: e2e.PingENIMAC, Src: "203.0.113.9", Dst: "10.1.2.15", Proto: "udp", SrcPort: sport, DstPort: 53, Payload: 12}
	}
	pkts := []e2e.Packet{p(1700001179, 5000), p(1700001180, 5000)}
	for i := 0; i < 5; i++ {
		pkts = append(pkts, p(1700001300, uint16(6000+i)))
	}
	out := t.TempDir()
	runVpcflow(t, "pcap", "--quiet", "--out", out, "--interval", "60", "--max-flows-per-window", "3", e2e.WritePcap(t, pkts))
	tb := openDir(t, out)

	// Objects per 5-minute slot of `end`: 1700001000 is
	// 2023-11-14T22:30:00Z; ends 1700001179 and 1700001180 fall in the 22:30
	// slot, ends 1700001300 and 1700001360 in the 22:35 slot.
	if len(tb.Files) != 2 || !strings.Contains(tb.Files[0], "_20231114T2230Z_") || !strings.Contains(tb.Files[1], "_20231114T2235Z_") {
		t.Errorf("objects: %v", tb.Files)
	}
	if tb.Rows != 7 || len(tb.Problems) != 0 {
		t.Errorf("rows %d, problems %v", tb.Rows, tb.Problems)
	}
	checkDescribe(t, tb, []describe{
		{"version", "INTEGER"}, {"account_id", "VARCHAR"}, {"interface_id", "VARCHAR"},
		{"srcaddr", "VARCHAR"}, {"dstaddr", "VARCHAR"}, {"srcport", "INTEGER"}, {"dstport", "INTEGER"},
		{"protocol", "BIGINT"}, {"packets", "BIGINT"}, {"bytes", "BIGINT"},
		{"start", "BIGINT"}, {"end", "BIGINT"}, {"action", "VARCHAR"}, {"log_status", "VARCHAR"},
		{"region", "VARCHAR"}, {"day", "VARCHAR"}, {"date", "DATE"},
	})
	// Each UDP packet is 20 (IPv4) + 8 (UDP) + 12 bytes = 40; five OK
	// records of one packet each: 200 bytes, 5 packets.
	checkRows(t, tb, `SELECT count(*), sum(bytes), sum(packets), count(bytes) FROM flowlogs`,
		[]any{int64(7), int64(200), int64(5), int64(5)})
	// '-' in int columns reads as NULL; in string columns it stays '-', as
	// Athena's delimited SerDe reads it.
	checkRows(t, tb, `SELECT log_status, version, account_id, interface_id, srcaddr, dstaddr, srcport, dstport, protocol, packets, bytes, start, "end", action
		FROM flowlogs WHERE log_status <> 'OK' ORDER BY start`,
		[]any{"NODATA", int32(2), "123456789012", "eni-00000000000000001", "-", "-", nil, nil, nil, nil, nil, int64(1700001240), int64(1700001300), "-"},
		[]any{"SKIPDATA", int32(2), "123456789012", "eni-00000000000000001", "-", "-", nil, nil, nil, nil, nil, int64(1700001300), int64(1700001360), "-"})
	checkRows(t, tb, `SELECT srcport, dstport, protocol, packets, bytes, start, "end" FROM flowlogs WHERE log_status = 'OK' ORDER BY start, srcport`,
		[]any{int32(5000), int32(53), int64(17), int64(1), int64(40), int64(1700001179), int64(1700001179)},
		[]any{int32(5000), int32(53), int64(17), int64(1), int64(40), int64(1700001180), int64(1700001180)},
		[]any{int32(6000), int32(53), int64(17), int64(1), int64(40), int64(1700001300), int64(1700001300)},
		[]any{int32(6001), int32(53), int64(17), int64(1), int64(40), int64(1700001300), int64(1700001300)},
		[]any{int32(6002), int32(53), int64(17), int64(1), int64(40), int64(1700001300), int64(1700001300)})
	// Partition columns from the key: region us-east-1 (the default), day
	// 2023/11/14.
	checkRows(t, tb, `SELECT DISTINCT region, day FROM flowlogs`, []any{"us-east-1", "2023/11/14"})

	// The top-talkers query, on this table and day: one talker pair.
	checkRows(t, tb, `SELECT srcaddr, dstaddr, SUM(bytes) AS total_bytes
		FROM flowlogs
		WHERE region = 'us-east-1' AND day = '2023/11/14' AND log_status = 'OK'
		GROUP BY srcaddr, dstaddr ORDER BY total_bytes DESC LIMIT 20;`,
		[]any{"203.0.113.9", "10.1.2.15", int64(200)})
}

// pingRoutes is the ping topology (examples/ping.yaml) with a route
// table (local VPC, default route to an internet gateway) and the ENI marked
// Nitro, so egress to the internet has traffic-path 8 (docs/aws-behaviour.md,
// "Traffic path").
const pingRoutes = `
RouteTables:
  - RouteTableId: rtb-0a1b2c3d4e5f60009
    VpcId: vpc-0a1b2c3d4e5f60001
    Associations: [{Main: true}]
    Routes:
      - {DestinationCidrBlock: 10.1.0.0/16, GatewayId: local}
      - {DestinationCidrBlock: 0.0.0.0/0, GatewayId: igw-0a1b2c3d4e5f6000a}
`

// TestCustomFormatV5Objects: a custom format with the version 3 and 5 fields
// tcp-flags, flow-direction and traffic-path, through the ping topology.
func TestCustomFormatV5Objects(t *testing.T) {
	topo, err := os.ReadFile("../examples/ping.yaml")
	if err != nil {
		t.Fatal(err)
	}
	y := strings.Replace(string(topo), "    PrivateIpAddress: 10.1.2.15\n", "    PrivateIpAddress: 10.1.2.15\n    Nitro: true\n", 1) + pingRoutes
	if !strings.Contains(y, "Nitro: true") {
		t.Fatal("ping.yaml changed: cannot mark the ENI Nitro")
	}
	topoPath := filepath.Join(t.TempDir(), "ping-routes.yaml")
	if err := os.WriteFile(topoPath, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	pkts := []e2e.Packet{
		// Echo request in: the NACL allows inbound ICMP, the SG too: ACCEPT.
		{Sec: 1700000301, SrcMAC: e2e.RouterMAC, DstMAC: e2e.PingENIMAC, Src: "198.51.100.7", Dst: "10.1.2.15", Proto: "icmp", ICMPType: 8, Payload: 56},
		// Echo reply out: the NACL has no outbound rule: REJECT.
		{Sec: 1700000302, SrcMAC: e2e.PingENIMAC, DstMAC: e2e.RouterMAC, Src: "10.1.2.15", Dst: "198.51.100.7", Proto: "icmp", ICMPType: 0, Payload: 56},
		// SSH SYN in: the NACL allows only ICMP inbound: REJECT.
		{Sec: 1700000310, SrcMAC: e2e.RouterMAC, DstMAC: e2e.PingENIMAC, Src: "198.51.100.9", Dst: "10.1.2.15", Proto: "tcp", SrcPort: 50000, DstPort: 22, SYN: true},
	}
	const format = "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${tcp-flags} ${flow-direction} ${traffic-path}"
	// The same table, the same hand-worked values, from gzip text and from
	// Parquet objects (AWS column types, GZIP column chunks).
	for _, c := range []struct{ fileFormat, suffix string }{{"plain-text", ".log.gz"}, {"parquet", ".log.parquet"}} {
		t.Run(c.fileFormat, func(t *testing.T) {
			fileFormat, suffix := c.fileFormat, c.suffix
			out := t.TempDir()
			runVpcflow(t, "pcap", "--quiet", "--out", out, "--topology", topoPath, "--format", format, "--file-format", fileFormat, e2e.WritePcap(t, pkts))
			tb := openDir(t, out)
			if tb.Rows != 3 || len(tb.Problems) != 0 || len(tb.Files) != 1 || !strings.HasSuffix(tb.Files[0], suffix) {
				t.Errorf("rows %d, files %v, problems %v", tb.Rows, tb.Files, tb.Problems)
			}
			checkDescribe(t, tb, []describe{
				{"version", "INTEGER"}, {"account_id", "VARCHAR"}, {"interface_id", "VARCHAR"},
				{"srcaddr", "VARCHAR"}, {"dstaddr", "VARCHAR"}, {"srcport", "INTEGER"}, {"dstport", "INTEGER"},
				{"protocol", "BIGINT"}, {"packets", "BIGINT"}, {"bytes", "BIGINT"},
				{"start", "BIGINT"}, {"end", "BIGINT"}, {"action", "VARCHAR"}, {"log_status", "VARCHAR"},
				{"tcp_flags", "INTEGER"}, {"flow_direction", "VARCHAR"}, {"traffic_path", "INTEGER"},
				{"region", "VARCHAR"}, {"day", "VARCHAR"}, {"date", "DATE"},
			})
			// version 5: the highest version among the fields. ICMP: 20 + 8 +
			// 56 = 84 bytes, tcp-flags 0 for non-TCP. The SYN: 20 + 20 = 40 bytes,
			// tcp-flags 2. traffic-path: 8 for the egress reply (internet gateway,
			// Nitro), NULL ('-') on ingress records.
			checkRows(t, tb, `SELECT version, srcaddr, dstaddr, srcport, dstport, protocol, packets, bytes, start, "end", action, tcp_flags, flow_direction, traffic_path
				FROM flowlogs ORDER BY start`,
				[]any{int32(5), "198.51.100.7", "10.1.2.15", int32(0), int32(0), int64(1), int64(1), int64(84), int64(1700000301), int64(1700000301), "ACCEPT", int32(0), "ingress", nil},
				[]any{int32(5), "10.1.2.15", "198.51.100.7", int32(0), int32(0), int64(1), int64(1), int64(84), int64(1700000302), int64(1700000302), "REJECT", int32(0), "egress", int32(8)},
				[]any{int32(5), "198.51.100.9", "10.1.2.15", int32(50000), int32(22), int64(6), int64(1), int64(40), int64(1700000310), int64(1700000310), "REJECT", int32(2), "ingress", nil})
			// ping.yaml: account 111122223333, region eu-west-1; 1700000301 is
			// 2023-11-14T22:18:21Z.
			checkRows(t, tb, `SELECT DISTINCT account_id, interface_id, region, day FROM flowlogs`,
				[]any{"111122223333", "eni-0a1b2c3d4e5f60718", "eu-west-1", "2023/11/14"})

			// The three sample queries of docs/aws-behaviour.md, "Athena tables and
			// queries", with this table's name and partitions.
			checkRows(t, tb, `SELECT srcaddr, dstaddr, SUM(bytes) AS total_bytes
				FROM flowlogs
				WHERE region = 'eu-west-1' AND day = '2023/11/14' AND log_status = 'OK'
				GROUP BY srcaddr, dstaddr ORDER BY total_bytes DESC, srcaddr LIMIT 20;`,
				[]any{"10.1.2.15", "198.51.100.7", int64(84)},
				[]any{"198.51.100.7", "10.1.2.15", int64(84)},
				[]any{"198.51.100.9", "10.1.2.15", int64(40)})
			checkRows(t, tb, `SELECT srcaddr, COUNT(*) AS rejected_flows
				FROM flowlogs
				WHERE action = 'REJECT' AND protocol = 6 AND day BETWEEN '2023/11/13' AND '2023/11/19'
				GROUP BY srcaddr ORDER BY rejected_flows DESC LIMIT 25;`,
				[]any{"198.51.100.9", int64(1)})
			// 1700000310 = 2023-11-14T22:18:30Z.
			at := time.Date(2023, 11, 14, 22, 18, 30, 0, time.UTC)
			checkRows(t, tb, `SELECT interface_id, srcaddr, dstport, action,
				       from_unixtime(start) AS first_seen, from_unixtime("end") AS last_seen
				FROM flowlogs
				WHERE dstport IN (22, 3389) AND day = '2023/11/14';`,
				[]any{"eni-0a1b2c3d4e5f60718", "198.51.100.9", int32(22), "REJECT", at, at})

			if fileFormat == "parquet" {
				checkRows(t, tb, "SELECT DISTINCT compression FROM parquet_metadata('"+filepath.ToSlash(tb.Files[0])+"')", []any{"GZIP"})
			}
		})
	}
}

// TestHiveObjects: a flow log declared in the topology with Hive-compatible,
// per-hour prefixes and a format that has the region field. The partition
// columns come from the key=value folders; the Region one is aws_region,
// since region is a column of the format.
func TestHiveObjects(t *testing.T) {
	topo, err := os.ReadFile("../examples/ping.yaml")
	if err != nil {
		t.Fatal(err)
	}
	y := string(topo) + `
FlowLogs:
  - ResourceIds: [vpc-0a1b2c3d4e5f60001]
    ResourceType: VPC
    TrafficType: ALL
    LogDestinationType: s3
    LogDestination: arn:aws:s3:::bucket/prod/
    LogFormat: '${version} ${interface-id} ${srcaddr} ${dstaddr} ${bytes} ${start} ${end} ${action} ${log-status} ${region}'
    MaxAggregationInterval: 60
    DestinationOptions: {FileFormat: plain-text, HiveCompatiblePartitions: true, PerHourPartition: true}
`
	topoPath := filepath.Join(t.TempDir(), "ping-hive.yaml")
	if err := os.WriteFile(topoPath, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	pkts := []e2e.Packet{
		{Sec: 1700000301, SrcMAC: e2e.RouterMAC, DstMAC: e2e.PingENIMAC, Src: "198.51.100.7", Dst: "10.1.2.15", Proto: "icmp", ICMPType: 8, Payload: 56},
	}
	// The output directory sits below folders named like S3 key parts:
	// they must not be taken for the key's.
	out := filepath.Join(t.TempDir(), "vpcflowlogs", "year=1999", "aws-region=nowhere")
	runVpcflow(t, "pcap", "--quiet", "--out", out, "--topology", topoPath, e2e.WritePcap(t, pkts))
	tb := openDir(t, out)
	if len(tb.Files) != 1 || !strings.Contains(tb.Files[0], "/prod/AWSLogs/aws-account-id=111122223333/aws-service=vpcflowlogs/aws-region=eu-west-1/year=2023/month=11/day=14/hour=22/") {
		t.Fatalf("objects %v, problems %v", tb.Files, tb.Problems)
	}
	checkDescribe(t, tb, []describe{
		{"version", "INTEGER"}, {"interface_id", "VARCHAR"}, {"srcaddr", "VARCHAR"}, {"dstaddr", "VARCHAR"},
		{"bytes", "BIGINT"}, {"start", "BIGINT"}, {"end", "BIGINT"}, {"action", "VARCHAR"}, {"log_status", "VARCHAR"},
		{"region", "VARCHAR"}, {"aws_region", "VARCHAR"}, {"day", "VARCHAR"}, {"date", "DATE"},
	})
	// Version 4: region is a version 4 field.
	checkRows(t, tb, `SELECT version, srcaddr, bytes, action, region, aws_region, day FROM flowlogs`,
		[]any{int32(4), "198.51.100.7", int64(84), "ACCEPT", "eu-west-1", "eu-west-1", "2023/11/14"})
}
