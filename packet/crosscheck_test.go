package packet_test

import (
	"io"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/vpcflow/vpcflow/capture"
	"github.com/vpcflow/vpcflow/packet"
)

type frame struct {
	lt   packet.LinkType
	data []byte
}

// publicFrames returns every frame of the committed public captures.
func publicFrames(t testing.TB) []frame {
	t.Helper()
	var out []frame
	filepath.WalkDir("../testdata/pcaps", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(path, ".pcap") || strings.HasSuffix(path, ".pcapng")) {
			return err
		}
		r, err := capture.Open(path)
		if err != nil {
			return nil
		}
		defer r.Close()
		for {
			f, err := r.Next()
			if err != nil {
				if err != io.EOF {
					t.Logf("%v", err)
				}
				return nil
			}
			out = append(out, frame{f.LinkType, append([]byte(nil), f.Data...)})
		}
	})
	if len(out) < 1000 {
		t.Fatalf("only %d public frames", len(out))
	}
	return out
}

// reference decodes a frame with gopacket's layers into the fields Decode
// reports: through PPPoE, PPP and MPLS to the first IP layer, whose
// transport header it reads. ok is false when gopacket finds no IP layer.
// With decap, a UDP datagram to port 4789 that gopacket decodes as VXLAN
// is replaced by the frame inside, decoded the same way.
func reference(lt packet.LinkType, data []byte, decap bool) (ref packet.Packet, l4 bool, ok bool) {
	return referenceIn(lt, data, decap, false)
}

func referenceIn(lt packet.LinkType, data []byte, decap, inPW bool) (ref packet.Packet, l4 bool, ok bool) {
	glt := layers.LinkType(lt)
	if lt == packet.LinkIPv4 || lt == packet.LinkIPv6 {
		glt = layers.LinkTypeRaw
	}
	pkt := gopacket.NewPacket(data, glt, gopacket.DecodeOptions{NoCopy: true})
	ls := pkt.Layers()
	i := 0
	for ; i < len(ls); i++ {
		switch l := ls[i].(type) {
		case *layers.Ethernet:
			copy(ref.SrcMAC[:], l.SrcMAC)
			copy(ref.DstMAC[:], l.DstMAC)
			ref.HasMAC = true
			continue
		case *layers.Dot1Q:
			switch ref.VLANTags {
			case 0:
				ref.VLAN = l.VLANIdentifier
			case 1:
				ref.InnerVLAN = l.VLANIdentifier
			}
			ref.VLANTags++
			continue
		case *layers.IPv4:
			ref.IPVersion = 4
			ref.Src, _ = netip.AddrFromSlice(l.SrcIP.To4())
			ref.Dst, _ = netip.AddrFromSlice(l.DstIP.To4())
			ref.Proto = uint8(l.Protocol)
			ref.TTL = l.TTL
			ref.IPLen = uint32(l.Length)
			ref.FragID = uint32(l.Id)
			ref.MoreFragments = l.Flags&layers.IPv4MoreFragments != 0
			ref.FragOffset = uint32(l.FragOffset) * 8
			ref.Fragment = ref.MoreFragments || ref.FragOffset != 0
		case *layers.IPv6:
			ref.IPVersion = 6
			ref.Src, _ = netip.AddrFromSlice(l.SrcIP)
			ref.Dst, _ = netip.AddrFromSlice(l.DstIP)
			ref.Proto = uint8(l.NextHeader)
			ref.TTL = l.HopLimit
			ref.IPLen = 40 + uint32(l.Length)
		case *layers.LinuxSLL, *layers.Loopback, *layers.PPP:
			continue
		case *layers.PPPoE:
			ref.Encap |= packet.EncapPPPoE
			continue
		case *layers.MPLS:
			ref.Encap |= packet.EncapMPLS
			if pl := l.LayerPayload(); l.StackBottom && len(pl) > 0 && pl[0]>>4 == 0 && !inPW {
				// gopacket has no Ethernet pseudowire: the control word
				// is skipped here and gopacket decodes the frame after it.
				if len(pl) < 4 {
					return ref, false, false
				}
				inner, il4, iok := referenceIn(packet.LinkEthernet, pl[4:], decap, true)
				inner.Encap |= ref.Encap | packet.EncapPseudowire
				return inner, il4, iok
			}
			continue
		default:
			return ref, false, false
		}
		break
	}
	if i == len(ls) || !ref.Src.IsValid() {
		// no IP layer, or gopacket rejected it (it validates IPv4 options,
		// which Decode skips by their header length, as AWS must)
		return ref, false, false
	}
	for i++; i < len(ls); i++ {
		switch ls[i].(type) {
		case *gopacket.DecodeFailure:
			// gopacket gave up. Inside the IPv6 extension headers (it knows
			// fewer routing types than the generic length rule covers), the
			// protocol is unknown; otherwise only the transport is.
			switch ref.Proto {
			case 0, 43, 44, 51, 60:
				return ref, false, ref.IPVersion == 4
			}
			return ref, false, true
		case *layers.IPv6HopByHop, *layers.IPv6Routing, *layers.IPv6Destination, *layers.IPSecAH, *layers.IPv6Fragment:
			if ref.IPVersion == 4 {
				// IPv4 carries no extension headers: this is the protocol.
				return ref, false, true
			}
		}
		switch l := ls[i].(type) {
		case *layers.IPv6HopByHop:
			ref.Proto = uint8(l.NextHeader)
			continue
		case *layers.IPv6Routing:
			ref.Proto = uint8(l.NextHeader)
			continue
		case *layers.IPv6Destination:
			ref.Proto = uint8(l.NextHeader)
			continue
		case *layers.IPSecAH:
			ref.Proto = uint8(l.NextHeader)
			continue
		case *layers.IPv6Fragment:
			ref.Proto = uint8(l.NextHeader)
			ref.Fragment = true
			ref.FragOffset = uint32(l.FragmentOffset) * 8
			ref.MoreFragments = l.MoreFragments
			ref.FragID = l.Identification
			continue
		}
		// gopacket keeps a transport layer it could not fully decode, with
		// zero ports: count it only when its contents hold a whole header.
		if c := ls[i].LayerContents(); len(c) < minHeader(ls[i].LayerType()) {
			break
		}
		switch l := ls[i].(type) {
		case *layers.TCP:
			ref.HasPorts, ref.SrcPort, ref.DstPort = true, uint16(l.SrcPort), uint16(l.DstPort)
			ref.TCPFlags = tcpFlags(l)
			l4 = true
		case *layers.UDP:
			ref.HasPorts, ref.SrcPort, ref.DstPort = true, uint16(l.SrcPort), uint16(l.DstPort)
			l4 = true
			if decap && l.DstPort == 4789 {
				vx, isVX := layerAt(ls, i+1).(*layers.VXLAN)
				if !isVX {
					return ref, l4, false // gopacket could not read the VXLAN header
				}
				inner, il4, iok := referenceIn(packet.LinkEthernet, vx.LayerPayload(), false, inPW)
				inner.Encap |= ref.Encap | packet.EncapVXLAN
				inner.VNI, inner.TunnelSrc, inner.TunnelDst = vx.VNI, ref.Src, ref.Dst
				return inner, il4, iok
			}
		case *layers.SCTP:
			ref.HasPorts, ref.SrcPort, ref.DstPort = true, uint16(l.SrcPort), uint16(l.DstPort)
			l4 = true
		case *layers.ICMPv4:
			ref.HasICMP, ref.ICMPType, ref.ICMPCode = true, l.TypeCode.Type(), l.TypeCode.Code()
			l4 = true
		case *layers.ICMPv6:
			ref.HasICMP, ref.ICMPType, ref.ICMPCode = true, l.TypeCode.Type(), l.TypeCode.Code()
			l4 = true
		}
		break
	}
	return ref, l4, true
}

func layerAt(ls []gopacket.Layer, i int) gopacket.Layer {
	if i < len(ls) {
		return ls[i]
	}
	return nil
}

func minHeader(t gopacket.LayerType) int {
	switch t {
	case layers.LayerTypeTCP:
		return 20
	case layers.LayerTypeUDP:
		return 8
	case layers.LayerTypeSCTP:
		return 12
	}
	return 4
}

func tcpFlags(l *layers.TCP) uint8 {
	var f uint8
	for _, b := range []struct {
		set bool
		v   uint8
	}{{l.FIN, packet.TCPFin}, {l.SYN, packet.TCPSyn}, {l.RST, packet.TCPRst}, {l.PSH, packet.TCPPsh},
		{l.ACK, packet.TCPAck}, {l.URG, packet.TCPUrg}, {l.ECE, packet.TCPEce}, {l.CWR, packet.TCPCwr}} {
		if b.set {
			f |= b.v
		}
	}
	return f
}

// compare checks Decode against gopacket for one frame. Where gopacket could
// not decode the transport header (it rejects, for example, a TCP header
// whose data offset is below 5, and it does not look past an IPv6 Fragment
// header), only the IP-level fields are compared.
func compare(t *testing.T, f frame) (checked bool) {
	t.Helper()
	return compareWith(t, f, false)
}

// compareWith is compare, with VXLAN opened by both decoders when decap.
func compareWith(t *testing.T, f frame, decap bool) (checked bool) {
	t.Helper()
	var p packet.Packet
	d := packet.Decoder{}
	if decap {
		d.Decap = packet.DecapVXLAN
	}
	r := d.Decode(f.lt, f.data, &p)
	ref, l4, ok := reference(f.lt, f.data, decap)
	if r != packet.OK || !ok {
		return false
	}
	if decap && p.Encap&packet.EncapVXLAN != ref.Encap&packet.EncapVXLAN {
		// gopacket decodes no transport header in the first fragment of
		// an IP datagram, so it does not see the VXLAN header there.
		return false
	}
	got := p
	if !l4 {
		got.HasPorts, got.SrcPort, got.DstPort, got.TCPFlags = false, 0, 0, 0
		got.HasICMP, got.ICMPType, got.ICMPCode = false, 0, 0
	}
	if got != ref {
		t.Errorf("%v frame (decap %v) % x\n got %+v\nwant %+v", f.lt, decap, f.data[:min(len(f.data), 80)], got, ref)
	}
	return true
}

func TestAgreesWithGopacketOnPublicCaptures(t *testing.T) {
	n := 0
	for _, f := range publicFrames(t) {
		if compare(t, f) {
			n++
		}
		compareWith(t, f, true)
	}
	t.Logf("%d frames compared", n)
	if n < 1000 {
		t.Fatalf("only %d frames compared", n)
	}
}

// TestAgreesWithGopacketOnMutations flips, truncates and extends random
// bytes of the public frames; wherever both decoders accept the result, they
// must agree.
func TestAgreesWithGopacketOnMutations(t *testing.T) {
	frames := publicFrames(t)
	rng := rand.New(rand.NewPCG(1, 2))
	n := 0
	for range 100_000 {
		src := frames[rng.IntN(len(frames))]
		d := append([]byte(nil), src.data...)
		if len(d) == 0 {
			continue
		}
		for range 1 + rng.IntN(3) {
			// mostly in the headers, where the decisions are
			d[rng.IntN(min(len(d), 80))] = byte(rng.Uint32())
		}
		if rng.IntN(4) == 0 {
			d = d[:rng.IntN(len(d)+1)]
		}
		if compare(t, frame{src.lt, d}) {
			n++
		}
		if t.Failed() {
			return
		}
	}
	t.Logf("%d mutated frames compared", n)
}

// TestEncapAgreesWithGopacket: every frame of the encapsulation tables that
// the decoder reports as OK decodes to the same fields with gopacket's
// PPPoE, PPP, MPLS and VXLAN layers (the pseudowire's control word skipped
// by the reference, as gopacket has no decoder for it).
func TestEncapAgreesWithGopacket(t *testing.T) {
	gaps := map[string]string{
		"pppoe version 2, code a7": "gopacket reads a PPPoE frame by its code, and decodes only code 0 (session data)",
	}
	n := 0
	for _, f := range packet.EncapFrames() {
		if f.Reason != packet.OK {
			continue
		}
		if !compareWith(t, frame{f.LT, f.Data}, f.Decap != 0) {
			if why, ok := gaps[f.Name]; ok {
				t.Logf("%s: not compared: %s", f.Name, why)
				continue
			}
			t.Errorf("%s: not compared: gopacket finds no IP packet", f.Name)
		}
		n++
	}
	t.Logf("%d frames compared", n)
}

// TestEncapAgreesWithGopacketOnMutations flips, truncates and extends bytes
// of the encapsulation frames, with and without VXLAN opened; wherever both
// decoders accept the result, they must agree.
func TestEncapAgreesWithGopacketOnMutations(t *testing.T) {
	var frames []frame
	for _, f := range packet.EncapFrames() {
		frames = append(frames, frame{f.LT, f.Data})
	}
	rng := rand.New(rand.NewPCG(3, 4))
	n := 0
	for i := range 60_000 {
		src := frames[rng.IntN(len(frames))]
		d := append([]byte(nil), src.data...)
		if len(d) == 0 {
			continue
		}
		for range 1 + rng.IntN(3) {
			d[rng.IntN(len(d))] = byte(rng.Uint32())
		}
		if rng.IntN(4) == 0 {
			d = d[:rng.IntN(len(d)+1)]
		}
		if compareWith(t, frame{src.lt, d}, i%2 == 1) {
			n++
		}
		if t.Failed() {
			return
		}
	}
	t.Logf("%d mutated frames compared", n)
	if n < 10_000 {
		t.Errorf("only %d mutated frames compared", n)
	}
}
