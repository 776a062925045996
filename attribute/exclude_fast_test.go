package attribute

import (
	"net/netip"
	"testing"
)

// TestLinkLocalMatchesPrefixes: the byte compares of linkLocal agree with
// the prefix and the list they stand for, on the edges of each.
func TestLinkLocalMatchesPrefixes(t *testing.T) {
	for _, s := range []string{
		"169.254.0.0", "169.254.169.254", "169.254.255.255", "169.253.255.255", "169.255.0.0", "10.0.0.1",
		"fd00:ec2::254", "fd00:ec2::123", "fd00:ec2::253", "fd00:ec2::255", "fd00:ec2::1:254", "fd00:ec3::254",
		"::ffff:169.254.1.1", "2001:db8::1", "fe80::1", "::", "0.0.0.0", "fd00:ec2::254%eth0",
	} {
		a := netip.MustParseAddr(s)
		want := linkLocal4.Contains(a)
		for _, e := range ec2v6 {
			want = want || a == e
		}
		if got := linkLocal(a); got != want {
			t.Errorf("linkLocal(%s) = %v, want %v", s, got, want)
		}
	}
}
