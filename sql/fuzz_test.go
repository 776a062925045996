package sql

import (
	"context"
	dbsql "database/sql"
	"strings"
	"testing"
)

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
		dir := t.TempDir()
		good := writeObject(t, dir, "a.log.gz", gz(t, header+"2 1 eni-good 10.0.0.1 10.0.0.2 1 2 6 3 100 1710000000 1710000010 ACCEPT OK\n"))
		obj := data
		if !raw {
			obj = gz(t, string(data))
		}
		fuzzed := writeObject(t, dir, "b.log.gz", obj)
		tb, err := open(context.Background(), db, dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer tb.Close()
		if len(tb.Files) == 0 || tb.Files[0] != good {
			t.Fatalf("good object missing: %v (%v)", tb.Files, tb.Problems)
		}
		for _, p := range tb.Problems {
			if msg := p.Error(); !strings.HasPrefix(msg, fuzzed+":") {
				t.Errorf("problem without position: %q", msg)
			}
		}
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
