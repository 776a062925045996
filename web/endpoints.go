package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/vpcflow/vpcflow/api/s3api"
	"github.com/vpcflow/vpcflow/filterpattern"
	"github.com/vpcflow/vpcflow/flowlog"
	"github.com/vpcflow/vpcflow/iam"
	"github.com/vpcflow/vpcflow/insights"
	"github.com/vpcflow/vpcflow/logsvc"
	"github.com/vpcflow/vpcflow/metricfilter"
	"github.com/vpcflow/vpcflow/record"
	"github.com/vpcflow/vpcflow/topology"
)

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// decode reads an endpoint's body into v, refusing unknown members so a
// page's typo is an error rather than an ignored parameter.
func decode(in json.RawMessage, v any) error {
	d := json.NewDecoder(strings.NewReader(string(in)))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return badRequest("the request body does not fit the endpoint: %v", err)
	}
	return nil
}

// serviceError turns the service's errors into the endpoint's answer,
// keeping the AWS error code the API would send.
func serviceError(err error) *apiError {
	var (
		se  *logsvc.APIError
		me  *metricfilter.Error
		pe  *filterpattern.Error
		mqe *logsvc.MalformedQueryError
		fe  *flowlog.Error
		ie  *iam.Error
	)
	switch {
	case errors.As(err, &mqe):
		return &apiError{Status: http.StatusBadRequest, Code: logsvc.CodeMalformedQuery, Message: mqe.Err.Error()}
	case errors.As(err, &se):
		return &apiError{Status: http.StatusBadRequest, Code: se.Code, Message: se.Message}
	case errors.As(err, &me):
		return &apiError{Status: http.StatusBadRequest, Code: me.Code, Message: me.Message}
	case errors.As(err, &pe):
		return &apiError{Status: http.StatusBadRequest, Code: filterpattern.Code, Message: pe.Error()}
	case errors.As(err, &fe):
		return &apiError{Status: http.StatusBadRequest, Code: fe.Code, Message: err.Error()}
	case errors.As(err, &ie):
		return &apiError{Status: http.StatusBadRequest, Code: ie.Code, Message: ie.Message}
	}
	return &apiError{Status: http.StatusInternalServerError, Code: "ServiceError", Message: err.Error()}
}

func (c *Console) endpoints() map[string]endpoint {
	return map[string]endpoint{
		"whoami":          c.whoami,
		"overview":        c.overview,
		"network":         c.network,
		"fields":          c.fields,
		"roles":           c.roles,
		"buckets":         c.buckets,
		"flowlogs":        c.flowLogs,
		"createFlowLog":   c.createFlowLog,
		"deleteFlowLogs":  c.deleteFlowLogs,
		"logGroups":       c.logGroups,
		"logStreams":      c.logStreams,
		"events":          c.events,
		"startQuery":      c.startQuery,
		"queryResults":    c.queryResults,
		"stopQuery":       c.stopQuery,
		"sql":             c.sql,
		"alarms":          c.alarms,
		"metricFilters":   c.metricFilters,
		"findings":        c.findings,
		"archiveFindings": c.archiveFindings,
	}
}

func (c *Console) whoami(context.Context, json.RawMessage) (any, error) { return c.identity(), nil }

func (c *Console) overview(context.Context, json.RawMessage) (any, error) {
	return c.deps.Region.Health(), nil
}

// network is the declared network as describe-* calls see it: VPCs,
// subnets, interfaces, security groups and network ACLs.
func (c *Console) network(context.Context, json.RawMessage) (any, error) {
	return c.deps.Region.Network().Network(), nil
}

// fieldInfo is one field of the log record format builder.
type fieldInfo struct {
	Name    string `json:"name"`
	Version int    `json:"version"`
	Meaning string `json:"meaning"`
	Default bool   `json:"default"` // in the default format
}

// fields are the fields a VPC, subnet or interface flow log may name, in
// AWS's table order, the default format's marked.
func (c *Console) fields(context.Context, json.RawMessage) (any, error) {
	def := map[string]bool{}
	for _, f := range record.DefaultFormat.Fields() {
		def[f.Info().Name] = true
	}
	var out []fieldInfo
	for _, f := range record.All() {
		in := f.Info()
		if in.Scope&record.ScopeVPC == 0 || in.Scope&record.ScopeExtension != 0 {
			continue
		}
		out = append(out, fieldInfo{Name: in.Name, Version: in.Version, Meaning: in.Meaning, Default: def[in.Name]})
	}
	return map[string]any{"fields": out, "defaultFormat": record.DefaultFormat.String()}, nil
}

// roles lists the account's IAM roles, for the wizard's role choice.
func (c *Console) roles(context.Context, json.RawMessage) (any, error) {
	var arns []string
	marker := ""
	for {
		roles, more, next, err := c.deps.Region.IAM().ListRoles("/", marker, 1000)
		if err != nil {
			return nil, err
		}
		for _, r := range roles {
			arns = append(arns, r.Arn)
		}
		if !more {
			break
		}
		marker = next
	}
	return map[string]any{"roles": arns}, nil
}

func (c *Console) bucketDirs() s3api.DirBuckets {
	return s3api.DirBuckets(c.deps.Region.BucketDir(""))
}

// buckets lists the S3 buckets (the data dir's bucket directories).
func (c *Console) buckets(context.Context, json.RawMessage) (any, error) {
	b := c.bucketDirs().List()
	if b == nil {
		b = []string{}
	}
	return map[string]any{"buckets": b}, nil
}

// flowLogView is a DescribeFlowLogs entry as the list shows it.
type flowLogView struct {
	ID                     string `json:"id"`
	ResourceID             string `json:"resourceId"`
	TrafficType            string `json:"trafficType"`
	DestinationType        string `json:"destinationType"`
	Destination            string `json:"destination"`
	LogGroupName           string `json:"logGroupName,omitempty"`
	Role                   string `json:"role,omitempty"`
	LogFormat              string `json:"logFormat"`
	MaxAggregationInterval int    `json:"maxAggregationInterval"`
	FileFormat             string `json:"fileFormat,omitempty"`
	Status                 string `json:"status"`
	DeliverStatus          string `json:"deliverLogsStatus"`
	DeliverError           string `json:"deliverLogsErrorMessage,omitempty"`
	CreationTime           string `json:"creationTime"`
}

func (c *Console) flowLogs(context.Context, json.RawMessage) (any, error) {
	entries, err := c.deps.Region.DescribeFlowLogs(flowlog.Filter{})
	if err != nil {
		return nil, err
	}
	out := []flowLogView{}
	for _, e := range entries {
		fl := e.FlowLog
		v := flowLogView{ID: fl.ID, ResourceID: fl.ResourceID, TrafficType: fl.TrafficType,
			DestinationType: fl.DestinationType, Destination: fl.LogDestination, LogGroupName: fl.LogGroupName,
			Role: e.DeliverLogsPermissionArn, LogFormat: fl.LogFormat,
			MaxAggregationInterval: int(fl.MaxAggregationInterval), FileFormat: fl.FileFormat, Status: e.FlowLogStatus,
			DeliverStatus: e.DeliverLogsStatus, DeliverError: e.DeliverLogsErrorMessage,
			CreationTime: e.CreationTime.Format(time.RFC3339)}
		out = append(out, v)
	}
	return map[string]any{"flowLogs": out}, nil
}

// createFlowLogIn is the wizard's form; its members are CreateFlowLogs'
// parameters.
type createFlowLogIn struct {
	ResourceType             string   `json:"resourceType"`
	ResourceIDs              []string `json:"resourceIds"`
	TrafficType              string   `json:"trafficType"`
	MaxAggregationInterval   int      `json:"maxAggregationInterval"`
	LogDestinationType       string   `json:"logDestinationType"`
	LogGroupName             string   `json:"logGroupName"`
	DeliverLogsPermissionArn string   `json:"deliverLogsPermissionArn"`
	LogDestination           string   `json:"logDestination"`
	FileFormat               string   `json:"fileFormat"`
	HiveCompatiblePartitions bool     `json:"hiveCompatiblePartitions"`
	PerHourPartition         bool     `json:"perHourPartition"`
	LogFormat                string   `json:"logFormat"`
	Name                     string   `json:"name"`
	ClientToken              string   `json:"clientToken"`
}

func (c *Console) createFlowLog(_ context.Context, body json.RawMessage) (any, error) {
	var in createFlowLogIn
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	spec := &flowlog.Spec{ResourceIds: in.ResourceIDs, ResourceType: in.ResourceType, TrafficType: in.TrafficType,
		LogDestinationType: in.LogDestinationType, LogFormat: in.LogFormat}
	if in.MaxAggregationInterval != 0 {
		spec.MaxAggregationInterval = &in.MaxAggregationInterval
	}
	switch in.LogDestinationType {
	case flowlog.DestS3:
		spec.LogDestination = in.LogDestination
		spec.DestinationOptions = &topology.DestinationOptions{FileFormat: in.FileFormat,
			HiveCompatiblePartitions: &in.HiveCompatiblePartitions, PerHourPartition: &in.PerHourPartition}
	default:
		spec.LogGroupName, spec.DeliverLogsPermissionArn = in.LogGroupName, in.DeliverLogsPermissionArn
	}
	if in.Name != "" {
		spec.TagSpecifications = []topology.TagSpecification{{ResourceType: "vpc-flow-log",
			Tags: []topology.Tag{{Key: "Name", Value: in.Name}}}}
	}
	created, bad, err := c.deps.Region.CreateFlowLogs(spec, in.ClientToken)
	if err != nil {
		return nil, err
	}
	ids := []string{}
	for _, e := range created {
		ids = append(ids, e.FlowLog.ID)
	}
	if bad == nil {
		bad = []flowlog.Unsuccessful{}
	}
	return map[string]any{"flowLogIds": ids, "unsuccessful": bad}, nil
}

func (c *Console) deleteFlowLogs(_ context.Context, body json.RawMessage) (any, error) {
	var in struct {
		IDs []string `json:"ids"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if len(in.IDs) == 0 {
		return nil, badRequest("ids: name at least one flow log")
	}
	bad, err := c.deps.Region.DeleteFlowLogs(in.IDs)
	if err != nil {
		return nil, err
	}
	if bad == nil {
		bad = []flowlog.Unsuccessful{}
	}
	return map[string]any{"unsuccessful": bad}, nil
}

func (c *Console) logGroups(_ context.Context, body json.RawMessage) (any, error) {
	var in struct {
		Prefix    string `json:"prefix"`
		NextToken string `json:"nextToken"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	groups, next, err := c.deps.Region.Logs().DescribeLogGroups(logsvc.DescribeGroupsInput{Prefix: in.Prefix, NextToken: in.NextToken})
	if err != nil {
		return nil, err
	}
	if groups == nil {
		groups = []logsvc.LogGroup{}
	}
	return map[string]any{"logGroups": groups, "nextToken": next}, nil
}

func (c *Console) logStreams(_ context.Context, body json.RawMessage) (any, error) {
	var in struct {
		Group     string `json:"group"`
		NextToken string `json:"nextToken"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	streams, next, err := c.deps.Region.Logs().DescribeLogStreams(logsvc.DescribeStreamsInput{Group: in.Group,
		OrderBy: "LastEventTime", Descending: true, NextToken: in.NextToken})
	if err != nil {
		return nil, err
	}
	if streams == nil {
		streams = []logsvc.LogStream{}
	}
	return map[string]any{"logStreams": streams, "nextToken": next}, nil
}

// maxEventsPage bounds an events page: a page shows at most this many and
// asks for more with the token.
const maxEventsPage = 500

// A page of events searches for at most eventsBudget, eventsChunk events
// per call of the service, so that a pattern few events match answers
// within a page's time (a page renders in 200 ms) rather than after
// reading a whole group (7 s for 10 M events): the page then shows what
// it found, how many events it searched, and continues with the token.
// A chunk of 20,000 non-matching events takes about 15 ms, about the most
// a page overshoots the budget by.
var (
	eventsBudget = 80 * time.Millisecond
	eventsChunk  = 20_000
)

// eventsOut is an events page: FilterLogEvents' events and token, and
// how far the search went: Scanned events read for this page, of about
// Total in the group and time window (the store's statistics, an upper
// bound). Partial says the page stopped for time before it was full:
// the token continues the search.
type eventsOut struct {
	Events    []logsvc.FilteredEvent `json:"events"`
	NextToken string                 `json:"nextToken"`
	Scanned   int64                  `json:"scanned"`
	Total     int64                  `json:"total"`
	Partial   bool                   `json:"partial"`
}

// events is FilterLogEvents over a group or some of its streams: the
// newest page first (descending), older pages with the token, and, for
// live tail, the events at or after a time in ascending order.
func (c *Console) events(ctx context.Context, body json.RawMessage) (any, error) {
	var in struct {
		Group      string   `json:"group"`
		Streams    []string `json:"streams"`
		Pattern    string   `json:"pattern"`
		StartTime  *int64   `json:"startTime"`
		EndTime    *int64   `json:"endTime"`
		Limit      int      `json:"limit"`
		Descending bool     `json:"descending"`
		NextToken  string   `json:"nextToken"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.Limit <= 0 || in.Limit > maxEventsPage {
		in.Limit = 100
	}
	logs := c.deps.Region.Logs()
	start := time.Now()
	out := eventsOut{Events: []logsvc.FilteredEvent{}, NextToken: in.NextToken}
	for {
		page, err := logs.FilterLogEvents(logsvc.FilterLogEventsInput{LogGroupName: in.Group,
			LogStreamNames: in.Streams, FilterPattern: in.Pattern, StartTime: in.StartTime, EndTime: in.EndTime,
			Limit: in.Limit - len(out.Events), Descending: in.Descending, NextToken: out.NextToken, ScanLimit: eventsChunk})
		if err != nil {
			return nil, err
		}
		out.Events = append(out.Events, page.Events...)
		out.Scanned += page.Scanned
		out.NextToken = page.NextToken
		if out.NextToken == "" || len(out.Events) >= in.Limit {
			break
		}
		if time.Since(start) >= eventsBudget || ctx.Err() != nil {
			out.Partial = true
			break
		}
	}
	lo, hi := int64(0), int64(math.MaxInt64)
	if in.StartTime != nil {
		lo = *in.StartTime
	}
	if in.EndTime != nil {
		hi = *in.EndTime
	}
	out.Total = logs.CountEvents(in.Group, lo, hi)
	return out, nil
}

// maxQueryRows caps an Insights query's rows as the console asks for them.
const maxQueryRows = 1000

func (c *Console) startQuery(_ context.Context, body json.RawMessage) (any, error) {
	var in struct {
		Groups    []string `json:"groups"`
		StartTime *int64   `json:"startTime"` // epoch seconds
		EndTime   *int64   `json:"endTime"`
		Query     string   `json:"query"`
		Limit     int      `json:"limit"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.Limit <= 0 || in.Limit > maxQueryRows {
		in.Limit = maxQueryRows
	}
	logs := c.deps.Region.Logs()
	id, err := logs.StartQuery(logsvc.StartQueryInput{LogGroupNames: in.Groups,
		StartTime: in.StartTime, EndTime: in.EndTime, QueryString: in.Query, Limit: in.Limit})
	if err != nil {
		return nil, err
	}
	// total (about how many events the query reads, from the store's
	// statistics) lets the page show progress against its statistics'
	// records scanned while it runs.
	lo, hi := int64(0), int64(math.MaxInt64)
	if in.StartTime != nil {
		lo = *in.StartTime * 1000
	}
	if in.EndTime != nil {
		hi = *in.EndTime*1000 + 999
	}
	var total int64
	for _, g := range in.Groups {
		if name, err := logs.GroupName(g); err == nil {
			total += logs.CountEvents(name, lo, hi)
		}
	}
	return map[string]any{"queryId": id, "total": total}, nil
}

func (c *Console) queryResults(_ context.Context, body json.RawMessage) (any, error) {
	var in struct {
		QueryID string `json:"queryId"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	res, err := c.deps.Region.Logs().GetQueryResults(in.QueryID)
	if err != nil {
		return nil, err
	}
	// Not the API's shape (insights.Result's JSON): the page needs the
	// columns in the query's order, which the API leaves out.
	rows := res.Rows
	if rows == nil {
		rows = [][]insights.Field{}
	}
	cols := res.Columns
	if cols == nil {
		cols = []string{}
	}
	return map[string]any{"Status": res.Status, "Columns": cols, "Rows": rows, "Statistics": res.Statistics}, nil
}

func (c *Console) stopQuery(_ context.Context, body json.RawMessage) (any, error) {
	var in struct {
		QueryID string `json:"queryId"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	ok, err := c.deps.Region.Logs().StopQuery(in.QueryID)
	if err != nil {
		return nil, err
	}
	return map[string]bool{"success": ok}, nil
}

func (c *Console) alarms(context.Context, json.RawMessage) (any, error) {
	out, err := c.deps.Region.Logs().DescribeAlarms(logsvc.DescribeAlarmsInput{})
	if err != nil {
		return nil, err
	}
	if out.MetricAlarms == nil {
		out.MetricAlarms = []metricfilter.MetricAlarm{}
	}
	return map[string]any{"alarms": out.MetricAlarms}, nil
}

func (c *Console) metricFilters(context.Context, json.RawMessage) (any, error) {
	fs, err := c.deps.Region.Logs().DescribeMetricFilters(logsvc.DescribeFiltersInput{})
	if err != nil {
		return nil, err
	}
	if fs == nil {
		fs = []metricfilter.MetricFilter{}
	}
	return map[string]any{"metricFilters": fs}, nil
}
