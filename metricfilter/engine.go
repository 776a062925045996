package metricfilter

import (
	"math"
	"sort"
	"sync"
)

// Event is a stored log event as metric filters see it.
type Event struct {
	Timestamp int64 // ms
	Message   string
}

// Engine ties filters, the metric store and alarms together: the log store
// calls Ingest with each batch PutLogEvents accepted (docs/aws-behaviour.md,
// "PutLogEvents"), which runs the group's filters and evaluates alarms on
// event time. It is safe for concurrent use.
type Engine struct {
	mu        sync.Mutex
	filters   map[string][]*Filter // by group, sorted by name
	store     *Store
	alarms    map[string]*Evaluator
	watermark int64
	seen      bool
	complete  int64 // events before it have all been ingested (Complete); alarms judge no period past it
}

// NewEngine returns an engine with no filters or alarms.
func NewEngine() *Engine {
	return &Engine{filters: map[string][]*Filter{}, store: NewStore(), alarms: map[string]*Evaluator{}, complete: math.MaxInt64}
}

// Complete says that every event with a timestamp before t (ms) has been
// ingested. A writer whose events come late holds the alarms back with it:
// flow-log delivery hands over a capture window's records when the window
// closes, up to its interval (600 s) after their timestamps, so a period is
// judged only once every window that can hold its events has been
// delivered, and its datapoints are final when it is. Until the next call,
// no alarm judges a period that ends after t, whatever the event times or
// the clock given to Ingest, Advance and PutAlarm; Complete itself judges
// the periods that end at or before both t and the newest event time.
// math.MaxInt64, the default, holds nothing back.
func (e *Engine) Complete(t int64) []StateChange {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.complete = t
	if !e.seen {
		return nil
	}
	return e.advance(e.watermark)
}

// PutFilter validates d and adds it to group, replacing a filter of the
// same name. Checking that the group exists is the caller's job.
func (e *Engine) PutFilter(group string, d Definition) (*Filter, error) {
	d.LogGroupName = group
	f, err := Compile(d)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	list := e.filters[group]
	if err := CheckGroupLimits(list, f); err != nil {
		return nil, err
	}
	for i, g := range list {
		if g.Def.FilterName == d.FilterName {
			if f.Def.CreationTime == 0 {
				f.Def.CreationTime = g.Def.CreationTime
			}
			list[i] = f
			return f, nil
		}
	}
	list = append(list, f)
	sort.Slice(list, func(i, j int) bool { return list[i].Def.FilterName < list[j].Def.FilterName })
	e.filters[group] = list
	return f, nil
}

// DeleteFilter removes a filter; a missing one is ResourceNotFoundException
// (docs/aws-behaviour.md, "CloudWatch Logs API").
func (e *Engine) DeleteFilter(group, name string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	list := e.filters[group]
	for i, f := range list {
		if f.Def.FilterName == name {
			e.filters[group] = append(list[:i:i], list[i+1:]...)
			return nil
		}
	}
	return &Error{Code: "ResourceNotFoundException", Message: "The specified metric filter does not exist."}
}

// DeleteGroup drops every filter of a deleted log group.
func (e *Engine) DeleteGroup(group string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.filters, group)
}

// Filters returns the definitions of group, or of every group when group is
// "", sorted by group then name (DescribeMetricFilters order).
func (e *Engine) Filters(group string) []Definition {
	e.mu.Lock()
	defer e.mu.Unlock()
	var groups []string
	if group != "" {
		groups = []string{group}
	} else {
		for g := range e.filters {
			groups = append(groups, g)
		}
		sort.Strings(groups)
	}
	var out []Definition
	for _, g := range groups {
		for _, f := range e.filters[g] {
			out = append(out, f.Def)
		}
	}
	return out
}

// PutAlarm creates an alarm or updates one, keeping its state; now (ms) is
// its AlarmConfigurationUpdatedTimestamp. A new alarm is evaluated at once
// up to the newest event time seen; the state changes that gives are
// returned.
func (e *Engine) PutAlarm(a Alarm, now int64) ([]StateChange, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if ev := e.alarms[a.AlarmName]; ev != nil {
		if err := ev.Update(a); err != nil {
			return nil, err
		}
		ev.ConfigUpdated = now
		return nil, nil
	}
	ev, err := NewEvaluator(a)
	if err != nil {
		return nil, err
	}
	// A new alarm's state (INSUFFICIENT_DATA) dates from its creation, as
	// DescribeAlarms shows it on CloudWatch.
	ev.ConfigUpdated, ev.Updated = now, now
	e.alarms[a.AlarmName] = ev
	if e.seen {
		return e.advanceOne(ev, min(e.watermark, e.complete)), nil
	}
	return nil, nil
}

// errNoAlarm is CloudWatch's answer for an alarm name it does not know.
func errNoAlarm(name string) error {
	return &Error{Code: "ResourceNotFound", Message: "Alarm " + name + " not found"}
}

// SetAlarmState sets an alarm's state by hand (Evaluator.SetState).
func (e *Engine) SetAlarmState(name, state, reason, reasonData string, now int64) (StateChange, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	ev := e.alarms[name]
	if ev == nil {
		return StateChange{}, errNoAlarm(name)
	}
	return ev.SetState(state, reason, reasonData, now), nil
}

// SetActionsEnabled turns the actions of the named alarms on or off, as
// EnableAlarmActions and DisableAlarmActions do; unknown names are
// skipped. It reports whether any alarm changed.
func (e *Engine) SetActionsEnabled(names []string, enabled bool) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	changed := false
	for _, n := range names {
		ev := e.alarms[n]
		if ev == nil || ev.Alarm.actionsEnabled() == enabled {
			continue
		}
		v := enabled
		ev.Alarm.ActionsEnabled = &v
		changed = true
	}
	return changed
}

// AddHistory appends an item (an action's result) to the named alarm's
// history; it reports false when the alarm no longer exists.
func (e *Engine) AddHistory(name string, item StateChange) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	ev := e.alarms[name]
	if ev == nil {
		return false
	}
	item.AlarmName = name
	ev.History = append(ev.History, item)
	return true
}

// Alarm returns a copy of the named alarm with its state and history.
func (e *Engine) Alarm(name string) (Evaluator, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	ev := e.alarms[name]
	if ev == nil {
		return Evaluator{}, false
	}
	c := *ev
	c.History = append([]StateChange(nil), ev.History...)
	return c, true
}

// RestoreAlarm puts back an evaluator saved as JSON.
func (e *Engine) RestoreAlarm(ev *Evaluator) error {
	if err := ev.Alarm.Validate(); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.alarms[ev.Alarm.AlarmName] = ev
	return nil
}

// DeleteAlarm removes an alarm and reports whether it existed.
func (e *Engine) DeleteAlarm(name string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, ok := e.alarms[name]
	delete(e.alarms, name)
	return ok
}

// Alarms returns copies of the alarms with their state and history, by name.
func (e *Engine) Alarms() []Evaluator {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Evaluator, 0, len(e.alarms))
	for _, ev := range e.alarms {
		c := *ev
		c.History = append([]StateChange(nil), ev.History...)
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Alarm.AlarmName < out[j].Alarm.AlarmName })
	return out
}

// Ingest runs group's filters over events and evaluates the alarms up to
// the newest event time seen so far (no further than Complete allows). It
// returns the datapoints written and the alarm state changes.
func (e *Engine) Ingest(group string, events []Event) ([]Datapoint, []StateChange) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var dps []Datapoint
	for _, f := range e.filters[group] {
		t := f.Def.MetricTransformations[0]
		plain := f.metricKey(nil)
		for _, ev := range events {
			dp, matched, ok := f.Apply(ev.Timestamp, ev.Message)
			switch {
			case matched:
				if t.DefaultValue != nil {
					e.store.matchedIn(plain, ev.Timestamp)
				}
				if ok {
					e.store.Add(dp)
					dps = append(dps, dp)
				}
			case t.DefaultValue != nil:
				e.store.seenIn(plain, ev.Timestamp, *t.DefaultValue)
			}
		}
	}
	for _, ev := range events {
		if !e.seen || ev.Timestamp > e.watermark {
			e.watermark, e.seen = ev.Timestamp, true
		}
	}
	return dps, e.advance(e.watermark)
}

// Advance evaluates the alarms up to now (ms), or up to what Complete
// said is complete when that is earlier; live mode calls it on the wall
// clock.
func (e *Engine) Advance(now int64) []StateChange {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.advance(now)
}

// advance evaluates the alarms up to now, held back by e.complete.
func (e *Engine) advance(now int64) []StateChange {
	now = min(now, e.complete)
	names := make([]string, 0, len(e.alarms))
	for n := range e.alarms {
		names = append(names, n)
	}
	sort.Strings(names)
	var changes []StateChange
	for _, n := range names {
		changes = append(changes, e.advanceOne(e.alarms[n], now)...)
	}
	return changes
}

// advanceOne evaluates one alarm up to now. An alarm whose Unit is not the
// unit the metric filters write its metric with reads no data, as a
// CloudWatch alarm on a unit its metric never has.
func (e *Engine) advanceOne(ev *Evaluator, now int64) []StateChange {
	if u := ev.Alarm.Unit; u != "" {
		if have, known := e.metricUnit(ev.Alarm.Namespace, ev.Alarm.MetricName); known && have != u {
			return ev.Advance(emptyStore, now)
		}
	}
	return ev.Advance(e.store, now)
}

// emptyStore stands for a metric without data of the unit asked for.
var emptyStore = NewStore()

// metricUnit is the unit the filters writing a metric declare ("None"
// when they declare none); known is false when no filter writes it.
func (e *Engine) metricUnit(namespace, name string) (unit string, known bool) {
	groups := make([]string, 0, len(e.filters))
	for g := range e.filters {
		groups = append(groups, g)
	}
	sort.Strings(groups)
	for _, g := range groups {
		for _, f := range e.filters[g] {
			t := f.Def.MetricTransformations[0]
			if t.MetricNamespace != namespace || t.MetricName != name {
				continue
			}
			if t.Unit == "" {
				return "None", true
			}
			return t.Unit, true
		}
	}
	return "", false
}

// Store returns the metric store (read it only while no Ingest runs).
func (e *Engine) Store() *Store { return e.store }
