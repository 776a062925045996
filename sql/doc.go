// Package sql puts an Athena-compatible table over delivered flow-log files,
// using DuckDB. It exists so that the S3 objects vpcflow writes can be queried
// with the same column names, types and SQL that AWS users run in Athena
// (docs/aws-behaviour.md, "Athena tables and queries"), and so that tests
// can prove those objects load unchanged with DuckDB's read_csv (gzip text)
// and read_parquet (Parquet objects, whose columns give the format; text and
// Parquet objects of one format make one table).
//
// Open reads the objects as they are: no copy, no conversion. What Athena
// does and DuckDB does not is bridged in the view, not in the files:
//   - '-' is NULL in int/bigint columns but stays the string '-'
//     in string columns, because Athena's delimited SerDe reads only \N as
//     NULL;
//   - the partition columns region and day (yyyy/MM/dd) of AWS's DDL
//     come from each object's key;
//   - from_unixtime(), used by AWS's sample queries, is a macro.
//
// Choices of ours, where AWS says nothing [Choice]:
//   - a field listed twice in a format gives columns name, name_2, ...;
//   - with a region field in the format, the Region partition column is
//     aws_region (Athena rejects a partition column named like a column);
//   - objects whose header (or Parquet columns) differ from the table's format, unreadable
//     objects and lines that do not fit the types are left out, each
//     reported with its position (Table.Problems), not read as NULLs as
//     Athena would.
package sql
