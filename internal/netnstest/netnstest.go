//go:build linux

// Package netnstest builds small networks of Linux network namespaces for
// tests that need real interfaces: two namespaces joined by a veth pair,
// with the MAC and IP addresses a topology declares, and helpers to run
// code and commands inside them.
//
// It exists so tests of live capture exercise real AF_PACKET sockets on
// real interfaces while their traffic stays inside namespaces the test made
// (deleted when it ends, failed or not), never reaching the host's network.
// The namespaces are quiet: IPv6 is disabled and the neighbours are static,
// so the only frames on the veth are the ones a test sends.
package netnstest

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Skip skips t unless it can make namespaces: root and iproute2's ip.
func Skip(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: creates network namespaces and opens AF_PACKET sockets")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs iproute2's ip command (apt-get install iproute2)")
	}
}

// End is one side of the pair: a namespace and its end of the veth.
type End struct {
	NS   string // namespace name, under /var/run/netns
	Veth string
	MAC  net.HardwareAddr
	IP   netip.Addr
}

// Pair is two namespaces joined by a veth pair.
type Pair struct {
	End [2]End
}

var seq atomic.Uint32

// NewPair makes two namespaces joined by a veth pair whose ends get the
// given MACs and IPv4 addresses (in one /prefix). Names start with a prefix
// unique to this process and call; everything is deleted when t ends.
func NewPair(t testing.TB, macs [2]string, ips [2]string, prefix int) *Pair {
	t.Helper()
	Skip(t)
	id := fmt.Sprintf("%d%c%d", os.Getpid()%100000, 'x', seq.Add(1))
	p := &Pair{}
	for i := range 2 {
		side := "ab"[i : i+1]
		mac, err := net.ParseMAC(macs[i])
		if err != nil {
			t.Fatalf("netnstest: MAC %q: %v", macs[i], err)
		}
		ip, err := netip.ParseAddr(ips[i])
		if err != nil {
			t.Fatalf("netnstest: IP %q: %v", ips[i], err)
		}
		p.End[i] = End{NS: "vftest-" + id + side, Veth: "vf" + id + side, MAC: mac, IP: ip}
	}
	for i := range 2 {
		ns := p.End[i].NS
		run(t, "ip", "netns", "add", ns)
		t.Cleanup(func() {
			if out, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil {
				t.Errorf("netnstest: deleting namespace %s: %v: %s", ns, err, out)
			}
		})
	}
	a, b := p.End[0], p.End[1]
	run(t, "ip", "link", "add", a.Veth, "netns", a.NS, "type", "veth", "peer", "name", b.Veth, "netns", b.NS)
	for i, e := range p.End {
		peer := p.End[1-i]
		// Before the link is up: no router solicitation, no MLD report.
		run(t, "ip", "netns", "exec", e.NS, "sh", "-c",
			"for f in all default "+e.Veth+"; do echo 1 > /proc/sys/net/ipv6/conf/$f/disable_ipv6; done")
		run(t, "ip", "-n", e.NS, "link", "set", e.Veth, "address", e.MAC.String())
		run(t, "ip", "-n", e.NS, "addr", "add", e.IP.String()+"/"+strconv.Itoa(prefix), "dev", e.Veth)
		run(t, "ip", "-n", e.NS, "neigh", "replace", peer.IP.String(), "lladdr", peer.MAC.String(), "dev", e.Veth, "nud", "permanent")
		run(t, "ip", "-n", e.NS, "link", "set", "lo", "up")
	}
	for _, e := range p.End {
		run(t, "ip", "-n", e.NS, "link", "set", e.Veth, "up")
	}
	return p
}

func run(t testing.TB, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("netnstest: %s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
}

// Do runs fn on an OS thread inside side i's namespace and returns its
// error. Sockets and AF_PACKET rings made by fn belong to that namespace
// and can be used from any goroutine afterwards. The thread is never
// handed back to other goroutines: it ends with fn.
func (p *Pair) Do(i int, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // no UnlockOSThread: the thread dies with this goroutine
		f, err := os.Open("/var/run/netns/" + p.End[i].NS)
		if err != nil {
			errc <- err
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("netnstest: entering %s: %v", p.End[i].NS, err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// Command returns a command that runs inside side i's namespace.
func (p *Pair) Command(i int, name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", p.End[i].NS, name}, args...)...)
}

// Counters are a veth end's kernel counters (/sys/class/net/X/statistics),
// bytes as the link layer counts them (Ethernet header, no FCS).
type Counters struct {
	RxPackets, TxPackets, RxBytes, TxBytes uint64
}

// Sub returns c - o.
func (c Counters) Sub(o Counters) Counters {
	return Counters{c.RxPackets - o.RxPackets, c.TxPackets - o.TxPackets, c.RxBytes - o.RxBytes, c.TxBytes - o.TxBytes}
}

// Counters reads side i's veth counters.
func (p *Pair) Counters(t testing.TB, i int) Counters {
	t.Helper()
	e := p.End[i]
	out, err := p.Command(i, "sh", "-c", "cd /sys/class/net/"+e.Veth+"/statistics && cat rx_packets tx_packets rx_bytes tx_bytes").CombinedOutput()
	if err != nil {
		t.Fatalf("netnstest: counters of %s: %v: %s", e.Veth, err, out)
	}
	f := strings.Fields(string(out))
	if len(f) != 4 {
		t.Fatalf("netnstest: counters of %s: %q", e.Veth, out)
	}
	var v [4]uint64
	for k := range f {
		if v[k], err = strconv.ParseUint(f[k], 10, 64); err != nil {
			t.Fatalf("netnstest: counters of %s: %q", e.Veth, out)
		}
	}
	return Counters{v[0], v[1], v[2], v[3]}
}

// ListenUDP opens a UDP socket on side i's address and port. Nothing needs
// to read it: it exists so datagrams to the port draw no ICMP port
// unreachable (a frame the test did not send).
func (p *Pair) ListenUDP(t testing.TB, i int, port int) *net.UDPConn {
	t.Helper()
	var c *net.UDPConn
	err := p.Do(i, func() (err error) {
		c, err = net.ListenUDP("udp4", &net.UDPAddr{IP: p.End[i].IP.AsSlice(), Port: port})
		return err
	})
	if err != nil {
		t.Fatalf("netnstest: listening on udp %s:%d: %v", p.End[i].IP, port, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// SendUDP sends n datagrams of size bytes of payload from side i (source
// port sport) to the other side's address and port dport.
func (p *Pair) SendUDP(t testing.TB, i int, sport, dport, n, size int) {
	t.Helper()
	var c *net.UDPConn
	err := p.Do(i, func() (err error) {
		c, err = net.DialUDP("udp4", &net.UDPAddr{IP: p.End[i].IP.AsSlice(), Port: sport},
			&net.UDPAddr{IP: p.End[1-i].IP.AsSlice(), Port: dport})
		return err
	})
	if err != nil {
		t.Fatalf("netnstest: udp socket in %s: %v", p.End[i].NS, err)
	}
	defer c.Close()
	buf := make([]byte, size)
	for k := range n {
		buf[0] = byte(k)
		if _, err := c.Write(buf); err != nil {
			t.Fatalf("netnstest: sending datagram %d: %v", k, err)
		}
	}
}

// Ping sends n ICMP echo requests of size bytes of payload from side i to
// the other side, one at a time, and waits for each reply (the other
// side's kernel answers).
func (p *Pair) Ping(t testing.TB, i int, n, size int) {
	t.Helper()
	var c net.PacketConn
	err := p.Do(i, func() (err error) {
		c, err = net.ListenPacket("ip4:icmp", p.End[i].IP.String())
		return err
	})
	if err != nil {
		t.Fatalf("netnstest: icmp socket in %s: %v", p.End[i].NS, err)
	}
	defer c.Close()
	dst := &net.IPAddr{IP: p.End[1-i].IP.AsSlice()}
	id := uint16(os.Getpid())
	reply := make([]byte, 1500)
	for k := range n {
		msg := make([]byte, 8+size)
		msg[0] = 8 // echo request
		msg[4], msg[5] = byte(id>>8), byte(id)
		msg[6], msg[7] = byte(k>>8), byte(k)
		cs := checksum(msg)
		msg[2], msg[3] = byte(cs>>8), byte(cs)
		if _, err := c.WriteTo(msg, dst); err != nil {
			t.Fatalf("netnstest: echo request %d: %v", k, err)
		}
		for {
			if err := c.SetReadDeadline(deadline()); err != nil {
				t.Fatal(err)
			}
			m, _, err := c.ReadFrom(reply)
			if err != nil {
				t.Fatalf("netnstest: waiting for echo reply %d: %v", k, err)
			}
			if m >= 8 && reply[0] == 0 && reply[6] == byte(k>>8) && reply[7] == byte(k) {
				break
			}
		}
	}
}

func checksum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

func deadline() time.Time { return time.Now().Add(2 * time.Second) }

// Flood sends n raw Ethernet frames (frames, round robin) out of side i's
// veth as fast as one goroutine can, and returns how long it took. The
// other side's kernel receives them as if a host had sent them.
func (p *Pair) Flood(t testing.TB, i int, frames [][]byte, n int) time.Duration {
	t.Helper()
	var fd, ifindex int
	err := p.Do(i, func() error {
		ifc, err := net.InterfaceByName(p.End[i].Veth)
		if err != nil {
			return err
		}
		ifindex = ifc.Index
		// Protocol 0: the socket sends only, it receives nothing.
		fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, 0)
		return err
	})
	if err != nil {
		t.Fatalf("netnstest: raw socket in %s: %v", p.End[i].NS, err)
	}
	defer unix.Close(fd)
	to := &unix.SockaddrLinklayer{Ifindex: ifindex, Halen: 6, Protocol: 0x0008} // ETH_P_IP, network order
	start := time.Now()
	for k := range n {
		for {
			err := unix.Sendto(fd, frames[k%len(frames)], 0, to)
			if err == nil {
				break
			}
			if err != unix.ENOBUFS && err != unix.EAGAIN {
				t.Fatalf("netnstest: sending frame %d: %v", k, err)
			}
			runtime.Gosched()
		}
	}
	return time.Since(start)
}
