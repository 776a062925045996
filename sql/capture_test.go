package sql

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Captures for these tests are built with gopacket's own serializers (copied
// from cmd/vpcflow/pcap_test.go), not vpcflow code, and the flow-log files
// are written by the real vpcflow binary.

var (
	binOnce sync.Once
	binPath string
	binErr  error
	// tempDirs are removed after the tests: the binary alone is ~75 MB.
	tempDirs []string
)

func TestMain(m *testing.M) {
	code := m.Run()
	for _, d := range tempDirs {
		os.RemoveAll(d)
	}
	os.Exit(code)
}

func vpcflowBinary(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "vpcflow-sql-test")
		if err != nil {
			binErr = err
			return
		}
		tempDirs = append(tempDirs, dir)
		binPath = filepath.Join(dir, "vpcflow")
		out, err := exec.Command("go", "build", "-o", binPath, "../cmd/vpcflow").CombinedOutput()
		if err != nil {
			binErr = &buildError{err, out}
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

type buildError struct {
	err error
	out []byte
}

func (e *buildError) Error() string { return "go build: " + e.err.Error() + "\n" + string(e.out) }

// runVpcflow runs the binary and fails the test on a non-zero exit.
func runVpcflow(t testing.TB, args ...string) string {
	t.Helper()
	cmd := exec.Command(vpcflowBinary(t), args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("vpcflow %v: %v\n%s", args, err, errb.String())
	}
	return out.String()
}

const (
	routerMAC  = "02:00:00:00:00:fe"
	pingENIMAC = "0a:1b:2c:3d:4e:5f"
)

type testPkt struct {
	sec            int64
	srcMAC, dstMAC string
	src, dst       string
	proto          string // tcp, udp, icmp
	sport, dport   uint16
	syn, ack, fin  bool
	rst            bool
	payload        int
	icmpType       uint8
}

func writePcap(t *testing.T, pkts []testPkt) string {
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
		smac, _ := net.ParseMAC(p.srcMAC)
		dmac, _ := net.ParseMAC(p.dstMAC)
		src, dst := net.ParseIP(p.src), net.ParseIP(p.dst)
		eth := &layers.Ethernet{SrcMAC: smac, DstMAC: dmac}
		var ls []gopacket.SerializableLayer
		payload := gopacket.Payload(make([]byte, p.payload))
		var netLayer gopacket.NetworkLayer
		v4 := src.To4() != nil
		var proto layers.IPProtocol
		switch p.proto {
		case "tcp":
			proto = layers.IPProtocolTCP
		case "udp":
			proto = layers.IPProtocolUDP
		case "icmp":
			proto = layers.IPProtocolICMPv4
		}
		if v4 {
			eth.EthernetType = layers.EthernetTypeIPv4
			ip := &layers.IPv4{Version: 4, TTL: 64, SrcIP: src.To4(), DstIP: dst.To4(), Protocol: proto}
			netLayer = ip
			ls = append(ls, eth, ip)
		} else {
			eth.EthernetType = layers.EthernetTypeIPv6
			ip := &layers.IPv6{Version: 6, HopLimit: 64, SrcIP: src, DstIP: dst, NextHeader: proto}
			netLayer = ip
			ls = append(ls, eth, ip)
		}
		switch p.proto {
		case "tcp":
			tcp := &layers.TCP{SrcPort: layers.TCPPort(p.sport), DstPort: layers.TCPPort(p.dport), SYN: p.syn, ACK: p.ack, FIN: p.fin, RST: p.rst, Window: 1000}
			tcp.SetNetworkLayerForChecksum(netLayer)
			ls = append(ls, tcp)
		case "udp":
			udp := &layers.UDP{SrcPort: layers.UDPPort(p.sport), DstPort: layers.UDPPort(p.dport)}
			udp.SetNetworkLayerForChecksum(netLayer)
			ls = append(ls, udp)
		case "icmp":
			ls = append(ls, &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(p.icmpType, 0), Id: 1, Seq: 1})
		}
		ls = append(ls, payload)
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
			t.Fatal(err)
		}
		data := buf.Bytes()
		ci := gopacket.CaptureInfo{Timestamp: time.Unix(p.sec, 0), CaptureLength: len(data), Length: len(data)}
		if err := w.WritePacket(ci, data); err != nil {
			t.Fatal(err)
		}
	}
	return path
}
