package ec2

import (
	"encoding/xml"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/vpcflow/vpcflow/api/query"
	"github.com/vpcflow/vpcflow/topology"
)

// The read-only Describe actions of the declared network: DescribeVpcs,
// DescribeSubnets, DescribeNetworkInterfaces, DescribeSecurityGroups,
// DescribeNetworkAcls and DescribeRouteTables, answered from
// Backend.Topology. Element names and order are those of EC2's model
// (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_Vpc.html and
// the pages of Subnet, NetworkInterface, SecurityGroup, NetworkAcl and
// RouteTable).
//
// The topology keeps what the packet path needs, not everything a
// describe-* output holds, so a field it does not keep (tags, association
// ids, DHCP options, a security group's description, ...) is an omitted
// element, and a filter AWS documents over such a field is accepted and
// matches nothing. States are those of a resource in use: a declared VPC
// or subnet is "available", a CIDR "associated", a route "active".

// describeKind is one Describe action of the network.
type describeKind[T, X any] struct {
	kind     string // in NextToken
	idParam  string // query name of the ids list: VpcId (VpcId.N)
	notFound func(ids []string) error
	// MaxResults bounds, from EC2's model.
	minResults, maxResults int
	list                   func(t *topology.Topology) []T
	id                     func(T) string
	filters                map[string]func(c *netCtx, r T) []string
	noData                 []string
	render                 func(c *netCtx, r T) X
}

// netCtx is what filters and rendering need besides the resource.
type netCtx struct {
	t    *topology.Topology
	acct string // the owner of resources that name none
	rgn  string
}

func (c *netCtx) owner(explicit string) string {
	if explicit != "" {
		return explicit
	}
	return c.acct
}

// describe runs a Describe action: ids, filters, DryRun and pagination.
// Results are sorted by id, so pages stay stable while the network changes.
// byName, when set, reads more selectors of the action (GroupName.N) and
// narrows the resources.
func describe[T, X any](h *Handler, p query.Params, k *describeKind[T, X], byName func(query.Params, []T) ([]T, error)) ([]X, string, error) {
	dry, err := dryRun(p)
	if err != nil {
		return nil, "", err
	}
	ids, err := idList(p, k.idParam)
	if err != nil {
		return nil, "", err
	}
	fs, err := p.Filters("Filter")
	if err != nil {
		return nil, "", err
	}
	t, _ := h.b.Topology()
	id := h.b.Identity()
	c := &netCtx{t: t, acct: id.Account, rgn: id.Region}
	var all []T
	if t != nil {
		if t.AccountID != "" {
			c.acct = t.AccountID
		}
		if t.Region != "" {
			c.rgn = t.Region
		}
		all = slices.Clone(k.list(t))
	}
	known := make(map[string]filterFunc[T], len(k.filters))
	for name, fn := range k.filters {
		known[name] = func(r T) []string { return fn(c, r) }
	}
	// The declared network carries no tags yet: tag filters match nothing.
	match, err := matcher(fs, known, k.noData, func(T) []tagXML { return nil })
	if err != nil {
		return nil, "", err
	}
	max, _, err := p.IntRange("MaxResults", k.minResults, k.maxResults)
	if err != nil {
		return nil, "", err
	}
	after, err := decodeToken(k.kind, p.String("NextToken"))
	if err != nil {
		return nil, "", err
	}
	slices.SortFunc(all, func(a, b T) int { return strings.Compare(k.id(a), k.id(b)) })
	if len(ids) > 0 {
		var missing []string
		var picked []T
		for _, want := range ids {
			i, ok := slices.BinarySearchFunc(all, want, func(r T, s string) int { return strings.Compare(k.id(r), s) })
			switch {
			case !ok:
				if !slices.Contains(missing, want) {
					missing = append(missing, want)
				}
			case !slices.ContainsFunc(picked, func(r T) bool { return k.id(r) == want }):
				picked = append(picked, all[i])
			}
		}
		if len(missing) > 0 {
			return nil, "", k.notFound(missing)
		}
		slices.SortFunc(picked, func(a, b T) int { return strings.Compare(k.id(a), k.id(b)) })
		all = picked
	}
	if byName != nil {
		if all, err = byName(p, all); err != nil {
			return nil, "", err
		}
	}
	if dry {
		return nil, "", errDryRun
	}
	var sel []T
	for _, r := range all {
		if match(r) {
			sel = append(sel, r)
		}
	}
	pg, next := page(sel, k.id, k.kind, after, max)
	out := make([]X, 0, len(pg))
	for _, r := range pg {
		out = append(out, k.render(c, r))
	}
	return out, next, nil
}

// Helpers for filter values.

func one(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

func boolStr(b bool) []string { return []string{strconv.FormatBool(b)} }

func prefixes(ps []netip.Prefix, v6 bool) []string {
	var out []string
	for _, p := range ps {
		if p.Addr().Is6() == v6 {
			out = append(out, p.String())
		}
	}
	return out
}

func addrs(as []netip.Addr) []string {
	var out []string
	for _, a := range as {
		if a.IsValid() {
			out = append(out, a.String())
		}
	}
	return out
}

// filters is the type of a describeKind's filter table.
type filters[T any] = map[string]func(c *netCtx, r T) []string

// ---- DescribeVpcs ----

type cidrStateXML struct {
	State string `xml:"state"`
}

var associated = &cidrStateXML{State: "associated"}

type vpcCidrXML struct {
	CidrBlock      string        `xml:"cidrBlock"`
	CidrBlockState *cidrStateXML `xml:"cidrBlockState"`
}

type ipv6CidrXML struct {
	Ipv6CidrBlock      string        `xml:"ipv6CidrBlock"`
	Ipv6CidrBlockState *cidrStateXML `xml:"ipv6CidrBlockState"`
}

func ipv6Cidrs(ps []netip.Prefix) *set[ipv6CidrXML] {
	var items []ipv6CidrXML
	for _, p := range ps {
		items = append(items, ipv6CidrXML{Ipv6CidrBlock: p.String(), Ipv6CidrBlockState: associated})
	}
	return optSet(items)
}

type vpcXML struct {
	OwnerID                     string            `xml:"ownerId"`
	Ipv6CidrBlockAssociationSet *set[ipv6CidrXML] `xml:"ipv6CidrBlockAssociationSet,omitempty"`
	CidrBlockAssociationSet     *set[vpcCidrXML]  `xml:"cidrBlockAssociationSet,omitempty"`
	VpcID                       string            `xml:"vpcId"`
	State                       string            `xml:"state"`
	CidrBlock                   string            `xml:"cidrBlock,omitempty"`
}

func vpcOwner(c *netCtx, v *topology.VPC) string { return c.owner(v.OwnerID) }

func ifAny[T any](xs []T, v string) []string {
	if len(xs) == 0 {
		return nil
	}
	return []string{v}
}

var vpcKind = &describeKind[*topology.VPC, vpcXML]{
	kind: "vpcs", idParam: "VpcId", minResults: 5, maxResults: 1000,
	notFound: func(ids []string) error { return notFound("InvalidVpcID.NotFound", "vpc ID", ids) },
	list:     func(t *topology.Topology) []*topology.VPC { return t.VPCs },
	id:       func(v *topology.VPC) string { return v.ID },
	filters: filters[*topology.VPC]{
		"cidr": func(_ *netCtx, v *topology.VPC) []string {
			if len(v.CIDRs) == 0 {
				return nil
			}
			return []string{v.CIDRs[0].String()}
		},
		"cidr-block-association.cidr-block":           func(_ *netCtx, v *topology.VPC) []string { return prefixes(v.CIDRs, false) },
		"cidr-block-association.state":                func(_ *netCtx, v *topology.VPC) []string { return ifAny(v.CIDRs, "associated") },
		"ipv6-cidr-block-association.ipv6-cidr-block": func(_ *netCtx, v *topology.VPC) []string { return prefixes(v.IPv6CIDRs, true) },
		"ipv6-cidr-block-association.state":           func(_ *netCtx, v *topology.VPC) []string { return ifAny(v.IPv6CIDRs, "associated") },
		"owner-id":                                    func(c *netCtx, v *topology.VPC) []string { return one(vpcOwner(c, v)) },
		"state":                                       func(*netCtx, *topology.VPC) []string { return []string{"available"} },
		"vpc-id":                                      func(_ *netCtx, v *topology.VPC) []string { return []string{v.ID} },
	},
	noData: []string{"cidr-block-association.association-id", "dhcp-options-id", "ipv6-cidr-block-association.ipv6-pool",
		"ipv6-cidr-block-association.association-id", "is-default", "tag"},
	render: func(c *netCtx, v *topology.VPC) vpcXML {
		x := vpcXML{OwnerID: vpcOwner(c, v), VpcID: v.ID, State: "available", Ipv6CidrBlockAssociationSet: ipv6Cidrs(v.IPv6CIDRs)}
		var cidrs []vpcCidrXML
		for _, p := range v.CIDRs {
			cidrs = append(cidrs, vpcCidrXML{CidrBlock: p.String(), CidrBlockState: associated})
		}
		x.CidrBlockAssociationSet = optSet(cidrs)
		if len(v.CIDRs) > 0 {
			x.CidrBlock = v.CIDRs[0].String()
		}
		return x
	},
}

type describeVpcsResponse struct {
	XMLName xml.Name `xml:"http://ec2.amazonaws.com/doc/2016-11-15/ DescribeVpcsResponse"`
	responseMeta
	Vpcs      *set[vpcXML] `xml:"vpcSet"`
	NextToken string       `xml:"nextToken,omitempty"`
}

func describeVpcs(h *Handler, p query.Params) (response, error) {
	items, next, err := describe(h, p, vpcKind, nil)
	if err != nil {
		return nil, err
	}
	return &describeVpcsResponse{Vpcs: newSet(items), NextToken: next}, nil
}

// ---- DescribeSubnets ----

type subnetXML struct {
	AvailabilityZoneID          string            `xml:"availabilityZoneId,omitempty"`
	OwnerID                     string            `xml:"ownerId"`
	Ipv6CidrBlockAssociationSet *set[ipv6CidrXML] `xml:"ipv6CidrBlockAssociationSet,omitempty"`
	SubnetArn                   string            `xml:"subnetArn"`
	OutpostArn                  string            `xml:"outpostArn,omitempty"`
	Ipv6Native                  bool              `xml:"ipv6Native"`
	SubnetID                    string            `xml:"subnetId"`
	State                       string            `xml:"state"`
	VpcID                       string            `xml:"vpcId"`
	CidrBlock                   string            `xml:"cidrBlock,omitempty"`
	AvailableIPAddressCount     *int              `xml:"availableIpAddressCount,omitempty"`
	AvailabilityZone            string            `xml:"availabilityZone,omitempty"`
}

func subnetOwner(c *netCtx, s *topology.Subnet) string {
	if s.VPC != nil {
		return c.owner(s.VPC.OwnerID)
	}
	return c.acct
}

func subnetArn(c *netCtx, s *topology.Subnet) string {
	return "arn:aws:ec2:" + c.rgn + ":" + subnetOwner(c, s) + ":subnet/" + s.ID
}

// availableIPs is what AWS reports in AvailableIpAddressCount: the
// addresses of the IPv4 CIDR, less the five AWS reserves in every subnet
// (https://docs.aws.amazon.com/vpc/latest/userguide/subnet-sizing.html),
// less those the declared interfaces use.
func availableIPs(c *netCtx, s *topology.Subnet) *int {
	if !s.CIDR.IsValid() || s.CIDR.Bits() > 30 {
		return nil
	}
	n := 1<<(32-s.CIDR.Bits()) - 5
	for _, e := range c.t.ENIs() {
		if e.SubnetID == s.ID {
			n -= len(e.IPv4s)
		}
	}
	n = max(n, 0)
	return &n
}

var subnetKind = &describeKind[*topology.Subnet, subnetXML]{
	kind: "subnets", idParam: "SubnetId", minResults: 5, maxResults: 1000,
	notFound: func(ids []string) error { return notFound("InvalidSubnetID.NotFound", "subnet ID", ids) },
	list:     func(t *topology.Topology) []*topology.Subnet { return t.Subnets },
	id:       func(s *topology.Subnet) string { return s.ID },
	filters: filters[*topology.Subnet]{
		"availability-zone":    func(_ *netCtx, s *topology.Subnet) []string { return one(s.AZ) },
		"availability-zone-id": func(_ *netCtx, s *topology.Subnet) []string { return one(s.AZID) },
		"available-ip-address-count": func(c *netCtx, s *topology.Subnet) []string {
			if n := availableIPs(c, s); n != nil {
				return []string{strconv.Itoa(*n)}
			}
			return nil
		},
		// cidr and cidrBlock are older names of cidr-block, still accepted.
		"cidr-block": subnetCidr, "cidr": subnetCidr, "cidrBlock": subnetCidr,
		"ipv6-cidr-block-association.ipv6-cidr-block": func(_ *netCtx, s *topology.Subnet) []string { return prefixes(s.IPv6CIDRs, true) },
		"ipv6-cidr-block-association.state":           func(_ *netCtx, s *topology.Subnet) []string { return ifAny(s.IPv6CIDRs, "associated") },
		"ipv6-native":                                 func(_ *netCtx, s *topology.Subnet) []string { return boolStr(!s.CIDR.IsValid()) },
		"outpost-arn":                                 func(_ *netCtx, s *topology.Subnet) []string { return one(s.OutpostArn) },
		"owner-id":                                    func(c *netCtx, s *topology.Subnet) []string { return one(subnetOwner(c, s)) },
		"state":                                       func(*netCtx, *topology.Subnet) []string { return []string{"available"} },
		"subnet-arn":                                  func(c *netCtx, s *topology.Subnet) []string { return []string{subnetArn(c, s)} },
		"subnet-id":                                   func(_ *netCtx, s *topology.Subnet) []string { return []string{s.ID} },
		"vpc-id":                                      func(_ *netCtx, s *topology.Subnet) []string { return []string{s.VPCID} },
	},
	noData: []string{"customer-owned-ipv4-pool", "default-for-az", "enable-dns64", "enable-lni-at-device-index",
		"ipv6-cidr-block-association.association-id", "map-customer-owned-ip-on-launch", "map-public-ip-on-launch",
		"private-dns-name-options-on-launch.hostname-type", "private-dns-name-options-on-launch.enable-resource-name-dns-a-record",
		"private-dns-name-options-on-launch.enable-resource-name-dns-aaaa-record", "tag"},
	render: func(c *netCtx, s *topology.Subnet) subnetXML {
		x := subnetXML{AvailabilityZoneID: s.AZID, OwnerID: subnetOwner(c, s), Ipv6CidrBlockAssociationSet: ipv6Cidrs(s.IPv6CIDRs),
			SubnetArn: subnetArn(c, s), OutpostArn: s.OutpostArn, Ipv6Native: !s.CIDR.IsValid(), SubnetID: s.ID,
			State: "available", VpcID: s.VPCID, AvailableIPAddressCount: availableIPs(c, s), AvailabilityZone: s.AZ}
		if s.CIDR.IsValid() {
			x.CidrBlock = s.CIDR.String()
		}
		return x
	},
}

func subnetCidr(_ *netCtx, s *topology.Subnet) []string {
	if !s.CIDR.IsValid() {
		return nil
	}
	return []string{s.CIDR.String()}
}

type describeSubnetsResponse struct {
	XMLName xml.Name `xml:"http://ec2.amazonaws.com/doc/2016-11-15/ DescribeSubnetsResponse"`
	responseMeta
	Subnets   *set[subnetXML] `xml:"subnetSet"`
	NextToken string          `xml:"nextToken,omitempty"`
}

func describeSubnets(h *Handler, p query.Params) (response, error) {
	items, next, err := describe(h, p, subnetKind, nil)
	if err != nil {
		return nil, err
	}
	return &describeSubnetsResponse{Subnets: newSet(items), NextToken: next}, nil
}

// ---- DescribeNetworkInterfaces ----

type eniAssociationXML struct {
	PublicIP string `xml:"publicIp"`
}

type eniAttachmentXML struct {
	InstanceID string `xml:"instanceId"`
	Status     string `xml:"status"`
}

type connTrackXML struct {
	TCPEstablishedTimeout int `xml:"tcpEstablishedTimeout,omitempty"`
	UDPStreamTimeout      int `xml:"udpStreamTimeout,omitempty"`
	UDPTimeout            int `xml:"udpTimeout,omitempty"`
}

type groupIdentifierXML struct {
	GroupID   string `xml:"groupId"`
	GroupName string `xml:"groupName,omitempty"`
}

type eniIPv6XML struct {
	Ipv6Address string `xml:"ipv6Address"`
}

type eniPrivateIPXML struct {
	Association      *eniAssociationXML `xml:"association,omitempty"`
	Primary          bool               `xml:"primary"`
	PrivateIPAddress string             `xml:"privateIpAddress"`
}

type eniXML struct {
	Association                     *eniAssociationXML       `xml:"association,omitempty"`
	Attachment                      *eniAttachmentXML        `xml:"attachment,omitempty"`
	AvailabilityZone                string                   `xml:"availabilityZone,omitempty"`
	ConnectionTrackingConfiguration *connTrackXML            `xml:"connectionTrackingConfiguration,omitempty"`
	Description                     string                   `xml:"description"`
	Groups                          *set[groupIdentifierXML] `xml:"groupSet"`
	InterfaceType                   string                   `xml:"interfaceType"`
	Ipv6Addresses                   *set[eniIPv6XML]         `xml:"ipv6AddressesSet"`
	MacAddress                      string                   `xml:"macAddress,omitempty"`
	NetworkInterfaceID              string                   `xml:"networkInterfaceId"`
	OutpostArn                      string                   `xml:"outpostArn,omitempty"`
	OwnerID                         string                   `xml:"ownerId"`
	PrivateIPAddress                string                   `xml:"privateIpAddress,omitempty"`
	PrivateIPAddresses              *set[eniPrivateIPXML]    `xml:"privateIpAddressesSet"`
	RequesterManaged                bool                     `xml:"requesterManaged"`
	Status                          string                   `xml:"status"`
	SubnetID                        string                   `xml:"subnetId"`
	VpcID                           string                   `xml:"vpcId"`
}

// eniStatus: an interface attached to an instance, or managed by a service
// on the requester's behalf (NAT gateway, load balancer, ...), is in use;
// a declared interface without either is available.
func eniStatus(e *topology.ENI) string {
	if e.InstanceID != "" || e.RequesterManaged {
		return "in-use"
	}
	return "available"
}

func eniAZ(e *topology.ENI) string {
	if e.Subnet != nil {
		return e.Subnet.AZ
	}
	return ""
}

func eniGroupNames(e *topology.ENI) []string {
	var out []string
	for _, g := range e.SecurityGroups {
		if g.Name != "" {
			out = append(out, g.Name)
		}
	}
	return out
}

var eniKind = &describeKind[*topology.ENI, eniXML]{
	kind: "network-interfaces", idParam: "NetworkInterfaceId", minResults: 5, maxResults: 1000,
	notFound: func(ids []string) error {
		return notFound("InvalidNetworkInterfaceID.NotFound", "networkInterface ID", ids)
	},
	list: func(t *topology.Topology) []*topology.ENI { return t.ENIs() },
	id:   func(e *topology.ENI) string { return e.ID },
	filters: filters[*topology.ENI]{
		"addresses.private-ip-address": func(_ *netCtx, e *topology.ENI) []string { return addrs(e.IPv4s) },
		"addresses.association.public-ip": func(_ *netCtx, e *topology.ENI) []string {
			return addrs([]netip.Addr{e.PublicIPv4})
		},
		"association.public-ip":  func(_ *netCtx, e *topology.ENI) []string { return addrs([]netip.Addr{e.PublicIPv4}) },
		"attachment.instance-id": func(_ *netCtx, e *topology.ENI) []string { return one(e.InstanceID) },
		"attachment.status": func(_ *netCtx, e *topology.ENI) []string {
			if e.InstanceID == "" {
				return nil
			}
			return []string{"attached"}
		},
		"availability-zone":           func(_ *netCtx, e *topology.ENI) []string { return one(eniAZ(e)) },
		"availability-zone-id":        func(_ *netCtx, e *topology.ENI) []string { return one(e.AZID) },
		"description":                 func(_ *netCtx, e *topology.ENI) []string { return []string{e.Description} },
		"group-id":                    func(_ *netCtx, e *topology.ENI) []string { return e.Groups },
		"group-name":                  func(_ *netCtx, e *topology.ENI) []string { return eniGroupNames(e) },
		"ipv6-addresses.ipv6-address": func(_ *netCtx, e *topology.ENI) []string { return addrs(e.IPv6s) },
		"interface-type":              func(_ *netCtx, e *topology.ENI) []string { return []string{e.InterfaceType} },
		"mac-address":                 func(_ *netCtx, e *topology.ENI) []string { return eniMAC(e) },
		"network-interface-id":        func(_ *netCtx, e *topology.ENI) []string { return []string{e.ID} },
		"owner-id":                    func(c *netCtx, e *topology.ENI) []string { return one(c.owner(e.AccountID)) },
		"private-ip-address":          func(_ *netCtx, e *topology.ENI) []string { return addrs(e.IPv4s) },
		"requester-managed":           func(_ *netCtx, e *topology.ENI) []string { return boolStr(e.RequesterManaged) },
		"status":                      func(_ *netCtx, e *topology.ENI) []string { return []string{eniStatus(e)} },
		"subnet-id":                   func(_ *netCtx, e *topology.ENI) []string { return []string{e.SubnetID} },
		"vpc-id":                      func(_ *netCtx, e *topology.ENI) []string { return []string{e.VPCID} },
	},
	noData: []string{"association.allocation-id", "association.association-id", "addresses.association.owner-id",
		"addresses.primary", "association.ip-owner-id", "association.public-dns-name", "attachment.attach-time",
		"attachment.attachment-id", "attachment.delete-on-termination", "attachment.device-index",
		"attachment.instance-owner-id", "operator.managed", "operator.principal", "private-dns-name", "requester-id",
		"source-dest-check", "tag"},
	render: func(c *netCtx, e *topology.ENI) eniXML {
		x := eniXML{AvailabilityZone: eniAZ(e), Description: e.Description, InterfaceType: e.InterfaceType,
			NetworkInterfaceID: e.ID, OwnerID: c.owner(e.AccountID), RequesterManaged: e.RequesterManaged,
			Status: eniStatus(e), SubnetID: e.SubnetID, VpcID: e.VPCID}
		if e.PublicIPv4.IsValid() {
			x.Association = &eniAssociationXML{PublicIP: e.PublicIPv4.String()}
		}
		if e.InstanceID != "" {
			x.Attachment = &eniAttachmentXML{InstanceID: e.InstanceID, Status: "attached"}
		}
		if e.TCPEstablishedTimeout != 0 || e.UDPStreamTimeout != 0 || e.UDPTimeout != 0 {
			x.ConnectionTrackingConfiguration = &connTrackXML{TCPEstablishedTimeout: e.TCPEstablishedTimeout,
				UDPStreamTimeout: e.UDPStreamTimeout, UDPTimeout: e.UDPTimeout}
		}
		groups := []groupIdentifierXML{}
		for _, g := range e.SecurityGroups {
			groups = append(groups, groupIdentifierXML{GroupID: g.ID, GroupName: g.Name})
		}
		x.Groups = newSet(groups)
		v6 := []eniIPv6XML{}
		for _, a := range e.IPv6s {
			v6 = append(v6, eniIPv6XML{Ipv6Address: a.String()})
		}
		x.Ipv6Addresses = newSet(v6)
		if m := eniMAC(e); m != nil {
			x.MacAddress = m[0]
		}
		if e.Subnet != nil {
			x.OutpostArn = e.Subnet.OutpostArn
		}
		ips := []eniPrivateIPXML{}
		for i, a := range e.IPv4s {
			ip := eniPrivateIPXML{Primary: i == 0 && a == e.PrimaryIPv4, PrivateIPAddress: a.String()}
			if ip.Primary && x.Association != nil {
				ip.Association = x.Association
			}
			ips = append(ips, ip)
		}
		x.PrivateIPAddresses = newSet(ips)
		if e.PrimaryIPv4.IsValid() {
			x.PrivateIPAddress = e.PrimaryIPv4.String()
		}
		return x
	},
}

func eniMAC(e *topology.ENI) []string {
	if !e.HasMAC {
		return nil
	}
	return []string{topology.FormatMAC(e.MAC)}
}

type describeNetworkInterfacesResponse struct {
	XMLName xml.Name `xml:"http://ec2.amazonaws.com/doc/2016-11-15/ DescribeNetworkInterfacesResponse"`
	responseMeta
	NetworkInterfaces *set[eniXML] `xml:"networkInterfaceSet"`
	NextToken         string       `xml:"nextToken,omitempty"`
}

func describeNetworkInterfaces(h *Handler, p query.Params) (response, error) {
	// IncludeManagedResources asks for interfaces managed by other services
	// too; the declared network lists them all, so it changes nothing.
	if _, _, err := p.Bool("IncludeManagedResources"); err != nil {
		return nil, err
	}
	items, next, err := describe(h, p, eniKind, nil)
	if err != nil {
		return nil, err
	}
	return &describeNetworkInterfacesResponse{NetworkInterfaces: newSet(items), NextToken: next}, nil
}

// ---- DescribeSecurityGroups ----

type userIDGroupPairXML struct {
	UserID  string `xml:"userId,omitempty"`
	GroupID string `xml:"groupId"`
}

type ipRangeXML struct {
	CidrIP string `xml:"cidrIp"`
}

type ipv6RangeXML struct {
	CidrIpv6 string `xml:"cidrIpv6"`
}

type prefixListIDXML struct {
	PrefixListID string `xml:"prefixListId"`
}

type ipPermissionXML struct {
	IPProtocol    string                   `xml:"ipProtocol"`
	FromPort      *int                     `xml:"fromPort,omitempty"`
	ToPort        *int                     `xml:"toPort,omitempty"`
	Groups        *set[userIDGroupPairXML] `xml:"groups"`
	IPRanges      *set[ipRangeXML]         `xml:"ipRanges"`
	Ipv6Ranges    *set[ipv6RangeXML]       `xml:"ipv6Ranges"`
	PrefixListIDs *set[prefixListIDXML]    `xml:"prefixListIds"`
}

type securityGroupXML struct {
	GroupID             string                `xml:"groupId"`
	IPPermissionsEgress *set[ipPermissionXML] `xml:"ipPermissionsEgress"`
	VpcID               string                `xml:"vpcId,omitempty"`
	SecurityGroupArn    string                `xml:"securityGroupArn"`
	OwnerID             string                `xml:"ownerId"`
	GroupName           string                `xml:"groupName"`
	IPPermissions       *set[ipPermissionXML] `xml:"ipPermissions"`
}

func sgArn(c *netCtx, g *topology.SecurityGroup) string {
	return "arn:aws:ec2:" + c.rgn + ":" + c.acct + ":security-group/" + g.ID
}

// ports are the FromPort and ToPort of a rule as EC2 writes them: the port
// range for TCP and UDP, the ICMP type and code (-1 for all) for ICMP, and
// none for other protocols.
func ports(proto, from, to int) (*int, *int) {
	switch proto {
	case topology.ProtoTCP, topology.ProtoUDP, topology.ProtoICMP, topology.ProtoICMPv6:
		return &from, &to
	}
	return nil, nil
}

func permissions(c *netCtx, rules []topology.SGRule) *set[ipPermissionXML] {
	out := []ipPermissionXML{}
	for _, r := range rules {
		x := ipPermissionXML{IPProtocol: topology.ProtocolName(r.Proto)}
		x.FromPort, x.ToPort = ports(r.Proto, r.From, r.To)
		groups, v4, v6 := []userIDGroupPairXML{}, []ipRangeXML{}, []ipv6RangeXML{}
		for _, g := range r.Groups {
			groups = append(groups, userIDGroupPairXML{UserID: c.acct, GroupID: g.ID})
		}
		for _, p := range r.Prefixes {
			if p.Addr().Is4() {
				v4 = append(v4, ipRangeXML{CidrIP: p.String()})
			} else {
				v6 = append(v6, ipv6RangeXML{CidrIpv6: p.String()})
			}
		}
		x.Groups, x.IPRanges, x.Ipv6Ranges, x.PrefixListIDs = newSet(groups), newSet(v4), newSet(v6), newSet([]prefixListIDXML{})
		out = append(out, x)
	}
	return newSet(out)
}

// ruleValues collects, over a group's rules in one direction, the filter
// values one rule gives.
func ruleValues(rules []topology.SGRule, fn func(r *topology.SGRule) []string) []string {
	var out []string
	for i := range rules {
		out = append(out, fn(&rules[i])...)
	}
	return out
}

func protoValues(p int) []string {
	name := topology.ProtocolName(p)
	if p == topology.Any {
		return []string{name}
	}
	if n := strconv.Itoa(p); n != name {
		return []string{name, n}
	}
	return []string{name}
}

// sgRuleFilters are the filters over one direction's rules, under prefix
// ("ip-permission." or "egress.ip-permission.").
func sgRuleFilters(f filters[*topology.SecurityGroup], prefix string, rules func(*topology.SecurityGroup) []topology.SGRule) {
	on := func(fn func(c *netCtx, r *topology.SGRule) []string) func(*netCtx, *topology.SecurityGroup) []string {
		return func(c *netCtx, g *topology.SecurityGroup) []string {
			return ruleValues(rules(g), func(r *topology.SGRule) []string { return fn(c, r) })
		}
	}
	cidrs := func(v6 bool) func(c *netCtx, r *topology.SGRule) []string {
		return func(_ *netCtx, r *topology.SGRule) []string { return prefixes(r.Prefixes, v6) }
	}
	f[prefix+"cidr"] = on(cidrs(false))
	f[prefix+"ipv6-cidr"] = on(cidrs(true))
	f[prefix+"from-port"] = on(func(_ *netCtx, r *topology.SGRule) []string {
		if from, _ := ports(r.Proto, r.From, r.To); from != nil {
			return []string{strconv.Itoa(*from)}
		}
		return nil
	})
	f[prefix+"to-port"] = on(func(_ *netCtx, r *topology.SGRule) []string {
		if _, to := ports(r.Proto, r.From, r.To); to != nil {
			return []string{strconv.Itoa(*to)}
		}
		return nil
	})
	f[prefix+"protocol"] = on(func(_ *netCtx, r *topology.SGRule) []string { return protoValues(r.Proto) })
	f[prefix+"group-id"] = on(func(_ *netCtx, r *topology.SGRule) []string {
		var out []string
		for _, g := range r.Groups {
			out = append(out, g.ID)
		}
		return out
	})
	f[prefix+"group-name"] = on(func(_ *netCtx, r *topology.SGRule) []string {
		var out []string
		for _, g := range r.Groups {
			out = append(out, g.Name)
		}
		return out
	})
	f[prefix+"user-id"] = on(func(c *netCtx, r *topology.SGRule) []string { return ifAny(r.Groups, c.acct) })
}

var sgKind = func() *describeKind[*topology.SecurityGroup, securityGroupXML] {
	f := filters[*topology.SecurityGroup]{
		"group-id":   func(_ *netCtx, g *topology.SecurityGroup) []string { return []string{g.ID} },
		"group-name": func(_ *netCtx, g *topology.SecurityGroup) []string { return []string{g.Name} },
		"owner-id":   func(c *netCtx, _ *topology.SecurityGroup) []string { return one(c.acct) },
		"vpc-id":     func(_ *netCtx, g *topology.SecurityGroup) []string { return one(g.VPCID) },
	}
	sgRuleFilters(f, "ip-permission.", func(g *topology.SecurityGroup) []topology.SGRule { return g.Ingress })
	sgRuleFilters(f, "egress.ip-permission.", func(g *topology.SecurityGroup) []topology.SGRule { return g.Egress })
	return &describeKind[*topology.SecurityGroup, securityGroupXML]{
		kind: "security-groups", idParam: "GroupId", minResults: 5, maxResults: 1000,
		notFound: func(ids []string) error { return notFound("InvalidGroup.NotFound", "security group", ids) },
		list:     func(t *topology.Topology) []*topology.SecurityGroup { return t.SecurityGroups },
		id:       func(g *topology.SecurityGroup) string { return g.ID },
		filters:  f,
		noData:   []string{"description", "ip-permission.prefix-list-id", "egress.ip-permission.prefix-list-id", "tag"},
		render: func(c *netCtx, g *topology.SecurityGroup) securityGroupXML {
			return securityGroupXML{GroupID: g.ID, IPPermissionsEgress: permissions(c, g.Egress), VpcID: g.VPCID,
				SecurityGroupArn: sgArn(c, g), OwnerID: c.acct, GroupName: g.Name, IPPermissions: permissions(c, g.Ingress)}
		},
	}
}()

type describeSecurityGroupsResponse struct {
	XMLName xml.Name `xml:"http://ec2.amazonaws.com/doc/2016-11-15/ DescribeSecurityGroupsResponse"`
	responseMeta
	SecurityGroups *set[securityGroupXML] `xml:"securityGroupInfo"`
	NextToken      string                 `xml:"nextToken,omitempty"`
}

// sgByName narrows the groups to those of GroupName.N; a name no group has
// is InvalidGroup.NotFound, as an unknown id.
func sgByName(p query.Params, gs []*topology.SecurityGroup) ([]*topology.SecurityGroup, error) {
	names := p.List("GroupName")
	if len(names) == 0 {
		return gs, nil
	}
	var out []*topology.SecurityGroup
	var missing []string
	for _, n := range names {
		found := false
		for _, g := range gs {
			if g.Name == n {
				found = true
				if !slices.Contains(out, g) {
					out = append(out, g)
				}
			}
		}
		if !found && !slices.Contains(missing, n) {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return nil, notFound("InvalidGroup.NotFound", "security group", missing)
	}
	slices.SortFunc(out, func(a, b *topology.SecurityGroup) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

func describeSecurityGroups(h *Handler, p query.Params) (response, error) {
	items, next, err := describe(h, p, sgKind, sgByName)
	if err != nil {
		return nil, err
	}
	return &describeSecurityGroupsResponse{SecurityGroups: newSet(items), NextToken: next}, nil
}

// ---- DescribeNetworkAcls ----

type aclAssociationXML struct {
	NetworkAclID string `xml:"networkAclId"`
	SubnetID     string `xml:"subnetId"`
}

type icmpTypeCodeXML struct {
	Code int `xml:"code"`
	Type int `xml:"type"`
}

type portRangeXML struct {
	From int `xml:"from"`
	To   int `xml:"to"`
}

type aclEntryXML struct {
	CidrBlock     string           `xml:"cidrBlock,omitempty"`
	Egress        bool             `xml:"egress"`
	IcmpTypeCode  *icmpTypeCodeXML `xml:"icmpTypeCode,omitempty"`
	Ipv6CidrBlock string           `xml:"ipv6CidrBlock,omitempty"`
	PortRange     *portRangeXML    `xml:"portRange,omitempty"`
	Protocol      string           `xml:"protocol"`
	RuleAction    string           `xml:"ruleAction"`
	RuleNumber    int              `xml:"ruleNumber"`
}

type networkAclXML struct {
	Associations *set[aclAssociationXML] `xml:"associationSet"`
	Entries      *set[aclEntryXML]       `xml:"entrySet"`
	IsDefault    bool                    `xml:"default"`
	NetworkAclID string                  `xml:"networkAclId"`
	VpcID        string                  `xml:"vpcId"`
	OwnerID      string                  `xml:"ownerId"`
}

// aclProtocol is a network ACL entry's protocol as EC2 writes it: the
// protocol number, or -1 for all.
func aclProtocol(p int) string {
	if p == topology.Any {
		return "-1"
	}
	return strconv.Itoa(p)
}

func ruleAction(allow bool) string {
	if allow {
		return "allow"
	}
	return "deny"
}

func aclEntry(e *topology.ACLEntry, egress bool) aclEntryXML {
	x := aclEntryXML{Egress: egress, Protocol: aclProtocol(e.Proto), RuleAction: ruleAction(e.Allow), RuleNumber: e.RuleNumber}
	if e.Prefix.Addr().Is4() {
		x.CidrBlock = e.Prefix.String()
	} else {
		x.Ipv6CidrBlock = e.Prefix.String()
	}
	switch e.Proto {
	case topology.ProtoTCP, topology.ProtoUDP:
		x.PortRange = &portRangeXML{From: e.PortFrom, To: e.PortTo}
	case topology.ProtoICMP, topology.ProtoICMPv6:
		x.IcmpTypeCode = &icmpTypeCodeXML{Code: e.ICMPCode, Type: e.ICMPType}
	}
	return x
}

// aclEntries lists egress entries, then ingress ones, each by rule number,
// as EC2 does.
func aclEntries(a *topology.NetworkACL) []aclEntryXML {
	var out []aclEntryXML
	for i := range a.Egress {
		out = append(out, aclEntry(&a.Egress[i], true))
	}
	for i := range a.Ingress {
		out = append(out, aclEntry(&a.Ingress[i], false))
	}
	return out
}

func entryValues(a *topology.NetworkACL, fn func(e aclEntryXML) []string) []string {
	var out []string
	for _, e := range aclEntries(a) {
		out = append(out, fn(e)...)
	}
	return out
}

func aclOwner(c *netCtx, a *topology.NetworkACL) string {
	if v := c.t.VPC(a.VPCID); v != nil {
		return c.owner(v.OwnerID)
	}
	return c.acct
}

var aclKind = &describeKind[*topology.NetworkACL, networkAclXML]{
	kind: "network-acls", idParam: "NetworkAclId", minResults: 5, maxResults: 1000,
	notFound: func(ids []string) error { return notFound("InvalidNetworkAclID.NotFound", "networkAcl ID", ids) },
	list:     func(t *topology.Topology) []*topology.NetworkACL { return t.NetworkACLs },
	id:       func(a *topology.NetworkACL) string { return a.ID },
	filters: filters[*topology.NetworkACL]{
		"association.network-acl-id": func(_ *netCtx, a *topology.NetworkACL) []string { return ifAny(a.Subnets, a.ID) },
		"association.subnet-id": func(_ *netCtx, a *topology.NetworkACL) []string {
			var out []string
			for _, s := range a.Subnets {
				out = append(out, s.ID)
			}
			return out
		},
		"default": func(_ *netCtx, a *topology.NetworkACL) []string { return boolStr(a.IsDefault) },
		"entry.cidr": func(_ *netCtx, a *topology.NetworkACL) []string {
			return entryValues(a, func(e aclEntryXML) []string { return one(e.CidrBlock) })
		},
		"entry.ipv6-cidr": func(_ *netCtx, a *topology.NetworkACL) []string {
			return entryValues(a, func(e aclEntryXML) []string { return one(e.Ipv6CidrBlock) })
		},
		"entry.egress": func(_ *netCtx, a *topology.NetworkACL) []string {
			return entryValues(a, func(e aclEntryXML) []string { return boolStr(e.Egress) })
		},
		"entry.protocol": func(_ *netCtx, a *topology.NetworkACL) []string {
			return entryValues(a, func(e aclEntryXML) []string { return []string{e.Protocol} })
		},
		"entry.rule-action": func(_ *netCtx, a *topology.NetworkACL) []string {
			return entryValues(a, func(e aclEntryXML) []string { return []string{e.RuleAction} })
		},
		"entry.rule-number": func(_ *netCtx, a *topology.NetworkACL) []string {
			return entryValues(a, func(e aclEntryXML) []string { return []string{strconv.Itoa(e.RuleNumber)} })
		},
		"entry.port-range.from": func(_ *netCtx, a *topology.NetworkACL) []string {
			return entryValues(a, func(e aclEntryXML) []string {
				if e.PortRange == nil {
					return nil
				}
				return []string{strconv.Itoa(e.PortRange.From)}
			})
		},
		"entry.port-range.to": func(_ *netCtx, a *topology.NetworkACL) []string {
			return entryValues(a, func(e aclEntryXML) []string {
				if e.PortRange == nil {
					return nil
				}
				return []string{strconv.Itoa(e.PortRange.To)}
			})
		},
		"entry.icmp.type": func(_ *netCtx, a *topology.NetworkACL) []string {
			return entryValues(a, func(e aclEntryXML) []string {
				if e.IcmpTypeCode == nil {
					return nil
				}
				return []string{strconv.Itoa(e.IcmpTypeCode.Type)}
			})
		},
		"entry.icmp.code": func(_ *netCtx, a *topology.NetworkACL) []string {
			return entryValues(a, func(e aclEntryXML) []string {
				if e.IcmpTypeCode == nil {
					return nil
				}
				return []string{strconv.Itoa(e.IcmpTypeCode.Code)}
			})
		},
		"network-acl-id": func(_ *netCtx, a *topology.NetworkACL) []string { return []string{a.ID} },
		"owner-id":       func(c *netCtx, a *topology.NetworkACL) []string { return one(aclOwner(c, a)) },
		"vpc-id":         func(_ *netCtx, a *topology.NetworkACL) []string { return []string{a.VPCID} },
	},
	noData: []string{"association.association-id", "tag"},
	render: func(c *netCtx, a *topology.NetworkACL) networkAclXML {
		assoc := []aclAssociationXML{}
		for _, s := range a.Subnets {
			assoc = append(assoc, aclAssociationXML{NetworkAclID: a.ID, SubnetID: s.ID})
		}
		return networkAclXML{Associations: newSet(assoc), Entries: newSet(aclEntries(a)), IsDefault: a.IsDefault,
			NetworkAclID: a.ID, VpcID: a.VPCID, OwnerID: aclOwner(c, a)}
	},
}

type describeNetworkAclsResponse struct {
	XMLName xml.Name `xml:"http://ec2.amazonaws.com/doc/2016-11-15/ DescribeNetworkAclsResponse"`
	responseMeta
	NetworkAcls *set[networkAclXML] `xml:"networkAclSet"`
	NextToken   string              `xml:"nextToken,omitempty"`
}

func describeNetworkAcls(h *Handler, p query.Params) (response, error) {
	items, next, err := describe(h, p, aclKind, nil)
	if err != nil {
		return nil, err
	}
	return &describeNetworkAclsResponse{NetworkAcls: newSet(items), NextToken: next}, nil
}

// ---- DescribeRouteTables ----

type rtAssociationXML struct {
	Main             bool          `xml:"main"`
	RouteTableID     string        `xml:"routeTableId"`
	SubnetID         string        `xml:"subnetId,omitempty"`
	AssociationState *cidrStateXML `xml:"associationState"`
}

type routeXML struct {
	DestinationCidrBlock        string `xml:"destinationCidrBlock,omitempty"`
	DestinationIpv6CidrBlock    string `xml:"destinationIpv6CidrBlock,omitempty"`
	EgressOnlyInternetGatewayID string `xml:"egressOnlyInternetGatewayId,omitempty"`
	GatewayID                   string `xml:"gatewayId,omitempty"`
	InstanceID                  string `xml:"instanceId,omitempty"`
	NatGatewayID                string `xml:"natGatewayId,omitempty"`
	TransitGatewayID            string `xml:"transitGatewayId,omitempty"`
	LocalGatewayID              string `xml:"localGatewayId,omitempty"`
	CarrierGatewayID            string `xml:"carrierGatewayId,omitempty"`
	NetworkInterfaceID          string `xml:"networkInterfaceId,omitempty"`
	Origin                      string `xml:"origin"`
	State                       string `xml:"state"`
	VpcPeeringConnectionID      string `xml:"vpcPeeringConnectionId,omitempty"`
	CoreNetworkArn              string `xml:"coreNetworkArn,omitempty"`
}

type routeTableXML struct {
	Associations *set[rtAssociationXML] `xml:"associationSet"`
	RouteTableID string                 `xml:"routeTableId"`
	Routes       *set[routeXML]         `xml:"routeSet"`
	VpcID        string                 `xml:"vpcId"`
	OwnerID      string                 `xml:"ownerId"`
}

// route writes a route with its target in the element EC2 uses for that
// kind of target. The local route comes with the route table
// (origin CreateRouteTable), the others were added (CreateRoute).
func route(r *topology.Route) routeXML {
	x := routeXML{Origin: "CreateRoute", State: "active"}
	if r.Dest.Addr().Is4() {
		x.DestinationCidrBlock = r.Dest.String()
	} else {
		x.DestinationIpv6CidrBlock = r.Dest.String()
	}
	switch r.Kind {
	case topology.TargetLocal:
		x.GatewayID, x.Origin = "local", "CreateRouteTable"
	case topology.TargetIGW:
		if strings.HasPrefix(r.Target, "eigw-") {
			x.EgressOnlyInternetGatewayID = r.Target
		} else {
			x.GatewayID = r.Target
		}
	case topology.TargetNAT:
		x.NatGatewayID = r.Target
	case topology.TargetTGW:
		x.TransitGatewayID = r.Target
	case topology.TargetPeering:
		x.VpcPeeringConnectionID = r.Target
	case topology.TargetENI:
		if strings.HasPrefix(r.Target, "i-") {
			x.InstanceID = r.Target
		} else {
			x.NetworkInterfaceID = r.Target
		}
	case topology.TargetLocalGW:
		x.LocalGatewayID = r.Target
	case topology.TargetOther:
		switch {
		case strings.HasPrefix(r.Target, "cagw-"):
			x.CarrierGatewayID = r.Target
		case strings.HasPrefix(r.Target, "arn:"):
			x.CoreNetworkArn = r.Target
		default:
			x.GatewayID = r.Target
		}
	default: // virtual private gateways and gateway endpoints
		x.GatewayID = r.Target
	}
	return x
}

func routes(rt *topology.RouteTable) []routeXML {
	out := []routeXML{}
	for i := range rt.Routes {
		out = append(out, route(&rt.Routes[i]))
	}
	return out
}

func rtAssociations(rt *topology.RouteTable) []rtAssociationXML {
	out := []rtAssociationXML{}
	if rt.Main {
		out = append(out, rtAssociationXML{Main: true, RouteTableID: rt.ID, AssociationState: associated})
	}
	for _, s := range rt.Subnets {
		out = append(out, rtAssociationXML{RouteTableID: rt.ID, SubnetID: s.ID, AssociationState: associated})
	}
	return out
}

func routeValues(rt *topology.RouteTable, fn func(r routeXML) string) []string {
	var out []string
	for _, r := range routes(rt) {
		if v := fn(r); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func rtOwner(c *netCtx, rt *topology.RouteTable) string {
	if v := c.t.VPC(rt.VPCID); v != nil {
		return c.owner(v.OwnerID)
	}
	return c.acct
}

var rtKind = func() *describeKind[*topology.RouteTable, routeTableXML] {
	f := filters[*topology.RouteTable]{
		"association.route-table-id": func(_ *netCtx, rt *topology.RouteTable) []string {
			return ifAny(rtAssociations(rt), rt.ID)
		},
		"association.subnet-id": func(_ *netCtx, rt *topology.RouteTable) []string {
			var out []string
			for _, s := range rt.Subnets {
				out = append(out, s.ID)
			}
			return out
		},
		"association.main": func(_ *netCtx, rt *topology.RouteTable) []string {
			var out []string
			for _, a := range rtAssociations(rt) {
				out = append(out, strconv.FormatBool(a.Main))
			}
			return out
		},
		"owner-id":       func(c *netCtx, rt *topology.RouteTable) []string { return one(rtOwner(c, rt)) },
		"route-table-id": func(_ *netCtx, rt *topology.RouteTable) []string { return []string{rt.ID} },
		"vpc-id":         func(_ *netCtx, rt *topology.RouteTable) []string { return []string{rt.VPCID} },
	}
	for name, field := range map[string]func(r routeXML) string{
		"route.destination-cidr-block":          func(r routeXML) string { return r.DestinationCidrBlock },
		"route.destination-ipv6-cidr-block":     func(r routeXML) string { return r.DestinationIpv6CidrBlock },
		"route.egress-only-internet-gateway-id": func(r routeXML) string { return r.EgressOnlyInternetGatewayID },
		"route.gateway-id":                      func(r routeXML) string { return r.GatewayID },
		"route.instance-id":                     func(r routeXML) string { return r.InstanceID },
		"route.nat-gateway-id":                  func(r routeXML) string { return r.NatGatewayID },
		"route.transit-gateway-id":              func(r routeXML) string { return r.TransitGatewayID },
		"route.origin":                          func(r routeXML) string { return r.Origin },
		"route.state":                           func(r routeXML) string { return r.State },
		"route.vpc-peering-connection-id":       func(r routeXML) string { return r.VpcPeeringConnectionID },
	} {
		f[name] = func(_ *netCtx, rt *topology.RouteTable) []string { return routeValues(rt, field) }
	}
	return &describeKind[*topology.RouteTable, routeTableXML]{
		// DescribeRouteTables takes at most 100 results a page.
		kind: "route-tables", idParam: "RouteTableId", minResults: 5, maxResults: 100,
		notFound: func(ids []string) error { return notFound("InvalidRouteTableID.NotFound", "routeTable ID", ids) },
		list:     func(t *topology.Topology) []*topology.RouteTable { return t.RouteTables },
		id:       func(rt *topology.RouteTable) string { return rt.ID },
		filters:  f,
		noData: []string{"association.gateway-id", "association.route-table-association-id",
			"route.destination-prefix-list-id", "tag"},
		render: func(c *netCtx, rt *topology.RouteTable) routeTableXML {
			return routeTableXML{Associations: newSet(rtAssociations(rt)), RouteTableID: rt.ID, Routes: newSet(routes(rt)),
				VpcID: rt.VPCID, OwnerID: rtOwner(c, rt)}
		},
	}
}()

type describeRouteTablesResponse struct {
	XMLName xml.Name `xml:"http://ec2.amazonaws.com/doc/2016-11-15/ DescribeRouteTablesResponse"`
	responseMeta
	RouteTables *set[routeTableXML] `xml:"routeTableSet"`
	NextToken   string              `xml:"nextToken,omitempty"`
}

func describeRouteTables(h *Handler, p query.Params) (response, error) {
	items, next, err := describe(h, p, rtKind, nil)
	if err != nil {
		return nil, err
	}
	return &describeRouteTablesResponse{RouteTables: newSet(items), NextToken: next}, nil
}
