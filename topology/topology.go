// Package topology is the declared network vpcflow attributes packets to:
// account, region, VPCs, subnets, ENIs, security groups, network ACLs,
// gateways and flow-log definitions, loaded from one YAML or JSON file whose
// keys are those of the EC2 describe-* output, so a real account's output can
// be pasted in. It exists so the packet path can answer "which ENI is this
// MAC or address?" in O(1) and the policy engine gets rules already parsed
// and validated, with every problem reported as FILE:LINE: path: problem.
package topology

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Topology is a validated network. It is read-only after Load/Parse, so any
// number of goroutines may use it.
type Topology struct {
	Name      string // file name used in messages
	AccountID string // top-level AccountId; "" when absent
	Region    string // top-level Region; "" when absent

	VPCs             []*VPC // in file order
	Subnets          []*Subnet
	SecurityGroups   []*SecurityGroup
	NetworkACLs      []*NetworkACL // declared ones first, then implicit VPC defaults
	InternetGateways []*InternetGateway
	NATGateways      []*NATGateway
	PrefixLists      []*PrefixList
	RouteTables      []*RouteTable
	FlowLogs         []FlowLogSpec

	enis     []*ENI              // sorted by ID; ENI.Index is the position here
	byMAC    map[uint64]*ENI     // by macKey: a uint64 key hashes much faster than [6]byte
	byIP     map[netip.Addr]*ENI // nil value: the address is in several VPCs
	vpcByID  map[string]*VPC
	subByID  map[string]*Subnet
	sgByID   map[string]*SecurityGroup
	eniByID  map[string]*ENI
	aclByID  map[string]*NetworkACL
	rtBySub  map[*Subnet]*RouteTable
	mainRT   map[*VPC]*RouteTable
	plByID   map[string]*PrefixList
	natByID  map[string]*NATGateway
	igwByID  map[string]*InternetGateway
	hasIPv6  bool
	explicit map[*Subnet]bool // subnet has an explicit NACL association
	// lines of the keys under FlowLogs, by path (FlowLogs[0].TrafficType)
	flowLogLines map[string]int
}

// FlowLogLine returns the line of key (TrafficType, ResourceIds[1],
// DestinationOptions.FileFormat, ...) in entry i of FlowLogs: where the key
// was written, else where its closest enclosing key was, else the entry's
// line; 0 when the topology was not read from a file.
func (t *Topology) FlowLogLine(i int, key string) int {
	path := fmt.Sprintf("FlowLogs[%d]", i)
	if key != "" {
		path += "." + key
	}
	for {
		if l := t.flowLogLines[path]; l > 0 {
			return l
		}
		j := strings.LastIndexAny(path, ".[")
		if j < 0 {
			break
		}
		path = path[:j]
	}
	if i >= 0 && i < len(t.FlowLogs) {
		return t.FlowLogs[i].Line
	}
	return 0
}

// VPC is a declared VPC.
type VPC struct {
	ID        string
	OwnerID   string
	CIDRs     []netip.Prefix // IPv4: CidrBlock first, then CidrBlockAssociationSet
	IPv6CIDRs []netip.Prefix
	Line      int

	DefaultACL *NetworkACL
	Subnets    []*Subnet
	byIP       map[netip.Addr]*ENI
	badCIDR    bool // a CIDR was given but refused: subnets are not checked against the others
}

// DNSAddr is the Amazon-provided DNS resolver of the VPC: the base of its
// primary IPv4 CIDR plus two (docs/aws-behaviour.md, "Excluded traffic").
// Invalid when the VPC has no IPv4 CIDR.
func (v *VPC) DNSAddr() netip.Addr {
	if len(v.CIDRs) == 0 {
		return netip.Addr{}
	}
	a := v.CIDRs[0].Masked().Addr().As4()
	n := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	n += 2
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
}

// ENIByIP finds the ENI owning a private address in this VPC; nil when none.
func (v *VPC) ENIByIP(ip netip.Addr) *ENI { return v.byIP[ip.Unmap()] }

// Contains reports whether ip is inside one of the VPC's CIDRs.
func (v *VPC) Contains(ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, p := range v.CIDRs {
		if p.Contains(ip) {
			return true
		}
	}
	for _, p := range v.IPv6CIDRs {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// Subnet is a declared subnet.
type Subnet struct {
	ID         string
	VPCID      string
	VPC        *VPC
	CIDR       netip.Prefix   // IPv4 CidrBlock; invalid for IPv6-only subnets
	IPv6CIDRs  []netip.Prefix // from Ipv6CidrBlockAssociationSet
	AZ         string         // AvailabilityZone (name)
	AZID       string         // AvailabilityZoneId, what az-id records carry
	OutpostArn string
	ACL        *NetworkACL // explicit association, else the VPC's default
	Line       int
	// a CIDR of the family was given but refused: addresses are not
	// checked against it
	badCIDR, badCIDR6 bool
}

// Contains reports whether ip is inside the subnet; the policy engine uses
// it to decide whether traffic crosses the subnet boundary (and so the NACL).
func (s *Subnet) Contains(ip netip.Addr) bool {
	ip = ip.Unmap()
	if ip.Is4() {
		return s.CIDR.IsValid() && s.CIDR.Contains(ip)
	}
	for _, p := range s.IPv6CIDRs {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// ENI is a network interface: the unit flow logs are recorded on.
type ENI struct {
	Index            int // dense 0..len(ENIs)-1, for per-ENI arrays
	ID               string
	MAC              [6]byte
	HasMAC           bool
	PrimaryIPv4      netip.Addr   // invalid for IPv6-only interfaces
	IPv4s            []netip.Addr // primary first, then secondaries in file order
	IPv6s            []netip.Addr
	PublicIPv4       netip.Addr // Association.PublicIp; not used for lookups
	SubnetID         string
	VPCID            string
	Subnet           *Subnet
	VPC              *VPC
	InstanceID       string // Attachment.InstanceId; "" when none
	AccountID        string // OwnerId, else the top-level AccountId
	Region           string
	AZID             string // the subnet's AvailabilityZoneId
	InterfaceType    string // "interface" when absent
	RequesterManaged bool
	Description      string
	Nitro            bool     // extension key: caps MaxAggregationInterval at 60 s
	Groups           []string // security group ids, in file order
	SecurityGroups   []*SecurityGroup
	// Connection-tracking idle timeouts from ConnectionTrackingConfiguration,
	// in seconds; 0 means "AWS default".
	TCPEstablishedTimeout, UDPStreamTimeout, UDPTimeout int
	Line                                                int
}

// SecurityGroup is a declared security group with parsed rules.
type SecurityGroup struct {
	Index   int // dense, for per-group arrays
	ID      string
	Name    string
	VPCID   string
	Ingress []SGRule
	Egress  []SGRule
	Members []*ENI // ENIs that carry the group, what SG references match
	Line    int
}

// Any protocol, port or ICMP type/code.
const Any = -1

// SGRule is one IpPermissions entry; Num is its 1-based position, the N of
// the rule name sg-ID/ingress/N.
type SGRule struct {
	Num   int
	Proto int // IP protocol number, or Any
	// For TCP/UDP the destination port range; for ICMP/ICMPv6 From is the
	// type and To the code (Any = all). Ignored for other protocols.
	From, To int
	Prefixes []netip.Prefix   // IpRanges, Ipv6Ranges and resolved prefix lists
	Groups   []*SecurityGroup // UserIdGroupPairs
	Line     int
}

// NetworkACL is a network ACL with entries sorted by rule number, the
// implicit deny (RuleNumber 32767, written `*`) last in each direction.
type NetworkACL struct {
	ID        string
	VPCID     string
	IsDefault bool
	Implicit  bool // synthesised allow-all default for a VPC that declares none
	Ingress   []ACLEntry
	Egress    []ACLEntry
	Subnets   []*Subnet
	Line      int
}

// StarRule is the rule number of the implicit final deny entry.
const StarRule = 32767

// ACLEntry is one NACL entry.
type ACLEntry struct {
	RuleNumber int  // 1-32766, or StarRule
	Allow      bool // RuleAction allow
	Proto      int  // protocol number or Any
	Prefix     netip.Prefix
	// PortFrom/PortTo: destination port range for TCP/UDP (0-65535 when absent).
	PortFrom, PortTo int
	// ICMPType/ICMPCode for ICMP and ICMPv6; Any matches all.
	ICMPType, ICMPCode int
	Line               int
}

// Name is the rule number as rule names show it: "100" or "*".
func (e *ACLEntry) Name() string {
	if e.RuleNumber == StarRule {
		return "*"
	}
	return itoa(e.RuleNumber)
}

// InternetGateway is a declared internet gateway.
type InternetGateway struct {
	ID     string
	VPCIDs []string
	Line   int
}

// NATGateway is a declared NAT gateway; its ENI, when declared, is in
// NetworkInterfaces with InterfaceType nat_gateway.
type NATGateway struct {
	ID         string
	SubnetID   string
	VPCID      string
	Public     bool // ConnectivityType public (the default)
	ENIs       []string
	PrivateIPs []netip.Addr
	PublicIPs  []netip.Addr
	Line       int
}

// PrefixList is a managed prefix list, used to resolve PrefixListIds.
type PrefixList struct {
	ID    string
	CIDRs []netip.Prefix
	Line  int
}

// ENIs returns every ENI sorted by ID. The slice is shared: do not modify.
func (t *Topology) ENIs() []*ENI { return t.enis }

// ENIByMAC finds an ENI by MAC address; nil when none.
func (t *Topology) ENIByMAC(mac [6]byte) *ENI { return t.byMAC[macKey(mac)] }

func macKey(m [6]byte) uint64 {
	return uint64(m[0])<<40 | uint64(m[1])<<32 | uint64(m[2])<<24 | uint64(m[3])<<16 | uint64(m[4])<<8 | uint64(m[5])
}

// ENIByID finds an ENI by its id; nil when none.
func (t *Topology) ENIByID(id string) *ENI { return t.eniByID[id] }

// ENIByIP finds the ENI owning a private address (primary or secondary,
// IPv4 or IPv6). With vpcID "" it searches every VPC and returns nil when
// the address is declared in more than one (overlapping VPCs need the VPC).
func (t *Topology) ENIByIP(vpcID string, ip netip.Addr) *ENI {
	ip = ip.Unmap()
	if vpcID == "" {
		return t.byIP[ip]
	}
	v := t.vpcByID[vpcID]
	if v == nil {
		return nil
	}
	return v.byIP[ip]
}

// VPC finds a VPC by id; nil when none.
func (t *Topology) VPC(id string) *VPC { return t.vpcByID[id] }

// Subnet finds a subnet by id; nil when none.
func (t *Topology) Subnet(id string) *Subnet { return t.subByID[id] }

// SecurityGroup finds a security group by id; nil when none.
func (t *Topology) SecurityGroup(id string) *SecurityGroup { return t.sgByID[id] }

// NetworkACL finds a network ACL by id; nil when none.
func (t *Topology) NetworkACL(id string) *NetworkACL { return t.aclByID[id] }

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// FormatMAC writes a MAC the way EC2 does: lowercase, colon separated.
func FormatMAC(m [6]byte) string {
	const hex = "0123456789abcdef"
	var b strings.Builder
	for i, x := range m {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteByte(hex[x>>4])
		b.WriteByte(hex[x&15])
	}
	return b.String()
}

func sortENIs(e []*ENI) {
	slices.SortFunc(e, func(a, b *ENI) int { return strings.Compare(a.ID, b.ID) })
}
