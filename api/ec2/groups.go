package ec2

import (
	"encoding/xml"
	"slices"
	"strings"

	"github.com/vpcflow/vpcflow/api/query"
	"github.com/vpcflow/vpcflow/netstate"
)

// The security group actions: CreateSecurityGroup, DeleteSecurityGroup,
// AuthorizeSecurityGroupIngress/Egress, RevokeSecurityGroupIngress/Egress
// and DescribeSecurityGroupRules
// (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_AuthorizeSecurityGroupIngress.html
// and the pages of the others).
//
// A permission on the wire is IpPermissions.N with IpProtocol, FromPort,
// ToPort, IpRanges.M.{CidrIp,Description}, Ipv6Ranges.M.{CidrIpv6,Description},
// PrefixListIds.M.{PrefixListId,Description} and
// Groups.M.{GroupId,GroupName,UserId,Description}: the member the API
// reference calls UserIdGroupPairs travels as Groups, and that is what the
// SDKs and the AWS CLI send (the CLI's --protocol/--port/--cidr and
// --source-group shorthand too). The older flat form of the ingress
// actions (IpProtocol, FromPort, ToPort, CidrIp, SourceSecurityGroupName,
// SourceSecurityGroupOwnerId at the top level) is read as one permission;
// the egress actions document it as not supported, and it is refused
// there.

// decodePermissions reads IpPermissions.N and, for the ingress actions,
// the flat form; the two may not be mixed.
func decodePermissions(p query.Params, action string, egress bool) ([]netstate.IpPermission, error) {
	if p.Has("IpPermissions") && slices.ContainsFunc(flatNames, p.Has) {
		return nil, query.Errorf("InvalidParameterCombination", "IpPermissions cannot be combined with IpProtocol, FromPort, ToPort, CidrIp or SourceSecurityGroupName.")
	}
	var perms []netstate.IpPermission
	for _, ps := range p.Structs("IpPermissions") {
		perm, err := decodePermission(ps)
		if err != nil {
			return nil, err
		}
		perms = append(perms, perm)
	}
	flat, err := flatPermissions(p, action, egress)
	if err != nil {
		return nil, err
	}
	return append(perms, flat...), nil
}

func decodePermission(ps query.Params) (netstate.IpPermission, error) {
	var perm netstate.IpPermission
	if err := unknownName(ps, "UserIdGroupPairs", "Groups"); err != nil {
		return perm, err
	}
	if err := required(ps, "IpProtocol"); err != nil {
		return perm, err
	}
	perm.IpProtocol = ps.String("IpProtocol")
	var err error
	if perm.FromPort, err = optInt(ps, "FromPort"); err != nil {
		return perm, err
	}
	if perm.ToPort, err = optInt(ps, "ToPort"); err != nil {
		return perm, err
	}
	for _, r := range ps.Structs("IpRanges") {
		if err := required(r, "CidrIp"); err != nil {
			return perm, err
		}
		perm.IpRanges = append(perm.IpRanges, netstate.IpRange{CidrIp: r.String("CidrIp"), Description: r.String("Description")})
	}
	for _, r := range ps.Structs("Ipv6Ranges") {
		if err := required(r, "CidrIpv6"); err != nil {
			return perm, err
		}
		perm.Ipv6Ranges = append(perm.Ipv6Ranges, netstate.Ipv6Range{CidrIpv6: r.String("CidrIpv6"), Description: r.String("Description")})
	}
	for _, r := range ps.Structs("PrefixListIds") {
		if err := required(r, "PrefixListId"); err != nil {
			return perm, err
		}
		perm.PrefixListIds = append(perm.PrefixListIds, netstate.PrefixListId{PrefixListId: r.String("PrefixListId"), Description: r.String("Description")})
	}
	for _, r := range ps.Structs("Groups") {
		g := netstate.UserIdGroupPair{GroupId: r.String("GroupId"), GroupName: r.String("GroupName"),
			UserId: r.String("UserId"), Description: r.String("Description")}
		if g.GroupId == "" && g.GroupName == "" {
			return perm, query.MissingParameter(r.Name("GroupId"))
		}
		perm.UserIdGroupPairs = append(perm.UserIdGroupPairs, g)
	}
	return perm, nil
}

func optInt(p query.Params, name string) (*int, error) {
	n, ok, err := p.Int(name)
	if err != nil || !ok {
		return nil, err
	}
	return &n, nil
}

var flatNames = []string{"IpProtocol", "FromPort", "ToPort", "CidrIp", "SourceSecurityGroupName", "SourceSecurityGroupOwnerId"}

// flatPermissions reads the flat form. With SourceSecurityGroupName it
// stands for the rules EC2 makes of it: all ICMP, TCP and UDP traffic from
// that group (and it takes no protocol, ports or CIDR); otherwise it is
// one permission for CidrIp.
func flatPermissions(p query.Params, action string, egress bool) ([]netstate.IpPermission, error) {
	given := slices.DeleteFunc(slices.Clone(flatNames), func(n string) bool { return !p.Has(n) })
	if len(given) == 0 {
		return nil, nil
	}
	if egress {
		return nil, query.Errorf("InvalidParameterCombination", "The parameter %s is not supported by %s: use IpPermissions.", given[0], action)
	}
	if src := p.String("SourceSecurityGroupName"); src != "" {
		for _, n := range given {
			if n != "SourceSecurityGroupName" && n != "SourceSecurityGroupOwnerId" {
				return nil, query.Errorf("InvalidParameterCombination", "SourceSecurityGroupName cannot be combined with %s: use IpPermissions to give a protocol and ports.", n)
			}
		}
		pair := []netstate.UserIdGroupPair{{GroupName: src, UserId: p.String("SourceSecurityGroupOwnerId")}}
		all, n1 := 65535, -1
		zero := 0
		return []netstate.IpPermission{
			{IpProtocol: "icmp", FromPort: &n1, ToPort: &n1, UserIdGroupPairs: pair},
			{IpProtocol: "tcp", FromPort: &zero, ToPort: &all, UserIdGroupPairs: pair},
			{IpProtocol: "udp", FromPort: &zero, ToPort: &all, UserIdGroupPairs: pair},
		}, nil
	}
	if p.Has("SourceSecurityGroupOwnerId") {
		return nil, query.MissingParameter("SourceSecurityGroupName")
	}
	if err := required(p, "IpProtocol", "CidrIp"); err != nil {
		return nil, err
	}
	perm := netstate.IpPermission{IpProtocol: p.String("IpProtocol"), IpRanges: []netstate.IpRange{{CidrIp: p.String("CidrIp")}}}
	var err error
	if perm.FromPort, err = optInt(p, "FromPort"); err != nil {
		return nil, err
	}
	if perm.ToPort, err = optInt(p, "ToPort"); err != nil {
		return nil, err
	}
	return []netstate.IpPermission{perm}, nil
}

// groupRef reads the group an ingress action names: GroupId, or GroupName,
// which EC2 looks up in the default VPC only. The egress actions take
// GroupId only.
func groupRef(p query.Params, egress bool) (id, name string, err error) {
	id = p.String("GroupId")
	if !egress && id == "" {
		name = p.String("GroupName")
	}
	if id == "" && name == "" {
		return "", "", query.MissingParameter("GroupId")
	}
	return id, name, nil
}

// resolveGroup names the group by id, looking a name up in the default
// VPC as EC2 does.
func resolveGroup(s *netstate.Store, id, name string) (string, error) {
	if id != "" {
		return id, nil
	}
	n := s.Network()
	def := ""
	for _, v := range n.Vpcs {
		if v.IsDefault {
			def = v.VpcId
		}
	}
	for _, g := range n.SecurityGroups {
		if def != "" && g.VpcId == def && g.GroupName == name {
			return g.GroupId, nil
		}
	}
	return "", query.Errorf("InvalidGroup.NotFound", "The security group '%s' does not exist in default VPC '%s'", name, def)
}

// ---- CreateSecurityGroup, DeleteSecurityGroup ----

type createSecurityGroupResponse struct {
	XMLName xml.Name `xml:"http://ec2.amazonaws.com/doc/2016-11-15/ CreateSecurityGroupResponse"`
	responseMeta
	GroupID          string       `xml:"groupId"`
	Tags             *set[tagXML] `xml:"tagSet,omitempty"`
	SecurityGroupArn string       `xml:"securityGroupArn,omitempty"`
}

func createSecurityGroup(h *Handler, p query.Params) (response, error) {
	dry, err := dryRun(p)
	if err != nil {
		return nil, err
	}
	if err := required(p, "GroupName", "GroupDescription"); err != nil {
		return nil, err
	}
	tags, err := tagSpecTags(p, "security-group")
	if err != nil {
		return nil, err
	}
	if dry {
		return nil, errDryRun
	}
	var g netstate.SecurityGroup
	err = h.change(func(s *netstate.Store) (int, error) {
		var v int
		var err error
		g, v, err = s.CreateSecurityGroup(p.String("VpcId"), p.String("GroupName"), p.String("GroupDescription"), tags)
		return v, err
	})
	if err != nil {
		return nil, err
	}
	return &createSecurityGroupResponse{GroupID: g.GroupId, Tags: tagSet(g.Tags), SecurityGroupArn: g.SecurityGroupArn}, nil
}

type deleteSecurityGroupResponse struct {
	XMLName xml.Name `xml:"http://ec2.amazonaws.com/doc/2016-11-15/ DeleteSecurityGroupResponse"`
	responseMeta
	Return  bool   `xml:"return"`
	GroupID string `xml:"groupId"`
}

func deleteSecurityGroup(h *Handler, p query.Params) (response, error) {
	dry, err := dryRun(p)
	if err != nil {
		return nil, err
	}
	id, name := p.String("GroupId"), p.String("GroupName")
	if id == "" && name == "" {
		return nil, query.MissingParameter("GroupId")
	}
	if dry {
		return nil, errDryRun
	}
	var deleted string
	err = h.change(func(s *netstate.Store) (int, error) {
		var v int
		var err error
		deleted, v, err = s.DeleteSecurityGroup(id, name)
		return v, err
	})
	if err != nil {
		return nil, err
	}
	return &deleteSecurityGroupResponse{Return: true, GroupID: deleted}, nil
}

// ---- Security group rules ----

type referencedGroupXML struct {
	GroupID string `xml:"groupId"`
	UserID  string `xml:"userId,omitempty"`
}

type securityGroupRuleXML struct {
	SecurityGroupRuleID  string              `xml:"securityGroupRuleId"`
	GroupID              string              `xml:"groupId"`
	GroupOwnerID         string              `xml:"groupOwnerId"`
	IsEgress             bool                `xml:"isEgress"`
	IPProtocol           string              `xml:"ipProtocol"`
	FromPort             int                 `xml:"fromPort"`
	ToPort               int                 `xml:"toPort"`
	CidrIpv4             string              `xml:"cidrIpv4,omitempty"`
	CidrIpv6             string              `xml:"cidrIpv6,omitempty"`
	PrefixListID         string              `xml:"prefixListId,omitempty"`
	ReferencedGroupInfo  *referencedGroupXML `xml:"referencedGroupInfo,omitempty"`
	Description          string              `xml:"description,omitempty"`
	Tags                 *set[tagXML]        `xml:"tagSet"`
	SecurityGroupRuleArn string              `xml:"securityGroupRuleArn,omitempty"`
}

// ruleXML writes a rule as DescribeSecurityGroupRules does; its tagSet is
// always there, empty for a rule without tags, as AWS writes it.
func ruleXML(r *netstate.SecurityGroupRule) securityGroupRuleXML {
	x := securityGroupRuleXML{SecurityGroupRuleID: r.SecurityGroupRuleId, GroupID: r.GroupId, GroupOwnerID: r.GroupOwnerId,
		IsEgress: r.IsEgress, IPProtocol: r.IpProtocol, FromPort: r.FromPort, ToPort: r.ToPort, CidrIpv4: r.CidrIpv4,
		CidrIpv6: r.CidrIpv6, PrefixListID: r.PrefixListId, Description: r.Description,
		Tags: newSet(tagItems(r.Tags)), SecurityGroupRuleArn: r.SecurityGroupRuleArn}
	if g := r.ReferencedGroupInfo; g != nil {
		x.ReferencedGroupInfo = &referencedGroupXML{GroupID: g.GroupId, UserID: g.UserId}
	}
	return x
}

func rulesXML(rs []netstate.SecurityGroupRule) []securityGroupRuleXML {
	out := []securityGroupRuleXML{}
	for i := range rs {
		out = append(out, ruleXML(&rs[i]))
	}
	return out
}

type authorizeResponse struct {
	XMLName xml.Name
	responseMeta
	Return bool                       `xml:"return"`
	Rules  *set[securityGroupRuleXML] `xml:"securityGroupRuleSet"`
}

func authorizeIngress(h *Handler, p query.Params) (response, error) {
	return authorize(h, p, "AuthorizeSecurityGroupIngress", false)
}

func authorizeEgress(h *Handler, p query.Params) (response, error) {
	return authorize(h, p, "AuthorizeSecurityGroupEgress", true)
}

func authorize(h *Handler, p query.Params, action string, egress bool) (response, error) {
	dry, err := dryRun(p)
	if err != nil {
		return nil, err
	}
	id, name, err := groupRef(p, egress)
	if err != nil {
		return nil, err
	}
	perms, err := decodePermissions(p, action, egress)
	if err != nil {
		return nil, err
	}
	if len(perms) == 0 {
		return nil, query.MissingParameter("IpPermissions")
	}
	tags, err := tagSpecTags(p, "security-group-rule")
	if err != nil {
		return nil, err
	}
	if dry {
		return nil, errDryRun
	}
	var rules []netstate.SecurityGroupRule
	err = h.change(func(s *netstate.Store) (int, error) {
		gid, err := resolveGroup(s, id, name)
		if err != nil {
			return 0, err
		}
		var v int
		if egress {
			rules, v, err = s.AuthorizeSecurityGroupEgress(gid, perms, tags)
		} else {
			rules, v, err = s.AuthorizeSecurityGroupIngress(gid, perms, tags)
		}
		return v, err
	})
	if err != nil {
		return nil, err
	}
	return &authorizeResponse{XMLName: responseName(action), Return: true, Rules: newSet(rulesXML(rules))}, nil
}

type revokedRuleXML struct {
	SecurityGroupRuleID string `xml:"securityGroupRuleId"`
	GroupID             string `xml:"groupId"`
	IsEgress            bool   `xml:"isEgress"`
	IPProtocol          string `xml:"ipProtocol"`
	FromPort            int    `xml:"fromPort"`
	ToPort              int    `xml:"toPort"`
	CidrIpv4            string `xml:"cidrIpv4,omitempty"`
	CidrIpv6            string `xml:"cidrIpv6,omitempty"`
	PrefixListID        string `xml:"prefixListId,omitempty"`
	ReferencedGroupID   string `xml:"referencedGroupId,omitempty"`
	Description         string `xml:"description,omitempty"`
}

type revokeResponse struct {
	XMLName xml.Name
	responseMeta
	Return  bool                  `xml:"return"`
	Unknown *set[ipPermissionXML] `xml:"unknownIpPermissionSet,omitempty"`
	Revoked *set[revokedRuleXML]  `xml:"revokedSecurityGroupRuleSet,omitempty"`
}

func revokeIngress(h *Handler, p query.Params) (response, error) {
	return revoke(h, p, "RevokeSecurityGroupIngress", false)
}

func revokeEgress(h *Handler, p query.Params) (response, error) {
	return revoke(h, p, "RevokeSecurityGroupEgress", true)
}

func revoke(h *Handler, p query.Params, action string, egress bool) (response, error) {
	dry, err := dryRun(p)
	if err != nil {
		return nil, err
	}
	id, name, err := groupRef(p, egress)
	if err != nil {
		return nil, err
	}
	perms, err := decodePermissions(p, action, egress)
	if err != nil {
		return nil, err
	}
	ruleIDs, err := idList(p, "SecurityGroupRuleId")
	if err != nil {
		return nil, err
	}
	switch {
	case len(perms) == 0 && len(ruleIDs) == 0:
		return nil, query.MissingParameter("IpPermissions")
	case len(perms) > 0 && len(ruleIDs) > 0:
		return nil, query.Errorf(netstate.CodeInvalidParameterCombination, "Specify either IpPermissions or SecurityGroupRuleIds, not both")
	}
	if dry {
		return nil, errDryRun
	}
	var res netstate.RevokeResult
	var c *netCtx
	err = h.change(func(s *netstate.Store) (int, error) {
		gid, err := resolveGroup(s, id, name)
		if err != nil {
			return 0, err
		}
		var v int
		if egress {
			res, v, err = s.RevokeSecurityGroupEgress(gid, perms, ruleIDs)
		} else {
			res, v, err = s.RevokeSecurityGroupIngress(gid, perms, ruleIDs)
		}
		if err == nil {
			c = h.changed(s)
		}
		return v, err
	})
	if err != nil {
		return nil, err
	}
	out := &revokeResponse{XMLName: responseName(action), Return: true}
	if len(res.UnknownIpPermissions) > 0 {
		out.Unknown = permissionsXML(c, res.UnknownIpPermissions)
	}
	var revoked []revokedRuleXML
	for _, r := range res.Revoked {
		x := revokedRuleXML{SecurityGroupRuleID: r.SecurityGroupRuleId, GroupID: r.GroupId, IsEgress: r.IsEgress,
			IPProtocol: r.IpProtocol, FromPort: r.FromPort, ToPort: r.ToPort, CidrIpv4: r.CidrIpv4, CidrIpv6: r.CidrIpv6,
			PrefixListID: r.PrefixListId, Description: r.Description}
		if r.ReferencedGroupInfo != nil {
			x.ReferencedGroupID = r.ReferencedGroupInfo.GroupId
		}
		revoked = append(revoked, x)
	}
	out.Revoked = optSet(revoked)
	return out, nil
}

// ---- DescribeSecurityGroupRules ----

type describeSecurityGroupRulesResponse struct {
	XMLName xml.Name `xml:"http://ec2.amazonaws.com/doc/2016-11-15/ DescribeSecurityGroupRulesResponse"`
	responseMeta
	Rules     *set[securityGroupRuleXML] `xml:"securityGroupRuleSet"`
	NextToken string                     `xml:"nextToken,omitempty"`
}

// ruleFilters are DescribeSecurityGroupRules' filters besides the tag
// ones; EC2 documents no others.
var ruleFilters = map[string]filterFunc[*netstate.SecurityGroupRule]{
	"group-id":               func(r *netstate.SecurityGroupRule) []string { return []string{r.GroupId} },
	"security-group-rule-id": func(r *netstate.SecurityGroupRule) []string { return []string{r.SecurityGroupRuleId} },
}

func describeSecurityGroupRules(h *Handler, p query.Params) (response, error) {
	dry, err := dryRun(p)
	if err != nil {
		return nil, err
	}
	ids, err := idList(p, "SecurityGroupRuleId")
	if err != nil {
		return nil, err
	}
	fs, err := p.Filters("Filter")
	if err != nil {
		return nil, err
	}
	match, err := matcher(fs, ruleFilters, nil, func(r *netstate.SecurityGroupRule) []tagXML { return tagItems(r.Tags) })
	if err != nil {
		return nil, err
	}
	max, _, err := p.IntRange("MaxResults", 5, 1000)
	if err != nil {
		return nil, err
	}
	after, err := decodeToken("security-group-rules", p.String("NextToken"))
	if err != nil {
		return nil, err
	}
	var rules []netstate.SecurityGroupRule
	if s := h.b.Network(); s != nil {
		if rules, err = s.DescribeSecurityGroupRules(ids, nil); err != nil {
			return nil, err
		}
	}
	if dry {
		return nil, errDryRun
	}
	var sel []*netstate.SecurityGroupRule
	for _, r := range ptrs(rules) {
		if match(r) {
			sel = append(sel, r)
		}
	}
	id := func(r *netstate.SecurityGroupRule) string { return r.SecurityGroupRuleId }
	slices.SortFunc(sel, func(a, b *netstate.SecurityGroupRule) int { return strings.Compare(id(a), id(b)) })
	pg, next := page(sel, id, "security-group-rules", after, max)
	out := []securityGroupRuleXML{}
	for _, r := range pg {
		out = append(out, ruleXML(r))
	}
	return &describeSecurityGroupRulesResponse{Rules: newSet(out), NextToken: next}, nil
}
