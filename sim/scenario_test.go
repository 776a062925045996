package sim

import (
	"bytes"
	"encoding/binary"
	"io"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vpcflow/vpcflow/capture"
	"github.com/vpcflow/vpcflow/packet"
	"github.com/vpcflow/vpcflow/topology"
)

var allScenarios = []string{"web-tier", "ssh-brute-force", "port-scan", "exfiltration", "nat-egress", "dns", "misconfigured-sg"}

// scenarioTopo is examples/scenarios.yaml, changed by the replacements
// (old, new, old, new...), each of which must apply.
func scenarioTopo(t testing.TB, replace ...string) *topology.Topology {
	t.Helper()
	data, err := os.ReadFile("../examples/scenarios.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	for i := 0; i+1 < len(replace); i += 2 {
		if !strings.Contains(s, replace[i]) {
			t.Fatalf("examples/scenarios.yaml has no %q: update the test", replace[i])
		}
		s = strings.Replace(s, replace[i], replace[i+1], 1)
	}
	topo, err := topology.Parse("scenarios.yaml", []byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return topo
}

func newTestScenario(t testing.TB, cfg ScenarioConfig) *Scenario {
	t.Helper()
	if cfg.Topology == nil {
		cfg.Topology = scenarioTopo(t)
	}
	s, err := NewScenario(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// scenarioPcap generates cfg's capture into memory.
func scenarioPcap(t testing.TB, cfg ScenarioConfig) ([]byte, Stats) {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	st, err := newTestScenario(t, cfg).Generate(w, nil)
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), st
}

// frames decodes a capture.
type sframe struct {
	ts int64
	p  packet.Packet
	// TCP sequence number
	seq uint32
}

func readFrames(t testing.TB, data []byte) []sframe {
	t.Helper()
	r, err := capture.NewReader(bytes.NewReader(data), "scenario")
	if err != nil {
		t.Fatal(err)
	}
	var out []sframe
	for {
		f, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		var s sframe
		if reason := packet.Decode(f.LinkType, f.Data, &s.p); reason != packet.OK {
			t.Fatalf("frame %d: %v", len(out), reason)
		}
		s.ts = f.TimestampNanos
		if s.p.Proto == packet.ProtoTCP {
			s.seq = binary.BigEndian.Uint32(f.Data[14+20+4:])
		}
		out = append(out, s)
	}
}

// TestScenarioPackets counts every scenario's packets over the default 10
// minutes from its script, as docs/scenarios.md describes it:
//
//   - web-tier: 12 requests a minute, each a client session of 1 request
//     and 3 response segments (1+3+6 = 10 packets), the web tier's call to
//     the app (1+2+6 = 9) and the app's query (1+1+6 = 8): 120 × 27.
//   - ssh-brute-force: 15 failing SSH connections a minute to the bastion
//     (19 packets each) and 6 to the web server, whose group refuses SSH
//     from the internet, so each is 3 SYNs: 150 × 19 + 60 × 3.
//   - port-scan: ports 1-1000 of the web server, of which 80 and 443 are
//     open (SYN, SYN-ACK, RST) and the rest refused (SYN): 998 + 2 × 3;
//     and 60 SYNs of the sweep, none answered.
//   - exfiltration: 10 posts of 3 segments and 1 answer (3+1+6 = 10), and
//     an upload of 360 × 298 = 107 280 segments, acknowledged every
//     second: 3 + 107 280 × 3/2 + 3.
//   - nat-egress: 6 fetches a minute (1+4+6 = 11 packets), each sent
//     twice, in and out of the NAT gateway: 60 × 22.
//   - dns: 4 servers × 6 queries a minute and one more a minute, 2
//     packets each: 250 × 2.
//   - misconfigured-sg: 12 connections a minute, each 3 refused SYNs.
func TestScenarioPackets(t *testing.T) {
	want := map[string]struct {
		packets           int64
		conversations     int
		refused, noAnswer int
	}{
		"web-tier":         {120 * 27, 360, 0, 0},
		"ssh-brute-force":  {150*19 + 60*3, 210, 60, 0},
		"port-scan":        {998 + 2*3 + 60, 1060, 998 + 2, 0},
		"exfiltration":     {10*10 + 3 + 107280*3/2 + 3, 11, 0, 0},
		"nat-egress":       {60 * 22, 60, 0, 0},
		"dns":              {250 * 2, 250, 0, 0},
		"misconfigured-sg": {120 * 3, 120, 120, 0},
	}
	var total int64
	for _, name := range allScenarios {
		w := want[name]
		_, st := scenarioPcap(t, ScenarioConfig{Names: []string{name}, Seed: 3})
		if st.Packets != w.packets || st.Flows != w.conversations || st.Refused != w.refused || st.Unanswered != w.noAnswer || st.Open != 0 {
			t.Errorf("%s: %d packets, %d conversations (%d refused, %d unanswered, %d open); want %d, %d (%d, %d, 0)",
				name, st.Packets, st.Flows, st.Refused, st.Unanswered, st.Open, w.packets, w.conversations, w.refused, w.noAnswer)
		}
		if end := DefaultStart.Add(DefaultScenarioDuration); !st.Last.Before(end) || st.First.Before(DefaultStart) {
			t.Errorf("%s: frames from %v to %v, outside the 10 minutes", name, st.First, st.Last)
		}
		total += w.packets
	}
	// together, each scenario's traffic is what it is alone
	_, st := scenarioPcap(t, ScenarioConfig{Names: allScenarios, Seed: 3})
	if st.Packets != total {
		t.Errorf("all scenarios: %d packets, want the sum %d", st.Packets, total)
	}
}

// TestScenarioDeterministic: the same settings give the same bytes, in
// whatever order the scenarios are named; another seed other bytes but the
// same packet count (the seed draws addresses, ports and timing, not the
// script).
func TestScenarioDeterministic(t *testing.T) {
	names := []string{"ssh-brute-force", "web-tier", "dns"}
	a, sa := scenarioPcap(t, ScenarioConfig{Names: names, Seed: 5})
	b, _ := scenarioPcap(t, ScenarioConfig{Names: []string{"dns", "ssh-brute-force", "web-tier"}, Seed: 5})
	c, sc := scenarioPcap(t, ScenarioConfig{Names: names, Seed: 6})
	if !bytes.Equal(a, b) {
		t.Fatal("same seed, scenarios named in another order: different bytes")
	}
	if bytes.Equal(a, c) || sa.Packets != sc.Packets {
		t.Fatalf("another seed: want other bytes and the same %d packets, got %d", sa.Packets, sc.Packets)
	}
	// a later start shifts the timestamps and nothing else
	later, _ := scenarioPcap(t, ScenarioConfig{Names: names, Seed: 5, Start: DefaultStart.Add(time.Hour)})
	fa, fl := readFrames(t, a), readFrames(t, later)
	for i := range fa {
		if fl[i].ts != fa[i].ts+int64(time.Hour) || fl[i].p.Src != fa[i].p.Src || fl[i].p.SrcPort != fa[i].p.SrcPort {
			t.Fatalf("frame %d: a later start changes more than the time", i)
		}
	}
}

// TestScenarioSourceMatchesGenerate: the source a service reads gives the
// frames Generate writes, one for one, then io.EOF.
func TestScenarioSourceMatchesGenerate(t *testing.T) {
	cfg := ScenarioConfig{Names: allScenarios, Seed: 9}
	data, st := scenarioPcap(t, cfg)
	r, err := capture.NewReader(bytes.NewReader(data), "scenario")
	if err != nil {
		t.Fatal(err)
	}
	src := newTestScenario(t, cfg).Source()
	var n int64
	for {
		want, werr := r.Next()
		got, gerr := src.Next()
		if werr == io.EOF || gerr == io.EOF {
			if werr != gerr {
				t.Fatalf("frame %d: pcap gives %v, the source %v", n, werr, gerr)
			}
			break
		}
		if werr != nil || gerr != nil {
			t.Fatal(werr, gerr)
		}
		if got.TimestampNanos != want.TimestampNanos || got.WireLen != want.WireLen || !bytes.Equal(got.Data, want.Data) || got.LinkType != packet.LinkEthernet {
			t.Fatalf("frame %d differs", n)
		}
		n++
	}
	if n != st.Packets || src.Stats().Packets != n {
		t.Fatalf("%d frames, Generate wrote %d, the source counts %d", n, st.Packets, src.Stats().Packets)
	}
	if _, err := src.Next(); err != io.EOF {
		t.Fatalf("after the end: %v", err)
	}
}

// TestScenarioFrames checks every frame of every scenario: valid headers
// and checksums, an interface's MAC on one side, time order, a SYN first
// on every TCP connection.
func TestScenarioFrames(t *testing.T) {
	topo := scenarioTopo(t)
	eps, err := EndpointsFromTopology(topo)
	if err != nil {
		t.Fatal(err)
	}
	data, st := scenarioPcap(t, ScenarioConfig{Names: allScenarios, Topology: topo, Seed: 2})
	r, err := capture.NewReader(bytes.NewReader(data), "scenario")
	if err != nil {
		t.Fatal(err)
	}
	c := newFrameCheck(t, eps)
	for {
		f, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		c.frame(f)
	}
	if c.n != st.Packets || c.ipBytes != st.IPBytes || c.midTCP != 0 {
		t.Fatalf("%d frames, %d IP bytes, %d connections without a SYN; stats say %d, %d", c.n, c.ipBytes, c.midTCP, st.Packets, st.IPBytes)
	}
}

// TestScenarioMisconfiguredSG: the cache's group admits the db's group,
// not the app's, so each of the app's connections is its SYN sent three
// times, 1 s and then 2 s apart, with one sequence number, and never a
// reply; each connection has its own port, the next one up. Once the group
// admits the app, the same script is whole sessions: handshake, request,
// response, close (8 packets).
func TestScenarioMisconfiguredSG(t *testing.T) {
	data, _ := scenarioPcap(t, ScenarioConfig{Names: []string{"misconfigured-sg"}, Duration: time.Minute})
	app, cache := netip.MustParseAddr("10.0.1.20"), netip.MustParseAddr("10.0.1.40")
	conns := map[uint16][]sframe{}
	var ports []uint16
	for _, f := range readFrames(t, data) {
		if f.p.Src != app || f.p.Dst != cache || f.p.DstPort != 6379 || f.p.TCPFlags != packet.TCPSyn {
			t.Fatalf("frame %+v: want the app's SYNs to the cache only", f.p)
		}
		if f.p.SrcMAC != [6]byte{0x0a, 0, 0, 0, 0, 0x0d} || f.p.DstMAC != [6]byte{0x0a, 0, 0, 0, 0, 0x0f} {
			t.Fatalf("MACs %x -> %x", f.p.SrcMAC, f.p.DstMAC)
		}
		if conns[f.p.SrcPort] == nil {
			ports = append(ports, f.p.SrcPort)
		}
		conns[f.p.SrcPort] = append(conns[f.p.SrcPort], f)
	}
	if len(ports) != 12 {
		t.Fatalf("%d connections in a minute, want 12 (one every 5 s)", len(ports))
	}
	for i, p := range ports {
		c := conns[p]
		if len(c) != 3 || c[1].ts-c[0].ts != int64(time.Second) || c[2].ts-c[1].ts != int64(2*time.Second) ||
			c[0].seq != c[1].seq || c[1].seq != c[2].seq {
			t.Fatalf("connection from port %d: %d SYNs %+v", p, len(c), c)
		}
		if i > 0 && p != ports[i-1]+1 {
			t.Errorf("ports %d then %d: want the next one up", ports[i-1], p)
		}
		if start := c[0].ts - DefaultStart.UnixNano(); start < int64(i)*int64(5*time.Second) || start >= int64(i)*int64(5*time.Second)+int64(time.Second) {
			t.Errorf("connection %d starts %v in, want within a second of %v", i, time.Duration(start), time.Duration(i)*5*time.Second)
		}
	}

	fixed := scenarioTopo(t, "UserIdGroupPairs: [{GroupId: sg-0aaaaaaaaaaaaaaa3}]\n\nNetworkAcls", "UserIdGroupPairs: [{GroupId: sg-0aaaaaaaaaaaaaaa2}]\n\nNetworkAcls")
	data, st := scenarioPcap(t, ScenarioConfig{Names: []string{"misconfigured-sg"}, Duration: time.Minute, Topology: fixed})
	if st.Refused != 0 || st.Packets != 12*8 {
		t.Fatalf("fixed group: %d refused, %d packets; want 0 and 12 sessions of 8", st.Refused, st.Packets)
	}
	var flags []uint8
	for _, f := range readFrames(t, data)[:8] {
		flags = append(flags, f.p.TCPFlags)
	}
	const s, a, p, f = packet.TCPSyn, packet.TCPAck, packet.TCPPsh, packet.TCPFin
	if want := []uint8{s, s | a, a, p | a, p | a, f | a, f | a, a}; !bytes.Equal(flags, want) {
		t.Fatalf("fixed group: first session's flags %v, want %v", flags, want)
	}
}

// TestScenarioNATGateway: the app's packets to the internet cross the NAT
// gateway its route table names: each is sent twice, from the app's MAC to
// the gateway's with the app's address, then 50 µs later from the
// gateway's MAC to the router with the gateway's private address; each
// answer comes from the router to the gateway's address, then from the
// gateway to the app. The ports stay.
func TestScenarioNATGateway(t *testing.T) {
	data, _ := scenarioPcap(t, ScenarioConfig{Names: []string{"nat-egress"}, Duration: 10 * time.Second})
	fr := readFrames(t, data)
	if len(fr) != 22 {
		t.Fatalf("%d frames in 10 s, want one fetch of 11 packets, each sent twice", len(fr))
	}
	app, nat, mirror := netip.MustParseAddr("10.0.1.20"), netip.MustParseAddr("10.0.0.100"), netip.MustParseAddr("192.0.2.80")
	appMAC, natMAC := [6]byte{0x0a, 0, 0, 0, 0, 0x0d}, [6]byte{0x0a, 0, 0, 0, 0, 0x0c}
	for i := 0; i < len(fr); i += 2 {
		in, out := fr[i].p, fr[i+1].p
		if fr[i+1].ts-fr[i].ts != int64(50*time.Microsecond) || in.TCPFlags != out.TCPFlags || in.SrcPort != out.SrcPort || in.DstPort != out.DstPort {
			t.Fatalf("packet %d: %+v then %+v", i/2, in, out)
		}
		fromApp := in.Src == app
		switch {
		case fromApp && in.SrcMAC == appMAC && in.DstMAC == natMAC && in.Dst == mirror && in.DstPort == 443 &&
			out.SrcMAC == natMAC && out.DstMAC == RouterMAC && out.Src == nat && out.Dst == mirror:
		case !fromApp && in.SrcMAC == RouterMAC && in.DstMAC == natMAC && in.Src == mirror && in.Dst == nat && in.SrcPort == 443 &&
			out.SrcMAC == natMAC && out.DstMAC == appMAC && out.Src == mirror && out.Dst == app:
		default:
			t.Fatalf("packet %d: %v %x->%x %v->%v, then %x->%x %v->%v", i/2, in.TCPFlags, in.SrcMAC, in.DstMAC, in.Src, in.Dst, out.SrcMAC, out.DstMAC, out.Src, out.Dst)
		}
	}
}

// TestScenarioRate: at rate 0.5 the SSH brute force tries the bastion every
// 8 s and the web server every 20 s: 75 and 30 in 10 minutes; over 1
// minute at rate 1, 15 and 6.
func TestScenarioRate(t *testing.T) {
	for _, c := range []struct {
		rate     float64
		duration time.Duration
		want     int
	}{{0.5, 0, 75 + 30}, {1, time.Minute, 15 + 6}, {2, time.Minute, 30 + 12}} {
		_, st := scenarioPcap(t, ScenarioConfig{Names: []string{"ssh-brute-force"}, Rate: c.rate, Duration: c.duration})
		if st.Flows != c.want {
			t.Errorf("rate %v over %v: %d connections, want %d", c.rate, c.duration, st.Flows, c.want)
		}
	}
	// the upload of a 2-minute run takes its second minute: 58 s of 360
	// segments a second
	_, st := scenarioPcap(t, ScenarioConfig{Names: []string{"exfiltration"}, Duration: 2 * time.Minute})
	if want := int64(2*10 + 3 + 58*360*3/2 + 3); st.Packets != want {
		t.Errorf("exfiltration over 2 minutes: %d packets, want %d", st.Packets, want)
	}
}

// TestScenarioErrors: names, settings and topologies a run refuses, each
// said in words a user can act on.
func TestScenarioErrors(t *testing.T) {
	example, err := topology.Load("../examples/topology.yaml")
	if err != nil {
		t.Fatal(err)
	}
	noNAT := scenarioTopo(t, "{DestinationCidrBlock: 0.0.0.0/0, NatGatewayId: nat-0a1b2c3d4e5f60001}", "{DestinationCidrBlock: 0.0.0.0/0, GatewayId: igw-0a1b2c3d4e5f60001}")
	for _, c := range []struct {
		cfg  ScenarioConfig
		want string
	}{
		{ScenarioConfig{}, "no scenario named"},
		{ScenarioConfig{Names: []string{"ssh"}}, `no scenario "ssh" (did you mean ssh-brute-force?)`},
		{ScenarioConfig{Names: []string{"dns", "dns"}}, "dns named twice"},
		{ScenarioConfig{Names: []string{"dns"}, Rate: -1}, "rate -1"},
		{ScenarioConfig{Names: []string{"dns"}, Duration: time.Millisecond}, "duration 1ms"},
		{ScenarioConfig{Names: []string{"misconfigured-sg"}, Topology: example}, "security group is named cache"},
		{ScenarioConfig{Names: []string{"nat-egress"}, Topology: noNAT}, "route the internet (0.0.0.0/0) to a NAT gateway"},
	} {
		if c.cfg.Topology == nil {
			c.cfg.Topology = scenarioTopo(t)
		}
		if _, err := NewScenario(c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", c.cfg.Names, err, c.want)
		}
	}
	if _, err := NewScenario(ScenarioConfig{Names: []string{"dns"}}); err == nil || !strings.Contains(err.Error(), "topology") {
		t.Errorf("no topology: %v", err)
	}
	// examples/topology.yaml has every role but the cache
	if _, err := NewScenario(ScenarioConfig{Names: []string{"web-tier", "ssh-brute-force", "port-scan", "exfiltration", "nat-egress", "dns"}, Topology: example}); err != nil {
		t.Errorf("examples/topology.yaml: %v", err)
	}
}

// TestScenarioDetections: the ground truth of a run, worked out from the
// scripts: the brute force's connections (every 4 s and every 10 s from
// 2 s over 600 s), the scan's 1000 ports one every 240 ms, the sweep's 60
// hosts one a second, the upload's bytes (SYN, 107 280 segments of 1500
// bytes, ACK, FIN, ACK) from 00:05:01 to its last segment, 60 ms of
// handshake and 107 280 intervals of 2 777 777 ns later.
func TestScenarioDetections(t *testing.T) {
	s := newTestScenario(t, ScenarioConfig{Names: allScenarios, Seed: 8})
	a := netip.MustParseAddr
	at := func(d time.Duration) time.Time { return DefaultStart.Add(d) }
	want := []Detection{
		{"ssh-brute-force", FindingSSHBruteForce, a("198.51.100.77"), a("10.0.0.5"), "eni-0b00000000000000b", 22, 150, at(0), at(149 * 4 * time.Second)},
		{"ssh-brute-force", FindingSSHBruteForce, a("198.51.100.77"), a("10.0.0.10"), "eni-0a00000000000000a", 22, 60, at(2 * time.Second), at(592 * time.Second)},
		{"port-scan", FindingPortScan, a("198.51.100.23"), a("10.0.0.10"), "eni-0a00000000000000a", 0, 1000, at(0), at(999 * 240 * time.Millisecond)},
		{"port-scan", FindingPortSweep, a("10.0.0.10"), netip.Addr{}, "eni-0a00000000000000a", 22, 60, at(0), at(59 * time.Second)},
		{"exfiltration", FindingExfiltration, a("10.0.0.10"), a("203.0.113.200"), "eni-0a00000000000000a", 443, 44 + 107280*1500 + 3*40,
			at(301 * time.Second), at(301*time.Second + 60*time.Millisecond + 107280*2777777)},
	}
	got := s.Detections()
	if len(got) != len(want) {
		t.Fatalf("%d detections, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("detection %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
	// over 2 minutes: the brute force every 4 s and 10 s, the scan cut at
	// the end (500 ports by 120 s), the sweep whole in 60 s; at rate 2,
	// every 2 s and 5 s, the scan whole in 120 s
	for _, c := range []struct {
		rate float64
		want []int64
	}{{1, []int64{30, 12, 500, 60}}, {2, []int64{60, 24, 1000, 60}}} {
		s = newTestScenario(t, ScenarioConfig{Names: []string{"ssh-brute-force", "port-scan"}, Duration: 2 * time.Minute, Rate: c.rate})
		var counts []int64
		for _, d := range s.Detections() {
			counts = append(counts, d.Count)
		}
		if !slices.Equal(counts, c.want) {
			t.Errorf("2 minutes at rate %v: counts %v, want %v", c.rate, counts, c.want)
		}
		// what the run makes: the conversations the detections count
		_, st := scenarioPcap(t, ScenarioConfig{Names: []string{"ssh-brute-force", "port-scan"}, Duration: 2 * time.Minute, Rate: c.rate})
		if sum := c.want[0] + c.want[1] + c.want[2] + c.want[3]; int64(st.Flows) != sum {
			t.Errorf("2 minutes at rate %v: %d conversations, want %d", c.rate, st.Flows, sum)
		}
	}
}
