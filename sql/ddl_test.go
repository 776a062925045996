package sql

import (
	"strings"
	"testing"

	"github.com/vpcflow/vpcflow/record"
)

// specDDL is AWS's text-object DDL with partition projection, for the
// default format plus the version 3 fields (docs/aws-behaviour.md, "Athena
// tables and queries"), written out by hand.
const specDDL = "CREATE EXTERNAL TABLE IF NOT EXISTS flowlogs_prod (\n" +
	"  version int, account_id string, interface_id string,\n" +
	"  srcaddr string, dstaddr string, srcport int, dstport int,\n" +
	"  protocol bigint, packets bigint, bytes bigint,\n" +
	"  start bigint, `end` bigint, action string, log_status string,\n" +
	"  vpc_id string, subnet_id string, instance_id string,\n" +
	"  tcp_flags int, type string, pkt_srcaddr string, pkt_dstaddr string\n" +
	")\n" +
	"PARTITIONED BY (region string, day string)\n" +
	"ROW FORMAT DELIMITED FIELDS TERMINATED BY ' '\n" +
	"LOCATION 's3://my-flow-bucket/prod/AWSLogs/111122223333/vpcflowlogs/'\n" +
	"TBLPROPERTIES (\n" +
	"  'skip.header.line.count' = '1',\n" +
	"  'projection.enabled' = 'true',\n" +
	"  'projection.region.type' = 'enum',\n" +
	"  'projection.region.values' = 'eu-west-1,us-east-1',\n" +
	"  'projection.day.type' = 'date',\n" +
	"  'projection.day.format' = 'yyyy/MM/dd',\n" +
	"  'projection.day.range' = '2024/01/01,NOW',\n" +
	"  'storage.location.template' = 's3://my-flow-bucket/prod/AWSLogs/111122223333/vpcflowlogs/${region}/${day}'\n" +
	");\n"

// specDDL wraps the column list by hand; line breaks are not significant in
// SQL, so both sides are compared with whitespace runs made one space.
func normalize(s string) string { return strings.Join(strings.Fields(s), " ") }

func TestDDLSpec52(t *testing.T) {
	f := record.MustFormat("${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${vpc-id} ${subnet-id} ${instance-id} ${tcp-flags} ${type} ${pkt-srcaddr} ${pkt-dstaddr}")
	got := DDL(f, DDLOptions{
		Table:    "flowlogs_prod",
		Location: "s3://my-flow-bucket/prod/AWSLogs/111122223333/vpcflowlogs/",
		Regions:  []string{"eu-west-1", "us-east-1"},
		From:     "2024/01/01",
	})
	if normalize(got) != normalize(specDDL) {
		t.Errorf("got:\n%s\nwant:\n%s", got, specDDL)
	}
}

func TestDDLChoice(t *testing.T) {
	t.Run("defaults and a location without the final slash", func(t *testing.T) {
		got := DDL(record.DefaultFormat, DDLOptions{Location: "s3://b/AWSLogs/1/vpcflowlogs"})
		for _, want := range []string{
			"CREATE EXTERNAL TABLE IF NOT EXISTS vpc_flow_logs (",
			"LOCATION 's3://b/AWSLogs/1/vpcflowlogs/'",
			"'projection.region.values' = 'us-east-1'",
			"'storage.location.template' = 's3://b/AWSLogs/1/vpcflowlogs/${region}/${day}'",
		} {
			if !strings.Contains(got, want) {
				t.Errorf("missing %q in\n%s", want, got)
			}
		}
	})
	t.Run("format with region", func(t *testing.T) {
		got := DDL(record.MustFormat("${version} ${region}"), DDLOptions{Location: "s3://b/"})
		for _, want := range []string{"region string\n)", "PARTITIONED BY (aws_region string, day string)", "'projection.aws_region.type' = 'enum'", "${aws_region}/${day}"} {
			if !strings.Contains(got, want) {
				t.Errorf("missing %q in\n%s", want, got)
			}
		}
	})
}

// TestDDLParquetHive: Parquet objects with Hive prefixes and hourly
// partitions, every element AWS's Parquet table needs: the same columns,
// the seven key=value partition columns, the Parquet SerDe and formats, the AWSLogs/ location, no header
// property, and MSCK REPAIR TABLE to find the partitions.
func TestDDLParquetHive(t *testing.T) {
	got := ParquetDDL(record.DefaultFormat, DDLOptions{Table: "flowlogs_pq", Location: "s3://my-flow-bucket/prod/AWSLogs"})
	want := "CREATE EXTERNAL TABLE IF NOT EXISTS flowlogs_pq (\n" +
		"  version int, account_id string, interface_id string,\n" +
		"  srcaddr string, dstaddr string, srcport int, dstport int,\n" +
		"  protocol bigint, packets bigint, bytes bigint,\n" +
		"  start bigint, `end` bigint, action string, log_status string\n" +
		")\n" +
		"PARTITIONED BY (`aws-account-id` string, `aws-service` string, `aws-region` string, `year` string, `month` string, `day` string, `hour` string)\n" +
		"ROW FORMAT SERDE 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe'\n" +
		"STORED AS INPUTFORMAT 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat'\n" +
		"OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat'\n" +
		"LOCATION 's3://my-flow-bucket/prod/AWSLogs/';\n" +
		"MSCK REPAIR TABLE flowlogs_pq;\n"
	if normalize(got) != normalize(want) {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	if strings.Contains(got, "skip.header") || strings.Contains(got, "projection") {
		t.Errorf("Parquet DDL has text-only properties:\n%s", got)
	}
}
