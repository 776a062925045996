package main

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vpcflow/vpcflow/lab"
)

// TestServeLabAgreement runs a scripted mix of connections over TCP, UDP,
// ICMP and ICMPv6, IPv4 and IPv6, between the instances of
// lab/testdata/agree.yaml, from the internet namespace and through its NAT
// gateway, some allowed and some dropped by its security groups and
// network ACLs, through serve --lab. Then it compares what the kernel did with the records:
// per interface and direction, the packets the lab's nftables rules
// dropped (their counters) must be the REJECT records' packets, the rest
// of what crossed the interface's link (its port's counters) the ACCEPT
// records' packets, and per dropping rule its counter the packets of the
// REJECT records naming it (x-rule). The counts are logged.
func TestServeLabAgreement(t *testing.T) {
	p, id, data := labServe(t, "a", readTestFile(t, "../../lab/testdata/agree.yaml")+s3FlowLog("vpc-0d00000000000000a",
		"${interface-id} ${flow-direction} ${action} ${packets} ${protocol} ${x-rule} ${log-status}"), false)
	started := time.Now()

	const (
		a1 = "eni-0d00000000000000a1"
		a2 = "eni-0d00000000000000a2"
		b1 = "eni-0d00000000000000b1"
		n1 = "eni-0d00000000000000e1" // the NAT gateway's
	)
	ns := func(what string) string { return lab.Namespace(id, what) }
	// Servers: TCP and UDP echo on every port the script uses, on every
	// address of the instance (dropped traffic never reaches them).
	servers := map[string][]int{a1: {22, 80, 443}, a2: {80, 8080}, b1: {5432}}
	udpServers := map[string][]int{a1: {53}, a2: {9000}, b1: {5000}, lab.InternetName: {53}}
	var closers []io.Closer
	defer func() {
		for _, c := range closers {
			c.Close()
		}
	}()
	for eni, ports := range servers {
		for _, port := range ports {
			var ln net.Listener
			if err := lab.Do(ns(eni), func() (err error) { ln, err = net.Listen("tcp", fmt.Sprintf(":%d", port)); return err }); err != nil {
				t.Fatal(err)
			}
			closers = append(closers, ln)
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					go func() { defer c.Close(); io.Copy(c, c) }()
				}
			}()
		}
	}
	for eni, ports := range udpServers {
		for _, port := range ports {
			var pc net.PacketConn
			addr := fmt.Sprintf(":%d", port)
			if eni == lab.InternetName {
				// Bound to the address: an answer from any other the
				// NAT gateway would not take for the reply.
				addr = fmt.Sprintf("192.0.2.53:%d", port)
			}
			if err := lab.Do(ns(eni), func() (err error) { pc, err = net.ListenPacket("udp", addr); return err }); err != nil {
				t.Fatal(err)
			}
			closers = append(closers, pc)
			go func() {
				buf := make([]byte, 2048)
				for {
					n, from, err := pc.ReadFrom(buf)
					if err != nil {
						return
					}
					pc.WriteTo(buf[:n], from)
				}
			}()
		}
	}

	// The script: who talks to whom, how, and what the rules say (by hand
	// from agree.yaml's comment; the test checks the kernel did it).
	type conn struct {
		from, src, dst, proto string // from: namespace target; proto tcp, udp, icmp
		port                  int
		allowed               bool
		n                     int
	}
	script := []conn{
		{lab.InternetName, "198.51.100.7", "203.0.113.41", "tcp", 80, true, 80},
		{lab.InternetName, "198.51.100.7", "203.0.113.41", "tcp", 22, true, 60},
		{lab.InternetName, "203.0.113.99", "203.0.113.41", "tcp", 22, false, 60},  // SG: 22 from 198.51.100.0/24 only
		{lab.InternetName, "198.51.100.8", "203.0.113.41", "tcp", 443, false, 60}, // SG: no rule
		{lab.InternetName, "198.51.100.9", "203.0.113.41", "icmp", 0, true, 60},
		{lab.InternetName, "198.51.100.9", "203.0.113.41", "udp", 53, false, 60},
		{a1, "10.4.1.10", "10.4.1.11", "tcp", 8080, true, 80},
		{a1, "2001:db8:4:1::10", "2001:db8:4:1::11", "tcp", 8080, true, 80},
		{a2, "10.4.1.11", "10.4.1.10", "tcp", 80, false, 60}, // app sends no TCP 80
		{a1, "10.4.1.10", "10.4.1.11", "udp", 9000, true, 80},
		{a1, "2001:db8:4:1::10", "2001:db8:4:1::11", "icmp", 0, true, 60},
		{a2, "10.4.1.11", "10.4.2.20", "tcp", 5432, true, 80},
		{a2, "2001:db8:4:1::11", "2001:db8:4:2::20", "tcp", 5432, true, 60},
		{a1, "10.4.1.10", "10.4.2.20", "tcp", 5432, false, 60}, // b's ACL rule 90
		{a1, "10.4.1.10", "10.4.2.20", "icmp", 0, true, 60},
		{a2, "10.4.1.11", "10.4.2.20", "udp", 5000, false, 60},             // db takes no UDP
		{b1, "10.4.2.20", "10.4.1.10", "tcp", 80, false, 60},               // db sends nothing
		{a1, "2001:db8:4:1::10", "2001:db8:4:2::20", "icmp", 0, false, 60}, // b's ACL: no ICMPv6
		// Through the NAT gateway: forwarded both ways, or dropped by
		// subnet a's ACL on its way out (rule 90).
		{b1, "10.4.2.20", "192.0.2.53", "udp", 53, true, 80},
		{b1, "10.4.2.20", "192.0.2.99", "udp", 53, false, 60},
	}
	var jobs []conn
	for _, c := range script {
		for range c.n {
			jobs = append(jobs, c)
		}
	}
	var next, ok, failed, wrong atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var mismatches []string
	for range 24 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k := int(next.Add(1)) - 1
				if k >= len(jobs) {
					return
				}
				c := jobs[k]
				// A refused connection waits 300 ms for nothing; an allowed
				// one gets time on a busy machine.
				wait := 300 * time.Millisecond
				if c.allowed {
					wait = 3 * time.Second
				}
				err := exchange(ns(c.from), c.src, c.dst, c.proto, c.port, uint16(k), wait)
				if err == nil {
					ok.Add(1)
				} else {
					failed.Add(1)
				}
				if (err == nil) != c.allowed {
					wrong.Add(1)
					mu.Lock()
					if len(mismatches) < 5 {
						mismatches = append(mismatches, fmt.Sprintf("%s %s→%s %s/%d: %v", c.from, c.src, c.dst, c.proto, c.port, err))
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	trafficTime := time.Since(started)
	if wrong.Load() > 0 {
		t.Errorf("%d connections did not do what the rules say, e.g. %q", wrong.Load(), mismatches)
	}
	// Frames still in the capture rings reach the pipeline within its
	// grace; then the kernel's counters are final.
	time.Sleep(time.Second)
	drops := map[string]int64{}     // eni direction → packets dropped by the lab's rules
	ruleDrops := map[string]int64{} // eni direction rule → packets
	for _, eni := range []string{a1, a2, b1, n1} {
		for rule, n := range nftDrops(t, ns(eni), "") {
			drops[eni+" ingress"] += n
			ruleDrops[eni+" ingress "+rule] += n
		}
		for rule, n := range nftDrops(t, ns(lab.RouterName), strings.ReplaceAll(eni, "-", "_")) {
			drops[eni+" egress"] += n
			ruleDrops[eni+" egress "+rule] += n
		}
	}
	links := portCounters(t, ns(lab.RouterName)) // eni → [received by the ENI, sent by it]
	p.stop(t)

	records := map[string]int64{} // eni direction action → packets
	ruleRecords := map[string]int64{}
	var nRecords, skip int
	for _, r := range s3Records(t, filepath.Join(data, "buckets", "flows")) {
		if len(r) != 7 {
			t.Fatalf("record %v: want 7 fields", r)
		}
		if r[6] != "OK" {
			skip++
			continue
		}
		nRecords++
		n := int64(atoi(t, r[3]))
		records[r[0]+" "+r[1]+" "+r[2]] += n
		if r[2] == "REJECT" {
			ruleRecords[r[0]+" "+r[1]+" "+r[5]] += n
		}
	}
	var kernelDropped, kernelDelivered, rejected, accepted int64
	for _, eni := range []string{a1, a2, b1, n1} {
		for i, dir := range []string{"ingress", "egress"} {
			crossed := links[eni][i]
			k := eni + " " + dir
			kernelDropped += drops[k]
			kernelDelivered += crossed - drops[k]
			rejected += records[k+" REJECT"]
			accepted += records[k+" ACCEPT"]
			if records[k+" REJECT"] != drops[k] || records[k+" ACCEPT"] != crossed-drops[k] {
				t.Errorf("%s: the link carried %d packets, the rules dropped %d; records: %d ACCEPT, %d REJECT",
					k, crossed, drops[k], records[k+" ACCEPT"], records[k+" REJECT"])
			}
		}
	}
	rules := 0
	for k, n := range ruleDrops {
		if n > 0 {
			rules++
		}
		if n != ruleRecords[k] {
			t.Errorf("rule %s dropped %d packets; REJECT records naming it: %d", k, n, ruleRecords[k])
		}
	}
	for k, n := range ruleRecords {
		if _, ok := ruleDrops[k]; !ok {
			t.Errorf("REJECT records name %s (%d packets), which dropped nothing in the kernel", k, n)
		}
	}
	if skip > 0 {
		t.Errorf("%d SKIPDATA or NODATA records", skip)
	}
	if kernelDropped == 0 || kernelDelivered == 0 {
		t.Errorf("the script dropped %d and delivered %d packets: want some of each", kernelDropped, kernelDelivered)
	}
	t.Logf("agreement: %d connections (%d completed, %d refused by the rules as scripted) in %v over %d interfaces; "+
		"kernel: %d packets delivered, %d dropped by %d rules; records (%d): %d packets ACCEPT, %d REJECT",
		len(jobs), ok.Load(), failed.Load(), trafficTime.Round(time.Millisecond), len(links),
		kernelDelivered, kernelDropped, rules, nRecords, accepted, rejected)
}

// exchange makes one connection from namespace ns: a TCP connection that
// echoes a byte, a UDP datagram echoed, or an ICMP echo (ICMPv6 for IPv6
// addresses) with identifier id. It fails when no answer comes in time.
func exchange(ns, src, dst, proto string, port int, id uint16, wait time.Duration) error {
	s, d := netip.MustParseAddr(src), netip.MustParseAddr(dst)
	var c net.Conn
	err := lab.Do(ns, func() (err error) {
		switch proto {
		case "tcp":
			dl := net.Dialer{Timeout: wait, LocalAddr: &net.TCPAddr{IP: s.AsSlice()}}
			c, err = dl.Dial("tcp", netip.AddrPortFrom(d, uint16(port)).String())
		case "udp":
			c, err = net.DialUDP("udp", &net.UDPAddr{IP: s.AsSlice()}, net.UDPAddrFromAddrPort(netip.AddrPortFrom(d, uint16(port))))
		case "icmp":
			network := "ip4:icmp"
			if d.Is6() {
				network = "ip6:ipv6-icmp"
			}
			c, err = net.DialIP(network, &net.IPAddr{IP: s.AsSlice()}, &net.IPAddr{IP: d.AsSlice()})
		}
		return err
	})
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(wait))
	if proto != "icmp" {
		if _, err := c.Write([]byte("x")); err != nil {
			return err
		}
		_, err := io.ReadFull(c, make([]byte, 1))
		return err
	}
	msg := []byte{8, 0, 0, 0, 0, 0, 0, 1, 'p', 'i', 'n', 'g'}
	reply := byte(0)
	if d.Is6() {
		msg[0], reply = 128, 129 // the kernel fills ICMPv6's checksum
	}
	binary.BigEndian.PutUint16(msg[4:], id)
	if d.Is4() {
		binary.BigEndian.PutUint16(msg[2:], checksum(msg))
	}
	if _, err := c.Write(msg); err != nil {
		return err
	}
	buf := make([]byte, 1500)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return err
		}
		b := buf[:n]
		if d.Is4() && n > 20 {
			b = b[int(b[0]&0xf)*4:] // raw IPv4 sockets read the header too
		}
		if len(b) >= 8 && b[0] == reply && binary.BigEndian.Uint16(b[4:]) == id {
			return nil
		}
	}
}

func checksum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

// nftDrops returns the packets counted by the dropping rules of the
// lab's inet table in namespace ns, by rule comment: in an ENI's namespace
// (eni "") those of its input chains, in the router those of the chains of
// one ENI's port (out_, sg_out_, nacl_out_ + eni).
func nftDrops(t *testing.T, ns, eni string) map[string]int64 {
	t.Helper()
	out, err := exec.Command("ip", "netns", "exec", ns, "nft", "-j", "list", "table", "inet", lab.Table).Output()
	if err != nil {
		t.Fatalf("nft list in %s: %v", ns, err)
	}
	var doc struct {
		Nftables []struct {
			Rule *struct {
				Chain   string
				Comment string
				Expr    []map[string]json.RawMessage
			}
		}
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, it := range doc.Nftables {
		r := it.Rule
		if r == nil {
			continue
		}
		if eni == "" && !slices.Contains([]string{"input", "nacl_in", "sg_in"}, r.Chain) ||
			eni != "" && !slices.Contains([]string{"out_" + eni, "sg_out_" + eni, "nacl_out_" + eni}, r.Chain) {
			continue
		}
		var packets int64
		drop := false
		for _, e := range r.Expr {
			if c, ok := e["counter"]; ok {
				var cnt struct{ Packets int64 }
				json.Unmarshal(c, &cnt)
				packets = cnt.Packets
			}
			if _, ok := e["drop"]; ok {
				drop = true
			}
		}
		if drop {
			got[r.Comment] += packets
		}
	}
	return got
}

// portCounters returns, per ENI (its port's alias), the packets its port
// in the router namespace sent to it and received from it.
func portCounters(t *testing.T, router string) map[string][2]int64 {
	t.Helper()
	out, err := exec.Command("ip", "-n", router, "-j", "-s", "link", "show").Output()
	if err != nil {
		t.Fatal(err)
	}
	var links []struct {
		Alias string `json:"ifalias"`
		Stats struct {
			RX, TX struct{ Packets int64 }
		} `json:"stats64"`
	}
	if err := json.Unmarshal(out, &links); err != nil {
		t.Fatal(err)
	}
	got := map[string][2]int64{}
	for _, l := range links {
		if strings.HasPrefix(l.Alias, "eni-") {
			got[l.Alias] = [2]int64{l.Stats.TX.Packets, l.Stats.RX.Packets}
		}
	}
	return got
}
