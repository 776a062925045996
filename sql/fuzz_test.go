package sql

import (
	"context"
	dbsql "database/sql"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/vpcflow/vpcflow/record"
)

// openBeside opens a table over a good text object and an object named
// name holding data. Open must not fail; the good object must be in the
// table and every problem must name the other object.
func openBeside(t *testing.T, db *dbsql.DB, name string, data []byte) *Table {
	t.Helper()
	dir := t.TempDir()
	good := writeObject(t, dir, "a.log.gz", gz(t, header+"2 1 eni-good 10.0.0.1 10.0.0.2 1 2 6 3 100 1710000000 1710000010 ACCEPT OK\n"))
	fuzzed := writeObject(t, dir, name, data)
	tb, err := open(context.Background(), db, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tb.Close() })
	if len(tb.Files) == 0 || tb.Files[0] != good {
		t.Fatalf("good object missing: %v (%v)", tb.Files, tb.Problems)
	}
	for _, p := range tb.Problems {
		if msg := p.Error(); !strings.HasPrefix(msg, fuzzed+":") {
			t.Errorf("problem without position: %q", msg)
		}
	}
	return tb
}

// FuzzObject puts an arbitrary object (gzip-wrapped, or raw bytes when raw
// is set) next to a good one. Open must not fail or panic, the good record
// must stay in the table, every problem must name its object, and the rows
// the check counted must be the rows every query sees.
func FuzzObject(f *testing.F) {
	f.Add([]byte(header+"2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 3 100 1710000000 1710000010 ACCEPT OK\n"), false)
	f.Add([]byte(header+"2 1 eni-1 - - - - - - - 1710000000 1710000010 - NODATA\n"), false)
	f.Add([]byte(header+"2 1 eni-1 10.0.0.1 10.0.0.2 x 2 6 3 100 1710000000 1710000010 ACCEPT\n\n\r\n"), false)
	f.Add([]byte("version srcaddr\n2 \"10.0.0.1\n"), false)
	f.Add([]byte(header+"2 1 eni-1 \"a b\" 10.0.0.2 1 2 6 3 100 1710000000 1710000010 ACCEPT OK\r\n"), false)
	f.Add([]byte(header+"2  1 eni-1 10.0.0.1 10.0.0.2 1 2 6 3 99999999999 1710000000 1710000010 ACCEPT OK"), false)
	f.Add(gz(f, header+"2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 3 100 1710000000 1710000010 ACCEPT OK\n")[:40], true)
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}, true)
	// One database for every input: opening a DuckDB is the slow part.
	db, err := dbsql.Open("duckdb", "")
	if err != nil {
		f.Fatal(err)
	}
	defer db.Close()
	f.Fuzz(func(t *testing.T, data []byte, raw bool) {
		obj := data
		if !raw {
			obj = gz(t, string(data))
		}
		tb := openBeside(t, db, "b.log.gz", obj)
		for _, q := range []string{
			"SELECT count(*) FROM flowlogs",
			"SELECT count(*) FROM (SELECT * FROM flowlogs)",
			"SELECT count(bytes) + count(*) - count(bytes) FROM flowlogs",
		} {
			r, err := tb.Query(context.Background(), q)
			if err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			if n := r.Rows[0][0].(int64); n != tb.Rows {
				t.Errorf("%s: %d rows, the check counted %d (problems %v)", q, n, tb.Rows, tb.Problems)
			}
		}
		r, err := tb.Query(context.Background(), "SELECT count(*) FROM flowlogs WHERE interface_id = 'eni-good' AND bytes = 100")
		if err != nil {
			t.Fatal(err)
		}
		if n := r.Rows[0][0].(int64); n < 1 {
			t.Errorf("good record lost")
		}
	})
}

// FuzzParquetObject puts arbitrary bytes named .log.parquet (seeded with a
// real Parquet object) next to a good text object: Open must not fail or
// panic, the good record stays, every problem names the fuzzed object, and
// the rows the check counted are the rows a query sees.
func FuzzParquetObject(f *testing.F) {
	good := parquetObject(f, record.DefaultFormat, record.Record{Version: 2, AccountID: "1", InterfaceID: "eni-2",
		SrcPort: 5, DstPort: 6, Protocol: 17, Packets: 7, Bytes: 700, Start: 1710000000, End: 1710000010,
		Action: record.ActionReject, LogStatus: record.StatusOK})
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add(append([]byte("PAR1"), good[len(good)-40:]...))
	f.Add(parquetObject(f, record.MustFormat("${version} ${srcaddr}"), record.Record{Version: 2}))
	// Corrupt footers: parquet-go panicked opening these (a byte of the
	// footer's column metadata set to 0x7f), caught now as not Parquet.
	// A footer length of 2 GB: parquet-go sized a buffer by it.
	huge := append([]byte(nil), good...)
	binary.LittleEndian.PutUint32(huge[len(huge)-8:], 0x7fffffff)
	f.Add(huge)
	for _, at := range []int{len(good) - 1511, len(good) - 1500, len(good) - 200} {
		if at > 0 {
			bad := append([]byte(nil), good...)
			bad[at] = 0x7f
			f.Add(bad)
		}
	}
	db, err := dbsql.Open("duckdb", "")
	if err != nil {
		f.Fatal(err)
	}
	defer db.Close()
	f.Fuzz(func(t *testing.T, data []byte) {
		tb := openBeside(t, db, "b.log.parquet", data)
		r, err := tb.Query(context.Background(), "SELECT count(*) FROM flowlogs")
		if err != nil {
			t.Fatal(err)
		}
		if n := r.Rows[0][0].(int64); n != tb.Rows {
			t.Errorf("%d rows, the check counted %d (problems %v)", n, tb.Rows, tb.Problems)
		}
	})
}
