package record

import (
	"sort"

	"github.com/vpcflow/vpcflow/internal/textdist"
)

// Kind is the value type of a field: how it is parsed from text, written to
// JSON, and typed in Parquet/Athena.
type Kind uint8

const (
	KindString Kind = iota // free text; Athena string
	KindInt32              // non-negative integer; Parquet INT_32, Athena int
	KindInt64              // non-negative integer; Parquet INT_64, Athena bigint
	KindAddr               // IPv4 or IPv6 address; Athena string
	KindEnum               // one of a fixed set of words; Athena string
)

func (k Kind) String() string {
	switch k {
	case KindInt32:
		return "int32"
	case KindInt64:
		return "int64"
	case KindAddr:
		return "address"
	case KindEnum:
		return "enum"
	}
	return "string"
}

// Integer reports whether values of the kind are written as JSON numbers.
func (k Kind) Integer() bool { return k == KindInt32 || k == KindInt64 }

// Field identifies one flow-log field. The zero value is not a field.
type Field uint8

// Fields of VPC records, then transit-gateway fields, then vpcflow
// extensions (docs/aws-behaviour.md, "Record fields and formats"). The
// order is that of AWS's field tables; it is also the order of `vpcflow
// records fields`.
const (
	fieldNone Field = iota
	Version
	AccountID
	InterfaceID
	SrcAddr
	DstAddr
	SrcPort
	DstPort
	Protocol
	Packets
	Bytes
	Start
	End
	Action
	LogStatus
	VPCID
	SubnetID
	InstanceID
	TCPFlags
	Type
	PktSrcAddr
	PktDstAddr
	Region
	AZID
	SublocationType
	SublocationID
	PktSrcAWSService
	PktDstAWSService
	FlowDirection
	TrafficPath
	ECSClusterARN
	ECSClusterName
	ECSContainerInstanceARN
	ECSContainerInstanceID
	ECSContainerID
	ECSSecondContainerID
	ECSServiceName
	ECSTaskDefinitionARN
	ECSTaskARN
	ECSTaskID
	RejectReason
	ResourceID
	EncryptionStatus
	ResourceType
	TGWID
	TGWAttachmentID
	TGWSrcVPCAccountID
	TGWDstVPCAccountID
	TGWSrcVPCID
	TGWDstVPCID
	TGWSrcSubnetID
	TGWDstSubnetID
	TGWSrcENI
	TGWDstENI
	TGWSrcAZID
	TGWDstAZID
	TGWPairAttachmentID
	PacketsLostNoRoute
	PacketsLostBlackhole
	PacketsLostMTUExceeded
	PacketsLostTTLExpired
	XRule
	numFields
)

// Scope says which flow logs may use a field.
type Scope uint8

const (
	ScopeVPC       Scope = 1 << iota // VPC, subnet and ENI flow logs
	ScopeTGW                         // transit gateway flow logs
	ScopeExtension                   // vpcflow extension: custom formats only
	ScopeBoth      = ScopeVPC | ScopeTGW
)

// Info describes a field: the facts of AWS's field tables in one place, so that
// parsing, encoding, `records fields` and the Parquet schema agree.
type Info struct {
	Name    string // AWS name, e.g. "tcp-flags"
	Version int    // record version that introduced it; 0 = not confirmed [Unverified]
	Kind    Kind
	Scope   Scope
	Min     int64    // integer range, inclusive
	Max     int64    //
	Values  []string // enum words
	Meaning string   // one line
}

const (
	maxI32 = 1<<31 - 1
	maxI64 = 1<<63 - 1
)

var infos = [numFields]Info{
	Version:          {"version", 2, KindInt32, ScopeBoth, 0, maxI32, nil, "record format version: the highest version among the format's fields"},
	AccountID:        {"account-id", 2, KindString, ScopeBoth, 0, 0, nil, "AWS account that owns the monitored interface (or transit gateway); may be \"unknown\""},
	InterfaceID:      {"interface-id", 2, KindString, ScopeVPC, 0, 0, nil, "ID of the network interface the traffic was recorded on"},
	SrcAddr:          {"srcaddr", 2, KindAddr, ScopeBoth, 0, 0, nil, "source address; for outbound traffic the interface's own (primary private) address"},
	DstAddr:          {"dstaddr", 2, KindAddr, ScopeBoth, 0, 0, nil, "destination address; for inbound traffic the interface's own (primary private) address"},
	SrcPort:          {"srcport", 2, KindInt32, ScopeBoth, 0, 65535, nil, "source port (0 for protocols without ports)"},
	DstPort:          {"dstport", 2, KindInt32, ScopeBoth, 0, 65535, nil, "destination port (0 for protocols without ports)"},
	Protocol:         {"protocol", 2, KindInt32, ScopeBoth, 0, 255, nil, "IANA protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6)"},
	Packets:          {"packets", 2, KindInt64, ScopeBoth, 0, maxI64, nil, "packets of the flow in the capture window"},
	Bytes:            {"bytes", 2, KindInt64, ScopeBoth, 0, maxI64, nil, "bytes of the flow in the window (IP-layer length)"},
	Start:            {"start", 2, KindInt64, ScopeBoth, 0, maxI64, nil, "Unix seconds of the first packet of the flow in the window"},
	End:              {"end", 2, KindInt64, ScopeBoth, 0, maxI64, nil, "Unix seconds of the last packet of the flow in the window"},
	Action:           {"action", 2, KindEnum, ScopeVPC, 0, 0, []string{"ACCEPT", "REJECT"}, "ACCEPT or REJECT: whether security groups and network ACLs let the traffic through"},
	LogStatus:        {"log-status", 2, KindEnum, ScopeBoth, 0, 0, []string{"OK", "NODATA", "SKIPDATA"}, "OK, NODATA (no traffic in the window) or SKIPDATA (records were lost)"},
	VPCID:            {"vpc-id", 3, KindString, ScopeVPC, 0, 0, nil, "VPC of the interface"},
	SubnetID:         {"subnet-id", 3, KindString, ScopeVPC, 0, 0, nil, "subnet of the interface"},
	InstanceID:       {"instance-id", 3, KindString, ScopeVPC, 0, 0, nil, "instance the interface is attached to, if the caller owns it"},
	TCPFlags:         {"tcp-flags", 3, KindInt32, ScopeBoth, 0, 255, nil, "OR of FIN 1, SYN 2, RST 4, SYN-ACK 18 seen in the window"},
	Type:             {"type", 3, KindEnum, ScopeBoth, 0, 0, []string{"IPv4", "IPv6", "EFA"}, "traffic type: IPv4, IPv6 or EFA"},
	PktSrcAddr:       {"pkt-srcaddr", 3, KindAddr, ScopeVPC, 0, 0, nil, "source address in the packet header"},
	PktDstAddr:       {"pkt-dstaddr", 3, KindAddr, ScopeVPC, 0, 0, nil, "destination address in the packet header"},
	Region:           {"region", 4, KindString, ScopeBoth, 0, 0, nil, "Region of the interface (or transit gateway)"},
	AZID:             {"az-id", 4, KindString, ScopeVPC, 0, 0, nil, "Availability Zone ID of the interface, e.g. euw1-az2"},
	SublocationType:  {"sublocation-type", 4, KindString, ScopeVPC, 0, 0, nil, "wavelength, outpost or localzone"},
	SublocationID:    {"sublocation-id", 4, KindString, ScopeVPC, 0, 0, nil, "ID of the sublocation"},
	PktSrcAWSService: {"pkt-src-aws-service", 5, KindString, ScopeBoth, 0, 0, nil, "AWS service whose published IP range holds the source address"},
	PktDstAWSService: {"pkt-dst-aws-service", 5, KindString, ScopeBoth, 0, 0, nil, "AWS service whose published IP range holds the destination address"},
	FlowDirection:    {"flow-direction", 5, KindEnum, ScopeBoth, 0, 0, []string{"ingress", "egress"}, "ingress or egress, relative to the monitored interface"},
	TrafficPath:      {"traffic-path", 5, KindInt32, ScopeVPC, 0, 255, nil, "route taken by egress traffic: 1 same VPC ... 8 internet gateway (Nitro)"},

	ECSClusterARN:           {"ecs-cluster-arn", 7, KindString, ScopeVPC, 0, 0, nil, "ARN of the ECS cluster of the task"},
	ECSClusterName:          {"ecs-cluster-name", 7, KindString, ScopeVPC, 0, 0, nil, "name of the ECS cluster of the task"},
	ECSContainerInstanceARN: {"ecs-container-instance-arn", 7, KindString, ScopeVPC, 0, 0, nil, "ARN of the ECS container instance (EC2 launch type)"},
	ECSContainerInstanceID:  {"ecs-container-instance-id", 7, KindString, ScopeVPC, 0, 0, nil, "ID of the ECS container instance (EC2 launch type)"},
	ECSContainerID:          {"ecs-container-id", 7, KindString, ScopeVPC, 0, 0, nil, "Docker runtime ID of the task's first container"},
	ECSSecondContainerID:    {"ecs-second-container-id", 7, KindString, ScopeVPC, 0, 0, nil, "Docker runtime ID of the task's second container"},
	ECSServiceName:          {"ecs-service-name", 7, KindString, ScopeVPC, 0, 0, nil, "ECS service that started the task"},
	ECSTaskDefinitionARN:    {"ecs-task-definition-arn", 7, KindString, ScopeVPC, 0, 0, nil, "ARN of the task definition"},
	ECSTaskARN:              {"ecs-task-arn", 7, KindString, ScopeVPC, 0, 0, nil, "ARN of the ECS task"},
	ECSTaskID:               {"ecs-task-id", 7, KindString, ScopeVPC, 0, 0, nil, "ID of the ECS task"},
	RejectReason:            {"reject-reason", 8, KindString, ScopeVPC, 0, 0, nil, "why traffic was rejected; documented value BPA (VPC Block Public Access)"},
	ResourceID:              {"resource-id", 0, KindString, ScopeVPC, 0, 0, nil, "[Unverified] resource the traffic belongs to (regional NAT gateway)"},
	EncryptionStatus:        {"encryption-status", 0, KindString, ScopeVPC, 0, 0, nil, "[Unverified] encryption state of the traffic (VPC encryption controls)"},

	ResourceType:           {"resource-type", 6, KindString, ScopeTGW, 0, 0, nil, "TransitGateway or TransitGatewayAttachment: what the flow log is on"},
	TGWID:                  {"tgw-id", 6, KindString, ScopeTGW, 0, 0, nil, "transit gateway ID"},
	TGWAttachmentID:        {"tgw-attachment-id", 6, KindString, ScopeTGW, 0, 0, nil, "attachment on which the traffic was recorded"},
	TGWSrcVPCAccountID:     {"tgw-src-vpc-account-id", 6, KindString, ScopeTGW, 0, 0, nil, "account of the source VPC"},
	TGWDstVPCAccountID:     {"tgw-dst-vpc-account-id", 6, KindString, ScopeTGW, 0, 0, nil, "account of the destination VPC"},
	TGWSrcVPCID:            {"tgw-src-vpc-id", 6, KindString, ScopeTGW, 0, 0, nil, "source VPC"},
	TGWDstVPCID:            {"tgw-dst-vpc-id", 6, KindString, ScopeTGW, 0, 0, nil, "destination VPC"},
	TGWSrcSubnetID:         {"tgw-src-subnet-id", 6, KindString, ScopeTGW, 0, 0, nil, "subnet of the source attachment"},
	TGWDstSubnetID:         {"tgw-dst-subnet-id", 6, KindString, ScopeTGW, 0, 0, nil, "subnet of the destination attachment"},
	TGWSrcENI:              {"tgw-src-eni", 6, KindString, ScopeTGW, 0, 0, nil, "ENI of the source attachment"},
	TGWDstENI:              {"tgw-dst-eni", 6, KindString, ScopeTGW, 0, 0, nil, "ENI of the destination attachment"},
	TGWSrcAZID:             {"tgw-src-az-id", 6, KindString, ScopeTGW, 0, 0, nil, "AZ ID of the source attachment"},
	TGWDstAZID:             {"tgw-dst-az-id", 6, KindString, ScopeTGW, 0, 0, nil, "AZ ID of the destination attachment"},
	TGWPairAttachmentID:    {"tgw-pair-attachment-id", 6, KindString, ScopeTGW, 0, 0, nil, "the other attachment of the flow"},
	PacketsLostNoRoute:     {"packets-lost-no-route", 6, KindInt64, ScopeTGW, 0, maxI64, nil, "packets dropped for lack of a route"},
	PacketsLostBlackhole:   {"packets-lost-blackhole", 6, KindInt64, ScopeTGW, 0, maxI64, nil, "packets dropped by a blackhole route"},
	PacketsLostMTUExceeded: {"packets-lost-mtu-exceeded", 6, KindInt64, ScopeTGW, 0, maxI64, nil, "packets dropped for exceeding the MTU"},
	PacketsLostTTLExpired:  {"packets-lost-ttl-expired", 6, KindInt64, ScopeTGW, 0, maxI64, nil, "packets dropped because the TTL expired"},

	XRule: {"x-rule", 0, KindString, ScopeExtension, 0, 0, nil, "vpcflow extension: the SG/NACL rule that decided the action, e.g. acl-0def/egress/100"},
}

// byName maps a field name to its Field; built once at start-up.
var byName = func() map[string]Field {
	m := make(map[string]Field, numFields)
	for f := Field(1); f < numFields; f++ {
		m[infos[f].Name] = f
	}
	return m
}()

// Info returns the description of f.
func (f Field) Info() *Info { return &infos[f] }

// Name returns the AWS name of f, e.g. "tcp-flags".
func (f Field) Name() string { return infos[f].Name }

// Valid reports whether f is a known field.
func (f Field) Valid() bool { return f > fieldNone && f < numFields }

func (f Field) String() string {
	if !f.Valid() {
		return "field(?)"
	}
	return infos[f].Name
}

// Lookup returns the field called name.
func Lookup(name string) (Field, bool) {
	f, ok := byName[name]
	return f, ok
}

// lookupBytes is Lookup for a byte slice; the map index does not allocate.
func lookupBytes(name []byte) (Field, bool) {
	f, ok := byName[string(name)]
	return f, ok
}

// All returns every known field in the order of AWS's field tables.
func All() []Field {
	out := make([]Field, 0, numFields-1)
	for f := Field(1); f < numFields; f++ {
		out = append(out, f)
	}
	return out
}

// Suggest returns the known field names close to name, for "did you mean"
// hints: one edit away, or two for names longer than five letters (so that
// short words do not match everything).
func Suggest(name string) []string {
	limit := 1
	if len(name) > 5 {
		limit = 2
	}
	var out []string
	for f := Field(1); f < numFields; f++ {
		if textdist.Levenshtein(name, infos[f].Name) <= limit {
			out = append(out, infos[f].Name)
		}
	}
	sort.Strings(out)
	return out
}
