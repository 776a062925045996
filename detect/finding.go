package detect

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"slices"
	"strconv"
	"time"
)

// Finding types. The GuardDuty ones keep GuardDuty's meaning
// (https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_finding-types-ec2.html);
// the Vpcflow ones are vpcflow's own, for activity GuardDuty does not
// report from flow logs.
const (
	TypePortscan         = "Recon:EC2/Portscan"                   // the instance scans many ports of a remote host
	TypeInboundPortscan  = "Vpcflow:EC2/InboundPortscan"          // a remote host scans many ports of the instance
	TypeMassIPScan       = "Impact:EC2/MassIPScan"                // the instance tries one port of many hosts
	TypeInboundPortSweep = "Vpcflow:EC2/InboundPortSweep"         // a remote host tries one port of many instances
	TypePortProbe        = "Recon:EC2/PortProbeUnprotectedPort"   // accepted probes from the internet to a sensitive port
	TypeSSHBruteForce    = "UnauthorizedAccess:EC2/SSHBruteForce" // many short connections to SSH, in or out
	TypeRDPBruteForce    = "UnauthorizedAccess:EC2/RDPBruteForce" // the same for RDP
	TypeTrafficVolume    = "Behavior:EC2/TrafficVolumeUnusual"    // egress to one address far above the interface's baseline
	TypePortUnusual      = "Behavior:EC2/NetworkPortUnusual"      // outbound traffic on a port the interface never used
	TypeRejectStorm      = "Vpcflow:EC2/RejectStorm"              // REJECTs of an interface far above its baseline
)

// Types lists every finding type, GuardDuty's first.
var Types = []string{TypePortscan, TypeMassIPScan, TypePortProbe, TypeSSHBruteForce, TypeRDPBruteForce,
	TypeTrafficVolume, TypePortUnusual, TypeInboundPortscan, TypeInboundPortSweep, TypeRejectStorm}

// Severities, as GuardDuty's levels: Low 1.0-3.9, Medium 4.0-6.9, High
// 7.0-8.9.
const (
	SeverityLow    = 2
	SeverityMedium = 5
	SeverityHigh   = 8
)

// Finding is one finding in the shape `aws guardduty get-findings` prints
// (API_Finding.html, members in the CLI's PascalCase), plus vpcflow's
// x-evidence: the records behind it.
//
// Times are event times: CreatedAt and UpdatedAt are the ends of the windows
// that first and last reported the finding, not the clock, so a replay of
// the same records gives the same findings.
type Finding struct {
	AccountID     string   `json:"AccountId"`
	Arn           string   `json:"Arn"`
	CreatedAt     string   `json:"CreatedAt"`
	Description   string   `json:"Description"`
	ID            string   `json:"Id"`
	Partition     string   `json:"Partition"`
	Region        string   `json:"Region"`
	Resource      Resource `json:"Resource"`
	SchemaVersion string   `json:"SchemaVersion"`
	Service       Service  `json:"Service"`
	Severity      float64  `json:"Severity"`
	Title         string   `json:"Title"`
	Type          string   `json:"Type"`
	UpdatedAt     string   `json:"UpdatedAt"`

	// Evidence is filled by a Collector: the contributing records, at
	// most its cap, and how many more there were.
	Evidence        []Evidence `json:"x-evidence,omitempty"`
	EvidenceOmitted int        `json:"x-evidence-omitted,omitempty"`

	first, last int64   // event times, s
	windows     []int64 // indexes of the windows that reported it, ascending
	match       matcher
	probes      map[netip.Addr]bool // remote addresses listed in a PORT_PROBE action
}

// Resource is the finding's resource: always an instance's interface.
type Resource struct {
	ResourceType    string          `json:"ResourceType"`
	InstanceDetails InstanceDetails `json:"InstanceDetails"`
}

// InstanceDetails names the instance (when the records carry instance-id)
// and the interface.
type InstanceDetails struct {
	InstanceID        string             `json:"InstanceId,omitempty"`
	NetworkInterfaces []NetworkInterface `json:"NetworkInterfaces"`
}

// NetworkInterface is the interface the records were logged on.
type NetworkInterface struct {
	NetworkInterfaceID string   `json:"NetworkInterfaceId"`
	PrivateIPAddress   string   `json:"PrivateIpAddress,omitempty"`
	IPv6Addresses      []string `json:"Ipv6Addresses,omitempty"`
	SubnetID           string   `json:"SubnetId,omitempty"`
	VpcID              string   `json:"VpcId,omitempty"`
}

// Service is GuardDuty's Service member: what was seen and how often.
type Service struct {
	Action         Action          `json:"Action"`
	AdditionalInfo *AdditionalInfo `json:"AdditionalInfo,omitempty"`
	Archived       bool            `json:"Archived"`
	// Count is the number of windows in which the activity was seen: it
	// grows while the activity goes on.
	Count          int    `json:"Count"`
	DetectorID     string `json:"DetectorId"`
	EventFirstSeen string `json:"EventFirstSeen"`
	EventLastSeen  string `json:"EventLastSeen"`
	ResourceRole   string `json:"ResourceRole"`
	ServiceName    string `json:"ServiceName"`
}

// AdditionalInfo carries the detector's numbers as a JSON object in a
// string, as GuardDuty's does.
type AdditionalInfo struct {
	Value string `json:"Value"`
	Type  string `json:"Type"`
}

// Action is the activity: a network connection or a port probe.
type Action struct {
	ActionType              string                   `json:"ActionType"`
	NetworkConnectionAction *NetworkConnectionAction `json:"NetworkConnectionAction,omitempty"`
	PortProbeAction         *PortProbeAction         `json:"PortProbeAction,omitempty"`
}

// NetworkConnectionAction describes a connection (or attempts at one).
type NetworkConnectionAction struct {
	Blocked               bool         `json:"Blocked"`
	ConnectionDirection   string       `json:"ConnectionDirection"`
	LocalIPDetails        *IPDetails   `json:"LocalIpDetails,omitempty"`
	LocalNetworkInterface string       `json:"LocalNetworkInterface,omitempty"`
	LocalPortDetails      *PortDetails `json:"LocalPortDetails,omitempty"`
	Protocol              string       `json:"Protocol"`
	RemoteIPDetails       *IPDetails   `json:"RemoteIpDetails,omitempty"`
	RemotePortDetails     *PortDetails `json:"RemotePortDetails,omitempty"`
}

// PortProbeAction lists probes of a port.
type PortProbeAction struct {
	Blocked          bool              `json:"Blocked"`
	PortProbeDetails []PortProbeDetail `json:"PortProbeDetails"`
}

// PortProbeDetail is one probing address.
type PortProbeDetail struct {
	LocalIPDetails   *IPDetails   `json:"LocalIpDetails,omitempty"`
	LocalPortDetails *PortDetails `json:"LocalPortDetails,omitempty"`
	RemoteIPDetails  *IPDetails   `json:"RemoteIpDetails,omitempty"`
}

// IPDetails is an address. GuardDuty adds geolocation and the owning
// organisation, which flow logs do not carry.
type IPDetails struct {
	IPAddressV4 string `json:"IpAddressV4,omitempty"`
	IPAddressV6 string `json:"IpAddressV6,omitempty"`
}

// PortDetails is a port and its service name.
type PortDetails struct {
	Port     int    `json:"Port"`
	PortName string `json:"PortName"`
}

// Evidence is one record behind a finding: where it was read and the
// record line itself (in its source's format).
type Evidence struct {
	Source string `json:"source"`
	// Line is the record's line in a file or object; 0 for log events.
	Line int64 `json:"line,omitempty"`
	// Timestamp is a log event's timestamp (ms); 0 for files.
	Timestamp int64  `json:"timestamp,omitempty"`
	Record    string `json:"record"`
}

// Roles and directions, as GuardDuty writes them.
const (
	roleActor  = "ACTOR"
	roleTarget = "TARGET"
	dirIn      = "INBOUND"
	dirOut     = "OUTBOUND"
	dirUnknown = "UNKNOWN"
)

// timeMillis and timeSeconds are GuardDuty's two time layouts: creation and
// update times carry milliseconds, event times do not.
const (
	timeMillis  = "2006-01-02T15:04:05.000Z"
	timeSeconds = "2006-01-02T15:04:05Z"
)

func formatTime(s int64, layout string) string { return time.Unix(s, 0).UTC().Format(layout) }

func ipDetails(a netip.Addr) *IPDetails {
	if !a.IsValid() {
		return nil
	}
	a = a.Unmap()
	if a.Is4() {
		return &IPDetails{IPAddressV4: a.String()}
	}
	return &IPDetails{IPAddressV6: a.String()}
}

func portDetails(p int32) *PortDetails {
	if p < 0 {
		return nil
	}
	return &PortDetails{Port: int(p), PortName: portName(p)}
}

// portName is GuardDuty's name of a well-known port; others are "Unknown",
// as GuardDuty writes them.
func portName(p int32) string {
	switch p {
	case 21:
		return "FTP"
	case 22:
		return "SSH"
	case 23:
		return "Telnet"
	case 25:
		return "SMTP"
	case 53:
		return "DNS"
	case 80:
		return "HTTP"
	case 110:
		return "POP3"
	case 143:
		return "IMAP"
	case 443:
		return "HTTPS"
	case 445:
		return "SMB"
	case 1433:
		return "MSSQL"
	case 3306:
		return "MySQL"
	case 3389:
		return "RDP"
	case 5432:
		return "PostgreSQL"
	case 6379:
		return "Redis"
	case 9200, 9300:
		return "Elasticsearch"
	case 27017:
		return "MongoDB"
	}
	return "Unknown"
}

func protocolName(p uint8) string {
	switch p {
	case protoTCP:
		return "TCP"
	case protoUDP:
		return "UDP"
	case protoICMP:
		return "ICMP"
	case protoICMPv6:
		return "ICMPV6"
	case protoSCTP:
		return "SCTP"
	case 255:
		return "Unknown"
	}
	return strconv.Itoa(int(p))
}

// hexID is the first 32 hex digits of the SHA-256 of parts: GuardDuty's
// ids are 32 hex digits, and deriving them from the finding's identity
// makes a batch run and a stream name the same finding alike.
func hexID(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// store holds the findings by id: a detection of an existing finding
// updates it (count, last seen, update time) instead of adding one.
type store struct {
	limits  Limits
	byID    map[string]*Finding
	dropped uint64
}

func newStore(l Limits) *store { return &store{limits: l, byID: make(map[string]*Finding)} }

// upsert records detection d of window wi (which ends at t); it returns
// the finding, or nil when d is new and the store is full.
func (s *store) upsert(d *detection, wi, t int64) *Finding {
	id := hexID(d.typ, d.key)
	if f, ok := s.byID[id]; ok {
		f.Service.Count++
		f.UpdatedAt = formatTime(t, timeMillis)
		f.first, f.last = min(f.first, d.first), max(f.last, d.last)
		f.Service.EventFirstSeen = formatTime(f.first, timeSeconds)
		f.Service.EventLastSeen = formatTime(f.last, timeSeconds)
		f.Severity = max(f.Severity, d.severity)
		f.Service.AdditionalInfo = d.additionalInfo()
		if nca := f.Service.Action.NetworkConnectionAction; nca != nil {
			// Blocked stays true only while every occurrence was.
			nca.Blocked = nca.Blocked && d.blocked
		}
		if pa := f.Service.Action.PortProbeAction; pa != nil {
			for _, p := range d.probes {
				if !f.probes[p.remote] && len(pa.PortProbeDetails) < s.limits.ProbeDetails {
					f.probes[p.remote] = true
					pa.PortProbeDetails = append(pa.PortProbeDetails, p.detail())
				}
			}
		}
		if n := len(f.windows); n < s.limits.Windows && f.windows[n-1] < wi {
			f.windows = append(f.windows, wi)
		}
		return f
	}
	if len(s.byID) >= s.limits.Findings {
		s.dropped++
		return nil
	}
	f := d.finding(id, t, s.limits)
	f.windows = []int64{wi}
	s.byID[id] = f
	return f
}

// sorted returns the findings ordered by event time, then type and id.
func (s *store) sorted() []*Finding {
	out := make([]*Finding, 0, len(s.byID))
	for _, f := range s.byID {
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b *Finding) int {
		return cmp.Or(cmp.Compare(a.first, b.first), cmp.Compare(a.Type, b.Type), cmp.Compare(a.ID, b.ID))
	})
	return out
}
