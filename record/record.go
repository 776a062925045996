package record

import "net/netip"

// Absent is the value of an integer field written as "-".
const Absent int64 = -1

// ActionValue is the action field: ACCEPT or REJECT, or absent.
type ActionValue uint8

const (
	ActionNone ActionValue = iota
	ActionAccept
	ActionReject
)

func (a ActionValue) String() string { return enumString(Action, uint8(a)) }

// Status is the log-status field.
type Status uint8

const (
	StatusNone Status = iota
	StatusOK
	StatusNoData
	StatusSkipData
)

func (s Status) String() string { return enumString(LogStatus, uint8(s)) }

// Direction is the flow-direction field.
type Direction uint8

const (
	DirectionNone Direction = iota
	Ingress
	Egress
)

func (d Direction) String() string { return enumString(FlowDirection, uint8(d)) }

// AddrType is the type field: IPv4, IPv6 or EFA.
type AddrType uint8

const (
	TypeNone AddrType = iota
	TypeIPv4
	TypeIPv6
	TypeEFA
)

func (t AddrType) String() string { return enumString(Type, uint8(t)) }

func enumString(f Field, v uint8) string {
	vals := infos[f].Values
	if v == 0 || int(v) > len(vals) {
		return "-"
	}
	return vals[v-1]
}

// Record is one flow-log record with every field vpcflow knows. Which fields
// are written, and in which order, is decided by a Format.
type Record struct {
	Version     int64
	AccountID   string
	InterfaceID string
	SrcAddr     netip.Addr
	DstAddr     netip.Addr
	SrcPort     int64
	DstPort     int64
	Protocol    int64
	Packets     int64
	Bytes       int64
	Start       int64
	End         int64
	Action      ActionValue
	LogStatus   Status

	VPCID      string
	SubnetID   string
	InstanceID string
	TCPFlags   int64
	Type       AddrType
	PktSrcAddr netip.Addr
	PktDstAddr netip.Addr

	Region          string
	AZID            string
	SublocationType string
	SublocationID   string

	PktSrcAWSService string
	PktDstAWSService string
	FlowDirection    Direction
	TrafficPath      int64

	ECSClusterARN           string
	ECSClusterName          string
	ECSContainerInstanceARN string
	ECSContainerInstanceID  string
	ECSContainerID          string
	ECSSecondContainerID    string
	ECSServiceName          string
	ECSTaskDefinitionARN    string
	ECSTaskARN              string
	ECSTaskID               string

	RejectReason     string
	ResourceID       string
	EncryptionStatus string

	// Transit gateway fields.
	ResourceType           string
	TGWID                  string
	TGWAttachmentID        string
	TGWSrcVPCAccountID     string
	TGWDstVPCAccountID     string
	TGWSrcVPCID            string
	TGWDstVPCID            string
	TGWSrcSubnetID         string
	TGWDstSubnetID         string
	TGWSrcENI              string
	TGWDstENI              string
	TGWSrcAZID             string
	TGWDstAZID             string
	TGWPairAttachmentID    string
	PacketsLostNoRoute     int64
	PacketsLostBlackhole   int64
	PacketsLostMTUExceeded int64
	PacketsLostTTLExpired  int64

	// XRule is the x-rule extension: the rule that decided Action.
	XRule string
}

// Reset makes every field of r absent.
func (r *Record) Reset() { *r = empty }

// empty is a record with every field absent; copying it is the cheapest reset.
var empty = func() Record {
	var r Record
	for f := Field(1); f < numFields; f++ {
		if p := access[f].num; p != nil {
			*p(&r) = Absent
		}
	}
	return r
}()

// accessor reaches the storage of one field; exactly one member is set,
// matching the field's Kind.
type accessor struct {
	str  func(*Record) *string
	num  func(*Record) *int64
	addr func(*Record) *netip.Addr
	enum func(*Record) *uint8
}

func s(p func(*Record) *string) accessor     { return accessor{str: p} }
func n(p func(*Record) *int64) accessor      { return accessor{num: p} }
func a(p func(*Record) *netip.Addr) accessor { return accessor{addr: p} }
func e(p func(*Record) *uint8) accessor      { return accessor{enum: p} }

var access = [numFields]accessor{
	Version:          n(func(r *Record) *int64 { return &r.Version }),
	AccountID:        s(func(r *Record) *string { return &r.AccountID }),
	InterfaceID:      s(func(r *Record) *string { return &r.InterfaceID }),
	SrcAddr:          a(func(r *Record) *netip.Addr { return &r.SrcAddr }),
	DstAddr:          a(func(r *Record) *netip.Addr { return &r.DstAddr }),
	SrcPort:          n(func(r *Record) *int64 { return &r.SrcPort }),
	DstPort:          n(func(r *Record) *int64 { return &r.DstPort }),
	Protocol:         n(func(r *Record) *int64 { return &r.Protocol }),
	Packets:          n(func(r *Record) *int64 { return &r.Packets }),
	Bytes:            n(func(r *Record) *int64 { return &r.Bytes }),
	Start:            n(func(r *Record) *int64 { return &r.Start }),
	End:              n(func(r *Record) *int64 { return &r.End }),
	Action:           e(func(r *Record) *uint8 { return (*uint8)(&r.Action) }),
	LogStatus:        e(func(r *Record) *uint8 { return (*uint8)(&r.LogStatus) }),
	VPCID:            s(func(r *Record) *string { return &r.VPCID }),
	SubnetID:         s(func(r *Record) *string { return &r.SubnetID }),
	InstanceID:       s(func(r *Record) *string { return &r.InstanceID }),
	TCPFlags:         n(func(r *Record) *int64 { return &r.TCPFlags }),
	Type:             e(func(r *Record) *uint8 { return (*uint8)(&r.Type) }),
	PktSrcAddr:       a(func(r *Record) *netip.Addr { return &r.PktSrcAddr }),
	PktDstAddr:       a(func(r *Record) *netip.Addr { return &r.PktDstAddr }),
	Region:           s(func(r *Record) *string { return &r.Region }),
	AZID:             s(func(r *Record) *string { return &r.AZID }),
	SublocationType:  s(func(r *Record) *string { return &r.SublocationType }),
	SublocationID:    s(func(r *Record) *string { return &r.SublocationID }),
	PktSrcAWSService: s(func(r *Record) *string { return &r.PktSrcAWSService }),
	PktDstAWSService: s(func(r *Record) *string { return &r.PktDstAWSService }),
	FlowDirection:    e(func(r *Record) *uint8 { return (*uint8)(&r.FlowDirection) }),
	TrafficPath:      n(func(r *Record) *int64 { return &r.TrafficPath }),

	ECSClusterARN:           s(func(r *Record) *string { return &r.ECSClusterARN }),
	ECSClusterName:          s(func(r *Record) *string { return &r.ECSClusterName }),
	ECSContainerInstanceARN: s(func(r *Record) *string { return &r.ECSContainerInstanceARN }),
	ECSContainerInstanceID:  s(func(r *Record) *string { return &r.ECSContainerInstanceID }),
	ECSContainerID:          s(func(r *Record) *string { return &r.ECSContainerID }),
	ECSSecondContainerID:    s(func(r *Record) *string { return &r.ECSSecondContainerID }),
	ECSServiceName:          s(func(r *Record) *string { return &r.ECSServiceName }),
	ECSTaskDefinitionARN:    s(func(r *Record) *string { return &r.ECSTaskDefinitionARN }),
	ECSTaskARN:              s(func(r *Record) *string { return &r.ECSTaskARN }),
	ECSTaskID:               s(func(r *Record) *string { return &r.ECSTaskID }),
	RejectReason:            s(func(r *Record) *string { return &r.RejectReason }),
	ResourceID:              s(func(r *Record) *string { return &r.ResourceID }),
	EncryptionStatus:        s(func(r *Record) *string { return &r.EncryptionStatus }),

	ResourceType:           s(func(r *Record) *string { return &r.ResourceType }),
	TGWID:                  s(func(r *Record) *string { return &r.TGWID }),
	TGWAttachmentID:        s(func(r *Record) *string { return &r.TGWAttachmentID }),
	TGWSrcVPCAccountID:     s(func(r *Record) *string { return &r.TGWSrcVPCAccountID }),
	TGWDstVPCAccountID:     s(func(r *Record) *string { return &r.TGWDstVPCAccountID }),
	TGWSrcVPCID:            s(func(r *Record) *string { return &r.TGWSrcVPCID }),
	TGWDstVPCID:            s(func(r *Record) *string { return &r.TGWDstVPCID }),
	TGWSrcSubnetID:         s(func(r *Record) *string { return &r.TGWSrcSubnetID }),
	TGWDstSubnetID:         s(func(r *Record) *string { return &r.TGWDstSubnetID }),
	TGWSrcENI:              s(func(r *Record) *string { return &r.TGWSrcENI }),
	TGWDstENI:              s(func(r *Record) *string { return &r.TGWDstENI }),
	TGWSrcAZID:             s(func(r *Record) *string { return &r.TGWSrcAZID }),
	TGWDstAZID:             s(func(r *Record) *string { return &r.TGWDstAZID }),
	TGWPairAttachmentID:    s(func(r *Record) *string { return &r.TGWPairAttachmentID }),
	PacketsLostNoRoute:     n(func(r *Record) *int64 { return &r.PacketsLostNoRoute }),
	PacketsLostBlackhole:   n(func(r *Record) *int64 { return &r.PacketsLostBlackhole }),
	PacketsLostMTUExceeded: n(func(r *Record) *int64 { return &r.PacketsLostMTUExceeded }),
	PacketsLostTTLExpired:  n(func(r *Record) *int64 { return &r.PacketsLostTTLExpired }),

	XRule: s(func(r *Record) *string { return &r.XRule }),
}
