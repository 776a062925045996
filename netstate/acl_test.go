package netstate

import (
	"testing"

	"github.com/vpcflow/vpcflow/policy"
)

// Expected verdicts by hand: a network ACL is checked only across the
// subnet boundary, lowest rule number first, the first match deciding; a
// custom ACL starts with only the * entries, which deny everything (VPC
// User Guide, "Custom network ACLs").

func aclEntry(rule int, proto, action string, egress bool, cidr string, from, to int) NetworkAclEntry {
	e := NetworkAclEntry{RuleNumber: rule, Protocol: proto, RuleAction: action, Egress: egress, CidrBlock: cidr}
	if from >= 0 {
		e.PortRange = &PortRange{From: ptr(from), To: ptr(to)}
	}
	return e
}

func (l *lab) association(t *testing.T) (aclID, assocID string) {
	t.Helper()
	for _, a := range l.s.Network().NetworkAcls {
		for _, as := range a.Associations {
			if as.SubnetId == l.subnet.SubnetId {
				return a.NetworkAclId, as.NetworkAclAssociationId
			}
		}
	}
	t.Fatal("subnet has no association")
	return "", ""
}

func TestNetworkACLDecides(t *testing.T) {
	l := newLab(t)
	s, sg, eni := l.s, l.web.GroupId, l.eni.NetworkInterfaceId
	must[[]SecurityGroupRule](t)(s.AuthorizeSecurityGroupIngress(sg, []IpPermission{tcp(22, 22, "0.0.0.0/0")}, nil))
	ssh := "tcp 203.0.113.5:40000 10.1.1.4:22 S"
	if got := decide(t, s, eni, policy.Ingress, ssh); got != "ACCEPT "+sg+"/ingress/1" {
		t.Fatalf("default ACL: %s", got)
	}
	defACL, assoc := l.association(t)

	acl := must[NetworkAcl](t)(s.CreateNetworkAcl(l.vpc.VpcId, []Tag{{Key: "Name", Value: "locked"}}))
	if !isID(acl.NetworkAclId, "acl") || acl.IsDefault || len(acl.Associations) != 0 || len(acl.Entries) != 2 {
		t.Fatalf("new ACL %+v", acl)
	}
	for _, e := range acl.Entries {
		if e.RuleNumber != 32767 || e.RuleAction != "deny" || e.Protocol != "-1" || e.CidrBlock != "0.0.0.0/0" {
			t.Errorf("entry %+v", e)
		}
	}
	newAssoc, _, err := s.ReplaceNetworkAclAssociation(assoc, acl.NetworkAclId)
	if err != nil {
		t.Fatal(err)
	}
	if newAssoc == assoc || !isID(newAssoc, "aclassoc") {
		t.Errorf("new association id %s (old %s)", newAssoc, assoc)
	}
	if a, as := l.association(t); a != acl.NetworkAclId || as != newAssoc {
		t.Errorf("subnet now in %s/%s", a, as)
	}
	if top, _ := s.Topology(); top.Subnet(l.subnet.SubnetId).ACL.ID != acl.NetworkAclId {
		t.Error("topology: subnet not in the new ACL")
	}
	if got := decide(t, s, eni, policy.Ingress, ssh); got != "REJECT "+acl.NetworkAclId+"/ingress/*" {
		t.Errorf("empty custom ACL, in: %s", got)
	}
	if got := decide(t, s, eni, policy.Egress, "tcp 10.1.1.4:40000 93.184.216.34:443 S"); got != "REJECT "+acl.NetworkAclId+"/egress/*" {
		t.Errorf("empty custom ACL, out: %s", got)
	}
	_, _, err = s.ReplaceNetworkAclAssociation(assoc, defACL)
	wantCode(t, err, CodeAssociationNotFound) // the old id is gone

	id := acl.NetworkAclId
	ok(t)(s.CreateNetworkAclEntry(id, aclEntry(100, "tcp", "ALLOW", false, "0.0.0.0/0", 22, 22)))
	if got := decide(t, s, eni, policy.Ingress, ssh); got != "ACCEPT "+sg+"/ingress/1" {
		t.Errorf("rule 100 allows ssh: %s", got)
	}
	for _, a := range s.Network().NetworkAcls {
		if a.NetworkAclId == id {
			e := a.Entries[0]
			if e.RuleNumber != 100 || e.Protocol != "6" || e.RuleAction != "allow" || *e.PortRange.From != 22 || *e.PortRange.To != 22 {
				t.Errorf("stored entry %+v", e)
			}
		}
	}
	_, err = s.CreateNetworkAclEntry(id, aclEntry(100, "-1", "allow", false, "0.0.0.0/0", -1, 0))
	wantCode(t, err, CodeNetworkAclEntryExists)
	ok(t)(s.CreateNetworkAclEntry(id, aclEntry(100, "-1", "allow", true, "0.0.0.0/0", -1, 0))) // the other direction is another rule 100

	ok(t)(s.ReplaceNetworkAclEntry(id, aclEntry(100, "6", "deny", false, "0.0.0.0/0", 22, 22)))
	if got := decide(t, s, eni, policy.Ingress, ssh); got != "REJECT "+id+"/ingress/100" {
		t.Errorf("rule 100 replaced by a deny: %s", got)
	}
	ok(t)(s.CreateNetworkAclEntry(id, aclEntry(90, "6", "allow", false, "203.0.113.0/24", 22, 22)))
	if got := decide(t, s, eni, policy.Ingress, ssh); got != "ACCEPT "+sg+"/ingress/1" {
		t.Errorf("rule 90 comes first: %s", got)
	}
	if got := decide(t, s, eni, policy.Ingress, "tcp 198.51.100.1:40000 10.1.1.4:22 S"); got != "REJECT "+id+"/ingress/100" {
		t.Errorf("outside rule 90: %s", got)
	}
	ok(t)(s.DeleteNetworkAclEntry(id, 90, false))
	if got := decide(t, s, eni, policy.Ingress, ssh); got != "REJECT "+id+"/ingress/100" {
		t.Errorf("rule 90 deleted: %s", got)
	}
	_, err = s.DeleteNetworkAclEntry(id, 90, false)
	wantCode(t, err, CodeNetworkAclEntryNotFound)
	_, err = s.ReplaceNetworkAclEntry(id, aclEntry(95, "-1", "allow", false, "0.0.0.0/0", -1, 0))
	wantCode(t, err, CodeNetworkAclEntryNotFound)
	_, err = s.DeleteNetworkAclEntry(id, 32767, false)
	wantCode(t, err, CodeInvalidParameterValue)

	// ICMP: type and code, -1 for any code.
	ok(t)(s.CreateNetworkAclEntry(id, NetworkAclEntry{RuleNumber: 50, Protocol: "icmp", RuleAction: "allow", CidrBlock: "0.0.0.0/0",
		IcmpTypeCode: &IcmpTypeCode{Type: ptr(8), Code: ptr(-1)}}))
	must[[]SecurityGroupRule](t)(s.AuthorizeSecurityGroupIngress(sg, []IpPermission{{IpProtocol: "icmp", FromPort: ptr(-1), ToPort: ptr(-1),
		IpRanges: []IpRange{{CidrIp: "0.0.0.0/0"}}}}, nil))
	if got := decide(t, s, eni, policy.Ingress, "icmp 198.51.100.1 10.1.1.4 8/0"); got != "ACCEPT "+sg+"/ingress/2" {
		t.Errorf("ping: %s", got)
	}
	if got := decide(t, s, eni, policy.Ingress, "icmp 198.51.100.1 10.1.1.4 0/0"); got != "REJECT "+id+"/ingress/*" {
		t.Errorf("echo reply, no rule: %s", got)
	}
}

func TestNetworkACLValidation(t *testing.T) {
	l := newLab(t)
	s := l.s
	acl := must[NetworkAcl](t)(s.CreateNetworkAcl(l.vpc.VpcId, nil))
	id := acl.NetworkAclId
	for i, c := range []struct {
		e    NetworkAclEntry
		code string
	}{
		{aclEntry(0, "-1", "allow", false, "0.0.0.0/0", -1, 0), CodeInvalidParameterValue},
		{aclEntry(32767, "-1", "allow", false, "0.0.0.0/0", -1, 0), CodeInvalidParameterValue},
		{aclEntry(10, "6", "allow", false, "0.0.0.0/0", -1, 0), CodeMissingParameter}, // TCP needs a port range
		{aclEntry(10, "6", "allow", false, "0.0.0.0/0", 90, 80), CodeInvalidParameterValue},
		{aclEntry(10, "bogus", "allow", false, "0.0.0.0/0", -1, 0), CodeInvalidParameterValue},
		{aclEntry(10, "", "allow", false, "0.0.0.0/0", -1, 0), CodeMissingParameter},
		{aclEntry(10, "-1", "permit", false, "0.0.0.0/0", -1, 0), CodeInvalidParameterValue},
		{aclEntry(10, "-1", "allow", false, "", -1, 0), CodeMissingParameter},
		{aclEntry(10, "-1", "allow", false, "10.0.0.0/40", -1, 0), CodeInvalidParameterValue},
		{NetworkAclEntry{RuleNumber: 10, Protocol: "-1", RuleAction: "allow", CidrBlock: "0.0.0.0/0", Ipv6CidrBlock: "::/0"}, CodeInvalidParameterCombination},
		{NetworkAclEntry{RuleNumber: 10, Protocol: "1", RuleAction: "allow", CidrBlock: "0.0.0.0/0"}, CodeMissingParameter}, // ICMP needs a type/code
	} {
		if _, err := s.CreateNetworkAclEntry(id, c.e); err == nil {
			t.Errorf("case %d: no error", i)
		} else {
			wantCode(t, err, c.code)
		}
	}
	_, err := s.CreateNetworkAclEntry("acl-00000000000000000", aclEntry(10, "-1", "allow", false, "0.0.0.0/0", -1, 0))
	wantCode(t, err, CodeNetworkAclNotFound)
	_, _, err = s.CreateNetworkAcl("vpc-00000000000000000", nil)
	wantCode(t, err, CodeVpcNotFound)
	// 20 rules a direction, the * entries not counted.
	for i := 1; i <= maxACLEntries; i++ {
		ok(t)(s.CreateNetworkAclEntry(id, aclEntry(i, "-1", "allow", false, "0.0.0.0/0", -1, 0)))
	}
	_, err = s.CreateNetworkAclEntry(id, aclEntry(500, "-1", "allow", false, "0.0.0.0/0", -1, 0))
	wantCode(t, err, CodeNetworkAclEntryLimit)
	ok(t)(s.CreateNetworkAclEntry(id, aclEntry(500, "-1", "allow", true, "0.0.0.0/0", -1, 0)))
	// A subnet cannot move to an ACL of another VPC.
	other := must[Vpc](t)(s.CreateVpc("10.2.0.0/16", nil))
	otherACL := must[NetworkAcl](t)(s.CreateNetworkAcl(other.VpcId, nil))
	_, assoc := l.association(t)
	_, _, err = s.ReplaceNetworkAclAssociation(assoc, otherACL.NetworkAclId)
	wantCode(t, err, CodeInvalidParameterValue)
	_, _, err = s.ReplaceNetworkAclAssociation(assoc, "acl-00000000000000000")
	wantCode(t, err, CodeNetworkAclNotFound)
}
