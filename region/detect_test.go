package region

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vpcflow/vpcflow/capture"
	"github.com/vpcflow/vpcflow/detect"
	"github.com/vpcflow/vpcflow/detect/source"
	"github.com/vpcflow/vpcflow/flowlog"
	"github.com/vpcflow/vpcflow/internal/clock"
	"github.com/vpcflow/vpcflow/pipeline"
	"github.com/vpcflow/vpcflow/record"
	"github.com/vpcflow/vpcflow/sim"
)

// scenarioRegion opens a Region over examples/scenarios.yaml in dir that
// plays the named scenarios for dur at full speed (packet time), as
// `vpcflow serve --scenario NAMES --speed max` does, and waits until every
// window is delivered and judged.
func scenarioRegion(t *testing.T, dir string, dur time.Duration, names ...string) *Region {
	t.Helper()
	return scenarioRegionWith(t, dir, nil, dur, names...)
}

// scenarioRegionWith is scenarioRegion with the configuration changed by
// change (nil: unchanged).
func scenarioRegionWith(t *testing.T, dir string, change func(*Configuration), dur time.Duration, names ...string) *Region {
	t.Helper()
	var sc *sim.Scenario
	cfg := DefaultConfiguration()
	cfg.DataDir, cfg.TopologyFile = dir, "../examples/scenarios.yaml"
	if change != nil {
		change(&cfg)
	}
	cfg.Inputs = []pipeline.Input{{Name: "scenario", Open: func() (capture.Source, error) { return sc.Source(), nil }}}
	r, err := New(cfg, Dependencies{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Stop() })
	topo, _ := r.Topology()
	if sc, err = sim.NewScenario(sim.ScenarioConfig{Names: names, Topology: topo, Seed: 1, Duration: dur}); err != nil {
		t.Fatal(err)
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-r.Pipeline().Ended():
	case <-time.After(2 * time.Minute):
		t.Fatal("the scenarios never ended")
	}
	for deadline := time.Now().Add(30 * time.Second); ; {
		if r.DetectionStats().Settled {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the detection never judged the last windows")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return r
}

// batchFindings runs the detection engine over the delivered objects of
// the bucket, the way `vpcflow detect DIR` does (package source, then a
// second pass for the evidence).
func batchFindings(t *testing.T, bucketDir, account, region string, evidence int) []*detect.Finding {
	t.Helper()
	inputs, err := source.Expand([]string{bucketDir})
	if err != nil {
		t.Fatal(err)
	}
	cfg := detect.DefaultConfiguration()
	cfg.Account, cfg.Region = account, region
	e, err := detect.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var conv detect.Converter
	var fl detect.Flow
	read := func(visit source.Visitor) {
		rd := &source.Reader{Problem: func(err error) { t.Errorf("reading the delivered objects: %v", err) }}
		for _, in := range inputs {
			if err := rd.Read(in, visit); err != nil {
				t.Fatal(err)
			}
		}
	}
	read(func(f *record.Format, rec *record.Record, _ source.Position) error {
		conv.Flow(f, rec, &fl)
		e.Observe(&fl)
		return nil
	})
	e.Flush()
	c := e.Collector(evidence)
	read(func(f *record.Format, rec *record.Record, pos source.Position) error {
		conv.Flow(f, rec, &fl)
		if c.Match(&fl) {
			c.Add(fl.Start, detect.Evidence{Source: pos.Source, Line: pos.Line, Record: record.Text(f, rec)})
		}
		return nil
	})
	c.Finish()
	return e.Findings()
}

// findingLine is what must agree between a stream and a batch run.
func findingLine(f *detect.Finding) string {
	var enis []string
	for _, ni := range f.Resource.InstanceDetails.NetworkInterfaces {
		enis = append(enis, ni.NetworkInterfaceID)
	}
	remote := ""
	if nca := f.Service.Action.NetworkConnectionAction; nca != nil && nca.RemoteIPDetails != nil {
		remote = nca.RemoteIPDetails.IPAddressV4
	}
	var ev []string
	for _, e := range f.Evidence {
		ev = append(ev, e.Record)
	}
	for _, ni := range f.Resource.InstanceDetails.NetworkInterfaces {
		enis = append(enis, ni.SubnetID, ni.VpcID)
	}
	return fmt.Sprintf("%s %s %s %v remote=%s count=%d first=%s last=%s created=%s updated=%s sev=%v evidence=%d+%d %q",
		f.ID, f.Type, f.Resource.InstanceDetails.InstanceID, enis, remote, f.Service.Count,
		f.Service.EventFirstSeen, f.Service.EventLastSeen, f.CreatedAt, f.UpdatedAt, f.Severity,
		len(f.Evidence), f.EvidenceOmitted, ev)
}

func findingLines(fs []*detect.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, findingLine(f))
	}
	slices.Sort(out)
	return out
}

// TestStreamingAgreesWithBatch plays two attack scenarios for 25 minutes
// through the service at full speed, then judges the objects it delivered
// as `vpcflow detect` does: the findings are the same (id, type,
// resource, remote address, count, first and last event, creation and
// update, severity, evidence records and how many were left out). The
// scenarios are the generator's, not the detector's, so the expected
// types come from docs/scenarios.md: each names its finding.
func TestStreamingAgreesWithBatch(t *testing.T) {
	dir := t.TempDir()
	if err := mkBucket(dir, "scenario-flow-bucket"); err != nil {
		t.Fatal(err)
	}
	r := scenarioRegion(t, dir, 25*time.Minute, "ssh-brute-force", "port-scan")
	stream := r.Findings(FindingFilter{})
	id := r.Identity()
	batch := batchFindings(t, r.BucketDir("scenario-flow-bucket"), id.Account, id.Region, defaultEvidence)

	types := map[string]int{}
	for _, f := range stream {
		types[f.Type]++
	}
	for _, want := range []string{detect.TypeSSHBruteForce, detect.TypeInboundPortscan} {
		if types[want] == 0 {
			t.Errorf("no %s finding; got %v", want, types)
		}
	}
	// 25 minutes of brute force cover three 10-minute windows: the
	// finding's count grows past 1.
	grew := false
	for _, f := range stream {
		if f.Type == detect.TypeSSHBruteForce && f.Service.Count >= 2 && len(f.Evidence) == defaultEvidence && f.EvidenceOmitted > 0 {
			grew = true
		}
	}
	if !grew {
		t.Errorf("no SSH brute force seen in two windows or more with full evidence: %q", findingLines(stream))
	}
	// The service knows each interface's instance, subnet and VPC
	// (examples/scenarios.yaml: eni-0a... is i-0a... in vpc-0f1e2d3c4b5a69788),
	// which the records' format does not carry: it names them, a batch run
	// over the records cannot. Everything else is the same.
	for i, f := range stream {
		ni := f.Resource.InstanceDetails.NetworkInterfaces[0]
		if want := "i-" + strings.TrimPrefix(ni.NetworkInterfaceID, "eni-"); f.Resource.InstanceDetails.InstanceID != want ||
			ni.VpcID != "vpc-0f1e2d3c4b5a69788" || !strings.HasPrefix(ni.SubnetID, "subnet-") {
			t.Errorf("finding %s on %s: instance %q, subnet %q, VPC %q; want %s in vpc-0f1e2d3c4b5a69788",
				f.ID, ni.NetworkInterfaceID, f.Resource.InstanceDetails.InstanceID, ni.SubnetID, ni.VpcID, want)
		}
		c := *f
		c.Resource.InstanceDetails.InstanceID = ""
		c.Resource.InstanceDetails.NetworkInterfaces = []detect.NetworkInterface{ni}
		c.Resource.InstanceDetails.NetworkInterfaces[0].SubnetID, c.Resource.InstanceDetails.NetworkInterfaces[0].VpcID = "", ""
		stream[i] = &c
	}
	got, want := findingLines(stream), findingLines(batch)
	if !slices.Equal(got, want) {
		t.Errorf("stream and batch differ:\nstream:\n%s\nbatch:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	st := r.DetectionStats()
	if st.Engine.Judged == 0 || st.Engine.Late != 0 || st.EvidenceDropped != 0 || st.Replayed != 0 {
		t.Errorf("stats %+v: want records judged, none late, none dropped or replayed", st)
	}
	h := r.Health()
	if h.Findings != len(stream) || h.FindingsArchived != 0 {
		t.Errorf("health: %d findings (%d archived), want %d (0)", h.Findings, h.FindingsArchived, len(stream))
	}
}

// TestFindingsPersist: findings survive a restart; the same records
// delivered again (a replay after the restart) do not count twice; an
// archived finding stays archived and its archive is written at once.
func TestFindingsPersist(t *testing.T) {
	dir := t.TempDir()
	if err := mkBucket(dir, "scenario-flow-bucket"); err != nil {
		t.Fatal(err)
	}
	r := scenarioRegion(t, dir, 15*time.Minute, "ssh-brute-force")
	first := r.Findings(FindingFilter{})
	var ssh *detect.Finding
	for _, f := range first {
		if f.Type == detect.TypeSSHBruteForce {
			ssh = f
		}
	}
	if ssh == nil {
		t.Fatalf("no SSH brute force: %q", findingLines(first))
	}
	if unknown, err := r.ArchiveFindings([]string{ssh.ID, "0123456789abcdef0123456789abcdef"}, true); err != nil || len(unknown) != 1 || unknown[0] != "0123456789abcdef0123456789abcdef" {
		t.Fatalf("archiving with an unknown id: %v, %v; want the unknown id named", unknown, err)
	}
	if got := r.Findings(FindingFilter{Archived: ptr(true)}); len(got) != 0 {
		t.Fatalf("an archive naming an unknown id archived %d findings", len(got))
	}
	if _, err := r.ArchiveFindings([]string{ssh.ID}, true); err != nil {
		t.Fatal(err)
	}
	if got := r.Findings(FindingFilter{IDs: []string{ssh.ID}, Archived: ptr(false)}); len(got) != 0 {
		t.Fatalf("archived finding still current: %q", findingLines(got))
	}
	if got := r.Findings(FindingFilter{Archived: ptr(true)}); len(got) != 1 || got[0].ID != ssh.ID {
		t.Fatalf("archived findings %q, want %s alone", findingLines(got), ssh.ID)
	}
	det := r.Detector()
	if err := r.Stop(); err != nil {
		t.Fatal(err)
	}

	r2 := scenarioRegion(t, dir, 15*time.Minute, "ssh-brute-force")
	second := r2.Findings(FindingFilter{})
	want := findingLines(first)
	for i, f := range second {
		if f.ID == ssh.ID {
			if !f.Service.Archived {
				t.Errorf("finding %s not archived after the restart", f.ID)
			}
			c := *second[i]
			c.Service.Archived = false
			second[i] = &c
		}
	}
	if got := findingLines(second); !slices.Equal(got, want) {
		t.Errorf("after a restart and a replay of the same records:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if st := r2.DetectionStats(); st.Replayed == 0 {
		t.Errorf("replayed occurrences not counted: %+v", st)
	}
	if d2 := r2.Detector(); d2.ID != det.ID || !d2.CreatedAt.Equal(det.CreatedAt) || len(d2.ID) != 32 {
		t.Errorf("detector %+v after the restart, want %+v (32 hex digits)", d2, det)
	}
	if _, err := r2.ArchiveFindings([]string{ssh.ID}, false); err != nil {
		t.Fatal(err)
	}
	if got := r2.Findings(FindingFilter{IDs: []string{ssh.ID}, Archived: ptr(false)}); len(got) != 1 {
		t.Errorf("unarchived: %d current findings of its id, want 1", len(got))
	}
}

func ptr[T any](v T) *T { return &v }

func mkBucket(dataDir, name string) error {
	return os.MkdirAll(filepath.Join(dataDir, BucketsDir, name), 0o755)
}

// TestOneFlowLogPerInterface: a second flow log of the same interfaces (to
// CloudWatch Logs) does not count their records twice. The scenario's 10
// minutes are one window: docs/scenarios.md counts 150 connections of
// 198.51.100.77 to the bastion's SSH, which its finding reports as 150
// attempts with one flow log and with two.
func TestOneFlowLogPerInterface(t *testing.T) {
	src, err := os.ReadFile("../examples/scenarios.yaml")
	if err != nil {
		t.Fatal(err)
	}
	topo := filepath.Join(t.TempDir(), "two.yaml")
	extra := `
  - ResourceIds: [vpc-0f1e2d3c4b5a69788]
    ResourceType: VPC
    TrafficType: ALL
    LogDestinationType: cloud-watch-logs
    LogGroupName: /vpc/flows
    MaxAggregationInterval: 60
    LogFormat: ${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${pkt-srcaddr} ${pkt-dstaddr} ${flow-direction} ${tcp-flags}
`
	if !strings.HasSuffix(strings.TrimRight(string(src), "\n"), "${tcp-flags}") {
		t.Fatal("examples/scenarios.yaml no longer ends with its flow log: place the second one by hand")
	}
	if err := os.WriteFile(topo, append(src, extra...), 0o644); err != nil {
		t.Fatal(err)
	}
	lines := map[int][]string{}
	attempts := map[int]string{}
	for _, n := range []int{1, 2} {
		dir := t.TempDir()
		if err := mkBucket(dir, "scenario-flow-bucket"); err != nil {
			t.Fatal(err)
		}
		r := scenarioRegionWith(t, dir, func(c *Configuration) {
			if n == 2 {
				c.TopologyFile = topo
			}
		}, 10*time.Minute, "ssh-brute-force")
		if fls, _ := r.DescribeFlowLogs(flowlog.Filter{}); len(fls) != n {
			t.Fatalf("%d flow logs, want %d", len(fls), n)
		}
		fs := r.Findings(FindingFilter{Types: []string{detect.TypeSSHBruteForce}})
		lines[n] = findingLines(fs)
		for _, f := range fs {
			if f.Resource.InstanceDetails.NetworkInterfaces[0].NetworkInterfaceID == "eni-0b00000000000000b" {
				attempts[n] = f.Service.AdditionalInfo.Value
			}
		}
		st := r.DetectionStats()
		if (n == 1) != (st.OtherFlowLog == 0) {
			t.Errorf("%d flow logs: %d records of another flow log", n, st.OtherFlowLog)
		}
		r.Stop()
	}
	if !strings.Contains(attempts[1], `"attempts":150`) || attempts[1] != attempts[2] {
		t.Errorf("the bastion's brute force: %s with one flow log, %s with two; want 150 attempts", attempts[1], attempts[2])
	}
	if !slices.Equal(lines[1], lines[2]) || len(lines[1]) != 2 {
		t.Errorf("one flow log:\n%s\ntwo:\n%s", strings.Join(lines[1], "\n"), strings.Join(lines[2], "\n"))
	}
}

// TestHeldRecordsBound: with room for 50 held records, findings are made
// all the same, their evidence is what fitted, and the records turned away
// are counted.
func TestHeldRecordsBound(t *testing.T) {
	dir := t.TempDir()
	if err := mkBucket(dir, "scenario-flow-bucket"); err != nil {
		t.Fatal(err)
	}
	r := scenarioRegionWith(t, dir, func(c *Configuration) { c.Detect.HeldRecords = 50 }, 10*time.Minute, "ssh-brute-force")
	st := r.DetectionStats()
	fs := r.Findings(FindingFilter{Types: []string{detect.TypeSSHBruteForce}})
	// The 10 minutes are judged at the end (the lateness never passes
	// within them): the first 50 records were held, every later one
	// turned away.
	if len(fs) != 2 || st.EvidenceDropped != st.Engine.Judged-50 {
		t.Fatalf("%d findings, %d records not held of %d judged; want 2 findings, all but 50 not held", len(fs), st.EvidenceDropped, st.Engine.Judged)
	}
	total := 0
	for _, f := range fs {
		total += len(f.Evidence)
	}
	if total > 50 {
		t.Errorf("%d evidence records from at most 50 held", total)
	}
}

// TestDetectionOnClock: on the clock, windows are judged as delivered
// capture windows move time on, without any flush. The scenario's 10
// minutes of brute force (from t0) fall in the window [t0, t0+600), which
// is judged once a delivered window ends at t0+600 plus the 20 minutes of
// lateness: not at t0+1799, at t0+1800.
func TestDetectionOnClock(t *testing.T) {
	dir := t.TempDir()
	if err := mkBucket(dir, "scenario-flow-bucket"); err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(time.Unix(t0, 0))
	var sc *sim.Scenario
	cfg := DefaultConfiguration()
	cfg.DataDir, cfg.TopologyFile = dir, "../examples/scenarios.yaml"
	cfg.Inputs = []pipeline.Input{{Name: "scenario", Speed: 1, Open: func() (capture.Source, error) { return sc.Source(), nil }}}
	r, err := New(cfg, Dependencies{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Stop()
	topo, _ := r.Topology()
	if sc, err = sim.NewScenario(sim.ScenarioConfig{Names: []string{"ssh-brute-force"}, Topology: topo, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	g := &rig{dir: dir, clk: clk, r: r}
	g.settle(t)
	g.to(t, 1799)
	g.windows(t, 29)
	if fs := r.Findings(FindingFilter{}); len(fs) != 0 {
		t.Fatalf("findings before the window's lateness passed: %q", findingLines(fs))
	}
	g.to(t, 1800)
	g.windows(t, 30)
	fs := r.Findings(FindingFilter{Types: []string{detect.TypeSSHBruteForce}})
	if len(fs) != 2 {
		t.Fatalf("SSH findings at t0+1800: %q, want the bastion's and the web server's", findingLines(fs))
	}
	created := time.Unix(t0+600, 0).UTC().Format("2006-01-02T15:04:05.000Z")
	for _, f := range fs {
		if f.CreatedAt != created || f.Service.Count != 1 {
			t.Errorf("finding %s: created %s, count %d; want %s, 1", f.ID, f.CreatedAt, f.Service.Count, created)
		}
	}
	if st := r.DetectionStats(); st.Settled {
		t.Error("settled while the clock runs")
	}
}
