package main

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/vpcflow/vpcflow/detect"
	"github.com/vpcflow/vpcflow/detect/source"
	"github.com/vpcflow/vpcflow/logsvc"
	"github.com/vpcflow/vpcflow/record"
)

func init() { register(newDetectCmd) }

type detectFlags struct {
	since, until, output, format, dataDir, group, account, region string
	evidence                                                      int
	quiet                                                         bool
}

func newDetectCmd() *cobra.Command {
	var f detectFlags
	c := &cobra.Command{
		Use:   "detect [--since T] [--until T] [--output json|table] SOURCE... | --group G [--data-dir D]",
		Short: "Find GuardDuty-style threats in flow-log records",
		Long: `Read flow-log records and report GuardDuty-style findings: port scans and
sweeps (in and out), probes of unprotected ports, SSH and RDP brute force,
unusual traffic volume, unusual ports, storms of rejected traffic
(docs/detections.md describes each detector, its thresholds and its blind
spots).

A SOURCE is a directory holding an S3 delivery tree (its .log.gz and
.log.parquet objects are read in the order of their 5-minute slots), or a
flow-log text file (plain or gzip; AWS's own files included: a header line
sets the format, --format applies before one). --group reads a log group of
the log store in --data-dir instead (or as well): its events are records in
--format.

Everything is judged on event time (the records' start): records should come
in about that order, as delivery trees and log groups hold them; a record
more than 20 minutes older than the latest one seen is counted as late and
left out.

Findings are printed in the shape of 'aws guardduty get-findings' (--output
json, the default) or as a table; x-evidence lists up to --evidence records
behind each finding, with the file and line (or group/stream and timestamp)
they were read from. A summary goes to stderr.

Exit status: 0 findings (or none) printed; 1 a source could not be read to its
end (the findings of everything read are printed); 2 usage error.`,
		Example: `  vpcflow detect flowlogs/
  vpcflow detect --output table --since 2026-01-01T00:00:00Z flowlogs/
  vpcflow detect --format '${version} ${vpc-id} ${subnet-id} ${instance-id} ${interface-id} ${account-id} ${type} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${pkt-srcaddr} ${pkt-dstaddr} ${protocol} ${bytes} ${packets} ${start} ${end} ${action} ${tcp-flags} ${log-status}' export.log
  vpcflow detect --data-dir ./data --group vpc-flow-logs`,
		RunE: func(cmd *cobra.Command, args []string) error { return runDetect(cmd, &f, args) },
	}
	fl := c.Flags()
	fl.StringVar(&f.since, "since", "", "ignore records that start before this time (RFC 3339, or epoch seconds)")
	fl.StringVar(&f.until, "until", "", "ignore records that start at or after this time (RFC 3339, or epoch seconds)")
	fl.StringVarP(&f.output, "output", "o", "json", "json (the aws guardduty get-findings shape) or table")
	fl.StringVar(&f.format, "format", "", "format of lines before a header, and of log events: '${a} ${b}', 'a b' or 'default'")
	fl.IntVar(&f.evidence, "evidence", 10, "records listed in each finding's x-evidence (0: none, and the sources are read once)")
	fl.StringVar(&f.dataDir, "data-dir", "", logsDataDirHelp+"; with --group")
	fl.StringVar(&f.group, "group", "", "read this log group of the log store")
	fl.StringVar(&f.account, "account", "", "account of findings whose records carry no account-id")
	fl.StringVar(&f.region, "region", "", "region of findings whose records carry no region (the default format has none)")
	fl.BoolVar(&f.quiet, "quiet", false, "no summary on stderr")
	return c
}

// detectRun is one run of `vpcflow detect`: its sources and time range.
type detectRun struct {
	inputs       []source.Input
	since, until int64 // seconds; records outside [since, until) are left out
	format       *record.Format
	outside      int
	problems     int
	stderr       io.Writer
}

func runDetect(cmd *cobra.Command, f *detectFlags, args []string) error {
	if f.output != "json" && f.output != "table" {
		return usageErrorf("--output %q: want json or table", f.output)
	}
	if len(args) == 0 && f.group == "" {
		return usageErrorf("no source: name delivery directories or flow-log files, or a log group with --group")
	}
	for _, a := range args {
		if a == "-" {
			return usageErrorf("- (standard input): detect reads its sources twice (the second time for the evidence); save the records to a file")
		}
	}
	if f.evidence < 0 {
		return usageErrorf("--evidence %d: want 0 or more", f.evidence)
	}
	if f.dataDir != "" && f.group == "" {
		return usageErrorf("--data-dir is where --group is read: give --group too")
	}
	r := &detectRun{since: math.MinInt64, until: math.MaxInt64, stderr: cmd.ErrOrStderr()}
	for _, t := range []struct {
		flag, v string
		dst     *int64
	}{{"--since", f.since, &r.since}, {"--until", f.until, &r.until}} {
		if t.v == "" {
			continue
		}
		ms, err := parseLogsTime(t.v)
		if err != nil {
			return usageErrorf("%s: %v", t.flag, err)
		}
		*t.dst = floorSeconds(ms)
	}
	if r.until <= r.since {
		return usageErrorf("--until %s is not after --since %s", f.until, f.since)
	}
	if f.format != "" {
		var err error
		if r.format, err = parseFormatFlag(f.format); err != nil {
			return err
		}
	}
	inputs, err := source.Expand(args)
	if err != nil {
		return &exitError{code: 1, msg: err.Error()}
	}
	r.inputs = inputs
	if f.group != "" {
		s, err := openLogsAs(cmd.CommandPath(), f.dataDir, false, r.stderr)
		if err != nil {
			return err
		}
		defer s.Close()
		startMs, endMs := int64(0), int64(math.MaxInt64)
		if r.since != math.MinInt64 {
			startMs = max(r.since*1000, 0)
		}
		if r.until != math.MaxInt64 {
			endMs = r.until*1000 - 1
		}
		r.inputs = append(r.inputs, source.Group(logsScanner{s}, f.group, startMs, endMs))
	}

	cfg := detect.DefaultConfiguration()
	cfg.Account, cfg.Region = f.account, f.region
	e, err := detect.New(cfg)
	if err != nil {
		return err
	}
	began := time.Now()
	var conv detect.Converter
	var fl detect.Flow
	rd, err := r.read(true, func(format *record.Format, rec *record.Record, _ source.Position) error {
		conv.Flow(format, rec, &fl)
		e.Observe(&fl)
		return nil
	})
	if err != nil {
		return err
	}
	e.Flush()
	findings := e.Findings()
	if len(findings) > 0 && f.evidence > 0 {
		c := e.Collector(f.evidence)
		if _, err := r.read(false, func(format *record.Format, rec *record.Record, pos source.Position) error {
			conv.Flow(format, rec, &fl)
			if c.Match(&fl) {
				c.Add(fl.Start, detect.Evidence{Source: pos.Source, Line: pos.Line, Timestamp: pos.Timestamp, Record: record.Text(format, rec)})
			}
			return nil
		}); err != nil {
			return err
		}
		c.Finish()
	}
	out := cmd.OutOrStdout()
	if f.output == "json" {
		err = writeLogsJSON(out, struct {
			Findings []*detect.Finding `json:"Findings"`
		}{append([]*detect.Finding{}, findings...)})
	} else {
		err = writeFindingsTable(out, findings)
	}
	if err != nil {
		return err
	}
	if !f.quiet {
		r.summary(rd, e, time.Since(began))
	}
	if rd.Stats.FailedInputs > 0 {
		return &exitError{code: 1}
	}
	return nil
}

// floorSeconds turns ms into seconds, rounding down.
func floorSeconds(ms int64) int64 {
	s := ms / 1000
	if ms%1000 < 0 {
		s--
	}
	return s
}

// read reads every input once, handing the records within the time range
// to visit. Problems are printed on the first pass only, so the second
// (evidence) pass does not repeat them.
func (r *detectRun) read(first bool, visit source.Visitor) (*source.Reader, error) {
	rd := &source.Reader{Format: r.format}
	if first {
		rd.Problem = func(err error) {
			r.problems++
			if r.problems <= 20 {
				fmt.Fprintf(r.stderr, "vpcflow: %v\n", err)
			} else if r.problems == 21 {
				fmt.Fprintln(r.stderr, "vpcflow: more problems; the summary counts them")
			}
		}
	}
	for _, in := range r.inputs {
		err := rd.Read(in, func(f *record.Format, rec *record.Record, pos source.Position) error {
			if rec.Start >= 0 && (rec.Start < r.since || rec.Start >= r.until) {
				if first {
					r.outside++
				}
				return nil
			}
			return visit(f, rec, pos)
		})
		if err != nil {
			return nil, err
		}
	}
	return rd, nil
}

// summary tells what was read, what was left out and why, and what was
// found.
func (r *detectRun) summary(rd *source.Reader, e *detect.Engine, took time.Duration) {
	w := r.stderr
	st, es := rd.Stats, e.Stats()
	rate := ""
	if s := took.Seconds(); s > 0 {
		rate = fmt.Sprintf(" (%s records/s)", commas(int64(float64(st.Records)/s)))
	}
	n := st.Inputs + st.FailedInputs
	fmt.Fprintf(w, "vpcflow detect: %s records from %d source%s in %s%s\n", commas(int64(st.Records)), n, plural(n), took.Round(time.Millisecond), rate)
	if st.FailedInputs > 0 || st.BadLines > 0 {
		fmt.Fprintf(w, "  unreadable: %d sources not read to their end, %d bad lines skipped\n", st.FailedInputs, st.BadLines)
	}
	fmt.Fprintf(w, "  judged:   %s records in %d window%s", commas(int64(es.Judged)), es.Windows, plural(int(es.Windows)))
	if left := int64(es.Status + es.Incomplete + es.Late + es.InterfacesDropped); left > 0 || r.outside > 0 {
		fmt.Fprintf(w, "; left out: %s outside --since/--until, %s NODATA/SKIPDATA, %s incomplete, %s late, %s over the interface bound",
			commas(int64(r.outside)), commas(int64(es.Status)), commas(int64(es.Incomplete)), commas(int64(es.Late)), commas(int64(es.InterfacesDropped)))
	}
	fmt.Fprintln(w)
	if es.PairsDropped+es.PortsDropped+es.PortsNotLearned+es.FindingsDropped+es.OwnAddressesDropped > 0 {
		fmt.Fprintf(w, "  bounds:   %s records over the pair bound, %s ports over the port bound, %s ports not learned, %s findings not kept, %s own addresses not learned\n",
			commas(int64(es.PairsDropped)), commas(int64(es.PortsDropped)), commas(int64(es.PortsNotLearned)), commas(int64(es.FindingsDropped)), commas(int64(es.OwnAddressesDropped)))
	}
	if es.RolesUnknown > 0 {
		fmt.Fprintf(w, "  %s address pairs whose interface side could not be told (left out of the directional detectors)\n", commas(int64(es.RolesUnknown)))
	}
	for _, n := range e.Notes() {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
	counts := map[string]int{}
	for _, f := range e.Findings() {
		counts[f.Type]++
	}
	fmt.Fprintf(w, "  findings: %d", len(e.Findings()))
	sep := " ("
	for _, t := range detect.Types {
		if counts[t] > 0 {
			fmt.Fprintf(w, "%s%d %s", sep, counts[t], t)
			sep = ", "
		}
	}
	if sep == ", " {
		fmt.Fprint(w, ")")
	}
	fmt.Fprintln(w)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// commas writes n with thousands separators.
func commas(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func writeFindingsTable(w io.Writer, findings []*detect.Finding) error {
	t := newLogsTable(w, "TYPE", "SEVERITY", "RESOURCE", "ROLE", "COUNT", "FIRST SEEN", "LAST SEEN", "TITLE")
	for _, f := range findings {
		res := f.Resource.InstanceDetails.InstanceID
		if ni := f.Resource.InstanceDetails.NetworkInterfaces; len(ni) > 0 {
			if res == "" {
				res = ni[0].NetworkInterfaceID
			} else {
				res += " " + ni[0].NetworkInterfaceID
			}
		}
		t.row(f.Type, strconv.FormatFloat(f.Severity, 'f', -1, 64), res, f.Service.ResourceRole, strconv.Itoa(f.Service.Count),
			f.Service.EventFirstSeen, f.Service.EventLastSeen, f.Title)
	}
	return t.flush()
}

// logsScanner reads a log group through the log service for package
// source.
type logsScanner struct{ s *logsvc.Service }

func (l logsScanner) Scan(group string, startMs, endMs int64, fn func(source.Event) error) error {
	return l.s.Scan(group, startMs, endMs, func(ev logsvc.Event) error {
		return fn(source.Event{Timestamp: ev.Timestamp, Stream: ev.Stream, Message: ev.Message})
	})
}
