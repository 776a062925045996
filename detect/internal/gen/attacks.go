package gen

import (
	"net/netip"
	"slices"
)

// The attack scenarios. Each adds its conversations and labels what it did;
// an attack that is also another kind of activity is labelled as both (a
// scan that reaches an open SSH port from the internet is also a probe of
// an unprotected port; a compromised server that talks on a port it never
// used is also unusual port use).

// adminPorts are the services of this VPC that must never be reachable from
// the internet: a probe that reaches one open is a probe of an unprotected
// port.
var adminPorts = map[int]bool{22: true, 3389: true, 9200: true}

// compromised is a server an attacker took over.
func (g *generator) compromised() *iface {
	var c []*iface
	for _, role := range []string{"web", "app", "ci"} {
		c = append(c, g.byRole[role]...)
	}
	return c[g.r.IntN(len(c))]
}

func (g *generator) anyNIC() *iface { return g.nics[g.r.IntN(len(g.nics))] }

// distinctPorts returns n distinct ports of 1..limit.
func (g *generator) distinctPorts(n, limit int) []int {
	seen := map[int]bool{}
	var out []int
	for len(out) < n {
		p := 1 + g.r.IntN(limit)
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// talked labels an attack's conversations on a remote port the interface's
// ordinary traffic never uses.
func (g *generator) talked(nic *iface, remote netip.Addr, port int, start, end int64, scenario string) {
	if !nic.outbound[port] {
		g.label(PortUnusual, nic, remote, port, start, end, scenario)
	}
}

// attacks adds one attack of each scenario, each at a random time after
// the first 75 minutes (the detectors learn for an hour) and at least 20
// minutes before the end.
func (g *generator) attacks() {
	when := func() int64 { return g.at(g.t0+75*60, g.t1-20*60) }
	g.scanOut(when())
	g.scanIn(when())
	g.sweepOut(when())
	g.sweepIn(when())
	g.bruteIn(when(), 22, SSHBruteForce)
	g.bruteOut(when(), 22, SSHBruteForce)
	g.bruteIn(when(), 3389, RDPBruteForce)
	g.bruteOut(when(), 3389, RDPBruteForce)
	g.probe(when())
	g.exfiltrate(when())
	g.command(when())
	g.storm(when())
}

// scanOut: a compromised server tries 100-300 ports of an internet host in
// one to four minutes; a few are open.
func (g *generator) scanOut(t int64) {
	nic, target := g.compromised(), end{addr: g.publicAddr()}
	ports := g.distinctPorts(100+g.r.IntN(200), 10000)
	dur := 60 + g.r.Int64N(180)
	for i, p := range ports {
		g.attempt(at(nic), target, p, t+int64(i)*dur/int64(len(ports)), g.r.IntN(20) == 0)
	}
	g.label(Portscan, nic, target.addr, 0, t, t+dur, "outbound port scan")
}

// scanIn: an internet host tries 100-400 ports of one interface; its rules
// refuse all but the ports open to the internet.
func (g *generator) scanIn(t int64) {
	nic, attacker := g.anyNIC(), g.publicAddr()
	ports := g.distinctPorts(100+g.r.IntN(300), 10000)
	for p, world := range nic.open {
		if world && g.r.IntN(2) == 0 && !slices.Contains(ports, p) {
			ports = append(ports, p) // scanners try the well-known ports
		}
	}
	dur := 60 + g.r.Int64N(180)
	for i, p := range ports {
		ti := t + int64(i)*dur/int64(len(ports))
		g.attempt(end{addr: attacker}, at(nic), p, ti, true)
		if nic.open[p] && adminPorts[p] {
			g.label(PortProbe, nic, netip.Addr{}, p, ti, ti, "inbound port scan reached an open admin port")
		}
	}
	g.label(InboundPortscan, nic, attacker, 0, t, t+dur, "inbound port scan")
}

// sweepOut: a compromised server tries one port of 120-400 internet hosts
// in one to five minutes.
func (g *generator) sweepOut(t int64) {
	nic := g.compromised()
	port := []int{23, 445, 6379, 3389, 5900, 22}[g.r.IntN(6)]
	n := 120 + g.r.IntN(280)
	dur := 60 + g.r.Int64N(240)
	for i := range n {
		g.attempt(at(nic), end{addr: g.publicAddr()}, port, t+int64(i)*dur/int64(n), g.r.IntN(10) == 0)
	}
	g.label(MassIPScan, nic, netip.Addr{}, port, t, t+dur, "outbound sweep")
}

// sweepIn: an internet host tries one port of every interface within
// seconds (as mass scanners do).
func (g *generator) sweepIn(t int64) {
	attacker := g.publicAddr()
	port := []int{22, 23, 445, 3389, 6379, 9200, 5900}[g.r.IntN(7)]
	dur := 5 + g.r.Int64N(25)
	for i, nic := range g.nics {
		ti := t + int64(i)*dur/int64(len(g.nics))
		g.attempt(end{addr: attacker}, at(nic), port, ti, true)
		if nic.open[port] && adminPorts[port] {
			g.label(PortProbe, nic, netip.Addr{}, port, ti, ti, "inbound sweep reached an open admin port")
		}
	}
	g.label(InboundPortSweep, nil, attacker, port, t, t+dur, "inbound sweep")
}

// bruteIn: an internet host tries passwords on an interface's SSH or RDP
// port for 10-40 minutes, one connection every 2-12 seconds. An open port
// answers (a dozen or two packets per attempt); a closed one refuses.
func (g *generator) bruteIn(t int64, port int, typ string) {
	var targets []*iface
	for _, nic := range g.nics {
		if port != 22 || nic.role != "bastion" || g.r.IntN(2) == 0 {
			targets = append(targets, nic)
		}
	}
	nic, attacker := targets[g.r.IntN(len(targets))], end{addr: g.publicAddr()}
	if port == 22 && g.r.IntN(2) == 0 {
		nic = g.byRole["bastion"][0] // half the SSH attacks hit the open bastion
	}
	dur := 600 + g.r.Int64N(1800)
	gap := 2 + g.r.Int64N(10)
	for ti := t; ti < t+dur; ti += gap {
		g.guess(end{addr: attacker.addr}, at(nic), port, ti)
	}
	g.label(typ, nic, attacker.addr, port, t, t+dur, "inbound brute force")
}

// bruteOut: a compromised server tries passwords on an internet host.
func (g *generator) bruteOut(t int64, port int, typ string) {
	nic, target := g.compromised(), end{addr: g.publicAddr()}
	dur := 600 + g.r.Int64N(1800)
	gap := 2 + g.r.Int64N(10)
	for ti := t; ti < t+dur; ti += gap {
		g.guess(at(nic), target, port, ti)
	}
	g.label(typ, nic, target.addr, port, t, t+dur, "outbound brute force")
	g.talked(nic, target.addr, port, t, t+dur, "outbound brute force on a port the server never used")
}

// guess is one password attempt: a connection of 10-25 packets from the
// attacker, 8-20 back, over 1-6 seconds; refused when b's rules say so.
func (g *generator) guess(a, b end, port int, t int64) {
	if b.nic != nil && !g.allowed(a, b, port) {
		g.attempt(a, b, port, t, false)
		return
	}
	ap, bp := int64(10+g.r.IntN(16)), int64(8+g.r.IntN(13))
	g.convs = append(g.convs, conv{t0: t, t1: t + 1 + g.r.Int64N(5), a: a, b: b, proto: 6, aPort: g.clientPort(a), bPort: port,
		aPkts: ap, aBytes: ap * 90, bPkts: bp, bBytes: bp * 110})
}

// probe: one to three internet hosts connect to an admin port open to the
// internet and leave (SYN, SYN-ACK, RST).
func (g *generator) probe(t int64) {
	var open []struct {
		nic  *iface
		port int
	}
	for _, nic := range g.nics {
		for p, world := range nic.open {
			if world && adminPorts[p] {
				open = append(open, struct {
					nic  *iface
					port int
				}{nic, p})
			}
		}
	}
	slices.SortFunc(open, func(a, b struct {
		nic  *iface
		port int
	}) int {
		return a.port - b.port
	})
	o := open[g.r.IntN(len(open))]
	n := 1 + g.r.IntN(3)
	for i := range n {
		g.attempt(end{addr: g.publicAddr()}, at(o.nic), o.port, t+int64(i)*40, true)
	}
	g.label(PortProbe, o.nic, netip.Addr{}, o.port, t, t+int64(n-1)*40, "probe of an open admin port")
}

// exfiltrate: a server sends 1-4 GB to an internet host over HTTPS in 5-30
// minutes, in a few connections.
func (g *generator) exfiltrate(t int64) {
	var c []*iface
	for _, role := range []string{"web", "app", "ci", "bastion"} {
		c = append(c, g.byRole[role]...)
	}
	nic, dst := c[g.r.IntN(len(c))], end{addr: g.publicAddr()}
	total := g.lognormal(2e9, 0.4, 1e9, 4e9)
	dur := 300 + g.r.Int64N(1500)
	n := 1 + g.r.Int64N(4)
	for i := range n {
		g.talk(at(nic), dst, 443, t+i*dur/n, dur/n, total/n, 20e3)
	}
	g.label(TrafficVolume, nic, dst.addr, 443, t, t+dur, "exfiltration")
	g.talked(nic, dst.addr, 443, t, t+dur, "exfiltration on a port the server never used")
}

// command: a compromised server talks to a command-and-control host on a
// port nothing in the VPC uses, a few times over 10-60 minutes.
func (g *generator) command(t int64) {
	nic := g.compromised()
	if g.r.IntN(4) == 0 {
		nic = g.byRole["db"][g.r.IntN(len(g.byRole["db"]))]
	}
	dst := end{addr: g.publicAddr()}
	port := []int{4444, 6667, 1337, 8888, 5555}[g.r.IntN(5)]
	dur := 600 + g.r.Int64N(3000)
	n := 3 + g.r.Int64N(8)
	for i := range n {
		g.talk(at(nic), dst, port, t+i*dur/n, 5+g.r.Int64N(60), g.lognormal(3e3, 1, 500, 1e5), g.lognormal(2e3, 1, 300, 5e4))
	}
	g.label(PortUnusual, nic, dst.addr, port, t, t+dur, "command and control")
}

// storm: 2,000-5,000 internet hosts hit a closed port of a public
// interface within 2-8 minutes (a flood), every packet rejected.
func (g *generator) storm(t int64) {
	var c []*iface
	for _, role := range []string{"lb", "bastion", "search"} {
		c = append(c, g.byRole[role]...)
	}
	nic := c[g.r.IntN(len(c))]
	port := 80
	if nic.role != "lb" {
		port = 443
	}
	n := 2000 + g.r.IntN(3000)
	dur := 120 + g.r.Int64N(360)
	for i := range n {
		g.attempt(end{addr: g.publicAddr()}, at(nic), port, t+int64(i)*dur/int64(n), false)
	}
	g.label(RejectStorm, nic, netip.Addr{}, 0, t, t+dur, "flood of rejected traffic")
}
