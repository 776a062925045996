package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// policyExec runs the binary from the repository root so example paths
// read as in the docs.
func policyExec(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return execBinary(t, execOptions{Dir: "../.."}, args...)
}

// Expected outputs follow from examples/ping.yaml and examples/topology.yaml
// by the rules of docs/aws-behaviour.md, "Security groups and network
// ACLs", worked out by hand.
func TestPolicyCheckE2E(t *testing.T) {
	cases := []struct {
		name      string
		args      []string
		wantFirst string // first line of stdout
		code      int
	}{
		{"ping request", []string{"--topology", "examples/ping.yaml", "--eni", "eni-0a1b2c3d4e5f60718", "--direction", "ingress",
			"--protocol", "icmp", "--src", "198.51.100.7", "--dst", "10.1.2.15"}, "ACCEPT sg-0a1b2c3d4e5f60003/ingress/1", 0},
		{"ping reply", []string{"--topology", "examples/ping.yaml", "--direction", "egress", "--reply",
			"--protocol", "icmp", "--src", "10.1.2.15", "--dst", "198.51.100.7"}, "REJECT acl-0a1b2c3d4e5f60004/egress/*", 0},
		{"ping reply without --reply is a new packet", []string{"--topology", "examples/ping.yaml", "--direction", "egress",
			"--protocol", "icmp", "--icmp-type", "0", "--src", "10.1.2.15", "--dst", "198.51.100.7"}, "REJECT sg-0a1b2c3d4e5f60003/egress/none", 0},
		{"https to web", []string{"--topology", "examples/topology.yaml", "--direction", "ingress", "--protocol", "tcp",
			"--src", "198.51.100.23:51544", "--dst", "10.0.0.10:443"}, "ACCEPT sg-0aaaaaaaaaaaaaaa1/ingress/1", 0},
		{"https to web over IPv6", []string{"--topology", "examples/topology.yaml", "--direction", "ingress", "--protocol", "6",
			"--src", "[2001:db8::7]:51544", "--dst", "[2600:1f18:abcd:ef00::10]:443"}, "ACCEPT sg-0aaaaaaaaaaaaaaa1/ingress/1", 0},
		{"ssh to web from bastion (same subnet, SG reference)", []string{"--topology", "examples/topology.yaml", "--direction", "ingress",
			"--protocol", "tcp", "--src", "10.0.0.5:40000", "--dst", "10.0.0.10:22"}, "ACCEPT sg-0aaaaaaaaaaaaaaa1/ingress/3", 0},
		{"ssh to web from the internet", []string{"--topology", "examples/topology.yaml", "--direction", "ingress",
			"--protocol", "tcp", "--src", "203.0.113.9:40000", "--dst", "10.0.0.10:22"}, "REJECT sg-0aaaaaaaaaaaaaaa1/ingress/none", 0},
		{"db reply to app passes the db NACL ephemeral rule", []string{"--topology", "examples/topology.yaml", "--eni", "eni-0e00000000000000e",
			"--direction", "egress", "--reply", "--protocol", "tcp", "--src", "10.0.2.30:5432", "--dst", "10.0.1.20:40000"}, "ACCEPT sg-0aaaaaaaaaaaaaaa3/tracked", 0},
		{"web to db blocked by the db NACL", []string{"--topology", "examples/topology.yaml", "--direction", "ingress",
			"--protocol", "tcp", "--src", "10.0.0.10:40000", "--dst", "10.0.2.30:5432"}, "REJECT acl-0d1e2f3a4b5c60002/ingress/*", 0},
		{"missing flag", []string{"--topology", "examples/ping.yaml", "--direction", "ingress", "--protocol", "icmp", "--src", "198.51.100.7"}, "", 2},
		{"missing ports", []string{"--topology", "examples/topology.yaml", "--direction", "ingress", "--protocol", "tcp",
			"--src", "198.51.100.23", "--dst", "10.0.0.10:443"}, "", 2},
		{"address not on the ENI", []string{"--topology", "examples/ping.yaml", "--eni", "eni-0a1b2c3d4e5f60718", "--direction", "ingress",
			"--protocol", "icmp", "--src", "198.51.100.7", "--dst", "10.1.2.99"}, "", 2},
		{"bad direction", []string{"--topology", "examples/ping.yaml", "--direction", "up", "--protocol", "icmp", "--src", "198.51.100.7", "--dst", "10.1.2.15"}, "", 2},
		{"missing topology file", []string{"--topology", "nope.yaml", "--direction", "ingress", "--protocol", "icmp", "--src", "198.51.100.7", "--dst", "10.1.2.15"}, "", 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, errOut, code := policyExec(t, append([]string{"policy", "check"}, c.args...)...)
			if code != c.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, c.code, out, errOut)
			}
			first, _, _ := strings.Cut(out, "\n")
			if first != c.wantFirst {
				t.Errorf("first line %q, want %q\n%s", first, c.wantFirst, out)
			}
			if c.code != 0 && !strings.HasPrefix(errOut, "vpcflow: ") {
				t.Errorf("stderr %q", errOut)
			}
		})
	}
}

func TestPolicyCheckE2EPath(t *testing.T) {
	out, _, code := policyExec(t, "policy", "check", "--topology", "examples/ping.yaml", "--direction", "egress", "--reply",
		"--protocol", "icmp", "--src", "10.1.2.15", "--dst", "198.51.100.7")
	want := `REJECT acl-0a1b2c3d4e5f60004/egress/*
  eni-0a1b2c3d4e5f60718 egress icmp type 0 code 0 10.1.2.15 -> 198.51.100.7
  1. sg   egress  ACCEPT  sg-0a1b2c3d4e5f60003/tracked (reply of a connection allowed by sg-0a1b2c3d4e5f60003/ingress/1)
  2. nacl egress  REJECT  acl-0a1b2c3d4e5f60004/egress/*
`
	if code != 0 || out != want {
		t.Errorf("exit %d\n got:\n%s\nwant:\n%s", code, out, want)
	}
	out, _, code = policyExec(t, "policy", "check", "--topology", "examples/topology.yaml", "--direction", "ingress",
		"--protocol", "tcp", "--src", "10.0.1.20:40000", "--dst", "10.0.2.30:5432", "--output", "json")
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil || code != 0 {
		t.Fatalf("exit %d, %v: %s", code, err, out)
	}
	wantJSON := `{"action":"ACCEPT","rule":"sg-0aaaaaaaaaaaaaaa3/ingress/1","eni":"eni-0e00000000000000e","direction":"ingress","protocol":6,"src":"10.0.1.20:40000","dst":"10.0.2.30:5432","path":[{"hop":"nacl","id":"acl-0d1e2f3a4b5c60002","action":"ACCEPT","rule":"acl-0d1e2f3a4b5c60002/ingress/100"},{"hop":"sg","id":"sg-0aaaaaaaaaaaaaaa3","action":"ACCEPT","rule":"sg-0aaaaaaaaaaaaaaa3/ingress/1"}]}` + "\n"
	if out != wantJSON {
		t.Errorf("json\n got %s\nwant %s", out, wantJSON)
	}
	// same subnet: the NACL hop is skipped
	out, _, _ = policyExec(t, "policy", "check", "--topology", "examples/topology.yaml", "--direction", "ingress",
		"--protocol", "tcp", "--src", "10.0.0.5:40000", "--dst", "10.0.0.10:22")
	if !strings.Contains(out, "1. nacl ingress SKIPPED -") || !strings.Contains(out, "same subnet") {
		t.Errorf("skipped NACL hop missing:\n%s", out)
	}
}
