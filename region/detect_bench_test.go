package region

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vpcflow/vpcflow/capture"
	"github.com/vpcflow/vpcflow/pipeline"
	"github.com/vpcflow/vpcflow/sim"
)

// BenchmarkStreamingDetection measures what detection costs the service:
// the same scenarios (every named one, 30 minutes at 20 times their
// cadence, at full speed on packet time) through a Region with detection
// off and on, in the same run. It reports records/s of each and on/off,
// the share of the pipeline's throughput detection leaves.
//
//	go test ./region -run '^$' -bench StreamingDetection -benchtime 3x
func BenchmarkStreamingDetection(b *testing.B) {
	run := func(off bool) (records uint64, took time.Duration) {
		dir := b.TempDir()
		if err := os.MkdirAll(filepath.Join(dir, BucketsDir, "scenario-flow-bucket"), 0o755); err != nil {
			b.Fatal(err)
		}
		var sc *sim.Scenario
		cfg := DefaultConfiguration()
		cfg.DataDir, cfg.TopologyFile = dir, "../examples/scenarios.yaml"
		cfg.Detect.Off = off
		cfg.Inputs = []pipeline.Input{{Name: "scenario", Open: func() (capture.Source, error) { return sc.Source(), nil }}}
		r, err := New(cfg, Dependencies{})
		if err != nil {
			b.Fatal(err)
		}
		topo, _ := r.Topology()
		var names []string
		for _, s := range sim.Scenarios() {
			names = append(names, s.Name)
		}
		if sc, err = sim.NewScenario(sim.ScenarioConfig{Names: names, Topology: topo, Seed: 1, Duration: 30 * time.Minute, Rate: 20}); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if err := r.Start(context.Background()); err != nil {
			b.Fatal(err)
		}
		<-r.Pipeline().Ended()
		if !off {
			for !r.DetectionStats().Settled {
				time.Sleep(time.Millisecond)
			}
		}
		took = time.Since(start)
		records = r.Health().Records
		if st := r.DetectionStats(); !off && (st.Engine.Judged == 0 || st.Findings == 0) {
			b.Fatalf("detection judged %d records, found %d", st.Engine.Judged, st.Findings)
		}
		if err := r.Stop(); err != nil {
			b.Fatal(err)
		}
		return records, took
	}
	var offRate, onRate float64
	var n uint64
	for b.Loop() {
		r0, t0 := run(true)
		r1, t1 := run(false)
		if r0 != r1 {
			b.Fatalf("%d records without detection, %d with", r0, r1)
		}
		n = r0
		offRate += float64(r0) / t0.Seconds()
		onRate += float64(r1) / t1.Seconds()
	}
	b.ReportMetric(float64(n), "records/run")
	b.ReportMetric(offRate/float64(b.N), "records/s-off")
	b.ReportMetric(onRate/float64(b.N), "records/s-on")
	b.ReportMetric(onRate/offRate, "on/off")
}
