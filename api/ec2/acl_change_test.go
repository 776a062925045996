package ec2_test

import (
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2sdk "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func describeACL(t *testing.T, g *rig, id string) types.NetworkAcl {
	t.Helper()
	out, err := g.c.DescribeNetworkAcls(ctx, &ec2sdk.DescribeNetworkAclsInput{NetworkAclIds: []string{id}})
	ok(t, err)
	return out.NetworkAcls[0]
}

func TestNetworkAclActions(t *testing.T) {
	g := newRig(t, topoFile, nil)
	out, err := g.c.CreateNetworkAcl(ctx, &ec2sdk.CreateNetworkAclInput{VpcId: aws.String(vpcID),
		TagSpecifications: tagSpec(types.ResourceTypeNetworkAcl, "Name", "strict"), ClientToken: aws.String("tok-1")})
	ok(t, err)
	id := aws.ToString(out.NetworkAcl.NetworkAclId)
	star := func(egress bool, cidr string) types.NetworkAclEntry {
		e := types.NetworkAclEntry{Egress: aws.Bool(egress), Protocol: aws.String("-1"), RuleAction: types.RuleActionDeny, RuleNumber: aws.Int32(32767)}
		if cidr == "::/0" {
			e.Ipv6CidrBlock = aws.String(cidr)
		} else {
			e.CidrBlock = aws.String(cidr)
		}
		return e
	}
	// A custom ACL denies everything until entries are added (VPC user
	// guide); the example VPC has IPv6, so the * entries cover both.
	want := types.NetworkAcl{Associations: []types.NetworkAclAssociation{},
		Entries:   []types.NetworkAclEntry{star(true, "0.0.0.0/0"), star(true, "::/0"), star(false, "0.0.0.0/0"), star(false, "::/0")},
		IsDefault: aws.Bool(false), NetworkAclId: aws.String(id), Tags: tags("Name", "strict"), VpcId: aws.String(vpcID), OwnerId: aws.String(account)}
	if !idOf("acl").MatchString(id) || !reflect.DeepEqual(*out.NetworkAcl, want) || aws.ToString(out.ClientToken) != "tok-1" {
		t.Errorf("created\n%+v\nwant\n%+v (token %q)", *out.NetworkAcl, want, aws.ToString(out.ClientToken))
	}

	_, err = g.c.CreateNetworkAclEntry(ctx, &ec2sdk.CreateNetworkAclEntryInput{NetworkAclId: aws.String(id), RuleNumber: aws.Int32(100),
		Protocol: aws.String("tcp"), RuleAction: types.RuleActionAllow, Egress: aws.Bool(false), CidrBlock: aws.String("10.0.0.0/16"),
		PortRange: &types.PortRange{From: aws.Int32(22), To: aws.Int32(22)}})
	ok(t, err)
	_, err = g.c.CreateNetworkAclEntry(ctx, &ec2sdk.CreateNetworkAclEntryInput{NetworkAclId: aws.String(id), RuleNumber: aws.Int32(110),
		Protocol: aws.String("1"), RuleAction: types.RuleActionAllow, Egress: aws.Bool(true), Ipv6CidrBlock: aws.String("2001:db8::/32"),
		IcmpTypeCode: &types.IcmpTypeCode{Type: aws.Int32(8), Code: aws.Int32(-1)}})
	ok(t, err)
	ssh := types.NetworkAclEntry{CidrBlock: aws.String("10.0.0.0/16"), Egress: aws.Bool(false), Protocol: aws.String("6"),
		PortRange: &types.PortRange{From: aws.Int32(22), To: aws.Int32(22)}, RuleAction: types.RuleActionAllow, RuleNumber: aws.Int32(100)}
	ping := types.NetworkAclEntry{Ipv6CidrBlock: aws.String("2001:db8::/32"), Egress: aws.Bool(true), Protocol: aws.String("1"),
		IcmpTypeCode: &types.IcmpTypeCode{Type: aws.Int32(8), Code: aws.Int32(-1)}, RuleAction: types.RuleActionAllow, RuleNumber: aws.Int32(110)}
	want.Entries = []types.NetworkAclEntry{ping, star(true, "0.0.0.0/0"), star(true, "::/0"), ssh, star(false, "0.0.0.0/0"), star(false, "::/0")}
	if got := describeACL(t, g, id); !reflect.DeepEqual(got.Entries, want.Entries) {
		t.Errorf("entries\n%+v\nwant\n%+v", got.Entries, want.Entries)
	}
	// Replace: the same number and direction, new content.
	_, err = g.c.ReplaceNetworkAclEntry(ctx, &ec2sdk.ReplaceNetworkAclEntryInput{NetworkAclId: aws.String(id), RuleNumber: aws.Int32(100),
		Protocol: aws.String("-1"), RuleAction: types.RuleActionDeny, Egress: aws.Bool(false), CidrBlock: aws.String("203.0.113.0/24")})
	ok(t, err)
	deny := types.NetworkAclEntry{CidrBlock: aws.String("203.0.113.0/24"), Egress: aws.Bool(false), Protocol: aws.String("-1"),
		RuleAction: types.RuleActionDeny, RuleNumber: aws.Int32(100)}
	if got := describeACL(t, g, id); !reflect.DeepEqual(got.Entries[3], deny) {
		t.Errorf("replaced %+v", got.Entries[3])
	}
	if f, err := g.c.DescribeNetworkAcls(ctx, &ec2sdk.DescribeNetworkAclsInput{Filters: filter("entry.icmp.type", "8")}); err != nil ||
		len(f.NetworkAcls) != 1 || aws.ToString(f.NetworkAcls[0].NetworkAclId) != id {
		t.Errorf("entry.icmp.type: %v %+v", err, f)
	}
	_, err = g.c.DeleteNetworkAclEntry(ctx, &ec2sdk.DeleteNetworkAclEntryInput{NetworkAclId: aws.String(id), RuleNumber: aws.Int32(110), Egress: aws.Bool(true)})
	ok(t, err)
	if got := describeACL(t, g, id); len(got.Entries) != 5 {
		t.Errorf("after delete %+v", got.Entries)
	}

	entry := func(n int32, proto string, egress bool) *ec2sdk.CreateNetworkAclEntryInput {
		return &ec2sdk.CreateNetworkAclEntryInput{NetworkAclId: aws.String(id), RuleNumber: aws.Int32(n), Protocol: aws.String(proto),
			RuleAction: types.RuleActionAllow, Egress: aws.Bool(egress), CidrBlock: aws.String("0.0.0.0/0")}
	}
	withPorts := func(in *ec2sdk.CreateNetworkAclEntryInput) *ec2sdk.CreateNetworkAclEntryInput {
		in.PortRange = &types.PortRange{From: aws.Int32(80), To: aws.Int32(80)}
		return in
	}
	bothCIDRs := entry(120, "-1", false)
	bothCIDRs.Ipv6CidrBlock = aws.String("::/0")
	noCIDR := entry(120, "-1", false)
	noCIDR.CidrBlock = nil
	unknownACL := entry(120, "-1", false)
	unknownACL.NetworkAclId = aws.String("acl-0000000000000dead")
	for _, tc := range []struct {
		in        *ec2sdk.CreateNetworkAclEntryInput
		code, msg string
	}{
		{entry(100, "-1", false), "NetworkAclEntryAlreadyExists", "The network acl entry identified by 100 already exists."},
		{entry(32767, "-1", false), "InvalidParameterValue", "32767"},
		{entry(0, "-1", false), "InvalidParameterValue", "ruleNumber"},
		{entry(120, "6", false), "MissingParameter", "portRange"},
		{entry(120, "1", false), "MissingParameter", "icmpTypeCode"},
		{entry(120, "foo", false), "InvalidParameterValue", "foo"},
		{withPorts(entry(120, "6", false)), "", ""},
		{bothCIDRs, "InvalidParameterCombination", "Specify either CidrBlock or Ipv6CidrBlock, not both"},
		{noCIDR, "MissingParameter", "cidrBlock"},
		{unknownACL, "InvalidNetworkAclID.NotFound", "acl-0000000000000dead"},
	} {
		_, err := g.c.CreateNetworkAclEntry(ctx, tc.in)
		if tc.code == "" {
			ok(t, err)
			continue
		}
		wantAPIError(t, err, 400, tc.code, tc.msg)
	}
	// At most 20 entries a direction (VPC quotas): 2 ingress entries now.
	for n := int32(200); n < 218; n++ {
		_, err := g.c.CreateNetworkAclEntry(ctx, entry(n, "-1", false))
		ok(t, err)
	}
	_, err = g.c.CreateNetworkAclEntry(ctx, entry(300, "-1", false))
	wantAPIError(t, err, 400, "NetworkAclEntryLimitExceeded", "(20)")
	_, err = g.c.ReplaceNetworkAclEntry(ctx, &ec2sdk.ReplaceNetworkAclEntryInput{NetworkAclId: aws.String(id), RuleNumber: aws.Int32(999),
		Protocol: aws.String("-1"), RuleAction: types.RuleActionDeny, Egress: aws.Bool(true), CidrBlock: aws.String("0.0.0.0/0")})
	wantAPIError(t, err, 400, "InvalidNetworkAclEntry.NotFound", "999")
	_, err = g.c.DeleteNetworkAclEntry(ctx, &ec2sdk.DeleteNetworkAclEntryInput{NetworkAclId: aws.String(id), RuleNumber: aws.Int32(100), Egress: aws.Bool(true)})
	wantAPIError(t, err, 400, "InvalidNetworkAclEntry.NotFound", "100")
	_, err = g.c.DeleteNetworkAclEntry(ctx, &ec2sdk.DeleteNetworkAclEntryInput{NetworkAclId: aws.String(id), RuleNumber: aws.Int32(32767), Egress: aws.Bool(true)})
	wantAPIError(t, err, 400, "InvalidParameterValue", "32767")
	_, err = g.c.CreateNetworkAcl(ctx, &ec2sdk.CreateNetworkAclInput{VpcId: aws.String("vpc-0000000000000dead")})
	wantAPIError(t, err, 400, "InvalidVpcID.NotFound", "The vpc ID 'vpc-0000000000000dead' does not exist")
	// Required by EC2's model: the SDK does not send a request without
	// them, a raw one is refused.
	for _, tc := range []struct{ form, param string }{
		{form("Action", "CreateNetworkAclEntry", "Version", "2016-11-15", "NetworkAclId", id, "RuleNumber", "5", "Protocol", "-1", "RuleAction", "allow", "CidrBlock", "0.0.0.0/0"), "Egress"},
		{form("Action", "CreateNetworkAclEntry", "Version", "2016-11-15", "NetworkAclId", id, "Egress", "true", "Protocol", "-1", "RuleAction", "allow", "CidrBlock", "0.0.0.0/0"), "RuleNumber"},
		{form("Action", "DeleteNetworkAclEntry", "Version", "2016-11-15", "NetworkAclId", id, "RuleNumber", "5"), "Egress"},
		{form("Action", "ReplaceNetworkAclAssociation", "Version", "2016-11-15", "NetworkAclId", id), "AssociationId"},
		{form("Action", "CreateNetworkAcl", "Version", "2016-11-15"), "VpcId"},
	} {
		st, body := g.raw(t, tc.form)
		wantErrorDoc(t, st, body, 400, "MissingParameter", "The request must contain the parameter "+tc.param)
	}
	// The API reference's name of the ICMP structure is not its query name.
	st, body := g.raw(t, form("Action", "CreateNetworkAclEntry", "Version", "2016-11-15", "NetworkAclId", id, "RuleNumber", "5",
		"Protocol", "1", "RuleAction", "allow", "Egress", "true", "CidrBlock", "0.0.0.0/0", "IcmpTypeCode.Type", "8", "IcmpTypeCode.Code", "0"))
	wantErrorDoc(t, st, body, 400, "UnknownParameter", "The parameter IcmpTypeCode is not recognized; its query name is Icmp.")

	// ReplaceNetworkAclAssociation: the db subnet moves to the new ACL
	// under a new association id; the old id is gone.
	db := describeACL(t, g, dbACL)
	old := aws.ToString(db.Associations[0].NetworkAclAssociationId)
	rep, err := g.c.ReplaceNetworkAclAssociation(ctx, &ec2sdk.ReplaceNetworkAclAssociationInput{AssociationId: aws.String(old), NetworkAclId: aws.String(id)})
	ok(t, err)
	newID := aws.ToString(rep.NewAssociationId)
	if !idOf("aclassoc").MatchString(newID) || newID == old {
		t.Errorf("new association id %q (old %q)", newID, old)
	}
	got := describeACL(t, g, id)
	if !reflect.DeepEqual(got.Associations, []types.NetworkAclAssociation{{NetworkAclAssociationId: aws.String(newID), NetworkAclId: aws.String(id), SubnetId: aws.String(dbSubnet)}}) {
		t.Errorf("associations %+v", got.Associations)
	}
	if db := describeACL(t, g, dbACL); len(db.Associations) != 0 {
		t.Errorf("old acl keeps %+v", db.Associations)
	}
	if f, err := g.c.DescribeNetworkAcls(ctx, &ec2sdk.DescribeNetworkAclsInput{Filters: filter("association.association-id", newID)}); err != nil ||
		len(f.NetworkAcls) != 1 || aws.ToString(f.NetworkAcls[0].NetworkAclId) != id {
		t.Errorf("association.association-id: %v %+v", err, f)
	}
	_, err = g.c.ReplaceNetworkAclAssociation(ctx, &ec2sdk.ReplaceNetworkAclAssociationInput{AssociationId: aws.String(old), NetworkAclId: aws.String(id)})
	wantAPIError(t, err, 400, "InvalidAssociationID.NotFound", "The association ID '"+old+"' does not exist")
	_, err = g.c.ReplaceNetworkAclAssociation(ctx, &ec2sdk.ReplaceNetworkAclAssociationInput{AssociationId: aws.String(newID), NetworkAclId: aws.String("acl-0000000000000dead")})
	wantAPIError(t, err, 400, "InvalidNetworkAclID.NotFound", "acl-0000000000000dead")
	// Another VPC's ACL.
	vpc, err := g.c.CreateVpc(ctx, &ec2sdk.CreateVpcInput{CidrBlock: aws.String("10.9.0.0/16")})
	ok(t, err)
	other, err := g.c.CreateNetworkAcl(ctx, &ec2sdk.CreateNetworkAclInput{VpcId: vpc.Vpc.VpcId})
	ok(t, err)
	_, err = g.c.ReplaceNetworkAclAssociation(ctx, &ec2sdk.ReplaceNetworkAclAssociationInput{AssociationId: aws.String(newID), NetworkAclId: other.NetworkAcl.NetworkAclId})
	wantAPIError(t, err, 400, "InvalidParameterValue", dbSubnet)
}
