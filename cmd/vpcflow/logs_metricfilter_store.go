package main

// `vpcflow logs metric-filter put|list|delete|datapoints`: metric filters
// kept in the data dir by package logsvc. Also the helpers the log-service
// commands share: opening the service and printing its errors the way the
// AWS CLI prints service errors.

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"github.com/vpcflow/vpcflow/filterpattern"
	"github.com/vpcflow/vpcflow/logsvc"
	"github.com/vpcflow/vpcflow/metricfilter"
)

func init() {
	registerMetricFilterSubcommand(newMetricFilterPutCmd)
	registerMetricFilterSubcommand(newMetricFilterListCmd)
	registerMetricFilterSubcommand(newMetricFilterDeleteCmd)
	registerMetricFilterSubcommand(newMetricFilterDatapointsCmd)
}

// openLogService opens the log service (store + metric filters + alarms)
// named by a --data-dir value, for writing, on behalf of whatever command
// this process runs. Warnings about skipped definitions go to errw.
func openLogService(flag string, errw io.Writer) (*logsvc.Service, error) {
	return openLogsAs(commandFromArgs(), flag, true, errw)
}

// logsServiceError prints a service error as the AWS CLI does: "An error
// occurred (Code) when calling the Op operation: message". Invalid
// parameters are the caller's mistake, so they exit 2 like other usage
// errors; everything else (missing group, limits, I/O) exits 1.
func logsServiceError(op string, err error) error {
	code, msg := "", ""
	var ae *logsvc.APIError
	var me *metricfilter.Error
	switch {
	case errors.As(err, &ae):
		code, msg = ae.Code, ae.Message
	case errors.As(err, &me):
		code, msg = me.Code, me.Message
	default:
		return &exitError{code: 1, msg: err.Error()}
	}
	text := fmt.Sprintf("An error occurred (%s) when calling the %s operation: %s", code, op, msg)
	if code == logsvc.CodeInvalidParameter || code == "ValidationError" {
		return usageErrorf("%s", text)
	}
	return &exitError{code: 1, msg: text}
}

// logsPatternError is the usage error for an invalid filter pattern in any
// command: AWS's InvalidParameterException message for op, then the pattern
// with a caret under the column and the reason.
func logsPatternError(op, flag, pattern string, err error) error {
	var pe *filterpattern.Error
	if !errors.As(err, &pe) {
		return usageErrorf("%s: %v", flag, err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: An error occurred (%s) when calling the %s operation: %s\n", flag, filterpattern.Code, op, pe.Msg)
	fmt.Fprintf(&b, "  pattern: %s\n", strings.NewReplacer("\n", " ", "\t", " ", "\r", " ").Replace(pattern))
	col := utf8.RuneCountInString(pattern[:min(max(pe.Pos-1, 0), len(pattern))])
	fmt.Fprintf(&b, "           %s^ column %d: %s", strings.Repeat(" ", col), pe.Pos, pe.Detail)
	return usageErrorf("%s", b.String())
}

// parseDimensionList reads "Name=value,Name2=value2" (--dimensions of
// metric-filter put and alarm put). Names must be unique and non-empty;
// values non-empty. Errors name the item by position.
func parseDimensionList(s string) ([][2]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out [][2]string
	seen := map[string]bool{}
	col := 1
	for i, item := range strings.Split(s, ",") {
		name, value, ok := strings.Cut(item, "=")
		name = strings.TrimSpace(name)
		value = strings.TrimSpace(value)
		switch {
		case !ok:
			return nil, fmt.Errorf("item %d %q at column %d: want NAME=VALUE", i+1, item, col)
		case name == "":
			return nil, fmt.Errorf("item %d %q at column %d: empty dimension name", i+1, item, col)
		case value == "":
			return nil, fmt.Errorf("item %d %q at column %d: empty value for dimension %s", i+1, item, col, name)
		case seen[name]:
			return nil, fmt.Errorf("item %d %q at column %d: dimension %s given twice", i+1, item, col, name)
		}
		seen[name] = true
		out = append(out, [2]string{name, value})
		col += utf8.RuneCountInString(item) + 1
	}
	return out, nil
}

func newMetricFilterPutCmd() *cobra.Command {
	var dataDir, group, name, pattern, metricName, namespace, value, defValue, dims, unit string
	c := &cobra.Command{
		Use:   "put --group G --name N --pattern P --metric-name M --metric-namespace NS",
		Short: "Create or replace a metric filter on a log group, like aws logs put-metric-filter",
		Long: `Create a metric filter on a log group, or replace the filter of that name
(it keeps its creation time). From then on every event stored in the group
(by 'vpcflow logs put', flow-log delivery or the API) that matches the pattern
adds a datapoint to the metric: --metric-value is a number, or $field / $N
(space-delimited patterns) or $.path (JSON patterns) read from the event.
Filters are not retroactive, as on AWS. With --default-value, every minute in
which the group received events but the filter matched none gets that value.

--dimensions takes NAME=$field or NAME=$.path items, comma-separated (at most
3; not with --default-value). Validation follows PutMetricFilter: invalid
values exit 2 with AWS's InvalidParameterException message, which names the
member (filterName, metricTransformations.1.member.metricName, ...); a
missing group exits 1 with ResourceNotFoundException.

Alarms on the metric: see 'vpcflow logs alarm put'.`,
		Example: `  # Count rejected SSH attempts in the flow-log group
  vpcflow logs metric-filter put --group /vpc/flow-logs --name ssh-rejects \
    --pattern '[version, account, eni, source, destination, srcport, destport="22", protocol="6", packets, bytes, windowstart, windowend, action="REJECT", flowlogstatus]' \
    --metric-name SSHRejects --metric-namespace VPC --metric-value 1 --default-value 0

  # Bytes accepted per interface
  vpcflow logs metric-filter put --group /vpc/flow-logs --name bytes-by-eni \
    --pattern '[version, account, eni, source, destination, srcport, destport, protocol, packets, bytes, start, end, action=ACCEPT, status]' \
    --metric-name AcceptedBytes --metric-namespace VPC --metric-value '$bytes' --dimensions 'Eni=$eni' --unit Bytes`,
		Args: groupFlagArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, f := range []string{"group", "name", "pattern", "metric-name", "metric-namespace"} {
				if !cmd.Flags().Changed(f) {
					return usageErrorf("--%s is required", f)
				}
			}
			if _, err := filterpattern.Compile(pattern); err != nil {
				return logsPatternError("PutMetricFilter", "--pattern", pattern, err)
			}
			t := metricfilter.Transformation{MetricName: metricName, MetricNamespace: namespace, MetricValue: value, Unit: unit}
			if cmd.Flags().Changed("default-value") {
				v, err := strconv.ParseFloat(strings.TrimSpace(defValue), 64)
				if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
					return usageErrorf("--default-value %q: want a finite number", defValue)
				}
				t.DefaultValue = &v
			}
			pairs, err := parseDimensionList(dims)
			if err != nil {
				return usageErrorf("--dimensions: %v", err)
			}
			if len(pairs) > 0 {
				t.Dimensions = map[string]string{}
				for _, p := range pairs {
					t.Dimensions[p[0]] = p[1]
				}
			}
			s, err := openLogs(cmd, dataDir, true)
			if err != nil {
				return err
			}
			defer s.Close()
			d := metricfilter.Definition{LogGroupName: group, FilterName: name, FilterPattern: pattern,
				MetricTransformations: []metricfilter.Transformation{t}}
			if err := s.PutMetricFilter(d); err != nil {
				return logsServiceError("PutMetricFilter", err)
			}
			return nil
		},
	}
	addLogsDataDirFlag(c, &dataDir)
	f := c.Flags()
	f.StringVar(&group, "group", "", "log group (required; must exist)")
	f.StringVar(&name, "name", "", "filter name (required; 1-512 characters, no ':' or '*')")
	f.StringVar(&pattern, "pattern", "", "filter pattern (required; an empty pattern matches every event)")
	f.StringVar(&metricName, "metric-name", "", "metric name (required)")
	f.StringVar(&namespace, "metric-namespace", "", "metric namespace (required)")
	f.StringVar(&value, "metric-value", "1", "datapoint value: a number, $field, $N or $.path")
	f.StringVar(&defValue, "default-value", "", "value for minutes with events but no match")
	f.StringVar(&dims, "dimensions", "", "NAME=$field or NAME=$.path items, comma-separated (at most 3)")
	f.StringVar(&unit, "unit", "", "metric unit (Count, Bytes, Seconds, ...; default None)")
	return c
}

func newMetricFilterListCmd() *cobra.Command {
	var dataDir, output, group, prefix, metricName, namespace string
	c := &cobra.Command{
		Use:   "list [--group G] [--prefix P]",
		Short: "List metric filters, like aws logs describe-metric-filters",
		Long: `List the metric filters of one group (--group) or of all groups, sorted by
group then name. --prefix (filter name prefix) needs --group, as on AWS, and
is ignored without it; --metric-name and --metric-namespace select filters
writing that metric and come together. --output json prints the
describe-metric-filters shape {"metricFilters": [...]}.`,
		Example: `  vpcflow logs metric-filter list
  vpcflow logs metric-filter list --group /vpc/flow-logs --prefix ssh --output json`,
		Args: groupFlagArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkLogsOutput(output); err != nil {
				return err
			}
			if (metricName == "") != (namespace == "") {
				return usageErrorf("--metric-name and --metric-namespace go together")
			}
			s, err := openLogs(cmd, dataDir, false)
			if err != nil {
				return err
			}
			defer s.Close()
			defs, err := s.DescribeMetricFilters(logsvc.DescribeFiltersInput{LogGroupName: group, FilterNamePrefix: prefix,
				MetricName: metricName, MetricNamespace: namespace})
			if err != nil {
				return logsServiceError("DescribeMetricFilters", err)
			}
			if output == "json" {
				return writeLogsJSON(cmd.OutOrStdout(), map[string]any{"metricFilters": defs})
			}
			t := newLogsTable(cmd.OutOrStdout(), "GROUP", "NAME", "METRIC", "VALUE", "DEFAULT", "PATTERN")
			for _, d := range defs {
				tr := d.MetricTransformations[0]
				def := "-"
				if tr.DefaultValue != nil {
					def = strconv.FormatFloat(*tr.DefaultValue, 'f', -1, 64)
				}
				t.row(d.LogGroupName, d.FilterName, tr.MetricNamespace+"/"+tr.MetricName, tr.MetricValue, def, d.FilterPattern)
			}
			return t.flush()
		},
	}
	addLogsDataDirFlag(c, &dataDir)
	addLogsOutputFlag(c, &output)
	c.Flags().StringVar(&group, "group", "", "only this log group")
	c.Flags().StringVar(&prefix, "prefix", "", "only filters whose name starts with this (needs --group)")
	c.Flags().StringVar(&metricName, "metric-name", "", "only filters writing this metric (with --metric-namespace)")
	c.Flags().StringVar(&namespace, "metric-namespace", "", "namespace of --metric-name")
	return c
}

func newMetricFilterDeleteCmd() *cobra.Command {
	var dataDir, group, name string
	c := &cobra.Command{
		Use:   "delete --group G --name N",
		Short: "Delete a metric filter, like aws logs delete-metric-filter",
		Long: `Delete a metric filter. Its datapoints already recorded stay, so alarms on
the metric keep their history. An unknown filter exits 1 with
ResourceNotFoundException.`,
		Example: `  vpcflow logs metric-filter delete --group /vpc/flow-logs --name ssh-rejects`,
		Args:    groupFlagArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if group == "" || name == "" {
				return usageErrorf("--group and --name are required")
			}
			s, err := openLogs(cmd, dataDir, true)
			if err != nil {
				return err
			}
			defer s.Close()
			if err := s.DeleteMetricFilter(group, name); err != nil {
				return logsServiceError("DeleteMetricFilter", err)
			}
			return nil
		},
	}
	addLogsDataDirFlag(c, &dataDir)
	c.Flags().StringVar(&group, "group", "", "log group (required)")
	c.Flags().StringVar(&name, "name", "", "filter name (required)")
	return c
}

func newMetricFilterDatapointsCmd() *cobra.Command {
	var dataDir, output, metricName, namespace, dims string
	var period int
	var tr logsTimeRange
	c := &cobra.Command{
		Use:   "datapoints --metric-namespace NS --metric-name M",
		Short: "Show the datapoints metric filters recorded, like aws cloudwatch get-metric-statistics",
		Long: `Show the statistics of a metric written by metric filters, per --period
seconds (a multiple of 60), in time order: SampleCount, Average, Sum, Minimum,
Maximum. Periods without data are not listed. --dimensions Name=Value,...
selects one dimension set (none: the metric without dimensions).
--output json prints the get-metric-statistics shape {"Label", "Datapoints"}
with every statistic.`,
		Example: `  vpcflow logs metric-filter datapoints --metric-namespace VPC --metric-name SSHRejects --period 3600
  vpcflow logs metric-filter datapoints --metric-namespace VPC --metric-name AcceptedBytes --dimensions Eni=eni-0a1b2c3d4e5f60718`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if metricName == "" || namespace == "" {
				return usageErrorf("--metric-name and --metric-namespace are required")
			}
			if err := checkLogsOutput(output); err != nil {
				return err
			}
			if period < 60 || period%60 != 0 {
				return usageErrorf("--period %d: want a multiple of 60 seconds", period)
			}
			start, end, err := tr.resolve()
			if err != nil {
				return err
			}
			pairs, err := parseDimensionList(dims)
			if err != nil {
				return usageErrorf("--dimensions: %v", err)
			}
			var dd []metricfilter.Dimension
			for _, p := range pairs {
				dd = append(dd, metricfilter.Dimension{Name: p[0], Value: p[1]})
			}
			s, err := openLogs(cmd, dataDir, false)
			if err != nil {
				return err
			}
			defer s.Close()
			out, err := s.GetMetricStatistics(logsvc.GetMetricStatisticsInput{Namespace: namespace, MetricName: metricName,
				Dimensions: dd, StartTime: start, EndTime: end, Period: period})
			if err != nil {
				return logsServiceError("GetMetricStatistics", err)
			}
			if output == "json" {
				// Members in the order this command has always printed.
				return writeLogsJSON(cmd.OutOrStdout(), map[string]any{"Label": out.Label, "Datapoints": out.Datapoints})
			}
			t := newLogsTable(cmd.OutOrStdout(), "PERIOD START", "SAMPLES", "SUM", "AVERAGE", "MIN", "MAX", "UNIT")
			for _, p := range out.Datapoints {
				f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
				t.row(p.Timestamp, f(p.SampleCount), f(p.Sum), f(p.Average), f(p.Minimum), f(p.Maximum), p.Unit)
			}
			return t.flush()
		},
	}
	addLogsDataDirFlag(c, &dataDir)
	addLogsOutputFlag(c, &output)
	addLogsTimeFlags(c, &tr)
	c.Flags().StringVar(&metricName, "metric-name", "", "metric name (required)")
	c.Flags().StringVar(&namespace, "metric-namespace", "", "metric namespace (required)")
	c.Flags().StringVar(&dims, "dimensions", "", "Name=Value items, comma-separated: the dimension set")
	c.Flags().IntVar(&period, "period", 60, "seconds per datapoint (a multiple of 60)")
	return c
}
