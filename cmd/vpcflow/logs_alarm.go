package main

// `vpcflow logs alarm put|list|delete|history` and `vpcflow logs alarms`:
// CloudWatch-style alarms on the metrics that metric filters write, kept in
// the data dir by package logsvc and evaluated on event time as data arrives.

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/vpcflow/vpcflow/logsvc"
	"github.com/vpcflow/vpcflow/metricfilter"
)

func init() {
	registerLogs(newAlarmCmd)
	registerLogs(newAlarmsCmd)
}

func newAlarmCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "alarm",
		Short: "Alarms on metric-filter metrics: put, list, delete, history",
		Long: `Alarms watch a metric written by metric filters, as CloudWatch alarms do: at
the end of each --period (epoch-aligned, on event time) the last
--evaluation-periods periods are judged against the threshold, and the alarm
goes to ALARM when at least --datapoints-to-alarm of them breach, OK
otherwise, INSUFFICIENT_DATA per --treat-missing-data. Every state change is
recorded with its reason and kept in the data dir.

'vpcflow logs alarms' shows every alarm with its state and recent history.`,
	}
	c.AddCommand(newAlarmPutCmd(), newAlarmListCmd(), newAlarmDeleteCmd(), newAlarmHistoryCmd())
	return c
}

func newAlarmPutCmd() *cobra.Command {
	var dataDir, name, metricName, namespace, statistic, op, treat, threshold string
	var dims []string
	var period, evals, dta int
	var alarmActions, okActions, insufficientActions []string
	c := &cobra.Command{
		Use:   "put --alarm-name N --metric-name M --namespace NS --statistic S --period P --threshold T --comparison-operator OP --evaluation-periods N",
		Short: "Create or update an alarm, like aws cloudwatch put-metric-alarm",
		Long: `Create an alarm on a metric, or update one (an update keeps its state). A new
alarm starts in INSUFFICIENT_DATA and is evaluated at once over the data
already recorded, up to the newest event time seen.

--statistic: SampleCount, Average, Sum, Minimum or Maximum. --period: 10, 20,
30 or a multiple of 60 seconds. --comparison-operator:
GreaterThanOrEqualToThreshold, GreaterThanThreshold, LessThanThreshold or
LessThanOrEqualToThreshold (the statistic is on the left).
--datapoints-to-alarm M of --evaluation-periods N (default M = N), with
period x N at most 7 days (1 day for periods under an hour).
--treat-missing-data: missing (default), ignore, breaching, notBreaching.
--dimensions selects the metric's dimension set, in awscli's forms:
Name=Eni,Value=eni-... (one flag per dimension) or a JSON list of
{"Name": ..., "Value": ...}.
Actions (ARNs) are recorded with the state changes that fire them; nothing
is sent anywhere.

Invalid values exit 2 with CloudWatch's ValidationError message naming each
bad member (AlarmName, Period, ...).`,
		Example: `  # Ten or more rejected SSH attempts in an hour
  vpcflow logs alarm put --alarm-name ssh-rejects --namespace VPC --metric-name SSHRejects \
    --statistic Sum --period 3600 --evaluation-periods 1 --threshold 10 \
    --comparison-operator GreaterThanOrEqualToThreshold

  # 3 of the last 5 minutes above 1 MB accepted on one interface
  vpcflow logs alarm put --alarm-name eni-bytes --namespace VPC --metric-name AcceptedBytes \
    --dimensions Name=Eni,Value=eni-0a1b2c3d4e5f60718 --statistic Sum --period 60 --evaluation-periods 5 \
    --datapoints-to-alarm 3 --threshold 1000000 --comparison-operator GreaterThanThreshold --treat-missing-data notBreaching`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if name == "" {
				return usageErrorf("--alarm-name is required")
			}
			for _, f := range []string{"metric-name", "namespace", "statistic", "period", "threshold", "comparison-operator", "evaluation-periods"} {
				if !cmd.Flags().Changed(f) {
					return usageErrorf("--%s is required", f)
				}
			}
			th, err := strconv.ParseFloat(strings.TrimSpace(threshold), 64)
			if err != nil || math.IsNaN(th) || math.IsInf(th, 0) {
				return usageErrorf("--threshold %q: want a finite number", threshold)
			}
			dimensions, err := alarmDimensions(dims)
			if err != nil {
				return usageErrorf("--dimensions %v", err)
			}
			a := metricfilter.Alarm{AlarmName: name, Namespace: namespace, MetricName: metricName, Statistic: statistic,
				Period: period, EvaluationPeriods: evals, DatapointsToAlarm: dta, Threshold: th, ComparisonOperator: op,
				TreatMissingData: treat, AlarmActions: alarmActions, OKActions: okActions, InsufficientDataActions: insufficientActions}
			a.Dimensions = dimensions
			s, err := openLogs(cmd, dataDir, true)
			if err != nil {
				return err
			}
			defer s.Close()
			if err := s.PutMetricAlarm(a); err != nil {
				return logsServiceError("PutMetricAlarm", err)
			}
			return nil
		},
	}
	addLogsDataDirFlag(c, &dataDir)
	f := c.Flags()
	f.StringVar(&name, "alarm-name", "", "alarm name (required; 1-255 characters)")
	f.StringVar(&name, "name", "", "same as --alarm-name")
	f.StringVar(&metricName, "metric-name", "", "metric name (required)")
	f.StringVar(&namespace, "namespace", "", "metric namespace (required)")
	f.StringVar(&statistic, "statistic", "", "SampleCount, Average, Sum, Minimum or Maximum (required)")
	f.IntVar(&period, "period", 0, "seconds per evaluated period: 10, 20, 30 or a multiple of 60 (required)")
	f.StringVar(&threshold, "threshold", "", "threshold the statistic is compared with (required)")
	f.StringVar(&op, "comparison-operator", "", "GreaterThanOrEqualToThreshold, GreaterThanThreshold, LessThanThreshold or LessThanOrEqualToThreshold (required)")
	f.IntVar(&evals, "evaluation-periods", 0, "N: how many recent periods are judged (required)")
	f.IntVar(&dta, "datapoints-to-alarm", 0, "M: breaching periods out of N that raise the alarm (default N)")
	f.StringVar(&treat, "treat-missing-data", "", "missing (default), ignore, breaching or notBreaching")
	f.StringArrayVar(&dims, "dimensions", nil, "the metric's dimension set as awscli takes it: Name=Eni,Value=eni-… (repeat the flag for more) or JSON [{\"Name\":\"Eni\",\"Value\":\"eni-…\"}]")
	f.StringSliceVar(&alarmActions, "alarm-actions", nil, "ARNs recorded when the alarm enters ALARM")
	f.StringSliceVar(&okActions, "ok-actions", nil, "ARNs recorded when the alarm enters OK")
	f.StringSliceVar(&insufficientActions, "insufficient-data-actions", nil, "ARNs recorded when the alarm enters INSUFFICIENT_DATA")
	return c
}

func newAlarmListCmd() *cobra.Command {
	var dataDir, output, prefix, state string
	var names []string
	c := &cobra.Command{
		Use:   "list [--alarm-names N,...] [--alarm-name-prefix P] [--state-value S]",
		Short: "List alarms with their state, like aws cloudwatch describe-alarms",
		Long: `List alarms sorted by name with their definition and current state.
--output json prints the describe-alarms shape {"MetricAlarms": [...],
"CompositeAlarms": []}.`,
		Example: `  vpcflow logs alarm list
  vpcflow logs alarm list --state-value ALARM --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkLogsOutput(output); err != nil {
				return err
			}
			if err := checkAlarmState(state); err != nil {
				return err
			}
			s, err := openLogs(cmd, dataDir, false)
			if err != nil {
				return err
			}
			defer s.Close()
			out, err := s.DescribeAlarms(logsvc.DescribeAlarmsInput{AlarmNames: names, AlarmNamePrefix: prefix, StateValue: state})
			if err != nil {
				return logsServiceError("DescribeAlarms", err)
			}
			if output == "json" {
				return writeLogsJSON(cmd.OutOrStdout(), out)
			}
			return writeAlarmTable(cmd, out.MetricAlarms)
		},
	}
	addLogsDataDirFlag(c, &dataDir)
	addLogsOutputFlag(c, &output)
	c.Flags().StringSliceVar(&names, "alarm-names", nil, "only these alarms (comma-separated)")
	c.Flags().StringVar(&prefix, "alarm-name-prefix", "", "only alarms whose name starts with this")
	c.Flags().StringVar(&state, "state-value", "", "only alarms in this state: OK, ALARM or INSUFFICIENT_DATA")
	return c
}

func checkAlarmState(s string) error {
	switch s {
	case "", metricfilter.StateOK, metricfilter.StateAlarm, metricfilter.StateInsufficientData:
		return nil
	}
	return usageErrorf("--state-value %q: want OK, ALARM or INSUFFICIENT_DATA", s)
}

func writeAlarmTable(cmd *cobra.Command, alarms []metricfilter.MetricAlarm) error {
	t := newLogsTable(cmd.OutOrStdout(), "NAME", "STATE", "SINCE", "CONDITION")
	for _, a := range alarms {
		since := a.StateUpdatedTimestamp
		if since == "" {
			since = "-"
		}
		t.row(a.AlarmName, a.StateValue, since, alarmCondition(a))
	}
	return t.flush()
}

// alarmCondition describes an alarm in one line for people.
func alarmCondition(a metricfilter.MetricAlarm) string {
	ops := map[string]string{"GreaterThanOrEqualToThreshold": ">=", "GreaterThanThreshold": ">", "LessThanThreshold": "<", "LessThanOrEqualToThreshold": "<="}
	m := a.DatapointsToAlarm
	metric := a.Namespace + "/" + a.MetricName
	if len(a.Dimensions) > 0 {
		var ds []string
		for _, d := range a.Dimensions {
			ds = append(ds, d.Name+"="+d.Value)
		}
		metric += "{" + strings.Join(ds, ",") + "}"
	}
	return fmt.Sprintf("%s(%s) %s %s for %d of %d x %ds", a.Statistic, metric, ops[a.ComparisonOperator],
		strconv.FormatFloat(a.Threshold, 'f', -1, 64), m, a.EvaluationPeriods, a.Period)
}

func newAlarmDeleteCmd() *cobra.Command {
	var dataDir string
	var names []string
	c := &cobra.Command{
		Use:   "delete --alarm-names N[,N...]",
		Short: "Delete alarms with their history, like aws cloudwatch delete-alarms",
		Long: `Delete alarms, their state and their history. If any name is unknown nothing
is deleted and the command exits 1 with ResourceNotFound.`,
		Example: `  vpcflow logs alarm delete --alarm-names ssh-rejects`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(names) == 0 {
				return usageErrorf("--alarm-names is required")
			}
			s, err := openLogs(cmd, dataDir, true)
			if err != nil {
				return err
			}
			defer s.Close()
			if err := s.DeleteAlarms(names...); err != nil {
				return logsServiceError("DeleteAlarms", err)
			}
			return nil
		},
	}
	addLogsDataDirFlag(c, &dataDir)
	c.Flags().StringSliceVar(&names, "alarm-names", nil, "alarms to delete (comma-separated)")
	c.Flags().StringSliceVar(&names, "alarm-name", nil, "same as --alarm-names")
	return c
}

func newAlarmHistoryCmd() *cobra.Command {
	var dataDir, output, name string
	var limit int
	c := &cobra.Command{
		Use:   "history [--alarm-name N]",
		Short: "Show alarm state changes, like aws cloudwatch describe-alarm-history",
		Long: `Show the state changes of one alarm (--alarm-name) or of all alarms, newest
first, with the reason (the datapoints judged and the threshold). The time of
a change is the end of the period whose evaluation caused it (event time).
--output json prints the describe-alarm-history shape {"AlarmHistoryItems":
[...]} with HistoryItemType StateUpdate and HistoryData as a JSON string.`,
		Example: `  vpcflow logs alarm history --alarm-name ssh-rejects
  vpcflow logs alarm history --output json --max-records 10`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkLogsOutput(output); err != nil {
				return err
			}
			if limit < 0 {
				return usageErrorf("--max-records %d: want 0 (all) or more", limit)
			}
			s, err := openLogs(cmd, dataDir, false)
			if err != nil {
				return err
			}
			defer s.Close()
			if name != "" {
				// DescribeAlarmHistory answers an unknown name with no
				// items; a person more likely mistyped it.
				al, err := s.DescribeAlarms(logsvc.DescribeAlarmsInput{AlarmNames: []string{name}})
				if err != nil {
					return logsServiceError("DescribeAlarms", err)
				}
				if len(al.MetricAlarms) == 0 {
					return &exitError{code: 1, msg: fmt.Sprintf("no alarm named %q", name)}
				}
			}
			// State changes only, as the help says; SNS and webhook action
			// outcomes are in the API's describe-alarm-history.
			out, err := s.DescribeAlarmHistory(logsvc.DescribeAlarmHistoryInput{AlarmName: name, HistoryItemType: "StateUpdate", MaxRecords: limit})
			if err != nil {
				return logsServiceError("DescribeAlarmHistory", err)
			}
			if output == "json" {
				return writeLogsJSON(cmd.OutOrStdout(), out)
			}
			return writeHistoryTable(cmd, out.AlarmHistoryItems)
		},
	}
	addLogsDataDirFlag(c, &dataDir)
	addLogsOutputFlag(c, &output)
	c.Flags().StringVar(&name, "alarm-name", "", "only this alarm")
	c.Flags().StringVar(&name, "name", "", "same as --alarm-name")
	c.Flags().IntVar(&limit, "max-records", 0, "at most this many items (0: all)")
	return c
}

func writeHistoryTable(cmd *cobra.Command, items []metricfilter.AlarmHistoryItem) error {
	t := newLogsTable(cmd.OutOrStdout(), "TIME", "ALARM", "CHANGE", "REASON")
	for _, it := range items {
		var d metricfilter.HistoryData
		json.Unmarshal([]byte(it.HistoryData), &d)
		t.row(it.Timestamp, it.AlarmName, strings.TrimPrefix(it.HistorySummary, "Alarm updated from "), d.NewState.StateReason)
	}
	return t.flush()
}

func newAlarmsCmd() *cobra.Command {
	var dataDir, output string
	var recent int
	c := &cobra.Command{
		Use:   "alarms",
		Short: "List alarms with their state and recent state history",
		Long: `List every alarm with its state, then the most recent state changes of all
alarms (newest first, --recent of them). --output json prints
{"MetricAlarms": [...], "AlarmHistoryItems": [...]}: the describe-alarms and
describe-alarm-history shapes together.`,
		Example: `  vpcflow logs alarms
  vpcflow logs alarms --recent 50 --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkLogsOutput(output); err != nil {
				return err
			}
			if recent < 0 {
				return usageErrorf("--recent %d: want 0 (all) or more", recent)
			}
			s, err := openLogs(cmd, dataDir, false)
			if err != nil {
				return err
			}
			defer s.Close()
			al, err := s.DescribeAlarms(logsvc.DescribeAlarmsInput{})
			if err != nil {
				return logsServiceError("DescribeAlarms", err)
			}
			h, err := s.DescribeAlarmHistory(logsvc.DescribeAlarmHistoryInput{HistoryItemType: "StateUpdate", MaxRecords: recent})
			if err != nil {
				return logsServiceError("DescribeAlarmHistory", err)
			}
			if output == "json" {
				return writeLogsJSON(cmd.OutOrStdout(), map[string]any{"MetricAlarms": al.MetricAlarms, "AlarmHistoryItems": h.AlarmHistoryItems})
			}
			if err := writeAlarmTable(cmd, al.MetricAlarms); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout())
			return writeHistoryTable(cmd, h.AlarmHistoryItems)
		},
	}
	addLogsDataDirFlag(c, &dataDir)
	addLogsOutputFlag(c, &output)
	c.Flags().IntVar(&recent, "recent", 10, "how many recent state changes to show (0: all)")
	return c
}

// alarmDimensions reads --dimensions as awscli reads cloudwatch
// put-metric-alarm's: each item is the shorthand Name=N,Value=V or JSON (an
// object or a list of objects) with exactly the members Name and Value.
// What awscli refuses is refused with its wording.
func alarmDimensions(items []string) ([]metricfilter.Dimension, error) {
	var out []metricfilter.Dimension
	for _, item := range items {
		var ds []map[string]any
		t := strings.TrimSpace(item)
		switch {
		case strings.HasPrefix(t, "["):
			if err := json.Unmarshal([]byte(t), &ds); err != nil {
				return nil, fmt.Errorf("%q: not a JSON list of {\"Name\": ..., \"Value\": ...}: %v", item, err)
			}
		case strings.HasPrefix(t, "{"):
			var d map[string]any
			if err := json.Unmarshal([]byte(t), &d); err != nil {
				return nil, fmt.Errorf("%q: not a JSON object {\"Name\": ..., \"Value\": ...}: %v", item, err)
			}
			ds = append(ds, d)
		default:
			m, err := parseShorthand(t)
			if err != nil {
				return nil, fmt.Errorf("%q: %v (want Name=NAME,Value=VALUE)", item, err)
			}
			ds = append(ds, m)
		}
		for _, d := range ds {
			i := len(out)
			for k := range d {
				if k != "Name" && k != "Value" {
					hint := ""
					if v, ok := d[k].(string); ok && len(d) == 1 {
						hint = fmt.Sprintf(" (awscli's form of this dimension is Name=%s,Value=%s)", k, v)
					}
					return nil, fmt.Errorf("%q: Unknown parameter in Dimensions[%d]: %q, must be one of: Name, Value%s", item, i, k, hint)
				}
			}
			var dim metricfilter.Dimension
			for _, k := range []string{"Name", "Value"} {
				v, ok := d[k]
				if !ok {
					return nil, fmt.Errorf("%q: Missing required parameter in Dimensions[%d]: %q", item, i, k)
				}
				str, ok := v.(string)
				if !ok {
					return nil, fmt.Errorf("%q: Invalid type for parameter Dimensions[%d].%s, value: %v, type: %T, valid types: <class 'str'>", item, i, k, v, v)
				}
				if k == "Name" {
					dim.Name = str
				} else {
					dim.Value = str
				}
			}
			out = append(out, dim)
		}
	}
	return out, nil
}
