package main

// The log-store commands of `vpcflow logs`: put, groups, streams, get,
// filter and tail. They are thin: parsing and printing here, everything else
// in package logsvc, the only door into a data dir.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/vpcflow/vpcflow/filterpattern"
	"github.com/vpcflow/vpcflow/logsvc"
)

func init() {
	registerLogs(newLogsPutCmd)
	registerLogs(newLogsGroupsCmd)
	registerLogs(newLogsStreamsCmd)
	registerLogs(newLogsGetCmd)
	registerLogs(newLogsFilterCmd)
	registerLogs(newLogsTailCmd)
}

// putBatch is how many events `logs put` hands the store per transaction.
const putBatch = 10_000

func newLogsPutCmd() *cobra.Command {
	var dataDir, group, stream, output string
	c := &cobra.Command{
		Use:   "put --group G FILE|-",
		Short: "Import NDJSON log events into a log group",
		Long: `Import log events from an NDJSON file (or - for standard input), one object per
line: {"timestamp": MS, "message": "...", "logStream": "..."}. Other keys are
ignored; a line without logStream goes to --stream. The group is created
first if it does not exist, even when no event is then stored (as
aws logs create-log-group before put-log-events; a new group never
expires); streams are created as needed.

This is a local import, not the PutLogEvents API: events keep their own
timestamps, may come in any order and span any time, and are not subject to
the API's 14-day/2-hour age limits. Bad lines are reported on stderr as
FILE:LINE and skipped; the good lines are still stored and the command then
exits 1. Every acknowledged batch is on disk (fsync'd).

Stored events run the group's metric filters, and alarms are evaluated on
the events' times (see 'vpcflow logs metric-filter put' and
'vpcflow logs alarm put'); their datapoints and state changes are on disk
before the command reports success.`,
		Example: `  vpcflow logs put --group /vpc/flow-logs events.ndjson
  zcat events.ndjson.gz | vpcflow logs put --group app --stream web-1 -`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if group == "" {
				return usageErrorf("--group is required")
			}
			if err := logsvc.ValidateGroupName(group); err != nil {
				return usageErrorf("--group %q: %v", group, err)
			}
			if stream != "" {
				if err := logsvc.ValidateStreamName(stream); err != nil {
					return usageErrorf("--stream %q: %v", stream, err)
				}
			}
			if err := checkLogsOutput(output); err != nil {
				return err
			}
			name, in := args[0], io.Reader(nil)
			if name == "-" {
				name, in = "<stdin>", cmd.InOrStdin()
			} else {
				f, err := os.Open(name)
				if err != nil {
					return &exitError{code: 1, msg: err.Error()}
				}
				defer f.Close()
				in = f
			}
			// Through the log service, so the group's metric filters and
			// the alarms see the events.
			s, err := openLogs(cmd, dataDir, true)
			if err != nil {
				return err
			}
			defer s.Close()
			// The group first: "stored 0 events in G" names a group that
			// exists, whatever the input holds.
			if err := s.CreateLogGroup(group, logsvc.GroupOptions{}); err != nil && !errors.Is(err, logsvc.ErrGroupExists) {
				return &exitError{code: 1, msg: fmt.Sprintf("create log group %s: %v", group, err)}
			}
			sum, err := logsPut(s, group, stream, name, in, cmd.ErrOrStderr())
			if err != nil {
				msg := err.Error()
				if sum.StoredEvents > 0 {
					// Earlier batches are stored: say how much of the import is in.
					msg += fmt.Sprintf(" (%d events of this import were stored in %s before the failure)", sum.StoredEvents, group)
				}
				return &exitError{code: 1, msg: msg}
			}
			if output == "json" {
				writeLogsJSON(cmd.OutOrStdout(), sum)
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "stored %d events in %s (%d lines read, %d bad lines skipped",
					sum.StoredEvents, group, sum.Lines, sum.BadLines)
				if sum.ReplacedMessages > 0 {
					fmt.Fprintf(cmd.OutOrStdout(), "; %d message(s) had invalid UTF-8, stored with U+FFFD in its place as CloudWatch Logs does, first at %s:%d",
						sum.ReplacedMessages, name, sum.firstReplaced)
				}
				fmt.Fprintln(cmd.OutOrStdout(), ")")
			}
			if sum.BadLines > 0 {
				return &exitError{code: 1, msg: fmt.Sprintf("%d bad lines skipped", sum.BadLines)}
			}
			return nil
		},
	}
	addLogsDataDirFlag(c, &dataDir)
	addLogsOutputFlag(c, &output)
	c.Flags().StringVar(&group, "group", "", "log group to import into (required)")
	c.Flags().StringVar(&stream, "stream", "", "log stream for lines without logStream")
	return c
}

// logsPutSummary is what `logs put` reports.
type logsPutSummary struct {
	Lines        int `json:"lines"`
	StoredEvents int `json:"storedEvents"`
	BadLines     int `json:"badLines"`
	// ReplacedMessages counts the messages read with invalid UTF-8, whose
	// bad bytes were replaced with U+FFFD (see logsvc.DecodeMessage).
	ReplacedMessages int `json:"replacedMessages"`
	firstReplaced    int // line of the first
}

// logsPut reads NDJSON events and ingests them in batches; bad lines go to
// errw as FILE:LINE messages and are counted.
func logsPut(s *logsvc.Service, group, defStream, name string, in io.Reader, errw io.Writer) (logsPutSummary, error) {
	var sum logsPutSummary
	r := bufio.NewReaderSize(in, 1<<20)
	batch := make([]logsvc.InputEvent, 0, putBatch)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		res, err := s.Ingest(group, batch)
		sum.StoredEvents += res.Stored // a failed batch may have stored some days
		if err != nil {
			return err
		}
		batch = batch[:0]
		return nil
	}
	for line := 1; ; line++ {
		b, rerr := r.ReadBytes('\n')
		if len(b) > 0 {
			sum.Lines++
			b = bytes.TrimRight(b, "\r\n")
			if len(bytes.TrimSpace(b)) > 0 {
				ev, replaced, err := parsePutEvent(b, defStream)
				if err == nil && replaced {
					if sum.ReplacedMessages == 0 {
						sum.firstReplaced = line
					}
					sum.ReplacedMessages++
				}
				if err != nil {
					sum.BadLines++
					fmt.Fprintf(errw, "%s:%d: %v\n", name, line, err)
				} else {
					batch = append(batch, ev)
					if len(batch) == putBatch {
						if err := flush(); err != nil {
							return sum, err
						}
					}
				}
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			flush()
			return sum, fmt.Errorf("%s:%d: %w", name, line, rerr)
		}
	}
	return sum, flush()
}

// parsePutLine decodes one NDJSON event. Errors name the field, and for
// JSON syntax errors the column.
func parsePutLine(b []byte, defStream string) (logsvc.InputEvent, error) {
	ev, _, err := parsePutEvent(b, defStream)
	return ev, err
}

// parsePutEvent is parsePutLine that also reports whether the message had
// invalid UTF-8 (replaced with U+FFFD, as CloudWatch Logs stores it).
func parsePutEvent(b []byte, defStream string) (logsvc.InputEvent, bool, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return logsvc.InputEvent{}, false, fmt.Errorf("column %d: invalid JSON: %v", se.Offset, se)
		}
		return logsvc.InputEvent{}, false, fmt.Errorf("want a JSON object: %v", err)
	}
	var ev logsvc.InputEvent
	raw, ok := obj["timestamp"]
	if !ok {
		return ev, false, fmt.Errorf("field timestamp: missing")
	}
	ts, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		return ev, false, fmt.Errorf("field timestamp: want integer epoch milliseconds, got %s", truncate(raw))
	}
	raw, ok = obj["message"]
	if !ok {
		return ev, false, fmt.Errorf("field message: missing")
	}
	msg, replaced, err := logsvc.DecodeMessage(raw)
	if err != nil {
		return ev, false, fmt.Errorf("field message: want a string, got %s", truncate(raw))
	}
	if err := logsvc.ValidateEvent(ts, []byte(msg)); err != nil {
		return ev, false, fmt.Errorf("field %s: %v", map[bool]string{true: "timestamp", false: "message"}[ts < 0], err)
	}
	stream := defStream
	if raw, ok := obj["logStream"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &stream); err != nil {
			return ev, false, fmt.Errorf("field logStream: want a string, got %s", truncate(raw))
		}
	}
	if stream == "" {
		return ev, false, fmt.Errorf("field logStream: missing (or give --stream)")
	}
	if err := logsvc.ValidateStreamName(stream); err != nil {
		return ev, false, fmt.Errorf("field logStream: %v", err)
	}
	return logsvc.InputEvent{Stream: stream, Timestamp: ts, Message: []byte(msg)}, replaced, nil
}

func truncate(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "..."
	}
	return string(b)
}

func newLogsGroupsCmd() *cobra.Command {
	var dataDir, output, prefix, pattern string
	c := &cobra.Command{
		Use:   "groups",
		Short: "List log groups",
		Long: `List the log groups of the store, sorted by name, like
aws logs describe-log-groups (--output json prints its {"logGroups": [...]} shape).`,
		Example: `  vpcflow logs groups
  vpcflow logs groups --prefix /vpc/ --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkLogsOutput(output); err != nil {
				return err
			}
			// The service fills in metricFilterCount.
			s, err := openLogs(cmd, dataDir, false)
			if err != nil {
				return err
			}
			defer s.Close()
			all, err := allPages(func(tok string) ([]logsvc.LogGroup, string, error) {
				return s.DescribeLogGroups(logsvc.DescribeGroupsInput{Prefix: prefix, Pattern: pattern, NextToken: tok})
			})
			if err != nil {
				return logsAPIError(err)
			}
			if output == "json" {
				return writeLogsJSON(cmd.OutOrStdout(), map[string]any{"logGroups": all})
			}
			t := newLogsTable(cmd.OutOrStdout(), "NAME", "RETENTION", "STORED BYTES", "CREATED")
			for _, g := range all {
				ret := "never expire"
				if g.RetentionInDays > 0 {
					ret = strconv.Itoa(g.RetentionInDays) + " days"
				}
				t.row(g.LogGroupName, ret, strconv.FormatInt(g.StoredBytes, 10), formatLogsTime(g.CreationTime))
			}
			return t.flush()
		},
	}
	addLogsDataDirFlag(c, &dataDir)
	addLogsOutputFlag(c, &output)
	c.Flags().StringVar(&prefix, "prefix", "", "only groups whose name starts with this")
	c.Flags().StringVar(&pattern, "pattern", "", "only groups whose name contains this (case-sensitive)")
	return c
}

func newLogsStreamsCmd() *cobra.Command {
	var dataDir, output, group, prefix, orderBy string
	var desc bool
	c := &cobra.Command{
		Use:   "streams --group G",
		Short: "List the log streams of a group",
		Long: `List the log streams of a group, like aws logs describe-log-streams
(--output json prints its {"logStreams": [...]} shape). Flow logs have one
stream per network interface, named ENI-all.`,
		Example: `  vpcflow logs streams --group /vpc/flow-logs
  vpcflow logs streams --group /vpc/flow-logs --order-by LastEventTime --descending`,
		Args: groupFlagArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if group == "" {
				return usageErrorf("--group is required")
			}
			if err := checkLogsOutput(output); err != nil {
				return err
			}
			s, err := openLogs(cmd, dataDir, false)
			if err != nil {
				return err
			}
			defer s.Close()
			all, err := allPages(func(tok string) ([]logsvc.LogStream, string, error) {
				return s.DescribeLogStreams(logsvc.DescribeStreamsInput{Group: group, Prefix: prefix,
					OrderBy: orderBy, Descending: desc, NextToken: tok})
			})
			if err != nil {
				return logsAPIError(err)
			}
			if output == "json" {
				return writeLogsJSON(cmd.OutOrStdout(), map[string]any{"logStreams": all})
			}
			t := newLogsTable(cmd.OutOrStdout(), "NAME", "EVENTS", "FIRST EVENT", "LAST EVENT", "LAST INGESTION")
			for _, l := range all {
				t.row(l.LogStreamName, strconv.FormatInt(l.StoredEvents, 10), formatLogsTimePtr(l.FirstEventTimestamp),
					formatLogsTimePtr(l.LastEventTimestamp), formatLogsTimePtr(l.LastIngestionTime))
			}
			return t.flush()
		},
	}
	addLogsDataDirFlag(c, &dataDir)
	addLogsOutputFlag(c, &output)
	c.Flags().StringVar(&group, "group", "", "log group (required)")
	c.Flags().StringVar(&prefix, "prefix", "", "only streams whose name starts with this")
	c.Flags().StringVar(&orderBy, "order-by", "LogStreamName", "LogStreamName or LastEventTime")
	c.Flags().BoolVar(&desc, "descending", false, "reverse the order")
	return c
}

func newLogsGetCmd() *cobra.Command {
	var dataDir, output, group, stream, token string
	var tr logsTimeRange
	var limit int
	var head bool
	c := &cobra.Command{
		Use:   "get --group G --stream S",
		Short: "Read one page of events of a log stream",
		Long: `Read events of one log stream like aws logs get-log-events: one page of at most
--limit events (and 1 MB), the newest ones unless --start-from-head. The window
is --start <= timestamp < --end. --output json prints the aws shape with
nextForwardToken/nextBackwardToken; pass one back with --next-token for the
next page (at the end the same token comes back).`,
		Example: `  vpcflow logs get --group /vpc/flow-logs --stream eni-0a1b2c3d4e5f60718-all
  vpcflow logs get --group app --stream web-1 --start-from-head --limit 100 --output json
  vpcflow logs get --group app --stream web-1 --start 2026-01-01T00:00:00Z --end 1767312000`,
		Args: groupFlagArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if group == "" || stream == "" {
				return usageErrorf("--group and --stream are required")
			}
			if err := checkLogsOutput(output); err != nil {
				return err
			}
			start, end, err := tr.resolve()
			if err != nil {
				return err
			}
			if limit < 1 || limit > 10_000 {
				return usageErrorf("--limit %d: want 1 to 10000", limit)
			}
			s, err := openLogs(cmd, dataDir, false)
			if err != nil {
				return err
			}
			defer s.Close()
			out, err := s.GetLogEvents(logsvc.GetInput{Group: group, Stream: stream, StartTime: start, EndTime: end,
				Limit: limit, StartFromHead: head, NextToken: token})
			if err != nil {
				return logsAPIError(err)
			}
			if output == "json" {
				return writeLogsJSON(cmd.OutOrStdout(), out)
			}
			t := newLogsTable(cmd.OutOrStdout(), "TIMESTAMP", "MESSAGE")
			for _, e := range out.Events {
				t.row(formatLogsTime(e.Timestamp), logsPrintable(e.Message))
			}
			return t.flush()
		},
	}
	addLogsDataDirFlag(c, &dataDir)
	addLogsOutputFlag(c, &output)
	addLogsTimeFlags(c, &tr)
	c.Flags().StringVar(&group, "group", "", "log group (required)")
	c.Flags().StringVar(&stream, "stream", "", "log stream (required)")
	c.Flags().IntVar(&limit, "limit", 10_000, "most events in the page (1-10000)")
	c.Flags().BoolVar(&head, "start-from-head", false, "oldest events first instead of the newest")
	c.Flags().StringVar(&token, "next-token", "", "a nextForwardToken or nextBackwardToken from a previous page")
	return c
}

// logsPrintable keeps one event on one table line.
func logsPrintable(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' {
			return ' '
		}
		return r
	}, s)
}

// logsAPIError turns a store error into the command's error: API errors
// print their code and message, exit 1.
func logsAPIError(err error) error {
	var ae *logsvc.APIError
	if errors.As(err, &ae) {
		return &exitError{code: 1, msg: ae.Code + ": " + ae.Message}
	}
	return &exitError{code: 1, msg: err.Error()}
}

// logsReadError is logsAPIError for the commands that take --pattern: an
// invalid pattern is a usage error (exit 2) with AWS's
// InvalidParameterException message for op and the column, as in every
// command that takes a pattern.
func logsReadError(op string, err error) error {
	var pe *filterpattern.Error
	if errors.As(err, &pe) {
		return logsPatternError(op, "--pattern", pe.Pattern, err)
	}
	return logsAPIError(err)
}

func newLogsFilterCmd() *cobra.Command {
	var dataDir, output, group, pattern, prefix string
	var names []string
	var tr logsTimeRange
	var maxItems int
	var desc bool
	c := &cobra.Command{
		Use:   "filter --group G [--pattern P] [--start S] [--end E]",
		Short: "Search a log group with a filter pattern",
		Long: `Search the events of a log group with a CloudWatch Logs filter pattern, like
aws logs filter-log-events: across streams in time order, the window
--start <= timestamp <= --end. All pages are read unless --max-items.
--output json prints {"events": [...], "searchedLogStreams": []}.`,
		Example: `  vpcflow logs filter --group /vpc/flow-logs --pattern REJECT
  vpcflow logs filter --group /vpc/flow-logs --start 2026-01-01T00:00:00Z --end 2026-01-02T00:00:00Z \
      --pattern '[version, account, eni, src, dst, srcport, dstport="22", protocol, packets, bytes, start, end, action="REJECT", status]'
  vpcflow logs filter --group app --stream-prefix web- --pattern '{ $.status >= 500 }' --output json`,
		Args: groupFlagArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if group == "" {
				return usageErrorf("--group is required")
			}
			if err := checkLogsOutput(output); err != nil {
				return err
			}
			start, end, err := tr.resolve()
			if err != nil {
				return err
			}
			s, err := openLogs(cmd, dataDir, false)
			if err != nil {
				return err
			}
			defer s.Close()
			all := []logsvc.FilteredEvent{}
			tok := ""
			for {
				limit := 0
				if maxItems > 0 {
					limit = min(10_000, maxItems-len(all))
				}
				out, err := s.FilterLogEvents(logsvc.FilterLogEventsInput{LogGroupName: group, LogStreamNames: names, LogStreamNamePrefix: prefix,
					StartTime: start, EndTime: end, FilterPattern: pattern, Limit: limit, Descending: desc, NextToken: tok})
				if err != nil {
					return logsReadError("FilterLogEvents", err)
				}
				all = append(all, out.Events...)
				if tok = out.NextToken; tok == "" || maxItems > 0 && len(all) >= maxItems {
					break
				}
			}
			if output == "json" {
				return writeLogsJSON(cmd.OutOrStdout(), map[string]any{"events": all, "searchedLogStreams": []any{}})
			}
			t := newLogsTable(cmd.OutOrStdout(), "TIMESTAMP", "STREAM", "MESSAGE")
			for _, e := range all {
				t.row(formatLogsTime(e.Timestamp), e.LogStreamName, logsPrintable(e.Message))
			}
			return t.flush()
		},
	}
	addLogsDataDirFlag(c, &dataDir)
	addLogsOutputFlag(c, &output)
	addLogsTimeFlags(c, &tr)
	c.Flags().StringVar(&group, "group", "", "log group (required)")
	c.Flags().StringVar(&pattern, "pattern", "", "filter pattern (CloudWatch Logs syntax); empty matches every event")
	c.Flags().StringSliceVar(&names, "stream-names", nil, "only these streams (comma-separated, at most 100)")
	c.Flags().StringVar(&prefix, "stream-prefix", "", "only streams whose name starts with this")
	c.Flags().IntVar(&maxItems, "max-items", 0, "stop after this many events (0: all)")
	c.Flags().BoolVar(&desc, "descending", false, "newest first (startFromHead=false)")
	return c
}

func newLogsTailCmd() *cobra.Command {
	var dataDir, output, group, pattern, since string
	var lines int
	var follow bool
	var interval time.Duration
	c := &cobra.Command{
		Use:   "tail --group G [--follow]",
		Short: "Print the newest events of a log group, optionally following new ones",
		Long: `Print the newest events of a log group, one per line as
"TIMESTAMP STREAM MESSAGE" (like aws logs tail; --output json prints one JSON
event per line). By default the last --lines events; --since limits by age
(a duration such as 10m, or a time). With --follow, new events are printed as
they arrive: the store is reopened every --interval and released in between,
so another vpcflow process can write to it. (A long-running 'vpcflow serve'
owns its data dir: follow it through its API instead.) Events that arrive with
a timestamp older than the last one printed are not shown by --follow.`,
		Example: `  vpcflow logs tail --group /vpc/flow-logs
  vpcflow logs tail --group /vpc/flow-logs --since 1h --pattern REJECT --follow`,
		Args: groupFlagArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if group == "" {
				return usageErrorf("--group is required")
			}
			if err := checkLogsOutput(output); err != nil {
				return err
			}
			if lines < 1 || lines > 10_000 {
				return usageErrorf("--lines %d: want 1 to 10000", lines)
			}
			in := logsvc.TailInput{LogGroupName: group, FilterPattern: pattern, Lines: lines, Interval: interval}
			if since != "" {
				ms, err := logsvc.ParseSince(since, time.Now())
				if err != nil {
					return usageErrorf("--since: %v", err)
				}
				in.StartTime = &ms
			}
			w := cmd.OutOrStdout()
			print := func(e logsvc.FilteredEvent) error {
				if output == "json" {
					b, _ := json.Marshal(e)
					_, err := fmt.Fprintf(w, "%s\n", b)
					return err
				}
				_, err := fmt.Fprintf(w, "%s %s %s\n", formatLogsTime(e.Timestamp), e.LogStreamName, logsPrintable(e.Message))
				return err
			}
			if follow {
				// The data dir is opened for each look only, so that
				// other vpcflow processes can write to it meanwhile.
				dir, err := logsDataDir(dataDir)
				if err != nil {
					return err
				}
				err = logsvc.FollowDir(cmd.Context(), dir, logsServiceOptions(cmd.CommandPath(), false), in, print)
				if err != nil {
					return logsOpenOrReadError("FilterLogEvents", err)
				}
				return nil
			}
			s, err := openLogs(cmd, dataDir, false)
			if err != nil {
				return err
			}
			evs, err := s.Tail(in)
			s.Close()
			if err != nil {
				return logsReadError("FilterLogEvents", err)
			}
			for _, e := range evs {
				if err := print(e); err != nil {
					return err
				}
			}
			return nil
		},
	}
	addLogsDataDirFlag(c, &dataDir)
	addLogsOutputFlag(c, &output)
	c.Flags().StringVar(&group, "group", "", "log group (required)")
	c.Flags().StringVar(&pattern, "pattern", "", "filter pattern (CloudWatch Logs syntax)")
	c.Flags().StringVar(&since, "since", "", "only events newer than this: a duration (10m, 2h) or a time"+logsTimeHelp)
	c.Flags().IntVarP(&lines, "lines", "n", 10, "how many of the newest events to print first (1-10000)")
	c.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new events until interrupted")
	c.Flags().DurationVar(&interval, "interval", time.Second, "how often --follow looks for new events")
	return c
}

// logsOpenOrReadError reports an error of a call that both opens the data
// dir and reads it (tail --follow): opening errors as openLogs reports
// them, the others as logsReadError.
func logsOpenOrReadError(op string, err error) error {
	var inUse *logsvc.InUseError
	var noDir *logsvc.NoDataDirError
	var mismatch *logsvc.IdentityMismatchError
	if errors.As(err, &inUse) || errors.As(err, &noDir) || errors.As(err, &mismatch) {
		return &exitError{code: 1, msg: err.Error()}
	}
	return logsReadError(op, err)
}
