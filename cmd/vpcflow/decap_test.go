package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// mirrorTopology: interfaces a and b are mirrored (AWS Traffic Mirroring) to
// the collector c; the security group allows everything in, and egress is
// open (no IpPermissionsEgress), so only decoding and attribution are under
// test.
const mirrorTopology = `AccountId: "111122223333"
Region: eu-west-1
Vpcs: [{VpcId: vpc-0a1b2c3d4e5f60001, CidrBlock: 10.1.0.0/16}]
Subnets: [{SubnetId: subnet-0a1b2c3d4e5f60002, VpcId: vpc-0a1b2c3d4e5f60001, CidrBlock: 10.1.2.0/24}]
NetworkInterfaces:
  - {NetworkInterfaceId: eni-0000000000000000a, SubnetId: subnet-0a1b2c3d4e5f60002, MacAddress: "0a:00:00:00:00:0a", PrivateIpAddress: 10.1.2.10, Groups: [{GroupId: sg-0a1b2c3d4e5f60003}]}
  - {NetworkInterfaceId: eni-0000000000000000b, SubnetId: subnet-0a1b2c3d4e5f60002, MacAddress: "0a:00:00:00:00:0b", PrivateIpAddress: 10.1.2.11, Groups: [{GroupId: sg-0a1b2c3d4e5f60003}]}
  - {NetworkInterfaceId: eni-0000000000000000c, SubnetId: subnet-0a1b2c3d4e5f60002, MacAddress: "0a:00:00:00:00:0c", PrivateIpAddress: 10.1.2.30, Groups: [{GroupId: sg-0a1b2c3d4e5f60003}]}
SecurityGroups:
  - GroupId: sg-0a1b2c3d4e5f60003
    GroupName: all-in
    VpcId: vpc-0a1b2c3d4e5f60001
    IpPermissions: [{IpProtocol: "-1", IpRanges: [{CidrIp: 0.0.0.0/0}]}]
`

const (
	macA, macB, macC = "0a:00:00:00:00:0a", "0a:00:00:00:00:0b", "0a:00:00:00:00:0c"
	macRouter        = "02:00:00:00:00:fe"
	decapT0          = 1700000400 // a multiple of 600: one window holds every packet
)

func mustMAC(s string) net.HardwareAddr {
	m, err := net.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}

// serialize builds a frame from gopacket's own layers, lengths and
// checksums fixed by gopacket.
func serialize(t *testing.T, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func ip4(src, dst string, proto layers.IPProtocol) *layers.IPv4 {
	return &layers.IPv4{Version: 4, TTL: 64, Protocol: proto, SrcIP: net.ParseIP(src).To4(), DstIP: net.ParseIP(dst).To4()}
}

// inner is an IPv4 packet with its transport header: TCP (flags), UDP
// (payload bytes of zeros) or ICMP echo (payload bytes).
func inner(t *testing.T, src, dst, proto string, sport, dport uint16, syn, ack bool, payload int) []gopacket.SerializableLayer {
	switch proto {
	case "tcp":
		ip := ip4(src, dst, layers.IPProtocolTCP)
		tcp := &layers.TCP{SrcPort: layers.TCPPort(sport), DstPort: layers.TCPPort(dport), SYN: syn, ACK: ack, Window: 1000}
		tcp.SetNetworkLayerForChecksum(ip)
		return []gopacket.SerializableLayer{ip, tcp, gopacket.Payload(make([]byte, payload))}
	case "udp":
		ip := ip4(src, dst, layers.IPProtocolUDP)
		udp := &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)}
		udp.SetNetworkLayerForChecksum(ip)
		return []gopacket.SerializableLayer{ip, udp, gopacket.Payload(make([]byte, payload))}
	}
	return []gopacket.SerializableLayer{ip4(src, dst, layers.IPProtocolICMPv4),
		&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(8, 0), Id: 1, Seq: 1}, gopacket.Payload(make([]byte, payload))}
}

func ether(src, dst string, et layers.EthernetType) *layers.Ethernet {
	return &layers.Ethernet{SrcMAC: mustMAC(src), DstMAC: mustMAC(dst), EthernetType: et}
}

// mirrored is the VXLAN datagram AWS Traffic Mirroring sends to the
// collector for a packet of the source interface at address from (the
// outer source), in session vni: the router delivers it to c's MAC.
func mirrored(t *testing.T, from string, sport uint16, vni uint32, frame []byte) []byte {
	ip := ip4(from, "10.1.2.30", layers.IPProtocolUDP)
	udp := &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: 4789}
	udp.SetNetworkLayerForChecksum(ip)
	return serialize(t, ether(macRouter, macC, layers.EthernetTypeIPv4), ip, udp,
		&layers.VXLAN{ValidIDFlag: true, VNI: vni}, gopacket.Payload(frame))
}

type timedFrame struct {
	sec  int64
	data []byte
}

func writeFramesPcap(t *testing.T, frames []timedFrame) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "encap.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	for _, fr := range frames {
		ci := gopacket.CaptureInfo{Timestamp: time.Unix(fr.sec, 0), CaptureLength: len(fr.data), Length: len(fr.data)}
		if err := w.WritePacket(ci, fr.data); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// TestPcapEncapsulations: a capture of a PPPoE session frame, MPLS, an
// Ethernet pseudowire, IP-in-IP and four copies of AWS Traffic Mirroring
// (interfaces a and b both mirrored to c while a opens a TCP connection to
// b, so c receives the SYN and the SYN-ACK from each). The PPPoE, MPLS and
// pseudowire frames give records of their IP packets, attributed by the MACs
// of the frame that carries them; IP-in-IP is logged as its outer packet.
// Without --decap the mirrored copies are UDP datagrams to c; with --decap
// vxlan they are the packets of a and b, each copy on the interface that
// sent it, so each side is logged once, as a's and b's flow logs would.
// Every record below was worked out by hand from the frames.
func TestPcapEncapsulations(t *testing.T) {
	topo := filepath.Join(t.TempDir(), "mirror.yaml")
	if err := os.WriteFile(topo, []byte(mirrorTopology), 0o644); err != nil {
		t.Fatal(err)
	}
	// a's SYN to b and b's SYN-ACK, as the interfaces sent them: IPv4 20
	// + TCP 20 = 40 bytes, in frames of 14 + 40 that gopacket pads to the
	// Ethernet minimum of 60 (the padding is no part of the IP packet).
	syn := serialize(t, append([]gopacket.SerializableLayer{ether(macA, macB, layers.EthernetTypeIPv4)},
		inner(t, "10.1.2.10", "10.1.2.11", "tcp", 50000, 22, true, false, 0)...)...)
	synAck := serialize(t, append([]gopacket.SerializableLayer{ether(macB, macA, layers.EthernetTypeIPv4)},
		inner(t, "10.1.2.11", "10.1.2.10", "tcp", 22, 50000, true, true, 0)...)...)
	// The pseudowire carries b's frame from the router: ICMP echo, 20 + 8
	// + 56 = 84 bytes, behind labels 1000 and 101 and a control word
	// (sequence 7), between two provider routers.
	pwFrame := serialize(t, append([]gopacket.SerializableLayer{ether(macRouter, macB, layers.EthernetTypeIPv4)},
		inner(t, "198.51.100.9", "10.1.2.11", "icmp", 0, 0, false, false, 56)...)...)
	frames := []timedFrame{
		// PPPoE: TCP SYN 198.51.100.7:40000 > a:443 from the router to a's
		// MAC, 40 bytes.
		{decapT0 + 1, serialize(t, append([]gopacket.SerializableLayer{ether(macRouter, macA, layers.EthernetTypePPPoESession),
			&layers.PPPoE{Version: 1, Type: 1, Code: layers.PPPoECodeSession, SessionId: 42}, &layers.PPP{PPPType: layers.PPPTypeIPv4}},
			inner(t, "198.51.100.7", "10.1.2.10", "tcp", 40000, 443, true, false, 0)...)...)},
		// MPLS, two labels: UDP a:5353 > 198.51.100.8:53 from a's MAC, 20 +
		// 8 + 12 = 40 bytes.
		{decapT0 + 2, serialize(t, append([]gopacket.SerializableLayer{ether(macA, macRouter, layers.EthernetTypeMPLSUnicast),
			&layers.MPLS{Label: 1000, TTL: 64}, &layers.MPLS{Label: 17, StackBottom: true, TTL: 64}},
			inner(t, "10.1.2.10", "198.51.100.8", "udp", 5353, 53, false, false, 12)...)...)},
		{decapT0 + 3, serialize(t, ether("02:00:00:00:00:01", "02:00:00:00:00:02", layers.EthernetTypeMPLSUnicast),
			&layers.MPLS{Label: 1000, TTL: 64}, &layers.MPLS{Label: 101, StackBottom: true, TTL: 64},
			gopacket.Payload(append([]byte{0, 0, 0, 7}, pwFrame...)))},
		// IP-in-IP from a's MAC: 10.1.2.10 > 203.0.113.1 around UDP
		// 192.168.0.1:1000 > 192.168.0.2:2000 (28 bytes): 48 bytes, protocol 4.
		{decapT0 + 4, serialize(t, append([]gopacket.SerializableLayer{ether(macA, macRouter, layers.EthernetTypeIPv4),
			ip4("10.1.2.10", "203.0.113.1", layers.IPProtocolIPv4)},
			inner(t, "192.168.0.1", "192.168.0.2", "udp", 1000, 2000, false, false, 0)...)...)},
		// The mirrored copies, VNI 1 for a's session and 2 for b's; each
		// datagram is 20 + 8 + 8 + 60 = 96 bytes.
		{decapT0 + 10, mirrored(t, "10.1.2.10", 49152, 1, syn)},
		{decapT0 + 10, mirrored(t, "10.1.2.11", 49153, 2, syn)},
		{decapT0 + 11, mirrored(t, "10.1.2.10", 49154, 1, synAck)},
		{decapT0 + 11, mirrored(t, "10.1.2.11", 49155, 2, synAck)},
	}
	path := writeFramesPcap(t, frames)
	format := "${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${flow-direction} ${action}"
	const (
		pppoe = "eni-0000000000000000a 198.51.100.7 10.1.2.10 40000 443 6 1 40 ingress ACCEPT"
		mpls  = "eni-0000000000000000a 10.1.2.10 198.51.100.8 5353 53 17 1 40 egress ACCEPT"
		ipip  = "eni-0000000000000000a 10.1.2.10 203.0.113.1 0 0 4 1 48 egress ACCEPT"
		pw    = "eni-0000000000000000b 198.51.100.9 10.1.2.11 0 0 1 1 84 ingress ACCEPT"
	)

	out, errOut, code := runBinary(t, nil, "pcap", "--stdout", "--topology", topo, "--format", format, path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	checkLines(t, out, pppoe, mpls, ipip, pw,
		"eni-0000000000000000c 10.1.2.10 10.1.2.30 49152 4789 17 1 96 ingress ACCEPT",
		"eni-0000000000000000c 10.1.2.11 10.1.2.30 49153 4789 17 1 96 ingress ACCEPT",
		"eni-0000000000000000c 10.1.2.10 10.1.2.30 49154 4789 17 1 96 ingress ACCEPT",
		"eni-0000000000000000c 10.1.2.11 10.1.2.30 49155 4789 17 1 96 ingress ACCEPT")
	if !strings.Contains(errOut, "  encapsulated: 3 frames opened (1 pppoe, 2 mpls, 1 pseudowire)\n") || strings.Contains(errOut, "mirrored") {
		t.Errorf("summary:\n%s", errOut)
	}

	out, errOut, code = runBinary(t, nil, "pcap", "--stdout", "--topology", topo, "--format", format, "--decap", "vxlan", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	checkLines(t, out, pppoe, mpls, ipip,
		"eni-0000000000000000a 10.1.2.10 10.1.2.11 50000 22 6 1 40 egress ACCEPT",
		"eni-0000000000000000a 10.1.2.11 10.1.2.10 22 50000 6 1 40 ingress ACCEPT",
		pw,
		"eni-0000000000000000b 10.1.2.10 10.1.2.11 50000 22 6 1 40 ingress ACCEPT",
		"eni-0000000000000000b 10.1.2.11 10.1.2.10 22 50000 6 1 40 egress ACCEPT")
	for _, want := range []string{
		"  encapsulated: 7 frames opened (1 pppoe, 2 mpls, 1 pseudowire, 4 vxlan)\n",
		"  mirrored: 4 packets out of VXLAN, each on the interface that sent the copy\n",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("summary has no %q:\n%s", want, errOut)
		}
	}

	// Without a topology the capture is one interface: with --local-cidr a's
	// address, every copy is a's, egress when a sent it. Both sessions'
	// copies are counted (nothing says which interface sent them).
	out, errOut, code = runBinary(t, nil, "pcap", "--stdout", "--local-cidr", "10.1.2.10", "--decap", "vxlan",
		"--format", "${srcaddr} ${dstaddr} ${srcport} ${dstport} ${packets} ${bytes} ${flow-direction}", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	checkLines(t, out,
		"198.51.100.7 10.1.2.10 40000 443 1 40 ingress",
		"10.1.2.10 198.51.100.8 5353 53 1 40 egress",
		"198.51.100.9 10.1.2.11 0 0 1 84 ingress",
		"10.1.2.10 203.0.113.1 0 0 1 48 egress",
		"10.1.2.10 10.1.2.11 50000 22 2 80 egress",
		"10.1.2.11 10.1.2.10 22 50000 2 80 ingress")
}

// TestPcapDecapUsage: --decap names the tunnels it knows.
func TestPcapDecapUsage(t *testing.T) {
	_, errOut, code := runBinary(t, nil, "pcap", "--stdout", "--decap", "gre", "x.pcap")
	if code != 2 || !strings.Contains(errOut, `--decap: unknown tunnel "gre": want vxlan or none`) {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	_, errOut, code = runBinary(t, nil, "run", "--stdout", "--decap", "geneve", "--interface", "lo")
	if code != 2 || !strings.Contains(errOut, `--decap: unknown tunnel "geneve": want vxlan or none`) {
		t.Fatalf("run: exit %d: %s", code, errOut)
	}
}
