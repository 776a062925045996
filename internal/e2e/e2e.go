// Package e2e is what end-to-end tests share: the real vpcflow binary, built
// once per test process, a runner for it, and a writer of small pcap files
// made with gopacket's own serializers (independent of vpcflow's code), so
// expected records can be computed by hand from the packets.
package e2e

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// MACs of the ping example (examples/ping.yaml) and of a router.
const (
	RouterMAC  = "02:00:00:00:00:fe"
	PingENIMAC = "0a:1b:2c:3d:4e:5f"
)

var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
)

// Binary builds cmd/vpcflow once and returns its path. Call Cleanup from
// TestMain to remove it (it is large).
func Binary(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		src := filepath.Join(filepath.Dir(file), "..", "..", "cmd", "vpcflow")
		if binDir, binErr = os.MkdirTemp("", "vpcflow-e2e"); binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "vpcflow")
		cmd := exec.Command("go", "build", "-o", binPath, ".")
		cmd.Dir = src
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = &buildError{out: string(out), err: err}
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// Cleanup removes the built binary.
func Cleanup() {
	if binDir != "" {
		os.RemoveAll(binDir)
	}
}

type buildError struct {
	out string
	err error
}

func (e *buildError) Error() string { return "go build: " + e.err.Error() + "\n" + e.out }

// Options are the less common settings of a run.
type Options struct {
	Dir   string   // working directory ("" = the test's)
	Env   []string // added to the environment
	Stdin []byte
}

// Run runs the binary and returns stdout, stderr and the exit status.
func Run(t testing.TB, o Options, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(Binary(t), args...)
	cmd.Dir = o.Dir
	if len(o.Env) > 0 {
		cmd.Env = append(os.Environ(), o.Env...)
	}
	cmd.Stdin = bytes.NewReader(o.Stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// Packet describes one Ethernet frame of a test capture.
type Packet struct {
	Sec              int64
	SrcMAC, DstMAC   string
	Src, Dst         string
	Proto            string // tcp, udp or icmp
	SrcPort, DstPort uint16
	SYN, ACK, FIN    bool
	RST              bool
	Payload          int // bytes of zero payload
	ICMPType         uint8
}

// WritePcap writes pkts as an Ethernet pcap in the test's temporary
// directory and returns its path.
func WritePcap(t testing.TB, pkts []Packet) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	for _, p := range pkts {
		data := frame(t, p)
		ci := gopacket.CaptureInfo{Timestamp: time.Unix(p.Sec, 0), CaptureLength: len(data), Length: len(data)}
		if err := w.WritePacket(ci, data); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// Frame returns the Ethernet frame of p, for tests that feed frames
// without a file.
func Frame(t testing.TB, p Packet) []byte { return frame(t, p) }

func frame(t testing.TB, p Packet) []byte {
	smac, _ := net.ParseMAC(p.SrcMAC)
	dmac, _ := net.ParseMAC(p.DstMAC)
	src, dst := net.ParseIP(p.Src), net.ParseIP(p.Dst)
	eth := &layers.Ethernet{SrcMAC: smac, DstMAC: dmac}
	var proto layers.IPProtocol
	switch p.Proto {
	case "tcp":
		proto = layers.IPProtocolTCP
	case "udp":
		proto = layers.IPProtocolUDP
	case "icmp":
		proto = layers.IPProtocolICMPv4
	}
	ls := []gopacket.SerializableLayer{eth}
	var netLayer gopacket.NetworkLayer
	if src.To4() != nil {
		eth.EthernetType = layers.EthernetTypeIPv4
		ip := &layers.IPv4{Version: 4, TTL: 64, SrcIP: src.To4(), DstIP: dst.To4(), Protocol: proto}
		netLayer = ip
		ls = append(ls, ip)
	} else {
		eth.EthernetType = layers.EthernetTypeIPv6
		ip := &layers.IPv6{Version: 6, HopLimit: 64, SrcIP: src, DstIP: dst, NextHeader: proto}
		netLayer = ip
		ls = append(ls, ip)
	}
	switch p.Proto {
	case "tcp":
		tcp := &layers.TCP{SrcPort: layers.TCPPort(p.SrcPort), DstPort: layers.TCPPort(p.DstPort), SYN: p.SYN, ACK: p.ACK, FIN: p.FIN, RST: p.RST, Window: 1000}
		tcp.SetNetworkLayerForChecksum(netLayer)
		ls = append(ls, tcp)
	case "udp":
		udp := &layers.UDP{SrcPort: layers.UDPPort(p.SrcPort), DstPort: layers.UDPPort(p.DstPort)}
		udp.SetNetworkLayerForChecksum(netLayer)
		ls = append(ls, udp)
	case "icmp":
		ls = append(ls, &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(p.ICMPType, 0), Id: 1, Seq: 1})
	}
	ls = append(ls, gopacket.Payload(make([]byte, p.Payload)))
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
