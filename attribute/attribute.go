// Package attribute decides, for each decoded packet, which monitored
// interfaces saw it and in which direction, drops the traffic AWS never logs,
// asks the policy engine for the verdict, and hands the aggregator one
// observation per (interface, interval).
//
// It exists between decode and aggregate so that both the pcap path and live
// capture attribute packets the same way (docs/aws-behaviour.md, "Direction
// and attribution"): a frame whose source MAC is an ENI's is egress on it,
// whose destination MAC is an ENI's is ingress on it; without matching MACs
// the IP addresses decide.
package attribute

import (
	"net/netip"
	"sync"

	"github.com/vpcflow/vpcflow/flow"
	"github.com/vpcflow/vpcflow/packet"
	"github.com/vpcflow/vpcflow/policy"
	"github.com/vpcflow/vpcflow/record"
	"github.com/vpcflow/vpcflow/topology"
)

// Stats counts what attribution did with decoded packets.
type Stats struct {
	Excluded         [NumExclusions]uint64 // by reason, see Exclusion
	Unattributed     uint64                // no monitored ENI sent or received it
	Observations     uint64
	Rejected         uint64 // observations with action REJECT
	EgressDropped    uint64 // ingress side skipped because the sender's egress was rejected
	FragmentsNoPorts uint64 // non-first fragments whose first fragment was not seen
	// Mirrored counts the packets taken out of VXLAN (Traffic Mirroring)
	// and attributed by Mirrored; MirrorSourceUnknown those among them,
	// with a topology, whose outer source is no declared interface.
	Mirrored, MirrorSourceUnknown uint64
}

// Config says how to attribute packets.
type Config struct {
	// Topology: the declared network. Nil means single-interface mode.
	Topology *topology.Topology
	// Policy decides actions with a topology; nil means every packet is ACCEPT.
	Policy *policy.Engine
	// Captures maps an ENI index (topology.ENI.Index) to the capture ids of
	// its aggregation points (one per distinct interval). In single-interface
	// mode, index 0 is the one interface.
	Captures [][]uint32
	// LocalPrefixes: in single-interface mode, the interface's addresses.
	// A packet from one of them is egress, every other packet ingress.
	LocalPrefixes []netip.Prefix
	// Rules: record the deciding rule (x-rule) in observations.
	Rules bool
}

// Attributor turns packets into observations. Not safe for concurrent use:
// the policy engine's connection tracking needs packets in order.
type Attributor struct {
	cfg     Config
	excl    exclusions
	rulesMu sync.Mutex        // rules is read by the fan-out goroutine
	rules   []string          // rule id → name; id 0 is "no rule"; append-only
	ruleIDs map[string]uint16 // name → id
	frags   fragCache
	local   localNets
	enis    *eniIndex // of cfg.Topology
	stats   Stats
	obs     flow.Observation
	ppkt    policy.Packet
}

// New returns an Attributor.
func New(cfg Config) *Attributor {
	a := &Attributor{cfg: cfg, rules: []string{""}, ruleIDs: map[string]uint16{}}
	a.excl = newExclusions(cfg.Topology)
	a.frags = newFragCache(1 << 16)
	a.local = newLocalNets(cfg.LocalPrefixes)
	a.enis = newENIIndex(cfg.Topology)
	return a
}

// Rules returns the rule names by id, for flowlog.Fanout.SetRules. It may be
// called from another goroutine while packets are attributed: the slice only
// grows, and entries below its length never change.
func (a *Attributor) Rules() []string {
	a.rulesMu.Lock()
	defer a.rulesMu.Unlock()
	return a.rules
}

// Stats returns the counters.
func (a *Attributor) Stats() Stats { return a.stats }

// SetTopology replaces the topology and the policy engine between two
// packets, when the declared network of a running service changes; the
// captures follow with SetCaptures.
func (a *Attributor) SetTopology(t *topology.Topology, engine *policy.Engine) {
	a.cfg.Topology, a.cfg.Policy = t, engine
	a.excl = newExclusions(t)
	a.enis = newENIIndex(t)
}

// SetCaptures replaces Config.Captures and Config.Rules, between two packets,
// when the flow logs of a running service change.
func (a *Attributor) SetCaptures(captures [][]uint32, rules bool) {
	a.cfg.Captures, a.cfg.Rules = captures, rules
}

// Packet attributes one decoded packet seen at tsNanos and calls emit for
// each observation (the observation is reused after emit returns).
func (a *Attributor) Packet(p *packet.Packet, tsNanos int64, emit func(*flow.Observation)) {
	if !a.begin(p, tsNanos) {
		return
	}
	o := &a.obs
	t := a.cfg.Topology
	if t == nil {
		dir := record.Ingress
		if a.local.contains(p.Src) {
			dir = record.Egress
		}
		o.Dir, o.Action = uint8(dir), uint8(record.ActionAccept)
		if len(a.cfg.Captures) > 0 {
			a.emitAll(a.cfg.Captures[0], emit)
		}
		return
	}
	var from, to *topology.ENI
	if p.HasMAC {
		from, to = a.enis.byMACs(p.SrcMAC, p.DstMAC)
	}
	if from == nil && to == nil {
		from, to = a.enis.byIP(p.Src), a.enis.byIP(p.Dst)
	}
	if from == nil && to == nil {
		a.stats.Unattributed++
		return
	}
	if from != nil {
		if !a.side(from, record.Egress, p, emit) {
			// The sender's filters dropped it: it never reached the receiver.
			if to != nil {
				a.stats.EgressDropped++
			}
			return
		}
	}
	if to != nil {
		a.side(to, record.Ingress, p, emit)
	}
}

// Mirrored attributes a packet the decoder took out of VXLAN, as AWS Traffic
// Mirroring sends a copy of each packet of a source interface, from that
// interface's primary private address (p.TunnelSrc), to a mirror target.
// With a topology that declares the interface owning p.TunnelSrc, that
// interface alone saw the packet: mirroring two interfaces that talk to
// each other gives each its own record once, as their flow logs would,
// where the MACs of the copy would give both interfaces a record from each
// copy. The direction comes from the inner packet, as for a pinned capture
// (PacketOn). Otherwise (no topology, or a source not declared) the inner
// packet is attributed as any packet (Packet): by its MACs, then addresses
// ([Choice]; docs/aws-behaviour.md, "Encapsulations and Traffic Mirroring").
func (a *Attributor) Mirrored(p *packet.Packet, tsNanos int64, emit func(*flow.Observation)) {
	a.stats.Mirrored++
	if t := a.cfg.Topology; t != nil {
		if e := t.ENIByIP("", p.TunnelSrc); e != nil {
			a.PacketOn(e, e.MAC, p, tsNanos, emit)
			return
		}
		a.stats.MirrorSourceUnknown++
	}
	a.Packet(p, tsNanos, emit)
}

// PacketOn attributes a packet captured on an interface pinned to ENI e
// (a live interface given as IF=eni-id): e is the only ENI that saw it,
// whatever the MACs say, so capturing several interfaces never counts a
// packet twice. It is egress when it comes from e: its source address is
// one of e's; or, when neither address is e's (forwarded traffic), its
// source MAC is e's or the interface's own ifMAC. Otherwise it is ingress.
func (a *Attributor) PacketOn(e *topology.ENI, ifMAC [6]byte, p *packet.Packet, tsNanos int64, emit func(*flow.Observation)) {
	if !a.begin(p, tsNanos) {
		return
	}
	dir := record.Ingress
	switch src, dst := hasAddr(e, p.Src), hasAddr(e, p.Dst); {
	case src:
		dir = record.Egress
	case dst:
	case p.HasMAC && (e.HasMAC && p.SrcMAC == e.MAC || p.SrcMAC == ifMAC):
		dir = record.Egress
	}
	if a.cfg.Topology == nil {
		o := &a.obs
		o.Dir, o.Action = uint8(dir), uint8(record.ActionAccept)
		if len(a.cfg.Captures) > 0 {
			a.emitAll(a.cfg.Captures[0], emit)
		}
		return
	}
	a.side(e, dir, p, emit)
}

func hasAddr(e *topology.ENI, ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, x := range e.IPv4s {
		if x == ip {
			return true
		}
	}
	for _, x := range e.IPv6s {
		if x == ip {
			return true
		}
	}
	return false
}

// begin takes the ports (from the first fragment for later ones), drops
// excluded traffic, and fills the observation's packet fields; it reports
// whether the packet goes on to attribution.
func (a *Attributor) begin(p *packet.Packet, tsNanos int64) bool {
	var sport, dport uint16
	switch {
	case p.HasPorts:
		sport, dport = p.SrcPort, p.DstPort
		if p.IsFirstFragment() {
			a.frags.put(p, sport, dport)
		}
	case p.Fragment && p.FragOffset != 0:
		var ok bool
		if sport, dport, ok = a.frags.get(p); !ok {
			a.stats.FragmentsNoPorts++
		}
	}
	if r := a.excl.match(p, sport, dport); r != notExcluded {
		a.stats.Excluded[r]++
		return false
	}
	// Field by field rather than a composite literal: the literal is built
	// on the stack and copied, and the copy's wide loads of fields just
	// stored narrow stall once per packet. Every field is set
	// (TestBeginSetsEveryField).
	o := &a.obs
	o.Time = tsNanos
	o.Src, o.Dst = p.Src, p.Dst
	o.Capture = 0
	o.SrcPort, o.DstPort = sport, dport
	o.Proto, o.Dir, o.Action, o.TrafficPath = p.Proto, 0, 0, 0
	o.TCPFlags = 0
	if p.Proto == 6 {
		o.TCPFlags = flow.AWSFlags(p.TCPFlags)
	}
	o.Rule = 0
	o.Bytes = p.IPLen
	return true
}

// side emits the observations of one ENI and reports whether it accepted.
func (a *Attributor) side(e *topology.ENI, dir record.Direction, p *packet.Packet, emit func(*flow.Observation)) bool {
	o := &a.obs
	o.Dir, o.Action, o.Rule, o.TrafficPath = uint8(dir), uint8(record.ActionAccept), 0, 0
	if a.cfg.Policy != nil {
		pp := &a.ppkt
		*pp = policy.Packet{Src: p.Src, Dst: p.Dst, Proto: p.Proto, SrcPort: o.SrcPort, DstPort: o.DstPort, TCPFlags: p.TCPFlags}
		if p.HasICMP {
			pp.ICMPType, pp.ICMPCode = p.ICMPType, p.ICMPCode
		}
		pdir := policy.Ingress
		if dir == record.Egress {
			pdir = policy.Egress
		}
		v := a.cfg.Policy.Decide(e, pdir, pp, o.Time)
		if !v.Accept {
			o.Action = uint8(record.ActionReject)
			a.stats.Rejected++
		}
		if a.cfg.Rules {
			o.Rule = a.ruleID(v.Rule)
		}
	}
	if dir == record.Egress {
		o.TrafficPath = a.trafficPath(e, p.Dst)
	}
	if e.Index < len(a.cfg.Captures) {
		a.emitAll(a.cfg.Captures[e.Index], emit)
	}
	return o.Action == uint8(record.ActionAccept)
}

func (a *Attributor) emitAll(caps []uint32, emit func(*flow.Observation)) {
	for _, c := range caps {
		a.obs.Capture = c
		a.stats.Observations++
		emit(&a.obs)
	}
}

func (a *Attributor) ruleID(name string) uint16 {
	if name == "" {
		return 0
	}
	if id, ok := a.ruleIDs[name]; ok {
		return id
	}
	if len(a.rules) >= 1<<16-1 {
		return 0
	}
	id := uint16(len(a.rules))
	a.rulesMu.Lock()
	a.rules = append(a.rules, name)
	a.rulesMu.Unlock()
	a.ruleIDs[name] = id
	return id
}

// trafficPath computes traffic-path for egress traffic from the subnet's
// route table ([Choice]; docs/aws-behaviour.md, "Traffic path"); 0 when
// there is no route table.
func (a *Attributor) trafficPath(e *topology.ENI, dst netip.Addr) uint8 {
	t := a.cfg.Topology
	if t == nil || len(t.RouteTables) == 0 || e.Subnet == nil {
		return 0
	}
	rt, ok := t.Route(e.Subnet, dst)
	if !ok {
		return 0
	}
	switch rt.Kind {
	case topology.TargetLocal, topology.TargetNAT, topology.TargetTGW, topology.TargetENI:
		return 1
	case topology.TargetIGW:
		if e.Nitro {
			return 8
		}
		return 2
	case topology.TargetEndpoint:
		if e.Nitro {
			return 7
		}
		return 2
	case topology.TargetVGW:
		return 3
	case topology.TargetPeering:
		return 4
	case topology.TargetLocalGW:
		return 6
	}
	return 0
}
