package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vpcflow/vpcflow/record"
	vsql "github.com/vpcflow/vpcflow/sql"
)

func init() { register(newSQLCmd) }

type sqlFlags struct {
	dir, format, output   string
	ddl, parquet          bool
	table, location, from string
	regions               []string
}

func newSQLCmd() *cobra.Command {
	var f sqlFlags
	c := &cobra.Command{
		Use:   "sql [flags] 'SELECT ...'",
		Short: "Query delivered flow-log files with SQL (DuckDB, Athena's column names and types)",
		Long: `Query the objects (gzip text .log.gz, Parquet .log.parquet, or both) that
'vpcflow pcap --out DIR' wrote, with
DuckDB, through a view named vpc_flow_logs (the table name of AWS's Athena
guide; also flowlogs, and --table names it) that has the columns of the Athena
table of their format: field names with '-' turned into '_', int for version, ports,
tcp_flags and traffic_path, bigint for protocol, packets, bytes, start and end,
string for the rest. '-' reads as NULL in int and bigint columns and stays '-'
in string columns, as in Athena. Partition columns come from each object's
key: region and day (yyyy/MM/dd), as in the DDL --ddl prints (the Region column
is aws_region when the format has a region field), and date (a DATE), as in
the DDL of AWS's Athena guide. The Presto/Trino functions of Athena's example
queries work with Trino's semantics: from_unixtime, to_unixtime, to_iso8601,
from_iso8601_timestamp, from_iso8601_date, date_parse, date_format (MySQL
specifiers), day_of_week, date_trunc, try_cast, regexp_like, approx_distinct
(exact here). Queries run in UTC. "end" and "date" are reserved words: quote
them where Athena needs it.

The objects' format is read from their header lines, or the columns of Parquet
objects (--format insists on one);
objects with another header, unreadable objects and lines that do not fit the
column types are left out and reported on stderr with their file and line,
and the exit status is then 1 (the result of the query is still printed).

--ddl prints the Athena CREATE EXTERNAL TABLE statement for --format (default:
the default format) instead (text objects, partition projection on region and day), to paste into
Athena; --location is the S3 prefix that holds the Region folders. With
--parquet it is the statement for Parquet objects with Hive-compatible, per-hour
prefixes (flow-logs guide), followed by MSCK REPAIR TABLE; --location is then
the prefix ending in AWSLogs/.`,
		Example: `  vpcflow pcap --out ./flowlogs capture.pcap
  vpcflow sql --dir ./flowlogs 'SELECT srcaddr, dstaddr, SUM(bytes) AS total_bytes FROM flowlogs
      WHERE log_status = '"'"'OK'"'"' GROUP BY srcaddr, dstaddr ORDER BY total_bytes DESC LIMIT 20'
  vpcflow sql --output json 'SELECT interface_id, from_unixtime(start) AS first_seen FROM flowlogs WHERE dstport = 22'
  vpcflow sql --ddl --table flowlogs_prod --location s3://my-flow-bucket/prod/AWSLogs/111122223333/vpcflowlogs/ \
      --regions eu-west-1,us-east-1 --format '${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${tcp-flags}'`,
		RunE: func(cmd *cobra.Command, args []string) error { return runSQL(cmd, &f, args) },
	}
	fl := c.Flags()
	fl.StringVar(&f.dir, "dir", "flowlogs", "directory of delivered objects (the --out of vpcflow pcap)")
	fl.StringVar(&f.format, "format", "", "format of the objects: '${a} ${b}', 'a b' or default (default: their header line)")
	fl.StringVarP(&f.output, "output", "o", "table", "result format: table, json or csv")
	fl.BoolVar(&f.ddl, "ddl", false, "print the Athena DDL of the format instead of querying")
	fl.BoolVar(&f.parquet, "parquet", false, "with --ddl: the DDL for Parquet objects with Hive-compatible, per-hour prefixes")
	fl.StringVar(&f.table, "table", vsql.DefaultView, "table name: of the view queries read, and in the --ddl statement")
	fl.StringVar(&f.location, "location", "s3://BUCKET/AWSLogs/ACCOUNT/vpcflowlogs/", "S3 prefix of the Region folders (--ddl)")
	fl.StringSliceVar(&f.regions, "regions", []string{"us-east-1"}, "Regions to project (--ddl)")
	fl.StringVar(&f.from, "from", "2024/01/01", "first day of the projection, yyyy/MM/dd (--ddl)")
	return c
}

func runSQL(cmd *cobra.Command, f *sqlFlags, args []string) error {
	var format *record.Format
	if f.format != "" {
		var err error
		if format, err = parseFormatFlag(f.format); err != nil {
			return err
		}
	}
	if f.parquet && !f.ddl {
		return usageErrorf("--parquet goes with --ddl (queries read Parquet objects by themselves)")
	}
	if f.ddl {
		if len(args) > 0 {
			return usageErrorf("--ddl takes no query")
		}
		if format == nil {
			format = record.DefaultFormat
		}
		o := vsql.DDLOptions{Table: f.table, Location: f.location, Regions: f.regions, From: f.from}
		if f.parquet {
			if cmd.Flags().Changed("regions") || cmd.Flags().Changed("from") {
				return usageErrorf("--regions and --from project text partitions; Parquet tables find theirs with MSCK REPAIR TABLE")
			}
			if !cmd.Flags().Changed("location") {
				o.Location = "s3://BUCKET/AWSLogs/"
			}
			fmt.Fprint(cmd.OutOrStdout(), vsql.ParquetDDL(format, o))
			return nil
		}
		fmt.Fprint(cmd.OutOrStdout(), vsql.DDL(format, o))
		return nil
	}
	if len(args) != 1 {
		return usageErrorf("want one SQL query, got %d arguments (quote the query)", len(args))
	}
	switch f.output {
	case "table", "json", "csv":
	default:
		return usageErrorf("--output: want table, json or csv, got %q", f.output)
	}
	if st, err := os.Stat(f.dir); err != nil || !st.IsDir() {
		return usageErrorf("--dir %s: not a directory", f.dir)
	}
	ctx := context.Background()
	tb, err := vsql.Open(ctx, f.dir, vsql.Options{Format: format, View: f.table})
	if err != nil {
		return err
	}
	defer tb.Close()
	stderr := cmd.ErrOrStderr()
	for _, p := range tb.Problems {
		fmt.Fprintf(stderr, "vpcflow: %v\n", p)
	}
	res, err := tb.Query(ctx, args[0])
	if err != nil {
		return &exitError{code: 1, msg: err.Error()}
	}
	out := cmd.OutOrStdout()
	switch f.output {
	case "json":
		err = writeSQLJSON(out, res)
	case "csv":
		err = writeSQLCSV(out, res)
	default:
		err = writeSQLTable(out, res)
	}
	if err != nil {
		return err
	}
	if len(tb.Problems) > 0 {
		return &exitError{code: 1, msg: fmt.Sprintf("left out %d objects and %d lines; %d objects are damaged (their lines before the damage are in)",
			tb.SkippedFiles, tb.SkippedLines, tb.DamagedFiles)}
	}
	return nil
}

// sqlText renders a value as text; NULL is empty in CSV and "NULL" in tables.
func sqlText(v any, null string) string {
	switch x := v.(type) {
	case nil:
		return null
	case string:
		return x
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case int64:
		return strconv.FormatInt(x, 10)
	case *big.Int:
		return x.String()
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case time.Time:
		// Athena prints timestamps this way.
		return x.UTC().Format("2006-01-02 15:04:05.000")
	case []byte:
		return string(x)
	}
	return fmt.Sprint(v)
}

func writeSQLTable(w io.Writer, r *vsql.Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(r.Columns, "\t"))
	cells := make([]string, len(r.Columns))
	for _, row := range r.Rows {
		for i, v := range row {
			cells[i] = sqlText(v, "NULL")
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

func writeSQLCSV(w io.Writer, r *vsql.Result) error {
	cw := csv.NewWriter(w)
	cw.Write(r.Columns)
	cells := make([]string, len(r.Columns))
	for _, row := range r.Rows {
		for i, v := range row {
			cells[i] = sqlText(v, "")
		}
		cw.Write(cells)
	}
	cw.Flush()
	return cw.Error()
}

// writeSQLJSON writes an array of objects, one row a line, keys in column
// order; numbers as JSON numbers, NULL as null.
func writeSQLJSON(w io.Writer, r *vsql.Result) error {
	var b strings.Builder
	b.WriteString("[")
	for n, row := range r.Rows {
		if n > 0 {
			b.WriteString(",")
		}
		b.WriteString("\n{")
		for i, v := range row {
			if i > 0 {
				b.WriteString(",")
			}
			k, _ := json.Marshal(r.Columns[i])
			b.Write(k)
			b.WriteString(":")
			switch x := v.(type) {
			case nil:
				b.WriteString("null")
			case int32, int64, *big.Int:
				b.WriteString(sqlText(x, ""))
			case float64:
				if js, err := json.Marshal(x); err == nil {
					b.Write(js)
				} else {
					b.WriteString("null") // NaN and infinities have no JSON form
				}
			case bool:
				b.WriteString(strconv.FormatBool(x))
			default:
				js, _ := json.Marshal(sqlText(x, ""))
				b.Write(js)
			}
		}
		b.WriteString("}")
	}
	if len(r.Rows) > 0 {
		b.WriteString("\n")
	}
	b.WriteString("]\n")
	_, err := io.WriteString(w, b.String())
	return err
}
