package ec2

import (
	"encoding/xml"
	"fmt"
	"strings"

	"github.com/vpcflow/vpcflow/api/query"
	"github.com/vpcflow/vpcflow/flowlog"
	"github.com/vpcflow/vpcflow/topology"
)

// CreateFlowLogs, DescribeFlowLogs and DeleteFlowLogs, as the EC2 API
// reference defines them:
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateFlowLogs.html,
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeFlowLogs.html,
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteFlowLogs.html
// and the FlowLog shape,
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_FlowLog.html.
// The rules of a flow log (validation, duplicates, ClientToken) are the
// registry's; this file reads the parameters and writes the documents.

// Enumerations of the request parameters (EC2 API reference).
var (
	resourceTypes = []string{"VPC", "Subnet", "NetworkInterface", "TransitGateway", "TransitGatewayAttachment", "RegionalNatGateway"}
	trafficTypes  = []string{"ACCEPT", "REJECT", "ALL"}
	destTypes     = []string{flowlog.DestCloudWatch, flowlog.DestS3, flowlog.DestFirehose}
	fileFormats   = []string{flowlog.FileFormatPlainText, flowlog.FileFormatParquet}
)

// Limits of ResourceId.N (CreateFlowLogs: "Maximum of 25 for transit gateway
// resource types. Maximum of 1000 for the other resource types.") and of
// FlowLogId.N ("Maximum of 1000 flow log IDs").
const (
	maxResourceIDs    = 1000
	maxTGWResourceIDs = 25
	maxFlowLogIDs     = 1000
)

func oneOf(p query.Params, name, v string, allowed []string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return query.InvalidValue(p.Name(name), v, "Valid values are "+strings.Join(allowed, ", ")+".")
}

func isTGW(resourceType string) bool {
	return resourceType == "TransitGateway" || resourceType == "TransitGatewayAttachment"
}

// createFlowLogsSpec reads a CreateFlowLogs request: first the required
// parameters, then the enumerations, then the aggregation interval and
// the CloudWatch Logs role; the rest of the consistency rules are the
// registry's (flowlog.Build).
func createFlowLogsSpec(p query.Params) (*flowlog.Spec, error) {
	s := &flowlog.Spec{
		ResourceIds:              p.List("ResourceId"),
		ResourceType:             p.String("ResourceType"),
		TrafficType:              p.String("TrafficType"),
		LogDestinationType:       p.String("LogDestinationType"),
		LogDestination:           p.String("LogDestination"),
		LogGroupName:             p.String("LogGroupName"),
		DeliverLogsPermissionArn: p.String("DeliverLogsPermissionArn"),
		DeliverCrossAccountRole:  p.String("DeliverCrossAccountRole"),
		LogFormat:                p.String("LogFormat"),
	}
	if len(s.ResourceIds) == 0 {
		return nil, query.MissingParameter("ResourceId")
	}
	if s.ResourceType == "" {
		return nil, query.MissingParameter("ResourceType")
	}
	if err := oneOf(p, "ResourceType", s.ResourceType, resourceTypes); err != nil {
		return nil, err
	}
	if s.TrafficType == "" && !isTGW(s.ResourceType) && s.ResourceType != "RegionalNatGateway" {
		return nil, query.MissingParameter("TrafficType")
	}
	if _, ok := p.Lookup("TrafficType"); ok {
		if err := oneOf(p, "TrafficType", s.TrafficType, trafficTypes); err != nil {
			return nil, err
		}
	}
	if _, ok := p.Lookup("LogDestinationType"); ok {
		if err := oneOf(p, "LogDestinationType", s.LogDestinationType, destTypes); err != nil {
			return nil, err
		}
	}
	limit := maxResourceIDs
	if isTGW(s.ResourceType) {
		limit = maxTGWResourceIDs
	}
	if len(s.ResourceIds) > limit {
		return nil, query.Errorf("InvalidParameterValue", "The parameter ResourceId has %d values; the maximum for resource type %s is %d",
			len(s.ResourceIds), s.ResourceType, limit)
	}
	if n, ok, err := p.Int("MaxAggregationInterval"); err != nil {
		return nil, err
	} else if ok {
		if n != 60 && n != 600 {
			// The code and message AWS gives for an interval other than 60
			// or 600 seconds.
			return nil, query.Errorf("InvalidParameter", "Invalid Flow Log Max Aggregation Interval")
		}
		s.MaxAggregationInterval = &n
	}
	if o, ok := p.Struct("DestinationOptions"); ok {
		d := &topology.DestinationOptions{FileFormat: o.String("FileFormat")}
		if _, ok := o.Lookup("FileFormat"); ok {
			if err := oneOf(o, "FileFormat", d.FileFormat, fileFormats); err != nil {
				return nil, err
			}
		}
		for _, f := range []struct {
			name string
			dst  **bool
		}{{"HiveCompatiblePartitions", &d.HiveCompatiblePartitions}, {"PerHourPartition", &d.PerHourPartition}} {
			v, ok, err := o.Bool(f.name)
			if err != nil {
				return nil, err
			}
			if ok {
				*f.dst = &v
			}
		}
		s.DestinationOptions = d
	}
	if p.Has("TagFieldSpecification") {
		// Tag fields in records (a recent addition to the API) are not
		// produced; refusing beats creating a flow log that ignores them.
		return nil, query.Errorf("InvalidParameter", "TagFieldSpecification is not supported by this emulator")
	}
	specs, err := p.TagSpecifications("TagSpecification")
	if err != nil {
		return nil, err
	}
	for _, ts := range specs {
		t := topology.TagSpecification{ResourceType: ts.ResourceType}
		for _, tg := range ts.Tags {
			t.Tags = append(t.Tags, topology.Tag{Key: tg.Key, Value: tg.Value})
		}
		s.TagSpecifications = append(s.TagSpecifications, t)
	}
	dest := s.LogDestinationType
	if dest == "" {
		dest = flowlog.DestCloudWatch
	}
	if dest == flowlog.DestCloudWatch && s.DeliverLogsPermissionArn == "" {
		// Required for CloudWatch Logs (CreateFlowLogs,
		// DeliverLogsPermissionArn): EC2 publishes with that role. The
		// message is the one AWS gives.
		return nil, query.Errorf("InvalidParameter", "DeliverLogsPermissionArn can't be empty if LogDestinationType is cloud-watch-logs.")
	}
	return s, nil
}

type createFlowLogsResponse struct {
	XMLName xml.Name `xml:"http://ec2.amazonaws.com/doc/2016-11-15/ CreateFlowLogsResponse"`
	responseMeta
	ClientToken  string                 `xml:"clientToken,omitempty"`
	FlowLogIDs   *set[string]           `xml:"flowLogIdSet"`
	Unsuccessful *set[unsuccessfulItem] `xml:"unsuccessful"`
}

type unsuccessfulItem struct {
	Error struct {
		Code    string `xml:"code"`
		Message string `xml:"message"`
	} `xml:"error"`
	ResourceID string `xml:"resourceId"`
}

func unsuccessfulItems(us []flowlog.Unsuccessful) *set[unsuccessfulItem] {
	items := make([]unsuccessfulItem, 0, len(us))
	for _, u := range us {
		var it unsuccessfulItem
		it.Error.Code, it.Error.Message, it.ResourceID = u.Code, u.Message, u.ResourceID
		items = append(items, it)
	}
	return newSet(items)
}

func createFlowLogs(h *Handler, p query.Params) (response, error) {
	dry, err := dryRun(p)
	if err != nil {
		return nil, err
	}
	spec, err := createFlowLogsSpec(p)
	if err != nil {
		return nil, err
	}
	token := p.String("ClientToken")
	if dry {
		// Every check of the request as a whole, none of its effects.
		if _, err := flowlog.Build(nil, spec, "CreateFlowLogs"); err != nil {
			return nil, err
		}
		return nil, errDryRun
	}
	created, bad, err := h.b.CreateFlowLogs(spec, token)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(created))
	for _, e := range created {
		ids = append(ids, e.FlowLog.ID)
	}
	return &createFlowLogsResponse{ClientToken: token, FlowLogIDs: newSet(ids), Unsuccessful: unsuccessfulItems(bad)}, nil
}

type describeFlowLogsResponse struct {
	XMLName xml.Name `xml:"http://ec2.amazonaws.com/doc/2016-11-15/ DescribeFlowLogsResponse"`
	responseMeta
	FlowLogs  *set[flowLogXML] `xml:"flowLogSet"`
	NextToken string           `xml:"nextToken,omitempty"`
}

// flowLogXML is the FlowLog shape, elements in the order of EC2's model.
// Optional values that are absent are omitted elements.
type flowLogXML struct {
	CreationTime             string                 `xml:"creationTime"`
	DeliverLogsErrorMessage  string                 `xml:"deliverLogsErrorMessage,omitempty"`
	DeliverLogsPermissionArn string                 `xml:"deliverLogsPermissionArn,omitempty"`
	DeliverCrossAccountRole  string                 `xml:"deliverCrossAccountRole,omitempty"`
	DeliverLogsStatus        string                 `xml:"deliverLogsStatus"`
	FlowLogID                string                 `xml:"flowLogId"`
	FlowLogStatus            string                 `xml:"flowLogStatus"`
	LogGroupName             string                 `xml:"logGroupName,omitempty"`
	ResourceID               string                 `xml:"resourceId"`
	TrafficType              string                 `xml:"trafficType,omitempty"`
	LogDestinationType       string                 `xml:"logDestinationType"`
	LogDestination           string                 `xml:"logDestination,omitempty"`
	LogFormat                string                 `xml:"logFormat"`
	Tags                     *set[tagXML]           `xml:"tagSet,omitempty"`
	MaxAggregationInterval   int64                  `xml:"maxAggregationInterval"`
	DestinationOptions       *destinationOptionsXML `xml:"destinationOptions,omitempty"`
}

type destinationOptionsXML struct {
	FileFormat               string `xml:"fileFormat"`
	HiveCompatiblePartitions bool   `xml:"hiveCompatiblePartitions"`
	PerHourPartition         bool   `xml:"perHourPartition"`
}

// creationTimeLayout is ISO 8601 with milliseconds, as EC2 writes a
// flow log's CreationTime (a MillisecondDateTime in its model).
const creationTimeLayout = "2006-01-02T15:04:05.000Z"

func (h *Handler) flowLogItem(e *flowlog.Entry) flowLogXML {
	f := e.FlowLog
	x := flowLogXML{
		CreationTime:             e.CreationTime.UTC().Format(creationTimeLayout),
		DeliverLogsPermissionArn: e.DeliverLogsPermissionArn,
		DeliverCrossAccountRole:  e.Spec.DeliverCrossAccountRole,
		DeliverLogsStatus:        e.DeliverLogsStatus,
		FlowLogID:                f.ID,
		FlowLogStatus:            e.FlowLogStatus,
		LogGroupName:             f.LogGroupName,
		ResourceID:               f.ResourceID,
		TrafficType:              f.TrafficType,
		LogDestinationType:       f.DestinationType,
		LogDestination:           e.Spec.LogDestination,
		LogFormat:                f.LogFormat,
		MaxAggregationInterval:   f.MaxAggregationInterval,
	}
	if e.DeliverLogsStatus == flowlog.DeliveryFailed {
		x.DeliverLogsErrorMessage = e.DeliverLogsErrorMessage
	}
	if f.DestinationType == flowlog.DestCloudWatch && x.LogDestination == "" {
		// A flow log created with LogGroupName reports its destination as
		// the log group's ARN too; the log group lives in the service's
		// own account and Region.
		id := h.b.Identity()
		x.LogDestination = "arn:aws:logs:" + id.Region + ":" + id.Account + ":log-group:" + f.LogGroupName
	}
	if f.DestinationType == flowlog.DestS3 {
		x.DestinationOptions = &destinationOptionsXML{FileFormat: f.FileFormat,
			HiveCompatiblePartitions: f.HiveCompatiblePartitions, PerHourPartition: f.PerHourPartition}
	}
	var tags []tagXML
	for _, t := range f.Tags {
		tags = append(tags, tagXML{Key: t.Key, Value: t.Value})
	}
	x.Tags = optSet(tags)
	return x
}

// flowLogKey orders flow logs as the registry returns them (creation time,
// then id) and names the last of a page in its NextToken.
func flowLogKey(e flowlog.Entry) string {
	return fmt.Sprintf("%020d|%s", e.CreationTime.UnixMilli(), e.FlowLog.ID)
}

func describeFlowLogs(h *Handler, p query.Params) (response, error) {
	dry, err := dryRun(p)
	if err != nil {
		return nil, err
	}
	ids := p.List("FlowLogId")
	if len(ids) > maxFlowLogIDs {
		return nil, query.Errorf("InvalidParameterValue", "The parameter FlowLogId has %d values; the maximum is %d", len(ids), maxFlowLogIDs)
	}
	fs, err := p.Filters("Filter")
	if err != nil {
		return nil, err
	}
	// EC2 documents no bounds for this MaxResults; 1,000 is the bound of
	// its other Describe actions and of FlowLogId.N.
	max, _, err := p.IntRange("MaxResults", 1, 1000)
	if err != nil {
		return nil, err
	}
	after, err := decodeToken("flow-logs", p.String("NextToken"))
	if err != nil {
		return nil, err
	}
	f := flowlog.Filter{FlowLogIds: ids}
	for _, t := range fs {
		f.Filters = append(f.Filters, flowlog.FilterTerm{Name: t.Name, Values: t.Values})
	}
	entries, err := h.b.DescribeFlowLogs(f)
	if err != nil {
		return nil, err
	}
	if dry {
		return nil, errDryRun
	}
	pg, next := page(entries, flowLogKey, "flow-logs", after, max)
	items := make([]flowLogXML, 0, len(pg))
	for i := range pg {
		items = append(items, h.flowLogItem(&pg[i]))
	}
	return &describeFlowLogsResponse{FlowLogs: newSet(items), NextToken: next}, nil
}

type deleteFlowLogsResponse struct {
	XMLName xml.Name `xml:"http://ec2.amazonaws.com/doc/2016-11-15/ DeleteFlowLogsResponse"`
	responseMeta
	Unsuccessful *set[unsuccessfulItem] `xml:"unsuccessful"`
}

func deleteFlowLogs(h *Handler, p query.Params) (response, error) {
	dry, err := dryRun(p)
	if err != nil {
		return nil, err
	}
	ids := p.List("FlowLogId")
	switch {
	case len(ids) == 0:
		return nil, query.MissingParameter("FlowLogId")
	case len(ids) > maxFlowLogIDs:
		return nil, query.Errorf("InvalidParameterValue", "The parameter FlowLogId has %d values; the maximum is %d", len(ids), maxFlowLogIDs)
	}
	if dry {
		return nil, errDryRun
	}
	bad, err := h.b.DeleteFlowLogs(ids)
	if err != nil {
		return nil, err
	}
	return &deleteFlowLogsResponse{Unsuccessful: unsuccessfulItems(bad)}, nil
}
