package ec2

import (
	"errors"
	"net/http"
	"testing"

	"github.com/vpcflow/vpcflow/api/query"
)

// FuzzDecodeChanges: the parameter decoding of the actions that change the
// network never panics, refuses with a client error (a *query.Error with
// status 400) and, when it accepts, gives what the store's calls need: a
// protocol for every permission, a CIDR for every range, a group id or
// name for every group pair, the rule number and direction of an entry.
func FuzzDecodeChanges(f *testing.F) {
	for _, s := range []string{
		// As the AWS CLI sends them (see the package's tests).
		"GroupId=sg-1&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=22&IpPermissions.1.ToPort=22&IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0%2F0",
		"GroupId=sg-1&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=1000&IpPermissions.1.ToPort=2000&IpPermissions.1.Groups.1.GroupId=sg-2&IpPermissions.1.Groups.1.UserId=111122223333",
		"GroupId=sg-1&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=22&IpPermissions.1.ToPort=22&IpPermissions.1.IpRanges.1.CidrIp=1.2.3.4%2F32&IpPermissions.1.IpRanges.1.Description=x&IpPermissions.2.IpProtocol=tcp&IpPermissions.2.FromPort=80&IpPermissions.2.ToPort=80&IpPermissions.2.Ipv6Ranges.1.CidrIpv6=%3A%3A%2F0&IpPermissions.2.Groups.1.GroupId=sg-3&IpPermissions.2.PrefixListIds.1.PrefixListId=pl-1",
		"GroupName=web&IpProtocol=tcp&FromPort=22&ToPort=22&CidrIp=0.0.0.0%2F0",
		"GroupName=web&SourceSecurityGroupName=lb&SourceSecurityGroupOwnerId=111122223333",
		"GroupId=sg-1&SecurityGroupRuleId.1=sgr-1&SecurityGroupRuleId.2=sgr-2",
		"TagSpecification.1.ResourceType=security-group-rule&TagSpecification.1.Tag.1.Key=a&TagSpecification.1.Tag.1.Value=b",
		"CidrBlock=0.0.0.0%2F0&Egress=false&NetworkAclId=acl-1&PortRange.From=22&PortRange.To=22&Protocol=6&RuleAction=allow&RuleNumber=100",
		"Egress=true&Icmp.Type=-1&Icmp.Code=-1&Ipv6CidrBlock=%3A%3A%2F0&NetworkAclId=acl-1&Protocol=1&RuleAction=deny&RuleNumber=101",
		"ResourceId.1=vpc-1&Tag.1.Key=a&Tag.2.Key=c&Tag.2.Value=",
		"IpPermissions.1.UserIdGroupPairs.1.GroupId=sg-1&IcmpTypeCode.Type=1",
		"IpPermissions.1.IpProtocol=-1&IpPermissions.1.Groups.1.Description=x&CidrIp=1.2.3.4",
		"IpPermissions.00.IpProtocol=tcp&PortRange.From=99999999999&Egress=maybe",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, form string) {
		req, err := query.ParseForm(form)
		if err != nil {
			return // the front refuses it before any action
		}
		p := req.Params()
		check := func(err error) bool {
			t.Helper()
			if err == nil {
				return true
			}
			var qe *query.Error
			if !errors.As(err, &qe) || qe.Status != http.StatusBadRequest || qe.Code == "" {
				t.Fatalf("error %T %v, want a client error", err, err)
			}
			return false
		}
		for _, egress := range []bool{false, true} {
			perms, err := decodePermissions(p, "Action", egress)
			if !check(err) {
				continue
			}
			for _, perm := range perms {
				if perm.IpProtocol == "" {
					t.Fatalf("permission without protocol: %+v", perm)
				}
				for _, r := range perm.IpRanges {
					if r.CidrIp == "" {
						t.Fatalf("range without CIDR: %+v", perm)
					}
				}
				for _, r := range perm.Ipv6Ranges {
					if r.CidrIpv6 == "" {
						t.Fatalf("range without CIDR: %+v", perm)
					}
				}
				for _, r := range perm.PrefixListIds {
					if r.PrefixListId == "" {
						t.Fatalf("prefix list without id: %+v", perm)
					}
				}
				for _, g := range perm.UserIdGroupPairs {
					if g.GroupId == "" && g.GroupName == "" {
						t.Fatalf("group pair without group: %+v", perm)
					}
				}
			}
			if _, _, err := groupRef(p, egress); check(err) && egress && p.String("GroupId") == "" {
				t.Fatalf("egress accepted without GroupId")
			}
		}
		if id, e, err := decodeEntry(p); check(err) {
			if id == "" || e.Protocol == "" || e.RuleAction == "" || !p.Has("RuleNumber") || !p.Has("Egress") {
				t.Fatalf("entry accepted without a required parameter: %q %+v", id, e)
			}
		}
		if tags, err := deleteTagList(p); check(err) && len(tags) != len(p.Structs("Tag")) {
			t.Fatalf("%d tags of %d", len(tags), len(p.Structs("Tag")))
		}
		for _, rt := range []string{"vpc", "security-group-rule"} {
			check(func() error { _, err := tagSpecTags(p, rt); return err }())
		}
		check(unsupported(p, "Action", "Ipv6CidrBlock", "SecondaryPrivateIpAddressCount"))
	})
}
