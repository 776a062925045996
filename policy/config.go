package policy

import (
	"fmt"
	"time"
)

// Config sizes the connection-tracking table and sets the idle timeouts
// used when an ENI's ConnectionTrackingConfiguration says nothing.
type Config struct {
	// MaxTracked bounds the tracked connections over all ENIs; when full the
	// least recently used entry is dropped and Stats.Evicted counts it.
	MaxTracked int
	// Shards splits the table so concurrent callers rarely share a lock;
	// rounded up to a power of two.
	Shards int

	TCPEstablishedTimeout time.Duration // 432000 s
	UDPTimeout            time.Duration // 30 s
	UDPStreamTimeout      time.Duration // 180 s, once the flow was seen both ways
	OtherTimeout          time.Duration // ICMP and other protocols: 30 s
	// ClosedTimeout is how long a TCP connection stays tracked after a RST
	// or a FIN in each direction ([Choice]: 5 s; docs/aws-behaviour.md,
	// "Security groups and network ACLs").
	ClosedTimeout time.Duration
	// ClosedRejectTimeout is how long after that a closed connection is
	// remembered: its packets other than a new SYN are REJECT, then it is
	// forgotten and a late packet is judged by the rules as a new one
	// ([Choice]: 120 s, Linux's TIME_WAIT).
	ClosedRejectTimeout time.Duration
}

// DefaultConfig returns AWS's default idle timeouts (docs/aws-behaviour.md,
// "Connection tracking and timeouts") and a table of 1 M connections (about
// 100 MB at full occupancy).
func DefaultConfig() Config {
	return Config{
		MaxTracked:            1 << 20,
		Shards:                64,
		TCPEstablishedTimeout: 432000 * time.Second,
		UDPTimeout:            30 * time.Second,
		UDPStreamTimeout:      180 * time.Second,
		OtherTimeout:          30 * time.Second,
		ClosedTimeout:         5 * time.Second,
		ClosedRejectTimeout:   120 * time.Second,
	}
}

// withDefaults fills zero fields from DefaultConfig and rejects negative ones.
func (c Config) withDefaults() (Config, error) {
	d := DefaultConfig()
	if c.MaxTracked < 0 {
		return c, fmt.Errorf("policy: MaxTracked: must not be negative, got %d", c.MaxTracked)
	}
	if c.Shards < 0 {
		return c, fmt.Errorf("policy: Shards: must not be negative, got %d", c.Shards)
	}
	for _, f := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"TCPEstablishedTimeout", &c.TCPEstablishedTimeout, d.TCPEstablishedTimeout},
		{"UDPTimeout", &c.UDPTimeout, d.UDPTimeout},
		{"UDPStreamTimeout", &c.UDPStreamTimeout, d.UDPStreamTimeout},
		{"OtherTimeout", &c.OtherTimeout, d.OtherTimeout},
		{"ClosedTimeout", &c.ClosedTimeout, d.ClosedTimeout},
		{"ClosedRejectTimeout", &c.ClosedRejectTimeout, d.ClosedRejectTimeout},
	} {
		if *f.v < 0 {
			return c, fmt.Errorf("policy: %s: must not be negative, got %v", f.name, *f.v)
		}
		if *f.v == 0 {
			*f.v = f.def
		}
	}
	if c.MaxTracked == 0 {
		c.MaxTracked = d.MaxTracked
	}
	if c.Shards == 0 {
		c.Shards = d.Shards
	}
	n := 1
	for n < c.Shards {
		n <<= 1
	}
	c.Shards = n
	if c.MaxTracked < c.Shards {
		c.Shards = 1
	}
	return c, nil
}
