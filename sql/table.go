package sql

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	dbsql "database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	_ "github.com/duckdb/duckdb-go/v2" // registers the "duckdb" driver
	"github.com/parquet-go/parquet-go"

	"github.com/vpcflow/vpcflow/record"
)

// DefaultView is the name of the view Open creates: the table name of
// AWS's Athena examples for VPC flow logs.
const DefaultView = "vpc_flow_logs"

// AliasView is a second name of the view, kept for queries written before
// the view took Athena's name.
const AliasView = "flowlogs"

// Options configure Open.
type Options struct {
	// Format of the objects; nil takes the header line of the first object.
	// Objects whose header names other fields are skipped.
	Format *record.Format
	// View name; default DefaultView.
	View string
	// NoCheck skips the scan that counts rows and finds bad lines at Open.
	// Bad lines are then skipped silently by every query.
	NoCheck bool
}

// Table is an in-memory DuckDB database with a view over the objects (text
// .log.gz and Parquet .log.parquet) of a delivery directory, typed and named as the Athena table of
// their format.
type Table struct {
	db      *dbsql.DB
	dir     string
	view    string
	format  *record.Format
	columns []Column
	region  string
	day     string

	// Files are the objects the view reads.
	Files []string
	// Rows is the number of good records in Files (0 with NoCheck).
	Rows int64
	// Problems are the objects left out or damaged (*FileError) and the
	// lines left out (*LineError): objects first, then lines in path and
	// line order.
	Problems []error
	// SkippedFiles and SkippedLines count Problems by kind; DamagedFiles
	// counts objects whose gzip stream breaks off: their lines before the
	// damage are in the table.
	SkippedFiles, SkippedLines, DamagedFiles int

	checked bool
	ownDB   bool
}

// FileError is a problem with a whole object: it was left out (unreadable,
// or a header other than the table's format), or its gzip stream breaks off
// after the lines that are in the table (Table.DamagedFiles).
type FileError struct {
	File string
	Line int // 1 for a header problem, 0 when the file cannot be read
	Err  error
}

func (e *FileError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.File, e.Err)
}

func (e *FileError) Unwrap() error { return e.Err }

// LineError is a line DuckDB could not read with the table's types; the
// other lines of its object are still in the table.
type LineError struct {
	File   string
	Line   int64 // 1-based, the header being line 1
	Column int64 // 1-based byte position in the line
	Field  string
	Msg    string
}

func (e *LineError) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s:%d:%d: column %s: %s", e.File, e.Line, e.Column, e.Field, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
}

// Open finds the .log.gz and .log.parquet objects under dir, opens an
// in-memory DuckDB and creates a view over them with DuckDB's read_csv
// (space-delimited, header skipped, '-' as NULL in integer columns) and
// read_parquet (typed columns, absent integers already NULL), the Athena column names and
// types of the format, plus the partition columns of AWS's DDL (Region and
// yyyy/MM/dd day, taken from the object key) unless the format has them.
func Open(ctx context.Context, dir string, o Options) (*Table, error) {
	db, err := dbsql.Open("duckdb", "")
	if err != nil {
		return nil, err
	}
	for _, q := range append([]string{
		// No extension is ever needed (gzip CSV is built in); never try to
		// download one.
		"SET autoinstall_known_extensions = false",
	}, trinoMacros...) {
		if _, err := db.ExecContext(ctx, q); err != nil {
			db.Close()
			return nil, err
		}
	}
	if err := registerMySQLTime(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	t, err := open(ctx, db, dir, o)
	if err != nil {
		db.Close()
		return nil, err
	}
	t.ownDB = true
	return t, nil
}

// open builds the table in an existing database (tests share one: a new
// DuckDB costs tens of milliseconds).
func open(ctx context.Context, db *dbsql.DB, dir string, o Options) (*Table, error) {
	if o.View == "" {
		o.View = DefaultView
	}
	paths, err := findObjects(dir)
	if err != nil {
		return nil, err
	}
	t := &Table{db: db, dir: dir, view: o.View, format: o.Format}
	for _, p := range paths {
		f, err := readFormat(p)
		if err != nil {
			t.skipFile(err)
			continue
		}
		if t.format == nil {
			t.format = f
		}
		if !slices.Equal(f.Fields(), t.format.Fields()) {
			what := "header %q differs"
			if isParquet(p) {
				what = "columns %q differ"
			}
			t.skipFile(&FileError{File: p, Line: 1, Err: fmt.Errorf(what+" from the table's format %q", f.Header(), t.format.Header())})
			continue
		}
		t.Files = append(t.Files, p)
	}
	if t.format == nil {
		t.format = record.DefaultFormat
	}
	t.columns = AthenaColumns(t.format)
	t.region, t.day = PartitionColumns(t.format)
	if !o.NoCheck && len(t.Files) > 0 {
		if err := t.check(ctx); err != nil {
			return nil, err
		}
	}
	if _, err := t.db.ExecContext(ctx, t.viewSQL()); err != nil {
		return nil, fmt.Errorf("create view %s: %w", t.view, err)
	}
	for _, alias := range []string{DefaultView, AliasView} {
		if alias == t.view {
			continue
		}
		if _, err := t.db.ExecContext(ctx, "CREATE OR REPLACE VIEW "+quoteIdent(alias)+" AS SELECT * FROM "+quoteIdent(t.view)); err != nil {
			return nil, fmt.Errorf("create view %s: %w", alias, err)
		}
	}
	return t, nil
}

func (t *Table) skipFile(err error) {
	t.Problems = append(t.Problems, err)
	t.SkippedFiles++
}

// findObjects lists the objects (text and Parquet) under dir in lexical
// order.
func findObjects(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".log.gz") || isParquet(p)) {
			out = append(out, p)
		}
		return nil
	})
	return out, err
}

// maxHeader bounds the header line: every field name once is under 1 KiB.
const maxHeader = 64 << 10

func isParquet(path string) bool { return strings.HasSuffix(path, ".log.parquet") }

// readFormat returns the format of an object: its header line, or the
// columns of a Parquet object.
func readFormat(path string) (*record.Format, error) {
	if isParquet(path) {
		return parquetFormat(path)
	}
	return readHeader(path)
}

// parquetFormat returns the format named by the columns of a Parquet object.
// parquet-go panics on some corrupt footers (found by FuzzParquetObject: a
// slice bound out of range while opening columns); such a file is reported
// as not Parquet like any other unreadable object.
func parquetFormat(path string) (format *record.Format, err error) {
	defer func() {
		if p := recover(); p != nil {
			format, err = nil, &FileError{File: path, Err: fmt.Errorf("not Parquet: corrupt file (%v)", p)}
		}
	}()
	f, err := os.Open(path)
	if err != nil {
		return nil, &FileError{File: path, Err: err}
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, &FileError{File: path, Err: err}
	}
	// The footer's length is checked before parquet-go sizes a buffer by
	// it: a corrupt one made it allocate up to gigabytes (a second or more
	// per file, found by fuzzing).
	var tail [8]byte
	if _, err := f.ReadAt(tail[:], st.Size()-8); err != nil || st.Size() < 12 || string(tail[4:]) != "PAR1" ||
		int64(binary.LittleEndian.Uint32(tail[:4])) > st.Size()-12 {
		return nil, &FileError{File: path, Err: errors.New("not Parquet: no valid footer")}
	}
	pf, err := parquet.OpenFile(f, st.Size(), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return nil, &FileError{File: path, Err: fmt.Errorf("not Parquet: %w", err)}
	}
	if format, err = record.ParquetFormat(pf.Schema()); err != nil {
		return nil, &FileError{File: path, Err: fmt.Errorf("bad schema: %w", err)}
	}
	return format, nil
}

// readHeader returns the format named by the first line of a gzip object.
func readHeader(path string) (*record.Format, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &FileError{File: path, Err: err}
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, &FileError{File: path, Err: fmt.Errorf("not gzip: %w", err)}
	}
	line, err := bufio.NewReaderSize(io.LimitReader(zr, maxHeader), 4096).ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		if errors.Is(err, io.EOF) {
			err = errors.New("no header line")
		}
		return nil, &FileError{File: path, Line: 1, Err: err}
	}
	line = strings.TrimRight(line, "\r\n")
	if strings.TrimSpace(line) == "" {
		return nil, &FileError{File: path, Line: 1, Err: errors.New("no header line")}
	}
	format, err := record.ParseFormat(line)
	if err != nil {
		return nil, &FileError{File: path, Line: 1, Err: fmt.Errorf("bad header: %w", err)}
	}
	if strings.Contains(line, "${") {
		return nil, &FileError{File: path, Line: 1, Err: errors.New("bad header: a header names fields without ${}")}
	}
	return format, nil
}

// readCSV is the read_csv call over paths with the table's columns. Quoting
// is off: Athena's delimited SerDe has none, and a '"' in a field must not
// swallow the delimiters after it.
func (t *Table) readCSV(paths []string, extra string) string {
	var b strings.Builder
	b.WriteString("read_csv([" + quotedPaths(paths) + "], delim = ' ', header = true, nullstr = '-', quote = '', escape = '', auto_detect = false, columns = {")
	for i, c := range t.columns {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s: %s", quoteString(c.Name), quoteString(c.DuckDBType()))
	}
	b.WriteString("}")
	b.WriteString(extra)
	b.WriteString(")")
	return b.String()
}

// quotedPaths is paths as a list of SQL strings.
func quotedPaths(paths []string) string {
	q := make([]string, len(paths))
	for i, p := range paths {
		q[i] = quoteString(filepath.ToSlash(p))
	}
	return strings.Join(q, ", ")
}

// readParquet reads Parquet objects with the table's columns and types and
// the file name, as readCSV with filename = true does for text objects.
func (t *Table) readParquet(paths []string) string {
	var b strings.Builder
	b.WriteString("(SELECT ")
	for _, c := range t.columns {
		fmt.Fprintf(&b, "CAST(%s AS %s) AS %s, ", quoteIdent(c.Name), c.DuckDBType(), quoteIdent(c.Name))
	}
	b.WriteString("filename FROM read_parquet([" + quotedPaths(paths) + "], filename = true))")
	return b.String()
}

// source is what the view reads: the text objects, the Parquet objects, or
// both in one relation.
func (t *Table) source() string {
	var text, pq []string
	for _, f := range t.Files {
		if isParquet(f) {
			pq = append(pq, f)
		} else {
			text = append(text, f)
		}
	}
	switch {
	case len(pq) == 0:
		return t.readCSV(text, ", ignore_errors = true, filename = true")
	case len(text) == 0:
		return t.readParquet(pq)
	}
	return "(SELECT * FROM " + t.readCSV(text, ", ignore_errors = true, filename = true") + " UNION ALL BY NAME SELECT * FROM " + t.readParquet(pq) + ")"
}

// viewSQL creates the view. A '-' in a string column stays the string '-',
// as in Athena, whose delimited SerDe reads only \N as NULL; in an integer
// column it is NULL, as Athena reads it (docs/aws-behaviour.md, "Athena
// tables and queries").
func (t *Table) viewSQL() string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE OR REPLACE VIEW %s AS SELECT ", quoteIdent(t.view))
	for i, c := range t.columns {
		if i > 0 {
			b.WriteString(", ")
		}
		if c.Type == TypeString {
			fmt.Fprintf(&b, "coalesce(r.%s, '-') AS %s", quoteIdent(c.Name), quoteIdent(c.Name))
		} else {
			b.WriteString("r." + quoteIdent(c.Name))
		}
	}
	if len(t.Files) == 0 {
		// An empty directory is an empty table of the right shape.
		fmt.Fprintf(&b, ", NULL::VARCHAR AS %s, NULL::VARCHAR AS %s, NULL::DATE AS %s FROM (SELECT ", quoteIdent(t.region), quoteIdent(t.day), quoteIdent(DateColumn))
		for i, c := range t.columns {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "NULL::%s AS %s", c.DuckDBType(), quoteIdent(c.Name))
		}
		b.WriteString(") AS r WHERE false")
		return b.String()
	}
	// The partition columns come from each object's key, worked out in Go
	// (partitionOf) and joined on the file name read_csv reports.
	fmt.Fprintf(&b, ", p.vpcflow_region AS %s, p.vpcflow_day AS %s, CAST(try_strptime(p.vpcflow_day, '%%Y/%%m/%%d') AS DATE) AS %s FROM %s AS r JOIN (VALUES ",
		quoteIdent(t.region), quoteIdent(t.day), quoteIdent(DateColumn), t.source())
	for i, f := range t.Files {
		if i > 0 {
			b.WriteString(", ")
		}
		// Only the key below the table's directory counts: the folders
		// above it may have any names.
		key, err := filepath.Rel(t.dir, f)
		if err != nil {
			key = f
		}
		region, day := partitionOf(key)
		fmt.Fprintf(&b, "(%s, %s, %s)", quoteString(filepath.ToSlash(f)), quoteString(region), quoteString(day))
	}
	b.WriteString(") AS p(vpcflow_file, vpcflow_region, vpcflow_day) ON r.filename = p.vpcflow_file")
	if !t.checked || t.SkippedLines > 0 {
		b.WriteString(t.castAll("r."))
	}
	return b.String()
}

// castAll is a filter that is always true but uses every column. DuckDB
// casts only the columns a query uses, so without it a line with a bad
// integer would be dropped by "SELECT *" yet counted by "SELECT count(*)".
func (t *Table) castAll(prefix string) string {
	var b strings.Builder
	b.WriteString(" WHERE hash(")
	for i, c := range t.columns {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(prefix + quoteIdent(c.Name))
	}
	b.WriteString(") IS NOT NULL")
	return b.String()
}

// verifyGzip reads a whole gzip object and returns the number of complete
// lines before the first error.
func verifyGzip(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(bufio.NewReaderSize(f, 256<<10))
	if err != nil {
		return 0, err
	}
	buf := make([]byte, 256<<10)
	var lines int64
	for {
		n, err := zr.Read(buf)
		lines += int64(bytes.Count(buf[:n], []byte{'\n'}))
		if err == io.EOF {
			return lines, nil
		}
		if err != nil {
			return lines, err
		}
	}
}

// partitionOf returns the Region and the yyyy/MM/dd day of an object from
// its key (docs/aws-behaviour.md, "S3 object layout and Parquet"):
// .../vpcflowlogs/REGION/yyyy/MM/dd/[HH/]file, or with
// Hive prefixes .../aws-region=REGION/year=yyyy/month=MM/day=dd/[hour=HH/]file.
// Parts it cannot find are "-".
func partitionOf(path string) (region, day string) {
	parts := strings.Split(filepath.ToSlash(path), "/")
	region, day = "-", "-"
	var y, m, d string
	for i, p := range parts {
		if k, v, ok := strings.Cut(p, "="); ok {
			switch k {
			case "aws-region":
				region = v
			case "year":
				y = v
			case "month":
				m = v
			case "day":
				d = v
			}
			continue
		}
		if p == "vpcflowlogs" && i+4 < len(parts) {
			region, y, m, d = parts[i+1], parts[i+2], parts[i+3], parts[i+4]
		}
	}
	if len(y) == 4 && len(m) == 2 && len(d) == 2 {
		day = y + "/" + m + "/" + d
	}
	return region, day
}

// check scans every object once, alone, to count its good rows and collect
// the lines DuckDB rejects with their positions. An object that cannot be
// read at all (a corrupt gzip stream) is left out of the table.
func (t *Table) check(ctx context.Context) error {
	// The rejects tables are temporary, so one connection does every scan.
	conn, err := t.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	const drop = "DROP TABLE IF EXISTS vpcflow_reject_errors; DROP TABLE IF EXISTS vpcflow_reject_scans"
	if _, err := conn.ExecContext(ctx, drop); err != nil {
		return err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), drop)
	var good []string
	damage := map[string]int{} // damaged object → line of the damage
	for _, f := range t.Files {
		var n int64
		q := "SELECT count(*) FROM " + t.readCSV([]string{f}, ", store_rejects = true, rejects_table = 'vpcflow_reject_errors', rejects_scan = 'vpcflow_reject_scans'") + t.castAll("")
		if isParquet(f) {
			q = "SELECT count(*) FROM " + t.readParquet([]string{f}) + t.castAll("")
		}
		if err := conn.QueryRowContext(ctx, q).Scan(&n); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			t.skipFile(&FileError{File: f, Err: err})
			continue
		}
		t.Rows += n
		good = append(good, f)
		if isParquet(f) {
			continue // a damaged Parquet file does not open at all
		}
		// DuckDB reads a truncated gzip stream up to the damage without a
		// word; Go's reader says where it ends.
		if lines, err := verifyGzip(f); err != nil {
			t.Problems = append(t.Problems, &FileError{File: f, Line: int(lines) + 1,
				Err: fmt.Errorf("damaged gzip stream after %d complete lines (they are in the table): %w", lines, err)})
			t.DamagedFiles++
			damage[filepath.FromSlash(f)] = int(lines) + 1
		}
	}
	t.Files = good
	t.checked = true
	if !slices.ContainsFunc(t.Files, func(f string) bool { return !isParquet(f) }) {
		return nil // no text object scanned: no rejects tables
	}
	rows, err := conn.QueryContext(ctx, `SELECT s.file_path, e.line, e.byte_position - e.line_byte_position + 1,
		coalesce(e.column_name, ''), e.error_type::VARCHAR, e.error_message
		FROM vpcflow_reject_errors e JOIN vpcflow_reject_scans s ON e.scan_id = s.scan_id AND e.file_id = s.file_id
		ORDER BY s.file_path, e.line, e.byte_position`)
	if err != nil {
		return fmt.Errorf("reading rejected lines: %w", err)
	}
	defer rows.Close()
	// DuckDB rejects a line once per column it could not read: the first
	// (leftmost) problem of a line is reported, and the line counted once.
	// The line a damaged stream breaks off in is the damage's, already
	// reported with its object.
	var last *LineError
	for rows.Next() {
		var e LineError
		var typ string
		if err := rows.Scan(&e.File, &e.Line, &e.Column, &e.Field, &typ, &e.Msg); err != nil {
			return err
		}
		e.File = filepath.FromSlash(e.File)
		if d, ok := damage[e.File]; ok && e.Line >= int64(d) {
			continue
		}
		if last != nil && last.File == e.File && last.Line == e.Line {
			continue
		}
		last = &e
		t.Problems = append(t.Problems, &e)
		t.SkippedLines++
	}
	return rows.Err()
}

// Format returns the format of the table's objects.
func (t *Table) Format() *record.Format { return t.format }

// Columns returns the table's columns without the partition columns.
func (t *Table) Columns() []Column { return t.columns }

// View returns the name of the view.
func (t *Table) View() string { return t.view }

// DB returns the DuckDB database, for callers that want database/sql.
func (t *Table) DB() *dbsql.DB { return t.db }

// Close releases the database.
func (t *Table) Close() error {
	if t.ownDB {
		return t.db.Close()
	}
	_, err := t.db.Exec("DROP VIEW IF EXISTS " + quoteIdent(t.view))
	return err
}

// Date is a value of a DATE column: a day, printed yyyy-mm-dd as Athena
// prints dates (the driver gives a time.Time at midnight UTC).
type Date struct{ time.Time }

func (d Date) String() string { return d.Format("2006-01-02") }

// Result is the outcome of Query: the column names and DuckDB types, and
// the rows as database/sql returns them (int32, int64, string, *big.Int for
// HUGEINT sums, nil for NULL, ...).
type Result struct {
	Columns []string
	Types   []string
	Rows    [][]any
}

// Query runs one SQL statement and returns all its rows.
func (t *Table) Query(ctx context.Context, q string) (*Result, error) {
	rows, err := t.db.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cts, err := rows.ColumnTypes()
	if err != nil {
		return nil, err
	}
	res := &Result{}
	for _, ct := range cts {
		res.Columns = append(res.Columns, ct.Name())
		res.Types = append(res.Types, ct.DatabaseTypeName())
	}
	for rows.Next() {
		vals := make([]any, len(cts))
		ptrs := make([]any, len(cts))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		for i, v := range vals {
			if tm, ok := v.(time.Time); ok && res.Types[i] == "DATE" {
				vals[i] = Date{tm}
			}
		}
		res.Rows = append(res.Rows, vals)
	}
	return res, rows.Err()
}
