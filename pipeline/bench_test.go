package pipeline

import (
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/gopacket/gopacket/pcapgo"

	"github.com/vpcflow/vpcflow/attribute"
	"github.com/vpcflow/vpcflow/capture"
	"github.com/vpcflow/vpcflow/deliver"
	"github.com/vpcflow/vpcflow/flow"
	"github.com/vpcflow/vpcflow/flowlog"
	"github.com/vpcflow/vpcflow/internal/gopacketbase"
	"github.com/vpcflow/vpcflow/packet"
	"github.com/vpcflow/vpcflow/policy"
	"github.com/vpcflow/vpcflow/sim"
	"github.com/vpcflow/vpcflow/topology"
)

// The benchmark capture is synthetic (package sim). Its size comes from
// VPCFLOW_BENCH_PACKETS / VPCFLOW_BENCH_FLOWS (defaults small enough for CI's
// single run; a full-size run uses 5000000 / 200000).
func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

var benchCapture = sync.OnceValues(func() (string, error) { return makeBenchCapture("", nil) })

// exampleTopology is the documented example network.
const exampleTopology = "../examples/topology.yaml"

var benchTopoCapture = sync.OnceValues(func() (string, error) {
	t, err := topology.Load(exampleTopology)
	if err != nil {
		return "", err
	}
	eps, err := sim.EndpointsFromTopology(t)
	if err != nil {
		return "", err
	}
	return makeBenchCapture("-topology", eps)
})

func makeBenchCapture(suffix string, eps []sim.Endpoint) (string, error) {
	packets, flows := envInt("VPCFLOW_BENCH_PACKETS", 200_000), envInt("VPCFLOW_BENCH_FLOWS", 20_000)
	path := filepath.Join(os.TempDir(), fmt.Sprintf("vpcflow-bench-%d-%d%s.pcap", packets, flows, suffix))
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	f, err := os.Create(path + ".tmp")
	if err != nil {
		return "", err
	}
	w, err := capture.NewWriter(f, packet.LinkEthernet)
	if err != nil {
		return "", err
	}
	if _, err := sim.Generate(sim.Config{Packets: int64(packets), Flows: flows, Seed: 1, SnapLen: 128, Endpoints: eps}, w, nil); err != nil {
		return "", err
	}
	if err := w.Flush(); err != nil {
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	return path, os.Rename(path+".tmp", path)
}

type memFrame struct {
	ts   int64
	data []byte
}

// loadFrames reads the benchmark capture into memory so decode benchmarks
// measure decoding, not the disk.
var loadFrames = sync.OnceValues(func() ([]memFrame, error) {
	path, err := benchCapture()
	if err != nil {
		return nil, err
	}
	r, err := capture.Open(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var out []memFrame
	for {
		fr, err := r.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, memFrame{fr.TimestampNanos, append([]byte(nil), fr.Data...)})
	}
})

func frames(b *testing.B) []memFrame {
	fs, err := loadFrames()
	if err != nil {
		b.Fatal(err)
	}
	return fs
}

func reportPPS(b *testing.B, packets int) {
	b.ReportMetric(float64(packets)*float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
}

// BenchmarkDecode: packet.Decode alone over in-memory frames.
func BenchmarkDecode(b *testing.B) {
	fs := frames(b)
	var p packet.Packet
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, f := range fs {
			packet.Decode(packet.LinkEthernet, f.data, &p)
		}
	}
	reportPPS(b, len(fs))
}

type baseKey struct {
	src, dst     netip.Addr
	sport, dport uint16
	proto        uint8
}

type baseVal struct {
	packets, bytes uint64
	start, end     int64
}

// baselineParser is the baseline the pipeline is measured against: gopacket's
// DecodingLayerParser (internal/gopacketbase), giving the 5-tuple.
type baselineParser struct{ p *gopacketbase.Parser }

func newBaselineParser() *baselineParser { return &baselineParser{gopacketbase.New()} }

func (b *baselineParser) decode(data []byte, k *baseKey) (uint32, bool) {
	var t gopacketbase.Tuple
	ok := b.p.Decode(data, &t)
	*k = baseKey{t.Src, t.Dst, t.SrcPort, t.DstPort, t.Proto}
	return t.IPLen, ok
}

// BenchmarkDecodeBaselineGopacket: the same frames through DecodingLayerParser.
func BenchmarkDecodeBaselineGopacket(b *testing.B) {
	fs := frames(b)
	p := newBaselineParser()
	var k baseKey
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, f := range fs {
			p.decode(f.data, &k)
		}
	}
	reportPPS(b, len(fs))
}

// BenchmarkDecodeAggregate: decode, attribute (single interface) and the
// sharded aggregator, over in-memory frames.
func BenchmarkDecodeAggregate(b *testing.B) {
	fs := frames(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var flows uint64
		agg, _ := flow.New(flow.DefaultConfiguration(), func(w *flow.Window) { flows += uint64(w.Flows.Len()) })
		id, _ := agg.AddCapture(60)
		attr := attribute.New(attribute.Config{Captures: [][]uint32{{id}}, LocalPrefixes: []netip.Prefix{netip.MustParsePrefix("10.0.1.10/32")}})
		agg.Start()
		var p packet.Packet
		for _, f := range fs {
			if packet.Decode(packet.LinkEthernet, f.data, &p).HasIP() {
				attr.Packet(&p, f.ts, agg.Add)
			}
		}
		agg.Close()
		if flows == 0 {
			b.Fatal("no flows")
		}
	}
	reportPPS(b, len(fs))
}

// BenchmarkDecodeAggregateBaseline: DecodingLayerParser and one Go map keyed
// by 5-tuple and window, in one goroutine.
func BenchmarkDecodeAggregateBaseline(b *testing.B) {
	fs := frames(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p := newBaselineParser()
		type wkey struct {
			baseKey
			window int64
		}
		m := map[wkey]*baseVal{}
		var k baseKey
		for _, f := range fs {
			ipLen, ok := p.decode(f.data, &k)
			if !ok {
				continue
			}
			sec := f.ts / 1e9
			wk := wkey{k, sec - sec%60}
			v := m[wk]
			if v == nil {
				v = &baseVal{start: sec}
				m[wk] = v
			}
			v.packets++
			v.bytes += uint64(ipLen)
			v.end = sec
		}
		if len(m) == 0 {
			b.Fatal("no flows")
		}
	}
	reportPPS(b, len(fs))
}

func runPipeline(b *testing.B, cfg Config, dest flowlog.Destination, path string) *Summary {
	sum, err := Run(cfg, Dependencies{Destination: func(*flowlog.FlowLog) flowlog.Destination { return dest }}, []string{path})
	if err != nil {
		b.Fatal(err)
	}
	if len(sum.InputErrors) > 0 || sum.Records.Records == 0 {
		b.Fatalf("summary %+v", sum)
	}
	return sum
}

// BenchmarkEndToEnd: `vpcflow pcap --out` without a topology: read the file,
// decode, attribute, aggregate, write gzip S3 objects.
func BenchmarkEndToEnd(b *testing.B) {
	path, err := benchCapture()
	if err != nil {
		b.Fatal(err)
	}
	eni := &topology.ENI{ID: "eni-00000000000000001", AccountID: "123456789012", Region: "us-east-1"}
	iv := 60
	fls, err := flowlog.Build(nil, &flowlog.Spec{ResourceIds: []string{eni.ID}, ResourceType: "NetworkInterface", TrafficType: "ALL",
		LogDestinationType: "s3", LogDestination: "arn:aws:s3:::bench", MaxAggregationInterval: &iv}, "bench")
	if err != nil {
		b.Fatal(err)
	}
	fls[0].OwnerID, fls[0].Region = eni.AccountID, eni.Region
	var packets uint64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out := deliver.NewS3Dir(b.TempDir())
		sum := runPipeline(b, Config{
			Interface: eni, LocalPrefixes: []netip.Prefix{netip.MustParsePrefix("10.0.1.10/32")},
			FlowLogs: fls, Flow: flow.DefaultConfiguration(), Policy: policy.DefaultConfig(),
		}, out, path)
		packets = sum.Packets
		b.ReportMetric(float64(sum.Flow.PeakFlows), "peak-flows")
	}
	reportPPS(b, int(packets))
}

// BenchmarkEndToEndTopology: `vpcflow pcap --topology examples/topology.yaml
// --out` on traffic of the example network: attribution by MAC, security
// groups with connection tracking, network ACLs, the declared S3 flow log.
func BenchmarkEndToEndTopology(b *testing.B) {
	path, err := benchTopoCapture()
	if err != nil {
		b.Fatal(err)
	}
	t, err := topology.Load(exampleTopology)
	if err != nil {
		b.Fatal(err)
	}
	fls, err := flowlog.FromTopology(t)
	if err != nil {
		b.Fatal(err)
	}
	var packets uint64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out := deliver.NewS3Dir(b.TempDir())
		sum := runPipeline(b, Config{
			Topology: t, FlowLogs: fls, Flow: flow.DefaultConfiguration(), Policy: policy.DefaultConfig(),
		}, out, path)
		packets = sum.Packets
		b.ReportMetric(float64(sum.Flow.PeakFlows), "peak-flows")
	}
	reportPPS(b, int(packets))
}

// BenchmarkEndToEndBaseline: pcapgo's reader, DecodingLayerParser and a Go
// map, without writing anything: the floor a straightforward tool pays.
func BenchmarkEndToEndBaseline(b *testing.B) {
	path, err := benchCapture()
	if err != nil {
		b.Fatal(err)
	}
	var packets int
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		r, err := pcapgo.NewReader(f)
		if err != nil {
			b.Fatal(err)
		}
		p := newBaselineParser()
		m := map[baseKey]*baseVal{}
		var k baseKey
		packets = 0
		for {
			data, ci, err := r.ZeroCopyReadPacketData()
			if err != nil {
				break
			}
			packets++
			ipLen, ok := p.decode(data, &k)
			if !ok {
				continue
			}
			v := m[k]
			if v == nil {
				v = &baseVal{start: ci.Timestamp.Unix()}
				m[k] = v
			}
			v.packets++
			v.bytes += uint64(ipLen)
		}
		f.Close()
	}
	reportPPS(b, packets)
}
