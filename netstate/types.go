package netstate

import (
	"encoding/json"
	"fmt"
)

// The types below are EC2's shapes, field for field and spelled as
// `aws ec2 describe-...` prints them, so that a Network marshalled to JSON
// is a topology file (docs/topology.md) and the API layer can answer
// Describe* calls from them without translating. Fields that topology
// ignores (State, SubnetArn, association ids, ...) are kept because
// Describe* reports them; topology accepts them as the ignored keys of its
// schema. No field is renamed: the JSON key is the Go field name, which is
// also what the topology-file reader in load.go relies on.

// Tag is an EC2 tag.
type Tag struct {
	Key   string
	Value string
}

// DeleteTag is one Tag.N of DeleteTags: without Value the tag is deleted
// whatever its value; with a Value (even "") only when the value matches.
type DeleteTag struct {
	Key   string
	Value *string
}

// Filter is one Filter.N of a Describe call.
type Filter struct {
	Name   string
	Values []string
}

// Network is the declared network: the keys of a topology file. Sections
// this package never changes (gateways, prefix lists, flow logs) are kept
// as they were written; route tables too, except that CreateVpc adds a
// main one and CreateTags/DeleteTags edit their Tags.
type Network struct {
	AccountId          string
	Region             string
	Vpcs               []Vpc
	Subnets            []Subnet
	NetworkInterfaces  []NetworkInterface
	SecurityGroups     []SecurityGroup
	NetworkAcls        []NetworkAcl
	InternetGateways   []json.RawMessage `json:",omitempty"`
	NatGateways        []json.RawMessage `json:",omitempty"`
	ManagedPrefixLists []json.RawMessage `json:",omitempty"`
	RouteTables        []json.RawMessage `json:",omitempty"`
	FlowLogs           []json.RawMessage `json:",omitempty"`
}

// Vpc is a describe-vpcs entry.
type Vpc struct {
	VpcId                       string
	CidrBlock                   string                        `json:",omitempty"`
	CidrBlockAssociationSet     []VpcCidrBlockAssociation     `json:",omitempty"`
	Ipv6CidrBlockAssociationSet []VpcIpv6CidrBlockAssociation `json:",omitempty"`
	State                       string                        `json:",omitempty"`
	OwnerId                     string                        `json:",omitempty"`
	InstanceTenancy             string                        `json:",omitempty"`
	IsDefault                   bool
	Tags                        []Tag `json:",omitempty"`
}

// VpcCidrBlockAssociation is an IPv4 CIDR of a VPC.
type VpcCidrBlockAssociation struct {
	AssociationId  string `json:",omitempty"`
	CidrBlock      string
	CidrBlockState *CidrBlockState `json:",omitempty"`
}

// VpcIpv6CidrBlockAssociation is an IPv6 CIDR of a VPC.
type VpcIpv6CidrBlockAssociation struct {
	AssociationId      string `json:",omitempty"`
	Ipv6CidrBlock      string
	Ipv6CidrBlockState *CidrBlockState `json:",omitempty"`
}

// CidrBlockState is the state of a CIDR association ("associated").
type CidrBlockState struct {
	State string
}

// Subnet is a describe-subnets entry.
type Subnet struct {
	SubnetId                    string
	VpcId                       string
	CidrBlock                   string                           `json:",omitempty"`
	Ipv6CidrBlockAssociationSet []SubnetIpv6CidrBlockAssociation `json:",omitempty"`
	AvailabilityZone            string                           `json:",omitempty"`
	AvailabilityZoneId          string                           `json:",omitempty"`
	OutpostArn                  string                           `json:",omitempty"`
	State                       string                           `json:",omitempty"`
	OwnerId                     string                           `json:",omitempty"`
	SubnetArn                   string                           `json:",omitempty"`
	Tags                        []Tag                            `json:",omitempty"`
}

// SubnetIpv6CidrBlockAssociation is an IPv6 CIDR of a subnet.
type SubnetIpv6CidrBlockAssociation struct {
	AssociationId string `json:",omitempty"`
	Ipv6CidrBlock string
}

// NetworkInterface is a describe-network-interfaces entry.
type NetworkInterface struct {
	NetworkInterfaceId              string
	SubnetId                        string
	VpcId                           string                           `json:",omitempty"`
	AvailabilityZone                string                           `json:",omitempty"`
	MacAddress                      string                           `json:",omitempty"`
	PrivateIpAddress                string                           `json:",omitempty"`
	PrivateIpAddresses              []NetworkInterfacePrivateAddress `json:",omitempty"`
	Ipv6Addresses                   []NetworkInterfaceIpv6Address    `json:",omitempty"`
	Association                     *NetworkInterfaceAssociation     `json:",omitempty"`
	Attachment                      *NetworkInterfaceAttachment      `json:",omitempty"`
	InterfaceType                   string                           `json:",omitempty"`
	Groups                          []GroupIdentifier
	OwnerId                         string `json:",omitempty"`
	Description                     string
	RequesterManaged                bool
	SourceDestCheck                 *bool                            `json:",omitempty"`
	Status                          string                           `json:",omitempty"`
	ConnectionTrackingConfiguration *ConnectionTrackingConfiguration `json:",omitempty"`
	Nitro                           bool                             `json:",omitempty"` // vpcflow extension, see docs/topology.md
	TagSet                          []Tag                            `json:",omitempty"`
}

// NetworkInterfacePrivateAddress is one private IPv4 address of an interface.
type NetworkInterfacePrivateAddress struct {
	PrivateIpAddress string
	Primary          bool
	Association      *NetworkInterfaceAssociation `json:",omitempty"`
}

// NetworkInterfaceIpv6Address is one IPv6 address of an interface.
type NetworkInterfaceIpv6Address struct {
	Ipv6Address   string
	IsPrimaryIpv6 bool `json:",omitempty"`
}

// NetworkInterfaceAssociation is the public address of an interface.
type NetworkInterfaceAssociation struct {
	PublicIp string `json:",omitempty"`
}

// NetworkInterfaceAttachment names the instance an interface is attached to.
type NetworkInterfaceAttachment struct {
	InstanceId string `json:",omitempty"`
}

// GroupIdentifier is a security group of an interface.
type GroupIdentifier struct {
	GroupId   string
	GroupName string `json:",omitempty"`
}

// ConnectionTrackingConfiguration holds an interface's idle timeouts.
type ConnectionTrackingConfiguration struct {
	TcpEstablishedTimeout *int `json:",omitempty"`
	UdpStreamTimeout      *int `json:",omitempty"`
	UdpTimeout            *int `json:",omitempty"`
}

// SecurityGroup is a describe-security-groups entry. In the Network that
// Store.Network returns, IpPermissions and IpPermissionsEgress are the
// group's rules grouped by protocol and ports as EC2 prints them;
// IpPermissionsEgress is never absent there (an absent key means "allow all"
// to topology, so the store always writes the rules out).
type SecurityGroup struct {
	GroupId             string
	GroupName           string
	Description         string
	VpcId               string `json:",omitempty"`
	OwnerId             string `json:",omitempty"`
	SecurityGroupArn    string `json:",omitempty"`
	IpPermissions       []IpPermission
	IpPermissionsEgress []IpPermission
	Tags                []Tag `json:",omitempty"`
}

// IpPermission is EC2's IpPermission: the rules of one protocol and port
// range, for every source (ingress) or destination (egress) listed.
type IpPermission struct {
	IpProtocol       string
	FromPort         *int              `json:",omitempty"`
	ToPort           *int              `json:",omitempty"`
	IpRanges         []IpRange         `json:",omitempty"`
	Ipv6Ranges       []Ipv6Range       `json:",omitempty"`
	PrefixListIds    []PrefixListId    `json:",omitempty"`
	UserIdGroupPairs []UserIdGroupPair `json:",omitempty"`
}

// IpRange is an IPv4 source or destination of a permission.
type IpRange struct {
	CidrIp      string
	Description string `json:",omitempty"`
}

// Ipv6Range is an IPv6 source or destination of a permission.
type Ipv6Range struct {
	CidrIpv6    string
	Description string `json:",omitempty"`
}

// PrefixListId is a prefix-list source or destination of a permission.
type PrefixListId struct {
	PrefixListId string
	Description  string `json:",omitempty"`
}

// UserIdGroupPair is a security-group source or destination of a
// permission. GroupName is accepted in requests in place of GroupId for a
// group of the same VPC.
type UserIdGroupPair struct {
	GroupId     string
	GroupName   string `json:",omitempty"`
	UserId      string `json:",omitempty"`
	Description string `json:",omitempty"`
}

// SecurityGroupRule is one rule as DescribeSecurityGroupRules reports it:
// one protocol, one port range and exactly one of CidrIpv4, CidrIpv6,
// PrefixListId or ReferencedGroupInfo. FromPort and ToPort are -1 when the
// protocol has no ports; for ICMP they are the type and the code.
type SecurityGroupRule struct {
	SecurityGroupRuleId  string
	GroupId              string
	GroupOwnerId         string
	IsEgress             bool
	IpProtocol           string
	FromPort             int
	ToPort               int
	CidrIpv4             string                   `json:",omitempty"`
	CidrIpv6             string                   `json:",omitempty"`
	PrefixListId         string                   `json:",omitempty"`
	ReferencedGroupInfo  *ReferencedSecurityGroup `json:",omitempty"`
	Description          string                   `json:",omitempty"`
	Tags                 []Tag                    `json:",omitempty"`
	SecurityGroupRuleArn string
}

// ReferencedSecurityGroup is the group a rule refers to.
type ReferencedSecurityGroup struct {
	GroupId string
	UserId  string `json:",omitempty"`
}

// RevokeResult is what a revoke returns: the rules it removed and, in a
// default VPC, the permissions that matched no rule (EC2's
// UnknownIpPermissions).
type RevokeResult struct {
	Revoked              []SecurityGroupRule
	UnknownIpPermissions []IpPermission
}

// NetworkAcl is a describe-network-acls entry.
type NetworkAcl struct {
	NetworkAclId string
	VpcId        string
	IsDefault    bool
	Associations []NetworkAclAssociation
	Entries      []NetworkAclEntry
	OwnerId      string `json:",omitempty"`
	Tags         []Tag  `json:",omitempty"`
}

// NetworkAclAssociation ties a subnet to a network ACL. Every subnet has
// exactly one; ReplaceNetworkAclAssociation moves it and gives it a new id.
type NetworkAclAssociation struct {
	NetworkAclAssociationId string
	NetworkAclId            string
	SubnetId                string
}

// NetworkAclEntry is one NACL rule, the parameters of CreateNetworkAclEntry.
type NetworkAclEntry struct {
	RuleNumber    int
	Protocol      string
	RuleAction    string
	Egress        bool
	CidrBlock     string        `json:",omitempty"`
	Ipv6CidrBlock string        `json:",omitempty"`
	PortRange     *PortRange    `json:",omitempty"`
	IcmpTypeCode  *IcmpTypeCode `json:",omitempty"`
}

// PortRange is the port range of a TCP or UDP NACL entry.
type PortRange struct {
	From *int
	To   *int
}

// IcmpTypeCode is the ICMP type and code of an ICMP NACL entry (-1: any).
type IcmpTypeCode struct {
	Type *int
	Code *int
}

// Error is an EC2 error: Code is what the API returns as the error code
// (InvalidVpcID.NotFound, InvalidParameterValue, ...), Message its text.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// errf builds an *Error; it returns error so that no typed nil escapes.
func errf(code, format string, args ...any) error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Error codes returned by the store.
const (
	CodeInvalidParameterValue       = "InvalidParameterValue"
	CodeInvalidParameter            = "InvalidParameter"
	CodeInvalidParameterCombination = "InvalidParameterCombination"
	CodeMissingParameter            = "MissingParameter"
	CodeInvalidID                   = "InvalidID"
	CodeVpcNotFound                 = "InvalidVpcID.NotFound"
	CodeVpcRange                    = "InvalidVpc.Range"
	CodeVPCIdNotSpecified           = "VPCIdNotSpecified"
	CodeSubnetNotFound              = "InvalidSubnetID.NotFound"
	CodeSubnetRange                 = "InvalidSubnet.Range"
	CodeSubnetConflict              = "InvalidSubnet.Conflict"
	CodeGroupNotFound               = "InvalidGroup.NotFound"
	CodeGroupIdMalformed            = "InvalidGroupId.Malformed"
	CodeGroupDuplicate              = "InvalidGroup.Duplicate"
	CodeGroupReserved               = "InvalidGroup.Reserved"
	CodeCannotDelete                = "CannotDelete"
	CodeDependencyViolation         = "DependencyViolation"
	CodePermissionDuplicate         = "InvalidPermission.Duplicate"
	CodePermissionNotFound          = "InvalidPermission.NotFound"
	CodeRulesPerGroupLimit          = "RulesPerSecurityGroupLimitExceeded"
	CodeRuleIdNotFound              = "InvalidSecurityGroupRuleId.NotFound"
	CodeRuleIdMalformed             = "InvalidSecurityGroupRuleId.Malformed"
	CodePrefixListNotFound          = "InvalidPrefixListId.NotFound"
	CodeNetworkAclNotFound          = "InvalidNetworkAclID.NotFound"
	CodeNetworkAclEntryExists       = "NetworkAclEntryAlreadyExists"
	CodeNetworkAclEntryNotFound     = "InvalidNetworkAclEntry.NotFound"
	CodeNetworkAclEntryLimit        = "NetworkAclEntryLimitExceeded"
	CodeAssociationNotFound         = "InvalidAssociationID.NotFound"
	CodeInterfaceNotFound           = "InvalidNetworkInterfaceID.NotFound"
	CodeInterfaceInUse              = "InvalidNetworkInterface.InUse"
	CodeIPAddressInUse              = "InvalidIPAddress.InUse"
	CodeInsufficientAddresses       = "InsufficientFreeAddressesInSubnet"
	CodeRouteTableNotFound          = "InvalidRouteTableID.NotFound"
	CodeTagLimitExceeded            = "TagLimitExceeded"
	CodeTagKeyMalformed             = "InvalidTagKey.Malformed"
)
