package pipeline

import (
	"context"
	"errors"
)

// Run converts capture files to flow logs as fast as possible: a pipeline
// over the files (merged by packet time) until their end. It is what
// `vpcflow pcap` does.
func Run(cfg Config, deps Dependencies, files []string) (*Summary, error) {
	if len(cfg.FlowLogs) == 0 {
		return nil, errors.New("no flow logs to produce")
	}
	cfg.Inputs = cfg.Inputs[:0:0]
	for _, f := range files {
		cfg.Inputs = append(cfg.Inputs, FileInput(f, 0, false))
	}
	p, err := New(cfg, deps)
	if err != nil {
		return nil, err
	}
	if err := p.Start(context.Background()); err != nil {
		return nil, err
	}
	return p.Wait()
}
