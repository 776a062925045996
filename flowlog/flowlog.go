// Package flowlog holds flow-log resources as AWS defines them — an id, the
// monitored resource, a traffic type, a record format, an aggregation
// interval and a destination — and fans the flows of each closed capture
// window out to them as records.
//
// It exists so the rules of CreateFlowLogs (validation, defaults, which
// interfaces a VPC or subnet flow log covers, the Nitro 60 s cap) and of
// record content (interface-centric addresses, status records, the traffic
// filter) live in one place, whatever the source of the flow log: a topology
// file, CLI flags, or later the EC2 API.
package flowlog

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/vpcflow/vpcflow/record"
	"github.com/vpcflow/vpcflow/topology"
)

// Destination types (LogDestinationType).
const (
	DestS3         = "s3"
	DestCloudWatch = "cloud-watch-logs"
	DestFirehose   = "kinesis-data-firehose"
)

// File formats of S3 destinations (DestinationOptions.FileFormat).
const (
	FileFormatPlainText = "plain-text"
	FileFormatParquet   = "parquet"
)

// FlowLog is one flow log: one monitored resource (CreateFlowLogs with
// several ResourceIds makes one flow log per id, as AWS does).
type FlowLog struct {
	ID           string
	ResourceID   string
	ResourceType string // VPC, Subnet or NetworkInterface
	TrafficType  string // ACCEPT, REJECT or ALL
	Format       *record.Format
	LogFormat    string // as DescribeFlowLogs reports it
	// MaxAggregationInterval is 60 or 600 seconds; an ENI marked Nitro caps
	// its own interval at 60 (see Interval).
	MaxAggregationInterval   int64
	DestinationType          string
	LogDestination           string // ARN as given (or built from LogGroupName)
	Bucket, Prefix           string // S3: bucket name and key prefix ("" or "a/b")
	LogGroupName             string // CloudWatch Logs
	DeliveryStream           string // Amazon Data Firehose: the delivery stream's name
	FileFormat               string // S3: FileFormatPlainText or FileFormatParquet
	HiveCompatiblePartitions bool
	PerHourPartition         bool
	Tags                     []Tag
	OwnerID                  string // account that owns the flow log: S3 paths use it
	Region                   string
	Line                     int // source line (topology file), 0 when from flags
}

// Tag is a resource tag.
type Tag struct{ Key, Value string }

// Interval returns the effective aggregation interval for an ENI: the flow
// log's maximum, capped at 60 s for Nitro interfaces (docs/aws-behaviour.md,
// "Flow log resources").
func (f *FlowLog) Interval(eni *topology.ENI) int64 {
	if eni != nil && eni.Nitro && f.MaxAggregationInterval > 60 {
		return 60
	}
	return f.MaxAggregationInterval
}

// Accepts reports whether the traffic type keeps records with action a.
// Status records (action absent) pass every filter ([Choice],
// docs/aws-behaviour.md, "Flow log resources").
func (f *FlowLog) Accepts(a record.ActionValue) bool {
	switch f.TrafficType {
	case "ACCEPT":
		return a != record.ActionReject
	case "REJECT":
		return a != record.ActionAccept
	}
	return true
}

// Covers reports whether the flow log monitors interface e: the ENI itself,
// or any ENI of the subnet or VPC, including ones declared later.
func (f *FlowLog) Covers(e *topology.ENI) bool {
	switch f.ResourceType {
	case "NetworkInterface":
		return e.ID == f.ResourceID
	case "Subnet":
		return e.SubnetID == f.ResourceID
	case "VPC":
		return e.VPCID == f.ResourceID
	}
	return false
}

// ENIs returns the interfaces of t the flow log monitors, sorted by id.
func (f *FlowLog) ENIs(t *topology.Topology) []*topology.ENI {
	var out []*topology.ENI
	for _, e := range t.ENIs() {
		if f.Covers(e) {
			out = append(out, e)
		}
	}
	return out
}

// deriveID makes the flow log id from its definition, so the same topology
// always yields the same ids and S3 keys ([Choice], docs/aws-behaviour.md,
// "Flow log resources").
func (f *FlowLog) deriveID() string {
	h := sha256.New()
	fmt.Fprintf(h, "%s|%s|%s|%s|%d|%s|%s|%s|%s|%t|%t", f.ResourceType, f.ResourceID, f.TrafficType,
		f.Format.String(), f.MaxAggregationInterval, f.DestinationType, f.LogDestination, f.LogGroupName,
		f.FileFormat, f.HiveCompatiblePartitions, f.PerHourPartition)
	sum := hex.EncodeToString(h.Sum(nil))
	return "fl-" + sum[:17]
}

// Error is a flow-log definition problem, with the AWS error code that
// CreateFlowLogs would return and the place it came from.
type Error struct {
	Where string // "FILE:LINE: FlowLogs[0].TrafficType" or "--traffic-type"
	Code  string // InvalidParameterValue, InvalidParameter, MissingParameter, ...
	Msg   string
	Line  int    // line of the topology file it is on; 0 when not from a file
	path  string // key path in the topology file (FlowLogs[0].TrafficType)
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s (%s)", e.Where, e.Msg, e.Code) }

// Errors is every problem of a topology's FlowLogs, in line order.
type Errors []*Error

func (l Errors) Error() string {
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap gives errors.As and errors.Is each problem.
func (l Errors) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

// Spec is a flow-log request: the CreateFlowLogs parameters.
type Spec = topology.FlowLogSpec

// Build validates a CreateFlowLogs request against the topology and returns
// one flow log per resource id, or the request's first problem, as
// CreateFlowLogs reports one. where names the request in errors (e.g.
// "topology.yaml:40: FlowLogs[0]"). With a nil topology (single-interface
// mode) resources are not looked up and the caller sets OwnerID and Region.
func Build(t *topology.Topology, s *Spec, where string) ([]*FlowLog, error) {
	fls, errs := build(t, s, func(key, code, msg string) *Error {
		return &Error{Where: where + "." + key, Code: code, Msg: msg}
	})
	if len(errs) > 0 {
		return nil, errs[0]
	}
	return fls, nil
}

// build checks every parameter of s, returning its flow logs when all are
// right, else every problem (in the order of the checks, which is
// CreateFlowLogs's order of precedence); mk makes the problem of a key.
// A problem whose cause is another one (the resources of an unknown
// resource type) is not reported.
func build(t *topology.Topology, s *Spec, mk func(key, code, msg string) *Error) ([]*FlowLog, []*Error) {
	var errs []*Error
	errf := func(key, code, format string, args ...any) {
		errs = append(errs, mk(key, code, fmt.Sprintf(format, args...)))
	}
	if len(s.ResourceIds) == 0 {
		errf("ResourceIds", "MissingParameter", "want at least one resource id")
	}
	typeOK := false
	switch s.ResourceType {
	case "VPC", "Subnet", "NetworkInterface":
		typeOK = true
	case "":
		errf("ResourceType", "MissingParameter", "want VPC, Subnet or NetworkInterface")
	case "TransitGateway", "TransitGatewayAttachment":
		errf("ResourceType", "InvalidParameterValue", "transit gateway flow logs are not supported yet")
	default:
		errf("ResourceType", "InvalidParameterValue", "want VPC, Subnet or NetworkInterface, got %q", s.ResourceType)
	}
	traffic := s.TrafficType
	switch traffic {
	case "ACCEPT", "REJECT", "ALL":
	case "":
		errf("TrafficType", "MissingParameter", "want ACCEPT, REJECT or ALL")
	default:
		if u := strings.ToUpper(traffic); u == "ACCEPT" || u == "REJECT" || u == "ALL" {
			errf("TrafficType", "InvalidParameterValue", "want ACCEPT, REJECT or ALL (upper case), got %q", traffic)
		} else {
			errf("TrafficType", "InvalidParameterValue", "want ACCEPT, REJECT or ALL, got %q", traffic)
		}
	}
	interval := int64(600)
	if s.MaxAggregationInterval != nil {
		interval = int64(*s.MaxAggregationInterval)
		if interval != 60 && interval != 600 {
			errf("MaxAggregationInterval", "InvalidParameterValue", "want 60 or 600, got %d", interval)
		}
	}
	fl := FlowLog{
		ResourceType: s.ResourceType, TrafficType: traffic, MaxAggregationInterval: interval,
		Line: s.Line, FileFormat: FileFormatPlainText,
	}
	if t != nil {
		fl.OwnerID, fl.Region = t.AccountID, t.Region
	}
	if err := fl.setDestination(s, func(key, code, format string, args ...any) error {
		return mk(key, code, fmt.Sprintf(format, args...))
	}); err != nil {
		errs = append(errs, err.(*Error))
	}
	if s.LogFormat == "" {
		fl.Format, fl.LogFormat = record.DefaultFormat, record.DefaultFormat.String()
	} else if f, err := logFormat(s.LogFormat); err != nil {
		errf("LogFormat", "InvalidParameter", "%v", err)
	} else {
		fl.Format, fl.LogFormat = f, s.LogFormat
	}
	for _, ts := range s.TagSpecifications {
		if ts.ResourceType != "" && ts.ResourceType != "vpc-flow-log" {
			errf("TagSpecifications", "InvalidParameterValue", "want ResourceType vpc-flow-log, got %q", ts.ResourceType)
		}
		for _, tg := range ts.Tags {
			if strings.HasPrefix(tg.Key, "aws:") || len(tg.Key) == 0 || len(tg.Key) > 127 || len(tg.Value) > 256 {
				errf("TagSpecifications", "InvalidParameterValue", "bad tag key %q", tg.Key)
				continue
			}
			fl.Tags = append(fl.Tags, Tag{tg.Key, tg.Value})
		}
	}
	var out []*FlowLog
	for i, id := range s.ResourceIds {
		f := fl
		f.ResourceID = id
		if t != nil && typeOK {
			if !resourceExists(t, s.ResourceType, id) {
				errf(fmt.Sprintf("ResourceIds[%d]", i), notFoundCode(s.ResourceType), "%s %q is not in the topology", s.ResourceType, id)
				continue
			}
			if v := ownerOf(t, s.ResourceType, id); v != "" {
				f.OwnerID = v
			}
		}
		out = append(out, &f)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	for _, f := range out {
		f.ID = f.deriveID()
	}
	return out, nil
}

// logFormat checks a LogFormat as CreateFlowLogs does and parses it.
func logFormat(s string) (*record.Format, error) {
	if err := checkLogFormat(s); err != nil {
		return nil, err
	}
	f, err := record.ParseFormat(s)
	if err != nil {
		return nil, err
	}
	for _, fd := range f.Fields() {
		if fd.Info().Scope&record.ScopeVPC == 0 && fd.Info().Scope != record.ScopeExtension {
			return nil, fmt.Errorf("field %s is only for transit gateway flow logs", fd)
		}
	}
	return f, nil
}

// checkLogFormat applies AWS's stricter syntax for LogFormat
// (docs/aws-behaviour.md, "Record fields and formats"):
// ${field} tokens separated by single spaces, nothing else.
func checkLogFormat(s string) error {
	for i, tok := range strings.Split(s, " ") {
		if len(tok) < 4 || !strings.HasPrefix(tok, "${") || !strings.HasSuffix(tok, "}") {
			return fmt.Errorf("token %d %q: want ${field-name} separated by single spaces", i+1, tok)
		}
	}
	return nil
}

func (f *FlowLog) setDestination(s *Spec, errf func(key, code, format string, args ...any) error) error {
	f.DestinationType = s.LogDestinationType
	if f.DestinationType == "" {
		f.DestinationType = DestCloudWatch // the AWS default
	}
	switch f.DestinationType {
	case DestS3:
		if s.LogGroupName != "" {
			return errf("LogGroupName", "InvalidParameter", "not allowed with LogDestinationType s3")
		}
		rest, ok := strings.CutPrefix(s.LogDestination, "arn:aws:s3:::")
		if !ok || rest == "" {
			return errf("LogDestination", "InvalidParameter", "want arn:aws:s3:::BUCKET[/PREFIX/], got %q", s.LogDestination)
		}
		bucket, prefix, _ := strings.Cut(rest, "/")
		prefix = strings.Trim(prefix, "/")
		for _, seg := range strings.Split(prefix, "/") {
			if seg == "AWSLogs" {
				return errf("LogDestination", "InvalidParameter", "the prefix may not use AWSLogs as a folder name")
			}
		}
		f.Bucket, f.Prefix, f.LogDestination = bucket, prefix, s.LogDestination
		if o := s.DestinationOptions; o != nil {
			switch o.FileFormat {
			case "", FileFormatPlainText:
			case FileFormatParquet:
				f.FileFormat = FileFormatParquet
			default:
				return errf("DestinationOptions.FileFormat", "InvalidParameterValue", "want plain-text or parquet, got %q", o.FileFormat)
			}
			f.HiveCompatiblePartitions = o.HiveCompatiblePartitions != nil && *o.HiveCompatiblePartitions
			f.PerHourPartition = o.PerHourPartition != nil && *o.PerHourPartition
		}
	case DestCloudWatch:
		if s.DestinationOptions != nil {
			return errf("DestinationOptions", "InvalidParameter", "only allowed with LogDestinationType s3")
		}
		switch {
		case s.LogGroupName != "" && s.LogDestination != "":
			return errf("LogGroupName", "InvalidParameterCombination", "give LogGroupName or LogDestination, not both")
		case s.LogGroupName != "":
			f.LogGroupName = s.LogGroupName
		case s.LogDestination != "":
			i := strings.Index(s.LogDestination, ":log-group:")
			if !strings.HasPrefix(s.LogDestination, "arn:aws:logs:") || i < 0 {
				return errf("LogDestination", "InvalidParameter", "want arn:aws:logs:REGION:ACCOUNT:log-group:NAME, got %q", s.LogDestination)
			}
			f.LogGroupName = strings.TrimSuffix(s.LogDestination[i+len(":log-group:"):], ":*")
		default:
			return errf("LogGroupName", "InvalidParameter", "cloud-watch-logs needs LogGroupName or a log-group LogDestination")
		}
		f.LogDestination = s.LogDestination
	case DestFirehose:
		if s.LogGroupName != "" {
			return errf("LogGroupName", "InvalidParameter", "not allowed with LogDestinationType kinesis-data-firehose")
		}
		if s.DestinationOptions != nil {
			return errf("DestinationOptions", "InvalidParameter", "only allowed with LogDestinationType s3")
		}
		name, err := firehoseStream(s.LogDestination)
		if err != nil {
			return errf("LogDestination", "InvalidParameter", "%v", err)
		}
		f.DeliveryStream, f.LogDestination = name, s.LogDestination
	default:
		return errf("LogDestinationType", "InvalidParameterValue", "want cloud-watch-logs, s3 or kinesis-data-firehose, got %q", f.DestinationType)
	}
	return nil
}

// firehoseStream reads a delivery stream's ARN,
// arn:aws:firehose:REGION:ACCOUNT:deliverystream/NAME, NAME being 1 to 64
// letters, digits, '_', '.' or '-'
// (https://docs.aws.amazon.com/firehose/latest/APIReference/API_CreateDeliveryStream.html).
func firehoseStream(arn string) (string, error) {
	want := fmt.Errorf("want arn:aws:firehose:REGION:ACCOUNT:deliverystream/NAME, got %q", arn)
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] != "aws" || parts[2] != "firehose" || parts[3] == "" {
		return "", want
	}
	if len(parts[4]) != 12 || strings.Trim(parts[4], "0123456789") != "" {
		return "", fmt.Errorf("account %q in %q: want 12 digits", parts[4], arn)
	}
	name, ok := strings.CutPrefix(parts[5], "deliverystream/")
	if !ok {
		return "", want
	}
	if len(name) < 1 || len(name) > 64 || strings.Trim(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != "" {
		return "", fmt.Errorf("delivery stream name %q in %q: want 1 to 64 letters, digits, '_', '.' or '-'", name, arn)
	}
	return name, nil
}

func resourceExists(t *topology.Topology, typ, id string) bool {
	switch typ {
	case "VPC":
		return t.VPC(id) != nil
	case "Subnet":
		return t.Subnet(id) != nil
	}
	return t.ENIByID(id) != nil
}

func ownerOf(t *topology.Topology, typ, id string) string {
	if typ == "VPC" {
		if v := t.VPC(id); v != nil {
			return v.OwnerID
		}
	}
	return ""
}

func notFoundCode(typ string) string {
	switch typ {
	case "VPC":
		return "InvalidVpcID.NotFound"
	case "Subnet":
		return "InvalidSubnetID.NotFound"
	}
	return "InvalidNetworkInterfaceID.NotFound"
}

// FromTopology builds every flow log declared in the topology's FlowLogs.
// It reports every problem of every entry, in line order, each at the line
// of its key: one *Error, or Errors when there are several. Two entries (or
// two resource ids) that make the same flow log are FlowLogAlreadyExists.
func FromTopology(t *topology.Topology) ([]*FlowLog, error) {
	out, errs := fromTopology(t)
	switch len(errs) {
	case 0:
		return out, nil
	case 1:
		return nil, errs[0]
	}
	return nil, errs
}

// fromTopology is FromTopology with the problems as a list, in line order.
func fromTopology(t *topology.Topology) ([]*FlowLog, Errors) {
	var out []*FlowLog
	var errs Errors
	seen := map[string]bool{}
	for i := range t.FlowLogs {
		s := &t.FlowLogs[i]
		fls, es := build(t, s, func(key, code, msg string) *Error {
			line := t.FlowLogLine(i, key)
			path := fmt.Sprintf("FlowLogs[%d].%s", i, key)
			return &Error{Where: fmt.Sprintf("%s:%d: %s", t.Name, line, path), Code: code, Msg: msg, Line: line, path: path}
		})
		errs = append(errs, es...)
		for _, f := range fls {
			if seen[f.ID] {
				line := t.FlowLogLine(i, "")
				path := fmt.Sprintf("FlowLogs[%d]", i)
				errs = append(errs, &Error{Where: fmt.Sprintf("%s:%d: %s", t.Name, line, path), Code: "FlowLogAlreadyExists",
					Msg: fmt.Sprintf("a flow log with this configuration already exists for %s", f.ResourceID), Line: line, path: path})
				continue
			}
			seen[f.ID] = true
			out = append(out, f)
		}
	}
	if len(errs) > 0 {
		slices.SortStableFunc(errs, func(a, b *Error) int { return cmp.Compare(a.Line, b.Line) })
		return nil, errs
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}
