package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/vpcflow/vpcflow/capture"
	"github.com/vpcflow/vpcflow/lab"
	"github.com/vpcflow/vpcflow/pipeline"
	"github.com/vpcflow/vpcflow/topology"
)

// servedLab is the lab of `vpcflow serve --lab`: planned from the
// service's network once the region knows it, built before the pipeline
// starts (its inputs capture the ENIs' ports in the router namespace),
// its rules replaced after each change of the network, removed when serve
// stops.
type servedLab struct {
	id   string
	base liveFlags
	log  io.Writer

	mu  sync.Mutex
	lab *lab.Lab
}

// inputs plans the lab of t and returns a live input per ENI port; the
// sockets are opened inside the router namespace when the pipeline
// starts, after build.
func (s *servedLab) inputs(t *topology.Topology) ([]pipeline.Input, error) {
	if t == nil {
		return nil, fmt.Errorf("--lab: no network to build: give --topology (or a data dir holding a network)")
	}
	cfg := lab.DefaultConfiguration()
	cfg.ID = s.id
	l, err := lab.New(cfg, lab.Dependencies{Topology: t})
	if err != nil {
		return nil, err
	}
	base, err := liveBase(&s.base)
	if err != nil {
		return nil, err
	}
	s.lab = l
	p := l.Plan()
	var out []pipeline.Input
	for _, e := range p.ENIs {
		c := base
		c.Interface = e.Port
		if err := c.Validate(); err != nil {
			return nil, err
		}
		in := pipeline.LiveInput(c, e.ENI.ID)
		open, router := in.Open, p.Router
		in.Name = router + "/" + e.Port
		in.Open = func() (capture.Source, error) {
			var src capture.Source
			err := lab.Do(router, func() error {
				var err error
				src, err = open()
				return err
			})
			if err != nil {
				return nil, fmt.Errorf("lab %s: capturing %s in %s: %w", s.id, e.Port, router, err)
			}
			return src, nil
		}
		out = append(out, in)
	}
	return out, nil
}

// build builds the planned lab.
func (s *servedLab) build(ctx context.Context) error {
	start := time.Now()
	if err := s.lab.Start(ctx); err != nil {
		return err
	}
	p := s.lab.Plan()
	fmt.Fprintf(s.log, "vpcflow serve: lab %s built in %v: %d interface(s) captured in %s; vpcflow lab exec --lab-id %s TARGET -- COMMAND runs in it\n",
		s.id, time.Since(start).Round(time.Millisecond), len(p.ENIs), p.Router, s.id)
	for _, n := range p.Notes {
		fmt.Fprintf(s.log, "vpcflow serve: lab %s: %s\n", s.id, n)
	}
	return nil
}

// changed applies the rules of the new network to the lab.
func (s *servedLab) changed(t *topology.Topology, v int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	start := time.Now()
	if err := s.lab.Apply(context.Background(), t); err != nil {
		return fmt.Errorf("network version %d not applied to the lab, which keeps its rules: %w", v, err)
	}
	fmt.Fprintf(s.log, "vpcflow serve: lab %s: rules of network version %d applied in %v\n", s.id, v, time.Since(start).Round(time.Millisecond))
	return nil
}

// remove removes the lab.
func (s *servedLab) remove() error {
	if err := s.lab.Stop(); err != nil {
		return err
	}
	fmt.Fprintf(s.log, "vpcflow serve: lab %s removed\n", s.id)
	return nil
}

// describe adds the lab's ports to the sources of the start line.
func (s *servedLab) describe(sources string) string {
	var ports []string
	for _, e := range s.lab.Plan().ENIs {
		ports = append(ports, e.Port+" ("+e.ENI.ID+")")
	}
	lab := fmt.Sprintf("live lab %s ports %s", s.id, strings.Join(ports, ", "))
	if sources == "no sources" {
		return lab
	}
	return sources + " and " + lab
}
