// Package tsharktest runs tshark, an independent dissector, over a capture
// and counts packets and IP-layer bytes per outer 5-tuple, so tests can check
// vpcflow's decoder and its flow records against it (fragments left alone,
// outer headers only).
package tsharktest

import (
	"bytes"
	"fmt"
	"net/netip"
	"os/exec"
	"strconv"
	"strings"
)

// Tuple is an outer 5-tuple. Ports are those of TCP, UDP and SCTP; a later
// fragment has none.
type Tuple struct {
	Src, Dst netip.Addr
	Proto    uint8
	SrcPort  uint16
	DstPort  uint16
}

// Tally is what tshark counted for one tuple.
type Tally struct{ Packets, Bytes uint64 }

// Available reports whether tshark is installed.
func Available() bool {
	_, err := exec.LookPath("tshark")
	return err == nil
}

var fields = []string{
	"frame.protocols",
	"ip.src", "ip.dst", "ip.proto", "ip.len",
	"ipv6.src", "ipv6.dst", "ipv6.plen", "ipv6.nxt",
	"ipv6.hopopts.nxt", "ipv6.routing.nxt", "ipv6.fraghdr.nxt", "ipv6.dstopts.nxt", "ah.next_header",
	"tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport", "sctp.srcport", "sctp.dstport",
}

// Count runs tshark over path.
func Count(path string) (map[Tuple]Tally, error) { return CountWith(path, Options{}) }

// Options change what CountWith counts.
type Options struct {
	// Args are added to tshark's, e.g. "-d", "mpls.label==101,pwethcw"
	// for a decoding tshark cannot guess.
	Args []string
	// After names a protocol of frame.protocols ("vxlan"): in a frame that
	// has it, the IP layer counted is the first one after it instead of the
	// outer one.
	After string
}

// CountWith runs tshark over path with o.
func CountWith(path string, o Options) (map[Tuple]Tally, error) {
	frames, err := Frames(path, o)
	if err != nil {
		return nil, err
	}
	res := map[Tuple]Tally{}
	for _, f := range frames {
		if !f.IP {
			continue
		}
		tl := res[f.Tuple]
		tl.Packets++
		tl.Bytes += f.Bytes
		res[f.Tuple] = tl
	}
	return res, nil
}

// Frame is what tshark found in one frame: the tuple and IP length of the
// IP layer counted, when it found one (IP).
type Frame struct {
	Tuple
	Bytes uint64
	IP    bool
}

// Frames runs tshark over path with o and returns every frame, in order.
func Frames(path string, o Options) ([]Frame, error) {
	args := []string{"-n", "-r", path, "-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE",
		"-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,", "-E", "separator=/t"}
	args = append(args, o.Args...)
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	cmd := exec.Command("tshark", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("tshark: %v\n%s", err, stderr.String())
	}
	var res []Frame
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if line == "" {
			continue // no frame at all (frame.protocols is never empty)
		}
		k, length, ok := parseLine(line, o.After)
		res = append(res, Frame{k, length, ok})
	}
	return res, nil
}

// protoOf names, for each field, the entry of frame.protocols it belongs
// to, so the field's occurrence for a layer can be found.
var protoOf = map[string]string{
	"ip.src": "ip", "ip.dst": "ip", "ip.proto": "ip", "ip.len": "ip",
	"ipv6.src": "ipv6", "ipv6.dst": "ipv6", "ipv6.plen": "ipv6", "ipv6.nxt": "ipv6",
	"ipv6.hopopts.nxt": "ipv6.hopopts", "ipv6.routing.nxt": "ipv6.routing", "ipv6.fraghdr.nxt": "ipv6.fraghdr",
	"ipv6.dstopts.nxt": "ipv6.dstopts", "ah.next_header": "ah",
	"tcp.srcport": "tcp", "tcp.dstport": "tcp", "udp.srcport": "udp", "udp.dstport": "udp",
	"sctp.srcport": "sctp", "sctp.dstport": "sctp",
}

func parseLine(line, after string) (Tuple, uint64, bool) {
	col := strings.Split(line, "\t")
	for len(col) < len(fields) {
		col = append(col, "")
	}
	v := map[string][]string{}
	for i, f := range fields {
		if col[i] != "" {
			v[f] = strings.Split(col[i], ",")
		}
	}
	var protos []string
	if len(v["frame.protocols"]) > 0 {
		protos = strings.Split(v["frame.protocols"][0], ":")
	}
	// The IP layer counted is the first "ip" or "ipv6" in the protocol
	// stack, or the first after the protocol named by after.
	start := 0
	for i, p := range protos {
		if after != "" && p == after {
			start = i + 1
			break
		}
	}
	pos, outer := -1, ""
	for i := start; i < len(protos); i++ {
		if protos[i] == "ip" || protos[i] == "ipv6" {
			pos, outer = i, protos[i]
			break
		}
	}
	// A field's occurrence for that layer is the number of layers of its
	// protocol before it.
	before := func(proto string) int {
		n := 0
		for _, p := range protos[:max(pos, 0)] {
			if p == proto {
				n++
			}
		}
		return n
	}
	nth := func(f string, i int) string {
		if i < len(v[f]) {
			return v[f][i]
		}
		return ""
	}
	first := func(f string) string { return nth(f, before(protoOf[f])) }
	num := func(f string) uint64 {
		n, _ := strconv.ParseUint(first(f), 10, 32)
		return n
	}
	addr := func(f string) (netip.Addr, bool) {
		a, err := netip.ParseAddr(first(f))
		return a, err == nil
	}
	var k Tuple
	var length uint64
	var okS, okD bool
	switch outer {
	case "":
		return k, 0, false
	case "ip":
		k.Src, okS = addr("ip.src")
		k.Dst, okD = addr("ip.dst")
		k.Proto = uint8(num("ip.proto"))
		length = num("ip.len")
	case "ipv6":
		k.Src, okS = addr("ipv6.src")
		k.Dst, okD = addr("ipv6.dst")
		length = 40 + num("ipv6.plen")
		// Follow the extension header chain, each header's Next Header
		// field taken in order of appearance.
		used := map[string]int{}
		next := num("ipv6.nxt")
		for range 16 {
			var f string
			switch next {
			case 0:
				f = "ipv6.hopopts.nxt"
			case 43:
				f = "ipv6.routing.nxt"
			case 44:
				f = "ipv6.fraghdr.nxt"
			case 60:
				f = "ipv6.dstopts.nxt"
			case 51:
				f = "ah.next_header"
			}
			i := before(protoOf[f]) + used[f]
			if f == "" || i >= len(v[f]) {
				break
			}
			n, _ := strconv.ParseUint(v[f][i], 10, 8)
			used[f]++
			next = n
		}
		k.Proto = uint8(next)
	}
	if !okS || !okD {
		// tshark names the layer but gave up before its addresses (a
		// bogus header length, a header cut by an encapsulation's length).
		return Tuple{}, 0, false
	}
	port := func(f string) uint16 {
		n, _ := strconv.ParseUint(first(f), 10, 16)
		return uint16(n)
	}
	switch k.Proto {
	case 6:
		k.SrcPort, k.DstPort = port("tcp.srcport"), port("tcp.dstport")
	case 17:
		k.SrcPort, k.DstPort = port("udp.srcport"), port("udp.dstport")
	case 132:
		k.SrcPort, k.DstPort = port("sctp.srcport"), port("sctp.dstport")
	}
	return k, length, true
}
