package lab

import (
	"fmt"
	"net/netip"
)

// Configuration names a lab and the addresses it gives what is not in the
// topology.
type Configuration struct {
	// ID names the lab: every namespace it makes is vf-ID-something, which
	// is how `lab down` finds them after a crash. 1-12 lowercase letters
	// and digits (no '-', so one lab's prefix is never another's).
	ID string
	// Peers are the public peers' addresses, local to the internet
	// namespace (less the ENIs' public addresses); the first address of
	// the first is the namespace's default source. Default: the three
	// documentation ranges of RFC 5737, 198.51.100.0/24, 203.0.113.0/24
	// and 192.0.2.0/24.
	Peers []netip.Prefix
	// Link is the /30 joining the router (first address) to the internet
	// namespace (second address). Default 169.254.0.0/30: link-local
	// addresses, which no VPC may use and vpcflow never records.
	Link netip.Prefix
}

// DefaultID is the lab id when none is given.
const DefaultID = "lab"

// DefaultConfiguration returns the defaults documented on Configuration.
func DefaultConfiguration() Configuration {
	return Configuration{
		ID: DefaultID,
		Peers: []netip.Prefix{
			netip.MustParsePrefix("198.51.100.0/24"),
			netip.MustParsePrefix("203.0.113.0/24"),
			netip.MustParsePrefix("192.0.2.0/24"),
		},
		Link: netip.MustParsePrefix("169.254.0.0/30"),
	}
}

// ValidID checks a lab id, saying what is wrong with it.
func ValidID(id string) error {
	if id == "" || len(id) > 12 {
		return fmt.Errorf("lab id %q: want 1 to 12 lowercase letters and digits", id)
	}
	for _, c := range []byte(id) {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return fmt.Errorf("lab id %q: want 1 to 12 lowercase letters and digits, not %q", id, c)
		}
	}
	return nil
}

// Validate checks the configuration, naming the offending field.
func (c *Configuration) Validate() error {
	if err := ValidID(c.ID); err != nil {
		return fmt.Errorf("lab: ID: %v", err)
	}
	if len(c.Peers) == 0 {
		return fmt.Errorf("lab: Peers: want at least one IPv4 prefix for the public peers")
	}
	for _, p := range c.Peers {
		if !p.IsValid() || !p.Addr().Is4() || p.Bits() < 8 {
			return fmt.Errorf("lab: Peers: %v: want an IPv4 prefix of /8 or longer", p)
		}
	}
	if !c.Link.IsValid() || !c.Link.Addr().Is4() || c.Link.Bits() != 30 || c.Link.Masked() != c.Link {
		return fmt.Errorf("lab: Link: %v: want an IPv4 network of 4 addresses (a /30)", c.Link)
	}
	for _, p := range c.Peers {
		if p.Overlaps(c.Link) {
			return fmt.Errorf("lab: Link: %v overlaps the public peers' %v", c.Link, p)
		}
	}
	return nil
}

// Namespace returns the name of the lab's namespace for what (router,
// internet, or an ENI id).
func Namespace(id, what string) string { return Prefix(id) + what }

// Prefix is what the names of every namespace of lab id start with.
func Prefix(id string) string { return "vf-" + id + "-" }

// Namespaces of a lab besides the ENIs'.
const (
	RouterName   = "router"
	InternetName = "internet"
)
