package sql

import (
	"fmt"
	"strings"

	"github.com/vpcflow/vpcflow/record"
)

// DDLOptions describe where the objects of a flow log live in S3, for the
// Athena DDL for text objects without Hive prefixes, with partition
// projection on Region and day (docs/aws-behaviour.md, "Athena tables and
// queries").
type DDLOptions struct {
	// Table name; default "vpc_flow_logs".
	Table string
	// Location is the S3 prefix that holds the Region folders, e.g.
	// "s3://my-flow-bucket/prod/AWSLogs/111122223333/vpcflowlogs/".
	Location string
	// Regions to project; default "us-east-1".
	Regions []string
	// From is the first day of the projection, "yyyy/MM/dd"; default
	// "2024/01/01". The range always ends at NOW.
	From string
}

// DateColumn is the third partition column of the view: the object's day
// as a DATE, the `date` partition of the table in AWS's Athena guide
// (https://docs.aws.amazon.com/athena/latest/ug/vpc-flow-logs-create-table-statement.html),
// so that its queries (day_of_week(date), date > current_date - interval
// '7' day) run unchanged.
const DateColumn = "date"

// PartitionColumns are the partition columns of the table of format f: the
// Region folder and the day folders of the S3 key. When the
// format has a region field, Athena would refuse a partition column of the
// same name, so the folder's Region is called aws_region [Choice].
func PartitionColumns(f *record.Format) (region, day string) {
	if f.Has(record.Region) {
		return "aws_region", "day"
	}
	return "region", "day"
}

// DDL returns the Athena CREATE EXTERNAL TABLE statement for text objects
// written in format f: delimited by single spaces, the
// header line skipped, partitions projected from the key layout.
func DDL(f *record.Format, o DDLOptions) string {
	if o.Table == "" {
		o.Table = "vpc_flow_logs"
	}
	if len(o.Regions) == 0 {
		o.Regions = []string{"us-east-1"}
	}
	if o.From == "" {
		o.From = "2024/01/01"
	}
	if o.Location != "" && !strings.HasSuffix(o.Location, "/") {
		o.Location += "/"
	}
	region, day := PartitionColumns(f)
	var b strings.Builder
	createTable(&b, o.Table, f)
	fmt.Fprintf(&b, ")\nPARTITIONED BY (%s string, %s string)\n", region, day)
	b.WriteString("ROW FORMAT DELIMITED FIELDS TERMINATED BY ' '\n")
	fmt.Fprintf(&b, "LOCATION %s\n", quoteString(o.Location))
	b.WriteString("TBLPROPERTIES (\n")
	props := [][2]string{
		{"skip.header.line.count", "1"},
		{"projection.enabled", "true"},
		{"projection." + region + ".type", "enum"},
		{"projection." + region + ".values", strings.Join(o.Regions, ",")},
		{"projection." + day + ".type", "date"},
		{"projection." + day + ".format", "yyyy/MM/dd"},
		{"projection." + day + ".range", o.From + ",NOW"},
		{"storage.location.template", o.Location + "${" + region + "}/${" + day + "}"},
	}
	for i, p := range props {
		sep := ","
		if i == len(props)-1 {
			sep = ""
		}
		fmt.Fprintf(&b, "  %s = %s%s\n", quoteString(p[0]), quoteString(p[1]), sep)
	}
	b.WriteString(");\n")
	return b.String()
}

// ParquetDDL returns the Athena statements for Parquet objects of format f
// written with Hive-compatible, per-hour prefixes: the same
// columns, partitioned by the key=value folders, Parquet SerDe, no header
// property; then MSCK REPAIR TABLE, which finds the partitions because the
// folders name them. o.Location is the prefix ending in AWSLogs/; Regions
// and From are not used.
func ParquetDDL(f *record.Format, o DDLOptions) string {
	if o.Table == "" {
		o.Table = "vpc_flow_logs"
	}
	if o.Location != "" && !strings.HasSuffix(o.Location, "/") {
		o.Location += "/"
	}
	var b strings.Builder
	createTable(&b, o.Table, f)
	b.WriteString(")\nPARTITIONED BY (`aws-account-id` string, `aws-service` string, `aws-region` string, `year` string, `month` string, `day` string, `hour` string)\n")
	b.WriteString("ROW FORMAT SERDE 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe'\n")
	b.WriteString("STORED AS INPUTFORMAT 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat'\n")
	b.WriteString("OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat'\n")
	fmt.Fprintf(&b, "LOCATION %s;\n", quoteString(o.Location))
	fmt.Fprintf(&b, "MSCK REPAIR TABLE %s;\n", o.Table)
	return b.String()
}

// createTable writes the CREATE EXTERNAL TABLE line and the column list of
// format f, up to the closing parenthesis.
func createTable(b *strings.Builder, table string, f *record.Format) {
	fmt.Fprintf(b, "CREATE EXTERNAL TABLE IF NOT EXISTS %s (\n", table)
	cols := AthenaColumns(f)
	for i, c := range cols {
		sep := ","
		if i == len(cols)-1 {
			sep = ""
		}
		fmt.Fprintf(b, "  %s %s%s\n", ddlName(c.Name), c.Type, sep)
	}
}
