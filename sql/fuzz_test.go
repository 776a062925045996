package sql

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	dbsql "database/sql"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/vpcflow/vpcflow/record"
)

// The fuzzers below read objects the way Open does before DuckDB sees
// them: the header line or Parquet columns (readFormat), the gzip stream to
// its end (verifyGzip). DuckDB in the loop made each input cost a table and
// three queries (under 2 executions a second); without it they run
// thousands. What DuckDB does with the same objects is checked by
// TestObjectsThroughDuckDB over the fuzzers' seeds and their corpus in
// testdata/fuzz, so every input a fuzzer ever kept also goes through one
// DuckDB round trip.

// objectSeeds are FuzzObject's seeds: object text (gzip-wrapped by the
// test) or, with raw, the object's bytes.
func objectSeeds(t testing.TB) []struct {
	data []byte
	raw  bool
} {
	return []struct {
		data []byte
		raw  bool
	}{
		{[]byte(header + "2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 3 100 1710000000 1710000010 ACCEPT OK\n"), false},
		{[]byte(header + "2 1 eni-1 - - - - - - - 1710000000 1710000010 - NODATA\n"), false},
		{[]byte(header + "2 1 eni-1 10.0.0.1 10.0.0.2 x 2 6 3 100 1710000000 1710000010 ACCEPT\n\n\r\n"), false},
		{[]byte("version srcaddr\n2 \"10.0.0.1\n"), false},
		{[]byte(header + "2 1 eni-1 \"a b\" 10.0.0.2 1 2 6 3 100 1710000000 1710000010 ACCEPT OK\r\n"), false},
		{[]byte(header + "2  1 eni-1 10.0.0.1 10.0.0.2 1 2 6 3 99999999999 1710000000 1710000010 ACCEPT OK"), false},
		{gz(t, header+"2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 3 100 1710000000 1710000010 ACCEPT OK\n")[:40], true},
		{[]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}, true},
	}
}

// parquetSeeds are FuzzParquetObject's seeds: a real Parquet object, cut
// and damaged.
func parquetSeeds(t testing.TB) [][]byte {
	good := parquetObject(t, record.DefaultFormat, record.Record{Version: 2, AccountID: "1", InterfaceID: "eni-2",
		SrcPort: 5, DstPort: 6, Protocol: 17, Packets: 7, Bytes: 700, Start: 1710000000, End: 1710000010,
		Action: record.ActionReject, LogStatus: record.StatusOK})
	out := [][]byte{good, good[:len(good)/2], append([]byte("PAR1"), good[len(good)-40:]...),
		parquetObject(t, record.MustFormat("${version} ${srcaddr}"), record.Record{Version: 2})}
	// Corrupt footers: parquet-go panicked opening these (a byte of the
	// footer's column metadata set to 0x7f), caught now as not Parquet.
	// A footer length of 2 GB: parquet-go sized a buffer by it.
	huge := append([]byte(nil), good...)
	binary.LittleEndian.PutUint32(huge[len(huge)-8:], 0x7fffffff)
	out = append(out, huge)
	for _, at := range []int{len(good) - 1511, len(good) - 1500, len(good) - 200} {
		if at > 0 {
			bad := append([]byte(nil), good...)
			bad[at] = 0x7f
			out = append(out, bad)
		}
	}
	return out
}

// checkFileError: a problem is a *FileError naming the object.
func checkFileError(t *testing.T, err error, path string) {
	t.Helper()
	var fe *FileError
	if !errors.As(err, &fe) || fe.File != path || !strings.HasPrefix(err.Error(), path+":") {
		t.Fatalf("problem without the object's name: %T %v", err, err)
	}
}

// gunzipAll is what a reader of the whole stream gets: its lines, and
// whether it breaks off.
func gunzipAll(data []byte) (int64, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return 0, err
	}
	b, err := io.ReadAll(zr)
	return int64(bytes.Count(b, []byte{'\n'})), err
}

// FuzzObject puts an arbitrary text object (gzip-wrapped, or raw bytes
// when raw is set) where Open would find it. Reading its format never
// panics and names the object in any problem; a format it accepts is one
// whose header reads back the same; the lines verifyGzip counts before
// any damage are the stream's complete lines.
func FuzzObject(f *testing.F) {
	for _, s := range objectSeeds(f) {
		f.Add(s.data, s.raw)
	}
	f.Fuzz(func(t *testing.T, data []byte, raw bool) {
		obj := data
		if !raw {
			obj = gz(t, string(data))
		}
		path := filepath.Join(t.TempDir(), "b.log.gz")
		if err := os.WriteFile(path, obj, 0o644); err != nil {
			t.Fatal(err)
		}
		format, err := readFormat(path)
		if err != nil {
			checkFileError(t, err, path)
		} else {
			again, perr := record.ParseFormat(format.Header())
			if perr != nil || !slices.Equal(again.Fields(), format.Fields()) {
				t.Fatalf("header %q reads back as %v, %v", format.Header(), again, perr)
			}
		}
		lines, verr := verifyGzip(path)
		want, werr := gunzipAll(obj)
		if (verr == nil) != (werr == nil) {
			t.Fatalf("verifyGzip: %d lines, %v; the stream read whole: %d lines, %v", lines, verr, want, werr)
		}
		if verr == nil && lines != want || lines > want && werr == nil {
			t.Fatalf("verifyGzip counted %d lines, the stream has %d", lines, want)
		}
		if !raw && (verr != nil || lines != int64(bytes.Count(data, []byte{'\n'}))) {
			t.Fatalf("a whole gzip stream: %d lines, %v; it has %d", lines, verr, bytes.Count(data, []byte{'\n'}))
		}
	})
}

// FuzzParquetObject puts arbitrary bytes named .log.parquet where Open
// would find them (seeded with a real Parquet object): reading the columns
// never panics out of parquetFormat, names the object in any problem, and
// a format it returns is a well-formed one.
func FuzzParquetObject(f *testing.F) {
	for _, s := range parquetSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "b.log.parquet")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		format, err := parquetFormat(path)
		if err != nil {
			checkFileError(t, err, path)
			return
		}
		if format.Len() == 0 {
			t.Fatal("a format without fields")
		}
		if again, err := record.ParseFormat(format.String()); err != nil || !slices.Equal(again.Fields(), format.Fields()) {
			t.Fatalf("format %q reads back as %v, %v", format.String(), again, err)
		}
	})
}

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

// corpus reads the inputs `go test -fuzz` kept for a fuzzer in
// testdata/fuzz/NAME: one value per line after the version line, as
// []byte("...") or bool(...).
func corpus(t *testing.T, name string) [][]any {
	files, _ := filepath.Glob(filepath.Join("testdata", "fuzz", name, "*"))
	var out [][]any
	for _, p := range files {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		var vals []any
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 64<<20)
		for first := true; sc.Scan(); first = false {
			line := strings.TrimSpace(sc.Text())
			switch {
			case first || line == "":
			case strings.HasPrefix(line, "[]byte(") && strings.HasSuffix(line, ")"):
				s, err := strconv.Unquote(line[len("[]byte(") : len(line)-1])
				if err != nil {
					t.Fatalf("%s: %v", p, err)
				}
				vals = append(vals, []byte(s))
			case line == "bool(true)" || line == "bool(false)":
				vals = append(vals, line == "bool(true)")
			default:
				t.Fatalf("%s: unknown value %q", p, line)
			}
		}
		f.Close()
		out = append(out, vals)
	}
	return out
}

// TestObjectsThroughDuckDB is the DuckDB round trip the fuzzers leave
// out, over their seeds and every input they kept: next to a good object,
// Open must not fail, the good record must stay in the table, every
// problem must name its object, and the rows the check counted must be
// the rows every query sees.
func TestObjectsThroughDuckDB(t *testing.T) {
	// One database for every input: opening a DuckDB is the slow part.
	db, err := dbsql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	count := func(t *testing.T, tb *Table, q string) int64 {
		t.Helper()
		r, err := tb.Query(context.Background(), q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return r.Rows[0][0].(int64)
	}
	var texts [][]any
	for _, s := range objectSeeds(t) {
		texts = append(texts, []any{s.data, s.raw})
	}
	texts = append(texts, corpus(t, "FuzzObject")...)
	for i, in := range texts {
		obj := in[0].([]byte)
		if !in[1].(bool) {
			obj = gz(t, string(obj))
		}
		t.Run("text"+strconv.Itoa(i), func(t *testing.T) {
			tb := openBeside(t, db, "b.log.gz", obj)
			for _, q := range []string{
				"SELECT count(*) FROM flowlogs",
				"SELECT count(*) FROM (SELECT * FROM flowlogs)",
				"SELECT count(bytes) + count(*) - count(bytes) FROM flowlogs",
			} {
				if n := count(t, tb, q); n != tb.Rows {
					t.Errorf("%s: %d rows, the check counted %d (problems %v)", q, n, tb.Rows, tb.Problems)
				}
			}
			if count(t, tb, "SELECT count(*) FROM flowlogs WHERE interface_id = 'eni-good' AND bytes = 100") < 1 {
				t.Errorf("good record lost")
			}
		})
	}
	parquets := parquetSeeds(t)
	for _, in := range corpus(t, "FuzzParquetObject") {
		parquets = append(parquets, in[0].([]byte))
	}
	for i, data := range parquets {
		t.Run("parquet"+strconv.Itoa(i), func(t *testing.T) {
			tb := openBeside(t, db, "b.log.parquet", data)
			if n := count(t, tb, "SELECT count(*) FROM flowlogs"); n != tb.Rows {
				t.Errorf("%d rows, the check counted %d (problems %v)", n, tb.Rows, tb.Problems)
			}
		})
	}
}
