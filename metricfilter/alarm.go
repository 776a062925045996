package metricfilter

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Alarm states (docs/aws-behaviour.md, "Metric filters and alarms").
const (
	StateOK                = "OK"
	StateAlarm             = "ALARM"
	StateInsufficientData  = "INSUFFICIENT_DATA"
	missingMissing         = "missing"
	missingIgnore          = "ignore"
	missingBreaching       = "breaching"
	missingNotBreaching    = "notBreaching"
	maxEvaluationRange     = 604_800
	maxEvaluationRangeFast = 86_400
)

var (
	statistics  = []string{"SampleCount", "Average", "Sum", "Minimum", "Maximum"}
	comparisons = []string{"GreaterThanOrEqualToThreshold", "GreaterThanThreshold", "LessThanThreshold", "LessThanOrEqualToThreshold"}
	treatments  = []string{missingMissing, missingIgnore, missingBreaching, missingNotBreaching}
)

// Alarm is an alarm definition with CloudWatch PutMetricAlarm member names.
type Alarm struct {
	AlarmName        string `json:"AlarmName"`
	AlarmDescription string `json:"AlarmDescription,omitempty"`
	// ActionsEnabled says whether state changes run the actions; nil is
	// true, the API's default (and what alarms saved before the member
	// existed meant).
	ActionsEnabled *bool       `json:"ActionsEnabled,omitempty"`
	Namespace      string      `json:"Namespace"`
	MetricName     string      `json:"MetricName"`
	Dimensions     []Dimension `json:"Dimensions,omitempty"`
	Statistic      string      `json:"Statistic"`
	// Unit, when set, is the unit of the datapoints the alarm reads: a
	// metric written with another unit gives it no data, as on CloudWatch.
	Unit                    string   `json:"Unit,omitempty"`
	Period                  int      `json:"Period"` // seconds
	EvaluationPeriods       int      `json:"EvaluationPeriods"`
	DatapointsToAlarm       int      `json:"DatapointsToAlarm,omitempty"` // 0 means EvaluationPeriods
	Threshold               float64  `json:"Threshold"`
	ComparisonOperator      string   `json:"ComparisonOperator"`
	TreatMissingData        string   `json:"TreatMissingData,omitempty"` // default "missing"
	AlarmActions            []string `json:"AlarmActions,omitempty"`
	OKActions               []string `json:"OKActions,omitempty"`
	InsufficientDataActions []string `json:"InsufficientDataActions,omitempty"`
}

// Validate checks the alarm against CloudWatch's rules (docs/aws-behaviour.md,
// "Metric filters and alarms"). Errors are *Error with the CloudWatch code
// ValidationError.
func (a *Alarm) Validate() error {
	var bad []string
	add := func(format string, args ...any) { bad = append(bad, fmt.Sprintf(format, args...)) }
	if n := runeLen(a.AlarmName); n < 1 || n > 255 {
		add("AlarmName must have 1 to 255 characters")
	}
	if runeLen(a.AlarmDescription) > 1024 {
		add("AlarmDescription must have at most 1024 characters")
	}
	if a.Namespace == "" || a.MetricName == "" {
		add("Namespace and MetricName are required")
	}
	if a.Unit != "" && !contains(Units, a.Unit) {
		add("Unit must be one of %s, got %q", strings.Join(Units, ", "), a.Unit)
	}
	if !contains(statistics, a.Statistic) {
		add("Statistic must be one of %s, got %q", strings.Join(statistics, ", "), a.Statistic)
	}
	if !(a.Period == 10 || a.Period == 20 || a.Period == 30 || a.Period > 0 && a.Period%60 == 0) {
		add("Period must be 10, 20, 30 or a multiple of 60 seconds, got %d", a.Period)
	}
	if a.EvaluationPeriods < 1 {
		add("EvaluationPeriods must be at least 1, got %d", a.EvaluationPeriods)
	}
	if a.DatapointsToAlarm < 0 || a.DatapointsToAlarm > a.EvaluationPeriods {
		add("DatapointsToAlarm must be between 1 and EvaluationPeriods (%d), got %d", a.EvaluationPeriods, a.DatapointsToAlarm)
	}
	limit := maxEvaluationRange
	if a.Period < 3600 {
		limit = maxEvaluationRangeFast
	}
	if a.Period > 0 && a.EvaluationPeriods > 0 && a.Period*a.EvaluationPeriods > limit {
		add("Period × EvaluationPeriods must be at most %d seconds, got %d", limit, a.Period*a.EvaluationPeriods)
	}
	if !contains(comparisons, a.ComparisonOperator) {
		add("ComparisonOperator must be one of %s, got %q", strings.Join(comparisons, ", "), a.ComparisonOperator)
	}
	if a.TreatMissingData != "" && !contains(treatments, a.TreatMissingData) {
		add("TreatMissingData must be one of %s, got %q", strings.Join(treatments, ", "), a.TreatMissingData)
	}
	if math.IsNaN(a.Threshold) || math.IsInf(a.Threshold, 0) {
		add("Threshold must be a finite number")
	}
	bad = append(bad, validateActions("OKActions", a.OKActions)...)
	bad = append(bad, validateActions("AlarmActions", a.AlarmActions)...)
	bad = append(bad, validateActions("InsufficientDataActions", a.InsufficientDataActions)...)
	if len(bad) > 0 {
		return &Error{Code: "ValidationError", Message: strings.Join(bad, "; ")}
	}
	return nil
}

// actionsEnabled reports whether state changes run the alarm's actions.
func (a *Alarm) actionsEnabled() bool { return a.ActionsEnabled == nil || *a.ActionsEnabled }

func (a *Alarm) datapointsToAlarm() int {
	if a.DatapointsToAlarm == 0 {
		return a.EvaluationPeriods
	}
	return a.DatapointsToAlarm
}

func (a *Alarm) breaches(v float64) bool {
	switch a.ComparisonOperator {
	case "GreaterThanOrEqualToThreshold":
		return v >= a.Threshold
	case "GreaterThanThreshold":
		return v > a.Threshold
	case "LessThanThreshold":
		return v < a.Threshold
	}
	return v <= a.Threshold
}

// History item types (HistoryItemType): a state change, or the result of
// one of the actions a change ran.
const (
	HistoryStateUpdate = "StateUpdate"
	HistoryAction      = "Action"
)

// StateChange is one entry of an alarm's history: a state change, or, with
// Type HistoryAction, the result of running one action.
type StateChange struct {
	AlarmName string   `json:"AlarmName"`
	Timestamp int64    `json:"Timestamp"` // ms: the end of the evaluated period, or when SetState or the action ran
	OldState  string   `json:"OldState,omitempty"`
	NewState  string   `json:"NewState,omitempty"`
	Reason    string   `json:"StateReason,omitempty"`
	Actions   []string `json:"Actions,omitempty"` // the actions that fired
	// ReasonData is the JSON document SetAlarmState was given.
	ReasonData string `json:"StateReasonData,omitempty"`
	// Type is "" for a state update (the only kind older data dirs hold)
	// or HistoryAction; Summary and Data are an action item's
	// HistorySummary and HistoryData.
	Type    string `json:"Type,omitempty"`
	Summary string `json:"Summary,omitempty"`
	Data    string `json:"Data,omitempty"`
}

// Evaluator holds an alarm's state; its fields are exported so the state
// can be saved as JSON and restored.
type Evaluator struct {
	Alarm           Alarm         `json:"Alarm"`
	State           string        `json:"StateValue"`
	StateReason     string        `json:"StateReason"`
	StateReasonData string        `json:"StateReasonData,omitempty"`
	Updated         int64         `json:"StateUpdatedTimestamp"`                        // ms
	ConfigUpdated   int64         `json:"AlarmConfigurationUpdatedTimestamp,omitempty"` // ms: last PutMetricAlarm
	Next            int64         `json:"NextEvaluation"`                               // ms: next period end to evaluate; 0 before any data
	History         []StateChange `json:"History"`
}

// NewEvaluator validates a and starts it in INSUFFICIENT_DATA.
func NewEvaluator(a Alarm) (*Evaluator, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	return &Evaluator{Alarm: a, State: StateInsufficientData, StateReason: initialReason}, nil
}

// Update replaces the definition and keeps the current state, as
// PutMetricAlarm does on an existing alarm.
func (e *Evaluator) Update(a Alarm) error {
	if err := a.Validate(); err != nil {
		return err
	}
	if a.Period != e.Alarm.Period {
		e.Next = 0
	}
	e.Alarm = a
	return nil
}

func (e *Evaluator) key() MetricKey {
	return KeyOf(e.Alarm.Namespace, e.Alarm.MetricName, e.Alarm.Dimensions)
}

// Advance evaluates every period that ends at or before now (ms, event time
// or the wall clock) and returns the state changes, which are also appended
// to History.
func (e *Evaluator) Advance(s *Store, now int64) []StateChange {
	p := int64(e.Alarm.Period) * 1000
	k := e.key()
	if e.Next == 0 {
		first, ok := s.next(k, math.MinInt64)
		if !ok {
			return nil
		}
		e.Next = floorTo(first, p) + p
	}
	var changes []StateChange
	for e.Next <= now {
		t := e.Next
		state, reason, allMissing := e.evaluate(s, k, t)
		if state != "" && state != e.State {
			changes = append(changes, e.change(state, reason, "", t, true))
		}
		e.Next = t + p
		if allMissing {
			// Until data reappears every window is all-missing and gives
			// this same result, so skip to the first window holding data.
			if nt, ok := s.next(k, t); ok {
				e.Next = max(e.Next, floorTo(nt, p)+p)
			} else {
				e.Next = max(e.Next, floorTo(now, p)+p)
			}
		}
	}
	return changes
}

// change moves the alarm to state and records it; the actions of the new
// state fire when the value changes and actions are enabled.
func (e *Evaluator) change(state, reason, reasonData string, t int64, fire bool) StateChange {
	c := StateChange{AlarmName: e.Alarm.AlarmName, Timestamp: t, OldState: e.State, NewState: state, Reason: reason, ReasonData: reasonData}
	if fire {
		c.Actions = e.actions(state)
	}
	e.State, e.StateReason, e.StateReasonData, e.Updated = state, reason, reasonData, t
	e.History = append(e.History, c)
	return c
}

// SetState sets the state by hand at now (ms), as SetAlarmState does: the
// change is recorded and runs the new state's actions when the value
// changes. The next evaluation puts back whatever state the data gives,
// as on CloudWatch. reasonData, when not empty, is a JSON document (the
// caller checks it).
func (e *Evaluator) SetState(state, reason, reasonData string, now int64) StateChange {
	return e.change(state, reason, reasonData, now, state != e.State)
}

func (e *Evaluator) actions(state string) []string {
	if !e.Alarm.actionsEnabled() {
		return nil
	}
	switch state {
	case StateAlarm:
		return e.Alarm.AlarmActions
	case StateOK:
		return e.Alarm.OKActions
	}
	return e.Alarm.InsufficientDataActions
}

// evaluate judges the N periods that end at t. An empty state means "keep".
func (e *Evaluator) evaluate(s *Store, k MetricKey, t int64) (state, reason string, allMissing bool) {
	a := &e.Alarm
	p := int64(a.Period) * 1000
	n := a.EvaluationPeriods
	m := a.datapointsToAlarm()
	present, breaching, missing := 0, 0, 0
	var points []string
	for i := 0; i < n; i++ {
		start := t - int64(n-i)*p
		st, ok := s.Stats(k, start, start+p)
		if !ok {
			missing++
			continue
		}
		present++
		v := st.Statistic(a.Statistic)
		if a.breaches(v) {
			breaching++
		}
		points = append(points, fmt.Sprintf("%s (%s)", strconv.FormatFloat(v, 'f', -1, 64), time.UnixMilli(start).UTC().Format("02/01/06 15:04:05")))
	}
	allMissing = present == 0
	switch a.TreatMissingData {
	case missingBreaching:
		breaching += missing
	case missingIgnore:
		if allMissing {
			return "", "", true
		}
	case missingNotBreaching:
	default:
		if allMissing {
			return StateInsufficientData, fmt.Sprintf("Insufficient Data: %d datapoints were unknown.", n), true
		}
	}
	state = StateOK
	verb := "was not"
	if breaching >= m {
		state, verb = StateAlarm, "was"
	}
	reason = fmt.Sprintf("Threshold Crossed: %d out of the last %d datapoints [%s] %s %s the threshold (%s) (minimum %d datapoints for ALARM).",
		breaching, n, strings.Join(points, ", "), verb, comparisonText(a.ComparisonOperator), strconv.FormatFloat(a.Threshold, 'f', -1, 64), m)
	return state, reason, allMissing
}

func comparisonText(op string) string {
	switch op {
	case "GreaterThanOrEqualToThreshold":
		return "greater than or equal to"
	case "GreaterThanThreshold":
		return "greater than"
	case "LessThanThreshold":
		return "less than"
	}
	return "less than or equal to"
}
