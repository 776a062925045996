package netstate

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/vpcflow/vpcflow/policy"
	"github.com/vpcflow/vpcflow/topology"
)

// The seeded network must judge packets exactly as the topology file does:
// the store only makes explicit what topology reads implicitly.
func TestSeedKeepsDecisions(t *testing.T) {
	s, _ := newStore(t)
	if !s.Empty() {
		t.Fatal("a new store holds a network")
	}
	if top, v := s.Topology(); v != 0 || top == nil || len(top.VPCs) != 0 {
		t.Fatalf("empty store: v%d %+v", v, top)
	}
	if err := s.Seed("examples/topology.yaml", exampleFile(t)); err != nil {
		t.Fatal(err)
	}
	file, err := topology.Parse("examples/topology.yaml", exampleFile(t))
	if err != nil {
		t.Fatal(err)
	}
	stored, v := s.Topology()
	if v != 1 || s.Empty() {
		t.Fatalf("version %d after Seed", v)
	}
	// Worked out by hand from examples/topology.yaml.
	for _, c := range []struct {
		eni  string
		dir  policy.Direction
		pkt  string
		want string
	}{
		{"eni-0a00000000000000a", policy.Ingress, "tcp 198.51.100.1:5000 10.0.0.10:443 S", "ACCEPT sg-0aaaaaaaaaaaaaaa1/ingress/1"},
		{"eni-0a00000000000000a", policy.Ingress, "tcp 198.51.100.1:5000 10.0.0.10:8080 S", "REJECT sg-0aaaaaaaaaaaaaaa1/ingress/none"},
		{"eni-0a00000000000000a", policy.Ingress, "tcp 10.0.0.5:5000 10.0.0.10:22 S", "ACCEPT sg-0aaaaaaaaaaaaaaa1/ingress/3"},
		{"eni-0a00000000000000a", policy.Egress, "tcp [2600:1f18:abcd:ef00::10]:40000 [2606:4700::1]:443 S", "ACCEPT sg-0aaaaaaaaaaaaaaa1/egress/1"},
		{"eni-0e00000000000000e", policy.Ingress, "tcp 10.0.1.20:40000 10.0.2.30:5432 S", "ACCEPT sg-0aaaaaaaaaaaaaaa3/ingress/1"},
		{"eni-0e00000000000000e", policy.Ingress, "tcp 10.0.0.10:40000 10.0.2.30:5432 S", "REJECT acl-0d1e2f3a4b5c60002/ingress/*"},
		{"eni-0e00000000000000e", policy.Egress, "tcp 10.0.2.30:40000 10.0.1.20:443 S", "REJECT sg-0aaaaaaaaaaaaaaa3/egress/none"},
		{"eni-0b00000000000000b", policy.Ingress, "icmp 203.0.113.9 10.0.0.5 8/0", "ACCEPT sg-0aaaaaaaaaaaaaaa4/ingress/2"},
		{"eni-0d00000000000000d", policy.Egress, "tcp 10.0.1.20:40000 10.0.2.30:5432 S", "ACCEPT sg-0aaaaaaaaaaaaaaa2/egress/1"},
	} {
		if got := decideIn(t, file, c.eni, c.dir, c.pkt); got != c.want {
			t.Errorf("file: %s %s %q: got %s, want %s", c.eni, c.dir, c.pkt, got, c.want)
		}
		if got := decideIn(t, stored, c.eni, c.dir, c.pkt); got != c.want {
			t.Errorf("store: %s %s %q: got %s, want %s", c.eni, c.dir, c.pkt, got, c.want)
		}
	}
	if len(stored.FlowLogs) != 1 || stored.FlowLogs[0].LogDestination != "arn:aws:s3:::demo-flow-bucket" || *stored.FlowLogs[0].MaxAggregationInterval != 60 {
		t.Errorf("flow logs %+v", stored.FlowLogs)
	}
	if len(stored.NATGateways) != 1 || len(stored.RouteTables) != 2 || stored.AccountID != testAccount {
		t.Errorf("sections kept as written: %d NAT, %d route tables", len(stored.NATGateways), len(stored.RouteTables))
	}
	// What the store made explicit: a default group, association ids.
	n := s.Network()
	if !slices.ContainsFunc(n.SecurityGroups, func(g SecurityGroup) bool { return g.GroupName == "default" && g.VpcId == "vpc-0f1e2d3c4b5a69788" }) {
		t.Error("no default group")
	}
	for _, a := range n.NetworkAcls {
		for _, as := range a.Associations {
			if !isID(as.NetworkAclAssociationId, "aclassoc") {
				t.Errorf("association %+v", as)
			}
		}
	}
	// The stored document is itself a topology file.
	doc, _ := json.Marshal(n)
	if _, err := topology.Parse("doc", doc); err != nil {
		t.Errorf("Network() is not a topology file: %v", err)
	}
}

func TestSeedOnlyOnEmptyStore(t *testing.T) {
	s, dir := newStore(t)
	if err := s.Seed("examples/topology.yaml", exampleFile(t)); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, "network.json"))
	other := []byte("Vpcs: [{VpcId: vpc-1, CidrBlock: 10.9.0.0/16}]\n")
	if err := s.Seed("other.yaml", other); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "network.json"))
	if top, v := s.Topology(); v != 1 || top.VPC("vpc-1") != nil || !bytes.Equal(before, after) {
		t.Errorf("a second Seed changed the network (v%d)", v)
	}
	// Not even an invalid file matters once the store has a network.
	if err := s.Seed("bad.yaml", []byte("Vpcs: [{VpcId: vpc-1}]\n")); err != nil {
		t.Errorf("Seed read the file: %v", err)
	}

	// A store changed through the API is not empty either.
	s2, _ := newStore(t)
	must[Vpc](t)(s2.CreateVpc("10.0.0.0/16", nil))
	if err := s2.Seed("examples/topology.yaml", exampleFile(t)); err != nil {
		t.Fatal(err)
	}
	if top, _ := s2.Topology(); top.VPC("vpc-0f1e2d3c4b5a69788") != nil {
		t.Error("Seed applied over a network made through the API")
	}

	// Seed errors leave the store empty.
	s3, _ := newStore(t)
	err := s3.Seed("bad.yaml", []byte("Vpcs: [{VpcId: vpc-1}]\n"))
	if err == nil || !strings.Contains(err.Error(), "bad.yaml") {
		t.Errorf("invalid file: %v", err)
	}
	err = s3.Seed("acct.yaml", []byte("AccountId: \"999999999999\"\nVpcs: [{VpcId: vpc-1, CidrBlock: 10.9.0.0/16}]\n"))
	if err == nil || !strings.Contains(err.Error(), "999999999999") {
		t.Errorf("other account: %v", err)
	}
	err = s3.Seed("region.yaml", []byte("Region: eu-west-1\n"))
	if err == nil || !strings.Contains(err.Error(), "eu-west-1") {
		t.Errorf("other Region: %v", err)
	}
	if !s3.Empty() {
		t.Error("a failed Seed filled the store")
	}
}

func TestReplace(t *testing.T) {
	s, _ := newStore(t)
	if err := s.Seed("examples/topology.yaml", exampleFile(t)); err != nil {
		t.Fatal(err)
	}
	seeded, _ := s.DescribeSecurityGroupRules(nil, nil)
	extra := must[[]SecurityGroupRule](t)(s.AuthorizeSecurityGroupIngress("sg-0aaaaaaaaaaaaaaa1", []IpPermission{tcp(8443, 8443, "0.0.0.0/0")}, nil))
	must[Vpc](t)(s.CreateVpc("10.50.0.0/16", nil))
	_, v := s.Topology()
	if err := s.Replace("examples/topology.yaml", exampleFile(t)); err != nil {
		t.Fatal(err)
	}
	top, v2 := s.Topology()
	if v2 != v+1 || len(top.VPCs) != 1 {
		t.Fatalf("v%d -> v%d, %d VPCs", v, v2, len(top.VPCs))
	}
	after, _ := s.DescribeSecurityGroupRules(nil, nil)
	if slices.ContainsFunc(after, func(r SecurityGroupRule) bool { return r.SecurityGroupRuleId == extra[0].SecurityGroupRuleId }) {
		t.Error("the rule added through the API survived Replace")
	}
	// The file's rules, and the default group the store made, keep their ids.
	if string(mustJSON(seeded)) != string(mustJSON(after)) {
		t.Errorf("rule ids changed across a Replace with the same file\nbefore %s\nafter  %s", mustJSON(seeded), mustJSON(after))
	}
	// Another file: only its network remains.
	small := "Vpcs: [{VpcId: vpc-1, CidrBlock: 10.9.0.0/16}]\nSubnets: [{SubnetId: subnet-1, VpcId: vpc-1, CidrBlock: 10.9.1.0/24}]\n"
	if err := s.Replace("small.yaml", []byte(small)); err != nil {
		t.Fatal(err)
	}
	n := s.Network()
	if len(n.Vpcs) != 1 || n.Vpcs[0].VpcId != "vpc-1" || len(n.Subnets) != 1 || len(n.NetworkInterfaces) != 0 || len(n.FlowLogs) != 0 {
		t.Errorf("after Replace: %s", mustJSON(n))
	}
	// A file that does not load changes nothing.
	_, v3 := s.Topology()
	if err := s.Replace("bad.yaml", []byte("Subnets: [{SubnetId: s, VpcId: nowhere, CidrBlock: 10.0.0.0/24}]\n")); err == nil {
		t.Error("bad file replaced the network")
	}
	if _, v4 := s.Topology(); v4 != v3 {
		t.Error("version moved on a failed Replace")
	}
}

func TestRestartKeepsStateAndIDs(t *testing.T) {
	l := newLab(t)
	s := l.s
	must[[]SecurityGroupRule](t)(s.AuthorizeSecurityGroupIngress(l.web.GroupId, []IpPermission{tcp(22, 22, "203.0.113.0/24"),
		{IpProtocol: "tcp", FromPort: ptr(5432), ToPort: ptr(5432), UserIdGroupPairs: []UserIdGroupPair{{GroupId: l.web.GroupId, Description: "self"}}}},
		[]Tag{{Key: "k", Value: "v"}}))
	acl := must[NetworkAcl](t)(s.CreateNetworkAcl(l.vpc.VpcId, nil))
	ok(t)(s.CreateNetworkAclEntry(acl.NetworkAclId, aclEntry(100, "-1", "allow", false, "0.0.0.0/0", -1, 0)))
	_, assoc := l.association(t)
	must[string](t)(s.ReplaceNetworkAclAssociation(assoc, acl.NetworkAclId))
	ok(t)(s.CreateTags([]string{l.eni.NetworkInterfaceId}, []Tag{{Key: "Name", Value: "web-1"}}))

	net1, rules1 := s.Network(), must[[]SecurityGroupRule](t)(describeAll(s))
	top1, v1 := s.Topology()
	path := filepath.Join(l.dir, "network.json")
	file1, _ := os.ReadFile(path)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.CreateVpc("10.3.0.0/16", nil); err != ErrClosed {
		t.Errorf("write after Close: %v", err)
	}

	s2 := openAt(t, l.dir)
	top2, v2 := s2.Topology()
	if v2 != v1 || s2.Empty() {
		t.Errorf("version %d after restart, was %d", v2, v1)
	}
	if got := s2.Network(); string(mustJSON(got)) != string(mustJSON(net1)) {
		t.Errorf("network changed across a restart\nbefore %s\nafter  %s", mustJSON(net1), mustJSON(got))
	}
	if got, _, _ := describeAll(s2); string(mustJSON(got)) != string(mustJSON(rules1)) {
		t.Errorf("rules changed across a restart\nbefore %s\nafter  %s", mustJSON(rules1), mustJSON(got))
	}
	if file2, _ := os.ReadFile(path); !bytes.Equal(file1, file2) {
		t.Error("Open rewrote an intact file")
	}
	ssh := "tcp 203.0.113.5:40000 10.1.1.4:22 S"
	if a, b := decideIn(t, top1, l.eni.NetworkInterfaceId, policy.Ingress, ssh), decideIn(t, top2, l.eni.NetworkInterfaceId, policy.Ingress, ssh); a != b || a != "ACCEPT "+l.web.GroupId+"/ingress/1" {
		t.Errorf("before %s, after %s", a, b)
	}
	if _, v, _ := s2.CreateVpc("10.3.0.0/16", nil); v != v1+1 {
		t.Errorf("version %d after a change following v%d", v, v1)
	}
}

func describeAll(s *Store) ([]SecurityGroupRule, int, error) {
	r, err := s.DescribeSecurityGroupRules(nil, nil)
	return r, 0, err
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "network.json")
	if _, err := Open(path, Options{Account: "1234", Region: testRegion}); err == nil {
		t.Error("bad account accepted")
	}
	if _, err := Open(path, Options{Account: testAccount}); err == nil {
		t.Error("no Region accepted")
	}
	s := openAt(t, dir)
	if _, err := Open(path, testOptions()); err == nil || !strings.Contains(err.Error(), "open elsewhere") {
		t.Errorf("second Open: %v", err)
	}
	must[Vpc](t)(s.CreateVpc("10.0.0.0/16", nil))
	s.Close()
	if _, err := Open(path, Options{Account: "999999999999", Region: testRegion}); err == nil || !strings.Contains(err.Error(), "belongs to account") {
		t.Errorf("other identity: %v", err)
	}
	good, _ := os.ReadFile(path)
	for _, c := range []struct {
		name string
		edit func(map[string]any)
		want string
	}{
		{"format", func(d map[string]any) { d["Format"] = "x" }, "not a network state file"},
		{"version", func(d map[string]any) { d["Version"] = 9 }, "file version 9"},
		{"unknown key", func(d map[string]any) { d["Extra"] = 1 }, "corrupt file"},
		{"no network", func(d map[string]any) { delete(d, "Network") }, "no Network"},
		{"dangling rule", func(d map[string]any) {
			rs := d["SecurityGroupRules"].([]any)
			rs[0].(map[string]any)["FromPort"] = 7
			rs[0].(map[string]any)["ToPort"] = 7
			rs[0].(map[string]any)["IpProtocol"] = "tcp"
		}, "matches no permission"},
		{"bad rule id", func(d map[string]any) {
			d["SecurityGroupRules"].([]any)[0].(map[string]any)["SecurityGroupRuleId"] = "rule-1"
		}, "bad rule id"},
		{"invalid topology", func(d map[string]any) {
			d["Network"].(map[string]any)["Subnets"] = []any{map[string]any{"SubnetId": "subnet-1", "VpcId": "vpc-nowhere", "CidrBlock": "10.0.0.0/24"}}
		}, "not a valid topology"},
	} {
		var d map[string]any
		json.Unmarshal(good, &d)
		c.edit(d)
		b, _ := json.Marshal(d)
		os.WriteFile(path, b, 0o644)
		_, err := Open(path, testOptions())
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
		if got, _ := os.ReadFile(path); !bytes.Equal(got, b) {
			t.Errorf("%s: a failed Open changed the file", c.name)
		}
	}
	os.WriteFile(path, good[:len(good)/2], 0o644)
	if _, err := Open(path, testOptions()); err == nil || !strings.Contains(err.Error(), "corrupt file") {
		t.Errorf("truncated file: %v", err)
	}
}

// A file edited by hand with the service stopped: rules written without an
// entry in SecurityGroupRules get ids, which stay from then on.
func TestHandEditedFile(t *testing.T) {
	l := newLab(t)
	path := filepath.Join(l.dir, "network.json")
	l.s.Close()
	var d map[string]any
	b, _ := os.ReadFile(path)
	json.Unmarshal(b, &d)
	for _, g := range d["Network"].(map[string]any)["SecurityGroups"].([]any) {
		if g.(map[string]any)["GroupId"] == l.web.GroupId {
			g.(map[string]any)["IpPermissions"] = []any{map[string]any{"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
				"IpRanges": []any{map[string]any{"CidrIp": "0.0.0.0/0"}}}}
		}
	}
	b, _ = json.Marshal(d)
	os.WriteFile(path, b, 0o644)
	s := openAt(t, l.dir)
	rs, _ := s.DescribeSecurityGroupRules(nil, []Filter{{Name: "group-id", Values: []string{l.web.GroupId}}})
	var id string
	for _, r := range rs {
		if r.FromPort == 80 {
			id = r.SecurityGroupRuleId
		}
	}
	if !isID(id, "sgr") {
		t.Fatalf("rules %+v", rs)
	}
	if got := decide(t, s, l.eni.NetworkInterfaceId, policy.Ingress, "tcp 198.51.100.1:40000 10.1.1.4:80 S"); got != "ACCEPT "+l.web.GroupId+"/ingress/1" {
		t.Errorf("hand-written rule: %s", got)
	}
	s.Close()
	s = openAt(t, l.dir)
	rs2, _ := s.DescribeSecurityGroupRules([]string{id}, nil)
	if len(rs2) != 1 {
		t.Error("the id given at the first open did not stay")
	}
}

// Every change must leave a network topology accepts; one that would not
// fails with InvalidParameterValue and changes nothing.
func TestChangeTopologyRejectsRollsBack(t *testing.T) {
	l := newLab(t)
	path := filepath.Join(l.dir, "network.json")
	before, _ := os.ReadFile(path)
	_, v0 := l.s.Topology()
	_, err := l.s.mutate(func(st *state, u ids) error {
		st.net.NetworkInterfaces = append(st.net.NetworkInterfaces, NetworkInterface{NetworkInterfaceId: u.new("eni"),
			SubnetId: l.subnet.SubnetId, PrivateIpAddress: "10.99.0.1", Groups: []GroupIdentifier{}})
		return nil
	})
	wantCode(t, err, CodeInvalidParameterValue)
	if !strings.Contains(err.Error(), "outside subnet") {
		t.Errorf("message: %v", err)
	}
	after, _ := os.ReadFile(path)
	if _, v := l.s.Topology(); v != v0 || !bytes.Equal(before, after) || len(l.s.Network().NetworkInterfaces) != 1 {
		t.Error("a rejected change was kept")
	}
}

// Writers and readers at once (run with -race): every change lands once,
// readers always see a whole network.
func TestConcurrency(t *testing.T) {
	l := newLab(t)
	s := l.s
	_, v0 := s.Topology()
	const writers, each = 4, 8
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for r := 0; r < 3; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				top, v := s.Topology()
				if v < v0 || top.ENIByID(l.eni.NetworkInterfaceId) == nil {
					t.Error("reader saw a partial network")
					return
				}
				e, err := policy.New(top, policy.DefaultConfig())
				if err != nil {
					t.Error(err)
					return
				}
				e.Decide(top.ENIByID(l.eni.NetworkInterfaceId), policy.Ingress, pkt(t, "tcp 203.0.113.5:40000 10.1.1.4:22 S"), 1)
				s.Network()
				if _, err := s.DescribeSecurityGroupRules(nil, nil); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	var ww sync.WaitGroup
	for w := 0; w < writers; w++ {
		ww.Add(1)
		go func() {
			defer ww.Done()
			for i := 0; i < each; i++ {
				port := 1000 + w*100 + i
				if _, _, err := s.AuthorizeSecurityGroupIngress(l.web.GroupId, []IpPermission{tcp(port, port, "0.0.0.0/0")}, nil); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	ww.Wait()
	close(stop)
	wg.Wait()
	top, v := s.Topology()
	if v != v0+writers*each {
		t.Errorf("version %d, want %d", v, v0+writers*each)
	}
	if n := len(top.SecurityGroup(l.web.GroupId).Ingress); n != writers*each {
		t.Errorf("%d permissions, want %d", n, writers*each)
	}
	s.Close()
	s2 := openAt(t, l.dir)
	if _, v2 := s2.Topology(); v2 != v {
		t.Errorf("restart: v%d, want v%d", v2, v)
	}
}

// A corrupt state file is a clear error, never a panic.
func FuzzOpen(f *testing.F) {
	dir := f.TempDir()
	s := openAt(f, dir)
	if err := s.Seed("examples/topology.yaml", exampleFile(f)); err != nil {
		f.Fatal(err)
	}
	s.Close()
	good, _ := os.ReadFile(filepath.Join(dir, "network.json"))
	f.Add(good)
	f.Add(good[:len(good)/3])
	f.Add([]byte(`{"Format":"vpcflow network state","Version":1,"Account":"111122223333","Region":"us-east-1","NetworkVersion":0}`))
	f.Add([]byte(`{"Format":"vpcflow network state","Version":1,"Account":"111122223333","Region":"us-east-1","NetworkVersion":1,"Network":{"Vpcs":[{"VpcId":"v"}]}}`))
	f.Add([]byte(`{"Format":"vpcflow network state","Version":1,"Account":"111122223333","Region":"us-east-1","NetworkVersion":1,"Network":{"SecurityGroups":[{"GroupId":"g","IpPermissions":[{"IpProtocol":"tcp"}]}]}}`))
	f.Add(bytes.Replace(good, []byte(`"tcp"`), []byte(`"bogus"`), 1))
	f.Add(bytes.Replace(good, []byte(`"NetworkVersion": 1`), []byte(`"NetworkVersion": -4`), 1))
	f.Fuzz(func(t *testing.T, data []byte) {
		d := t.TempDir()
		path := filepath.Join(d, "network.json")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := Open(path, testOptions())
		if err != nil {
			if !strings.HasPrefix(err.Error(), "netstate: ") {
				t.Errorf("error without context: %v", err)
			}
			return
		}
		defer s.Close()
		top, _ := s.Topology()
		if top == nil {
			t.Fatal("opened without a topology")
		}
		// What opened must survive a restart unchanged.
		n := mustJSON(s.Network())
		s.Close()
		s2, err := Open(path, testOptions())
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		defer s2.Close()
		if got := mustJSON(s2.Network()); !bytes.Equal(got, n) {
			t.Errorf("network changed across a restart:\n%s\n%s", n, got)
		}
	})
}
