package netstate

import (
	"slices"
	"strconv"
	"strings"

	"github.com/vpcflow/vpcflow/topology"
)

// maxACLEntries is AWS's default quota of rules per network ACL and
// direction (the * entries not counted).
const maxACLEntries = 20

func aclNotFound(id string) error {
	return errf(CodeNetworkAclNotFound, "The network acl ID '%s' does not exist", id)
}

// CreateNetworkAcl is CreateNetworkAcl: a custom network ACL of the VPC,
// associated with no subnet, whose only entries are the * entries that
// deny everything (VPC User Guide, "Custom network ACLs").
func (s *Store) CreateNetworkAcl(vpcID string, tags []Tag) (NetworkAcl, int, error) {
	if vpcID == "" {
		return NetworkAcl{}, 0, errf(CodeMissingParameter, "The request must contain the parameter VpcId")
	}
	if err := checkTags(tags); err != nil {
		return NetworkAcl{}, 0, err
	}
	var out NetworkAcl
	v, err := s.mutate(func(st *state, u ids) error {
		vpc := st.vpc(vpcID)
		if vpc == nil {
			return vpcNotFound(vpcID)
		}
		a := NetworkAcl{NetworkAclId: u.new("acl"), VpcId: vpcID, Associations: []NetworkAclAssociation{},
			Entries: withStarEntries(nil, len(vpc.Ipv6CidrBlockAssociationSet) > 0), OwnerId: s.opts.Account, Tags: slices.Clone(tags)}
		st.net.NetworkAcls = append(st.net.NetworkAcls, a)
		out = a
		return nil
	})
	if err != nil {
		return NetworkAcl{}, 0, err
	}
	return out, v, nil
}

// canonEntry validates a CreateNetworkAclEntry/ReplaceNetworkAclEntry
// request and returns the entry as describe-network-acls shows it: the
// protocol as a number ("6"; "-1" for all; names are accepted), the action
// in lower case, the CIDR masked, PortRange only for TCP and UDP (where it
// is required) and IcmpTypeCode only for ICMP (required) and ICMPv6 (-1
// when absent).
func canonEntry(e NetworkAclEntry) (NetworkAclEntry, error) {
	if e.RuleNumber < 1 || e.RuleNumber > topology.StarRule-1 {
		return e, errf(CodeInvalidParameterValue, "Invalid value '%d' for ruleNumber: want 1 to 32766", e.RuleNumber)
	}
	if strings.TrimSpace(e.Protocol) == "" {
		return e, errf(CodeMissingParameter, "The request must contain the parameter protocol")
	}
	proto, err := topology.ParseProtocol(e.Protocol)
	if err != nil {
		return e, errf(CodeInvalidParameterValue, "Invalid value '%s' for protocol: want -1 or a protocol number 0-255", e.Protocol)
	}
	e.Protocol = strconv.Itoa(proto)
	switch strings.ToLower(e.RuleAction) {
	case "allow", "deny":
		e.RuleAction = strings.ToLower(e.RuleAction)
	case "":
		return e, errf(CodeMissingParameter, "The request must contain the parameter ruleAction")
	default:
		return e, errf(CodeInvalidParameterValue, "Invalid value '%s' for ruleAction: want allow or deny", e.RuleAction)
	}
	switch {
	case e.CidrBlock != "" && e.Ipv6CidrBlock != "":
		return e, errf(CodeInvalidParameterCombination, "Specify either CidrBlock or Ipv6CidrBlock, not both")
	case e.CidrBlock != "":
		p, err := parseCIDR(e.CidrBlock, false)
		if err != nil {
			return e, err
		}
		e.CidrBlock = p.String()
	case e.Ipv6CidrBlock != "":
		p, err := parseCIDR(e.Ipv6CidrBlock, true)
		if err != nil {
			return e, err
		}
		e.Ipv6CidrBlock = p.String()
	default:
		return e, errf(CodeMissingParameter, "The request must contain the parameter cidrBlock or ipv6CidrBlock")
	}
	pr, icmp := e.PortRange, e.IcmpTypeCode
	e.PortRange, e.IcmpTypeCode = nil, nil
	switch proto {
	case topology.ProtoTCP, topology.ProtoUDP:
		if pr == nil || pr.From == nil || pr.To == nil {
			return e, errf(CodeMissingParameter, "The request must contain the parameter portRange (From and To) for TCP and UDP")
		}
		f, t := *pr.From, *pr.To
		if f < 0 || f > 65535 || t < 0 || t > 65535 || f > t {
			return e, errf(CodeInvalidParameterValue, "Invalid port range %d-%d: want 0-65535, From not above To", f, t)
		}
		e.PortRange = &PortRange{From: ptr(f), To: ptr(t)}
	case topology.ProtoICMP, topology.ProtoICMPv6:
		if icmp == nil && proto == topology.ProtoICMP {
			return e, errf(CodeMissingParameter, "The request must contain the parameter icmpTypeCode for ICMP")
		}
		ty, co := -1, -1
		if icmp != nil && icmp.Type != nil {
			ty = *icmp.Type
		}
		if icmp != nil && icmp.Code != nil {
			co = *icmp.Code
		}
		if ty < -1 || ty > 255 || co < -1 || co > 255 {
			return e, errf(CodeInvalidParameterValue, "Invalid ICMP type/code %d/%d: want -1 to 255", ty, co)
		}
		e.IcmpTypeCode = &IcmpTypeCode{Type: ptr(ty), Code: ptr(co)}
	}
	return e, nil
}

func entryIndex(a *NetworkAcl, rule int, egress bool) int {
	return slices.IndexFunc(a.Entries, func(x NetworkAclEntry) bool { return x.RuleNumber == rule && x.Egress == egress })
}

func entryNotFound(aclID string, rule int, egress bool) error {
	return errf(CodeNetworkAclEntryNotFound, "The network acl entry identified by %d (%s) does not exist in %s", rule, direction(egress), aclID)
}

func (st *state) aclVPCv6(a *NetworkAcl) bool {
	v := st.vpc(a.VpcId)
	return v != nil && len(v.Ipv6CidrBlockAssociationSet) > 0
}

// CreateNetworkAclEntry is CreateNetworkAclEntry: a numbered rule (1 to
// 32766, unique per direction: NetworkAclEntryAlreadyExists) of the ACL.
func (s *Store) CreateNetworkAclEntry(aclID string, entry NetworkAclEntry) (int, error) {
	if aclID == "" {
		return 0, errf(CodeMissingParameter, "The request must contain the parameter NetworkAclId")
	}
	e, err := canonEntry(entry)
	if err != nil {
		return 0, err
	}
	return s.mutate(func(st *state, u ids) error {
		a := st.acl(aclID)
		if a == nil {
			return aclNotFound(aclID)
		}
		if entryIndex(a, e.RuleNumber, e.Egress) >= 0 {
			return errf(CodeNetworkAclEntryExists, "The network acl entry identified by %d already exists.", e.RuleNumber)
		}
		n := 0
		for _, x := range a.Entries {
			if x.Egress == e.Egress && x.RuleNumber != topology.StarRule {
				n++
			}
		}
		if n >= maxACLEntries {
			return errf(CodeNetworkAclEntryLimit, "The maximum number of %s entries (%d) of network acl %s has been reached.", direction(e.Egress), maxACLEntries, aclID)
		}
		a.Entries = withStarEntries(append(a.Entries, e), st.aclVPCv6(a))
		return nil
	})
}

// ReplaceNetworkAclEntry is ReplaceNetworkAclEntry: the entry with the
// rule number and direction is replaced; one that does not exist is
// InvalidNetworkAclEntry.NotFound.
func (s *Store) ReplaceNetworkAclEntry(aclID string, entry NetworkAclEntry) (int, error) {
	if aclID == "" {
		return 0, errf(CodeMissingParameter, "The request must contain the parameter NetworkAclId")
	}
	e, err := canonEntry(entry)
	if err != nil {
		return 0, err
	}
	return s.mutate(func(st *state, u ids) error {
		a := st.acl(aclID)
		if a == nil {
			return aclNotFound(aclID)
		}
		i := entryIndex(a, e.RuleNumber, e.Egress)
		if i < 0 {
			return entryNotFound(aclID, e.RuleNumber, e.Egress)
		}
		a.Entries[i] = e
		a.Entries = withStarEntries(a.Entries, st.aclVPCv6(a))
		return nil
	})
}

// DeleteNetworkAclEntry is DeleteNetworkAclEntry. The * entries (32767)
// cannot be deleted.
func (s *Store) DeleteNetworkAclEntry(aclID string, ruleNumber int, egress bool) (int, error) {
	if aclID == "" {
		return 0, errf(CodeMissingParameter, "The request must contain the parameter NetworkAclId")
	}
	if ruleNumber < 1 || ruleNumber > topology.StarRule-1 {
		return 0, errf(CodeInvalidParameterValue, "Invalid value '%d' for ruleNumber: want 1 to 32766 (the * entries cannot be deleted)", ruleNumber)
	}
	return s.mutate(func(st *state, u ids) error {
		a := st.acl(aclID)
		if a == nil {
			return aclNotFound(aclID)
		}
		i := entryIndex(a, ruleNumber, egress)
		if i < 0 {
			return entryNotFound(aclID, ruleNumber, egress)
		}
		a.Entries = slices.Delete(a.Entries, i, i+1)
		return nil
	})
}

// ReplaceNetworkAclAssociation is ReplaceNetworkAclAssociation: the subnet
// of the association moves to the ACL (of the same VPC) under a new
// association id, which it returns.
func (s *Store) ReplaceNetworkAclAssociation(associationID, aclID string) (string, int, error) {
	switch {
	case associationID == "":
		return "", 0, errf(CodeMissingParameter, "The request must contain the parameter AssociationId")
	case aclID == "":
		return "", 0, errf(CodeMissingParameter, "The request must contain the parameter NetworkAclId")
	}
	var newID string
	v, err := s.mutate(func(st *state, u ids) error {
		var from *NetworkAcl
		j := -1
		for i := range st.net.NetworkAcls {
			a := &st.net.NetworkAcls[i]
			if k := slices.IndexFunc(a.Associations, func(x NetworkAclAssociation) bool { return x.NetworkAclAssociationId == associationID }); k >= 0 {
				from, j = a, k
			}
		}
		if from == nil {
			return errf(CodeAssociationNotFound, "The association ID '%s' does not exist", associationID)
		}
		subnet := from.Associations[j].SubnetId
		to := st.acl(aclID)
		if to == nil {
			return aclNotFound(aclID)
		}
		if to.VpcId != from.VpcId {
			return errf(CodeInvalidParameterValue, "Network ACL %s is in %s, the subnet %s in %s", aclID, to.VpcId, subnet, from.VpcId)
		}
		from.Associations = slices.Delete(from.Associations, j, j+1)
		newID = u.new("aclassoc")
		to = st.acl(aclID)
		to.Associations = append(to.Associations, NetworkAclAssociation{NetworkAclAssociationId: newID, NetworkAclId: aclID, SubnetId: subnet})
		return nil
	})
	if err != nil {
		return "", 0, err
	}
	return newID, v, nil
}
