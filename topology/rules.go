package topology

import (
	"fmt"
	"strconv"
	"strings"
)

// IP protocol numbers the rule parser names.
const (
	ProtoICMP   = 1
	ProtoTCP    = 6
	ProtoUDP    = 17
	ProtoICMPv6 = 58
)

// ParseProtocol parses an SG IpProtocol or NACL Protocol value: "-1" (all),
// "tcp", "udp", "icmp", "icmpv6" (any case) or a number 0-255. It returns
// Any for all protocols.
func ParseProtocol(s string) (int, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "-1", "all":
		return Any, nil
	case "tcp":
		return ProtoTCP, nil
	case "udp":
		return ProtoUDP, nil
	case "icmp":
		return ProtoICMP, nil
	case "icmpv6":
		return ProtoICMPv6, nil
	case "":
		return 0, fmt.Errorf("missing protocol: want -1, tcp, udp, icmp, icmpv6 or a number 0-255")
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 || n > 255 {
		return 0, fmt.Errorf("bad protocol %q: want -1, tcp, udp, icmp, icmpv6 or a number 0-255", s)
	}
	return n, nil
}

// ProtocolName is the inverse of ParseProtocol for messages: "tcp", "-1", "50".
func ProtocolName(p int) string {
	switch p {
	case Any:
		return "-1"
	case ProtoTCP:
		return "tcp"
	case ProtoUDP:
		return "udp"
	case ProtoICMP:
		return "icmp"
	case ProtoICMPv6:
		return "icmpv6"
	}
	return strconv.Itoa(p)
}

// sgPorts validates FromPort/ToPort of an SG permission for its protocol and
// returns the range as SGRule stores it. AWS semantics: ports only mean
// something for tcp/udp (0-65535, from <= to) and icmp/icmpv6 (type and
// code, -1 = all); for every other protocol they are ignored.
func sgPorts(proto int, from, to *int) (int, int, error) {
	switch proto {
	case ProtoTCP, ProtoUDP:
		if from == nil || to == nil {
			if from == nil && to == nil {
				return 0, 65535, nil
			}
			return 0, 0, fmt.Errorf("FromPort and ToPort go together for %s", ProtocolName(proto))
		}
		if *from == Any && *to == Any {
			return 0, 65535, nil
		}
		if *from < 0 || *from > 65535 || *to < 0 || *to > 65535 {
			return 0, 0, fmt.Errorf("port out of range 0-65535: %d-%d", *from, *to)
		}
		if *from > *to {
			return 0, 0, fmt.Errorf("FromPort %d is above ToPort %d", *from, *to)
		}
		return *from, *to, nil
	case ProtoICMP, ProtoICMPv6:
		f, t := Any, Any
		if from != nil {
			f = *from
		}
		if to != nil {
			t = *to
		}
		if f < Any || f > 255 || t < Any || t > 255 {
			return 0, 0, fmt.Errorf("ICMP type/code out of range -1..255: %d/%d", f, t)
		}
		if f == Any && t != Any {
			return 0, 0, fmt.Errorf("an ICMP code (ToPort %d) needs a type (FromPort)", t)
		}
		return f, t, nil
	}
	return Any, Any, nil
}
