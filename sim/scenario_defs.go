package sim

import (
	"errors"
	"math"
	"net/netip"
	"time"
)

// scenarioDef is a named scenario: the roles it needs and the tracks of
// conversations it plays. docs/scenarios.md describes each and counts the
// records it gives; keep them in step.
type scenarioDef struct {
	name, summary string
	roles         []string
	check         func(*roles) error // what the topology must offer beyond the roles
	tracks        func(p *planner) []track
}

// Addresses outside the VPC, from the documentation ranges (RFC 5737).
var (
	sshAttacker    = netip.MustParseAddr("198.51.100.77")
	scanner        = netip.MustParseAddr("198.51.100.23")
	telemetryHost  = netip.MustParseAddr("192.0.2.10")
	exfilHost      = netip.MustParseAddr("203.0.113.200")
	mirrorHost     = netip.MustParseAddr("192.0.2.80")
	apiHost        = netip.MustParseAddr("198.51.100.30")
	publicResolver = netip.MustParseAddr("192.0.2.53")
)

// webClient is one of the web tier's internet clients, 203.0.113.10 to
// 203.0.113.99.
func webClient(x *trackCtx) host {
	return outside(netip.AddrFrom4([4]byte{203, 0, 113, byte(10 + x.rng.IntN(90))}))
}

// scenarioDefs are the scenarios in their fixed order: the order of a run's
// tie-breaks and of the clients' port blocks.
var scenarioDefs = []scenarioDef{
	{
		name:    "web-tier",
		summary: "internet clients call the web tier over HTTPS (443); for each request the web tier calls the app (8080), which queries the database (5432); 12 requests a minute",
		roles:   []string{"web", "app", "db"},
		tracks: func(p *planner) []track {
			web, app, db := *p.roles.host("web"), *p.roles.host("app"), *p.roles.host("db")
			return []track{{every: 5 * time.Second, jitter: time.Second, make: func(x *trackCtx, _ int) {
				// innermost first: each tier answers once the tier it
				// calls has answered it
				dbThink := 2 * time.Millisecond
				appThink := time.Duration(2*time.Millisecond) + time.Duration(sessionLength(rttVPC, 1, 1, dbThink))
				webThink := time.Duration(2*time.Millisecond) + time.Duration(sessionLength(rttVPC, 1, 2, appThink))
				front := x.session(x.at, webClient(x), web, 443, 1, 3, 200+x.rng.IntN(500), scenarioMSS, webThink)
				if front.outcome != outOpen {
					return
				}
				at := x.at + sessionRequestAt(front.rtt, 1) + int64(time.Millisecond)
				call := x.session(at, web, app, 8080, 1, 2, 300+x.rng.IntN(500), 200+x.rng.IntN(1200), appThink)
				if call.outcome != outOpen {
					return
				}
				at += sessionRequestAt(call.rtt, 1) + int64(time.Millisecond)
				x.session(at, app, db, 5432, 1, 1, 100+x.rng.IntN(200), 200+x.rng.IntN(1200), dbThink)
			}}}
		},
	},
	{
		name:    "ssh-brute-force",
		summary: "198.51.100.77 tries SSH passwords on the bastion (15 connections a minute, each failing three logins) and on the web server (6 a minute)",
		roles:   []string{"bastion", "web"},
		tracks: func(p *planner) []track {
			bastion, web := *p.roles.host("bastion"), *p.roles.host("web")
			attacker := outside(sshAttacker)
			return []track{
				{every: 4 * time.Second, jitter: time.Second, make: func(x *trackCtx, _ int) { x.ssh(x.at, attacker, bastion) },
					finding: &finding{kind: FindingSSHBruteForce, actor: sshAttacker, target: bastion.ip, on: bastion.eni.ID, port: 22}},
				{every: 10 * time.Second, from: 2 * time.Second, jitter: time.Second, make: func(x *trackCtx, _ int) { x.ssh(x.at, attacker, web) },
					finding: &finding{kind: FindingSSHBruteForce, actor: sshAttacker, target: web.ip, on: web.eni.ID, port: 22}},
			}
		},
	},
	{
		name:    "port-scan",
		summary: "198.51.100.23 SYN-scans ports 1-1000 of the web server (250 a minute, in random order); the web server sweeps port 22 of 60 addresses of the app's subnet (60 a minute)",
		roles:   []string{"web", "app"},
		tracks: func(p *planner) []track {
			web, app := p.roles.host("web"), p.roles.host("app")
			ports := make([]uint16, 1000)
			for i := range ports {
				ports[i] = uint16(i + 1)
			}
			p.rng.Shuffle(len(ports), func(i, j int) { ports[i], ports[j] = ports[j], ports[i] })
			// the app's subnet from its 11th address on: sweepHosts
			// addresses, the app and whoever else lives there among them
			base := app.eni.Subnet.CIDR.Masked().Addr()
			targets := make([]netip.Addr, 0, sweepHosts)
			for a, i := base, 0; i < 10+sweepHosts; a, i = a.Next(), i+1 {
				if i >= 10 && app.eni.Subnet.CIDR.Contains(a) {
					targets = append(targets, a)
				}
			}
			p.rng.Shuffle(len(targets), func(i, j int) { targets[i], targets[j] = targets[j], targets[i] })
			// a scanner sends every probe from one port
			scanPort := uint16(32768 + p.rng.IntN(28232))
			sweepPort := uint16(32768 + p.rng.IntN(28232))
			from := outside(scanner)
			return []track{
				{every: 240 * time.Millisecond, count: len(ports), jitter: 100 * time.Millisecond, make: func(x *trackCtx, k int) {
					x.probe(x.at, from, *web, scanPort, ports[k])
				}, finding: &finding{kind: FindingPortScan, actor: scanner, target: web.ip, on: web.eni.ID}},
				{every: time.Second, count: len(targets), jitter: 500 * time.Millisecond, make: func(x *trackCtx, k int) {
					x.probe(x.at, *web, p.roles.at(web, targets[k]), sweepPort, 22)
				}, finding: &finding{kind: FindingPortSweep, actor: web.ip, on: web.eni.ID, port: 22}},
			}
		},
	},
	{
		name:    "exfiltration",
		summary: "the web server posts a few kB to 192.0.2.10 once a minute, then in the run's last 5 minutes uploads about 160 MB to 203.0.113.200 over one HTTPS connection",
		roles:   []string{"web"},
		tracks: func(p *planner) []track {
			web := *p.roles.host("web")
			// the upload takes the last 5 minutes (the second half of a
			// shorter run), from a second into them to a second before
			// the end, 360 full segments a second at rate 1
			phase := min(5*time.Minute, time.Duration(p.span/2))
			lead := min(time.Second, phase/10)
			send := phase - 2*lead
			segs := max(2, int(math.Round(send.Seconds()*360*p.rate)))
			segs += segs % 2 // acknowledged in pairs
			iv := int64(float64(time.Second) / (360 * p.rate))
			return []track{
				{every: time.Minute, from: 10 * time.Second, jitter: time.Second, make: func(x *trackCtx, _ int) {
					x.session(x.at, web, outside(telemetryHost), 443, 3, 1, scenarioMSS, 200, 20*time.Millisecond)
				}},
				{from: time.Duration(p.span) - phase + lead, count: 1, make: func(x *trackCtx, _ int) {
					x.upload(x.at, web, outside(exfilHost), 443, segs, iv)
				}, finding: &finding{kind: FindingExfiltration, actor: web.ip, target: exfilHost, on: web.eni.ID, port: 443,
					// SYN (44 bytes), the segments (1500), ACK, FIN, ACK (40)
					bytes: 44 + int64(segs)*(20+20+scenarioMSS) + 3*40,
					lasts: time.Duration(2*rttInternet + int64(segs)*iv)}},
			}
		},
	},
	{
		name:    "nat-egress",
		summary: "the app server, in a private subnet, fetches over HTTPS from 192.0.2.80 and 198.51.100.30 in turn through the NAT gateway its route table names (6 a minute)",
		roles:   []string{"app"},
		check: func(r *roles) error {
			if r.natFor(r.host("app"), mirrorHost) == nil {
				return errors.New("the app's subnet must route the internet (0.0.0.0/0) to a NAT gateway whose interface is declared with a MAC address")
			}
			return nil
		},
		tracks: func(p *planner) []track {
			app := *p.roles.host("app")
			return []track{{every: 10 * time.Second, jitter: time.Second, make: func(x *trackCtx, k int) {
				dst := mirrorHost
				if k%2 == 1 {
					dst = apiHost
				}
				x.session(x.at, app, outside(dst), 443, 1, 4, 300+x.rng.IntN(300), scenarioMSS, 15*time.Millisecond)
			}}}
		},
	},
	{
		name:    "dns",
		summary: "the web, app, db and bastion servers query the VPC's Amazon DNS resolver (base + 2) 6 times a minute each, which flow logs leave out; the web server also queries 192.0.2.53 once a minute, which they log",
		roles:   []string{"web", "app", "db", "bastion"},
		tracks: func(p *planner) []track {
			var tracks []track
			for i, role := range []string{"web", "app", "db", "bastion"} {
				h := *p.roles.host(role)
				resolver := p.roles.resolver(&h)
				tracks = append(tracks, track{every: 10 * time.Second, from: time.Duration(i) * 2 * time.Second, jitter: time.Second,
					make: func(x *trackCtx, _ int) { x.query(x.at, h, resolver) }})
			}
			web := *p.roles.host("web")
			return append(tracks, track{every: time.Minute, from: 30 * time.Second, jitter: time.Second,
				make: func(x *trackCtx, _ int) { x.query(x.at, web, outside(publicResolver)) }})
		},
	},
	{
		name:    "misconfigured-sg",
		summary: "the app server connects to the cache's Redis port (6379) 12 times a minute; in examples/scenarios.yaml the cache's security group admits the db's group instead of the app's, so every connection is refused and retried",
		roles:   []string{"app", "cache"},
		tracks: func(p *planner) []track {
			app, cache := *p.roles.host("app"), *p.roles.host("cache")
			return []track{{every: 5 * time.Second, jitter: time.Second, make: func(x *trackCtx, _ int) {
				x.session(x.at, app, cache, 6379, 1, 1, 30+x.rng.IntN(70), 50+x.rng.IntN(450), 200*time.Microsecond)
			}}}
		},
	},
}

// sweepHosts is the number of addresses the port-scan scenario's sweep
// tries.
const sweepHosts = 60
