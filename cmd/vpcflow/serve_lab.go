package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/vpcflow/vpcflow/capture"
	"github.com/vpcflow/vpcflow/capture/live"
	"github.com/vpcflow/vpcflow/lab"
	"github.com/vpcflow/vpcflow/pipeline"
	"github.com/vpcflow/vpcflow/topology"
)

// servedLab is the lab of `vpcflow serve --lab`: planned from the
// service's network once the region knows it, built before the pipeline
// starts (its inputs capture the ENIs' ports in the router namespace),
// made to follow each change of the network (rules, interfaces, routes),
// removed when serve stops.
type servedLab struct {
	id   string
	base liveFlags
	log  io.Writer
	// pipe takes the captures of interfaces added while serve runs, and
	// lets go of those removed.
	pipe interface {
		AddInput(pipeline.Input) error
		RemoveInput(name string) error
	}

	mu   sync.Mutex
	lab  *lab.Lab
	live live.Configuration // the captures' settings, but the interface
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
	l, err := lab.New(cfg, lab.Dependencies{Topology: t, PortAdded: s.portAdded, PortRemoving: s.portRemoving})
	if err != nil {
		return nil, err
	}
	if s.live, err = liveBase(&s.base); err != nil {
		return nil, err
	}
	s.lab = l
	var out []pipeline.Input
	for _, e := range l.Plan().ENIs {
		in, err := s.input(l.Plan().Router, e)
		if err != nil {
			return nil, err
		}
		out = append(out, in)
	}
	return out, nil
}

// input is the live capture of an ENI's port, pinned to the ENI, its
// socket opened inside the router namespace.
func (s *servedLab) input(router string, e *lab.ENIPlan) (pipeline.Input, error) {
	c := s.live
	c.Interface = e.Port
	if err := c.Validate(); err != nil {
		return pipeline.Input{}, err
	}
	in := pipeline.LiveInput(c, e.ENI.ID)
	open := in.Open
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
	return in, nil
}

// portAdded captures the port of an interface the lab has just built
// (after an EC2 API change), before anything is sent to it.
func (s *servedLab) portAdded(e *lab.ENIPlan) error {
	if s.pipe == nil {
		return nil
	}
	in, err := s.input(lab.Namespace(s.id, lab.RouterName), e)
	if err != nil {
		return err
	}
	if err := s.pipe.AddInput(in); err != nil {
		return fmt.Errorf("lab %s: %s (%s) not captured: %w", s.id, e.Port, e.ENI.ID, err)
	}
	return nil
}

// portRemoving ends the capture of an interface the lab is about to
// remove; what it captured is delivered with its windows.
func (s *servedLab) portRemoving(e *lab.ENIPlan) error {
	if s.pipe == nil {
		return nil
	}
	if err := s.pipe.RemoveInput(lab.Namespace(s.id, lab.RouterName) + "/" + e.Port); err != nil {
		return fmt.Errorf("lab %s: ending the capture of %s (%s): %w", s.id, e.Port, e.ENI.ID, err)
	}
	return nil
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

// changed makes the lab follow the new network: its rules, interfaces
// and routes.
func (s *servedLab) changed(t *topology.Topology, v int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	start := time.Now()
	c, err := s.lab.Apply(context.Background(), t)
	var what []string
	for _, e := range c.Added {
		what = append(what, fmt.Sprintf("added %s (%s, port %s captured)", e.ENI.ID, e.Namespace, e.Port))
	}
	for _, e := range c.Removed {
		what = append(what, fmt.Sprintf("removed %s (%s)", e.ENI.ID, e.Namespace))
	}
	if len(c.Routes) > 0 {
		what = append(what, "routes of "+strings.Join(c.Routes, ", "))
	}
	if err != nil && len(what) == 0 {
		return fmt.Errorf("network version %d not applied to the lab: %w", v, err)
	}
	done := "rules"
	if len(what) > 0 {
		done += ", " + strings.Join(what, ", ")
	}
	fmt.Fprintf(s.log, "vpcflow serve: lab %s: network version %d applied in %v: %s\n", s.id, v, time.Since(start).Round(time.Millisecond), done)
	if err != nil {
		return fmt.Errorf("network version %d applied to the lab in part: %w", v, err)
	}
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
