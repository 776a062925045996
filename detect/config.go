package detect

import (
	"fmt"
	"slices"
	"time"
)

// Configuration holds every threshold, window and bound of the detectors.
// docs/detections.md gives the reason for each default.
type Configuration struct {
	// Window is the length of the tumbling event-time windows the
	// detectors count in. Default 10 minutes: AWS's longest aggregation
	// interval, so one flow-log record never spans more than two windows.
	Window time.Duration
	// Lateness is how far behind the latest record time a record may
	// start and still join its window; a window is judged once the latest
	// record time passes its end plus Lateness. Default 20 minutes: an S3
	// object holds records whose end falls in its 5-minute slot, and a
	// record may start up to 10 minutes before its end.
	Lateness time.Duration
	// ShortPackets: a record of at most this many packets is short, the
	// mark of a probe (a SYN, a SYN and a RST, a retry). Default 3.
	ShortPackets int64
	// ProbeBytesPerPacket: a short record of at most this many bytes per
	// packet (20 more for IPv6) is a probe; more means payload. Default
	// 64: a SYN with the usual options is 60 bytes, a RST 40.
	ProbeBytesPerPacket int64
	// EphemeralPort is the lowest client (ephemeral) port: of two ports,
	// one at or above it and one below, the lower is the service port.
	// Default 32768 (Linux; Windows and most NAT use higher ones).
	EphemeralPort int

	Portscan    ScanThresholds // one source, many ports of one host
	Sweep       ScanThresholds // a remote source, one port, many of the interfaces
	MassScan    ScanThresholds // an interface, one port, many remote hosts
	Probe       ProbeThresholds
	BruteForce  BruteForceThresholds
	Volume      BaselineThresholds // egress bytes to one remote address
	RejectStorm BaselineThresholds // REJECT records of one interface
	PortUnusual PortThresholds

	Limits Limits

	// Account and Region go into findings of interfaces whose records
	// carry no account-id or region (region is not in the default
	// format). Default: empty.
	Account, Region string
}

// ScanThresholds are the thresholds of a scan or a sweep within one window.
type ScanThresholds struct {
	// MinTargets is the least number of distinct ports (scan) or hosts
	// (sweep) one source must try. Defaults: 15 ports; 10 interfaces for
	// a sweep of the VPC, whose interfaces may be few; 50 remote hosts for
	// a mass scan from an interface, since a server that may not reach
	// out retries a few dozen addresses of its dependencies.
	MinTargets int
	// MinProbeShare is the least share of those attempts that are probes
	// (rejected, or short). Default 0.8.
	MinProbeShare float64
}

// ProbeThresholds define Recon:EC2/PortProbeUnprotectedPort.
type ProbeThresholds struct {
	// Ports are the sensitive ports whose accepted probes from public
	// addresses are reported.
	Ports []int
	// HighPorts are the ports whose probes are of high severity
	// (GuardDuty: Elasticsearch, 9200 and 9300).
	HighPorts []int
	// MinSources is the least number of distinct probing addresses in a
	// window. Default 1.
	MinSources int
}

// BruteForceThresholds define the SSH and RDP brute-force findings.
type BruteForceThresholds struct {
	SSHPorts, RDPPorts []int // default 22 and 3389, as GuardDuty
	// MinAttempts is the least number of connections (records) from one
	// address to one port of the list on one host in a window. Default 20.
	MinAttempts int
	// MaxAttemptPackets: a record of more packets is a session, not an
	// attempt. Default 100.
	MaxAttemptPackets int64
}

// BaselineThresholds define a finding on a quantity far above its own
// history (the interface's baseline).
type BaselineThresholds struct {
	// Learn is how long an interface is observed before it can be
	// reported: it must have had records in that many windows' worth of
	// windows (so an hour of activity, not an hour of calendar: an
	// interface seen once a year ago has learned nothing). Default 1 hour.
	Learn time.Duration
	// Factor: a window's quantity must exceed Factor times the baseline.
	// Default 10.
	Factor float64
	// Min is the least quantity ever reported (bytes or REJECT records).
	// Defaults: 100 MB, 500 records.
	Min float64
	// Decay multiplies the baseline at every window before the window's
	// own value can raise it (a peak that fades). Default 0.995: a peak
	// halves in about 23 hours, so a daily job stays known.
	Decay float64
}

// PortThresholds define Behavior:EC2/NetworkPortUnusual.
type PortThresholds struct {
	// Learn is how long an interface's outbound ports are learned before a
	// new one is reported, counted in windows with records as for
	// BaselineThresholds.Learn. Default 1 hour.
	Learn time.Duration
	// Promote is how long a reported port keeps being reported (its
	// finding's count grows) before it joins the learned ones. Default 1
	// hour.
	Promote time.Duration
}

// Limits bound the state of an Engine. What a bound turns away is counted
// in Stats.
type Limits struct {
	Interfaces     int // interfaces tracked; default 100000
	PairsPerWindow int // address pairs per window; default 1<<20
	PortsPerPair   int // distinct ports remembered per pair; default 4096
	OwnAddresses   int // addresses learned as an interface's own; default 8
	LearnedPorts   int // outbound ports learned per interface; default 1024
	Findings       int // findings kept; default 100000
	ProbeDetails   int // probes listed per PORT_PROBE finding; default 20
	Windows        int // detection windows remembered per finding (for evidence); default 1024
}

// DefaultConfiguration returns the defaults documented on Configuration.
func DefaultConfiguration() Configuration {
	return Configuration{
		Window:              10 * time.Minute,
		Lateness:            20 * time.Minute,
		ShortPackets:        3,
		ProbeBytesPerPacket: 64,
		EphemeralPort:       32768,
		Portscan:            ScanThresholds{MinTargets: 15, MinProbeShare: 0.8},
		Sweep:               ScanThresholds{MinTargets: 10, MinProbeShare: 0.8},
		MassScan:            ScanThresholds{MinTargets: 50, MinProbeShare: 0.8},
		Probe: ProbeThresholds{
			// Remote administration, databases, caches and search engines
			// that are commonly left open and are probed from the
			// internet all day.
			Ports:      []int{21, 22, 23, 445, 1433, 2375, 3306, 3389, 5432, 5900, 6379, 9200, 9300, 11211, 27017},
			HighPorts:  []int{9200, 9300},
			MinSources: 1,
		},
		BruteForce:  BruteForceThresholds{SSHPorts: []int{22}, RDPPorts: []int{3389}, MinAttempts: 20, MaxAttemptPackets: 100},
		Volume:      BaselineThresholds{Learn: time.Hour, Factor: 10, Min: 100e6, Decay: 0.995},
		RejectStorm: BaselineThresholds{Learn: time.Hour, Factor: 10, Min: 500, Decay: 0.995},
		PortUnusual: PortThresholds{Learn: time.Hour, Promote: time.Hour},
		Limits: Limits{
			Interfaces:     100_000,
			PairsPerWindow: 1 << 20,
			PortsPerPair:   4096,
			OwnAddresses:   8,
			LearnedPorts:   1024,
			Findings:       100_000,
			ProbeDetails:   20,
			Windows:        1024,
		},
	}
}

// validate checks c and names the first bad setting.
func (c *Configuration) validate() error {
	bad := func(name, want string, got any) error {
		return fmt.Errorf("detect: %s: want %s, got %v", name, want, got)
	}
	switch {
	case c.Window < time.Second || c.Window%time.Second != 0:
		return bad("Window", "a whole number of seconds, at least 1s", c.Window)
	case c.Lateness < 0 || c.Lateness%time.Second != 0:
		return bad("Lateness", "a whole number of seconds, 0 or more", c.Lateness)
	case c.ShortPackets < 1:
		return bad("ShortPackets", "at least 1", c.ShortPackets)
	case c.ProbeBytesPerPacket < 40:
		return bad("ProbeBytesPerPacket", "at least 40 (an IPv4 and TCP header)", c.ProbeBytesPerPacket)
	case c.EphemeralPort < 1 || c.EphemeralPort > 65535:
		return bad("EphemeralPort", "a port 1-65535", c.EphemeralPort)
	}
	for _, s := range []struct {
		name string
		t    ScanThresholds
	}{{"Portscan", c.Portscan}, {"Sweep", c.Sweep}, {"MassScan", c.MassScan}} {
		if s.t.MinTargets < 2 {
			return bad(s.name+".MinTargets", "at least 2", s.t.MinTargets)
		}
		if s.t.MinProbeShare < 0 || s.t.MinProbeShare > 1 {
			return bad(s.name+".MinProbeShare", "a share between 0 and 1", s.t.MinProbeShare)
		}
	}
	for _, p := range []struct {
		name  string
		ports []int
	}{{"Probe.Ports", c.Probe.Ports}, {"Probe.HighPorts", c.Probe.HighPorts},
		{"BruteForce.SSHPorts", c.BruteForce.SSHPorts}, {"BruteForce.RDPPorts", c.BruteForce.RDPPorts}} {
		for _, n := range p.ports {
			if n < 0 || n > 65535 {
				return bad(p.name, "ports 0-65535", n)
			}
		}
	}
	for _, n := range c.BruteForce.SSHPorts {
		if slices.Contains(c.BruteForce.RDPPorts, n) {
			return bad("BruteForce.RDPPorts", "ports not also in SSHPorts", n)
		}
	}
	switch {
	case c.Probe.MinSources < 1:
		return bad("Probe.MinSources", "at least 1", c.Probe.MinSources)
	case c.BruteForce.MinAttempts < 2:
		return bad("BruteForce.MinAttempts", "at least 2", c.BruteForce.MinAttempts)
	case c.BruteForce.MaxAttemptPackets < 1:
		return bad("BruteForce.MaxAttemptPackets", "at least 1", c.BruteForce.MaxAttemptPackets)
	case c.PortUnusual.Learn < 0 || c.PortUnusual.Promote < 0:
		return bad("PortUnusual", "durations of 0 or more", c.PortUnusual)
	}
	for _, b := range []struct {
		name string
		t    BaselineThresholds
	}{{"Volume", c.Volume}, {"RejectStorm", c.RejectStorm}} {
		switch {
		case b.t.Learn < 0:
			return bad(b.name+".Learn", "0 or more", b.t.Learn)
		case b.t.Factor < 1:
			return bad(b.name+".Factor", "at least 1", b.t.Factor)
		case b.t.Min <= 0:
			return bad(b.name+".Min", "more than 0", b.t.Min)
		case b.t.Decay <= 0 || b.t.Decay > 1:
			return bad(b.name+".Decay", "more than 0 and at most 1", b.t.Decay)
		}
	}
	l := c.Limits
	for _, x := range []struct {
		name string
		n    int
	}{{"Interfaces", l.Interfaces}, {"PairsPerWindow", l.PairsPerWindow}, {"PortsPerPair", l.PortsPerPair},
		{"OwnAddresses", l.OwnAddresses}, {"LearnedPorts", l.LearnedPorts}, {"Findings", l.Findings},
		{"ProbeDetails", l.ProbeDetails}, {"Windows", l.Windows}} {
		if x.n < 1 {
			return bad("Limits."+x.name, "at least 1", x.n)
		}
	}
	if l.Interfaces > 1<<31 {
		return bad("Limits.Interfaces", "at most 2^31", l.Interfaces)
	}
	return nil
}
