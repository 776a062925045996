package logsapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"regexp"
	"strconv"

	"github.com/vpcflow/vpcflow/filterpattern"
	"github.com/vpcflow/vpcflow/logsvc"
	"github.com/vpcflow/vpcflow/metricfilter"
)

var filterNameRE = streamNameRE // [^:*]*, as the model gives both

const (
	metricNamePattern = `[^:*$]*`
)

var metricNameRE = regexp.MustCompile(`^` + metricNamePattern + `$`)

type metricTransformationIn struct {
	MetricName      *string           `json:"metricName"`
	MetricNamespace *string           `json:"metricNamespace"`
	MetricValue     *string           `json:"metricValue"`
	DefaultValue    *float64          `json:"defaultValue"`
	Dimensions      map[string]string `json:"dimensions"`
	Unit            *string           `json:"unit"`
}

type putMetricFilterIn struct {
	LogGroupName              *string                  `json:"logGroupName"`
	FilterName                *string                  `json:"filterName"`
	FilterPattern             *string                  `json:"filterPattern"`
	MetricTransformations     []metricTransformationIn `json:"metricTransformations"`
	ApplyOnTransformedLogs    *bool                    `json:"applyOnTransformedLogs"`
	FieldSelectionCriteria    *string                  `json:"fieldSelectionCriteria"`
	EmitSystemFieldDimensions []string                 `json:"emitSystemFieldDimensions"`
}

// putMetricFilter creates or replaces a filter. The members the service
// validates itself (names, the pattern, metric values and dimensions, the
// unit, the 100-filter and 5-regex limits) are left to it, so the CLI and
// the API answer alike; this checks what only a JSON request can get
// wrong: absent required members.
func (h *Handler) putMetricFilter(body []byte, _ string) (any, error) {
	var in putMetricFilterIn
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var v violations
	v.requiredString(in.LogGroupName, "logGroupName")
	v.requiredString(in.FilterName, "filterName")
	v.requiredString(in.FilterPattern, "filterPattern")
	if in.MetricTransformations == nil {
		v.null("metricTransformations")
	}
	for i, t := range in.MetricTransformations {
		m := "metricTransformations." + strconv.Itoa(i+1) + ".member."
		v.requiredString(t.MetricName, m+"metricName")
		v.requiredString(t.MetricNamespace, m+"metricNamespace")
		v.requiredString(t.MetricValue, m+"metricValue")
	}
	v.length(in.FieldSelectionCriteria, "fieldSelectionCriteria", 0, 2000)
	if err := v.err(); err != nil {
		return nil, err
	}
	if err := groupName(in.LogGroupName); err != nil {
		return nil, err
	}
	d := metricfilter.Definition{LogGroupName: *in.LogGroupName, FilterName: *in.FilterName,
		FilterPattern: *in.FilterPattern, EmitSystemFieldDims: in.EmitSystemFieldDimensions,
		MetricTransformations: make([]metricfilter.Transformation, len(in.MetricTransformations))}
	if in.ApplyOnTransformedLogs != nil {
		d.ApplyOnTransformedLogs = *in.ApplyOnTransformedLogs
	}
	if in.FieldSelectionCriteria != nil {
		d.FieldSelectionCriteria = *in.FieldSelectionCriteria
	}
	for i, t := range in.MetricTransformations {
		mt := metricfilter.Transformation{MetricName: *t.MetricName, MetricNamespace: *t.MetricNamespace,
			MetricValue: *t.MetricValue, DefaultValue: t.DefaultValue, Dimensions: t.Dimensions}
		if t.Unit != nil {
			mt.Unit = *t.Unit
		}
		d.MetricTransformations[i] = mt
	}
	return nil, h.svc.PutMetricFilter(d)
}

type describeMetricFiltersIn struct {
	LogGroupName     *string `json:"logGroupName"`
	FilterNamePrefix *string `json:"filterNamePrefix"`
	NextToken        *string `json:"nextToken"`
	Limit            *int64  `json:"limit"`
	MetricName       *string `json:"metricName"`
	MetricNamespace  *string `json:"metricNamespace"`
}

type describeMetricFiltersOut struct {
	MetricFilters []metricfilter.MetricFilter `json:"metricFilters"`
	NextToken     string                      `json:"nextToken,omitempty"`
}

// filterToken is DescribeMetricFilters' nextToken: the last filter of the
// page and a hash of the request's other members, so a token only
// continues the listing it came from. The service lists every filter at
// once (a group holds at most 100); the paging is this package's.
type filterToken struct {
	Group  string `json:"g"`
	Filter string `json:"f"`
	Hash   string `json:"h"`
}

func (in *describeMetricFiltersIn) hash() string {
	var b bytes.Buffer
	for _, s := range []*string{in.LogGroupName, in.FilterNamePrefix, in.MetricName, in.MetricNamespace} {
		if s != nil {
			b.WriteString(*s)
		}
		b.WriteByte(0)
	}
	sum := sha256.Sum256(b.Bytes())
	return base64.RawURLEncoding.EncodeToString(sum[:8])
}

func (h *Handler) describeMetricFilters(body []byte, _ string) (any, error) {
	var in describeMetricFiltersIn
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var v violations
	v.length(in.LogGroupName, "logGroupName", 1, 512)
	v.pattern(in.LogGroupName, "logGroupName", groupNameRE, groupNamePattern)
	v.length(in.FilterNamePrefix, "filterNamePrefix", 1, 512)
	v.pattern(in.FilterNamePrefix, "filterNamePrefix", filterNameRE, streamNamePattern)
	v.length(in.NextToken, "nextToken", 1, 0)
	v.intRange(in.Limit, "limit", 1, 50)
	v.length(in.MetricName, "metricName", 0, 255)
	v.pattern(in.MetricName, "metricName", metricNameRE, metricNamePattern)
	v.length(in.MetricNamespace, "metricNamespace", 0, 255)
	v.pattern(in.MetricNamespace, "metricNamespace", metricNameRE, metricNamePattern)
	if err := v.err(); err != nil {
		return nil, err
	}
	var q logsvc.DescribeFiltersInput
	for _, p := range []struct {
		from *string
		to   *string
	}{{in.LogGroupName, &q.LogGroupName}, {in.FilterNamePrefix, &q.FilterNamePrefix},
		{in.MetricName, &q.MetricName}, {in.MetricNamespace, &q.MetricNamespace}} {
		if p.from != nil {
			*p.to = *p.from
		}
	}
	limit := 50
	if in.Limit != nil {
		limit = int(*in.Limit)
	}
	var after *filterToken
	if in.NextToken != nil {
		raw, err := base64.RawURLEncoding.DecodeString(*in.NextToken)
		var t filterToken
		if err != nil || json.Unmarshal(raw, &t) != nil || t.Hash != in.hash() {
			return nil, errInvalidToken
		}
		after = &t
	}
	fs, err := h.svc.DescribeMetricFilters(q)
	if err != nil {
		return nil, err
	}
	if after != nil {
		// The list is sorted by group, then name: skip what the earlier
		// pages gave, even if filters were added or deleted since.
		i := 0
		for i < len(fs) && (fs[i].LogGroupName < after.Group || fs[i].LogGroupName == after.Group && fs[i].FilterName <= after.Filter) {
			i++
		}
		fs = fs[i:]
	}
	out := describeMetricFiltersOut{MetricFilters: []metricfilter.MetricFilter{}}
	if len(fs) > limit {
		last := fs[limit-1]
		tok, _ := json.Marshal(filterToken{Group: last.LogGroupName, Filter: last.FilterName, Hash: in.hash()})
		out.NextToken = base64.RawURLEncoding.EncodeToString(tok)
		fs = fs[:limit]
	}
	out.MetricFilters = append(out.MetricFilters, fs...)
	return out, nil
}

type deleteMetricFilterIn struct {
	LogGroupName *string `json:"logGroupName"`
	FilterName   *string `json:"filterName"`
}

func (h *Handler) deleteMetricFilter(body []byte, _ string) (any, error) {
	var in deleteMetricFilterIn
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var v violations
	v.requiredString(in.LogGroupName, "logGroupName")
	v.requiredString(in.FilterName, "filterName")
	v.length(in.FilterName, "filterName", 1, 512)
	v.pattern(in.FilterName, "filterName", filterNameRE, streamNamePattern)
	if err := v.err(); err != nil {
		return nil, err
	}
	if err := groupName(in.LogGroupName); err != nil {
		return nil, err
	}
	return nil, h.svc.DeleteMetricFilter(*in.LogGroupName, *in.FilterName)
}

type testMetricFilterIn struct {
	FilterPattern    *string   `json:"filterPattern"`
	LogEventMessages []*string `json:"logEventMessages"`
}

// extractedValues keeps the values of a match in the order the message
// holds them ($1 before $2 before $10), which a Go map would lose.
type extractedValues []filterpattern.Value

func (x extractedValues) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, val := range x {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(val.Key)
		t, _ := json.Marshal(val.Text)
		b.Write(k)
		b.WriteByte(':')
		b.Write(t)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

type metricFilterMatch struct {
	EventNumber     int             `json:"eventNumber"`
	EventMessage    string          `json:"eventMessage"`
	ExtractedValues extractedValues `json:"extractedValues"`
}

type testMetricFilterOut struct {
	Matches []metricFilterMatch `json:"matches"`
}

// testMetricFilter runs a pattern over sample messages, no log group
// involved: the matching messages with their 1-based position and, for
// space-delimited patterns, the values of the fields ($name for named
// ones, $N for the others).
func (h *Handler) testMetricFilter(body []byte, _ string) (any, error) {
	var in testMetricFilterIn
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var v violations
	v.requiredString(in.FilterPattern, "filterPattern")
	v.length(in.FilterPattern, "filterPattern", 0, 1024)
	if in.LogEventMessages == nil {
		v.null("logEventMessages")
	}
	listLength(&v, in.LogEventMessages, in.LogEventMessages != nil, "logEventMessages", 1, 50)
	for i := 0; i < len(in.LogEventMessages) && len(v) < maxListed; i++ {
		member := "logEventMessages." + strconv.Itoa(i+1) + ".member"
		v.requiredString(in.LogEventMessages[i], member)
		v.length(in.LogEventMessages[i], member, 1, 0)
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	p, err := filterpattern.Compile(*in.FilterPattern)
	if err != nil {
		return nil, err
	}
	out := testMetricFilterOut{Matches: []metricFilterMatch{}}
	for i, m := range in.LogEventMessages {
		ok, vals := p.ExtractValues(*m)
		if ok {
			out.Matches = append(out.Matches, metricFilterMatch{EventNumber: i + 1, EventMessage: *m, ExtractedValues: vals})
		}
	}
	return out, nil
}
