package sql

import (
	"fmt"
	"strings"

	"github.com/vpcflow/vpcflow/record"
)

// Athena column types used by flow-log tables (docs/aws-behaviour.md,
// "Athena tables and queries").
const (
	TypeInt    = "int"
	TypeBigint = "bigint"
	TypeString = "string"
)

// Column is one column of the Athena table of a flow-log format.
type Column struct {
	Field record.Field
	Name  string // Athena name: the field name with '-' turned into '_'
	Type  string // Athena type: TypeInt, TypeBigint or TypeString
}

// DuckDBType is the DuckDB type that reads the column as Athena would:
// int → INTEGER, bigint → BIGINT, string → VARCHAR.
func (c Column) DuckDBType() string {
	switch c.Type {
	case TypeInt:
		return "INTEGER"
	case TypeBigint:
		return "BIGINT"
	}
	return "VARCHAR"
}

// AthenaColumns returns the columns of the table over files written in format
// f, in format order (text tables are positional).
//
// A field listed twice in a format (AWS accepts it) would give two columns of
// one name, which no table allows: the second gets the suffix "_2", the third
// "_3" [Choice].
func AthenaColumns(f *record.Format) []Column {
	fields := f.Fields()
	cols := make([]Column, 0, len(fields))
	seen := make(map[string]int, len(fields))
	for _, fd := range fields {
		name := strings.ReplaceAll(fd.Name(), "-", "_")
		seen[name]++
		if n := seen[name]; n > 1 {
			name = fmt.Sprintf("%s_%d", name, n)
		}
		cols = append(cols, Column{Field: fd, Name: name, Type: athenaType(fd)})
	}
	return cols
}

// athenaType maps the field registry's kinds to Athena types. protocol is
// an int field but bigint in AWS's sample DDL, which is what users paste,
// so the DDL wins.
func athenaType(fd record.Field) string {
	if fd == record.Protocol {
		return TypeBigint
	}
	switch fd.Info().Kind {
	case record.KindInt32:
		return TypeInt
	case record.KindInt64:
		return TypeBigint
	}
	return TypeString
}

// hiveReserved are the column names of flow-log tables that Athena DDL needs
// back-quoted (`end`, a reserved word; `date` is the partition column AWS
// documents for tables without projection).
var hiveReserved = map[string]bool{"end": true, "date": true}

// ddlName quotes name for Athena DDL when it is a reserved word.
func ddlName(name string) string {
	if hiveReserved[name] {
		return "`" + name + "`"
	}
	return name
}

// quoteIdent quotes an identifier for DuckDB, which accepts every name in
// double quotes.
func quoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// quoteString writes s as a SQL string literal.
func quoteString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
