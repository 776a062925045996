package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vpcflow/vpcflow/lab"
)

const labPing = "../../lab/testdata/ping.yaml"

func TestLabUsage(t *testing.T) {
	overlap := filepath.Join(t.TempDir(), "overlap.yaml")
	if err := os.WriteFile(overlap, []byte(`Vpcs:
  - {VpcId: vpc-1, CidrBlock: 10.1.0.0/16}
  - {VpcId: vpc-2, CidrBlock: 10.1.128.0/17}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"lab", "up"}, 2, "--topology: required"},
		{[]string{"lab", "up", "--topology", labPing, "--lab-id", "Bad-1"}, 2, `--lab-id: lab id "Bad-1": want 1 to 12 lowercase letters and digits, not 'B'`},
		{[]string{"lab", "up", "--topology", overlap}, 1, "lab: vpc-1 (10.1.0.0/16) and vpc-2 (10.1.128.0/17) overlap"},
		{[]string{"lab", "up", "--topology", "no-such.yaml"}, 1, "no-such.yaml"},
		{[]string{"lab", "down", "--lab-id", "x_y"}, 2, `--lab-id: lab id "x_y"`},
		{[]string{"lab", "exec", "internet"}, 2, "want a namespace (ENI, instance, router or internet) and a command, got 1 arguments"},
		{[]string{"lab", "exec", "--lab-id", "nolab9", "internet", "--", "true"}, 1, "lab nolab9: not up (no namespace vf-nolab9-*)"},
	} {
		_, errOut, code := runBinary(t, nil, c.args...)
		if code != c.code || !strings.Contains(errOut, c.msg) {
			t.Errorf("vpcflow %s: exit status %d, stderr %q; want %d and %q", strings.Join(c.args, " "), code, errOut, c.code, c.msg)
		}
	}
}

// TestLabCommands: up --detach builds the ping example and says how to
// capture it, exec runs in the instance's and the internet's namespaces
// (the command's exit status is exec's), status lists it, down removes it.
func TestLabCommands(t *testing.T) {
	if err := lab.Check(); err != nil {
		t.Skipf("%v", err)
	}
	id := fmt.Sprintf("c%d", os.Getpid()%100000)
	t.Cleanup(func() { lab.Down(id, nil) })
	out, errOut, code := runBinary(t, nil, "lab", "up", "--topology", labPing, "--lab-id", id, "--detach")
	if code != 0 {
		t.Fatalf("lab up: exit status %d\n%s", code, errOut)
	}
	router := "vf-" + id + "-router"
	for _, want := range []string{
		"vf-" + id + "-eni-0a1b2c3d4e5f60718  eni-0a1b2c3d4e5f60718 (i-0a1b2c3d4e5f60718): eth0 0a:1b:2c:3d:4e:5f 10.1.2.15/24 via 10.1.2.1, public 203.0.113.10; port eni-3d4e5f60718\n",
		"ip netns exec " + router + " vpcflow run --topology " + labPing + " --interface eni-3d4e5f60718=eni-0a1b2c3d4e5f60718 --stdout\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("lab up output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "vpcflow lab down --lab-id "+id+" removes it") {
		t.Errorf("lab up stderr: %s", errOut)
	}
	out, _, code = runBinary(t, nil, "lab", "exec", "--lab-id", id, "i-0a1b2c3d4e5f60718", "--", "ip", "-br", "-4", "addr", "show", "dev", "eth0")
	if code != 0 || !strings.Contains(out, "10.1.2.15/24") {
		t.Errorf("lab exec instance: exit status %d\n%s", code, out)
	}
	// The reply dies at the network ACL: ping exits 1, and so does exec.
	out, _, code = runBinary(t, nil, "lab", "exec", "--lab-id", id, "internet", "--", "ping", "-c", "1", "-W", "1", "203.0.113.10")
	if code != 1 || !strings.Contains(out, "1 packets transmitted, 0 received") {
		t.Errorf("lab exec internet ping: exit status %d, want 1\n%s", code, out)
	}
	out, _, code = runBinary(t, nil, "lab", "status")
	if code != 0 || !strings.Contains(out, "lab "+id+":\n") || !strings.Contains(out, "eni-3d4e5f60718 ") {
		t.Errorf("lab status: exit status %d\n%s", code, out)
	}
	out, _, code = runBinary(t, nil, "lab", "down", "--lab-id", id)
	if code != 0 || strings.Count(out, "removed vf-"+id+"-") != 3 {
		t.Errorf("lab down: exit status %d\n%s", code, out)
	}
}
