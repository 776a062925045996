package policy

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"syscall"
	"testing"

	"github.com/vpcflow/vpcflow/topology"
)

// benchTopology is the benchmark network: 50 SGs x 20 rules,
// 10 NACLs x 20 entries per direction, 10 subnets of 20 ENIs with 3 SGs
// each. The rule allowing HTTPS is the last rule of the last group of each
// ENI, and the NACL entries allowing HTTPS in and ephemeral ports out are
// the last before `*`, so every new connection scans ~60 SG rules and 20
// NACL entries.
func benchTopology(tb testing.TB) *topology.Topology {
	var b strings.Builder
	b.WriteString("Vpcs: [{VpcId: vpc-1, CidrBlock: 10.0.0.0/16}]\nSubnets:\n")
	for s := 0; s < 10; s++ {
		fmt.Fprintf(&b, "  - {SubnetId: subnet-%d, VpcId: vpc-1, CidrBlock: 10.0.%d.0/24}\n", s, s)
	}
	b.WriteString("NetworkInterfaces:\n")
	for i := 0; i < 200; i++ {
		s := i / 20
		// groups i%50 and (i+17)%50 have no HTTPS rule; the third one is
		// one of the 25 odd-numbered groups, whose last rule allows 443.
		fmt.Fprintf(&b, "  - {NetworkInterfaceId: eni-%03d, SubnetId: subnet-%d, PrivateIpAddress: 10.0.%d.%d, Groups: [{GroupId: sg-%02d}, {GroupId: sg-%02d}, {GroupId: sg-%02d}]}\n",
			i, s, s, 10+i%20, (2*i)%50, (2*i+18)%50, (2*i+1)%50)
	}
	b.WriteString("SecurityGroups:\n")
	for g := 0; g < 50; g++ {
		fmt.Fprintf(&b, "  - GroupId: sg-%02d\n    VpcId: vpc-1\n    IpPermissions:\n", g)
		for j := 0; j < 20; j++ {
			switch {
			case j == 19 && g%2 == 1:
				b.WriteString("      - {IpProtocol: tcp, FromPort: 443, ToPort: 443, IpRanges: [{CidrIp: 0.0.0.0/0}]}\n")
			case j%5 == 0:
				fmt.Fprintf(&b, "      - {IpProtocol: tcp, FromPort: %d, ToPort: %d, UserIdGroupPairs: [{GroupId: sg-%02d}]}\n", 2000+j, 2000+j, (g+1)%50)
			default:
				fmt.Fprintf(&b, "      - {IpProtocol: tcp, FromPort: %d, ToPort: %d, IpRanges: [{CidrIp: 172.16.%d.0/24}, {CidrIp: 172.17.%d.0/24}]}\n", 1000+j*10, 1005+j*10, j, g)
			}
		}
		b.WriteString("    IpPermissionsEgress: []\n")
	}
	b.WriteString("NetworkAcls:\n")
	for a := 0; a < 10; a++ {
		fmt.Fprintf(&b, "  - NetworkAclId: acl-%d\n    VpcId: vpc-1\n    IsDefault: %v\n    Associations: [{SubnetId: subnet-%d}]\n    Entries:\n", a, a == 0, a)
		for _, eg := range []bool{false, true} {
			for j := 1; j < 20; j++ {
				act := "allow"
				if j%3 == 0 {
					act = "deny"
				}
				fmt.Fprintf(&b, "      - {RuleNumber: %d, Protocol: \"6\", RuleAction: %s, Egress: %v, CidrBlock: 192.168.%d.0/24, PortRange: {From: %d, To: %d}}\n", j*10, act, eg, j, 1000+j, 2000+j)
			}
			if eg {
				fmt.Fprintf(&b, "      - {RuleNumber: 200, Protocol: \"6\", RuleAction: allow, Egress: true, CidrBlock: 0.0.0.0/0, PortRange: {From: 1024, To: 65535}}\n")
			} else {
				fmt.Fprintf(&b, "      - {RuleNumber: 200, Protocol: \"6\", RuleAction: allow, Egress: false, CidrBlock: 0.0.0.0/0, PortRange: {From: 443, To: 443}}\n")
			}
		}
	}
	top, err := topology.Parse("bench.yaml", []byte(b.String()))
	if err != nil {
		tb.Fatal(err)
	}
	return top
}

// linear is the baseline: evaluate every packet against the topology's
// rules by a plain scan, resolving SG references by scanning member
// addresses, with no compiled per-ENI lists and no tracking table. For a
// reply it re-derives the answer by checking the reverse packet against the
// rules of the other direction, which is what a stateless evaluator must do.
type linear struct{}

func (linear) sg(eni *topology.ENI, dir Direction, p *Packet, remote netip.Addr) bool {
	for _, g := range eni.SecurityGroups {
		rules := g.Ingress
		if dir == Egress {
			rules = g.Egress
		}
		for _, r := range rules {
			if r.Proto != topology.Any && (r.Proto != int(p.Proto) || !portsMatch(p.Proto, int32(r.From), int32(r.To), p)) {
				continue
			}
			for _, pf := range r.Prefixes {
				if pf.Contains(remote) {
					return true
				}
			}
			for _, rg := range r.Groups {
				for _, m := range rg.Members {
					for _, a := range m.IPv4s {
						if a == remote {
							return true
						}
					}
				}
			}
		}
	}
	return false
}

func (linear) nacl(eni *topology.ENI, dir Direction, p *Packet, remote netip.Addr) bool {
	if eni.Subnet.Contains(remote) {
		return true
	}
	es := eni.Subnet.ACL.Ingress
	if dir == Egress {
		es = eni.Subnet.ACL.Egress
	}
	for _, x := range es {
		if x.Prefix.Addr().Is4() != remote.Is4() || !x.Prefix.Contains(remote) {
			continue
		}
		if x.Proto != topology.Any {
			if x.Proto != int(p.Proto) || int(p.DstPort) < x.PortFrom || int(p.DstPort) > x.PortTo {
				continue
			}
		}
		return x.Allow
	}
	return false
}

func (l linear) decide(eni *topology.ENI, dir Direction, p *Packet, reply bool) bool {
	remote := p.Src
	if dir == Egress {
		remote = p.Dst
	}
	if dir == Ingress && !l.nacl(eni, dir, p, remote) {
		return false
	}
	if reply {
		rev := reverse(p)
		if !l.sg(eni, 1-dir, &rev, remote) {
			return false
		}
	} else if !l.sg(eni, dir, p, remote) {
		return false
	}
	return dir == Ingress || l.nacl(eni, dir, p, remote)
}

// cpuTimer reports the process CPU time per operation as "cpu-ns/op"
// next to the wall-clock ns/op: on a shared machine the wall clock also
// counts the time other processes held the core.
type cpuTimer struct{ start int64 }

func cpuNow() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func startCPU(b *testing.B) *cpuTimer {
	b.ResetTimer()
	return &cpuTimer{start: cpuNow()}
}

func (c *cpuTimer) stop(b *testing.B) {
	b.StopTimer()
	if b.N > 0 {
		b.ReportMetric(float64(cpuNow()-c.start)/float64(b.N), "cpu-ns/op")
	}
}

type benchFlow struct {
	eni   *topology.ENI
	in    Packet // the connection's first packet (ingress SYN)
	reply Packet // the ENI's answer (egress SYN-ACK)
}

func benchFlows(top *topology.Topology, n int) []benchFlow {
	rng := rand.New(rand.NewPCG(1, 2))
	enis := top.ENIs()
	fs := make([]benchFlow, n)
	for i := range fs {
		e := enis[rng.IntN(len(enis))]
		src := netip.AddrFrom4([4]byte{11, byte(i >> 16), byte(i >> 8), byte(i)})
		sport := uint16(1024 + (i*7919)%60000)
		fs[i] = benchFlow{eni: e,
			in:    Packet{Src: src, Dst: e.PrimaryIPv4, Proto: 6, SrcPort: sport, DstPort: 443, TCPFlags: FlagSYN},
			reply: Packet{Src: e.PrimaryIPv4, Dst: src, Proto: 6, SrcPort: 443, DstPort: sport, TCPFlags: FlagSYN | FlagACK}}
	}
	return fs
}

// TestBenchBaselineAgrees keeps the benchmark honest: the baseline and the
// engine must give the same verdicts on the benchmark's packets.
func TestBenchBaselineAgrees(t *testing.T) {
	top := benchTopology(t)
	e := engine(t, top, Config{})
	for _, f := range benchFlows(top, 2000) {
		v := e.Decide(f.eni, Ingress, &f.in, 1)
		if !v.Accept || v.Accept != (linear{}).decide(f.eni, Ingress, &f.in, false) {
			t.Fatalf("ingress %+v: engine %+v", f.in, v)
		}
		r := e.Decide(f.eni, Egress, &f.reply, 2)
		if !r.Accept || r.Accept != (linear{}).decide(f.eni, Egress, &f.reply, true) || !strings.HasSuffix(r.Rule, "/tracked") {
			t.Fatalf("reply %+v: engine %+v", f.reply, r)
		}
		// without tracking the reply is refused: the SG has no egress rule
		if c := e.Check(f.eni, Egress, &f.reply); c.Accept {
			t.Fatalf("reply accepted statelessly: %+v", c)
		}
	}
}

const trackedConns = 100_000

// BenchmarkNewConnections: first packets of distinct connections; the
// table holds 100 k entries, so it also pays for evicting the oldest.
func BenchmarkNewConnections(b *testing.B) {
	top := benchTopology(b)
	flows := benchFlows(top, 1<<16)
	b.Run("engine", func(b *testing.B) {
		e := engine(b, top, Config{MaxTracked: trackedConns})
		b.ReportAllocs()
		ct := startCPU(b)
		for i := 0; i < b.N; i++ {
			f := &flows[i&(len(flows)-1)]
			p := f.in
			p.SrcPort += uint16(i >> 16) // a new 5-tuple every time
			if !e.Decide(f.eni, Ingress, &p, int64(i)).Accept {
				b.Fatal("rejected")
			}
		}
		ct.stop(b)
	})
	b.Run("linear-baseline", func(b *testing.B) {
		b.ReportAllocs()
		ct := startCPU(b)
		for i := 0; i < b.N; i++ {
			f := &flows[i&(len(flows)-1)]
			if !(linear{}).decide(f.eni, Ingress, &f.in, false) {
				b.Fatal("rejected")
			}
		}
		ct.stop(b)
	})
}

// BenchmarkTracked: replies of 100 k tracked connections, visited in random
// order (SG by tracking, then 20 NACL entries since the peer is outside).
// The packets are laid out in visiting order so the harness reads them
// sequentially, like a decoder handing over the packet it just parsed;
// the random access is the engine's (or the baseline's) own.
func BenchmarkTracked(b *testing.B) {
	top := benchTopology(b)
	flows := benchFlows(top, trackedConns)
	seq := make([]benchFlow, len(flows))
	for i, j := range rand.New(rand.NewPCG(3, 4)).Perm(len(flows)) {
		seq[i] = flows[j]
	}
	b.Run("engine", func(b *testing.B) {
		e := engine(b, top, Config{})
		for i := range flows {
			e.Decide(flows[i].eni, Ingress, &flows[i].in, 1)
		}
		if st := e.Stats(); st.Tracked != trackedConns {
			b.Fatalf("tracked %d", st.Tracked)
		}
		b.ReportAllocs()
		ct := startCPU(b)
		for i, j := 0, 0; i < b.N; i, j = i+1, j+1 {
			if j == len(seq) {
				j = 0
			}
			f := &seq[j]
			if !e.Decide(f.eni, Egress, &f.reply, 2).Accept {
				b.Fatal("rejected")
			}
		}
		ct.stop(b)
	})
	b.Run("linear-baseline", func(b *testing.B) {
		b.ReportAllocs()
		ct := startCPU(b)
		for i, j := 0, 0; i < b.N; i, j = i+1, j+1 {
			if j == len(seq) {
				j = 0
			}
			f := &seq[j]
			if !(linear{}).decide(f.eni, Egress, &f.reply, true) {
				b.Fatal("rejected")
			}
		}
		ct.stop(b)
	})
}
