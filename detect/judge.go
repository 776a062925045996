package detect

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// Judging a window: work out which address of each pair is the interface's
// own, run every detector over the window's aggregates, and record what
// they found. Detections are sorted before they reach the store, so that the
// order in which records (and so pairs) arrived changes nothing.

// scratch holds the maps and slices judging reuses from window to window.
type scratch struct {
	partners  map[addrKey]partner
	roles     []int8
	explained []bool
	sweeps    map[sweepKey]sweepAcc
	chosen    map[sweepKey]*sweepDet
	probes    map[probeKey][]probeSeen
	volume    map[volKey]volAcc
	vols      []volEntry
	uses      []portUse
	own       []ownAddr
	rejects   []rejectAcc
	dets      []detection
}

// Sides of a pair that are the interface's own address.
const (
	ownSrc int8 = 1  // the source: the pair goes out
	ownDst int8 = -1 // the destination: the pair comes in
)

type addrKey struct {
	a   [16]byte
	eni uint32
	v4  bool
}

type partner struct {
	first [16]byte
	v4    bool
	multi bool // seen with two different addresses
}

type ownAddr struct {
	eni  int32
	addr netip.Addr
}

func (e *Engine) judge(w *window) {
	sc := &e.scratch
	if sc.partners == nil {
		sc.partners = make(map[addrKey]partner)
		sc.sweeps = make(map[sweepKey]sweepAcc)
		sc.chosen = make(map[sweepKey]*sweepDet)
		sc.probes = make(map[probeKey][]probeSeen)
		sc.volume = make(map[volKey]volAcc)
	}
	n := len(w.aggs)
	sc.roles = slices.Grow(sc.roles[:0], n)[:n]
	sc.explained = slices.Grow(sc.explained[:0], n)[:n]
	clear(sc.explained)
	sc.dets = sc.dets[:0]

	e.resolveRoles(w)
	e.judgeScans(w)
	e.judgeSweeps(w)
	e.judgeBruteForce(w)
	e.judgeProbes(w)
	e.judgeVolume(w)
	e.judgePorts(w)
	e.judgeStorms(w)
	for x, pe := range w.perENI {
		if pe.records > 0 {
			e.eni[x].seen++
		}
	}

	slices.SortFunc(sc.dets, func(a, b detection) int { return cmp.Or(cmp.Compare(a.typ, b.typ), cmp.Compare(a.key, b.key)) })
	end := (w.index + 1) * e.win
	reported := e.reported[:0]
	for i := range sc.dets {
		d := &sc.dets[i]
		d.account, d.region = cmp.Or(d.eni.account, e.cfg.Account), cmp.Or(d.eni.region, e.cfg.Region)
		f := e.store.upsert(d, w.index, end)
		if f == nil {
			e.stats.FindingsDropped++
			e.note("limit/findings", "more than %d findings: new ones are not kept (Stats.FindingsDropped)", e.cfg.Limits.Findings)
			continue
		}
		// Two detections of one window may update one finding (probes
		// of one port from several sources): it is reported once.
		if !slices.Contains(reported, f) {
			reported = append(reported, f)
		}
	}
	e.reported = reported
	if e.onJudged != nil {
		e.onJudged(w.index*e.win, end, reported)
	}
}

// resolveRoles decides, for every pair, which address is the interface's
// own, in this order: the records' flow-direction; addresses learned as
// its own in earlier windows; the address seen with two or more partners in
// this window (an interface's records all carry its own address, a remote
// host's only that one); the private side of a private-public pair.
// Addresses found by the direction or by their partners are learned.
func (e *Engine) resolveRoles(w *window) {
	sc := &e.scratch
	clear(sc.partners)
	note := func(eni uint32, a [16]byte, av4 bool, b [16]byte, bv4 bool) {
		k := addrKey{a, eni, av4}
		p, ok := sc.partners[k]
		switch {
		case !ok:
			sc.partners[k] = partner{first: b, v4: bv4}
		case !p.multi && (p.first != b || p.v4 != bv4):
			p.multi = true
			sc.partners[k] = p
		}
	}
	for i := range w.aggs {
		k := &w.aggs[i].key
		note(k.eni, k.src, k.fam&1 != 0, k.dst, k.fam&2 != 0)
		note(k.eni, k.dst, k.fam&2 != 0, k.src, k.fam&1 != 0)
	}
	sc.own = sc.own[:0]
	for i := range w.aggs {
		a := &w.aggs[i]
		role, learn := e.role(a)
		sc.roles[i] = role
		if role == 0 {
			e.stats.RolesUnknown++
		} else if learn {
			addr := a.key.srcAddr()
			if role == ownDst {
				addr = a.key.dstAddr()
			}
			if !slices.Contains(e.eni[a.key.eni].own, addr) {
				sc.own = append(sc.own, ownAddr{int32(a.key.eni), addr})
			}
		}
	}
	slices.SortFunc(sc.own, func(a, b ownAddr) int { return cmp.Or(cmp.Compare(a.eni, b.eni), a.addr.Compare(b.addr)) })
	for _, o := range slices.Compact(sc.own) {
		s := &e.eni[o.eni]
		if len(s.own) >= e.cfg.Limits.OwnAddresses {
			e.stats.OwnAddressesDropped++
			continue
		}
		s.own = append(s.own, o.addr)
	}
}

// role returns the own side of a, and whether it was found by a means
// strong enough to learn the address from.
func (e *Engine) role(a *pairAgg) (int8, bool) {
	switch {
	case a.egress > a.ingress:
		return ownSrc, true
	case a.ingress > a.egress:
		return ownDst, true
	}
	s := &e.eni[a.key.eni]
	src, dst := a.key.srcAddr(), a.key.dstAddr()
	if sk, dk := slices.Contains(s.own, src), slices.Contains(s.own, dst); sk != dk {
		if sk {
			return ownSrc, false
		}
		return ownDst, false
	}
	sm := e.scratch.partners[addrKey{a.key.src, a.key.eni, a.key.fam&1 != 0}].multi
	dm := e.scratch.partners[addrKey{a.key.dst, a.key.eni, a.key.fam&2 != 0}].multi
	if sm != dm {
		if sm {
			return ownSrc, true
		}
		return ownDst, true
	}
	if sp, dp := public(src), public(dst); sp != dp {
		if dp {
			return ownSrc, false
		}
		return ownDst, false
	}
	return 0, false
}

// sides returns the interface's own address of a and the remote one.
func sides(a *pairAgg, role int8) (local, remote netip.Addr) {
	if role == ownSrc {
		return a.key.srcAddr(), a.key.dstAddr()
	}
	return a.key.dstAddr(), a.key.srcAddr()
}

// lowestPort is the lowest service port of a, the one a finding shows.
func lowestPort(s *portSet) int32 {
	low := int32(-1)
	s.each(func(p uint16, _ uint8) {
		if low < 0 || int32(p) < low {
			low = int32(p)
		}
	})
	return low
}

// judgeScans: one source tries many ports of one host, mostly probes.
func (e *Engine) judgeScans(w *window) {
	sc := &e.scratch
	t := e.cfg.Portscan
	for i := range w.aggs {
		a, role := &w.aggs[i], sc.roles[i]
		if role == 0 || a.requests == 0 || a.ports.len() < t.MinTargets ||
			float64(a.reqProbes) < t.MinProbeShare*float64(a.requests) {
			continue
		}
		sc.explained[i] = true
		local, remote := sides(a, role)
		s := &e.eni[a.key.eni]
		low := lowestPort(&a.ports)
		d := detection{eni: s, local: local, remote: remote, proto: a.key.proto, first: a.first, last: a.last,
			localPort: -1, remotePort: -1, blocked: a.reqRejects == a.requests,
			info:  map[string]any{"ports": a.ports.len(), "attempts": a.requests, "probes": a.reqProbes, "rejected": a.reqRejects},
			match: matcher{eni: s.name, proto: int16(a.key.proto), port: -1, tests: mRequest}}
		if role == ownSrc {
			d.typ, d.role, d.dir, d.severity, d.remotePort = TypePortscan, roleActor, dirOut, SeverityMedium, low
			d.match.src, d.match.dst = local, remote
			d.title = fmt.Sprintf("%s is performing outbound port scans against remote host %s.", s.label(), remote)
			d.desc = fmt.Sprintf("%s tried %d ports of %s in %s (%d connections, %d of them rejected or short).",
				s.label(), a.ports.len(), remote, windowText(e.cfg.Window), a.requests, a.reqProbes)
		} else {
			d.typ, d.role, d.dir, d.severity, d.localPort = TypeInboundPortscan, roleTarget, dirIn, SeverityLow, low
			d.match.src, d.match.dst = remote, local
			d.title = fmt.Sprintf("%s is performing port scans against %s.", remote, s.label())
			d.desc = fmt.Sprintf("%s tried %d ports of %s in %s (%d connections, %d of them rejected or short).",
				remote, a.ports.len(), s.label(), windowText(e.cfg.Window), a.requests, a.reqProbes)
		}
		d.key = keyOf(s.name, remote, a.key.proto)
		sc.dets = append(sc.dets, d)
	}
}

type sweepKey struct {
	addr  [16]byte // inbound: the remote source
	eni   uint32   // outbound: the interface
	port  uint16
	proto uint8
	v4    bool
	out   bool
}

type sweepAcc struct{ hosts, probes int32 }

type sweepDet struct {
	hosts, probes, rejected int32
	first, last             int64
	enis                    []string
	targets                 []netip.Addr
	local                   netip.Addr
	eni                     *eniState
}

func (e *Engine) sweepKeyOf(a *pairAgg, role int8, p uint16) sweepKey {
	k := sweepKey{port: p, proto: a.key.proto}
	if role == ownDst {
		k.addr, k.v4 = a.key.src, a.key.fam&1 != 0
	} else {
		k.eni, k.out = a.key.eni, true
	}
	return k
}

// judgeSweeps: one source tries one port of many hosts, mostly probes.
// Outbound, the hosts are the remote addresses of one interface; inbound,
// they are the interfaces of this window a remote address tried.
func (e *Engine) judgeSweeps(w *window) {
	sc := &e.scratch
	clear(sc.sweeps)
	for i := range w.aggs {
		a, role := &w.aggs[i], sc.roles[i]
		if role == 0 {
			continue
		}
		a.ports.each(func(p uint16, flags uint8) {
			k := e.sweepKeyOf(a, role, p)
			acc := sc.sweeps[k]
			acc.hosts++
			if flags&portProbe != 0 {
				acc.probes++
			}
			sc.sweeps[k] = acc
		})
	}
	clear(sc.chosen)
	for k, acc := range sc.sweeps {
		t := e.cfg.Sweep
		if k.out {
			t = e.cfg.MassScan
		}
		if int(acc.hosts) >= t.MinTargets && float64(acc.probes) >= t.MinProbeShare*float64(acc.hosts) {
			sc.chosen[k] = &sweepDet{}
		}
	}
	if len(sc.chosen) == 0 {
		return
	}
	for i := range w.aggs {
		a, role := &w.aggs[i], sc.roles[i]
		if role == 0 {
			continue
		}
		a.ports.each(func(p uint16, flags uint8) {
			sd := sc.chosen[e.sweepKeyOf(a, role, p)]
			if sd == nil {
				return
			}
			sc.explained[i] = true
			local, remote := sides(a, role)
			s := &e.eni[a.key.eni]
			if sd.hosts == 0 {
				sd.first, sd.last = a.first, a.last
			}
			sd.hosts++
			sd.first, sd.last = min(sd.first, a.first), max(sd.last, a.last)
			if flags&portProbe != 0 {
				sd.probes++
			}
			if a.reqRejects == a.requests {
				sd.rejected++
			}
			if role == ownDst {
				sd.enis = append(sd.enis, s.name)
				if sd.eni == nil || s.name < sd.eni.name {
					sd.eni, sd.local = s, local
				}
			} else {
				sd.eni, sd.local = s, local
				sd.targets = append(sd.targets, remote)
			}
		})
	}
	for k, sd := range sc.chosen {
		d := detection{eni: sd.eni, local: sd.local, proto: k.proto, first: sd.first, last: sd.last,
			localPort: -1, remotePort: -1, blocked: sd.rejected == sd.hosts,
			match: matcher{proto: int16(k.proto), port: int32(k.port), tests: mRequest}}
		if k.out {
			slices.SortFunc(sd.targets, netip.Addr.Compare)
			d.typ, d.role, d.dir, d.severity = TypeMassIPScan, roleActor, dirOut, SeverityHigh
			d.remote, d.remotePort = sd.targets[0], int32(k.port)
			d.match.eni, d.match.src = sd.eni.name, sd.local
			d.key = fmt.Sprintf("%s|%d|%d", sd.eni.name, k.proto, k.port)
			d.title = fmt.Sprintf("%s is scanning port %d of a large number of hosts.", sd.eni.label(), k.port)
			d.desc = fmt.Sprintf("%s tried port %d/%s of %d hosts in %s, %d of them with probes (rejected or short).",
				sd.eni.label(), k.port, protocolName(k.proto), sd.hosts, windowText(e.cfg.Window), sd.probes)
			d.info = map[string]any{"hosts": sd.hosts, "probes": sd.probes}
		} else {
			slices.Sort(sd.enis)
			remote := addrOf(k.addr, k.v4)
			d.typ, d.role, d.dir, d.severity = TypeInboundPortSweep, roleTarget, dirIn, SeverityLow
			d.remote, d.localPort = remote, int32(k.port)
			d.match.src = remote
			d.key = fmt.Sprintf("%s|%d|%d", remote, k.proto, k.port)
			d.title = fmt.Sprintf("%s is sweeping port %d across %d interfaces.", remote, k.port, sd.hosts)
			d.desc = fmt.Sprintf("%s tried port %d/%s of %d interfaces in %s, %d of them with probes (rejected or short). The finding names the first interface; x-interfaces in AdditionalInfo lists them.",
				remote, k.port, protocolName(k.proto), sd.hosts, windowText(e.cfg.Window), sd.probes)
			d.info = map[string]any{"hosts": sd.hosts, "probes": sd.probes, "interfaces": capList(sd.enis, e.cfg.Limits.ProbeDetails)}
		}
		sc.dets = append(sc.dets, d)
	}
}

func capList(s []string, n int) []string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// judgeBruteForce: many connections from one address to an SSH or RDP port
// of one host. The role follows GuardDuty: the instance is the TARGET of
// an inbound attack, the ACTOR of an outbound one.
func (e *Engine) judgeBruteForce(w *window) {
	sc := &e.scratch
	t := e.cfg.BruteForce
	for i := range w.aggs {
		a, role := &w.aggs[i], sc.roles[i]
		if role == 0 {
			continue
		}
		for _, bf := range []struct {
			typ, name string
			n, rej    uint32
			ports     []int
			kind      uint8
		}{{TypeSSHBruteForce, "SSH", a.ssh, a.sshRejected, t.SSHPorts, kindSSH},
			{TypeRDPBruteForce, "RDP", a.rdp, a.rdpRejected, t.RDPPorts, kindRDP}} {
			if int(bf.n) < t.MinAttempts {
				continue
			}
			sc.explained[i] = true
			local, remote := sides(a, role)
			s := &e.eni[a.key.eni]
			port := int32(-1)
			for _, p := range bf.ports {
				if _, ok := a.ports.has(uint16(p)); ok {
					port = int32(p)
					break
				}
			}
			d := detection{typ: bf.typ, eni: s, local: local, remote: remote, proto: a.key.proto,
				first: a.first, last: a.last, localPort: -1, remotePort: -1, blocked: bf.rej == bf.n,
				info:  map[string]any{"attempts": bf.n, "rejected": bf.rej},
				match: matcher{eni: s.name, src: a.key.srcAddr(), dst: a.key.dstAddr(), proto: int16(a.key.proto), port: -1, tests: mAttempt, kind: bf.kind}}
			if role == ownDst {
				d.role, d.dir, d.severity, d.localPort = roleTarget, dirIn, SeverityLow, port
				d.title = fmt.Sprintf("%s is performing %s brute force attacks against %s.", remote, bf.name, s.label())
				d.desc = fmt.Sprintf("%s opened %d %s connections to %s in %s (%d rejected).", remote, bf.n, bf.name, s.label(), windowText(e.cfg.Window), bf.rej)
			} else {
				d.role, d.dir, d.severity, d.remotePort = roleActor, dirOut, SeverityHigh, port
				d.title = fmt.Sprintf("%s is performing %s brute force attacks against %s.", s.label(), bf.name, remote)
				d.desc = fmt.Sprintf("%s opened %d %s connections to %s in %s (%d rejected).", s.label(), bf.n, bf.name, remote, windowText(e.cfg.Window), bf.rej)
			}
			d.key = d.role + "|" + keyOf(s.name, remote, 0)
			sc.dets = append(sc.dets, d)
		}
	}
}

type probeKey struct {
	local [16]byte
	eni   uint32
	port  uint16
	proto uint8
	v4    bool
}

type probeSeen struct {
	remote, local netip.Addr
	port          int32
	first, last   int64
}

func (p probeSeen) detail() PortProbeDetail {
	return PortProbeDetail{LocalIPDetails: ipDetails(p.local), LocalPortDetails: portDetails(p.port), RemoteIPDetails: ipDetails(p.remote)}
}

// judgeProbes: accepted probes from internet addresses to a sensitive port
// of the interface: the port is open to the internet.
func (e *Engine) judgeProbes(w *window) {
	sc := &e.scratch
	clear(sc.probes)
	for i := range w.aggs {
		a, role := &w.aggs[i], sc.roles[i]
		if role != ownDst || !public(a.key.srcAddr()) {
			continue
		}
		a.ports.each(func(p uint16, flags uint8) {
			if flags&portOpenProbe == 0 || e.portKind[p]&kindSensitive == 0 {
				return
			}
			k := probeKey{a.key.dst, a.key.eni, p, a.key.proto, a.key.fam&2 != 0}
			sc.probes[k] = append(sc.probes[k], probeSeen{remote: a.key.srcAddr(), local: a.key.dstAddr(), port: int32(p), first: a.first, last: a.last})
		})
	}
	for k, seen := range sc.probes {
		if len(seen) < e.cfg.Probe.MinSources {
			continue
		}
		slices.SortFunc(seen, func(a, b probeSeen) int { return a.remote.Compare(b.remote) })
		s := &e.eni[k.eni]
		local := addrOf(k.local, k.v4)
		d := detection{typ: TypePortProbe, eni: s, role: roleTarget, dir: dirIn, local: local, remote: seen[0].remote,
			proto: k.proto, localPort: int32(k.port), remotePort: -1, first: seen[0].first, last: seen[0].last,
			severity: SeverityLow, probes: seen,
			info:  map[string]any{"sources": len(seen)},
			match: matcher{eni: s.name, dst: local, proto: int16(k.proto), port: int32(k.port), tests: mRequest | mOpenProbe | mPublicSrc}}
		for _, p := range seen {
			d.first, d.last = min(d.first, p.first), max(d.last, p.last)
		}
		if e.portKind[k.port]&kindHigh != 0 {
			d.severity = SeverityHigh
		}
		d.key = fmt.Sprintf("%s|%s|%d|%d", s.name, local, k.proto, k.port)
		d.title = fmt.Sprintf("Unprotected port on %s is being probed.", s.label())
		d.desc = fmt.Sprintf("Port %d/%s of %s (%s) accepted probes from %d internet addresses in %s.",
			k.port, protocolName(k.proto), s.label(), local, len(seen), windowText(e.cfg.Window))
		sc.dets = append(sc.dets, d)
	}
}

type volKey struct {
	remote [16]byte
	eni    uint32
	v4     bool
}

type volAcc struct {
	bytes, top  uint64 // all bytes; the largest pair's
	proto       uint8  // the largest pair's protocol
	local       netip.Addr
	first, last int64
}

type volEntry struct {
	eni    int32
	remote netip.Addr
	volAcc
}

// decayed is baseline b, last updated at window at, as of window now.
func decayed(b float64, at, now int64, decay float64) float64 {
	if now <= at || b == 0 {
		return b
	}
	return b * math.Pow(decay, float64(now-at))
}

// judgeVolume: egress bytes from the interface to one remote address in a
// window, against the interface's baseline: the largest such quantity of
// earlier windows, fading by Decay per window. Flagged traffic does not
// teach the baseline, so an exfiltration that goes on keeps being seen.
func (e *Engine) judgeVolume(w *window) {
	sc := &e.scratch
	t := e.cfg.Volume
	clear(sc.volume)
	for i := range w.aggs {
		a, role := &w.aggs[i], sc.roles[i]
		if role != ownSrc || a.bytes == 0 {
			continue
		}
		k := volKey{a.key.dst, a.key.eni, a.key.fam&2 != 0}
		v, ok := sc.volume[k]
		if !ok {
			v = volAcc{local: a.key.srcAddr(), first: a.first, last: a.last}
		}
		v.bytes += a.bytes
		if a.bytes > v.top {
			v.top, v.proto = a.bytes, a.key.proto
		}
		v.first, v.last = min(v.first, a.first), max(v.last, a.last)
		sc.volume[k] = v
	}
	sc.vols = sc.vols[:0]
	for k, v := range sc.volume {
		sc.vols = append(sc.vols, volEntry{int32(k.eni), addrOf(k.remote, k.v4), v})
	}
	slices.SortFunc(sc.vols, func(a, b volEntry) int { return cmp.Or(cmp.Compare(a.eni, b.eni), a.remote.Compare(b.remote)) })
	for lo := 0; lo < len(sc.vols); {
		hi := lo + 1
		for hi < len(sc.vols) && sc.vols[hi].eni == sc.vols[lo].eni {
			hi++
		}
		s := &e.eni[sc.vols[lo].eni]
		baseline := decayed(s.volBase, s.volAt, w.index, t.Decay)
		threshold := max(t.Min, t.Factor*baseline)
		learned := e.learned(s, t.Learn)
		var top float64
		for _, v := range sc.vols[lo:hi] {
			b := float64(v.bytes)
			if !learned || b <= threshold {
				top = max(top, b)
				continue
			}
			d := detection{typ: TypeTrafficVolume, eni: s, role: roleActor, dir: dirOut, local: v.local, remote: v.remote,
				proto: v.proto, localPort: -1, remotePort: -1, first: v.first, last: v.last, severity: SeverityHigh,
				info:  map[string]any{"bytes": v.bytes, "baselineBytes": math.Round(baseline), "thresholdBytes": math.Round(threshold)},
				match: matcher{eni: s.name, src: v.local, dst: v.remote, proto: -1, port: -1}}
			d.key = keyOf(s.name, v.remote, 0)
			d.title = fmt.Sprintf("%s is generating unusually large amounts of network traffic to %s.", s.label(), v.remote)
			d.desc = fmt.Sprintf("%s sent %d bytes to %s in %s; its baseline is %.0f bytes to one address per window (threshold %.0f).",
				s.label(), v.bytes, v.remote, windowText(e.cfg.Window), baseline, threshold)
			sc.dets = append(sc.dets, d)
		}
		s.volBase, s.volAt = max(baseline, top), w.index
		lo = hi
	}
}

type portUse struct {
	eni           int32
	proto         uint8
	port          uint16
	local, remote netip.Addr
	first, last   int64
}

// judgePorts: the interface talks (accepted, more than a probe) to a remote
// service port it never used since it was first seen, once its learning
// period is over. A reported port keeps being reported for Promote, then
// joins the learned ones.
func (e *Engine) judgePorts(w *window) {
	sc := &e.scratch
	t := e.cfg.PortUnusual
	sc.uses = sc.uses[:0]
	for i := range w.aggs {
		a, role := &w.aggs[i], sc.roles[i]
		if role != ownSrc {
			continue
		}
		a.ports.each(func(p uint16, flags uint8) {
			if flags&portTalk != 0 {
				sc.uses = append(sc.uses, portUse{int32(a.key.eni), a.key.proto, p, a.key.srcAddr(), a.key.dstAddr(), a.first, a.last})
			}
		})
	}
	slices.SortFunc(sc.uses, func(a, b portUse) int {
		return cmp.Or(cmp.Compare(a.eni, b.eni), cmp.Compare(a.proto, b.proto), cmp.Compare(a.port, b.port), a.remote.Compare(b.remote))
	})
	promote := int64(t.Promote.Seconds())
	for lo := 0; lo < len(sc.uses); {
		u := sc.uses[lo]
		hi := lo + 1
		first, last := u.first, u.last
		for hi < len(sc.uses) && sc.uses[hi].eni == u.eni && sc.uses[hi].proto == u.proto && sc.uses[hi].port == u.port {
			first, last = min(first, sc.uses[hi].first), max(last, sc.uses[hi].last)
			hi++
		}
		remotes := hi - lo
		lo = hi
		s := &e.eni[u.eni]
		if s.ports == nil {
			s.ports = make(map[uint32]int64)
		}
		key := uint32(u.proto)<<16 | uint32(u.port)
		since, known := s.ports[key]
		if !known && len(s.ports) >= e.cfg.Limits.LearnedPorts {
			e.stats.PortsNotLearned++
			e.note("limit/ports", "%s (and maybe others): more than %d outbound ports: new ones are neither learned nor reported (Stats.PortsNotLearned)", s.name, e.cfg.Limits.LearnedPorts)
			continue
		}
		switch {
		case !e.learned(s, t.Learn):
			s.ports[key] = -1
			continue
		case !known:
			s.ports[key] = w.index
		case since < 0:
			continue
		case (w.index-since)*e.win >= promote:
			s.ports[key] = -1
			continue
		}
		d := detection{typ: TypePortUnusual, eni: s, role: roleActor, dir: dirOut, local: u.local, remote: u.remote,
			proto: u.proto, localPort: -1, remotePort: int32(u.port), first: first, last: last, severity: SeverityMedium,
			info:  map[string]any{"remoteAddresses": remotes},
			match: matcher{eni: s.name, src: u.local, proto: int16(u.proto), port: int32(u.port), tests: mRequest | mTalk}}
		d.key = fmt.Sprintf("%s|%d|%d", s.name, u.proto, u.port)
		d.title = fmt.Sprintf("%s is communicating on an unusual server port %d.", s.label(), u.port)
		d.desc = fmt.Sprintf("%s talked to port %d/%s of %d remote addresses (first %s); it had not used this port since %s.",
			s.label(), u.port, protocolName(u.proto), remotes, u.remote, formatTime(s.first, timeSeconds))
		sc.dets = append(sc.dets, d)
	}
}

type rejectAcc struct {
	explained, pairs uint32
	first, last      int64
}

// judgeStorms: the interface's REJECT records in a window against its
// baseline, leaving out the rejects of pairs another detector reported
// (a scan is reported as a scan, not again as a storm).
func (e *Engine) judgeStorms(w *window) {
	sc := &e.scratch
	t := e.cfg.RejectStorm
	sc.rejects = slices.Grow(sc.rejects[:0], len(w.perENI))[:len(w.perENI)]
	clear(sc.rejects)
	for i := range w.aggs {
		a := &w.aggs[i]
		if a.rejects == 0 {
			continue
		}
		r := &sc.rejects[a.key.eni]
		if sc.explained[i] {
			r.explained += a.rejects
			continue
		}
		if r.pairs == 0 {
			r.first, r.last = a.first, a.last
		}
		r.pairs++
		r.first, r.last = min(r.first, a.first), max(r.last, a.last)
	}
	start := w.index * e.win
	for x, pe := range w.perENI {
		if pe.records == 0 {
			continue
		}
		r := &sc.rejects[x]
		n := float64(pe.rejects - min(pe.rejects, r.explained))
		s := &e.eni[x]
		baseline := decayed(s.rejBase, s.rejAt, w.index, t.Decay)
		threshold := max(t.Min, t.Factor*baseline)
		s.rejAt = w.index
		if !e.learned(s, t.Learn) || n <= threshold {
			s.rejBase = max(baseline, n)
			continue
		}
		s.rejBase = baseline
		var local netip.Addr
		if len(s.own) > 0 {
			local = s.own[0]
		}
		first, last := r.first, r.last
		if r.pairs == 0 { // every unexplained reject was turned away by the pair table
			first, last = start, start+e.win-1
		}
		d := detection{typ: TypeRejectStorm, eni: s, role: roleTarget, dir: dirUnknown, local: local,
			proto: 255, localPort: -1, remotePort: -1, first: first, last: last, severity: SeverityMedium, blocked: true,
			info:  map[string]any{"rejects": int(n), "addressPairs": r.pairs, "baselineRejects": math.Round(baseline), "thresholdRejects": math.Round(threshold)},
			match: matcher{eni: s.name, proto: -1, port: -1, tests: mReject}}
		d.key = s.name
		d.title = fmt.Sprintf("Storm of rejected traffic on %s.", s.label())
		d.desc = fmt.Sprintf("%s logged %.0f REJECT records from %d address pairs in %s; its baseline is %.0f per window (threshold %.0f).",
			s.label(), n, r.pairs, windowText(e.cfg.Window), baseline, threshold)
		sc.dets = append(sc.dets, d)
	}
}

// learned reports whether s has had records in enough windows before this
// one to cover learn.
func (e *Engine) learned(s *eniState, learn time.Duration) bool {
	return int64(s.seen)*e.win >= int64(learn.Seconds())
}

// keyOf joins an interface, an address and a protocol into a finding key.
func keyOf(eni string, a netip.Addr, proto uint8) string {
	return fmt.Sprintf("%s|%s|%d", eni, a, proto)
}

// label names the interface as findings do: the instance when known.
func (s *eniState) label() string {
	if s.instance != "" {
		return "EC2 instance " + s.instance
	}
	return "Interface " + s.name
}

// detection is one detector's verdict on one window, before it becomes a
// finding or updates one.
type detection struct {
	typ, key              string
	eni                   *eniState
	account, region       string
	role, dir             string
	local, remote         netip.Addr
	localPort, remotePort int32
	proto                 uint8
	blocked               bool
	first, last           int64
	severity              float64
	title, desc           string
	info                  map[string]any
	probes                []probeSeen
	match                 matcher
}

func (d *detection) additionalInfo() *AdditionalInfo {
	if len(d.info) == 0 {
		return nil
	}
	b, err := json.Marshal(d.info)
	if err != nil { // only numbers and strings: cannot fail
		return nil
	}
	return &AdditionalInfo{Value: string(b), Type: "default"}
}

// detectorID is GuardDuty's detector id of an account and region: 32 hex
// digits, the same for every finding of both.
func detectorID(account, region string) string { return hexID("vpcflow detector", account, region) }

// DetectorID is the detector id of the findings of an account and region
// (a service answering GuardDuty's API lists it as its one detector).
func DetectorID(account, region string) string { return detectorID(account, region) }

// finding builds the new finding of d, with id, reported by the window
// ending at t.
func (d *detection) finding(id string, t int64, l Limits) *Finding {
	s := d.eni
	ni := NetworkInterface{NetworkInterfaceID: s.name, SubnetID: s.subnet, VpcID: s.vpc}
	for _, a := range s.own {
		if a.Is4() && ni.PrivateIPAddress == "" {
			ni.PrivateIPAddress = a.String()
		} else if a.Is6() && !a.Is4In6() {
			ni.IPv6Addresses = append(ni.IPv6Addresses, a.String())
		}
	}
	if ni.PrivateIPAddress == "" && d.local.Is4() {
		ni.PrivateIPAddress = d.local.String()
	}
	detector := detectorID(d.account, d.region)
	f := &Finding{
		AccountID:     d.account,
		Arn:           fmt.Sprintf("arn:aws:guardduty:%s:%s:detector/%s/finding/%s", d.region, d.account, detector, id),
		CreatedAt:     formatTime(t, timeMillis),
		Description:   d.desc,
		ID:            id,
		Partition:     "aws",
		Region:        d.region,
		Resource:      Resource{ResourceType: "Instance", InstanceDetails: InstanceDetails{InstanceID: s.instance, NetworkInterfaces: []NetworkInterface{ni}}},
		SchemaVersion: "2.0",
		Service: Service{
			AdditionalInfo: d.additionalInfo(),
			Count:          1,
			DetectorID:     detector,
			EventFirstSeen: formatTime(d.first, timeSeconds),
			EventLastSeen:  formatTime(d.last, timeSeconds),
			ResourceRole:   d.role,
			ServiceName:    "guardduty",
		},
		Severity:  d.severity,
		Title:     d.title,
		Type:      d.typ,
		UpdatedAt: formatTime(t, timeMillis),
		first:     d.first,
		last:      d.last,
		match:     d.match,
	}
	if d.typ == TypePortProbe {
		pa := &PortProbeAction{PortProbeDetails: []PortProbeDetail{}}
		f.probes = make(map[netip.Addr]bool)
		for _, p := range d.probes {
			if len(pa.PortProbeDetails) == l.ProbeDetails {
				break
			}
			f.probes[p.remote] = true
			pa.PortProbeDetails = append(pa.PortProbeDetails, p.detail())
		}
		f.Service.Action = Action{ActionType: "PORT_PROBE", PortProbeAction: pa}
		return f
	}
	f.Service.Action = Action{ActionType: "NETWORK_CONNECTION", NetworkConnectionAction: &NetworkConnectionAction{
		Blocked:               d.blocked,
		ConnectionDirection:   d.dir,
		LocalIPDetails:        ipDetails(d.local),
		LocalNetworkInterface: s.name,
		LocalPortDetails:      portDetails(d.localPort),
		Protocol:              protocolName(d.proto),
		RemoteIPDetails:       ipDetails(d.remote),
		RemotePortDetails:     portDetails(d.remotePort),
	}}
	return f
}

// windowText is how descriptions name the window length.
func windowText(d time.Duration) string { return strings.TrimSuffix(d.String(), "0s") }
