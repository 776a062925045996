// Package metricfilter turns log events into metric datapoints and evaluates
// alarms on them, as CloudWatch Logs metric filters and CloudWatch alarms do
// (docs/aws-behaviour.md, "Metric filters and alarms"). It holds no storage of its own: definitions
// are plain JSON-serialisable structs that the log store persists, and the
// store calls Engine.Ingest with every batch it accepts.
package metricfilter

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/vpcflow/vpcflow/filterpattern"
)

// Quotas per log group and per filter (docs/aws-behaviour.md, "Metric filters
// and alarms"; the regex quota is under "Regular expressions").
const (
	MaxFiltersPerGroup      = 100
	MaxRegexFiltersPerGroup = 5
	MaxDimensions           = 3
)

// Units are the allowed metric units (docs/aws-behaviour.md, "Metric filters
// and alarms"); the default is None.
var Units = []string{"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes",
	"Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count", "Bytes/Second", "Kilobytes/Second",
	"Megabytes/Second", "Gigabytes/Second", "Terabytes/Second", "Bits/Second", "Kilobits/Second", "Megabits/Second",
	"Gigabits/Second", "Terabits/Second", "Count/Second", "None"}

// Transformation is one element of metricTransformations, in the AWS JSON shape.
type Transformation struct {
	MetricName      string            `json:"metricName"`
	MetricNamespace string            `json:"metricNamespace"`
	MetricValue     string            `json:"metricValue"`
	DefaultValue    *float64          `json:"defaultValue,omitempty"`
	Dimensions      map[string]string `json:"dimensions,omitempty"`
	Unit            string            `json:"unit,omitempty"`
}

// Definition is a metric filter as PutMetricFilter takes it and
// DescribeMetricFilters returns it.
type Definition struct {
	FilterName             string           `json:"filterName"`
	FilterPattern          string           `json:"filterPattern"`
	MetricTransformations  []Transformation `json:"metricTransformations"`
	LogGroupName           string           `json:"logGroupName,omitempty"`
	CreationTime           int64            `json:"creationTime,omitempty"`
	ApplyOnTransformedLogs bool             `json:"applyOnTransformedLogs"`
	FieldSelectionCriteria string           `json:"fieldSelectionCriteria,omitempty"`
	EmitSystemFieldDims    []string         `json:"emitSystemFieldDimensions,omitempty"`
}

// Error is a rejected definition, with the AWS error code and message.
type Error struct {
	Code    string // InvalidParameterException, LimitExceededException, ResourceNotFoundException
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func invalid(format string, args ...any) *Error {
	return &Error{Code: "InvalidParameterException", Message: fmt.Sprintf(format, args...)}
}

// validation collects shape violations into AWS's "N validation errors
// detected" message (docs/aws-behaviour.md, "CloudWatch Logs API").
type validation []string

func (v *validation) add(value, member, rule string) {
	*v = append(*v, fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: Member must %s", value, member, rule))
}

func (v validation) err() error {
	switch len(v) {
	case 0:
		return nil
	case 1:
		return invalid("1 validation error detected: %s", v[0])
	}
	return invalid("%d validation errors detected: %s", len(v), strings.Join(v, "; "))
}

func runeLen(s string) int { return len([]rune(s)) }

func (v *validation) name(value, member string, max int, forbidden, rule string) {
	switch n := runeLen(value); {
	case n < 1:
		v.add(value, member, "have length greater than or equal to 1")
	case n > max:
		v.add(value, member, fmt.Sprintf("have length less than or equal to %d", max))
	case strings.ContainsAny(value, forbidden):
		v.add(value, member, "satisfy regular expression pattern: "+rule)
	}
}

// Filter is a validated, compiled metric filter.
type Filter struct {
	Def     Definition
	pattern *filterpattern.Pattern
	value   ref
	literal float64
	dims    []dimRef // sorted by name
}

// ref is how a metricValue or dimension reads the event.
type ref struct {
	kind  refKind
	field string                  // "$name" or "$N" for delimited patterns
	sel   *filterpattern.Selector // for JSON patterns
}

type refKind uint8

const (
	refLiteral refKind = iota
	refField
	refJSON
)

type dimRef struct {
	name string
	ref  ref
}

// Compile validates d (docs/aws-behaviour.md, "Metric filters and alarms")
// and prepares it for Apply. Errors are *Error.
func Compile(d Definition) (*Filter, error) {
	var v validation
	v.name(d.FilterName, "filterName", 512, ":*", "[^:*]*")
	if n := runeLen(d.FilterPattern); n > filterpattern.MaxLength {
		v.add(d.FilterPattern, "filterPattern", "have length less than or equal to 1024")
	}
	switch n := len(d.MetricTransformations); {
	case n < 1:
		v.add("[]", "metricTransformations", "have length greater than or equal to 1")
	case n > 1:
		v.add(fmt.Sprint(d.MetricTransformations), "metricTransformations", "have length less than or equal to 1")
	}
	for i, t := range d.MetricTransformations {
		m := fmt.Sprintf("metricTransformations.%d.member.", i+1)
		v.name(t.MetricName, m+"metricName", 255, ":*$", "[^:*$]*")
		v.name(t.MetricNamespace, m+"metricNamespace", 255, ":*$", "[^:*$]*")
		switch n := runeLen(t.MetricValue); {
		case n < 1:
			v.add(t.MetricValue, m+"metricValue", "have length greater than or equal to 1")
		case n > 100:
			v.add(t.MetricValue, m+"metricValue", "have length less than or equal to 100")
		}
		if t.Unit != "" && !contains(Units, t.Unit) {
			v.add(t.Unit, m+"unit", "satisfy enum value set: ["+strings.Join(Units, ", ")+"]")
		}
		for k, val := range t.Dimensions {
			if runeLen(k) < 1 || runeLen(k) > 255 {
				v.add(k, m+"dimensions", "have length less than or equal to 255")
			}
			if runeLen(val) > 255 {
				v.add(val, m+"dimensions", "have length less than or equal to 255")
			}
		}
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	p, err := filterpattern.Compile(d.FilterPattern)
	if err != nil {
		return nil, invalid("%s", patternMessage(err))
	}
	f := &Filter{Def: d, pattern: p}
	t := d.MetricTransformations[0]
	if f.value, err = compileRef(p, t.MetricValue, "metricValue", true); err != nil {
		return nil, err
	}
	if f.value.kind == refLiteral {
		f.literal, _ = filterpattern.ParseNumber(t.MetricValue)
	}
	if len(t.Dimensions) > MaxDimensions {
		return nil, invalid("A metric transformation may have at most %d dimensions, got %d.", MaxDimensions, len(t.Dimensions))
	}
	if len(t.Dimensions) > 0 {
		if k := p.Kind(); k != filterpattern.JSON && k != filterpattern.Delimited {
			return nil, invalid("Dimensions are only allowed with JSON or space-delimited filter patterns.")
		}
		if t.DefaultValue != nil {
			return nil, invalid("A metric transformation with dimensions cannot have a default value.")
		}
	}
	for name, val := range t.Dimensions {
		r, err := compileRef(p, val, "dimension "+name, false)
		if err != nil {
			return nil, err
		}
		f.dims = append(f.dims, dimRef{name: name, ref: r})
	}
	sort.Slice(f.dims, func(i, j int) bool { return f.dims[i].name < f.dims[j].name })
	return f, nil
}

// patternMessage gives the AWS message of a pattern error with the column
// and reason appended, so the caller learns where the problem is.
func patternMessage(err error) string {
	if pe, ok := err.(*filterpattern.Error); ok {
		return fmt.Sprintf("%s: column %d: %s", pe.Msg, pe.Pos, pe.Detail)
	}
	return err.Error()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// compileRef checks a metricValue or dimension value against the pattern
// kind: $.path needs a JSON pattern, $name/$N a delimited one that can
// produce that key; a numeric literal is a metricValue only.
func compileRef(p *filterpattern.Pattern, s, what string, literalOK bool) (ref, error) {
	if literalOK {
		if _, ok := filterpattern.ParseNumber(s); ok {
			return ref{kind: refLiteral}, nil
		}
	}
	switch {
	case strings.HasPrefix(s, "$."):
		if p.Kind() != filterpattern.JSON {
			return ref{}, invalid("Invalid %s '%s': a $.path reference needs a JSON filter pattern.", what, s)
		}
		sel, err := filterpattern.ParseSelector(s)
		if err != nil {
			return ref{}, invalid("Invalid %s '%s': %s", what, s, patternMessage(err))
		}
		return ref{kind: refJSON, sel: sel}, nil
	case strings.HasPrefix(s, "$") && len(s) > 1:
		if p.Kind() != filterpattern.Delimited {
			return ref{}, invalid("Invalid %s '%s': a $field reference needs a space-delimited filter pattern.", what, s)
		}
		name := s[1:]
		if n, err := strconv.Atoi(name); err == nil && name[0] != '0' {
			if n < 1 || (!p.HasEllipsis() && n > p.Slots()) {
				return ref{}, invalid("Invalid %s '%s': the pattern has no field %d.", what, s, n)
			}
			return ref{kind: refField, field: s}, nil
		}
		if !contains(p.SlotNames(), name) {
			return ref{}, invalid("Invalid %s '%s': the filter pattern has no field named '%s'.", what, s, name)
		}
		return ref{kind: refField, field: s}, nil
	}
	if literalOK {
		return ref{}, invalid("Invalid %s '%s': want a number, $field or $.path.", what, s)
	}
	return ref{}, invalid("Invalid %s '%s': want $field or $.path.", what, s)
}

// Pattern is the compiled filter pattern.
func (f *Filter) Pattern() *filterpattern.Pattern { return f.pattern }

// metricKey names the series f writes for the given dimensions.
func (f *Filter) metricKey(dims []Dimension) MetricKey {
	t := f.Def.MetricTransformations[0]
	return MetricKey{Namespace: t.MetricNamespace, Name: t.MetricName, Dimensions: canonicalDims(dims)}
}

// Datapoint is one metric observation produced by a matching event.
type Datapoint struct {
	Namespace  string      `json:"namespace"`
	MetricName string      `json:"metricName"`
	Dimensions []Dimension `json:"dimensions,omitempty"`
	Unit       string      `json:"unit"`
	Timestamp  int64       `json:"timestamp"` // ms: the event's timestamp ([Choice])
	Value      float64     `json:"value"`
}

// Dimension is a CloudWatch metric dimension.
type Dimension struct {
	Name  string `json:"Name"`
	Value string `json:"Value"`
}

// Apply runs f on one event. matched reports the pattern result; ok is true
// when a datapoint was produced, which also needs a numeric value and every
// dimension present ([Choice], docs/aws-behaviour.md, "Metric filters and
// alarms").
func (f *Filter) Apply(timestamp int64, msg string) (dp Datapoint, matched, ok bool) {
	var values map[string]string
	var doc any
	needFields := f.value.kind == refField
	for _, d := range f.dims {
		needFields = needFields || d.ref.kind == refField
	}
	if needFields {
		matched, values = f.pattern.Extract(msg)
	} else {
		matched = f.pattern.MatchString(msg)
	}
	if !matched {
		return dp, false, false
	}
	resolve := func(r ref) (string, bool) {
		switch r.kind {
		case refField:
			s, ok := values[r.field]
			return s, ok
		case refJSON:
			if doc == nil {
				var ok bool
				if doc, ok = filterpattern.ParseJSON(msg); !ok {
					return "", false
				}
			}
			return r.sel.LookupValue(doc)
		}
		return "", false
	}
	t := f.Def.MetricTransformations[0]
	dp = Datapoint{Namespace: t.MetricNamespace, MetricName: t.MetricName, Unit: t.Unit, Timestamp: timestamp}
	if dp.Unit == "" {
		dp.Unit = "None"
	}
	if f.value.kind == refLiteral {
		dp.Value = f.literal
	} else {
		s, ok := resolve(f.value)
		if !ok {
			return Datapoint{}, true, false
		}
		if dp.Value, ok = filterpattern.ParseNumber(s); !ok {
			return Datapoint{}, true, false
		}
	}
	for _, d := range f.dims {
		s, ok := resolve(d.ref)
		if !ok {
			return Datapoint{}, true, false
		}
		dp.Dimensions = append(dp.Dimensions, Dimension{Name: d.name, Value: s})
	}
	return dp, true, true
}

// CheckGroupLimits reports whether adding d to a group that holds existing
// stays within the per-group quotas (d replaces a filter of the same name):
// 100 filters, 5 of them with a regex (docs/aws-behaviour.md, "Metric
// filters and alarms" and "Regular expressions").
func CheckGroupLimits(existing []*Filter, d *Filter) error {
	count, regex := 0, 0
	for _, f := range existing {
		if f.Def.FilterName == d.Def.FilterName {
			continue
		}
		count++
		if f.pattern.RegexCount() > 0 {
			regex++
		}
	}
	if count+1 > MaxFiltersPerGroup {
		return &Error{Code: "LimitExceededException", Message: "Resource limit exceeded."}
	}
	if d.pattern.RegexCount() > 0 && regex+1 > MaxRegexFiltersPerGroup {
		return &Error{Code: "LimitExceededException", Message: "Resource limit exceeded."}
	}
	return nil
}
