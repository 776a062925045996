package main

import (
	"fmt"
	"io"
	"maps"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vpcflow/vpcflow/lab"
)

// TestServeLabNATGateway: serve --lab builds the NAT gateway of
// lab/testdata/natgw.yaml; the instance of the private subnet pings a
// public peer and opens a TCP connection to it through the gateway, and
// the peer sees the gateway's public address. The records of both
// interfaces are those of AWS's "Traffic through a NAT gateway" example:
// on the gateway's interface the forwarded legs show its own address on
// its side and the real endpoints in pkt-srcaddr/pkt-dstaddr (four
// records per flow); on the instance both views agree.
func TestServeLabNATGateway(t *testing.T) {
	p, id, data := labServe(t, "n", readTestFile(t, "../../lab/testdata/natgw.yaml")+s3FlowLog("vpc-0c00000000000000a",
		"${interface-id} ${srcaddr} ${dstaddr} ${pkt-srcaddr} ${pkt-dstaddr} ${flow-direction} ${protocol} ${packets} ${action} ${log-status}"), false)
	if strings.Contains(p.log(), "not built") {
		t.Errorf("serve says something of the NAT gateway is not built:\n%s", p.log())
	}

	// A web server stand-in among the public peers: it answers with the
	// address the connection came from.
	var ln net.Listener
	if err := lab.Do(lab.Namespace(id, lab.InternetName), func() (err error) { ln, err = net.Listen("tcp", "192.0.2.80:80"); return err }); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			io.WriteString(c, c.RemoteAddr().(*net.TCPAddr).IP.String()+"\n")
			c.Close()
		}
	}()
	instance := lab.Namespace(id, "eni-0c00000000000000b2")
	if out, err := exec.Command("ip", "netns", "exec", instance, "ping", "-c", "3", "-i", "0.2", "-W", "1", "192.0.2.80").CombinedOutput(); err != nil {
		t.Fatalf("ping 192.0.2.80 from the private instance: %v\n%s\nserve: %s", err, out, p.log())
	}
	var seen string
	err := lab.Do(instance, func() error {
		c, err := net.DialTimeout("tcp", "192.0.2.80:80", 2*time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		b, err := io.ReadAll(c)
		seen = strings.TrimSpace(string(b))
		return err
	})
	if err != nil || seen != "203.0.113.30" {
		t.Fatalf("TCP from the private instance to 192.0.2.80:80: %v; the peer saw %q, want the NAT gateway's public address 203.0.113.30", err, seen)
	}
	ln.Close()
	// Private instances are not reachable from the internet: the NAT
	// gateway's public address leads to the gateway only.
	if out, err := exec.Command("ip", "netns", "exec", lab.Namespace(id, lab.InternetName), "ping", "-c", "1", "-W", "1", "10.3.2.20").CombinedOutput(); err == nil {
		t.Errorf("the internet reached the private instance:\n%s", out)
	}
	p.stop(t)

	// Packets summed per record key (interface src dst pkt-src pkt-dst
	// direction protocol), by hand from AWS's example.
	got := map[string]int{}
	for _, r := range s3Records(t, filepath.Join(data, "buckets", "flows")) {
		if len(r) != 10 || r[9] != "OK" {
			continue
		}
		if r[8] != "ACCEPT" {
			t.Errorf("record %v: want ACCEPT (everything is allowed)", r)
		}
		got[strings.Join(r[:7], " ")] += atoi(t, r[7])
	}
	const nat, inst = "eni-0c00000000000000b1", "eni-0c00000000000000b2"
	keys := map[string]string{ // record key → the direction of the flow
		nat + " 10.3.2.20 10.3.1.100 10.3.2.20 192.0.2.80 ingress":   "out",
		nat + " 10.3.1.100 192.0.2.80 10.3.1.100 192.0.2.80 egress":  "out",
		nat + " 192.0.2.80 10.3.1.100 192.0.2.80 10.3.1.100 ingress": "back",
		nat + " 10.3.1.100 10.3.2.20 192.0.2.80 10.3.2.20 egress":    "back",
		inst + " 10.3.2.20 192.0.2.80 10.3.2.20 192.0.2.80 egress":   "out",
		inst + " 192.0.2.80 10.3.2.20 192.0.2.80 10.3.2.20 ingress":  "back",
	}
	// ICMP: 3 echoes each way on every leg. TCP: every leg of a direction
	// carries the same number of packets (the gateway forwards them all).
	icmp, want := map[string]int{}, map[string]int{}
	legs := map[string][]int{}
	for k, dir := range keys {
		want[k+" 1"] = 3
		if n, ok := got[k+" 6"]; ok {
			legs[dir] = append(legs[dir], n)
		} else {
			t.Errorf("no TCP record %q", k)
		}
	}
	for k, n := range got {
		if strings.HasSuffix(k, " 1") {
			icmp[k] = n
		}
		if _, ok := keys[strings.TrimSuffix(k, " 6")]; strings.HasSuffix(k, " 6") && !ok {
			t.Errorf("TCP record %q (%d packets): not one of AWS's four on the gateway, two on the instance", k, n)
		}
	}
	if !maps.Equal(icmp, want) {
		t.Errorf("ICMP records (packets):\n%v\nwant\n%v\nserve: %s", icmp, want, p.log())
	}
	for dir, ns := range legs {
		if len(ns) != 3 || ns[0] != ns[1] || ns[1] != ns[2] || ns[0] < 3 {
			t.Errorf("TCP %s: packets per leg %v, want three legs (instance, gateway in, gateway out) of the same count, at least 3", dir, ns)
		}
	}
	t.Logf("TCP packets per leg: %v", legs)
}

// TestServeLabRoutes: with serve --lab, awscli's delete-route,
// create-route and replace-route change the router's routing table of the
// private subnet of lab/testdata/natgw.yaml before the call returns: no
// default route, the instance reaches nothing outside the VPC; the route
// back to the NAT gateway, it does again; a route to the internet gateway
// instead, nothing answers (the instance has no public address, and the
// internet gateway translates only those).
func TestServeLabRoutes(t *testing.T) {
	p, id, _ := labServe(t, "r", readTestFile(t, "../../lab/testdata/natgw.yaml"), true)
	instance := lab.Namespace(id, "eni-0c00000000000000b2")
	ping := func() bool {
		return exec.Command("ip", "netns", "exec", instance, "ping", "-c", "1", "-W", "1", "192.0.2.80").Run() == nil
	}
	table := func() string {
		out, _ := exec.Command("ip", "-n", lab.Namespace(id, lab.RouterName), "route", "show", "table", "101").CombinedOutput()
		return string(out)
	}
	if !ping() {
		t.Fatalf("no ping through the NAT gateway at start; table 101:\n%s", table())
	}
	const rtb = "rtb-0c00000000000000f3"
	awsOK(t, p, nil, "ec2", "delete-route", "--route-table-id", rtb, "--destination-cidr-block", "0.0.0.0/0")
	if ping() {
		t.Errorf("ping got through without a default route; table 101:\n%s", table())
	}
	awsOK(t, p, nil, "ec2", "create-route", "--route-table-id", rtb, "--destination-cidr-block", "0.0.0.0/0", "--nat-gateway-id", "nat-0c00000000000000f1")
	if !ping() {
		t.Errorf("no ping after create-route to the NAT gateway; table 101:\n%s", table())
	}
	awsOK(t, p, nil, "ec2", "replace-route", "--route-table-id", rtb, "--destination-cidr-block", "0.0.0.0/0", "--gateway-id", "igw-0c00000000000000e1")
	if got := table(); !strings.Contains(got, "default via 169.254.0.2 dev internet") {
		t.Errorf("table 101 after replace-route to the internet gateway:\n%s", got)
	}
	if ping() {
		t.Errorf("a private address got through the internet gateway")
	}
	_, errOut, code := aws(t, p, "ec2", "create-route", "--route-table-id", rtb, "--destination-cidr-block", "0.0.0.0/0", "--nat-gateway-id", "nat-0c00000000000000f1")
	if code == 0 || !strings.Contains(errOut, "RouteAlreadyExists") {
		t.Errorf("create-route of an existing destination: exit %d, %s", code, errOut)
	}
	var rts struct {
		RouteTables []struct {
			Routes []struct{ DestinationCidrBlock, GatewayId, NatGatewayId, Origin string }
		}
	}
	awsOK(t, p, &rts, "ec2", "describe-route-tables", "--route-table-ids", rtb)
	if len(rts.RouteTables) != 1 || !strings.Contains(fmt.Sprint(rts.RouteTables[0].Routes), "{0.0.0.0/0 igw-0c00000000000000e1  CreateRoute}") {
		t.Errorf("describe-route-tables: %+v", rts)
	}
	if !strings.Contains(p.log(), "routes of subnet-0c0000000000000a2") {
		t.Errorf("serve did not say it changed the routes:\n%s", p.log())
	}
	p.stop(t)
}
