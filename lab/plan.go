package lab

import (
	"fmt"
	"hash/fnv"
	"net/netip"
	"slices"
	"strings"

	"github.com/vpcflow/vpcflow/topology"
)

// Plan is what a lab builds from a topology: names, addresses, routes,
// address translations and what it leaves out. New computes it without
// touching the system, so it can be printed and tested.
type Plan struct {
	ID       string
	Router   string // namespace of the VPC router
	Internet string // namespace of the public peers
	Subnets  []*SubnetPlan
	ENIs     []*ENIPlan // the topology's order (by ENI id)
	// Link joins the router (Link[0], on RouterLinkDev) to the internet
	// namespace (Link[1], on InternetLinkDev): address/30.
	Link    [2]netip.Prefix
	LinkMAC [2]string
	// Peers are local to the internet namespace: every address of them
	// answers. They are PeerPrefixes (the configuration's) less the ENIs'
	// public addresses. PeerSource is the namespace's default source.
	Peers        []netip.Prefix
	PeerPrefixes []netip.Prefix
	PeerSource   netip.Addr
	// Inbound are the destinations the router routes from the internet
	// link (after NAT): the IPv4 subnets of VPCs with an internet gateway.
	Inbound []netip.Prefix
	NAT     []NAT
	IPv6    bool     // some ENI has an IPv6 address
	Notes   []string // what the topology has that the lab does not build
}

// Interface names inside the lab's namespaces. They need no lab prefix:
// they live and die with their namespace.
const (
	ENIDev          = "eth0"     // an ENI's interface in its namespace
	RouterLinkDev   = "internet" // the router's end of the internet link
	InternetLinkDev = "router"   // the internet namespace's end
)

// SubnetPlan is a subnet: a bridge in the router namespace carrying the
// router's addresses, and a routing table from the subnet's route table.
type SubnetPlan struct {
	Subnet *topology.Subnet
	Bridge string
	MAC    string
	// Gateway4 is the router's IPv4 address on the bridge with the
	// subnet's prefix length (10.1.2.1/24); invalid for an IPv6-only
	// subnet. Gateway6 are the same for each IPv6 CIDR.
	Gateway4   netip.Prefix
	Gateway6   []netip.Prefix
	Table      int    // routing table of packets arriving from the subnet
	RouteTable string // the route table's id, "" when the topology has none
	Routes     []Route
}

// Route is one route of a subnet's table.
type Route struct {
	Dest netip.Prefix
	Dev  string
	Via  netip.Addr // invalid: on link
	What string     // local or the gateway id, for messages
}

// ENIPlan is a network interface: a namespace whose eth0 is one end of a
// veth pair, the other end (Port) a port of its subnet's bridge.
type ENIPlan struct {
	ENI       *topology.ENI
	Subnet    *SubnetPlan
	Namespace string
	Port      string // the veth end in the router namespace: capture it
	MAC       string // eth0's
	Addrs     []netip.Prefix
	Gateway4  netip.Addr
	Gateway6  netip.Addr
	Public    netip.Addr // public IPv4 reachable through an internet gateway
	// NATGateway is set for the interface of a NAT gateway: its namespace
	// forwards what the subnets route to it, translating the source to
	// its private address (the internet gateway then maps that to the
	// public one, as for any interface). It has no security groups.
	NATGateway *topology.NATGateway
	// Neighbours are permanent entries (the router, the subnet's other
	// ENIs): the lab sends no ARP or neighbour discovery, as on AWS.
	Neighbours []Neighbour
}

// Neighbour is a permanent neighbour entry.
type Neighbour struct {
	Addr netip.Addr
	MAC  string
}

// NAT is the internet gateway's 1:1 translation of one ENI's public IPv4.
type NAT struct {
	Public, Private netip.Addr
	ENI             string
}

const (
	firstTable     = 100 // subnet k routes with table firstTable+k
	inboundTable   = 99  // packets from the internet link
	routerMACBase  = "02:76:66:00"
	derivedMACBase = "02:76:67"
)

// plan computes the plan of t for cfg (already validated).
func plan(cfg Configuration, t *topology.Topology) (*Plan, error) {
	p := &Plan{
		ID:       cfg.ID,
		Router:   Namespace(cfg.ID, RouterName),
		Internet: Namespace(cfg.ID, InternetName),
		LinkMAC:  [2]string{routerMACBase + ":ff:01", routerMACBase + ":ff:02"},
	}
	base := cfg.Link.Addr()
	p.Link = [2]netip.Prefix{netip.PrefixFrom(base.Next(), 30), netip.PrefixFrom(base.Next().Next(), 30)}
	if err := checkVPCs(t, cfg); err != nil {
		return nil, err
	}
	igw := map[string]string{} // VPC id → attached internet gateway
	for _, g := range t.InternetGateways {
		for _, v := range g.VPCIDs {
			if _, ok := igw[v]; !ok {
				igw[v] = g.ID
			}
		}
	}
	macs := map[string]string{p.LinkMAC[0]: "the router's internet link", p.LinkMAC[1]: "the internet namespace's link"}
	useMAC := func(mac, what string) error {
		if prev, dup := macs[mac]; dup {
			return fmt.Errorf("lab: %s and %s would both have MAC address %s", prev, what, mac)
		}
		macs[mac] = what
		return nil
	}
	for _, n := range t.ENIs() {
		if n.HasMAC {
			if err := useMAC(topology.FormatMAC(n.MAC), n.ID); err != nil {
				return nil, err
			}
		}
	}
	bySubnet := map[*topology.Subnet]*SubnetPlan{}
	bridges := map[string]string{}
	for k, s := range t.Subnets {
		if s.ACL == nil {
			return nil, fmt.Errorf("lab: %s: no network ACL (the topology gives every subnet one)", s.ID)
		}
		sp := &SubnetPlan{Subnet: s, Table: firstTable + k,
			MAC: fmt.Sprintf("%s:%02x:%02x", routerMACBase, (k+1)>>8, (k+1)&0xff)}
		if k+1 >= 0xff00 {
			return nil, fmt.Errorf("lab: %d subnets: the lab builds at most %d", len(t.Subnets), 0xff00-1)
		}
		if err := useMAC(sp.MAC, "the router on "+s.ID); err != nil {
			return nil, err
		}
		sp.Bridge = shortName("br-", s.ID, 12, k, bridges)
		if s.CIDR.IsValid() {
			sp.Gateway4 = netip.PrefixFrom(s.CIDR.Masked().Addr().Next(), s.CIDR.Bits())
		}
		for _, c := range s.IPv6CIDRs {
			sp.Gateway6 = append(sp.Gateway6, netip.PrefixFrom(c.Masked().Addr().Next(), c.Bits()))
		}
		if rt := routeTable(t, s); rt != nil {
			sp.RouteTable = rt.ID
		}
		bySubnet[s] = sp
		p.Subnets = append(p.Subnets, sp)
	}
	ports := map[string]string{}
	publics := map[netip.Addr]string{}
	byInstance := map[string][]string{}
	natOf := map[string]*topology.NATGateway{} // ENI id → its NAT gateway
	natPublic := map[string]netip.Addr{}
	for _, g := range t.NATGateways {
		for i, id := range g.ENIs {
			if _, dup := natOf[id]; !dup {
				natOf[id] = g
				if g.Public && i < len(g.PublicIPs) {
					natPublic[id] = g.PublicIPs[i]
				}
			}
		}
	}
	for k, n := range t.ENIs() {
		nat := natOf[n.ID]
		if n.InterfaceType == "nat_gateway" && nat == nil {
			p.note("%s: not built: a NAT gateway's interface that no NatGateways entry names", n.ID)
			continue
		}
		if !nameable(n.ID) {
			return nil, fmt.Errorf("lab: ENI id %q cannot name a namespace: want letters, digits and '-'", n.ID)
		}
		sp := bySubnet[n.Subnet]
		if sp == nil {
			return nil, fmt.Errorf("lab: %s: its subnet %q is not in the topology", n.ID, n.SubnetID)
		}
		e := &ENIPlan{ENI: n, Subnet: sp, Namespace: Namespace(cfg.ID, n.ID), Port: shortName("eni-", n.ID, 11, k, ports), NATGateway: nat}
		if nat != nil && !n.PrimaryIPv4.IsValid() {
			return nil, fmt.Errorf("lab: %s: the interface of %s has no private IPv4 address to translate to", n.ID, nat.ID)
		}
		if n.HasMAC {
			e.MAC = topology.FormatMAC(n.MAC)
		} else {
			e.MAC = derivedMAC(n.ID)
			if err := useMAC(e.MAC, n.ID); err != nil {
				return nil, err
			}
			p.note("%s: no MacAddress in the topology: its eth0 gets %s", n.ID, e.MAC)
		}
		for _, a := range n.IPv4s {
			e.Addrs = append(e.Addrs, netip.PrefixFrom(a, n.Subnet.CIDR.Bits()))
		}
		for _, a := range n.IPv6s {
			bits := 64
			for _, c := range n.Subnet.IPv6CIDRs {
				if c.Contains(a) {
					bits = c.Bits()
				}
			}
			e.Addrs = append(e.Addrs, netip.PrefixFrom(a, bits))
			p.IPv6 = true
		}
		if len(n.IPv4s) > 0 && sp.Gateway4.IsValid() {
			e.Gateway4 = sp.Gateway4.Addr()
		}
		if len(n.IPv6s) > 0 && len(sp.Gateway6) > 0 {
			e.Gateway6 = sp.Gateway6[0].Addr()
			for _, g := range sp.Gateway6 {
				if g.Masked().Contains(n.IPv6s[0]) {
					e.Gateway6 = g.Addr()
				}
			}
		}
		pub := n.PublicIPv4
		if !pub.IsValid() {
			pub = natPublic[n.ID] // a public NAT gateway's address
		}
		if pub.IsValid() {
			switch {
			case publics[pub] != "":
				return nil, fmt.Errorf("lab: %s and %s have the same public address %s", publics[pub], n.ID, pub)
			case cfg.Link.Contains(pub):
				return nil, fmt.Errorf("lab: %s: public address %s is inside the internet link %s", n.ID, pub, cfg.Link)
			case igw[n.VPCID] == "":
				p.note("%s: public address %s not reachable: no internet gateway is attached to %s", n.ID, pub, n.VPCID)
			default:
				publics[pub] = n.ID
				e.Public = pub
				p.NAT = append(p.NAT, NAT{Public: pub, Private: n.PrimaryIPv4, ENI: n.ID})
			}
		}
		if n.InstanceID != "" {
			byInstance[n.InstanceID] = append(byInstance[n.InstanceID], n.ID)
		}
		p.ENIs = append(p.ENIs, e)
	}
	for _, id := range sortedKeys(byInstance) {
		if enis := byInstance[id]; len(enis) > 1 {
			p.note("%s: its interfaces %s are separate namespaces (one per ENI), not one host", id, strings.Join(enis, ", "))
		}
	}
	for _, e := range p.ENIs {
		for _, g := range []netip.Addr{e.Gateway4, e.Gateway6} {
			if g.IsValid() {
				e.Neighbours = append(e.Neighbours, Neighbour{g, e.Subnet.MAC})
			}
		}
		for _, o := range p.ENIs {
			if o != e && o.Subnet == e.Subnet {
				for _, a := range o.Addrs {
					if a.Addr().Is4() && e.Gateway4.IsValid() || a.Addr().Is6() && e.Gateway6.IsValid() {
						e.Neighbours = append(e.Neighbours, Neighbour{a.Addr(), o.MAC})
					}
				}
			}
		}
	}
	nats := map[string]*ENIPlan{} // NAT gateway id → its (first) interface
	for _, e := range p.ENIs {
		if g := e.NATGateway; g != nil && nats[g.ID] == nil {
			nats[g.ID] = e
		}
	}
	for _, sp := range p.Subnets {
		p.routes(t, sp, igw[sp.Subnet.VPCID], nats)
	}
	for _, s := range t.Subnets {
		if igw[s.VPCID] != "" && s.CIDR.IsValid() {
			p.Inbound = append(p.Inbound, s.CIDR.Masked())
		}
	}
	var pubs []netip.Addr
	for a := range publics {
		pubs = append(pubs, a)
	}
	slices.SortFunc(pubs, netip.Addr.Compare)
	for _, pf := range cfg.Peers {
		p.PeerPrefixes = append(p.PeerPrefixes, pf.Masked())
		p.Peers = append(p.Peers, subtract(pf.Masked(), pubs)...)
		if !p.PeerSource.IsValid() {
			for a := pf.Masked().Addr().Next(); pf.Contains(a); a = a.Next() {
				if publics[a] == "" {
					p.PeerSource = a
					break
				}
			}
		}
	}
	if !p.PeerSource.IsValid() {
		return nil, fmt.Errorf("lab: Peers: every address is an ENI's public address: no public peer is left")
	}
	return p, nil
}

// routes fills a subnet's table: every subnet of its VPC (the local
// route), then its route table's routes the lab can build.
func (p *Plan) routes(t *topology.Topology, sp *SubnetPlan, igw string, nats map[string]*ENIPlan) {
	have := map[netip.Prefix]bool{}
	for _, o := range p.Subnets {
		if o.Subnet.VPCID != sp.Subnet.VPCID {
			continue
		}
		if o.Subnet.CIDR.IsValid() {
			d := o.Subnet.CIDR.Masked()
			sp.Routes = append(sp.Routes, Route{Dest: d, Dev: o.Bridge, What: "local"})
			have[d] = true
		}
		for _, c := range o.Subnet.IPv6CIDRs {
			sp.Routes = append(sp.Routes, Route{Dest: c.Masked(), Dev: o.Bridge, What: "local"})
			have[c.Masked()] = true
		}
	}
	rt := routeTable(t, sp.Subnet)
	if rt == nil {
		return
	}
	for _, r := range rt.Routes {
		d := r.Dest.Masked()
		switch {
		case r.Kind == topology.TargetLocal:
			// The subnets' own routes above are the local route.
		case have[d]:
			p.note("%s: route %s → %s not built: the lab routes %s to its subnet", rt.ID, d, r.Target, d)
		case r.Kind == topology.TargetNAT:
			nat := nats[r.Target]
			switch {
			case nat == nil:
				p.note("%s: route %s → %s not built: that NAT gateway has no interface in the lab", rt.ID, d, r.Target)
			case nat.Subnet.Subnet.VPCID != sp.Subnet.VPCID:
				p.note("%s: route %s → %s not built: that NAT gateway is in another VPC", rt.ID, d, r.Target)
			case !d.Addr().Is4():
				p.note("%s: route %s → %s not built: NAT gateways translate IPv4 only in the lab", rt.ID, d, r.Target)
			case nat.Subnet == sp:
				p.note("%s: route %s → %s not built: the NAT gateway is in %s itself", rt.ID, d, r.Target, sp.Subnet.ID)
			default:
				sp.Routes = append(sp.Routes, Route{Dest: d, Dev: nat.Subnet.Bridge, Via: nat.ENI.PrimaryIPv4, What: r.Target})
				have[d] = true
			}
		case r.Kind != topology.TargetIGW || strings.HasPrefix(r.Target, "eigw-"):
			p.note("%s: route %s → %s not built: only local routes, internet gateways and NAT gateways are in the lab yet", rt.ID, d, r.Target)
		case r.Target != igw:
			p.note("%s: route %s → %s not built: that internet gateway is not attached to %s", rt.ID, d, r.Target, sp.Subnet.VPCID)
		case !d.Addr().Is4():
			p.note("%s: route %s → %s not built: the lab's internet is IPv4 only", rt.ID, d, r.Target)
		default:
			sp.Routes = append(sp.Routes, Route{Dest: d, Dev: RouterLinkDev, Via: p.Link[1].Addr(), What: r.Target})
			have[d] = true
		}
	}
}

func (p *Plan) note(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	if !slices.Contains(p.Notes, s) {
		p.Notes = append(p.Notes, s)
	}
}

// routeTable returns the subnet's route table: its explicit association,
// else its VPC's main table; nil when the topology has none.
func routeTable(t *topology.Topology, s *topology.Subnet) *topology.RouteTable {
	var main *topology.RouteTable
	for _, rt := range t.RouteTables {
		if slices.Contains(rt.Subnets, s) {
			return rt
		}
		if rt.Main && rt.VPCID == s.VPCID {
			main = rt
		}
	}
	return main
}

// checkVPCs refuses VPCs whose CIDRs overlap (the lab routes every VPC in
// one namespace) and CIDRs that overlap the internet link.
func checkVPCs(t *topology.Topology, cfg Configuration) error {
	type owned struct {
		p   netip.Prefix
		vpc string
	}
	var all []owned
	for _, v := range t.VPCs {
		for _, c := range append(slices.Clone(v.CIDRs), v.IPv6CIDRs...) {
			if c.Overlaps(cfg.Link) {
				return fmt.Errorf("lab: %s: CIDR %s overlaps the internet link %s", v.ID, c, cfg.Link)
			}
			for _, o := range all {
				if o.vpc != v.ID && o.p.Overlaps(c) {
					return fmt.Errorf("lab: %s (%s) and %s (%s) overlap: the lab routes every VPC in one namespace, so their CIDRs must be distinct", o.vpc, o.p, v.ID, c)
				}
			}
			all = append(all, owned{c, v.ID})
		}
	}
	return nil
}

// shortName makes an interface name (at most 15 bytes) from prefix and the
// last n letters and digits of id, or from the index k when those are
// already taken.
func shortName(prefix, id string, n, k int, taken map[string]string) string {
	var b []byte
	for _, c := range []byte(id[strings.IndexByte(id, '-')+1:]) {
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' {
			b = append(b, c)
		}
	}
	if len(b) > n {
		b = b[len(b)-n:]
	}
	name := prefix + string(b)
	if len(b) == 0 || taken[name] != "" {
		name = fmt.Sprintf("%s%d", prefix, k)
	}
	taken[name] = id
	return name
}

// nameable reports whether id can be part of a namespace name (a file
// name under /var/run/netns) and, with '-' as '_', of an nftables chain
// name.
func nameable(id string) bool {
	if id == "" || len(id) > 200 {
		return false
	}
	for _, c := range []byte(id) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// derivedMAC is a locally administered MAC for an ENI without one.
func derivedMAC(id string) string {
	h := fnv.New32a()
	h.Write([]byte(id))
	s := h.Sum32()
	return fmt.Sprintf("%s:%02x:%02x:%02x", derivedMACBase, byte(s>>16), byte(s>>8), byte(s))
}

// subtract returns the prefixes covering p less the addresses of ex
// (sorted), fewest first: the halves of p that hold none of them whole.
func subtract(p netip.Prefix, ex []netip.Addr) []netip.Prefix {
	in := false
	for _, a := range ex {
		if p.Contains(a) {
			in = true
			break
		}
	}
	if !in {
		return []netip.Prefix{p}
	}
	if p.Bits() == p.Addr().BitLen() {
		return nil
	}
	lo := netip.PrefixFrom(p.Addr(), p.Bits()+1)
	hiAddr := p.Addr().AsSlice()
	bit := p.Bits()
	hiAddr[bit/8] |= 0x80 >> (bit % 8)
	a, _ := netip.AddrFromSlice(hiAddr)
	hi := netip.PrefixFrom(a, p.Bits()+1)
	return append(subtract(lo, ex), subtract(hi, ex)...)
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
