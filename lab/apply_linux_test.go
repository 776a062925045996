//go:build linux

package lab

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestApply: Apply replaces the rules of a built lab with those of a new
// version of its topology (a security group rule added shows in the ENI's
// table), and refuses a version with another interface or route, keeping
// its rules.
func TestApply(t *testing.T) {
	skip(t)
	l := startLab(t, "testdata/ping.yaml")
	src, err := os.ReadFile("testdata/ping.yaml")
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, text string) string {
		p := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ssh := strings.Replace(string(src), "    IpPermissionsEgress: []",
		"      - {IpProtocol: tcp, FromPort: 22, ToPort: 22, IpRanges: [{CidrIp: 0.0.0.0/0}]}\n    IpPermissionsEgress: []", 1)
	eniNS := l.Plan().ENIs[0].Namespace
	rules := func() string {
		out, code := sh(t, "ip", "netns", "exec", eniNS, "nft", "list", "table", "inet", "vpcflow")
		if code != 0 {
			t.Fatalf("nft list: %s", out)
		}
		return out
	}
	if strings.Contains(rules(), "dport 22") {
		t.Fatalf("ssh allowed before Apply:\n%s", rules())
	}
	if err := l.Apply(context.Background(), load(t, write("ssh.yaml", ssh))); err != nil {
		t.Fatal(err)
	}
	if got := rules(); !strings.Contains(got, "tcp dport 22") || strings.Count(got, "table inet vpcflow") != 1 {
		t.Fatalf("after Apply, the ENI's table lacks ssh (or is doubled):\n%s", got)
	}
	extra := strings.Replace(ssh, "SecurityGroups:", `  - NetworkInterfaceId: eni-0a1b2c3d4e5f60719
    SubnetId: subnet-0a1b2c3d4e5f60002
    MacAddress: 0a:1b:2c:3d:4e:60
    PrivateIpAddress: 10.1.2.16
    Groups: [{GroupId: sg-0a1b2c3d4e5f60003}]
SecurityGroups:`, 1)
	err = l.Apply(context.Background(), load(t, write("extra.yaml", extra)))
	if err == nil || !strings.Contains(err.Error(), "the network has 2 interfaces, the lab was built with 1") {
		t.Fatalf("Apply with another interface: %v", err)
	}
	route := strings.Replace(ssh, "      - {DestinationCidrBlock: 0.0.0.0/0, GatewayId: igw-0a1b2c3d4e5f60005}",
		"      - {DestinationCidrBlock: 0.0.0.0/0, GatewayId: igw-0a1b2c3d4e5f60005}\n      - {DestinationCidrBlock: 198.51.100.0/24, GatewayId: igw-0a1b2c3d4e5f60005}", 1)
	if route == ssh {
		t.Fatal("the test's route was not added")
	}
	err = l.Apply(context.Background(), load(t, write("route.yaml", route)))
	if err == nil || !strings.Contains(err.Error(), "the routes of subnet subnet-0a1b2c3d4e5f60002 changed") {
		t.Errorf("Apply with another route: %v", err)
	}
	if !strings.Contains(rules(), "tcp dport 22") {
		t.Fatalf("a refused Apply changed the rules:\n%s", rules())
	}
}
