package region

import (
	"github.com/vpcflow/vpcflow/capture"
	"github.com/vpcflow/vpcflow/pipeline"
	"github.com/vpcflow/vpcflow/sim"
)

// simInput is the simulator as a continuous source: traffic of the
// topology's interfaces (or of the default endpoint without a topology),
// stamped from the clock's now at start and paced on the clock.
func (r *Region) simInput() (pipeline.Input, error) {
	var eps []sim.Endpoint
	if r.topo != nil {
		var err error
		if eps, err = sim.EndpointsFromTopology(r.topo); err != nil {
			return pipeline.Input{}, err
		}
	}
	cfg := sim.StreamConfig{Rate: r.cfg.SimRate, Seed: r.cfg.SimSeed, Endpoints: eps}
	// Check the configuration now, so a bad one fails New, not Start.
	if s, err := sim.NewStream(cfg); err != nil {
		return pipeline.Input{}, err
	} else {
		s.Close()
	}
	return pipeline.Input{Name: "sim", Speed: 1, Open: func() (capture.Source, error) {
		cfg.Start = r.deps.Clock.Now()
		return sim.NewStream(cfg)
	}}, nil
}
