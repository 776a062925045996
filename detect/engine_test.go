package detect

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/vpcflow/vpcflow/record"
)

// Every expected value in these tests is worked out by hand from the
// records each test builds; the comments show the arithmetic.

const (
	accept = record.ActionAccept
	reject = record.ActionReject
)

// rec builds a TCP record of the default format (every field the
// detectors read but flow-direction).
func rec(eni, src, dst string, sp, dp int32, pkts, bytes, start int64, action record.ActionValue) Flow {
	return Flow{
		Interface: eni, Account: "111122223333", Instance: "i-" + strings.TrimPrefix(eni, "eni-"),
		Src: netip.MustParseAddr(src), Dst: netip.MustParseAddr(dst),
		SrcPort: sp, DstPort: dp, Protocol: protoTCP, Packets: pkts, Bytes: bytes,
		Start: start, End: start + 5, Action: action, Status: record.StatusOK,
		Have: FieldsOf(record.DefaultFormat),
	}
}

func run(t *testing.T, cfg Configuration, flows []Flow) *Engine {
	t.Helper()
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range flows {
		e.Observe(&flows[i])
	}
	e.Flush()
	return e
}

// info decodes a finding's AdditionalInfo.
func info(t *testing.T, f *Finding) map[string]any {
	t.Helper()
	if f.Service.AdditionalInfo == nil {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(f.Service.AdditionalInfo.Value), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func one(t *testing.T, e *Engine, typ string) *Finding {
	t.Helper()
	fs := e.Findings()
	if len(fs) != 1 || fs[0].Type != typ {
		var got []string
		for _, f := range fs {
			got = append(got, f.Type+" "+f.Title)
		}
		t.Fatalf("want one %s, got %d findings: %q", typ, len(fs), got)
	}
	return fs[0]
}

func none(t *testing.T, e *Engine) {
	t.Helper()
	for _, f := range e.Findings() {
		t.Errorf("unexpected %s: %s", f.Type, f.Title)
	}
}

// inboundScan: 198.51.100.7 sends one rejected SYN to each of ports
// 1..n of 10.0.0.5, one second apart, from window 0 (starts 0..n-1).
func inboundScan(n int) []Flow {
	var fs []Flow
	for p := range n {
		fs = append(fs, rec("eni-a", "198.51.100.7", "10.0.0.5", 40000, int32(p+1), 1, 44, int64(p), reject))
	}
	return fs
}

func TestInboundPortscan(t *testing.T) {
	e := run(t, DefaultConfiguration(), inboundScan(20))
	f := one(t, e, TypeInboundPortscan)
	// Nothing says which side is eni-a's own but that 10.0.0.5 is
	// private and 198.51.100.7 is not.
	nca := f.Service.Action.NetworkConnectionAction
	if nca.ConnectionDirection != "INBOUND" || !nca.Blocked || nca.RemoteIPDetails.IPAddressV4 != "198.51.100.7" ||
		nca.LocalIPDetails.IPAddressV4 != "10.0.0.5" || nca.LocalPortDetails.Port != 1 || nca.Protocol != "TCP" {
		t.Errorf("action %+v", nca)
	}
	// 20 ports, 20 attempts, all probes, all rejected.
	if got := info(t, f); got["ports"] != 20.0 || got["attempts"] != 20.0 || got["probes"] != 20.0 || got["rejected"] != 20.0 {
		t.Errorf("info %v", got)
	}
	// Starts 0..19, ends 5..24: first seen 0, last seen 24; window 0
	// ends at 600.
	if f.Service.EventFirstSeen != "1970-01-01T00:00:00Z" || f.Service.EventLastSeen != "1970-01-01T00:00:24Z" ||
		f.CreatedAt != "1970-01-01T00:10:00.000Z" || f.Service.Count != 1 || f.Severity != SeverityLow ||
		f.Service.ResourceRole != "TARGET" || f.Resource.InstanceDetails.InstanceID != "i-a" ||
		f.Resource.InstanceDetails.NetworkInterfaces[0].NetworkInterfaceID != "eni-a" {
		t.Errorf("finding %+v", f)
	}
	// 14 ports are below MinTargets (15).
	none(t, run(t, DefaultConfiguration(), inboundScan(14)))
}

func TestOutboundPortscan(t *testing.T) {
	// eni-a (10.0.0.5) talks to 10.0.0.9:443 and tries ports 1..15 of
	// 10.0.0.77 (accepted, 1 packet: short). Both hosts are private: the
	// interface's own address is the one seen with two partners.
	fs := []Flow{rec("eni-a", "10.0.0.5", "10.0.0.9", 50000, 443, 20, 4000, 0, accept)}
	for p := range 15 {
		fs = append(fs, rec("eni-a", "10.0.0.5", "10.0.0.77", 50001, int32(p+1), 1, 44, 10, accept))
	}
	f := one(t, run(t, DefaultConfiguration(), fs), TypePortscan)
	nca := f.Service.Action.NetworkConnectionAction
	if f.Service.ResourceRole != "ACTOR" || f.Severity != SeverityMedium || nca.ConnectionDirection != "OUTBOUND" ||
		nca.Blocked || nca.RemoteIPDetails.IPAddressV4 != "10.0.0.77" || nca.RemotePortDetails.Port != 1 {
		t.Errorf("finding %+v, action %+v", f, nca)
	}
	// Accepted and longer than ShortPackets (3): 0 probes of 15, no scan.
	for i := 1; i < len(fs); i++ {
		fs[i].Packets = 4
	}
	none(t, run(t, DefaultConfiguration(), fs))
}

func TestSSHBruteForceInbound(t *testing.T) {
	// 20 SSH connections of 12 packets from 203.0.113.9: MinAttempts 20.
	var fs []Flow
	for i := range 20 {
		fs = append(fs, rec("eni-a", "203.0.113.9", "10.0.0.5", int32(50000+i), 22, 12, 2400, int64(10*i), accept))
	}
	f := one(t, run(t, DefaultConfiguration(), fs), TypeSSHBruteForce)
	nca := f.Service.Action.NetworkConnectionAction
	if f.Service.ResourceRole != "TARGET" || f.Severity != SeverityLow || nca.ConnectionDirection != "INBOUND" ||
		nca.Blocked || nca.LocalPortDetails.Port != 22 || nca.LocalPortDetails.PortName != "SSH" ||
		nca.RemoteIPDetails.IPAddressV4 != "203.0.113.9" {
		t.Errorf("finding %+v, action %+v", f, nca)
	}
	if got := info(t, f); got["attempts"] != 20.0 || got["rejected"] != 0.0 {
		t.Errorf("info %v", got)
	}
	none(t, run(t, DefaultConfiguration(), fs[:19]))
	// Sessions of more than MaxAttemptPackets (100) are not attempts.
	for i := range fs {
		fs[i].Packets = 101
	}
	none(t, run(t, DefaultConfiguration(), fs))
}

func TestRDPBruteForceOutbound(t *testing.T) {
	// eni-a's 25 RDP attempts to 198.51.100.20, all rejected (by its
	// own outbound rules): the instance is the actor, and blocked.
	var fs []Flow
	for i := range 25 {
		fs = append(fs, rec("eni-a", "10.0.0.5", "198.51.100.20", int32(50000+i), 3389, 2, 104, int64(i), reject))
	}
	f := one(t, run(t, DefaultConfiguration(), fs), TypeRDPBruteForce)
	nca := f.Service.Action.NetworkConnectionAction
	if f.Service.ResourceRole != "ACTOR" || f.Severity != SeverityHigh || nca.ConnectionDirection != "OUTBOUND" ||
		!nca.Blocked || nca.RemotePortDetails.Port != 3389 || nca.RemotePortDetails.PortName != "RDP" {
		t.Errorf("finding %+v, action %+v", f, nca)
	}
	if got := info(t, f); got["attempts"] != 25.0 || got["rejected"] != 25.0 {
		t.Errorf("info %v", got)
	}
}

func TestPortProbe(t *testing.T) {
	// Two internet hosts open and close a connection to port 22 (2
	// packets, accepted); one private host does the same (not from the
	// internet); 198.51.100.33 probes port 9200 (high severity).
	fs := []Flow{
		rec("eni-a", "198.51.100.31", "10.0.0.5", 45000, 22, 2, 88, 100, accept),
		rec("eni-a", "198.51.100.30", "10.0.0.5", 45001, 22, 2, 88, 30, accept),
		rec("eni-a", "10.0.9.9", "10.0.0.5", 45002, 22, 2, 88, 40, accept),
		rec("eni-b", "198.51.100.33", "10.0.0.6", 45003, 9200, 1, 44, 50, accept),
	}
	e := run(t, DefaultConfiguration(), fs)
	got := e.Findings()
	if len(got) != 2 {
		t.Fatalf("%d findings", len(got))
	}
	// Ordered by first seen: eni-a's (30) before eni-b's (50).
	a, b := got[0], got[1]
	if a.Type != TypePortProbe || a.Severity != SeverityLow || a.Service.Action.ActionType != "PORT_PROBE" {
		t.Errorf("eni-a: %+v", a)
	}
	var remotes []string
	for _, d := range a.Service.Action.PortProbeAction.PortProbeDetails {
		remotes = append(remotes, d.RemoteIPDetails.IPAddressV4)
		if d.LocalPortDetails.Port != 22 || d.LocalIPDetails.IPAddressV4 != "10.0.0.5" {
			t.Errorf("detail %+v", d)
		}
	}
	if want := []string{"198.51.100.30", "198.51.100.31"}; !reflect.DeepEqual(remotes, want) {
		t.Errorf("remotes %v, want %v", remotes, want)
	}
	if b.Severity != SeverityHigh || b.Resource.InstanceDetails.NetworkInterfaces[0].NetworkInterfaceID != "eni-b" {
		t.Errorf("eni-b: %+v", b)
	}
	// Rejected or long: no probe of an open port.
	fs[0].Action, fs[1].Packets, fs[3].Action = reject, 4, reject
	none(t, run(t, DefaultConfiguration(), fs))
}

// sweep: 198.51.100.40 sends one rejected SYN to port 23 of n interfaces
// eni-01.. (10.0.1.1..).
func sweep(n int) []Flow {
	var fs []Flow
	for i := range n {
		fs = append(fs, rec(fmt.Sprintf("eni-%02d", i+1), "198.51.100.40", fmt.Sprintf("10.0.1.%d", i+1), 41000, 23, 1, 44, int64(i), reject))
	}
	return fs
}

func TestInboundPortSweep(t *testing.T) {
	f := one(t, run(t, DefaultConfiguration(), sweep(20)), TypeInboundPortSweep)
	nca := f.Service.Action.NetworkConnectionAction
	if f.Resource.InstanceDetails.NetworkInterfaces[0].NetworkInterfaceID != "eni-01" || nca.LocalPortDetails.Port != 23 ||
		nca.RemoteIPDetails.IPAddressV4 != "198.51.100.40" || !nca.Blocked {
		t.Errorf("finding %+v, action %+v", f, nca)
	}
	if got := info(t, f); got["hosts"] != 20.0 || got["probes"] != 20.0 || len(got["interfaces"].([]any)) != 20 {
		t.Errorf("info %v", got)
	}
	// 9 interfaces are below MinTargets (10); 10 are not.
	none(t, run(t, DefaultConfiguration(), sweep(9)))
	one(t, run(t, DefaultConfiguration(), sweep(10)), TypeInboundPortSweep)
}

func TestMassIPScan(t *testing.T) {
	// eni-a tries port 445 of 50 internet hosts, accepted, 1 packet.
	var fs []Flow
	for i := range 50 {
		fs = append(fs, rec("eni-a", "10.0.0.5", fmt.Sprintf("203.0.113.%d", 100+i), 42000, 445, 1, 44, int64(i), accept))
	}
	f := one(t, run(t, DefaultConfiguration(), fs), TypeMassIPScan)
	nca := f.Service.Action.NetworkConnectionAction
	if f.Severity != SeverityHigh || f.Service.ResourceRole != "ACTOR" || nca.RemotePortDetails.Port != 445 ||
		nca.RemoteIPDetails.IPAddressV4 != "203.0.113.100" || nca.Blocked {
		t.Errorf("finding %+v, action %+v", f, nca)
	}
	// 49 hosts are below MinTargets (50).
	none(t, run(t, DefaultConfiguration(), fs[:49]))
}

// egress: eni-a (10.0.0.5) sends bytes to dst in window w (start w*600).
func egress(dst string, bytes, w int64) Flow {
	return rec("eni-a", "10.0.0.5", dst, 50000, 443, bytes/1000+4, bytes, w*600, accept)
}

func TestTrafficVolumeUnusual(t *testing.T) {
	var fs []Flow
	for w := range int64(6) { // learning: windows 0-5 (0 to 3600 s)
		fs = append(fs, egress("198.51.100.50", 10e6, w))
	}
	// Baseline after window 5: 10 MB. At window 6 it has decayed once:
	// 10e6 * 0.995 = 9.95e6; threshold max(100e6, 10 * 9.95e6) = 100e6.
	fs = append(fs, egress("203.0.113.66", 150e6, 6), egress("198.51.100.50", 10e6, 6))
	// Window 6's unflagged 10 MB keeps the baseline at 10 MB; the
	// flagged 150 MB does not teach it. Window 7: baseline 10e6 * 0.995 =
	// 9.95e6 again, and the same 150 MB is reported again.
	fs = append(fs, egress("203.0.113.66", 150e6, 7))
	f := one(t, run(t, DefaultConfiguration(), fs), TypeTrafficVolume)
	if f.Service.Count != 2 || f.CreatedAt != "1970-01-01T01:10:00.000Z" || f.UpdatedAt != "1970-01-01T01:20:00.000Z" {
		t.Errorf("count %d, created %s, updated %s", f.Service.Count, f.CreatedAt, f.UpdatedAt)
	}
	if got := info(t, f); got["bytes"] != 150e6 || got["baselineBytes"] != 9.95e6 || got["thresholdBytes"] != 100e6 {
		t.Errorf("info %v", got)
	}
	// 90 MB is below 100 MB; and the same 150 MB during learning (window
	// 5 starts at 3000 < 3600) is learned, not reported.
	fs[6].Bytes, fs[8].Bytes = 90e6, 90e6
	none(t, run(t, DefaultConfiguration(), fs))
	none(t, run(t, DefaultConfiguration(), []Flow{egress("203.0.113.66", 150e6, 5)}))
}

func TestNetworkPortUnusual(t *testing.T) {
	talk := func(dst string, port int32, w int64) Flow {
		return rec("eni-a", "10.0.0.5", dst, 50000, port, 10, 2000, w*600, accept)
	}
	var fs []Flow
	for w := range int64(14) { // 443 in every window
		fs = append(fs, talk("198.51.100.60", 443, w))
	}
	// 6667 first in window 6 (start 3600: learning is over), again in 7
	// and in 12: promoted after Promote (1 h = 6 windows): 12-6 = 6.
	fs = append(fs, talk("198.51.100.61", 6667, 6), talk("198.51.100.62", 6667, 7), talk("198.51.100.61", 6667, 12))
	// 25 in window 2, during learning: learned; in window 9: known.
	fs = append(fs, talk("198.51.100.63", 25, 2), talk("198.51.100.63", 25, 9))
	slices.SortStableFunc(fs, func(a, b Flow) int { return cmp.Compare(a.Start, b.Start) })
	f := one(t, run(t, DefaultConfiguration(), fs), TypePortUnusual)
	nca := f.Service.Action.NetworkConnectionAction
	if f.Service.Count != 2 || nca.RemotePortDetails.Port != 6667 || nca.RemoteIPDetails.IPAddressV4 != "198.51.100.61" ||
		f.Severity != SeverityMedium || f.Service.EventLastSeen != "1970-01-01T01:10:05Z" {
		t.Errorf("finding %+v, action %+v", f, nca)
	}
}

func TestRejectStorm(t *testing.T) {
	// reject i of window w: from a distinct internet address to 443.
	rj := func(w int64, i int) Flow {
		return rec("eni-a", fmt.Sprintf("198.18.%d.%d", 100+i/250, i%250+1), "10.0.0.5", 40000, 443, 1, 44, w*600+int64(i%600), reject)
	}
	var fs []Flow
	for w := range int64(6) {
		for i := range 20 {
			fs = append(fs, rj(w, i))
		}
	}
	// Baseline 20 (decayed: 19.9); threshold max(500, 199) = 500.
	for i := range 501 {
		fs = append(fs, rj(6, i))
	}
	f := one(t, run(t, DefaultConfiguration(), fs), TypeRejectStorm)
	if got := info(t, f); got["rejects"] != 501.0 || got["addressPairs"] != 501.0 || got["baselineRejects"] != 20.0 || got["thresholdRejects"] != 500.0 {
		t.Errorf("info %v", got)
	}
	none(t, run(t, DefaultConfiguration(), fs[:len(fs)-1]))
	// A scan's rejects are its own finding, not a storm: 600 ports from
	// one source.
	fs = fs[:120]
	for p := range 600 {
		fs = append(fs, rec("eni-a", "198.51.100.7", "10.0.0.5", 40000, int32(p+1), 1, 44, 3600+int64(p), reject))
	}
	one(t, run(t, DefaultConfiguration(), fs), TypeInboundPortscan)
}

func TestOrderDoesNotMatter(t *testing.T) {
	// Every attack above in one stream, shuffled within the lateness
	// (records move by less than 20 minutes): the same findings.
	var fs []Flow
	fs = append(fs, inboundScan(30)...)
	fs = append(fs, sweep(25)...)
	for i := range 30 {
		fs = append(fs, rec("eni-c", "203.0.113.9", "10.0.0.8", int32(50000+i), 22, 12, 2400, 700+int64(10*i), accept))
	}
	for w := range int64(12) {
		fs = append(fs, egress("198.51.100.50", 10e6, w))
	}
	fs = append(fs, egress("203.0.113.66", 150e6, 9))
	want := findingsJSON(t, run(t, DefaultConfiguration(), fs))
	r := rand.New(rand.NewPCG(1, 2))
	for range 5 {
		shuffled := append([]Flow(nil), fs...)
		// Sort by start plus up to 15 minutes of noise.
		keys := make([]int64, len(shuffled))
		for i := range shuffled {
			keys[i] = shuffled[i].Start + r.Int64N(900)
		}
		idx := make([]int, len(shuffled))
		for i := range idx {
			idx[i] = i
		}
		r.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		sortByKey(idx, keys)
		var in []Flow
		for _, i := range idx {
			in = append(in, shuffled[i])
		}
		if got := findingsJSON(t, run(t, DefaultConfiguration(), in)); got != want {
			t.Fatalf("shuffled:\n%s\nin order:\n%s", got, want)
		}
	}
}

func sortByKey(idx []int, keys []int64) {
	for i := 1; i < len(idx); i++ {
		for j := i; j > 0 && keys[idx[j]] < keys[idx[j-1]]; j-- {
			idx[j], idx[j-1] = idx[j-1], idx[j]
		}
	}
}

func findingsJSON(t *testing.T, e *Engine) string {
	t.Helper()
	b, err := json.MarshalIndent(e.Findings(), "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestStatsAndNotes(t *testing.T) {
	e, _ := New(DefaultConfiguration())
	ok := rec("eni-a", "10.0.0.5", "10.0.0.9", 50000, 443, 10, 1000, 5000, accept)
	e.Observe(&ok)
	status := Flow{Interface: "eni-a", Start: 5000, Status: record.StatusNoData, Have: ok.Have}
	e.Observe(&status)
	noAddr := ok
	noAddr.Src = netip.Addr{}
	e.Observe(&noAddr)
	// Window of 3000: ends 3600, 1400 s before the latest start (5000):
	// more than the 1200 s of lateness.
	late := ok
	late.Start = 3000
	e.Observe(&late)
	// A format without bytes and action: the volume and storm detectors
	// say so, once.
	noBytes := ok
	noBytes.Have &^= FieldBytes | FieldAction
	e.Observe(&noBytes)
	e.Observe(&noBytes)
	e.Flush()
	st := e.Stats()
	if st.Records != 6 || st.Judged != 3 || st.Status != 1 || st.Incomplete != 1 || st.Late != 1 || st.Windows != 1 {
		t.Errorf("stats %+v", st)
	}
	want := []string{
		"Recon:EC2/PortProbeUnprotectedPort: records without action do not count",
		"Behavior:EC2/TrafficVolumeUnusual: records without bytes do not count",
		"Behavior:EC2/NetworkPortUnusual: records without action do not count",
		"Vpcflow:EC2/RejectStorm: records without action do not count",
	}
	if got := e.Notes(); !reflect.DeepEqual(got, want) {
		t.Errorf("notes:\n%q\nwant\n%q", got, want)
	}
}

func TestConfigurationErrors(t *testing.T) {
	for _, c := range []struct {
		change func(*Configuration)
		want   string
	}{
		{func(c *Configuration) { c.Window = 0 }, "detect: Window: want a whole number of seconds, at least 1s, got 0s"},
		{func(c *Configuration) { c.Sweep.MinProbeShare = 2 }, "detect: Sweep.MinProbeShare: want a share between 0 and 1, got 2"},
		{func(c *Configuration) { c.Probe.Ports = []int{70000} }, "detect: Probe.Ports: want ports 0-65535, got 70000"},
		{func(c *Configuration) { c.Volume.Decay = 0 }, "detect: Volume.Decay: want more than 0 and at most 1, got 0"},
		{func(c *Configuration) { c.Limits.PairsPerWindow = 0 }, "detect: Limits.PairsPerWindow: want at least 1, got 0"},
	} {
		cfg := DefaultConfiguration()
		c.change(&cfg)
		if _, err := New(cfg); err == nil || err.Error() != c.want {
			t.Errorf("got %v, want %s", err, c.want)
		}
	}
}

func TestEvidence(t *testing.T) {
	// The inbound scan (20 records on eni-a), the sweep (20 records on
	// eni-01..20) and one unrelated record.
	fs := append(inboundScan(20), sweep(20)...)
	fs = append(fs, rec("eni-a", "10.0.0.5", "10.0.0.9", 50000, 443, 10, 1000, 30, accept))
	e := run(t, DefaultConfiguration(), fs)
	c := e.Collector(5)
	// Offered in reverse: the evidence kept is the earliest by start all
	// the same.
	for i := len(fs) - 1; i >= 0; i-- {
		if c.Match(&fs[i]) {
			c.Add(fs[i].Start, Evidence{Source: "f.log", Line: int64(i + 1), Record: fmt.Sprintf("record %d", i)})
		}
	}
	c.Finish()
	got := map[string]string{}
	for _, f := range e.Findings() {
		var lines []string
		for _, ev := range f.Evidence {
			lines = append(lines, fmt.Sprint(ev.Line))
		}
		got[f.Type] = fmt.Sprintf("%s +%d", strings.Join(lines, ","), f.EvidenceOmitted)
	}
	// Scan records are lines 1-20 (starts 0-19), sweep records lines
	// 21-40 (starts 0-19): 5 of 20 kept each, 15 omitted; the unrelated
	// record (line 41) is in neither.
	want := map[string]string{
		TypeInboundPortscan:  "1,2,3,4,5 +15",
		TypeInboundPortSweep: "21,22,23,24,25 +15",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("evidence %v, want %v", got, want)
	}
}

// TestBlindSpots pins what docs/detections.md lists as missed: each case is
// an attack the detectors do not report, and why.
func TestBlindSpots(t *testing.T) {
	cfg := DefaultConfiguration()
	t.Run("slow brute force", func(t *testing.T) {
		// 19 attempts per window for two hours: never MinAttempts (20) in
		// one window.
		var fs []Flow
		for i := range 12 * 19 {
			fs = append(fs, rec("eni-a", "203.0.113.9", "10.0.0.5", int32(40000+i), 22, 12, 2400, int64(i/19)*600+int64(i%19)*30, accept))
		}
		none(t, run(t, cfg, fs))
	})
	t.Run("scan split by a window boundary", func(t *testing.T) {
		// 20 ports, 10 on each side of 00:10: 10 ports in each window.
		var fs []Flow
		for p := range 20 {
			fs = append(fs, rec("eni-a", "198.51.100.7", "10.0.0.5", 40000, int32(p+1), 1, 44, 590+int64(p), reject))
		}
		none(t, run(t, cfg, fs))
	})
	t.Run("scan from a low source port", func(t *testing.T) {
		// Source port 1000, ports 2000-2039 probed: both ports below the
		// ephemeral range, the lower (1000) is taken for the service:
		// every probe reads as a reply.
		var fs []Flow
		for p := range 40 {
			fs = append(fs, rec("eni-a", "198.51.100.7", "10.0.0.5", 1000, int32(2000+p), 1, 44, int64(p), reject))
		}
		none(t, run(t, cfg, fs))
	})
	t.Run("exfiltration within a high baseline", func(t *testing.T) {
		// Six windows of 500 MB backups teach a baseline of 500 MB: 3 GB
		// to a new address is 6 times it, below Factor (10).
		var fs []Flow
		for w := range int64(6) {
			fs = append(fs, egress("52.216.8.10", 500e6, w))
		}
		fs = append(fs, egress("203.0.113.66", 3e9, 6))
		none(t, run(t, cfg, fs))
	})
	t.Run("two private hosts and nothing else", func(t *testing.T) {
		// An idle internal host, never seen before, scanned by another:
		// both addresses private, each with one partner, no
		// flow-direction: which one is the interface's is unknown.
		e := run(t, cfg, func() []Flow {
			var fs []Flow
			for p := range 40 {
				fs = append(fs, rec("eni-a", "10.0.9.9", "10.0.0.5", 40000, int32(p+1), 1, 44, int64(p), reject))
			}
			return fs
		}())
		none(t, e)
		if e.Stats().RolesUnknown != 1 {
			t.Errorf("stats %+v", e.Stats())
		}
	})
}
