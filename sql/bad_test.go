package sql

import (
	"bytes"
	"compress/gzip"
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/vpcflow/vpcflow/record"
)

func gz(t testing.TB, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	zw.Close()
	return b.Bytes()
}

func writeObject(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, "AWSLogs/1/vpcflowlogs/eu-west-1/2024/03/09", name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const header = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n"

// Bad objects and bad lines are reported with their position and left out;
// the good records around them are still in the table.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	good := writeObject(t, dir, "a.log.gz", gz(t, header+
		"2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 3 100 1710000000 1710000010 ACCEPT OK\n"))
	lines := writeObject(t, dir, "b.log.gz", gz(t, header+
		"2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 4 1000 1710000000 1710000010 ACCEPT OK\n"+
		"2 1 eni-1 10.0.0.1 10.0.0.2 x 2 6 4 1000 1710000000 1710000010 ACCEPT OK\n"+ // line 3: srcport not an integer
		"2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 4 1000 1710000000 1710000010 ACCEPT\n"+ // line 4: 13 fields
		"2 1 eni-1 10.0.0.1 10.0.0.2 1 2 17 5 20 1710000000 1710000010 REJECT OK\n"))
	notGzip := writeObject(t, dir, "c.log.gz", []byte(header))
	other := writeObject(t, dir, "d.log.gz", gz(t, "version srcaddr\n2 10.0.0.9\n"))
	empty := writeObject(t, dir, "e.log.gz", gz(t, ""))
	unknown := writeObject(t, dir, "f.log.gz", gz(t, "version srcaddr no-such-field\n"))
	// A stream cut at a flush point: the header and 100 records decode,
	// then it breaks off.
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	rec := "2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 3 100 1710000000 1710000010 ACCEPT OK\n"
	zw.Write([]byte(header + strings.Repeat(rec, 100)))
	zw.Flush()
	cut := zb.Len()
	zw.Write([]byte(strings.Repeat(rec, 100)))
	zw.Close()
	truncated := writeObject(t, dir, "g.log.gz", zb.Bytes()[:cut])
	os.WriteFile(filepath.Join(dir, "README.txt"), []byte("not an object"), 0o644)

	tb, err := Open(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tb.Close()
	if len(tb.Files) != 3 || tb.Files[0] != good || tb.Files[1] != lines || tb.Files[2] != truncated {
		t.Errorf("files %v", tb.Files)
	}
	// 1 + 2 + 100 good records.
	if tb.Rows != 103 || tb.SkippedFiles != 4 || tb.SkippedLines != 2 || tb.DamagedFiles != 1 {
		t.Errorf("rows %d, skipped files %d, lines %d, damaged files %d", tb.Rows, tb.SkippedFiles, tb.SkippedLines, tb.DamagedFiles)
	}
	var got []string
	for _, p := range tb.Problems {
		got = append(got, p.Error())
	}
	want := []string{
		notGzip + ": not gzip",
		other + `:1: header "version srcaddr" differs from the table's format`,
		empty + ":1: no header line",
		unknown + `:1: bad header: unknown field: "no-such-field"`,
		truncated + ":102: damaged gzip stream after 101 complete lines (they are in the table): unexpected EOF",
		// "2 1 eni-1 10.0.0.1 10.0.0.2 " is 28 bytes: the port starts at 29.
		lines + ":3:29: column srcport: ",
		// The 13th field ends at byte 69; the 14th is missing at 70.
		lines + ":4:70: column log_status: ",
	}
	if len(got) != len(want) {
		t.Fatalf("problems:\n%s", strings.Join(got, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("problem %d: got %q, want prefix %q", i, got[i], want[i])
		}
	}
	// The view holds the good records only, whichever columns a query uses.
	checkRows(t, tb, "SELECT count(*) FROM flowlogs", []any{int64(103)})
	checkRows(t, tb, "SELECT count(*) FROM flowlogs WHERE srcport IS NULL", []any{int64(0)})
	// 3 + 4 + 5 + 100*3 packets; 100 + 1000 + 20 + 100*100 bytes.
	checkRows(t, tb, "SELECT sum(packets), sum(bytes) FROM flowlogs", []any{int64(312), int64(11120)})
}

func TestEmptyDirectory(t *testing.T) {
	tb, err := Open(context.Background(), t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tb.Close()
	checkRows(t, tb, "SELECT count(*) FROM flowlogs", []any{int64(0)})
	checkDescribe(t, tb, []describe{
		{"version", "INTEGER"}, {"account_id", "VARCHAR"}, {"interface_id", "VARCHAR"},
		{"srcaddr", "VARCHAR"}, {"dstaddr", "VARCHAR"}, {"srcport", "INTEGER"}, {"dstport", "INTEGER"},
		{"protocol", "BIGINT"}, {"packets", "BIGINT"}, {"bytes", "BIGINT"},
		{"start", "BIGINT"}, {"end", "BIGINT"}, {"action", "VARCHAR"}, {"log_status", "VARCHAR"},
		{"region", "VARCHAR"}, {"day", "VARCHAR"}, {"date", "DATE"},
	})
}

func TestMissingDirectory(t *testing.T) {
	_, err := Open(context.Background(), filepath.Join(t.TempDir(), "nope"), Options{})
	if err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("got %v", err)
	}
}

// parquetObject writes records of format f as a Parquet object.
func parquetObject(t testing.TB, f *record.Format, recs ...record.Record) []byte {
	t.Helper()
	var out bytes.Buffer
	w := parquet.NewWriter(&out, record.ParquetSchema(f), parquet.Compression(&parquet.Gzip))
	var row parquet.Row
	var buf []byte
	for i := range recs {
		row = record.AppendParquetRow(row[:0], &buf, f, &recs[i])
		if _, err := w.WriteRows([]parquet.Row{row}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestParquetAndTextTogether: one table over text and Parquet objects of
// the same format; absent integers are NULL either way; Parquet objects
// that do not open, or whose columns are another format, are left out by
// name like text objects.
func TestParquetAndTextTogether(t *testing.T) {
	dir := t.TempDir()
	text := writeObject(t, dir, "a.log.gz", gz(t, header+
		"2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 3 100 1710000000 1710000010 ACCEPT OK\n"+
		"2 1 eni-1 - - - - - - - 1710000060 1710000120 - NODATA\n"))
	a := func(s string) netip.Addr { return netip.MustParseAddr(s) }
	pq := writeObject(t, dir, "b.log.parquet", parquetObject(t, record.DefaultFormat,
		record.Record{Version: 2, AccountID: "1", InterfaceID: "eni-2", SrcAddr: a("10.0.0.3"), DstAddr: a("10.0.0.4"), SrcPort: 5, DstPort: 6,
			Protocol: 17, Packets: 7, Bytes: 700, Start: 1710000000, End: 1710000010, Action: record.ActionReject, LogStatus: record.StatusOK},
		record.Record{Version: 2, AccountID: "1", InterfaceID: "eni-2", SrcPort: record.Absent, DstPort: record.Absent, Protocol: record.Absent,
			Packets: record.Absent, Bytes: record.Absent, Start: 1710000060, End: 1710000120, LogStatus: record.StatusNoData}))
	garbage := writeObject(t, dir, "c.log.parquet", []byte("PAR1 not really"))
	other := writeObject(t, dir, "d.log.parquet", parquetObject(t, record.MustFormat("${version} ${srcaddr}"), record.Record{Version: 2, SrcAddr: a("10.0.0.9")}))

	tb, err := Open(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tb.Close()
	if !slices.Equal(tb.Files, []string{text, pq}) || tb.Rows != 4 || tb.SkippedFiles != 2 {
		t.Errorf("files %v, rows %d, skipped %d", tb.Files, tb.Rows, tb.SkippedFiles)
	}
	var got []string
	for _, p := range tb.Problems {
		got = append(got, p.Error())
	}
	if len(got) != 2 || !strings.HasPrefix(got[0], garbage+": not Parquet") ||
		!strings.HasPrefix(got[1], other+`:1: columns "version srcaddr" differ`) {
		t.Errorf("problems %q", got)
	}
	checkRows(t, tb, "SELECT interface_id, srcaddr, srcport, packets, action, log_status FROM flowlogs ORDER BY interface_id, start",
		[]any{"eni-1", "10.0.0.1", int32(1), int64(3), "ACCEPT", "OK"},
		[]any{"eni-1", "-", nil, nil, "-", "NODATA"},
		[]any{"eni-2", "10.0.0.3", int32(5), int64(7), "REJECT", "OK"},
		[]any{"eni-2", "-", nil, nil, "-", "NODATA"})
}

// TestOneProblemPerLine: DuckDB rejects a short line once per missing
// column; it is one problem, counted once. A stream that breaks off inside
// a line is one problem too, its object's: the partial line is the damage.
func TestOneProblemPerLine(t *testing.T) {
	dir := t.TempDir()
	rec := "2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 3 100 1710000000 1710000010 ACCEPT OK\n"
	short := writeObject(t, dir, "a.log.gz", gz(t, header+rec+
		"2 1 eni-1 10.0.0.1 10.0.0.2\n"+ // line 3: 5 fields of 14
		rec))
	// cut inside line 12: the header, 10 whole records and "2 1 eni-1 10.0."
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	zw.Write([]byte(header + strings.Repeat(rec, 10) + rec[:15]))
	zw.Flush()
	cut := zb.Len()
	zw.Write([]byte(rec[15:] + strings.Repeat(rec, 10)))
	zw.Close()
	truncated := writeObject(t, dir, "b.log.gz", zb.Bytes()[:cut])
	tb, err := Open(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tb.Close()
	var got []string
	for _, p := range tb.Problems {
		got = append(got, p.Error())
	}
	want := []string{
		truncated + ":12: damaged gzip stream after 11 complete lines (they are in the table): unexpected EOF",
		// "2 1 eni-1 10.0.0.1 10.0.0.2" is 27 bytes: the missing srcport is at 28
		short + ":3:28: column srcport: ",
	}
	if len(got) != len(want) || tb.SkippedLines != 1 {
		t.Fatalf("%d lines skipped, problems:\n%s", tb.SkippedLines, strings.Join(got, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("problem %d: got %q, want prefix %q", i, got[i], want[i])
		}
	}
	checkRows(t, tb, "SELECT count(*) FROM flowlogs", []any{int64(2 + 10)})
}
