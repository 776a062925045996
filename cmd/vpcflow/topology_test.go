package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTopologyValidateE2E(t *testing.T) {
	out, errOut, code := policyExec(t, "topology", "validate", "examples/topology.yaml")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"examples/topology.yaml: valid\n",
		"account 111122223333, region us-east-1\n",
		"1 VPC, 3 subnets, 5 network interfaces, 4 security groups (12 rules), 2 network ACLs (14 entries), 1 internet gateway, 1 NAT gateway, 2 route tables, 1 flow log\n",
		"vpc-0f1e2d3c4b5a69788 10.0.0.0/16 2600:1f18:abcd:ef00::/56 (DNS 10.0.0.2)\n",
		"  subnet-0a1b2c3d4e5f00003 10.0.2.0/24 use1-az2 nacl acl-0d1e2f3a4b5c60002\n",
		"    eni-0a00000000000000a interface 0a:00:00:00:00:0a 10.0.0.10,10.0.0.11,2600:1f18:abcd:ef00::10 i-0a00000000000000a [sg-0aaaaaaaaaaaaaaa1]\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	out, _, code = policyExec(t, "topology", "validate", "examples/ping.yaml")
	if code != 0 || !strings.Contains(out, "1 VPC, 1 subnet, 1 network interface, 1 security group (1 rule), 1 network ACL (5 entries)") {
		t.Errorf("ping.yaml: exit %d\n%s", code, out)
	}
}

func TestTopologyValidateE2EErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	err := os.WriteFile(bad, []byte(`Vpcs:
  - VpcId: vpc-1
    CidrBlock: 10.0.0.0/16
Subnets:
  - SubnetId: subnet-1
    VpcId: vpc-1
    CidrBlok: 10.0.1.0/24
`), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	out, errOut, code := policyExec(t, "topology", "validate", bad)
	want := "vpcflow: " + bad + `:7: Subnets[0].CidrBlok: unknown key; did you mean "CidrBlock"?` + "\n"
	if code != 1 || out != "" || errOut != want {
		t.Errorf("exit %d\nstdout %q\nstderr %q\nwant   %q", code, out, errOut, want)
	}
	_, _, code = policyExec(t, "topology", "validate")
	if code != 2 {
		t.Errorf("no argument: exit %d, want 2", code)
	}
}
