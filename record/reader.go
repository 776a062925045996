package record

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// MaxLineLen bounds one line; longer lines are reported and skipped rather
// than buffered without limit.
const MaxLineLen = 1 << 20

// LineError is a problem with one line of a named input.
type LineError struct {
	File string
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// Reader reads flow-log records from text: plain files as AWS writes them to
// S3 (a header line first), CloudWatch exports (no header), and concatenations
// of both. A line made only of known field names is a header and sets the
// format of the lines after it. Blank lines are skipped.
//
// Next returns a *LineError for a bad line; reading may continue after it, so
// one bad line never hides the good ones around it.
type Reader struct {
	br     *bufio.Reader
	name   string
	format *Format
	dec    *Decoder
	long   []byte
	lineNo int
	// badHeader is set after a header with unknown fields: lines have no
	// usable format until the next good header.
	badHeader int

	Records int // good records returned
	Bad     int // bad lines reported
	Headers int // header lines seen
}

// NewReader reads from r, naming it name in errors ("<stdin>" for standard
// input). format applies until the first header line; nil means the default
// format.
func NewReader(r io.Reader, name string, format *Format) *Reader {
	if format == nil {
		format = DefaultFormat
	}
	return &Reader{br: bufio.NewReaderSize(r, 64<<10), name: name, format: format, dec: NewDecoder()}
}

// Format returns the format in force for the next line.
func (rd *Reader) Format() *Format { return rd.format }

// Line returns the number of the last line read (1-based).
func (rd *Reader) Line() int { return rd.lineNo }

// Next reads the next record into rec. It returns io.EOF at the end of the
// input, a *LineError for a bad line (call Next again to go on), or another
// error when the input itself fails.
func (rd *Reader) Next(rec *Record) error {
	for {
		line, err := rd.readLine()
		if err != nil {
			return err
		}
		if line == nil {
			continue // over-long line already reported
		}
		line = trimEOL(line)
		if isBlank(line) {
			continue
		}
		if looksLikeHeader(line) {
			if herr := rd.header(line); herr != nil {
				rd.Bad++
				return herr
			}
			continue
		}
		if rd.badHeader > 0 {
			rd.Bad++
			return rd.errorf("no usable format: the header at line %d names unknown fields", rd.badHeader)
		}
		if derr := rd.dec.Decode(rd.format, line, rec); derr != nil {
			rd.Bad++
			if _, ok := derr.(*CountError); ok && rd.Headers == 0 && rd.format == DefaultFormat {
				derr = fmt.Errorf("%w (no header line seen, so the default format applies)", derr)
			}
			return &LineError{File: rd.name, Line: rd.lineNo, Err: derr}
		}
		rd.Records++
		return nil
	}
}

func (rd *Reader) errorf(format string, args ...any) error {
	return &LineError{File: rd.name, Line: rd.lineNo, Err: fmt.Errorf(format, args...)}
}

// readLine returns the next line with its ending, or nil after reporting an
// over-long line. The slice is valid until the next call.
var errLong = errors.New("line longer than 1 MiB")

func (rd *Reader) readLine() ([]byte, error) {
	line, err := rd.br.ReadSlice('\n')
	if err == nil || (err == io.EOF && len(line) > 0) {
		rd.lineNo++
		return line, nil
	}
	if err != bufio.ErrBufferFull {
		return nil, err
	}
	rd.long = append(rd.long[:0], line...)
	for {
		line, err = rd.br.ReadSlice('\n')
		if len(rd.long) <= MaxLineLen {
			rd.long = append(rd.long, line...)
		}
		if err != bufio.ErrBufferFull {
			break
		}
	}
	if err != nil && err != io.EOF {
		return nil, err
	}
	rd.lineNo++
	if len(rd.long) > MaxLineLen {
		rd.Bad++
		return nil, &LineError{File: rd.name, Line: rd.lineNo, Err: errLong}
	}
	return rd.long, nil
}

func isBlank(line []byte) bool {
	for _, c := range line {
		if !isSep(c) {
			return false
		}
	}
	return true
}

// looksLikeHeader reports whether every token is shaped like a field name
// (lowercase letter first, then lowercase letters, digits and hyphens) and at
// least one token is a known field. Data values never qualify: addresses have
// dots or colons, enums are upper case, and IDs are not field names.
func looksLikeHeader(line []byte) bool {
	known := false
	for i := 0; i < len(line); {
		for i < len(line) && isSep(line[i]) {
			i++
		}
		j := i
		for j < len(line) && !isSep(line[j]) {
			c := line[j]
			if !(c >= 'a' && c <= 'z' || c == '-' || (j > i && c >= '0' && c <= '9')) {
				return false
			}
			j++
		}
		if j > i {
			if _, ok := lookupBytes(line[i:j]); ok {
				known = true
			}
		}
		i = j
	}
	return known
}

func (rd *Reader) header(line []byte) error {
	rd.Headers++
	f, err := ParseFormat(string(line))
	if err != nil {
		rd.badHeader = rd.lineNo
		var unknown []string
		for _, tok := range strings.Fields(string(line)) {
			if _, ok := Lookup(tok); !ok {
				unknown = append(unknown, fmt.Sprintf("%q%s", tok, hint(tok)))
			}
		}
		return rd.errorf("header names unknown field(s) %s", strings.Join(unknown, ", "))
	}
	rd.badHeader = 0
	rd.format = f
	return nil
}
