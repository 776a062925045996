// Package sql puts an Athena-compatible table over delivered flow-log files,
// using DuckDB. It exists so that the S3 objects vpcflow writes can be queried
// with the same column names, types and SQL that AWS users run in Athena,
// and so that tests can prove those objects load unchanged.
package sql
