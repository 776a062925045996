//go:build linux

package region

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vpcflow/vpcflow/capture/live"
	"github.com/vpcflow/vpcflow/internal/netnstest"
)

// TestRegionLiveInterface runs the service on one end of a veth pair
// between two namespaces: the pinned ENI's records reach its bucket, and
// /metrics and /healthz show the interface's frames and kernel drops.
func TestRegionLiveInterface(t *testing.T) {
	pair := netnstest.NewPair(t, [2]string{"0a:00:00:00:00:0a", "0a:00:00:00:00:0b"}, [2]string{"10.9.0.10", "10.9.0.11"}, 24)
	src, err := os.ReadFile("../pipeline/testdata/live.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const eniA = "eni-0a000000000000001"
	topo := filepath.Join(t.TempDir(), "topology.yaml")
	extra := `
FlowLogs:
  - ResourceIds: [` + eniA + `]
    ResourceType: NetworkInterface
    TrafficType: ALL
    LogDestinationType: s3
    LogDestination: arn:aws:s3:::flows
    MaxAggregationInterval: 60
    LogFormat: '${srcaddr} ${dstaddr} ${packets} ${start} ${end} ${action} ${log-status}'
`
	if err := os.WriteFile(topo, append(src, extra...), 0o644); err != nil {
		t.Fatal(err)
	}
	g := &rig{dir: t.TempDir(), topo: topo}
	g.bucket(t, "flows")
	pair.ListenUDP(t, 0, 5000)
	cfg := DefaultConfiguration()
	capCfg := live.DefaultConfiguration()
	capCfg.Interface = pair.End[0].Veth
	cfg.DataDir, cfg.TopologyFile, cfg.Interfaces = g.dir, topo, []LiveInterface{{Capture: capCfg, ENI: eniA}}
	r, err := New(cfg, Dependencies{})
	if err != nil {
		t.Fatal(err)
	}
	if err := pair.Do(0, func() error { return r.Start(context.Background()) }); err != nil {
		r.Stop()
		t.Fatal(err)
	}
	if h := r.Health(); !slices.Contains(h.Sources, "live:"+capCfg.Interface) || h.Clock != "wall-clock" {
		t.Errorf("health %+v: want the live source, on the wall clock", h)
	}
	pair.SendUDP(t, 1, 40000, 5000, 20, 100)
	time.Sleep(2 * capCfg.Grace())
	if err := r.Stop(); err != nil {
		t.Fatal(err)
	}
	// Stop delivered the open window: 20 datagrams of 128 bytes at the IP
	// layer, ingress, accepted by a's group.
	lines := allLines(objects(t, filepath.Join(g.dir, BucketsDir, "flows"), 1))
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "10.9.0.11 10.9.0.10 20 ") || !strings.HasSuffix(lines[0], " ACCEPT OK") {
		t.Errorf("records %q, want one flow of 20 packets", lines)
	}
	exp := `
# HELP vpcflow_capture_frames_total Frames read from a live interface.
# TYPE vpcflow_capture_frames_total counter
vpcflow_capture_frames_total{interface="` + capCfg.Interface + `"} 20
# HELP vpcflow_capture_kernel_drops_total Frames the kernel dropped because a capture ring was full (tp_drops); the windows they fell in got SKIPDATA records.
# TYPE vpcflow_capture_kernel_drops_total counter
vpcflow_capture_kernel_drops_total{interface="` + capCfg.Interface + `"} 0
`
	if err := testutil.CollectAndCompare(r.m, strings.NewReader(exp), "vpcflow_capture_frames_total", "vpcflow_capture_kernel_drops_total"); err != nil {
		t.Error(err)
	}
}
