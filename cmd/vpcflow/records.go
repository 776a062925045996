package main

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/vpcflow/vpcflow/record"
)

func init() { register(newRecordsCmd) }

func newRecordsCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "records",
		Short: "Parse, write and describe flow-log records (text, NDJSON)",
	}
	c.AddCommand(newRecordsParseCmd(), newRecordsFormatCmd(), newRecordsFieldsCmd())
	return c
}

// parseFormatFlag reads a --format value: `${a} ${b}`, `a b`, or the name
// of a default format: `default` (VPC, version 2) or `tgw-default`.
func parseFormatFlag(s string) (*record.Format, error) {
	switch s {
	case "", "default":
		return record.DefaultFormat, nil
	case "tgw-default":
		return record.DefaultTGWFormat, nil
	}
	f, err := record.ParseFormat(s)
	if err != nil {
		return nil, usageErrorf("--format: %v", err)
	}
	return f, nil
}

// openInput opens a named input ("-" is standard input, shown as <stdin>),
// transparently decompressing gzip, which is recognised by its magic bytes
// rather than the file name.
func openInput(name string) (io.Reader, string, func() error, error) {
	var f *os.File
	display := name
	if name == "-" {
		f, display = os.Stdin, "<stdin>"
	} else {
		var err error
		if f, err = os.Open(name); err != nil {
			return nil, "", nil, err
		}
	}
	closer := func() error {
		if f == os.Stdin {
			return nil
		}
		return f.Close()
	}
	br := bufio.NewReaderSize(f, 64<<10)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			closer()
			return nil, "", nil, fmt.Errorf("%s: %v", display, err)
		}
		return zr, display, closer, nil
	}
	return br, display, closer, nil
}

func newRecordsParseCmd() *cobra.Command {
	var formatFlag string
	var skipBad bool
	c := &cobra.Command{
		Use:   "parse [--format FMT] [--skip-bad] FILE...",
		Short: "Read flow-log text files and print NDJSON, one object per record",
		Long: `Read flow-log records as AWS writes them (S3 text objects, plain or .gz,
CloudWatch exports, or '-' for standard input) and print NDJSON: one object per
record, keys are the AWS field names in format order, integers are JSON numbers,
'-' is null, everything else is a string.

A line made only of known field names is a header and sets the format of the
lines after it (a header may appear again, e.g. in concatenated files). Before
the first header, --format applies (written '${a} ${b}' or 'a b', or 'default'
or 'tgw-default' for the VPC and transit gateway default formats); with neither,
the default version 2 format.

A bad line is reported on stderr as FILE:LINE: and what was expected; every good
line is still printed. The exit status is 1 if any line was bad, unless
--skip-bad, which exits 0 and prints a summary.`,
		Example: `  vpcflow records parse flowlogs.log.gz
  zcat *.log.gz | vpcflow records parse --skip-bad - | jq 'select(.action=="REJECT")'
  vpcflow records parse --format '${interface-id} ${srcaddr} ${dstaddr}' cwl-export.txt`,
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := parseFormatFlag(formatFlag)
			if err != nil {
				return err
			}
			out := bufio.NewWriterSize(cmd.OutOrStdout(), 64<<10)
			stderr := cmd.ErrOrStderr()
			var records, bad int
			var rec record.Record
			var buf []byte
			failed := eachInput(args, stderr, func(in io.Reader, display string) error {
				rd := record.NewReader(in, display, format)
				defer func() { records, bad = records+rd.Records, bad+rd.Bad }()
				for {
					err := rd.Next(&rec)
					if err == io.EOF {
						return nil
					}
					var le *record.LineError
					if errors.As(err, &le) {
						fmt.Fprintln(stderr, le)
						continue
					}
					if err != nil {
						return fmt.Errorf("%s: line %d: %v", display, rd.Line()+1, err)
					}
					buf = record.AppendJSON(buf[:0], rd.Format(), &rec)
					buf = append(buf, '\n')
					out.Write(buf)
				}
			})
			if err := out.Flush(); err != nil {
				return err
			}
			return finishRecords(stderr, records, bad, skipBad, failed)
		},
	}
	c.Flags().StringVar(&formatFlag, "format", "", "format of lines before the first header: '${a} ${b}' or 'a b' (default: the version 2 default format)")
	c.Flags().BoolVar(&skipBad, "skip-bad", false, "exit 0 despite bad lines, and print a summary on stderr")
	return c
}

// eachInput opens every named input in turn (standard input when none is
// named) and calls fn with it. An input that cannot be opened or read is
// reported on stderr and makes the result true (failed); the others still run.
func eachInput(names []string, stderr io.Writer, fn func(in io.Reader, display string) error) (failed bool) {
	if len(names) == 0 {
		names = []string{"-"}
	}
	for _, name := range names {
		in, display, closeIn, err := openInput(name)
		if err == nil {
			err = fn(in, display)
			closeIn()
		}
		if err != nil {
			fmt.Fprintf(stderr, "vpcflow: %v\n", err)
			failed = true
		}
	}
	return failed
}

// finishRecords prints the summary and picks the exit status shared by
// `records parse` and `records format`.
func finishRecords(stderr io.Writer, records, bad int, skipBad, failed bool) error {
	if skipBad {
		fmt.Fprintf(stderr, "%d records, %d bad lines skipped\n", records, bad)
	} else if bad > 0 {
		fmt.Fprintf(stderr, "%d records, %d bad lines\n", records, bad)
	}
	if failed || (bad > 0 && !skipBad) {
		return &exitError{code: 1}
	}
	return nil
}

func newRecordsFormatCmd() *cobra.Command {
	var formatFlag string
	var header, skipBad bool
	c := &cobra.Command{
		Use:   "format [--format FMT] [--header] [FILE...]",
		Short: "Turn NDJSON records (as printed by 'records parse') into flow-log text lines",
		Long: `Read NDJSON objects (standard input, or files) and write one flow-log text line
per object in the given format (default: the version 2 default format). A key
missing from an object, or null, is written '-'; keys not in the format are
ignored. --header first writes the header line that S3 text objects carry.

For a file F whose first line is a header,
  vpcflow records parse F | vpcflow records format --format "$(head -1 F)" --header
reproduces F byte for byte when F is canonical (single spaces, LF endings).`,
		Example: `  vpcflow records parse in.log | jq -c 'select(.dstport==22)' | vpcflow records format --header`,
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := parseFormatFlag(formatFlag)
			if err != nil {
				return err
			}
			out := bufio.NewWriterSize(cmd.OutOrStdout(), 64<<10)
			stderr := cmd.ErrOrStderr()
			if header {
				out.WriteString(format.Header() + "\n")
			}
			dec := record.NewDecoder()
			var rec record.Record
			var buf []byte
			var records, bad int
			failed := eachInput(args, stderr, func(in io.Reader, display string) error {
				sc := bufio.NewScanner(in)
				sc.Buffer(make([]byte, 64<<10), record.MaxLineLen)
				line := 0
				for sc.Scan() {
					line++
					b := sc.Bytes()
					if len(b) == 0 {
						continue
					}
					if err := dec.DecodeJSON(format, b, &rec); err != nil {
						fmt.Fprintf(stderr, "%s:%d: %v\n", display, line, err)
						bad++
						continue
					}
					records++
					buf = record.AppendText(buf[:0], format, &rec)
					buf = append(buf, '\n')
					out.Write(buf)
				}
				if err := sc.Err(); err != nil {
					return fmt.Errorf("%s:%d: %v", display, line+1, err)
				}
				return nil
			})
			if err := out.Flush(); err != nil {
				return err
			}
			return finishRecords(stderr, records, bad, skipBad, failed)
		},
	}
	c.Flags().StringVar(&formatFlag, "format", "", "output format: '${a} ${b}' or 'a b' (default: the version 2 default format)")
	c.Flags().BoolVar(&header, "header", false, "write the header line first, as S3 text objects do")
	c.Flags().BoolVar(&skipBad, "skip-bad", false, "exit 0 despite bad lines, and print a summary on stderr")
	return c
}

func newRecordsFieldsCmd() *cobra.Command {
	var output string
	c := &cobra.Command{
		Use:   "fields [--output table|json]",
		Short: "List every flow-log field with its version, type and meaning",
		Long: `List every field vpcflow knows: the VPC fields of record versions 2 to 8, the
transit gateway fields, and vpcflow's extension fields (x-..., custom formats
only). TYPE is the Parquet/Athena type: int32 (int), int64 (bigint), or a
string kind (string, address, enum). Version 0 means not yet confirmed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			type row struct {
				Name    string   `json:"name"`
				Version int      `json:"version"`
				Type    string   `json:"type"`
				Scope   string   `json:"scope"`
				Values  []string `json:"values,omitempty"`
				Meaning string   `json:"meaning"`
			}
			var rows []row
			for _, f := range record.All() {
				in := f.Info()
				rows = append(rows, row{in.Name, in.Version, in.Kind.String(), scopeName(in.Scope), in.Values, in.Meaning})
			}
			switch output {
			case "json":
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(rows)
			case "table", "":
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "FIELD\tVERSION\tTYPE\tSCOPE\tMEANING")
				for _, r := range rows {
					v := strconv.Itoa(r.Version)
					if r.Version == 0 {
						v = "?"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Name, v, r.Type, r.Scope, r.Meaning)
				}
				return tw.Flush()
			}
			return usageErrorf("--output: want table or json, got %q", output)
		},
	}
	c.Flags().StringVarP(&output, "output", "o", "table", "output: table or json")
	return c
}

func scopeName(s record.Scope) string {
	switch s {
	case record.ScopeVPC:
		return "vpc"
	case record.ScopeTGW:
		return "tgw"
	case record.ScopeBoth:
		return "vpc,tgw"
	}
	return "extension"
}
