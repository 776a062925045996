package ec2

import (
	"encoding/xml"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/vpcflow/vpcflow/api/query"
	"github.com/vpcflow/vpcflow/netstate"
	"github.com/vpcflow/vpcflow/topology"
)

// The Describe actions of the network: DescribeVpcs, DescribeSubnets,
// DescribeNetworkInterfaces, DescribeSecurityGroups, DescribeNetworkAcls
// and DescribeRouteTables, answered from the network store
// (Backend.Network), which keeps the network as EC2 does: tags,
// association ids, descriptions, rule descriptions, prefix lists. Element
// names and order are those of EC2's model
// (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_Vpc.html and
// the pages of Subnet, NetworkInterface, SecurityGroup, NetworkAcl and
// RouteTable).
//
// A field the store does not keep (DHCP options, subnet launch settings,
// ...) is an omitted element, and a filter AWS documents over such a field
// is accepted and matches nothing. What a topology file leaves out and AWS
// always has is given AWS's default: a VPC or subnet is "available", a CIDR
// "associated", a route "active", a VPC's tenancy "default".

// describeKind is one Describe action of the network.
type describeKind[T, X any] struct {
	kind     string // in NextToken
	idParam  string // query name of the ids list: VpcId (VpcId.N)
	notFound func(ids []string) error
	// MaxResults bounds, from EC2's model.
	minResults, maxResults int
	list                   func(n *netstate.Network) []T
	id                     func(T) string
	tags                   func(T) []netstate.Tag
	filters                map[string]func(c *netCtx, r T) []string
	noData                 []string
	render                 func(c *netCtx, r T) X
}

// netCtx is what filters and rendering need besides the resource: the
// whole network (an interface names its groups by id, a subnet's free
// addresses depend on the interfaces in it) and the service's identity.
type netCtx struct {
	n       *netstate.Network
	acct    string // the owner of resources that name none
	rgn     string
	vpcs    map[string]*netstate.Vpc
	subnets map[string]*netstate.Subnet
	groups  map[string]*netstate.SecurityGroup
}

func newNetCtx(n *netstate.Network, acct, rgn string) *netCtx {
	c := &netCtx{n: n, acct: acct, rgn: rgn, vpcs: map[string]*netstate.Vpc{},
		subnets: map[string]*netstate.Subnet{}, groups: map[string]*netstate.SecurityGroup{}}
	if n.AccountId != "" {
		c.acct = n.AccountId
	}
	if n.Region != "" {
		c.rgn = n.Region
	}
	for i := range n.Vpcs {
		c.vpcs[n.Vpcs[i].VpcId] = &n.Vpcs[i]
	}
	for i := range n.Subnets {
		c.subnets[n.Subnets[i].SubnetId] = &n.Subnets[i]
	}
	for i := range n.SecurityGroups {
		c.groups[n.SecurityGroups[i].GroupId] = &n.SecurityGroups[i]
	}
	return c
}

// network reads the current network. A backend without a network store
// (single-interface mode has no declared network) answers empty lists.
func (h *Handler) network() *netCtx {
	id := h.b.Identity()
	n := &netstate.Network{}
	if s := h.b.Network(); s != nil {
		n = s.Network()
	}
	return newNetCtx(n, id.Account, id.Region)
}

func (c *netCtx) owner(explicit string) string {
	if explicit != "" {
		return explicit
	}
	return c.acct
}

// ptrs points into a slice, so that filters and rendering share one copy.
func ptrs[T any](xs []T) []*T {
	out := make([]*T, len(xs))
	for i := range xs {
		out[i] = &xs[i]
	}
	return out
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
	c := h.network()
	all := k.list(c.n)
	known := make(map[string]filterFunc[T], len(k.filters))
	for name, fn := range k.filters {
		known[name] = func(r T) []string { return fn(c, r) }
	}
	match, err := matcher(fs, known, k.noData, func(r T) []tagXML { return tagItems(k.tags(r)) })
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
	all, err = pick(all, ids, k.id, k.notFound)
	if err != nil {
		return nil, "", err
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

// pick sorts resources by id and keeps those ids names (all when ids is
// empty); an id that names none fails the whole call, as on EC2.
func pick[T any](all []T, ids []string, id func(T) string, notFound func([]string) error) ([]T, error) {
	all = slices.Clone(all)
	slices.SortFunc(all, func(a, b T) int { return strings.Compare(id(a), id(b)) })
	if len(ids) == 0 {
		return all, nil
	}
	var missing []string
	var picked []T
	for _, want := range ids {
		i, ok := slices.BinarySearchFunc(all, want, func(r T, s string) int { return strings.Compare(id(r), s) })
		switch {
		case !ok:
			if !slices.Contains(missing, want) {
				missing = append(missing, want)
			}
		case !slices.ContainsFunc(picked, func(r T) bool { return id(r) == want }):
			picked = append(picked, all[i])
		}
	}
	if len(missing) > 0 {
		return nil, notFound(missing)
	}
	slices.SortFunc(picked, func(a, b T) int { return strings.Compare(id(a), id(b)) })
	return picked, nil
}

// Helpers for filter values and elements.

func one(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

func boolStr(b bool) []string { return []string{strconv.FormatBool(b)} }

func ifAny[T any](xs []T, v string) []string {
	if len(xs) == 0 {
		return nil
	}
	return []string{v}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// canonPrefix writes a CIDR as EC2 does (masked), or as stored when it is
// not one.
func canonPrefix(s string) string {
	p, err := netip.ParsePrefix(strings.TrimSpace(s))
	if err != nil {
		return s
	}
	return p.Masked().String()
}

// canonAddr writes an address as EC2 does, or as stored when it is not one.
func canonAddr(s string) string {
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil {
		return s
	}
	return a.Unmap().String()
}

func tagItems(ts []netstate.Tag) []tagXML {
	var out []tagXML
	for _, t := range ts {
		out = append(out, tagXML{Key: t.Key, Value: t.Value})
	}
	return out
}

// tagSet is a resource's tagSet: omitted when it has none, as EC2 does.
func tagSet(ts []netstate.Tag) *set[tagXML] { return optSet(tagItems(ts)) }

// filters is the type of a describeKind's filter table.
type filters[T any] = map[string]func(c *netCtx, r T) []string

// ---- DescribeVpcs ----

type cidrStateXML struct {
	State string `xml:"state"`
}

func cidrState(s *netstate.CidrBlockState) *cidrStateXML {
	if s != nil && s.State != "" {
		return &cidrStateXML{State: s.State}
	}
	return &cidrStateXML{State: "associated"}
}

type vpcCidrXML struct {
	AssociationID  string        `xml:"associationId,omitempty"`
	CidrBlock      string        `xml:"cidrBlock"`
	CidrBlockState *cidrStateXML `xml:"cidrBlockState"`
}

type ipv6CidrXML struct {
	AssociationID      string        `xml:"associationId,omitempty"`
	Ipv6CidrBlock      string        `xml:"ipv6CidrBlock"`
	Ipv6CidrBlockState *cidrStateXML `xml:"ipv6CidrBlockState"`
}

type vpcXML struct {
	OwnerID                     string            `xml:"ownerId"`
	InstanceTenancy             string            `xml:"instanceTenancy"`
	Ipv6CidrBlockAssociationSet *set[ipv6CidrXML] `xml:"ipv6CidrBlockAssociationSet,omitempty"`
	CidrBlockAssociationSet     *set[vpcCidrXML]  `xml:"cidrBlockAssociationSet,omitempty"`
	IsDefault                   bool              `xml:"isDefault"`
	Tags                        *set[tagXML]      `xml:"tagSet,omitempty"`
	VpcID                       string            `xml:"vpcId"`
	State                       string            `xml:"state"`
	CidrBlock                   string            `xml:"cidrBlock,omitempty"`
}

// vpcCidrs are a VPC's IPv4 CIDR associations; a topology file may give
// only CidrBlock, which is then the one association.
func vpcCidrs(v *netstate.Vpc) []vpcCidrXML {
	var out []vpcCidrXML
	for _, a := range v.CidrBlockAssociationSet {
		out = append(out, vpcCidrXML{AssociationID: a.AssociationId, CidrBlock: canonPrefix(a.CidrBlock), CidrBlockState: cidrState(a.CidrBlockState)})
	}
	if len(out) == 0 && v.CidrBlock != "" {
		out = append(out, vpcCidrXML{CidrBlock: canonPrefix(v.CidrBlock), CidrBlockState: cidrState(nil)})
	}
	return out
}

func vpcIpv6Cidrs(v *netstate.Vpc) []ipv6CidrXML {
	var out []ipv6CidrXML
	for _, a := range v.Ipv6CidrBlockAssociationSet {
		out = append(out, ipv6CidrXML{AssociationID: a.AssociationId, Ipv6CidrBlock: canonPrefix(a.Ipv6CidrBlock),
			Ipv6CidrBlockState: cidrState(a.Ipv6CidrBlockState)})
	}
	return out
}

func vpcCidr(v *netstate.Vpc) string {
	if v.CidrBlock != "" {
		return canonPrefix(v.CidrBlock)
	}
	if cs := vpcCidrs(v); len(cs) > 0 {
		return cs[0].CidrBlock
	}
	return ""
}

func renderVpc(c *netCtx, v *netstate.Vpc) vpcXML {
	return vpcXML{OwnerID: c.owner(v.OwnerId), InstanceTenancy: orDefault(v.InstanceTenancy, "default"),
		Ipv6CidrBlockAssociationSet: optSet(vpcIpv6Cidrs(v)), CidrBlockAssociationSet: optSet(vpcCidrs(v)),
		IsDefault: v.IsDefault, Tags: tagSet(v.Tags), VpcID: v.VpcId, State: orDefault(v.State, "available"), CidrBlock: vpcCidr(v)}
}

var vpcKind = &describeKind[*netstate.Vpc, vpcXML]{
	kind: "vpcs", idParam: "VpcId", minResults: 5, maxResults: 1000,
	notFound: func(ids []string) error { return notFound("InvalidVpcID.NotFound", "vpc ID", ids) },
	list:     func(n *netstate.Network) []*netstate.Vpc { return ptrs(n.Vpcs) },
	id:       func(v *netstate.Vpc) string { return v.VpcId },
	tags:     func(v *netstate.Vpc) []netstate.Tag { return v.Tags },
	filters: filters[*netstate.Vpc]{
		"cidr": func(_ *netCtx, v *netstate.Vpc) []string { return one(vpcCidr(v)) },
		"cidr-block-association.association-id": func(_ *netCtx, v *netstate.Vpc) []string {
			var out []string
			for _, a := range vpcCidrs(v) {
				out = append(out, one(a.AssociationID)...)
			}
			return out
		},
		"cidr-block-association.cidr-block": func(_ *netCtx, v *netstate.Vpc) []string {
			var out []string
			for _, a := range vpcCidrs(v) {
				out = append(out, a.CidrBlock)
			}
			return out
		},
		"cidr-block-association.state": func(_ *netCtx, v *netstate.Vpc) []string {
			var out []string
			for _, a := range vpcCidrs(v) {
				out = append(out, a.CidrBlockState.State)
			}
			return out
		},
		"ipv6-cidr-block-association.association-id": func(_ *netCtx, v *netstate.Vpc) []string {
			var out []string
			for _, a := range vpcIpv6Cidrs(v) {
				out = append(out, one(a.AssociationID)...)
			}
			return out
		},
		"ipv6-cidr-block-association.ipv6-cidr-block": func(_ *netCtx, v *netstate.Vpc) []string {
			var out []string
			for _, a := range vpcIpv6Cidrs(v) {
				out = append(out, a.Ipv6CidrBlock)
			}
			return out
		},
		"ipv6-cidr-block-association.state": func(_ *netCtx, v *netstate.Vpc) []string {
			var out []string
			for _, a := range vpcIpv6Cidrs(v) {
				out = append(out, a.Ipv6CidrBlockState.State)
			}
			return out
		},
		"is-default": func(_ *netCtx, v *netstate.Vpc) []string { return boolStr(v.IsDefault) },
		"owner-id":   func(c *netCtx, v *netstate.Vpc) []string { return one(c.owner(v.OwnerId)) },
		"state":      func(_ *netCtx, v *netstate.Vpc) []string { return []string{orDefault(v.State, "available")} },
		"vpc-id":     func(_ *netCtx, v *netstate.Vpc) []string { return []string{v.VpcId} },
	},
	noData: []string{"dhcp-options-id", "ipv6-cidr-block-association.ipv6-pool", "tag"},
	render: renderVpc,
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
	Tags                        *set[tagXML]      `xml:"tagSet,omitempty"`
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

func subnetOwner(c *netCtx, s *netstate.Subnet) string {
	if s.OwnerId != "" {
		return s.OwnerId
	}
	if v := c.vpcs[s.VpcId]; v != nil {
		return c.owner(v.OwnerId)
	}
	return c.acct
}

func subnetArn(c *netCtx, s *netstate.Subnet) string {
	if s.SubnetArn != "" {
		return s.SubnetArn
	}
	return "arn:aws:ec2:" + c.rgn + ":" + subnetOwner(c, s) + ":subnet/" + s.SubnetId
}

func subnetIpv6Cidrs(s *netstate.Subnet) []ipv6CidrXML {
	var out []ipv6CidrXML
	for _, a := range s.Ipv6CidrBlockAssociationSet {
		out = append(out, ipv6CidrXML{AssociationID: a.AssociationId, Ipv6CidrBlock: canonPrefix(a.Ipv6CidrBlock),
			Ipv6CidrBlockState: cidrState(nil)})
	}
	return out
}

// eniIPv4s are an interface's private IPv4 addresses, primary first: its
// PrivateIpAddresses, or PrivateIpAddress alone when a topology file
// gives no list.
func eniIPv4s(e *netstate.NetworkInterface) []netstate.NetworkInterfacePrivateAddress {
	var out []netstate.NetworkInterfacePrivateAddress
	primary := canonAddr(e.PrivateIpAddress)
	if primary != "" {
		out = append(out, netstate.NetworkInterfacePrivateAddress{PrivateIpAddress: primary, Primary: true})
	}
	for _, pa := range e.PrivateIpAddresses {
		a := canonAddr(pa.PrivateIpAddress)
		if a == primary {
			out[0].Association = pa.Association
			continue
		}
		if primary == "" && pa.Primary {
			primary = a
			pa.PrivateIpAddress = a
			out = slices.Insert(out, 0, pa)
			continue
		}
		pa.PrivateIpAddress, pa.Primary = a, false
		out = append(out, pa)
	}
	return out
}

// availableIPs is what AWS reports in AvailableIpAddressCount: the
// addresses of the IPv4 CIDR, less the five AWS reserves in every subnet
// (https://docs.aws.amazon.com/vpc/latest/userguide/subnet-sizing.html),
// less those the interfaces use.
func availableIPs(c *netCtx, s *netstate.Subnet) *int {
	p, err := netip.ParsePrefix(strings.TrimSpace(s.CidrBlock))
	if err != nil || !p.Addr().Is4() || p.Bits() > 30 {
		return nil
	}
	used := map[string]bool{}
	for i := range c.n.NetworkInterfaces {
		if e := &c.n.NetworkInterfaces[i]; e.SubnetId == s.SubnetId {
			for _, a := range eniIPv4s(e) {
				used[a.PrivateIpAddress] = true
			}
		}
	}
	n := max(1<<(32-p.Bits())-5-len(used), 0)
	return &n
}

func renderSubnet(c *netCtx, s *netstate.Subnet) subnetXML {
	return subnetXML{AvailabilityZoneID: s.AvailabilityZoneId, OwnerID: subnetOwner(c, s),
		Ipv6CidrBlockAssociationSet: optSet(subnetIpv6Cidrs(s)), Tags: tagSet(s.Tags), SubnetArn: subnetArn(c, s),
		OutpostArn: s.OutpostArn, Ipv6Native: s.CidrBlock == "", SubnetID: s.SubnetId, State: orDefault(s.State, "available"),
		VpcID: s.VpcId, CidrBlock: canonPrefix(s.CidrBlock), AvailableIPAddressCount: availableIPs(c, s),
		AvailabilityZone: s.AvailabilityZone}
}

var subnetKind = &describeKind[*netstate.Subnet, subnetXML]{
	kind: "subnets", idParam: "SubnetId", minResults: 5, maxResults: 1000,
	notFound: func(ids []string) error { return notFound("InvalidSubnetID.NotFound", "subnet ID", ids) },
	list:     func(n *netstate.Network) []*netstate.Subnet { return ptrs(n.Subnets) },
	id:       func(s *netstate.Subnet) string { return s.SubnetId },
	tags:     func(s *netstate.Subnet) []netstate.Tag { return s.Tags },
	filters: filters[*netstate.Subnet]{
		"availability-zone":    func(_ *netCtx, s *netstate.Subnet) []string { return one(s.AvailabilityZone) },
		"availability-zone-id": func(_ *netCtx, s *netstate.Subnet) []string { return one(s.AvailabilityZoneId) },
		"available-ip-address-count": func(c *netCtx, s *netstate.Subnet) []string {
			if n := availableIPs(c, s); n != nil {
				return []string{strconv.Itoa(*n)}
			}
			return nil
		},
		// cidr and cidrBlock are older names of cidr-block, still accepted.
		"cidr-block": subnetCidr, "cidr": subnetCidr, "cidrBlock": subnetCidr,
		"ipv6-cidr-block-association.association-id": func(_ *netCtx, s *netstate.Subnet) []string {
			var out []string
			for _, a := range subnetIpv6Cidrs(s) {
				out = append(out, one(a.AssociationID)...)
			}
			return out
		},
		"ipv6-cidr-block-association.ipv6-cidr-block": func(_ *netCtx, s *netstate.Subnet) []string {
			var out []string
			for _, a := range subnetIpv6Cidrs(s) {
				out = append(out, a.Ipv6CidrBlock)
			}
			return out
		},
		"ipv6-cidr-block-association.state": func(_ *netCtx, s *netstate.Subnet) []string {
			return ifAny(s.Ipv6CidrBlockAssociationSet, "associated")
		},
		"ipv6-native": func(_ *netCtx, s *netstate.Subnet) []string { return boolStr(s.CidrBlock == "") },
		"outpost-arn": func(_ *netCtx, s *netstate.Subnet) []string { return one(s.OutpostArn) },
		"owner-id":    func(c *netCtx, s *netstate.Subnet) []string { return one(subnetOwner(c, s)) },
		"state":       func(_ *netCtx, s *netstate.Subnet) []string { return []string{orDefault(s.State, "available")} },
		"subnet-arn":  func(c *netCtx, s *netstate.Subnet) []string { return []string{subnetArn(c, s)} },
		"subnet-id":   func(_ *netCtx, s *netstate.Subnet) []string { return []string{s.SubnetId} },
		"vpc-id":      func(_ *netCtx, s *netstate.Subnet) []string { return []string{s.VpcId} },
	},
	noData: []string{"customer-owned-ipv4-pool", "default-for-az", "enable-dns64", "enable-lni-at-device-index",
		"map-customer-owned-ip-on-launch", "map-public-ip-on-launch",
		"private-dns-name-options-on-launch.hostname-type", "private-dns-name-options-on-launch.enable-resource-name-dns-a-record",
		"private-dns-name-options-on-launch.enable-resource-name-dns-aaaa-record", "tag"},
	render: renderSubnet,
}

func subnetCidr(_ *netCtx, s *netstate.Subnet) []string { return one(canonPrefix(s.CidrBlock)) }

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
	TCPEstablishedTimeout *int `xml:"tcpEstablishedTimeout,omitempty"`
	UDPStreamTimeout      *int `xml:"udpStreamTimeout,omitempty"`
	UDPTimeout            *int `xml:"udpTimeout,omitempty"`
}

type groupIdentifierXML struct {
	GroupID   string `xml:"groupId"`
	GroupName string `xml:"groupName,omitempty"`
}

type eniIPv6XML struct {
	Ipv6Address   string `xml:"ipv6Address"`
	IsPrimaryIpv6 bool   `xml:"isPrimaryIpv6,omitempty"`
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
	SourceDestCheck                 *bool                    `xml:"sourceDestCheck,omitempty"`
	Status                          string                   `xml:"status"`
	SubnetID                        string                   `xml:"subnetId"`
	Tags                            *set[tagXML]             `xml:"tagSet,omitempty"`
	VpcID                           string                   `xml:"vpcId"`
}

func eniInstance(e *netstate.NetworkInterface) string {
	if e.Attachment != nil {
		return e.Attachment.InstanceId
	}
	return ""
}

// eniStatus: an interface attached to an instance, or managed by a service
// on the requester's behalf (NAT gateway, load balancer, ...), is in use;
// one without either is available.
func eniStatus(e *netstate.NetworkInterface) string {
	if e.Status != "" {
		return e.Status
	}
	if eniInstance(e) != "" || e.RequesterManaged {
		return "in-use"
	}
	return "available"
}

func eniAZ(c *netCtx, e *netstate.NetworkInterface) string {
	if e.AvailabilityZone != "" {
		return e.AvailabilityZone
	}
	if s := c.subnets[e.SubnetId]; s != nil {
		return s.AvailabilityZone
	}
	return ""
}

func eniVpc(c *netCtx, e *netstate.NetworkInterface) string {
	if e.VpcId != "" {
		return e.VpcId
	}
	if s := c.subnets[e.SubnetId]; s != nil {
		return s.VpcId
	}
	return ""
}

// eniGroups are an interface's groups with their names, which a topology
// file may leave out.
func eniGroups(c *netCtx, e *netstate.NetworkInterface) []groupIdentifierXML {
	out := []groupIdentifierXML{}
	for _, g := range e.Groups {
		name := g.GroupName
		if sg := c.groups[g.GroupId]; sg != nil && name == "" {
			name = sg.GroupName
		}
		out = append(out, groupIdentifierXML{GroupID: g.GroupId, GroupName: name})
	}
	return out
}

// eniMAC writes a MAC address as EC2 does, in lower case with colons.
func eniMAC(e *netstate.NetworkInterface) string {
	return strings.ToLower(strings.ReplaceAll(strings.TrimSpace(e.MacAddress), "-", ":"))
}

func eniPublicIP(e *netstate.NetworkInterface) string {
	if e.Association != nil {
		return canonAddr(e.Association.PublicIp)
	}
	return ""
}

func renderENI(c *netCtx, e *netstate.NetworkInterface) eniXML {
	x := eniXML{AvailabilityZone: eniAZ(c, e), Description: e.Description, InterfaceType: orDefault(e.InterfaceType, "interface"),
		MacAddress: eniMAC(e), NetworkInterfaceID: e.NetworkInterfaceId, OwnerID: c.owner(e.OwnerId),
		RequesterManaged: e.RequesterManaged, SourceDestCheck: e.SourceDestCheck, Status: eniStatus(e), SubnetID: e.SubnetId,
		Tags: tagSet(e.TagSet), VpcID: eniVpc(c, e)}
	if ip := eniPublicIP(e); ip != "" {
		x.Association = &eniAssociationXML{PublicIP: ip}
	}
	if id := eniInstance(e); id != "" {
		x.Attachment = &eniAttachmentXML{InstanceID: id, Status: "attached"}
	}
	if ct := e.ConnectionTrackingConfiguration; ct != nil && (ct.TcpEstablishedTimeout != nil || ct.UdpStreamTimeout != nil || ct.UdpTimeout != nil) {
		x.ConnectionTrackingConfiguration = &connTrackXML{TCPEstablishedTimeout: ct.TcpEstablishedTimeout,
			UDPStreamTimeout: ct.UdpStreamTimeout, UDPTimeout: ct.UdpTimeout}
	}
	x.Groups = newSet(eniGroups(c, e))
	v6 := []eniIPv6XML{}
	for _, a := range e.Ipv6Addresses {
		v6 = append(v6, eniIPv6XML{Ipv6Address: canonAddr(a.Ipv6Address), IsPrimaryIpv6: a.IsPrimaryIpv6})
	}
	x.Ipv6Addresses = newSet(v6)
	if s := c.subnets[e.SubnetId]; s != nil {
		x.OutpostArn = s.OutpostArn
	}
	ips := []eniPrivateIPXML{}
	for _, a := range eniIPv4s(e) {
		ip := eniPrivateIPXML{Primary: a.Primary, PrivateIPAddress: a.PrivateIpAddress}
		switch {
		case a.Association != nil && a.Association.PublicIp != "":
			ip.Association = &eniAssociationXML{PublicIP: canonAddr(a.Association.PublicIp)}
		case a.Primary:
			// The interface's public address is its primary address's.
			ip.Association = x.Association
		}
		if a.Primary {
			x.PrivateIPAddress = a.PrivateIpAddress
		}
		ips = append(ips, ip)
	}
	x.PrivateIPAddresses = newSet(ips)
	return x
}

var eniKind = &describeKind[*netstate.NetworkInterface, eniXML]{
	kind: "network-interfaces", idParam: "NetworkInterfaceId", minResults: 5, maxResults: 1000,
	notFound: func(ids []string) error {
		return notFound("InvalidNetworkInterfaceID.NotFound", "networkInterface ID", ids)
	},
	list: func(n *netstate.Network) []*netstate.NetworkInterface { return ptrs(n.NetworkInterfaces) },
	id:   func(e *netstate.NetworkInterface) string { return e.NetworkInterfaceId },
	tags: func(e *netstate.NetworkInterface) []netstate.Tag { return e.TagSet },
	filters: filters[*netstate.NetworkInterface]{
		"addresses.private-ip-address": eniAddrs,
		"addresses.primary": func(_ *netCtx, e *netstate.NetworkInterface) []string {
			var out []string
			for _, a := range eniIPv4s(e) {
				out = append(out, strconv.FormatBool(a.Primary))
			}
			return out
		},
		"addresses.association.public-ip": func(_ *netCtx, e *netstate.NetworkInterface) []string { return one(eniPublicIP(e)) },
		"association.public-ip":           func(_ *netCtx, e *netstate.NetworkInterface) []string { return one(eniPublicIP(e)) },
		"attachment.instance-id":          func(_ *netCtx, e *netstate.NetworkInterface) []string { return one(eniInstance(e)) },
		"attachment.status": func(_ *netCtx, e *netstate.NetworkInterface) []string {
			if eniInstance(e) == "" {
				return nil
			}
			return []string{"attached"}
		},
		"availability-zone": func(c *netCtx, e *netstate.NetworkInterface) []string { return one(eniAZ(c, e)) },
		"availability-zone-id": func(c *netCtx, e *netstate.NetworkInterface) []string {
			if s := c.subnets[e.SubnetId]; s != nil {
				return one(s.AvailabilityZoneId)
			}
			return nil
		},
		"description": func(_ *netCtx, e *netstate.NetworkInterface) []string { return []string{e.Description} },
		"group-id": func(c *netCtx, e *netstate.NetworkInterface) []string {
			var out []string
			for _, g := range eniGroups(c, e) {
				out = append(out, g.GroupID)
			}
			return out
		},
		"group-name": func(c *netCtx, e *netstate.NetworkInterface) []string {
			var out []string
			for _, g := range eniGroups(c, e) {
				out = append(out, one(g.GroupName)...)
			}
			return out
		},
		"ipv6-addresses.ipv6-address": func(_ *netCtx, e *netstate.NetworkInterface) []string {
			var out []string
			for _, a := range e.Ipv6Addresses {
				out = append(out, canonAddr(a.Ipv6Address))
			}
			return out
		},
		"interface-type": func(_ *netCtx, e *netstate.NetworkInterface) []string {
			return []string{orDefault(e.InterfaceType, "interface")}
		},
		"mac-address":          func(_ *netCtx, e *netstate.NetworkInterface) []string { return one(eniMAC(e)) },
		"network-interface-id": func(_ *netCtx, e *netstate.NetworkInterface) []string { return []string{e.NetworkInterfaceId} },
		"owner-id":             func(c *netCtx, e *netstate.NetworkInterface) []string { return one(c.owner(e.OwnerId)) },
		"private-ip-address":   eniAddrs,
		"requester-managed":    func(_ *netCtx, e *netstate.NetworkInterface) []string { return boolStr(e.RequesterManaged) },
		"source-dest-check": func(_ *netCtx, e *netstate.NetworkInterface) []string {
			if e.SourceDestCheck == nil {
				return nil
			}
			return boolStr(*e.SourceDestCheck)
		},
		"status":    func(_ *netCtx, e *netstate.NetworkInterface) []string { return []string{eniStatus(e)} },
		"subnet-id": func(_ *netCtx, e *netstate.NetworkInterface) []string { return []string{e.SubnetId} },
		"vpc-id":    func(c *netCtx, e *netstate.NetworkInterface) []string { return one(eniVpc(c, e)) },
	},
	noData: []string{"association.allocation-id", "association.association-id", "addresses.association.owner-id",
		"association.ip-owner-id", "association.public-dns-name", "attachment.attach-time",
		"attachment.attachment-id", "attachment.delete-on-termination", "attachment.device-index",
		"attachment.instance-owner-id", "operator.managed", "operator.principal", "private-dns-name", "requester-id", "tag"},
	render: renderENI,
}

func eniAddrs(_ *netCtx, e *netstate.NetworkInterface) []string {
	var out []string
	for _, a := range eniIPv4s(e) {
		out = append(out, a.PrivateIpAddress)
	}
	return out
}

type describeNetworkInterfacesResponse struct {
	XMLName xml.Name `xml:"http://ec2.amazonaws.com/doc/2016-11-15/ DescribeNetworkInterfacesResponse"`
	responseMeta
	NetworkInterfaces *set[eniXML] `xml:"networkInterfaceSet"`
	NextToken         string       `xml:"nextToken,omitempty"`
}

func describeNetworkInterfaces(h *Handler, p query.Params) (response, error) {
	// IncludeManagedResources asks for interfaces managed by other services
	// too; the network lists them all, so it changes nothing.
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
	Description string `xml:"description,omitempty"`
	UserID      string `xml:"userId,omitempty"`
	GroupID     string `xml:"groupId"`
}

type ipRangeXML struct {
	Description string `xml:"description,omitempty"`
	CidrIP      string `xml:"cidrIp"`
}

type ipv6RangeXML struct {
	Description string `xml:"description,omitempty"`
	CidrIpv6    string `xml:"cidrIpv6"`
}

type prefixListIDXML struct {
	Description  string `xml:"description,omitempty"`
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
	Tags                *set[tagXML]          `xml:"tagSet,omitempty"`
	VpcID               string                `xml:"vpcId,omitempty"`
	SecurityGroupArn    string                `xml:"securityGroupArn"`
	OwnerID             string                `xml:"ownerId"`
	GroupName           string                `xml:"groupName"`
	Description         string                `xml:"groupDescription,omitempty"`
	IPPermissions       *set[ipPermissionXML] `xml:"ipPermissions"`
}

func sgArn(c *netCtx, g *netstate.SecurityGroup) string {
	if g.SecurityGroupArn != "" {
		return g.SecurityGroupArn
	}
	return "arn:aws:ec2:" + c.rgn + ":" + c.owner(g.OwnerId) + ":security-group/" + g.GroupId
}

// sgPorts are the FromPort and ToPort of a permission as EC2 writes them:
// the port range for TCP and UDP, the ICMP type and code (-1 for all) for
// ICMP, and none for other protocols.
func sgPorts(p *netstate.IpPermission) (*int, *int) {
	switch proto, _ := topology.ParseProtocol(p.IpProtocol); proto {
	case topology.ProtoTCP, topology.ProtoUDP, topology.ProtoICMP, topology.ProtoICMPv6:
		return p.FromPort, p.ToPort
	}
	return nil, nil
}

func permissionXML(c *netCtx, p *netstate.IpPermission) ipPermissionXML {
	x := ipPermissionXML{IPProtocol: p.IpProtocol}
	x.FromPort, x.ToPort = sgPorts(p)
	groups, v4, v6, pls := []userIDGroupPairXML{}, []ipRangeXML{}, []ipv6RangeXML{}, []prefixListIDXML{}
	for _, g := range p.UserIdGroupPairs {
		groups = append(groups, userIDGroupPairXML{Description: g.Description, UserID: c.owner(g.UserId), GroupID: g.GroupId})
	}
	for _, r := range p.IpRanges {
		v4 = append(v4, ipRangeXML{Description: r.Description, CidrIP: canonPrefix(r.CidrIp)})
	}
	for _, r := range p.Ipv6Ranges {
		v6 = append(v6, ipv6RangeXML{Description: r.Description, CidrIpv6: canonPrefix(r.CidrIpv6)})
	}
	for _, r := range p.PrefixListIds {
		pls = append(pls, prefixListIDXML{Description: r.Description, PrefixListID: r.PrefixListId})
	}
	x.Groups, x.IPRanges, x.Ipv6Ranges, x.PrefixListIDs = newSet(groups), newSet(v4), newSet(v6), newSet(pls)
	return x
}

func permissionsXML(c *netCtx, ps []netstate.IpPermission) *set[ipPermissionXML] {
	out := []ipPermissionXML{}
	for i := range ps {
		out = append(out, permissionXML(c, &ps[i]))
	}
	return newSet(out)
}

// protoValues are the values a protocol matches in a filter: its name and
// its number ("tcp" and "6"), or "-1" for all.
func protoValues(s string) []string {
	p, err := topology.ParseProtocol(s)
	if err != nil {
		return one(s)
	}
	name := topology.ProtocolName(p)
	if p == topology.Any {
		return []string{name}
	}
	if n := strconv.Itoa(p); n != name {
		return []string{name, n}
	}
	return []string{name}
}

// sgRuleFilters are the filters over one direction's permissions, under
// prefix ("ip-permission." or "egress.ip-permission.").
func sgRuleFilters(f filters[*netstate.SecurityGroup], prefix string, perms func(*netstate.SecurityGroup) []netstate.IpPermission) {
	on := func(fn func(c *netCtx, p *netstate.IpPermission) []string) func(*netCtx, *netstate.SecurityGroup) []string {
		return func(c *netCtx, g *netstate.SecurityGroup) []string {
			var out []string
			ps := perms(g)
			for i := range ps {
				out = append(out, fn(c, &ps[i])...)
			}
			return out
		}
	}
	f[prefix+"cidr"] = on(func(_ *netCtx, p *netstate.IpPermission) []string {
		var out []string
		for _, r := range p.IpRanges {
			out = append(out, canonPrefix(r.CidrIp))
		}
		return out
	})
	f[prefix+"ipv6-cidr"] = on(func(_ *netCtx, p *netstate.IpPermission) []string {
		var out []string
		for _, r := range p.Ipv6Ranges {
			out = append(out, canonPrefix(r.CidrIpv6))
		}
		return out
	})
	f[prefix+"prefix-list-id"] = on(func(_ *netCtx, p *netstate.IpPermission) []string {
		var out []string
		for _, r := range p.PrefixListIds {
			out = append(out, r.PrefixListId)
		}
		return out
	})
	f[prefix+"from-port"] = on(func(_ *netCtx, p *netstate.IpPermission) []string {
		if from, _ := sgPorts(p); from != nil {
			return []string{strconv.Itoa(*from)}
		}
		return nil
	})
	f[prefix+"to-port"] = on(func(_ *netCtx, p *netstate.IpPermission) []string {
		if _, to := sgPorts(p); to != nil {
			return []string{strconv.Itoa(*to)}
		}
		return nil
	})
	f[prefix+"protocol"] = on(func(_ *netCtx, p *netstate.IpPermission) []string { return protoValues(p.IpProtocol) })
	f[prefix+"group-id"] = on(func(_ *netCtx, p *netstate.IpPermission) []string {
		var out []string
		for _, g := range p.UserIdGroupPairs {
			out = append(out, g.GroupId)
		}
		return out
	})
	f[prefix+"group-name"] = on(func(c *netCtx, p *netstate.IpPermission) []string {
		var out []string
		for _, g := range p.UserIdGroupPairs {
			if sg := c.groups[g.GroupId]; sg != nil {
				out = append(out, sg.GroupName)
			}
		}
		return out
	})
	f[prefix+"user-id"] = on(func(c *netCtx, p *netstate.IpPermission) []string {
		var out []string
		for _, g := range p.UserIdGroupPairs {
			out = append(out, c.owner(g.UserId))
		}
		return out
	})
}

func renderSecurityGroup(c *netCtx, g *netstate.SecurityGroup) securityGroupXML {
	return securityGroupXML{GroupID: g.GroupId, IPPermissionsEgress: permissionsXML(c, g.IpPermissionsEgress),
		Tags: tagSet(g.Tags), VpcID: g.VpcId, SecurityGroupArn: sgArn(c, g), OwnerID: c.owner(g.OwnerId),
		GroupName: g.GroupName, Description: g.Description, IPPermissions: permissionsXML(c, g.IpPermissions)}
}

var sgKind = func() *describeKind[*netstate.SecurityGroup, securityGroupXML] {
	f := filters[*netstate.SecurityGroup]{
		"description": func(_ *netCtx, g *netstate.SecurityGroup) []string { return one(g.Description) },
		"group-id":    func(_ *netCtx, g *netstate.SecurityGroup) []string { return []string{g.GroupId} },
		"group-name":  func(_ *netCtx, g *netstate.SecurityGroup) []string { return []string{g.GroupName} },
		"owner-id":    func(c *netCtx, g *netstate.SecurityGroup) []string { return one(c.owner(g.OwnerId)) },
		"vpc-id":      func(_ *netCtx, g *netstate.SecurityGroup) []string { return one(g.VpcId) },
	}
	sgRuleFilters(f, "ip-permission.", func(g *netstate.SecurityGroup) []netstate.IpPermission { return g.IpPermissions })
	sgRuleFilters(f, "egress.ip-permission.", func(g *netstate.SecurityGroup) []netstate.IpPermission { return g.IpPermissionsEgress })
	return &describeKind[*netstate.SecurityGroup, securityGroupXML]{
		kind: "security-groups", idParam: "GroupId", minResults: 5, maxResults: 1000,
		notFound: func(ids []string) error { return notFound("InvalidGroup.NotFound", "security group", ids) },
		list:     func(n *netstate.Network) []*netstate.SecurityGroup { return ptrs(n.SecurityGroups) },
		id:       func(g *netstate.SecurityGroup) string { return g.GroupId },
		tags:     func(g *netstate.SecurityGroup) []netstate.Tag { return g.Tags },
		filters:  f,
		noData:   []string{"tag"},
		render:   renderSecurityGroup,
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
func sgByName(p query.Params, gs []*netstate.SecurityGroup) ([]*netstate.SecurityGroup, error) {
	names := p.List("GroupName")
	if len(names) == 0 {
		return gs, nil
	}
	var out []*netstate.SecurityGroup
	var missing []string
	for _, n := range names {
		found := false
		for _, g := range gs {
			if g.GroupName == n {
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
	slices.SortFunc(out, func(a, b *netstate.SecurityGroup) int { return strings.Compare(a.GroupId, b.GroupId) })
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
	NetworkAclAssociationID string `xml:"networkAclAssociationId,omitempty"`
	NetworkAclID            string `xml:"networkAclId"`
	SubnetID                string `xml:"subnetId"`
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
	Tags         *set[tagXML]            `xml:"tagSet,omitempty"`
	VpcID        string                  `xml:"vpcId"`
	OwnerID      string                  `xml:"ownerId"`
}

func orAny(p *int) int {
	if p == nil {
		return topology.Any
	}
	return *p
}

// aclEntry writes an entry as EC2 does: the protocol as its number (-1 for
// all), the action in lower case, the port range of TCP and UDP (all ports
// when a topology file gives none, which is how the packet path reads it)
// and the ICMP type and code (-1 for any).
func aclEntry(e *netstate.NetworkAclEntry) aclEntryXML {
	x := aclEntryXML{Egress: e.Egress, Protocol: e.Protocol, RuleAction: strings.ToLower(e.RuleAction), RuleNumber: e.RuleNumber}
	if e.CidrBlock != "" {
		x.CidrBlock = canonPrefix(e.CidrBlock)
	} else {
		x.Ipv6CidrBlock = canonPrefix(e.Ipv6CidrBlock)
	}
	proto, err := topology.ParseProtocol(e.Protocol)
	if err != nil {
		return x
	}
	x.Protocol = strconv.Itoa(proto)
	switch proto {
	case topology.ProtoTCP, topology.ProtoUDP:
		x.PortRange = &portRangeXML{From: 0, To: 65535}
		if e.PortRange != nil && e.PortRange.From != nil && e.PortRange.To != nil {
			x.PortRange = &portRangeXML{From: *e.PortRange.From, To: *e.PortRange.To}
		}
	case topology.ProtoICMP, topology.ProtoICMPv6:
		x.IcmpTypeCode = &icmpTypeCodeXML{Code: topology.Any, Type: topology.Any}
		if e.IcmpTypeCode != nil {
			x.IcmpTypeCode = &icmpTypeCodeXML{Code: orAny(e.IcmpTypeCode.Code), Type: orAny(e.IcmpTypeCode.Type)}
		}
	}
	return x
}

// aclEntries lists egress entries, then ingress ones, each by rule number
// (IPv4 before IPv6 under one number), as EC2 does.
func aclEntries(a *netstate.NetworkAcl) []aclEntryXML {
	out := []aclEntryXML{}
	for i := range a.Entries {
		out = append(out, aclEntry(&a.Entries[i]))
	}
	slices.SortStableFunc(out, func(x, y aclEntryXML) int {
		switch {
		case x.Egress != y.Egress:
			if x.Egress {
				return -1
			}
			return 1
		case x.RuleNumber != y.RuleNumber:
			return x.RuleNumber - y.RuleNumber
		case (x.Ipv6CidrBlock != "") != (y.Ipv6CidrBlock != ""):
			if x.Ipv6CidrBlock != "" {
				return 1
			}
			return -1
		}
		return 0
	})
	return out
}

func entryValues(a *netstate.NetworkAcl, fn func(e aclEntryXML) []string) []string {
	var out []string
	for _, e := range aclEntries(a) {
		out = append(out, fn(e)...)
	}
	return out
}

func aclOwner(c *netCtx, a *netstate.NetworkAcl) string {
	if a.OwnerId != "" {
		return a.OwnerId
	}
	if v := c.vpcs[a.VpcId]; v != nil {
		return c.owner(v.OwnerId)
	}
	return c.acct
}

func aclAssociations(a *netstate.NetworkAcl) []aclAssociationXML {
	out := []aclAssociationXML{}
	for _, as := range a.Associations {
		out = append(out, aclAssociationXML{NetworkAclAssociationID: as.NetworkAclAssociationId,
			NetworkAclID: orDefault(as.NetworkAclId, a.NetworkAclId), SubnetID: as.SubnetId})
	}
	return out
}

func renderNetworkAcl(c *netCtx, a *netstate.NetworkAcl) networkAclXML {
	return networkAclXML{Associations: newSet(aclAssociations(a)), Entries: newSet(aclEntries(a)), IsDefault: a.IsDefault,
		NetworkAclID: a.NetworkAclId, Tags: tagSet(a.Tags), VpcID: a.VpcId, OwnerID: aclOwner(c, a)}
}

func entryInt(fn func(e aclEntryXML) (int, bool)) func(*netCtx, *netstate.NetworkAcl) []string {
	return func(_ *netCtx, a *netstate.NetworkAcl) []string {
		return entryValues(a, func(e aclEntryXML) []string {
			if n, ok := fn(e); ok {
				return []string{strconv.Itoa(n)}
			}
			return nil
		})
	}
}

var aclKind = &describeKind[*netstate.NetworkAcl, networkAclXML]{
	kind: "network-acls", idParam: "NetworkAclId", minResults: 5, maxResults: 1000,
	notFound: func(ids []string) error { return notFound("InvalidNetworkAclID.NotFound", "networkAcl ID", ids) },
	list:     func(n *netstate.Network) []*netstate.NetworkAcl { return ptrs(n.NetworkAcls) },
	id:       func(a *netstate.NetworkAcl) string { return a.NetworkAclId },
	tags:     func(a *netstate.NetworkAcl) []netstate.Tag { return a.Tags },
	filters: filters[*netstate.NetworkAcl]{
		"association.association-id": func(_ *netCtx, a *netstate.NetworkAcl) []string {
			var out []string
			for _, as := range a.Associations {
				out = append(out, one(as.NetworkAclAssociationId)...)
			}
			return out
		},
		"association.network-acl-id": func(_ *netCtx, a *netstate.NetworkAcl) []string {
			return ifAny(a.Associations, a.NetworkAclId)
		},
		"association.subnet-id": func(_ *netCtx, a *netstate.NetworkAcl) []string {
			var out []string
			for _, as := range a.Associations {
				out = append(out, as.SubnetId)
			}
			return out
		},
		"default": func(_ *netCtx, a *netstate.NetworkAcl) []string { return boolStr(a.IsDefault) },
		"entry.cidr": func(_ *netCtx, a *netstate.NetworkAcl) []string {
			return entryValues(a, func(e aclEntryXML) []string { return one(e.CidrBlock) })
		},
		"entry.ipv6-cidr": func(_ *netCtx, a *netstate.NetworkAcl) []string {
			return entryValues(a, func(e aclEntryXML) []string { return one(e.Ipv6CidrBlock) })
		},
		"entry.egress": func(_ *netCtx, a *netstate.NetworkAcl) []string {
			return entryValues(a, func(e aclEntryXML) []string { return boolStr(e.Egress) })
		},
		"entry.protocol": func(_ *netCtx, a *netstate.NetworkAcl) []string {
			return entryValues(a, func(e aclEntryXML) []string { return []string{e.Protocol} })
		},
		"entry.rule-action": func(_ *netCtx, a *netstate.NetworkAcl) []string {
			return entryValues(a, func(e aclEntryXML) []string { return []string{e.RuleAction} })
		},
		"entry.rule-number":     entryInt(func(e aclEntryXML) (int, bool) { return e.RuleNumber, true }),
		"entry.port-range.from": entryInt(func(e aclEntryXML) (int, bool) { return pr(e, true) }),
		"entry.port-range.to":   entryInt(func(e aclEntryXML) (int, bool) { return pr(e, false) }),
		"entry.icmp.type":       entryInt(func(e aclEntryXML) (int, bool) { return icmp(e, true) }),
		"entry.icmp.code":       entryInt(func(e aclEntryXML) (int, bool) { return icmp(e, false) }),
		"network-acl-id":        func(_ *netCtx, a *netstate.NetworkAcl) []string { return []string{a.NetworkAclId} },
		"owner-id":              func(c *netCtx, a *netstate.NetworkAcl) []string { return one(aclOwner(c, a)) },
		"vpc-id":                func(_ *netCtx, a *netstate.NetworkAcl) []string { return []string{a.VpcId} },
	},
	noData: []string{"tag"},
	render: renderNetworkAcl,
}

func pr(e aclEntryXML, from bool) (int, bool) {
	switch {
	case e.PortRange == nil:
		return 0, false
	case from:
		return e.PortRange.From, true
	}
	return e.PortRange.To, true
}

func icmp(e aclEntryXML, typ bool) (int, bool) {
	switch {
	case e.IcmpTypeCode == nil:
		return 0, false
	case typ:
		return e.IcmpTypeCode.Type, true
	}
	return e.IcmpTypeCode.Code, true
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
