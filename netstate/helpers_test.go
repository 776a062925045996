package netstate

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vpcflow/vpcflow/policy"
	"github.com/vpcflow/vpcflow/topology"
)

const (
	testAccount = "111122223333"
	testRegion  = "us-east-1"
)

func testOptions() Options {
	return Options{Account: testAccount, Region: testRegion,
		Now: func() time.Time { return time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC) }}
}

// openAt opens (or reopens) the store at dir/network.json.
func openAt(t testing.TB, dir string) *Store {
	t.Helper()
	s, err := Open(filepath.Join(dir, "network.json"), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newStore(t testing.TB) (*Store, string) {
	t.Helper()
	dir := t.TempDir()
	return openAt(t, dir), dir
}

func exampleFile(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("../examples/topology.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// wantCode fails unless err is an *Error with the code.
func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("want error %s, got %v", code, err)
	}
	if e.Code != code {
		t.Fatalf("want error %s, got %s: %s", code, e.Code, e.Message)
	}
}

func must[T any](t testing.TB) func(T, int, error) T {
	return func(v T, _ int, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// ok checks a call that returns (version, error).
func ok(t testing.TB) func(int, error) int {
	return func(v int, err error) int {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// pkt builds a packet from "proto src dst [flags]", addresses as ip:port
// or a bare ip (ICMP: "icmp 1.2.3.4 5.6.7.8 8/0"), as policy's tests do.
func pkt(t testing.TB, s string) *policy.Packet {
	t.Helper()
	f := strings.Fields(s)
	p := &policy.Packet{}
	proto, err := topology.ParseProtocol(f[0])
	if err != nil {
		t.Fatal(err)
	}
	p.Proto = uint8(proto)
	addr := func(x string) (netip.Addr, uint16) {
		if ap, err := netip.ParseAddrPort(x); err == nil {
			return ap.Addr(), ap.Port()
		}
		a, err := netip.ParseAddr(x)
		if err != nil {
			t.Fatalf("bad address %q", x)
		}
		return a, 0
	}
	p.Src, p.SrcPort = addr(f[1])
	p.Dst, p.DstPort = addr(f[2])
	if len(f) > 3 {
		switch p.Proto {
		case topology.ProtoICMP, topology.ProtoICMPv6:
			var ty, co int
			fmt.Sscanf(f[3], "%d/%d", &ty, &co)
			p.ICMPType, p.ICMPCode = uint8(ty), uint8(co)
		case topology.ProtoTCP:
			if strings.Contains(f[3], "S") {
				p.TCPFlags |= policy.FlagSYN
			}
			if strings.Contains(f[3], "A") {
				p.TCPFlags |= policy.FlagACK
			}
		}
	}
	return p
}

// decide judges one packet at an interface with a fresh engine built from
// the store's current topology (no tracked connection), and returns
// "ACCEPT rule" or "REJECT rule".
func decide(t testing.TB, s *Store, eniID string, dir policy.Direction, packet string) string {
	t.Helper()
	top, _ := s.Topology()
	return decideIn(t, top, eniID, dir, packet)
}

func decideIn(t testing.TB, top *topology.Topology, eniID string, dir policy.Direction, packet string) string {
	t.Helper()
	e, err := policy.New(top, policy.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	eni := top.ENIByID(eniID)
	if eni == nil {
		t.Fatalf("no interface %s in the topology", eniID)
	}
	v := e.Decide(eni, dir, pkt(t, packet), int64(1700000000)*1e9)
	return v.Action() + " " + v.Rule
}

func tcp(from, to int, cidrs ...string) IpPermission {
	p := IpPermission{IpProtocol: "tcp", FromPort: ptr(from), ToPort: ptr(to)}
	for _, c := range cidrs {
		p.IpRanges = append(p.IpRanges, IpRange{CidrIp: c})
	}
	return p
}

// lab is a small network made through the API: a VPC 10.1.0.0/16, a
// subnet 10.1.1.0/24 in us-east-1a, a group "web" and an interface in the
// subnet carrying it (10.1.1.4, the first address AWS does not reserve).
type lab struct {
	s      *Store
	dir    string
	vpc    Vpc
	subnet Subnet
	web    SecurityGroup
	eni    NetworkInterface
}

func newLab(t testing.TB) *lab {
	t.Helper()
	s, dir := newStore(t)
	l := &lab{s: s, dir: dir}
	l.vpc = must[Vpc](t)(s.CreateVpc("10.1.0.0/16", nil))
	l.subnet = must[Subnet](t)(s.CreateSubnet(l.vpc.VpcId, "10.1.1.0/24", "us-east-1a", nil))
	l.web = must[SecurityGroup](t)(s.CreateSecurityGroup(l.vpc.VpcId, "web", "web servers", nil))
	l.eni = must[NetworkInterface](t)(s.CreateNetworkInterface(l.subnet.SubnetId, "", []string{l.web.GroupId}, "web", nil))
	return l
}
