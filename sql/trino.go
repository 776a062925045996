package sql

// trinoMacros give DuckDB the Presto/Trino functions that Athena queries
// over flow logs use and DuckDB lacks or names differently, with Trino's
// semantics (https://trino.io/docs/current/functions/datetime.html,
// https://trino.io/docs/current/functions/regexp.html), so that queries
// copied from the Athena documentation run unchanged. Sessions run in UTC,
// as Athena's do, so timestamps read the same on every machine.
//
// date_format and date_parse are Go functions (mysqltime.go). Differences
// that remain, documented in docs/sql.md: from_unixtime returns
// a timestamp without a zone (printed in UTC); approx_distinct is exact (an
// exact count is within any error bound of the approximation).
var trinoMacros = []string{
	"SET GLOBAL TimeZone = 'UTC'",
	// from_unixtime(seconds): seconds may be fractional (double).
	"CREATE MACRO from_unixtime(s) AS make_timestamp(CAST(round(CAST(s AS DOUBLE) * 1000000) AS BIGINT))",
	// to_unixtime(timestamp) → double seconds.
	"CREATE MACRO to_unixtime(ts) AS epoch(ts)",
	// day_of_week: ISO, Monday = 1 … Sunday = 7.
	"CREATE MACRO day_of_week(d) AS isodow(d)",
	"CREATE MACRO dow(d) AS isodow(d)",
	// from_iso8601_timestamp: a date or date-time with an optional zone;
	// without a zone it is UTC (the session zone).
	"CREATE MACRO from_iso8601_timestamp(s) AS CAST(s AS TIMESTAMPTZ)",
	"CREATE MACRO from_iso8601_date(s) AS CAST(s AS DATE)",
	// to_iso8601 of a timestamp as Athena prints one in UTC:
	// 2023-11-14T22:13:20.000Z.
	"CREATE MACRO to_iso8601(ts) AS strftime(CAST(ts AS TIMESTAMP), '%Y-%m-%dT%H:%M:%S.%gZ')",
	"CREATE MACRO approx_distinct(x) AS count(DISTINCT x)",
	// regexp_like: an unanchored search, as Trino's.
	"CREATE MACRO regexp_like(s, re) AS regexp_matches(s, re)",
}
