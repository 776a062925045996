package record

import (
	"fmt"
	"reflect"
	"strings"
	"unsafe"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/encoding"
)

// Parquet objects (docs/aws-behaviour.md, "S3 object layout and Parquet"):
// one column per field of the format, in format order, named as the field
// with "-" → "_"; integer fields INT32 or INT64 as AWS's field tables type
// them, everything else a UTF-8 STRING; every column optional, so that an
// absent integer ("-") is null, while an absent string keeps the text's "-"
// [Choice].

// ParquetColumn is the Parquet (and Athena) column name of field fd.
func ParquetColumn(fd Field) string { return strings.ReplaceAll(fd.Name(), "-", "_") }

// ParquetSchema is the schema of the Parquet objects of format f.
func ParquetSchema(f *Format) *parquet.Schema {
	cols := make(orderedGroup, len(f.fields))
	for i, fd := range f.fields {
		var leaf parquet.Node
		switch infos[fd].Kind {
		case KindInt32:
			leaf = parquet.Int(32)
		case KindInt64:
			leaf = parquet.Int(64)
		default:
			leaf = parquet.String()
		}
		cols[i] = &column{Node: parquet.Optional(leaf), name: ParquetColumn(fd)}
	}
	return parquet.NewSchema("flow_logs", cols)
}

// AppendParquetRow appends the row of r in format f to row (reset to
// length 0 by the caller) and returns it. String values may alias r and
// buf (addresses are formatted into it): the row is only valid until both
// change, which is as long as a Writer needs it for WriteRows.
func AppendParquetRow(row parquet.Row, buf *[]byte, f *Format, r *Record) parquet.Row {
	*buf = (*buf)[:0]
	for i, fd := range f.fields {
		acc := &access[fd]
		var v parquet.Value
		switch infos[fd].Kind {
		case KindInt32:
			if n := *acc.num(r); n >= 0 {
				v = parquet.Int32Value(int32(n)).Level(0, 1, i)
			} else {
				v = parquet.NullValue().Level(0, 0, i)
			}
		case KindInt64:
			if n := *acc.num(r); n >= 0 {
				v = parquet.Int64Value(n).Level(0, 1, i)
			} else {
				v = parquet.NullValue().Level(0, 0, i)
			}
		case KindString:
			s := *acc.str(r)
			if s == "" {
				s = "-"
			}
			v = parquet.ByteArrayValue(unsafe.Slice(unsafe.StringData(s), len(s))).Level(0, 1, i)
		default: // addresses and enums: their text
			start := len(*buf)
			*buf = AppendValue(*buf, fd, r)
			v = parquet.ByteArrayValue((*buf)[start:len(*buf):len(*buf)]).Level(0, 1, i)
		}
		row = append(row, v)
	}
	return row
}

// orderedGroup is a Parquet group whose columns keep the order given:
// parquet.Group is a map and sorts its columns by name, while vpcflow
// keeps format order (so `SELECT *` reads like the text header).
type orderedGroup []parquet.Field

func (g orderedGroup) ID() int                     { return 0 }
func (g orderedGroup) String() string              { return g.asGroup().String() }
func (g orderedGroup) Type() parquet.Type          { return parquet.Group{}.Type() }
func (g orderedGroup) Optional() bool              { return false }
func (g orderedGroup) Repeated() bool              { return false }
func (g orderedGroup) Required() bool              { return true }
func (g orderedGroup) Leaf() bool                  { return false }
func (g orderedGroup) Fields() []parquet.Field     { return g }
func (g orderedGroup) Encoding() encoding.Encoding { return nil }
func (g orderedGroup) Compression() compress.Codec { return nil }
func (g orderedGroup) GoType() reflect.Type        { return g.asGroup().GoType() }
func (g orderedGroup) asGroup() parquet.Group      { return groupOf(g) }
func groupOf(fields []parquet.Field) parquet.Group {
	m := make(parquet.Group, len(fields))
	for _, f := range fields {
		m[f.Name()] = f
	}
	return m
}

// column is one named column of an orderedGroup.
type column struct {
	parquet.Node
	name string
}

func (c *column) Name() string { return c.name }

// Value is only used to write Go structs or maps, which vpcflow never does
// (it writes rows); maps are served as parquet.Group serves them.
func (c *column) Value(base reflect.Value) reflect.Value {
	if base.Kind() == reflect.Map {
		return base.MapIndex(reflect.ValueOf(c.name))
	}
	return reflect.Value{}
}

// ParquetFormat is the format whose Parquet schema is s, from its column
// names; a column that names no field is an error.
func ParquetFormat(s *parquet.Schema) (*Format, error) {
	var b strings.Builder
	for i, c := range s.Fields() {
		fd, ok := fieldOfColumn(c.Name())
		if !ok {
			return nil, fmt.Errorf("column %q is no flow-log field", c.Name())
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("${" + fd.Name() + "}")
	}
	if b.Len() == 0 {
		return nil, fmt.Errorf("no columns")
	}
	return ParseFormat(b.String())
}

// fieldOfColumn is the field whose Parquet column is name: the field names
// have no "_", so turning "_" back into "-" finds it; a name that already
// had a "-" is no column name and fails the round trip.
func fieldOfColumn(name string) (Field, bool) {
	fd, ok := Lookup(strings.ReplaceAll(name, "_", "-"))
	return fd, ok && ParquetColumn(fd) == name
}
