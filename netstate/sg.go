package netstate

import (
	"fmt"
	"slices"
	"strings"
)

// maxRulesPerDirection is AWS's default quota of inbound (and of outbound)
// rules per security group; each source or destination is one rule.
const maxRulesPerDirection = 60

func (st *state) group(id string) *SecurityGroup {
	for i := range st.net.SecurityGroups {
		if st.net.SecurityGroups[i].GroupId == id {
			return &st.net.SecurityGroups[i]
		}
	}
	return nil
}

func groupNotFound(id string) error {
	if !strings.HasPrefix(id, "sg-") {
		return errf(CodeGroupIdMalformed, "Invalid id: \"%s\" (expecting \"sg-...\")", id)
	}
	return errf(CodeGroupNotFound, "The security group '%s' does not exist", id)
}

// addRules gives new rules their ids and appends them to the state
// (commit puts them in their place); it returns copies.
func (s *Store) addRules(st *state, u ids, rs []SecurityGroupRule, tags []Tag) []SecurityGroupRule {
	var out []SecurityGroupRule
	for _, r := range rs {
		r.SecurityGroupRuleId = u.new("sgr")
		r.GroupOwnerId = s.opts.Account
		if g := st.group(r.GroupId); g != nil && g.OwnerId != "" {
			r.GroupOwnerId = g.OwnerId
		}
		r.SecurityGroupRuleArn = s.arn("security-group-rule", r.SecurityGroupRuleId)
		r.Tags = slices.Clone(tags)
		st.rules = append(st.rules, r)
		out = append(out, cloneRule(r))
	}
	return out
}

func cloneRule(r SecurityGroupRule) SecurityGroupRule {
	r.Tags = slices.Clone(r.Tags)
	if r.ReferencedGroupInfo != nil {
		g := *r.ReferencedGroupInfo
		r.ReferencedGroupInfo = &g
	}
	return r
}

// CreateSecurityGroup is CreateSecurityGroup in a VPC ("" is the default
// VPC, as on AWS). The group starts with no inbound rule and, as on AWS,
// an outbound rule allowing all IPv4 traffic (and one for IPv6 when the
// VPC has IPv6). The returned group carries its permissions.
func (s *Store) CreateSecurityGroup(vpcID, name, description string, tags []Tag) (SecurityGroup, int, error) {
	switch {
	case name == "":
		return SecurityGroup{}, 0, errf(CodeMissingParameter, "The request must contain the parameter GroupName")
	case description == "":
		return SecurityGroup{}, 0, errf(CodeMissingParameter, "The request must contain the parameter GroupDescription")
	case strings.HasPrefix(strings.ToLower(name), "sg-"):
		return SecurityGroup{}, 0, errf(CodeInvalidParameterValue, "Group names may not be in the format sg-*")
	case name == "default":
		return SecurityGroup{}, 0, errf(CodeGroupReserved, "The security group 'default' is reserved")
	}
	if err := checkDescription("security group name", name); err != nil {
		return SecurityGroup{}, 0, err
	}
	if err := checkDescription("security group description", description); err != nil {
		return SecurityGroup{}, 0, err
	}
	if err := checkTags(tags); err != nil {
		return SecurityGroup{}, 0, err
	}
	var out SecurityGroup
	v, err := s.mutate(func(st *state, u ids) error {
		var vpc *Vpc
		if vpcID == "" {
			for i := range st.net.Vpcs {
				if st.net.Vpcs[i].IsDefault {
					vpc = &st.net.Vpcs[i]
				}
			}
			if vpc == nil {
				return errf(CodeVPCIdNotSpecified, "No default VPC for this user")
			}
		} else if vpc = st.vpc(vpcID); vpc == nil {
			return vpcNotFound(vpcID)
		}
		for _, g := range st.net.SecurityGroups {
			if g.VpcId == vpc.VpcId && g.GroupName == name {
				return errf(CodeGroupDuplicate, "The security group '%s' already exists for VPC '%s'", name, vpc.VpcId)
			}
		}
		g := SecurityGroup{GroupId: u.new("sg"), GroupName: name, Description: description, VpcId: vpc.VpcId,
			OwnerId: s.opts.Account, Tags: slices.Clone(tags)}
		g.SecurityGroupArn = s.arn("security-group", g.GroupId)
		st.net.SecurityGroups = append(st.net.SecurityGroups, g)
		perms := []IpPermission{allowAll("0.0.0.0/0")}
		if len(vpc.Ipv6CidrBlockAssociationSet) > 0 {
			perms = append(perms, allowAll("::/0"))
		}
		for _, p := range perms {
			rs, err := expand(g.GroupId, true, p, false)
			if err != nil {
				return err
			}
			s.addRules(st, u, rs, nil)
		}
		g.IpPermissions = permissions(st.rules, g.GroupId, false)
		g.IpPermissionsEgress = permissions(st.rules, g.GroupId, true)
		out = g
		return nil
	})
	if err != nil {
		return SecurityGroup{}, 0, err
	}
	return out, v, nil
}

// DeleteSecurityGroup is DeleteSecurityGroup by GroupId, or by GroupName
// in the default VPC (the only place EC2 accepts a name). The default
// group cannot be deleted (CannotDelete); a group an interface carries or
// another group's rule refers to is in use (DependencyViolation). Its
// rules go with it. It returns the deleted group's id.
func (s *Store) DeleteSecurityGroup(groupID, groupName string) (string, int, error) {
	if groupID == "" && groupName == "" {
		return "", 0, errf(CodeMissingParameter, "The request must contain the parameter GroupId or GroupName")
	}
	var deleted string
	v, err := s.mutate(func(st *state, u ids) error {
		var g *SecurityGroup
		if groupID != "" {
			if g = st.group(groupID); g == nil {
				return groupNotFound(groupID)
			}
		} else {
			def := ""
			for _, v := range st.net.Vpcs {
				if v.IsDefault {
					def = v.VpcId
				}
			}
			for i := range st.net.SecurityGroups {
				if x := &st.net.SecurityGroups[i]; def != "" && x.VpcId == def && x.GroupName == groupName {
					g = x
				}
			}
			if g == nil {
				return errf(CodeGroupNotFound, "The security group '%s' does not exist in default VPC '%s'", groupName, def)
			}
		}
		if g.GroupName == "default" && g.VpcId != "" {
			return errf(CodeCannotDelete, "the specified group: \"%s\" name: \"default\" cannot be deleted by a user", g.GroupId)
		}
		for _, e := range st.net.NetworkInterfaces {
			if slices.ContainsFunc(e.Groups, func(x GroupIdentifier) bool { return x.GroupId == g.GroupId }) {
				return errf(CodeDependencyViolation, "resource %s has a dependent object (network interface %s)", g.GroupId, e.NetworkInterfaceId)
			}
		}
		for _, r := range st.rules {
			if r.GroupId != g.GroupId && r.ReferencedGroupInfo != nil && r.ReferencedGroupInfo.GroupId == g.GroupId {
				return errf(CodeDependencyViolation, "resource %s has a dependent object (rule %s of %s)", g.GroupId, r.SecurityGroupRuleId, r.GroupId)
			}
		}
		deleted = g.GroupId
		st.rules = slices.DeleteFunc(st.rules, func(r SecurityGroupRule) bool { return r.GroupId == deleted })
		st.net.SecurityGroups = slices.DeleteFunc(st.net.SecurityGroups, func(x SecurityGroup) bool { return x.GroupId == deleted })
		return nil
	})
	if err != nil {
		return "", 0, err
	}
	return deleted, v, nil
}

// AuthorizeSecurityGroupIngress is AuthorizeSecurityGroupIngress: each
// source of each permission becomes one rule with its own sgr- id (and the
// tags given, TagSpecifications of type security-group-rule). A rule that
// exists already, or twice in the request, is InvalidPermission.Duplicate
// and nothing is added. It returns the new rules.
func (s *Store) AuthorizeSecurityGroupIngress(groupID string, perms []IpPermission, tags []Tag) ([]SecurityGroupRule, int, error) {
	return s.authorize(groupID, false, perms, tags)
}

// AuthorizeSecurityGroupEgress is AuthorizeSecurityGroupEgress, as
// AuthorizeSecurityGroupIngress for destinations.
func (s *Store) AuthorizeSecurityGroupEgress(groupID string, perms []IpPermission, tags []Tag) ([]SecurityGroupRule, int, error) {
	return s.authorize(groupID, true, perms, tags)
}

func (s *Store) authorize(groupID string, egress bool, perms []IpPermission, tags []Tag) ([]SecurityGroupRule, int, error) {
	switch {
	case groupID == "":
		return nil, 0, errf(CodeMissingParameter, "The request must contain the parameter GroupId")
	case len(perms) == 0:
		return nil, 0, errf(CodeMissingParameter, "The request must contain the parameter IpPermissions")
	}
	if err := checkTags(tags); err != nil {
		return nil, 0, err
	}
	var out []SecurityGroupRule
	v, err := s.mutate(func(st *state, u ids) error {
		g := st.group(groupID)
		if g == nil {
			return groupNotFound(groupID)
		}
		prefixLists := sectionIDs(st.net.ManagedPrefixLists, "PrefixListId")
		have := map[string]bool{}
		count := 0
		for _, r := range st.rules {
			if r.GroupId == groupID && r.IsEgress == egress {
				have[ruleKey(&r)] = true
				count++
			}
		}
		var add []SecurityGroupRule
		for _, p := range perms {
			p, err := st.resolvePairs(g, p, true)
			if err != nil {
				return err
			}
			for _, pl := range p.PrefixListIds {
				if pl.PrefixListId != "" && !slices.Contains(prefixLists, pl.PrefixListId) {
					return errf(CodePrefixListNotFound, "The prefix list ID '%s' does not exist", pl.PrefixListId)
				}
			}
			rs, err := expand(groupID, egress, p, true)
			if err != nil {
				return err
			}
			for _, r := range rs {
				k := ruleKey(&r)
				if have[k] {
					return errf(CodePermissionDuplicate, "the specified rule %s already exists", describeRule(&r))
				}
				have[k] = true
				add = append(add, r)
			}
		}
		if count+len(add) > maxRulesPerDirection {
			return errf(CodeRulesPerGroupLimit, "The maximum number of rules per security group (%d %s) has been reached.", maxRulesPerDirection, direction(egress))
		}
		out = s.addRules(st, u, add, tags)
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return out, v, nil
}

func direction(egress bool) string {
	if egress {
		return "outbound"
	}
	return "inbound"
}

// describeRule writes a rule the way EC2's duplicate message does:
// "peer: 0.0.0.0/0, TCP, from port: 22, to port: 22, ALLOW".
func describeRule(r *SecurityGroupRule) string {
	peer := strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(target(r), "cidr4:"), "cidr6:"), "pl:"), "sg:")
	proto := strings.ToUpper(r.IpProtocol)
	if proto == "-1" {
		proto = "ALL"
	}
	return fmt.Sprintf("\"peer: %s, %s, from port: %d, to port: %d, ALLOW\"", peer, proto, r.FromPort, r.ToPort)
}

// resolvePairs names every group of p's UserIdGroupPairs by id: a
// GroupName is looked up among the groups of g's VPC. With check, a group
// that does not exist, or is in another VPC, is InvalidGroup.NotFound
// (vpcflow has no VPC peering, the one way to refer across VPCs).
func (st *state) resolvePairs(g *SecurityGroup, p IpPermission, check bool) (IpPermission, error) {
	p.UserIdGroupPairs = slices.Clone(p.UserIdGroupPairs)
	for i := range p.UserIdGroupPairs {
		gp := &p.UserIdGroupPairs[i]
		if gp.GroupId == "" && gp.GroupName != "" {
			for _, x := range st.net.SecurityGroups {
				if x.VpcId == g.VpcId && x.GroupName == gp.GroupName {
					gp.GroupId = x.GroupId
				}
			}
			if gp.GroupId == "" {
				if !check {
					gp.GroupId = "?" + gp.GroupName // matches no rule
					continue
				}
				return p, errf(CodeGroupNotFound, "The security group '%s' does not exist in VPC '%s'", gp.GroupName, g.VpcId)
			}
		}
		if !check || gp.GroupId == "" {
			continue
		}
		ref := st.group(gp.GroupId)
		if ref == nil || (ref.VpcId != "" && g.VpcId != "" && ref.VpcId != g.VpcId) {
			return p, errf(CodeGroupNotFound, "The security group '%s' does not exist in VPC '%s'", gp.GroupId, g.VpcId)
		}
		if gp.UserId == "" {
			gp.UserId = ref.OwnerId
		}
	}
	return p, nil
}

// RevokeSecurityGroupIngress is RevokeSecurityGroupIngress, by rule
// properties (perms: protocol, ports and source must match a rule exactly;
// the description need not) or by SecurityGroupRuleIds, not both. In a
// nondefault VPC a permission that matches no rule is
// InvalidPermission.NotFound and nothing is revoked; in a default VPC the
// rules that match are revoked and the others come back as
// UnknownIpPermissions (EC2 API reference, RevokeSecurityGroupIngress).
// An id that names no inbound rule of the group is
// InvalidSecurityGroupRuleId.NotFound.
func (s *Store) RevokeSecurityGroupIngress(groupID string, perms []IpPermission, ruleIDs []string) (RevokeResult, int, error) {
	return s.revoke(groupID, false, perms, ruleIDs)
}

// RevokeSecurityGroupEgress is RevokeSecurityGroupEgress, as
// RevokeSecurityGroupIngress for outbound rules.
func (s *Store) RevokeSecurityGroupEgress(groupID string, perms []IpPermission, ruleIDs []string) (RevokeResult, int, error) {
	return s.revoke(groupID, true, perms, ruleIDs)
}

func (s *Store) revoke(groupID string, egress bool, perms []IpPermission, ruleIDs []string) (RevokeResult, int, error) {
	switch {
	case groupID == "":
		return RevokeResult{}, 0, errf(CodeMissingParameter, "The request must contain the parameter GroupId")
	case len(perms) == 0 && len(ruleIDs) == 0:
		return RevokeResult{}, 0, errf(CodeMissingParameter, "The request must contain the parameter IpPermissions or SecurityGroupRuleIds")
	case len(perms) > 0 && len(ruleIDs) > 0:
		return RevokeResult{}, 0, errf(CodeInvalidParameterCombination, "Specify either IpPermissions or SecurityGroupRuleIds, not both")
	}
	var res RevokeResult
	v, err := s.mutate(func(st *state, u ids) error {
		g := st.group(groupID)
		if g == nil {
			return groupNotFound(groupID)
		}
		drop := map[string]bool{} // rule ids
		for _, id := range ruleIDs {
			i := slices.IndexFunc(st.rules, func(r SecurityGroupRule) bool {
				return r.SecurityGroupRuleId == id && r.GroupId == groupID && r.IsEgress == egress
			})
			if i < 0 {
				if !strings.HasPrefix(id, "sgr-") {
					return errf(CodeRuleIdMalformed, "Invalid id: \"%s\" (expecting \"sgr-...\")", id)
				}
				return errf(CodeRuleIdNotFound, "The security group rule ID '%s' does not exist in %s rules of %s", id, direction(egress), groupID)
			}
			drop[id] = true
		}
		byKey := map[string]string{}
		for _, r := range st.rules {
			if r.GroupId == groupID && r.IsEgress == egress {
				byKey[ruleKey(&r)] = r.SecurityGroupRuleId
			}
		}
		for _, p := range perms {
			p, err := st.resolvePairs(g, p, false)
			if err != nil {
				return err
			}
			rs, err := expand(groupID, egress, p, true)
			if err != nil {
				return err
			}
			for _, r := range rs {
				if id, ok := byKey[ruleKey(&r)]; ok {
					drop[id] = true
				} else {
					res.UnknownIpPermissions = append(res.UnknownIpPermissions, permissions([]SecurityGroupRule{r}, groupID, egress)...)
				}
			}
		}
		if len(res.UnknownIpPermissions) > 0 {
			if v := st.vpc(g.VpcId); v == nil || !v.IsDefault {
				return errf(CodePermissionNotFound, "The specified rule does not exist in this security group.")
			}
		}
		for _, r := range st.rules {
			if drop[r.SecurityGroupRuleId] {
				res.Revoked = append(res.Revoked, cloneRule(r))
			}
		}
		if len(drop) == 0 {
			return errNoChange
		}
		st.rules = slices.DeleteFunc(st.rules, func(r SecurityGroupRule) bool { return drop[r.SecurityGroupRuleId] })
		return nil
	})
	if err != nil {
		return RevokeResult{}, 0, err
	}
	return res, v, nil
}

// DescribeSecurityGroupRules is DescribeSecurityGroupRules: the rules
// ruleIDs names (all when empty; an id that names no rule is
// InvalidSecurityGroupRuleId.NotFound) that pass every filter. Filters:
// group-id, security-group-rule-id, tag:<key> (the tag's value is one of
// Values) and tag-key; the values of one filter are ORed, filters ANDed.
func (s *Store) DescribeSecurityGroupRules(ruleIDs []string, filters []Filter) ([]SecurityGroupRule, error) {
	var preds []func(*SecurityGroupRule) bool
	for _, f := range filters {
		if len(f.Values) == 0 {
			return nil, errf(CodeInvalidParameterValue, "The filter '%s' needs at least one value", f.Name)
		}
		vals := f.Values
		switch {
		case f.Name == "group-id":
			preds = append(preds, func(r *SecurityGroupRule) bool { return slices.Contains(vals, r.GroupId) })
		case f.Name == "security-group-rule-id":
			preds = append(preds, func(r *SecurityGroupRule) bool { return slices.Contains(vals, r.SecurityGroupRuleId) })
		case f.Name == "tag-key":
			preds = append(preds, func(r *SecurityGroupRule) bool {
				return slices.ContainsFunc(r.Tags, func(t Tag) bool { return slices.Contains(vals, t.Key) })
			})
		case strings.HasPrefix(f.Name, "tag:") && len(f.Name) > 4:
			key := f.Name[4:]
			preds = append(preds, func(r *SecurityGroupRule) bool {
				return slices.ContainsFunc(r.Tags, func(t Tag) bool { return t.Key == key && slices.Contains(vals, t.Value) })
			})
		default:
			return nil, errf(CodeInvalidParameterValue, "The filter '%s' is invalid", f.Name)
		}
	}
	rules := s.cur.Load().st.rules
	for _, id := range ruleIDs {
		if !slices.ContainsFunc(rules, func(r SecurityGroupRule) bool { return r.SecurityGroupRuleId == id }) {
			if !strings.HasPrefix(id, "sgr-") {
				return nil, errf(CodeRuleIdMalformed, "Invalid id: \"%s\" (expecting \"sgr-...\")", id)
			}
			return nil, errf(CodeRuleIdNotFound, "The security group rule ID '%s' does not exist", id)
		}
	}
	out := []SecurityGroupRule{}
next:
	for i := range rules {
		r := &rules[i]
		if len(ruleIDs) > 0 && !slices.Contains(ruleIDs, r.SecurityGroupRuleId) {
			continue
		}
		for _, p := range preds {
			if !p(r) {
				continue next
			}
		}
		out = append(out, cloneRule(*r))
	}
	return out, nil
}
