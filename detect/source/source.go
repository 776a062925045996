// Package source reads flow-log records from where they are kept: S3-layout
// delivery trees (gzip text and Parquet objects), plain flow-log text files
// (AWS's own included: a header line, or none and a given format), and log
// groups of the log store, through a small interface the log service meets.
//
// It exists so that `vpcflow detect` (and anything else that judges
// delivered records) reads every kind of source the same way: each record
// comes with its position (file and line, or group, stream and timestamp),
// so a finding can point at the very records behind it, and a bad line or an
// unreadable object is reported and counted, never the end of the run.
package source

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/parquet-go/parquet-go"

	"github.com/vpcflow/vpcflow/record"
)

// Position says where a record was read.
type Position struct {
	// Source is the file or object path, or GROUP/STREAM for log events.
	Source string
	// Line is the record's line in a text file or row (1-based) in a
	// Parquet object; 0 for log events.
	Line int64
	// Timestamp is a log event's timestamp (ms); 0 for files.
	Timestamp int64
}

// Visitor receives each good record in format f. r and f are only valid
// during the call.
type Visitor func(f *record.Format, r *record.Record, pos Position) error

// Input is one thing to read: a file, an object or a log group.
type Input interface {
	// Name is how problems name the input.
	Name() string
	read(rd *Reader, visit Visitor) error
}

// Reader reads Inputs, counting what it reads and what it skips.
type Reader struct {
	// Format applies to text lines before any header line and to log
	// events (which have none); nil means the default format.
	Format *record.Format
	// Problem receives each bad line or unreadable input; reading goes on.
	// Nil ignores them (they are still counted).
	Problem func(error)
	Stats   Stats
}

// Stats counts what a Reader read.
type Stats struct {
	Inputs       int // inputs read to their end
	FailedInputs int // inputs that could not be opened or read to their end
	Records      int // good records handed to the visitor
	BadLines     int // lines (rows, events) that are not records, reported and skipped
}

// Read reads in, handing every good record to visit. It returns only an
// error of visit; problems with the input are reported and counted.
func (rd *Reader) Read(in Input, visit Visitor) error {
	var visitErr error
	err := in.read(rd, func(f *record.Format, r *record.Record, pos Position) error {
		rd.Stats.Records++
		if err := visit(f, r, pos); err != nil {
			visitErr = err
			return err
		}
		return nil
	})
	if visitErr != nil {
		return visitErr
	}
	if err != nil {
		rd.Stats.FailedInputs++
		rd.problem(err)
		return nil
	}
	rd.Stats.Inputs++
	return nil
}

func (rd *Reader) problem(err error) {
	if rd.Problem != nil {
		rd.Problem(err)
	}
}

func (rd *Reader) format() *record.Format {
	if rd.Format == nil {
		return record.DefaultFormat
	}
	return rd.Format
}

// slotPattern finds the 5-minute slot in an S3 object's key
// (..._fl-..._20260101T0005Z_hash.log.gz).
var slotPattern = regexp.MustCompile(`_(\d{8}T\d{4}Z)_[0-9a-f]+\.log\.(gz|parquet)$`)

// Expand turns command-line paths into Inputs. A directory stands for an S3
// delivery tree: its .log.gz and .log.parquet objects, ordered by the
// 5-minute slot in their keys (then by path), so records come in about
// event-time order across flow logs. A file is read as text (plain or
// gzip), or as Parquet when its name ends in .parquet.
func Expand(paths []string) ([]Input, error) {
	var out []Input
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, unwrapPath(err))
		}
		if !st.IsDir() {
			out = append(out, fileInput(p))
			continue
		}
		var objs []string
		err = filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && (strings.HasSuffix(q, ".log.gz") || strings.HasSuffix(q, ".log.parquet")) {
				objs = append(objs, q)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, unwrapPath(err))
		}
		if len(objs) == 0 {
			return nil, fmt.Errorf("%s: no flow-log objects (.log.gz or .log.parquet) under this directory", p)
		}
		slices.SortStableFunc(objs, func(a, b string) int {
			if c := strings.Compare(slotOf(a), slotOf(b)); c != 0 {
				return c
			}
			return strings.Compare(a, b)
		})
		for _, o := range objs {
			out = append(out, fileInput(o))
		}
	}
	return out, nil
}

// unwrapPath drops the *fs.PathError wrapping, whose text repeats the path.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func slotOf(path string) string {
	if m := slotPattern.FindStringSubmatch(filepath.Base(path)); m != nil {
		return m[1]
	}
	return ""
}

func fileInput(p string) Input {
	if strings.HasSuffix(p, ".parquet") {
		return parquetFile(p)
	}
	return textFile(p)
}

// textFile is a flow-log text file or object, plain or gzip (recognised by
// its magic bytes, not its name).
type textFile string

func (t textFile) Name() string { return string(t) }

func (t textFile) read(rd *Reader, visit Visitor) error {
	f, err := os.Open(string(t))
	if err != nil {
		return fmt.Errorf("%s: %w", t, unwrapPath(err))
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64<<10)
	var in io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("%s: not gzip: %w", t, err)
		}
		in = zr
	}
	r := record.NewReader(in, string(t), rd.format())
	var rec record.Record
	for {
		err := r.Next(&rec)
		if err == io.EOF {
			return nil
		}
		var le *record.LineError
		if errors.As(err, &le) {
			rd.Stats.BadLines++
			rd.problem(le)
			continue
		}
		if err != nil {
			// A broken gzip stream: the lines before it were read.
			return fmt.Errorf("%s: line %d: %w", t, r.Line()+1, err)
		}
		if err := visit(r.Format(), &rec, Position{Source: string(t), Line: int64(r.Line())}); err != nil {
			return err
		}
	}
}

// parquetFile is a Parquet object in AWS's flow-log schema.
type parquetFile string

func (p parquetFile) Name() string { return string(p) }

func (p parquetFile) read(rd *Reader, visit Visitor) (err error) {
	// parquet-go panics on some corrupt files (package sql found it by
	// fuzzing); such a file is unreadable like any other.
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("%s: not Parquet: corrupt file (%v)", p, v)
		}
	}()
	f, err := os.Open(string(p))
	if err != nil {
		return fmt.Errorf("%s: %w", p, unwrapPath(err))
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("%s: %w", p, unwrapPath(err))
	}
	// The footer's length is checked before parquet-go sizes a buffer by
	// it, so a corrupt one cannot make it allocate gigabytes.
	var tail [8]byte
	if _, err := f.ReadAt(tail[:], st.Size()-8); err != nil || st.Size() < 12 || string(tail[4:]) != "PAR1" ||
		int64(binary.LittleEndian.Uint32(tail[:4])) > st.Size()-12 {
		return fmt.Errorf("%s: not Parquet: no valid footer", p)
	}
	pf, err := parquet.OpenFile(f, st.Size(), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return fmt.Errorf("%s: not Parquet: %w", p, err)
	}
	format, err := record.ParquetFormat(pf.Schema())
	if err != nil {
		return fmt.Errorf("%s: not a flow-log schema: %w", p, err)
	}
	dec := record.NewDecoder()
	var (
		rec  record.Record
		line []byte
		row  int64
	)
	rows := make([]parquet.Row, 256)
	for _, rg := range pf.RowGroups() {
		rr := rg.Rows()
		for {
			n, rerr := rr.ReadRows(rows)
			for _, r := range rows[:n] {
				row++
				// The row as a text line: the record in the text form
				// evidence shows, decoded by the same code as text.
				line = line[:0]
				for i, v := range r {
					if i > 0 {
						line = append(line, ' ')
					}
					switch {
					case v.IsNull():
						line = append(line, '-')
					case v.Kind() == parquet.ByteArray:
						line = append(line, v.ByteArray()...)
					default:
						line = append(line, v.String()...)
					}
				}
				if err := dec.Decode(format, line, &rec); err != nil {
					rd.Stats.BadLines++
					rd.problem(&record.LineError{File: string(p) + " row", Line: int(row), Err: err})
					continue
				}
				if err := visit(format, &rec, Position{Source: string(p), Line: row}); err != nil {
					rr.Close()
					return err
				}
			}
			if rerr == io.EOF {
				break
			}
			if rerr != nil {
				rr.Close()
				return fmt.Errorf("%s: row %d: %w", p, row+1, rerr)
			}
		}
		rr.Close()
	}
	return nil
}

// Event is one log event as a log store hands it over.
type Event struct {
	Timestamp int64 // ms
	Stream    string
	Message   []byte // valid only during the callback
}

// Scanner is what the log store offers to read a group: every event of
// group with startMs <= timestamp <= endMs, in time order. The log service
// meets it (through a thin adapter in the CLI).
type Scanner interface {
	Scan(group string, startMs, endMs int64, fn func(Event) error) error
}

// Group returns the Input of a log group read through s, events with
// timestamps in [startMs, endMs].
func Group(s Scanner, group string, startMs, endMs int64) Input {
	return &groupInput{s, group, startMs, endMs}
}

type groupInput struct {
	s              Scanner
	group          string
	startMs, endMs int64
}

func (g *groupInput) Name() string { return "log group " + g.group }

func (g *groupInput) read(rd *Reader, visit Visitor) error {
	dec := record.NewDecoder()
	format := rd.format()
	var rec record.Record
	err := g.s.Scan(g.group, g.startMs, g.endMs, func(ev Event) error {
		if err := dec.Decode(format, ev.Message, &rec); err != nil {
			rd.Stats.BadLines++
			rd.problem(fmt.Errorf("%s/%s: event at %d: %w", g.group, ev.Stream, ev.Timestamp, err))
			return nil
		}
		return visit(format, &rec, Position{Source: g.group + "/" + ev.Stream, Timestamp: ev.Timestamp})
	})
	if err != nil {
		return fmt.Errorf("log group %s: %w", g.group, err)
	}
	return nil
}
