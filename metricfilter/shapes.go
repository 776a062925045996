package metricfilter

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// The types below are the answers of DescribeAlarms, DescribeAlarmHistory,
// DescribeMetricFilters and GetMetricStatistics as the AWS CLI prints them,
// so that the CLI and an HTTP API return the same documents. Members are in
// the order of the AWS API model; timestamps are the CLI's rendering
// (FormatTime).

// FormatTime renders epoch ms as the AWS CLI prints CloudWatch timestamps:
// 2019-07-14T13:00:00.000Z.
func FormatTime(ms int64) string {
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z")
}

// MetricAlarm is one element of DescribeAlarms' MetricAlarms.
type MetricAlarm struct {
	AlarmName                          string      `json:"AlarmName"`
	AlarmArn                           string      `json:"AlarmArn"`
	AlarmDescription                   string      `json:"AlarmDescription,omitempty"`
	AlarmConfigurationUpdatedTimestamp string      `json:"AlarmConfigurationUpdatedTimestamp,omitempty"`
	ActionsEnabled                     bool        `json:"ActionsEnabled"`
	OKActions                          []string    `json:"OKActions"`
	AlarmActions                       []string    `json:"AlarmActions"`
	InsufficientDataActions            []string    `json:"InsufficientDataActions"`
	StateValue                         string      `json:"StateValue"`
	StateReason                        string      `json:"StateReason"`
	StateReasonData                    string      `json:"StateReasonData,omitempty"`
	StateUpdatedTimestamp              string      `json:"StateUpdatedTimestamp,omitempty"`
	MetricName                         string      `json:"MetricName"`
	Namespace                          string      `json:"Namespace"`
	Statistic                          string      `json:"Statistic"`
	Dimensions                         []Dimension `json:"Dimensions"`
	Period                             int         `json:"Period"`
	Unit                               string      `json:"Unit,omitempty"`
	EvaluationPeriods                  int         `json:"EvaluationPeriods"`
	DatapointsToAlarm                  int         `json:"DatapointsToAlarm"`
	Threshold                          float64     `json:"Threshold"`
	ComparisonOperator                 string      `json:"ComparisonOperator"`
	TreatMissingData                   string      `json:"TreatMissingData"`
	EvaluationState                    string      `json:"EvaluationState,omitempty"`
	StateTransitionedTimestamp         string      `json:"StateTransitionedTimestamp,omitempty"`
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// MetricAlarm describes the alarm as DescribeAlarms does. arn is the
// alarm's ARN: the account and region are the caller's configuration.
// Defaults are spelled out (DatapointsToAlarm = EvaluationPeriods,
// TreatMissingData = missing) and lists are [] rather than absent, as AWS
// answers. The state timestamps are absent when the state has no time (an
// Evaluator made by NewEvaluator and never changed; Engine.PutAlarm dates
// a new alarm's state from its creation).
func (e *Evaluator) MetricAlarm(arn string) MetricAlarm {
	a := e.Alarm
	m := MetricAlarm{AlarmName: a.AlarmName, AlarmArn: arn, AlarmDescription: a.AlarmDescription, ActionsEnabled: a.actionsEnabled(),
		StateReasonData: e.StateReasonData, Unit: a.Unit,
		OKActions: nonNil(a.OKActions), AlarmActions: nonNil(a.AlarmActions), InsufficientDataActions: nonNil(a.InsufficientDataActions),
		StateValue: e.State, StateReason: e.StateReason,
		MetricName: a.MetricName, Namespace: a.Namespace, Statistic: a.Statistic, Dimensions: nonNil(a.Dimensions),
		Period: a.Period, EvaluationPeriods: a.EvaluationPeriods, DatapointsToAlarm: a.datapointsToAlarm(),
		Threshold: a.Threshold, ComparisonOperator: a.ComparisonOperator, TreatMissingData: a.TreatMissingData}
	if m.TreatMissingData == "" {
		m.TreatMissingData = missingMissing
	}
	if e.ConfigUpdated != 0 {
		m.AlarmConfigurationUpdatedTimestamp = FormatTime(e.ConfigUpdated)
	}
	if e.Updated != 0 {
		m.StateUpdatedTimestamp = FormatTime(e.Updated)
		m.StateTransitionedTimestamp = m.StateUpdatedTimestamp
	}
	return m
}

// AlarmHistoryItem is one element of DescribeAlarmHistory's
// AlarmHistoryItems.
type AlarmHistoryItem struct {
	AlarmName       string `json:"AlarmName"`
	AlarmType       string `json:"AlarmType"`
	Timestamp       string `json:"Timestamp"`
	HistoryItemType string `json:"HistoryItemType"`
	HistorySummary  string `json:"HistorySummary"`
	HistoryData     string `json:"HistoryData"` // a HistoryData document as JSON text
}

// HistoryData is the JSON document an AlarmHistoryItem of type StateUpdate
// carries as text.
type HistoryData struct {
	Version  string       `json:"version"`
	OldState HistoryState `json:"oldState"`
	NewState HistoryState `json:"newState"`
	Actions  []string     `json:"actions"` // the actions the change fired (ARNs and webhook URLs)
}

// HistoryState is one side of a state change in HistoryData.
type HistoryState struct {
	StateValue      string          `json:"stateValue"`
	StateReason     string          `json:"stateReason"`
	StateReasonData json.RawMessage `json:"stateReasonData,omitempty"` // SetAlarmState's document
}

// ActionData is the JSON document an AlarmHistoryItem of type Action
// carries as text: whether the action ran, for which state change, and the
// message sent.
type ActionData struct {
	ActionState          string `json:"actionState"` // Succeeded or Failed
	StateUpdateTimestamp int64  `json:"stateUpdateTimestamp"`
	NotificationResource string `json:"notificationResource"`
	PublishedMessage     string `json:"publishedMessage,omitempty"`
	Error                string `json:"error,omitempty"`
}

// initialReason is every alarm's first state reason, so the old side of
// its first change.
const initialReason = "Unchecked: Initial alarm creation"

// HistoryEntry is one rendered history item with what orders it: the time
// (ms) and, within an alarm, its position in the history.
type HistoryEntry struct {
	Item  AlarmHistoryItem
	Time  int64
	Index int // position in the alarm's History
}

// HistoryEntries renders the history of the alarms, newest first. Within
// one time items go by alarm name, then the later entry of an alarm first,
// which keeps the order total (Time, AlarmName, Index) and stable as
// history grows.
func HistoryEntries(evs []Evaluator) []HistoryEntry {
	var items []HistoryEntry
	for _, ev := range evs {
		oldReason, oldData := initialReason, ""
		for i, c := range ev.History {
			it := AlarmHistoryItem{AlarmName: ev.Alarm.AlarmName, AlarmType: "MetricAlarm", Timestamp: FormatTime(c.Timestamp)}
			if c.Type == HistoryAction {
				it.HistoryItemType, it.HistorySummary, it.HistoryData = HistoryAction, c.Summary, c.Data
			} else {
				d := HistoryData{Version: "1.0", OldState: HistoryState{c.OldState, oldReason, rawJSON(oldData)},
					NewState: HistoryState{c.NewState, c.Reason, rawJSON(c.ReasonData)}, Actions: nonNil(c.Actions)}
				data, _ := json.Marshal(d)
				oldReason, oldData = c.Reason, c.ReasonData
				it.HistoryItemType, it.HistoryData = HistoryStateUpdate, string(data)
				it.HistorySummary = fmt.Sprintf("Alarm updated from %s to %s", c.OldState, c.NewState)
			}
			items = append(items, HistoryEntry{Item: it, Time: c.Timestamp, Index: i})
		}
	}
	slices.SortStableFunc(items, CompareHistory)
	return items
}

// CompareHistory orders history entries newest first (see HistoryEntries).
func CompareHistory(a, b HistoryEntry) int {
	if c := cmp.Compare(b.Time, a.Time); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Item.AlarmName, b.Item.AlarmName); c != 0 {
		return c
	}
	return cmp.Compare(b.Index, a.Index)
}

// rawJSON is a stored JSON document, nil when there is none or it does not
// parse (a document is checked when it is given; this keeps a damaged one
// from breaking the whole answer).
func rawJSON(s string) json.RawMessage {
	if s == "" || !json.Valid([]byte(s)) {
		return nil
	}
	return json.RawMessage(s)
}

// AlarmHistory lists the state changes of the alarms as DescribeAlarmHistory
// does, newest first, at most limit items (0: all).
func AlarmHistory(evs []Evaluator, limit int) []AlarmHistoryItem {
	out := []AlarmHistoryItem{}
	for _, e := range HistoryEntries(evs) {
		if limit > 0 && len(out) == limit {
			break
		}
		out = append(out, e.Item)
	}
	return out
}

// MetricFilter is one element of DescribeMetricFilters' metricFilters.
// applyOnTransformedLogs is always present (false: vpcflow has no log
// transformers); the other optional members only when set.
type MetricFilter struct {
	FilterName             string           `json:"filterName"`
	FilterPattern          string           `json:"filterPattern"`
	MetricTransformations  []Transformation `json:"metricTransformations"`
	CreationTime           int64            `json:"creationTime"`
	LogGroupName           string           `json:"logGroupName"`
	ApplyOnTransformedLogs bool             `json:"applyOnTransformedLogs"`
	FieldSelectionCriteria string           `json:"fieldSelectionCriteria,omitempty"`
	EmitSystemFieldDims    []string         `json:"emitSystemFieldDimensions,omitempty"`
}

// MetricFilter describes the definition as DescribeMetricFilters does.
func (d *Definition) MetricFilter() MetricFilter {
	return MetricFilter{FilterName: d.FilterName, FilterPattern: d.FilterPattern, MetricTransformations: d.MetricTransformations,
		CreationTime: d.CreationTime, LogGroupName: d.LogGroupName, ApplyOnTransformedLogs: d.ApplyOnTransformedLogs,
		FieldSelectionCriteria: d.FieldSelectionCriteria, EmitSystemFieldDims: d.EmitSystemFieldDims}
}

// StatisticsDatapoint is one element of GetMetricStatistics' Datapoints,
// with every statistic.
type StatisticsDatapoint struct {
	Timestamp   string  `json:"Timestamp"`
	SampleCount float64 `json:"SampleCount"`
	Average     float64 `json:"Average"`
	Sum         float64 `json:"Sum"`
	Minimum     float64 `json:"Minimum"`
	Maximum     float64 `json:"Maximum"`
	Unit        string  `json:"Unit"`
}

// StatisticsDatapoint renders one period's statistics; m.Minute is the
// period's start.
func (m MinuteStat) StatisticsDatapoint(unit string) StatisticsDatapoint {
	return StatisticsDatapoint{Timestamp: FormatTime(m.Minute), SampleCount: m.SampleCount, Average: m.Sum / m.SampleCount,
		Sum: m.Sum, Minimum: m.Minimum, Maximum: m.Maximum, Unit: unit}
}
