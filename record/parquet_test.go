package record

import (
	"bytes"
	"net/netip"
	"slices"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// TestParquetSchema: column names (- → _), order (the format's), and types
// as AWS's field table gives them (int, bigint, string), every column
// optional.
func TestParquetSchema(t *testing.T) {
	f := MustFormat("${version} ${account-id} ${srcaddr} ${srcport} ${protocol} ${packets} ${bytes} ${start} ${action} ${log-status} ${tcp-flags} ${pkt-src-aws-service} ${flow-direction} ${traffic-path}")
	want := []struct {
		name string
		kind parquet.Kind
	}{
		{"version", parquet.Int32}, {"account_id", parquet.ByteArray}, {"srcaddr", parquet.ByteArray},
		{"srcport", parquet.Int32}, {"protocol", parquet.Int32}, {"packets", parquet.Int64},
		{"bytes", parquet.Int64}, {"start", parquet.Int64}, {"action", parquet.ByteArray},
		{"log_status", parquet.ByteArray}, {"tcp_flags", parquet.Int32}, {"pkt_src_aws_service", parquet.ByteArray},
		{"flow_direction", parquet.ByteArray}, {"traffic_path", parquet.Int32},
	}
	fields := ParquetSchema(f).Fields()
	if len(fields) != len(want) {
		t.Fatalf("%d columns, want %d", len(fields), len(want))
	}
	for i, w := range want {
		c := fields[i]
		if c.Name() != w.name || c.Type().Kind() != w.kind || !c.Optional() {
			t.Errorf("column %d: %s %v optional=%v, want %s %v optional", i, c.Name(), c.Type().Kind(), c.Optional(), w.name, w.kind)
		}
		if lt := c.Type().LogicalType(); w.kind == parquet.ByteArray && (lt == nil || lt.String() != "STRING") {
			t.Errorf("column %s: not a UTF-8 string", c.Name())
		}
	}
}

// TestParquetRows writes records and reads them back with parquet-go's
// reader: values by column, null for an absent integer, "-" for an absent
// string, GZIP on every column chunk.
func TestParquetRows(t *testing.T) {
	f := MustFormat("${version} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${packets} ${start} ${action} ${log-status} ${vpc-id}")
	recs := []Record{
		{Version: 5, InterfaceID: "eni-1", SrcAddr: netip.MustParseAddr("10.0.0.1"), DstAddr: netip.MustParseAddr("2001:db8::1"),
			SrcPort: 443, Packets: 1 << 40, Start: 1700000000, Action: ActionAccept, LogStatus: StatusOK, VPCID: "vpc-1"},
		{Version: 5, InterfaceID: "eni-1", SrcPort: Absent, Packets: Absent, Start: 1700000060, LogStatus: StatusNoData},
	}
	var out bytes.Buffer
	w := parquet.NewWriter(&out, ParquetSchema(f), parquet.Compression(&parquet.Gzip))
	var row parquet.Row
	var buf []byte
	for i := range recs {
		row = AppendParquetRow(row[:0], &buf, f, &recs[i])
		if _, err := w.WriteRows([]parquet.Row{row}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	pf, err := parquet.OpenFile(bytes.NewReader(out.Bytes()), int64(out.Len()))
	if err != nil {
		t.Fatal(err)
	}
	for _, rg := range pf.Metadata().RowGroups {
		for _, c := range rg.Columns {
			if c.MetaData.Codec.String() != "GZIP" {
				t.Errorf("column %v: codec %v, want GZIP", c.MetaData.PathInSchema, c.MetaData.Codec)
			}
		}
	}
	rows := make([]parquet.Row, 4)
	n, _ := pf.RowGroups()[0].Rows().ReadRows(rows)
	if n != 2 {
		t.Fatalf("read %d rows", n)
	}
	text := func(r parquet.Row) []string {
		var s []string
		for _, v := range r {
			if v.IsNull() {
				s = append(s, "NULL")
			} else {
				s = append(s, v.String())
			}
		}
		return s
	}
	for i, want := range [][]string{
		{"5", "eni-1", "10.0.0.1", "2001:db8::1", "443", "1099511627776", "1700000000", "ACCEPT", "OK", "vpc-1"},
		{"5", "eni-1", "-", "-", "NULL", "NULL", "1700000060", "-", "NODATA", "-"},
	} {
		if got := text(rows[i]); !slices.Equal(got, want) {
			t.Errorf("row %d: %q, want %q", i, got, want)
		}
	}
}
