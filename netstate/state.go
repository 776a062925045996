package netstate

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/vpcflow/vpcflow/topology"
)

// state is the network as the store keeps it in memory: the Network with
// security groups stripped of their permissions, and every security group
// rule on its own, as EC2 keeps them (each with its sgr- id, tags and
// description). render turns it back into a Network whose groups carry
// IpPermissions, which is what the file holds and topology parses. A state
// is never modified once published; writers change a clone.
type state struct {
	net   Network
	rules []SecurityGroupRule // grouped per group (in group order), ingress then egress, then per permission
}

type stateJSON struct {
	Net   Network
	Rules []SecurityGroupRule
}

// clone copies st deeply. A JSON round trip is the simplest deep copy of
// these plain-data types, and a network of a few hundred resources copies
// in well under a millisecond, against an fsync per change anyway.
func (st *state) clone() *state {
	b, err := json.Marshal(stateJSON{st.net, st.rules})
	if err != nil {
		panic(err) // plain data: cannot fail
	}
	var c stateJSON
	if err := json.Unmarshal(b, &c); err != nil {
		panic(err)
	}
	return &state{net: c.Net, rules: c.Rules}
}

// render is the Network with each group's rules written back as
// IpPermissions, grouped by protocol and ports in the order the rules were
// first made, as describe-security-groups shows them.
func (st *state) render() *Network {
	n := st.net
	// Empty lists rather than null, as describe-... prints them.
	n.Vpcs = nonNil(n.Vpcs)
	n.Subnets = nonNil(n.Subnets)
	n.NetworkInterfaces = nonNil(n.NetworkInterfaces)
	n.NetworkAcls = nonNil(n.NetworkAcls)
	n.SecurityGroups = make([]SecurityGroup, len(st.net.SecurityGroups))
	for i, g := range st.net.SecurityGroups {
		g.IpPermissions = permissions(st.rules, g.GroupId, false)
		g.IpPermissionsEgress = permissions(st.rules, g.GroupId, true)
		n.SecurityGroups[i] = g
	}
	return &n
}

// document is the rendered Network as a topology file.
func (st *state) document() []byte {
	b, err := json.MarshalIndent(st.render(), "", "  ")
	if err != nil {
		panic(err)
	}
	return b
}

// permissions groups the rules of one group and direction into
// IpPermissions. The result is never nil: an absent IpPermissionsEgress
// would read as "allow all" to topology.
func permissions(rules []SecurityGroupRule, groupID string, egress bool) []IpPermission {
	out := []IpPermission{}
	at := map[string]int{}
	for i := range rules {
		r := &rules[i]
		if r.GroupId != groupID || r.IsEgress != egress {
			continue
		}
		k := permKey(r)
		j, ok := at[k]
		if !ok {
			p := IpPermission{IpProtocol: r.IpProtocol}
			if hasPorts(r.IpProtocol) {
				p.FromPort, p.ToPort = ptr(r.FromPort), ptr(r.ToPort)
			}
			out = append(out, p)
			j = len(out) - 1
			at[k] = j
		}
		p := &out[j]
		switch {
		case r.CidrIpv4 != "":
			p.IpRanges = append(p.IpRanges, IpRange{CidrIp: r.CidrIpv4, Description: r.Description})
		case r.CidrIpv6 != "":
			p.Ipv6Ranges = append(p.Ipv6Ranges, Ipv6Range{CidrIpv6: r.CidrIpv6, Description: r.Description})
		case r.PrefixListId != "":
			p.PrefixListIds = append(p.PrefixListIds, PrefixListId{PrefixListId: r.PrefixListId, Description: r.Description})
		case r.ReferencedGroupInfo != nil:
			p.UserIdGroupPairs = append(p.UserIdGroupPairs, UserIdGroupPair{GroupId: r.ReferencedGroupInfo.GroupId,
				UserId: r.ReferencedGroupInfo.UserId, Description: r.Description})
		}
	}
	return out
}

func ptr[T any](v T) *T { return &v }

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// hasPorts: EC2 prints FromPort/ToPort only for protocols that have them.
func hasPorts(proto string) bool {
	switch proto {
	case "tcp", "udp", "icmp", "icmpv6":
		return true
	}
	return false
}

// permKey is what rules of one IpPermission share.
func permKey(r *SecurityGroupRule) string {
	return r.IpProtocol + "|" + strconv.Itoa(r.FromPort) + "|" + strconv.Itoa(r.ToPort)
}

// ruleKey identifies a rule the way EC2 compares them for
// InvalidPermission.Duplicate and for a revoke by properties: group,
// direction, protocol, ports and the one source or destination; not the
// description.
func ruleKey(r *SecurityGroupRule) string {
	return fmt.Sprintf("%s|%t|%s|%s", r.GroupId, r.IsEgress, permKey(r), target(r))
}

func targetRank(r *SecurityGroupRule) int {
	switch {
	case r.CidrIpv4 != "":
		return 0
	case r.CidrIpv6 != "":
		return 1
	case r.PrefixListId != "":
		return 2
	}
	return 3
}

func target(r *SecurityGroupRule) string {
	switch {
	case r.CidrIpv4 != "":
		return "cidr4:" + r.CidrIpv4
	case r.CidrIpv6 != "":
		return "cidr6:" + r.CidrIpv6
	case r.PrefixListId != "":
		return "pl:" + r.PrefixListId
	case r.ReferencedGroupInfo != nil:
		return "sg:" + r.ReferencedGroupInfo.GroupId
	}
	return ""
}

// canonProtocol turns an IpProtocol into the form EC2 stores: the names
// tcp, udp, icmp, icmpv6 for those protocols (also when given by number),
// -1 for all, else the number.
func canonProtocol(s string) (string, error) {
	n, err := topology.ParseProtocol(s)
	if err != nil {
		if strings.TrimSpace(s) == "" {
			return "", errf(CodeMissingParameter, "The request must contain the parameter IpProtocol")
		}
		return "", errf(CodeInvalidParameterValue, "Invalid value '%s' for IP protocol. Unknown protocol.", s)
	}
	switch n {
	case topology.Any:
		return "-1", nil
	case topology.ProtoTCP:
		return "tcp", nil
	case topology.ProtoUDP:
		return "udp", nil
	case topology.ProtoICMP:
		return "icmp", nil
	case topology.ProtoICMPv6:
		return "icmpv6", nil
	}
	return strconv.Itoa(n), nil
}

// canonPorts validates FromPort/ToPort for the protocol and returns them
// as EC2 reports them. strict is the API's rule (TCP and UDP need both
// ports); a topology file may leave them out for all ports, as topology
// reads it.
func canonPorts(proto string, from, to *int, strict bool) (int, int, error) {
	switch proto {
	case "tcp", "udp":
		if from == nil || to == nil {
			if !strict && from == nil && to == nil {
				return 0, 65535, nil
			}
			return 0, 0, errf(CodeInvalidParameterValue, "Invalid value 'Must specify both from and to ports with TCP/UDP.' for portRange")
		}
		if *from == -1 && *to == -1 {
			return 0, 65535, nil
		}
		if *from < 0 || *from > 65535 || *to < 0 || *to > 65535 || *from > *to {
			return 0, 0, errf(CodeInvalidParameterValue, "Invalid TCP/UDP port range %d-%d: want 0-65535, FromPort not above ToPort", *from, *to)
		}
		return *from, *to, nil
	case "icmp", "icmpv6":
		f, t := -1, -1
		if from != nil {
			f = *from
		}
		if to != nil {
			t = *to
		}
		if f < -1 || f > 255 || t < -1 || t > 255 {
			return 0, 0, errf(CodeInvalidParameterValue, "Invalid ICMP type/code %d/%d: want -1 to 255", f, t)
		}
		if f == -1 && t != -1 {
			return 0, 0, errf(CodeInvalidParameterValue, "Invalid ICMP code %d: an ICMP code needs an ICMP type (FromPort)", t)
		}
		return f, t, nil
	}
	return -1, -1, nil
}

// expand splits one IpPermission into rules (no ids yet), one per source
// or destination, checking what can be checked without the network.
// Referenced groups must be named by GroupId here (the caller resolves
// names).
func expand(groupID string, egress bool, p IpPermission, strict bool) ([]SecurityGroupRule, error) {
	proto, err := canonProtocol(p.IpProtocol)
	if err != nil {
		return nil, err
	}
	from, to, err := canonPorts(proto, p.FromPort, p.ToPort, strict)
	if err != nil {
		return nil, err
	}
	base := SecurityGroupRule{GroupId: groupID, IsEgress: egress, IpProtocol: proto, FromPort: from, ToPort: to}
	var out []SecurityGroupRule
	for _, r := range p.IpRanges {
		pf, err := parseCIDR(r.CidrIp, false)
		if err != nil {
			return nil, err
		}
		x := base
		x.CidrIpv4, x.Description = pf.String(), r.Description
		out = append(out, x)
	}
	for _, r := range p.Ipv6Ranges {
		pf, err := parseCIDR(r.CidrIpv6, true)
		if err != nil {
			return nil, err
		}
		x := base
		x.CidrIpv6, x.Description = pf.String(), r.Description
		out = append(out, x)
	}
	for _, r := range p.PrefixListIds {
		if r.PrefixListId == "" {
			return nil, errf(CodeMissingParameter, "The request must contain the parameter PrefixListId")
		}
		x := base
		x.PrefixListId, x.Description = r.PrefixListId, r.Description
		out = append(out, x)
	}
	for _, r := range p.UserIdGroupPairs {
		if r.GroupId == "" {
			return nil, errf(CodeMissingParameter, "The request must contain the parameter GroupId of UserIdGroupPairs")
		}
		x := base
		x.ReferencedGroupInfo, x.Description = &ReferencedSecurityGroup{GroupId: r.GroupId, UserId: r.UserId}, r.Description
		out = append(out, x)
	}
	if len(out) == 0 {
		return nil, errf(CodeInvalidParameterValue, "The permission (%s) names no source or destination: give IpRanges, Ipv6Ranges, PrefixListIds or UserIdGroupPairs", p.IpProtocol)
	}
	for _, r := range out {
		if err := checkDescription("rule description", r.Description); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// parseCIDR parses a CIDR of the family wanted and returns it masked.
func parseCIDR(s string, want6 bool) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(strings.TrimSpace(s))
	if err != nil || p.Addr().Zone() != "" {
		return netip.Prefix{}, errf(CodeInvalidParameterValue, "CIDR block %s is malformed", s)
	}
	if p.Addr().Is6() != want6 || p.Addr().Is4In6() {
		fam := "IPv4"
		if want6 {
			fam = "IPv6"
		}
		return netip.Prefix{}, errf(CodeInvalidParameterValue, "CIDR block %s is not an %s CIDR block", s, fam)
	}
	return p.Masked(), nil
}

// Security group names and descriptions in a VPC: up to 255 characters of
// a-z, A-Z, 0-9, spaces and ._-:/()#,@[]+=&;{}!$* (CreateSecurityGroup).
func checkDescription(what, s string) error {
	if len(s) > 255 {
		return errf(CodeInvalidParameterValue, "Invalid %s: up to 255 characters, got %d", what, len(s))
	}
	for _, c := range s {
		if (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strings.ContainsRune(" ._-:/()#,@[]+=&;{}!$*", c) {
			continue
		}
		return errf(CodeInvalidParameterValue, "Invalid %s %q: valid characters are a-z, A-Z, 0-9, spaces and ._-:/()#,@[]+=&;{}!$*", what, s)
	}
	return nil
}

// hints carry ids and tags over from an earlier state (Replace) or from
// the file's rule table (Open), so that what stays the same keeps its id.
type hints struct {
	rules      map[string]SecurityGroupRule // by ruleKey
	used       map[string]bool              // rule keys that found their rule
	assoc      map[string]string            // "acl|subnet" -> association id
	defaultACL map[string]string            // VPC -> id of its default ACL
	defaultSG  map[string]string            // VPC -> id of its default group
}

func newHints() *hints {
	return &hints{rules: map[string]SecurityGroupRule{}, used: map[string]bool{}, assoc: map[string]string{},
		defaultACL: map[string]string{}, defaultSG: map[string]string{}}
}

func hintsOf(st *state) *hints {
	h := newHints()
	if st == nil {
		return h
	}
	for _, r := range st.rules {
		h.rules[ruleKey(&r)] = r
	}
	for _, a := range st.net.NetworkAcls {
		if a.IsDefault {
			h.defaultACL[a.VpcId] = a.NetworkAclId
		}
		for _, as := range a.Associations {
			h.assoc[a.NetworkAclId+"|"+as.SubnetId] = as.NetworkAclAssociationId
		}
	}
	for _, g := range st.net.SecurityGroups {
		if g.GroupName == "default" && g.VpcId != "" {
			h.defaultSG[g.VpcId] = g.GroupId
		}
	}
	return h
}

// ids is the set of ids in use, to draw new random ones from.
type ids map[string]bool

func idsOf(st *state) ids {
	u := ids{}
	n := &st.net
	for _, v := range n.Vpcs {
		u[v.VpcId] = true
		for _, a := range v.CidrBlockAssociationSet {
			u[a.AssociationId] = true
		}
		for _, a := range v.Ipv6CidrBlockAssociationSet {
			u[a.AssociationId] = true
		}
	}
	for _, s := range n.Subnets {
		u[s.SubnetId] = true
	}
	for _, e := range n.NetworkInterfaces {
		u[e.NetworkInterfaceId] = true
	}
	for _, g := range n.SecurityGroups {
		u[g.GroupId] = true
	}
	for _, r := range st.rules {
		u[r.SecurityGroupRuleId] = true
	}
	for _, a := range n.NetworkAcls {
		u[a.NetworkAclId] = true
		for _, as := range a.Associations {
			u[as.NetworkAclAssociationId] = true
		}
	}
	for _, id := range sectionIDs(n.RouteTables, "RouteTableId") {
		u[id] = true
	}
	delete(u, "")
	return u
}

// new returns a random id EC2-style: prefix, "-", 17 lowercase hex digits.
func (u ids) new(prefix string) string {
	for {
		var b [9]byte
		rand.Read(b[:])
		id := prefix + "-" + hex.EncodeToString(b[:])[:17]
		if !u[id] {
			u[id] = true
			return id
		}
	}
}

// take returns the hinted id when it is free, else a new one.
func (u ids) take(hint, prefix string) string {
	if hint != "" && !u[hint] {
		u[hint] = true
		return hint
	}
	return u.new(prefix)
}

// isID reports whether id has the shape of the ids the store makes.
func isID(id, prefix string) bool {
	rest, ok := strings.CutPrefix(id, prefix+"-")
	if !ok || len(rest) != 17 {
		return false
	}
	for i := 0; i < len(rest); i++ {
		if c := rest[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func (s *Store) arn(kind, id string) string {
	return "arn:aws:ec2:" + s.opts.Region + ":" + s.opts.Account + ":" + kind + "/" + id
}

// normalize turns a declared Network into a state as EC2 would hold it:
// security group rules split out with ids (kept from h where the rule is
// the same), an absent IpPermissionsEgress made explicit as the allow-all
// rules topology reads it as, every VPC given a default network ACL and a
// default security group when the file declares none, every ACL its final
// deny entries, and every subnet an association id. The result still means
// the same to topology; it is what a user would see describing the VPC on
// AWS.
func (s *Store) normalize(n *Network, h *hints) (*state, error) {
	acct, region := s.opts.Account, s.opts.Region
	switch {
	case n.AccountId == "":
		n.AccountId = acct
	case n.AccountId != acct:
		return nil, fmt.Errorf("the file names account %s; this data dir belongs to account %s", n.AccountId, acct)
	}
	switch {
	case n.Region == "":
		n.Region = region
	case n.Region != region:
		return nil, fmt.Errorf("the file names Region %s; this data dir belongs to Region %s", n.Region, region)
	}
	st := &state{net: *n}
	n = &st.net
	u := idsOf(st)
	for _, r := range h.rules {
		u[r.SecurityGroupRuleId] = true
	}
	vpcV6 := map[string]bool{}
	for i := range n.Vpcs {
		v := &n.Vpcs[i]
		v.OwnerId = orDefault(v.OwnerId, acct)
		v.State = orDefault(v.State, "available")
		vpcV6[v.VpcId] = len(v.Ipv6CidrBlockAssociationSet) > 0
	}
	for i := range n.Subnets {
		sn := &n.Subnets[i]
		sn.OwnerId = orDefault(sn.OwnerId, acct)
		sn.State = orDefault(sn.State, "available")
	}
	for i := range n.NetworkInterfaces {
		e := &n.NetworkInterfaces[i]
		e.OwnerId = orDefault(e.OwnerId, acct)
		if e.Groups == nil {
			e.Groups = []GroupIdentifier{}
		}
	}

	// Security group rules.
	addRules := func(g *SecurityGroup, egress bool, perms []IpPermission) error {
		seen := map[string]bool{}
		for _, p := range perms {
			rs, err := expand(g.GroupId, egress, p, false)
			if err != nil {
				return fmt.Errorf("security group %s: %s", g.GroupId, err.(*Error).Message)
			}
			for _, r := range rs {
				k := ruleKey(&r)
				if seen[k] {
					continue // EC2 holds a rule once; a file may repeat it
				}
				seen[k] = true
				if hr, ok := h.rules[k]; ok {
					r.SecurityGroupRuleId, r.Tags = hr.SecurityGroupRuleId, hr.Tags
					h.used[k] = true
				} else {
					r.SecurityGroupRuleId = u.new("sgr")
				}
				r.GroupOwnerId = g.OwnerId
				r.SecurityGroupRuleArn = s.arn("security-group-rule", r.SecurityGroupRuleId)
				st.rules = append(st.rules, r)
			}
		}
		return nil
	}
	for i := range n.SecurityGroups {
		g := &n.SecurityGroups[i]
		g.OwnerId = orDefault(g.OwnerId, acct)
		g.SecurityGroupArn = orDefault(g.SecurityGroupArn, s.arn("security-group", g.GroupId))
		egress := g.IpPermissionsEgress
		if egress == nil {
			// topology's reading of an absent key: AWS's allow-all rule,
			// for IPv4 and IPv6.
			egress = []IpPermission{allowAll("0.0.0.0/0"), allowAll("::/0")}
		}
		if err := addRules(g, false, g.IpPermissions); err != nil {
			return nil, err
		}
		if err := addRules(g, true, egress); err != nil {
			return nil, err
		}
		g.IpPermissions, g.IpPermissionsEgress = nil, nil
	}
	for _, v := range n.Vpcs {
		has := slices.ContainsFunc(n.SecurityGroups, func(g SecurityGroup) bool { return g.VpcId == v.VpcId && g.GroupName == "default" })
		if !has {
			id := u.take(h.defaultSG[v.VpcId], "sg")
			g := s.defaultGroup(id, v.VpcId)
			n.SecurityGroups = append(n.SecurityGroups, g)
			perms := defaultGroupPermissions(id, acct, vpcV6[v.VpcId])
			if err := addRules(&n.SecurityGroups[len(n.SecurityGroups)-1], false, perms[:1]); err != nil {
				return nil, err
			}
			if err := addRules(&n.SecurityGroups[len(n.SecurityGroups)-1], true, perms[1:]); err != nil {
				return nil, err
			}
		}
	}

	// Network ACLs.
	for _, v := range n.Vpcs {
		has := slices.ContainsFunc(n.NetworkAcls, func(a NetworkAcl) bool { return a.VpcId == v.VpcId && a.IsDefault })
		if !has {
			id := u.take(h.defaultACL[v.VpcId], "acl")
			n.NetworkAcls = append(n.NetworkAcls, NetworkAcl{NetworkAclId: id, VpcId: v.VpcId, IsDefault: true,
				Associations: []NetworkAclAssociation{}, Entries: defaultACLEntries(vpcV6[v.VpcId]), OwnerId: acct})
		}
	}
	associated := map[string]bool{}
	seenAssoc := map[string]bool{}
	for i := range n.NetworkAcls {
		a := &n.NetworkAcls[i]
		a.OwnerId = orDefault(a.OwnerId, acct)
		a.Entries = withStarEntries(a.Entries, vpcV6[a.VpcId])
		if a.Associations == nil {
			a.Associations = []NetworkAclAssociation{}
		}
		for j := range a.Associations {
			as := &a.Associations[j]
			as.NetworkAclId = a.NetworkAclId
			if as.NetworkAclAssociationId == "" || seenAssoc[as.NetworkAclAssociationId] {
				as.NetworkAclAssociationId = u.take(h.assoc[a.NetworkAclId+"|"+as.SubnetId], "aclassoc")
			}
			seenAssoc[as.NetworkAclAssociationId] = true
			associated[as.SubnetId] = true
		}
	}
	for _, sn := range n.Subnets {
		if associated[sn.SubnetId] {
			continue
		}
		for i := range n.NetworkAcls {
			a := &n.NetworkAcls[i]
			if a.VpcId == sn.VpcId && a.IsDefault {
				a.Associations = append(a.Associations, NetworkAclAssociation{
					NetworkAclAssociationId: u.take(h.assoc[a.NetworkAclId+"|"+sn.SubnetId], "aclassoc"),
					NetworkAclId:            a.NetworkAclId, SubnetId: sn.SubnetId})
				break
			}
		}
	}
	st.canonRules()
	return st, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func allowAll(cidr string) IpPermission {
	p := IpPermission{IpProtocol: "-1"}
	if strings.Contains(cidr, ":") {
		p.Ipv6Ranges = []Ipv6Range{{CidrIpv6: cidr}}
	} else {
		p.IpRanges = []IpRange{{CidrIp: cidr}}
	}
	return p
}

// defaultGroup is the group AWS creates with a VPC (VPC User Guide,
// "Default security groups for your VPCs").
func (s *Store) defaultGroup(id, vpcID string) SecurityGroup {
	return SecurityGroup{GroupId: id, GroupName: "default", Description: "default VPC security group", VpcId: vpcID,
		OwnerId: s.opts.Account, SecurityGroupArn: s.arn("security-group", id)}
}

// defaultGroupPermissions: all inbound traffic from the group itself; all
// outbound traffic to IPv4, and to IPv6 when the VPC has IPv6. The first
// permission is the ingress one.
func defaultGroupPermissions(id, account string, v6 bool) []IpPermission {
	ps := []IpPermission{
		{IpProtocol: "-1", UserIdGroupPairs: []UserIdGroupPair{{GroupId: id, UserId: account}}},
		allowAll("0.0.0.0/0"),
	}
	if v6 {
		ps = append(ps, allowAll("::/0"))
	}
	return ps
}

// defaultACLEntries are those of the default network ACL (VPC User Guide,
// "Default network ACL"): rule 100 allows all IPv4 traffic in and out, 101
// all IPv6 traffic when the VPC has IPv6, and * denies the rest.
func defaultACLEntries(v6 bool) []NetworkAclEntry {
	var es []NetworkAclEntry
	for _, eg := range []bool{false, true} {
		es = append(es, NetworkAclEntry{RuleNumber: 100, Protocol: "-1", RuleAction: "allow", Egress: eg, CidrBlock: "0.0.0.0/0"})
		if v6 {
			es = append(es, NetworkAclEntry{RuleNumber: 101, Protocol: "-1", RuleAction: "allow", Egress: eg, Ipv6CidrBlock: "::/0"})
		}
	}
	return withStarEntries(es, v6)
}

// withStarEntries adds the final deny entries describe-network-acls shows
// (rule 32767, printed *) when missing, and sorts the entries by direction
// and number. topology adds them implicitly; writing them out makes the
// stored document what Describe reports.
func withStarEntries(es []NetworkAclEntry, v6 bool) []NetworkAclEntry {
	has := map[[2]bool]bool{} // (egress, ipv6)
	for _, e := range es {
		if e.RuleNumber == topology.StarRule {
			has[[2]bool{e.Egress, e.Ipv6CidrBlock != ""}] = true
		}
	}
	out := slices.Clone(es)
	for _, eg := range []bool{false, true} {
		if !has[[2]bool{eg, false}] {
			out = append(out, NetworkAclEntry{RuleNumber: topology.StarRule, Protocol: "-1", RuleAction: "deny", Egress: eg, CidrBlock: "0.0.0.0/0"})
		}
		if v6 && !has[[2]bool{eg, true}] {
			out = append(out, NetworkAclEntry{RuleNumber: topology.StarRule, Protocol: "-1", RuleAction: "deny", Egress: eg, Ipv6CidrBlock: "::/0"})
		}
	}
	slices.SortStableFunc(out, func(a, b NetworkAclEntry) int {
		if a.Egress != b.Egress {
			if a.Egress {
				return 1
			}
			return -1
		}
		if a.RuleNumber != b.RuleNumber {
			return a.RuleNumber - b.RuleNumber
		}
		if (a.Ipv6CidrBlock != "") != (b.Ipv6CidrBlock != "") {
			if a.Ipv6CidrBlock != "" {
				return 1
			}
			return -1
		}
		return 0
	})
	return out
}

// canonRules orders the rules as render groups them: by group in group
// order, ingress before egress, and within a direction by permission in
// first-appearance order. Keeping the list in this order makes a state
// read back from its file identical to the one written.
func (st *state) canonRules() {
	var out []SecurityGroupRule
	for _, g := range st.net.SecurityGroups {
		for _, eg := range []bool{false, true} {
			var order []string
			by := map[string][]SecurityGroupRule{}
			for _, r := range st.rules {
				if r.GroupId != g.GroupId || r.IsEgress != eg {
					continue
				}
				k := permKey(&r)
				if _, ok := by[k]; !ok {
					order = append(order, k)
				}
				by[k] = append(by[k], r)
			}
			for _, k := range order {
				rs := by[k]
				// render lists a permission's targets by kind: IpRanges,
				// Ipv6Ranges, PrefixListIds, UserIdGroupPairs.
				slices.SortStableFunc(rs, func(a, b SecurityGroupRule) int { return targetRank(&a) - targetRank(&b) })
				out = append(out, rs...)
			}
		}
	}
	st.rules = out
}
