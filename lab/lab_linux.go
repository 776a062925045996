//go:build linux

package lab

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// NetnsDir is where iproute2 keeps named network namespaces.
const NetnsDir = "/var/run/netns"

// Check says what this host lacks to build a lab: root, the ip, bridge
// and nft commands, and br_netfilter (bridged traffic must pass the inet
// hooks, so the security groups see packets between two ENIs of a
// subnet). nil when nothing is missing.
func Check() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("lab: needs root (it creates network namespaces and nftables rules)")
	}
	for _, c := range []struct{ cmd, pkg string }{{"ip", "iproute2"}, {"bridge", "iproute2"}, {"nft", "nftables"}} {
		if _, err := exec.LookPath(c.cmd); err != nil {
			return fmt.Errorf("lab: needs the %s command (apt-get install %s)", c.cmd, c.pkg)
		}
	}
	if _, err := os.Stat("/proc/sys/net/bridge/bridge-nf-call-iptables"); err != nil {
		return fmt.Errorf("lab: needs br_netfilter, so bridged traffic between ENIs of a subnet passes the security groups' connection tracking: modprobe br_netfilter (it also makes the host's own bridges call iptables)")
	}
	return nil
}

// eniSysctls are the kernel settings of an ENI's namespace, made before
// its interface: no IPv6 where it has none, no router solicitation or
// autoconfiguration, and its connection-tracking timeouts.
func eniSysctls(e *ENIPlan) map[string]string {
	has6 := len(e.ENI.IPv6s) > 0
	kv := map[string]string{
		"net/ipv6/conf/all/disable_ipv6":                     boolString(!has6),
		"net/ipv6/conf/default/disable_ipv6":                 boolString(!has6),
		"net/ipv6/conf/default/accept_ra":                    "0",
		"net/ipv6/conf/default/autoconf":                     "0",
		"net/ipv6/conf/default/router_solicitations":         "0",
		"net/netfilter/nf_conntrack_tcp_timeout_established": strconv.Itoa(orDefault(e.ENI.TCPEstablishedTimeout, 432000)),
		"net/netfilter/nf_conntrack_udp_timeout":             strconv.Itoa(orDefault(e.ENI.UDPTimeout, 30)),
		"net/netfilter/nf_conntrack_udp_timeout_stream":      strconv.Itoa(orDefault(e.ENI.UDPStreamTimeout, 180)),
		"net/netfilter/nf_conntrack_icmp_timeout":            "30",
		"net/netfilter/nf_conntrack_tcp_be_liberal":          "1",
	}
	if e.NATGateway != nil {
		// A NAT gateway forwards back out of the interface it received
		// on: no ICMP redirect may tell the instance to go elsewhere.
		kv["net/ipv4/ip_forward"] = "1"
		kv["net/ipv4/conf/all/send_redirects"] = "0"
		kv["net/ipv4/conf/default/send_redirects"] = "0"
		kv["net/ipv4/conf/all/rp_filter"] = "0"
		kv["net/ipv4/conf/default/rp_filter"] = "0"
	}
	return kv
}

func (l *Lab) build(ctx context.Context) error {
	if err := Check(); err != nil {
		return err
	}
	if have, err := labNamespaces(l.cfg.ID); err != nil {
		return err
	} else if len(have) > 0 {
		return fmt.Errorf("lab %s exists (%s): remove it first with vpcflow lab down --lab-id %s", l.cfg.ID, strings.Join(have, ", "), l.cfg.ID)
	}
	p := l.plan
	r := &runner{ctx: ctx, log: l.deps.Log}
	newNS := func(ns string) {
		if r.do("ip", "netns", "add", ns) {
			l.created = append(l.created, ns)
		}
	}
	newNS(p.Router)
	newNS(p.Internet)
	for _, e := range p.ENIs {
		newNS(e.Namespace)
	}
	if r.err != nil {
		return r.err
	}

	// Kernel settings first: interfaces made afterwards take the
	// namespace's defaults (no IPv6 where there is none: no router
	// solicitation, no multicast report on the captured links).
	v6 := boolString(p.IPv6)
	r.sysctl(p.Router, map[string]string{
		"net/ipv4/ip_forward":                                "1",
		"net/ipv6/conf/all/disable_ipv6":                     boolString(!p.IPv6),
		"net/ipv6/conf/default/disable_ipv6":                 boolString(!p.IPv6),
		"net/ipv6/conf/all/forwarding":                       v6,
		"net/ipv6/conf/default/accept_ra":                    "0",
		"net/bridge/bridge-nf-call-iptables":                 "1",
		"net/bridge/bridge-nf-call-ip6tables":                "1",
		"net/netfilter/nf_conntrack_udp_timeout_stream":      "180",
		"net/netfilter/nf_conntrack_tcp_timeout_established": "432000",
		"net/netfilter/nf_conntrack_tcp_be_liberal":          "1",
	})
	r.sysctl(p.Internet, map[string]string{
		"net/ipv6/conf/all/disable_ipv6":     "1",
		"net/ipv6/conf/default/disable_ipv6": "1",
	})
	for _, e := range p.ENIs {
		r.sysctl(e.Namespace, eniSysctls(e))
	}
	for _, ns := range l.created {
		r.ip(ns, "link", "set", "lo", "up")
	}
	// The rules before any interface: the first packet of an ENI meets
	// them (an IPv6 listener report at link up passed the router's rules
	// before the ENI's own were there to stop it).
	r.nft(p.Router, RouterRuleset(p))
	for _, e := range p.ENIs {
		r.nft(e.Namespace, ENIRuleset(e))
	}

	// The router: a bridge per subnet, the internet link.
	for _, s := range p.Subnets {
		r.ip(p.Router, "link", "add", s.Bridge, "address", s.MAC, "type", "bridge",
			"nf_call_iptables", "1", "nf_call_ip6tables", "1", "mcast_snooping", "0")
		r.ip(p.Router, "link", "set", s.Bridge, "alias", s.Subnet.ID)
		if p.IPv6 {
			r.ip(p.Router, "link", "set", s.Bridge, "addrgenmode", "none")
		}
		if s.Gateway4.IsValid() {
			r.ip(p.Router, "addr", "add", s.Gateway4.String(), "dev", s.Bridge)
		}
		for _, g := range s.Gateway6 {
			r.ip(p.Router, "addr", "add", g.String(), "dev", s.Bridge, "nodad")
		}
		r.ip(p.Router, "link", "set", s.Bridge, "up")
	}
	r.do("ip", "link", "add", RouterLinkDev, "netns", p.Router, "address", p.LinkMAC[0], "type", "veth",
		"peer", "name", InternetLinkDev, "netns", p.Internet, "address", p.LinkMAC[1])
	r.ip(p.Router, "addr", "add", p.Link[0].String(), "dev", RouterLinkDev)
	r.ip(p.Internet, "addr", "add", p.Link[1].String(), "dev", InternetLinkDev)
	r.ip(p.Router, "neigh", "replace", p.Link[1].Addr().String(), "lladdr", p.LinkMAC[1], "dev", RouterLinkDev, "nud", "permanent")
	r.ip(p.Internet, "neigh", "replace", p.Link[0].Addr().String(), "lladdr", p.LinkMAC[0], "dev", InternetLinkDev, "nud", "permanent")
	r.ip(p.Router, "link", "set", RouterLinkDev, "up")
	r.ip(p.Internet, "link", "set", InternetLinkDev, "up")

	// The internet: every address of the peers' prefixes is local.
	for _, pf := range p.Peers {
		r.ip(p.Internet, "route", "add", "local", pf.String(), "dev", "lo")
	}
	r.ip(p.Internet, "addr", "add", netip.PrefixFrom(p.PeerSource, 32).String(), "dev", "lo")
	r.ip(p.Internet, "route", "add", "default", "via", p.Link[0].Addr().String(), "dev", InternetLinkDev, "src", p.PeerSource.String())

	// The ENIs: a veth pair from eth0 to a port of the subnet's bridge.
	for _, e := range p.ENIs {
		linkENI(r, p, e, nil)
	}

	// Routing: a table per subnet from its route table; from the
	// internet link, the subnets of VPCs with an internet gateway (after
	// NAT); nothing else is routed.
	for k, s := range p.Subnets {
		for _, rt := range s.Routes {
			r.ip(p.Router, routeArgs("add", rt, s.Table)...)
		}
		for _, fam := range families(p.IPv6) {
			r.ip(p.Router, fam, "rule", "add", "pref", strconv.Itoa(1000+k), "iif", s.Bridge, "lookup", strconv.Itoa(s.Table))
		}
	}
	for _, d := range p.Inbound {
		for _, s := range p.Subnets {
			if s.Subnet.CIDR.IsValid() && s.Subnet.CIDR.Masked() == d {
				r.ip(p.Router, "route", "add", d.String(), "dev", s.Bridge, "table", strconv.Itoa(inboundTable))
			}
		}
	}
	r.ip(p.Router, "rule", "add", "pref", "999", "iif", RouterLinkDev, "lookup", strconv.Itoa(inboundTable))
	for _, fam := range families(p.IPv6) {
		r.ip(p.Router, fam, "rule", "add", "pref", "32000", "blackhole")
	}
	return r.err
}

// linkENI makes an ENI's veth pair (its namespace exists, with its
// rules): eth0 with its MAC, addresses, neighbours and default routes, the
// port a member of its subnet's bridge that knows only its MAC. ready,
// when set, is called once the port is up, before anything is sent to it;
// its error is kept in r.hookErrs and the lab is built on.
func linkENI(r *runner, p *Plan, e *ENIPlan, ready func(*ENIPlan) error) {
	br := e.Subnet.Bridge
	r.do("ip", "link", "add", ENIDev, "netns", e.Namespace, "address", e.MAC, "type", "veth",
		"peer", "name", e.Port, "netns", p.Router)
	alias := e.ENI.ID
	if e.ENI.InstanceID != "" {
		alias += " " + e.ENI.InstanceID
	}
	r.ip(e.Namespace, "link", "set", ENIDev, "alias", alias)
	r.ip(p.Router, "link", "set", e.Port, "alias", e.ENI.ID)
	if len(e.ENI.IPv6s) > 0 {
		r.ip(e.Namespace, "link", "set", ENIDev, "addrgenmode", "none")
	}
	for _, a := range e.Addrs {
		args := []string{"addr", "add", a.String(), "dev", ENIDev}
		if a.Addr().Is6() {
			args = append(args, "nodad")
		}
		r.ip(e.Namespace, args...)
	}
	for _, nb := range e.Neighbours {
		r.ip(e.Namespace, "neigh", "replace", nb.Addr.String(), "lladdr", nb.MAC, "dev", ENIDev, "nud", "permanent")
	}
	r.ip(e.Namespace, "link", "set", ENIDev, "up")
	if e.Gateway4.IsValid() {
		r.ip(e.Namespace, "route", "add", "default", "via", e.Gateway4.String(), "dev", ENIDev)
	}
	if e.Gateway6.IsValid() {
		r.ip(e.Namespace, "-6", "route", "add", "default", "via", e.Gateway6.String(), "dev", ENIDev)
	}
	r.ip(p.Router, "link", "set", e.Port, "master", br)
	// Known MACs only: no learning, no flooding of unknown unicast
	// to the other ENIs' captured links.
	r.do("bridge", "-n", p.Router, "link", "set", "dev", e.Port, "learning", "off", "flood", "off", "mcast_flood", "off")
	r.ip(p.Router, "link", "set", e.Port, "up")
	// Nothing reaches the port before the bridge knows its MAC and the
	// router its addresses: a capture opened here sees its first frame.
	if ready != nil && r.err == nil {
		if err := ready(e); err != nil {
			r.hookErrs = append(r.hookErrs, err)
		}
	}
	r.do("bridge", "-n", p.Router, "fdb", "replace", e.MAC, "dev", e.Port, "master", "static")
	for _, a := range e.Addrs {
		r.ip(p.Router, "neigh", "replace", a.Addr().String(), "lladdr", e.MAC, "dev", br, "nud", "permanent")
	}
}

// reconcile makes the lab built as old what p describes (fixedShape
// holds): removed interfaces first (a changed one is removed and built
// again under the same namespace name), then the namespaces and rules of
// new ones, the rules of every namespace, the new interfaces' links, the
// neighbours, routes and public peers.
func (l *Lab) reconcile(ctx context.Context, old, p *Plan) (Change, error) {
	var c Change
	r := &runner{ctx: ctx, log: l.deps.Log}
	keep := map[string]bool{}
	for _, e := range p.ENIs {
		keep[eniKey(e)] = true
	}
	had := map[string]*ENIPlan{}
	for _, e := range old.ENIs {
		had[eniKey(e)] = e
		if keep[eniKey(e)] {
			continue
		}
		c.Removed = append(c.Removed, e)
		if l.deps.PortRemoving != nil {
			if err := l.deps.PortRemoving(e); err != nil {
				c.Errors = append(c.Errors, err)
			}
		}
		for _, a := range e.Addrs {
			r.undo(old.Router, "neigh", "del", a.Addr().String(), "dev", e.Subnet.Bridge)
		}
		if r.err != nil {
			return c, r.err
		}
		if err := removeNamespace(e.Namespace, l.deps.Log); err != nil {
			c.Errors = append(c.Errors, err)
		}
		l.created = slices.DeleteFunc(l.created, func(ns string) bool { return ns == e.Namespace })
	}
	for _, e := range p.ENIs {
		if had[eniKey(e)] == nil {
			c.Added = append(c.Added, e)
		}
	}
	for _, e := range c.Added {
		if r.do("ip", "netns", "add", e.Namespace) {
			l.created = append(l.created, e.Namespace)
		}
		r.sysctl(e.Namespace, eniSysctls(e))
		r.ip(e.Namespace, "link", "set", "lo", "up")
		r.nft(e.Namespace, ENIRuleset(e))
	}
	// Every namespace's rules: a new interface may be a member of groups
	// other interfaces' rules refer to.
	r.nft(p.Router, RouterRuleset(p))
	for _, e := range p.ENIs {
		if had[eniKey(e)] != nil {
			r.nft(e.Namespace, ENIRuleset(e))
		}
	}
	for _, e := range c.Added {
		linkENI(r, p, e, l.deps.PortAdded)
	}
	// The neighbours of the interfaces kept: their subnet's interfaces.
	for _, e := range p.ENIs {
		o := had[eniKey(e)]
		if o == nil {
			continue
		}
		for _, nb := range o.Neighbours {
			if !slices.Contains(e.Neighbours, nb) {
				r.undo(e.Namespace, "neigh", "del", nb.Addr.String(), "dev", ENIDev)
			}
		}
		for _, nb := range e.Neighbours {
			if !slices.Contains(o.Neighbours, nb) {
				r.ip(e.Namespace, "neigh", "replace", nb.Addr.String(), "lladdr", nb.MAC, "dev", ENIDev, "nud", "permanent")
			}
		}
	}
	// Routes: the subnets are the same (fixedShape), in the same order.
	for k, s := range p.Subnets {
		was := old.Subnets[k].Routes
		changed := false
		for _, rt := range was {
			if !slices.ContainsFunc(s.Routes, rt.same) {
				r.undo(p.Router, "route", "del", rt.Dest.String(), "table", strconv.Itoa(s.Table))
				changed = true
			}
		}
		for _, rt := range s.Routes {
			if !slices.ContainsFunc(was, rt.same) {
				r.ip(p.Router, routeArgs("replace", rt, s.Table)...)
				changed = true
			}
		}
		if changed {
			c.Routes = append(c.Routes, s.Subnet.ID)
		}
	}
	for _, d := range old.Inbound {
		if !slices.Contains(p.Inbound, d) {
			r.undo(p.Router, "route", "del", d.String(), "table", strconv.Itoa(inboundTable))
		}
	}
	for _, d := range p.Inbound {
		if !slices.Contains(old.Inbound, d) {
			for _, s := range p.Subnets {
				if s.Subnet.CIDR.IsValid() && s.Subnet.CIDR.Masked() == d {
					r.ip(p.Router, "route", "replace", d.String(), "dev", s.Bridge, "table", strconv.Itoa(inboundTable))
				}
			}
		}
	}
	// The public peers: an address that became an interface's public one
	// is no longer local to the internet namespace, and the other way.
	for _, pf := range old.Peers {
		if !slices.Contains(p.Peers, pf) {
			r.undo(p.Internet, "route", "del", "local", pf.String(), "dev", "lo", "table", "local")
		}
	}
	for _, pf := range p.Peers {
		if !slices.Contains(old.Peers, pf) {
			r.ip(p.Internet, "route", "replace", "local", pf.String(), "dev", "lo", "table", "local")
		}
	}
	c.Errors = append(c.Errors, r.hookErrs...)
	if r.err != nil {
		// The next Apply starts from the old plan again: the interfaces
		// added now go, so it can add them anew.
		for _, e := range c.Added {
			if l.deps.PortRemoving != nil && slices.Contains(l.created, e.Namespace) {
				l.deps.PortRemoving(e) // no capture to end is no matter here
			}
			removeNamespace(e.Namespace, l.deps.Log)
			l.created = slices.DeleteFunc(l.created, func(ns string) bool { return ns == e.Namespace })
		}
	}
	return c, r.err
}

func (a Route) same(b Route) bool { return a.Dest == b.Dest && a.Dev == b.Dev && a.Via == b.Via }

// routeArgs are the ip arguments of a route of table.
func routeArgs(verb string, rt Route, table int) []string {
	args := []string{"route", verb, rt.Dest.String()}
	if rt.Via.IsValid() {
		// onlink: the gateway is on the link. Without it the kernel
		// checks the gateway against the table's own routes, where a
		// default route through it makes it look remote.
		args = append(args, "via", rt.Via.String(), "dev", rt.Dev, "onlink")
	} else {
		args = append(args, "dev", rt.Dev)
	}
	return append(args, "table", strconv.Itoa(table))
}

func families(v6 bool) []string {
	if v6 {
		return []string{"-4", "-6"}
	}
	return []string{"-4"}
}

func boolString(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func orDefault(v, d int) int {
	if v > 0 {
		return v
	}
	return d
}

// runner runs the steps of a build until one fails; later steps are
// skipped and err names the first failure.
type runner struct {
	ctx      context.Context
	log      io.Writer
	err      error
	hookErrs []error // of the callers' hooks, which do not stop the steps
}

func (r *runner) do(args ...string) bool { return r.input(nil, args...) }

func (r *runner) ip(ns string, args ...string) {
	r.do(append([]string{"ip", "-n", ns}, args...)...)
}

// undo runs an ip command that removes something; that it is gone already
// (an Apply that failed half way and is tried again) is no failure.
func (r *runner) undo(ns string, args ...string) {
	if r.err != nil {
		return
	}
	args = append([]string{"ip", "-n", ns}, args...)
	fmt.Fprintln(r.log, strings.Join(args, " "))
	if err := command(r.ctx, nil, args...); err != nil {
		fmt.Fprintf(r.log, "(ignored: %v)\n", err)
	}
}

func (r *runner) nft(ns, ruleset string) {
	r.input([]byte(replacing(ruleset)), "ip", "netns", "exec", ns, "nft", "-f", "-")
}

func (r *runner) input(stdin []byte, args ...string) bool {
	if r.err != nil {
		return false
	}
	fmt.Fprintln(r.log, strings.Join(args, " "))
	if err := command(r.ctx, stdin, args...); err != nil {
		r.err = err
		return false
	}
	return true
}

func (r *runner) sysctl(ns string, kv map[string]string) {
	if r.err != nil {
		return
	}
	keys := sortedKeys(kv)
	fmt.Fprintf(r.log, "sysctl in %s: %s\n", ns, strings.Join(keys, " "))
	r.err = inNamespace(ns, func() error {
		for _, k := range keys {
			if err := os.WriteFile("/proc/sys/"+k, []byte(kv[k]), 0); err != nil {
				return fmt.Errorf("lab: setting %s=%s in namespace %s: %v", strings.ReplaceAll(k, "/", "."), kv[k], ns, err)
			}
		}
		return nil
	})
}

// command runs a command and returns an error naming it, with what it
// printed, when it fails.
func command(ctx context.Context, stdin []byte, args ...string) error {
	_, err := output(ctx, stdin, args...)
	return err
}

func output(ctx context.Context, stdin []byte, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String() + stdout.String())
		if len(msg) > 2000 {
			msg = msg[:2000] + "..."
		}
		return nil, fmt.Errorf("lab: %s: %v: %s", strings.Join(args, " "), err, msg)
	}
	return stdout.Bytes(), nil
}

// inNamespace runs fn on an OS thread inside namespace ns, then moves the
// thread back to its namespace before other goroutines may use it. A
// thread that cannot go back ends with fn. (Leaving it in ns to end was
// not enough: the runtime keeps the main thread when its goroutine ends
// locked, and the process then counted as inside the lab's namespace,
// holding it after its deletion.)
func inNamespace(ns string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			errc <- fmt.Errorf("lab: this thread's namespace: %v", err)
			return
		}
		defer orig.Close()
		f, err := os.Open(filepath.Join(NetnsDir, ns))
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("lab: namespace %s: %v", ns, err)
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("lab: entering namespace %s: %v", ns, err)
			return
		}
		err = fn()
		if unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		errc <- err
	}()
	return <-errc
}

// Do runs fn on an OS thread inside the lab namespace ns: sockets fn
// makes belong to that namespace and can be used from any goroutine
// afterwards.
func Do(ns string, fn func() error) error { return inNamespace(ns, fn) }

func (l *Lab) removeLocked() error {
	var errs []error
	for i := len(l.created) - 1; i >= 0; i-- {
		if err := removeNamespace(l.created[i], l.deps.Log); err != nil {
			errs = append(errs, err)
		}
	}
	l.created = nil
	return errors.Join(errs...)
}

// removeNamespace deletes a namespace; one already gone is no error.
// Processes still inside keep it (and its interfaces) alive until they
// exit: the error says which.
func removeNamespace(ns string, log io.Writer) error {
	if _, err := os.Stat(filepath.Join(NetnsDir, ns)); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	pids, _ := output(context.Background(), nil, "ip", "netns", "pids", ns)
	fmt.Fprintln(log, "ip netns del", ns)
	if err := command(context.Background(), nil, "ip", "netns", "del", ns); err != nil {
		return err
	}
	if p := strings.Fields(string(pids)); len(p) > 0 {
		return fmt.Errorf("lab: namespace %s deleted, but processes %s still run in it: it and its interfaces remain until they exit", ns, strings.Join(p, ", "))
	}
	return nil
}

// labNamespaces lists the namespaces of lab id, sorted.
func labNamespaces(id string) ([]string, error) {
	all, err := namespaces()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, ns := range all {
		if strings.HasPrefix(ns, Prefix(id)) {
			out = append(out, ns)
		}
	}
	return out, nil
}

// namespaces lists the named namespaces of vpcflow labs (vf-ID-...).
func namespaces() ([]string, error) {
	ents, err := os.ReadDir(NetnsDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("lab: listing namespaces: %v", err)
	}
	var out []string
	for _, e := range ents {
		if _, ok := labID(e.Name()); ok {
			out = append(out, e.Name())
		}
	}
	slices.Sort(out)
	return out, nil
}

// labID returns the lab id of a namespace name vf-ID-what.
func labID(ns string) (string, bool) {
	rest, ok := strings.CutPrefix(ns, "vf-")
	if !ok {
		return "", false
	}
	id, what, ok := strings.Cut(rest, "-")
	if !ok || what == "" || ValidID(id) != nil {
		return "", false
	}
	return id, true
}

// Down removes every namespace of lab id, whoever made it (a lab up
// killed with SIGKILL leaves them behind), and returns their names.
func Down(id string, log io.Writer) ([]string, error) {
	if err := ValidID(id); err != nil {
		return nil, fmt.Errorf("lab: %v", err)
	}
	if log == nil {
		log = io.Discard
	}
	have, err := labNamespaces(id)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, ns := range have {
		if err := removeNamespace(ns, log); err != nil {
			errs = append(errs, err)
		}
	}
	return have, errors.Join(errs...)
}

// Resolve returns the namespace of target in lab id: "router",
// "internet", an ENI id or an instance id (the instance's only ENI).
func Resolve(id, target string) (string, error) {
	if err := ValidID(id); err != nil {
		return "", fmt.Errorf("lab: %v", err)
	}
	have, err := labNamespaces(id)
	if err != nil {
		return "", err
	}
	if len(have) == 0 {
		return "", fmt.Errorf("lab %s: not up (no namespace %s*)", id, Prefix(id))
	}
	if ns := Namespace(id, target); slices.Contains(have, ns) {
		return ns, nil
	}
	var found, enis []string
	for _, ns := range have {
		what := strings.TrimPrefix(ns, Prefix(id))
		if what == RouterName || what == InternetName {
			continue
		}
		enis = append(enis, what)
		ifs, err := links(ns)
		if err != nil {
			continue
		}
		for _, l := range ifs {
			if f := strings.Fields(l.Alias); l.Name == ENIDev && len(f) == 2 && f[1] == target {
				found = append(found, ns)
			}
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return "", fmt.Errorf("lab %s: no %q: want %s, %s, an ENI (%s) or an instance id", id, target, RouterName, InternetName, strings.Join(enis, ", "))
	}
	return "", fmt.Errorf("lab %s: instance %s has several ENIs (%s): name one", id, target, strings.Join(found, ", "))
}

// Link is an interface as `ip -j addr` describes it.
type Link struct {
	Name    string   `json:"ifname"`
	MAC     string   `json:"address"`
	Alias   string   `json:"ifalias"`
	Master  string   `json:"master"`
	State   string   `json:"operstate"`
	Addrs   []string `json:"-"`
	AddrInf []struct {
		Local     string `json:"local"`
		PrefixLen int    `json:"prefixlen"`
	} `json:"addr_info"`
}

func links(ns string) ([]Link, error) {
	out, err := output(context.Background(), nil, "ip", "-n", ns, "-j", "-d", "addr", "show")
	if err != nil {
		return nil, err
	}
	var ls []Link
	if err := json.Unmarshal(out, &ls); err != nil {
		return nil, fmt.Errorf("lab: reading ip -j addr of %s: %v", ns, err)
	}
	for i := range ls {
		for _, a := range ls[i].AddrInf {
			ls[i].Addrs = append(ls[i].Addrs, a.Local+"/"+strconv.Itoa(a.PrefixLen))
		}
	}
	return ls, nil
}

// NamespaceStatus is one namespace of a lab and its interfaces (loopback
// left out).
type NamespaceStatus struct {
	Name  string
	Links []Link
	Err   error // reading its interfaces failed
}

// LabStatus is what exists of one lab.
type LabStatus struct {
	ID         string
	Namespaces []NamespaceStatus
}

// Status lists every lab on this host: its namespaces and their
// interfaces.
func Status() ([]LabStatus, error) {
	all, err := namespaces()
	if err != nil {
		return nil, err
	}
	var out []LabStatus
	for _, ns := range all {
		id, _ := labID(ns)
		if len(out) == 0 || out[len(out)-1].ID != id {
			out = append(out, LabStatus{ID: id})
		}
		st := NamespaceStatus{Name: ns}
		ls, err := links(ns)
		st.Err = err
		for _, l := range ls {
			if l.Name != "lo" {
				st.Links = append(st.Links, l)
			}
		}
		out[len(out)-1].Namespaces = append(out[len(out)-1].Namespaces, st)
	}
	return out, nil
}
