package main

// `vpcflow logs query`: a Logs Insights query over the embedded log store
// (StartQuery, then wait for it to end), printing a table for people or the
// get-query-results JSON for scripts.

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/vpcflow/vpcflow/insights"
	"github.com/vpcflow/vpcflow/logsvc"
)

func init() { registerLogs(newLogsQueryCmd) }

func newLogsQueryCmd() *cobra.Command {
	var dataDir, output string
	var groups []string
	var tr logsTimeRange
	var limit int
	c := &cobra.Command{
		Use:   "query --group G [--start S] [--end E] 'QUERY'",
		Short: "Run a Logs Insights query over log groups",
		Long: `Run a CloudWatch Logs Insights query (fields, filter, stats ... by bin(),
sort, limit, parse, display, dedup and the Insights functions) over the events
of one or more log groups whose timestamp lies in [--start, --end].

Default-format flow-log messages (14 fields, version 2) have their fields
discovered under the AWS names: version, accountId, interfaceId, srcAddr,
dstAddr, srcPort, dstPort, protocol, packets, bytes, startTime, endTime,
action, logStatus; JSON messages have theirs flattened with dots. Every
event also has @timestamp, @message, @logStream, @log and @ingestionTime.

--start and --end are epoch seconds (as StartQuery takes them; --end then
includes its whole second), epoch milliseconds above 10^10, or RFC 3339.
Without --start the query starts at the oldest event; without --end it runs
to the newest.

The table prints the result columns (null values are empty) and a summary
line on stderr. --output json prints exactly what aws logs get-query-results
prints: results as lists of {field, value} (null values left out, @ptr
ending rows that are not stats rows), statistics and status.

A malformed query exits with status 2 and names the line and column.`,
		Example: `  vpcflow logs query --group /vpc/flow-logs --start 2026-01-01T00:00:00Z --end 2026-01-02T00:00:00Z \
      'stats sum(bytes) as bytesTransferred by srcAddr, dstAddr | sort bytesTransferred desc | limit 10'
  vpcflow logs query --group /vpc/flow-logs 'filter action = "REJECT" | stats count(*) as rejections by srcAddr | sort rejections desc'
  vpcflow logs query --group /vpc/flow-logs 'filter logStatus = "SKIPDATA" | stats count(*) by bin(1h) as hour | sort hour'
  vpcflow logs query --group /vpc/flow-logs --output json 'fields @timestamp, srcAddr, dstAddr, bytes | sort bytes desc | limit 5'`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErrorf("want exactly one QUERY argument, got %d\nRun '%s --help' for usage.", len(args), cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(groups) == 0 {
				return usageErrorf("--group is required")
			}
			if len(groups) > 50 {
				return usageErrorf("at most 50 --group values, got %d", len(groups))
			}
			if err := checkLogsOutput(output); err != nil {
				return err
			}
			if limit < 1 || limit > 100000 {
				return usageErrorf("--limit %d: want 1 to 100000", limit)
			}
			if _, _, err := tr.resolve(); err != nil {
				return err
			}
			in := logsvc.StartQueryInput{LogGroupNames: groups, QueryString: args[0], Limit: limit}
			// StartQuery takes times as the API does: seconds (an end
			// covers its whole second) or, above 10^10, milliseconds.
			// Numbers go as given; RFC 3339 times as milliseconds.
			for _, f := range []struct {
				v string
				p **int64
			}{{tr.start, &in.StartTime}, {tr.end, &in.EndTime}} {
				if f.v == "" {
					continue
				}
				v, err := strconv.ParseInt(strings.TrimSpace(f.v), 10, 64)
				if err != nil {
					v, _ = parseLogsTime(f.v) // checked by resolve
				}
				*f.p = &v
			}
			s, err := openLogs(cmd, dataDir, false)
			if err != nil {
				return err
			}
			defer s.Close()
			id, err := s.StartQuery(in)
			var mq *logsvc.MalformedQueryError
			if errors.As(err, &mq) {
				return usageErrorf("MalformedQueryException: %v\n%s", mq.Err, logsQueryCaret(args[0], mq.Err))
			}
			if err != nil {
				return logsAPIError(err)
			}
			res, err := s.WaitQuery(cmd.Context(), id)
			if err != nil {
				return &exitError{code: 1, msg: err.Error()}
			}
			if output == "json" {
				_, err := cmd.OutOrStdout().Write(res.JSON())
				return err
			}
			return logsQueryTable(cmd.OutOrStdout(), cmd.ErrOrStderr(), res)
		},
	}
	addLogsDataDirFlag(c, &dataDir)
	addLogsOutputFlag(c, &output)
	addLogsTimeFlags(c, &tr)
	c.Flags().StringArrayVar(&groups, "group", nil, "log group to query (required; repeat for up to 50 groups)")
	c.Flags().IntVar(&limit, "limit", 10000, "most rows returned (StartQuery limit, at most 100000)")
	return c
}

// logsQueryCaret shows the query line of a compile error with a caret under
// the offending characters.
func logsQueryCaret(query string, err error) string {
	var qe *insights.Error
	if !errors.As(err, &qe) {
		return ""
	}
	lines := strings.Split(query, "\n")
	if qe.Line < 1 || qe.Line > len(lines) {
		return ""
	}
	line := []rune(lines[qe.Line-1])
	col := min(qe.Col-1, len(line))
	width := max(1, min(qe.End-qe.Start, len(line)-col))
	pad := strings.Map(func(r rune) rune {
		if r == '\t' {
			return '\t'
		}
		return ' '
	}, string(line[:col]))
	return "  " + string(line) + "\n  " + pad + strings.Repeat("^", width)
}

func logsQueryTable(out, errw io.Writer, res *insights.Result) error {
	t := newLogsTable(out, res.Columns...)
	for _, row := range res.Rows {
		vals := make(map[string]string, len(row))
		for _, f := range row {
			vals[f.Field] = f.Value
		}
		cols := make([]string, len(res.Columns))
		for i, c := range res.Columns {
			cols[i] = logsPrintable(vals[c])
		}
		t.row(cols...)
	}
	if err := t.flush(); err != nil {
		return err
	}
	st := res.Statistics
	_, err := fmt.Fprintf(errw, "%d rows; %.0f records matched, %.0f scanned, %.0f bytes scanned\n",
		len(res.Rows), st.RecordsMatched, st.RecordsScanned, st.BytesScanned)
	return err
}
