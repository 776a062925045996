package main

import (
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vpcflow/vpcflow/lab"
)

// labServe starts serve --lab on the topology text topo under a lab id of
// the test's own (prefix and the process id), torn down when the test
// ends, with the bucket "flows" in its data directory, and returns serve,
// the lab id and the data directory. The test is skipped where the lab
// cannot run (not root, no nft) or, withAWS, awscli is missing.
func labServe(t *testing.T, prefix, topo string, withAWS bool) (*serveProc, string, string) {
	t.Helper()
	if err := lab.Check(); err != nil {
		t.Skipf("%v", err)
	}
	if _, err := os.Stat(awsCLI); withAWS && err != nil {
		t.Skip("awscli is not installed at /usr/bin/aws (.ci/run installs it)")
	}
	id := fmt.Sprintf("%s%d", prefix, os.Getpid()%100000)
	t.Cleanup(func() { lab.Down(id, nil) })
	dir := t.TempDir()
	file := filepath.Join(dir, "topology.yaml")
	if err := os.WriteFile(file, []byte(topo), 0o644); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	makeBucket(t, data, "flows")
	p := startServeEnv(t, []string{"AWS_ACCESS_KEY_ID=" + testKeyID, "AWS_SECRET_ACCESS_KEY=" + testSecret},
		"--data-dir", data, "--topology", file, "--lab", "--lab-id", id)
	return p, id, data
}

// s3FlowLog is a topology's FlowLogs section: one flow log of all the
// traffic of vpc to the bucket "flows", in 60 s windows, with the log
// format given (none: the default).
func s3FlowLog(vpc, format string) string {
	s := "FlowLogs:\n  - ResourceIds: [" + vpc + "]\n    ResourceType: VPC\n    TrafficType: ALL\n" +
		"    LogDestinationType: s3\n    LogDestination: arn:aws:s3:::flows\n    MaxAggregationInterval: 60\n"
	if format != "" {
		s += "    LogFormat: '" + format + "'\n"
	}
	return s
}

// readTestFile is the text of a test data file.
func readTestFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestServeLab runs serve --lab on the ping example with its internet
// gateway (lab/testdata/ping.yaml) and an S3 flow log: SYNs to port 22
// from the internet namespace are dropped (REJECT records) until awscli
// authorizes ssh in the security group and adds the network ACL entries;
// the next connections really get through, and their records are ACCEPT.
// Stopping serve flushes the open window and removes the lab. Needs root,
// nft and awscli; takes seconds, not windows.
func TestServeLab(t *testing.T) {
	p, id, data := labServe(t, "s", readTestFile(t, labPing)+s3FlowLog("vpc-0a1b2c3d4e5f60001", ""), true)
	if !strings.Contains(p.log(), "lab "+id+" built") {
		t.Fatalf("serve did not say it built the lab:\n%s", p.log())
	}

	// A second serve on the same lab id refuses, and leaves the lab be
	// (the connections below go through it).
	_, errOut, code := runBinary(t, nil, "serve", "--listen", "127.0.0.1:0", "--data-dir", t.TempDir(),
		"--topology", labPing, "--lab", "--lab-id", id)
	if code != 1 || !strings.Contains(errOut, "lab "+id+" exists") {
		t.Errorf("a second serve on lab %s: exit %d, %s", id, code, errOut)
	}

	// An ssh server stand-in in the instance's namespace.
	eniNS := lab.Namespace(id, "eni-0a1b2c3d4e5f60718")
	var ln net.Listener
	if err := lab.Do(eniNS, func() (err error) { ln, err = net.Listen("tcp", "10.1.2.15:22"); return err }); err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { // the banner, then an echo until the client closes
				defer c.Close()
				c.Write([]byte("SSH-2.0-lab\r\n"))
				io.Copy(c, c)
			}()
		}
	}()
	defer ln.Close()
	// connect connects from the internet namespace to the instance's
	// public address, from a given source port, and reads the banner.
	connect := func(port int) (net.Conn, error) {
		var c net.Conn
		err := lab.Do(lab.Namespace(id, lab.InternetName), func() (err error) {
			d := net.Dialer{Timeout: 700 * time.Millisecond, LocalAddr: &net.TCPAddr{Port: port}}
			c, err = d.Dial("tcp", "203.0.113.10:22")
			return err
		})
		if err != nil {
			return nil, err
		}
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		buf := make([]byte, 64)
		n, err := c.Read(buf)
		if !strings.HasPrefix(string(buf[:n]), "SSH-2.0-lab") {
			c.Close()
			return nil, fmt.Errorf("read %q: %v", buf[:n], err)
		}
		return c, nil
	}
	dial := func(port int) error {
		c, err := connect(port)
		if err == nil {
			c.Close()
		}
		return err
	}
	for port := 41001; port <= 41003; port++ {
		if err := dial(port); err == nil {
			t.Fatalf("ssh from port %d got through before any rule allowed it", port)
		}
	}

	awsOK(t, p, nil, "ec2", "authorize-security-group-ingress", "--group-id", "sg-0a1b2c3d4e5f60003",
		"--protocol", "tcp", "--port", "22", "--cidr", "0.0.0.0/0")
	// The security group alone is not enough: the network ACL allows
	// only ICMP in and nothing out.
	if err := dial(41004); err == nil {
		t.Fatalf("ssh got through with the network ACL still closed")
	}
	awsOK(t, p, nil, "ec2", "create-network-acl-entry", "--network-acl-id", "acl-0a1b2c3d4e5f60004", "--ingress",
		"--rule-number", "110", "--protocol", "6", "--port-range", "From=22,To=22", "--cidr-block", "0.0.0.0/0", "--rule-action", "allow")
	awsOK(t, p, nil, "ec2", "create-network-acl-entry", "--network-acl-id", "acl-0a1b2c3d4e5f60004", "--egress",
		"--rule-number", "100", "--protocol", "6", "--port-range", "From=1024,To=65535", "--cidr-block", "0.0.0.0/0", "--rule-action", "allow")
	applied := time.Now()
	for port := 42001; port <= 42003; port++ {
		if err := dial(port); err != nil {
			t.Fatalf("ssh from port %d after the API changes (%v after the last): %v\nserve: %s", port, time.Since(applied), err, p.log())
		}
	}
	held, err := connect(42004)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	// Revoking the rule closes ssh again for new connections; the one
	// already tracked goes on, as on AWS.
	awsOK(t, p, nil, "ec2", "revoke-security-group-ingress", "--group-id", "sg-0a1b2c3d4e5f60003",
		"--protocol", "tcp", "--port", "22", "--cidr", "0.0.0.0/0")
	if err := dial(43001); err == nil {
		t.Fatalf("ssh got through after the rule was revoked")
	}
	held.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := held.Write([]byte("still here\n")); err != nil {
		t.Fatalf("the tracked connection after the revoke: %v", err)
	}
	buf := make([]byte, 64)
	if n, err := held.Read(buf); string(buf[:n]) != "still here\n" {
		t.Fatalf("the tracked connection after the revoke: read %q, %v", buf[:n], err)
	}
	held.Close()
	ln.Close()
	if !strings.Contains(p.log(), "applied in") {
		t.Errorf("serve did not report applying the rules:\n%s", p.log())
	}

	// Stopping serve closes and delivers the open window, and removes
	// the lab it built.
	p.stop(t)
	t.Logf("serve:\n%s", p.log())
	if st, _ := lab.Status(); len(st) > 0 {
		for _, l := range st {
			if l.ID == id {
				t.Errorf("lab %s still up after serve stopped: %+v", id, l)
			}
		}
	}
	got := map[string]string{} // source port -> actions of its ingress ssh records
	for _, r := range s3Records(t, filepath.Join(data, "buckets", "flows")) {
		if len(r) == 14 && r[4] == "10.1.2.15" && r[6] == "22" && !strings.Contains(got[r[5]], r[12]) {
			got[r[5]] += r[12] // a flow split by a window boundary: its action once
		}
	}
	for _, port := range []int{41001, 41002, 41003, 41004, 42001, 42002, 42003, 42004, 43001} {
		want := "REJECT"
		if port/1000 == 42 {
			want = "ACCEPT"
		}
		if a := got[fmt.Sprint(port)]; a != want {
			t.Errorf("ssh from port %d: records %q, want %s (all: %v)\nserve: %s", port, a, want, got, p.log())
		}
	}
}

// TestServeLabInterfaces: with serve --lab, `aws ec2
// create-network-interface` builds the interface's namespace and captures
// its port before the call returns; the other instance of the subnet
// pings it, and `aws ec2 delete-network-interface` removes the namespace.
// The records of the new interface hold its pings exactly once (they were
// in the window open when it was deleted, delivered when serve stopped).
func TestServeLabInterfaces(t *testing.T) {
	p, id, data := labServe(t, "i", readTestFile(t, labPing)+s3FlowLog("vpc-0a1b2c3d4e5f60001", ""), true)
	// The group lets ICMP out too, so the instances can ping each other.
	awsOK(t, p, nil, "ec2", "authorize-security-group-egress", "--group-id", "sg-0a1b2c3d4e5f60003",
		"--protocol", "icmp", "--port", "-1", "--cidr", "10.1.0.0/16")
	var created struct {
		NetworkInterface struct{ NetworkInterfaceId, MacAddress string }
	}
	awsOK(t, p, &created, "ec2", "create-network-interface", "--subnet-id", "subnet-0a1b2c3d4e5f60002",
		"--private-ip-address", "10.1.2.16", "--groups", "sg-0a1b2c3d4e5f60003")
	returned := time.Now()
	eni := created.NetworkInterface.NetworkInterfaceId
	ns := lab.Namespace(id, eni)
	out, err := exec.Command("ip", "-n", ns, "addr", "show", "dev", lab.ENIDev).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "10.1.2.16/24") || !strings.Contains(string(out), created.NetworkInterface.MacAddress) {
		t.Fatalf("namespace %s of the new interface (MAC %s): %v\n%s\nserve: %s", ns, created.NetworkInterface.MacAddress, err, out, p.log())
	}
	old := lab.Namespace(id, "eni-0a1b2c3d4e5f60718")
	if out, err := exec.Command("ip", "netns", "exec", old, "ping", "-c", "3", "-i", "0.2", "-W", "1", "10.1.2.16").CombinedOutput(); err != nil {
		t.Fatalf("ping 10.1.2.16 from %s: %v\n%s\nserve: %s", old, err, out, p.log())
	}
	t.Logf("the new interface answered 3 pings %v after create-network-interface returned", time.Since(returned).Round(time.Millisecond))
	awsOK(t, p, nil, "ec2", "delete-network-interface", "--network-interface-id", eni)
	if _, err := os.Stat(filepath.Join(lab.NetnsDir, ns)); !os.IsNotExist(err) {
		t.Errorf("namespace %s after delete-network-interface: %v\nserve: %s", ns, err, p.log())
	}
	for _, want := range []string{"added " + eni, "removed " + eni} {
		if !strings.Contains(p.log(), want) {
			t.Errorf("serve did not say %q:\n%s", want, p.log())
		}
	}
	p.stop(t)
	// Summed over windows (the pings may straddle a minute): by hand, an
	// echo of 56 bytes is 84 at the IP layer.
	got := map[string][2]int{}
	for _, r := range s3Records(t, filepath.Join(data, "buckets", "flows")) {
		if len(r) == 14 && r[13] == "OK" && (r[2] == eni || r[2] == "eni-0a1b2c3d4e5f60718") && r[7] == "1" {
			k := strings.Join([]string{r[2], r[3], r[4], r[12]}, " ")
			g := got[k]
			got[k] = [2]int{g[0] + atoi(t, r[8]), g[1] + atoi(t, r[9])}
		}
	}
	want := map[string][2]int{
		eni + " 10.1.2.15 10.1.2.16 ACCEPT":                {3, 252},
		eni + " 10.1.2.16 10.1.2.15 ACCEPT":                {3, 252},
		"eni-0a1b2c3d4e5f60718 10.1.2.15 10.1.2.16 ACCEPT": {3, 252},
		"eni-0a1b2c3d4e5f60718 10.1.2.16 10.1.2.15 ACCEPT": {3, 252},
	}
	if !maps.Equal(got, want) {
		t.Errorf("ICMP records (interface src dst action: packets, bytes):\n%v\nwant\n%v\nserve: %s", got, want, p.log())
	}
}

// TestServeLabFromNoInterface: serve --lab over a VPC without any
// interface, then two made by create-network-interface: one pings the
// other, and both interfaces' records hold the echoes (the captures added
// to a pipeline that started with none).
func TestServeLabFromNoInterface(t *testing.T) {
	src := readTestFile(t, labPing)
	i := strings.Index(src, "NetworkInterfaces:")
	j := strings.Index(src, "SecurityGroups:")
	p, id, data := labServe(t, "e", src[:i]+src[j:]+s3FlowLog("vpc-0a1b2c3d4e5f60001", ""), true)
	awsOK(t, p, nil, "ec2", "authorize-security-group-egress", "--group-id", "sg-0a1b2c3d4e5f60003",
		"--protocol", "icmp", "--port", "-1", "--cidr", "10.1.0.0/16")
	var enis []string
	for _, ip := range []string{"10.1.2.20", "10.1.2.21"} {
		var created struct {
			NetworkInterface struct{ NetworkInterfaceId string }
		}
		awsOK(t, p, &created, "ec2", "create-network-interface", "--subnet-id", "subnet-0a1b2c3d4e5f60002",
			"--private-ip-address", ip, "--groups", "sg-0a1b2c3d4e5f60003")
		enis = append(enis, created.NetworkInterface.NetworkInterfaceId)
	}
	if out, err := exec.Command("ip", "netns", "exec", lab.Namespace(id, enis[0]), "ping", "-c", "3", "-i", "0.2", "-W", "1", "10.1.2.21").CombinedOutput(); err != nil {
		t.Fatalf("ping 10.1.2.21 from %s: %v\n%s\nserve: %s", enis[0], err, out, p.log())
	}
	p.stop(t)
	if strings.Contains(p.log(), "not captured") {
		t.Errorf("serve did not capture a new interface:\n%s", p.log())
	}
	got := map[string]int{}
	for _, r := range s3Records(t, filepath.Join(data, "buckets", "flows")) {
		if len(r) == 14 && r[13] == "OK" && r[7] == "1" {
			got[strings.Join([]string{r[2], r[3], r[4], r[12]}, " ")] += atoi(t, r[8])
		}
	}
	want := map[string]int{
		enis[0] + " 10.1.2.20 10.1.2.21 ACCEPT": 3, enis[0] + " 10.1.2.21 10.1.2.20 ACCEPT": 3,
		enis[1] + " 10.1.2.20 10.1.2.21 ACCEPT": 3, enis[1] + " 10.1.2.21 10.1.2.20 ACCEPT": 3,
	}
	if !maps.Equal(got, want) {
		t.Errorf("ICMP records (packets): %v\nwant %v\nserve: %s", got, want, p.log())
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return n
}

// TestServeLabUsage: the lab flags are checked before anything starts.
func TestServeLabUsage(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"serve", "--data-dir", dir, "--topology", labPing, "--lab-id", "x1"}, 2, "--lab-id needs --lab"},
		{[]string{"serve", "--data-dir", dir, "--topology", labPing, "--lab", "--lab-id", "Bad-1"}, 2, `--lab-id: lab id "Bad-1"`},
	} {
		_, errOut, code := runBinary(t, nil, c.args...)
		if code != c.code || !strings.Contains(errOut, c.msg) {
			t.Errorf("vpcflow %s: exit status %d, stderr %q; want %d and %q", strings.Join(c.args, " "), code, errOut, c.code, c.msg)
		}
	}
}
