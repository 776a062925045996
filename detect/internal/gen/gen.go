// Package gen generates labelled flow-log records: the busy, ordinary traffic
// of a small VPC (load balancers, web, application and database tiers, a
// bastion, CI runners, monitoring, the internet's background noise) with
// known attacks mixed in, and the list of those attacks.
//
// It exists to measure package detect honestly: the labels say what the
// generator did (this address scanned that interface's ports), never what
// a detector found, so precision and recall are measured against the
// traffic, not against the detectors' own definitions. It works on
// conversations rather than packets (package sim makes packets, and is
// independent of it), so millions of records are cheap: each conversation
// becomes the records every monitored interface it touches would log, split
// over capture windows as AWS splits them, delivered window by window and,
// within a window, by interface and start as S3 objects hold them.
package gen

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"time"

	"github.com/vpcflow/vpcflow/record"
)

// Finding types the attacks are labelled with: GuardDuty's, and vpcflow's
// own (package detect names them; this package does not depend on it).
const (
	Portscan         = "Recon:EC2/Portscan"
	InboundPortscan  = "Vpcflow:EC2/InboundPortscan"
	MassIPScan       = "Impact:EC2/MassIPScan"
	InboundPortSweep = "Vpcflow:EC2/InboundPortSweep"
	PortProbe        = "Recon:EC2/PortProbeUnprotectedPort"
	SSHBruteForce    = "UnauthorizedAccess:EC2/SSHBruteForce"
	RDPBruteForce    = "UnauthorizedAccess:EC2/RDPBruteForce"
	TrafficVolume    = "Behavior:EC2/TrafficVolumeUnusual"
	PortUnusual      = "Behavior:EC2/NetworkPortUnusual"
	RejectStorm      = "Vpcflow:EC2/RejectStorm"
)

// Types lists every label type.
var Types = []string{Portscan, InboundPortscan, MassIPScan, InboundPortSweep, PortProbe,
	SSHBruteForce, RDPBruteForce, TrafficVolume, PortUnusual, RejectStorm}

// Config says what to generate.
type Config struct {
	Seed uint64
	// Start is the Unix time traffic begins; default 2026-01-01T00:00:00Z.
	Start int64
	// Duration of the traffic; default 3 hours.
	Duration time.Duration
	// Interval is the flow logs' aggregation interval, 60 or 600 s;
	// default 600.
	Interval int64
	// Attacks is how many attacks of each scenario to mix in; 0 makes a
	// benign-only run.
	Attacks int
	// Load multiplies the rates of the ordinary traffic; default 1 (about
	// 17,000 records per 10 minutes).
	Load float64
}

// Label is one attack: which finding type it is, on which interface, from
// or to which remote address or on which port (whichever the finding type
// is keyed by), and when.
type Label struct {
	Type       string
	Interface  string     // the interface attacked or attacking; "" for inbound sweeps
	Remote     netip.Addr // the remote address, for types keyed by one
	Port       int        // the port, for types keyed by one
	Start, End int64
	Scenario   string // what the generator did, for reports
}

// Account, Region and VPC of every record.
const (
	Account = "111122223333"
	Region  = "us-east-1"
	VPC     = "vpc-0a1b2c3d4e5f60001"
)

// iface is a monitored interface.
type iface struct {
	id, instance, subnet string
	role                 string
	addr                 netip.Addr
	// open maps a port to whether it is open to the internet (true) or
	// to the VPC only (false); ports not in it are closed.
	open map[int]bool
	// outbound lists the remote service ports its ordinary traffic uses.
	outbound map[int]bool
}

// end is one end of a conversation: an address, and the interface it is
// when monitored (nil for hosts outside the VPC).
type end struct {
	addr netip.Addr
	nic  *iface
}

// conv is one connection (or attempt): a opens it to b.
type conv struct {
	t0, t1       int64 // first and last packet, s
	a, b         end
	proto        uint8
	aPort, bPort int
	// Packets and bytes each side sends over the whole conversation. A
	// refused conversation has bPkts 0.
	aPkts, aBytes, bPkts, bBytes int64
	refused                      bool // b's rules reject a's packets
}

type generator struct {
	cfg    Config
	r      *rand.Rand
	nics   []*iface
	byRole map[string][]*iface
	convs  []conv
	labels []Label
	t0, t1 int64
}

// Generate makes the traffic of cfg and hands every record to emit, in
// delivery order; it returns the labels of the attacks.
func Generate(cfg Config, emit func(*record.Record) error) ([]Label, error) {
	if cfg.Start == 0 {
		cfg.Start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	}
	if cfg.Duration == 0 {
		cfg.Duration = 3 * time.Hour
	}
	if cfg.Interval == 0 {
		cfg.Interval = 600
	}
	if cfg.Load == 0 {
		cfg.Load = 1
	}
	if cfg.Interval != 60 && cfg.Interval != 600 {
		return nil, fmt.Errorf("gen: Interval: want 60 or 600, got %d", cfg.Interval)
	}
	if cfg.Duration < time.Hour+30*time.Minute && cfg.Attacks > 0 {
		return nil, fmt.Errorf("gen: Duration: want at least 1h30m with attacks (they come after an hour of learning), got %s", cfg.Duration)
	}
	g := &generator{cfg: cfg, r: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		byRole: make(map[string][]*iface), t0: cfg.Start, t1: cfg.Start + int64(cfg.Duration.Seconds())}
	g.network()
	g.benign()
	for range cfg.Attacks {
		g.attacks()
	}
	g.firstUses()
	return g.labels, g.emit(emit)
}

// network declares the interfaces: roles, addresses, open ports, and the
// remote ports their ordinary traffic uses.
func (g *generator) network() {
	n := 0
	add := func(role, subnet string, count int, net string, open map[int]bool, outbound ...int) {
		for i := range count {
			n++
			nic := &iface{
				id: fmt.Sprintf("eni-0%016x", 0xa000+n), instance: fmt.Sprintf("i-0%016x", 0xb000+n),
				subnet: subnet, role: role, addr: netip.MustParseAddr(fmt.Sprintf(net, 10+i)),
				open: open, outbound: map[int]bool{},
			}
			for _, p := range outbound {
				nic.outbound[p] = true
			}
			g.nics = append(g.nics, nic)
			g.byRole[role] = append(g.byRole[role], nic)
		}
	}
	public, private := "subnet-0a1b2c3d4e5f60010", "subnet-0a1b2c3d4e5f60020"
	add("lb", public, 2, "10.0.0.%d", map[int]bool{443: true, 9100: false}, 80)
	add("bastion", public, 1, "10.0.0.%d", map[int]bool{22: true, 9100: false}, 22, 3389)
	add("web", private, 6, "10.0.1.%d", map[int]bool{80: false, 9100: false}, 8080)
	add("app", private, 6, "10.0.2.%d", map[int]bool{8080: false, 9100: false}, 5432, 6379, 443, 9200)
	add("db", private, 2, "10.0.3.%d", map[int]bool{5432: false, 22: false, 9100: false}, 443)
	add("cache", private, 2, "10.0.3.%d", map[int]bool{6379: false, 22: false, 9100: false})
	// The search node's port 9200 is open to the internet by mistake:
	// the kind of exposure PortProbeUnprotectedPort is about.
	add("search", public, 1, "10.0.3.%d", map[int]bool{9200: true, 9100: false})
	add("win", private, 1, "10.0.5.%d", map[int]bool{3389: false, 9100: false})
	add("ci", private, 3, "10.0.4.%d", map[int]bool{9100: false}, 443, 22)
	add("auto", private, 1, "10.0.6.%d", map[int]bool{9100: false}, 22)
	add("mon", private, 1, "10.0.7.%d", map[int]bool{9090: false}, 9100)
	// Addresses must be unique: the roles sharing a /24 number apart.
	seen := map[netip.Addr]bool{}
	for _, nic := range g.nics {
		for seen[nic.addr] {
			nic.addr = nic.addr.Next()
		}
		seen[nic.addr] = true
	}
}

// publicAddr is a random internet address, from /8s allocated to real
// networks (so never private, shared or reserved).
func (g *generator) publicAddr() netip.Addr {
	firsts := []byte{23, 31, 45, 51, 62, 66, 73, 81, 89, 92, 104, 109, 122, 151, 176, 185, 195, 203, 212}
	return netip.AddrFrom4([4]byte{firsts[g.r.IntN(len(firsts))], byte(g.r.IntN(256)), byte(g.r.IntN(256)), byte(1 + g.r.IntN(254))})
}

// clientPort is the source port a conversation from a opens with: Linux's
// ephemeral range for the VPC's own hosts; for internet hosts, Linux's,
// Windows' (49152-65535) or a NAT's (1024-65535).
func (g *generator) clientPort(a end) int {
	switch {
	case a.nic != nil || g.r.IntN(10) < 5:
		return 32768 + g.r.IntN(28232)
	case g.r.IntN(10) < 6:
		return 49152 + g.r.IntN(16384)
	}
	return 1024 + g.r.IntN(64512)
}

// at is a random time in [from, to).
func (g *generator) at(from, to int64) int64 { return from + g.r.Int64N(max(to-from, 1)) }

// lognormal returns a value around median with a spread of sigma (in
// natural log units), clamped to [lo, hi].
func (g *generator) lognormal(median, sigma, lo, hi float64) int64 {
	return int64(min(max(median*math.Exp(sigma*g.r.NormFloat64()), lo), hi))
}

// talk adds an ordinary TCP conversation from a to b:port, starting at t
// and lasting dur, with the given payload each way.
func (g *generator) talk(a, b end, port int, t, dur, up, down int64) {
	g.convs = append(g.convs, g.tcp(a, b, port, t, dur, up, down))
}

// tcp is a complete TCP conversation: handshake, payload in segments of
// about 1400 bytes, close; 40 bytes of headers per packet.
func (g *generator) tcp(a, b end, port int, t, dur, up, down int64) conv {
	aPkts := 3 + up/1400 + down/2800 // SYN, ACK, FIN + data + acks
	bPkts := 2 + down/1400 + up/2800 // SYN-ACK, FIN + data + acks
	return conv{t0: t, t1: min(t+dur, g.t1-1), a: a, b: b, proto: 6, aPort: g.clientPort(a), bPort: port,
		aPkts: aPkts, aBytes: aPkts*40 + up, bPkts: bPkts, bBytes: bPkts*40 + down}
}

// attempt adds a connection attempt: refused (b's rules reject it: a
// sends SYN and its retries, b nothing), or answered by b (SYN, SYN-ACK,
// then a's RST: a probe of an open port) or closed (b answers RST).
func (g *generator) attempt(a, b end, port int, t int64, answered bool) {
	c := conv{t0: t, t1: t, a: a, b: b, proto: 6, aPort: g.clientPort(a), bPort: port}
	switch {
	case b.nic != nil && !g.allowed(a, b, port):
		c.refused = true
		c.aPkts = 1 + int64(g.r.IntN(3))
		c.t1 = t + (c.aPkts-1)*3 // retries 1 and 3 s apart
	case answered:
		c.aPkts, c.bPkts = 2, 1
	default:
		c.aPkts, c.bPkts = 1, 1
	}
	c.aBytes, c.bBytes = c.aPkts*44, c.bPkts*40
	g.convs = append(g.convs, c)
}

// allowed reports whether b's rules accept a's conversation to port.
func (g *generator) allowed(a, b end, port int) bool {
	world, ok := b.nic.open[port]
	return ok && (world || a.nic != nil)
}

func (g *generator) peer(role string) end {
	nics := g.byRole[role]
	nic := nics[g.r.IntN(len(nics))]
	return end{nic.addr, nic}
}

func at(n *iface) end { return end{n.addr, n} }

// every calls fn at times from start, spaced by period with a jitter of
// up to period/4 either way (never before the traffic starts), until the
// end of the traffic.
func (g *generator) every(start int64, period float64, fn func(t int64)) {
	for t := float64(start); t < float64(g.t1); t += period {
		j := max(t+(g.r.Float64()-0.5)*period/2, float64(g.t0))
		if j < float64(g.t1) {
			fn(int64(j))
		}
	}
}

// benign adds the ordinary traffic. Rates are per 10 minutes at Load 1.
func (g *generator) benign() {
	load := g.cfg.Load
	rate := func(per10min float64) float64 { return 600 / (per10min * load) }
	clients := make([]netip.Addr, 5000)
	for i := range clients {
		clients[i] = g.publicAddr()
	}
	zipf := rand.NewZipf(g.r, 1.2, 1, uint64(len(clients)-1))
	apis := make([]netip.Addr, 20)
	for i := range apis {
		apis[i] = g.publicAddr()
	}
	cdns := make([]netip.Addr, 30)
	for i := range cdns {
		cdns[i] = g.publicAddr()
	}
	buckets := []netip.Addr{netip.MustParseAddr("52.216.8.10"), netip.MustParseAddr("52.216.9.10"), netip.MustParseAddr("52.217.4.20")}
	git := end{addr: netip.MustParseAddr("140.82.112.3")}
	office := end{addr: netip.MustParseAddr("198.51.100.200")}

	for _, lb := range g.byRole["lb"] {
		// Internet clients to the load balancer, each request proxied
		// to a web server.
		g.every(g.t0, rate(600), func(t int64) {
			c := end{addr: clients[zipf.Uint64()]}
			down := g.lognormal(20e3, 1.2, 500, 5e6)
			dur := 1 + g.r.Int64N(20)
			g.talk(c, at(lb), 443, t, dur, g.lognormal(800, 0.8, 100, 50e3), down)
			g.talk(at(lb), g.peer("web"), 80, t, dur, g.lognormal(900, 0.8, 100, 50e3), down)
		})
		for _, web := range g.byRole["web"] {
			g.every(g.t0, 10, func(t int64) { g.talk(at(lb), at(web), 80, t, 0, 100, 200) })
		}
	}
	for _, web := range g.byRole["web"] {
		g.every(g.t0, rate(75), func(t int64) {
			g.talk(at(web), g.peer("app"), 8080, t, 1+g.r.Int64N(5), g.lognormal(2e3, 1, 100, 1e5), g.lognormal(10e3, 1, 100, 1e6))
		})
	}
	for _, app := range g.byRole["app"] {
		// A pool of long database sessions, renewed every 20 minutes.
		for range 4 {
			g.every(g.t0, 1200, func(t int64) {
				g.talk(at(app), g.peer("db"), 5432, t, 1200, g.lognormal(5e6, 0.5, 1e5, 5e7), g.lognormal(20e6, 0.5, 1e5, 2e8))
			})
		}
		g.every(g.t0, rate(25), func(t int64) { g.talk(at(app), g.peer("cache"), 6379, t, 2, 500, 2000) })
		g.every(g.t0, rate(25), func(t int64) {
			g.talk(at(app), end{addr: apis[g.r.IntN(len(apis))]}, 443, t, 1+g.r.Int64N(3), g.lognormal(3e3, 1, 200, 2e5), g.lognormal(15e3, 1, 200, 2e6))
		})
		g.every(g.t0, rate(10), func(t int64) { g.talk(at(app), g.peer("search"), 9200, t, 1, 800, 8000) })
		// Now and then a misconfigured call to a closed port.
		g.every(g.t0+g.r.Int64N(600), 900, func(t int64) { g.attempt(at(app), g.peer("cache"), 6380, t, false) })
	}
	for _, db := range g.byRole["db"] {
		// Hourly backup to S3, at the same minute every hour.
		minute := g.r.Int64N(3000)
		g.every(g.t0+minute, 3600, func(t int64) {
			g.talk(at(db), end{addr: buckets[g.r.IntN(len(buckets))]}, 443, t, 240+g.r.Int64N(120), g.lognormal(400e6, 0.25, 1e8, 8e8), 50e3)
		})
	}
	for _, b := range g.byRole["bastion"] {
		// Administrators from the office, and from the bastion to the
		// servers (SSH) and the Windows host (RDP).
		g.every(g.t0+g.r.Int64N(900), 2400, func(t int64) {
			dur := 600 + g.r.Int64N(3000)
			g.talk(office, at(b), 22, t, dur, g.lognormal(200e3, 1, 1e4, 5e6), g.lognormal(2e6, 1, 1e5, 5e7))
		})
		g.every(g.t0+g.r.Int64N(1200), 1500, func(t int64) {
			g.talk(at(b), g.peer([]string{"web", "app", "db", "cache"}[g.r.IntN(4)]), 22, t, 300+g.r.Int64N(1800), g.lognormal(100e3, 1, 1e4, 5e6), g.lognormal(1e6, 1, 1e5, 2e7))
		})
		g.every(g.t0+g.r.Int64N(1800), 2400, func(t int64) {
			g.talk(at(b), g.peer("win"), 3389, t, 600+g.r.Int64N(1800), g.lognormal(2e6, 0.8, 1e5, 2e7), g.lognormal(30e6, 0.8, 1e6, 2e8))
		})
	}
	for _, ci := range g.byRole["ci"] {
		g.every(g.t0, rate(50), func(t int64) {
			g.talk(at(ci), end{addr: cdns[g.r.IntN(len(cdns))]}, 443, t, 2+g.r.Int64N(30), g.lognormal(2e3, 1, 200, 1e5), g.lognormal(5e6, 1.5, 1e4, 3e8))
		})
		// Git over SSH: a few fetches and pushes per 10 minutes.
		g.every(g.t0, rate(5), func(t int64) {
			g.talk(at(ci), git, 22, t, 1+g.r.Int64N(10), g.lognormal(5e3, 1, 1e3, 1e6), g.lognormal(50e3, 1.5, 2e3, 5e6))
		})
	}
	for _, a := range g.byRole["auto"] {
		// Configuration runs every 30 minutes: a few short SSH
		// connections to each of ten servers within two minutes.
		g.every(g.t0+g.r.Int64N(600), 1800, func(t int64) {
			for _, role := range []string{"web", "app", "db", "cache"} {
				for _, nic := range g.byRole[role] {
					for range 3 + g.r.IntN(6) {
						g.talk(at(a), at(nic), 22, t+g.r.Int64N(120), 1+g.r.Int64N(5), g.lognormal(4e3, 0.6, 1e3, 3e4), g.lognormal(6e3, 0.6, 1e3, 5e4))
					}
				}
			}
		})
	}
	for _, m := range g.byRole["mon"] {
		// Scrapes of every host's node exporter, and pings.
		for _, nic := range g.nics {
			if _, ok := nic.open[9100]; !ok {
				continue
			}
			g.every(g.t0, 30, func(t int64) { g.talk(at(m), at(nic), 9100, t, 0, 300, g.lognormal(20e3, 0.3, 5e3, 1e5)) })
			g.every(g.t0, 60, func(t int64) {
				g.convs = append(g.convs, conv{t0: t, t1: t, a: at(m), b: at(nic), proto: 1, aPkts: 1, aBytes: 84, bPkts: 1, bBytes: 84})
			})
		}
	}
	// The internet's background noise: single probes of closed ports of
	// the interfaces that have public addresses, each from its own
	// address. A probe that would reach an open sensitive port is an
	// attack (the probe scenario), not noise, so noise avoids open ports.
	noisePorts := []int{23, 25, 80, 110, 135, 139, 445, 1433, 3306, 3389, 5900, 6379, 8080, 8443, 27017}
	for _, role := range []string{"lb", "bastion", "search"} {
		for _, nic := range g.byRole[role] {
			g.every(g.t0, rate(30), func(t int64) {
				port := noisePorts[g.r.IntN(len(noisePorts))]
				if g.r.IntN(3) == 0 {
					port = 1 + g.r.IntN(65535)
				}
				if _, open := nic.open[port]; open {
					return
				}
				g.attempt(end{addr: g.publicAddr()}, at(nic), port, t, false)
			})
		}
	}
}

// label records an attack.
func (g *generator) label(typ string, nic *iface, remote netip.Addr, port int, start, end int64, scenario string) {
	l := Label{Type: typ, Remote: remote, Port: port, Start: start, End: end, Scenario: scenario}
	if nic != nil {
		l.Interface = nic.id
	}
	g.labels = append(g.labels, l)
}

// firstUses keeps, of the unusual-port labels of one interface and port,
// the earliest: once an attack used a port, the interface has used it, and
// a later attack on the same port is not new.
func (g *generator) firstUses() {
	slices.SortStableFunc(g.labels, func(a, b Label) int { return cmp.Compare(a.Start, b.Start) })
	type use struct {
		nic  string
		port int
	}
	seen := map[use]bool{}
	g.labels = slices.DeleteFunc(g.labels, func(l Label) bool {
		if l.Type != PortUnusual {
			return false
		}
		u := use{l.Interface, l.Port}
		dup := seen[u]
		seen[u] = true
		return dup
	})
}

// emit turns the conversations into records, capture window by capture
// window, each window's records ordered by interface and start.
func (g *generator) emit(fn func(*record.Record) error) error {
	iv := g.cfg.Interval
	first := g.t0 / iv
	n := (g.t1-1)/iv - first + 1
	buckets := make([][]int32, n)
	for i := range g.convs {
		c := &g.convs[i]
		if c.t0 < g.t0 || c.t0 >= g.t1 {
			continue
		}
		c.t1 = min(max(c.t1, c.t0), g.t1-1)
		for w := c.t0 / iv; w <= c.t1/iv; w++ {
			buckets[w-first] = append(buckets[w-first], int32(i))
		}
	}
	var recs []record.Record
	for w, list := range buckets {
		recs = recs[:0]
		ws := (first + int64(w)) * iv
		for _, i := range list {
			recs = g.records(recs, &g.convs[i], ws, ws+iv)
		}
		slices.SortFunc(recs, func(a, b record.Record) int {
			return cmp.Or(cmp.Compare(a.InterfaceID, b.InterfaceID), cmp.Compare(a.Start, b.Start), cmp.Compare(a.End, b.End),
				a.SrcAddr.Compare(b.SrcAddr), a.DstAddr.Compare(b.DstAddr), cmp.Compare(a.SrcPort, b.SrcPort), cmp.Compare(a.DstPort, b.DstPort))
		})
		for i := range recs {
			if err := fn(&recs[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// records appends the records of c in the capture window [ws, we): the
// part of each side's packets that falls in it (spread evenly over the
// conversation), on each monitored interface c touches.
func (g *generator) records(out []record.Record, c *conv, ws, we int64) []record.Record {
	s, e := max(c.t0, ws), min(c.t1, we-1)
	dur := c.t1 - c.t0 + 1
	// Packets sent in seconds [s, e] of [t0, t1], evenly spread, and
	// their bytes in proportion; cumulative rounding keeps the windows'
	// sums equal to the totals.
	share := func(pkts, bytes int64) (int64, int64) {
		upTo := func(t int64) int64 { return pkts * (t - c.t0) / dur }
		p0, p1 := upTo(s), upTo(e+1)
		if pkts == 0 {
			return 0, 0
		}
		return p1 - p0, bytes*p1/pkts - bytes*p0/pkts
	}
	aPkts, aBytes := share(c.aPkts, c.aBytes)
	bPkts, bBytes := share(c.bPkts, c.bBytes)
	add := func(nic *iface, src, dst end, sp, dp int, pkts, bytes int64, action record.ActionValue, dir record.Direction) {
		if nic == nil || pkts <= 0 {
			return
		}
		var r record.Record
		r.Reset()
		r.Version, r.AccountID, r.InterfaceID = 5, Account, nic.id
		r.SrcAddr, r.DstAddr = src.addr, dst.addr
		r.SrcPort, r.DstPort, r.Protocol = int64(sp), int64(dp), int64(c.proto)
		r.Packets, r.Bytes, r.Start, r.End = pkts, bytes, s, e
		r.Action, r.LogStatus = action, record.StatusOK
		r.VPCID, r.SubnetID, r.InstanceID, r.Region = VPC, nic.subnet, nic.instance, Region
		r.Type, r.FlowDirection = record.TypeIPv4, dir
		r.TCPFlags = 0
		if c.proto == 6 {
			r.TCPFlags = 2 | 16
		}
		out = append(out, r)
	}
	bAction := record.ActionAccept
	if c.refused {
		bAction = record.ActionReject
	}
	// On a's interface: its packets out (always allowed out), b's back.
	add(c.a.nic, c.a, c.b, c.aPort, c.bPort, aPkts, aBytes, record.ActionAccept, record.Egress)
	add(c.a.nic, c.b, c.a, c.bPort, c.aPort, bPkts, bBytes, record.ActionAccept, record.Ingress)
	// On b's interface: a's packets in, accepted or rejected; b's out.
	add(c.b.nic, c.a, c.b, c.aPort, c.bPort, aPkts, aBytes, bAction, record.Ingress)
	add(c.b.nic, c.b, c.a, c.bPort, c.aPort, bPkts, bBytes, record.ActionAccept, record.Egress)
	return out
}
