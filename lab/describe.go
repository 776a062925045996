package lab

import (
	"fmt"
	"io"
	"net/netip"
	"strings"
)

// Describe writes what the plan builds, what it leaves out, and how to
// capture the ENIs' ports with vpcflow run (topologyFile is the file the
// plan came from, for that command line).
func (p *Plan) Describe(w io.Writer, topologyFile string) {
	width := len(p.Router)
	for _, e := range p.ENIs {
		width = max(width, len(e.Namespace))
	}
	row := func(ns, text string) { fmt.Fprintf(w, "  %-*s  %s\n", width, ns, text) }
	fmt.Fprintf(w, "lab %s:\n", p.ID)
	row(p.Router, fmt.Sprintf("VPC router, internet link %s %s", RouterLinkDev, p.Link[0]))
	for _, s := range p.Subnets {
		var addrs []string
		if s.Gateway4.IsValid() {
			addrs = append(addrs, s.Gateway4.String())
		}
		for _, g := range s.Gateway6 {
			addrs = append(addrs, g.String())
		}
		var routes []string
		for _, r := range s.Routes {
			routes = append(routes, r.Dest.String()+" "+r.What)
		}
		rt := ""
		if s.RouteTable != "" {
			rt = " (" + s.RouteTable + ")"
		}
		row("", fmt.Sprintf("%s: %s %s, network ACL %s", s.Bridge, s.Subnet.ID, strings.Join(addrs, " "), s.Subnet.ACL.ID))
		row("", fmt.Sprintf("  routes%s: %s", rt, strings.Join(routes, ", ")))
	}
	var peers []string
	for _, pf := range p.PeerPrefixes {
		peers = append(peers, pf.String())
	}
	var pubs []string
	for _, m := range p.NAT {
		pubs = append(pubs, m.Public.String())
	}
	less := ""
	if len(pubs) > 0 {
		less = " except " + strings.Join(pubs, ", ")
	}
	row(p.Internet, fmt.Sprintf("public peers: every address of %s%s; default source %s", strings.Join(peers, ", "), less, p.PeerSource))
	for _, e := range p.ENIs {
		who := e.ENI.ID
		if e.ENI.InstanceID != "" {
			who += " (" + e.ENI.InstanceID + ")"
		}
		if e.NATGateway != nil {
			who += " (NAT gateway " + e.NATGateway.ID + ", translates to " + e.ENI.PrimaryIPv4.String() + ")"
		}
		var addrs []string
		for _, a := range e.Addrs {
			addrs = append(addrs, a.String())
		}
		var via []string
		for _, g := range []netip.Addr{e.Gateway4, e.Gateway6} {
			if g.IsValid() {
				via = append(via, g.String())
			}
		}
		text := fmt.Sprintf("%s: %s %s %s via %s", who, ENIDev, e.MAC, strings.Join(addrs, " "), strings.Join(via, ", "))
		if e.Public.IsValid() {
			text += ", public " + e.Public.String()
		}
		row(e.Namespace, text+"; port "+e.Port)
	}
	if len(p.Notes) > 0 {
		fmt.Fprintln(w, "not built:")
		for _, n := range p.Notes {
			fmt.Fprintln(w, "  "+n)
		}
	}
	if len(p.ENIs) == 0 {
		return
	}
	var ifs []string
	for _, e := range p.ENIs {
		ifs = append(ifs, e.Port+"="+e.ENI.ID)
	}
	fmt.Fprintf(w, "capture (the ENIs' ports are in %s):\n", p.Router)
	fmt.Fprintf(w, "  ip netns exec %s vpcflow run --topology %s --interface %s --stdout\n", p.Router, topologyFile, strings.Join(ifs, ","))
}
