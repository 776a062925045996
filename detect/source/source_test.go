package source

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/vpcflow/vpcflow/record"
)

// collect reads inputs and returns "source:line record" per record, and
// the problems.
func collect(t *testing.T, rd *Reader, ins []Input) ([]string, []string) {
	t.Helper()
	var got, problems []string
	rd.Problem = func(err error) { problems = append(problems, err.Error()) }
	for _, in := range ins {
		err := rd.Read(in, func(f *record.Format, r *record.Record, pos Position) error {
			got = append(got, fmt.Sprintf("%s:%d:%d %s", filepath.Base(pos.Source), pos.Line, pos.Timestamp, record.Text(f, r)))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return got, problems
}

func writeGzip(t *testing.T, path, text string) {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(text))
	zw.Close()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

const header = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n"

func TestTreeInSlotOrder(t *testing.T) {
	dir := t.TempDir()
	day := filepath.Join(dir, "AWSLogs/111122223333/vpcflowlogs/us-east-1/2026/01/01")
	// Two flow logs; lexical order would put fl-b's 00:05 object after
	// fl-a's 00:10 one.
	writeGzip(t, filepath.Join(day, "111122223333_vpcflowlogs_us-east-1_fl-a_20260101T0010Z_aa.log.gz"),
		header+"2 111122223333 eni-1 10.0.0.1 10.0.0.2 40000 443 6 5 500 1767226200 1767226260 ACCEPT OK\n")
	writeGzip(t, filepath.Join(day, "111122223333_vpcflowlogs_us-east-1_fl-b_20260101T0005Z_bb.log.gz"),
		header+"2 111122223333 eni-2 10.0.0.3 10.0.0.4 40000 22 6 5 500 1767225900 1767225960 REJECT OK\n"+
			"2 111122223333 eni-2 10.0.0.3 bad 40000 22 6 5 500 1767225900 1767225960 REJECT OK\n")
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not an object"), 0o644)
	ins, err := Expand([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	rd := &Reader{}
	got, problems := collect(t, rd, ins)
	want := []string{
		"111122223333_vpcflowlogs_us-east-1_fl-b_20260101T0005Z_bb.log.gz:2:0 2 111122223333 eni-2 10.0.0.3 10.0.0.4 40000 22 6 5 500 1767225900 1767225960 REJECT OK",
		"111122223333_vpcflowlogs_us-east-1_fl-a_20260101T0010Z_aa.log.gz:2:0 2 111122223333 eni-1 10.0.0.1 10.0.0.2 40000 443 6 5 500 1767226200 1767226260 ACCEPT OK",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if len(problems) != 1 || !strings.Contains(problems[0], `_bb.log.gz:3: field "dstaddr": want IPv4 or IPv6 address or -, got "bad"`) {
		t.Errorf("problems %q", problems)
	}
	if rd.Stats != (Stats{Inputs: 2, Records: 2, BadLines: 1}) {
		t.Errorf("stats %+v", rd.Stats)
	}
}

func TestExpandErrors(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ path, want string }{
		{filepath.Join(dir, "missing"), filepath.Join(dir, "missing") + ": no such file or directory"},
		{dir, dir + ": no flow-log objects (.log.gz or .log.parquet) under this directory"},
	} {
		if _, err := Expand([]string{c.path}); err == nil || err.Error() != c.want {
			t.Errorf("got %v, want %s", err, c.want)
		}
	}
}

// TestAWSSamples: AWS's own example files read, their status records and
// all (the NAT gateway sample has no start: it still reads).
func TestAWSSamples(t *testing.T) {
	files, _ := filepath.Glob("../../record/testdata/aws/*.log")
	if len(files) != 5 {
		t.Fatalf("%d sample files", len(files))
	}
	ins, err := Expand(files)
	if err != nil {
		t.Fatal(err)
	}
	rd := &Reader{}
	got, problems := collect(t, rd, ins)
	if len(problems) != 0 || rd.Stats.Inputs != 5 || rd.Stats.Records != len(got) || len(got) < 20 {
		t.Errorf("%d records, problems %q, stats %+v", len(got), problems, rd.Stats)
	}
	if got[0] != "records-default-v2.log:1:0 2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK" {
		t.Errorf("first %q", got[0])
	}
}

func TestParquetObject(t *testing.T) {
	f := record.MustFormat("${version} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${start} ${action} ${log-status}")
	dec := record.NewDecoder()
	var b bytes.Buffer
	w := parquet.NewWriter(&b, record.ParquetSchema(f))
	var row parquet.Row
	var buf []byte
	for _, line := range []string{
		"5 eni-1 10.0.0.1 198.51.100.7 40000 22 6 3 1767225600 REJECT OK",
		"5 eni-1 - - - - - - 1767225660 - NODATA",
	} {
		var r record.Record
		if err := dec.Decode(f, []byte(line), &r); err != nil {
			t.Fatal(err)
		}
		row = record.AppendParquetRow(row[:0], &buf, f, &r)
		if _, err := w.WriteRows([]parquet.Row{row}); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	path := filepath.Join(t.TempDir(), "x_20260101T0000Z_ab.log.parquet")
	os.WriteFile(path, b.Bytes(), 0o644)
	bad := filepath.Join(t.TempDir(), "y_20260101T0000Z_cd.log.parquet")
	os.WriteFile(bad, []byte("PAR1 not really"), 0o644)
	rd := &Reader{}
	got, problems := collect(t, rd, []Input{fileInput(path), fileInput(bad)})
	want := []string{
		"x_20260101T0000Z_ab.log.parquet:1:0 5 eni-1 10.0.0.1 198.51.100.7 40000 22 6 3 1767225600 REJECT OK",
		"x_20260101T0000Z_ab.log.parquet:2:0 5 eni-1 - - - - - - 1767225660 - NODATA",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if len(problems) != 1 || problems[0] != bad+": not Parquet: no valid footer" || rd.Stats.FailedInputs != 1 {
		t.Errorf("problems %q, stats %+v", problems, rd.Stats)
	}
}

type fakeStore []Event

func (s fakeStore) Scan(group string, startMs, endMs int64, fn func(Event) error) error {
	if group != "g" {
		return errors.New("The specified log group does not exist.")
	}
	for _, ev := range s {
		if ev.Timestamp >= startMs && ev.Timestamp <= endMs {
			if err := fn(ev); err != nil {
				return err
			}
		}
	}
	return nil
}

func TestGroup(t *testing.T) {
	s := fakeStore{
		{1767225600000, "eni-1-all", []byte("2 111122223333 eni-1 10.0.0.1 10.0.0.2 40000 443 6 5 500 1767225600 1767225660 ACCEPT OK")},
		{1767225660000, "eni-1-all", []byte("not a record")},
		{1767225720000, "eni-1-all", []byte("2 111122223333 eni-1 10.0.0.1 10.0.0.2 40001 443 6 5 500 1767225720 1767225780 ACCEPT OK")},
	}
	rd := &Reader{}
	got, problems := collect(t, rd, []Input{Group(s, "g", 0, 1767225700000), Group(s, "nope", 0, 1)})
	want := []string{"eni-1-all:0:1767225600000 2 111122223333 eni-1 10.0.0.1 10.0.0.2 40000 443 6 5 500 1767225600 1767225660 ACCEPT OK"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q", got)
	}
	if len(problems) != 2 || !strings.HasPrefix(problems[0], "g/eni-1-all: event at 1767225660000: want 14 fields, got 3") ||
		problems[1] != "log group nope: The specified log group does not exist." {
		t.Errorf("problems %q", problems)
	}
}
