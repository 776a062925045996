package netstate

import (
	"crypto/rand"
	"encoding/json"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/vpcflow/vpcflow/topology"
)

// CreateVpc is CreateVpc with an IPv4 CidrBlock (a /16 to a /28). As on
// AWS the VPC comes with a default network ACL (rule 100 allows all
// traffic in and out, then the * deny), a default security group named
// "default" (all traffic in from itself, all traffic out) and a main route
// table with the local route.
func (s *Store) CreateVpc(cidr string, tags []Tag) (Vpc, int, error) {
	if strings.TrimSpace(cidr) == "" {
		return Vpc{}, 0, errf(CodeMissingParameter, "The request must contain the parameter CidrBlock")
	}
	pf, err := netip.ParsePrefix(strings.TrimSpace(cidr))
	if err != nil || !pf.Addr().Is4() {
		return Vpc{}, 0, errf(CodeInvalidParameterValue, "Value (%s) for parameter cidrBlock is invalid. This is not a valid CIDR block.", cidr)
	}
	if pf.Bits() < 16 || pf.Bits() > 28 {
		return Vpc{}, 0, errf(CodeVpcRange, "The CIDR '%s' is invalid.", cidr)
	}
	if err := checkTags(tags); err != nil {
		return Vpc{}, 0, err
	}
	pf = pf.Masked()
	var out Vpc
	v, err := s.mutate(func(st *state, u ids) error {
		acct := s.opts.Account
		vpc := Vpc{VpcId: u.new("vpc"), CidrBlock: pf.String(),
			CidrBlockAssociationSet: []VpcCidrBlockAssociation{{AssociationId: u.new("vpc-cidr-assoc"), CidrBlock: pf.String(),
				CidrBlockState: &CidrBlockState{State: "associated"}}},
			State: "available", OwnerId: acct, InstanceTenancy: "default", Tags: slices.Clone(tags)}
		st.net.Vpcs = append(st.net.Vpcs, vpc)
		st.net.NetworkAcls = append(st.net.NetworkAcls, NetworkAcl{NetworkAclId: u.new("acl"), VpcId: vpc.VpcId, IsDefault: true,
			Associations: []NetworkAclAssociation{}, Entries: defaultACLEntries(false), OwnerId: acct})
		g := s.defaultGroup(u.new("sg"), vpc.VpcId)
		st.net.SecurityGroups = append(st.net.SecurityGroups, g)
		perms := defaultGroupPermissions(g.GroupId, acct, false)
		for i, p := range perms {
			rs, err := expand(g.GroupId, i > 0, p, false)
			if err != nil {
				return err
			}
			s.addRules(st, u, rs, nil)
		}
		rt, err := json.Marshal(mainRouteTable(u, vpc.VpcId, pf.String(), acct))
		if err != nil {
			return err
		}
		st.net.RouteTables = append(st.net.RouteTables, rt)
		out = vpc
		return nil
	})
	if err != nil {
		return Vpc{}, 0, err
	}
	return out, v, nil
}

// The main route table's shape, in describe-route-tables' key order.
type routeTable struct {
	RouteTableId    string
	VpcId           string
	OwnerId         string
	Associations    []routeTableAssociation
	Routes          []route
	Tags            []Tag
	PropagatingVgws []struct{}
}

type routeTableAssociation struct {
	Main                    bool
	RouteTableAssociationId string
	RouteTableId            string
	AssociationState        CidrBlockState
}

type route struct {
	DestinationCidrBlock string
	GatewayId            string
	Origin               string
	State                string
}

func mainRouteTable(u ids, vpcID, cidr, acct string) routeTable {
	id := u.new("rtb")
	return routeTable{RouteTableId: id, VpcId: vpcID, OwnerId: acct,
		Associations: []routeTableAssociation{{Main: true, RouteTableAssociationId: u.new("rtbassoc"), RouteTableId: id,
			AssociationState: CidrBlockState{State: "associated"}}},
		Routes: []route{{DestinationCidrBlock: cidr, GatewayId: "local", Origin: "CreateRouteTable", State: "active"}},
		Tags:   []Tag{}, PropagatingVgws: []struct{}{}}
}

func (st *state) vpc(id string) *Vpc {
	for i := range st.net.Vpcs {
		if st.net.Vpcs[i].VpcId == id {
			return &st.net.Vpcs[i]
		}
	}
	return nil
}

func (st *state) subnet(id string) *Subnet {
	for i := range st.net.Subnets {
		if st.net.Subnets[i].SubnetId == id {
			return &st.net.Subnets[i]
		}
	}
	return nil
}

func (st *state) eni(id string) *NetworkInterface {
	for i := range st.net.NetworkInterfaces {
		if st.net.NetworkInterfaces[i].NetworkInterfaceId == id {
			return &st.net.NetworkInterfaces[i]
		}
	}
	return nil
}

func (st *state) acl(id string) *NetworkAcl {
	for i := range st.net.NetworkAcls {
		if st.net.NetworkAcls[i].NetworkAclId == id {
			return &st.net.NetworkAcls[i]
		}
	}
	return nil
}

func (st *state) defaultACL(vpcID string) *NetworkAcl {
	for i := range st.net.NetworkAcls {
		if a := &st.net.NetworkAcls[i]; a.VpcId == vpcID && a.IsDefault {
			return a
		}
	}
	return nil
}

func vpcNotFound(id string) error {
	return errf(CodeVpcNotFound, "The vpc ID '%s' does not exist", id)
}

// vpcCIDRs are the IPv4 CIDRs of a VPC: CidrBlock and the association set.
func vpcCIDRs(v *Vpc) []netip.Prefix {
	var out []netip.Prefix
	add := func(s string) {
		if p, err := netip.ParsePrefix(s); err == nil && !slices.Contains(out, p.Masked()) {
			out = append(out, p.Masked())
		}
	}
	add(v.CidrBlock)
	for _, a := range v.CidrBlockAssociationSet {
		add(a.CidrBlock)
	}
	return out
}

// CreateSubnet is CreateSubnet with an IPv4 CidrBlock (a /16 to a /28 inside
// one of the VPC's CIDRs, overlapping no subnet of the VPC) and an
// AvailabilityZone of the store's Region ("" is the Region's zone a). The
// subnet is associated with its VPC's default network ACL, as on AWS.
// AvailabilityZoneId, the az-id of flow-log records, is derived from the
// zone name (us-east-1a is use1-az1): AWS maps names to ids per account,
// and no account is at hand to ask.
func (s *Store) CreateSubnet(vpcID, cidr, az string, tags []Tag) (Subnet, int, error) {
	switch {
	case vpcID == "":
		return Subnet{}, 0, errf(CodeMissingParameter, "The request must contain the parameter VpcId")
	case strings.TrimSpace(cidr) == "":
		return Subnet{}, 0, errf(CodeMissingParameter, "The request must contain the parameter CidrBlock")
	}
	pf, err := netip.ParsePrefix(strings.TrimSpace(cidr))
	if err != nil || !pf.Addr().Is4() {
		return Subnet{}, 0, errf(CodeInvalidParameterValue, "Value (%s) for parameter cidrBlock is invalid. This is not a valid CIDR block.", cidr)
	}
	if az == "" {
		az = s.opts.Region + "a"
	}
	if rest, ok := strings.CutPrefix(az, s.opts.Region); !ok || len(rest) != 1 || rest[0] < 'a' || rest[0] > 'z' {
		return Subnet{}, 0, errf(CodeInvalidParameterValue, "Value (%s) for parameter availabilityZone is invalid. Subnets can currently only be created in the zones of %s (%sa, %sb, ...).", az, s.opts.Region, s.opts.Region, s.opts.Region)
	}
	if err := checkTags(tags); err != nil {
		return Subnet{}, 0, err
	}
	pf = pf.Masked()
	var out Subnet
	v, err := s.mutate(func(st *state, u ids) error {
		vpc := st.vpc(vpcID)
		if vpc == nil {
			return vpcNotFound(vpcID)
		}
		inside := slices.ContainsFunc(vpcCIDRs(vpc), func(c netip.Prefix) bool { return c.Bits() <= pf.Bits() && c.Contains(pf.Addr()) })
		if pf.Bits() < 16 || pf.Bits() > 28 || !inside {
			return errf(CodeSubnetRange, "The CIDR '%s' is invalid.", cidr)
		}
		for _, o := range st.net.Subnets {
			if o.VpcId != vpcID {
				continue
			}
			if op, err := netip.ParsePrefix(o.CidrBlock); err == nil && op.Overlaps(pf) {
				return errf(CodeSubnetConflict, "The CIDR '%s' conflicts with another subnet", cidr)
			}
		}
		sn := Subnet{SubnetId: u.new("subnet"), VpcId: vpcID, CidrBlock: pf.String(), AvailabilityZone: az,
			AvailabilityZoneId: azID(s.opts.Region, az), State: "available", OwnerId: s.opts.Account, Tags: slices.Clone(tags)}
		sn.SubnetArn = s.arn("subnet", sn.SubnetId)
		st.net.Subnets = append(st.net.Subnets, sn)
		if a := st.defaultACL(vpcID); a != nil {
			a.Associations = append(a.Associations, NetworkAclAssociation{NetworkAclAssociationId: u.new("aclassoc"),
				NetworkAclId: a.NetworkAclId, SubnetId: sn.SubnetId})
		}
		out = sn
		return nil
	})
	if err != nil {
		return Subnet{}, 0, err
	}
	return out, v, nil
}

// azID derives a zone id from a zone name the way AWS spells them: the
// Region's short form (us-east-1 is use1, ap-southeast-2 apse2) and the
// zone letter's position (a is az1).
func azID(region, az string) string {
	n := int(az[len(az)-1]-'a') + 1
	parts := strings.Split(region, "-")
	if len(parts) < 3 {
		return region + "-az" + strconv.Itoa(n)
	}
	short := map[string]string{"northeast": "ne", "northwest": "nw", "southeast": "se", "southwest": "sw",
		"north": "n", "south": "s", "east": "e", "west": "w", "central": "c", "gov": "g"}
	b := parts[0]
	for _, p := range parts[1 : len(parts)-1] {
		if x, ok := short[p]; ok {
			b += x
		} else if p != "" {
			b += p[:1]
		}
	}
	return b + parts[len(parts)-1] + "-az" + strconv.Itoa(n)
}

// maxGroupsPerInterface is AWS's default quota of security groups per
// network interface.
const maxGroupsPerInterface = 5

// CreateNetworkInterface is CreateNetworkInterface: an interface in the
// subnet with the private IPv4 address given, or else the lowest free one
// (AWS reserves the first four addresses of a subnet and the last), the
// security groups given (of the subnet's VPC), or else the VPC's default
// group, and a new random MAC address. The interface is not attached to an
// instance, so its records carry instance-id "-".
func (s *Store) CreateNetworkInterface(subnetID, privateIP string, groups []string, description string, tags []Tag) (NetworkInterface, int, error) {
	if subnetID == "" {
		return NetworkInterface{}, 0, errf(CodeMissingParameter, "The request must contain the parameter SubnetId")
	}
	if len(description) > 255 {
		return NetworkInterface{}, 0, errf(CodeInvalidParameterValue, "Description: up to 255 characters, got %d", len(description))
	}
	if err := checkTags(tags); err != nil {
		return NetworkInterface{}, 0, err
	}
	var want netip.Addr
	if privateIP != "" {
		a, err := netip.ParseAddr(strings.TrimSpace(privateIP))
		if err != nil || !a.Is4() {
			return NetworkInterface{}, 0, errf(CodeInvalidParameterValue, "Value (%s) for parameter privateIpAddress is invalid. This is not a valid IPv4 address.", privateIP)
		}
		want = a
	}
	var out NetworkInterface
	v, err := s.mutate(func(st *state, u ids) error {
		sn := st.subnet(subnetID)
		if sn == nil {
			return errf(CodeSubnetNotFound, "The subnet ID '%s' does not exist", subnetID)
		}
		var gs []GroupIdentifier
		if len(groups) == 0 {
			for _, g := range st.net.SecurityGroups {
				if g.VpcId == sn.VpcId && g.GroupName == "default" {
					gs = append(gs, GroupIdentifier{GroupId: g.GroupId, GroupName: g.GroupName})
				}
			}
		}
		for _, id := range groups {
			g := st.group(id)
			if g == nil {
				return errf(CodeGroupNotFound, "The security group '%s' does not exist in VPC '%s'", id, sn.VpcId)
			}
			if g.VpcId != "" && g.VpcId != sn.VpcId {
				return errf(CodeInvalidParameter, "Security group %s and subnet %s belong to different networks.", id, subnetID)
			}
			if !slices.ContainsFunc(gs, func(x GroupIdentifier) bool { return x.GroupId == id }) {
				gs = append(gs, GroupIdentifier{GroupId: g.GroupId, GroupName: g.GroupName})
			}
		}
		if len(gs) > maxGroupsPerInterface {
			return errf("SecurityGroupsPerInterfaceLimitExceeded", "The maximum number of security groups per interface (%d) has been reached.", maxGroupsPerInterface)
		}
		cidr, err := netip.ParsePrefix(sn.CidrBlock)
		if err != nil {
			return errf(CodeInvalidParameterValue, "Subnet %s has no IPv4 CIDR block: IPv6-only interfaces are not supported", subnetID)
		}
		used := st.addressesIn(sn.VpcId)
		first, last := reservedBounds(cidr)
		ip := want
		if ip.IsValid() {
			switch {
			case !cidr.Contains(ip):
				return errf(CodeInvalidParameterValue, "Address %s does not fall within the subnet's address range", ip)
			case ip.Less(first) || last.Less(ip):
				return errf(CodeInvalidParameterValue, "Address %s is in subnet's reserved address range", ip)
			case used[ip]:
				return errf(CodeIPAddressInUse, "The specified address %s is already in use.", ip)
			}
		} else {
			for a := first; !last.Less(a); a = a.Next() {
				if !used[a] {
					ip = a
					break
				}
			}
			if !ip.IsValid() {
				return errf(CodeInsufficientAddresses, "There are not enough free addresses in subnet '%s' to satisfy the requested number of instances.", subnetID)
			}
		}
		e := NetworkInterface{
			NetworkInterfaceId: u.new("eni"),
			SubnetId:           subnetID,
			VpcId:              sn.VpcId,
			AvailabilityZone:   sn.AvailabilityZone,
			MacAddress:         st.newMAC(),
			PrivateIpAddress:   ip.String(),
			PrivateIpAddresses: []NetworkInterfacePrivateAddress{{PrivateIpAddress: ip.String(), Primary: true}},
			InterfaceType:      "interface",
			Groups:             nonNil(gs),
			OwnerId:            s.opts.Account,
			Description:        description,
			SourceDestCheck:    ptr(true),
			Status:             "available",
			TagSet:             slices.Clone(tags),
		}
		st.net.NetworkInterfaces = append(st.net.NetworkInterfaces, e)
		out = e
		return nil
	})
	if err != nil {
		return NetworkInterface{}, 0, err
	}
	return out, v, nil
}

// reservedBounds returns the first and last address an interface may have
// in a subnet: AWS reserves the network address, the next three (VPC
// router, DNS, future use) and the broadcast address.
func reservedBounds(p netip.Prefix) (first, last netip.Addr) {
	first = p.Addr()
	for i := 0; i < 4; i++ {
		first = first.Next()
	}
	b := p.Addr().As4()
	n := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	n |= ^uint32(0) >> p.Bits()
	n-- // the broadcast address is reserved too
	last = netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
	return first, last
}

// addressesIn lists the private IPv4 addresses interfaces use in a VPC.
func (st *state) addressesIn(vpcID string) map[netip.Addr]bool {
	used := map[netip.Addr]bool{}
	sub := map[string]string{}
	for _, sn := range st.net.Subnets {
		sub[sn.SubnetId] = sn.VpcId
	}
	for _, e := range st.net.NetworkInterfaces {
		if sub[e.SubnetId] != vpcID {
			continue
		}
		if a, err := netip.ParseAddr(e.PrivateIpAddress); err == nil {
			used[a.Unmap()] = true
		}
		for _, p := range e.PrivateIpAddresses {
			if a, err := netip.ParseAddr(p.PrivateIpAddress); err == nil {
				used[a.Unmap()] = true
			}
		}
	}
	return used
}

// newMAC draws a locally administered unicast MAC, as EC2's are, that no
// interface has.
func (st *state) newMAC() string {
	have := map[string]bool{}
	for _, e := range st.net.NetworkInterfaces {
		have[strings.ToLower(strings.ReplaceAll(e.MacAddress, "-", ":"))] = true
	}
	for {
		var m [6]byte
		rand.Read(m[:])
		m[0] = m[0]&0xfc | 0x02
		s := topology.FormatMAC(m)
		if !have[s] {
			return s
		}
	}
}

// DeleteNetworkInterface is DeleteNetworkInterface. An interface attached
// to an instance, or one a NAT gateway uses, is in use and stays.
func (s *Store) DeleteNetworkInterface(id string) (int, error) {
	if id == "" {
		return 0, errf(CodeMissingParameter, "The request must contain the parameter NetworkInterfaceId")
	}
	return s.mutate(func(st *state, u ids) error {
		e := st.eni(id)
		if e == nil {
			return errf(CodeInterfaceNotFound, "The networkInterface ID '%s' does not exist", id)
		}
		if e.Attachment != nil && e.Attachment.InstanceId != "" {
			return errf(CodeInterfaceInUse, "The network interface '%s' is currently in use (attached to %s).", id, e.Attachment.InstanceId)
		}
		for _, raw := range st.net.NatGateways {
			var nat struct {
				NatGatewayId        string
				NatGatewayAddresses []struct{ NetworkInterfaceId string }
			}
			if json.Unmarshal(raw, &nat) != nil {
				continue
			}
			for _, a := range nat.NatGatewayAddresses {
				if a.NetworkInterfaceId == id {
					return errf(CodeInterfaceInUse, "The network interface '%s' is currently in use by %s.", id, nat.NatGatewayId)
				}
			}
		}
		st.net.NetworkInterfaces = slices.DeleteFunc(st.net.NetworkInterfaces, func(x NetworkInterface) bool { return x.NetworkInterfaceId == id })
		return nil
	})
}

// Tags.

const (
	maxTags        = 50 // per resource
	maxTagKeyLen   = 128
	maxTagValueLen = 256
)

// checkTags applies EC2's rules for tags: a key of 1 to 128 characters not
// starting with aws: (reserved for AWS), a value of up to 256, each key
// once, at most 50.
func checkTags(tags []Tag) error {
	if len(tags) > maxTags {
		return errf(CodeTagLimitExceeded, "The maximum number of Tags for a resource (%d) has been reached.", maxTags)
	}
	seen := map[string]bool{}
	for _, t := range tags {
		if err := checkTagKey(t.Key); err != nil {
			return err
		}
		if len(t.Value) > maxTagValueLen {
			return errf(CodeInvalidParameterValue, "Tag value exceeds the maximum length of %d characters", maxTagValueLen)
		}
		if seen[t.Key] {
			return errf(CodeInvalidParameterValue, "Duplicate tag key '%s' specified", t.Key)
		}
		seen[t.Key] = true
	}
	return nil
}

func checkTagKey(k string) error {
	switch {
	case k == "":
		return errf(CodeTagKeyMalformed, "Tag keys cannot be empty")
	case len(k) > maxTagKeyLen:
		return errf(CodeInvalidParameterValue, "Tag key exceeds the maximum length of %d characters", maxTagKeyLen)
	case strings.HasPrefix(strings.ToLower(k), "aws:"):
		return errf(CodeTagKeyMalformed, "Tag keys starting with 'aws:' are reserved for internal use")
	}
	return nil
}

// notFound is the error for an id that names no resource: the NotFound
// code of its kind, judged by its prefix, or InvalidID.
func notFound(id string) error {
	prefix, _, _ := strings.Cut(id, "-")
	switch prefix {
	case "vpc":
		return vpcNotFound(id)
	case "subnet":
		return errf(CodeSubnetNotFound, "The subnet ID '%s' does not exist", id)
	case "sg":
		return errf(CodeGroupNotFound, "The security group '%s' does not exist", id)
	case "sgr":
		return errf(CodeRuleIdNotFound, "The security group rule ID '%s' does not exist", id)
	case "acl":
		return errf(CodeNetworkAclNotFound, "The network acl ID '%s' does not exist", id)
	case "eni":
		return errf(CodeInterfaceNotFound, "The networkInterface ID '%s' does not exist", id)
	case "rtb":
		return errf(CodeRouteTableNotFound, "The routeTable ID '%s' does not exist", id)
	}
	return errf(CodeInvalidID, "The ID '%s' is not valid", id)
}

// editTags finds the resource id names and replaces its tags by what f
// makes of them.
func (st *state) editTags(id string, f func([]Tag) ([]Tag, error)) error {
	n := &st.net
	set := func(p *[]Tag) error {
		t, err := f(slices.Clone(*p))
		if err == nil {
			*p = t
		}
		return err
	}
	for i := range n.Vpcs {
		if n.Vpcs[i].VpcId == id {
			return set(&n.Vpcs[i].Tags)
		}
	}
	for i := range n.Subnets {
		if n.Subnets[i].SubnetId == id {
			return set(&n.Subnets[i].Tags)
		}
	}
	for i := range n.SecurityGroups {
		if n.SecurityGroups[i].GroupId == id {
			return set(&n.SecurityGroups[i].Tags)
		}
	}
	for i := range st.rules {
		if st.rules[i].SecurityGroupRuleId == id {
			return set(&st.rules[i].Tags)
		}
	}
	for i := range n.NetworkAcls {
		if n.NetworkAcls[i].NetworkAclId == id {
			return set(&n.NetworkAcls[i].Tags)
		}
	}
	for i := range n.NetworkInterfaces {
		if n.NetworkInterfaces[i].NetworkInterfaceId == id {
			return set(&n.NetworkInterfaces[i].TagSet)
		}
	}
	for i, raw := range n.RouteTables {
		if rawID(raw, "RouteTableId") != id {
			continue
		}
		// Kept as written: edit its Tags key and leave the rest alone.
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil {
			return err
		}
		var tags []Tag
		if t, ok := obj["Tags"]; ok && json.Unmarshal(t, &tags) != nil {
			tags = nil
		}
		if err := set(&tags); err != nil {
			return err
		}
		b, err := json.Marshal(nonNil(tags))
		if err != nil {
			return err
		}
		obj["Tags"] = b
		if n.RouteTables[i], err = json.Marshal(obj); err != nil {
			return err
		}
		return nil
	}
	return notFound(id)
}

// CreateTags is CreateTags: the tags are added to every resource (VPC,
// subnet, security group, security group rule, network ACL, network
// interface, route table), replacing the value of a key already there. All
// resources are tagged or none.
func (s *Store) CreateTags(resources []string, tags []Tag) (int, error) {
	switch {
	case len(resources) == 0:
		return 0, errf(CodeMissingParameter, "The request must contain the parameter ResourceId")
	case len(tags) == 0:
		return 0, errf(CodeMissingParameter, "The request must contain the parameter Tag")
	}
	if err := checkTags(tags); err != nil {
		return 0, err
	}
	return s.mutate(func(st *state, u ids) error {
		for _, id := range resources {
			err := st.editTags(id, func(have []Tag) ([]Tag, error) {
				for _, t := range tags {
					if i := slices.IndexFunc(have, func(x Tag) bool { return x.Key == t.Key }); i >= 0 {
						have[i].Value = t.Value
					} else {
						have = append(have, t)
					}
				}
				if len(have) > maxTags {
					return nil, errf(CodeTagLimitExceeded, "The maximum number of Tags for resource %s (%d) has been reached.", id, maxTags)
				}
				return have, nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// DeleteTags is DeleteTags: a tag given with a Value is deleted only when
// the value matches (an empty Value matches only an empty value), one
// without a Value whatever its value; no tags at all deletes every tag of
// the resources. Deleting a tag a resource does not have is no error.
func (s *Store) DeleteTags(resources []string, tags []DeleteTag) (int, error) {
	if len(resources) == 0 {
		return 0, errf(CodeMissingParameter, "The request must contain the parameter ResourceId")
	}
	for _, t := range tags {
		if err := checkTagKey(t.Key); err != nil {
			return 0, err
		}
	}
	return s.mutate(func(st *state, u ids) error {
		for _, id := range resources {
			err := st.editTags(id, func(have []Tag) ([]Tag, error) {
				if len(tags) == 0 {
					return nil, nil
				}
				return slices.DeleteFunc(have, func(x Tag) bool {
					return slices.ContainsFunc(tags, func(d DeleteTag) bool { return d.Key == x.Key && (d.Value == nil || *d.Value == x.Value) })
				}), nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
}
