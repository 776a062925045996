//go:build linux

package lab

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/vpcflow/vpcflow/internal/e2e"
)

func TestMain(m *testing.M) {
	code := m.Run()
	e2e.Cleanup()
	os.Exit(code)
}

// skip skips tests that build labs unless this host can (root, ip,
// bridge, nft, br_netfilter).
func skip(t *testing.T) {
	t.Helper()
	if err := Check(); err != nil {
		t.Skipf("%v", err)
	}
}

var labSeq atomic.Uint32

// testID is a lab id unique to this process and call.
func testID() string {
	return fmt.Sprintf("t%dx%d", os.Getpid()%100000, labSeq.Add(1))
}

// startLab builds the lab of a topology file; it is removed when the test
// ends, and the test fails if anything of it is left.
func startLab(t *testing.T, file string) *Lab {
	t.Helper()
	return startLabDeps(t, file, nil)
}

// startLabDeps is startLab with dependencies set by with.
func startLabDeps(t *testing.T, file string, with func(*Dependencies)) *Lab {
	t.Helper()
	cfg := DefaultConfiguration()
	cfg.ID = testID()
	deps := Dependencies{Topology: load(t, file)}
	if with != nil {
		with(&deps)
	}
	l, err := New(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Stop(); err != nil {
			t.Error(err)
		}
		if left, _ := labNamespaces(cfg.ID); len(left) > 0 {
			t.Errorf("Stop left namespaces %v", left)
		}
	})
	return l
}

// sh runs a command and returns its combined output and exit status.
func sh(t *testing.T, args ...string) (string, int) {
	t.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	}
	if err != nil {
		t.Fatalf("%s: %v", strings.Join(args, " "), err)
	}
	return string(out), 0
}

// linkCounters returns the packets a device of namespace ns received and
// sent (the kernel's counters).
func linkCounters(t *testing.T, ns, dev string) (rx, tx uint64) {
	t.Helper()
	out, code := sh(t, "ip", "-n", ns, "-j", "-s", "link", "show", "dev", dev)
	var ls []struct {
		Stats struct {
			RX struct{ Packets uint64 } `json:"rx"`
			TX struct{ Packets uint64 } `json:"tx"`
		} `json:"stats64"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &ls) != nil || len(ls) != 1 {
		t.Fatalf("counters of %s in %s: %s", dev, ns, out)
	}
	return ls[0].Stats.RX.Packets, ls[0].Stats.TX.Packets
}

// ruleKey names a counted rule: the ENI whose traffic it judges ("" for
// the lab's own rules) and its comment, the policy rule name.
type ruleKey struct{ eni, rule string }

type ruleCount struct {
	packets uint64
	drop    bool
}

// counters reads the packet counters of every commented nftables rule of
// the lab, by ENI and rule name.
func counters(t *testing.T, l *Lab) map[ruleKey]ruleCount {
	t.Helper()
	out := map[ruleKey]ruleCount{}
	read := func(ns string, eniOf func(chain string) string) {
		s, code := sh(t, "ip", "netns", "exec", ns, "nft", "-j", "list", "ruleset")
		if code != 0 {
			t.Fatalf("nft list ruleset in %s: %s", ns, s)
		}
		var doc struct {
			Nftables []struct {
				Rule *struct {
					Chain   string           `json:"chain"`
					Comment string           `json:"comment"`
					Expr    []map[string]any `json:"expr"`
				} `json:"rule"`
			} `json:"nftables"`
		}
		if err := json.Unmarshal([]byte(s), &doc); err != nil {
			t.Fatalf("nft -j in %s: %v", ns, err)
		}
		for _, o := range doc.Nftables {
			r := o.Rule
			if r == nil || r.Comment == "" {
				continue
			}
			k := ruleKey{eniOf(r.Chain), r.Comment}
			c := out[k]
			for _, e := range r.Expr {
				if cnt, ok := e["counter"].(map[string]any); ok {
					c.packets += uint64(cnt["packets"].(float64))
				}
				if _, ok := e["drop"]; ok {
					c.drop = true
				}
			}
			out[k] = c
		}
	}
	p := l.Plan()
	read(p.Router, func(chain string) string {
		for _, pre := range []string{"sg_out_", "nacl_out_"} {
			if id, ok := strings.CutPrefix(chain, pre); ok {
				return strings.ReplaceAll(id, "_", "-")
			}
		}
		return ""
	})
	for _, e := range p.ENIs {
		read(e.Namespace, func(string) string { return e.ENI.ID })
	}
	return out
}

// capture runs the real vpcflow binary in the router namespace on every
// ENI's port (pinned to its ENI) until stop is called, which returns the
// records it printed when its windows closed, one per line.
func capture(t *testing.T, l *Lab, file string) (stop func() []string) {
	t.Helper()
	p := l.Plan()
	var ifs []string
	for _, e := range p.ENIs {
		ifs = append(ifs, e.Port+"="+e.ENI.ID)
	}
	cmd := exec.Command("ip", "netns", "exec", p.Router, e2e.Binary(t), "run", "--topology", file,
		"--interface", strings.Join(ifs, ","), "--stdout", "--interval", "60",
		"--format", "${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${action} ${x-rule}")
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := false
	t.Cleanup(func() {
		if !done {
			cmd.Process.Kill() // our own child, by its pid
			cmd.Wait()
		}
	})
	var errText strings.Builder
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			errText.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), "vpcflow run: capturing") {
				ready <- true
			}
		}
		close(ready)
	}()
	select {
	case ok := <-ready:
		if !ok {
			cmd.Wait()
			t.Fatalf("vpcflow run ended before capturing:\n%s", errText.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("vpcflow run did not start capturing in 30 s")
	}
	return func() []string {
		time.Sleep(300 * time.Millisecond) // the kernel hands frames over a block timeout late
		cmd.Process.Signal(syscall.SIGINT)
		err := cmd.Wait()
		done = true
		if err != nil {
			t.Fatalf("vpcflow run: %v\n%s", err, errText.String())
		}
		t.Logf("vpcflow run:\n%s", errText.String())
		return strings.Split(strings.TrimSpace(stdout.String()), "\n")
	}
}

// flow is a record without its packets: what records of several windows
// share.
type flow struct {
	eni, src, dst, sport, dport, proto, action, rule string
}

func parseRecords(t *testing.T, lines []string) map[flow]uint64 {
	t.Helper()
	out := map[flow]uint64{}
	for _, line := range lines {
		f := strings.Fields(line)
		if len(f) != 9 {
			t.Fatalf("record %q: want 9 fields", line)
		}
		n, err := strconv.ParseUint(f[6], 10, 64)
		if err != nil {
			t.Fatalf("record %q: packets %q", line, f[6])
		}
		out[flow{f[0], f[1], f[2], f[3], f[4], f[5], f[7], f[8]}] += n
	}
	return out
}

// compare checks the records against the kernel: each record's rule
// counted as many packets in the kernel as the records say it decided
// (the kernel's rule of that ENI and name), REJECT records name drop
// rules and ACCEPT records pass rules, and every packet a rule of the
// lab dropped is in a REJECT record.
func compare(t *testing.T, recs map[flow]uint64, kernel map[ruleKey]ruleCount) {
	t.Helper()
	byRule := map[ruleKey]uint64{}
	action := map[ruleKey]string{}
	for f, n := range recs {
		k := ruleKey{f.eni, f.rule}
		byRule[k] += n
		if a, ok := action[k]; ok && a != f.action {
			t.Errorf("%s %s: both ACCEPT and REJECT records", f.eni, f.rule)
		}
		action[k] = f.action
	}
	for k, n := range byRule {
		c, ok := kernel[k]
		switch {
		case !ok:
			t.Errorf("records name %s on %s (%d packets): no kernel rule has that name", k.rule, k.eni, n)
		case c.packets != n:
			t.Errorf("%s on %s: records %d packets, the kernel's rule counted %d", k.rule, k.eni, n, c.packets)
		case c.drop != (action[k] == "REJECT"):
			t.Errorf("%s on %s: records say %s, the kernel's rule drops: %v", k.rule, k.eni, action[k], c.drop)
		}
	}
	for k, c := range kernel {
		if c.drop && c.packets > 0 && byRule[k] == 0 {
			t.Errorf("the kernel dropped %d packets at %s (%q) that no record rejects", c.packets, k.rule, k.eni)
		}
	}
	if t.Failed() {
		for f, n := range recs {
			t.Logf("record %+v: %d packets", f, n)
		}
		for k, c := range kernel {
			if c.packets > 0 {
				t.Logf("kernel %s on %q: %d packets (drop %v)", k.rule, k.eni, c.packets, c.drop)
			}
		}
	}
}

// TestPingExample builds the ping example, pings the instance's public
// address from the internet and opens a TCP connection to its port 22,
// while vpcflow run captures the instance's port. The security group
// lets the echo requests in; the network ACL, with no outbound rule,
// drops the replies; port 22 is not in the ACL's inbound rules.
func TestPingExample(t *testing.T) {
	skip(t)
	const file = "testdata/ping.yaml"
	l := startLab(t, file)
	p := l.Plan()
	eni := p.ENIs[0]
	stop := capture(t, l, file)
	rx0, tx0 := linkCounters(t, eni.Namespace, ENIDev)
	irx0, itx0 := linkCounters(t, p.Internet, InternetLinkDev)

	out, code := sh(t, "ip", "netns", "exec", p.Internet, "ping", "-c", "3", "-i", "0.2", "-W", "1", "-I", "198.51.100.7", "203.0.113.10")
	if code != 1 || !strings.Contains(out, "3 packets transmitted, 0 received") {
		t.Errorf("ping: exit status %d, want 1 (no reply):\n%s", code, out)
	}
	err := Do(p.Internet, func() error {
		d := net.Dialer{Timeout: 1500 * time.Millisecond, LocalAddr: &net.TCPAddr{IP: net.ParseIP("198.51.100.7")}}
		c, err := d.Dial("tcp4", "203.0.113.10:22")
		if err == nil {
			c.Close()
			return fmt.Errorf("connected to port 22, which the network ACL denies")
		}
		if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
			return fmt.Errorf("dial: %v, want a timeout (the SYN dropped)", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	recs := parseRecords(t, stop())
	kernel := counters(t, l)
	rx1, tx1 := linkCounters(t, eni.Namespace, ENIDev)
	irx1, itx1 := linkCounters(t, p.Internet, InternetLinkDev)

	syns := kernel[ruleKey{eni.ENI.ID, "acl-0a1b2c3d4e5f60004/ingress/*"}].packets
	if syns < 1 {
		t.Fatalf("the network ACL's inbound * dropped %d packets, want the SYNs", syns)
	}
	// The instance received the 3 requests and the SYNs and sent 3
	// replies; nothing came back to the internet.
	if rx1-rx0 != 3+syns || tx1-tx0 != 3 {
		t.Errorf("instance's eth0: received %d, sent %d; want %d (3 echo requests, %d SYNs) and 3", rx1-rx0, tx1-tx0, 3+syns, syns)
	}
	if irx1-irx0 != 0 || itx1-itx0 != 3+syns {
		t.Errorf("internet's link: received %d, sent %d; want 0 and %d", irx1-irx0, itx1-itx0, 3+syns)
	}
	for k, want := range map[ruleKey]uint64{
		{eni.ENI.ID, "acl-0a1b2c3d4e5f60004/ingress/100"}: 3, // the echo requests, allowed
		{eni.ENI.ID, "sg-0a1b2c3d4e5f60003/ingress/1"}:    3,
		{eni.ENI.ID, "sg-0a1b2c3d4e5f60003/tracked"}:      3, // the replies, outbound
		{eni.ENI.ID, "acl-0a1b2c3d4e5f60004/egress/*"}:    3, // and dropped
		{eni.ENI.ID, "sg-0a1b2c3d4e5f60003/egress/none"}:  0,
	} {
		if got := kernel[k].packets; got != want {
			t.Errorf("kernel: %s counted %d packets, want %d", k.rule, got, want)
		}
	}
	// The records, by hand: the ping example's two records, and the
	// SYNs rejected on the way in.
	want := map[flow]uint64{
		{eni.ENI.ID, "198.51.100.7", "10.1.2.15", "0", "0", "1", "ACCEPT", "sg-0a1b2c3d4e5f60003/ingress/1"}: 3,
		{eni.ENI.ID, "10.1.2.15", "198.51.100.7", "0", "0", "1", "REJECT", "acl-0a1b2c3d4e5f60004/egress/*"}: 3,
	}
	for f, n := range recs {
		if f.proto == "6" {
			if f.src != "198.51.100.7" || f.dst != "10.1.2.15" || f.dport != "22" || f.action != "REJECT" || f.rule != "acl-0a1b2c3d4e5f60004/ingress/*" {
				t.Errorf("TCP record %+v", f)
			}
			want[f] = syns
			if n != syns {
				t.Errorf("TCP record: %d packets, want the %d SYNs", n, syns)
			}
		}
	}
	for f, n := range want {
		if recs[f] != n {
			t.Errorf("record %+v: %d packets, want %d", f, recs[f], n)
		}
	}
	if len(recs) != len(want) {
		t.Errorf("records %v, want %v", recs, want)
	}
	compare(t, recs, kernel)
}

// TestTwoTier sends traffic between the two web servers (one subnet: the
// bridge, IPv4 and IPv6), from the web servers to the database (another
// subnet: the router and the database subnet's network ACL), and from the
// database, whose group sends nothing. Every record's rule counted in
// the kernel what the records say, and each outcome is the one the
// topology's rules give.
func TestTwoTier(t *testing.T) {
	skip(t)
	const file = "testdata/twotier.yaml"
	l := startLab(t, file)
	p := l.Plan()
	ns := func(id string) string { return eniPlan(t, p, id).Namespace }
	web1, web2, db := ns("eni-0b00000000000000c1"), ns("eni-0b00000000000000c2"), ns("eni-0b00000000000000c3")
	var ln net.Listener
	if err := Do(db, func() (err error) {
		ln, err = net.Listen("tcp4", "10.2.2.30:5432")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan string, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c.RemoteAddr().String()
			c.Close()
		}
	}()
	stop := capture(t, l, file)

	ping := func(from string, args ...string) int {
		out, code := sh(t, append([]string{"ip", "netns", "exec", from, "ping", "-c", "2", "-i", "0.2", "-W", "1"}, args...)...)
		t.Logf("ping %s from %s: exit status %d\n%s", strings.Join(args, " "), from, code, out)
		return code
	}
	dial := func(from string) error {
		return Do(from, func() error {
			c, err := net.DialTimeout("tcp4", "10.2.2.30:5432", 1500*time.Millisecond)
			if err == nil {
				c.Close()
			}
			return err
		})
	}
	// Inside the web subnet: the web group lets its members in.
	if code := ping(web1, "10.2.1.11"); code != 0 {
		t.Errorf("web1 → web2: exit status %d, want 0", code)
	}
	if code := ping(web1, "-6", "2001:db8:2:1::11"); code != 0 {
		t.Errorf("web1 → web2 over IPv6: exit status %d, want 0", code)
	}
	// To the database: ACL rule 100 and the group's rule 1 let web1 in;
	// ACL rule 90 keeps web2 out before rule 100 would let it in.
	if err := dial(web1); err != nil {
		t.Errorf("web1 → db:5432: %v", err)
	} else if a := <-accepted; !strings.HasPrefix(a, "10.2.1.10:") {
		t.Errorf("db accepted %s, want web1", a)
	}
	if err := dial(web2); err == nil {
		t.Errorf("web2 → db:5432 connected; the network ACL's rule 90 denies it")
	}
	// The database's group has no outbound rule: its echo request dies
	// at its port.
	if code := ping(db, "10.2.1.10"); code != 1 {
		t.Errorf("db → web1: exit status %d, want 1", code)
	}
	recs := parseRecords(t, stop())
	kernel := counters(t, l)
	for f, n := range recs {
		t.Logf("record %v: %d packets", f, n)
	}
	// What each outcome must have been recorded as, by hand from the
	// topology's rules (packets of TCP depend on the handshake's timing:
	// the comparison with the kernel checks them).
	for _, c := range []struct {
		f    flow
		want uint64
	}{
		{flow{"eni-0b00000000000000c1", "10.2.1.10", "10.2.1.11", "0", "0", "1", "ACCEPT", "sg-0b00000000000000d1/egress/1"}, 2},
		{flow{"eni-0b00000000000000c1", "10.2.1.11", "10.2.1.10", "0", "0", "1", "ACCEPT", "sg-0b00000000000000d1/tracked"}, 2},
		{flow{"eni-0b00000000000000c2", "10.2.1.10", "10.2.1.11", "0", "0", "1", "ACCEPT", "sg-0b00000000000000d1/ingress/3"}, 2},
		{flow{"eni-0b00000000000000c2", "10.2.1.11", "10.2.1.10", "0", "0", "1", "ACCEPT", "sg-0b00000000000000d1/tracked"}, 2},
		{flow{"eni-0b00000000000000c1", "2001:db8:2:1::10", "2001:db8:2:1::11", "0", "0", "58", "ACCEPT", "sg-0b00000000000000d1/egress/1"}, 2},
		{flow{"eni-0b00000000000000c2", "2001:db8:2:1::10", "2001:db8:2:1::11", "0", "0", "58", "ACCEPT", "sg-0b00000000000000d1/ingress/3"}, 2},
		{flow{"eni-0b00000000000000c3", "10.2.2.30", "10.2.1.10", "0", "0", "1", "REJECT", "sg-0b00000000000000d2/egress/none"}, 2},
	} {
		if got := recs[c.f]; got != c.want {
			t.Errorf("record %+v: %d packets, want %d", c.f, got, c.want)
		}
	}
	want := map[string]string{ // ENI, action, rule of the TCP records
		"eni-0b00000000000000c1 10.2.1.10 6 ACCEPT": "sg-0b00000000000000d1/egress/1",
		"eni-0b00000000000000c1 10.2.2.30 6 ACCEPT": "sg-0b00000000000000d1/tracked",
		"eni-0b00000000000000c3 10.2.1.10 6 ACCEPT": "sg-0b00000000000000d2/ingress/1",
		"eni-0b00000000000000c3 10.2.2.30 6 ACCEPT": "sg-0b00000000000000d2/tracked",
		"eni-0b00000000000000c2 10.2.1.11 6 ACCEPT": "sg-0b00000000000000d1/egress/1",
		"eni-0b00000000000000c3 10.2.1.11 6 REJECT": "acl-0b00000000000000e2/ingress/90",
	}
	seen := map[string]bool{}
	for f := range recs {
		if f.proto != "6" {
			continue
		}
		k := f.eni + " " + f.src + " 6 " + f.action
		if want[k] != f.rule {
			t.Errorf("TCP record %+v: want rule %q", f, want[k])
		}
		seen[k] = true
	}
	for k := range want {
		if !seen[k] {
			t.Errorf("no TCP record %s", k)
		}
	}
	compare(t, recs, kernel)
}

// TestDownAfterKill kills `vpcflow lab up` with SIGKILL, so it removes
// nothing, and checks that `vpcflow lab down` finds and removes the
// whole lab from its id alone.
func TestDownAfterKill(t *testing.T) {
	skip(t)
	id := testID()
	bin := e2e.Binary(t)
	up := exec.Command(bin, "lab", "up", "--topology", "testdata/twotier.yaml", "--lab-id", id)
	var stdout bytes.Buffer
	up.Stdout = &stdout
	stderr, err := up.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := up.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { Down(id, nil) }) // if the test fails half way
	sc := bufio.NewScanner(stderr)
	built := false
	for sc.Scan() {
		if strings.Contains(sc.Text(), "built in") {
			built = true
			break
		}
		t.Log(sc.Text())
	}
	if !built {
		up.Wait()
		t.Fatalf("lab up ended before the lab was built:\n%s", stdout.String())
	}
	up.Process.Kill() // SIGKILL, our own child by its pid
	up.Wait()
	have, err := labNamespaces(id)
	if err != nil || len(have) != 6 {
		t.Fatalf("after SIGKILL: namespaces %v (%v), want the router's, the internet's and 4 ENIs (3 instances, 1 NAT gateway)", have, err)
	}
	out, code := sh(t, bin, "lab", "down", "--lab-id", id)
	if code != 0 {
		t.Fatalf("lab down: exit status %d\n%s", code, out)
	}
	for _, ns := range have {
		if !strings.Contains(out, "removed "+ns+"\n") {
			t.Errorf("lab down did not say it removed %s:\n%s", ns, out)
		}
	}
	netns, _ := sh(t, "ip", "netns", "list")
	if strings.Contains(netns, Prefix(id)) {
		t.Errorf("ip netns list after lab down:\n%s", netns)
	}
	// Nothing of the lab was ever in this namespace: no veth end, bridge
	// or table named as the lab names them, no link to a lab namespace.
	links, _ := sh(t, "ip", "-d", "link", "show")
	for _, name := range []string{"eni-000000000c", "br-0000000000a", Prefix(id)} {
		if strings.Contains(links, name) {
			t.Errorf("ip link shows %q after lab down:\n%s", name, links)
		}
	}
	if tables, _ := sh(t, "nft", "list", "tables"); strings.Contains(tables, " "+Table+"\n") {
		t.Errorf("nft list tables after lab down:\n%s", tables)
	}
	out, _ = sh(t, bin, "lab", "status")
	if strings.Contains(out, "lab "+id+":") {
		t.Errorf("lab status after lab down:\n%s", out)
	}
	// A second down finds nothing, and says so.
	out, code = sh(t, bin, "lab", "down", "--lab-id", id)
	if code != 0 || !strings.Contains(out, "no lab "+id) {
		t.Errorf("second lab down: exit status %d\n%s", code, out)
	}
}

// TestStartRefusesExisting: a lab id is up once; the second Start fails
// and removes nothing of the first.
func TestStartRefusesExisting(t *testing.T) {
	skip(t)
	l := startLab(t, "testdata/ping.yaml")
	cfg := DefaultConfiguration()
	cfg.ID = l.cfg.ID
	l2, err := New(cfg, Dependencies{Topology: load(t, "testdata/ping.yaml")})
	if err != nil {
		t.Fatal(err)
	}
	err = l2.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "exists") {
		t.Fatalf("second Start: %v, want lab %s exists", err, cfg.ID)
	}
	if err := l2.Stop(); err != nil {
		t.Fatal(err)
	}
	if have, _ := labNamespaces(cfg.ID); len(have) != 3 {
		t.Errorf("after the refused Start: namespaces %v, want the first lab's 3", have)
	}
}
