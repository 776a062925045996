package deliver

import (
	"io"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/vpcflow/vpcflow/flow"
	"github.com/vpcflow/vpcflow/flowlog"
	"github.com/vpcflow/vpcflow/record"
	"github.com/vpcflow/vpcflow/topology"
)

// windowFlows is a closed 600 s window of n flows of one interface, in the
// aggregator's order (start, end, then key): mostly IPv4 TCP and UDP
// between the interface and many peers, both directions, a tenth IPv6.
func windowFlows(n int) *flow.Window {
	const start = 1767225600 // 2026-01-01T00:00:00Z
	fs := make([]flow.Flow, n)
	self4, self6 := netip.MustParseAddr("10.0.1.10"), netip.MustParseAddr("2001:db8:1::10")
	for i := range fs {
		peer, self := netip.AddrFrom4([4]byte{byte(1 + i%200), byte(i >> 16), byte(i >> 8), byte(i)}), self4
		if i%10 == 9 {
			b := self6.As16()
			b[12], b[13], b[14], b[15] = 0xbe, byte(i>>16), byte(i>>8), byte(i)
			peer, self = netip.AddrFrom16(b), self6
		}
		src, dst, dir := peer, self, uint8(record.Ingress)
		if i%2 == 1 {
			src, dst, dir = self, peer, uint8(record.Egress)
		}
		proto := uint8(6)
		if i%5 == 4 {
			proto = 17
		}
		s := int64(start + i*600/n)
		fs[i] = flow.Flow{
			Key: flow.Key{Src: src.As16(), Dst: dst.As16(), V4: src.Is4(), SrcPort: uint16(1024 + i%60000), DstPort: 443,
				Proto: proto, Dir: dir, Action: uint8(record.ActionAccept)},
			Packets: uint64(1 + i%90), Bytes: uint64(40 + i%90000), Start: s, End: s + int64(i%60), TCPFlags: uint8(i % 32),
		}
	}
	return &flow.Window{Interval: 600, Start: start, Flows: flow.FlowsOf(fs)}
}

// BenchmarkWindowToObjects measures the close of a large window: its flows
// become records (flowlog.Fanout), text lines and gzip objects (Router,
// S3Dir), as `vpcflow pcap --out` does with a 600 s window, at the end of
// which every record comes at once. ns/op is per window of 200 000 flows.
func BenchmarkWindowToObjects(b *testing.B) {
	formats := map[string]*record.Format{
		"default": record.DefaultFormat,
		"custom": record.MustFormat("${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} " +
			"${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${vpc-id} ${subnet-id} ${instance-id} ${tcp-flags} ${type} " +
			"${pkt-srcaddr} ${pkt-dstaddr} ${region} ${az-id} ${flow-direction} ${traffic-path} ${x-rule}"),
	}
	const n = 200_000
	w := windowFlows(n)
	eni := &topology.ENI{ID: "eni-00000000000000001", AccountID: "123456789012", Region: "us-east-1",
		VPCID: "vpc-0f1e2d3c4b5a69788", SubnetID: "subnet-0123abcd4567ef890", AZID: "use1-az1",
		PrimaryIPv4: netip.MustParseAddr("10.0.1.10")}
	// "stdout" is the default format printed (vpcflow pcap --stdout): kept
	// until the end, sorted, written.
	for _, name := range []string{"default", "custom", "stdout"} {
		b.Run(name, func(b *testing.B) {
			format := formats[name]
			if format == nil {
				format = record.DefaultFormat
			}
			fl := &flowlog.FlowLog{ID: "fl-1", TrafficType: "ALL", MaxAggregationInterval: 600, OwnerID: "123456789012",
				Region: "us-east-1", Format: format, DestinationType: flowlog.DestS3, Bucket: "b"}
			root := b.TempDir()
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				r := &Router{BucketRoot: func(string) string { return root }}
				if name == "stdout" {
					r.Stdout = io.Discard
				}
				fan := flowlog.NewFanout([]flowlog.Capture{{ENI: eni, Interval: 600, FlowLogs: []*flowlog.FlowLog{fl}}},
					func(*flowlog.FlowLog) flowlog.Destination { return r })
				if err := fan.Window(w); err != nil {
					b.Fatal(err)
				}
				if err := fan.Close(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "records/s")
			// On a shared machine the wall time swings with the load; the
			// CPU of the whole process (the compressing goroutines too)
			// much less.
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N*n), "cpu-ns/record")
		})
	}
}

// cpuTime is the user and system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
