package topology

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// ParsePrefix parses a CIDR such as 10.0.1.0/24 or 2600:1f18::/56, with
// errors that say what is wrong in the user's terms (netip's name the Go
// function). Host bits may be set: 10.0.1.5/24 is 10.0.1.5 in 10.0.1.0/24;
// see ParseNetwork for CIDRs that must name a network.
func ParsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	addr, length, ok := strings.Cut(s, "/")
	if !ok {
		return netip.Prefix{}, fmt.Errorf("%q is not a CIDR: want ADDRESS/LENGTH, such as 10.0.1.0/24", s)
	}
	a, err := netip.ParseAddr(addr)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("%q is not a CIDR: %q is not an IP address", s, addr)
	}
	n, err := strconv.Atoi(length)
	if err != nil || length == "" || length[0] == '+' || length[0] == '-' {
		return netip.Prefix{}, fmt.Errorf("%q is not a CIDR: the prefix length %q is not a number from 0 to %d", s, length, a.BitLen())
	}
	if n > a.BitLen() {
		return netip.Prefix{}, fmt.Errorf("%q is not a CIDR: prefix length %d is more than %d, the bits of an %s address", s, n, a.BitLen(), family(a))
	}
	if len(length) > 1 && length[0] == '0' {
		return netip.Prefix{}, fmt.Errorf("%q is not a CIDR: the prefix length %q has a leading zero", s, length)
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		// what netip refuses beyond the cases above (an IPv4-mapped IPv6
		// address with a length over 32 is one)
		return netip.Prefix{}, fmt.Errorf("%q is not a CIDR", s)
	}
	return p, nil
}

// ParseNetwork parses a CIDR that names a network, as the CIDRs of VPCs and
// subnets do: its host bits must be zero. describe-vpcs and describe-subnets
// always print them so, and the VPC console refuses a subnet CIDR such as
// 10.0.0.8/28 ("Must be valid Ipv4 CIDR"): a file that has one was written
// by hand, and whether 10.0.1.5/24 meant 10.0.1.0/24 cannot be known.
func ParseNetwork(s string) (netip.Prefix, error) {
	p, err := ParsePrefix(s)
	if err != nil {
		return p, err
	}
	if m := p.Masked(); m != p {
		return netip.Prefix{}, fmt.Errorf("%q is not a network CIDR: host bits are set (the network of %s is %s)", strings.TrimSpace(s), p.Addr(), m)
	}
	return p, nil
}

func family(a netip.Addr) string {
	if a.Is4() {
		return "IPv4"
	}
	return "IPv6"
}
