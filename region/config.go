package region

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/vpcflow/vpcflow/capture/live"
	"github.com/vpcflow/vpcflow/pipeline"
	"github.com/vpcflow/vpcflow/policy"
	"github.com/vpcflow/vpcflow/topology"
)

// Configuration of a Region.
type Configuration struct {
	// DataDir holds everything the service keeps (see the package doc).
	DataDir string
	// Account and Region are the identity. Empty: the topology's, else the
	// data dir's, else DefaultAccount and DefaultRegion.
	Account, Region               string
	DefaultAccount, DefaultRegion string
	// TopologyFile declares the network at the first start (the data dir
	// keeps the network from then on, changed by the EC2 API or replaced
	// by ReloadTopology). Without a file and without a network in the data
	// dir, the service runs in single-interface mode: Interface stands for
	// every packet.
	TopologyFile string
	// Interface and LocalPrefixes describe the one interface of
	// single-interface mode (Interface.AccountID and Region are filled from
	// the identity when empty).
	Interface     *topology.ENI
	LocalPrefixes []netip.Prefix
	// Replay are capture files to replay; Speed 0 reads them as fast as
	// possible on packet time, a positive Speed paces them on the clock.
	Replay []string
	Speed  float64
	Loop   bool
	// Interfaces are live network interfaces to capture (Linux, root or
	// CAP_NET_RAW); they run on the clock.
	Interfaces []LiveInterface
	// SimRate, when positive, adds the simulator as a continuous source of
	// that many packets per second over the topology's interfaces.
	SimRate float64
	SimSeed uint64
	// Inputs are further sources the caller builds (the named scenarios
	// of package sim); they run on packet time or on the clock by their
	// Speed, like a replay.
	Inputs []pipeline.Input
	// LiveGrace is the grace of live sources added while the service runs
	// (vpcflow serve --lab captures interfaces the EC2 API creates): see
	// pipeline.Config.LiveGrace.
	LiveGrace time.Duration
	// Owner describes this process for whoever else tries to open the data
	// dir ("vpcflow serve (PID 1234, listening on 127.0.0.1:4566)"), and
	// Endpoint is the URL of its API.
	Owner, Endpoint string
	Flow            pipeline.FlowConfiguration
	Policy          policy.Config
	// Detect configures the detection of threats in the records
	// (findings, GuardDuty's API).
	Detect DetectConfiguration
	// StopTimeout bounds Stop: the open windows are closed and delivered
	// within it (default 10 s).
	StopTimeout time.Duration
}

// DefaultConfiguration returns a configuration with the defaults of every
// bound; DataDir and the sources are the caller's.
func DefaultConfiguration() Configuration {
	return Configuration{
		DefaultAccount: "123456789012", DefaultRegion: "us-east-1",
		Flow: pipeline.DefaultConfig().Flow, Policy: policy.DefaultConfig(),
		StopTimeout: 10 * time.Second,
	}
}

func (c *Configuration) validate() error {
	switch {
	case c.DataDir == "":
		return fmt.Errorf("region: DataDir: required")
	case c.Speed < 0:
		return fmt.Errorf("region: Speed: want 0 (as fast as possible) or a positive factor, got %v", c.Speed)
	case c.SimRate < 0:
		return fmt.Errorf("region: SimRate: want a positive number of packets per second, got %v", c.SimRate)
	case len(c.Interfaces) > 0 && len(c.Replay) > 0 && c.Speed == 0:
		return fmt.Errorf("region: live interfaces run on the clock and cannot be mixed with a replay at full speed (on packet time): give the replay a speed")
	case c.SimRate > 0 && len(c.Replay) > 0 && c.Speed == 0:
		return fmt.Errorf("region: the simulator runs on the clock and cannot be mixed with a replay at full speed (on packet time): give the replay a speed")
	}
	return nil
}

// inputs returns the pipeline's sources.
func (c *Configuration) inputs() []pipeline.Input {
	var in []pipeline.Input
	for _, f := range c.Replay {
		in = append(in, pipeline.FileInput(f, c.Speed, c.Loop))
	}
	for _, l := range c.Interfaces {
		in = append(in, pipeline.LiveInput(l.Capture, l.ENI))
	}
	return append(in, c.Inputs...)
}

// LiveInterface is a live interface to capture. ENI, when set, pins all its
// frames to that ENI (see attribute.PacketOn); otherwise they are
// attributed by MAC and IP address.
type LiveInterface struct {
	Capture live.Configuration
	ENI     string
}
