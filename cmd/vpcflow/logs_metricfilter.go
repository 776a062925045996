package main

// `vpcflow logs metric-filter ...`: metric filters over the log store. This
// file holds the parent command and `test` (TestMetricFilter, no store
// needed); put|list|delete register themselves with
// registerMetricFilterSubcommand from their own files.

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"github.com/vpcflow/vpcflow/filterpattern"
)

func init() { registerLogs(func() *cobra.Command { return newMetricFilterCmd() }) }

// metricFilterSubcommands holds the constructors of the commands under
// `vpcflow logs metric-filter` other than test.
var metricFilterSubcommands []func() *cobra.Command

// registerMetricFilterSubcommand adds a command under `vpcflow logs
// metric-filter`; call it from init.
func registerMetricFilterSubcommand(f func() *cobra.Command) {
	metricFilterSubcommands = append(metricFilterSubcommands, f)
}

func newMetricFilterCmd(extra ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{
		Use:   "metric-filter",
		Short: "Metric filters: turn matching log events into metric datapoints",
		Long: `Metric filters count or measure log events that match a filter pattern, as
CloudWatch Logs metric filters do; alarms watch the resulting metrics.

Use 'vpcflow logs metric-filter test' to try a pattern on sample messages
before putting it on a log group.`,
	}
	c.AddCommand(newMetricFilterTestCmd())
	for _, f := range metricFilterSubcommands {
		c.AddCommand(f())
	}
	c.AddCommand(extra...)
	return c
}

func newMetricFilterTestCmd() *cobra.Command {
	var pattern, messagesJSON string
	c := &cobra.Command{
		Use:   "test --pattern P [FILE | --messages-json FILE]",
		Short: "Test a filter pattern on messages, like aws logs test-metric-filter",
		Long: `Test a filter pattern on sample messages and print the matches as
'aws logs test-metric-filter' does: each matching message with its 1-based
eventNumber and, for space-delimited patterns, the extractedValues ($name for
named fields, $N for the N-th field of an empty slot or of "...").

Messages come from FILE, one per line ('-' or no FILE: standard input; gzip is
recognised), or with --messages-json from a JSON array of strings, which can
hold multi-line messages. eventNumber is the line or element number, which
is AWS's numbering when every entry is a message. Empty lines are not
messages (AWS rejects empty messages): they are skipped and counted on
stderr. Unlike the AWS API this command accepts more than 50 messages.

An invalid pattern exits with status 2 (like every usage error) and AWS's
InvalidParameterException message, followed by the column and the reason. JSON array elements that are
not non-empty strings are reported with their line and column and skipped;
the other messages are still tested and the command then exits with status 1.`,
		Example: `  # Which flow-log records are rejected SSH attempts?
  vpcflow logs metric-filter test --pattern '[version, account, eni, source, destination, srcport, destport="22", protocol="6", packets, bytes, windowstart, windowend, action="REJECT", flowlogstatus]' flows.log

  # Terms, from standard input
  printf '[ERROR] 400 BAD REQUEST\n[INFO] 200 OK\n' | vpcflow logs metric-filter test --pattern ERROR

  # JSON events given as a JSON array of strings
  vpcflow logs metric-filter test --pattern '{ $.latency > 100 }' --messages-json events.json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("pattern") {
				return usageErrorf("--pattern is required (an empty pattern matches every message)")
			}
			if messagesJSON != "" && len(args) == 1 {
				return usageErrorf("give either FILE or --messages-json, not both")
			}
			p, err := filterpattern.Compile(pattern)
			if err != nil {
				// Exit 2, as for an invalid pattern in every other command.
				return usageErrorf("%s", metricFilterPatternError(pattern, err))
			}
			name, asJSON := "-", false
			if len(args) == 1 {
				name = args[0]
			}
			if messagesJSON != "" {
				name, asJSON = messagesJSON, true
			}
			in, display, closeIn, err := openInput(name)
			if err != nil {
				return &exitError{code: 1, msg: err.Error()}
			}
			defer closeIn()
			var msgs []metricFilterMessage
			var skipped int
			if asJSON {
				msgs, skipped, err = readMessagesJSON(in, display, cmd.ErrOrStderr())
			} else {
				msgs, skipped, err = readMessageLines(in)
				if skipped > 0 {
					fmt.Fprintf(cmd.ErrOrStderr(), "vpcflow: %s: skipped %d empty line(s)\n", display, skipped)
					skipped = 0 // empty lines are not an error
				}
			}
			if err != nil {
				return &exitError{code: 1, msg: err.Error()}
			}
			w := bufio.NewWriter(cmd.OutOrStdout())
			writeTestMetricFilter(w, p, msgs)
			if err := w.Flush(); err != nil {
				return &exitError{code: 1, msg: err.Error()}
			}
			if skipped > 0 {
				return &exitError{code: 1, msg: fmt.Sprintf("%s: skipped %d array element(s) that are not non-empty strings", display, skipped)}
			}
			return nil
		},
	}
	c.Flags().StringVar(&pattern, "pattern", "", "filter pattern to test (required; quote it for the shell)")
	c.Flags().StringVar(&messagesJSON, "messages-json", "", "read the messages from a JSON array of strings in this file ('-' = stdin)")
	return c
}

// metricFilterPatternError renders a pattern error the way the AWS CLI
// reports service errors, then shows the pattern with a caret at the column.
func metricFilterPatternError(pattern string, err error) string {
	var pe *filterpattern.Error
	if !errors.As(err, &pe) {
		return err.Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "An error occurred (%s) when calling the TestMetricFilter operation: %s\n", filterpattern.Code, pe.Msg)
	fmt.Fprintf(&b, "  pattern: %s\n", strings.NewReplacer("\n", " ", "\t", " ", "\r", " ").Replace(pattern))
	// The caret counts characters, not bytes, so it lines up on the terminal.
	col := utf8.RuneCountInString(pattern[:min(pe.Pos-1, len(pattern))])
	fmt.Fprintf(&b, "           %s^ column %d: %s", strings.Repeat(" ", col), pe.Pos, pe.Detail)
	return b.String()
}

// metricFilterMessage is one message to test with its eventNumber: its
// line or array element number, so skipped entries leave a gap rather than
// shifting the numbers away from the input.
type metricFilterMessage struct {
	n   int
	msg string
}

// readMessageLines reads one message per line (LF or CRLF); empty lines are
// skipped and counted.
func readMessageLines(in io.Reader) (msgs []metricFilterMessage, empty int, err error) {
	br := bufio.NewReaderSize(in, 64<<10)
	for n := 1; ; n++ {
		line, err := br.ReadString('\n')
		if line != "" {
			line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
			if line == "" {
				empty++
			} else {
				msgs = append(msgs, metricFilterMessage{n, line})
			}
		}
		if err == io.EOF {
			return msgs, empty, nil
		}
		if err != nil {
			return msgs, empty, err
		}
	}
}

// readMessagesJSON reads a JSON array of strings. Elements that are not
// strings (or are empty) are reported at their line:column and skipped; a
// syntax error ends the read.
func readMessagesJSON(in io.Reader, display string, errw io.Writer) (msgs []metricFilterMessage, skipped int, err error) {
	data, err := io.ReadAll(in)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %v", display, err)
	}
	at := func(off int64) string {
		line := 1 + strings.Count(string(data[:off]), "\n")
		col := int(off) - strings.LastIndexByte(string(data[:off]), '\n')
		return fmt.Sprintf("%s:%d:%d", display, line, col)
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	syntax := func(err error) error {
		// The streaming decoder's offsets are not absolute; a whole-buffer
		// parse gives the offset just past the offending byte.
		var v any
		var se *json.SyntaxError
		if errors.As(json.Unmarshal(data, &v), &se) {
			return fmt.Errorf("%s: invalid JSON: %v", at(max(se.Offset-1, 0)), se)
		}
		return fmt.Errorf("%s: invalid JSON: %v", display, err)
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, 0, syntax(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, 0, fmt.Errorf("%s: want a JSON array of strings, got %v", at(0), tok)
	}
	for n := 1; dec.More(); n++ {
		start := dec.InputOffset()
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, skipped, syntax(err)
		}
		// InputOffset before Decode points at the separator; find the value.
		off := start
		for off < int64(len(data)) && strings.IndexByte(" \t\r\n,", data[off]) >= 0 {
			off++
		}
		var s string
		if raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
			fmt.Fprintf(errw, "vpcflow: %s: element %d is %s, want a string; skipped\n", at(off), n, jsonKind(raw))
			skipped++
			continue
		}
		if s == "" {
			fmt.Fprintf(errw, "vpcflow: %s: element %d is an empty string (AWS rejects empty messages); skipped\n", at(off), n)
			skipped++
			continue
		}
		msgs = append(msgs, metricFilterMessage{n, s})
	}
	if _, err := dec.Token(); err != nil {
		return nil, skipped, syntax(err)
	}
	if rest := strings.TrimSpace(string(data[dec.InputOffset():])); rest != "" {
		off := int64(len(data) - len(strings.TrimLeft(string(data[dec.InputOffset():]), " \t\r\n")))
		return nil, skipped, fmt.Errorf("%s: unexpected data after the JSON array", at(off))
	}
	return msgs, skipped, nil
}

func jsonKind(raw json.RawMessage) string {
	switch s := strings.TrimSpace(string(raw)); {
	case s == "null":
		return "null"
	case s == "true" || s == "false":
		return "a boolean"
	case strings.HasPrefix(s, "{"):
		return "an object"
	case strings.HasPrefix(s, "["):
		return "an array"
	}
	return "a number"
}

// writeTestMetricFilter prints the TestMetricFilter response exactly as the
// AWS CLI v2 prints it: Python's json.dumps(indent=4, ensure_ascii=False),
// members in the API's order, extracted values in field order.
func writeTestMetricFilter(w *bufio.Writer, p *filterpattern.Pattern, msgs []metricFilterMessage) {
	w.WriteString("{\n    \"matches\": [")
	first := true
	for _, m := range msgs {
		ok, vals := p.ExtractValues(m.msg)
		if !ok {
			continue
		}
		if !first {
			w.WriteByte(',')
		}
		first = false
		w.WriteString("\n        {\n            \"eventNumber\": ")
		w.WriteString(strconv.Itoa(m.n))
		w.WriteString(",\n            \"eventMessage\": ")
		writePythonJSONString(w, m.msg)
		w.WriteString(",\n            \"extractedValues\": {")
		for j, v := range vals {
			if j > 0 {
				w.WriteByte(',')
			}
			w.WriteString("\n                ")
			writePythonJSONString(w, v.Key)
			w.WriteString(": ")
			writePythonJSONString(w, v.Text)
		}
		if len(vals) > 0 {
			w.WriteString("\n            ")
		}
		w.WriteString("}\n        }")
	}
	if !first {
		w.WriteString("\n    ")
	}
	w.WriteString("]\n}\n")
}

// writePythonJSONString quotes s as Python's json module does with
// ensure_ascii=False: only '"', '\\' and control characters are escaped.
// Invalid UTF-8 becomes U+FFFD, as when the AWS CLI decodes the response.
func writePythonJSONString(w *bufio.Writer, s string) {
	w.WriteByte('"')
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		switch r {
		case '"':
			w.WriteString(`\"`)
		case '\\':
			w.WriteString(`\\`)
		case '\n':
			w.WriteString(`\n`)
		case '\r':
			w.WriteString(`\r`)
		case '\t':
			w.WriteString(`\t`)
		case '\b':
			w.WriteString(`\b`)
		case '\f':
			w.WriteString(`\f`)
		default:
			if r < 0x20 {
				fmt.Fprintf(w, `\u%04x`, r)
			} else {
				w.WriteRune(r)
			}
		}
	}
	w.WriteByte('"')
}
