package detect

import (
	"net/netip"
	"strings"

	"github.com/vpcflow/vpcflow/record"
)

// Flow is what the detectors read of one flow-log record: a few fields out
// of the sixty of record.Record, so that a stream of them is cheap to hold
// and to pass (benchmarks keep millions in memory).
type Flow struct {
	Interface                              string
	Account, Region, VPC, Subnet, Instance string
	Src, Dst                               netip.Addr
	SrcPort, DstPort                       int32 // -1: absent
	Protocol                               int16 // -1: absent
	Packets, Bytes                         int64 // -1: absent
	Start, End                             int64 // Unix seconds; -1: absent
	Action                                 record.ActionValue
	Direction                              record.Direction
	Status                                 record.Status
	// Have says which fields the record's format has: a detector whose
	// fields a format lacks says so once (Engine.Notes) instead of
	// counting every record as incomplete.
	Have Fields
}

// Fields is a set of the record fields the detectors read.
type Fields uint16

// The fields the detectors read.
const (
	FieldInterface Fields = 1 << iota
	FieldSrcAddr
	FieldDstAddr
	FieldSrcPort
	FieldDstPort
	FieldProtocol
	FieldPackets
	FieldBytes
	FieldStart
	FieldAction
	FieldDirection
)

var fieldNames = []struct {
	f     Fields
	field record.Field
}{
	{FieldInterface, record.InterfaceID}, {FieldSrcAddr, record.SrcAddr}, {FieldDstAddr, record.DstAddr},
	{FieldSrcPort, record.SrcPort}, {FieldDstPort, record.DstPort}, {FieldProtocol, record.Protocol},
	{FieldPackets, record.Packets}, {FieldBytes, record.Bytes}, {FieldStart, record.Start},
	{FieldAction, record.Action}, {FieldDirection, record.FlowDirection},
}

// FieldsOf is the set of detector fields that format f has.
func FieldsOf(f *record.Format) Fields {
	var have Fields
	for _, n := range fieldNames {
		if f.Has(n.field) {
			have |= n.f
		}
	}
	return have
}

// String lists the AWS names of the fields in s.
func (s Fields) String() string {
	var names []string
	for _, n := range fieldNames {
		if s&n.f != 0 {
			names = append(names, n.field.Name())
		}
	}
	return strings.Join(names, ", ")
}

// Converter fills Flows from records, working out the fields of a format
// once rather than per record. The zero value is ready to use.
type Converter struct {
	format *record.Format
	have   Fields
	// missing lists the fields of record.Record a Flow reads that the
	// format lacks: a record built in memory (the service's, before it is
	// written) carries every field, but the detectors must judge what the
	// delivered records say, as a batch run over them does.
	missing []record.Field
}

// flowFields are the record fields a Flow reads.
var flowFields = []record.Field{
	record.InterfaceID, record.AccountID, record.Region, record.VPCID, record.SubnetID, record.InstanceID,
	record.SrcAddr, record.DstAddr, record.SrcPort, record.DstPort, record.Protocol, record.Packets,
	record.Bytes, record.Start, record.End, record.Action, record.FlowDirection, record.LogStatus,
}

// Flow fills out with the fields of r, a record in format f: fields f
// does not have are absent, whatever r holds.
func (c *Converter) Flow(f *record.Format, r *record.Record, out *Flow) {
	if f != c.format {
		c.format, c.have = f, FieldsOf(f)
		c.missing = c.missing[:0]
		for _, fd := range flowFields {
			if !f.Has(fd) {
				c.missing = append(c.missing, fd)
			}
		}
	}
	*out = Flow{
		Interface: r.InterfaceID, Account: r.AccountID, Region: r.Region, VPC: r.VPCID,
		Subnet: r.SubnetID, Instance: r.InstanceID,
		Src: r.SrcAddr, Dst: r.DstAddr,
		SrcPort: port(r.SrcPort), DstPort: port(r.DstPort), Protocol: int16(min(r.Protocol, 255)),
		Packets: r.Packets, Bytes: r.Bytes, Start: r.Start, End: r.End,
		Action: r.Action, Direction: r.FlowDirection, Status: r.LogStatus,
		Have: c.have,
	}
	if r.Protocol < 0 {
		out.Protocol = -1
	}
	for _, fd := range c.missing {
		out.clear(fd)
	}
}

// clear makes field fd of f absent.
func (f *Flow) clear(fd record.Field) {
	switch fd {
	case record.InterfaceID:
		f.Interface = ""
	case record.AccountID:
		f.Account = ""
	case record.Region:
		f.Region = ""
	case record.VPCID:
		f.VPC = ""
	case record.SubnetID:
		f.Subnet = ""
	case record.InstanceID:
		f.Instance = ""
	case record.SrcAddr:
		f.Src = netip.Addr{}
	case record.DstAddr:
		f.Dst = netip.Addr{}
	case record.SrcPort:
		f.SrcPort = -1
	case record.DstPort:
		f.DstPort = -1
	case record.Protocol:
		f.Protocol = -1
	case record.Packets:
		f.Packets = -1
	case record.Bytes:
		f.Bytes = -1
	case record.Start:
		f.Start = -1
	case record.End:
		f.End = -1
	case record.Action:
		f.Action = record.ActionNone
	case record.FlowDirection:
		f.Direction = record.DirectionNone
	case record.LogStatus:
		f.Status = record.StatusNone
	}
}

// port narrows a record port (0-65535, or Absent) to an int32.
func port(n int64) int32 {
	if n < 0 || n > 65535 {
		return -1
	}
	return int32(n)
}

// Protocol numbers the detectors name (IANA).
const (
	protoICMP   = 1
	protoTCP    = 6
	protoUDP    = 17
	protoICMPv6 = 58
	protoSCTP   = 132
)

// hasPorts reports whether records of protocol p carry real ports (ICMP
// records have "0 0").
func hasPorts(p int16) bool { return p == protoTCP || p == protoUDP || p == protoSCTP }

// portsOf reports whether f has a protocol with ports and both ports in
// range (a Flow built by hand may hold anything).
func portsOf(f *Flow) bool {
	return hasPorts(f.Protocol) && f.SrcPort >= 0 && f.DstPort >= 0 && f.SrcPort <= 65535 && f.DstPort <= 65535
}

// classifier holds the settings every per-record test needs.
type classifier struct {
	ephemeral  int32
	short      int64
	probeBytes int64
}

// request reports whether a record from port sp to port dp goes from a
// client to a service (dp is the service port) rather than back. Of an
// ephemeral port and a lower one, the ephemeral one is the client's; of
// two of the same kind, the lower port is the service's. Flow logs carry no
// connection state, and TCP flags are OR-ed over a window (the SYN of the
// opener and the SYN-ACK of the answer both show SYN and ACK), so ports are
// all there is.
func (c classifier) request(sp, dp int32) bool {
	se, de := sp >= c.ephemeral, dp >= c.ephemeral
	if se != de {
		return se
	}
	return dp <= sp
}

// certain reports whether the ports of a record leave no doubt which is
// the service's: one ephemeral and the other not, or one well-known (below
// 1024) and the other not. A server on port 8443 answering a client behind
// NAT on port 2000 is not certain: request would take the client's port for
// the service.
func (c classifier) certain(sp, dp int32) bool {
	return (sp >= c.ephemeral) != (dp >= c.ephemeral) || (sp < 1024) != (dp < 1024)
}

// probe reports whether f looks like a probe: rejected, or short and made
// of packets without payload (SYN, RST: the tail of an idle session is
// short too, but carries data).
func (c classifier) probe(f *Flow) bool {
	if f.Action == record.ActionReject {
		return true
	}
	if f.Packets < 0 || f.Packets > c.short {
		return false
	}
	if f.Bytes < 0 {
		return true
	}
	per := c.probeBytes
	if f.Src.Is6() && !f.Src.Is4In6() {
		per += 20 // the IPv6 header is 20 bytes longer
	}
	return f.Bytes <= f.Packets*per
}

// cgnat is the shared address space of carrier-grade NAT (RFC 6598): not
// private by netip's definition, but never an internet host either.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// public reports whether a is an internet address: global unicast and
// neither private (RFC 1918, RFC 4193) nor shared (RFC 6598). The
// documentation ranges count as public: AWS's examples and vpcflow's
// simulator use them for internet hosts.
func public(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsValid() && a.IsGlobalUnicast() && !a.IsPrivate() && !(a.Is4() && cgnat.Contains(a))
}
