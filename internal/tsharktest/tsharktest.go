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
func Count(path string) (map[Tuple]Tally, error) {
	args := []string{"-n", "-r", path, "-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE",
		"-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,", "-E", "separator=/t"}
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
	res := map[Tuple]Tally{}
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if line == "" {
			continue
		}
		k, length, ok := parseLine(line)
		if !ok {
			continue
		}
		tl := res[k]
		tl.Packets++
		tl.Bytes += length
		res[k] = tl
	}
	return res, nil
}

func parseLine(line string) (Tuple, uint64, bool) {
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
	first := func(f string) string {
		if len(v[f]) == 0 {
			return ""
		}
		return v[f][0]
	}
	num := func(f string) uint64 {
		n, _ := strconv.ParseUint(first(f), 10, 32)
		return n
	}
	// The outer IP layer is the first "ip" or "ipv6" in the protocol stack.
	var outer string
	for _, p := range strings.Split(first("frame.protocols"), ":") {
		if p == "ip" || p == "ipv6" {
			outer = p
			break
		}
	}
	var k Tuple
	var length uint64
	switch outer {
	case "":
		return k, 0, false
	case "ip":
		k.Src, k.Dst = netip.MustParseAddr(first("ip.src")), netip.MustParseAddr(first("ip.dst"))
		k.Proto = uint8(num("ip.proto"))
		length = num("ip.len")
	case "ipv6":
		k.Src, k.Dst = netip.MustParseAddr(first("ipv6.src")), netip.MustParseAddr(first("ipv6.dst"))
		length = 40 + num("ipv6.plen")
		// Follow the outer extension header chain, each header's Next Header
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
			if f == "" || used[f] >= len(v[f]) {
				break
			}
			n, _ := strconv.ParseUint(v[f][used[f]], 10, 8)
			used[f]++
			next = n
		}
		k.Proto = uint8(next)
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
