package lab

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/vpcflow/vpcflow/topology"
)

// Dependencies are what a lab is built from.
type Dependencies struct {
	// Topology is the network to build (required).
	Topology *topology.Topology
	// Log receives a line per step while the lab is built and removed;
	// nil discards them.
	Log io.Writer
}

// Lab is one lab: New plans it, Start builds it, Stop removes what Start
// built.
type Lab struct {
	cfg  Configuration
	deps Dependencies
	plan *Plan

	mu      sync.Mutex
	created []string // namespaces this lab made, in order
	started bool
}

// New checks the configuration and plans the lab; nothing is built yet.
func New(cfg Configuration, deps Dependencies) (*Lab, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Topology == nil {
		return nil, fmt.Errorf("lab: Dependencies.Topology: required")
	}
	if deps.Log == nil {
		deps.Log = io.Discard
	}
	p, err := plan(cfg, deps.Topology)
	if err != nil {
		return nil, err
	}
	return &Lab{cfg: cfg, deps: deps, plan: p}, nil
}

// Plan returns what the lab builds. It must not be modified.
func (l *Lab) Plan() *Plan { return l.plan }

// Start builds the lab. It refuses when namespaces of the lab's id exist
// already (another lab, or one left by a crash: `vpcflow lab down`). When
// a step fails, what was built is removed and the error names the step.
func (l *Lab) Start(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.started {
		return fmt.Errorf("lab %s: already started", l.cfg.ID)
	}
	l.started = true
	if err := l.build(ctx); err != nil {
		l.removeLocked()
		return err
	}
	return nil
}

// Stop removes the namespaces Start made (and with them every interface,
// route and rule of the lab). It is safe to call more than once, and
// after a failed Start.
func (l *Lab) Stop() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.removeLocked()
}
