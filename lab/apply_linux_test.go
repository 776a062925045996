//go:build linux

package lab

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestApply: Apply makes a built lab follow new versions of its topology.
// A security group rule added shows in the ENI's table; an interface added
// gets a namespace with its MAC and address whose port is up when
// PortAdded runs, and really answers a ping from the other instance of
// the subnet; a route added reaches the subnet's routing table; the
// interface removed loses its namespace after PortRemoving; a new subnet
// is refused and the lab keeps its rules.
func TestApply(t *testing.T) {
	skip(t)
	var added, removing []string
	var portState, router string
	var onAdd func()
	l := startLabDeps(t, "testdata/ping.yaml", func(d *Dependencies) {
		d.PortAdded = func(e *ENIPlan) error {
			added = append(added, e.ENI.ID)
			out, _ := sh(t, "ip", "-n", router, "-o", "link", "show", e.Port)
			portState = out
			if onAdd != nil {
				onAdd()
			}
			return nil
		}
		d.PortRemoving = func(e *ENIPlan) error { removing = append(removing, e.ENI.ID); return nil }
	})
	router = l.Plan().Router
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
	apply := func(name, text string) Change {
		t.Helper()
		c, err := l.Apply(context.Background(), load(t, write(name, text)))
		if err != nil {
			t.Fatalf("Apply %s: %v", name, err)
		}
		return c
	}
	ssh := strings.Replace(string(src), "    IpPermissionsEgress: []",
		"      - {IpProtocol: tcp, FromPort: 22, ToPort: 22, IpRanges: [{CidrIp: 0.0.0.0/0}]}\n    IpPermissionsEgress: [{IpProtocol: \"-1\", IpRanges: [{CidrIp: 0.0.0.0/0}]}]", 1)
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
	if c := apply("ssh.yaml", ssh); !c.Empty() {
		t.Errorf("a rule change: %+v, want only rules", c)
	}
	if got := rules(); !strings.Contains(got, "tcp dport 22") || strings.Count(got, "table inet vpcflow") != 1 {
		t.Fatalf("after Apply, the ENI's table lacks ssh (or is doubled):\n%s", got)
	}

	const newENI = "eni-0a1b2c3d4e5f60719"
	extra := strings.Replace(ssh, "SecurityGroups:", `  - NetworkInterfaceId: eni-0a1b2c3d4e5f60719
    SubnetId: subnet-0a1b2c3d4e5f60002
    MacAddress: 0a:1b:2c:3d:4e:60
    PrivateIpAddress: 10.1.2.16
    Groups: [{GroupId: sg-0a1b2c3d4e5f60003}]
SecurityGroups:`, 1)
	// An Apply that fails half way (its context cancelled once the new
	// port is up) takes the new interface away again, and the next one
	// builds it.
	cancelled, cancel := context.WithCancel(context.Background())
	onAdd = cancel
	if _, err := l.Apply(cancelled, load(t, write("extra.yaml", extra))); err == nil {
		t.Fatal("Apply cancelled half way: no error")
	}
	onAdd = nil
	if _, err := os.Stat(filepath.Join(NetnsDir, Namespace(l.cfg.ID, "eni-0a1b2c3d4e5f60719"))); !os.IsNotExist(err) || len(removing) != 1 {
		t.Fatalf("after a failed Apply: namespace of the new interface %v, PortRemoving for %v", err, removing)
	}
	added, removing = nil, nil
	c := apply("extra.yaml", extra)
	if len(c.Added) != 1 || c.Added[0].ENI.ID != newENI || len(c.Removed) != 0 || len(added) != 1 {
		t.Fatalf("adding %s: change %+v, PortAdded for %v", newENI, c, added)
	}
	if !strings.Contains(portState, "state UP") || !strings.Contains(portState, "master br-") {
		t.Errorf("the port when PortAdded ran: %q, want up and in the bridge", portState)
	}
	newNS := Namespace(l.cfg.ID, newENI)
	out, code := sh(t, "ip", "-n", newNS, "-o", "addr", "show", "dev", ENIDev)
	if code != 0 || !strings.Contains(out, "10.1.2.16/24") {
		t.Fatalf("%s: eth0 %q (exit %d), want 10.1.2.16/24", newNS, out, code)
	}
	out, code = sh(t, "ip", "-n", newNS, "link", "show", ENIDev)
	if !strings.Contains(out, "0a:1b:2c:3d:4e:60") {
		t.Errorf("eth0 of %s: %q, want MAC 0a:1b:2c:3d:4e:60", newENI, out)
	}
	// The old instance reaches the new one through the bridge, the
	// groups' rules and the permanent neighbours Apply added.
	if out, code := sh(t, "ip", "netns", "exec", eniNS, "ping", "-c", "2", "-i", "0.2", "-W", "1", "10.1.2.16"); code != 0 {
		t.Errorf("ping 10.1.2.16 from %s: exit %d\n%s", eniNS, code, out)
	}

	route := strings.Replace(extra, "      - {DestinationCidrBlock: 0.0.0.0/0, GatewayId: igw-0a1b2c3d4e5f60005}",
		"      - {DestinationCidrBlock: 0.0.0.0/0, GatewayId: igw-0a1b2c3d4e5f60005}\n      - {DestinationCidrBlock: 198.51.100.0/24, GatewayId: igw-0a1b2c3d4e5f60005}", 1)
	if route == extra {
		t.Fatal("the test's route was not added")
	}
	c = apply("route.yaml", route)
	if len(c.Routes) != 1 || c.Routes[0] != "subnet-0a1b2c3d4e5f60002" || len(c.Added)+len(c.Removed) != 0 {
		t.Errorf("adding a route: %+v", c)
	}
	table := l.Plan().Subnets[0].Table
	if out, _ := sh(t, "ip", "-n", l.Plan().Router, "route", "show", "table", strconv.Itoa(table)); !strings.Contains(out, "198.51.100.0/24 via 169.254.0.2 dev internet") {
		t.Errorf("table %d after the route was added:\n%s", table, out)
	}

	// Back to one interface, without the route.
	c = apply("ssh2.yaml", ssh)
	if len(c.Removed) != 1 || c.Removed[0].ENI.ID != newENI || len(removing) != 1 || len(c.Routes) != 1 {
		t.Errorf("removing %s and the route: %+v, PortRemoving for %v", newENI, c, removing)
	}
	if _, err := os.Stat(filepath.Join(NetnsDir, newNS)); !os.IsNotExist(err) {
		t.Errorf("namespace %s after its interface was removed: %v", newNS, err)
	}
	if out, _ := sh(t, "ip", "-n", l.Plan().Router, "route", "show", "table", strconv.Itoa(table)); strings.Contains(out, "198.51.100.0/24") {
		t.Errorf("table %d after the route was deleted:\n%s", table, out)
	}

	subnet := strings.Replace(ssh, "NetworkInterfaces:", `  - SubnetId: subnet-0a1b2c3d4e5f60009
    VpcId: vpc-0a1b2c3d4e5f60001
    CidrBlock: 10.1.3.0/24
    AvailabilityZone: eu-west-1b
    AvailabilityZoneId: euw1-az2
NetworkInterfaces:`, 1)
	_, err = l.Apply(context.Background(), load(t, write("subnet.yaml", strings.Replace(subnet, "tcp, FromPort: 22, ToPort: 22", "tcp, FromPort: 23, ToPort: 23", 1))))
	if err == nil || !strings.Contains(err.Error(), "the subnets changed") {
		t.Fatalf("Apply with another subnet: %v", err)
	}
	if !strings.Contains(rules(), "tcp dport 22") {
		t.Fatalf("a refused Apply changed the rules:\n%s", rules())
	}
}
