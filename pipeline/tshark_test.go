package pipeline

import (
	"bytes"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/vpcflow/vpcflow/capture"
	"github.com/vpcflow/vpcflow/deliver"
	"github.com/vpcflow/vpcflow/flow"
	"github.com/vpcflow/vpcflow/flowlog"
	"github.com/vpcflow/vpcflow/internal/tsharktest"
	"github.com/vpcflow/vpcflow/packet"
	"github.com/vpcflow/vpcflow/policy"
	"github.com/vpcflow/vpcflow/record"
	"github.com/vpcflow/vpcflow/sim"
	"github.com/vpcflow/vpcflow/topology"
)

// excludedByAWS restates docs/aws-behaviour.md, "Excluded traffic" for
// single-interface mode (no topology): DHCP/DHCPv6 and link-local traffic
// never appear in flow logs.
func excludedByAWS(k tsharktest.Tuple) bool {
	if k.Proto == 17 {
		for _, p := range []uint16{67, 68, 546, 547} {
			if k.SrcPort == p || k.DstPort == p {
				return true
			}
		}
	}
	ll := netip.MustParsePrefix("169.254.0.0/16")
	for _, a := range []netip.Addr{k.Src, k.Dst} {
		if ll.Contains(a.Unmap()) || strings.HasPrefix(a.String(), "fd00:ec2::") {
			return true
		}
	}
	return false
}

type triple struct {
	src, dst netip.Addr
	proto    uint8
}

// recordTally runs the whole pipeline over path and sums, per packet
// 5-tuple, the packets and bytes of the records over all windows.
func recordTally(t *testing.T, path string) map[tsharktest.Tuple]tsharktest.Tally {
	t.Helper()
	return recordTallyWith(t, path, 0)
}

// recordTallyWith is recordTally with the tunnels of decap opened.
func recordTallyWith(t *testing.T, path string, decap packet.Decap) map[tsharktest.Tuple]tsharktest.Tally {
	t.Helper()
	eni := &topology.ENI{ID: "eni-00000000000000001", AccountID: "123456789012", Region: "us-east-1"}
	iv := 60
	format := "${pkt-srcaddr} ${pkt-dstaddr} ${protocol} ${srcport} ${dstport} ${packets} ${bytes} ${log-status}"
	fls, err := flowlog.Build(nil, &flowlog.Spec{ResourceIds: []string{eni.ID}, ResourceType: "NetworkInterface", TrafficType: "ALL",
		LogDestinationType: "s3", LogDestination: "arn:aws:s3:::t", MaxAggregationInterval: &iv, LogFormat: format}, "test")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	lines := deliver.NewLines(&out)
	sum, err := Run(Config{Interface: eni, FlowLogs: fls, Flow: flow.DefaultConfiguration(), Policy: policy.DefaultConfig(), Decap: decap},
		Dependencies{Destination: func(*flowlog.FlowLog) flowlog.Destination { return lines }}, []string{path})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Flow.DroppedFlows != 0 {
		t.Fatalf("dropped flows: %+v", sum.Flow)
	}
	res := map[tsharktest.Tuple]tsharktest.Tally{}
	dec := record.NewDecoder()
	f := record.MustFormat(format)
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if line == "" {
			continue
		}
		var r record.Record
		if err := dec.Decode(f, []byte(line), &r); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if r.LogStatus != record.StatusOK {
			continue
		}
		k := tsharktest.Tuple{Src: r.PktSrcAddr, Dst: r.PktDstAddr, Proto: uint8(r.Protocol), SrcPort: uint16(r.SrcPort), DstPort: uint16(r.DstPort)}
		tl := res[k]
		tl.Packets += uint64(r.Packets)
		tl.Bytes += uint64(r.Bytes)
		res[k] = tl
	}
	return res
}

// TestRecordsAgreeWithTshark: for public captures, packets and IP bytes summed
// over the windows of the flow-log records equal what tshark counts, per
// 5-tuple, with the same exclusions on both sides. Non-first fragments carry
// the first fragment's ports in records ([Choice], docs/aws-behaviour.md,
// "Aggregation and capture windows") but none in tshark, so captures with
// fragments are compared per (source, destination, protocol) as well as per
// 5-tuple where no fragment is involved.
func TestRecordsAgreeWithTshark(t *testing.T) {
	if !tsharktest.Available() {
		t.Skip("tshark not installed (apt-get install tshark)")
	}
	paths, _ := filepath.Glob("../testdata/pcaps/tcpdump/*.pcap*")
	suite, _ := filepath.Glob("../testdata/pcaps/pcapng-suite/le/*.pcapng")
	paths = append(paths, suite...)
	if len(paths) < 20 {
		t.Fatalf("only %d public captures", len(paths))
	}
	// And a synthetic capture with many flows over several windows.
	simPath := filepath.Join(t.TempDir(), "sim.pcap")
	f, err := os.Create(simPath)
	if err != nil {
		t.Fatal(err)
	}
	w, _ := capture.NewWriter(f, packet.LinkEthernet)
	if _, err := sim.Generate(sim.Config{Packets: 30000, Flows: 2000, Seed: 5}, w, nil); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	f.Close()
	paths = append(paths, simPath)
	compared := 0
	for _, path := range paths {
		if strings.Contains(path, "test901") {
			continue // deliberately broken file of the pcapng suite
		}
		t.Run(filepath.Base(path), func(t *testing.T) {
			want, err := tsharktest.Count(path)
			if err != nil {
				t.Fatal(err)
			}
			for k := range want {
				if excludedByAWS(k) {
					delete(want, k)
				}
			}
			got := recordTally(t, path)
			// Per (src, dst, proto).
			sum3 := func(m map[tsharktest.Tuple]tsharktest.Tally) map[triple]tsharktest.Tally {
				out := map[triple]tsharktest.Tally{}
				for k, v := range m {
					tk := triple{k.Src, k.Dst, k.Proto}
					o := out[tk]
					o.Packets += v.Packets
					o.Bytes += v.Bytes
					out[tk] = o
				}
				return out
			}
			g3, w3 := sum3(got), sum3(want)
			var diffs []string
			for k, w := range w3 {
				if g3[k] != w {
					diffs = append(diffs, fmt.Sprintf("%v: records %+v, tshark %+v", k, g3[k], w))
				}
			}
			for k, g := range g3 {
				if _, ok := w3[k]; !ok {
					diffs = append(diffs, fmt.Sprintf("%v: records %+v, tshark none", k, g))
				}
			}
			// Per 5-tuple, for triples without port-less TCP/UDP/SCTP
			// packets (later fragments) on the tshark side.
			fragmented := map[triple]bool{}
			for k := range want {
				if (k.Proto == 6 || k.Proto == 17 || k.Proto == 132) && k.SrcPort == 0 && k.DstPort == 0 {
					fragmented[triple{k.Src, k.Dst, k.Proto}] = true
				}
			}
			for k, w := range want {
				if !fragmented[triple{k.Src, k.Dst, k.Proto}] && got[k] != w {
					diffs = append(diffs, fmt.Sprintf("%v: records %+v, tshark %+v", k, got[k], w))
				}
			}
			sort.Strings(diffs)
			if len(diffs) > 0 {
				t.Errorf("%d differences:\n%s", len(diffs), strings.Join(diffs[:min(20, len(diffs))], "\n"))
			}
			compared += len(want)
		})
	}
	t.Logf("%d tuples compared", compared)
	if compared < 2000 {
		t.Errorf("only %d tuples compared", compared)
	}
}

// TestRecordsAgreeWithTsharkDecap: with VXLAN opened, the records of a real
// VXLAN capture count the packets and IP bytes of the IP layer tshark finds
// after "vxlan" (ICMP between the tunnelled hosts; the ARP frames inside
// are not IP).
func TestRecordsAgreeWithTsharkDecap(t *testing.T) {
	if !tsharktest.Available() {
		t.Skip("tshark not installed (apt-get install tshark)")
	}
	path := "../testdata/pcaps/tcpdump/vxlan.pcap"
	want, err := tsharktest.CountWith(path, tsharktest.Options{After: "vxlan"})
	if err != nil {
		t.Fatal(err)
	}
	got := recordTallyWith(t, path, packet.DecapVXLAN)
	if len(want) == 0 || !maps.Equal(got, want) {
		t.Errorf("records %v\ntshark  %v", got, want)
	}
	t.Logf("%v", got)
}
