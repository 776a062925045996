// Package policy decides ACCEPT or REJECT for a packet at an ENI the way AWS
// does (security groups: stateful allow-lists with connection tracking;
// network ACLs: ordered, stateless, applied only across the subnet
// boundary) and names the deciding rule, e.g. sg-0abc/ingress/2 or
// acl-0def/egress/*. It exists so the packet pipeline can attach an action
// (and optionally the rule) to every record, and `vpcflow policy check` can
// answer reachability questions. Decide is the per-packet hot path: rules
// are compiled per ENI at New, rule names are precomputed strings, and a
// verdict does not allocate.
package policy

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/vpcflow/vpcflow/topology"
)

// Direction is the direction of a packet relative to the ENI.
type Direction uint8

// Directions.
const (
	Ingress Direction = iota // received by the ENI
	Egress                   // sent by the ENI
)

func (d Direction) String() string {
	if d == Egress {
		return "egress"
	}
	return "ingress"
}

// ParseDirection parses "ingress" or "egress".
func ParseDirection(s string) (Direction, error) {
	switch strings.ToLower(s) {
	case "ingress", "in", "inbound":
		return Ingress, nil
	case "egress", "out", "outbound":
		return Egress, nil
	}
	return 0, fmt.Errorf("bad direction %q: want ingress or egress", s)
}

// TCP flag bits of Packet.TCPFlags (the TCP header's flag byte).
const (
	FlagFIN = 0x01
	FlagSYN = 0x02
	FlagRST = 0x04
	FlagACK = 0x10
)

// Packet is the flat view of a packet the engine needs. Addresses are as on
// the wire; ports are 0 for ICMP.
type Packet struct {
	Src, Dst           netip.Addr
	Proto              uint8
	SrcPort, DstPort   uint16
	ICMPType, ICMPCode uint8
	TCPFlags           uint8
}

// Verdict is the decision for one packet. Rule names the deciding rule: for
// REJECT the NACL entry or the SG deny (sg-A,sg-B/ingress/none); for ACCEPT
// the SG rule that allowed it (sg-ID/tracked for a reply of a tracked
// connection), or the NACL rule when the ENI has no security group.
type Verdict struct {
	Accept bool
	Rule   string
}

// Action is the flow-log word for the verdict.
func (v Verdict) Action() string {
	if v.Accept {
		return "ACCEPT"
	}
	return "REJECT"
}

// ruleRef holds the precomputed names of one SG rule.
type ruleRef struct {
	name    string // sg-ID/ingress/N
	tracked string // sg-ID/tracked
	closed  string // sg-ID/closed
	sg      string
}

type cRule struct {
	proto    int16          // topology.Any or protocol number
	from, to int32          // TCP/UDP destination ports, or ICMP type/code (Any = all)
	nets4    []net4         // IPv4 prefixes as integers
	prefixes []netip.Prefix // IPv6 prefixes
	groups   []int32        // SG indices whose members' addresses match
	id       int32          // index into Engine.rules
}

type net4 struct{ net, mask uint32 }

func (n net4) contains(a uint32) bool { return a&n.mask == n.net }

func toNet4(p netip.Prefix) net4 {
	m := v4mask(p.Bits())
	return net4{v4(p.Addr()) & m, m}
}

type cEntry struct {
	proto       int16
	allow       bool
	pfrom, pto  uint16
	itype       int16
	icode       int16
	net4, mask4 uint32 // IPv4 entries: the prefix as integers, the cheap test
	prefix      netip.Prefix
	name        string
}

// v4 returns an IPv4 address as an integer for prefix tests.
func v4(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func v4mask(bits int) uint32 {
	if bits <= 0 {
		return 0
	}
	return ^uint32(0) << (32 - bits)
}

type cACL struct {
	id   string
	dirs [2][2][]cEntry // [direction][0=IPv4,1=IPv6]
}

type eniPolicy struct {
	eni   *topology.ENI
	sub4  net4 // the subnet's IPv4 CIDR; {net: 1, mask: 0} never matches
	acl   *cACL
	sg    [2][]cRule // union of the ENI's groups, group order then rule order
	hasSG bool
	none  [2]string // sg-A,sg-B/ingress/none
}

// Engine evaluates packets against one topology. Decide and Explain are
// safe for concurrent use.
type Engine struct {
	t       *topology.Topology
	cfg     Config
	rules   []ruleRef
	pol     []eniPolicy
	members []map[netip.Addr]struct{} // per SG index: private addresses of its ENIs
	shards  []*ctShard
	mask    uint64         // shard of a key: hash>>32 & mask
	tmo     [][numTC]int64 // idle timeouts in ns per ENI index and timeout class
}

// New compiles the topology's rules. The topology must not change afterwards
// (see Rebuild).
func New(t *topology.Topology, cfg Config) (*Engine, error) {
	return build(t, cfg, nil, nil)
}

// Rebuild compiles a changed topology into a new engine that keeps e's
// tracked connections when t has the same interfaces as e's (the same ids
// in the same order, as tracking is per interface): on AWS, changing a
// security group's rules does not interrupt the connections it tracks
// (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/security-group-connection-tracking.html).
// With other interfaces the table starts empty. kept says which; e must
// not be used afterwards.
func (e *Engine) Rebuild(t *topology.Topology) (n *Engine, kept bool, err error) {
	if t == nil {
		return nil, false, fmt.Errorf("policy: nil topology")
	}
	old, cur := e.t.ENIs(), t.ENIs()
	kept = len(old) == len(cur)
	for i := 0; kept && i < len(cur); i++ {
		kept = old[i].ID == cur[i].ID
	}
	var shards []*ctShard
	var rules []ruleRef
	if kept {
		// Tracked entries name the rule that allowed them by its index:
		// the old rules stay, the new ones come after them.
		shards, rules = e.shards, e.rules
	}
	n, err = build(t, e.cfg, shards, rules)
	return n, kept, err
}

// build compiles t; shards and rules, when given, are the tracking tables
// to keep and the rules their entries refer to.
func build(t *topology.Topology, cfg Config, shards []*ctShard, rules []ruleRef) (*Engine, error) {
	if t == nil {
		return nil, fmt.Errorf("policy: nil topology")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	e := &Engine{t: t, cfg: cfg, rules: rules[:len(rules):len(rules)]}
	e.members = make([]map[netip.Addr]struct{}, len(t.SecurityGroups))
	for _, g := range t.SecurityGroups {
		m := map[netip.Addr]struct{}{}
		for _, n := range g.Members {
			for _, a := range n.IPv4s {
				m[a] = struct{}{}
			}
			for _, a := range n.IPv6s {
				m[a] = struct{}{}
			}
		}
		e.members[g.Index] = m
	}
	// Rules are compiled once per group, then shared by every member ENI.
	type compiled struct{ in, eg []cRule }
	bySG := map[*topology.SecurityGroup]compiled{}
	for _, g := range t.SecurityGroups {
		bySG[g] = compiled{e.compileSG(g, g.Ingress, "ingress"), e.compileSG(g, g.Egress, "egress")}
	}
	acls := map[*topology.NetworkACL]*cACL{}
	for _, a := range t.NetworkACLs {
		acls[a] = compileACL(a)
	}
	enis := t.ENIs()
	e.pol = make([]eniPolicy, len(enis))
	e.tmo = make([][numTC]int64, len(enis))
	for i, n := range enis {
		p := &e.pol[i]
		p.eni = n
		p.sub4 = net4{net: 1}
		if n.Subnet != nil {
			p.acl = acls[n.Subnet.ACL]
			if n.Subnet.CIDR.IsValid() {
				p.sub4 = toNet4(n.Subnet.CIDR)
			}
		}
		ids := make([]string, 0, len(n.SecurityGroups))
		for _, g := range n.SecurityGroups {
			c := bySG[g]
			p.sg[Ingress] = append(p.sg[Ingress], c.in...)
			p.sg[Egress] = append(p.sg[Egress], c.eg...)
			ids = append(ids, g.ID)
		}
		p.hasSG = len(ids) > 0
		p.none[Ingress] = strings.Join(ids, ",") + "/ingress/none"
		p.none[Egress] = strings.Join(ids, ",") + "/egress/none"
		secs := func(eniVal int, def time.Duration) int64 {
			if eniVal > 0 {
				return int64(eniVal) * 1e9
			}
			return int64(def)
		}
		e.tmo[i] = [numTC]int64{
			tcTCP:       secs(n.TCPEstablishedTimeout, cfg.TCPEstablishedTimeout),
			tcUDP:       secs(n.UDPTimeout, cfg.UDPTimeout),
			tcUDPStream: secs(n.UDPStreamTimeout, cfg.UDPStreamTimeout),
			tcOther:     int64(cfg.OtherTimeout),
			tcClosed:    int64(cfg.ClosedTimeout + cfg.ClosedRejectTimeout),
		}
	}
	e.mask = uint64(cfg.Shards - 1)
	if shards != nil {
		for _, s := range shards {
			s.mu.Lock()
			s.tmo = e.tmo // the same interfaces, maybe new timeouts
			s.mu.Unlock()
		}
		e.shards = shards
		return e, nil
	}
	e.shards = make([]*ctShard, cfg.Shards)
	per := (cfg.MaxTracked + cfg.Shards - 1) / cfg.Shards
	for i := range e.shards {
		e.shards[i] = newShard(per, e.tmo)
	}
	return e, nil
}

func (e *Engine) compileSG(g *topology.SecurityGroup, rs []topology.SGRule, dir string) []cRule {
	out := make([]cRule, 0, len(rs))
	for _, r := range rs {
		c := cRule{proto: int16(r.Proto), from: int32(r.From), to: int32(r.To), id: int32(len(e.rules))}
		for _, pf := range r.Prefixes {
			if pf.Addr().Is4() {
				c.nets4 = append(c.nets4, toNet4(pf))
			} else {
				c.prefixes = append(c.prefixes, pf)
			}
		}
		for _, rg := range r.Groups {
			c.groups = append(c.groups, int32(rg.Index))
		}
		e.rules = append(e.rules, ruleRef{
			name:    fmt.Sprintf("%s/%s/%d", g.ID, dir, r.Num),
			tracked: g.ID + "/tracked",
			closed:  g.ID + "/closed",
			sg:      g.ID,
		})
		out = append(out, c)
	}
	return out
}

func compileACL(a *topology.NetworkACL) *cACL {
	c := &cACL{id: a.ID}
	for d, es := range [2][]topology.ACLEntry{a.Ingress, a.Egress} {
		for i := range es {
			x := &es[i]
			ce := cEntry{proto: int16(x.Proto), allow: x.Allow, pfrom: uint16(x.PortFrom), pto: uint16(x.PortTo),
				itype: int16(x.ICMPType), icode: int16(x.ICMPCode), prefix: x.Prefix,
				name: a.ID + "/" + Direction(d).String() + "/" + x.Name()}
			if x.Prefix.Addr().Is4() {
				ce.mask4 = v4mask(x.Prefix.Bits())
				ce.net4 = v4(x.Prefix.Addr()) & ce.mask4
			}
			fam := 0
			if x.Prefix.Addr().Is6() {
				fam = 1
			}
			c.dirs[d][fam] = append(c.dirs[d][fam], ce)
		}
	}
	return c
}

// matchPorts applies a rule's port or ICMP type/code constraint; it is
// only called once the protocol matched.
func portsMatch(proto uint8, from, to int32, p *Packet) bool {
	switch proto {
	case topology.ProtoTCP, topology.ProtoUDP:
		return int32(p.DstPort) >= from && int32(p.DstPort) <= to
	case topology.ProtoICMP, topology.ProtoICMPv6:
		return (from == topology.Any || int32(p.ICMPType) == from) && (to == topology.Any || int32(p.ICMPCode) == to)
	}
	return true
}

// matchSG returns the first rule allowing p (remote is the far end), or nil.
func (e *Engine) matchSG(rules []cRule, p *Packet, remote netip.Addr) *cRule {
	is4 := remote.Is4()
	var a4 uint32
	if is4 {
		a4 = v4(remote)
	}
	for i := range rules {
		r := &rules[i]
		if r.proto != topology.Any {
			if uint8(r.proto) != p.Proto || !portsMatch(p.Proto, r.from, r.to, p) {
				continue
			}
		}
		if is4 {
			for _, n := range r.nets4 {
				if n.contains(a4) {
					return r
				}
			}
		} else {
			for _, pf := range r.prefixes {
				if pf.Contains(remote) {
					return r
				}
			}
		}
		for _, g := range r.groups {
			if _, ok := e.members[g][remote]; ok {
				return r
			}
		}
	}
	return nil
}

// matchPorts reports whether the entry's protocol, port and ICMP
// constraints admit p.
func (x *cEntry) admits(p *Packet) bool {
	if x.proto == topology.Any {
		return true
	}
	if uint8(x.proto) != p.Proto {
		return false
	}
	switch p.Proto {
	case topology.ProtoTCP, topology.ProtoUDP:
		return p.DstPort >= x.pfrom && p.DstPort <= x.pto
	case topology.ProtoICMP, topology.ProtoICMPv6:
		return (x.itype == topology.Any || int16(p.ICMPType) == x.itype) && (x.icode == topology.Any || int16(p.ICMPCode) == x.icode)
	}
	return true
}

// evalACL returns the first NACL entry matching p; the `*` entries
// guarantee one exists for a well-formed ACL.
func evalACL(es []cEntry, p *Packet, remote netip.Addr) *cEntry {
	if remote.Is4() {
		a := v4(remote)
		for i := range es {
			x := &es[i]
			if a&x.mask4 == x.net4 && x.admits(p) {
				return x
			}
		}
		return nil
	}
	for i := range es {
		x := &es[i]
		if x.admits(p) && x.prefix.Contains(remote) {
			return x
		}
	}
	return nil
}

var denyNoEntry = cEntry{name: "acl/none"}

func (c *cACL) eval(d Direction, p *Packet, remote netip.Addr) *cEntry {
	fam := 0
	if remote.Is6() {
		fam = 1
	}
	if x := evalACL(c.dirs[d][fam], p, remote); x != nil {
		return x
	}
	return &denyNoEntry
}

// inSubnet reports whether remote is inside the ENI's subnet, i.e. the
// traffic does not cross the subnet boundary and skips the NACL.
func (ep *eniPolicy) inSubnet(remote netip.Addr) bool {
	if remote.Is4() {
		return ep.sub4.contains(v4(remote))
	}
	return ep.eni.Subnet.Contains(remote)
}

// policyOf returns the compiled policy of eni, or nil for an ENI that is
// not this engine's topology's.
func (e *Engine) policyOf(eni *topology.ENI) *eniPolicy {
	if eni == nil || eni.Index < 0 || eni.Index >= len(e.pol) || e.pol[eni.Index].eni != eni {
		return nil
	}
	return &e.pol[eni.Index]
}

const unknownENI = "unknown-eni"

// Decide returns the verdict for packet p seen at eni in direction dir at
// time now (Unix ns, event time), updating connection tracking: an ACCEPTed
// packet that opens a connection makes its replies pass the security group.
func (e *Engine) Decide(eni *topology.ENI, dir Direction, p *Packet, now int64) Verdict {
	ep := e.policyOf(eni)
	if ep == nil {
		return Verdict{Rule: unknownENI}
	}
	remote := p.Src
	if dir == Egress {
		remote = p.Dst
	}
	remote = remote.Unmap()
	crossing := ep.acl != nil && !ep.inSubnet(remote)
	var aclRule string
	if dir == Ingress && crossing {
		x := ep.acl.eval(Ingress, p, remote)
		if !x.allow {
			return Verdict{Rule: x.name}
		}
		aclRule = x.name
	}
	v := Verdict{Accept: true, Rule: aclRule}
	if ep.hasSG {
		v = e.sgDecide(ep, dir, p, remote, now)
		if !v.Accept {
			return v
		}
	}
	if dir == Egress && crossing {
		x := ep.acl.eval(Egress, p, remote)
		if !x.allow {
			return Verdict{Rule: x.name}
		}
		if !ep.hasSG {
			v.Rule = x.name
		}
	}
	return v
}

func (e *Engine) key(ep *eniPolicy, dir Direction, p *Packet) ctKey {
	k := ctKey{eni: uint32(ep.eni.Index), proto: p.Proto}
	local, remote := p.Dst, p.Src
	lport, rport := p.DstPort, p.SrcPort
	if dir == Egress {
		local, remote = p.Src, p.Dst
		lport, rport = p.SrcPort, p.DstPort
	}
	k.local, k.remote = local.As16(), remote.As16()
	k.v6 = local.Is6() && !local.Is4In6()
	if p.Proto != topology.ProtoTCP && p.Proto != topology.ProtoUDP {
		lport, rport = 0, 0 // ICMP and others: tracked per address pair
	}
	k.lport, k.rport = lport, rport
	return k
}

func (e *Engine) sgDecide(ep *eniPolicy, dir Direction, p *Packet, remote netip.Addr, now int64) Verdict {
	k := e.key(ep, dir, p)
	h := k.hash()
	s := e.shards[h>>32&e.mask] // high bits: the low ones pick the slot
	s.mu.Lock()
	reopen := false // a SYN on a closed connection starts a new one
	if i := s.lookup(h, &k); i >= 0 {
		x := &s.slots[i]
		if !s.expired(x, now) && x.state&stClosed != 0 && p.Proto == topology.ProtoTCP {
			if p.TCPFlags&(FlagSYN|FlagACK) == FlagSYN {
				reopen = true
			} else if now-x.last > int64(e.cfg.ClosedTimeout) {
				s.closedRejects++
				r := &e.rules[x.rule]
				s.mu.Unlock()
				return Verdict{Rule: r.closed}
			}
		}
		if !reopen && !s.expired(x, now) {
			refresh(x, dir, p, now)
			s.hits++
			r := &e.rules[x.rule]
			same := x.dir() == dir
			s.mu.Unlock()
			if same {
				return Verdict{Accept: true, Rule: r.name}
			}
			return Verdict{Accept: true, Rule: r.tracked}
		}
	}
	s.mu.Unlock()
	r := e.matchSG(ep.sg[dir], p, remote)
	if r == nil {
		return Verdict{Rule: ep.none[dir]}
	}
	x := slot{hash: h, last: now, local: k.local, remote: k.remote, eni: k.eni, lport: k.lport, rport: k.rport,
		rule: r.id, proto: k.proto, v6: k.v6}
	if dir == Egress {
		x.state |= stEgress
	}
	switch p.Proto {
	case topology.ProtoTCP:
		x.tc = tcTCP
		if p.TCPFlags&FlagRST != 0 {
			x.state |= stClosed
			x.tc = tcClosed
		}
	case topology.ProtoUDP:
		x.tc = tcUDP
	default:
		x.tc = tcOther
	}
	s.mu.Lock()
	if i := s.lookup(h, &k); i < 0 {
		s.insert(x, now)
	} else if old := &s.slots[i]; s.expired(old, now) || reopen && old.state&stClosed != 0 {
		if s.expired(old, now) {
			s.nExpired++
		}
		*old = x // same connection again after its entry expired or closed
		s.inserted++
	}
	s.mu.Unlock()
	return Verdict{Accept: true, Rule: e.rules[r.id].name}
}

// refresh updates a tracked entry for a packet in direction dir: idle time,
// UDP stream promotion, TCP close.
func refresh(x *slot, dir Direction, p *Packet, now int64) {
	if x.state&stClosed != 0 {
		return // the close time stays fixed: late packets do not extend it
	}
	x.last = now
	if dir != x.dir() && x.state&stSeenReply == 0 {
		x.state |= stSeenReply
		if x.tc == tcUDP {
			x.tc = tcUDPStream
		}
	}
	if p.Proto != topology.ProtoTCP {
		return
	}
	switch {
	case p.TCPFlags&FlagRST != 0:
		x.state |= stClosed
	case p.TCPFlags&FlagFIN != 0:
		if dir == Egress {
			x.state |= stFinLocal
		} else {
			x.state |= stFinRemote
		}
		if x.state&(stFinLocal|stFinRemote) == stFinLocal|stFinRemote {
			x.state |= stClosed
		}
	}
	if x.state&stClosed != 0 {
		x.tc = tcClosed
	}
}

// Stats are the connection-tracking counters.
type Stats struct {
	Tracked  int    // entries held now (expired ones are reclaimed lazily)
	Capacity int    // Config.MaxTracked rounded to the shards
	Inserted uint64 // connections started
	Hits     uint64 // packets passed by tracking
	Expired  uint64 // entries removed after their idle timeout
	Evicted  uint64 // entries dropped because the table was full
	// Closed counts packets rejected because their TCP connection had
	// closed more than ClosedTimeout earlier ([Choice]; docs/aws-behaviour.md,
	// "Security groups and network ACLs").
	Closed uint64
}

// Stats sums the counters of every shard.
func (e *Engine) Stats() Stats {
	var st Stats
	for _, s := range e.shards {
		s.mu.Lock()
		st.Tracked += s.n
		st.Capacity += s.capacity
		st.Inserted += s.inserted
		st.Hits += s.hits
		st.Expired += s.nExpired
		st.Evicted += s.evicted
		st.Closed += s.closedRejects
		s.mu.Unlock()
	}
	return st
}
